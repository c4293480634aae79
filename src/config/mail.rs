//! The `[mail]` and `[reminders]` sections: how invitations leave the building and when reminders go.

use serde::{Deserialize, Serialize};

/// How the dispatcher talks to the world. Without `smtp_host` every message is written as an `.eml`
/// file to `outbox_dir`, so a fresh installation never mails anyone by accident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// SMTP relay; `None` writes `.eml` files instead.
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    /// `none`, `starttls` (required, not opportunistic) or `tls` (implicit TLS, port 465).
    pub tls: TlsMode,
    pub username: Option<String>,
    /// Never logged; `Debug` prints `***`.
    pub password: Option<Password>,
    /// The sender, e.g. `yingshang@example.gov.cn`; replies (link problems) come back here.
    pub from_address: String,
    pub from_name: String,
    pub outbox_dir: std::path::PathBuf,
    /// Messages per second across the process; `0` means no limit.
    pub rate_per_second: f64,
    /// Messages claimed per database round trip.
    pub batch_size: u32,
    /// Messages claimed in one committed transaction before they are sent: one commit per group
    /// instead of one per message. A dispatcher killed mid-group leaves at most this many messages
    /// in doubt (reported failed, never re-sent: see `service::dispatch`). `1` is the strictest.
    pub claim_group: u32,
    /// Attempts (the first one included) before a transient failure becomes `failed`.
    pub max_attempts: u32,
    /// The first retry waits this long; each further one twice as long.
    pub backoff_seconds: u64,
    /// SMTP connections kept open in the pool.
    pub pool_size: u32,
    /// How often the dispatcher inside `serve` looks for due messages.
    pub poll_seconds: u64,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    None,
    Starttls,
    Tls,
}

/// A password that stays out of logs and `Debug` output.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The reminder schedule (`serve` applies it daily; `campaign remind` sends one now).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemindersConfig {
    /// Days after opening on which a reminder goes to those who have not answered.
    pub days: Vec<u32>,
    /// At most this many reminders per enterprise and campaign.
    pub max_per_enterprise: u32,
    /// At least this many days between two messages to the same enterprise.
    pub min_gap_days: u32,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_host: None,
            smtp_port: 587,
            tls: TlsMode::Starttls,
            username: None,
            password: None,
            from_address: "noreply@example.org".into(),
            from_name: "营商环境办公室".into(),
            outbox_dir: "outbox".into(),
            rate_per_second: 10.0,
            batch_size: 100,
            claim_group: 8,
            max_attempts: 5,
            backoff_seconds: 60,
            pool_size: 4,
            poll_seconds: 30,
        }
    }
}

impl Default for RemindersConfig {
    fn default() -> Self {
        Self {
            days: vec![7, 12],
            max_per_enterprise: 2,
            min_gap_days: 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smtp_password_never_shows_in_debug_output() {
        let config = MailConfig {
            password: Some(Password("hunter2".into())),
            ..MailConfig::default()
        };
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
