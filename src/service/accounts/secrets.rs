//! Passwords (argon2id) and random secret values (session cookies, CSRF and API tokens).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use sha2::{Digest, Sha256};

use crate::domain::Secret;
use crate::service::ServiceError;

/// Shortest password accepted: long enough that the lockout, not luck, decides a guessing attack.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// A fresh random value of 32 bytes, base64url: unguessable session ids and tokens.
pub fn random_secret() -> Secret {
    let bytes: [u8; 32] = rand::rng().random();
    Secret::new(URL_SAFE_NO_PAD.encode(bytes))
}

/// What the database stores to find a session or token by its value: hex SHA-256. The values are
/// 256-bit random, so a fast hash is enough (unlike passwords).
pub fn digest(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Checks the password rules, then hashes it with argon2id (the crate's default parameters:
/// m = 19 MiB, t = 2, p = 1, the OWASP minimum).
pub fn hash_password(password: &Secret) -> Result<String, ServiceError> {
    if password.expose().chars().count() < MIN_PASSWORD_CHARS {
        return Err(ServiceError::Invalid(format!(
            "密码太短:至少需要 {MIN_PASSWORD_CHARS} 个字符"
        )));
    }
    let salt_bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| ServiceError::internal("无法生成盐值", e))?;
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::internal("无法计算密码哈希", e))
}

/// Whether `password` matches the stored PHC string. A malformed stored hash matches nothing.
pub fn verify_password(password: &Secret, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the time of one verification, so an unknown user name answers as slowly as a known one
/// and the timing does not tell which names exist.
pub fn verify_nothing(password: &Secret) {
    let salt = SaltString::encode_b64(&[0u8; 16]);
    if let Ok(salt) = salt {
        let _ = Argon2::default().hash_password(password.expose().as_bytes(), &salt);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let pw = Secret::new("correct horse battery");
        let hash = hash_password(&pw).expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("correct horse"));
        assert!(verify_password(&pw, &hash));
        assert!(!verify_password(&Secret::new("wrong password!"), &hash));
        assert!(!verify_password(&pw, "garbage"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(hash_password(&Secret::new("short")).is_err());
    }
}
