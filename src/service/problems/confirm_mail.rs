//! Sending the confirmation requests: the email that asks an enterprise whether the unit's answer
//! resolved its problem. The same guarantee as the campaign mail (`service::dispatch`): at most
//! once. A request is claimed (`sending`, with a lease) in a committed transaction before the SMTP
//! call and marked `sent` after; one whose lease ran out is marked failed, never sent again, and
//! the 营商办 can follow up by phone (its verdict form).

use serde::Serialize;

use crate::config::MailConfig;
use crate::db::problems as rows;
use crate::db::{Conn, now, write_transaction};
use crate::domain::time;
use crate::mail::{Mailer, ProblemLetter, SendError, Sender, compose_problem_letter};
use crate::service::ServiceError;
use crate::service::dispatch::CLAIM_LEASE_SECONDS;
use crate::service::links::{LinkSecret, problem_url};
use crate::service::tasks::one_item_on;

/// What a run sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConfirmMailReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// The longest excerpt of the problem quoted in the letter.
const EXCERPT_CHARS: usize = 300;

/// Sends every queued confirmation request.
pub fn deliver(
    conn: &mut Conn,
    mailer: &Mailer,
    secret: &LinkSecret,
    base_url: &str,
    settings: &MailConfig,
) -> Result<ConfirmMailReport, ServiceError> {
    let mut report = ConfirmMailReport::default();
    write_transaction(conn, |c| rows::expire_mail_claims(c, now()))?;
    let sender = Sender {
        name: settings.from_name.clone(),
        address: settings.from_address.clone(),
    };
    for id in rows::mail_queued(conn, 500)? {
        let lease = now() + chrono::Duration::seconds(CLAIM_LEASE_SECONDS);
        if !write_transaction(conn, |c| rows::claim_mail(c, id, lease))? {
            continue;
        }
        // A letter that cannot be built (bad stored data, a control character, a panic) fails
        // alone; only a database out of reach stops the run.
        let built = one_item_on(conn, |conn| {
            Ok(match letter(conn, secret, base_url, id)? {
                Some(letter) => compose_problem_letter(&letter, &sender)
                    .map_err(|e| SendError::Permanent(e.to_string())),
                None => Err(SendError::Permanent("问题已无待确认的答复".into())),
            })
        })?;
        let outcome = match built {
            Ok(Ok(message)) => mailer.send(&message),
            Ok(Err(e)) => Err(e),
            Err(reason) => Err(SendError::Permanent(format!("无法生成此邮件:{reason}"))),
        };
        write_transaction(conn, |c| match &outcome {
            Ok(()) => {
                report.sent += 1;
                rows::record_mail(c, id, "sent", None)
            }
            Err(SendError::Transient(reply)) => {
                report.retried += 1;
                rows::record_mail(c, id, "queued", Some(reply))
            }
            Err(SendError::Permanent(reply)) => {
                report.failed += 1;
                rows::record_mail(c, id, "failed", Some(reply))
            }
        })?;
        if let Err(e) = &outcome {
            tracing::warn!(problem = id, "确认邮件未发出: {e}");
        }
    }
    Ok(report)
}

/// The letter of a claimed request, rendered now (the link derived again from the secret).
fn letter(
    conn: &mut Conn,
    secret: &LinkSecret,
    base_url: &str,
    id: i64,
) -> Result<Option<ProblemLetter>, ServiceError> {
    let Some(row) = rows::by_id(conn, id)? else {
        return Ok(None);
    };
    let (Some(email), Some(answer), Some(due), Some(_)) = (
        row.reporter_email.clone(),
        row.answer.clone(),
        row.confirm_due,
        row.confirm_token_hash.as_ref(),
    ) else {
        return Ok(None);
    };
    let unit_name = match row.unit_id {
        Some(u) => rows::unit_of(conn, u)?
            .map(|(_, name)| name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let token = secret.problem_token(id, row.confirm_version);
    let end = time::local(time::end_of_local_day(due));
    Ok(Some(ProblemLetter {
        reporter_name: row.reporter_name.clone().unwrap_or_else(|| "您好".into()),
        email,
        unit_name,
        problem: row.description.chars().take(EXCERPT_CHARS).collect(),
        answer,
        due: format!("{} 24:00(北京时间)", end.format("%Y年%-m月%-d日")),
        url: problem_url(base_url, &token),
        message_id: format!("problem.{id}.{}@qiping", row.confirm_version),
    }))
}
