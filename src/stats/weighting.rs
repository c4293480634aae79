//! Raking (iterative proportional fitting) to population margins, with category merging and
//! trimming (docs/method.md §2.4; Deming & Stephan 1940; Kolenikov 2014, Stata Journal 14:22, for trimming).

use crate::stats::{RakingSettings, StatsError, Strata, Weighting};
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

/// A raking dimension: its name, population margin and the stratum it reads.
type Dimension<'a> = (
    &'a str,
    &'a Option<BTreeMap<String, f64>>,
    fn(&Strata) -> &str,
);

/// Rakes the enterprises that answered (`weighting.respondents`, one entry each) to the invited
/// population's margins (docs/method.md §1). Raking multiplies weights by one factor per category
/// of each margin, and trimming and re-raking act on the weight alone, so enterprises of one
/// stratum (size, industry, district) end with the same weight. One weight per respondent.
pub fn rake_respondents(
    weighting: &Weighting,
    settings: &RakingSettings,
) -> Result<(Vec<f64>, RakingReport), StatsError> {
    let respondents = &weighting.respondents;
    let m = &weighting.margins;
    let dims: [Dimension<'_>; 3] = [
        ("size", &m.size, |s| &s.size),
        ("industry", &m.industry, |s| &s.industry),
        ("district", &m.district, |s| &s.district),
    ];
    let mut margins: Vec<Margin> = Vec::new();
    for (name, population, label) in dims {
        if let Some(population) = population {
            let labels: Vec<&str> = respondents.iter().map(label).collect();
            margins.push(build_margin(
                name,
                &labels,
                population,
                settings.min_category,
            )?);
        }
    }
    Ok(rake(respondents.len(), &margins, settings))
}

/// The weights stored with a weighted campaign's ratings (issue 39; docs/method.md §1): the
/// respondents are raked ([`rake_respondents`]), then each rating takes the mean raked weight of
/// its **cell** among the raters of its unit ([`crowd_cells`]: strata merged until each holds at
/// least `min_crowd` raters of the unit), so that no stored weight marks out fewer than
/// `min_crowd` raters of a unit. (A unit with fewer than `min_crowd` raters in all is one cell;
/// the close does not store such a unit's ratings anyway.)
///
/// `raters` has one entry per rating: its unit (any key) and the index of its respondent in
/// `weighting.respondents`. Returns one weight per rating, in the same order, and the raking
/// report.
pub fn rating_weights(
    weighting: &Weighting,
    raters: &[(i64, usize)],
    settings: &RakingSettings,
    min_crowd: usize,
) -> Result<(Vec<f64>, RakingReport), StatsError> {
    let (raked, report) = rake_respondents(weighting, settings)?;
    let raters: Vec<(i64, &Strata, f64)> = raters
        .iter()
        .map(|&(unit, r)| (unit, &weighting.respondents[r], raked[r]))
        .collect();
    Ok((shared_weights(&raters, min_crowd), report))
}

/// [`rating_weights`] after the raking: each rating (its unit, its rater's stratum and raked
/// weight) takes the mean raked weight of its cell among its unit's raters ([`crowd_cells`]).
pub fn shared_weights(raters: &[(i64, &Strata, f64)], min_crowd: usize) -> Vec<f64> {
    let mut by_unit: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, (unit, _, _)) in raters.iter().enumerate() {
        by_unit.entry(*unit).or_default().push(i);
    }
    let mut weights = vec![1.0; raters.len()];
    for members in by_unit.values() {
        let strata: Vec<&Strata> = members.iter().map(|&i| raters[i].1).collect();
        let raked: Vec<f64> = members.iter().map(|&i| raters[i].2).collect();
        for cell in crowd_cells(&strata, &raked, min_crowd) {
            let mean = cell.iter().map(|&k| raters[members[k]].2).sum::<f64>() / cell.len() as f64;
            for k in cell {
                weights[members[k]] = mean;
            }
        }
    }
    weights
}

/// The cells of one unit's raters for [`rating_weights`]: groups of indices into `strata` (with
/// each rater's raked weight in `raked`), each of at least `min_crowd` raters unless there are
/// fewer in all. Cells start as the full strata (size, industry, district); while one is smaller
/// than `min_crowd`, the smallest (the first in label order among equals) is merged along the
/// margins: into the cell, among those sharing a size, an industry or a district with it, whose
/// mean raked weight is closest to its own (any cell, if none shares one). Merging by weight keeps
/// the stored weights as close to raking's as the crowd allows (docs/method.md §1 gives how close);
/// deterministic, as the labels order it.
pub fn crowd_cells(strata: &[&Strata], raked: &[f64], min_crowd: usize) -> Vec<Vec<usize>> {
    struct Cell<'a> {
        members: Vec<usize>,
        sum: f64,
        labels: [std::collections::BTreeSet<&'a str>; 3],
    }
    let mut by_stratum: BTreeMap<&Strata, Vec<usize>> = BTreeMap::new();
    for (i, s) in strata.iter().enumerate() {
        by_stratum.entry(s).or_default().push(i);
    }
    let mut cells: Vec<Cell<'_>> = by_stratum
        .into_iter()
        .map(|(s, members)| Cell {
            sum: members.iter().map(|&i| raked[i]).sum(),
            members,
            labels: [
                [s.size.as_str()].into(),
                [s.industry.as_str()].into(),
                [s.district.as_str()].into(),
            ],
        })
        .collect();
    while cells.len() > 1 {
        let Some(small) = (0..cells.len())
            .filter(|&c| cells[c].members.len() < min_crowd)
            .min_by_key(|&c| cells[c].members.len())
        else {
            break;
        };
        let mean = |c: &Cell<'_>| c.sum / c.members.len() as f64;
        let shares =
            |c: &Cell<'_>| (0..3).any(|d| !c.labels[d].is_disjoint(&cells[small].labels[d]));
        let others = || (0..cells.len()).filter(|&c| c != small);
        let along: Vec<usize> = others().filter(|&c| shares(&cells[c])).collect();
        let candidates = if along.is_empty() {
            others().collect()
        } else {
            along
        };
        let own = mean(&cells[small]);
        let Some(into) = candidates.into_iter().min_by(|&a, &b| {
            (mean(&cells[a]) - own)
                .abs()
                .total_cmp(&(mean(&cells[b]) - own).abs())
                .then(cells[a].members.len().cmp(&cells[b].members.len()))
        }) else {
            break;
        };
        let merged = cells.remove(small);
        let into = if into > small { into - 1 } else { into };
        let target = &mut cells[into];
        target.members.extend(merged.members);
        target.sum += merged.sum;
        for d in 0..3 {
            target.labels[d].extend(merged.labels[d].iter().copied());
        }
    }
    cells
        .into_iter()
        .map(|mut c| {
            c.members.sort_unstable();
            c.members
        })
        .collect()
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

    fn stratum(size: &str, industry: &str, district: &str) -> Strata {
        Strata {
            size: size.into(),
            industry: industry.into(),
            district: district.into(),
        }
    }

    /// Counted by hand. Cells: (large, B, d1) ×2 at 0.5, (large, C, d1) ×1 at 3, (small, A, d1) ×6
    /// at 1, (small, A, d2) ×3 at 2, (small, A, d3) ×2 at 2.1. The ×1 goes first: of the cells
    /// sharing `large` or `d1` with it, the ×6 (1) is closer to 3 than the ×2 (0.5): 7 at 9/7.
    /// Then the first ×2, (large, B, d1), shares only with that 7: 9. Then (small, A, d3) ×2 shares
    /// `small` and `A` with the ×3 (2) and the 9 (1.06): the ×3 is closer to 2.1: 5. Two cells.
    #[test]
    fn cells_hold_at_least_five_raters_and_merge_by_weight_along_the_margins() {
        let mut strata = Vec::new();
        let mut raked = Vec::new();
        let mut add = |s: Strata, n: usize, w: f64| {
            for _ in 0..n {
                strata.push(s.clone());
                raked.push(w);
            }
        };
        add(stratum("small", "A", "d1"), 6, 1.0);
        add(stratum("small", "A", "d2"), 3, 2.0);
        add(stratum("small", "A", "d3"), 2, 2.1);
        add(stratum("large", "B", "d1"), 2, 0.5);
        add(stratum("large", "C", "d1"), 1, 3.0);
        let refs: Vec<&Strata> = strata.iter().collect();
        let mut cells = crowd_cells(&refs, &raked, 5);
        cells.sort();
        assert_eq!(
            cells,
            vec![vec![0, 1, 2, 3, 4, 5, 11, 12, 13], vec![6, 7, 8, 9, 10]]
        );
    }

    #[test]
    fn fewer_raters_than_the_crowd_make_one_cell() {
        let strata = [stratum("a", "b", "c"), stratum("d", "e", "f")];
        let refs: Vec<&Strata> = strata.iter().collect();
        assert_eq!(crowd_cells(&refs, &[1.0, 2.0], 5), vec![vec![0, 1]]);
    }

    /// Every stored weight is shared by at least five raters of its unit, and the weighted total
    /// of the respondents is kept (cell means preserve each cell's sum).
    #[test]
    fn rating_weights_are_shared_by_five_and_keep_the_total() {
        let sizes = ["micro", "small", "medium"];
        let respondents: Vec<Strata> = (0..60)
            .map(|i| stratum(sizes[i % 3], if i % 4 == 0 { "A" } else { "B" }, "d"))
            .collect();
        let mut population = BTreeMap::new();
        population.insert("micro".to_owned(), 50.0);
        population.insert("small".to_owned(), 30.0);
        population.insert("medium".to_owned(), 20.0);
        let weighting = Weighting {
            margins: crate::stats::Margins {
                size: Some(population),
                industry: None,
                district: None,
            },
            respondents,
        };
        // Two units: every respondent rates unit 1, every third unit 2.
        let mut raters = Vec::new();
        for r in 0..60 {
            raters.push((1, r));
            if r % 3 == 0 {
                raters.push((2, r));
            }
        }
        let (weights, report) =
            rating_weights(&weighting, &raters, &RakingSettings::default(), 5).unwrap();
        assert!(report.converged);
        for unit in [1, 2] {
            let mut count: BTreeMap<u64, usize> = BTreeMap::new();
            for (w, _) in weights.iter().zip(&raters).filter(|(_, r)| r.0 == unit) {
                *count.entry(w.to_bits()).or_default() += 1;
            }
            assert!(count.values().all(|&n| n >= 5), "unit {unit}: {count:?}");
        }
        let (raked, _) = rake_respondents(&weighting, &RakingSettings::default()).unwrap();
        let unit1: f64 = weights
            .iter()
            .zip(&raters)
            .filter(|(_, r)| r.0 == 1)
            .map(|(w, _)| w)
            .sum();
        assert!((unit1 - raked.iter().sum::<f64>()).abs() < 1e-9);
    }
}
