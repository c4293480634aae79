//! The close's shuffle at any scale: one uniform random permutation of the opened entries without
//! holding them all in memory.
//!
//! Each entry goes to a bucket drawn uniformly at random; each bucket is then shuffled on its own
//! and the buckets are read in turn. Drawing every entry's bucket independently and shuffling each
//! bucket uniformly gives every order of the whole the same chance (the scatter-then-shuffle of
//! external-memory permutation; Sanders, "Random permutations on distributed, external and
//! hierarchical memory", 1998), so the stored order says nothing about which ballot an entry came
//! from, exactly as one shuffle in memory.
//!
//! The close chooses the number of buckets from the ballots' size and its memory bound
//! (`[close] memory_mib`). With one bucket, nothing leaves memory. With more, a bucket's entries
//! wait in a file of its own in the scratch folder (`[close] scratch_dir`, else the system's
//! temporary folder), written in chunks sealed with ChaCha20-Poly1305 under a key drawn from the
//! operating system for this close alone, held only in memory and zeroed when the close ends
//! (the crate zeroes it on drop). The files are unnamed (`O_TMPFILE` where the system has it), so
//! the operating system deletes them when the process ends however it ends, and what a crash
//! leaves on the disk is ciphertext under a key that no longer exists. A chunk's bucket and place
//! are bound into its seal, so a file changed meanwhile is refused, not read.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rand::RngExt;
use rand::TryRng;
use rand::rngs::SysRng;
use zeroize::Zeroizing;

use crate::service::ServiceError;

/// Most plaintext bytes a bucket gathers before they are sealed and written as one chunk.
pub(super) const CHUNK_BYTES: usize = 256 * 1024;

/// Entries scattered into buckets; see the module.
pub(super) struct Scatter {
    cipher: ChaCha20Poly1305,
    buckets: Vec<Bucket>,
    /// Chunks sealed so far: each chunk's nonce, never repeated under the key.
    sealed: u64,
    /// Where bucket files are made; `None` with one bucket (all in memory).
    scratch: Option<std::path::PathBuf>,
    /// Plaintext bytes a bucket gathers before it writes them as one chunk.
    chunk_bytes: usize,
}

#[derive(Default)]
struct Bucket {
    /// Framed entries not yet written: `u32` length, then the entry.
    pending: Vec<u8>,
    file: Option<BufWriter<File>>,
    /// Chunks written to the file.
    chunks: u64,
}

impl Scatter {
    /// `buckets` buckets; above one, their files go to `scratch`, written `chunk_bytes` of
    /// entries at a time.
    pub(super) fn new(
        buckets: usize,
        chunk_bytes: usize,
        scratch: &Path,
    ) -> Result<Self, ServiceError> {
        let mut key = Zeroizing::new([0u8; 32]);
        SysRng
            .try_fill_bytes(key.as_mut())
            .map_err(|e| ServiceError::internal("系统随机数不可用", e))?;
        let cipher = ChaCha20Poly1305::new_from_slice(key.as_ref())
            .map_err(|e| ServiceError::internal("截止的临时密钥", e))?;
        let buckets = buckets.max(1);
        Ok(Scatter {
            cipher,
            buckets: (0..buckets).map(|_| Bucket::default()).collect(),
            sealed: 0,
            scratch: (buckets > 1).then(|| scratch.to_path_buf()),
            chunk_bytes: chunk_bytes.max(1),
        })
    }

    /// How many buckets there are.
    pub(super) fn buckets(&self) -> usize {
        self.buckets.len()
    }

    /// Adds one entry, the concatenation of `parts`, to a bucket drawn uniformly at random from
    /// the operating system.
    pub(super) fn push(&mut self, parts: &[&[u8]]) -> Result<(), ServiceError> {
        let b = if self.buckets.len() == 1 {
            0
        } else {
            random_below(self.buckets.len())
        };
        let len = u32::try_from(parts.iter().map(|p| p.len()).sum::<usize>())
            .map_err(|_| ServiceError::internal("截止", "一条答案过长"))?;
        let bucket = &mut self.buckets[b];
        bucket.pending.extend_from_slice(&len.to_le_bytes());
        for part in parts {
            bucket.pending.extend_from_slice(part);
        }
        if self.scratch.is_some() && bucket.pending.len() >= self.chunk_bytes {
            self.write_chunk(b)?;
        }
        Ok(())
    }

    /// Seals bucket `b`'s pending entries and appends them to its file.
    fn write_chunk(&mut self, b: usize) -> Result<(), ServiceError> {
        let io = |e: std::io::Error| {
            ServiceError::internal("截止时写入临时文件(检查 [close] scratch_dir 的剩余空间)", e)
        };
        let nonce_number = self.sealed;
        self.sealed += 1;
        let bucket = &mut self.buckets[b];
        let aad = chunk_aad(b, bucket.chunks);
        let sealed = self
            .cipher
            .encrypt(
                &nonce(nonce_number),
                Payload {
                    msg: &bucket.pending,
                    aad: &aad,
                },
            )
            .map_err(|e| ServiceError::internal("截止时加密临时文件", e))?;
        bucket.pending.clear();
        let file = match &mut bucket.file {
            Some(file) => file,
            None => {
                let dir = self
                    .scratch
                    .as_deref()
                    .ok_or_else(|| ServiceError::internal("截止", "一个分桶却要写临时文件"))?;
                let file = tempfile::tempfile_in(dir).map_err(|e| {
                    ServiceError::internal(&format!("截止时在 {} 建临时文件", dir.display()), e)
                })?;
                bucket.file.insert(BufWriter::new(file))
            }
        };
        let len = u32::try_from(sealed.len())
            .map_err(|_| ServiceError::internal("截止", "临时文件的一块过长"))?;
        file.write_all(&nonce_number.to_le_bytes()).map_err(io)?;
        file.write_all(&len.to_le_bytes()).map_err(io)?;
        file.write_all(&sealed).map_err(io)?;
        bucket.chunks += 1;
        Ok(())
    }

    /// Takes bucket `b`'s entries, in the order they were added (the caller shuffles them), and
    /// frees its file.
    pub(super) fn take(&mut self, b: usize) -> Result<Vec<Vec<u8>>, ServiceError> {
        let io = |e: std::io::Error| ServiceError::internal("截止时读回临时文件", e);
        let bucket = std::mem::take(&mut self.buckets[b]);
        let mut entries = Vec::new();
        if let Some(file) = bucket.file {
            let mut file = file.into_inner().map_err(|e| io(e.into_error()))?;
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            let mut file = BufReader::new(file);
            for chunk in 0..bucket.chunks {
                let mut head = [0u8; 12];
                file.read_exact(&mut head).map_err(io)?;
                let (number, len) = head.split_at(8);
                let number = u64::from_le_bytes(number.try_into().unwrap_or_default());
                let len = u32::from_le_bytes(len.try_into().unwrap_or_default()) as usize;
                let mut sealed = vec![0u8; len];
                file.read_exact(&mut sealed).map_err(io)?;
                let plain = Zeroizing::new(
                    self.cipher
                        .decrypt(
                            &nonce(number),
                            Payload {
                                msg: &sealed,
                                aad: &chunk_aad(b, chunk),
                            },
                        )
                        .map_err(|_| {
                            ServiceError::internal(
                                "截止",
                                "临时文件在截止过程中被改动,未作任何改动;请重新截止",
                            )
                        })?,
                );
                split(&plain, &mut entries)?;
            }
        }
        split(&bucket.pending, &mut entries)?;
        Ok(entries)
    }
}

/// The framed entries of `bytes`, appended to `out`.
fn split(mut bytes: &[u8], out: &mut Vec<Vec<u8>>) -> Result<(), ServiceError> {
    let broken = || ServiceError::internal("截止", "临时文件的内容不完整");
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_at_checked(4).ok_or_else(broken)?;
        let len = u32::from_le_bytes(len.try_into().map_err(|_| broken())?) as usize;
        let (entry, rest) = rest.split_at_checked(len).ok_or_else(broken)?;
        out.push(entry.to_vec());
        bytes = rest;
    }
    Ok(())
}

/// The nonce of the `n`th sealed chunk.
fn nonce(n: u64) -> Nonce {
    let mut bytes = [0u8; 12];
    bytes[4..].copy_from_slice(&n.to_le_bytes());
    Nonce::from(bytes)
}

/// What a chunk's seal binds besides its contents: its bucket and its place in the bucket.
fn chunk_aad(bucket: usize, chunk: u64) -> [u8; 16] {
    let mut aad = [0u8; 16];
    aad[..8].copy_from_slice(&(bucket as u64).to_le_bytes());
    aad[8..].copy_from_slice(&chunk.to_le_bytes());
    aad
}

/// A number below `n`, uniform, from the operating system (whose source [`Scatter::new`] has
/// already drawn the key from, so it is there).
fn random_below(n: usize) -> usize {
    rand::rand_core::UnwrapErr(SysRng).random_range(0..n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| format!("entry {i:06}").into_bytes())
            .collect()
    }

    fn gather(scatter: &mut Scatter) -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        for b in 0..scatter.buckets() {
            all.extend(scatter.take(b).unwrap());
        }
        all
    }

    #[test]
    fn every_entry_comes_back_once_from_memory_and_from_files() {
        let dir = tempfile::tempdir().unwrap();
        for buckets in [1, 7] {
            let mut scatter = Scatter::new(buckets, CHUNK_BYTES, dir.path()).unwrap();
            // Enough to write several chunks per bucket.
            let all = entries(200_000);
            for e in &all {
                scatter.push(&[e]).unwrap();
            }
            if buckets > 1 {
                assert!(
                    scatter.buckets.iter().all(|b| b.chunks > 0),
                    "files written"
                );
            }
            let mut back = gather(&mut scatter);
            // One bucket keeps the order (the close shuffles each bucket); more scatter it.
            assert_eq!(back == all, buckets == 1, "{buckets} buckets");
            back.sort();
            assert!(back == all, "{buckets} buckets: every entry back once");
            // Unnamed files: nothing is left in the scratch folder.
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        }
    }

    #[test]
    fn files_hold_no_entry_in_the_clear_and_a_changed_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut scatter = Scatter::new(2, CHUNK_BYTES, dir.path()).unwrap();
        for _ in 0..40_000 {
            scatter
                .push(&["评议内容 ".as_bytes(), b"secret-answer"])
                .unwrap();
        }
        let mut seen = 0;
        for b in 0..2 {
            let bucket = &mut scatter.buckets[b];
            let Some(writer) = bucket.file.as_mut() else {
                continue;
            };
            writer.flush().unwrap();
            let file = writer.get_mut();
            file.seek(SeekFrom::Start(0)).unwrap();
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).unwrap();
            assert!(!bytes.windows(13).any(|w| w == b"secret-answer"));
            seen += bytes.len();
            // One bit flipped in the first chunk's ciphertext.
            bytes[20] ^= 1;
            file.seek(SeekFrom::Start(0)).unwrap();
            file.write_all(&bytes).unwrap();
        }
        assert!(seen > 0, "entries were written to files");
        let refused = scatter.take(0).unwrap_err();
        assert!(refused.to_string().contains("被改动"), "{refused}");
    }

    #[test]
    fn each_entry_lands_in_every_bucket_about_equally_often() {
        // 4 buckets, 40,000 entries: each bucket's share within 5 standard deviations of 1/4.
        let dir = tempfile::tempdir().unwrap();
        let mut scatter = Scatter::new(4, 64, dir.path()).unwrap();
        for e in entries(40_000) {
            scatter.push(&[&e]).unwrap();
        }
        for b in 0..4 {
            let n = scatter.take(b).unwrap().len() as f64;
            assert!(
                (n - 10_000.0).abs() < 5.0 * (40_000.0f64 * 0.25 * 0.75).sqrt(),
                "{n}"
            );
        }
    }
}
