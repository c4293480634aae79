//! The shipped working-day calendar: 2026's public holidays and make-up working days, from the
//! State Council's notice of 4 November 2025 (国务院办公厅关于2026年部分节假日安排的通知).
//! Each year's notice comes out late in the year before; add it to `[calendar]` in `qiping.toml`.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::domain::calendar::WorkCalendar;

/// A (month, day) of 2026.
type MonthDay = (u32, u32);

/// 2026: (first, last) day of each holiday, as the notice gives them.
const HOLIDAYS_2026: &[(MonthDay, MonthDay)] = &[
    ((1, 1), (1, 3)),   // 元旦
    ((2, 15), (2, 23)), // 春节
    ((4, 4), (4, 6)),   // 清明节
    ((5, 1), (5, 5)),   // 劳动节
    ((6, 19), (6, 21)), // 端午节
    ((9, 25), (9, 27)), // 中秋节
    ((10, 1), (10, 7)), // 国庆节
];

/// 2026's weekend days that are working days (调休上班).
const MAKEUP_2026: &[MonthDay] = &[(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)];

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default()
}

/// The default `[calendar]`: 2026's holidays and make-up working days.
pub fn official_2026() -> WorkCalendar {
    let mut holidays = BTreeSet::new();
    for &((m1, d1), (m2, d2)) in HOLIDAYS_2026 {
        let mut d = day(m1, d1);
        while d <= day(m2, d2) {
            holidays.insert(d);
            match d.succ_opt() {
                Some(next) => d = next,
                None => break,
            }
        }
    }
    WorkCalendar {
        holidays,
        makeup_workdays: MAKEUP_2026.iter().map(|&(m, d)| day(m, d)).collect(),
    }
}

/// The `[calendar]` section of the init file, one line per holiday.
pub fn init_section() -> String {
    let cal = official_2026();
    let list = |days: Vec<&NaiveDate>| {
        days.iter()
            .map(|d| format!("\"{d}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut holidays = String::new();
    for &((m1, d1), (m2, d2)) in HOLIDAYS_2026 {
        let days: Vec<&NaiveDate> = cal
            .holidays
            .iter()
            .filter(|d| **d >= day(m1, d1) && **d <= day(m2, d2))
            .collect();
        holidays.push_str(&format!("    {},\n", list(days)));
    }
    format!(
        "holidays = [\n{holidays}]\nmakeup_workdays = [{}]\n",
        list(cal.makeup_workdays.iter().collect())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Weekday};

    #[test]
    fn the_2026_calendar_has_the_notices_days() {
        let cal = official_2026();
        assert_eq!(cal.holidays.len(), 3 + 9 + 3 + 5 + 3 + 3 + 7);
        for d in &cal.makeup_workdays {
            assert!(
                matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
                "{d} is a weekend day"
            );
            assert!(cal.is_working_day(*d));
        }
        assert!(!cal.is_working_day(day(10, 1)));
        assert!(cal.is_working_day(day(10, 10)), "Saturday 10 October");
        assert!(cal.knows_year(2026));
        assert!(!cal.knows_year(2027));
    }
}
