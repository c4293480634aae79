//! Raking (iterative proportional fitting) to population margins, with category merging and
//! trimming (docs/method.md §2.4; Deming & Stephan 1940; Kolenikov 2014, Stata Journal 14:22, for trimming).

use crate::stats::{RakingSettings, StatsError};
use std::collections::BTreeMap;

/// One raking margin: each respondent's category index, and each category's target total.
#[derive(Debug, Clone, PartialEq)]
pub struct Margin {
    pub name: String,
    pub category_of: Vec<usize>,
    pub targets: Vec<f64>,
}

/// How raking went; kept beside the weights so a report can say whether it converged.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RakingReport {
    pub rounds: usize,
    pub converged: bool,
    pub trim_cycles: usize,
    pub max_relative_deviation: f64,
    /// Ratings whose stratum no enterprise that answered has (its registry strata changed after
    /// it answered); they take the mean weight, 1.
    #[serde(default)]
    pub unmatched_ratings: usize,
}

/// Builds a margin from respondents' category labels and population targets: targets are rescaled
/// to sum to the number of respondents, and categories with fewer than `min_category` respondents
/// are merged with the next smallest (ties by label) until all reach it or one is left.
pub fn build_margin(
    name: &str,
    labels: &[&str],
    population: &BTreeMap<String, f64>,
    min_category: usize,
) -> Result<Margin, StatsError> {
    let bad = |m: String| StatsError::InvalidMargins(format!("{name}: {m}"));
    if population.values().any(|t| !(t.is_finite() && *t >= 0.0)) {
        return Err(bad("targets must be finite and non-negative".into()));
    }
    // groups: (respondent count, target, member labels)
    let mut groups: Vec<(usize, f64, Vec<String>)> = population
        .iter()
        .map(|(k, t)| (0, *t, vec![k.clone()]))
        .collect();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, k) in population.keys().enumerate() {
        index.insert(k.as_str(), i);
    }
    for label in labels {
        let i = *index
            .get(label)
            .ok_or_else(|| bad(format!("respondents in `{label}`, which has no target")))?;
        groups[i].0 += 1;
    }
    loop {
        groups.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.2.cmp(&b.2)));
        if groups.len() < 2 || groups[0].0 >= min_category {
            break;
        }
        let (count, target, members) = groups.remove(0);
        groups[0].0 += count;
        groups[0].1 += target;
        groups[0].2.extend(members);
        groups[0].2.sort();
    }
    let total: f64 = groups.iter().map(|g| g.1).sum();
    if labels.is_empty() || total <= 0.0 {
        return Err(bad("no respondents or no population".into()));
    }
    if groups.iter().any(|g| g.0 > 0 && g.1 == 0.0) {
        return Err(bad("a category with respondents has a zero target".into()));
    }
    let scale = labels.len() as f64 / total;
    let mut merged_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (gi, g) in groups.iter().enumerate() {
        for m in &g.2 {
            merged_of.insert(m.as_str(), gi);
        }
    }
    let category_of = labels
        .iter()
        .map(|l| merged_of.get(l).copied().unwrap_or(0))
        .collect();
    Ok(Margin {
        name: name.to_owned(),
        category_of,
        // a group with no respondents keeps its target out (it cannot be met); see `rake`
        targets: groups
            .iter()
            .map(|g| if g.0 > 0 { g.1 * scale } else { 0.0 })
            .collect(),
    })
}

fn rake_rounds(
    weights: &mut [f64],
    margins: &[Margin],
    settings: &RakingSettings,
) -> (usize, bool, f64) {
    let mut deviation = f64::INFINITY;
    for round in 1..=settings.max_rounds {
        for m in margins {
            let mut sums = vec![0.0; m.targets.len()];
            for (w, c) in weights.iter().zip(&m.category_of) {
                sums[*c] += w;
            }
            for (w, c) in weights.iter_mut().zip(&m.category_of) {
                if sums[*c] > 0.0 {
                    *w *= m.targets[*c] / sums[*c];
                }
            }
        }
        deviation = max_relative_deviation(weights, margins);
        if deviation < settings.tolerance {
            return (round, true, deviation);
        }
    }
    (settings.max_rounds, false, deviation)
}

/// The largest `|Σ_{i∈c} w_i − T_c| / T_c` over all categories with a positive target.
pub fn max_relative_deviation(weights: &[f64], margins: &[Margin]) -> f64 {
    let mut worst: f64 = 0.0;
    for m in margins {
        let mut sums = vec![0.0; m.targets.len()];
        for (w, c) in weights.iter().zip(&m.category_of) {
            sums[*c] += w;
        }
        for (s, t) in sums.iter().zip(&m.targets) {
            if *t > 0.0 {
                worst = worst.max((s - t).abs() / t);
            }
        }
    }
    worst
}

/// Rakes unit starting weights to the margins: `w ← w · T_c / Σ_{i∈c} w` over the margins in turn
/// until the largest relative deviation < tolerance or `max_rounds`; then clamps to
/// [trim_low, trim_high] × the mean weight and re-rakes, repeating while any weight is outside.
pub fn rake(
    respondents: usize,
    margins: &[Margin],
    settings: &RakingSettings,
) -> (Vec<f64>, RakingReport) {
    let mut weights = vec![1.0; respondents];
    let (mut rounds, mut converged, mut deviation) = rake_rounds(&mut weights, margins, settings);
    let mut trim_cycles = 0;
    while trim_cycles < settings.max_trim_cycles {
        let mean = weights.iter().sum::<f64>() / respondents.max(1) as f64;
        let (lo, hi) = (settings.trim_low * mean, settings.trim_high * mean);
        let slack = 1e-9 * mean;
        if weights.iter().all(|w| *w >= lo - slack && *w <= hi + slack) {
            break;
        }
        for w in weights.iter_mut() {
            *w = w.clamp(lo, hi);
        }
        trim_cycles += 1;
        let (r, c, d) = rake_rounds(&mut weights, margins, settings);
        rounds += r;
        converged = c;
        deviation = d;
    }
    let report = RakingReport {
        rounds,
        converged,
        trim_cycles,
        max_relative_deviation: deviation,
        unmatched_ratings: 0,
    };
    (weights, report)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pop(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    #[test]
    fn raking_one_margin_is_post_stratification() {
        let labels: Vec<&str> = [vec!["a"; 30], vec!["b"; 20]].concat();
        let m = build_margin("size", &labels, &pop(&[("a", 50.0), ("b", 50.0)]), 20).unwrap();
        let (w, report) = rake(50, &[m], &RakingSettings::default());
        assert!(report.converged);
        assert!((w[0] - 25.0 / 30.0).abs() < 1e-12 && (w[49] - 25.0 / 20.0).abs() < 1e-12);
    }

    #[test]
    fn small_categories_are_merged_with_the_next_smallest() {
        let labels: Vec<&str> = [vec!["a"; 30], vec!["b"; 5], vec!["c"; 25]].concat();
        let m = build_margin(
            "x",
            &labels,
            &pop(&[("a", 1.0), ("b", 1.0), ("c", 1.0), ("d", 1.0)]),
            20,
        )
        .unwrap();
        assert_eq!(m.targets.len(), 2);
        // d (0) merges into b (5), then b+d (5) into c (25): targets 3/4 and 1/4 of 60
        assert_eq!(m.category_of[30], m.category_of[40]);
        let t = &m.targets;
        assert!(
            (t[m.category_of[30]] - 45.0).abs() < 1e-9 && (t[m.category_of[0]] - 15.0).abs() < 1e-9
        );
    }

    #[test]
    fn respondents_without_a_target_are_an_error() {
        assert!(build_margin("x", &["zz"], &pop(&[("a", 1.0)]), 20).is_err());
    }

    #[test]
    fn trimming_keeps_weights_within_bounds_and_margins_met() {
        // 40 of a, 40 of b in the sample; population 95% a: untrimmed b weights would be 0.1
        let labels: Vec<&str> = [vec!["a"; 40], vec!["b"; 40]].concat();
        let m = build_margin("x", &labels, &pop(&[("a", 95.0), ("b", 5.0)]), 20).unwrap();
        let (w, report) = rake(80, std::slice::from_ref(&m), &RakingSettings::default());
        // one margin cannot be met within the trim bounds: the final rake restores the margin
        assert!(report.trim_cycles >= 1);
        assert!(max_relative_deviation(&w, &[m]) < 1e-6);
    }
}
