//! The ballot key file: the only place a campaign's private key exists between the open and the
//! close.
//!
//! A small UTF-8 text file, readable by the office that keeps it: comment lines (`#`) saying what
//! it is and what to do with it, then `name: value` lines — the format, the campaign and its period,
//! the day it was made, the suite, the public key's fingerprint, the key's 32-byte seed in base64url,
//! and a SHA-256 checksum of the lines before it, so a damaged copy is told apart from a wrong key.
//!
//! [`write_new`] creates the file with `O_EXCL` and mode 0600, fsyncs it and its folder, reads it
//! back and checks it before anything relies on it. [`destroy`] overwrites the file with zeros,
//! fsyncs, and unlinks it — on a flash drive or a copy-on-write file system an overwrite does not
//! reach every old block, which is why the README asks the office to destroy every copy (and the
//! medium, where it can).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{PrivateKey, SEED_BYTES, SuiteIds};

/// The first name of every key file, and its format.
const MAGIC: &str = "qiping-ballot-key";
const FORMAT: &str = "1";
/// A key file is a few hundred bytes; anything much larger is not one.
const MAX_FILE_BYTES: u64 = 16 * 1024;

/// What a key file says about itself, besides the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFileInfo {
    /// The campaign's period, as `2026H2`.
    pub period: String,
    pub campaign_id: i64,
    /// The day the key was made, as `2026-12-07`.
    pub created: String,
}

/// Why a key file could not be written, read or destroyed.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("密钥文件 {0} 已存在:不会覆盖,请换一个文件名")]
    Exists(PathBuf),
    #[error("无法写入密钥文件 {path}:{source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("无法读取密钥文件 {path}:{source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("这不是企评的选票密钥文件({0})")]
    NotAKeyFile(String),
    #[error("密钥文件已损坏(校验和不符),请换用另一份副本")]
    Corrupt,
    #[error("密钥文件使用的加密算法({0})本版本不支持")]
    UnsupportedSuite(String),
    #[error("密钥文件写入后读回不一致,文件已删除:请换一个存储介质再试")]
    ReadBack,
    #[error("无法销毁密钥文件 {path}:{source}")]
    Destroy {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl KeyFileError {
    /// Whether the fault is the machine's (a disk, a folder), not the file the office gave.
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Write { .. } | Self::Destroy { .. })
    }
}

/// The file name offered for a campaign's key: `企评选票密钥-2026H2-<fingerprint start>.key`.
pub fn suggested_file_name(period: &str, key: &PrivateKey) -> String {
    let short = key.public_key().fingerprint().short();
    let first = short.split('-').next().unwrap_or_default();
    format!("qiping-ballot-key-{period}-{first}.key")
}

/// The bytes of a key file for `key`.
pub fn to_bytes(info: &KeyFileInfo, key: &PrivateKey) -> Zeroizing<Vec<u8>> {
    let fingerprint = key.public_key().fingerprint();
    let body = Zeroizing::new(format!(
        "{MAGIC}: {FORMAT}\ncampaign: {}\nperiod: {}\ncreated: {}\nsuite: {}\nfingerprint: {}\nseed: {}\n",
        info.campaign_id,
        info.period,
        info.created,
        SuiteIds::CURRENT,
        fingerprint.hex(),
        URL_SAFE_NO_PAD.encode(key.seed()),
    ));
    let checksum = hex::encode(Sha256::digest(body.as_bytes()));
    let text = format!(
        "# 企评 · 第 {period} 期评议的选票密钥(指纹 {short})\n\
         # 截止评议时需要用它打开全部答卷。请保存在移动存储介质上,不要放在会被备份的磁盘上;\n\
         # 另存一份离线副本:丢失全部副本即丢失本期全部答卷。截止评议后请销毁每一份副本。\n\
         {body}checksum: {checksum}\n",
        period = info.period,
        short = fingerprint.short(),
        body = body.as_str(),
    );
    Zeroizing::new(text.into_bytes())
}

/// The key and what the file says about it, from a key file's bytes. Checks the format, the
/// checksum, the suite, and that the seed gives the fingerprint the file names.
pub fn from_bytes(bytes: &[u8]) -> Result<(KeyFileInfo, PrivateKey), KeyFileError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| KeyFileError::NotAKeyFile("不是文本文件".into()))?;
    // A copy saved by Notepad starts with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut body = Zeroizing::new(String::new());
    let mut fields: Vec<(&str, &str)> = Vec::new();
    let mut checksum = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(": ") else {
            return Err(KeyFileError::NotAKeyFile("有无法识别的行".into()));
        };
        if name == "checksum" {
            checksum = Some(value);
            break;
        }
        body.push_str(line);
        body.push('\n');
        fields.push((name, value));
    }
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| KeyFileError::NotAKeyFile(format!("缺少 {name}")))
    };
    if fields.first().map(|(n, _)| *n) != Some(MAGIC) {
        return Err(KeyFileError::NotAKeyFile(
            "开头不是 qiping-ballot-key".into(),
        ));
    }
    if field(MAGIC)? != FORMAT {
        return Err(KeyFileError::NotAKeyFile(format!(
            "格式 {} 不受支持",
            field(MAGIC)?
        )));
    }
    let Some(checksum) = checksum else {
        return Err(KeyFileError::Corrupt);
    };
    if hex::encode(Sha256::digest(body.as_bytes())) != checksum.trim() {
        return Err(KeyFileError::Corrupt);
    }
    let suite = field("suite")?;
    if SuiteIds::parse(suite).is_none() {
        return Err(KeyFileError::UnsupportedSuite(suite.to_owned()));
    }
    let campaign_id = field("campaign")?
        .parse()
        .map_err(|_| KeyFileError::Corrupt)?;
    let decoded = Zeroizing::new(
        URL_SAFE_NO_PAD
            .decode(field("seed")?)
            .map_err(|_| KeyFileError::Corrupt)?,
    );
    let mut seed = Zeroizing::new([0u8; SEED_BYTES]);
    if decoded.len() != SEED_BYTES {
        return Err(KeyFileError::Corrupt);
    }
    seed.copy_from_slice(&decoded);
    let key = PrivateKey::from_seed(seed);
    if key.public_key().fingerprint().hex() != field("fingerprint")? {
        return Err(KeyFileError::Corrupt);
    }
    let info = KeyFileInfo {
        period: field("period")?.to_owned(),
        campaign_id,
        created: field("created")?.to_owned(),
    };
    Ok((info, key))
}

/// Creates a new key file at `path` (never over an existing file; mode 0600), fsyncs it and its
/// folder, then reads it back and checks it gives the same key. On any failure the file is removed.
pub fn write_new(path: &Path, info: &KeyFileInfo, key: &PrivateKey) -> Result<(), KeyFileError> {
    let bytes = to_bytes(info, key);
    let write_err = |source| KeyFileError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(KeyFileError::Exists(path.to_owned()));
        }
        Err(e) => return Err(write_err(e)),
    };
    let written = file
        .write_all(&bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| sync_folder(path));
    drop(file);
    if let Err(e) = written {
        // Whatever part of the seed reached the medium is overwritten, not only unlinked.
        if destroy(path).is_err() {
            let _ = fs::remove_file(path);
        }
        return Err(write_err(e));
    }
    drop_cached(path);
    match read(path) {
        Ok((back, read_key)) if back == *info && read_key.seed() == key.seed() => Ok(()),
        _ => {
            let _ = destroy(path);
            Err(KeyFileError::ReadBack)
        }
    }
}

/// The key and its file's details, from a key file on disk.
pub fn read(path: &Path) -> Result<(KeyFileInfo, PrivateKey), KeyFileError> {
    let read_err = |source| KeyFileError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_FILE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    from_bytes(&bytes)
}

/// Overwrites a key file with zeros, fsyncs it, and removes it.
pub fn destroy(path: &Path) -> Result<(), KeyFileError> {
    let destroy_err = |source| KeyFileError::Destroy {
        path: path.to_owned(),
        source,
    };
    let mut options = OpenOptions::new();
    options.write(true);
    // Never through a symbolic link: a link swapped in for the key file must not make this
    // overwrite another file (the database, say).
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    let mut file = options.open(path).map_err(destroy_err)?;
    let meta = file.metadata().map_err(destroy_err)?;
    if !meta.is_file() {
        return Err(destroy_err(std::io::Error::other("不是普通文件")));
    }
    let len = meta.len();
    let zeros = vec![0u8; usize::try_from(len).unwrap_or(0)];
    file.write_all(&zeros)
        .and_then(|()| file.sync_all())
        .map_err(destroy_err)?;
    // The name is removed only if it still names the file just overwritten.
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let now = fs::symlink_metadata(path).map_err(destroy_err)?;
        if (now.dev(), now.ino()) != (meta.dev(), meta.ino()) {
            return Err(destroy_err(std::io::Error::other("文件在销毁时被替换")));
        }
    }
    drop(file);
    fs::remove_file(path).map_err(destroy_err)?;
    sync_folder(path).map_err(destroy_err)
}

/// Asks the kernel to drop its cached pages of a file just written and synced, so the read-back
/// that follows reads the medium, not the page cache (Linux; elsewhere the read-back may be
/// served from the cache).
fn drop_cached(path: &Path) {
    #[cfg(target_os = "linux")]
    if let Ok(file) = File::open(path) {
        let _ = rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = path;
}

/// fsync of the folder holding `path`, so a created or removed name survives a crash.
fn sync_folder(path: &Path) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(folder)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> KeyFileInfo {
        KeyFileInfo {
            period: "2026H2".into(),
            campaign_id: 7,
            created: "2026-12-07".into(),
        }
    }

    #[test]
    fn bytes_round_trip_and_damage_is_caught() {
        let key = PrivateKey::generate().expect("rng");
        let bytes = to_bytes(&info(), &key);
        let (back, read) = from_bytes(&bytes).expect("read");
        assert_eq!(back, info());
        assert!(read.matches(key.public_key()));
        let text = String::from_utf8(bytes.to_vec()).expect("utf8");
        let damaged = text.replace("campaign: 7", "campaign: 8");
        assert!(matches!(
            from_bytes(damaged.as_bytes()),
            Err(KeyFileError::Corrupt)
        ));
        assert!(matches!(
            from_bytes(b"hello"),
            Err(KeyFileError::NotAKeyFile(_))
        ));
        // CRLF line ends (a copy edited on Windows) still read.
        let crlf = text.replace('\n', "\r\n");
        assert!(from_bytes(crlf.as_bytes()).is_ok());
    }
}
