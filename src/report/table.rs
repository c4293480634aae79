//! The results as a table, one row per unit: the columns `results.csv` and `results.xlsx` share.
//! Column keys are the names of `results.json` (plus `peer_group`), so a script reads any of the
//! three the same way; the workbook shows the Chinese headers.

use super::model::{PublicPeerGroup, PublicUnit};

/// How a column's numbers are shown in the workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Text,
    Count,
    /// A score on the 0–100 scale, one decimal.
    Score,
    /// A share 0–1 shown as a percentage.
    Percent,
    /// A mean rank or n_eff, one decimal.
    Decimal,
}

/// A cell: text, a number, or empty where `results.json` has `null`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

/// (key, 中文表头, shape) of each column, in order.
pub const COLUMNS: [(&str, &str, Shape); 22] = [
    ("peer_group", "排名组", Shape::Text),
    ("rank", "名次", Shape::Count),
    ("code", "单位编码", Shape::Text),
    ("name", "单位名称", Shape::Text),
    ("kind", "类型", Shape::Text),
    ("score", "得分", Shape::Score),
    ("ci_low", "95%区间下限", Shape::Score),
    ("ci_high", "95%区间上限", Shape::Score),
    ("satisfied_rate", "满意率", Shape::Percent),
    ("satisfied_low", "满意率下限", Shape::Percent),
    ("satisfied_high", "满意率上限", Shape::Percent),
    ("n", "有效评价数", Shape::Count),
    ("n_eff", "有效样本量", Shape::Decimal),
    ("response_rate", "回收率", Shape::Percent),
    ("shrunken", "收缩后得分", Shape::Score),
    ("rank_mean", "模拟平均名次", Shape::Decimal),
    ("rank_low", "名次区间下限", Shape::Count),
    ("rank_high", "名次区间上限", Shape::Count),
    ("p_bottom5", "处于后五位的概率", Shape::Percent),
    ("eligible", "参与排名", Shape::Text),
    ("suppressed", "样本不足", Shape::Text),
    ("status", "说明", Shape::Text),
];

/// Why a unit has no rank, in the bulletin's words; empty for a ranked unit.
pub fn status(unit: &PublicUnit) -> &'static str {
    if unit.suppressed {
        "样本不足,不公布得分"
    } else if !unit.eligible || unit.rank.is_none() {
        "样本较少,不参与排名"
    } else {
        ""
    }
}

fn number(v: Option<f64>) -> Cell {
    v.filter(|v| v.is_finite())
        .map_or(Cell::Empty, Cell::Number)
}

fn count<T: Into<f64>>(v: Option<T>) -> Cell {
    v.map_or(Cell::Empty, |v| Cell::Number(v.into()))
}

fn flag(b: bool) -> Cell {
    Cell::Text(if b { "是" } else { "否" }.into())
}

/// One unit's cells, in [`COLUMNS`] order.
pub fn row(group: &PublicPeerGroup, u: &PublicUnit) -> Vec<Cell> {
    vec![
        Cell::Text(group.name.clone()),
        count(u.rank),
        Cell::Text(u.code.clone()),
        Cell::Text(u.name.clone()),
        Cell::Text(kind_zh(&u.kind).into()),
        number(u.score),
        number(u.ci_low),
        number(u.ci_high),
        number(u.satisfied_rate),
        number(u.satisfied_low),
        number(u.satisfied_high),
        Cell::Number(u.n as f64),
        number(Some(u.n_eff)),
        number(u.response_rate),
        number(u.shrunken),
        number(u.rank_mean),
        count(u.rank_low),
        count(u.rank_high),
        number(u.p_bottom5),
        flag(u.eligible),
        flag(u.suppressed),
        Cell::Text(status(u).into()),
    ]
}

/// A group's units in reading order: ranked units by rank, then the others by code.
pub fn reading_order(group: &PublicPeerGroup) -> Vec<&PublicUnit> {
    let mut units: Vec<&PublicUnit> = group.units.iter().collect();
    units.sort_by(|a, b| {
        (a.rank.is_none(), a.rank, &a.code).cmp(&(b.rank.is_none(), b.rank, &b.code))
    });
    units
}

/// 部门 / 处室 / 基层站所 for the stored kind; an unknown kind is shown as stored.
pub fn kind_zh(kind: &str) -> &str {
    match kind.parse::<crate::domain::UnitKind>() {
        Ok(k) => k.label_zh(),
        Err(_) => kind,
    }
}

/// Text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a leading tab or carriage
/// return) gets a leading `'`, which Excel and LibreOffice show as plain text (OWASP CSV
/// injection). Only text columns pass through here: numeric columns hold numbers only.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}
