//! Reporting periods: calendar days in Vietnam time (UTC+7), both ends inclusive.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

/// Vietnam has one time zone, UTC+7, and no daylight saving.
pub fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// From/to days, either open. `to` is inclusive: the whole last day counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Which responses an index covers besides the agency subtree: a period and, optionally, one
/// channel (kiosk or link).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Population {
    pub period: Period,
    pub channel: Option<super::submission::Channel>,
}

impl From<Period> for Population {
    fn from(period: Period) -> Self {
        Self { period, channel: None }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error("Ngày \"{0}\" không hợp lệ, hãy dùng dạng YYYY-MM-DD.")]
    BadDate(String),
    #[error("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.")]
    Reversed,
}

/// A `YYYY-MM-DD` day; four-digit years only, since stored dates and timestamps compare as text.
pub fn parse_day(input: &str) -> Result<NaiveDate, PeriodError> {
    let s = input.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| s.len() == 10 && (1000..=9998).contains(&d.year()))
        .ok_or_else(|| PeriodError::BadDate(s.to_owned()))
}

/// As [`parse_day`]; missing or blank means "none".
pub fn parse_optional_day(input: Option<&str>) -> Result<Option<NaiveDate>, PeriodError> {
    input.map(str::trim).filter(|s| !s.is_empty()).map(parse_day).transpose()
}

/// The calendar day it is in Vietnam at `now`.
pub fn vietnam_day(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&vietnam()).date_naive()
}

/// The UTC instant a Vietnamese day starts at (midnight in Hà Nội).
pub fn start_of_day(day: NaiveDate) -> DateTime<Utc> {
    vietnam()
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .expect("a fixed offset has no gaps")
        .with_timezone(&Utc)
}

impl Period {
    /// Parses optional `YYYY-MM-DD` strings; empty strings mean "open".
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, PeriodError> {
        let period = Self { from: parse_optional_day(from)?, to: parse_optional_day(to)? };
        match (period.from, period.to) {
            (Some(f), Some(t)) if f > t => Err(PeriodError::Reversed),
            _ => Ok(period),
        }
    }

    /// The half-open UTC range `[start, end)` this period covers.
    pub fn utc_bounds(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        (self.from.map(start_of_day), self.to.map(|d| start_of_day(d) + Duration::days(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vietnamese_day_starts_at_17_utc_the_day_before() {
        let p = Period::parse(Some("2026-01-10"), Some("2026-01-10")).unwrap();
        let (start, end) = p.utc_bounds();
        assert_eq!(start.unwrap().to_rfc3339(), "2026-01-09T17:00:00+00:00");
        assert_eq!(end.unwrap().to_rfc3339(), "2026-01-10T17:00:00+00:00");
    }

    #[test]
    fn the_vietnamese_day_changes_at_17_utc() {
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(vietnam_day(utc("2026-01-09T16:59:59Z")).to_string(), "2026-01-09");
        assert_eq!(vietnam_day(utc("2026-01-09T17:00:00Z")).to_string(), "2026-01-10");
        assert_eq!(start_of_day(vietnam_day(utc("2026-01-09T17:00:00Z"))), utc("2026-01-09T17:00:00Z"));
    }

    #[test]
    fn bad_and_reversed_dates_are_refused() {
        assert_eq!(Period::parse(Some("10/01/2026"), None), Err(PeriodError::BadDate("10/01/2026".into())));
        assert_eq!(Period::parse(Some("2026-02-30"), None), Err(PeriodError::BadDate("2026-02-30".into())));
        assert_eq!(Period::parse(Some("2026-02-02"), Some("2026-02-01")), Err(PeriodError::Reversed));
        assert_eq!(Period::parse(Some(""), None), Ok(Period::default()));
        // signed or five-digit years would not compare with the stored timestamps
        assert!(Period::parse(Some("-262143-01-01"), None).is_err());
        assert!(Period::parse(Some("+10000-01-01"), None).is_err());
        assert!(Period::parse(None, Some("99999-01-01")).is_err());
    }
}
