//! API tokens for automation: `Authorization: Bearer <token>`. A token is random, shown once,
//! stored as its SHA-256, scoped to the user's role when issued, and expires.

use chrono::Duration;
use serde_json::json;

use super::{Account, find, secrets};
use crate::db::{Conn, now, sessions, users, write_transaction};
use crate::domain::{Role, Secret};
use crate::service::{Actor, ServiceError, audit};

/// Prefix that makes a leaked token easy to recognise (and to scan for in repositories).
pub const TOKEN_PREFIX: &str = "qp_";

/// Longest validity accepted, in days.
pub const MAX_TOKEN_DAYS: i64 = 366;

/// Issues a token for `name` valid `days` days; the only time its value exists outside a client.
pub fn create_token(
    conn: &mut Conn,
    actor: &Actor,
    name: &str,
    days: i64,
) -> Result<Secret, ServiceError> {
    if !(1..=MAX_TOKEN_DAYS).contains(&days) {
        return Err(ServiceError::Invalid(format!(
            "有效期须为 1–{MAX_TOKEN_DAYS} 天"
        )));
    }
    let token = Secret::new(format!(
        "{TOKEN_PREFIX}{}",
        secrets::random_secret().expose()
    ));
    write_transaction(conn, |conn| {
        let user = find(conn, name)?;
        if user.disabled {
            return Err(ServiceError::Invalid(format!("用户 {name} 已停用")));
        }
        let at = now();
        let expires = at + Duration::days(days);
        let id = sessions::insert_token(
            conn,
            user.id,
            &secrets::digest(token.expose()),
            &user.role,
            at,
            expires,
        )?;
        audit::record(
            conn,
            actor,
            "token.create",
            &format!("user:{name}"),
            json!({"token_id": id, "role": user.role, "expires_at": expires}),
        )?;
        Ok(())
    })?;
    Ok(token)
}

/// The account behind a bearer token, if it is known, unexpired, its user enabled and the user's
/// role still the one the token was issued for.
pub fn authenticate_token(
    conn: &mut Conn,
    token: &Secret,
) -> Result<Option<Account>, ServiceError> {
    if !token.expose().starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let Some(row) = sessions::token_by_hash(conn, &secrets::digest(token.expose()))? else {
        return Ok(None);
    };
    let at = now();
    if row.expires_at <= at {
        return Ok(None);
    }
    let Some(user) = users::by_id(conn, row.user_id)?.filter(|u| !u.disabled) else {
        return Ok(None);
    };
    let Some(account) = Account::from_row(&user) else {
        return Ok(None);
    };
    if row.role.parse::<Role>().ok() != Some(account.role) {
        return Ok(None);
    }
    if row
        .last_used_at
        .is_none_or(|t| at - t > Duration::seconds(60))
    {
        sessions::touch_token(conn, row.id, at)?;
    }
    Ok(Some(account))
}
