//! Sealing and opening one ballot (src/ballot): X-Wing + HKDF-SHA256 + ChaCha20-Poly1305, padded to
//! the campaign's layout. Printed beside a baseline from the same run: SHA-256 over the same
//! number of bytes (what any pass over the ballot costs).
//!
//! Run: `cargo bench --bench ballot`

use std::hint::black_box;
use std::time::{Duration, Instant};

use qiping::ballot::{self, BallotContent, BallotLayout, PrivateKey, RatedUnit, SpentKeys};
use sha2::{Digest, Sha256};

fn per_call(runs: u32, mut f: impl FnMut()) -> Duration {
    f();
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..runs {
            f();
        }
        best = best.min(start.elapsed() / runs);
    }
    best
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = PrivateKey::generate()?;
    let spent = SpentKeys::new(b"bench link secret of 32 bytes ..").spent_key(1, 1);
    // The standard template (6 questions, 5 problems); 10 units assigned at most, 5 more may be
    // added, 2,000 comment characters per ballot.
    let layout = BallotLayout::for_campaign(6, 5, 10, 2000)?;
    let content = BallotContent {
        units: (1..=10)
            .map(|i| RatedUnit {
                unit_id: i,
                self_selected: false,
                levels: vec![Some(4); 6],
                problems: vec![2],
                comment: (i % 3 == 0).then(|| "办事效率有待提高".repeat(5)),
            })
            .collect(),
    };
    let sealed = ballot::seal(key.public_key(), 1, &spent, &content, &layout)?;
    println!(
        "layout: {} questions, {} problems, {} units, {} comment characters: plaintext {} B, sealed {} B per ballot",
        layout.questions,
        layout.problems,
        layout.units,
        layout.comment_chars,
        layout.plaintext_len(),
        sealed.0.len()
    );
    let baseline = per_call(200, || {
        black_box(Sha256::digest(black_box(&sealed.0)));
    });
    println!(
        "baseline, SHA-256 of one sealed ballot: {:8.1} µs",
        us(baseline)
    );
    let seal = per_call(200, || {
        black_box(
            ballot::seal(key.public_key(), 1, &spent, black_box(&content), &layout)
                .map(|s| s.0.len()),
        )
        .ok();
    });
    println!(
        "seal one ballot:                        {:8.1} µs ({:.1}× the baseline)",
        us(seal),
        seal.as_secs_f64() / baseline.as_secs_f64()
    );
    let public_bytes = key.public_key().to_bytes();
    let parse = per_call(200, || {
        black_box(ballot::PublicKey::from_bytes(black_box(&public_bytes))).ok();
    });
    println!(
        "read the stored public key:             {:8.1} µs ({:.1}× the baseline)",
        us(parse),
        parse.as_secs_f64() / baseline.as_secs_f64()
    );
    let open = per_call(200, || {
        black_box(ballot::open(&key, 1, &spent, black_box(&sealed.0), &layout)).ok();
    });
    println!(
        "open one ballot:                        {:8.1} µs ({:.1}× the baseline); 10,000 ballots: {:.2} s on one core",
        us(open),
        open.as_secs_f64() / baseline.as_secs_f64(),
        open.as_secs_f64() * 10_000.0
    );
    Ok(())
}
