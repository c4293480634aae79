//! Half-year periods (`2019H1`, `2019H2`) and what "consecutive" means (docs/method.md §6.1).

use crate::stats::StatsError;
use std::fmt;

/// A half-year; ordered by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub year: u16,
    /// 1 or 2.
    pub half: u8,
}

impl Period {
    /// Parses `YYYYH1` / `YYYYH2`.
    pub fn parse(text: &str) -> Result<Period, StatsError> {
        let bad = || StatsError::InvalidPeriod(text.to_owned());
        let (year, half) = text.split_once('H').ok_or_else(bad)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: u16 = year.parse().map_err(|_| bad())?;
        let half = match half {
            "1" => 1,
            "2" => 2,
            _ => return Err(bad()),
        };
        Ok(Period { year, half })
    }

    /// The half-year right after this one.
    pub fn next(self) -> Period {
        if self.half == 1 {
            Period {
                year: self.year,
                half: 2,
            }
        } else {
            Period {
                year: self.year + 1,
                half: 1,
            }
        }
    }
}

impl Period {
    /// The half-year right before this one (saturating at year 0).
    pub fn previous(self) -> Period {
        if self.half == 2 {
            Period {
                year: self.year,
                half: 1,
            }
        } else {
            Period {
                year: self.year.saturating_sub(1),
                half: 2,
            }
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}H{}", self.year, self.half)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_second_half_is_followed_by_the_next_years_first() -> Result<(), StatsError> {
        assert_eq!(Period::parse("2019H2")?.next(), Period::parse("2020H1")?);
        assert_eq!(Period::parse("2019H1")?.next().to_string(), "2019H2");
        assert!(Period::parse("2019H1")? < Period::parse("2019H2")?);
        assert_eq!(Period::parse("2020H1")?.previous().to_string(), "2019H2");
        for bad in ["2019", "19H1", "2019H3", "2019h1", "2019H1 "] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        Ok(())
    }
}
