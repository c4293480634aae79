//! Pure domain types and rules: no I/O beyond reading a template file, no database, no web.
//! Constructors parse into types whose rules hold; their errors say which rule failed, in Chinese
//! first with the English in parentheses.

mod account;
pub mod anonymity;
pub mod answers;
pub mod calendar;
mod campaign;
mod crowd;
mod enterprise;
mod head;
mod period;
pub mod problem;
mod quarter;
mod sample;
mod template;
pub mod time;
mod unit;
mod uscc;

pub use account::{Role, Secret, UnknownRole};
pub use answers::{AnswerError, RawRating, RawSubmission, ValidRating, ValidSubmission};
pub use campaign::{
    Audience, CampaignAction, CampaignState, IllegalTransition, UnknownCampaignState,
};
pub use crowd::MIN_CROWD;
pub use enterprise::{
    EMAIL_MAX, Email, EmailError, Enterprise, EnterpriseSize, UnknownEnterpriseSize,
};
pub use head::{HeadChange, HeadError, HeadHistory, HeadTerm};
pub use period::{Half, Period, PeriodError};
pub use quarter::{Quarter, QuarterError};
pub use sample::{SampleFrameEntry, allocate, stratified_sample};
pub use template::{
    COMMENT_MAX_CHARS_LIMIT, CommentSetting, DEFAULT_COMMENT_MAX_CHARS, DEFAULT_POINTS,
    ProblemItem, Question, STANDARD_TOML, ScaleLevel, SurveyTemplate, TemplateError,
};
pub use unit::{
    UNIT_CODE_MAX, Unit, UnitCode, UnitCodeError, UnitError, UnitKind, UnknownUnitKind,
};
pub use uscc::{USCC_ALPHABET, USCC_LEN, Uscc, UsccError, uscc_check_character};
