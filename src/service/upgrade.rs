//! The upgrade step after the SQL migrations (`qiping migrate`): answers an earlier release stored
//! the old way — as responses, each rating naming its response — are unlinked, and a campaign that
//! release opened gets its ballot key, its answers becoming sealed ballots.
//!
//! - **Closed and published campaigns**: in one transaction their ratings are deleted and written
//!   again without their response, in one uniform random permutation from the operating system
//!   (statement order, row order and new random ids), and the responses (with their respondent
//!   keys and days) deleted. Answers, problems, comments and their review (the migration before
//!   approved the comments of published campaigns, which were shown already) stay as they were,
//!   so published results — frozen in `publications` — do not change. The enterprise's strata
//!   are not written again: a weighted campaign's ratings get the weight the close now gives
//!   (`stats::weighting::rating_weights`, the responses being the respondents), an unweighted
//!   one's none.
//! - **Ratings closed with their strata** (by the release before weights, issue 39) get their
//!   weight the same way — each rating's stratum raked among the enterprises that answered, then
//!   shared within cells of at least five raters of its unit — and their strata are emptied.
//! - **A campaign open during the upgrade**: a key pair is made, the private key handed over (the
//!   CLI writes it to `--ballot-key-out`, checked back, before anything commits) and the public
//!   key stored with the campaign. Each response becomes a sealed ballot carrying the spent key of
//!   one of the campaign's answered invitations drawn at random — the true pairing is neither known
//!   nor needed (it is never recovered from `xmin` or from anything else), and the close opens
//!   the ballots with the rest. Those enterprises are "already answered" by their spent keys; the
//!   answered flag is cleared, as for any open campaign. A comment a moderator had hidden is not
//!   carried into the ballot.
//! - **Then the scrub**: SQLite overwrote what was deleted (`secure_delete`), then rebuilds the
//!   whole file (`VACUUM`: free pages kept what earlier releases and their migrations deleted) and
//!   truncates the WAL; PostgreSQL vacuums `ratings` and `responses`, as the close does. What a backup made before
//!   the upgrade holds, it keeps (README, "What anonymity means here").
//!
//! Run under the lease `upgrade`, so two processes never run it at once. Until it has run, every
//! other command and `serve` refuse to start ([`pending`]).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::json;

use super::ballots::UnitAnswers;
use super::campaign::{key_file_info, store_key};
use super::closing::{random_id, shuffle};
use super::links::LinkSecret;
use super::{Actor, ServiceError, audit, ballots, templates};
use crate::ballot::keyfile::KeyFileInfo;
use crate::ballot::{self as sealing, BallotLayout, PrivateKey};
use crate::db::answers::{self as rating_rows, NewRating};
use crate::db::upgrade::{self as rows, LinkedRating};
use crate::db::{Conn, ballots as ballot_rows, campaigns, interactions, leases, scrub};
use crate::domain::MIN_CROWD;

/// Receives the ballot key of a campaign open during the upgrade (the CLI writes and checks the
/// key file); an error rolls the whole step back.
pub type HandOver<'a> = dyn Fn(&KeyFileInfo, &PrivateKey) -> Result<(), ServiceError> + 'a;

/// The lease the step runs under.
const LEASE: &str = "upgrade";

/// How the step weighs what it rewrites: the close's choices (`[weighting] enabled` for campaigns
/// created before the choice was stored with them; `[stats.raking]`).
#[derive(Debug, Clone, Default)]
pub struct UpgradeOptions {
    pub weighting_default: bool,
    pub raking: crate::stats::RakingSettings,
}

/// Why the step is pending, in one sentence, or `None` when there is nothing to do.
pub fn pending(conn: &mut Conn) -> Result<Option<String>, ServiceError> {
    let (linked, responses) = rows::linked_counts(conn)?;
    let open = rows::open_without_key(conn)?;
    let with_strata = rows::strata_count(conn)?;
    if linked == 0 && responses == 0 && open.is_empty() && with_strata == 0 {
        return Ok(None);
    }
    let mut why = Vec::new();
    if with_strata > 0 {
        why.push(format!(
            "{with_strata} 条评分仍带着企业的规模、行业、区县(要换成加权权重)"
        ));
    }
    if linked > 0 || responses > 0 {
        why.push(format!(
            "{responses} 份答卷仍按旧方式保存({linked} 条评分仍指向其答卷)"
        ));
    }
    if let Some((_, period)) = open.first() {
        why.push(format!("进行中的评议活动 {period} 还没有选票密钥"));
    }
    Ok(Some(format!(
        "数据库需要完成升级:{}。请先运行 qiping migrate{}",
        why.join(";"),
        if open.is_empty() {
            String::new()
        } else {
            " --ballot-key-out 路径(存到可移动介质上)".to_owned()
        }
    )))
}

/// Refuses with [`pending`]'s sentence while the step is pending: every command but `migrate`,
/// and `serve`, call it after the SQL migrations.
pub fn refuse_if_pending(conn: &mut Conn) -> Result<(), ServiceError> {
    match pending(conn)? {
        Some(why) => Err(ServiceError::Conflict(why)),
        None => Ok(()),
    }
}

/// What the step did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpgradeReport {
    /// Per campaign whose ratings were unlinked: (period, ratings written again, responses deleted).
    pub unlinked: Vec<(String, usize, usize)>,
    /// Ratings closed with their strata that got a weight (or none, unweighted) instead.
    pub weighed: usize,
    /// The campaign open during the upgrade: its period, the ballots sealed and its key's
    /// fingerprint.
    pub sealed: Option<(String, usize, String)>,
    /// Whether the scrub finished (if not, run `qiping migrate` again: it redoes it).
    pub scrubbed: bool,
}

/// Runs the step if it is pending. `hand_over` receives the ballot key of a campaign open during
/// the upgrade (the CLI writes and checks the key file; an error rolls everything back); without
/// it such a campaign refuses the step, changing nothing.
pub fn run(
    conn: &mut Conn,
    actor: &Actor,
    secret: Option<&LinkSecret>,
    hand_over: Option<&HandOver<'_>>,
    options: &UpgradeOptions,
) -> Result<UpgradeReport, ServiceError> {
    if pending(conn)?.is_none() {
        return Ok(UpgradeReport {
            scrubbed: true,
            ..UpgradeReport::default()
        });
    }
    let open = rows::open_without_key(conn)?;
    if open.len() > 1 {
        let periods: Vec<&str> = open.iter().map(|(_, p)| p.as_str()).collect();
        return Err(ServiceError::Conflict(format!(
            "有 {} 个评议活动同时进行({}):本版本一次只允许一个。请先用旧版本截止其中的 {} 个,再升级",
            open.len(),
            periods.join("、"),
            open.len() - 1
        )));
    }
    if let Some((_, period)) = open.first() {
        if hand_over.is_none() {
            return Err(ServiceError::Conflict(format!(
                "评议活动 {period} 正在进行:升级要为它生成选票密钥,请用 qiping migrate --ballot-key-out 路径 \
                 指定密钥文件的位置(可移动介质,不要放在会被备份的磁盘上);未作任何改动"
            )));
        }
        if secret.is_none() {
            return Err(ServiceError::Conflict(format!(
                "评议活动 {period} 正在进行:升级要用问卷链接密钥(link_secret)标记已作答的邀请,\
                 请在 qiping.toml 或 QIPING_LINK_SECRET 中配置它;未作任何改动"
            )));
        }
    }
    let holder = format!("migrate-{}", std::process::id());
    let at = crate::db::now();
    if !leases::acquire(conn, LEASE, &holder, at, at + chrono::Duration::hours(1))? {
        return Err(ServiceError::Conflict(
            "另一个进程正在执行升级(租约 upgrade);请等它结束".into(),
        ));
    }
    let outcome = unlink_and_seal(conn, actor, secret, hand_over, open.first(), options);
    let released = leases::release(conn, LEASE, &holder);
    let mut report = outcome?;
    released?;
    report.scrubbed = match scrub::rebuild(conn, &["ratings", "responses"]) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "升级后清理数据库文件未完成;再次运行 qiping migrate 完成清理");
            false
        }
    };
    Ok(report)
}

fn unlink_and_seal(
    conn: &mut Conn,
    actor: &Actor,
    secret: Option<&LinkSecret>,
    hand_over: Option<&HandOver<'_>>,
    open: Option<&(i64, String)>,
    options: &UpgradeOptions,
) -> Result<UpgradeReport, ServiceError> {
    scrub::overwrite_deleted(conn)?;
    let key = match open {
        Some(_) => {
            Some(PrivateKey::generate().map_err(|e| ServiceError::internal("生成选票密钥", e))?)
        }
        None => None,
    };
    audit::change(
        conn,
        actor,
        "upgrade.unlink",
        "database",
        |conn| {
            let mut report = UpgradeReport::default();
            for campaign_id in rows::campaigns_with_linked_ratings(conn)? {
                if open.is_some_and(|(id, _)| *id == campaign_id) {
                    continue;
                }
                report.unlinked.push(unlink(conn, campaign_id, options)?);
            }
            report.weighed = weigh_strata(conn, options)?;
            if let (Some((campaign_id, _)), Some(key), Some(secret), Some(hand_over)) =
                (open, key.as_ref(), secret, hand_over)
            {
                report.sealed = Some(seal_open(conn, *campaign_id, key, secret, hand_over)?);
            }
            // Responses no rating names (they rated nothing storable).
            rows::delete_remaining_responses(conn)?;
            Ok(report)
        },
        |r| {
            json!({
                "unlinked": r.unlinked,
                "weighed": r.weighed,
                "sealed": r.sealed.as_ref().map(|(p, n, f)| json!({"period": p, "ballots": n, "key_fingerprint": f})),
            })
        },
    )
}

/// Writes a closed campaign's ratings again without their responses, in one random permutation
/// with new random ids, and deletes the responses.
fn unlink(
    conn: &mut Conn,
    campaign_id: i64,
    options: &UpgradeOptions,
) -> Result<(String, usize, usize), ServiceError> {
    let campaign = campaigns::by_id(conn, campaign_id)?;
    let period = campaign
        .as_ref()
        .map(|c| c.period.clone())
        .unwrap_or_default();
    let weighted = campaign.is_some_and(|c| c.is_weighted(options.weighting_default));
    let linked = rows::linked_ratings(conn, campaign_id)?;
    // The weights, while the ratings still name their responses (the respondents raked).
    let weights: Vec<Option<f64>> = if weighted && !linked.is_empty() {
        let mut respondent_of: HashMap<i64, usize> = HashMap::new();
        let mut respondents = Vec::new();
        let mut raters = Vec::with_capacity(linked.len());
        for r in &linked {
            let next = respondents.len();
            let i = *respondent_of
                .entry(r.response_id.unwrap_or_default())
                .or_insert(next);
            if i == next {
                respondents.push(crate::stats::Strata {
                    size: r.size.clone(),
                    industry: r.industry.clone(),
                    district: r.district.clone(),
                });
            }
            raters.push((r.unit_id, i));
        }
        let weighting = crate::stats::Weighting {
            margins: invited_margins(conn, campaign_id)?,
            respondents,
        };
        let (weights, report) = crate::stats::weighting::rating_weights(
            &weighting,
            &raters,
            &options.raking,
            MIN_CROWD,
        )
        .map_err(|e| ServiceError::internal("升级时加权", e))?;
        store_report(conn, campaign_id, &report)?;
        weights.into_iter().map(Some).collect()
    } else {
        vec![None; linked.len()]
    };
    let mut linked: Vec<(LinkedRating, Option<f64>)> = linked.into_iter().zip(weights).collect();
    let (deleted, responses) = rows::delete_linked(conn, campaign_id)?;
    if deleted != linked.len() {
        return Err(ServiceError::internal(
            "升级",
            format!("读出 {} 条评分,却删除了 {deleted} 条", linked.len()),
        ));
    }
    shuffle(&mut linked)?;
    let ids = random_ids(linked.len())?;
    let new_rows: Vec<NewRating<'_>> = linked
        .iter()
        .zip(&ids)
        .map(|((r, weight), &id)| NewRating {
            id,
            campaign_id,
            unit_id: r.unit_id,
            self_selected: r.self_selected,
            answers: &r.answers,
            problems: &r.problems,
            comment: r.comment.as_deref(),
            weight: *weight,
            size: "",
            industry: "",
            district: "",
        })
        .collect();
    for chunk in new_rows.chunks(1000) {
        rating_rows::insert_ratings(conn, chunk)?;
    }
    // Comments keep their review (the migration approved those of published campaigns).
    for ((r, _), &id) in linked.iter().zip(&ids) {
        if r.comment_review != crate::db::moderation::PENDING {
            rows::set_review(conn, id, r)?;
        }
    }
    Ok((period, linked.len(), responses))
}

/// The invited population's counts by size, industry and district (the registry's strata of the
/// campaign's invitations): the margins weighting rakes to.
fn invited_margins(
    conn: &mut Conn,
    campaign_id: i64,
) -> Result<crate::stats::Margins, ServiceError> {
    let counts = crate::db::ratings::invited_strata(conn, campaign_id)?;
    Ok(crate::stats::Margins::from_counts(counts.iter().map(
        |(s, i, d, n)| (s.as_str(), i.as_str(), d.as_str(), *n as f64),
    )))
}

/// Records how raking went for a campaign the step weighed, as the close does.
fn store_report(
    conn: &mut Conn,
    campaign_id: i64,
    report: &crate::stats::weighting::RakingReport,
) -> Result<(), ServiceError> {
    let json =
        serde_json::to_string(report).map_err(|e| ServiceError::internal("加权报告无法保存", e))?;
    Ok(campaigns::set_raking_report(conn, campaign_id, &json)?)
}

/// Ratings a release before weights closed with their enterprise's strata: a weighted campaign's
/// get the weight the close now gives — the enterprises that answered (completed invitations,
/// registry strata) raked to the invited margins, each rating taking its stratum's raked weight
/// (1 where no enterprise that answered has that stratum any more), shared within cells of at
/// least five raters of its unit — and every one's strata are emptied. Returns how many.
fn weigh_strata(conn: &mut Conn, options: &UpgradeOptions) -> Result<usize, ServiceError> {
    let mut by_campaign: BTreeMap<i64, Vec<rows::StrataRating>> = BTreeMap::new();
    for r in rows::ratings_with_strata(conn)? {
        by_campaign.entry(r.1).or_default().push(r);
    }
    let mut weighed = 0;
    for (campaign_id, ratings) in by_campaign {
        let weighted = campaigns::by_id(conn, campaign_id)?
            .is_some_and(|c| c.is_weighted(options.weighting_default));
        let weights: Vec<Option<f64>> = if weighted {
            let respondents: Vec<crate::stats::Strata> =
                crate::db::ratings::answered_strata(conn, campaign_id)?
                    .into_iter()
                    .map(|(size, industry, district)| crate::stats::Strata {
                        size,
                        industry,
                        district,
                    })
                    .collect();
            let weighting = crate::stats::Weighting {
                margins: invited_margins(conn, campaign_id)?,
                respondents,
            };
            let (raked, report) =
                crate::stats::weighting::rake_respondents(&weighting, &options.raking)
                    .map_err(|e| ServiceError::internal("升级时加权", e))?;
            store_report(conn, campaign_id, &report)?;
            let mut of_stratum: HashMap<&crate::stats::Strata, f64> = HashMap::new();
            for (s, w) in weighting.respondents.iter().zip(&raked) {
                of_stratum.entry(s).or_insert(*w);
            }
            let strata: Vec<crate::stats::Strata> = ratings
                .iter()
                .map(|r| crate::stats::Strata {
                    size: r.3.clone(),
                    industry: r.4.clone(),
                    district: r.5.clone(),
                })
                .collect();
            let raters: Vec<(i64, &crate::stats::Strata, f64)> = ratings
                .iter()
                .zip(&strata)
                .map(|(r, s)| (r.2, s, of_stratum.get(s).copied().unwrap_or(1.0)))
                .collect();
            crate::stats::weighting::shared_weights(&raters, MIN_CROWD)
                .into_iter()
                .map(Some)
                .collect()
        } else {
            vec![None; ratings.len()]
        };
        for (r, weight) in ratings.iter().zip(weights) {
            rows::set_weight(conn, r.0, weight)?;
        }
        weighed += ratings.len();
    }
    Ok(weighed)
}

/// Seals the answers of the campaign open during the upgrade: key, layout, one ballot per
/// response under the spent key of a randomly drawn answered invitation, in random order.
fn seal_open(
    conn: &mut Conn,
    campaign_id: i64,
    key: &PrivateKey,
    secret: &LinkSecret,
    hand_over: &HandOver<'_>,
) -> Result<(String, usize, String), ServiceError> {
    let campaign = campaigns::by_id(conn, campaign_id)?
        .ok_or_else(|| ServiceError::internal("升级", "进行中的评议活动不见了"))?;
    let template = templates::parse_stored(&campaign.template_toml)?;
    let linked = rows::linked_ratings(conn, campaign_id)?;
    let mut by_response: BTreeMap<i64, Vec<&LinkedRating>> = BTreeMap::new();
    for r in &linked {
        by_response
            .entry(r.response_id.unwrap_or_default())
            .or_default()
            .push(r);
    }
    let mut answered = rows::answered_invitations(conn, campaign_id)?;
    if answered.len() < by_response.len() {
        return Err(ServiceError::Conflict(format!(
            "评议活动 {} 存有 {} 份答卷,却只有 {} 份邀请标为已作答:无法为每份答卷配一个链接;未作任何改动",
            campaign.period,
            by_response.len(),
            answered.len()
        )));
    }
    // The answers as ballot contents; a hidden comment stays out.
    let contents: Vec<crate::ballot::BallotContent> = by_response
        .values()
        .map(|ratings| {
            let parsed: Vec<Parsed<'_>> = ratings
                .iter()
                .map(|r| Parsed::of(r))
                .collect::<Result<_, _>>()?;
            let units: Vec<UnitAnswers<'_>> = parsed.iter().map(Parsed::unit).collect();
            Ok(ballots::content_of(&template, &units))
        })
        .collect::<Result<_, ServiceError>>()?;
    let layout = layout_fitting(conn, &campaign, &template, &contents)?;
    store_key(conn, &campaign, key, &layout)?;
    // Each ballot gets the spent key of an answered invitation drawn at random.
    shuffle(&mut answered)?;
    let spent = secret.spent_keys();
    let public = &key.public_key();
    let mut sealed = Vec::with_capacity(contents.len());
    for (content, &invitation) in contents.iter().zip(&answered) {
        let spent_key = spent.spent_key(campaign.id, invitation);
        let ballot = sealing::seal(public, campaign.id, &spent_key, content, &layout)
            .map_err(|e| ServiceError::internal("升级:密封答卷", e))?;
        sealed.push((spent_key, ballot));
    }
    shuffle(&mut sealed)?;
    for (spent_key, ballot) in &sealed {
        if !ballot_rows::insert(conn, spent_key.as_bytes(), campaign.id, &ballot.0)? {
            return Err(ServiceError::internal("升级", "两份答卷配到了同一个链接"));
        }
    }
    rows::delete_linked(conn, campaign.id)?;
    rows::clear_answered(conn, campaign.id)?;
    hand_over(&key_file_info(&campaign), key)?;
    Ok((campaign.period, sealed.len(), public.fingerprint().short()))
}

/// A rating stored before the upgrade, read back as the survey had validated it.
struct Parsed<'a> {
    rating: &'a LinkedRating,
    answers: BTreeMap<String, Option<u8>>,
    problems: Vec<String>,
}

impl<'a> Parsed<'a> {
    fn of(rating: &'a LinkedRating) -> Result<Self, ServiceError> {
        Ok(Self {
            rating,
            answers: serde_json::from_str(&rating.answers)
                .map_err(|e| ServiceError::internal("升级:读取答案", e))?,
            problems: serde_json::from_str(&rating.problems)
                .map_err(|e| ServiceError::internal("升级:读取问题", e))?,
        })
    }

    /// The unit as ballot content takes it; a comment a moderator hid stays out.
    fn unit(&self) -> UnitAnswers<'_> {
        let r = self.rating;
        UnitAnswers {
            unit_id: r.unit_id,
            self_selected: r.self_selected,
            answers: &self.answers,
            problems: &self.problems,
            comment: r
                .comment
                .as_deref()
                .filter(|_| r.comment_hidden_reason.is_none()),
        }
    }
}

/// The campaign's ballot layout as an opening would make it, widened if an answer stored before
/// the upgrade holds more units or comment characters than it allows (every ballot of the
/// campaign pads to the one size, so the widening says nothing about any one of them).
fn layout_fitting(
    conn: &mut Conn,
    campaign: &crate::db::campaigns::CampaignRow,
    template: &crate::domain::SurveyTemplate,
    contents: &[crate::ballot::BallotContent],
) -> Result<BallotLayout, ServiceError> {
    let mut assigned: HashMap<i64, usize> = HashMap::new();
    for (enterprise, _) in interactions::of_period(conn, &campaign.period)? {
        *assigned.entry(enterprise).or_default() += 1;
    }
    let largest = assigned.values().copied().max().unwrap_or(0);
    let standard = BallotLayout::for_campaign(
        template.questions().len(),
        template.problems().len(),
        largest.min(crate::ballot::MAX_ASSIGNED_UNITS),
        crate::ballot::DEFAULT_COMMENT_BUDGET_CHARS,
    )
    .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let units = contents
        .iter()
        .map(|c| c.units.len())
        .max()
        .unwrap_or(0)
        .max(standard.units);
    let chars = contents
        .iter()
        .map(|c| {
            c.units
                .iter()
                .map(|u| u.comment.as_deref().map_or(0, |t| t.chars().count()))
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
        .max(standard.comment_chars);
    BallotLayout::new(standard.questions, standard.problems, units, chars).map_err(|e| {
        ServiceError::Invalid(format!("评议活动 {} 的旧答卷无法密封:{e}", campaign.period))
    })
}

/// `n` distinct random positive ids from the operating system.
fn random_ids(n: usize) -> Result<Vec<i64>, ServiceError> {
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut ids = Vec::with_capacity(n);
    while ids.len() < n {
        let id = random_id()?;
        if seen.insert(id) {
            ids.push(id);
        }
    }
    Ok(ids)
}
