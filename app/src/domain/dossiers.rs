//! Dossiers completed per agency and month (số hồ sơ đã giải quyết), as a province enters them
//! from its one-stop software: the N of a ranking's minimum sample n = N / (1 + N·e²) where
//! survey links do not cover every dossier. A period that covers part of a month counts that
//! month's dossiers in proportion to its days.

use chrono::{Datelike, NaiveDate};

use super::period::ClosedDays;

/// The most dossiers one agency may report for one month: a typo guard, not a real limit.
pub const MAX_PER_MONTH: u64 = 10_000_000;

/// One agency's completed dossiers in one month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DossierCount {
    pub agency: String,
    /// The first day of the month.
    pub month: NaiveDate,
    pub completed: u64,
}

/// Reads `agency,month,completed` lines (a header line is optional; month as `2026-10`).
/// Every bad line is reported, with its number, in Vietnamese; nothing is kept if one is bad.
pub fn parse_csv(text: &str) -> Result<Vec<DossierCount>, Vec<String>> {
    let mut counts: Vec<DossierCount> = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if line.trim().is_empty() || (i == 0 && fields.first().is_some_and(|f| f.eq_ignore_ascii_case("agency"))) {
            continue;
        }
        let number = i + 1;
        let [agency, month, completed] = fields[..] else {
            problems.push(format!("Dòng {number}: cần đúng 3 cột: mã đơn vị, tháng (YYYY-MM), số hồ sơ."));
            continue;
        };
        let Some(month) = parse_month(month) else {
            problems.push(format!("Dòng {number}: tháng \"{month}\" không hợp lệ (dạng 2026-10)."));
            continue;
        };
        let Some(completed) = completed.parse::<u64>().ok().filter(|n| *n <= MAX_PER_MONTH) else {
            problems
                .push(format!("Dòng {number}: số hồ sơ \"{completed}\" phải là số nguyên từ 0 đến {MAX_PER_MONTH}."));
            continue;
        };
        if agency.is_empty() {
            problems.push(format!("Dòng {number}: thiếu mã đơn vị."));
        } else if counts.iter().any(|c| c.agency == agency && c.month == month) {
            problems.push(format!("Dòng {number}: {agency} tháng {} đã có ở dòng trên.", month.format("%Y-%m")));
        } else {
            counts.push(DossierCount { agency: agency.to_owned(), month, completed });
        }
    }
    if problems.is_empty() {
        Ok(counts)
    } else {
        Err(problems)
    }
}

/// `2026-10` as the first day of that month.
pub fn parse_month(text: &str) -> Option<NaiveDate> {
    let (year, month) = text.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)
}

/// The part of `month`'s dossiers that falls in `days`: the share of its days inside.
pub fn share_in(month: NaiveDate, completed: u64, days: &ClosedDays) -> f64 {
    let next = month.checked_add_months(chrono::Months::new(1)).unwrap_or(month);
    let length = (next - month).num_days();
    let first = month.max(days.from);
    let last = (next - chrono::Duration::days(1)).min(days.to);
    let inside = (last - first).num_days() + 1;
    if inside <= 0 || length <= 0 {
        return 0.0;
    }
    completed as f64 * inside as f64 / length as f64
}

/// The months `days` touch, as their first days.
pub fn months_of(days: &ClosedDays) -> (NaiveDate, NaiveDate) {
    let first = |d: NaiveDate| d.with_day(1).unwrap_or(d);
    (first(days.from), first(days.to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_file_of_counts_is_read_with_or_without_its_header() {
        let counts = parse_csv("\u{feff}agency,month,completed\nSTP,2026-10,1200\n\nX1 , 2026-09 , 0\n").unwrap();
        assert_eq!(
            counts,
            vec![
                DossierCount { agency: "STP".into(), month: day(2026, 10, 1), completed: 1200 },
                DossierCount { agency: "X1".into(), month: day(2026, 9, 1), completed: 0 },
            ]
        );
        assert_eq!(parse_csv("STP,2026-10,5").unwrap().len(), 1);
    }

    #[test]
    fn every_bad_line_is_named_and_none_is_kept() {
        let problems = parse_csv("STP,2026-13,5\nSTP,2026-10,-1\nSTP,2026-10\n,2026-10,3\nX,2026-10,1\nX,2026-10,2\n")
            .unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems[0].starts_with("Dòng 1: tháng"), "{problems:?}");
        assert!(problems[1].contains("số nguyên"), "{problems:?}");
        assert!(problems[2].contains("3 cột"), "{problems:?}");
        assert!(problems[3].contains("thiếu mã"), "{problems:?}");
        assert!(problems[4].starts_with("Dòng 6") && problems[4].contains("đã có"), "{problems:?}");
        assert!(parse_csv("STP,2026-10,10000001").is_err(), "over the typo guard");
    }

    #[test]
    fn a_period_counts_the_share_of_each_month_it_covers() {
        // October has 31 days: 10 to 20 October is 11 of them; 3,100 dossiers → 1,100.
        let days = ClosedDays { from: day(2026, 10, 10), to: day(2026, 10, 20) };
        assert!((share_in(day(2026, 10, 1), 3100, &days) - 1100.0).abs() < 1e-9);
        assert_eq!(share_in(day(2026, 9, 1), 3000, &days), 0.0, "a month outside counts nothing");
        // 16 September to 15 October: 15 of September's 30 days and 15 of October's 31.
        let days = ClosedDays { from: day(2026, 9, 16), to: day(2026, 10, 15) };
        assert!((share_in(day(2026, 9, 1), 300, &days) - 150.0).abs() < 1e-9);
        assert!((share_in(day(2026, 10, 1), 310, &days) - 150.0).abs() < 1e-9);
        assert_eq!(months_of(&days), (day(2026, 9, 1), day(2026, 10, 1)));
    }
}
