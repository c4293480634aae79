//! Sealed ballots: an enterprise's answers, sealed when it submits to the campaign's ballot key and
//! opened only when the campaign closes (docs/architecture.md, "The ballot's life").
//!
//! Sealing is HPKE (RFC 9180) from the `hpke` crate, base mode, single-shot — no construction of
//! our own. The suite is X-Wing (X25519 + ML-KEM-768) for the KEM, so a ballot copied from a
//! backup today stays sealed against a future quantum computer; HKDF-SHA256; ChaCha20-Poly1305.
//! The `info` names the format; the associated data binds a ballot to its campaign and its spent
//! key (`"qiping-ballot-v1" ‖ campaign id ‖ spent key`), so a ballot cannot be moved to another
//! campaign or another link's row.
//!
//! The private key is made here from 32 bytes of the operating system's random source (its seed),
//! leaves the process only as a key file ([`keyfile`]) and is zeroed when dropped. The public key
//! is stored with the campaign and every `serve` process seals with it.
//!
//! The crate's X-Wing follows an Internet-Draft; `tests/fixtures/ballot/v1/` holds a key and a
//! ballot sealed by this release, and every later release must still open it.

pub mod content;
pub mod keyfile;
pub mod spent;

use std::fmt;

use hpke::kem::Kem as _;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use rand::TryRng;
use rand::rngs::SysRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub use content::{
    BallotContent, BallotLayout, DEFAULT_COMMENT_BUDGET_CHARS, DecodeError, EncodeError,
    LayoutError, MAX_ADDED_UNITS, MAX_ASSIGNED_UNITS, RatedUnit, budget_chars,
};
pub use spent::{SpentKey, SpentKeys};

type Kem = hpke::kem::XWing;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::ChaCha20Poly1305;

/// The HPKE `info` of every ballot of format 1.
const INFO: &[u8] = b"qiping sealed ballot v1";
/// The first bytes of every ballot's associated data.
const AAD_LABEL: &[u8] = b"qiping-ballot-v1";
/// The first byte of a sealed ballot: its format.
pub const SEALED_FORMAT: u8 = 1;
/// Bytes of the KEM's encapsulated key at the front of every sealed ballot.
pub const ENCAPPED_KEY_BYTES: usize = 1120;
/// Bytes of the AEAD's tag.
const TAG_BYTES: usize = 16;
/// Bytes of a public key.
pub const PUBLIC_KEY_BYTES: usize = 1216;
/// Bytes of a private key's seed.
const SEED_BYTES: usize = 32;

/// The algorithms a campaign's ballots are sealed with, stored with the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuiteIds {
    /// Format of the sealed ballot and its plaintext.
    pub format: u8,
    pub kem: u16,
    pub kdf: u16,
    pub aead: u16,
}

impl SuiteIds {
    /// The suite every campaign opened by this release uses.
    pub const CURRENT: SuiteIds = SuiteIds {
        format: SEALED_FORMAT,
        kem: 0x647a,
        kdf: 0x0001,
        aead: 0x0003,
    };

    /// As stored: `v1 (KEM 0x647a, KDF 0x0001, AEAD 0x0003)`.
    pub fn parse(text: &str) -> Option<Self> {
        (text == Self::CURRENT.to_string()).then_some(Self::CURRENT)
    }
}

impl fmt::Display for SuiteIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "v{} (KEM 0x{:04x}, KDF 0x{:04x}, AEAD 0x{:04x})",
            self.format, self.kem, self.kdf, self.aead
        )
    }
}

// The constants above are the crate's, checked at compile time.
const _: () = assert!(<Kem as hpke::Kem>::KEM_ID == SuiteIds::CURRENT.kem);
const _: () = assert!(<Kdf as hpke::kdf::Kdf>::KDF_ID == SuiteIds::CURRENT.kdf);
const _: () = assert!(<Aead as hpke::aead::Aead>::AEAD_ID == SuiteIds::CURRENT.aead);

/// A campaign's private ballot key. Holds its seed and the key derived from it; both are zeroed
/// when dropped, and `Debug` prints `***`.
#[derive(Clone)]
pub struct PrivateKey {
    seed: Zeroizing<[u8; SEED_BYTES]>,
    key: <Kem as hpke::Kem>::PrivateKey,
    public: PublicKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(***)")
    }
}

/// Why a new key could not be made.
#[derive(Debug, thiserror::Error)]
#[error("操作系统随机数源不可用:{0}")]
pub struct RandomError(String);

impl PrivateKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, RandomError> {
        let mut seed = Zeroizing::new([0u8; SEED_BYTES]);
        SysRng
            .try_fill_bytes(seed.as_mut())
            .map_err(|e| RandomError(e.to_string()))?;
        Ok(Self::from_seed(seed))
    }

    /// The key of a seed (as read from a key file).
    pub(crate) fn from_seed(seed: Zeroizing<[u8; SEED_BYTES]>) -> Self {
        let (key, public) = Kem::derive_keypair(seed.as_ref());
        Self {
            seed,
            key,
            public: PublicKey(public),
        }
    }

    pub(crate) fn seed(&self) -> &[u8; SEED_BYTES] {
        &self.seed
    }

    /// The public key that seals to this key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Whether this is the private key of `public` (public keys are compared by value; they are
    /// not secret).
    pub fn matches(&self, public: &PublicKey) -> bool {
        self.public == *public
    }
}

/// A campaign's public ballot key, as stored with the campaign.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(<Kem as hpke::Kem>::PublicKey);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint().short())
    }
}

/// A stored public key that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("存储的选票公钥无效")]
pub struct BadPublicKey;

impl PublicKey {
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.to_bytes().to_vec()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BadPublicKey> {
        <Kem as hpke::Kem>::PublicKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| BadPublicKey)
    }

    /// SHA-256 of the suite and the key's bytes.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut hash = Sha256::new();
        hash.update(b"qiping ballot key fingerprint\0");
        hash.update(SuiteIds::CURRENT.to_string().as_bytes());
        hash.update(self.0.to_bytes());
        Fingerprint(hash.finalize().into())
    }
}

/// A public key's fingerprint: shown on the campaign page and in `campaign show`, and written into
/// the key file, so an office can tell its key files apart.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The first 128 bits, in eight groups of four hex digits: `3F2A-9C1B-…`.
    pub fn short(&self) -> String {
        let hex = hex::encode_upper(&self.0[..16]);
        hex.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// All 256 bits in lower-case hex.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

/// A sealed ballot as stored: format byte, the KEM's encapsulated key, the ciphertext and its tag.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedBallot(pub Vec<u8>);

impl fmt::Debug for SealedBallot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedBallot({} bytes)", self.0.len())
    }
}

/// Bytes of every sealed ballot of a layout.
pub fn sealed_len(layout: &BallotLayout) -> usize {
    1 + ENCAPPED_KEY_BYTES + layout.plaintext_len() + TAG_BYTES
}

/// Why a ballot could not be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(transparent)]
    Content(#[from] EncodeError),
    #[error("选票加密失败:{0}")]
    Hpke(String),
}

/// Why a sealed ballot could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("sealed ballot has {found} bytes, the campaign's ballots have {expected}")]
    Length { found: usize, expected: usize },
    #[error("sealed ballot format {0} is not known")]
    Format(u8),
    #[error("sealed ballot does not open with this key, campaign and spent key")]
    Decrypt,
    #[error(transparent)]
    Content(#[from] DecodeError),
}

fn associated_data(campaign_id: i64, spent: &SpentKey) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_LABEL.len() + 8 + spent::SPENT_KEY_BYTES);
    aad.extend_from_slice(AAD_LABEL);
    aad.extend_from_slice(&campaign_id.to_be_bytes());
    aad.extend_from_slice(spent.as_bytes());
    aad
}

/// Seals `content` to `public` for one campaign and one spent key, padded to `layout`.
pub fn seal(
    public: &PublicKey,
    campaign_id: i64,
    spent: &SpentKey,
    content: &BallotContent,
    layout: &BallotLayout,
) -> Result<SealedBallot, SealError> {
    let plaintext = content.encode(layout)?;
    let (encapped, ciphertext) = hpke::single_shot_seal::<Aead, Kdf, Kem>(
        &OpModeS::Base,
        &public.0,
        INFO,
        &plaintext,
        &associated_data(campaign_id, spent),
    )
    .map_err(|e| SealError::Hpke(e.to_string()))?;
    let mut sealed = Vec::with_capacity(sealed_len(layout));
    sealed.push(SEALED_FORMAT);
    sealed.extend_from_slice(&encapped.to_bytes());
    sealed.extend_from_slice(&ciphertext);
    // Every ballot of a campaign has one length; a crate that changed its sizes must not make
    // one that stands out.
    if sealed.len() != sealed_len(layout) {
        return Err(SealError::Hpke(format!(
            "sealed ballot has {} bytes, expected {}",
            sealed.len(),
            sealed_len(layout)
        )));
    }
    Ok(SealedBallot(sealed))
}

/// Opens a ballot sealed by [`seal`] with the campaign's private key.
pub fn open(
    key: &PrivateKey,
    campaign_id: i64,
    spent: &SpentKey,
    sealed: &[u8],
    layout: &BallotLayout,
) -> Result<BallotContent, OpenError> {
    if sealed.len() != sealed_len(layout) {
        return Err(OpenError::Length {
            found: sealed.len(),
            expected: sealed_len(layout),
        });
    }
    if sealed[0] != SEALED_FORMAT {
        return Err(OpenError::Format(sealed[0]));
    }
    let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(&sealed[1..1 + ENCAPPED_KEY_BYTES])
        .map_err(|_| OpenError::Decrypt)?;
    let plaintext = Zeroizing::new(
        hpke::single_shot_open::<Aead, Kdf, Kem>(
            &OpModeR::Base,
            &key.key,
            &encapped,
            INFO,
            &sealed[1 + ENCAPPED_KEY_BYTES..],
            &associated_data(campaign_id, spent),
        )
        .map_err(|_| OpenError::Decrypt)?,
    );
    Ok(BallotContent::decode(&plaintext, layout)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_the_crates() {
        let key = PrivateKey::generate().expect("rng");
        assert_eq!(key.public_key().to_bytes().len(), PUBLIC_KEY_BYTES);
        let layout = BallotLayout::for_campaign(5, 10, 10, 2000).expect("layout");
        let spent = SpentKeys::new(&[7; 32]).spent_key(1, 1);
        let sealed = seal(
            key.public_key(),
            1,
            &spent,
            &BallotContent::default(),
            &layout,
        )
        .expect("seal");
        assert_eq!(sealed.0.len(), sealed_len(&layout));
        assert_eq!(
            open(&key, 1, &spent, &sealed.0, &layout).expect("open"),
            BallotContent::default()
        );
        assert_eq!(format!("{key:?}"), "PrivateKey(***)");
        assert_eq!(
            SuiteIds::parse(&SuiteIds::CURRENT.to_string()),
            Some(SuiteIds::CURRENT)
        );
    }
}
