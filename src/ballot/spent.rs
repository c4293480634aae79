//! Spent keys: what a sealed ballot carries to say "this link has answered" without naming the
//! invitation.
//!
//! `K_spent = HKDF-SHA256(salt, link_secret, info)` and a ballot's spent key is
//! `HMAC-SHA256(K_spent, campaign id ‖ invitation id)`. It does not follow the link version, so a
//! reissued link, or a request still in flight with the old one, finds the same spent key and
//! cannot add a second ballot. Without `link_secret` a spent key names no invitation; with it,
//! anyone can recompute every invitation's spent key and so tell who has answered (G2) — but not
//! what: the answers are sealed to the campaign's ballot key.

use std::fmt;

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Salt of the derivation (fixed, public: it only separates this use of `link_secret` from others).
const SALT: &[u8] = b"qiping spent-key salt v1";
/// The derivation's label.
const INFO: &[u8] = b"qiping ballot spent keys v1";

/// Bytes of one spent key.
pub const SPENT_KEY_BYTES: usize = 32;

/// One invitation's spent key in one campaign.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpentKey(pub [u8; SPENT_KEY_BYTES]);

impl SpentKey {
    pub fn as_bytes(&self) -> &[u8; SPENT_KEY_BYTES] {
        &self.0
    }

    /// A spent key as stored, or `None` when it has the wrong length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

impl fmt::Debug for SpentKey {
    /// `***`: with `link_secret`, even a prefix names the invitation in a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SpentKey(***)")
    }
}

/// The key spent keys are made with, derived from `link_secret`.
pub struct SpentKeys(Zeroizing<[u8; 32]>);

impl fmt::Debug for SpentKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SpentKeys(***)")
    }
}

impl SpentKeys {
    /// Derives `K_spent` from the link secret's bytes.
    pub fn new(link_secret: &[u8]) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(SALT), link_secret);
        let mut okm = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit of 255 × 32, so this cannot fail.
        if hk.expand(INFO, okm.as_mut()).is_err() {
            unreachable!("HKDF-SHA256 expands to 32 bytes");
        }
        Self(okm)
    }

    /// The spent key of one invitation in one campaign.
    pub fn spent_key(&self, campaign_id: i64, invitation_id: i64) -> SpentKey {
        let mut mac = match Hmac::<Sha256>::new_from_slice(self.0.as_ref()) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(&campaign_id.to_be_bytes());
        mac.update(&invitation_id.to_be_bytes());
        SpentKey(mac.finalize().into_bytes().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_per_invitation_and_campaign() {
        let keys = SpentKeys::new(b"0123456789abcdef0123456789abcdef");
        let a = keys.spent_key(1, 1);
        assert_eq!(a, keys.spent_key(1, 1));
        assert_ne!(a, keys.spent_key(2, 1), "unique per campaign");
        assert_ne!(a, keys.spent_key(1, 2));
        let other = SpentKeys::new(b"another secret of thirty-two b..");
        assert_ne!(a, other.spent_key(1, 1));
        assert_eq!(format!("{keys:?}"), "SpentKeys(***)");
    }
}
