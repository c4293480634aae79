//! The enterprises that answer the survey, identified by their 统一社会信用代码.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Uscc;

/// Size class (企业规模), one of the weighting strata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnterpriseSize {
    Micro,
    Small,
    Medium,
    Large,
}

/// An unknown size class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "未知的企业规模「{0}」,应为 微型、小型、中型、大型 或 micro、small、medium、large (unknown size)"
)]
pub struct UnknownEnterpriseSize(pub String);

impl EnterpriseSize {
    pub const ALL: [EnterpriseSize; 4] = [
        EnterpriseSize::Micro,
        EnterpriseSize::Small,
        EnterpriseSize::Medium,
        EnterpriseSize::Large,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EnterpriseSize::Micro => "micro",
            EnterpriseSize::Small => "small",
            EnterpriseSize::Medium => "medium",
            EnterpriseSize::Large => "large",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            EnterpriseSize::Micro => "微型",
            EnterpriseSize::Small => "小型",
            EnterpriseSize::Medium => "中型",
            EnterpriseSize::Large => "大型",
        }
    }
}

impl fmt::Display for EnterpriseSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EnterpriseSize {
    type Err = UnknownEnterpriseSize;
    /// English (any case) or Chinese, with or without 企业 (微型企业).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t_zh = t.strip_suffix("企业").unwrap_or(t);
        EnterpriseSize::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(t) || k.label_zh() == t_zh)
            .ok_or_else(|| UnknownEnterpriseSize(s.to_string()))
    }
}

/// A contact address that can plausibly receive mail: deliverability is the mail bounce's job, this
/// only catches typos. The domain is lower-cased; the local part is kept as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Email(String);

/// Longest address accepted (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;

/// RFC 5322 specials (besides `@` and `.`): allowed in an address only inside quotes.
const SPECIALS: [char; 11] = ['(', ')', '<', '>', ',', ';', ':', '"', '[', ']', '\\'];

/// Why a string is not a usable email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("邮箱为空 (email is empty)")]
    Empty,
    #[error("邮箱过长:最多254个字符,实为{found}个 (email longer than 254 characters)")]
    TooLong { found: usize },
    #[error("邮箱不能含空格或控制字符 (email contains whitespace or control characters)")]
    Whitespace,
    #[error("邮箱应恰好含一个 @,实有{found}个 (email must contain exactly one @)")]
    AtCount { found: usize },
    #[error("邮箱 @ 前的用户名为空 (email local part is empty)")]
    EmptyLocalPart,
    /// Characters that RFC 5322 allows only inside quotes, which mail software often refuses.
    #[error("邮箱 @ 前的用户名含有不允许的字符「{found}」 (email local part contains {found:?})")]
    MalformedLocalPart { found: char },
    #[error("邮箱域名「{domain}」格式错误,应如 example.com (malformed email domain)")]
    MalformedDomain { domain: String },
}

impl Email {
    /// Parses an address after trimming surrounding whitespace.
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let email = input.trim();
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        let len = email.chars().count();
        if len > EMAIL_MAX {
            return Err(EmailError::TooLong { found: len });
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::Whitespace);
        }
        let ats = email.matches('@').count();
        let Some((local, domain)) = email.split_once('@').filter(|_| ats == 1) else {
            return Err(EmailError::AtCount { found: ats });
        };
        if local.is_empty() {
            return Err(EmailError::EmptyLocalPart);
        }
        if let Some(found) = local.chars().find(|c| SPECIALS.contains(c)) {
            return Err(EmailError::MalformedLocalPart { found });
        }
        let labels_ok = domain.contains('.')
            && domain
                .split('.')
                .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if !labels_ok || domain.contains(SPECIALS) {
            return Err(EmailError::MalformedDomain {
                domain: domain.to_string(),
            });
        }
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Email {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::parse(s)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Email::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An enterprise in the registry. `email` is `None` when it has no usable address (it is then not
/// invited by mail). District, industry and size are the weighting strata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enterprise {
    pub uscc: Uscc,
    pub name: String,
    pub email: Option<Email>,
    pub district: String,
    pub industry: String,
    pub size: EnterpriseSize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_both_languages() {
        for size in EnterpriseSize::ALL {
            assert_eq!(size.as_str().parse(), Ok(size));
            assert_eq!(size.as_str().to_uppercase().parse(), Ok(size));
            assert_eq!(size.label_zh().parse(), Ok(size));
            assert_eq!(format!("{}企业", size.label_zh()).parse(), Ok(size));
        }
        assert!("巨型".parse::<EnterpriseSize>().is_err());
        assert!("".parse::<EnterpriseSize>().is_err());
    }

    #[test]
    fn a_plain_address_is_accepted_and_its_domain_lower_cased() {
        let email = Email::parse(" Zhang.San@Example.COM.cn ").unwrap();
        assert_eq!(email.as_str(), "Zhang.San@example.com.cn");
        assert!(Email::parse("hr+survey@xz-steel.com").is_ok());
        assert!(Email::parse("财务@公司.中国").is_ok());
    }

    #[test]
    fn malformed_addresses_say_what_is_wrong() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert_eq!(
            Email::parse("zhang san@qq.com"),
            Err(EmailError::Whitespace)
        );
        assert_eq!(
            Email::parse("zhangsan.qq.com"),
            Err(EmailError::AtCount { found: 0 })
        );
        assert_eq!(
            Email::parse("a@b@qq.com"),
            Err(EmailError::AtCount { found: 2 })
        );
        assert_eq!(Email::parse("@qq.com"), Err(EmailError::EmptyLocalPart));
        for domain in ["qq", "qq..com", ".qq.com", "qq.com.", "-qq.com", ""] {
            assert_eq!(
                Email::parse(&format!("a@{domain}")),
                Err(EmailError::MalformedDomain {
                    domain: domain.to_string()
                })
            );
        }
        let long = format!("{}@qq.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong { found: 257 }));
    }
}
