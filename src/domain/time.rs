//! Time as the programme reckons it: stored in UTC, with days, deadlines and periods in
//! Asia/Shanghai (docs/architecture.md §4.3).

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use chrono_tz::Tz;

/// The programme's time zone.
pub const ZONE: Tz = Shanghai;

/// A stored UTC time in Asia/Shanghai.
pub fn local(utc: NaiveDateTime) -> DateTime<Tz> {
    Utc.from_utc_datetime(&utc).with_timezone(&ZONE)
}

/// The Asia/Shanghai day of a stored UTC time.
pub fn local_day(utc: NaiveDateTime) -> NaiveDate {
    local(utc).date_naive()
}

/// A stored UTC time shown as `2019-07-01 08:00` Beijing time.
pub fn show(utc: NaiveDateTime) -> String {
    local(utc).format("%Y-%m-%d %H:%M").to_string()
}

/// The last instant of an Asia/Shanghai day, in UTC: a deadline "until 2019-12-31" runs to
/// 2019-12-31 23:59:59 Beijing time.
pub fn end_of_local_day(day: NaiveDate) -> NaiveDateTime {
    let next = day.succ_opt().unwrap_or(day);
    let midnight = next.and_hms_opt(0, 0, 0).unwrap_or_default();
    let local_midnight = ZONE
        .from_local_datetime(&midnight)
        .earliest()
        .unwrap_or_else(|| ZONE.from_utc_datetime(&midnight));
    local_midnight.naive_utc() - chrono::Duration::seconds(1)
}

/// The first instant of an Asia/Shanghai day, in UTC (Beijing midnight).
pub fn start_of_local_day(day: NaiveDate) -> Option<NaiveDateTime> {
    let midnight = day.and_hms_opt(0, 0, 0)?;
    ZONE.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_utc_evening_is_the_next_day_in_shanghai() {
        let utc = NaiveDate::from_ymd_opt(2019, 6, 30)
            .and_then(|d| d.and_hms_opt(17, 30, 0))
            .expect("valid");
        assert_eq!(
            local_day(utc),
            NaiveDate::from_ymd_opt(2019, 7, 1).expect("valid")
        );
        assert_eq!(show(utc), "2019-07-01 01:30");
    }

    #[test]
    fn a_deadline_day_ends_at_midnight_beijing_time() {
        let day = NaiveDate::from_ymd_opt(2019, 12, 31).expect("valid");
        let end = end_of_local_day(day);
        assert_eq!(end.to_string(), "2019-12-31 15:59:59");
    }
}
