//! The quarterly bulletin of typical problem cases (「每季度至少通报一次」), written like a
//! campaign's report: `reports/problems/QUARTER/index.html` (self-contained, A4) and `cases.csv`
//! (UTF-8 with BOM, text cells neutralised against formula injection). It names units and what
//! happened, never a reporter: no name, phone, email or enterprise.

use std::path::{Path, PathBuf};

use askama::Template;
use serde::Serialize;

use super::csv::BOM;
use super::table::neutralise;
use super::{ReportError, write_atomically};

/// The quarter's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BulletinSummary {
    pub registered: usize,
    pub assigned: usize,
    pub answered: usize,
    pub closed_resolved: usize,
    pub closed_no_reply: usize,
    pub first_supervisions: usize,
    pub second_supervisions: usize,
    pub escalated: usize,
}

/// One step of a case, as the bulletin lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseStep {
    pub day: String,
    pub label: String,
    pub deadline: Option<String>,
}

/// A typical case: a problem that needed supervision, or went to the inspectors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BulletinCase {
    pub id: i64,
    pub unit_code: String,
    pub unit_name: String,
    pub channel: String,
    pub registered_on: String,
    pub stage: String,
    pub state: String,
    pub outcome: String,
    pub description: String,
    pub answer: String,
    pub steps: Vec<CaseStep>,
}

/// The whole bulletin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProblemBulletin {
    /// `2026Q3`.
    pub quarter: String,
    /// `2026年第三季度`.
    pub label: String,
    pub first_day: String,
    pub last_day: String,
    pub generated_at: String,
    pub summary: BulletinSummary,
    pub cases: Vec<BulletinCase>,
}

#[derive(Template)]
#[template(path = "problems/bulletin.html")]
struct Page<'a> {
    b: &'a ProblemBulletin,
}

/// The CSV's columns.
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "unit_code",
    "unit_name",
    "channel",
    "registered_on",
    "stage",
    "state",
    "outcome",
    "steps",
    "description",
    "answer",
];

/// `cases.csv`: one row per case.
pub fn cases_csv(b: &ProblemBulletin) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(BOM.to_vec());
    writer.write_record(CSV_COLUMNS)?;
    for c in &b.cases {
        let steps = c
            .steps
            .iter()
            .map(|s| format!("{} {}", s.day, s.label))
            .collect::<Vec<_>>()
            .join(";");
        let text = [
            &c.unit_code,
            &c.unit_name,
            &c.channel,
            &c.registered_on,
            &c.stage,
            &c.state,
            &c.outcome,
            &steps,
            &c.description,
            &c.answer,
        ];
        let mut record = vec![c.id.to_string()];
        record.extend(text.iter().map(|t| neutralise(t).into_owned()));
        writer.write_record(&record)?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

/// Writes `problems/QUARTER/` under `reports_dir`; returns the folder.
pub fn write_bulletin(reports_dir: &Path, b: &ProblemBulletin) -> Result<PathBuf, ReportError> {
    let dir = reports_dir.join("problems").join(&b.quarter);
    std::fs::create_dir_all(&dir).map_err(|source| ReportError {
        path: dir.clone(),
        source,
    })?;
    let path = dir.join("index.html");
    let html = Page { b }
        .render()
        .map_err(|e| ReportError::other(&path, e))?;
    write_atomically(&path, html.as_bytes()).map_err(|source| ReportError {
        path: path.clone(),
        source,
    })?;
    let path = dir.join("cases.csv");
    let csv = cases_csv(b).map_err(|e| ReportError::other(&path, e))?;
    write_atomically(&path, &csv).map_err(|source| ReportError {
        path: path.clone(),
        source,
    })?;
    Ok(dir)
}
