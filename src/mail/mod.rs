//! Mail: the messages (zh-CN templates under `src/mail/templates/<message>/`), their QR codes, the
//! transports (SMTP through lettre, or `.eml` files) and the pacing of the dispatcher.
//!
//! This module knows no database. The dispatch loop that claims outbox rows and records outcomes is
//! `service::dispatch`; its delivery guarantee (at most once) is documented there and in the README.

pub mod letter;
pub mod pacing;
pub mod problem;
pub mod qr;
mod render;
pub mod transport;

pub use letter::{Letter, MessageKind, Sender};
pub use pacing::{Throttle, backoff};
pub use problem::{ProblemLetter, compose_problem_letter};
pub use render::{ComposeError, compose};
pub use transport::{MailError, Mailer, SendError};
