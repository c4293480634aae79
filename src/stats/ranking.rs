//! Published ranks (docs/method.md §5.1): highest first, ties by raw score, then unit code; 1..J, no ties.

use crate::stats::RankBy;
use std::cmp::Ordering;

/// What a published rank is computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankEntry<'a> {
    pub code: &'a str,
    pub shrunken: f64,
    pub raw: f64,
}

fn order(a: &RankEntry<'_>, b: &RankEntry<'_>, by: RankBy) -> Ordering {
    let (ka, kb) = match by {
        RankBy::Shrunken => ((a.shrunken, a.raw), (b.shrunken, b.raw)),
        RankBy::Raw => ((a.raw, a.shrunken), (b.raw, b.shrunken)),
    };
    kb.0.total_cmp(&ka.0)
        .then(kb.1.total_cmp(&ka.1))
        .then_with(|| a.code.cmp(b.code))
}

/// Ranks 1..=J in the order of `entries` (1 = best). Ties on the ranking score are broken by the
/// other score (raw when ranking by shrunken), then by unit code ascending, so no place is shared.
pub fn published_ranks(entries: &[RankEntry<'_>], by: RankBy) -> Vec<u32> {
    let mut idx: Vec<usize> = (0..entries.len()).collect();
    idx.sort_by(|&i, &j| order(&entries[i], &entries[j], by));
    let mut ranks = vec![0; entries.len()];
    for (place, i) in idx.into_iter().enumerate() {
        ranks[i] = place as u32 + 1;
    }
    ranks
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn e(code: &str, shrunken: f64, raw: f64) -> RankEntry<'_> {
        RankEntry {
            code,
            shrunken,
            raw,
        }
    }

    #[test]
    fn ranks_follow_shrunken_score_then_raw_then_code() {
        let entries = [
            e("b", 80.0, 70.0),
            e("a", 80.0, 70.0),
            e("c", 80.0, 75.0),
            e("d", 90.0, 60.0),
        ];
        assert_eq!(published_ranks(&entries, RankBy::Shrunken), [4, 3, 2, 1]);
    }

    #[test]
    fn ranking_by_raw_score_is_a_setting() {
        let entries = [e("a", 90.0, 60.0), e("b", 80.0, 70.0)];
        assert_eq!(published_ranks(&entries, RankBy::Raw), [2, 1]);
        assert_eq!(published_ranks(&entries, RankBy::Shrunken), [1, 2]);
    }
}
