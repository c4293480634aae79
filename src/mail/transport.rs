//! Where messages go: an SMTP relay through lettre (pooled, or one connection per message for the
//! benchmark's baseline), or `.eml` files in a folder when no relay is configured.

use std::path::PathBuf;
use std::time::Duration;

use lettre::Transport as _;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{SmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::{PoolConfig, SmtpTransport};
use lettre::{Address, Message};

use crate::config::{MailConfig, TlsMode};

/// How long one SMTP exchange may take before it counts as a lost connection.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A transport that could not be set up from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SMTP 配置有误 ({host}): {message}")]
    Config { host: String, message: String },
    #[error("无法创建邮件目录 {path}: {source}")]
    Outbox {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The outcome of a failed send, as the dispatcher acts on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// A 4xx reply, a timeout or a lost connection: try again later.
    #[error("临时失败: {0}")]
    Transient(String),
    /// A 5xx reply (e.g. no such mailbox): never retried; the text is the server's reply.
    #[error("永久失败: {0}")]
    Permanent(String),
}

/// Sends rendered messages.
#[derive(Clone)]
pub enum Mailer {
    /// Connections kept open and reused (the production setting).
    Smtp(SmtpTransport),
    /// A new connection for every message: the benchmark's baseline.
    SmtpPerMessage(Box<PerMessage>),
    /// `.eml` files named by Message-ID, for a fresh installation and for inspection.
    Files(PathBuf),
}

/// What a fresh connection needs.
#[derive(Clone)]
pub struct PerMessage {
    host: String,
    port: u16,
    tls: Option<TlsParameters>,
    /// TLS from the first byte (`tls = "tls"`) rather than STARTTLS.
    implicit_tls: bool,
    credentials: Option<Credentials>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp(_) => f.write_str("Mailer::Smtp"),
            Self::SmtpPerMessage(p) => write!(f, "Mailer::SmtpPerMessage({}:{})", p.host, p.port),
            Self::Files(dir) => write!(f, "Mailer::Files({})", dir.display()),
        }
    }
}

impl Mailer {
    /// The transport the configuration asks for: SMTP when `smtp_host` is set, else files.
    pub fn from_config(config: &MailConfig) -> Result<Self, MailError> {
        let Some(host) = config.smtp_host.as_deref().filter(|h| !h.trim().is_empty()) else {
            std::fs::create_dir_all(&config.outbox_dir).map_err(|source| MailError::Outbox {
                path: config.outbox_dir.clone(),
                source,
            })?;
            return Ok(Self::Files(config.outbox_dir.clone()));
        };
        let tls = tls(config, host)?;
        let mut builder = SmtpTransport::builder_dangerous(host)
            .port(config.smtp_port)
            .timeout(Some(SMTP_TIMEOUT))
            .tls(tls)
            .pool_config(PoolConfig::new().max_size(config.pool_size.max(1)));
        if let Some(credentials) = credentials(config) {
            builder = builder.credentials(credentials);
        }
        Ok(Self::Smtp(builder.build()))
    }

    /// Like [`Mailer::from_config`] with SMTP, but opening a new connection for every message.
    pub fn per_message(config: &MailConfig) -> Result<Self, MailError> {
        let host = config.smtp_host.clone().unwrap_or_default();
        let tls = match tls(config, &host)? {
            Tls::None => None,
            Tls::Wrapper(p) | Tls::Required(p) | Tls::Opportunistic(p) => Some(p),
        };
        Ok(Self::SmtpPerMessage(Box::new(PerMessage {
            port: config.smtp_port,
            tls,
            implicit_tls: config.tls == TlsMode::Tls,
            credentials: credentials(config),
            host,
        })))
    }

    /// Sends one message.
    pub fn send(&self, message: &Message) -> Result<(), SendError> {
        match self {
            Self::Smtp(transport) => transport.send(message).map(drop).map_err(classify),
            Self::SmtpPerMessage(p) => p.send(message),
            Self::Files(dir) => write_eml(dir, message),
        }
    }
}

fn tls(config: &MailConfig, host: &str) -> Result<Tls, MailError> {
    let params = || {
        TlsParameters::new(host.to_owned()).map_err(|e| MailError::Config {
            host: host.to_owned(),
            message: e.to_string(),
        })
    };
    Ok(match config.tls {
        TlsMode::None => Tls::None,
        TlsMode::Starttls => Tls::Required(params()?),
        TlsMode::Tls => Tls::Wrapper(params()?),
    })
}

fn credentials(config: &MailConfig) -> Option<Credentials> {
    let user = config.username.clone()?;
    let password = config
        .password
        .as_ref()
        .map(|p| p.0.clone())
        .unwrap_or_default();
    Some(Credentials::new(user, password))
}

impl PerMessage {
    fn send(&self, message: &Message) -> Result<(), SendError> {
        let wrapper = self.tls.as_ref().filter(|_| self.implicit_tls);
        let hello = ClientId::default();
        let mut conn = SmtpConnection::connect(
            (self.host.as_str(), self.port),
            Some(SMTP_TIMEOUT),
            &hello,
            wrapper,
            None,
        )
        .map_err(classify)?;
        if let (Some(params), None) = (&self.tls, wrapper) {
            conn.starttls(params, &hello).map_err(classify)?;
        }
        if let Some(credentials) = &self.credentials {
            use lettre::transport::smtp::authentication::Mechanism;
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .map_err(classify)?;
        }
        let outcome = conn
            .send(message.envelope(), &message.formatted())
            .map(drop)
            .map_err(classify);
        let _ = conn.quit();
        outcome
    }
}

/// 5xx replies are permanent; everything else (4xx, timeouts, lost connections, TLS hiccups) is
/// worth another try later.
fn classify(error: lettre::transport::smtp::Error) -> SendError {
    if error.is_permanent() {
        SendError::Permanent(error.to_string())
    } else {
        SendError::Transient(error.to_string())
    }
}

fn write_eml(dir: &std::path::Path, message: &Message) -> Result<(), SendError> {
    let id = message
        .headers()
        .get_raw("Message-ID")
        .unwrap_or("message")
        .trim_matches(|c| c == '<' || c == '>')
        .replace(
            |c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "_",
        );
    let path = dir.join(format!("{id}.eml"));
    std::fs::write(&path, message.formatted())
        .map_err(|e| SendError::Transient(format!("{}: {e}", path.display())))
}

/// Whether `text` is a syntactically valid address (used by the bounce import).
pub fn is_address(text: &str) -> bool {
    text.parse::<Address>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Password;

    #[test]
    fn every_tls_mode_and_a_login_build_a_transport_without_openssl() {
        for tls in [TlsMode::None, TlsMode::Starttls, TlsMode::Tls] {
            let config = MailConfig {
                smtp_host: Some("smtp.example.gov.cn".into()),
                tls,
                username: Some("yingshang".into()),
                password: Some(Password("secret".into())),
                ..MailConfig::default()
            };
            assert!(matches!(Mailer::from_config(&config), Ok(Mailer::Smtp(_))));
            assert!(matches!(
                Mailer::per_message(&config),
                Ok(Mailer::SmtpPerMessage(_))
            ));
        }
    }

    #[test]
    fn without_a_host_mail_goes_to_files() {
        let dir = tempfile::tempdir().expect("dir");
        let config = MailConfig {
            outbox_dir: dir.path().join("outbox"),
            ..MailConfig::default()
        };
        assert!(matches!(Mailer::from_config(&config), Ok(Mailer::Files(_))));
        assert!(dir.path().join("outbox").is_dir());
    }
}
