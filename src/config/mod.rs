//! Configuration: defaults, then `qiping.toml`, then `QIPING_*` environment variables, then
//! command-line flags. Loaded once in `main` and passed down; there are no global statics.

mod calendar;
mod init_template;
mod mail;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use calendar::official_2026;
pub use init_template::init_file;
pub use mail::{MailConfig, Password, RemindersConfig, TlsMode};

/// Every setting of a qiping installation. Each key is documented in the file `qiping init` writes.
/// `Debug` hides the link secret and the database password.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// The key under which survey links are derived (docs/architecture.md §4.1). Never logged.
    pub link_secret: Option<String>,
    /// Folder of survey templates (`NAME.toml`); `standard` is also built in.
    pub templates_dir: PathBuf,
    /// Where `campaign publish` writes `PERIOD/`.
    pub reports_dir: PathBuf,
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub retention: RetentionConfig,
    pub log: LogConfig,
    pub mail: MailConfig,
    pub reminders: RemindersConfig,
    /// The statistical method's thresholds and switches (docs/method.md §8: each with its default).
    pub stats: crate::stats::Settings,
    pub weighting: WeightingConfig,
    pub close: CloseConfig,
    /// Working days for problem deadlines: holidays and make-up working days (default: 2026's).
    pub calendar: crate::domain::calendar::WorkCalendar,
    /// The problem list's deadlines (问题清单, 一次督办, 二次督办).
    pub problems: crate::domain::problem::ProblemSettings,
}

/// Weighting (docs/method.md §0, §2.4): off by default; when on, respondents are raked to the invited
/// population's margins by size, industry and district.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeightingConfig {
    pub enabled: bool,
}

/// The close (`campaign close`): how it holds a large campaign's opened answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloseConfig {
    /// How much of the ballots' sealed size the close shuffles in memory at once (MiB); above
    /// it the opened answers wait in scratch files sealed under a key held only in memory.
    pub memory_mib: u64,
    /// Where those scratch files go; unset, the system's temporary folder (`TMPDIR`).
    pub scratch_dir: Option<PathBuf>,
}

impl Default for CloseConfig {
    fn default() -> Self {
        CloseConfig {
            memory_mib: 256,
            scratch_dir: None,
        }
    }
}

impl CloseConfig {
    /// The memory bound in bytes (at least 1 MiB).
    pub fn memory_bytes(&self) -> usize {
        usize::try_from(self.memory_mib.max(1).saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &crate::db::redact_url(&self.database_url))
            .field("link_secret", &self.link_secret.as_ref().map(|_| "***"))
            .field("templates_dir", &self.templates_dir)
            .field("reports_dir", &self.reports_dir)
            .field("server", &self.server)
            .field("auth", &self.auth)
            .field("retention", &self.retention)
            .field("log", &self.log)
            .field("mail", &self.mail)
            .field("reminders", &self.reminders)
            .field("stats", &self.stats)
            .field("weighting", &self.weighting)
            .field("close", &self.close)
            .field("calendar", &self.calendar)
            .field("problems", &self.problems)
            .finish()
    }
}

/// Sign-in, sessions and lockout (issue 6). Sessions are in the database, so every `serve`
/// process honours the same ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// A session ends after this many minutes without a request.
    pub session_idle_minutes: i64,
    /// A session ends this many hours after sign-in, however busy.
    pub session_absolute_hours: i64,
    /// Wrong passwords in a row before the account is locked.
    pub max_failed_logins: i32,
    /// How long a locked account stays locked.
    pub lockout_minutes: i64,
    /// Failed sign-ins allowed from one client address per 15 minutes (all accounts together).
    pub max_failures_per_address: i64,
}

/// How long personal data is kept (`qiping purge`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days after which enterprise contacts and named problem reporters are deleted (README).
    pub personal_data_days: i64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            max_failed_logins: 5,
            lockout_minutes: 15,
            max_failures_per_address: 20,
        }
    }
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            personal_data_days: 730,
        }
    }
}

/// The HTTP server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address `qiping serve` listens on.
    pub bind: String,
    /// Public address of the site, used in emailed links (`{base_url}/s/{token}`).
    pub base_url: String,
    /// Database connections per `serve` process.
    pub pool_size: u32,
    /// How long a request waits for a database connection before it is answered 503 (retry):
    /// while the database is down, this is how long each request takes to fail.
    pub pool_timeout_seconds: u32,
    /// Requests per minute each client address may make to the survey routes (`/s/…`,
    /// `/api/v1/responses`), per process; 0 turns the limit off (benchmarks on loopback).
    pub submit_rate_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` headers are believed: addresses or
    /// CIDR ranges (`10.0.0.5`, `10.0.0.0/8`, `::1`). Empty: every header is ignored and the
    /// connection's peer is the client (src/web/client.rs).
    pub trusted_proxies: Vec<String>,
}

/// One entry of `server.trusted_proxies`: an address (a range of one) or a CIDR range.
pub fn parse_proxy(entry: &str) -> Option<ipnet::IpNet> {
    let entry = entry.trim();
    entry.parse::<ipnet::IpNet>().ok().or_else(|| {
        entry
            .parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

/// Logging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A `tracing` filter such as `info` or `qiping=debug,actix_web=info`.
    pub filter: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://qiping.db".into(),
            link_secret: None,
            templates_dir: "survey_templates".into(),
            reports_dir: "reports".into(),
            server: ServerConfig::default(),
            auth: AuthConfig::default(),
            retention: RetentionConfig::default(),
            log: LogConfig::default(),
            stats: crate::stats::Settings::default(),
            weighting: WeightingConfig::default(),
            close: CloseConfig::default(),
            mail: MailConfig::default(),
            reminders: RemindersConfig::default(),
            calendar: calendar::official_2026(),
            problems: crate::domain::problem::ProblemSettings::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            base_url: "http://127.0.0.1:8080".into(),
            pool_size: 8,
            pool_timeout_seconds: 10,
            submit_rate_per_minute: 120,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            filter: "info".into(),
        }
    }
}

/// A configuration that could not be read. The message names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("无法读取配置文件 {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("配置文件 {path} 有误: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("环境变量 {var} 的值无效: {message}")]
    Env { var: String, message: String },
    #[error("配置有误: {0}")]
    Invalid(String),
}

/// The environment variables read, and the key each sets.
pub const ENV_VARS: &[(&str, &str)] = &[
    ("QIPING_DATABASE_URL", "database_url"),
    ("QIPING_LINK_SECRET", "link_secret"),
    ("QIPING_TEMPLATES_DIR", "templates_dir"),
    ("QIPING_REPORTS_DIR", "reports_dir"),
    ("QIPING_BIND", "server.bind"),
    ("QIPING_BASE_URL", "server.base_url"),
    ("QIPING_POOL_SIZE", "server.pool_size"),
    ("QIPING_POOL_TIMEOUT_SECONDS", "server.pool_timeout_seconds"),
    (
        "QIPING_SUBMIT_RATE_PER_MINUTE",
        "server.submit_rate_per_minute",
    ),
    ("QIPING_TRUSTED_PROXIES", "server.trusted_proxies"),
    ("QIPING_LOG", "log.filter"),
    ("QIPING_SMTP_HOST", "mail.smtp_host"),
    ("QIPING_SMTP_PORT", "mail.smtp_port"),
    ("QIPING_SMTP_USERNAME", "mail.username"),
    ("QIPING_SMTP_PASSWORD", "mail.password"),
    ("QIPING_MAIL_FROM", "mail.from_address"),
    ("QIPING_OUTBOX_DIR", "mail.outbox_dir"),
];

impl Config {
    /// Loads the configuration: `file` if given (it must exist), else `./qiping.toml` if present,
    /// then the environment as read through `env` (a function so tests need not touch the process).
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let default_file = Path::new("qiping.toml");
        let path = match file {
            Some(p) => Some(p),
            None if default_file.exists() => Some(default_file),
            None => None,
        };
        let mut config = match path {
            Some(path) => Self::from_toml_file(path)?,
            None => Self::default(),
        };
        config.apply_env(env)?;
        if let Some(bad) = config
            .server
            .trusted_proxies
            .iter()
            .find(|e| parse_proxy(e).is_none())
        {
            return Err(ConfigError::Invalid(format!(
                "server.trusted_proxies 中的「{bad}」不是 IP 地址或网段(例如 10.0.0.5、10.0.0.0/8、::1)"
            )));
        }
        Ok(config)
    }

    fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        // DATABASE_URL is the conventional fallback; QIPING_DATABASE_URL wins over it.
        if let Some(url) = env("DATABASE_URL") {
            self.database_url = url;
        }
        for (var, key) in ENV_VARS {
            let Some(value) = env(var) else { continue };
            match *key {
                "database_url" => self.database_url = value,
                "link_secret" => self.link_secret = Some(value),
                "templates_dir" => self.templates_dir = value.into(),
                "reports_dir" => self.reports_dir = value.into(),
                "server.bind" => self.server.bind = value,
                "server.base_url" => self.server.base_url = value,
                "server.pool_size" => {
                    self.server.pool_size = value.parse().map_err(|_| ConfigError::Env {
                        var: (*var).into(),
                        message: format!("应为正整数,实为 {value:?}"),
                    })?
                }
                "server.pool_timeout_seconds" => {
                    self.server.pool_timeout_seconds =
                        value.parse().map_err(|_| ConfigError::Env {
                            var: (*var).into(),
                            message: format!("应为正整数(秒),实为 {value:?}"),
                        })?
                }
                "server.submit_rate_per_minute" => {
                    self.server.submit_rate_per_minute =
                        value.parse().map_err(|_| ConfigError::Env {
                            var: (*var).into(),
                            message: format!("应为非负整数,实为 {value:?}"),
                        })?
                }
                "server.trusted_proxies" => {
                    self.server.trusted_proxies = value
                        .split(',')
                        .map(str::trim)
                        .filter(|e| !e.is_empty())
                        .map(str::to_owned)
                        .collect()
                }
                "log.filter" => self.log.filter = value,
                "mail.smtp_host" => self.mail.smtp_host = Some(value),
                "mail.smtp_port" => {
                    self.mail.smtp_port = value.parse().map_err(|_| ConfigError::Env {
                        var: (*var).into(),
                        message: format!("应为端口号,实为 {value:?}"),
                    })?
                }
                "mail.username" => self.mail.username = Some(value),
                "mail.password" => self.mail.password = Some(Password(value)),
                "mail.from_address" => self.mail.from_address = value,
                "mail.outbox_dir" => self.mail.outbox_dir = value.into(),
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether the site is served over TLS, so cookies must carry `Secure`.
    pub fn is_https(&self) -> bool {
        self.server
            .base_url
            .trim()
            .to_ascii_lowercase()
            .starts_with("https://")
    }

    /// The base URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.server.base_url.trim_end_matches('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_init_file_parses_to_the_defaults_plus_its_secret() {
        let text = init_file("c2VjcmV0");
        let parsed: Config = toml::from_str(&text).expect("init file parses");
        let expected = Config {
            link_secret: Some("c2VjcmV0".into()),
            ..Config::default()
        };
        assert_eq!(parsed, expected);
    }

    #[test]
    fn environment_overrides_the_file_and_database_url_is_a_fallback() {
        let env = |k: &str| match k {
            "DATABASE_URL" => Some("postgres://fallback/db".to_owned()),
            "QIPING_DATABASE_URL" => Some("sqlite://x.db".to_owned()),
            "QIPING_BIND" => Some("0.0.0.0:9000".to_owned()),
            _ => None,
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("q.toml");
        std::fs::write(&file, "[server]\nbind = \"127.0.0.1:1\"\npool_size = 3\n").expect("write");
        let config = Config::load(Some(&file), env).expect("load");
        assert_eq!(config.database_url, "sqlite://x.db");
        assert_eq!(config.server.bind, "0.0.0.0:9000");
        assert_eq!(config.server.pool_size, 3);
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("q.toml");
        std::fs::write(&file, "databse_url = \"x\"\n").expect("write");
        let err = Config::load(Some(&file), |_| None).expect_err("unknown key");
        let message = err.to_string();
        assert!(message.contains("q.toml"), "{message}");
        assert!(message.contains("databse_url"), "{message}");
    }

    #[test]
    fn a_bad_number_in_the_environment_names_the_variable() {
        let env = |k: &str| (k == "QIPING_POOL_SIZE").then(|| "many".to_owned());
        let err = Config::load(None, env).expect_err("bad number");
        assert!(err.to_string().contains("QIPING_POOL_SIZE"));
    }
}
