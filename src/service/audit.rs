//! The audit log (docs/architecture.md §4.6: every inspector read and every change made through
//! the admin pages writes a row; issue 36 extends it to the CLI's campaign actions). Rows are
//! append-only and hash-chained: `hash = SHA-256(canonical row ‖ "\n" ‖ prev_hash)`, where the
//! canonical row is the JSON array `[seq, at, actor, action, target, detail]`. Editing a row breaks
//! its own hash; deleting one breaks the sequence and the next row's `prev_hash`. (Cutting rows off
//! the end cannot be seen from the chain alone; keep copies of `qiping audit --json` elsewhere.)

use chrono::{NaiveDateTime, Timelike};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Actor, ServiceError};
use crate::db::audit::{self as rows, AuditRow};
use crate::db::{Conn, now, write_transaction};

/// The `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The actor of a command-line change without `--actor`: `cli:` and the operating-system user.
pub fn cli_actor() -> Actor {
    Actor::cli()
}

/// Runs `change` and writes its audit row in the same transaction: both land, or neither does.
/// This is how a use case records itself — callers (the CLI, the web) never write audit rows. A
/// use case that computes for long before it writes (aggregate, publish, imports) calls
/// [`record`] inside its final write transaction instead, so the write lock is not held while it
/// computes. `detail` describes the outcome and must hold no secrets or personal data (audit rows
/// are printed by `qiping audit` and never purged).
pub fn change<T, F, D>(
    conn: &mut Conn,
    actor: &Actor,
    action: &str,
    target: &str,
    change: F,
    detail: D,
) -> Result<T, ServiceError>
where
    F: FnOnce(&mut Conn) -> Result<T, ServiceError>,
    D: FnOnce(&T) -> serde_json::Value,
{
    write_transaction(conn, |conn| {
        let outcome = change(conn)?;
        record(conn, actor, action, target, detail(&outcome))?;
        Ok(outcome)
    })
}

/// Appends one row. Call it inside the transaction of the change it records, so the change and its
/// record land together; on its own it opens a transaction of its own. `detail` must not hold
/// secrets (it is printed by `qiping audit`).
pub fn record(
    conn: &mut Conn,
    actor: &Actor,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<i64, diesel::result::Error> {
    write_transaction(conn, |conn| {
        rows::lock_for_append(conn)?;
        let last = rows::last(conn)?;
        let (seq, prev_hash) = match last {
            Some(row) => (row.seq + 1, row.hash),
            None => (1, GENESIS_HASH.to_owned()),
        };
        let mut row = AuditRow {
            seq,
            at: to_micros(now()),
            actor: actor.as_str().to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            // serde_json's maps are sorted, so this text is canonical.
            detail: detail.to_string(),
            prev_hash,
            hash: String::new(),
        };
        row.hash = row_hash(&row);
        rows::insert(conn, &row)?;
        Ok(seq)
    })
}

/// Both backends keep microseconds; dropping the rest keeps the hash stable across a round trip.
fn to_micros(at: NaiveDateTime) -> NaiveDateTime {
    let micros = at.nanosecond() / 1_000 * 1_000;
    at.with_nanosecond(micros).unwrap_or(at)
}

/// The hash a row must carry.
pub fn row_hash(row: &AuditRow) -> String {
    let canonical = serde_json::json!([
        row.seq,
        row.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        row.actor,
        row.action,
        row.target,
        row.detail,
    ]);
    let mut hasher = Sha256::new();
    hasher.update(canonical.to_string().as_bytes());
    hasher.update(b"\n");
    hasher.update(row.prev_hash.as_bytes());
    hex::encode(hasher.finalize())
}

/// Every row, oldest first.
pub fn list(conn: &mut Conn) -> Result<Vec<AuditRow>, diesel::result::Error> {
    rows::all(conn)
}

/// Where the chain is broken: the first row that does not fit, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("审计日志校验失败:第 {seq} 条记录{reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Why verification did not finish.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Broken(#[from] ChainBreak),
    #[error("数据库错误: {0}")]
    Db(#[from] diesel::result::Error),
}

/// Recomputes the chain from the first row; returns the number of rows checked.
pub fn verify(conn: &mut Conn) -> Result<i64, VerifyError> {
    const PAGE: i64 = 1000;
    let mut expected_seq = 1;
    let mut prev_hash = GENESIS_HASH.to_owned();
    loop {
        let page = rows::page(conn, expected_seq - 1, PAGE)?;
        let Some(last) = page.last().map(|r| r.seq) else {
            return Ok(expected_seq - 1);
        };
        for row in &page {
            check_row(row, expected_seq, &prev_hash)?;
            prev_hash.clone_from(&row.hash);
            expected_seq += 1;
        }
        if last != expected_seq - 1 {
            return Ok(expected_seq - 1);
        }
    }
}

fn check_row(row: &AuditRow, expected_seq: i64, prev_hash: &str) -> Result<(), ChainBreak> {
    let broken = |reason: String| ChainBreak {
        seq: row.seq,
        reason,
    };
    if row.seq != expected_seq {
        return Err(broken(format!(
            "前缺少第 {expected_seq}–{} 条(已被删除)",
            row.seq - 1
        )));
    }
    if row.prev_hash != prev_hash {
        return Err(broken(
            "的 prev_hash 与上一条不符(上一条被改动或删除)".into(),
        ));
    }
    if row.hash != row_hash(row) {
        return Err(broken("的内容与其哈希不符(已被改动)".into()));
    }
    Ok(())
}
