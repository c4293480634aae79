//! The half-year a campaign covers: `2019H1` (January–June) or `2019H2` (July–December).

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which half of the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Half {
    H1,
    H2,
}

/// A half-year; ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: u16,
    half: Half,
}

/// Why a string is not a period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("评议期「{0}」格式应为 2019H1 或 2019H2 (period must look like 2019H1 or 2019H2)")]
    Format(String),
    #[error("年份 {0} 超出范围 2000–9998 (year out of range)")]
    Year(u16),
}

/// Years outside this range are almost certainly typos; the upper bound keeps `next()` total.
const YEARS: std::ops::RangeInclusive<u16> = 2000..=9998;

impl Period {
    pub fn new(year: u16, half: Half) -> Result<Period, PeriodError> {
        if !YEARS.contains(&year) {
            return Err(PeriodError::Year(year));
        }
        Ok(Period { year, half })
    }

    pub fn year(&self) -> u16 {
        self.year
    }

    pub fn half(&self) -> Half {
        self.half
    }

    /// The half-year before this one (2020H1 → 2019H2); the flag rule compares consecutive periods.
    pub fn previous(&self) -> Period {
        match self.half {
            Half::H2 => Period {
                year: self.year,
                half: Half::H1,
            },
            Half::H1 => Period {
                year: self.year - 1,
                half: Half::H2,
            },
        }
    }

    /// The half-year after this one (2019H2 → 2020H1).
    pub fn next(&self) -> Period {
        match self.half {
            Half::H1 => Period {
                year: self.year,
                half: Half::H2,
            },
            Half::H2 => Period {
                year: self.year + 1,
                half: Half::H1,
            },
        }
    }

    /// The first day: 1 January or 1 July.
    pub fn start_date(&self) -> NaiveDate {
        let month = match self.half {
            Half::H1 => 1,
            Half::H2 => 7,
        };
        ymd(self.year, month, 1)
    }

    /// The last day: 30 June or 31 December.
    pub fn end_date(&self) -> NaiveDate {
        match self.half {
            Half::H1 => ymd(self.year, 6, 30),
            Half::H2 => ymd(self.year, 12, 31),
        }
    }

    /// The period a date falls in (None outside the supported years).
    pub fn containing(date: NaiveDate) -> Option<Period> {
        use chrono::Datelike;
        let year = u16::try_from(date.year()).ok()?;
        let half = if date.month() <= 6 {
            Half::H1
        } else {
            Half::H2
        };
        Period::new(year, half).ok()
    }
}

/// The dates built here always exist (fixed months and days of a checked year).
fn ymd(year: u16, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(i32::from(year), month, day).unwrap_or(NaiveDate::MIN)
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let half = match self.half {
            Half::H1 => "H1",
            Half::H2 => "H2",
        };
        write!(f, "{}{}", self.year, half)
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    /// Accepts `2019H1`, also lower case `2019h1` and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let format_error = || PeriodError::Format(s.to_string());
        if trimmed.len() != 6 || !trimmed.is_ascii() {
            return Err(format_error());
        }
        let (year, half) = trimmed.split_at(4);
        if !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format_error());
        }
        let year: u16 = year.parse().map_err(|_| format_error())?;
        let half = match half {
            "H1" | "h1" => Half::H1,
            "H2" | "h2" => Half::H2,
            _ => return Err(format_error()),
        };
        Period::new(year, half)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    #[test]
    fn a_period_round_trips_through_its_text() {
        assert_eq!(p("2019H1").to_string(), "2019H1");
        assert_eq!(p(" 2019h2 ").to_string(), "2019H2");
    }

    #[test]
    fn malformed_periods_are_rejected() {
        for bad in [
            "2019",
            "2019H3",
            "19H1",
            "2019-H1",
            "H12019",
            "２０１９H1",
            "2019H1x",
            "+019H1",
        ] {
            assert!(
                matches!(bad.parse::<Period>(), Err(PeriodError::Format(_))),
                "{bad}"
            );
        }
        assert_eq!("1999H2".parse::<Period>(), Err(PeriodError::Year(1999)));
    }

    #[test]
    fn periods_order_chronologically() {
        assert!(p("2019H1") < p("2019H2"));
        assert!(p("2019H2") < p("2020H1"));
    }

    #[test]
    fn previous_and_next_cross_the_year_boundary() {
        assert_eq!(p("2020H1").previous(), p("2019H2"));
        assert_eq!(p("2019H2").previous(), p("2019H1"));
        assert_eq!(p("2019H2").next(), p("2020H1"));
        assert_eq!(p("2019H1").next(), p("2019H2"));
    }

    #[test]
    fn the_dates_cover_the_half_year() {
        let h1 = p("2020H1");
        assert_eq!(
            h1.start_date(),
            NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
        );
        assert_eq!(h1.end_date(), NaiveDate::from_ymd_opt(2020, 6, 30).unwrap());
        let h2 = p("2020H2");
        assert_eq!(
            h2.start_date(),
            NaiveDate::from_ymd_opt(2020, 7, 1).unwrap()
        );
        assert_eq!(
            h2.end_date(),
            NaiveDate::from_ymd_opt(2020, 12, 31).unwrap()
        );
        assert_eq!(
            Period::containing(NaiveDate::from_ymd_opt(2020, 7, 1).unwrap()),
            Some(h2)
        );
        assert_eq!(
            Period::containing(NaiveDate::from_ymd_opt(2020, 6, 30).unwrap()),
            Some(h1)
        );
    }

    #[test]
    fn serde_uses_the_text_form() {
        assert_eq!(serde_json::to_string(&p("2019H2")).unwrap(), "\"2019H2\"");
        assert_eq!(
            serde_json::from_str::<Period>("\"2019H1\"").unwrap(),
            p("2019H1")
        );
        assert!(serde_json::from_str::<Period>("\"2019H9\"").is_err());
    }
}
