//! Civil time in Italy (Europe/Rome): CET, UTC+1, and CEST, UTC+2, from 01:00 UTC on the last
//! Sunday of March to 01:00 UTC on the last Sunday of October (EU rule since 1996). Enough for
//! "today" in Italy without a time-zone database.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};

/// The last Sunday of `month` in `year`, 01:00 UTC.
fn switch(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let last = NaiveDate::from_ymd_opt(year, month + 1, 1)?.pred_opt()?;
    let back = last.weekday().num_days_from_sunday();
    let sunday = last - Duration::days(i64::from(back));
    debug_assert_eq!(sunday.weekday(), Weekday::Sun);
    Some(Utc.from_utc_datetime(&sunday.and_hms_opt(1, 0, 0)?))
}

/// The offset of Italian civil time from UTC at `t`, in hours.
pub fn offset_roma(t: DateTime<Utc>) -> i64 {
    match (switch(t.year(), 3), switch(t.year(), 10)) {
        (Some(start), Some(end)) if t >= start && t < end => 2,
        _ => 1,
    }
}

/// The calendar date in Italy at `t`.
pub fn data_roma(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(offset_roma(t))).date_naive()
}

/// The wall-clock time in Italy at `t`.
pub fn ora_roma(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    (t + Duration::hours(offset_roma(t))).naive_utc()
}

/// Today in Italy.
pub fn oggi_roma() -> NaiveDate {
    data_roma(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn summer_and_winter_offsets() {
        // 2026: CEST from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(offset_roma(at("2026-03-29T00:59:59Z")), 1);
        assert_eq!(offset_roma(at("2026-03-29T01:00:00Z")), 2);
        assert_eq!(offset_roma(at("2026-10-25T00:59:59Z")), 2);
        assert_eq!(offset_roma(at("2026-10-25T01:00:00Z")), 1);
    }

    #[test]
    fn the_italian_day_starts_before_the_utc_day() {
        let d = |y, m, g| NaiveDate::from_ymd_opt(y, m, g).unwrap();
        assert_eq!(data_roma(at("2026-11-27T23:30:00Z")), d(2026, 11, 28));
        assert_eq!(data_roma(at("2026-11-27T22:59:00Z")), d(2026, 11, 27));
        assert_eq!(data_roma(at("2026-07-01T22:30:00Z")), d(2026, 7, 2));
    }
}
