//! What each irreversible step of a campaign will do, in numbers (issue 43): the CLI prints these
//! lines before it asks (and refuses without a terminal unless `--yes`), the campaign page shows
//! them above its confirm button. Publishing's are [`super::publication::preview`]. A preview
//! reads and writes nothing; a step that would be refused (a second campaign under way, no
//! interactions and no confirmation) is refused here already, with the same message, so the office
//! hears it before it is asked to confirm.

use super::ServiceError;
use super::campaign::{self, CampaignSummary};
use crate::db::{Conn, interactions, now};
use crate::domain::{CampaignAction, Period, time};

/// `campaign open` / 开始评议: the invitations it will create and queue, and what the
/// questionnaires will list (imported interactions, or units the enterprises choose).
pub fn open(
    conn: &mut Conn,
    period: &Period,
    without_interactions: bool,
) -> Result<Vec<String>, ServiceError> {
    let row = campaign::find(conn, period)?;
    campaign::state_of(&row)?.apply(CampaignAction::IssueKey)?;
    campaign::refuse_second(conn, &row)?;
    campaign::require_interactions(conn, &row, without_interactions)?;
    let invitees = campaign::invitees(conn, &row)?;
    let pairs = interactions::of_period(conn, &row.period)?;
    let invited: std::collections::HashSet<i64> = invitees.iter().map(|e| e.id).collect();
    let with_units: std::collections::HashSet<i64> = pairs
        .iter()
        .map(|(enterprise, _)| *enterprise)
        .filter(|e| invited.contains(e))
        .collect();
    let mut lines = vec![format!(
        "{period} 开始评议:将生成 {} 份邀请(每家受邀企业一份一次性链接),邀请邮件排队发送,发出后不能撤回。",
        invitees.len()
    )];
    lines.push(if pairs.is_empty() {
        format!(
            "本期没有导入办事记录:问卷上没有预先列出的单位,每家企业自行选择最多 {} 个单位评价。",
            crate::ballot::MAX_ADDED_UNITS
        )
    } else {
        format!(
            "已导入办事记录 {} 条;受邀企业中 {} 家的问卷列出与其打过交道的单位,{} 家没有记录,只能自行选择单位。",
            pairs.len(),
            with_units.len(),
            invitees.len() - with_units.len()
        )
    });
    lines.push(format!(
        "评议期 {} 至 {};开始后只能截止或作废,不能回到草稿。",
        row.opens_on, row.closes_on
    ));
    Ok(lines)
}

/// `campaign close` / 截止评议: the answers so far, of how many invited, and how early.
pub fn close(conn: &mut Conn, period: &Period) -> Result<Vec<String>, ServiceError> {
    let (summary, ballots) = answers_so_far(conn, period, CampaignAction::Close)?;
    let mut lines = vec![format!(
        "{period} 截止评议:所有问卷链接随即失效,不再接受答卷;现有 {ballots} 份密封答卷({}),将全部开启、打乱顺序后保存。",
        of_invited(ballots, &summary)
    )];
    let today = time::local_day(now());
    let left = (summary.closes - today).num_days();
    if left >= 0 {
        lines.push(format!(
            "原定截止日期是 {}(还有 {} 天):提前截止后,尚未作答的 {} 家企业将不能再作答。",
            summary.closes,
            left + 1,
            (summary.invited - ballots).max(0)
        ));
    }
    lines.push("截止后不能重新开始;读入的密钥文件随后被覆盖删除。".to_owned());
    Ok(lines)
}

/// `campaign discard` / 作废: the answers it deletes unread. The reason is checked here already.
pub fn discard(
    conn: &mut Conn,
    period: &Period,
    reason: &str,
) -> Result<Vec<String>, ServiceError> {
    campaign::discard_reason(reason)?;
    let (summary, ballots) = answers_so_far(conn, period, CampaignAction::Discard)?;
    let mut lines = vec![format!(
        "{period} 作废:将删除 {ballots} 份答卷({}),不开启、不公布任何结果。",
        of_invited(ballots, &summary)
    )];
    if summary.invited > 0 {
        lines.push(format!(
            "已发出的 {} 份问卷链接全部失效;重新开始该期评议时,企业会收到新的链接。",
            summary.invited
        ));
    }
    lines.push("作废后可以重新创建并开始该期评议活动。".to_owned());
    Ok(lines)
}

/// The period's campaign, refused if its state does not allow `action`, with its sealed
/// ballots so far: the campaign is read once.
fn answers_so_far(
    conn: &mut Conn,
    period: &Period,
    action: CampaignAction,
) -> Result<(CampaignSummary, i64), ServiceError> {
    let row = campaign::find(conn, period)?;
    campaign::state_of(&row)?.apply(action)?;
    let ballots = crate::db::ballots::count(conn, row.id)?;
    Ok((campaign::summarize(conn, row)?, ballots))
}

fn of_invited(ballots: i64, summary: &CampaignSummary) -> String {
    if summary.invited > 0 {
        format!(
            "受邀 {} 家,回收率 {:.1}%",
            summary.invited,
            100.0 * ballots as f64 / summary.invited as f64
        )
    } else {
        "尚未发出邀请".to_owned()
    }
}
