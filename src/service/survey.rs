//! Opening a survey link: which questionnaire, which units, and whether the link still works.
//! Shared by the page (`GET /s/{token}`), the JSON (`GET /api/v1/survey/{token}`) and submission.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, mpsc};

use chrono::NaiveDate;

use super::links::{LinkSecret, is_well_formed, token_hash};
use super::templates;
use crate::ballot::{BallotLayout, PublicKey, SpentKeys};
use crate::db::campaigns;
use crate::db::invitations::{self, InvitationRow};
use crate::db::survey_units::{self as rows, SurveyUnitRow};
use crate::db::{Conn, Pool, now, survey_views};
use crate::domain::{AnswerError, SurveyTemplate, time};

/// Why a link cannot be answered, or a submission was not stored. Each maps to one HTTP status
/// (docs/interface.md §3.1): unknown 404, closed 410, used 409, invalid 422.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("链接无效")]
    Unknown,
    #[error("评议已结束")]
    Closed,
    #[error("此链接已提交过答卷")]
    Used,
    #[error("提交的内容有误")]
    Invalid(Vec<AnswerError>),
    #[error("数据库错误: {0}")]
    Db(#[from] diesel::result::Error),
    /// The database could not store or read anything now: the client may try again.
    #[error("数据库暂时不可用: {}", .0.describe())]
    Unavailable(crate::db::Unavailable),
    #[error("{0}")]
    Internal(String),
}

/// What every survey request of one process shares: what stays fixed about each open campaign
/// ([`OpenCampaign`], read once per process) and the key spent keys are made with (from
/// `link_secret`), which tells whether a link has answered.
#[derive(Debug, Clone)]
pub struct SurveyContext {
    campaigns: Arc<Mutex<HashMap<i64, Arc<OpenCampaign>>>>,
    spent: Option<Arc<SpentKeys>>,
    /// `[weighting] enabled`: whether a campaign created before the choice was stored is weighted.
    weighted_by_default: bool,
}

/// What a survey request needs of an open campaign besides its state and last day: its period,
/// its parsed questionnaire, the public key its ballots are sealed to and their layout. None of
/// it changes once the campaign is open — the questionnaire is frozen when the campaign is
/// created, the key pair and the layout when it opens — so a process reads and parses it once,
/// and each request reads only the campaign's state and last day (which the office may extend).
pub struct OpenCampaign {
    pub id: i64,
    pub period: String,
    pub template: Arc<SurveyTemplate>,
    pub public_key: PublicKey,
    pub layout: BallotLayout,
    /// Whether the campaign is weighted: the survey page then says what the weights leave.
    pub weighted: bool,
}

impl std::fmt::Debug for OpenCampaign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OpenCampaign({} {})", self.id, self.period)
    }
}

impl SurveyContext {
    /// A context for links made with `secret`.
    pub fn new(secret: &LinkSecret) -> Self {
        Self {
            campaigns: Arc::default(),
            spent: Some(Arc::new(secret.spent_keys())),
            weighted_by_default: false,
        }
    }

    /// `[weighting] enabled`, which decides whether a campaign created before the choice was
    /// stored with it is weighted.
    pub fn weighted_by_default(mut self, yes: bool) -> Self {
        self.weighted_by_default = yes;
        self
    }

    /// A context for a server without `link_secret`: no link can be answered (its ballot could
    /// not be told apart from a second one of the same link).
    pub fn without_secret() -> Self {
        Self {
            campaigns: Arc::default(),
            spent: None,
            weighted_by_default: false,
        }
    }

    /// The spent keys of this server's links.
    pub fn spent_keys(&self) -> Result<&SpentKeys, LinkError> {
        self.spent.as_deref().ok_or_else(|| {
            LinkError::Internal("未配置问卷链接密钥(link_secret),无法接收答卷".into())
        })
    }

    /// What stays fixed about campaign `id`, which must be open: read from the database the
    /// first time, from memory after that.
    fn open_campaign(&self, conn: &mut Conn, id: i64) -> Result<Arc<OpenCampaign>, LinkError> {
        let poisoned = || LinkError::Internal("survey campaign cache poisoned".into());
        if let Some(found) = self.campaigns.lock().map_err(|_| poisoned())?.get(&id) {
            return Ok(found.clone());
        }
        let row = campaigns::by_id(conn, id)?.ok_or(LinkError::Unknown)?;
        let internal = |e: super::ServiceError| LinkError::Internal(e.to_string());
        let template = Arc::new(
            templates::parse_stored(&row.template_toml)
                .map_err(|e| LinkError::Internal(e.to_string()))?,
        );
        let open = Arc::new(OpenCampaign {
            id,
            weighted: row.is_weighted(self.weighted_by_default),
            public_key: super::ballots::public_key(&row).map_err(internal)?,
            layout: super::ballots::layout(&row, &template).map_err(internal)?,
            period: row.period,
            template,
        });
        self.campaigns
            .lock()
            .map_err(|_| poisoned())?
            .insert(id, open.clone());
        Ok(open)
    }
}

/// A link that can be answered now.
#[derive(Debug, Clone)]
pub struct OpenLink {
    pub invitation: InvitationRow,
    pub campaign: Arc<OpenCampaign>,
    /// The campaign's last day, as read for this request.
    pub closes_on: NaiveDate,
}

/// What a survey shows: the questionnaire and the units the enterprise was asked about, each
/// with the name of its department.
#[derive(Debug, Clone)]
pub struct SurveyView {
    pub link: OpenLink,
    pub units: Vec<SurveyUnit>,
    /// Codes of the units the enterprise was asked about; the others it added itself.
    pub asked: Vec<String>,
}

/// A unit on the survey, with its department's code and name (a department is its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyUnit {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub department_code: String,
    pub department: String,
}

/// Whether a campaign takes answers on `today` (an Asia/Shanghai day).
pub fn accepts_answers(state: &str, closes_on: NaiveDate, today: NaiveDate) -> bool {
    state == "open" && today <= closes_on
}

/// Resolves a token to a link that can be answered now, or why not. The checks are the same for
/// every caller so the page, the JSON and a submission never disagree.
pub fn resolve(conn: &mut Conn, cache: &SurveyContext, token: &str) -> Result<OpenLink, LinkError> {
    if !is_well_formed(token) {
        return Err(LinkError::Unknown);
    }
    let (invitation, state, closes_on) =
        invitations::by_token_hash_with_campaign_state(conn, &token_hash(token))?
            .ok_or(LinkError::Unknown)?;
    if !accepts_answers(&state, closes_on, time::local_day(now())) {
        return Err(LinkError::Closed);
    }
    // Answered: the close marked it, or — while open — a ballot carries its spent key. Nothing
    // is read or written on the invitation row for it.
    if super::ballots::has_answered(conn, cache.spent_keys()?, &invitation)? {
        return Err(LinkError::Used);
    }
    // Only now, the campaign being open, is what stays fixed about it read (or found in memory).
    let campaign = cache.open_campaign(conn, invitation.campaign_id)?;
    Ok(OpenLink {
        invitation,
        campaign,
        closes_on,
    })
}

/// The survey behind a token, plus any units the enterprise added itself (`extra_codes`, from
/// the page's "add a unit" search). Writes nothing: when `views` is given, the view is counted
/// there, for its campaign and day only ([`ViewCounter`]).
pub fn view(
    conn: &mut Conn,
    cache: &SurveyContext,
    token: &str,
    extra_codes: &[String],
    views: Option<&ViewCounter>,
) -> Result<SurveyView, LinkError> {
    let link = resolve(conn, cache, token)?;
    if let Some(views) = views {
        views.count(link.campaign.id, time::local_day(now()));
    }
    let mut units: Vec<SurveyUnit> = rows::asked_units_with_departments(
        conn,
        &link.campaign.period,
        link.invitation.enterprise_id,
    )?
    .into_iter()
    .map(|(unit, department)| survey_unit(unit, department))
    .collect();
    let asked: Vec<String> = units.iter().map(|u| u.code.clone()).collect();
    let extra: Vec<String> = extra_codes
        .iter()
        .filter(|c| !units.iter().any(|u| &u.code == *c))
        .cloned()
        .collect();
    if !extra.is_empty() {
        let added = rows::units_by_codes(conn, &extra)?;
        units.extend(with_departments(conn, added)?);
    }
    Ok(SurveyView { link, units, asked })
}

/// Adds each unit's department (its parent, or itself for a department).
pub fn with_departments(
    conn: &mut Conn,
    units: Vec<SurveyUnitRow>,
) -> Result<Vec<SurveyUnit>, LinkError> {
    let parents: Vec<String> = units.iter().filter_map(|u| u.parent_code.clone()).collect();
    let names: HashMap<String, String> = rows::names_of(conn, &parents)?.into_iter().collect();
    Ok(units
        .into_iter()
        .map(|u| {
            let department = u.parent_code.as_ref().and_then(|p| names.get(p).cloned());
            survey_unit(u, department)
        })
        .collect())
}

/// A unit as the survey shows it, given its department's name (`None` for a department, which
/// is its own; a parent whose name is unknown shows its code).
fn survey_unit(u: SurveyUnitRow, department: Option<String>) -> SurveyUnit {
    let (department_code, department) = match u.parent_code {
        Some(p) => {
            let name = department.unwrap_or_else(|| p.clone());
            (p, name)
        }
        None => (u.code.clone(), u.name.clone()),
    };
    SurveyUnit {
        code: u.code,
        name: u.name,
        kind: u.kind,
        department_code,
        department,
    }
}

/// Survey views, counted in memory by campaign and Beijing day and added to `survey_views` once a
/// minute by a thread of their own, and when `serve` stops. Viewing a survey thus writes nothing on
/// the request's path — no invitation row, no commit to wait for — and what is stored says how many
/// views a campaign had each day, never whose; someone watching the database while it is open
/// sees the count move once a minute, not view by view. Views of the last minute before a crash
/// are lost: a count for the office's progress page, not a record.
#[derive(Debug, Clone)]
pub struct ViewCounter {
    counts: Arc<Mutex<HashMap<(i64, NaiveDate), i64>>>,
    /// Dropped with the last handle, which makes the flusher write what is left and stop.
    _alive: mpsc::Sender<()>,
}

/// How often counted views are written.
pub const VIEWS_FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

impl ViewCounter {
    /// A counter whose thread writes to `pool` every [`VIEWS_FLUSH_EVERY`], and once more when the
    /// last handle is dropped.
    pub fn start(pool: Pool) -> std::io::Result<Self> {
        let counts: Arc<Mutex<HashMap<(i64, NaiveDate), i64>>> = Arc::default();
        let (alive, stopped) = mpsc::channel::<()>();
        let shared = counts.clone();
        std::thread::Builder::new()
            .name("qiping-survey-views".into())
            .spawn(move || {
                loop {
                    let last = matches!(
                        stopped.recv_timeout(VIEWS_FLUSH_EVERY),
                        Err(mpsc::RecvTimeoutError::Disconnected)
                    );
                    match pool.get() {
                        Ok(mut conn) => {
                            if let Err(e) = flush(&shared, &mut conn) {
                                tracing::warn!("问卷浏览次数写入失败,稍后重试: {e}");
                            }
                        }
                        Err(e) => tracing::warn!("问卷浏览次数写入失败,稍后重试: {e}"),
                    }
                    if last {
                        return;
                    }
                }
            })?;
        Ok(Self {
            counts,
            _alive: alive,
        })
    }

    /// Counts one view.
    pub fn count(&self, campaign_id: i64, day: NaiveDate) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry((campaign_id, day)).or_default() += 1;
        }
    }

    /// Writes what has been counted now, instead of at the next tick.
    pub fn flush(&self, conn: &mut Conn) -> Result<(), diesel::result::Error> {
        flush(&self.counts, conn)
    }
}

/// Takes the counts and adds them in one transaction; on failure puts them back.
fn flush(
    counts: &Mutex<HashMap<(i64, NaiveDate), i64>>,
    conn: &mut Conn,
) -> Result<(), diesel::result::Error> {
    let taken = match counts.lock() {
        Ok(mut counts) => std::mem::take(&mut *counts),
        Err(_) => return Ok(()),
    };
    if taken.is_empty() {
        return Ok(());
    }
    let written = crate::db::write_transaction(conn, |c| {
        for (&(campaign_id, day), &views) in &taken {
            survey_views::add(c, campaign_id, day, views)?;
        }
        Ok(())
    });
    if written.is_err()
        && let Ok(mut counts) = counts.lock()
    {
        for (key, views) in taken {
            *counts.entry(key).or_default() += views;
        }
    }
    written
}
