//! Use cases: each combines the domain, the database and (later) mail in one transaction. The CLI
//! and the web call these; neither holds business logic.
//!
//! Error policy: a use case returns [`ServiceError`]. Input the user can fix (a bad file, an unknown
//! period, an illegal state change) is a variant whose message says what and where; database
//! failures are passed through as `Db` and reported as such.

pub mod accounts;
pub mod admin;
pub mod aggregate;
pub mod audit;
pub mod campaign;
pub mod demo;
pub mod dispatch;
pub mod history;
pub mod import;
pub mod links;
pub mod mail_task;
pub mod method_page;
pub mod moderation;
pub mod outreach;
pub mod oversight;
pub mod problems;
pub mod progress;
pub mod publication;
pub mod purge;
pub mod registry;
pub mod registry_csv;
pub mod report_files;
pub mod response;
pub mod response_writer;
pub mod survey;
pub mod templates;
pub mod unit_page;

use crate::domain::{IllegalTransition, PeriodError};
use registry_csv::ImportErrors;

/// Why a use case did not happen. Nothing was written when it returns an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A file with bad rows; every error with its line and column.
    #[error("导入失败,共 {count} 处错误,未写入任何数据:\n{0}", count = .0.len())]
    Import(ImportErrors),
    #[error(transparent)]
    Period(#[from] PeriodError),
    #[error(transparent)]
    Transition(#[from] IllegalTransition),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("数据库错误: {0}")]
    Db(#[from] diesel::result::Error),
}

impl From<ImportErrors> for ServiceError {
    fn from(errors: ImportErrors) -> Self {
        ServiceError::Import(errors)
    }
}
