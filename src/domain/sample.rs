//! The stratified random sample of enterprises a campaign invites (`campaign create --sample N
//! --seed S`): strata are district × industry × size, exactly N enterprises are drawn, allocated
//! to the strata in proportion to their sizes by largest remainder, and the draw is reproducible
//! from the seed. (Until 2026-12-07 every non-empty stratum got at least one first, which made a
//! sample of 40 invite 99 in a 600-enterprise registry.)
//!
//! The generator is xoshiro256++ seeded by SplitMix64 from the seed (`rand_xoshiro`, fixed by its
//! specification), and the uniform draw below is written out here rather than borrowed from a
//! library whose algorithm may change between versions: the same registry and seed give the same
//! sample forever.

use std::collections::BTreeMap;

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// One enterprise that may be drawn: its id and its stratum key (district, industry, size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleFrameEntry {
    pub id: i64,
    pub stratum: (String, String, String),
}

/// How many to draw from each stratum of sizes `sizes` for a total of exactly `n` (or every
/// enterprise, when `n` is at least all of them): proportional allocation by largest remainder —
/// each stratum gets the whole part of `n × size / total`, and the places left go to the largest
/// fractional parts (ties to the earlier stratum). No stratum is given a floor: a stratum smaller
/// than `total / n` may get none, which is what keeps the sample at `n` (issue 43; the README says
/// how small strata fare). Never more than a stratum holds.
pub fn allocate(sizes: &[usize], n: usize) -> Vec<usize> {
    let total: usize = sizes.iter().sum();
    if n >= total {
        return sizes.to_vec();
    }
    let quotas: Vec<f64> = sizes
        .iter()
        .map(|&s| n as f64 * s as f64 / total as f64)
        .collect();
    let mut counts: Vec<usize> = quotas
        .iter()
        .zip(sizes)
        .map(|(q, &s)| (q.floor() as usize).min(s))
        .collect();
    let mut handed: usize = counts.iter().sum();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| {
        let fa = quotas[a] - quotas[a].floor();
        let fb = quotas[b] - quotas[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    // Largest remainders first; a second pass only if rounding left a place over.
    for &i in order.iter().cycle().take(sizes.len() * 2) {
        if handed >= n {
            break;
        }
        if counts[i] < sizes[i] {
            counts[i] += 1;
            handed += 1;
        }
    }
    counts
}

/// A uniform integer in `0..bound` (bound > 0) by rejection, so every value is equally likely.
fn below(rng: &mut Xoshiro256PlusPlus, bound: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % bound;
        }
    }
}

/// Draws the sample: the ids chosen, sorted. `frame` must come in a fixed order (by USCC) for the
/// draw to be reproducible.
pub fn stratified_sample(frame: &[SampleFrameEntry], n: usize, seed: u64) -> Vec<i64> {
    let mut strata: BTreeMap<&(String, String, String), Vec<i64>> = BTreeMap::new();
    for entry in frame {
        strata.entry(&entry.stratum).or_default().push(entry.id);
    }
    let sizes: Vec<usize> = strata.values().map(Vec::len).collect();
    let counts = allocate(&sizes, n);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut chosen = Vec::new();
    for (ids, &k) in strata.into_values().zip(&counts) {
        // A partial Fisher–Yates shuffle: the first k places get a uniform k-subset.
        let mut ids = ids;
        for i in 0..k {
            let j = i + below(&mut rng, (ids.len() - i) as u64) as usize;
            ids.swap(i, j);
        }
        chosen.extend_from_slice(&ids[..k]);
    }
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_proportional_and_exactly_n() {
        assert_eq!(allocate(&[50, 30, 20], 10), vec![5, 3, 2]);
        // A small stratum may get none: the sample keeps its size.
        assert_eq!(allocate(&[98, 1, 1], 10), vec![10, 0, 0]);
        assert_eq!(allocate(&[5, 0, 5], 100), vec![5, 0, 5]);
        assert_eq!(allocate(&[1, 1, 1, 1], 2), vec![1, 1, 0, 0]);
        assert_eq!(allocate(&[7, 7, 6], 10), vec![4, 3, 3]);
        // Many small strata, as a city's district × industry × size grid has: still exactly n.
        let grid: Vec<usize> = (0..120).map(|i| 1 + i % 9).collect();
        for n in [1, 17, 40, 119, 300, 590] {
            let counts = allocate(&grid, n);
            assert_eq!(counts.iter().sum::<usize>(), n, "n = {n}");
            assert!(counts.iter().zip(&grid).all(|(c, s)| c <= s));
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_sample_and_another_seed_differs() {
        let frame: Vec<SampleFrameEntry> = (0..200)
            .map(|i| SampleFrameEntry {
                id: i,
                stratum: (format!("d{}", i % 3), format!("i{}", i % 2), "small".into()),
            })
            .collect();
        let a = stratified_sample(&frame, 30, 42);
        assert_eq!(a.len(), 30);
        assert_eq!(a, stratified_sample(&frame, 30, 42));
        assert_ne!(a, stratified_sample(&frame, 30, 43));
    }
}
