//! Tables uploaded as CSV (the agency registry, account lists): rows with their line numbers,
//! and errors that name the line.

use serde::{Deserialize, Serialize};

/// What is wrong with one row, in Vietnamese.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// Line in the file (1 is the header); 0 when the error is not about one line.
    pub line: usize,
    /// The row's key (an agency code, a username), when known.
    pub code: String,
    pub message: String,
}

impl RowError {
    /// An error about the whole file.
    pub fn whole(message: impl Into<String>) -> Self {
        Self { line: 0, code: String::new(), message: message.into() }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.code.is_empty()) {
            (0, true) => write!(f, "{}", self.message),
            (0, false) => write!(f, "{}: {}", self.code, self.message),
            (line, true) => write!(f, "Dòng {line}: {}", self.message),
            (line, false) => write!(f, "Dòng {line} ({}): {}", self.code, self.message),
        }
    }
}

/// One data line of a table: its line number and its cells in the order of the columns asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRow {
    pub line: usize,
    pub cells: Vec<String>,
}

/// Largest file read: a province has hundreds of units and accounts, a country a few thousand.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;

/// Reads a UTF-8 CSV file as Excel writes it (BOM tolerated, quotes, CRLF) whose header holds
/// exactly `columns`, in any order and any case. Blank lines are skipped.
#[cfg(feature = "ssr")]
pub fn read_csv(text: &str, columns: &[&str]) -> Result<Vec<TableRow>, Vec<RowError>> {
    if text.len() > MAX_BYTES {
        return Err(vec![RowError::whole(format!("tệp quá lớn (tối đa {} MB)", MAX_BYTES / 1024 / 1024))]);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
        Err(e) => return Err(vec![RowError::whole(format!("không đọc được dòng tiêu đề: {e}"))]),
    };
    let missing: Vec<&str> = columns.iter().copied().filter(|c| !header.iter().any(|h| h == c)).collect();
    let extra: Vec<&str> = header.iter().map(String::as_str).filter(|h| !columns.contains(h)).collect();
    if !missing.is_empty() || !extra.is_empty() || header.len() != columns.len() {
        let none = || "không".to_owned();
        return Err(vec![RowError::whole(format!(
            "dòng tiêu đề phải gồm đúng các cột {} (thiếu: {}; thừa hoặc trùng: {})",
            columns.join(","),
            if missing.is_empty() { none() } else { missing.join(", ") },
            if extra.is_empty() { none() } else { extra.join(", ") },
        ))]);
    }
    let positions: Vec<usize> =
        columns.iter().map(|c| header.iter().position(|h| h == c).unwrap_or_default()).collect();
    // The csv crate's own line count skips blank lines, and its record positions may point at
    // the line break before a record: find the record's first byte, count the newlines before it.
    let line_at = |byte: Option<u64>| {
        let bytes = text.as_bytes();
        let mut at = byte.map_or(0, |b| (b as usize).min(bytes.len()));
        while at < bytes.len() && (bytes[at] == b'\r' || bytes[at] == b'\n') {
            at += 1;
        }
        bytes[..at].iter().filter(|b| **b == b'\n').count() + 1
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(Some(p.byte())));
                errors.push(RowError {
                    line, code: String::new(), message: format!("không đọc được dòng: {e}")
                });
                continue;
            }
        };
        let line = line_at(record.position().map(|p| p.byte()));
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if record.len() != columns.len() {
            errors.push(RowError {
                line,
                code: record.get(positions[0]).unwrap_or("").trim().to_owned(),
                message: format!("dòng có {} cột, cần {}", record.len(), columns.len()),
            });
            continue;
        }
        rows.push(TableRow {
            line,
            cells: positions.iter().map(|p| record.get(*p).unwrap_or("").to_owned()).collect(),
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Writes rows under `columns` as CSV.
#[cfg(feature = "ssr")]
pub fn write_csv(columns: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut put = |record: &[String]| writer.write_record(record).expect("writing to memory");
    put(&columns.iter().map(|c| c.to_string()).collect::<Vec<_>>());
    for row in rows {
        put(&row);
    }
    String::from_utf8(writer.into_inner().expect("writing to memory")).expect("UTF-8 in, UTF-8 out")
}
