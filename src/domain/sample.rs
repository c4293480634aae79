//! The stratified random sample of enterprises a campaign invites (`campaign create --sample N
//! --seed S`): strata are district × industry × size, allocation is proportional with at least one
//! enterprise from every non-empty stratum, and the draw is reproducible from the seed.
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

/// How many to draw from each stratum of sizes `sizes` for a total of `n`: one from every non-empty
/// stratum first (so no stratum goes unheard), then the rest in proportion to what each stratum has
/// left, by largest remainder (ties to the earlier stratum). Never more than a stratum holds; the
/// total exceeds `n` only when there are more non-empty strata than `n`.
pub fn allocate(sizes: &[usize], n: usize) -> Vec<usize> {
    let total: usize = sizes.iter().sum();
    if n >= total {
        return sizes.to_vec();
    }
    let mut counts: Vec<usize> = sizes.iter().map(|&s| s.min(1)).collect();
    let given: usize = counts.iter().sum();
    let Some(rest) = n.checked_sub(given).filter(|&r| r > 0) else {
        return counts;
    };
    let room: Vec<usize> = sizes.iter().zip(&counts).map(|(s, c)| s - c).collect();
    let room_total: usize = room.iter().sum();
    let quotas: Vec<f64> = room
        .iter()
        .map(|&r| rest as f64 * r as f64 / room_total as f64)
        .collect();
    let mut handed = 0;
    for ((count, &quota), &r) in counts.iter_mut().zip(&quotas).zip(&room) {
        let whole = (quota.floor() as usize).min(r);
        *count += whole;
        handed += whole;
    }
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| {
        let fa = quotas[a] - quotas[a].floor();
        let fb = quotas[b] - quotas[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in order.iter().cycle().take(sizes.len() * 2) {
        if handed >= rest {
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
    fn allocation_is_proportional_with_one_per_non_empty_stratum() {
        assert_eq!(allocate(&[50, 30, 20], 10), vec![5, 3, 2]);
        assert_eq!(allocate(&[98, 1, 1], 10), vec![8, 1, 1]);
        assert_eq!(allocate(&[5, 0, 5], 100), vec![5, 0, 5]);
        assert_eq!(allocate(&[1, 1, 1, 1], 2), vec![1, 1, 1, 1]);
        assert_eq!(allocate(&[7, 7, 6], 10).iter().sum::<usize>(), 10);
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
