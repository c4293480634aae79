//! The method page of a publication (docs/method.md §12): 「评议结果是怎样算出来的」, written as
//! `reports/PERIOD/method.html` and served at `/rankings/{period}/method`. Its figures come from
//! what the publication froze — the settings and raking report stored with its aggregation, and
//! the questionnaire the campaign was asked with — never from the current configuration.

use serde::Deserialize;

use super::publication::{self, PublicResults};
use super::{ServiceError, campaign, templates};
use crate::db::{Conn, results};
use crate::domain::Period;
use crate::report::method::{self, MethodFacts};
use crate::stats::Settings;

/// The one part of the stored aggregation result the page needs: whether raking ran.
#[derive(Deserialize)]
struct Weighting {
    weighting: Option<serde::de::IgnoredAny>,
}

/// A publication's results (its current version, or `version`) with the facts its method page
/// states.
pub fn facts(
    conn: &mut Conn,
    period: &Period,
    version: Option<i32>,
) -> Result<(PublicResults, MethodFacts), ServiceError> {
    let row = publication::publication(conn, period, version)?;
    let public: PublicResults = parse(&row.results_json, "公布结果")?;
    let aggregation = results::aggregation(conn, row.aggregation_id)?;
    let settings: Settings = parse(&aggregation.settings, "计算设置")?;
    let weighting: Weighting = parse(&aggregation.result_json, "计算结果")?;
    let template = templates::parse_stored(&campaign::find(conn, period)?.template_toml)?;
    let facts = MethodFacts::new(&template, &settings, weighting.weighting.is_some());
    Ok((public, facts))
}

/// The method page's HTML: the same bytes `campaign publish` writes to `method.html`.
pub fn page(
    conn: &mut Conn,
    period: &Period,
    version: Option<i32>,
) -> Result<String, ServiceError> {
    let (public, facts) = facts(conn, period, version)?;
    method::render(&public, &facts)
        .map_err(|e| ServiceError::Invalid(format!("计算方法说明无法生成: {e}")))
}

fn parse<'a, T: Deserialize<'a>>(json: &'a str, what: &str) -> Result<T, ServiceError> {
    serde_json::from_str(json)
        .map_err(|e| ServiceError::Invalid(format!("存储的{what}无法读取: {e}")))
}
