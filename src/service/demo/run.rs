//! The demo's script: the fictional city through two half-year campaigns by the code paths an
//! installation uses — the importer, `campaign open`, the mail dispatcher (here writing `.eml`
//! files), answers through the running server's HTTP API, reminders, close, aggregate, publish —
//! then a third campaign left open, and two accounts. The caller (`cli::demo`) starts the server;
//! this layer only knows its address.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::Progress;
use super::answers::responds;
use super::city::{City, DemoEnterprise, DemoUnit};
use super::client::{Clients, Respondent};
use crate::ballot::PrivateKey;
use crate::config::{Config, RemindersConfig};
use crate::db::{Conn, enterprises, invitations, now};
use crate::domain::{Period, Role, Secret, time};
use crate::mail::Mailer;
use crate::service::campaign::{self, CreateCampaign};
use crate::service::dispatch::{Dispatcher, Until};
use crate::service::links::{LinkSecret, survey_url};
use crate::service::templates::parse_stored;
use crate::service::{
    Actor, ServiceError, accounts, aggregate, closing, import, outreach, publication,
};

/// The two published half-years, then the one left open.
pub const PUBLISHED: [&str; 2] = ["2025H2", "2026H1"];
pub const LEFT_OPEN: &str = "2026H2";
/// When the first heads took office, and when the new heads of the reorganisation did.
const HEADS_SINCE: &str = "2024-01-01";
const NEW_HEADS_SINCE: &str = "2026-03-16";
/// Answers are accepted until `closes_on`, so every campaign runs from today for three weeks.
const CAMPAIGN_DAYS: i64 = 21;

/// What the demo is asked to do.
pub struct DemoSettings<'a> {
    pub config: &'a Config,
    /// Enterprises in the city (10,000 by default).
    pub enterprises: usize,
    /// Seeds the city, its interactions, the answers and the aggregations: the same seed gives
    /// the same demo.
    pub seed: u64,
    /// The running server the enterprises answer through, e.g. `http://127.0.0.1:8080`.
    pub server: &'a str,
    /// Concurrent answering clients.
    pub clients: usize,
    /// Who the audit log names for the demo's actions (the CLI's actor).
    pub actor: &'a Actor,
}

/// One published half-year, as the demo reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedCampaign {
    pub period: String,
    pub invited: i64,
    pub answered: i64,
    pub mails: usize,
    /// Units ranked (n ≥ 30), shown with a score but unranked (10 ≤ n < 30), and suppressed.
    pub ranked: usize,
    pub unranked: usize,
    pub suppressed: usize,
    pub flags: usize,
    pub credible_flags: usize,
}

/// An account the demo created, with the password it chose (printed once by the CLI).
#[derive(Debug)]
pub struct DemoAccount {
    pub name: String,
    pub role: Role,
    pub password: Secret,
}

/// Everything the demo made.
#[derive(Debug)]
pub struct DemoOutcome {
    pub units: usize,
    pub enterprises: usize,
    pub published: Vec<PublishedCampaign>,
    pub open_period: String,
    /// A link of the open campaign nobody has answered.
    pub survey_link: String,
    pub accounts: Vec<DemoAccount>,
}

/// Runs the whole demo against an empty, migrated database.
pub fn run(
    conn: &mut Conn,
    settings: &DemoSettings<'_>,
    progress: &dyn Progress,
) -> Result<DemoOutcome, ServiceError> {
    let config = settings.config;
    let secret = LinkSecret::from_config(config.link_secret.as_deref())?;
    let mailer =
        Mailer::from_config(&config.mail).map_err(|e| ServiceError::internal("邮件发送配置", e))?;
    let script = Script {
        settings,
        secret: &secret,
        mailer: &mailer,
        progress,
        opens: time::local_day(now()),
    };
    let mut city = City::generate(settings.seed, settings.enterprises);
    progress.step(&format!(
        "导入虚构城市的名录:{} 个被评议单位,{} 家企业",
        city.units.len(),
        city.enterprises.len()
    ));
    script.import_units(conn, &city, HEADS_SINCE)?;
    let ignore = &mut |_: usize, _: usize| {};
    let actor = settings.actor;
    import::import_enterprises(conn, actor, city.enterprises_csv().as_bytes(), ignore)?;

    let mut published = Vec::new();
    for (i, period) in PUBLISHED.iter().enumerate() {
        if i > 0 {
            let changed = city.reorganise(settings.seed.wrapping_add(7));
            progress.step(&format!(
                "机构调整:{} 个部门更换负责人,市交通运输局更名为市交通运输和物流局(经导入)",
                changed.len()
            ));
            script.import_units(conn, &city, NEW_HEADS_SINCE)?;
        }
        published.push(script.campaign(conn, &city, period, i as u64)?);
    }

    let (open_period, survey_link) = script.leave_open(conn, &city)?;
    progress.step("创建管理员与纪检监察账号");
    let accounts = create_accounts(conn, actor)?;
    Ok(DemoOutcome {
        units: city.units.len(),
        enterprises: city.enterprises.len(),
        published,
        open_period,
        survey_link,
        accounts,
    })
}

/// What every step needs.
struct Script<'a> {
    settings: &'a DemoSettings<'a>,
    secret: &'a LinkSecret,
    mailer: &'a Mailer,
    progress: &'a dyn Progress,
    opens: NaiveDate,
}

impl Script<'_> {
    fn import_units(&self, conn: &mut Conn, city: &City, since: &str) -> Result<(), ServiceError> {
        let ignore = &mut |_: usize, _: usize| {};
        let actor = self.settings.actor;
        import::import_units(conn, actor, city.units_csv(since).as_bytes(), ignore)?;
        Ok(())
    }

    /// Create → interactions → open → mail → answers → reminders → mail → answers → close →
    /// aggregate → publish (with `reports/PERIOD/`).
    fn campaign(
        &self,
        conn: &mut Conn,
        city: &City,
        period: &str,
        index: u64,
    ) -> Result<PublishedCampaign, ServiceError> {
        let config = self.settings.config;
        let period: Period = period.parse()?;
        let seed = self.settings.seed.wrapping_add(1000 * (index + 1));
        self.progress.step(&format!(
            "{period}:创建评议活动(标准问卷,{} 至 {}),导入办事记录,发出邀请",
            self.opens,
            self.closes()
        ));
        // The demo holds the ballot key in memory only, and drops it after the close.
        let key = self.create_and_open(conn, city, &period, seed)?;
        let mut mails = self.send_mail(conn, &period, "邀请")?;
        self.answer_wave(conn, city, &period, seed, 0)?;

        let reminders = RemindersConfig {
            min_gap_days: 0,
            ..config.reminders.clone()
        };
        let actor = self.settings.actor;
        let queued = outreach::remind(
            conn,
            actor,
            self.secret,
            &period,
            &reminders,
            Some(1),
            now(),
        )?
        .queued;
        self.progress
            .step(&format!("{period}:向 {queued} 家未作答的企业发送提醒"));
        mails += self.send_mail(conn, &period, "提醒")?;
        self.answer_wave(conn, city, &period, seed, 1)?;

        self.progress
            .step(&format!("{period}:截止,计算结果,公布并写入报告"));
        closing::close(
            conn,
            actor,
            self.secret,
            &period,
            Some(&key),
            closing::CloseOptions::from_config(config, false),
        )?;
        drop(key);
        aggregate::aggregate(
            conn,
            actor,
            &period,
            &config.stats,
            config.weighting.enabled,
            Some(seed),
        )?;
        // The office reviews the comments before it publishes (the demo's are all fit to show).
        super::super::moderation::approve_all(conn, actor, &period)?;
        let report = publication::publish_and_write(
            conn,
            actor,
            &period,
            None,
            &config.stats,
            &config.reports_dir,
        )?;
        let summary = campaign::show(conn, &period)?;
        let units = report.results.peer_groups.iter().flat_map(|g| &g.units);
        let count = |f: &dyn Fn(&crate::report::model::PublicUnit) -> bool| {
            units.clone().filter(|u| f(u)).count()
        };
        Ok(PublishedCampaign {
            period: period.to_string(),
            invited: summary.invited,
            answered: summary.completed,
            mails,
            ranked: count(&|u| u.eligible),
            unranked: count(&|u| !u.eligible && !u.suppressed),
            suppressed: count(&|u| u.suppressed),
            flags: report.flags,
            credible_flags: report.credible_flags,
        })
    }

    fn closes(&self) -> NaiveDate {
        self.opens + Duration::days(CAMPAIGN_DAYS)
    }

    fn create_and_open(
        &self,
        conn: &mut Conn,
        city: &City,
        period: &Period,
        seed: u64,
    ) -> Result<PrivateKey, ServiceError> {
        let actor = self.settings.actor;
        campaign::create(
            conn,
            actor,
            &self.settings.config.templates_dir,
            &CreateCampaign {
                period: *period,
                template_name: "standard",
                opens_on: Some(self.opens),
                closes_on: Some(self.closes()),
                sample: None,
                seed: None,
                weighted: self.settings.config.weighting.enabled,
            },
        )?;
        let ignore = &mut |_: usize, _: usize| {};
        let interactions = city.interactions_csv(seed);
        import::import_interactions(conn, actor, period, interactions.as_bytes(), ignore)?;
        let key = PrivateKey::generate().map_err(|e| ServiceError::internal("生成选票密钥", e))?;
        campaign::open(conn, actor, self.secret, period, &key, false, |_, _| Ok(()))?;
        Ok(key)
    }

    /// `qiping mail send`: every queued message, rendered and written as an `.eml` file.
    fn send_mail(
        &self,
        conn: &mut Conn,
        period: &Period,
        what: &str,
    ) -> Result<usize, ServiceError> {
        let config = self.settings.config;
        self.progress.step(&format!(
            "{period}:发送{what}邮件(写入 {})",
            config.mail.outbox_dir.display()
        ));
        let dispatcher = Dispatcher {
            mailer: self.mailer,
            secret: self.secret,
            base_url: config.base_url(),
            settings: &config.mail,
            weighted_by_default: config.weighting.enabled,
            before_compose: None,
        };
        let report = dispatcher.send_now(
            conn,
            self.settings.actor,
            Until::Drained,
            &mut |done, total| {
                if done.is_multiple_of(100) || done == total {
                    self.progress.advance(done, total)
                }
            },
        )?;
        Ok(report.sent)
    }

    /// One wave of answers: the enterprises that have not answered yet decide whether to answer
    /// now (larger firms more often, fewer after a reminder), then answer over HTTP.
    fn answer_wave(
        &self,
        conn: &mut Conn,
        city: &City,
        period: &Period,
        seed: u64,
        wave: usize,
    ) -> Result<usize, ServiceError> {
        let campaign_row = campaign::find(conn, period)?;
        let template = parse_stored(&campaign_row.template_toml)?;
        let by_uscc: HashMap<&str, &DemoEnterprise> = city
            .enterprises
            .iter()
            .map(|e| (e.uscc.as_str(), e))
            .collect();
        let uscc_of: HashMap<i64, String> = enterprises::all(conn)?
            .into_iter()
            .map(|e| (e.id, e.uscc))
            .collect();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed.wrapping_add(wave as u64 + 1));
        let mut respondents = Vec::new();
        let invited = invitations::of_campaign(conn, campaign_row.id)?;
        let pairs: Vec<(i64, bool)> = invited.iter().map(|i| (i.id, i.answered)).collect();
        let answered = crate::service::ballots::answered(
            conn,
            Some(&self.secret.spent_keys()),
            campaign_row.id,
            &pairs,
        )?;
        for invitation in invited {
            if answered.contains(&invitation.id) {
                continue;
            }
            let Some(enterprise) = uscc_of
                .get(&invitation.enterprise_id)
                .and_then(|uscc| by_uscc.get(uscc.as_str()))
            else {
                continue;
            };
            if responds(enterprise, wave, &mut rng) {
                respondents.push(Respondent {
                    token: self.secret.token(invitation.id, invitation.link_version),
                    enterprise,
                    seed: rng.random(),
                });
            }
        }
        self.progress.step(&format!(
            "{period}:{} 家企业通过 HTTP 作答({} 个并发客户端)",
            respondents.len(),
            self.settings.clients
        ));
        let units: HashMap<&str, &DemoUnit> =
            city.units.iter().map(|u| (u.code.as_str(), u)).collect();
        Clients {
            server: self.settings.server,
            units: &units,
            template: &template,
            threads: self.settings.clients,
        }
        .answer_all(&respondents, self.progress)
    }

    /// Opens the next half-year and leaves it open; returns it with one unanswered link.
    fn leave_open(&self, conn: &mut Conn, city: &City) -> Result<(String, String), ServiceError> {
        let period: Period = LEFT_OPEN.parse()?;
        self.progress.step(&format!(
            "{period}:创建并开启下一期评议,保持进行中(邀请排队,未发送)"
        ));
        let seed = self.settings.seed.wrapping_add(9000);
        self.create_and_open(conn, city, &period, seed)?;
        let campaign_row = campaign::find(conn, &period)?;
        for invitation in invitations::of_campaign(conn, campaign_row.id)? {
            if !campaign::units_for_invitation(conn, &invitation)?.is_empty() {
                let token = self.secret.token(invitation.id, invitation.link_version);
                let link = survey_url(self.settings.config.base_url(), &token);
                return Ok((period.to_string(), link));
            }
        }
        Err(ServiceError::NotFound(format!(
            "{period} 没有可作答的邀请(企业数是否为 0?)"
        )))
    }
}

/// An administrator (营商办) and an inspector (纪委监委), with passwords easy to type.
fn create_accounts(conn: &mut Conn, actor: &Actor) -> Result<Vec<DemoAccount>, ServiceError> {
    let mut made = Vec::new();
    for (name, role) in [("admin", Role::Admin), ("inspector", Role::Inspector)] {
        let password = readable_password();
        accounts::add_user(conn, actor, name, role, None, &password)?;
        made.push(DemoAccount {
            name: name.to_owned(),
            role,
            password,
        });
    }
    Ok(made)
}

/// 16 characters without look-alikes (no 0/O, 1/l/I): about 80 bits.
fn readable_password() -> Secret {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let text: String = (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    Secret::new(text)
}
