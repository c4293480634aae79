//! The one error type of the engine: invalid input. Thin data is never an error (it suppresses).

/// Why an input could not be aggregated; the message names the offending value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("a rating names unit `{0}`, which is not in the unit list")]
    UnknownUnit(String),
    #[error("unit `{0}` is listed twice")]
    DuplicateUnit(String),
    #[error("a rating answers question `{0}`, which is not in the template")]
    UnknownQuestion(String),
    #[error("unit `{unit}`, question `{question}`: level {level} is outside 1..=5")]
    LevelOutOfRange {
        unit: String,
        question: String,
        level: u8,
    },
    #[error("template: {0}")]
    InvalidTemplate(String),
    #[error("margins: {0}")]
    InvalidMargins(String),
    #[error("`{0}` is not a half-year period like 2019H1")]
    InvalidPeriod(String),
    #[error("settings: {0}")]
    InvalidSettings(String),
}
