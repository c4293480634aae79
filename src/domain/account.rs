//! Who may sign in and what they may see: the roles of docs/domain.md §2, and a wrapper that keeps
//! passwords, tokens and cookie values out of `Debug` output and therefore out of logs.

use std::fmt;

/// A signed-in user's role. The public has no account and no role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// 营商办: runs campaigns, sees aggregates.
    Admin,
    /// 纪委监委: reads flags, histories and evidence; every read is audited.
    Inspector,
    /// A unit viewer: one unit and those under it.
    Unit,
}

/// A role name that is not one of `admin`, `inspector`, `unit`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知角色「{0}」(role must be admin, inspector or unit)")]
pub struct UnknownRole(pub String);

impl Role {
    /// The stored and command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Inspector => "inspector",
            Role::Unit => "unit",
        }
    }

    /// The name shown on pages.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "营商办管理员",
            Role::Inspector => "纪委监委",
            Role::Unit => "单位查看员",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "admin" => Ok(Role::Admin),
            "inspector" => Ok(Role::Inspector),
            "unit" => Ok(Role::Unit),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A password, token or cookie value. `Debug` and `Display` print `***`, so a secret that ends up
/// in a log line or an error message by accident shows nothing; [`Secret::expose`] is the one
/// door to the value and is easy to grep for.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for hashing or comparing; never for printing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_names() {
        for role in [Role::Admin, Role::Inspector, Role::Unit] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn a_secret_never_prints_its_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(s.expose(), "hunter2");
    }
}
