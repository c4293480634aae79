//! Sealed ballots (src/ballot): what an administrator holding the database, a backup or the key
//! file's neighbourhood would try against one ballot.
//!
//! The fixture in `tests/fixtures/ballot/v1/` was sealed by the release that introduced sealed
//! ballots; every later release must still open it (the `hpke` crate's X-Wing follows a draft, and
//! a campaign open across an upgrade keeps its ballots). Regenerate it only for a new format, with
//! `QIPING_WRITE_BALLOT_FIXTURE=1 cargo test --test it ballot::fixture`, and keep the old one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on setup failures

use std::collections::HashSet;

use qiping::ballot::keyfile::{self, KeyFileError, KeyFileInfo};
use qiping::ballot::{
    self, BallotContent, BallotLayout, EncodeError, OpenError, PrivateKey, PublicKey, RatedUnit,
    SealError, SpentKeys,
};

fn layout() -> BallotLayout {
    // The standard template's shape: 5 questions, 8 problems; up to 10 units assigned.
    BallotLayout::for_campaign(5, 8, 10, 2000).expect("layout")
}

fn unit(id: i64, comment: Option<&str>) -> RatedUnit {
    RatedUnit {
        unit_id: id,
        self_selected: false,
        levels: vec![Some(4), Some(5), None, Some(2), Some(3)],
        problems: vec![1, 6],
        comment: comment.map(str::to_owned),
    }
}

fn spent() -> SpentKeys {
    SpentKeys::new(b"a link secret of at least 16 bytes")
}

fn info(campaign_id: i64) -> KeyFileInfo {
    KeyFileInfo {
        period: "2026H2".into(),
        campaign_id,
        created: "2026-12-07".into(),
    }
}

#[test]
fn every_ballot_of_a_campaign_has_one_length_whatever_was_written() {
    let key = PrivateKey::generate().expect("rng");
    let layout = layout();
    let contents = [
        BallotContent::default(),
        BallotContent {
            units: vec![unit(1, None)],
        },
        BallotContent {
            units: (1..=15)
                .map(|i| unit(i * 1_000_003, Some(&"很满意".repeat(44))))
                .collect(),
        },
        BallotContent {
            units: vec![unit(9, Some(&"😀".repeat(1000)))],
        },
    ];
    let lengths: HashSet<usize> = contents
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let sealed = ballot::seal(
                key.public_key(),
                3,
                &spent().spent_key(3, i as i64),
                c,
                &layout,
            )
            .expect("seal");
            sealed.0.len()
        })
        .collect();
    assert_eq!(lengths.len(), 1, "lengths differ: {lengths:?}");
    assert_eq!(
        lengths.into_iter().next(),
        Some(ballot::sealed_len(&layout))
    );
}

#[test]
fn a_ballot_opens_only_with_its_key_campaign_and_spent_key() {
    let key = PrivateKey::generate().expect("rng");
    let other = PrivateKey::generate().expect("rng");
    let layout = layout();
    let keys = spent();
    let mine = keys.spent_key(3, 41);
    let content = BallotContent {
        units: vec![unit(7, Some("窗口人员态度很好")), unit(8, None)],
    };
    let sealed = ballot::seal(key.public_key(), 3, &mine, &content, &layout).expect("seal");
    assert_eq!(
        ballot::open(&key, 3, &mine, &sealed.0, &layout).expect("open"),
        content
    );
    // Another campaign's key, another campaign id, another link's spent key: refused.
    for (k, campaign, s) in [
        (&other, 3, mine),
        (&key, 4, mine),
        (&key, 3, keys.spent_key(3, 42)),
    ] {
        assert!(matches!(
            ballot::open(k, campaign, &s, &sealed.0, &layout),
            Err(OpenError::Decrypt)
        ));
    }
    // Any flipped byte, anywhere: refused.
    for at in [0, 1, 500, 1121, sealed.0.len() / 2, sealed.0.len() - 1] {
        let mut tampered = sealed.0.clone();
        tampered[at] ^= 0x40;
        assert!(
            ballot::open(&key, 3, &mine, &tampered, &layout).is_err(),
            "byte {at} flipped still opens"
        );
    }
    // Truncated: refused with the length.
    assert!(matches!(
        ballot::open(&key, 3, &mine, &sealed.0[..100], &layout),
        Err(OpenError::Length { .. })
    ));
}

#[test]
fn the_plaintext_is_nowhere_in_the_sealed_bytes() {
    let key = PrivateKey::generate().expect("rng");
    let layout = layout();
    let marker = "独一无二的意见标记XYZZY";
    let content = BallotContent {
        units: vec![unit(0x0102_0304_0506_0708, Some(marker))],
    };
    let sealed = ballot::seal(
        key.public_key(),
        3,
        &spent().spent_key(3, 1),
        &content,
        &layout,
    )
    .expect("seal");
    let bytes = &sealed.0;
    assert!(!contains(bytes, marker.as_bytes()));
    assert!(!contains(bytes, "XYZZY".as_bytes()));
    assert!(!contains(bytes, &0x0102_0304_0506_0708_i64.to_be_bytes()));
    // Two seals of the same content share nothing recognisable.
    let again = ballot::seal(
        key.public_key(),
        3,
        &spent().spent_key(3, 1),
        &content,
        &layout,
    )
    .expect("seal");
    assert_ne!(sealed.0[1..], again.0[1..]);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn budgets_are_the_layouts_never_the_writers() {
    let key = PrivateKey::generate().expect("rng");
    let layout = layout();
    let over = BallotContent {
        units: vec![unit(1, Some(&"字".repeat(2001)))],
    };
    let err = ballot::seal(
        key.public_key(),
        3,
        &spent().spent_key(3, 1),
        &over,
        &layout,
    )
    .expect_err("over the budget");
    assert!(matches!(
        err,
        SealError::Content(EncodeError::CommentBudget {
            chars: 2001,
            budget: 2000
        })
    ));
    assert!(err.to_string().contains("2000"), "{err}");
    let many = BallotContent {
        units: (0..16).map(|i| unit(i, None)).collect(),
    };
    assert!(matches!(
        ballot::seal(
            key.public_key(),
            3,
            &spent().spent_key(3, 1),
            &many,
            &layout
        ),
        Err(SealError::Content(EncodeError::TooManyUnits {
            units: 16,
            max: 15
        }))
    ));
}

#[test]
fn nothing_secret_reaches_debug_output() {
    let key = PrivateKey::generate().expect("rng");
    let content = BallotContent {
        units: vec![unit(77, Some("不要写进日志"))],
    };
    let shown = format!("{key:?} {content:?} {:?}", spent());
    assert!(!shown.contains("不要写进日志"), "{shown}");
    assert!(shown.contains("***"), "{shown}");
    let file = keyfile::to_bytes(&info(3), &key);
    let text = String::from_utf8(file.to_vec()).expect("utf8");
    let seed_line = text
        .lines()
        .find(|l| l.starts_with("seed: "))
        .expect("seed line");
    assert!(!shown.contains(&seed_line[6..]));
}

#[test]
fn the_key_file_is_new_private_and_checked_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ballot.key");
    let key = PrivateKey::generate().expect("rng");
    keyfile::write_new(&path, &info(3), &key).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
    // Never over an existing file, not even the same key's.
    assert!(matches!(
        keyfile::write_new(&path, &info(3), &key),
        Err(KeyFileError::Exists(_))
    ));
    let (read_info, read_key) = keyfile::read(&path).expect("read");
    assert_eq!(read_info, info(3));
    assert!(read_key.matches(key.public_key()));
    assert_eq!(
        read_key.public_key().fingerprint(),
        key.public_key().fingerprint()
    );
    // A damaged copy is told apart from a wrong key.
    let mut bytes = std::fs::read(&path).expect("read bytes");
    let seed_at = find(&bytes, b"seed: ").expect("seed") + 6;
    bytes[seed_at] = if bytes[seed_at] == b'A' { b'B' } else { b'A' };
    assert!(matches!(
        keyfile::from_bytes(&bytes),
        Err(KeyFileError::Corrupt)
    ));
    // The file names its campaign and fingerprint for a person to read.
    let text = std::fs::read_to_string(&path).expect("text");
    assert!(text.contains("2026H2"));
    assert!(text.contains(&key.public_key().fingerprint().short()));

    // A copy saved by Notepad (a byte order mark first, CRLF line ends) still reads.
    let mut notepad = vec![0xEF, 0xBB, 0xBF];
    notepad.extend(text.replace('\n', "\r\n").into_bytes());
    assert!(keyfile::from_bytes(&notepad).is_ok());

    keyfile::destroy(&path).expect("destroy");
    assert!(!path.exists());
}

#[cfg(unix)]
#[test]
fn destroying_never_follows_a_link_to_another_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let victim = dir.path().join("qiping.db");
    std::fs::write(&victim, b"the database").expect("victim");
    let link = dir.path().join("ballot.key");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    assert!(keyfile::destroy(&link).is_err());
    assert_eq!(std::fs::read(&victim).expect("read"), b"the database");
}

#[test]
fn a_key_file_written_into_a_missing_folder_fails_with_its_path() {
    let key = PrivateKey::generate().expect("rng");
    let path = std::path::Path::new("/nonexistent-qiping-folder/ballot.key");
    let err = keyfile::write_new(path, &info(3), &key).expect_err("no folder");
    assert!(err.is_internal());
    assert!(
        err.to_string()
            .contains("/nonexistent-qiping-folder/ballot.key"),
        "{err}"
    );
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The fixture's content: what the committed ballot must open to.
fn fixture_content() -> BallotContent {
    BallotContent {
        units: vec![
            RatedUnit {
                unit_id: 1,
                self_selected: false,
                levels: vec![Some(5), Some(4), Some(3), Some(2), Some(1)],
                problems: vec![0, 7],
                comment: Some("办事大厅的指引很清楚,材料一次就交齐了。".into()),
            },
            RatedUnit {
                unit_id: 9_007_199_254_740_993,
                self_selected: true,
                levels: vec![None, None, Some(5), None, Some(4)],
                problems: vec![],
                comment: None,
            },
        ],
    }
}

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ballot/v1");
const FIXTURE_CAMPAIGN: i64 = 12;
const FIXTURE_INVITATION: i64 = 345;
const FIXTURE_SECRET: &[u8] = b"fixture link secret, 32 bytes ok";

#[test]
fn fixture_sealed_by_the_first_release_still_opens() {
    let dir = std::path::Path::new(FIXTURE);
    let layout = layout();
    let spent = SpentKeys::new(FIXTURE_SECRET).spent_key(FIXTURE_CAMPAIGN, FIXTURE_INVITATION);
    if std::env::var("QIPING_WRITE_BALLOT_FIXTURE").as_deref() == Ok("1") {
        let key = PrivateKey::generate().expect("rng");
        std::fs::create_dir_all(dir).expect("mkdir");
        let _ = std::fs::remove_file(dir.join("ballot.key"));
        keyfile::write_new(&dir.join("ballot.key"), &info(FIXTURE_CAMPAIGN), &key)
            .expect("write key");
        std::fs::write(dir.join("public.bin"), key.public_key().to_bytes()).expect("public");
        let sealed = ballot::seal(
            key.public_key(),
            FIXTURE_CAMPAIGN,
            &spent,
            &fixture_content(),
            &layout,
        )
        .expect("seal");
        std::fs::write(dir.join("ballot.bin"), &sealed.0).expect("ballot");
        std::fs::write(dir.join("spent_key.hex"), hex::encode(spent.as_bytes())).expect("spent");
    }
    let (file_info, key) = keyfile::read(&dir.join("ballot.key")).expect("fixture key");
    assert_eq!(file_info, info(FIXTURE_CAMPAIGN));
    let public = PublicKey::from_bytes(&std::fs::read(dir.join("public.bin")).expect("public"))
        .expect("public key");
    assert!(key.matches(&public), "the key file is the public key's");
    // The spent-key derivation is frozen too: a campaign open across an upgrade keeps its
    // "already answered" links.
    let stored_spent = std::fs::read_to_string(dir.join("spent_key.hex")).expect("spent");
    assert_eq!(stored_spent.trim(), hex::encode(spent.as_bytes()));
    let sealed = std::fs::read(dir.join("ballot.bin")).expect("ballot");
    let opened =
        ballot::open(&key, FIXTURE_CAMPAIGN, &spent, &sealed, &layout).expect("fixture opens");
    assert_eq!(opened, fixture_content());
}
