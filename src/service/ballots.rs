//! What the services need of sealed ballots: a campaign's public key and ballot layout, turning a
//! validated submission into ballot content and back, and who has answered — worked out by
//! recomputing spent keys, since a ballot names no invitation and a submission writes nothing to
//! the invitation (docs/architecture.md, "The ballot's life").

use std::collections::{BTreeMap, HashMap, HashSet};

use super::ServiceError;
use crate::ballot::{BallotContent, BallotLayout, PublicKey, RatedUnit, SpentKey, SpentKeys};
use crate::db::campaigns::CampaignRow;
use crate::db::invitations::InvitationRow;
use crate::db::{Conn, ballots};
use crate::domain::SurveyTemplate;

/// The public key a campaign's ballots are sealed to, or why there is none.
pub fn public_key(campaign: &CampaignRow) -> Result<PublicKey, ServiceError> {
    let bytes = campaign.ballot_public_key.as_deref().ok_or_else(|| {
        ServiceError::Conflict(format!(
            "{} 的评议活动没有选票公钥(尚未开始)",
            campaign.period
        ))
    })?;
    PublicKey::from_bytes(bytes)
        .map_err(|_| ServiceError::internal(&format!("{} 的选票公钥", campaign.period), "无法读取"))
}

/// The layout every ballot of a campaign is padded to, from its template and stored numbers.
///
/// Refuses a campaign whose ballots were sealed with another suite or format than this release
/// reads (`SuiteIds::CURRENT`): a later release that changes it must keep reading the old one.
pub fn layout(
    campaign: &CampaignRow,
    template: &SurveyTemplate,
) -> Result<BallotLayout, ServiceError> {
    if let Some(stored) = campaign.ballot_suite.as_deref()
        && crate::ballot::SuiteIds::parse(stored) != Some(crate::ballot::SuiteIds::CURRENT)
    {
        return Err(ServiceError::Conflict(format!(
            "{} 的选票使用 {stored} 加密,本版本只能处理 {}",
            campaign.period,
            crate::ballot::SuiteIds::CURRENT
        )));
    }
    let (Some(units), Some(chars)) = (campaign.ballot_units, campaign.ballot_comment_chars) else {
        return Err(ServiceError::Conflict(format!(
            "{} 的评议活动没有选票格式(尚未开始)",
            campaign.period
        )));
    };
    BallotLayout::new(
        template.questions().len(),
        template.problems().len(),
        usize::try_from(units).unwrap_or(0),
        usize::try_from(chars).unwrap_or(0),
    )
    .map_err(|e| ServiceError::internal(&format!("{} 的选票格式", campaign.period), e))
}

/// One unit's answers as the survey validated them: answers by question id, problem ids.
#[derive(Clone)]
pub struct UnitAnswers<'a> {
    pub unit_id: i64,
    pub self_selected: bool,
    pub answers: &'a BTreeMap<String, Option<u8>>,
    pub problems: &'a [String],
    pub comment: Option<&'a str>,
}

/// The ballot content of a submission: levels in the template's question order, problems by
/// position.
pub fn content_of(template: &SurveyTemplate, units: &[UnitAnswers<'_>]) -> BallotContent {
    let problem_index: HashMap<&str, u16> = template
        .problems()
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i as u16))
        .collect();
    BallotContent {
        units: units
            .iter()
            .map(|u| RatedUnit {
                unit_id: u.unit_id,
                self_selected: u.self_selected,
                levels: template
                    .questions()
                    .iter()
                    .map(|q| u.answers.get(&q.id).copied().flatten())
                    .collect(),
                problems: u
                    .problems
                    .iter()
                    .filter_map(|p| problem_index.get(p.as_str()).copied())
                    .collect(),
                comment: u.comment.map(str::to_owned),
            })
            .collect(),
    }
}

/// A rated unit of an opened ballot as stored: answers and problems as the JSON text the ratings
/// table holds. `None` when the entry says nothing (every question 不了解, no problem, no
/// comment): such entries are not stored.
pub fn stored_form(
    template: &SurveyTemplate,
    unit: &RatedUnit,
) -> Result<Option<(String, String)>, ServiceError> {
    let says_nothing = unit.levels.iter().all(Option::is_none)
        && unit.problems.is_empty()
        && unit.comment.as_deref().is_none_or(str::is_empty);
    if says_nothing {
        return Ok(None);
    }
    let answers: BTreeMap<&str, Option<u8>> = template
        .questions()
        .iter()
        .zip(&unit.levels)
        .map(|(q, level)| (q.id.as_str(), *level))
        .collect();
    let problems: Vec<&str> = unit
        .problems
        .iter()
        .filter_map(|&p| template.problems().get(usize::from(p)))
        .map(|p| p.id.as_str())
        .collect();
    let encoded = serde_json::to_string(&answers)
        .and_then(|a| Ok((a, serde_json::to_string(&problems)?)))
        .map_err(|e| ServiceError::internal("答案编码", e))?;
    Ok(Some(encoded))
}

/// The spent keys of a campaign's invitations, by spent key: who a ballot's key belongs to.
pub fn spent_key_owners(
    spent: &SpentKeys,
    campaign_id: i64,
    invitation_ids: impl IntoIterator<Item = i64>,
) -> HashMap<SpentKey, i64> {
    invitation_ids
        .into_iter()
        .map(|id| (spent.spent_key(campaign_id, id), id))
        .collect()
}

/// Which of a campaign's invitations, given as (id, marked answered), have answered: those the
/// close marked, and — while the campaign is open — those whose spent key a stored ballot carries
/// (one HMAC per invitation not marked). Needs the spent keys, so `link_secret`: without it a
/// ballot names no one (G2); `None` counts the marked ones only.
pub fn answered(
    conn: &mut Conn,
    spent: Option<&SpentKeys>,
    campaign_id: i64,
    invitations: &[(i64, bool)],
) -> Result<HashSet<i64>, ServiceError> {
    let mut answered: HashSet<i64> = invitations
        .iter()
        .filter(|(_, marked)| *marked)
        .map(|(id, _)| *id)
        .collect();
    let Some(spent) = spent else {
        return Ok(answered);
    };
    let stored: HashSet<Vec<u8>> = ballots::spent_keys(conn, campaign_id)?
        .into_iter()
        .collect();
    if !stored.is_empty() {
        for &(id, _) in invitations.iter().filter(|(_, marked)| !marked) {
            let key = spent.spent_key(campaign_id, id);
            if stored.contains(key.as_bytes().as_slice()) {
                answered.insert(id);
            }
        }
    }
    Ok(answered)
}

/// Whether one invitation has answered (its link then reads "already answered").
pub fn has_answered(
    conn: &mut Conn,
    spent: &SpentKeys,
    invitation: &InvitationRow,
) -> Result<bool, diesel::result::Error> {
    if invitation.answered {
        return Ok(true);
    }
    let key = spent.spent_key(invitation.campaign_id, invitation.id);
    ballots::exists(conn, key.as_bytes())
}
