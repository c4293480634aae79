//! Closing a campaign and computing its results with the statistics engine. An aggregation is
//! stored with its method version, settings and seed, so the same build reproduces it exactly;
//! nothing is public until `publish`.

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::RngExt;
use serde::Serialize;

use serde_json::json;

use super::campaign::state_of;
use super::{Actor, ServiceError, audit, campaign, templates};
use crate::db::campaigns::{self as campaign_rows, CampaignRow};
use crate::db::ratings::StoredRating;
use crate::db::results::{self, NewAggregation, PeerGroupResultFields, UnitResultFields};
use crate::db::{Conn, now, ratings, units, write_transaction};
use crate::domain::{CampaignAction, CampaignState, Period, SurveyTemplate, UnitKind};
use crate::stats::{self, Preparer, Settings};

/// What `campaign aggregate` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AggregateReport {
    pub period: String,
    pub aggregation_id: i64,
    pub seed: u64,
    pub method_version: String,
    pub ratings: usize,
    pub units: usize,
    pub ranked: usize,
    pub suppressed: usize,
}

/// Applies a state change to a campaign in one transaction; returns the row as it was.
pub(crate) fn transition(
    conn: &mut Conn,
    period: &Period,
    action: CampaignAction,
) -> Result<CampaignRow, ServiceError> {
    write_transaction(conn, |conn| {
        let row = campaign::find(conn, period)?;
        let next = state_of(&row)?.apply(action)?;
        campaign_rows::set_state(conn, row.id, next.as_str(), now())?;
        Ok(row)
    })
}

/// Computes and stores every unit's result of a closed campaign. `seed` reproduces an earlier run;
/// without it a seed is drawn from the OS and stored. Audited `campaign.aggregate` in the
/// transaction that stores the results.
pub fn aggregate(
    conn: &mut Conn,
    actor: &Actor,
    period: &Period,
    settings: &Settings,
    weighting_default: bool,
    seed: Option<u64>,
) -> Result<AggregateReport, ServiceError> {
    let campaign = campaign::find(conn, period)?;
    match state_of(&campaign)? {
        CampaignState::Closed | CampaignState::Published => {}
        state => {
            return Err(ServiceError::Conflict(format!(
                "{period} 的评议活动处于「{}」状态,截止后才能计算结果(先运行 campaign close)",
                state.label_zh()
            )));
        }
    }
    let template = templates::parse_stored(&campaign.template_toml)?;
    let stats_template = stats_template(&template);
    let started = std::time::Instant::now();
    let (unit_infos, unit_ids, replaced) = load_units(conn, &campaign)?;
    let mut codes: Vec<(&String, &i64)> = unit_ids.iter().collect();
    codes.sort();
    let mut preparer = Preparer::new(&stats_template, unit_infos, settings)
        .map_err(|e| ServiceError::internal("统计计算失败", e))?;
    // Unit by unit through the (unit, campaign) index: a province's ratings never sit in memory
    // at once, and no rating is read with anything that groups it with another.
    let mut read = 0;
    for (code, &unit_id) in codes {
        for r in ratings::of_unit(conn, campaign.id, unit_id)? {
            preparer.push(&stored_rating(code, r)?);
            read += 1;
        }
    }
    tracing::info!(
        ratings = read,
        seconds = started.elapsed().as_secs_f64(),
        "{} 的评价已读取",
        campaign.period
    );
    // A unit replaced by another that got no rating in this campaign no longer exists.
    let gone: HashSet<String> = replaced
        .into_iter()
        .filter(|code| !preparer.has_ratings(code))
        .collect();
    // `weighting_default` (`[weighting] enabled`) decides only for a campaign created before
    // the choice was stored with it.
    // The weights were made at the close and are stored on the ratings; how raking went is
    // stored with the campaign. A weighted campaign with no report had nothing to weigh.
    let weighting: Option<stats::weighting::RakingReport> = match (
        campaign.is_weighted(weighting_default),
        &campaign.raking_report,
    ) {
        (true, Some(json)) => Some(
            serde_json::from_str(json)
                .map_err(|e| ServiceError::internal("存储的加权报告无法读取", e))?,
        ),
        _ => None,
    };
    let seed = seed.unwrap_or_else(|| rand::rng().random());
    // Units whose answers the close withheld (fewer than the smallest crowd) keep their count.
    let withheld: HashMap<i64, i64> = crate::db::answers::withheld(conn, campaign.id)?
        .into_iter()
        .collect();
    let mut result = preparer
        .finish(weighting.as_ref())
        .and_then(|mut prepared| {
            prepared.units.retain(|u| !gone.contains(&u.info.code));
            stats::aggregate_prepared(&campaign.period, &prepared, settings, seed)
        })
        .map_err(|e| ServiceError::internal("统计计算失败", e))?;
    for group in &mut result.peer_groups {
        for u in &mut group.units {
            if let Some(entries) = unit_ids.get(&u.code).and_then(|id| withheld.get(id))
                && u.n == 0
            {
                u.n = usize::try_from(*entries).unwrap_or(0);
            }
        }
    }
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "{} 的结果已算出",
        campaign.period
    );

    let result_json =
        serde_json::to_string(&result).map_err(|e| ServiceError::internal("结果无法序列化", e))?;
    let settings_json =
        serde_json::to_string(settings).map_err(|e| ServiceError::internal("设置无法序列化", e))?;
    let mut unit_rows = Vec::new();
    let mut group_rows = Vec::new();
    let (mut ranked, mut suppressed) = (0, 0);
    for group in &result.peer_groups {
        group_rows.push(PeerGroupResultFields {
            aggregation_id: 0,
            peer_group: &group.name,
            tau2: group.tau2,
            mu: group.mu,
        });
        for u in &group.units {
            ranked += usize::from(u.rank.is_some());
            suppressed += usize::from(u.suppressed);
            let Some(&unit_id) = unit_ids.get(&u.code) else {
                continue;
            };
            unit_rows.push(UnitResultFields {
                aggregation_id: 0,
                unit_id,
                peer_group: group.name.clone(),
                n: u.n as i64,
                n_eff: u.n_eff,
                response_rate: u.response_rate,
                score: u.score,
                ci_low: u.ci_low,
                ci_high: u.ci_high,
                satisfied_rate: u.satisfied_rate,
                satisfied_low: u.satisfied_low,
                satisfied_high: u.satisfied_high,
                shrunken: u.shrunken,
                rank: u.rank.map(i64::from),
                rank_mean: u.rank_mean,
                rank_low: u.rank_low.map(i64::from),
                rank_high: u.rank_high.map(i64::from),
                p_bottom5: u.p_bottom5,
                eligible: u.eligible,
                suppressed: u.suppressed,
            });
        }
    }
    let aggregation_id = write_transaction(conn, |conn| -> Result<i64, ServiceError> {
        let id = results::insert_aggregation(
            conn,
            &NewAggregation {
                campaign_id: campaign.id,
                method_version: &result.method_version,
                // Stored bit for bit: the u64 seed in a signed column.
                seed: seed as i64,
                settings: &settings_json,
                computed_at: now(),
                result_json: &result_json,
            },
            &mut unit_rows,
            &mut group_rows,
        )?;
        let detail = json!({"seed": seed, "method_version": result.method_version,
                            "ratings": read, "ranked": ranked});
        audit::record(
            conn,
            actor,
            "campaign.aggregate",
            &campaign::target(period),
            detail,
        )?;
        Ok(id)
    })?;
    Ok(AggregateReport {
        period: campaign.period,
        aggregation_id,
        seed,
        method_version: result.method_version,
        ratings: read,
        units: unit_rows.len(),
        ranked,
        suppressed,
    })
}

/// Every unit of the registry with its response rate, the ids by code, and the codes of units
/// replaced by another (left out of the results when they got no rating in this campaign).
type Units = (Vec<stats::UnitInfo>, HashMap<String, i64>, Vec<String>);

/// The units the engine ranks, with their response rates; see [`Units`].
fn load_units(conn: &mut Conn, campaign: &CampaignRow) -> Result<Units, ServiceError> {
    let registry = units::all(conn)?;
    let replaced: HashSet<&str> = registry
        .iter()
        .filter_map(|u| u.predecessor_code.as_deref())
        .collect();
    let rates: HashMap<i64, f64> = ratings::response_counts(conn, campaign.id, &campaign.period)?
        .into_iter()
        .filter(|&(_, invited, _)| invited > 0)
        .map(|(unit, invited, completed)| (unit, completed as f64 / invited as f64))
        .collect();
    let mut unit_ids = HashMap::new();
    let mut unit_infos = Vec::new();
    for u in &registry {
        let kind = u
            .kind
            .parse::<UnitKind>()
            .map_err(|e| ServiceError::internal(&format!("单位 {} 存储的类型", u.code), e))?;
        unit_ids.insert(u.code.clone(), u.id);
        unit_infos.push(stats::UnitInfo {
            code: u.code.clone(),
            kind: stats_kind(kind),
            peer_group: u.peer_group.clone(),
            response_rate: rates.get(&u.id).copied(),
        });
    }
    let replaced = registry
        .iter()
        .filter(|u| replaced.contains(u.code.as_str()))
        .map(|u| u.code.clone())
        .collect();
    Ok((unit_infos, unit_ids, replaced))
}

/// A stored rating of unit `code` as the engine reads it.
fn stored_rating(code: &str, r: StoredRating) -> Result<stats::Rating, ServiceError> {
    let answers: BTreeMap<String, Option<u8>> = serde_json::from_str(&r.answers)
        .map_err(|e| ServiceError::internal("存储的答卷无法读取", e))?;
    Ok(stats::Rating {
        unit_code: code.to_owned(),
        weight: r.weight.unwrap_or(1.0),
        answers,
        self_selected: r.self_selected,
    })
}

/// The engine's view of a questionnaire: question weights, level points, the overall question.
pub fn stats_template(template: &SurveyTemplate) -> stats::Template {
    let mut level_points = [20.0, 40.0, 60.0, 80.0, 100.0];
    for (i, points) in level_points.iter_mut().enumerate() {
        if let Some(p) = template.points_for(i as u8 + 1) {
            *points = p;
        }
    }
    stats::Template {
        questions: template
            .questions()
            .iter()
            .map(|q| stats::Question {
                id: q.id.clone(),
                weight: q.weight,
            })
            .collect(),
        level_points,
        overall: template.overall_question().id.clone(),
    }
}

/// The engine's unit kind (stats knows no domain types).
pub fn stats_kind(kind: UnitKind) -> stats::UnitKind {
    match kind {
        UnitKind::Department => stats::UnitKind::Department,
        UnitKind::Office => stats::UnitKind::Office,
        UnitKind::Station => stats::UnitKind::Station,
    }
}
