//! Survey links (docs/architecture.md §4.1): `token = base64url(HMAC-SHA256(secret, invitation id ‖
//! link version))`, 32 bytes. The database stores only `SHA-256(token)`, so a reminder can render the
//! link again at send time, while a database leak alone opens no survey. Bumping the link version
//! (a reissue) kills the old link.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::ServiceError;

/// The configured secret links are derived under. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct LinkSecret(Vec<u8>);

impl std::fmt::Debug for LinkSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSecret(***)")
    }
}

/// Secrets shorter than this (in bytes) are refused: a guessable key makes every link guessable.
pub const MIN_SECRET_BYTES: usize = 16;

impl LinkSecret {
    /// The secret of the configuration, or an error telling the operator how to make one.
    pub fn from_config(secret: Option<&str>) -> Result<Self, ServiceError> {
        let secret = secret.map(str::trim).unwrap_or_default();
        if secret.is_empty() {
            return Err(ServiceError::Internal(
                "未配置问卷链接密钥:请运行 qiping init,或设置 link_secret / QIPING_LINK_SECRET"
                    .into(),
            ));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(secret)
            .unwrap_or_else(|_| secret.as_bytes().to_vec());
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(ServiceError::Internal(format!(
                "问卷链接密钥太短:至少需要 {MIN_SECRET_BYTES} 字节(qiping init 会生成 32 字节)"
            )));
        }
        Ok(Self(bytes))
    }

    /// The token of one invitation at one link version.
    pub fn token(&self, invitation_id: i64, link_version: i32) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(&invitation_id.to_be_bytes());
        mac.update(&link_version.to_be_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

impl LinkSecret {
    /// The key of the campaigns' spent keys (src/ballot/spent.rs), derived from this secret.
    pub fn spent_keys(&self) -> crate::ballot::SpentKeys {
        crate::ballot::SpentKeys::new(&self.0)
    }

    /// The token of a problem's confirmation link at one version: the same derivation, with a
    /// label first so that it can never equal a survey token.
    pub fn problem_token(&self, problem_id: i64, version: i32) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(b"qiping-problem-confirmation\0");
        mac.update(&problem_id.to_be_bytes());
        mac.update(&version.to_be_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// The link an enterprise opens to say whether its problem is resolved: `{base_url}/p/{token}`.
pub fn problem_url(base_url: &str, token: &str) -> String {
    format!("{}/p/{token}", base_url.trim_end_matches('/'))
}

/// What the database stores to find an invitation by its token: hex SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A syntactically plausible token (43 base64url characters); anything else is not looked up.
pub fn is_well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The link an enterprise opens: `{base_url}/s/{token}`.
pub fn survey_url(base_url: &str, token: &str) -> String {
    format!("{}/s/{token}", base_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> LinkSecret {
        LinkSecret::from_config(Some("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0")).expect("secret")
    }

    #[test]
    fn a_token_is_32_bytes_of_base64url_and_depends_on_id_and_version() {
        let s = secret();
        let t = s.token(7, 1);
        assert!(is_well_formed(&t), "{t}");
        assert_eq!(t, s.token(7, 1), "derivation is deterministic");
        assert_ne!(t, s.token(7, 2), "a reissue changes the link");
        assert_ne!(t, s.token(8, 1));
        let other = LinkSecret::from_config(Some("another-secret-of-enough-length")).expect("s");
        assert_ne!(
            t,
            other.token(7, 1),
            "a different secret gives different links"
        );
    }

    #[test]
    fn the_stored_hash_is_not_the_token() {
        let t = secret().token(1, 1);
        let h = token_hash(&t);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&t));
    }

    #[test]
    fn missing_or_short_secrets_are_refused_and_never_printed() {
        assert!(LinkSecret::from_config(None).is_err());
        assert!(LinkSecret::from_config(Some("short")).is_err());
        assert_eq!(format!("{:?}", secret()), "LinkSecret(***)");
    }

    #[test]
    fn malformed_tokens_are_recognised_before_any_lookup() {
        assert!(!is_well_formed("abc"));
        assert!(!is_well_formed(&"a".repeat(42)));
        assert!(!is_well_formed(&format!("{}=", "a".repeat(42))));
        assert!(is_well_formed(&"a".repeat(43)));
    }
}
