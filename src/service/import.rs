//! Registry import: a whole file lands in one transaction, or nothing does and every bad row is
//! reported. Importing upserts by unit code or USCC: the same file twice changes nothing, a new head
//! closes the old head's term, and rows missing from a later file are kept.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use serde_json::json;

use super::registry_csv::{
    self, ImportError, ImportErrors, PARENT_COLUMN, check_parents, check_predecessors,
};
use super::{Actor, ServiceError, audit};
use crate::db::enterprises::{self as enterprise_rows, EnterpriseFields};
use crate::db::units::{self as unit_rows, HeadTermRow, NewHeadTerm, UnitFields};
use crate::db::{Conn, interactions, now, write_transaction};
use crate::domain::{HeadChange, HeadHistory, HeadTerm, Period, UnitKind};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The encoding the file was read in (`UTF-8`, `UTF-8 (BOM)`, `GB18030`).
    pub encoding: String,
    pub rows: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// New head terms recorded (a first head, or a change that closed the previous term).
    pub head_terms_added: usize,
}

/// Reports progress as rows are written: `(done, total)`.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

/// Imports a units file (audited `import.units`, target `registry:units`, in the import's
/// transaction; a refused file writes nothing, its row included).
pub fn import_units(
    conn: &mut Conn,
    actor: &Actor,
    bytes: &[u8],
    progress: Progress<'_>,
) -> Result<ImportReport, ServiceError> {
    let (rows, encoding) = registry_csv::read_units(bytes)?;
    let existing: HashMap<String, unit_rows::UnitRow> = unit_rows::all(conn)?
        .into_iter()
        .map(|u| (u.code.clone(), u))
        .collect();

    let mut errors = check_parents(&rows, |code| existing.contains_key(code.as_str()));
    errors.extend(check_predecessors(&rows, |code| {
        existing.contains_key(code.as_str())
    }));
    let in_file: HashSet<&str> = rows.iter().map(|r| r.unit.code.as_str()).collect();
    for row in &rows {
        let Some(parent) = &row.unit.parent_code else {
            continue;
        };
        if in_file.contains(parent.as_str()) {
            continue;
        }
        if let Some(db_parent) = existing.get(parent.as_str())
            && db_parent.kind != UnitKind::Department.as_str()
        {
            errors.push(
                ImportError::new(
                    row.line,
                    format!(
                        "上级单位「{parent}」不是部门 (parent is a {}, not a department)",
                        db_parent.kind
                    ),
                )
                .in_column(PARENT_COLUMN)
                .with_value(parent.as_str()),
            );
        }
    }

    // Work out every head change before writing, so a bad date fails the file as a whole.
    let mut terms_by_unit: HashMap<i64, Vec<HeadTermRow>> = HashMap::new();
    for term in unit_rows::all_head_terms(conn)? {
        terms_by_unit.entry(term.unit_id).or_default().push(term);
    }
    let mut head_plans = Vec::with_capacity(rows.len());
    for row in &rows {
        let (Some(name), Some(since)) = (&row.head_name, row.head_since) else {
            head_plans.push(None);
            continue;
        };
        let stored = existing
            .get(row.unit.code.as_str())
            .and_then(|u| terms_by_unit.get(&u.id))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let history = HeadHistory::from_terms(stored.iter().map(to_head_term).collect());
        let planned = history.and_then(|mut h| h.record(name, since));
        match planned {
            Ok(change) => head_plans.push(Some((change, stored.last().map(|t| t.id)))),
            Err(e) => {
                errors.push(
                    ImportError::new(row.line, e.to_string())
                        .in_column("head_since")
                        .with_value(since.to_string()),
                );
                head_plans.push(None);
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ImportErrors(errors).into());
    }

    let total = rows.len();
    let mut report = ImportReport {
        encoding: encoding.name().to_owned(),
        rows: total,
        ..ImportReport::default()
    };
    // Departments first, so a parent exists before its offices and stations.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| rows[i].unit.kind != UnitKind::Department);
    write_transaction(conn, |conn| {
        let at = now();
        for (done, &i) in order.iter().enumerate() {
            let row = &rows[i];
            let unit = &row.unit;
            unit_rows::ensure_peer_group(conn, &unit.peer_group)?;
            let fields = UnitFields {
                code: unit.code.as_str(),
                name: &unit.name,
                kind: unit.kind.as_str(),
                parent_code: unit.parent_code.as_ref().map(|c| c.as_str()),
                peer_group: &unit.peer_group,
                predecessor_code: unit.predecessor_code.as_ref().map(|c| c.as_str()),
            };
            let unit_id = match existing.get(unit.code.as_str()) {
                Some(stored) if stored.differs_from(&fields) => {
                    unit_rows::update(conn, stored.id, &fields, at)?;
                    report.updated += 1;
                    stored.id
                }
                Some(stored) => {
                    report.unchanged += 1;
                    stored.id
                }
                None => {
                    report.inserted += 1;
                    unit_rows::insert(conn, &fields, at)?
                }
            };
            if let (Some((change, current_id)), Some(name), Some(since)) =
                (&head_plans[i], &row.head_name, row.head_since)
            {
                match change {
                    HeadChange::Unchanged => {}
                    HeadChange::First | HeadChange::Changed { .. } => {
                        if let (HeadChange::Changed { closed }, Some(id)) = (change, current_id)
                            && let Some(to) = closed.to
                        {
                            unit_rows::close_head_term(conn, *id, to)?;
                        }
                        unit_rows::insert_head_term(
                            conn,
                            &NewHeadTerm {
                                unit_id,
                                name,
                                from_date: since,
                                to_date: None,
                            },
                        )?;
                        report.head_terms_added += 1;
                    }
                }
            }
            if done.is_multiple_of(500) || done + 1 == total {
                progress(done + 1, total);
            }
        }
        audit::record(conn, actor, "import.units", "registry:units", json!(report))?;
        Ok::<_, ServiceError>(())
    })?;
    Ok(report)
}

fn to_head_term(row: &HeadTermRow) -> HeadTerm {
    HeadTerm {
        name: row.name.clone(),
        from: row.from_date,
        to: row.to_date,
    }
}

/// Imports an enterprises file (audited `import.enterprises`, target `registry:enterprises`).
pub fn import_enterprises(
    conn: &mut Conn,
    actor: &Actor,
    bytes: &[u8],
    progress: Progress<'_>,
) -> Result<ImportReport, ServiceError> {
    let (rows, encoding) = registry_csv::read_enterprises(bytes)?;
    let existing: HashMap<String, enterprise_rows::EnterpriseRow> = enterprise_rows::all(conn)?
        .into_iter()
        .map(|e| (e.uscc.clone(), e))
        .collect();
    let total = rows.len();
    let mut report = ImportReport {
        encoding: encoding.name().to_owned(),
        rows: total,
        ..ImportReport::default()
    };
    let mut new_rows = Vec::new();
    let mut changed = Vec::new();
    for row in &rows {
        let e = &row.enterprise;
        let fields = EnterpriseFields {
            uscc: e.uscc.as_str(),
            name: &e.name,
            email: e.email.as_ref().map(|m| m.as_str()),
            district: &e.district,
            industry: &e.industry,
            size: e.size.as_str(),
        };
        match existing.get(e.uscc.as_str()) {
            Some(stored) if stored.differs_from(&fields) => changed.push((stored.id, fields)),
            Some(_) => report.unchanged += 1,
            None => new_rows.push(fields),
        }
    }
    report.inserted = new_rows.len();
    report.updated = changed.len();
    write_transaction(conn, |conn| {
        let at = now();
        let mut done = report.unchanged;
        for chunk in new_rows.chunks(2000) {
            enterprise_rows::insert_many(conn, chunk, at)?;
            done += chunk.len();
            progress(done, total);
        }
        for (id, fields) in &changed {
            enterprise_rows::update(conn, *id, fields, at)?;
            done += 1;
            if done.is_multiple_of(500) {
                progress(done, total);
            }
        }
        progress(total, total);
        let detail = json!(report);
        audit::record(
            conn,
            actor,
            "import.enterprises",
            "registry:enterprises",
            detail,
        )?;
        Ok::<_, ServiceError>(())
    })?;
    Ok(report)
}

/// Imports which units each enterprise dealt with in `period`. Rows already known are kept; an
/// unknown USCC or unit code fails the file. Audited `import.interactions`, target
/// `campaign:PERIOD`.
pub fn import_interactions(
    conn: &mut Conn,
    actor: &Actor,
    period: &Period,
    bytes: &[u8],
    progress: Progress<'_>,
) -> Result<ImportReport, ServiceError> {
    let (rows, encoding) = registry_csv::read_interactions(bytes)?;
    let enterprise_ids: HashMap<String, i64> = enterprise_rows::all(conn)?
        .into_iter()
        .map(|e| (e.uscc, e.id))
        .collect();
    let unit_ids: HashMap<String, i64> = unit_rows::all(conn)?
        .into_iter()
        .map(|u| (u.code, u.id))
        .collect();
    let period_text = period.to_string();
    let known: HashSet<(i64, i64)> = interactions::of_period(conn, &period_text)?
        .into_iter()
        .collect();
    let mut errors = Vec::new();
    let mut pairs = Vec::new();
    let mut seen = HashSet::new();
    for row in &rows {
        let enterprise = enterprise_ids.get(row.uscc.as_str());
        let unit = unit_ids.get(row.unit_code.as_str());
        if enterprise.is_none() {
            errors.push(
                ImportError::new(row.line, "企业不在名录中 (unknown enterprise)")
                    .in_column("uscc")
                    .with_value(row.uscc.as_str()),
            );
        }
        if unit.is_none() {
            errors.push(
                ImportError::new(row.line, "单位不在名录中 (unknown unit)")
                    .in_column("unit_code")
                    .with_value(row.unit_code.as_str()),
            );
        }
        if let (Some(&e), Some(&u)) = (enterprise, unit) {
            if known.contains(&(e, u)) || !seen.insert((e, u)) {
                continue;
            }
            pairs.push((e, u));
        }
    }
    if !errors.is_empty() {
        return Err(ImportErrors(errors).into());
    }
    let report = ImportReport {
        encoding: encoding.name().to_owned(),
        rows: rows.len(),
        inserted: pairs.len(),
        unchanged: rows.len() - pairs.len(),
        ..ImportReport::default()
    };
    write_transaction(conn, |conn| {
        for (i, chunk) in pairs.chunks(1000).enumerate() {
            interactions::insert_many(conn, &period_text, chunk)?;
            progress((i + 1) * 1000, pairs.len());
        }
        let target = super::campaign::target(period);
        audit::record(conn, actor, "import.interactions", &target, json!(report))?;
        Ok::<_, ServiceError>(())
    })?;
    Ok(report)
}
