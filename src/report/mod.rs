//! Published reports under `reports/PERIOD/`: the folder always holds the current version; a
//! superseded version stays in `reports/PERIOD/vN/` with its reason.
//!
//! Files (docs/interface.md §4.1): `index.html` (the bulletin, self-contained), `method.html`
//! (how the results were computed, in plain Chinese), `results.json`, `results.csv` (UTF-8 with
//! BOM), `results.xlsx`, and `charts/*.svg` + `charts/*.png`. Everything is rendered from
//! [`Publication`]; the service gathers it from the database.

pub mod bulletin;
pub mod charts;
pub mod csv;
pub mod font;
pub mod method;
pub mod model;
pub mod problems;
pub mod synthetic;
pub mod table;
pub mod xlsx;

use std::path::{Path, PathBuf};

use method::MethodFacts;
use model::PublicResults;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
#[error("无法写入报告 {path}: {source}")]
pub struct ReportError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

impl ReportError {
    fn other(path: &Path, message: impl std::fmt::Display) -> ReportError {
        ReportError {
            path: path.to_owned(),
            source: std::io::Error::other(message.to_string()),
        }
    }
}

/// How many enterprises took part (from `campaign show`), for the bulletin's summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Participation {
    pub invited: i64,
    pub completed: i64,
    pub response_rate: Option<f64>,
    /// Sealed ballots the close dropped as unopenable (`--exclude-unopenable`), if any: the
    /// bulletin says how many.
    pub unopenable_excluded: Option<i64>,
}

/// Everything one version's report is made from.
#[derive(Debug, Clone, Copy)]
pub struct Publication<'a> {
    pub results: &'a PublicResults,
    pub participation: Option<Participation>,
    /// Earlier half-years' current publications, for the trend charts (any order).
    pub history: &'a [PublicResults],
    /// N of "the five lowest" (a setting).
    pub bottom_n: usize,
    /// What the method page states: the settings this version was computed with, and more.
    pub method: &'a MethodFacts,
}

/// Writes a publication's files; each version it superseded is kept in `vN/`, with its own method
/// facts.
pub fn write_publication(
    reports_dir: &Path,
    current: &Publication<'_>,
    superseded: &[(PublicResults, MethodFacts)],
) -> Result<PathBuf, ReportError> {
    let dir = reports_dir.join(&current.results.period);
    for (old, method) in superseded {
        let publication = Publication {
            results: old,
            method,
            ..*current
        };
        write_files(&dir.join(format!("v{}", old.version)), &publication)?;
    }
    write_files(&dir, current)?;
    Ok(dir)
}

/// Writes `results.json` alone (the benchmark's baseline, and the least a publication needs).
pub fn write_json(dir: &Path, results: &PublicResults) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let json = serde_json::to_string_pretty(results).map_err(|e| ReportError::other(dir, e))?;
    let path = dir.join("results.json");
    write_atomically(&path, json.as_bytes()).map_err(io(&path))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError {
    let path = path.to_owned();
    move |source| ReportError { path, source }
}

fn write_files(dir: &Path, publication: &Publication<'_>) -> Result<(), ReportError> {
    let results = publication.results;
    write_json(dir, results)?;
    if let Some(reason) = &results.reason {
        let path = dir.join("REASON.txt");
        let text = format!(
            "第 {} 版,更正第 {} 版。原因:{reason}\n",
            results.version,
            results.supersedes.unwrap_or_default()
        );
        write_atomically(&path, text.as_bytes()).map_err(io(&path))?;
    }
    let path = dir.join("results.csv");
    let csv = csv::results_csv(results).map_err(|e| ReportError::other(&path, e))?;
    write_atomically(&path, &csv).map_err(io(&path))?;
    let path = dir.join("results.xlsx");
    let xlsx = xlsx::results_xlsx(results).map_err(|e| ReportError::other(&path, e))?;
    write_atomically(&path, &xlsx).map_err(io(&path))?;

    let charts_dir = dir.join("charts");
    // A rewrite may have fewer pages than before: stale charts would contradict the bulletin.
    if charts_dir.exists() {
        std::fs::remove_dir_all(&charts_dir).map_err(io(&charts_dir))?;
    }
    std::fs::create_dir_all(&charts_dir).map_err(io(&charts_dir))?;
    let mut all = Vec::with_capacity(results.peer_groups.len());
    for (i, group) in results.peer_groups.iter().enumerate() {
        let charts = charts::group::group_charts(publication, i, group)
            .map_err(|e| ReportError::other(&charts_dir, format!("{} 的图表: {e}", group.name)))?;
        for chart in charts.all() {
            let svg = charts_dir.join(format!("{}.svg", chart.stem));
            write_atomically(&svg, chart.svg.as_bytes()).map_err(io(&svg))?;
            let png = charts_dir.join(format!("{}.png", chart.stem));
            write_atomically(&png, &chart.png).map_err(io(&png))?;
        }
        all.push(charts);
    }
    let path = dir.join("method.html");
    let html =
        method::render(results, publication.method).map_err(|e| ReportError::other(&path, e))?;
    write_atomically(&path, html.as_bytes()).map_err(io(&path))?;
    let path = dir.join("index.html");
    let html = bulletin::render(publication, &all).map_err(|e| ReportError::other(&path, e))?;
    write_atomically(&path, html.as_bytes()).map_err(io(&path))
}

/// Writes to a temporary file beside the target, then renames it, so a reader never sees half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
