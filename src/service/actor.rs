//! Who asked for a change. Every state-changing use case takes an [`Actor`] and writes it into the
//! audit row of its own transaction, so the CLI and the web cannot forget the row and leave the
//! same row apart from this name: `user:NAME` for a signed-in account, `cli:NAME` for the command
//! line (the operating-system user, or `--actor NAME`), `system:TASK` for what `serve` does by
//! itself (the reminder schedule, the deadline sweep).

use std::fmt;

/// The name an audit row gives to whoever made a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor(String);

/// The longest `--actor` name accepted; a name is a person, not a sentence.
pub const ACTOR_NAME_MAX_CHARS: usize = 64;

/// Why an `--actor` name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("操作者名称「{shown}」无效:{reason}")]
pub struct ActorNameError {
    shown: String,
    reason: &'static str,
}

impl Actor {
    /// A signed-in account (web pages and the API).
    pub fn user(name: &str) -> Self {
        Actor(format!("user:{name}"))
    }

    /// The command line, run by the operating-system user (see [`os_user`]).
    pub fn cli() -> Self {
        Actor(format!("cli:{}", os_user()))
    }

    /// The command line with the name `--actor` gave, e.g. for a service account run from cron
    /// on behalf of a person.
    pub fn cli_named(name: &str) -> Result<Self, ActorNameError> {
        let name = name.trim();
        let refuse = |reason| ActorNameError {
            shown: name.escape_default().to_string(),
            reason,
        };
        if name.is_empty() {
            return Err(refuse("不能为空"));
        }
        if name.chars().count() > ACTOR_NAME_MAX_CHARS {
            return Err(refuse("最多 64 个字符"));
        }
        if name.chars().any(char::is_control) {
            return Err(refuse("不能含换行、制表符等控制字符"));
        }
        Ok(Actor(format!("cli:{name}")))
    }

    /// An enterprise acting through a link it was mailed (`via` names the link), never by name.
    pub fn enterprise(via: &str) -> Self {
        Actor(format!("enterprise:{via}"))
    }

    /// Work `serve` does by itself on a schedule.
    pub fn system(task: &str) -> Self {
        Actor(format!("system:{task}"))
    }

    /// An actor as the audit log stores it (`kind:name`), e.g. to read one back or in a test.
    pub fn stored(text: &str) -> Self {
        Actor(text.to_owned())
    }

    /// The stored form, e.g. `user:wang`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The operating-system user running this process. `USER` (or `LOGNAME`, `USERNAME`) when set;
/// otherwise — cron, systemd units, containers and `docker exec` run without them, which made
/// every such row read `cli:unknown` — the name of the process's user id in `/etc/passwd`, or
/// `uid-N` when it has none.
pub fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|key| std::env::var(key).ok())
        .map(|name| name.trim().to_owned())
        .find(|name| !name.is_empty() && !name.chars().any(char::is_control))
        .or_else(user_of_process)
        .unwrap_or_else(|| "unknown".into())
}

/// The user of this process from `/proc/self/status` (its real uid) and `/etc/passwd`, read as
/// text: no `unsafe` call to `getpwuid` needed. `None` off Linux.
fn user_of_process() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    Some(name_of_uid(&passwd, &uid).unwrap_or_else(|| format!("uid-{uid}")))
}

/// The name of `uid` in the text of an `/etc/passwd` file.
fn name_of_uid(passwd: &str, uid: &str) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        (fields.next()? == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_channel_prefixes_the_name() {
        assert_eq!(Actor::user("wang").as_str(), "user:wang");
        assert_eq!(Actor::system("mail").to_string(), "system:mail");
        assert_eq!(Actor::cli_named(" li ").unwrap().as_str(), "cli:li");
    }

    #[test]
    fn an_actor_name_with_a_line_break_or_nothing_in_it_is_refused() {
        assert!(Actor::cli_named("li\nuser:admin").is_err());
        assert!(Actor::cli_named("   ").is_err());
        assert!(Actor::cli_named(&"x".repeat(65)).is_err());
    }

    #[test]
    fn a_uid_is_named_from_the_passwd_file() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nqiping:x:1001:1001::/home/qiping:/bin/sh\n";
        assert_eq!(name_of_uid(passwd, "1001").as_deref(), Some("qiping"));
        assert_eq!(name_of_uid(passwd, "0").as_deref(), Some("root"));
        assert_eq!(name_of_uid(passwd, "7"), None);
    }

    #[test]
    fn the_process_user_is_known_even_without_user_variables() {
        if cfg!(target_os = "linux") {
            let user = user_of_process().expect("a user");
            assert!(!user.is_empty() && user != "unknown", "{user}");
        }
    }
}
