//! Working days (工作日) for deadlines: weekends and public holidays are off, and the make-up
//! working days (调休上班) that fall on weekends are on. The holidays come from configuration
//! (`[calendar]` in `qiping.toml`), because the State Council publishes each year's holidays only
//! late in the year before: the shipped configuration carries 2026's, and the deadline sweep warns
//! when the current year has none ([`WorkCalendar::knows_year`]).

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// A working-day calendar: the year's public holidays and its make-up working days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkCalendar {
    /// Days off that would otherwise be working days (法定节假日).
    pub holidays: BTreeSet<NaiveDate>,
    /// Weekend days that are working days (调休上班); `workdays` in `qiping.toml` reads too.
    #[serde(alias = "workdays")]
    pub makeup_workdays: BTreeSet<NaiveDate>,
}

impl WorkCalendar {
    /// Whether any holiday of `year` is configured (a calendar without them is probably stale).
    pub fn knows_year(&self, year: i32) -> bool {
        self.holidays.iter().any(|d| d.year() == year)
    }

    /// Whether `day` is a working day.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.makeup_workdays.contains(&day) {
            return true;
        }
        let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        !weekend && !self.holidays.contains(&day)
    }

    /// The deadline `n` working days after `start` (the start day itself does not count): a
    /// problem registered on a Friday with a 1-day limit is due the next working day.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut day = start;
        let mut left = n;
        while left > 0 {
            day = day.succ_opt().unwrap_or(day);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// Working days from `from` (exclusive) to `to` (inclusive); negative when `to` is earlier.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (a, b, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut count = 0;
        let mut day = a;
        while day < b {
            day = day.succ_opt().unwrap_or(b);
            if self.is_working_day(day) {
                count += 1;
            }
        }
        sign * count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).expect("valid date")
    }

    #[test]
    fn weekends_are_off_and_weekdays_on_in_a_plain_week() {
        let cal = WorkCalendar::default();
        assert!(cal.is_working_day(day(3, 2))); // Monday
        assert!(!cal.is_working_day(day(3, 7))); // Saturday
        assert_eq!(cal.add_working_days(day(3, 6), 1), day(3, 9)); // Friday + 1 → Monday
        assert_eq!(cal.add_working_days(day(3, 2), 15), day(3, 23));
    }

    /// A National Day week with a make-up Saturday, as the State Council's notices shape them.
    fn national_day_week() -> WorkCalendar {
        WorkCalendar {
            holidays: (1..=7).map(|d| day(10, d)).collect(),
            makeup_workdays: [day(10, 10)].into_iter().collect(),
        }
    }

    #[test]
    fn holidays_are_off_and_makeup_saturdays_are_on() {
        let cal = national_day_week();
        assert!(!cal.is_working_day(day(10, 1)));
        assert!(!cal.is_working_day(day(10, 7)));
        assert!(
            cal.is_working_day(day(10, 10)),
            "Saturday 10 October is a make-up working day"
        );
        // Registered on 30 September (Wednesday): the 国庆 week does not count.
        assert_eq!(cal.add_working_days(day(9, 30), 1), day(10, 8));
        assert_eq!(cal.add_working_days(day(9, 30), 3), day(10, 10));
    }

    #[test]
    fn working_days_between_counts_like_add_working_days() {
        let cal = national_day_week();
        let start = day(9, 28);
        for n in [0, 1, 5, 15, 30] {
            let due = cal.add_working_days(start, n);
            assert_eq!(cal.working_days_between(start, due), i64::from(n));
            assert_eq!(cal.working_days_between(due, start), -i64::from(n));
        }
    }
}
