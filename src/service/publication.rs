//! Publishing a campaign: freeze its newest aggregation as a numbered version, compute the
//! accountability flags (docs/method.md §6) with each half-year's heads, and write `reports/PERIOD/`.
//! A correction is a new version that supersedes the old one with a reason; both stay readable.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use crate::report::model::{
    FlagEvidence, HeadView, InspectorFlag, PublicFlag, PublicPeerGroup, PublicResults, PublicUnit,
};

use serde_json::json;

use super::aggregate::transition;
use super::campaign::state_of;
use super::{Actor, ServiceError, audit, campaign};
use crate::db::campaigns::{self as campaign_rows};
use crate::db::results::{self, FlagFields, NewPublication, PublicationRow};
use crate::db::units::{self as unit_rows, UnitRow};
use crate::db::{Conn, now, write_transaction};
use crate::domain::{CampaignAction, CampaignState, HeadHistory, HeadTerm, Period};
use crate::stats::{self, CampaignResult, FlagDecision, FlagOutcome, Settings};

/// Why a department or office was not flagged (recorded with the publication).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagNote {
    pub unit_code: String,
    pub periods: Vec<String>,
    pub reason: stats::NotFlaggedReason,
}

/// What `campaign publish` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishReport {
    pub period: String,
    pub version: i32,
    pub flags: usize,
    pub credible_flags: usize,
    /// Set when no unit could be flagged because the preceding half-year has no publication.
    pub no_previous_campaign: Option<String>,
    /// Comments still 未审核 when it was published: units do not see them until approved.
    pub comments_unreviewed: usize,
    pub results: PublicResults,
}

/// What publishing the campaign now would do, worked out without changing anything: the
/// confirmation a CLI or a page shows before `publish` (issue 43).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishPreview {
    pub period: String,
    /// The version publishing makes (2 and up: a correction).
    pub version: i32,
    /// Units ranked, and units shown as 样本不足.
    pub ranked: usize,
    pub suppressed: usize,
    /// Accountability flags publishing raises, and how many of them are credible.
    pub flags: usize,
    pub credible_flags: usize,
    /// Comments still 未审核: units do not see them until approved.
    pub comments_unreviewed: usize,
}

impl PublishPreview {
    /// What publishing will do, one sentence a line, for the CLI's question and the page's
    /// confirmation.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!(
                "{} 将公布第 {} 版:{} 个单位参加排名,{} 个显示为「样本不足」。",
                self.period, self.version, self.ranked, self.suppressed
            ),
            format!(
                "将产生问责提示 {} 个(其中可信 {} 个),纪检监察随即可见。",
                self.flags, self.credible_flags
            ),
            "公布后结果对外可见,不能撤回,只能以更正版本替代。".to_owned(),
        ];
        if self.comments_unreviewed > 0 {
            lines.push(super::moderation::unreviewed_note(
                &self.period,
                self.comments_unreviewed,
            ));
        }
        lines
    }
}

/// [`publish`]'s checks and computations, before anything is written.
struct Plan {
    campaign: campaign_rows::CampaignRow,
    state: CampaignState,
    previous: Option<PublicationRow>,
    aggregation: results::AggregationRow,
    result: CampaignResult,
    registry: Vec<UnitRow>,
    inspector_flags: Vec<InspectorFlag>,
    notes: Vec<FlagNote>,
    no_previous_campaign: Option<String>,
}

/// What publishing would do now (see [`PublishPreview`]); refuses as `publish` would.
pub fn preview(
    conn: &mut Conn,
    period: &Period,
    supersede_reason: Option<&str>,
    settings: &Settings,
) -> Result<PublishPreview, ServiceError> {
    let plan = plan(conn, period, supersede_reason, settings)?;
    let units = plan.result.peer_groups.iter().flat_map(|g| &g.units);
    Ok(PublishPreview {
        period: plan.campaign.period.clone(),
        version: plan.previous.as_ref().map_or(1, |p| p.version + 1),
        ranked: units.clone().filter(|u| !u.suppressed).count(),
        suppressed: units.filter(|u| u.suppressed).count(),
        flags: plan.inspector_flags.len(),
        credible_flags: plan.inspector_flags.iter().filter(|f| f.credible).count(),
        comments_unreviewed: super::moderation::pending(conn, plan.campaign.id)?,
    })
}

impl Plan {
    /// The public results this plan would publish, at `published_at` (RFC 3339; empty for a
    /// preview).
    fn public(&self, supersede_reason: Option<&str>, published_at: String) -> PublicResults {
        let by_code: HashMap<&str, &UnitRow> =
            self.registry.iter().map(|u| (u.code.as_str(), u)).collect();
        PublicResults {
            period: self.campaign.period.clone(),
            version: self.previous.as_ref().map_or(1, |p| p.version + 1),
            supersedes: self.previous.as_ref().map(|p| p.version),
            reason: supersede_reason.map(str::to_owned),
            published_at,
            method_version: self.result.method_version.clone(),
            seed: self.result.seed,
            peer_groups: public_groups(&self.result, &by_code),
            flags: self
                .inspector_flags
                .iter()
                .map(|f| PublicFlag {
                    unit_code: f.unit_code.clone(),
                    periods: f.periods.clone(),
                    credible: f.credible,
                })
                .collect(),
        }
    }
}

/// The results publishing would make public now — of a closed campaign, or a published one's
/// correction from its newest aggregation — with their flags, built as `publish` builds them and
/// stored nowhere: the admin's 「未公布 · 预览」 (issue 43). `published_at` is empty. Refuses as
/// `publish` would (no aggregation yet, no unit publishable).
pub fn preview_results(
    conn: &mut Conn,
    period: &Period,
    settings: &Settings,
) -> Result<PublicResults, ServiceError> {
    let campaign = campaign::find(conn, period)?;
    let correction = match state_of(&campaign)? {
        CampaignState::Closed => None,
        CampaignState::Published => {
            let newest = results::latest_aggregation(conn, campaign.id)?.map(|a| a.id);
            let published =
                results::current_publication(conn, campaign.id)?.map(|p| p.aggregation_id);
            if newest == published {
                return Err(ServiceError::Conflict(format!(
                    "{period} 最近一次计算的结果已经公布,没有新的结果可以预览;公布的结果见 /rankings/{period}"
                )));
            }
            Some("预览")
        }
        _ => {
            return Err(ServiceError::Conflict(format!(
                "{period} 尚未截止,还没有可以预览的结果"
            )));
        }
    };
    let plan = plan(conn, period, correction, settings)?;
    Ok(plan.public(None, String::new()))
}

/// The figures of closed campaigns that have been aggregated but not published, by period: what
/// the 营商办's unit page shows marked 「未公布 · 预览」. No flags are worked out here.
pub fn unpublished_groups(
    conn: &mut Conn,
) -> Result<Vec<(String, Vec<PublicPeerGroup>)>, ServiceError> {
    let mut out = Vec::new();
    let mut registry: Option<Vec<UnitRow>> = None;
    for row in campaign_rows::all(conn)? {
        if state_of(&row)? != CampaignState::Closed {
            continue;
        }
        let Some(aggregation) = results::latest_aggregation(conn, row.id)? else {
            continue;
        };
        let result = parse_result(&aggregation.result_json)?;
        if registry.is_none() {
            registry = Some(unit_rows::all(conn)?);
        }
        let by_code: HashMap<&str, &UnitRow> = registry
            .iter()
            .flatten()
            .map(|u| (u.code.as_str(), u))
            .collect();
        out.push((row.period.clone(), public_groups(&result, &by_code)));
    }
    Ok(out)
}

fn plan(
    conn: &mut Conn,
    period: &Period,
    supersede_reason: Option<&str>,
    settings: &Settings,
) -> Result<Plan, ServiceError> {
    let campaign = campaign::find(conn, period)?;
    let state = state_of(&campaign)?;
    let previous = results::current_publication(conn, campaign.id)?;
    match (state, &previous, supersede_reason) {
        (CampaignState::Published, Some(_), Some(reason)) if !reason.trim().is_empty() => {}
        (CampaignState::Published, _, _) => {
            return Err(ServiceError::Conflict(format!(
                "{period} 已公布;更正请使用 campaign publish {period} --supersede --reason 原因"
            )));
        }
        (_, _, Some(_)) => {
            return Err(ServiceError::Conflict(format!(
                "{period} 尚未公布,无需 --supersede"
            )));
        }
        _ => {}
    }
    let aggregation = results::latest_aggregation(conn, campaign.id)?.ok_or_else(|| {
        ServiceError::Conflict(format!(
            "{period} 还没有计算结果:请先运行 campaign aggregate {period}"
        ))
    })?;
    let result = parse_result(&aggregation.result_json)?;
    // A campaign with no unit above the publication threshold (no answers, or too few) would show
    // the public a page of 样本不足 and raise no flag: refuse it, saying why (issue 43).
    let publishable = result
        .peer_groups
        .iter()
        .flat_map(|g| &g.units)
        .filter(|u| !u.suppressed)
        .count();
    if publishable == 0 {
        return Err(ServiceError::Conflict(format!(
            "{period} 没有任何单位达到公布所需的样本量(每个单位至少 {} 份有效评价),\
             所有单位都会显示为「样本不足」,因此不予公布。请核对回收的答卷和最近一次计算的结果。",
            settings.min_published_n
        )));
    }
    let registry = unit_rows::all(conn)?;
    let by_code: HashMap<&str, &UnitRow> = registry.iter().map(|u| (u.code.as_str(), u)).collect();

    let (decisions, renamed) = flag_decisions(conn, period, &result, &registry, settings)?;
    let mut inspector_flags = Vec::new();
    let mut notes = Vec::new();
    for decision in &decisions {
        match &decision.outcome {
            FlagOutcome::Flagged { credible } => inspector_flags.push(inspector_flag(
                conn, decision, *credible, &by_code, &renamed,
            )?),
            FlagOutcome::NotFlagged(reason) => notes.push(FlagNote {
                unit_code: decision.unit_code.clone(),
                periods: decision.periods.clone(),
                reason: reason.clone(),
            }),
        }
    }
    let no_previous_campaign = notes.iter().find_map(|n| match &n.reason {
        stats::NotFlaggedReason::NoPreviousCampaign { period } => Some(period.clone()),
        _ => None,
    });
    Ok(Plan {
        campaign,
        state,
        previous,
        aggregation,
        result,
        registry,
        inspector_flags,
        notes,
        no_previous_campaign,
    })
}

/// Freezes the campaign's newest aggregation as its next version. Without `supersede_reason`
/// the campaign must be closed and unpublished; with it, it must be published (a correction).
/// Audited `campaign.publish` in the transaction that stores the publication.
pub fn publish(
    conn: &mut Conn,
    actor: &Actor,
    period: &Period,
    supersede_reason: Option<&str>,
    settings: &Settings,
) -> Result<PublishReport, ServiceError> {
    let plan = plan(conn, period, supersede_reason, settings)?;
    let published_at = now();
    let public = plan.public(
        supersede_reason,
        crate::domain::time::local(published_at).to_rfc3339(),
    );
    let version = public.version;
    let Plan {
        campaign,
        state,
        previous,
        aggregation,
        registry,
        inspector_flags,
        notes,
        no_previous_campaign,
        ..
    } = plan;
    let by_code: HashMap<&str, &UnitRow> = registry.iter().map(|u| (u.code.as_str(), u)).collect();
    let results_json = to_json(&public)?;
    let notes_json = to_json(&notes)?;
    let mut flag_rows = Vec::new();
    for flag in &inspector_flags {
        let Some(unit) = by_code.get(flag.unit_code.as_str()) else {
            continue;
        };
        flag_rows.push(FlagFields {
            publication_id: 0,
            unit_id: unit.id,
            periods: to_json(&flag.periods)?,
            credible: flag.credible,
            evidence: to_json(flag)?,
        });
    }
    write_transaction(conn, |conn| {
        // Re-checked inside the transaction: two racing publishers cannot both take a version.
        let current = results::current_publication(conn, campaign.id)?;
        if current.as_ref().map(|p| p.id) != previous.as_ref().map(|p| p.id) {
            return Err(ServiceError::Conflict(
                "发布过程中有另一版本被公布,请重试".into(),
            ));
        }
        let publication_id = results::insert_publication(
            conn,
            &NewPublication {
                campaign_id: campaign.id,
                version,
                aggregation_id: aggregation.id,
                supersedes_id: previous.as_ref().map(|p| p.id),
                reason: supersede_reason,
                published_at,
                results_json: &results_json,
                flag_notes: &notes_json,
            },
        )?;
        for row in &mut flag_rows {
            row.publication_id = publication_id;
        }
        results::insert_flags(conn, &flag_rows)?;
        if state == CampaignState::Closed {
            transition(conn, period, CampaignAction::Publish)?;
        }
        let detail = json!({"version": version, "flags": inspector_flags.len(),
                            "reason": supersede_reason});
        audit::record(
            conn,
            actor,
            "campaign.publish",
            &campaign::target(period),
            detail,
        )?;
        Ok(())
    })?;
    Ok(PublishReport {
        period: campaign.period,
        version,
        flags: inspector_flags.len(),
        credible_flags: inspector_flags.iter().filter(|f| f.credible).count(),
        no_previous_campaign,
        comments_unreviewed: super::moderation::pending(conn, campaign.id)?,
        results: public,
    })
}

fn to_json<T: Serialize>(value: &T) -> Result<String, ServiceError> {
    serde_json::to_string(value).map_err(|e| ServiceError::internal("无法序列化", e))
}

fn parse_result(json: &str) -> Result<CampaignResult, ServiceError> {
    serde_json::from_str(json).map_err(|e| ServiceError::internal("存储的计算结果无法读取", e))
}

fn public_groups(
    result: &CampaignResult,
    by_code: &HashMap<&str, &UnitRow>,
) -> Vec<PublicPeerGroup> {
    result
        .peer_groups
        .iter()
        .map(|g| PublicPeerGroup {
            name: g.name.clone(),
            tau2: g.tau2,
            mu: g.mu,
            units: g
                .units
                .iter()
                .map(|u| PublicUnit {
                    code: u.code.clone(),
                    name: by_code
                        .get(u.code.as_str())
                        .map(|r| r.name.clone())
                        .unwrap_or_default(),
                    kind: by_code
                        .get(u.code.as_str())
                        .map(|r| r.kind.clone())
                        .unwrap_or_default(),
                    n: u.n,
                    n_eff: u.n_eff,
                    response_rate: u.response_rate,
                    score: u.score,
                    ci_low: u.ci_low,
                    ci_high: u.ci_high,
                    satisfied_rate: u.satisfied_rate,
                    satisfied_low: u.satisfied_low,
                    satisfied_high: u.satisfied_high,
                    shrunken: u.shrunken,
                    rank: u.rank,
                    rank_mean: u.rank_mean,
                    rank_low: u.rank_low,
                    rank_high: u.rank_high,
                    p_bottom5: u.p_bottom5,
                    eligible: u.eligible,
                    suppressed: u.suppressed,
                })
                .collect(),
        })
        .collect()
}

/// (period, unit code the flag is about) → the code that was rated in that period.
type Renamed = HashMap<(String, String), String>;

/// The §6 decisions for the newest campaign, with the earlier half-years' published results
/// (their current versions) carried along each unit's lineage: a unit that replaced another
/// inherits the predecessor's results where it was not itself rated.
fn flag_decisions(
    conn: &mut Conn,
    period: &Period,
    current: &CampaignResult,
    registry: &[UnitRow],
    settings: &Settings,
) -> Result<(Vec<FlagDecision>, Renamed), ServiceError> {
    let successor: HashMap<&str, &str> = registry
        .iter()
        .filter_map(|u| u.predecessor_code.as_deref().map(|p| (p, u.code.as_str())))
        .collect();
    let final_code = |code: &str| -> String {
        let mut code = code;
        let mut steps = 0;
        while let Some(next) = successor.get(code) {
            code = next;
            steps += 1;
            if steps > registry.len() {
                break; // a cycle in the registry: stop rather than loop
            }
        }
        code.to_owned()
    };
    let mut history = vec![current.clone()];
    let mut renamed = Renamed::new();
    let mut earlier = *period;
    for _ in 1..settings.consecutive.max(1) {
        earlier = earlier.previous();
        let Some(row) = campaign_rows::by_period(conn, &earlier.to_string())? else {
            continue;
        };
        let Some(publication) = results::current_publication(conn, row.id)? else {
            continue;
        };
        let aggregation = results::aggregation(conn, publication.aggregation_id)?;
        let mut past = parse_result(&aggregation.result_json)?;
        let present: std::collections::HashSet<String> = past
            .peer_groups
            .iter()
            .flat_map(|g| g.units.iter().map(|u| u.code.clone()))
            .collect();
        for group in &mut past.peer_groups {
            for unit in &mut group.units {
                let successor_code = final_code(&unit.code);
                if successor_code != unit.code && !present.contains(&successor_code) {
                    renamed.insert(
                        (past.period.clone(), successor_code.clone()),
                        unit.code.clone(),
                    );
                    unit.code = successor_code;
                }
            }
        }
        history.push(past);
    }
    let decisions = stats::flag_units(&history, settings)
        .map_err(|e| ServiceError::internal("问责规则计算失败", e))?;
    Ok((decisions, renamed))
}

fn inspector_flag(
    conn: &mut Conn,
    decision: &FlagDecision,
    credible: bool,
    by_code: &HashMap<&str, &UnitRow>,
    renamed: &Renamed,
) -> Result<InspectorFlag, ServiceError> {
    let unit = by_code.get(decision.unit_code.as_str());
    let mut evidence = Vec::new();
    for e in &decision.evidence {
        let rated_code = renamed
            .get(&(e.period.clone(), decision.unit_code.clone()))
            .cloned()
            .unwrap_or_else(|| decision.unit_code.clone());
        let heads = match (by_code.get(rated_code.as_str()), e.period.parse::<Period>()) {
            (Some(rated), Ok(p)) => heads_during(conn, rated.id, p.start_date(), p.end_date())?,
            _ => Vec::new(),
        };
        evidence.push(FlagEvidence {
            period: e.period.clone(),
            unit_code: rated_code,
            n: e.n,
            response_rate: e.response_rate,
            score: e.score,
            ci_low: e.ci_low,
            ci_high: e.ci_high,
            rank: e.rank,
            rank_low: e.rank_low,
            rank_high: e.rank_high,
            p_bottom5: e.p_bottom5,
            tau2: e.tau2,
            heads,
        });
    }
    Ok(InspectorFlag {
        unit_code: decision.unit_code.clone(),
        unit_name: unit.map(|u| u.name.clone()).unwrap_or_default(),
        kind: unit.map(|u| u.kind.clone()).unwrap_or_default(),
        peer_group: decision.peer_group.clone(),
        periods: decision.periods.clone(),
        credible,
        evidence,
    })
}

/// The heads whose terms overlap `start..=end`, the one in office on `end` first (docs/method.md §6.3).
pub fn heads_during(
    conn: &mut Conn,
    unit_id: i64,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<HeadView>, ServiceError> {
    let terms: Vec<HeadTerm> = unit_rows::head_terms(conn, unit_id)?
        .into_iter()
        .map(|t| HeadTerm {
            name: t.name,
            from: t.from_date,
            to: t.to_date,
        })
        .collect();
    let history = HeadHistory::from_terms(terms)
        .map_err(|e| ServiceError::internal("存储的负责人任职记录有误", e))?;
    Ok(history
        .heads_during(start, end)
        .into_iter()
        .map(|t| HeadView {
            name: t.name.clone(),
            from: t.from,
            to: t.to,
        })
        .collect())
}

/// The public results of a published campaign: its current version, or `version`.
pub fn public_results(
    conn: &mut Conn,
    period: &Period,
    version: Option<i32>,
) -> Result<PublicResults, ServiceError> {
    let row = publication(conn, period, version)?;
    serde_json::from_str(&row.results_json)
        .map_err(|e| ServiceError::internal(&format!("{period} 存储的公布结果无法读取"), e))
}

/// A publication row: the current version, or `version`.
pub fn publication(
    conn: &mut Conn,
    period: &Period,
    version: Option<i32>,
) -> Result<PublicationRow, ServiceError> {
    let campaign = campaign::find(conn, period)?;
    let row = match version {
        Some(v) => results::publication_version(conn, campaign.id, v)?,
        None => results::current_publication(conn, campaign.id)?,
    };
    row.ok_or_else(|| ServiceError::NotFound(format!("{period} 尚未公布")))
}

/// The inspectors' flags of a period's current publication, or of every period's.
pub fn inspector_flags(
    conn: &mut Conn,
    period: Option<&Period>,
) -> Result<Vec<InspectorFlag>, ServiceError> {
    let campaigns = match period {
        Some(p) => vec![campaign::find(conn, p)?],
        None => campaign_rows::all(conn)?,
    };
    let mut flags = Vec::new();
    for c in campaigns {
        let Some(publication) = results::current_publication(conn, c.id)? else {
            continue;
        };
        for (row, _) in results::flags_of(conn, publication.id)? {
            flags.push(
                serde_json::from_str(&row.evidence)
                    .map_err(|e| ServiceError::internal("存储的问责提示无法读取", e))?,
            );
        }
    }
    Ok(flags)
}

/// Why units were not flagged at a period's current publication.
pub fn flag_notes(conn: &mut Conn, period: &Period) -> Result<Vec<FlagNote>, ServiceError> {
    let row = publication(conn, period, None)?;
    serde_json::from_str(&row.flag_notes)
        .map_err(|e| ServiceError::internal("存储的说明无法读取", e))
}

/// Every published version of a campaign, oldest first: (version, reason).
pub fn versions(
    conn: &mut Conn,
    period: &Period,
) -> Result<BTreeMap<i32, Option<String>>, ServiceError> {
    let campaign = campaign::find(conn, period)?;
    Ok(results::publications_of(conn, campaign.id)?
        .into_iter()
        .map(|p| (p.version, p.reason))
        .collect())
}

/// Publishes (see [`publish`]) and writes `reports/PERIOD/` from the frozen results. The
/// database is the record: if the files cannot be written the publication stands and the
/// error says so (`campaign report PERIOD` writes them again).
pub fn publish_and_write(
    conn: &mut Conn,
    actor: &Actor,
    period: &Period,
    supersede_reason: Option<&str>,
    settings: &Settings,
    reports_dir: &std::path::Path,
) -> Result<PublishReport, ServiceError> {
    let report = publish(conn, actor, period, supersede_reason, settings)?;
    write_reports(conn, period, reports_dir, settings)?;
    Ok(report)
}

/// Writes `reports/PERIOD/` (and `vN/` for each superseded version) from the database: the
/// frozen results with the facts of their method page, the campaign's participation figures and,
/// for the trend charts, the current publications of the earlier half-years.
pub fn write_reports(
    conn: &mut Conn,
    period: &Period,
    reports_dir: &std::path::Path,
    settings: &Settings,
) -> Result<std::path::PathBuf, ServiceError> {
    let (current, method) = super::method_page::facts(conn, period, None)?;
    let mut superseded = Vec::new();
    for version in versions(conn, period)?.into_keys() {
        if version != current.version {
            superseded.push(super::method_page::facts(conn, period, Some(version))?);
        }
    }
    let summary = campaign::show(conn, period)?;
    let mut history = Vec::new();
    for row in campaign_rows::all(conn)? {
        if row.period >= current.period {
            continue;
        }
        if let Some(publication) = results::current_publication(conn, row.id)? {
            history.push(
                serde_json::from_str::<PublicResults>(&publication.results_json).map_err(|e| {
                    ServiceError::internal(&format!("{} 存储的公布结果无法读取", row.period), e)
                })?,
            );
        }
    }
    let publication = crate::report::Publication {
        results: &current,
        participation: Some(crate::report::Participation {
            invited: summary.invited,
            completed: summary.completed,
            response_rate: summary.response_rate,
            unopenable_excluded: summary.unopenable_excluded,
        }),
        history: &history,
        bottom_n: settings.bottom_n,
        method: &method,
    };
    crate::report::write_publication(reports_dir, &publication, &superseded)
        .map_err(|e| ServiceError::internal("报告文件写入失败", e))
}
