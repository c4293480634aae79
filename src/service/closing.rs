//! The close (截止): stop answers, open the box, store the answers unlinked, scrub what was
//! sealed (docs/architecture.md, "The ballot's life").
//!
//! 1. The ballot key is checked against the stored public key; a wrong key changes nothing.
//! 2. The campaign moves to `closing` in a transaction of its own (audited `campaign.close`). On
//!    PostgreSQL the update waits for submissions that read the campaign open (`FOR SHARE`) and
//!    refuses those after it; on SQLite the write lock orders them. No ballot commits after it.
//! 3. One transaction opens every ballot, stores the ratings of all of them in one uniform random
//!    permutation drawn from the operating system (order of statements, rows and ids — nothing
//!    recorded, nothing reproducible), keeps only the count of a unit with fewer than
//!    [`MIN_CROWD`] stored entries, marks the matching invitations answered (a flag, in one
//!    statement), deletes exactly the opened ballots and moves the campaign to `closed` with its
//!    scrub pending (audited `campaign.unseal`).
//! 4. The scrub: SQLite overwrites the deleted ballots (`secure_delete`) and truncates the WAL;
//!    PostgreSQL vacuums the ballot table. Then `scrub_pending` is cleared. A rerun of the close
//!    redoes whatever an interruption left: a crash before 3 leaves `closing`, before 4 a pending
//!    scrub.

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::TryRng;
use rand::rngs::SysRng;
use rand::seq::SliceRandom;
use serde::Serialize;
use serde_json::json;

use super::campaign::{self, state_of};
use super::links::LinkSecret;
use super::{Actor, ServiceError, audit, ballots, templates};
use crate::ballot::{self as sealing, PrivateKey, SpentKey};
use crate::db::answers::{self as rating_rows, NewRating};
use crate::db::campaigns::{self as campaign_rows, CampaignRow};
use crate::db::{Conn, ballots as ballot_rows, invitations, now, scrub};
use crate::domain::{CampaignAction, CampaignState, MIN_CROWD, Period};
use crate::stats;

/// What the office chose for the close.
#[derive(Debug, Clone, Default)]
pub struct CloseOptions {
    /// Drop ballots that do not open (or whose spent key names no invitation) instead of refusing
    /// the close; audited, and the bulletin says how many.
    pub exclude_unopenable: bool,
    /// `[weighting] enabled`: whether a campaign created before the choice was stored with it
    /// is weighted. A weighted campaign's close rakes the enterprises that answered to the
    /// invited population's margins and stores on each rating not their strata but a weight
    /// shared by at least five raters of its unit ([`stats::weighting::rating_weights`]); an
    /// unweighted one's ratings carry no weight. No rating carries its enterprise's strata.
    pub weighting_default: bool,
    /// `[stats.raking]`: how the close rakes a weighted campaign.
    pub raking: stats::RakingSettings,
}

/// What the close did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CloseReport {
    pub period: String,
    /// Ballots opened and stored.
    pub ballots: usize,
    /// Ratings stored from them.
    pub ratings: usize,
    /// Units whose answers were withheld (fewer than the smallest crowd), keeping only a count.
    pub withheld_units: usize,
    /// Entries about units the enterprise added itself, dropped because fewer than the smallest
    /// crowd of enterprises added any.
    pub dropped_added: usize,
    /// Ballots dropped as unopenable (`--exclude-unopenable`).
    pub excluded: usize,
    /// Whether the deleted ballots were scrubbed from the database's files; if not, a rerun of
    /// the close finishes it.
    pub scrubbed: bool,
}

/// Closes a campaign with its ballot key (see the module's steps). `key` may be `None` only when
/// nothing is left to open (a closed campaign whose scrub was interrupted).
pub fn close(
    conn: &mut Conn,
    actor: &Actor,
    secret: &LinkSecret,
    period: &Period,
    key: Option<&PrivateKey>,
    options: CloseOptions,
) -> Result<CloseReport, ServiceError> {
    let campaign = campaign::find(conn, period)?;
    let state = state_of(&campaign)?;
    if state == CampaignState::Closed && campaign.scrub_pending {
        let scrubbed = finish_scrub(conn, campaign.id);
        return Ok(CloseReport {
            period: campaign.period,
            ballots: 0,
            ratings: 0,
            withheld_units: 0,
            dropped_added: 0,
            excluded: 0,
            scrubbed,
        });
    }
    state.apply(CampaignAction::Close)?;
    // A campaign opened by a release before sealed ballots has no ballot key and no ballots: its
    // answers were stored the old way, and there is nothing to open.
    let legacy = campaign.ballot_public_key.is_none();
    let key = match key {
        Some(key) if !legacy => {
            check_key(&campaign, key)?;
            Some(key)
        }
        None if !legacy => {
            return Err(ServiceError::Invalid(
                "截止评议需要本期的选票密钥文件(--ballot-key)".into(),
            ));
        }
        _ => None,
    };
    if state == CampaignState::Open {
        audit::change(
            conn,
            actor,
            "campaign.close",
            &campaign::target(period),
            |conn| {
                let row = campaign::find(conn, period)?;
                if row.id != campaign.id {
                    return Err(ServiceError::Conflict(format!(
                        "{period} 的评议活动已变化,请重新查看后再截止"
                    )));
                }
                let next = state_of(&row)?.apply(CampaignAction::Close)?;
                campaign_rows::set_state(conn, row.id, next.as_str(), now())?;
                Ok(())
            },
            |_| json!({}),
        )?;
    }
    // From here the box is shut: open it.
    scrub::overwrite_deleted(conn)?;
    let mut report = audit::change(
        conn,
        actor,
        "campaign.unseal",
        &campaign::target(period),
        |conn| unseal(conn, secret, &campaign, key, options),
        |r| {
            json!({"ballots": r.ballots, "ratings": r.ratings,
                   "withheld_units": r.withheld_units, "dropped_added": r.dropped_added,
                   "excluded": r.excluded})
        },
    )?;
    report.scrubbed = finish_scrub(conn, campaign.id);
    Ok(report)
}

/// Refuses a key that is not the campaign's, before anything changes.
pub fn check_key(campaign: &CampaignRow, key: &PrivateKey) -> Result<(), ServiceError> {
    let public = ballots::public_key(campaign)?;
    if key.matches(&public) {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "这个密钥文件不是 {} 的选票密钥(本期公钥指纹 {},文件的指纹 {}),未作任何改动",
            campaign.period,
            public.fingerprint().short(),
            key.public_key().fingerprint().short()
        )))
    }
}

/// One stored entry of an opened ballot, before the shuffle.
struct Entry {
    unit_id: i64,
    self_selected: bool,
    answers: String,
    problems: String,
    comment: Option<String>,
    /// Its ballot's number among the opened ones (the respondent raking weighs), forgotten with
    /// the entry once the weights are made.
    respondent: usize,
}

/// Step 3, inside one transaction.
fn unseal(
    conn: &mut Conn,
    secret: &LinkSecret,
    campaign: &CampaignRow,
    key: Option<&PrivateKey>,
    options: CloseOptions,
) -> Result<CloseReport, ServiceError> {
    let row = campaign_rows::by_id(conn, campaign.id)?
        .ok_or_else(|| ServiceError::NotFound(format!("{} 的评议活动不存在", campaign.period)))?;
    if state_of(&row)? != CampaignState::Closing {
        return Err(ServiceError::Conflict(format!(
            "{} 的评议活动不在「正在截止」状态",
            row.period
        )));
    }
    let Some(key) = key else {
        // Opened before sealed ballots: nothing sealed to open.
        if ballot_rows::count(conn, row.id)? > 0 {
            return Err(ServiceError::internal(
                "截止",
                "没有选票公钥的评议活动却存有密封答卷",
            ));
        }
        let next = CampaignState::Closing.apply(CampaignAction::FinishClose)?;
        campaign_rows::set_state(conn, row.id, next.as_str(), now())?;
        return Ok(CloseReport {
            period: row.period,
            ballots: 0,
            ratings: 0,
            withheld_units: 0,
            dropped_added: 0,
            excluded: 0,
            scrubbed: true,
        });
    };
    let weighted = row.is_weighted(options.weighting_default);
    let template = templates::parse_stored(&row.template_toml)?;
    let layout = ballots::layout(&row, &template)?;
    let invited = crate::db::progress::invitation_strata(conn, row.id)?;
    let mut strata: Vec<(String, String, String)> = Vec::new();
    let mut strata_index: HashMap<(String, String, String), usize> = HashMap::new();
    let mut strata_of: HashMap<i64, usize> = HashMap::new();
    for invitation in invited {
        let id = invitation.invitation_id;
        let s = (invitation.size, invitation.industry, invitation.district);
        let next = strata.len();
        let i = *strata_index.entry(s.clone()).or_insert(next);
        if i == next {
            strata.push(s);
        }
        strata_of.insert(id, i);
    }
    let owners = ballots::spent_key_owners(&secret.spent_keys(), row.id, strata_of.keys().copied());
    let sealed = ballot_rows::of_campaign(conn, row.id)?;
    let mut entries: Vec<Entry> = Vec::new();
    let mut answered: Vec<i64> = Vec::with_capacity(sealed.len());
    // Ballots with at least one unit the enterprise added itself.
    let mut adders = 0usize;
    let mut unopenable = 0usize;
    for ballot in &sealed {
        let owner =
            SpentKey::from_slice(&ballot.spent_key).and_then(|k| owners.get(&k).map(|&o| (k, o)));
        let Some((spent, invitation)) = owner else {
            unopenable += 1;
            continue;
        };
        let content = match sealing::open(key, row.id, &spent, &ballot.sealed, &layout) {
            Ok(content) => content,
            Err(_) => {
                unopenable += 1;
                continue;
            }
        };
        let respondent = answered.len();
        answered.push(invitation);
        adders += usize::from(content.units.iter().any(|u| u.self_selected));
        for unit in &content.units {
            if let Some((answers, problems)) = ballots::stored_form(&template, unit)? {
                entries.push(Entry {
                    unit_id: unit.unit_id,
                    self_selected: unit.self_selected,
                    answers,
                    problems,
                    comment: unit.comment.clone().filter(|c| !c.is_empty()),
                    respondent,
                });
            }
        }
    }
    if unopenable > 0 && !options.exclude_unopenable {
        return Err(ServiceError::Conflict(format!(
            "{} 份密封答卷无法用这个密钥开启,或不属于本期任何一份邀请;未作任何改动。\
             确认要舍弃它们时,加 --exclude-unopenable 重新截止(会记入审计日志,公告中写明份数)",
            unopenable
        )));
    }
    // Units added by fewer enterprises than the smallest crowd are not stored as such: their
    // `self_selected` flag would group those few enterprises' ratings across units (one
    // enterprise alone: all its added ratings). They are dropped, and not counted (the report
    // and the audit row say how many).
    let dropped_added = if adders < MIN_CROWD {
        let before = entries.len();
        entries.retain(|e| !e.self_selected);
        before - entries.len()
    } else {
        0
    };
    // A unit with fewer stored entries than the smallest crowd keeps only its count.
    let mut per_unit: BTreeMap<i64, i64> = BTreeMap::new();
    for e in &entries {
        *per_unit.entry(e.unit_id).or_default() += 1;
    }
    let withheld: HashSet<i64> = per_unit
        .iter()
        .filter(|&(_, &n)| n < MIN_CROWD as i64)
        .map(|(&unit, _)| unit)
        .collect();
    for (&unit, &n) in per_unit.iter().filter(|(u, _)| withheld.contains(u)) {
        rating_rows::insert_withheld(conn, row.id, unit, n)?;
    }
    entries.retain(|e| !withheld.contains(&e.unit_id));
    // Weighting: the weight of each stored entry, shared by at least MIN_CROWD raters of its
    // unit, made before the shuffle and kept with the entry; the respondents are forgotten.
    let (weights, raking) = if weighted && !entries.is_empty() {
        let weighting = stats::Weighting {
            // The invited population's counts by stratum: the margins raking aims at.
            margins: stats::Margins::from_counts(strata_of.values().map(|&i| {
                let (size, industry, district) = &strata[i];
                (size.as_str(), industry.as_str(), district.as_str(), 1.0)
            })),
            respondents: answered
                .iter()
                .map(|invitation| {
                    let (size, industry, district) = strata[strata_of[invitation]].clone();
                    stats::Strata {
                        size,
                        industry,
                        district,
                    }
                })
                .collect(),
        };
        let raters: Vec<(i64, usize)> = entries.iter().map(|e| (e.unit_id, e.respondent)).collect();
        let (weights, report) =
            stats::weighting::rating_weights(&weighting, &raters, &options.raking, MIN_CROWD)
                .map_err(|e| ServiceError::internal("加权(按企业规模、行业、区县调整)", e))?;
        (Some(weights), Some(report))
    } else {
        (None, None)
    };
    let mut entries: Vec<(Entry, Option<f64>)> = match weights {
        Some(w) => entries.into_iter().zip(w.into_iter().map(Some)).collect(),
        None => entries.into_iter().map(|e| (e, None)).collect(),
    };
    // One uniform permutation across every ballot, from the operating system's random source.
    shuffle(&mut entries)?;
    let mut ids: HashSet<i64> = HashSet::with_capacity(entries.len());
    let mut new_rows = Vec::with_capacity(entries.len());
    for (e, weight) in &entries {
        let id = loop {
            let id = random_id()?;
            if ids.insert(id) {
                break id;
            }
        };
        new_rows.push(NewRating {
            id,
            campaign_id: row.id,
            unit_id: e.unit_id,
            self_selected: e.self_selected,
            answers: &e.answers,
            problems: &e.problems,
            comment: e.comment.as_deref(),
            weight: *weight,
            size: "",
            industry: "",
            district: "",
        });
    }
    for chunk in new_rows.chunks(1000) {
        rating_rows::insert_ratings(conn, chunk)?;
    }
    invitations::mark_answered(conn, &answered)?;
    let deleted = ballot_rows::delete_of_campaign(conn, row.id)?;
    if deleted != sealed.len() {
        return Err(ServiceError::internal(
            "截止",
            format!("读出 {} 份密封答卷,却删除了 {deleted} 份", sealed.len()),
        ));
    }
    let next = CampaignState::Closing.apply(CampaignAction::FinishClose)?;
    campaign_rows::set_state(conn, row.id, next.as_str(), now())?;
    campaign_rows::set_scrub_pending(conn, row.id, true)?;
    if unopenable > 0 {
        campaign_rows::set_unopenable_excluded(conn, row.id, unopenable as i64)?;
    }
    if let Some(report) = &raking {
        let json = serde_json::to_string(report)
            .map_err(|e| ServiceError::internal("加权报告无法保存", e))?;
        campaign_rows::set_raking_report(conn, row.id, &json)?;
    }
    Ok(CloseReport {
        period: row.period,
        ballots: answered.len(),
        ratings: new_rows.len(),
        withheld_units: withheld.len(),
        dropped_added,
        excluded: unopenable,
        scrubbed: false,
    })
}

/// Step 4: scrubs the deleted ballots from the files and records it. Returns whether it finished;
/// if not, the reason is logged and a rerun of the close tries again.
fn finish_scrub(conn: &mut Conn, campaign_id: i64) -> bool {
    match scrub::after_delete(conn, &["ballots"]) {
        Ok(()) => match campaign_rows::set_scrub_pending(conn, campaign_id, false) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "截止后的清理已完成,但未能记录;再次运行 campaign close 即可");
                false
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "截止后清理数据库文件未完成;再次运行 campaign close 完成清理");
            false
        }
    }
}

/// One uniform permutation from the operating system's random source (never a seeded one: the
/// order must be neither stored nor reproducible). Also the upgrade step's.
pub(crate) fn shuffle<T>(items: &mut [T]) -> Result<(), ServiceError> {
    // A probe first, so that an unavailable source is an error rather than a panic inside
    // `UnwrapErr`.
    let mut probe = [0u8; 8];
    SysRng
        .try_fill_bytes(&mut probe)
        .map_err(|e| ServiceError::internal("系统随机数不可用", e))?;
    items.shuffle(&mut rand::rand_core::UnwrapErr(SysRng));
    Ok(())
}

/// A random positive id below 2^63 from the operating system. Also the upgrade step's.
pub(crate) fn random_id() -> Result<i64, ServiceError> {
    let mut bytes = [0u8; 8];
    SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| ServiceError::internal("系统随机数不可用", e))?;
    Ok((i64::from_le_bytes(bytes) & i64::MAX).max(1))
}
