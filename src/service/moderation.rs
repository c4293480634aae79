//! Comment moderation (docs/domain.md §1: comments are one source of problems), between the close
//! and publication: comments exist in the clear only once the close has opened the ballots. Each
//! comment starts 未审核 (pending); the 营商办 approves it (已通过) or hides it with a reason (已隐藏),
//! for instance when it is abusive or would identify its writer. The unit pages
//! (`oversight`) read approved comments only, so a comment published unreviewed stays hidden from
//! units until it is approved. The audit row names the rating and the reason, never the text.

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
    /// Comments still 未审核.
    pub pending: usize,
}

/// Every comment of a campaign, hidden ones too, by unit.
pub fn comments(conn: &mut Conn, period: &Period) -> Result<CampaignComments, ServiceError> {
    let row = campaign::find(conn, period)?;
    let comments = rows::of_campaign(conn, &period.to_string())?;
    Ok(CampaignComments {
        published: row.state == CampaignState::Published.as_str(),
        pending: comments
            .iter()
            .filter(|c| c.review == rows::PENDING)
            .count(),
        comments,
    })
}

/// Where a reviewed (hidden or approved) comment is: its campaign and unit.
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

/// Approves the comment of rating `rating_id` (已通过), audited in the same transaction.
pub fn approve(conn: &mut Conn, actor: &Actor, rating_id: i64) -> Result<Hidden, ServiceError> {
    write_transaction(conn, |conn| {
        let (period, unit_code) = rows::locate(conn, rating_id)?
            .ok_or_else(|| ServiceError::NotFound(format!("没有编号为 {rating_id} 的留言")))?;
        if !rows::approve(conn, rating_id)? {
            return Err(ServiceError::Conflict(format!(
                "编号为 {rating_id} 的留言已审核过(已通过或已隐藏)"
            )));
        }
        audit::record(
            conn,
            actor,
            "comment.approve",
            &format!("rating:{rating_id}"),
            json!({"period": period, "unit": unit_code}),
        )?;
        Ok(Hidden { period, unit_code })
    })
}

/// Approves every comment of a campaign still 未审核; returns how many. Audited with the count.
pub fn approve_all(conn: &mut Conn, actor: &Actor, period: &Period) -> Result<usize, ServiceError> {
    audit::change(
        conn,
        actor,
        "comment.approve_all",
        &format!("campaign:{period}"),
        |conn| {
            let row = campaign::find(conn, period)?;
            Ok(rows::approve_all(conn, row.id)?)
        },
        |n| json!({ "approved": n }),
    )
}

/// How many comments of a campaign are still 未审核 (what publishing tells the office).
pub fn pending(conn: &mut Conn, campaign_id: i64) -> Result<usize, ServiceError> {
    Ok(usize::try_from(rows::pending_count(conn, campaign_id)?).unwrap_or(0))
}

/// What publishing with comments still 未审核 means, for the CLI and the page.
pub fn unreviewed_note(period: &str, n: usize) -> String {
    format!(
        "{period} 还有 {n} 条留言未审核:单位的页面不显示它们,审核通过后才显示\
         (/admin/campaigns/{period}/comments)"
    )
}
