//! Signing in and sessions. Policy (README, 账号与角色): a wrong password counts against the
//! name — after `max_failed_logins` in a row it is locked for `lockout_minutes` — and against
//! the client address, which may fail `max_failures_per_address` times per 15 minutes. Both
//! counts are in the database, so every `serve` process enforces the same limits. A session ends
//! after `session_idle_minutes` without a request or `session_absolute_hours` after sign-in.
//!
//! **The page never tells which names exist** (issue 42): failures are counted per name whether
//! or not it is an account (`db::sign_in_names`, by a digest of the name), so an unknown name is
//! "locked" by the same rule and answers with the same words; and every attempt runs argon2 once
//! — against the account's hash, or against nothing for an unknown or disabled name — before it
//! answers, locked or not, so the time taken does not tell either. Failures in a row are forgotten
//! a day after the last one, for every name alike.

use chrono::{Duration, NaiveDateTime};
use serde_json::json;

use super::{Account, secrets};
use crate::config::AuthConfig;
use crate::db::sessions::{self, SessionRow};
use crate::db::sign_in_names::{self, NameFailures};
use crate::db::{Conn, now, users, write_transaction};
use crate::domain::Secret;
use crate::service::{Actor, ServiceError, audit};

/// The window over which failures per address are counted.
const ADDRESS_WINDOW_MINUTES: i64 = 15;
/// A name's failures in a row are forgotten this long after the last one (if it is not locked).
const NAME_MEMORY_HOURS: i64 = 24;
/// `last_seen_at` is written at most this often, so reading pages does not write on every click.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// The settings login needs (a copy of `[auth]`).
pub type LoginSettings = AuthConfig;

/// What a sign-in attempt came to. Failures are values, not errors: they are recorded and committed.
#[derive(Debug)]
pub enum LoginOutcome {
    /// Signed in: the session cookie value (shown once, stored only as a digest) and who.
    SignedIn { cookie: Secret, account: Account },
    /// Wrong name or password (the message does not say which).
    Rejected,
    /// The account is locked until this UTC time.
    Locked { until: NaiveDateTime },
    /// Too many failures from this address.
    RateLimited,
}

impl LoginOutcome {
    /// The message shown on the login page.
    pub fn message(&self, settings: &LoginSettings) -> String {
        match self {
            LoginOutcome::SignedIn { .. } => String::new(),
            LoginOutcome::Rejected => "用户名或密码错误。".into(),
            // The same words for every name, and no time: when a lock ends would tell an
            // account's lock from a name that was only guessed at.
            LoginOutcome::Locked { .. } => format!(
                "连续 {} 次密码错误,账号已暂时锁定 {} 分钟,请稍后再试,或联系管理员重置密码。",
                settings.max_failed_logins, settings.lockout_minutes
            ),
            LoginOutcome::RateLimited => {
                format!("登录失败次数过多,请 {ADDRESS_WINDOW_MINUTES} 分钟后再试。")
            }
        }
    }
}

/// Checks a name and password from `address` and, when they match, opens a session.
pub fn login(
    conn: &mut Conn,
    settings: &LoginSettings,
    name: &str,
    password: &Secret,
    address: &str,
) -> Result<LoginOutcome, ServiceError> {
    let at = now();
    let window_start = at - Duration::minutes(ADDRESS_WINDOW_MINUTES);
    if sessions::login_failures_since(conn, address, window_start)?
        >= settings.max_failures_per_address
    {
        return Ok(LoginOutcome::RateLimited);
    }
    let user = users::by_name(conn, name)?.filter(|u| !u.disabled);
    let digest = name_digest(name);
    let memory_start = at - Duration::hours(NAME_MEMORY_HOURS);
    let known = sign_in_names::get(conn, &digest)?;
    let locked = known
        .as_ref()
        .and_then(|k| k.locked_until)
        .filter(|until| *until > at);
    let failed_before = known
        .as_ref()
        .filter(|k| k.locked_until.is_none() && k.last_failed_at >= memory_start)
        .map_or(0, |k| k.failed_attempts);
    // Verified outside the transaction (argon2 takes a while and must not hold the write lock),
    // and always, so that neither a lock nor an unknown name answers sooner.
    let matches = match &user {
        Some(u) => secrets::verify_password(password, &u.password_hash),
        None => {
            secrets::verify_nothing(password);
            false
        }
    };
    if let Some(until) = locked {
        return Ok(LoginOutcome::Locked { until });
    }
    write_transaction(conn, |conn| {
        if !matches {
            record_address_failure(conn, address, at)?;
            sign_in_names::forget_before(conn, memory_start)?;
            let failed = failed_before + 1;
            if failed >= settings.max_failed_logins {
                let until = at + Duration::minutes(settings.lockout_minutes);
                sign_in_names::put(
                    conn,
                    &NameFailures {
                        name_digest: digest.clone(),
                        failed_attempts: 0,
                        last_failed_at: at,
                        locked_until: Some(until),
                    },
                )?;
                // Recorded for every name alike; the audit log is read by the 营商办 only.
                audit::record(
                    conn,
                    &Actor::system("sign-in"),
                    "user.lock",
                    &format!("user:{name}"),
                    json!({"failed_attempts": failed, "address": address}),
                )?;
                return Ok(LoginOutcome::Locked { until });
            }
            sign_in_names::put(
                conn,
                &NameFailures {
                    name_digest: digest.clone(),
                    failed_attempts: failed,
                    last_failed_at: at,
                    locked_until: None,
                },
            )?;
            return Ok(LoginOutcome::Rejected);
        }
        let Some(user) = &user else {
            return Ok(LoginOutcome::Rejected);
        };
        let account = Account::from_row(user)
            .ok_or_else(|| ServiceError::Internal(format!("用户 {} 存储的角色无效", user.name)))?;
        sign_in_names::clear(conn, &digest)?;
        sessions::delete_expired_sessions(conn, at, idle_cutoff(settings, at))?;
        let cookie = open_session(conn, settings, user.id, at)?;
        Ok(LoginOutcome::SignedIn { cookie, account })
    })
}

/// What `sign_in_names` stores for a name: a digest with a label, never the name (people type
/// their password into the name field).
pub fn name_digest(name: &str) -> String {
    secrets::digest(&format!("qiping sign-in name\0{name}"))
}

fn record_address_failure(
    conn: &mut Conn,
    address: &str,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    sessions::insert_login_failure(conn, address, at)?;
    let forget_before = at - Duration::minutes(ADDRESS_WINDOW_MINUTES);
    sessions::delete_login_failures_before(conn, forget_before)?;
    Ok(())
}

fn idle_cutoff(settings: &LoginSettings, at: NaiveDateTime) -> NaiveDateTime {
    at - Duration::minutes(settings.session_idle_minutes)
}

fn open_session(
    conn: &mut Conn,
    settings: &LoginSettings,
    user_id: i64,
    at: NaiveDateTime,
) -> Result<Secret, ServiceError> {
    let cookie = secrets::random_secret();
    sessions::insert_session(
        conn,
        &SessionRow {
            id: secrets::digest(cookie.expose()),
            user_id,
            csrf_token: secrets::random_secret().expose().to_owned(),
            created_at: at,
            expires_at: at + Duration::hours(settings.session_absolute_hours),
            last_seen_at: at,
        },
    )?;
    Ok(cookie)
}

/// A live session: who, and the CSRF token its forms must carry.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub account: Account,
    pub csrf_token: Secret,
    /// The digest that names the session row (not the cookie value).
    pub session_id: String,
}

/// The user behind a session cookie, if the session is live and the account enabled.
pub fn session_user(
    conn: &mut Conn,
    settings: &LoginSettings,
    cookie: &Secret,
) -> Result<Option<SessionUser>, ServiceError> {
    let id = secrets::digest(cookie.expose());
    let Some(session) = sessions::session(conn, &id)? else {
        return Ok(None);
    };
    let at = now();
    if session.expires_at <= at || session.last_seen_at <= idle_cutoff(settings, at) {
        sessions::delete_session(conn, &id)?;
        return Ok(None);
    }
    let Some(user) = users::by_id(conn, session.user_id)?.filter(|u| !u.disabled) else {
        return Ok(None);
    };
    let Some(account) = Account::from_row(&user) else {
        return Ok(None);
    };
    if at - session.last_seen_at > Duration::seconds(TOUCH_EVERY_SECONDS) {
        sessions::touch_session(conn, &id, at)?;
    }
    Ok(Some(SessionUser {
        account,
        csrf_token: Secret::new(session.csrf_token),
        session_id: id,
    }))
}

/// Signs out: the session row is deleted, so the cookie is worthless on every server.
pub fn end_session(conn: &mut Conn, session_id: &str) -> Result<(), ServiceError> {
    sessions::delete_session(conn, session_id)?;
    Ok(())
}
