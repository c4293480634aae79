//! Accounts (issue 6): admins (营商办), inspectors (纪委监委) and unit viewers; their sign-in,
//! sessions and API tokens. Every change to an account is written to the audit log in the same
//! transaction.

mod login;
pub mod secrets;
mod tokens;

pub use login::{LoginOutcome, LoginSettings, SessionUser, end_session, login, session_user};
pub use tokens::{authenticate_token, create_token};

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::json;

use super::{Actor, ServiceError, audit};
use crate::db::users::{self as rows, NewUser, UserRow};
use crate::db::{Conn, now, sessions, units, write_transaction};
use crate::domain::{Role, Secret};

/// A signed-in user, as handlers see them: no password hash, no session value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The unit a unit viewer sees (with those under it); `None` for other roles.
    pub unit_code: Option<String>,
}

impl Account {
    fn from_row(row: &UserRow) -> Option<Self> {
        Some(Self {
            id: row.id,
            name: row.name.clone(),
            role: row.role.parse().ok()?,
            unit_code: row.unit_code.clone(),
        })
    }
}

/// An account as `qiping user list` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserSummary {
    pub name: String,
    pub role: String,
    pub unit_code: Option<String>,
    pub disabled: bool,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub password_changed_at: NaiveDateTime,
}

/// Longest user name accepted.
pub const NAME_MAX_CHARS: usize = 64;

fn check_name(name: &str) -> Result<(), ServiceError> {
    let ok = !name.is_empty()
        && name.chars().count() <= NAME_MAX_CHARS
        && !name.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "用户名「{name}」无效:须为 1–{NAME_MAX_CHARS} 个字符,不含空格"
        )))
    }
}

/// Creates an account. A unit viewer needs the code of an existing unit; other roles take none.
pub fn add_user(
    conn: &mut Conn,
    actor: &Actor,
    name: &str,
    role: Role,
    unit_code: Option<&str>,
    password: &Secret,
) -> Result<(), ServiceError> {
    check_name(name)?;
    match (role, unit_code) {
        (Role::Unit, None) => {
            return Err(ServiceError::Invalid(
                "单位查看员须用 --unit 指定单位编码".into(),
            ));
        }
        (Role::Admin | Role::Inspector, Some(_)) => {
            return Err(ServiceError::Invalid(
                "只有单位查看员(unit)可以指定 --unit".into(),
            ));
        }
        _ => {}
    }
    let hash = secrets::hash_password(password)?;
    write_transaction(conn, |conn| {
        if let Some(code) = unit_code
            && units::by_code(conn, code)?.is_none()
        {
            return Err(ServiceError::NotFound(format!("没有编码为 {code} 的单位")));
        }
        if rows::by_name(conn, name)?.is_some() {
            return Err(ServiceError::Conflict(format!("用户 {name} 已存在")));
        }
        let at = now();
        rows::insert(
            conn,
            &NewUser {
                name,
                role: role.as_str(),
                unit_code,
                password_hash: &hash,
                created_at: at,
                password_changed_at: at,
            },
        )?;
        audit::record(
            conn,
            actor,
            "user.add",
            &format!("user:{name}"),
            json!({"role": role.as_str(), "unit_code": unit_code}),
        )?;
        Ok(())
    })
}

/// Sets a new password; ends the user's sessions and lifts a lock.
pub fn set_password(
    conn: &mut Conn,
    actor: &Actor,
    name: &str,
    password: &Secret,
) -> Result<(), ServiceError> {
    let hash = secrets::hash_password(password)?;
    write_transaction(conn, |conn| {
        let user = find(conn, name)?;
        rows::set_password(conn, user.id, &hash, now())?;
        // A new password lifts a lock and forgets the failures.
        crate::db::sign_in_names::clear(conn, &login::name_digest(&user.name))?;
        sessions::delete_user_sessions(conn, user.id)?;
        audit::record(
            conn,
            actor,
            "user.passwd",
            &format!("user:{name}"),
            json!({}),
        )?;
        Ok(())
    })
}

/// Disables an account: its sessions and API tokens stop working at once.
pub fn disable_user(conn: &mut Conn, actor: &Actor, name: &str) -> Result<(), ServiceError> {
    write_transaction(conn, |conn| {
        let user = find(conn, name)?;
        rows::set_disabled(conn, user.id, true)?;
        let ended = sessions::delete_user_sessions(conn, user.id)?;
        let revoked = sessions::delete_user_tokens(conn, user.id)?;
        audit::record(
            conn,
            actor,
            "user.disable",
            &format!("user:{name}"),
            json!({"sessions_ended": ended, "tokens_revoked": revoked}),
        )?;
        Ok(())
    })
}

/// Every account, by name.
pub fn list_users(conn: &mut Conn) -> Result<Vec<UserSummary>, ServiceError> {
    let locks: std::collections::HashMap<String, chrono::NaiveDateTime> =
        crate::db::sign_in_names::locked_at(conn, now())?
            .into_iter()
            .collect();
    Ok(rows::all(conn)?
        .into_iter()
        .map(|u| UserSummary {
            locked_until: locks.get(&login::name_digest(&u.name)).copied(),
            name: u.name,
            role: u.role,
            unit_code: u.unit_code,
            disabled: u.disabled,
            created_at: u.created_at,
            password_changed_at: u.password_changed_at,
        })
        .collect())
}

fn find(conn: &mut Conn, name: &str) -> Result<UserRow, ServiceError> {
    rows::by_name(conn, name)?.ok_or_else(|| ServiceError::NotFound(format!("没有用户 {name}")))
}
