//! Report benchmark (issue 8): publishing the full `reports/PERIOD/` of a 300-unit campaign — the
//! bulletin, CSV, XLSX and every chart as SVG and PNG — with four earlier half-years for the trend
//! charts. Target: < 5 s on two cores. Printed beside a baseline from the same run: writing
//! `results.json` alone.
//!
//! Run: `cargo bench --bench report`

use qiping::report::synthetic::{city_groups, periods_until, standard_method, synthetic_results};
use qiping::report::{Participation, Publication, write_json, write_publication};
use std::time::{Duration, Instant};

/// Best and median wall time of `runs` calls.
fn timed(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f();
        times.push(start.elapsed());
    }
    times.sort();
    (times[0], times[times.len() / 2])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let groups = city_groups();
    let all: Vec<_> = periods_until("2020H1", 5)
        .iter()
        .map(|p| synthetic_results(p, &groups, 2019))
        .collect();
    let (current, history) = all.split_last().ok_or("no periods")?;
    let units: usize = current.peer_groups.iter().map(|g| g.units.len()).sum();
    println!(
        "{units} units in {} peer groups, {} earlier half-years",
        current.peer_groups.len(),
        history.len()
    );
    let out = tempfile::tempdir()?;

    let (base_best, base_median) = timed(5, || {
        if let Err(e) = write_json(&out.path().join("json-only"), current) {
            eprintln!("{e}");
        }
    });
    println!(
        "baseline, results.json alone:        best {:8.2} ms, median {:8.2} ms",
        ms(base_best),
        ms(base_median)
    );

    let method = standard_method()?;
    let publication = Publication {
        results: current,
        participation: Some(Participation {
            invited: 10_000,
            completed: 6_800,
            response_rate: Some(0.68),
            unopenable_excluded: None,
        }),
        history,
        bottom_n: 5,
        method: &method,
    };
    let (best, median) = timed(3, || {
        if let Err(e) = write_publication(out.path(), &publication, &[]) {
            eprintln!("{e}");
        }
    });
    let dir = out.path().join(&current.period);
    let charts = std::fs::read_dir(dir.join("charts"))?.count();
    let size: u64 = std::fs::read_dir(dir.join("charts"))?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum::<u64>()
        + ["index.html", "results.csv", "results.xlsx", "results.json"]
            .iter()
            .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
            .map(|m| m.len())
            .sum::<u64>();
    println!(
        "full report, {charts} chart files:     best {:8.2} ms, median {:8.2} ms ({:.1}× the baseline, {:.1} MB)",
        ms(best),
        ms(median),
        best.as_secs_f64() / base_best.as_secs_f64().max(1e-9),
        size as f64 / 1e6
    );
    Ok(())
}
