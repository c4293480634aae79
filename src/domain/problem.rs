//! 问题清单: a problem an enterprise reported, and the supervision it goes through
//! (「发现一起受理一起,督办解决一起」「一次督办、限期解决」「二次督办」, then accountability).
//!
//! A problem is in one [`ProblemState`] at one [`Stage`]. The stage says how far supervision has
//! gone: the unit first handles it under the normal deadline (交办); when that passes, or the
//! enterprise says it is not resolved, the enterprise service centre supervises it once (一次督办)
//! with a new deadline; then the 营商办 a second time (二次督办); after that it goes to the
//! inspectors as an accountability case (移交问责). [`ProblemStatus::apply`] is the only way
//! between states, so the web, the CLI and the deadline sweep obey the same rules.

use serde::{Deserialize, Serialize};

/// Where a problem is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemState {
    /// 已登记: recorded, not yet given to a unit.
    Registered,
    /// 办理中: a unit has it, with a deadline.
    Assigned,
    /// 待企业确认: the unit answered; the enterprise is asked whether it is resolved.
    Answered,
    /// 已办结.
    Closed,
    /// 已移交问责: unresolved after the second supervision; the inspectors' case.
    Escalated,
}

impl ProblemState {
    pub const ALL: [ProblemState; 5] = [
        Self::Registered,
        Self::Assigned,
        Self::Answered,
        Self::Closed,
        Self::Escalated,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Assigned => "assigned",
            Self::Answered => "answered",
            Self::Closed => "closed",
            Self::Escalated => "escalated",
        }
    }

    /// The Chinese label of pages and reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::Registered => "已登记",
            Self::Assigned => "办理中",
            Self::Answered => "待企业确认",
            Self::Closed => "已办结",
            Self::Escalated => "已移交问责",
        }
    }

    /// Whether nothing more happens in the workflow.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Closed | Self::Escalated)
    }
}

impl std::str::FromStr for ProblemState {
    type Err = UnknownProblemValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownProblemValue(format!("未知的问题状态 {s:?}")))
    }
}

/// How far supervision has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 交办: the unit's own handling under the normal deadline.
    Handling,
    /// 一次督办, by the enterprise service centre.
    First,
    /// 二次督办, by the 营商办.
    Second,
}

impl Stage {
    /// The stored number.
    pub fn as_i32(self) -> i32 {
        match self {
            Self::Handling => 0,
            Self::First => 1,
            Self::Second => 2,
        }
    }

    pub fn from_i32(n: i32) -> Result<Self, UnknownProblemValue> {
        match n {
            0 => Ok(Self::Handling),
            1 => Ok(Self::First),
            2 => Ok(Self::Second),
            _ => Err(UnknownProblemValue(format!("未知的督办阶段 {n}"))),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Handling => "交办",
            Self::First => "一次督办",
            Self::Second => "二次督办",
        }
    }

    /// Who supervises at this stage.
    pub fn supervisor(self) -> &'static str {
        match self {
            Self::Handling => "责任单位",
            Self::First => "企业服务中心",
            Self::Second => "营商办",
        }
    }

    /// The next stage, or `None` after the second supervision (then: accountability).
    pub fn next(self) -> Option<Stage> {
        match self {
            Self::Handling => Some(Self::First),
            Self::First => Some(Self::Second),
            Self::Second => None,
        }
    }
}

/// A stored value that is not one of the known names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnknownProblemValue(pub String);

/// Where a problem came from (受理渠道).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 问卷实名反映: the separate, named form beside the anonymous survey.
    Survey,
    /// 12345 热线.
    Hotline,
    /// 来访.
    Visit,
    /// 来信.
    Letter,
    /// 网上留言.
    Online,
    /// 其他.
    Other,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Self::Survey,
        Self::Hotline,
        Self::Visit,
        Self::Letter,
        Self::Online,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Survey => "survey",
            Self::Hotline => "hotline",
            Self::Visit => "visit",
            Self::Letter => "letter",
            Self::Online => "online",
            Self::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Survey => "问卷实名反映",
            Self::Hotline => "12345热线",
            Self::Visit => "来访",
            Self::Letter => "来信",
            Self::Online => "网上留言",
            Self::Other => "其他渠道",
        }
    }
}

impl std::str::FromStr for Channel {
    type Err = UnknownProblemValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s || c.label() == s)
            .ok_or_else(|| {
                UnknownProblemValue(format!(
                    "未知的受理渠道 {s:?}(可选 survey|hotline|visit|letter|online|other)"
                ))
            })
    }
}

/// How a closed problem ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The enterprise (by its link, or to the 营商办 on the phone) said it is resolved.
    Resolved,
    /// The enterprise did not answer within the confirmation period (逾期未反馈,视为办结).
    NoReply,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resolved => "resolved",
            Self::NoReply => "no_reply",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Resolved => "企业确认已解决",
            Self::NoReply => "企业逾期未反馈,视为办结",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "resolved" => Some(Self::Resolved),
            "no_reply" => Some(Self::NoReply),
            _ => None,
        }
    }
}

/// One step of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemStep {
    /// The 营商办 gives the problem to a unit (交办).
    Assign,
    /// The unit says what it did.
    Answer,
    /// The enterprise (or the 营商办 after a phone call) says whether it is resolved.
    Verdict { resolved: bool },
    /// The deadline of the current stage passed without an answer.
    Overdue,
    /// The enterprise did not answer the confirmation request in time.
    ConfirmationLapsed,
}

impl ProblemStep {
    /// The audit and event name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assign => "assign",
            Self::Answer => "answer",
            Self::Verdict { resolved: true } => "confirm_resolved",
            Self::Verdict { resolved: false } => "confirm_unresolved",
            Self::Overdue => "overdue",
            Self::ConfirmationLapsed => "confirmation_lapsed",
        }
    }
}

/// A step that the current state does not allow; the message names both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("问题当前为「{state}」,不能{step}")]
pub struct IllegalProblemStep {
    pub state: &'static str,
    pub step: &'static str,
}

/// A problem's position: its state and its supervision stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemStatus {
    pub state: ProblemState,
    pub stage: Stage,
}

impl ProblemStatus {
    /// A newly registered problem.
    pub const NEW: ProblemStatus = ProblemStatus {
        state: ProblemState::Registered,
        stage: Stage::Handling,
    };

    /// The status after `step`, or why it is not allowed. An unresolved verdict or an overdue
    /// deadline moves to the next stage (the unit handles it again under a new deadline); after
    /// the second supervision it escalates.
    pub fn apply(self, step: ProblemStep) -> Result<ProblemStatus, IllegalProblemStep> {
        use ProblemState::*;
        let escalate_or_next = |stage: Stage| match stage.next() {
            Some(next) => ProblemStatus {
                state: Assigned,
                stage: next,
            },
            None => ProblemStatus {
                state: Escalated,
                stage,
            },
        };
        let next = match (self.state, step) {
            (Registered, ProblemStep::Assign) => ProblemStatus {
                state: Assigned,
                stage: Stage::Handling,
            },
            (Assigned, ProblemStep::Answer) => ProblemStatus {
                state: Answered,
                ..self
            },
            (Assigned, ProblemStep::Overdue) => escalate_or_next(self.stage),
            (
                Answered,
                ProblemStep::Verdict { resolved: true } | ProblemStep::ConfirmationLapsed,
            ) => ProblemStatus {
                state: Closed,
                ..self
            },
            (Answered, ProblemStep::Verdict { resolved: false }) => escalate_or_next(self.stage),
            (state, step) => {
                return Err(IllegalProblemStep {
                    state: state.label(),
                    step: step_label(step),
                });
            }
        };
        Ok(next)
    }

    /// Whether the deadline of this status is the unit's to meet (the sweep looks at these only).
    pub fn runs_a_deadline(self) -> bool {
        self.state == ProblemState::Assigned
    }
}

fn step_label(step: ProblemStep) -> &'static str {
    match step {
        ProblemStep::Assign => "交办",
        ProblemStep::Answer => "答复",
        ProblemStep::Verdict { .. } => "确认办理结果",
        ProblemStep::Overdue => "按逾期处理",
        ProblemStep::ConfirmationLapsed => "按企业逾期未反馈办结",
    }
}

/// Deadlines in working days (a setting, `[problems]` in `qiping.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProblemSettings {
    /// The unit's deadline after 交办.
    pub deadline_working_days: u32,
    /// The new deadline of 一次督办.
    pub first_supervision_working_days: u32,
    /// The new deadline of 二次督办.
    pub second_supervision_working_days: u32,
    /// How long the enterprise has to say whether the answer resolved it.
    pub confirm_working_days: u32,
}

impl Default for ProblemSettings {
    fn default() -> Self {
        Self {
            deadline_working_days: 15,
            first_supervision_working_days: 10,
            second_supervision_working_days: 5,
            confirm_working_days: 5,
        }
    }
}

impl ProblemSettings {
    /// Working days the unit has at `stage`.
    pub fn working_days(&self, stage: Stage) -> u32 {
        match stage {
            Stage::Handling => self.deadline_working_days,
            Stage::First => self.first_supervision_working_days,
            Stage::Second => self.second_supervision_working_days,
        }
    }
}

/// Longest problem text or answer, in characters.
pub const PROBLEM_TEXT_MAX: usize = 2000;
/// Shortest problem description that says anything.
pub const PROBLEM_TEXT_MIN: usize = 5;

/// A problem description or a unit's answer, trimmed and within the limits.
pub fn problem_text(field: &str, text: &str) -> Result<String, String> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars < PROBLEM_TEXT_MIN {
        return Err(format!("{field}至少需要 {PROBLEM_TEXT_MIN} 个字"));
    }
    if chars > PROBLEM_TEXT_MAX {
        return Err(format!(
            "{field}不能超过 {PROBLEM_TEXT_MAX} 个字(现有 {chars} 个)"
        ));
    }
    Ok(text.to_owned())
}

/// A mainland phone number as people write it: digits, with optional `+`, spaces and dashes.
pub fn phone(text: &str) -> Result<String, String> {
    let text = text.trim();
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let allowed = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
    if !allowed || !(7..=20).contains(&digits) {
        return Err(format!("联系电话 {text:?} 无效:请填写 7–20 位数字"));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProblemState::*;

    fn at(state: ProblemState, stage: Stage) -> ProblemStatus {
        ProblemStatus { state, stage }
    }

    #[test]
    fn the_plain_path_runs_from_registration_to_closure() {
        let s = ProblemStatus::NEW;
        let s = s.apply(ProblemStep::Assign).expect("assign");
        assert_eq!(s, at(Assigned, Stage::Handling));
        let s = s.apply(ProblemStep::Answer).expect("answer");
        assert_eq!(s, at(Answered, Stage::Handling));
        let s = s
            .apply(ProblemStep::Verdict { resolved: true })
            .expect("verdict");
        assert_eq!(s, at(Closed, Stage::Handling));
        assert!(s.state.is_final());
    }

    #[test]
    fn overdue_deadlines_go_through_both_supervisions_then_escalate() {
        let s = at(Assigned, Stage::Handling);
        let s = s.apply(ProblemStep::Overdue).expect("first");
        assert_eq!(s, at(Assigned, Stage::First));
        let s = s.apply(ProblemStep::Overdue).expect("second");
        assert_eq!(s, at(Assigned, Stage::Second));
        let s = s.apply(ProblemStep::Overdue).expect("escalate");
        assert_eq!(s, at(Escalated, Stage::Second));
        assert!(s.apply(ProblemStep::Overdue).is_err(), "escalated is final");
    }

    #[test]
    fn a_rejected_answer_moves_to_the_next_supervision() {
        let s = at(Answered, Stage::First);
        let s = s
            .apply(ProblemStep::Verdict { resolved: false })
            .expect("reject");
        assert_eq!(s, at(Assigned, Stage::Second));
        let s = at(Answered, Stage::Second)
            .apply(ProblemStep::Verdict { resolved: false })
            .expect("reject");
        assert_eq!(s, at(Escalated, Stage::Second));
    }

    #[test]
    fn a_lapsed_confirmation_closes_without_a_verdict() {
        let s = at(Answered, Stage::Handling)
            .apply(ProblemStep::ConfirmationLapsed)
            .expect("lapse");
        assert_eq!(s.state, Closed);
    }

    #[test]
    fn steps_out_of_order_are_refused_with_both_names() {
        let err = ProblemStatus::NEW
            .apply(ProblemStep::Answer)
            .expect_err("no answer before assignment");
        assert_eq!(err.to_string(), "问题当前为「已登记」,不能答复");
        assert!(at(Closed, Stage::First).apply(ProblemStep::Assign).is_err());
        assert!(
            at(Assigned, Stage::First)
                .apply(ProblemStep::Verdict { resolved: true })
                .is_err()
        );
        assert!(
            at(Answered, Stage::First)
                .apply(ProblemStep::Overdue)
                .is_err()
        );
    }

    #[test]
    fn stored_names_round_trip() {
        for s in ProblemState::ALL {
            assert_eq!(s.as_str().parse::<ProblemState>(), Ok(s));
        }
        for stage in [Stage::Handling, Stage::First, Stage::Second] {
            assert_eq!(Stage::from_i32(stage.as_i32()), Ok(stage));
        }
        assert_eq!("12345热线".parse::<Channel>(), Ok(Channel::Hotline));
        assert!("fax".parse::<Channel>().is_err());
    }

    #[test]
    fn texts_and_phones_are_checked() {
        assert!(problem_text("问题描述", " 短 ").is_err());
        assert_eq!(
            problem_text("问题描述", " 审批拖了三个月 ").as_deref(),
            Ok("审批拖了三个月")
        );
        assert!(problem_text("问题描述", &"长".repeat(PROBLEM_TEXT_MAX + 1)).is_err());
        assert!(phone("0516-8388 1234").is_ok());
        assert!(phone("abc").is_err());
        assert!(phone("123").is_err());
    }
}
