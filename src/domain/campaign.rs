//! The life of one half-year campaign: draft → open → closed → published.
//!
//! | from \ action | Open | ExtendDeadline | Close | Reopen | Publish | Supersede |
//! | ------------- | ---- | -------------- | ----- | ------ | ------- | --------- |
//! | draft         | open | –              | –     | –      | –       | –         |
//! | open          | –    | open           | closed| –      | –       | –         |
//! | closed        | –    | –              | –     | open   | published | –       |
//! | published     | –    | –              | –     | –      | –       | published |
//!
//! `Reopen` exists for a campaign closed too early; it is refused once results are published, and the
//! service must discard any aggregated (unpublished) results when it reopens. `Supersede` publishes a
//! corrected version of published results (docs/architecture.md §4.4: frozen, never rewritten).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignState {
    Draft,
    Open,
    Closed,
    Published,
}

/// What an administrator asks of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignAction {
    /// Issue invitations and start accepting answers.
    Open,
    /// Move the closing date; only while open.
    ExtendDeadline,
    /// Stop accepting answers; links expire.
    Close,
    /// Accept answers again after an early close; only before publication.
    Reopen,
    /// Freeze the results and make them public.
    Publish,
    /// Publish a corrected version that supersedes the current one.
    Supersede,
}

/// An action the campaign's state does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "评议活动处于「{}」状态,不能{} (a {} campaign cannot be {})",
    from.label_zh(), action.label_zh(), from.as_str(), action.past_participle()
)]
pub struct IllegalTransition {
    pub from: CampaignState,
    pub action: CampaignAction,
}

/// An unknown state name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的评议活动状态「{0}」,应为 draft、open、closed 或 published (unknown campaign state)")]
pub struct UnknownCampaignState(pub String);

impl CampaignState {
    pub const ALL: [CampaignState; 4] = [
        CampaignState::Draft,
        CampaignState::Open,
        CampaignState::Closed,
        CampaignState::Published,
    ];

    /// The stored and scripted name.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignState::Draft => "draft",
            CampaignState::Open => "open",
            CampaignState::Closed => "closed",
            CampaignState::Published => "published",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            CampaignState::Draft => "草稿",
            CampaignState::Open => "进行中",
            CampaignState::Closed => "已截止",
            CampaignState::Published => "已公布",
        }
    }

    /// Answers are accepted only in this state.
    pub fn accepts_responses(self) -> bool {
        self == CampaignState::Open
    }

    /// The state after `action`, or why it is not allowed.
    pub fn apply(self, action: CampaignAction) -> Result<CampaignState, IllegalTransition> {
        use CampaignAction as A;
        use CampaignState as S;
        match (self, action) {
            (S::Draft, A::Open) => Ok(S::Open),
            (S::Open, A::ExtendDeadline) => Ok(S::Open),
            (S::Open, A::Close) => Ok(S::Closed),
            (S::Closed, A::Reopen) => Ok(S::Open),
            (S::Closed, A::Publish) => Ok(S::Published),
            (S::Published, A::Supersede) => Ok(S::Published),
            (from, action) => Err(IllegalTransition { from, action }),
        }
    }
}

impl CampaignAction {
    pub const ALL: [CampaignAction; 6] = [
        CampaignAction::Open,
        CampaignAction::ExtendDeadline,
        CampaignAction::Close,
        CampaignAction::Reopen,
        CampaignAction::Publish,
        CampaignAction::Supersede,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            CampaignAction::Open => "开始",
            CampaignAction::ExtendDeadline => "延长截止日期",
            CampaignAction::Close => "截止",
            CampaignAction::Reopen => "重新开放",
            CampaignAction::Publish => "公布",
            CampaignAction::Supersede => "更正公布",
        }
    }

    fn past_participle(self) -> &'static str {
        match self {
            CampaignAction::Open => "opened",
            CampaignAction::ExtendDeadline => "extended",
            CampaignAction::Close => "closed",
            CampaignAction::Reopen => "reopened",
            CampaignAction::Publish => "published",
            CampaignAction::Supersede => "superseded",
        }
    }
}

impl fmt::Display for CampaignState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CampaignState {
    type Err = UnknownCampaignState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        CampaignState::ALL
            .into_iter()
            .find(|state| state.as_str().eq_ignore_ascii_case(t) || state.label_zh() == t)
            .ok_or_else(|| UnknownCampaignState(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CampaignAction as A;
    use CampaignState as S;

    const LEGAL: [(S, A, S); 6] = [
        (S::Draft, A::Open, S::Open),
        (S::Open, A::ExtendDeadline, S::Open),
        (S::Open, A::Close, S::Closed),
        (S::Closed, A::Reopen, S::Open),
        (S::Closed, A::Publish, S::Published),
        (S::Published, A::Supersede, S::Published),
    ];

    #[test]
    fn every_legal_transition_leads_to_its_state() {
        for (from, action, to) in LEGAL {
            assert_eq!(from.apply(action), Ok(to), "{from:?} {action:?}");
        }
    }

    #[test]
    fn every_other_pair_is_an_illegal_transition() {
        let mut illegal = 0;
        for from in S::ALL {
            for action in A::ALL {
                if LEGAL.iter().any(|&(f, a, _)| f == from && a == action) {
                    continue;
                }
                assert_eq!(from.apply(action), Err(IllegalTransition { from, action }));
                illegal += 1;
            }
        }
        assert_eq!(illegal, 4 * 6 - LEGAL.len());
    }

    #[test]
    fn an_illegal_transition_says_state_and_action() {
        let err = S::Draft.apply(A::Publish).unwrap_err();
        assert_eq!(
            err.to_string(),
            "评议活动处于「草稿」状态,不能公布 (a draft campaign cannot be published)"
        );
    }

    #[test]
    fn states_parse_from_their_names_in_both_languages() {
        for state in S::ALL {
            assert_eq!(state.as_str().parse::<S>(), Ok(state));
            assert_eq!(state.label_zh().parse::<S>(), Ok(state));
            assert_eq!(state.as_str().to_uppercase().parse::<S>(), Ok(state));
        }
        assert!("finished".parse::<S>().is_err());
        assert_eq!(
            serde_json::to_string(&S::Published).unwrap(),
            "\"published\""
        );
    }

    #[test]
    fn only_an_open_campaign_accepts_responses() {
        assert!(S::Open.accepts_responses());
        assert!(!S::Draft.accepts_responses() && !S::Closed.accepts_responses());
    }
}
