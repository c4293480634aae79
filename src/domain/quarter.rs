//! Quarters (`2026Q3`), the period of the problem bulletin (「每季度至少通报一次」).

use chrono::{Datelike, NaiveDate};

/// A calendar quarter, reckoned in Asia/Shanghai days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: i32,
    q: u32,
}

/// A quarter that could not be read; says the expected form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("季度 {0:?} 无效:应写作 2026Q3 这样的形式(年份 2000–2100,季度 1–4)")]
pub struct QuarterError(pub String);

impl Quarter {
    /// The quarter a day falls in.
    pub fn of(day: NaiveDate) -> Self {
        Self {
            year: day.year(),
            q: (day.month() - 1) / 3 + 1,
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn number(self) -> u32 {
        self.q
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.q - 1) * 3 + 1, 1).unwrap_or_default()
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        let next = if self.q == 4 {
            NaiveDate::from_ymd_opt(self.year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(self.year, self.q * 3 + 1, 1)
        };
        next.and_then(|d| d.pred_opt()).unwrap_or_default()
    }

    /// `2026年第三季度`.
    pub fn label(self) -> String {
        let n = ["一", "二", "三", "四"][(self.q - 1) as usize];
        format!("{}年第{n}季度", self.year)
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}Q{}", self.year, self.q)
    }
}

impl std::str::FromStr for Quarter {
    type Err = QuarterError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || QuarterError(s.to_owned());
        let t = s.trim().to_ascii_uppercase();
        let (year, q) = t.split_once('Q').ok_or_else(err)?;
        let year: i32 = year.parse().map_err(|_| err())?;
        let q: u32 = q.parse().map_err(|_| err())?;
        if !(2000..=2100).contains(&year) || !(1..=4).contains(&q) || year.to_string().len() != 4 {
            return Err(err());
        }
        Ok(Self { year, q })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_reads_and_knows_its_days() {
        let q: Quarter = "2026q3".parse().expect("quarter");
        assert_eq!(q.to_string(), "2026Q3");
        assert_eq!(q.first_day().to_string(), "2026-07-01");
        assert_eq!(q.last_day().to_string(), "2026-09-30");
        assert_eq!(q.label(), "2026年第三季度");
        let q4: Quarter = "2026Q4".parse().expect("quarter");
        assert_eq!(q4.last_day().to_string(), "2026-12-31");
        assert_eq!(Quarter::of(q4.first_day()), q4);
    }

    #[test]
    fn malformed_quarters_say_the_expected_form() {
        for bad in ["2026Q5", "2026", "Q3", "26Q3", "2026Q0", "2026H1"] {
            let err = bad.parse::<Quarter>().expect_err(bad);
            assert!(err.to_string().contains("2026Q3"), "{err}");
        }
    }
}
