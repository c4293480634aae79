//! The life of one half-year campaign: draft → open → closed → published, or discarded.
//!
//! | from \ action | Open | ExtendDeadline | Close  | Publish   | Supersede | Discard   |
//! | ------------- | ---- | -------------- | ------ | --------- | --------- | --------- |
//! | draft         | open | –              | –      | –         | –         | –         |
//! | open          | –    | open           | closed | –         | –         | discarded |
//! | closed        | –    | –              | –      | published | –         | –         |
//! | published     | –    | –              | –      | –         | published | –         |
//! | discarded     | –    | –              | –      | –         | –         | –         |
//!
//! `Discard` (作废) ends an open campaign without results: its answers are deleted and nothing is
//! published, and the office can create the period's campaign again (a discarded campaign does not
//! hold its period). With sealed ballots it is what an office does when the ballot key is lost.
//! A draft is simply not opened; a closed campaign's answers are already counted, and stay.
//!
//! A closed campaign is never opened again: answers arriving after a reopening would form a small
//! crowd of their own, told apart from the rest by when they came. A campaign about to close too
//! early is extended before it closes. `Supersede` publishes a corrected version of published
//! results (docs/architecture.md §4.4: frozen, never rewritten).
//!
//! Nothing of a campaign — no answer, comment, count or figure — reaches inspectors, unit viewers
//! or the public before it is published ([`Audience::may_read`]); the 营商办 sees an unpublished
//! campaign only on pages that say so (「未公布」).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    Draft,
    /// Opened on the web: the ballot key was handed over in the opening response and the campaign
    /// waits for the 营商办 to upload it back (「待核对密钥」); no invitation exists yet.
    KeyCheck,
    Open,
    /// The close has begun: no ballot is accepted any more; `campaign close` finishes opening the
    /// box (after a crash too).
    Closing,
    Closed,
    Published,
    /// Ended without results (作废).
    Discarded,
}

/// What an administrator asks of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignAction {
    /// Hand the ballot key to the web page's 营商办 and wait for it to come back (draft → key_check).
    IssueKey,
    /// Issue invitations and start accepting answers (draft, or key_check once the key came back).
    Open,
    /// Move the closing date; only while open.
    ExtendDeadline,
    /// Stop accepting answers (links expire) and begin opening the box (open → closing; again
    /// from closing to finish an interrupted close).
    Close,
    /// Freeze the results and make them public.
    Publish,
    /// Publish a corrected version that supersedes the current one.
    Supersede,
    /// End a campaign under way without results, its answers deleted (作废).
    Discard,
    /// The box is open and the ratings stored (closing → closed).
    FinishClose,
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

/// Who reads a campaign's answers, comments, counts and figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// The 营商办, which runs the campaign.
    Admin,
    /// 纪委监委.
    Inspector,
    /// A unit's own viewer.
    UnitViewer,
    /// Anyone, signed in or not.
    Public,
}

impl Audience {
    /// The one rule: nothing of a campaign reaches anyone but the 营商办 until it is published.
    /// A comment seen seconds after an enterprise left a unit's counter tells the unit who wrote
    /// it; after publication the campaign's answers are read together, long after.
    pub fn may_read(self, state: CampaignState) -> bool {
        self == Audience::Admin || state == CampaignState::Published
    }

    /// The states [`Self::may_read`] allows, for a query's filter.
    pub fn readable_states(self) -> Vec<CampaignState> {
        CampaignState::ALL
            .into_iter()
            .filter(|s| self.may_read(*s))
            .collect()
    }
}

impl From<super::Role> for Audience {
    fn from(role: super::Role) -> Self {
        match role {
            super::Role::Admin => Audience::Admin,
            super::Role::Inspector => Audience::Inspector,
            super::Role::Unit => Audience::UnitViewer,
        }
    }
}

/// An unknown state name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "未知的评议活动状态「{0}」,应为 draft、key_check、open、closing、closed、published 或 discarded (unknown campaign state)"
)]
pub struct UnknownCampaignState(pub String);

impl CampaignState {
    pub const ALL: [CampaignState; 7] = [
        CampaignState::Draft,
        CampaignState::KeyCheck,
        CampaignState::Open,
        CampaignState::Closing,
        CampaignState::Closed,
        CampaignState::Published,
        CampaignState::Discarded,
    ];

    /// The stored and scripted name.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignState::Draft => "draft",
            CampaignState::KeyCheck => "key_check",
            CampaignState::Open => "open",
            CampaignState::Closing => "closing",
            CampaignState::Closed => "closed",
            CampaignState::Published => "published",
            CampaignState::Discarded => "discarded",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            CampaignState::Draft => "草稿",
            CampaignState::KeyCheck => "待核对密钥",
            CampaignState::Open => "进行中",
            CampaignState::Closing => "正在截止",
            CampaignState::Closed => "已截止",
            CampaignState::Published => "已公布",
            CampaignState::Discarded => "已作废",
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
            // Again while waiting: the office lost the download before uploading it back; no
            // invitation exists and nothing was sealed to the earlier key.
            (S::Draft | S::KeyCheck, A::IssueKey) => Ok(S::KeyCheck),
            (S::Draft | S::KeyCheck, A::Open) => Ok(S::Open),
            (S::Open, A::ExtendDeadline) => Ok(S::Open),
            (S::Open | S::Closing, A::Close) => Ok(S::Closing),
            (S::Closing, A::FinishClose) => Ok(S::Closed),
            (S::Closed, A::Publish) => Ok(S::Published),
            (S::Published, A::Supersede) => Ok(S::Published),
            (S::KeyCheck | S::Open | S::Closing, A::Discard) => Ok(S::Discarded),
            (from, action) => Err(IllegalTransition { from, action }),
        }
    }
}

impl CampaignAction {
    pub const ALL: [CampaignAction; 8] = [
        CampaignAction::IssueKey,
        CampaignAction::Open,
        CampaignAction::ExtendDeadline,
        CampaignAction::Close,
        CampaignAction::Publish,
        CampaignAction::Supersede,
        CampaignAction::Discard,
        CampaignAction::FinishClose,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            CampaignAction::IssueKey => "生成选票密钥",
            CampaignAction::Open => "开始",
            CampaignAction::ExtendDeadline => "延长截止日期",
            CampaignAction::Close => "截止",
            CampaignAction::Publish => "公布",
            CampaignAction::Supersede => "更正公布",
            CampaignAction::Discard => "作废",
            CampaignAction::FinishClose => "完成截止",
        }
    }

    fn past_participle(self) -> &'static str {
        match self {
            CampaignAction::IssueKey => "given a ballot key",
            CampaignAction::Open => "opened",
            CampaignAction::ExtendDeadline => "extended",
            CampaignAction::Close => "closed",
            CampaignAction::Publish => "published",
            CampaignAction::Supersede => "superseded",
            CampaignAction::Discard => "discarded",
            CampaignAction::FinishClose => "finished closing",
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

    const LEGAL: [(S, A, S); 13] = [
        (S::Draft, A::IssueKey, S::KeyCheck),
        (S::KeyCheck, A::IssueKey, S::KeyCheck),
        (S::Draft, A::Open, S::Open),
        (S::KeyCheck, A::Open, S::Open),
        (S::Open, A::ExtendDeadline, S::Open),
        (S::Open, A::Close, S::Closing),
        (S::Closing, A::Close, S::Closing),
        (S::Closing, A::FinishClose, S::Closed),
        (S::Closed, A::Publish, S::Published),
        (S::Published, A::Supersede, S::Published),
        (S::KeyCheck, A::Discard, S::Discarded),
        (S::Open, A::Discard, S::Discarded),
        (S::Closing, A::Discard, S::Discarded),
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
        assert_eq!(illegal, S::ALL.len() * A::ALL.len() - LEGAL.len());
    }

    #[test]
    fn a_closed_campaign_cannot_be_opened_again() {
        assert!(S::Closed.apply(A::Open).is_err());
        assert!(S::Published.apply(A::Open).is_err());
    }

    #[test]
    fn only_the_office_reads_a_campaign_before_it_is_published() {
        for state in S::ALL {
            assert!(Audience::Admin.may_read(state), "{state:?}");
            for other in [Audience::Inspector, Audience::UnitViewer, Audience::Public] {
                assert_eq!(
                    other.may_read(state),
                    state == S::Published,
                    "{other:?} {state:?}"
                );
            }
        }
        assert_eq!(Audience::UnitViewer.readable_states(), vec![S::Published]);
        assert_eq!(Audience::Admin.readable_states(), S::ALL.to_vec());
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
