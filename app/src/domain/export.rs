//! What the exports hold, whatever the file format: the report tables, and one row per response
//! with nothing that identifies a person (no id, no time of day, no comment).

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};

use super::anomaly::Sensitivity;
use super::questionnaire::Questionnaire;
use super::report::{BreakdownRow, ExpectationShare, Ranking};
use super::submission::Channel;
use super::{SatisfactionIndex, ValidResponse};

/// One cell: numbers stay numbers in a spreadsheet.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl Cell {
    fn opt(value: Option<f64>) -> Self {
        value.map_or(Self::Empty, Self::Number)
    }

    fn count(value: u64) -> Self {
        Self::Number(value as f64)
    }

    fn text(value: impl Into<String>) -> Self {
        Self::Text(value.into())
    }

    /// As a CSV field: a dot for decimals, so that every program reads it as a number.
    pub fn to_field(&self) -> String {
        self.with_field(str::to_owned)
    }

    /// Hands the CSV field to `use_it` without allocating for text and whole numbers. Text is
    /// [`inert_text`]; a number (even a negative one) stays a number.
    pub fn with_field<R>(&self, use_it: impl FnOnce(&str) -> R) -> R {
        match self {
            Self::Text(text) => use_it(&inert_text(text)),
            // Whole numbers (counts, levels) through integer formatting: far cheaper than a float's.
            Self::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => use_it(itoa::Buffer::new().format(*n as i64)),
            Self::Number(n) => use_it(&format!("{n:.4}")),
            Self::Empty => use_it(""),
        }
    }
}

/// What makes a spreadsheet read a cell as a formula (CSV injection, "formula injection").
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell of a CSV file the project writes, made inert: text that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return — after any apostrophes — gets one more `'` in front, so that
/// Excel or LibreOffice shows it instead of running it (OWASP's advice). Every CSV cell of text
/// passes here: exports ([`Cell::with_field`]) and the registry (`registry::csv::write`).
/// Numbers are written as numbers and never pass here; XLSX cells are typed strings, never
/// formulas, and need none of this.
pub fn inert_text(text: &str) -> Cow<'_, str> {
    if text.trim_start_matches('\'').starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The text [`inert_text`] was given, for the files the project reads back (the registry):
/// exactly one added apostrophe is taken off, and only where [`inert_text`] adds one.
pub fn from_inert_text(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// A report table: a sheet of an XLSX file, or a CSV file.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The file and sheet name (`xep-hang`, …).
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// How much of a response an export shows: a manager gets months and no profile, so that a
/// small unit's day cannot be matched with the people who came that day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detail {
    pub day: bool,
    pub profile: bool,
}

pub fn response_headers(questionnaire: &Questionnaire, detail: Detail) -> Vec<String> {
    let mut headers: Vec<String> =
        [if detail.day { "ngay" } else { "thang" }, "co_quan", "diem_tiep_nhan", "kenh", "phien_ban_phieu"]
            .map(String::from)
            .to_vec();
    headers.extend(questionnaire.criteria().map(|(_, c)| c.code.clone()));
    headers.extend(questionnaire.expectations.areas.iter().map(|a| format!("mong_doi_{}", a.code)));
    if detail.profile {
        headers.extend(questionnaire.profile.iter().map(|p| p.code.clone()));
    }
    headers
}

/// One response as a row under [`response_headers`].
pub fn response_row(
    questionnaire: &Questionnaire,
    detail: Detail,
    response: &ValidResponse,
    service_point: &str,
    channel: Channel,
    day: NaiveDate,
) -> Vec<Cell> {
    let when = if detail.day { day.to_string() } else { format!("{:04}-{:02}", day.year(), day.month()) };
    let mut row = vec![
        Cell::Text(when),
        Cell::text(&response.agency),
        Cell::text(service_point),
        Cell::text(channel.as_str()),
        Cell::text(&response.questionnaire_version),
    ];
    let answer = |code: &str| response.answers.iter().find(|(c, _)| c == code).and_then(|(_, v)| *v);
    row.extend(questionnaire.criteria().map(|(_, c)| Cell::opt(answer(&c.code).map(f64::from))));
    let wish = |code: &str| response.expectations.iter().find(|(c, _)| c == code).map(|(_, v)| f64::from(*v));
    row.extend(questionnaire.expectations.areas.iter().map(|a| Cell::opt(wish(&a.code))));
    if detail.profile {
        let option = |code: &str| response.profile.iter().find(|(q, _)| q == code).map(|(_, o)| o.clone());
        row.extend(questionnaire.profile.iter().map(|p| option(&p.code).map_or(Cell::Empty, Cell::Text)));
    }
    row
}

/// The 16 criteria of one index: counts per level, index, interval, mean.
pub fn criteria_table(questionnaire: &Questionnaire, index: &SatisfactionIndex) -> Table {
    let headers = [
        "Mã",
        "Tiêu chí",
        "Tỷ lệ hài lòng (%)",
        "KTC 95% dưới",
        "KTC 95% trên",
        "Điểm TB",
        "Hợp lệ",
        "Mức 1",
        "Mức 2",
        "Mức 3",
        "Mức 4",
        "Mức 5",
    ];
    let rows = index
        .elements
        .iter()
        .flat_map(|e| &e.criteria)
        .map(|c| {
            let text = questionnaire
                .criteria()
                .find(|(_, x)| x.code == c.code)
                .map(|(_, x)| x.text.clone())
                .unwrap_or_default();
            let mut row = vec![Cell::text(&c.code), Cell::Text(text), Cell::opt(c.index)];
            row.push(Cell::opt(c.ci95.map(|[lo, _]| lo)));
            row.push(Cell::opt(c.ci95.map(|[_, hi]| hi)));
            row.extend([Cell::opt(c.mean), Cell::count(c.valid)]);
            row.extend(c.counts.iter().map(|n| Cell::count(*n)));
            row
        })
        .collect();
    Table { name: "tieu-chi".into(), headers: headers.map(String::from).to_vec(), rows }
}

pub fn ranking_table(ranking: &Ranking) -> Table {
    let headers = [
        "Hạng",
        "Mã",
        "Cơ quan, đơn vị",
        "Chỉ số chung (%)",
        "KTC 95% dưới",
        "KTC 95% trên",
        "Số phiếu",
        "Hạng kỳ trước",
        "Chỉ số kỳ trước (%)",
        "So với mục tiêu (điểm %)",
        "Hồ sơ đã giải quyết (N)",
        "Cỡ mẫu tối thiểu",
        "Tỷ lệ phản hồi (%)",
        "Mẫu",
        "Nhóm KTC chồng nhau",
        "Thành phần chưa tính",
        "Chỉ số có trọng số theo N (%)",
    ];
    let place = |p: Option<usize>| Cell::opt(p.map(|n| n as f64));
    let rows = ranking
        .rows
        .iter()
        .map(|r| {
            vec![
                place(r.rank),
                Cell::text(&r.code),
                Cell::text(&r.name),
                Cell::opt(r.index),
                Cell::opt(r.ci95.map(|[lo, _]| lo)),
                Cell::opt(r.ci95.map(|[_, hi]| hi)),
                Cell::count(r.responses),
                place(r.previous_rank),
                Cell::opt(r.previous_index),
                Cell::opt(r.gap_to_target),
                Cell::opt(r.dossiers.map(|n| n as f64)),
                Cell::opt(r.minimum_sample.map(|n| n as f64)),
                Cell::opt(r.response_rate),
                Cell::text(r.adequacy.label()),
                place(r.overlap_group),
                Cell::text(r.left_out.join(", ")),
                Cell::opt(r.weighted),
            ]
        })
        .collect();
    Table { name: "xep-hang".into(), headers: headers.map(String::from).to_vec(), rows }
}

/// What the report's overview sheet holds of one agency's subtree.
pub struct Overview<'a> {
    pub name: &'a str,
    pub index: &'a SatisfactionIndex,
    pub interval: Option<[f64; 2]>,
    pub weighted: Option<&'a super::weighting::Weighted>,
    /// (what the period is compared with, its overall index)
    pub comparisons: Vec<(String, Option<f64>)>,
    pub milestone: Option<super::report::Target>,
    /// The survey links made over the period and how many were answered.
    pub links: Option<super::invitation::LinkUptake>,
}

/// The report's overview sheet: one figure per line.
pub fn overview_table(overview: &Overview) -> Table {
    let Overview { name, index, interval, weighted, comparisons, milestone, links } = overview;
    let shown = super::report::shown;
    let line = |what: String, value: Cell| vec![Cell::Text(what), value];
    let mut rows = vec![
        line("Cơ quan, đơn vị".into(), Cell::text(*name)),
        line("Số phiếu".into(), Cell::count(index.responses)),
        line("Chỉ số hài lòng chung (%)".into(), Cell::opt(index.overall)),
        line("KTC 95% dưới".into(), Cell::opt(interval.map(|[lo, _]| lo))),
        line("KTC 95% trên".into(), Cell::opt(interval.map(|[_, hi]| hi))),
        line("Yếu tố chưa tính vào chỉ số chung".into(), Cell::text(index.left_out.join(", "))),
    ];
    if let Some(w) = weighted {
        rows.push(line("Chỉ số có trọng số theo số hồ sơ N (%)".into(), Cell::opt(w.overall)));
        rows.push(line("Đơn vị tính trọng số".into(), Cell::count(w.units as u64)));
        rows.push(line(
            "Đơn vị có phiếu chưa nhập N (không tính trọng số)".into(),
            Cell::count(w.units_without_n as u64),
        ));
        rows.push(line("Phiếu của đơn vị chưa nhập N".into(), Cell::count(w.responses_without_n)));
        let channels = w.channel_shares.map_or_else(|| "không (mỗi đơn vị gộp mọi kênh)".to_owned(), |s| s.describe());
        rows.push(line("Trọng số theo kênh khảo sát".into(), Cell::Text(channels)));
    }
    rows.extend(index.elements.iter().map(|e| line(format!("Yếu tố {} (%)", e.code), Cell::opt(e.index))));
    for (label, before) in comparisons {
        rows.push(line(format!("Chỉ số chung, {label} (%)"), Cell::opt(*before)));
        let change = super::report::change(index.overall, *before);
        rows.push(line(format!("Thay đổi so với {label} (điểm %)"), Cell::opt(change)));
    }
    if let Some(t) = milestone {
        rows.push(line(format!("Mốc mục tiêu năm {} (%)", t.year), Cell::Number(t.percent)));
        rows.push(line("So với mốc (điểm %)".into(), Cell::opt(index.overall.map(|i| shown(i) - t.percent))));
    }
    if let Some(links) = links {
        rows.push(line("Lời mời khảo sát đã phát trong kỳ (đường dẫn, mã QR)".into(), Cell::count(links.made)));
        rows.push(line("Lời mời đã được trả lời".into(), Cell::count(links.answered)));
        rows.push(line("Tỷ lệ trả lời lời mời (%)".into(), Cell::opt(links.rate())));
    }
    Table { name: "tong-quan".into(), headers: vec!["Chỉ tiêu".into(), "Giá trị".into()], rows }
}

/// The report's annex for one kind of unit, in the Ministry's layout: every unit with its five
/// element indices, overall (pooled and weighted by N), sample, adequacy, rank and movement.
pub fn annex_table(questionnaire: &Questionnaire, ranking: &Ranking) -> Table {
    let mut headers: Vec<String> = vec!["Mã".into(), "Cơ quan, đơn vị".into()];
    headers.extend(questionnaire.elements.iter().map(|e| format!("{} (%)", e.code)));
    headers.extend(
        [
            "Chỉ số chung (%)",
            "Có trọng số theo N (%)",
            "Số phiếu (n)",
            "Hồ sơ đã giải quyết (N)",
            "Tỷ lệ phản hồi (%)",
            "Mẫu",
            "Thành phần chưa tính",
            "Hạng",
            "Hạng kỳ so sánh",
            "Thay đổi điểm (điểm %)",
        ]
        .map(String::from),
    );
    let place = |p: Option<usize>| Cell::opt(p.map(|n| n as f64));
    let rows = ranking
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![Cell::text(&r.code), Cell::text(&r.name)];
            row.extend(r.elements.iter().map(|e| Cell::opt(*e)));
            row.extend([
                Cell::opt(r.index),
                Cell::opt(r.weighted),
                Cell::count(r.responses),
                Cell::opt(r.dossiers.map(|n| n as f64)),
                Cell::opt(r.response_rate),
                Cell::text(if r.ranked() { r.adequacy.label().to_owned() } else { r.not_ranked_because() }),
                Cell::text(r.left_out.join(", ")),
                place(r.rank),
                place(r.previous_rank),
                Cell::opt(super::report::change(r.index, r.previous_index)),
            ]);
            row
        })
        .collect();
    // As restated, the split units and how their responses were placed, below the units.
    let mut rows: Vec<Vec<Cell>> = rows;
    for split in &ranking.restated_splits {
        rows.push(vec![Cell::text("Ghi chú"), Cell::Text(split.note())]);
    }
    Table { name: format!("phu-luc-{}", ranking.kind.as_str()), headers, rows }
}

/// The report's data-quality sheet: each criterion's valid answers and skip rate, then the
/// responses per channel and their share.
/// The data-quality sheet: skips per criterion, the channel mix and, for a reader of the whole
/// province, the kiosk and officer flags and the overall without flagged kiosk-hours.
pub fn quality_table(
    questionnaire: &Questionnaire,
    index: &SatisfactionIndex,
    channels: &[(String, u64)],
    integrity: Option<(&[(String, u64)], &Sensitivity)>,
) -> Table {
    let headers = ["Mục", "Nội dung", "Số phiếu / ý kiến hợp lệ", "Tỷ lệ (%)"].map(String::from).to_vec();
    let share = |n: u64| (index.responses > 0).then(|| n as f64 / index.responses as f64 * 100.0);
    let mut rows: Vec<Vec<Cell>> = index
        .elements
        .iter()
        .flat_map(|e| &e.criteria)
        .map(|c| {
            let skipped = share(index.responses.saturating_sub(c.valid));
            let text = questionnaire.criteria().find(|(_, x)| x.code == c.code).map(|(_, x)| x.text.clone());
            vec![
                Cell::text(format!("Bỏ qua {}", c.code)),
                Cell::Text(text.unwrap_or_default()),
                Cell::count(c.valid),
                Cell::opt(skipped),
            ]
        })
        .collect();
    rows.extend(
        channels.iter().map(|(label, n)| {
            vec![Cell::text("Kênh khảo sát"), Cell::text(label), Cell::count(*n), Cell::opt(share(*n))]
        }),
    );
    if let Some((flags, sensitivity)) = integrity {
        let flag = |(what, n): &(String, u64)| {
            vec![Cell::text("Dấu hiệu bất thường"), Cell::text(what), Cell::count(*n), Cell::Empty]
        };
        rows.extend(flags.iter().map(flag));
        let about = "Chỉ số khi bỏ các giờ kiosk bị gắn cờ";
        rows.push(vec![
            Cell::text(about),
            Cell::text("Số giờ kiosk bị gắn cờ"),
            Cell::count(sensitivity.kiosk_hours),
            Cell::Empty,
        ]);
        rows.push(vec![
            Cell::text(about),
            Cell::text("Số phiếu của các giờ đó được tính"),
            Cell::count(sensitivity.left_out),
            Cell::Empty,
        ]);
        rows.push(vec![
            Cell::text(about),
            Cell::text("Chỉ số hài lòng chung khi bỏ các phiếu này (trống: dưới k phiếu hoặc không đủ để tính)"),
            Cell::Empty,
            Cell::opt(sensitivity.overall),
        ]);
    }
    Table { name: "chat-luong".into(), headers, rows }
}

pub fn expectations_table(questionnaire: &Questionnaire, shares: &[ExpectationShare]) -> Table {
    let rows = shares
        .iter()
        .map(|e| {
            let text = questionnaire.expectations.areas.iter().find(|a| a.code == e.code).map(|a| a.text.clone());
            vec![
                Cell::opt(e.rank.map(|r| r as f64)),
                Cell::text(&e.code),
                Cell::Text(text.unwrap_or_default()),
                Cell::opt(e.share),
                Cell::count(e.respondents),
            ]
        })
        .collect();
    let headers = ["Hạng", "Mã", "Nội dung", "Tỷ lệ mong muốn (%)", "Số người trả lời"];
    Table { name: "mong-doi".into(), headers: headers.map(String::from).to_vec(), rows }
}

pub fn breakdown_table(by: &str, rows: &[BreakdownRow]) -> Table {
    let rows = rows
        .iter()
        .map(|r| {
            let hidden = |value: Cell| if r.suppressed { Cell::text("ẩn") } else { value };
            vec![
                Cell::text(&r.value),
                Cell::text(&r.label),
                hidden(Cell::opt(r.responses.map(|n| n as f64))),
                hidden(Cell::opt(r.index)),
            ]
        })
        .collect();
    let headers = ["Giá trị", "Nhóm", "Số phiếu", "Chỉ số chung (%)"];
    Table { name: format!("phan-to-{by}"), headers: headers.map(String::from).to_vec(), rows }
}

/// Local suppression for k-anonymity (what statistical offices do to microdata): in `rows`, the
/// rows whose quasi-identifiers (`key`) are shared by fewer than `min_cell` rows get their
/// profile blanked (`blank`), so that no row stands out by its profile. The other columns of
/// the key (agency, period, channel) stay, and are what makes the groups.
pub fn blank_rare_profiles<T, K: std::hash::Hash + Eq>(
    rows: &mut [T],
    min_cell: u64,
    key: impl Fn(&T) -> K,
    mut blank: impl FnMut(&mut T),
) -> usize {
    let mut groups: std::collections::HashMap<K, u64> = std::collections::HashMap::new();
    for row in rows.iter() {
        *groups.entry(key(row)).or_default() += 1;
    }
    let rare: Vec<bool> = rows.iter().map(|row| groups[&key(row)] < min_cell).collect();
    let mut blanked = 0;
    for (row, rare) in rows.iter_mut().zip(rare) {
        if rare {
            blank(row);
            blanked += 1;
        }
    }
    blanked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_row_has_no_time_of_day_and_a_manager_gets_months_without_profile() {
        let q = Questionnaire::bundled();
        let response = ValidResponse {
            id: uuid::Uuid::nil(),
            agency: "SNV".into(),
            questionnaire_version: q.version.clone(),
            answers: vec![("A1".into(), Some(4)), ("A2".into(), None)],
            expectations: vec![("X3".into(), 2)],
            profile: vec![("gender".into(), "nu".into())],
            comment: Some("số điện thoại 0912345678".into()),
            day: None,
        };
        let day = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let full = Detail { day: true, profile: true };
        let headers = response_headers(&q, full);
        let row = response_row(&q, full, &response, "TT", Channel::Kiosk, day);
        assert_eq!(headers.len(), row.len());
        assert_eq!(row[0], Cell::text("2026-03-15"));
        assert_eq!(row[headers.iter().position(|h| h == "A1").unwrap()], Cell::Number(4.0));
        assert_eq!(row[headers.iter().position(|h| h == "A2").unwrap()], Cell::Empty);
        assert_eq!(row[headers.iter().position(|h| h == "mong_doi_X3").unwrap()], Cell::Number(2.0));
        assert_eq!(row.last(), Some(&Cell::Empty), "no answer to the last profile question");
        assert!(row.iter().all(|c| c.to_field() != response.comment.clone().unwrap()), "never the comment");

        let coarse = Detail { day: false, profile: false };
        let row = response_row(&q, coarse, &response, "TT", Channel::Kiosk, day);
        assert_eq!(row[0], Cell::text("2026-03"));
        assert_eq!(row.len(), response_headers(&q, coarse).len());
        assert!(!response_headers(&q, coarse).contains(&"gender".to_string()));
    }

    #[test]
    fn numbers_are_written_plainly() {
        assert_eq!(Cell::Number(12.0).to_field(), "12");
        assert_eq!(Cell::Number(83.944_44).to_field(), "83.9444");
        assert_eq!(Cell::Empty.to_field(), "");
    }

    #[test]
    fn text_a_spreadsheet_would_run_gets_an_apostrophe_and_numbers_stay_numbers() {
        for (text, written) in [
            ("=HYPERLINK(\"http://x\";\"Bấm\")", "'=HYPERLINK(\"http://x\";\"Bấm\")"),
            ("+84 912 345 678", "'+84 912 345 678"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
            ("'=1+1", "''=1+1"),
        ] {
            assert_eq!(Cell::text(text).to_field(), written, "{text:?}");
            assert_eq!(from_inert_text(written), text, "read back: {written:?}");
        }
        for text in ["Trung tâm Phục vụ hành chính công, tỉnh Phú Thọ", "", "'trích dẫn", "a=b", " -"] {
            assert_eq!(Cell::text(text).to_field(), text, "{text:?}");
            assert_eq!(from_inert_text(text), text, "{text:?}");
        }
        assert!(matches!(inert_text("Sở Nội vụ"), Cow::Borrowed(_)), "no copy of ordinary text");
        assert_eq!(Cell::Number(-0.5).to_field(), "-0.5000");
        assert_eq!(Cell::Number(-3.0).to_field(), "-3");
    }

    #[test]
    fn profiles_shared_by_fewer_than_k_rows_are_blanked_and_the_rest_kept() {
        // (channel, profile): three kiosk rows of women 25–34, two of men, one link row of a woman.
        let mut rows = vec![
            ("kiosk", Some("nu/25-34")),
            ("kiosk", Some("nu/25-34")),
            ("kiosk", Some("nam/35-49")),
            ("link", Some("nu/25-34")),
            ("kiosk", Some("nu/25-34")),
            ("kiosk", Some("nam/35-49")),
        ];
        let blanked = blank_rare_profiles(&mut rows, 3, |r| *r, |r| r.1 = None);
        assert_eq!(blanked, 3);
        assert_eq!(
            rows,
            vec![
                ("kiosk", Some("nu/25-34")),
                ("kiosk", Some("nu/25-34")),
                ("kiosk", None),
                ("link", None),
                ("kiosk", Some("nu/25-34")),
                ("kiosk", None),
            ]
        );
        // With k = 1 nothing is rare; an empty block is fine.
        let mut same = rows.clone();
        assert_eq!(blank_rare_profiles(&mut same, 1, |r| *r, |r| r.1 = None), 0);
        assert_eq!(blank_rare_profiles(&mut Vec::<(u8, u8)>::new(), 5, |r| *r, |_| {}), 0);
    }
}
