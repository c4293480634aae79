//! Rank uncertainty by simulation (docs/method.md §5.2; Goldstein & Spiegelhalter 1996 §5; Marshall &
//! Spiegelhalter 1998): R draws θ_j ~ N(θ̃_j, V_j) for all units of a group at once, ranked per draw.

use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Standard normal deviates from any 64-bit generator by Marsaglia's polar method (Marsaglia &
/// Bray 1964, SIAM Review 6:260), written here so a seed gives the same numbers whatever the
/// versions of rand_distr or statrs: uniforms are the top 53 bits of `next_u64`, pairs
/// (u, v) in the unit disc are accepted, and `u·√(−2 ln s / s)`, `v·√(…)` are returned in turn.
#[derive(Debug, Clone, Default)]
pub struct NormalSampler {
    spare: Option<f64>,
}

impl NormalSampler {
    /// A uniform on [-1, 1) from the top 53 bits.
    fn symmetric_uniform<R: Rng>(rng: &mut R) -> f64 {
        let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        2.0 * u - 1.0
    }

    /// The next N(0, 1) deviate.
    pub fn sample<R: Rng>(&mut self, rng: &mut R) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        loop {
            let u = Self::symmetric_uniform(rng);
            let v = Self::symmetric_uniform(rng);
            let s = u * u + v * v;
            if s < 1.0 && s > 0.0 {
                let f = (-2.0 * s.ln() / s).sqrt();
                self.spare = Some(v * f);
                return u * f;
            }
        }
    }
}

/// An unbiased integer in 0..n, n > 0 (Lemire 2019, ACM TOMACS 29:3, multiply-and-reject),
/// written here so streams do not depend on rand's sampling internals.
pub fn uniform_below<R: Rng>(rng: &mut R, n: u64) -> u64 {
    let threshold = n.wrapping_neg() % n.max(1);
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n);
        if (m as u64) >= threshold {
            return (m >> 64) as u64;
        }
    }
}

/// One unit's simulated rank summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankSummary {
    pub mean: f64,
    /// Smallest r with P(rank ≤ r) ≥ 0.025.
    pub low: u32,
    /// Smallest r with P(rank ≤ r) ≥ 0.975.
    pub high: u32,
    /// P(rank > J − N): among the N lowest (1 when J ≤ N).
    pub p_bottom: f64,
}

/// Simulates `draws` rankings of θ_j ~ N(means_j, variances_j) (1 = highest) and summarises each
/// unit's rank distribution. Per draw, one deviate per unit in index order; the buffers are
/// allocated once, and each draw re-sorts the previous draw's order (nearly sorted when units
/// are well apart) by θ descending, then unit index.
pub fn simulate_ranks(
    means: &[f64],
    variances: &[f64],
    draws: usize,
    bottom_n: usize,
    rng: &mut Xoshiro256PlusPlus,
) -> Vec<RankSummary> {
    let j = means.len();
    if j == 0 || draws == 0 {
        return Vec::new();
    }
    let sds: Vec<f64> = variances.iter().map(|v| v.max(0.0).sqrt()).collect();
    let mut theta = vec![0.0; j];
    // (θ, unit) pairs kept in the previous draw's order, a good start for the sort
    let mut keyed: Vec<(f64, u32)> = (0..j as u32).map(|u| (0.0, u)).collect();
    // counts[unit * j + (rank − 1)]
    let mut counts = vec![0u32; j * j];
    let mut normal = NormalSampler::default();
    for _ in 0..draws {
        // deviates go to units in index order
        for ((t, m), s) in theta.iter_mut().zip(means).zip(&sds) {
            *t = m + s * normal.sample(rng);
        }
        for pair in keyed.iter_mut() {
            pair.0 = theta[pair.1 as usize];
        }
        // a total order (θ descending, then unit), so the result does not depend on the sort
        keyed.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (place, &(_, unit)) in keyed.iter().enumerate() {
            counts[unit as usize * j + place] += 1;
        }
    }
    let r = draws as u64;
    let first_bottom = j.saturating_sub(bottom_n); // rank > J − N ⇔ place index ≥ J − N
    (0..j)
        .map(|unit| {
            let row = &counts[unit * j..(unit + 1) * j];
            let mut cum = 0u64;
            let (mut low, mut high) = (0u32, 0u32);
            let mut rank_sum = 0u64;
            for (place, &c) in row.iter().enumerate() {
                let c = u64::from(c);
                rank_sum += c * (place as u64 + 1);
                cum += c;
                if low == 0 && 40 * cum >= r {
                    low = place as u32 + 1;
                }
                if high == 0 && 40 * cum >= 39 * r {
                    high = place as u32 + 1;
                }
            }
            let bottom: u64 = row[first_bottom..].iter().map(|&c| u64::from(c)).sum();
            RankSummary {
                mean: rank_sum as f64 / draws as f64,
                low,
                high,
                p_bottom: bottom as f64 / draws as f64,
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn normal_draws_have_mean_zero_and_unit_variance() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut n = NormalSampler::default();
        let xs: Vec<f64> = (0..100_000).map(|_| n.sample(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.015,
            "{mean} {var}"
        );
        let tail = xs.iter().filter(|x| **x > 1.959964).count() as f64 / xs.len() as f64;
        assert!((tail - 0.025).abs() < 0.002, "{tail}");
    }

    #[test]
    fn the_same_seed_gives_the_same_draws() {
        let run = || {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
            simulate_ranks(&[1.0, 1.1, 0.9], &[0.1, 0.1, 0.1], 500, 1, &mut rng)
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn well_separated_units_have_certain_ranks() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let s = simulate_ranks(&[3.0, 1.0, 2.0], &[1e-6; 3], 1000, 1, &mut rng);
        assert_eq!((s[0].low, s[0].high, s[0].mean), (1, 1, 1.0));
        assert_eq!((s[1].low, s[1].high, s[1].p_bottom), (3, 3, 1.0));
        assert_eq!((s[2].low, s[2].high, s[2].p_bottom), (2, 2, 0.0));
    }

    #[test]
    fn with_no_more_units_than_n_everyone_is_in_the_bottom() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let s = simulate_ranks(&[3.0, 1.0], &[1.0; 2], 100, 5, &mut rng);
        assert!(s.iter().all(|s| s.p_bottom == 1.0));
    }
}
