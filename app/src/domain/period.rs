//! Reporting periods: calendar days in Vietnam time (UTC+7), both ends inclusive.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

use super::submission::MAX_DAYS_LATE;

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

/// The last day no answer can be added to on `today`: [`MAX_DAYS_LATE`] days before it.
pub fn last_final_day(today: NaiveDate) -> Option<NaiveDate> {
    today.checked_sub_days(chrono::Days::new(MAX_DAYS_LATE as u64))
}

/// Where an open-started report period begins: before any response hailong can hold.
pub const EARLIEST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(day) => day,
    None => panic!("2000-01-01 is a day"),
};

/// The days a report covers, both inclusive; only final days (see [`Period::closed_days`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClosedDays {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// The final days of this period on `today`: those no answer can be added to any more. A
    /// kiosk that lost its network sends its answers dated up to [`MAX_DAYS_LATE`] − 1 days
    /// back, and held link answers are stored by the end of their hour, so the last
    /// [`MAX_DAYS_LATE`] days (today included) are provisional: a figure of them that changed as
    /// a late answer came in would show that answer alone to whoever looked before and after.
    /// `None` when no day of the period is final yet.
    pub fn closed_days(&self, today: NaiveDate) -> Option<ClosedDays> {
        let last_final = last_final_day(today)?;
        let to = self.to.map_or(last_final, |to| to.min(last_final));
        let from = self.from.unwrap_or(EARLIEST_DAY);
        (from <= to).then_some(ClosedDays { from, to })
    }
}

/// Inclusive ranges of stored spans (`2026-03` months, `2026-03-15` days) that together cover
/// some days exactly once: whole months as months, the days around them as days.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spans {
    pub months: Option<(String, String)>,
    pub days: Vec<(String, String)>,
}

impl ClosedDays {
    pub fn spans(&self) -> Spans {
        let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        let month = |d: NaiveDate| d.format("%Y-%m").to_string();
        let first_whole = if self.from.day() == 1 { Some(self.from) } else { first_of_next_month(self.from) };
        let last_whole_end = first_of_next_month(self.to).filter(|next| next.pred_opt() == Some(self.to));
        let end_of_wholes = last_whole_end.unwrap_or_else(|| first_of_month(self.to));
        match first_whole.filter(|start| *start < end_of_wholes) {
            None => Spans { months: None, days: vec![(day(self.from), day(self.to))] },
            Some(start) => {
                let last_month = end_of_wholes.pred_opt().expect("after the first whole month");
                let mut days = Vec::new();
                if self.from < start {
                    days.push((day(self.from), day(start.pred_opt().expect("after from"))));
                }
                if end_of_wholes <= self.to {
                    days.push((day(end_of_wholes), day(self.to)));
                }
                Spans { months: Some((month(start), month(last_month))), days }
            }
        }
    }

    /// The period of the same length just before this one, for rank movement: as many whole
    /// months when this one is whole months (a quarter, a year), else as many days.
    pub fn previous(&self) -> Option<ClosedDays> {
        let to = self.from.pred_opt()?;
        let whole_months = self.from.day() == 1 && self.to.succ_opt().is_some_and(|next| next.day() == 1);
        if whole_months {
            let months =
                (self.to.year() - self.from.year()) * 12 + self.to.month() as i32 - self.from.month() as i32 + 1;
            let from = self.from.checked_sub_months(chrono::Months::new(months as u32))?;
            return Some(ClosedDays { from, to });
        }
        Some(ClosedDays { from: to - (self.to - self.from), to })
    }

    /// The same days a year earlier: a month's last day stays its month's last day (29/02 →
    /// 28/02).
    pub fn same_period_last_year(&self) -> Option<ClosedDays> {
        let year_back = |d: NaiveDate| d.checked_sub_months(chrono::Months::new(12));
        let to = year_back(self.to)?;
        let to = if self.to == last_of_month(self.to) { last_of_month(to) } else { to };
        Some(ClosedDays { from: year_back(self.from)?, to })
    }
}

/// What a period's figures are set against: the period of the same length just before it, or
/// the same period a year earlier (which leaves out the season: Tết, the end of a year).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum Comparison {
    #[default]
    PreviousPeriod,
    SamePeriodLastYear,
}

impl TryFrom<String> for Comparison {
    type Error = &'static str;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text).ok_or(Self::EXPECTED)
    }
}

impl Comparison {
    pub const ALL: [Self; 2] = [Self::PreviousPeriod, Self::SamePeriodLastYear];

    /// What a request is told when its `compare` is neither.
    pub const EXPECTED: &'static str = "So sánh với (compare) phải là previous_period hoặc same_period_last_year.";

    /// `previous_period` (or nothing) and `same_period_last_year`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "" | "previous_period" => Some(Self::PreviousPeriod),
            "same_period_last_year" => Some(Self::SamePeriodLastYear),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreviousPeriod => "previous_period",
            Self::SamePeriodLastYear => "same_period_last_year",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::PreviousPeriod => "kỳ trước liền kề",
            Self::SamePeriodLastYear => "cùng kỳ năm trước",
        }
    }

    /// The days `days` are compared with.
    pub fn of(self, days: &ClosedDays) -> Option<ClosedDays> {
        match self {
            Self::PreviousPeriod => days.previous(),
            Self::SamePeriodLastYear => days.same_period_last_year(),
        }
    }
}

pub fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).expect("every month has a first day")
}

/// The last day of `day`'s month (`day` itself at the end of the calendar).
pub fn last_of_month(day: NaiveDate) -> NaiveDate {
    first_of_next_month(day).and_then(|next| next.pred_opt()).unwrap_or(day)
}

fn first_of_next_month(day: NaiveDate) -> Option<NaiveDate> {
    first_of_month(day).checked_add_months(chrono::Months::new(1))
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

    fn day(s: &str) -> NaiveDate {
        parse_day(s).unwrap()
    }

    fn spans(from: &str, to: &str) -> Spans {
        ClosedDays { from: day(from), to: day(to) }.spans()
    }

    fn range(a: &str, b: &str) -> (String, String) {
        (a.to_owned(), b.to_owned())
    }

    #[test]
    fn whole_months_are_read_as_months_and_the_rest_as_days() {
        assert_eq!(
            spans("2026-01-15", "2026-04-10"),
            Spans {
                months: Some(range("2026-02", "2026-03")),
                days: vec![range("2026-01-15", "2026-01-31"), range("2026-04-01", "2026-04-10")]
            }
        );
        assert_eq!(
            spans("2026-01-01", "2026-12-31"),
            Spans { months: Some(range("2026-01", "2026-12")), days: vec![] }
        );
        assert_eq!(
            spans("2026-02-01", "2026-02-28"),
            Spans { months: Some(range("2026-02", "2026-02")), days: vec![] }
        );
        // inside one month, or across two partial months: days only
        assert_eq!(
            spans("2026-02-01", "2026-02-27"),
            Spans { months: None, days: vec![range("2026-02-01", "2026-02-27")] }
        );
        assert_eq!(
            spans("2026-01-20", "2026-02-10"),
            Spans { months: None, days: vec![range("2026-01-20", "2026-02-10")] }
        );
        assert_eq!(
            spans("2025-12-31", "2026-02-01"),
            Spans {
                months: Some(range("2026-01", "2026-01")),
                days: vec![range("2025-12-31", "2025-12-31"), range("2026-02-01", "2026-02-01")]
            }
        );
    }

    #[test]
    fn reports_cover_final_days_only() {
        // On 25/11 a kiosk may still send answers of 19/11 (seven days, today included): the
        // last final day is 18/11.
        let today = day("2026-11-25");
        assert_eq!(last_final_day(today), Some(day("2026-11-18")));
        let this_month = Period::parse(Some("2026-11-01"), Some("2026-11-30")).unwrap();
        assert_eq!(this_month.closed_days(today), Some(ClosedDays { from: day("2026-11-01"), to: day("2026-11-18") }));
        let last_week = Period::parse(Some("2026-11-19"), None).unwrap();
        assert_eq!(last_week.closed_days(today), None);
        let open = Period::default().closed_days(today).unwrap();
        assert_eq!((open.from, open.to), (EARLIEST_DAY, day("2026-11-18")));
    }

    #[test]
    fn the_previous_period_has_the_same_length() {
        let q3 = ClosedDays { from: day("2026-07-01"), to: day("2026-09-30") };
        assert_eq!(q3.previous(), Some(ClosedDays { from: day("2026-04-01"), to: day("2026-06-30") }));
        let year = ClosedDays { from: day("2025-01-01"), to: day("2025-12-31") };
        assert_eq!(year.previous(), Some(ClosedDays { from: day("2024-01-01"), to: day("2024-12-31") }));
        let ten_days = ClosedDays { from: day("2026-03-11"), to: day("2026-03-20") };
        assert_eq!(ten_days.previous(), Some(ClosedDays { from: day("2026-03-01"), to: day("2026-03-10") }));
    }

    #[test]
    fn the_same_period_last_year_keeps_the_calendar() {
        let q1 = ClosedDays { from: day("2025-01-01"), to: day("2025-03-31") };
        let same = Comparison::SamePeriodLastYear;
        assert_eq!(same.of(&q1), Some(ClosedDays { from: day("2024-01-01"), to: day("2024-03-31") }));
        // February of a leap year against February of the year before: a month against a month.
        let leap = ClosedDays { from: day("2024-02-01"), to: day("2024-02-29") };
        assert_eq!(same.of(&leap), Some(ClosedDays { from: day("2023-02-01"), to: day("2023-02-28") }));
        let february = ClosedDays { from: day("2025-02-01"), to: day("2025-02-28") };
        assert_eq!(same.of(&february), Some(ClosedDays { from: day("2024-02-01"), to: day("2024-02-29") }));
        let ten_days = ClosedDays { from: day("2026-03-11"), to: day("2026-03-20") };
        assert_eq!(same.of(&ten_days), Some(ClosedDays { from: day("2025-03-11"), to: day("2025-03-20") }));
        assert_eq!(Comparison::PreviousPeriod.of(&q1), q1.previous());
        assert_eq!(Comparison::parse(""), Some(Comparison::PreviousPeriod));
        assert_eq!(Comparison::parse("same_period_last_year"), Some(same));
        assert_eq!(Comparison::parse("last_month"), None);
    }
}
