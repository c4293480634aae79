//! City-campaign benchmark (issue 5): 10,000 enterprises × 10 units × 6 questions, 300 units in 3
//! peer groups, aggregated end to end with R = 10,000 rank draws. Target: < 0.5 s on two cores.
//! Printed beside a baseline from the same run: one plain pass summing every answer.
//!
//! Run: `cargo bench --bench aggregate`

use qiping::stats::synthetic::{SyntheticSpec, synthetic_campaign};
use qiping::stats::{Settings, aggregate};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Best and median wall time of `runs` calls, and the last result.
fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut out = f();
    for _ in 0..runs {
        let start = Instant::now();
        out = black_box(f());
        times.push(start.elapsed());
    }
    times.sort();
    (times[0], times[times.len() / 2], out)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let input = synthetic_campaign(&SyntheticSpec::city(2019));
    let answers: usize = input.ratings.iter().map(|r| r.answers.len()).sum();
    println!(
        "city campaign: {} ratings, {answers} answers, {} units",
        input.ratings.len(),
        input.units.len()
    );

    let (baseline, baseline_median, total) = timed(7, || {
        let mut sum = 0u64;
        for r in &input.ratings {
            for level in r.answers.values().flatten() {
                sum += u64::from(*level);
            }
        }
        sum
    });
    println!(
        "baseline, one pass summing every answer: best {:8.2} ms, median {:8.2} ms (sum {total})",
        ms(baseline),
        ms(baseline_median)
    );

    let settings = Settings::default();
    let (best, median, result) = timed(7, || aggregate(&input, &settings, 12345));
    let ranked: usize = result?.peer_groups.iter().map(|g| g.eligible_units).sum();
    println!(
        "aggregate, R = {} draws, {ranked} ranked:  best {:8.2} ms, median {:8.2} ms",
        settings.draws,
        ms(best),
        ms(median)
    );
    println!(
        "ratio aggregate / baseline (medians): {:.1}x; target < 500 ms: {}",
        median.as_secs_f64() / baseline_median.as_secs_f64(),
        if median.as_millis() < 500 {
            "met"
        } else {
            "MISSED"
        }
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!("cores {cores}; load average {}", load.join(" "));
    Ok(())
}
