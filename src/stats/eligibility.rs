//! Who is published and who is ranked (docs/method.md §3).

use crate::stats::Settings;

/// A unit's standing in a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// 「样本不足」: every figure withheld.
    Suppressed,
    /// Score and intervals shown; not ranked, shrunk or flagged.
    Published,
    /// Ranked, shrunk, simulated and flaggable.
    Eligible,
}

/// docs/method.md §3: published iff n ≥ 10 and n_eff ≥ 10; eligible iff published and n ≥ 30.
pub fn standing(n: usize, n_eff: f64, settings: &Settings) -> Standing {
    if n < settings.min_published_n || n_eff < settings.min_published_n_eff {
        Standing::Suppressed
    } else if n >= settings.min_eligible_n {
        Standing::Eligible
    } else {
        Standing::Published
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_inclusive_and_n_eff_can_suppress() {
        let s = Settings::default();
        assert_eq!(standing(9, 9.0, &s), Standing::Suppressed);
        assert_eq!(standing(10, 10.0, &s), Standing::Published);
        assert_eq!(standing(29, 29.0, &s), Standing::Published);
        assert_eq!(standing(30, 30.0, &s), Standing::Eligible);
        assert_eq!(standing(40, 9.99, &s), Standing::Suppressed);
    }
}
