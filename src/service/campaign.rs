//! Campaigns (评议活动): create (with an optional stratified sample), list, show, open, and which
//! units each invitation asks about. Reissue, extend, remind and bounces are in `outreach`; the
//! mail dispatcher is `dispatch`.

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use serde_json::json;

use super::links::{LinkSecret, token_hash};
use super::{Actor, ServiceError, audit, templates};
use crate::ballot::keyfile::{self, KeyFileInfo};
use crate::ballot::{BallotLayout, PrivateKey};
use crate::db::campaigns::{self as rows, CampaignRow, NewCampaign};
use crate::db::invitations::{self, InvitationRow, NewInvitation, NewOutboxMessage};
use crate::db::units::UnitRow;
use crate::db::{Conn, enterprises, interactions, now, write_transaction};
use crate::domain::{
    CampaignAction, CampaignState, Period, SampleFrameEntry, stratified_sample, time,
};

/// How long a campaign runs when `--closes` is not given.
pub const DEFAULT_DURATION_DAYS: i64 = 30;

/// What `campaign create` needs.
#[derive(Debug, Clone)]
pub struct CreateCampaign<'a> {
    pub period: Period,
    pub template_name: &'a str,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    /// Invite a stratified random sample of this many enterprises instead of all of them.
    pub sample: Option<u64>,
    /// The sample's seed; drawn from the operating system when a sample is asked for without one.
    pub seed: Option<u64>,
    /// Whether the campaign is weighted (`campaign create --weighted`; the callers pass
    /// `[weighting] enabled` when the office does not say).
    pub weighted: bool,
}

/// A campaign as `campaign show` and `campaign list` print it (keys of docs/interface.md §5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignSummary {
    /// The row's id: the campaign page's forms carry it, so a stale page acts on no other
    /// campaign of the period. Not printed.
    #[serde(skip)]
    pub id: i64,
    pub period: String,
    pub state: String,
    pub template: String,
    pub opens: NaiveDate,
    pub closes: NaiveDate,
    pub invited: i64,
    /// Enterprises the campaign invites: while it is a draft, how many `campaign open` would
    /// invite (the sample's size, or every mailable enterprise); afterwards, how many it invited.
    pub to_invite: i64,
    pub sent: i64,
    pub failed: i64,
    pub bounced: i64,
    /// Survey views in all: a count per campaign and day, never per invitation (so not "how many
    /// enterprises opened their link"; one enterprise viewing twice counts twice).
    pub opened: i64,
    /// The views per Beijing day, oldest first.
    pub views_by_day: Vec<DayViews>,
    pub completed: i64,
    /// completed / invited; `null` before anyone is invited.
    pub response_rate: Option<f64>,
    /// The sample size asked for, or `null` when every mailable enterprise is invited.
    pub sample_size: Option<i64>,
    /// The sample's seed: the same registry and seed draw the same sample.
    pub sample_seed: Option<i64>,
    /// Whether the campaign is weighted; `null` for a campaign created before the choice was
    /// stored with it (`[weighting] enabled` decides for it).
    pub weighted: Option<bool>,
    /// Each failed invitation (the `failed` count) with why: a 5xx reply, too many attempts, a
    /// message that could not be built (a control character in the name, a panic), or a result
    /// unknown after a crash. `campaign reissue PERIOD USCC` sends a new link once it is fixed.
    pub failures: Vec<MailFailure>,
    /// Why the campaign was discarded (作废), when it was.
    pub discard_reason: Option<String>,
    /// The fingerprint of the campaign's ballot key (its public half), once it has one: the key
    /// file says the same.
    pub key_fingerprint: Option<String>,
    /// The close opened the ballots but has not yet scrubbed them from the database's files.
    pub scrub_pending: bool,
    /// Ballots the close dropped as unopenable (`--exclude-unopenable`), if any.
    pub unopenable_excluded: Option<i64>,
}

/// Survey views on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayViews {
    pub day: NaiveDate,
    pub views: i64,
}

/// One invitation that could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailFailure {
    pub uscc: String,
    pub enterprise: String,
    pub reason: String,
}

/// Creates a draft campaign for a period, with the questionnaire it will ask (audited
/// `campaign.create`).
pub fn create(
    conn: &mut Conn,
    actor: &Actor,
    templates_dir: &std::path::Path,
    request: &CreateCampaign<'_>,
) -> Result<CampaignSummary, ServiceError> {
    let loaded = templates::load(templates_dir, request.template_name)?;
    let opens_on = request.opens_on.unwrap_or_else(|| time::local_day(now()));
    let closes_on = request
        .closes_on
        .unwrap_or(opens_on + Duration::days(DEFAULT_DURATION_DAYS));
    if closes_on < opens_on {
        return Err(ServiceError::Invalid(format!(
            "截止日期 {closes_on} 早于开始日期 {opens_on}"
        )));
    }
    let period = request.period.to_string();
    let sample_size = request
        .sample
        .map(|n| i64::try_from(n).map_err(|_| ServiceError::Invalid(format!("样本量 {n} 过大"))))
        .transpose()?;
    if sample_size == Some(0) {
        return Err(ServiceError::Invalid("样本量必须大于 0".into()));
    }
    // Seeds are stored as BIGINT: keep them in 0..2^63 so they read back as given.
    let sample_seed = sample_size
        .map(|_| (request.seed.unwrap_or_else(rand::random::<u64>) & (i64::MAX as u64)) as i64);
    write_transaction(conn, |conn| {
        // A discarded campaign does not hold its period: the office runs it again.
        if rows::by_period(conn, &period)?.is_some_and(|c| c.state != "discarded") {
            return Err(ServiceError::Conflict(format!("{period} 的评议活动已存在")));
        }
        rows::insert(
            conn,
            &NewCampaign {
                period: &period,
                state: CampaignState::Draft.as_str(),
                template_name: request.template_name,
                template_toml: &loaded.toml,
                opens_on,
                closes_on,
                sample_size,
                sample_seed,
                weighted: Some(request.weighted),
                created_at: now(),
            },
        )?;
        audit::record(
            conn,
            actor,
            "campaign.create",
            &target(&request.period),
            json!({"template": request.template_name, "opens": opens_on, "closes": closes_on,
                   "sample_size": sample_size, "sample_seed": sample_seed,
                   "weighted": request.weighted}),
        )?;
        Ok(())
    })?;
    show(conn, &request.period)
}

/// The audit target of a campaign's actions: `campaign:PERIOD`.
pub fn target(period: &Period) -> String {
    format!("campaign:{period}")
}

/// The campaign of a period, or an error that names the period.
pub fn find(conn: &mut Conn, period: &Period) -> Result<CampaignRow, ServiceError> {
    rows::by_period(conn, &period.to_string())?
        .ok_or_else(|| ServiceError::NotFound(format!("没有 {period} 的评议活动")))
}

/// One campaign with its progress.
pub fn show(conn: &mut Conn, period: &Period) -> Result<CampaignSummary, ServiceError> {
    let row = find(conn, period)?;
    summarize(conn, row)
}

/// Every campaign with its progress, oldest first.
pub fn list(conn: &mut Conn) -> Result<Vec<CampaignSummary>, ServiceError> {
    rows::all(conn)?
        .into_iter()
        .map(|row| summarize(conn, row))
        .collect()
}

pub(super) fn summarize(
    conn: &mut Conn,
    row: CampaignRow,
) -> Result<CampaignSummary, ServiceError> {
    let counts = rows::invitation_counts(conn, row.id)?;
    let failures = invitations::failures(conn, row.id)?
        .into_iter()
        .map(|(uscc, enterprise, reason)| MailFailure {
            uscc,
            enterprise,
            reason: reason.unwrap_or_else(|| "(未记录原因)".into()),
        })
        .collect();
    let to_invite = if row.state == "draft" {
        invitees(conn, &row)?.len() as i64
    } else {
        counts.invited
    };
    Ok(CampaignSummary {
        to_invite,
        response_rate: (counts.invited > 0)
            .then(|| counts.completed as f64 / counts.invited as f64),
        id: row.id,
        period: row.period,
        state: row.state,
        template: row.template_name,
        opens: row.opens_on,
        closes: row.closes_on,
        invited: counts.invited,
        sent: counts.sent,
        failed: counts.failed,
        bounced: counts.bounced,
        opened: counts.opened,
        views_by_day: crate::db::survey_views::by_day(conn, row.id)?
            .into_iter()
            .map(|(day, views)| DayViews { day, views })
            .collect(),
        completed: counts.completed,
        sample_size: row.sample_size,
        sample_seed: row.sample_seed,
        weighted: row.weighted,
        failures,
        key_fingerprint: row
            .ballot_public_key
            .as_deref()
            .and_then(|b| crate::ballot::PublicKey::from_bytes(b).ok())
            .map(|k| k.fingerprint().short()),
        scrub_pending: row.scrub_pending,
        unopenable_excluded: row.unopenable_excluded,
        discard_reason: row.discard_reason,
    })
}

/// What `campaign open` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenReport {
    pub period: String,
    /// Invitations created and queued for the dispatcher.
    pub invited: usize,
    /// The ballot key's fingerprint (its public half), to compare with the one the campaign page
    /// and `campaign show` print.
    pub key_fingerprint: String,
    /// Bytes of every sealed ballot of the campaign.
    pub ballot_bytes: usize,
}

/// Opens a draft campaign (the CLI's way): stores the ballot key's public half and the ballot
/// layout, creates one invitation per invitee with its link's hash and an `invitation` message in
/// the outbox, and moves the campaign to `open` — all in one transaction, audited `campaign.open`.
/// Before that transaction commits, `hand_over` gets the private key (the CLI writes the key
/// file, reads it back and checks it); if it fails, nothing is stored. The private key is never
/// written to the database.
pub fn open(
    conn: &mut Conn,
    actor: &Actor,
    secret: &LinkSecret,
    period: &Period,
    key: &PrivateKey,
    without_interactions: bool,
    hand_over: impl FnOnce(&KeyFileInfo, &PrivateKey) -> Result<(), ServiceError>,
) -> Result<OpenReport, ServiceError> {
    let change = |conn: &mut Conn| -> Result<_, ServiceError> {
        let campaign = find(conn, period)?;
        let next = state_of(&campaign)?.apply(CampaignAction::Open)?;
        if state_of(&campaign)? != CampaignState::Draft {
            return Err(ServiceError::Conflict(format!(
                "{period} 的评议活动在等待核对选票密钥:请在活动页面上传密钥文件"
            )));
        }
        let (invitees, layout) = attach_key(conn, &campaign, key, without_interactions)?;
        invite_and_open(conn, secret, &campaign, &invitees, next)?;
        hand_over(&key_file_info(&campaign), key)?;
        Ok(OpenReport {
            period: campaign.period,
            invited: invitees.len(),
            key_fingerprint: key.public_key().fingerprint().short(),
            ballot_bytes: crate::ballot::sealed_len(&layout),
        })
    };
    audit::change(
        conn,
        actor,
        "campaign.open",
        &target(period),
        change,
        |r| json!({"invited": r.invited, "key_fingerprint": r.key_fingerprint}),
    )
}

/// A key file handed to the web page: its suggested name and its bytes.
pub struct IssuedKey {
    pub file_name: String,
    pub bytes: zeroize::Zeroizing<Vec<u8>>,
    pub fingerprint: String,
}

impl std::fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IssuedKey({}, ***)", self.file_name)
    }
}

/// The web's open, first half: makes the ballot key, stores its public half and the ballot layout,
/// and moves the campaign to `key_check` (audited `campaign.issue_key`). Asked again while the
/// campaign waits in `key_check`, it replaces the key (the earlier download then opens nothing:
/// no invitation exists yet and nothing was sealed to it). The key file goes back
/// in the response and is written nowhere on the server; no invitation exists until
/// [`confirm_key`] has seen the file come back.
pub fn issue_key(
    conn: &mut Conn,
    actor: &Actor,
    period: &Period,
    expected_id: Option<i64>,
    without_interactions: bool,
) -> Result<IssuedKey, ServiceError> {
    let key = PrivateKey::generate().map_err(|e| ServiceError::internal("生成选票密钥", e))?;
    audit::change(
        conn,
        actor,
        "campaign.issue_key",
        &target(period),
        |conn| {
            let campaign = find(conn, period)?;
            if expected_id.is_some_and(|id| id != campaign.id) {
                return Err(stale_page(period));
            }
            let next = state_of(&campaign)?.apply(CampaignAction::IssueKey)?;
            attach_key(conn, &campaign, &key, without_interactions)?;
            rows::set_state(conn, campaign.id, next.as_str(), now())?;
            Ok(IssuedKey {
                file_name: keyfile::suggested_file_name(&campaign.period, &key),
                bytes: keyfile::to_bytes(&key_file_info(&campaign), &key),
                fingerprint: key.public_key().fingerprint().short(),
            })
        },
        |k| json!({"key_fingerprint": k.fingerprint}),
    )
}

/// The web's open, second half: the uploaded key file must hold the key whose public half is
/// stored; then the invitations are created and queued and the campaign is open (audited
/// `campaign.open`). A wrong file changes nothing.
pub fn confirm_key(
    conn: &mut Conn,
    actor: &Actor,
    secret: &LinkSecret,
    period: &Period,
    uploaded: &[u8],
    expected_id: Option<i64>,
) -> Result<OpenReport, ServiceError> {
    let (_, key) =
        keyfile::from_bytes(uploaded).map_err(|e| ServiceError::Invalid(e.to_string()))?;
    audit::change(
        conn,
        actor,
        "campaign.open",
        &target(period),
        |conn| {
            let campaign = find(conn, period)?;
            if expected_id.is_some_and(|id| id != campaign.id) {
                return Err(stale_page(period));
            }
            if state_of(&campaign)? != CampaignState::KeyCheck {
                return Err(ServiceError::Conflict(format!(
                    "{period} 的评议活动不在「待核对密钥」状态"
                )));
            }
            let next = state_of(&campaign)?.apply(CampaignAction::Open)?;
            super::closing::check_key(&campaign, &key)?;
            let invitees = invitees(conn, &campaign)?;
            invite_and_open(conn, secret, &campaign, &invitees, next)?;
            let template = super::templates::parse_stored(&campaign.template_toml)?;
            let layout = super::ballots::layout(&campaign, &template)?;
            Ok(OpenReport {
                period: campaign.period,
                invited: invitees.len(),
                key_fingerprint: key.public_key().fingerprint().short(),
                ballot_bytes: crate::ballot::sealed_len(&layout),
            })
        },
        |r| json!({"invited": r.invited, "key_fingerprint": r.key_fingerprint}),
    )
}

/// What both ways of opening do before the key leaves the process: one campaign under way, the
/// interactions imported (or confirmed absent), the invitees and their ballot layout, and the
/// key's public half stored with the layout.
fn attach_key(
    conn: &mut Conn,
    campaign: &CampaignRow,
    key: &PrivateKey,
    without_interactions: bool,
) -> Result<(Vec<enterprises::EnterpriseRow>, BallotLayout), ServiceError> {
    refuse_second(conn, campaign)?;
    require_interactions(conn, campaign, without_interactions)?;
    let invitees = invitees(conn, campaign)?;
    let layout = ballot_layout(conn, campaign, &invitees)?;
    store_key(conn, campaign, key, &layout)?;
    Ok((invitees, layout))
}

/// Creates and queues one invitation per invitee and moves the campaign to `next` (open).
fn invite_and_open(
    conn: &mut Conn,
    secret: &LinkSecret,
    campaign: &CampaignRow,
    invitees: &[enterprises::EnterpriseRow],
    next: CampaignState,
) -> Result<(), ServiceError> {
    let at = now();
    for enterprise in invitees {
        issue_invitation(conn, secret, campaign, enterprise.id, at)?;
    }
    rows::set_state(conn, campaign.id, next.as_str(), at)?;
    Ok(())
}

/// Refuses when the page that asked showed another campaign of the period (`expected_id`).
pub fn require_shown(
    conn: &mut Conn,
    period: &Period,
    expected_id: Option<i64>,
) -> Result<(), ServiceError> {
    match expected_id {
        Some(id) if id != find(conn, period)?.id => Err(stale_page(period)),
        _ => Ok(()),
    }
}

fn stale_page(period: &Period) -> ServiceError {
    ServiceError::Conflict(format!(
        "{period} 的评议活动已不是页面上的那一个(可能已被作废并重新创建),请刷新页面后再操作"
    ))
}

/// A campaign opens with the interactions imported (who dealt with which unit), unless the office
/// confirms one in which every enterprise chooses its units itself (at most
/// [`crate::ballot::MAX_ADDED_UNITS`] each): an office that forgot the import would otherwise mail
/// every enterprise a questionnaire with no unit on it.
pub(super) fn require_interactions(
    conn: &mut Conn,
    campaign: &CampaignRow,
    confirmed_without: bool,
) -> Result<(), ServiceError> {
    if confirmed_without || !interactions::of_period(conn, &campaign.period)?.is_empty() {
        return Ok(());
    }
    Err(ServiceError::Conflict(format!(
        "{} 尚未导入办事记录(哪些企业与哪些单位打过交道),问卷上将没有任何预先列出的单位,每家企业只能自行选择最多 {} 个单位评价。\
         请先导入办事记录;若确实要这样开始,请确认(命令行加 --without-interactions,页面上勾选确认)",
        campaign.period,
        crate::ballot::MAX_ADDED_UNITS
    )))
}

/// At most one campaign under way (`key_check`, `open` or `closing`) at a time.
pub(super) fn refuse_second(conn: &mut Conn, campaign: &CampaignRow) -> Result<(), ServiceError> {
    if let Some(other) = rows::under_way(conn)?
        .into_iter()
        .find(|c| c.id != campaign.id)
    {
        return Err(ServiceError::Conflict(format!(
            "{} 的评议活动正在进行,同一时间只能进行一期评议:请先截止或作废它",
            other.period
        )));
    }
    Ok(())
}

pub(crate) fn key_file_info(campaign: &CampaignRow) -> KeyFileInfo {
    KeyFileInfo {
        period: campaign.period.clone(),
        campaign_id: campaign.id,
        created: time::local_day(now()).to_string(),
    }
}

/// The one ballot size of a campaign: from its template, the most units assigned to one
/// invitee, and the comment budget. Refuses an invitee over the cap, naming it.
fn ballot_layout(
    conn: &mut Conn,
    campaign: &CampaignRow,
    invitees: &[enterprises::EnterpriseRow],
) -> Result<BallotLayout, ServiceError> {
    let template = super::templates::parse_stored(&campaign.template_toml)?;
    let mut assigned: std::collections::HashMap<i64, usize> = Default::default();
    for (enterprise, _) in interactions::of_period(conn, &campaign.period)? {
        *assigned.entry(enterprise).or_default() += 1;
    }
    let largest = invitees
        .iter()
        .map(|e| (assigned.get(&e.id).copied().unwrap_or(0), e))
        .max_by_key(|(n, _)| *n);
    let layout = BallotLayout::for_campaign(
        template.questions().len(),
        template.problems().len(),
        largest.map_or(0, |(n, _)| n),
        crate::ballot::DEFAULT_COMMENT_BUDGET_CHARS,
    );
    layout.map_err(|e| match (&e, largest) {
        (crate::ballot::LayoutError::TooManyAssigned { .. }, Some((_, enterprise))) => {
            ServiceError::Invalid(format!("{}(统一社会信用代码 {})", e, enterprise.uscc))
        }
        _ => ServiceError::Invalid(e.to_string()),
    })
}

pub(crate) fn store_key(
    conn: &mut Conn,
    campaign: &CampaignRow,
    key: &PrivateKey,
    layout: &BallotLayout,
) -> Result<(), ServiceError> {
    let too_big = |_| ServiceError::Invalid("选票格式过大".into());
    rows::set_ballot_key(
        conn,
        campaign.id,
        &key.public_key().to_bytes(),
        &crate::ballot::SuiteIds::CURRENT.to_string(),
        i32::try_from(layout.units).map_err(too_big)?,
        i32::try_from(layout.comment_chars).map_err(too_big)?,
    )?;
    Ok(())
}

/// What `campaign discard` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscardReport {
    pub period: String,
    /// Answers (答卷) deleted with it.
    pub answers_deleted: usize,
}

/// Most characters of a discard's reason.
pub const MAX_DISCARD_REASON_CHARS: usize = 500;

/// Discards (作废) an open campaign: its answers are deleted, nothing of it is published, its
/// links stop working and its queued mail is not sent; the period can be created again. One
/// transaction, audited `campaign.discard` with the reason; then the deleted answers are scrubbed
/// from the database's files ([`crate::db::scrub`]).
///
/// `expected_id` is the campaign the office saw (the page's form carries it): a stale page cannot
/// discard the period's next campaign.
pub fn discard(
    conn: &mut Conn,
    actor: &Actor,
    period: &Period,
    reason: &str,
    expected_id: Option<i64>,
) -> Result<DiscardReport, ServiceError> {
    let reason = discard_reason(reason)?;
    crate::db::scrub::overwrite_deleted(conn)?;
    let report = audit::change(
        conn,
        actor,
        "campaign.discard",
        &target(period),
        |conn| {
            let campaign = find(conn, period)?;
            if expected_id.is_some_and(|id| id != campaign.id) {
                return Err(stale_page(period));
            }
            state_of(&campaign)?.apply(CampaignAction::Discard)?;
            // The state first: on PostgreSQL this waits for submissions that read the campaign
            // open (`FOR SHARE`), and refuses those after it, so the deletion below gets them all.
            rows::set_discarded(conn, campaign.id, reason, now())?;
            let answers_deleted = super::response::discard_answers(conn, campaign.id)?;
            Ok(DiscardReport {
                period: campaign.period,
                answers_deleted,
            })
        },
        |r| json!({"reason": reason, "answers_deleted": r.answers_deleted}),
    )?;
    if let Err(e) = crate::db::scrub::after_delete(conn, &["ballots", "ratings", "responses"]) {
        // The discard stands; the WAL still holds the deleted rows until the next full
        // checkpoint. Say so to the operator rather than fail a change that has landed.
        tracing::warn!(error = %e, "作废后清理数据库文件未完成,将在下次完整检查点时完成");
    }
    Ok(report)
}

/// A campaign's stored state. A value no state has is stored data that cannot be read: internal.
pub(crate) fn state_of(campaign: &CampaignRow) -> Result<CampaignState, ServiceError> {
    campaign
        .state
        .parse()
        .map_err(|e| ServiceError::internal(&format!("{} 的活动状态", campaign.period), e))
}

/// A discard's reason, trimmed: required, at most [`MAX_DISCARD_REASON_CHARS`] characters.
pub(super) fn discard_reason(reason: &str) -> Result<&str, ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::Invalid(
            "请写明作废的原因(例如:选票密钥全部遗失)".into(),
        ));
    }
    if reason.chars().count() > MAX_DISCARD_REASON_CHARS {
        return Err(ServiceError::Invalid(format!(
            "作废原因最多 {MAX_DISCARD_REASON_CHARS} 字"
        )));
    }
    Ok(reason)
}

/// One enterprise a campaign invites (or will), as the sample list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitee {
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub industry: String,
    /// The size's Chinese label (微型 … 大型).
    pub size: String,
}

/// The enterprises a campaign invites, by USCC: while it is a draft, those `campaign open` would
/// invite (the sample its seed draws, or every mailable enterprise), so the office can prepare its
/// interactions file and check the sample before opening; afterwards, those it invited.
pub fn invitee_list(conn: &mut Conn, period: &Period) -> Result<Vec<Invitee>, ServiceError> {
    let campaign = find(conn, period)?;
    let rows = if campaign.state == "draft" {
        invitees(conn, &campaign)?
    } else {
        let invited: std::collections::HashSet<i64> = invitations::of_campaign(conn, campaign.id)?
            .into_iter()
            .map(|i| i.enterprise_id)
            .collect();
        enterprises::all(conn)?
            .into_iter()
            .filter(|e| invited.contains(&e.id))
            .collect()
    };
    let mut list: Vec<Invitee> = rows
        .into_iter()
        .map(|e| Invitee {
            size: e
                .size
                .parse::<crate::domain::EnterpriseSize>()
                .map_or(e.size.clone(), |s| s.label_zh().to_owned()),
            uscc: e.uscc,
            name: e.name,
            district: e.district,
            industry: e.industry,
        })
        .collect();
    list.sort_by(|a, b| a.uscc.cmp(&b.uscc));
    Ok(list)
}

/// The invitee list as CSV for Excel: UTF-8 with a byte-order mark, Chinese headers, text cells
/// that could run as formulas neutralised.
pub fn invitee_csv(list: &[Invitee]) -> Result<Vec<u8>, ServiceError> {
    use crate::report::table::neutralise;
    let mut writer = csv::Writer::from_writer(crate::report::csv::BOM.to_vec());
    let fail = |e: csv::Error| ServiceError::internal("受邀企业名单", e);
    writer
        .write_record([
            "统一社会信用代码",
            "企业名称",
            "所在区县",
            "行业",
            "企业规模",
        ])
        .map_err(fail)?;
    for i in list {
        writer
            .write_record(
                [&i.uscc, &i.name, &i.district, &i.industry, &i.size]
                    .map(|t| neutralise(t).into_owned()),
            )
            .map_err(fail)?;
    }
    writer
        .into_inner()
        .map_err(|e| ServiceError::internal("受邀企业名单", e.to_string()))
}

/// Who a campaign invites: every mailable enterprise, or the stratified sample its seed draws.
pub(super) fn invitees(
    conn: &mut Conn,
    campaign: &CampaignRow,
) -> Result<Vec<enterprises::EnterpriseRow>, ServiceError> {
    let mailable = enterprises::mailable(conn)?;
    let (Some(n), Some(seed)) = (campaign.sample_size, campaign.sample_seed) else {
        return Ok(mailable);
    };
    let frame: Vec<SampleFrameEntry> = mailable
        .iter()
        .map(|e| SampleFrameEntry {
            id: e.id,
            stratum: (e.district.clone(), e.industry.clone(), e.size.clone()),
        })
        .collect();
    let chosen = stratified_sample(&frame, n.max(0) as usize, seed as u64);
    Ok(mailable
        .into_iter()
        .filter(|e| chosen.binary_search(&e.id).is_ok())
        .collect())
}

/// The units an invitation asks about: those the enterprise dealt with in the campaign's period
/// (`import interactions`), by code. Empty means the form lets the enterprise choose. The survey
/// page and the invitation email both call this.
pub fn units_for_invitation(
    conn: &mut Conn,
    invitation: &InvitationRow,
) -> Result<Vec<UnitRow>, ServiceError> {
    let campaign = rows::by_id(conn, invitation.campaign_id)?.ok_or_else(|| {
        ServiceError::NotFound(format!("邀请 {} 的评议活动不存在", invitation.id))
    })?;
    Ok(interactions::units_of(
        conn,
        &campaign.period,
        invitation.enterprise_id,
    )?)
}

/// Creates one invitation with its link and queues the invitation message.
fn issue_invitation(
    conn: &mut Conn,
    secret: &LinkSecret,
    campaign: &CampaignRow,
    enterprise_id: i64,
    at: chrono::NaiveDateTime,
) -> Result<i64, ServiceError> {
    // The token needs the row's id, so the row starts with a unique placeholder hash.
    let placeholder = format!("pending:{}:{enterprise_id}", campaign.id);
    let id = invitations::insert(
        conn,
        &NewInvitation {
            campaign_id: campaign.id,
            enterprise_id,
            token_hash: &placeholder,
            link_version: 1,
            status: "issued",
            issued_at: at,
        },
    )?;
    invitations::set_link(conn, id, &token_hash(&secret.token(id, 1)), 1)?;
    queue(conn, campaign, id, "invitation", at)?;
    Ok(id)
}

/// Queues a message about an invitation, with a Message-ID that stays the same across retries.
pub fn queue(
    conn: &mut Conn,
    campaign: &CampaignRow,
    invitation_id: i64,
    kind: &str,
    at: chrono::NaiveDateTime,
) -> Result<(), ServiceError> {
    // Unique per message (a counter of this invitation's messages), stable across retries.
    let sequence = crate::db::outbox::of_invitation(conn, invitation_id)?.len() + 1;
    let message_id = format!(
        "{}.{invitation_id}.{kind}.{sequence}.{}@qiping",
        campaign.period,
        at.and_utc().timestamp_micros()
    );
    invitations::queue_message(
        conn,
        &NewOutboxMessage {
            invitation_id,
            kind,
            status: "queued",
            attempts: 0,
            next_attempt_at: at,
            message_id: &message_id,
            created_at: at,
        },
    )?;
    Ok(())
}
