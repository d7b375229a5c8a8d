//! Civil time in Italy (Europe/Rome, from the IANA time-zone database through `chrono-tz`):
//! "today" in Italy, the Italian date and wall-clock time of an instant, its offset from UTC.

use chrono::{DateTime, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Europe::Rome;

/// The offset of Italian civil time from UTC at `t`, in hours (1 in winter, 2 in summer).
pub fn offset_roma(t: DateTime<Utc>) -> i64 {
    i64::from(
        Rome.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc(),
    ) / 3600
}

/// The calendar date in Italy at `t`.
pub fn data_roma(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Rome).date_naive()
}

/// The wall-clock time in Italy at `t`.
pub fn ora_roma(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    t.with_timezone(&Rome).naive_local()
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
        // 2027: from 28 March to 31 October.
        assert_eq!(offset_roma(at("2027-03-28T00:59:59Z")), 1);
        assert_eq!(offset_roma(at("2027-03-28T01:00:00Z")), 2);
        assert_eq!(offset_roma(at("2027-10-31T01:00:00Z")), 1);
    }

    #[test]
    fn wall_clock_time_on_the_switch_days() {
        let t = |s: &str| ora_roma(at(s)).format("%Y-%m-%d %H:%M").to_string();
        assert_eq!(t("2026-03-29T00:59:00Z"), "2026-03-29 01:59");
        assert_eq!(t("2026-03-29T01:00:00Z"), "2026-03-29 03:00");
        assert_eq!(t("2026-10-25T00:30:00Z"), "2026-10-25 02:30");
        assert_eq!(t("2026-10-25T01:30:00Z"), "2026-10-25 02:30");
    }

    #[test]
    fn the_italian_day_starts_before_the_utc_day() {
        let d = |y, m, g| NaiveDate::from_ymd_opt(y, m, g).unwrap();
        assert_eq!(data_roma(at("2026-11-27T23:30:00Z")), d(2026, 11, 28));
        assert_eq!(data_roma(at("2026-11-27T22:59:00Z")), d(2026, 11, 27));
        assert_eq!(data_roma(at("2026-07-01T22:30:00Z")), d(2026, 7, 2));
    }
}
