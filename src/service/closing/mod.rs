//! The close (截止): stop answers, open the box, store the answers unlinked, scrub what was
//! sealed (docs/architecture.md, "The ballot's life").
//!
//! 1. The ballot key is checked against the stored public key; a wrong key changes nothing.
//! 2. The campaign moves to `closing` in a transaction of its own (audited `campaign.close`). On
//!    PostgreSQL the update waits for submissions that read the campaign open (`FOR SHARE`) and
//!    refuses those after it; on SQLite the write lock orders them. No ballot commits after it.
//! 3. One transaction opens every ballot (read a page at a time, opened on every core), stores
//!    the ratings of all of them in one uniform random permutation drawn from the operating
//!    system (order of statements, rows and ids — nothing recorded, nothing reproducible; built
//!    in random buckets, in sealed scratch files above `[close] memory_mib`: see [`scatter`]),
//!    keeps only the count of a unit with fewer than [`MIN_CROWD`] stored entries, marks the
//!    matching invitations answered (a flag, in one statement), deletes exactly the opened
//!    ballots (each page as it is read; none may be left) and moves the campaign to `closed`
//!    with its scrub pending (audited `campaign.unseal`).
//! 4. The scrub: SQLite overwrites the deleted ballots (`secure_delete`) and truncates the WAL;
//!    PostgreSQL vacuums the ballot table. Then `scrub_pending` is cleared. A rerun of the close
//!    redoes whatever an interruption left: a crash before 3 leaves `closing`, before 4 a pending
//!    scrub.

mod scatter;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError, mpsc};

use rand::TryRng;
use rand::rngs::SysRng;
use rand::seq::SliceRandom;
use serde::Serialize;
use serde_json::json;

use super::campaign::{self, state_of};
use super::links::LinkSecret;
use super::{Actor, ServiceError, audit, ballots, templates};
use crate::ballot::{self as sealing, BallotLayout, PrivateKey, SpentKey};
use crate::db::answers::{self as rating_rows, NewRating};
use crate::db::ballots::BallotRow;
use crate::db::campaigns::{self as campaign_rows, CampaignRow};
use crate::db::{Conn, ballots as ballot_rows, invitations, now, scrub};
use crate::domain::{CampaignAction, CampaignState, MIN_CROWD, Period, SurveyTemplate};
use crate::stats;

/// What the office chose for the close.
#[derive(Debug, Clone)]
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
    /// `[close] memory_mib`, in bytes: how much of the ballots' sealed size the close shuffles in
    /// memory at once. Above it the opened entries wait in sealed scratch files
    /// ([`scatter`]): a province's million ballots close in bounded memory.
    pub memory_bound: usize,
    /// `[close] scratch_dir`: where those files go; `None` is the system's temporary folder.
    pub scratch_dir: Option<std::path::PathBuf>,
}

impl Default for CloseOptions {
    fn default() -> Self {
        CloseOptions {
            exclude_unopenable: false,
            weighting_default: false,
            raking: stats::RakingSettings::default(),
            memory_bound: crate::config::CloseConfig::default().memory_bytes(),
            scratch_dir: None,
        }
    }
}

impl CloseOptions {
    /// The options a configuration gives (`[weighting]`, `[stats.raking]`, `[close]`), with
    /// whether the office chose to drop unopenable ballots.
    pub fn from_config(config: &crate::config::Config, exclude_unopenable: bool) -> Self {
        CloseOptions {
            exclude_unopenable,
            weighting_default: config.weighting.enabled,
            raking: config.stats.raking.clone(),
            memory_bound: config.close.memory_bytes(),
            scratch_dir: config.close.scratch_dir.clone(),
        }
    }
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
    // From here the box is shut: open it. A quarter of the memory bound goes to SQLite's page
    // cache for the one transaction, given back after it.
    scrub::overwrite_deleted(conn)?;
    crate::db::page_cache(conn, Some(options.memory_bound / 4 / 1024))?;
    let report = audit::change(
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
    );
    crate::db::page_cache(conn, None)?;
    let mut report = report?;
    let started = std::time::Instant::now();
    report.scrubbed = finish_scrub(conn, campaign.id);
    tracing::info!(
        period = %period,
        scrubbed = report.scrubbed,
        seconds = started.elapsed().as_secs_f64(),
        "截止:已删除的密封答卷已从数据库文件中清除"
    );
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

/// Sealed ballots read from the database at a time and handed to the threads that open them.
const PAGE: i64 = 256;
/// Ratings stored per statement.
const INSERT_ROWS: usize = 1000;
/// At most this many buckets (open scratch files), whatever the memory bound.
const MAX_BUCKETS: u128 = 1024;

/// One stored entry of an opened ballot as it waits for the shuffle (encoded, since it may wait
/// in a scratch file: see [`scatter`]).
struct Entry {
    /// Its number among the opened entries, which finds its weight once every ballot is open.
    number: u64,
    unit_id: i64,
    self_selected: bool,
    answers: String,
    problems: String,
    comment: Option<String>,
}

/// An entry as a thread that opens ballots makes it: everything but its number, encoded.
struct OpenedEntry {
    unit_id: i64,
    self_selected: bool,
    body: Vec<u8>,
}

/// What opening one sealed ballot gave.
enum Opened {
    /// The invitation whose spent key it carries, and its entries that say something.
    Ballot {
        invitation: i64,
        entries: Vec<OpenedEntry>,
    },
    /// It does not open with the key, or its spent key names no invitation of the campaign.
    Unopenable,
}

/// Of each opened entry, what the close holds in memory until the end: its unit, its ballot's
/// number (the respondent the raking weighs) and whether the enterprise added the unit itself.
struct Rater {
    unit_id: i64,
    respondent: u32,
    self_selected: bool,
}

/// What the pass over every ballot gathered.
struct Pass {
    /// The invitations answered, one per opened ballot (index = respondent).
    answered: Vec<i64>,
    raters: Vec<Rater>,
    /// Ballots with at least one unit the enterprise added itself.
    adders: usize,
    unopenable: usize,
    scatter: scatter::Scatter,
}

fn encode_body(answers: &str, problems: &str, comment: Option<&str>) -> Vec<u8> {
    let mut body = Vec::with_capacity(answers.len() + problems.len() + 16);
    for text in [Some(answers), Some(problems), comment] {
        match text {
            Some(text) => {
                body.push(1);
                body.extend_from_slice(&(text.len() as u32).to_le_bytes());
                body.extend_from_slice(text.as_bytes());
            }
            None => body.push(0),
        }
    }
    body
}

impl Entry {
    /// The entry numbered `number`: its number, unit and flag, then [`encode_body`]'s bytes.
    fn head(number: u64, unit_id: i64, self_selected: bool) -> [u8; 17] {
        let mut head = [0u8; 17];
        head[..8].copy_from_slice(&number.to_le_bytes());
        head[8..16].copy_from_slice(&unit_id.to_le_bytes());
        head[16] = u8::from(self_selected);
        head
    }

    fn decode(bytes: &[u8]) -> Result<Entry, ServiceError> {
        let broken = || ServiceError::internal("截止", "临时保存的答案无法读回");
        let (head, mut rest) = bytes.split_at_checked(17).ok_or_else(broken)?;
        let mut text = || -> Result<Option<String>, ServiceError> {
            let (&flag, after) = rest.split_first().ok_or_else(broken)?;
            if flag == 0 {
                rest = after;
                return Ok(None);
            }
            let (len, after) = after.split_at_checked(4).ok_or_else(broken)?;
            let len = u32::from_le_bytes(len.try_into().map_err(|_| broken())?) as usize;
            let (text, after) = after.split_at_checked(len).ok_or_else(broken)?;
            rest = after;
            String::from_utf8(text.to_vec())
                .map(Some)
                .map_err(|_| broken())
        };
        let answers = text()?.ok_or_else(broken)?;
        let problems = text()?.ok_or_else(broken)?;
        let comment = text()?;
        Ok(Entry {
            number: u64::from_le_bytes(head[..8].try_into().map_err(|_| broken())?),
            unit_id: i64::from_le_bytes(head[8..16].try_into().map_err(|_| broken())?),
            self_selected: head[16] == 1,
            answers,
            problems,
            comment,
        })
    }
}

/// What a thread that opens ballots needs, shared by all of them.
struct Opener<'a> {
    key: &'a PrivateKey,
    campaign_id: i64,
    owners: &'a HashMap<SpentKey, i64>,
    layout: &'a BallotLayout,
    template: &'a SurveyTemplate,
}

impl Opener<'_> {
    fn open(&self, ballot: &BallotRow) -> Result<Opened, ServiceError> {
        let owner = SpentKey::from_slice(&ballot.spent_key)
            .and_then(|k| self.owners.get(&k).map(|&o| (k, o)));
        let Some((spent, invitation)) = owner else {
            return Ok(Opened::Unopenable);
        };
        let Ok(content) = sealing::open(
            self.key,
            self.campaign_id,
            &spent,
            &ballot.sealed,
            self.layout,
        ) else {
            return Ok(Opened::Unopenable);
        };
        let mut entries = Vec::with_capacity(content.units.len());
        for unit in &content.units {
            if let Some((answers, problems)) = ballots::stored_form(self.template, unit)? {
                let comment = unit.comment.as_deref().filter(|c| !c.is_empty());
                entries.push(OpenedEntry {
                    unit_id: unit.unit_id,
                    self_selected: unit.self_selected,
                    body: encode_body(&answers, &problems, comment),
                });
            }
        }
        Ok(Opened::Ballot {
            invitation,
            entries,
        })
    }
}

/// Opens every sealed ballot of the campaign: this thread reads them a page at a time, one
/// thread per core opens them, and one gathers the entries into `scatter`. Returns how many
/// ballots were read and what the pass gathered. Nothing is held in memory but a few pages and,
/// per entry, its [`Rater`].
fn open_all(
    conn: &mut Conn,
    opener: &Opener<'_>,
    scatter: scatter::Scatter,
) -> Result<(usize, Pass), ServiceError> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let (pages_tx, pages_rx) = mpsc::sync_channel::<Vec<BallotRow>>(threads);
    let pages_rx = Arc::new(Mutex::new(pages_rx));
    let (done_tx, done_rx) = mpsc::sync_channel::<Result<Vec<Opened>, ServiceError>>(threads * 2);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let pages = Arc::clone(&pages_rx);
            let done = done_tx.clone();
            s.spawn(move || {
                loop {
                    let page = pages.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    let Ok(page) = page else { break };
                    let opened = page.iter().map(|b| opener.open(b)).collect();
                    if done.send(opened).is_err() {
                        break;
                    }
                }
            });
        }
        // Only the opening threads hold these now: when they stop, the reader's sends fail.
        drop(pages_rx);
        drop(done_tx);
        let gatherer = s.spawn(move || gather(done_rx, scatter));
        let mut read = 0usize;
        let mut cursor = ballot_rows::Cursor::default();
        let reading = loop {
            match ballot_rows::take_page(conn, opener.campaign_id, &mut cursor, PAGE) {
                Ok(page) if page.is_empty() => break Ok(()),
                Ok(page) => {
                    read += page.len();
                    if pages_tx.send(page).is_err() {
                        break Ok(());
                    }
                }
                Err(e) => break Err(e),
            }
        };
        drop(pages_tx);
        let pass = gatherer
            .join()
            .map_err(|_| ServiceError::internal("截止", "开启选票的线程意外终止"))??;
        reading?;
        Ok((read, pass))
    })
}

/// Gathers the opened ballots: numbers each entry, keeps its [`Rater`] and scatters it.
fn gather(
    done: mpsc::Receiver<Result<Vec<Opened>, ServiceError>>,
    mut scatter: scatter::Scatter,
) -> Result<Pass, ServiceError> {
    let mut pass_answered: Vec<i64> = Vec::new();
    let mut raters: Vec<Rater> = Vec::new();
    let mut adders = 0usize;
    let mut unopenable = 0usize;
    for page in done {
        for opened in page? {
            let (invitation, entries) = match opened {
                Opened::Unopenable => {
                    unopenable += 1;
                    continue;
                }
                Opened::Ballot {
                    invitation,
                    entries,
                } => (invitation, entries),
            };
            let respondent = u32::try_from(pass_answered.len())
                .map_err(|_| ServiceError::internal("截止", "答卷过多"))?;
            pass_answered.push(invitation);
            adders += usize::from(entries.iter().any(|e| e.self_selected));
            for e in entries {
                let number = raters.len() as u64;
                raters.push(Rater {
                    unit_id: e.unit_id,
                    respondent,
                    self_selected: e.self_selected,
                });
                scatter.push(&[&Entry::head(number, e.unit_id, e.self_selected), &e.body])?;
            }
        }
    }
    Ok(Pass {
        answered: pass_answered,
        raters,
        adders,
        unopenable,
        scatter,
    })
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
    // The buckets: as many as it takes for one bucket's share of the sealed bytes to fit in the
    // memory bound (the opened entries are smaller than their sealed ballots).
    let sealed_bytes = u128::try_from(ballot_rows::count(conn, row.id)?).unwrap_or(0)
        * sealing::sealed_len(&layout) as u128;
    let buckets = sealed_bytes
        .div_ceil(options.memory_bound.max(1) as u128)
        .clamp(1, MAX_BUCKETS) as usize;
    let scratch = options
        .scratch_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    let opener = Opener {
        key,
        campaign_id: row.id,
        owners: &owners,
        layout: &layout,
        template: &template,
    };
    // Each bucket writes its entries a chunk at a time: all buckets' unwritten chunks together
    // stay well under the bound.
    let chunk_bytes = (options.memory_bound / 64).clamp(1, scatter::CHUNK_BYTES);
    let started = std::time::Instant::now();
    let (read, pass) = open_all(
        conn,
        &opener,
        scatter::Scatter::new(buckets, chunk_bytes, &scratch)?,
    )?;
    tracing::info!(
        period = %row.period,
        ballots = read,
        entries = pass.raters.len(),
        buckets,
        seconds = started.elapsed().as_secs_f64(),
        "截止:密封答卷已全部开启"
    );
    let started = std::time::Instant::now();
    drop(owners);
    let Pass {
        answered,
        raters,
        adders,
        unopenable,
        mut scatter,
    } = pass;
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
    let drop_added = adders < MIN_CROWD;
    let dropped_added = if drop_added {
        raters.iter().filter(|r| r.self_selected).count()
    } else {
        0
    };
    // A unit with fewer stored entries than the smallest crowd keeps only its count.
    let mut per_unit: BTreeMap<i64, i64> = BTreeMap::new();
    for r in raters.iter().filter(|r| !(drop_added && r.self_selected)) {
        *per_unit.entry(r.unit_id).or_default() += 1;
    }
    let withheld: HashSet<i64> = per_unit
        .iter()
        .filter(|&(_, &n)| n < MIN_CROWD as i64)
        .map(|(&unit, _)| unit)
        .collect();
    for (&unit, &n) in per_unit.iter().filter(|(u, _)| withheld.contains(u)) {
        rating_rows::insert_withheld(conn, row.id, unit, n)?;
    }
    let stored = |unit_id: i64, self_selected: bool| {
        !(withheld.contains(&unit_id) || drop_added && self_selected)
    };
    let to_store = raters
        .iter()
        .filter(|r| stored(r.unit_id, r.self_selected))
        .count();
    // Weighting: the weight of each stored entry, shared by at least MIN_CROWD raters of its
    // unit, found by the entry's number; the respondents are forgotten with the raters.
    let (weights, raking) = if weighted && to_store > 0 {
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
        let kept: Vec<(i64, usize)> = raters
            .iter()
            .filter(|r| stored(r.unit_id, r.self_selected))
            .map(|r| (r.unit_id, r.respondent as usize))
            .collect();
        let (kept_weights, report) =
            stats::weighting::rating_weights(&weighting, &kept, &options.raking, MIN_CROWD)
                .map_err(|e| ServiceError::internal("加权(按企业规模、行业、区县调整)", e))?;
        let mut kept_weights = kept_weights.into_iter();
        let by_number: Vec<Option<f64>> = raters
            .iter()
            .map(|r| {
                if stored(r.unit_id, r.self_selected) {
                    kept_weights.next()
                } else {
                    None
                }
            })
            .collect();
        (by_number, Some(report))
    } else {
        (Vec::new(), None)
    };
    drop(raters);
    // The ids: drawn at random from the operating system, all different, and handed out in
    // ascending order along the permutation — which is uniform and independent of the ids, so an
    // id says no more than a row's place — so that every table and index fills by appending
    // rather than at a random page per rating (a province's 10,000,000 ratings).
    let ids = random_ids(to_store)?;
    let mut next_id = ids.iter().copied();
    // One uniform permutation across every ballot, bucket by bucket (see `scatter`), from the
    // operating system's random source.
    let mut stored_count = 0usize;
    for b in 0..scatter.buckets() {
        let mut entries: Vec<Entry> = Vec::new();
        for bytes in scatter.take(b)? {
            let entry = Entry::decode(&bytes)?;
            if stored(entry.unit_id, entry.self_selected) {
                entries.push(entry);
            }
        }
        shuffle(&mut entries)?;
        for chunk in entries.chunks(INSERT_ROWS) {
            let mut rows = Vec::with_capacity(chunk.len());
            for e in chunk {
                let id = next_id
                    .next()
                    .ok_or_else(|| ServiceError::internal("截止", "评价多于清点的数目"))?;
                rows.push(NewRating {
                    id,
                    campaign_id: row.id,
                    unit_id: e.unit_id,
                    self_selected: e.self_selected,
                    answers: &e.answers,
                    problems: &e.problems,
                    comment: e.comment.as_deref(),
                    weight: weights.get(e.number as usize).copied().flatten(),
                    size: "",
                    industry: "",
                    district: "",
                });
            }
            rating_rows::insert_ratings(conn, &rows)?;
            stored_count += rows.len();
        }
    }
    tracing::info!(
        period = %row.period,
        ratings = stored_count,
        seconds = started.elapsed().as_secs_f64(),
        "截止:评价已随机排序并保存"
    );
    if stored_count != to_store {
        return Err(ServiceError::internal(
            "截止",
            format!("应存 {to_store} 条评价,却存了 {stored_count} 条"),
        ));
    }
    invitations::mark_answered(conn, &answered)?;
    // Every ballot was taken out of the table as it was read: none may be left.
    let left = ballot_rows::count(conn, row.id)?;
    if left != 0 {
        return Err(ServiceError::internal(
            "截止",
            format!("开启了 {read} 份密封答卷,表中却还剩 {left} 份"),
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
        ratings: to_store,
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

/// `n` different random positive ids from the operating system, in ascending order.
fn random_ids(n: usize) -> Result<Vec<i64>, ServiceError> {
    let mut ids: Vec<i64> = Vec::with_capacity(n);
    let mut bytes = vec![0u8; 8 * 8192];
    while ids.len() < n {
        while ids.len() < n {
            let want = (n - ids.len()).min(8192);
            SysRng
                .try_fill_bytes(&mut bytes[..8 * want])
                .map_err(|e| ServiceError::internal("系统随机数不可用", e))?;
            ids.extend(
                bytes[..8 * want]
                    .chunks_exact(8)
                    .map(|b| id_of(b.try_into().unwrap_or_default())),
            );
        }
        ids.sort_unstable();
        ids.dedup();
    }
    Ok(ids)
}

/// A random positive id below 2^63 from the operating system. Also the upgrade step's.
pub(crate) fn random_id() -> Result<i64, ServiceError> {
    let mut bytes = [0u8; 8];
    SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| ServiceError::internal("系统随机数不可用", e))?;
    Ok(id_of(bytes))
}

/// The positive id below 2^63 that eight random bytes make.
fn id_of(bytes: [u8; 8]) -> i64 {
    (i64::from_le_bytes(bytes) & i64::MAX).max(1)
}
