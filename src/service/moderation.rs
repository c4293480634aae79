//! Comment moderation (docs/domain.md §1: comments are one source of problems). The 营商办 hides a comment
//! that is abusive or would identify its writer, with a reason, before any unit sees it; the
//! unit pages (`oversight`) read only comments that are not hidden. The audit row names the
//! rating and the reason, never the comment's text.

use serde_json::json;

use super::{Actor, ServiceError, audit, campaign};
use crate::db::moderation::{self as rows, ModeratedComment};
use crate::db::{Conn, now, write_transaction};
use crate::domain::{CampaignState, Period};

/// Longest reason accepted, in characters.
pub const REASON_MAX_CHARS: usize = 200;

/// A campaign's comments as the 营商办 moderates them.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignComments {
    /// Whether the campaign is published; until it is, no one but the 营商办 sees its comments.
    pub published: bool,
    pub comments: Vec<ModeratedComment>,
}

/// Every comment of a campaign, hidden ones too, by unit.
pub fn comments(conn: &mut Conn, period: &Period) -> Result<CampaignComments, ServiceError> {
    let row = campaign::find(conn, period)?;
    Ok(CampaignComments {
        published: row.state == CampaignState::Published.as_str(),
        comments: rows::of_campaign(conn, &period.to_string())?,
    })
}

/// Where a hidden comment was: its campaign and unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hidden {
    pub period: String,
    pub unit_code: String,
}

/// Hides the comment of rating `rating_id` with `reason`, audited in the same transaction.
pub fn hide(
    conn: &mut Conn,
    actor: &Actor,
    rating_id: i64,
    reason: &str,
) -> Result<Hidden, ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::Invalid(
            "请填写隐藏理由(例如:含辱骂内容、可识别留言企业)".into(),
        ));
    }
    if reason.chars().count() > REASON_MAX_CHARS {
        return Err(ServiceError::Invalid(format!(
            "隐藏理由不能超过 {REASON_MAX_CHARS} 个字"
        )));
    }
    write_transaction(conn, |conn| {
        let (period, unit_code) = rows::locate(conn, rating_id)?
            .ok_or_else(|| ServiceError::NotFound(format!("没有编号为 {rating_id} 的留言")))?;
        if !rows::hide(conn, rating_id, reason, actor.as_str(), now())? {
            return Err(ServiceError::Conflict(format!(
                "编号为 {rating_id} 的留言已被隐藏"
            )));
        }
        audit::record(
            conn,
            actor,
            "comment.hide",
            &format!("rating:{rating_id}"),
            json!({"period": period, "unit": unit_code, "reason": reason}),
        )?;
        Ok(Hidden { period, unit_code })
    })
}
