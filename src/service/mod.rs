//! Use cases: each combines the domain, the database and (later) mail in one transaction. The CLI
//! and the web call these; neither holds business logic.
//!
//! Error policy: a use case returns [`ServiceError`], and which variant says whose fault it is.
//! - What the caller sent and can fix — a bad file, an unknown period, a malformed date — is
//!   `Import`, `Period`, `NotFound` or `Invalid`, with a message that says what and where (the web
//!   answers 400/404/422 with that message).
//! - What clashes with the stored state — an illegal state change, a duplicate, a concurrent
//!   change — is `Transition` or `Conflict` (409). Unique-constraint violations become `Conflict`
//!   here, in one place ([`From<diesel::result::Error>`]), so no use case has to catch them.
//! - A fault of the system — stored data that cannot be read, serialization, I/O, the statistics
//!   engine, a connection pool — is `Internal` ([`ServiceError::internal`]): the CLI prints it for
//!   the operator; the web logs it with the request id and answers an opaque 500.
//! - Other database failures are `Db`: an unreachable database is a 503 (retry), the rest a 500.
//!
//! Every state-changing use case takes the [`Actor`] who asked and writes its audit row inside its
//! own transaction ([`audit::change`]); callers never write audit rows themselves.

pub mod accounts;
pub mod actor;
pub mod admin;
pub mod aggregate;
pub mod audit;
pub mod ballots;
pub mod campaign;
pub mod closing;
pub mod confirmation;
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
pub mod tasks;
pub mod templates;
pub mod unit_page;
pub mod upgrade;

use crate::domain::{IllegalTransition, PeriodError};
use registry_csv::ImportErrors;

pub use actor::Actor;

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
    /// The request clashes with what is stored (a duplicate, a concurrent change): 409.
    #[error("{0}")]
    Conflict(String),
    /// A fault of the system, not of the request. The text is for the log and the operator's
    /// terminal, never for a web client.
    #[error("内部错误:{0}")]
    Internal(String),
    #[error("数据库错误: {0}")]
    Db(diesel::result::Error),
}

impl ServiceError {
    /// A fault of the system: `what` failed because of `cause` (both go to the log, not the client).
    pub fn internal(what: &str, cause: impl std::fmt::Display) -> Self {
        ServiceError::Internal(format!("{what}: {cause}"))
    }
}

/// What a web client or the CLI sees when a unique constraint refused a write: the write raced
/// another one, or a check before it missed a duplicate. Nothing was written.
pub const DUPLICATE_MESSAGE: &str =
    "与已有记录重复(可能刚被他人同时提交),未写入任何数据;请刷新后核对";

impl From<diesel::result::Error> for ServiceError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::warn!(
                    constraint = info.constraint_name(),
                    table = info.table_name(),
                    detail = info.message(),
                    "唯一约束冲突"
                );
                ServiceError::Conflict(DUPLICATE_MESSAGE.into())
            }
            other => ServiceError::Db(other),
        }
    }
}

impl From<ImportErrors> for ServiceError {
    fn from(errors: ImportErrors) -> Self {
        ServiceError::Import(errors)
    }
}
