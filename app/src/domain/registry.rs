//! The agency registry as data: entries with their successors and served agencies, and the
//! plan an import (a CSV file, or one form of `/admin/agencies`) would apply to it.
//!
//! A row states an agency's whole record. Its `valid_from` is the day the row takes effect: the
//! agency opens on it, or — when the row names successors — closes on it (merge, split, rename
//! or move into a new code). Nothing is ever deleted; a closed agency is never reopened. A plan
//! is all or nothing: every error is reported with its line, and no plan is made.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::agency::{parse_code, parse_kind, parse_name, Agency, AgencyKind};
use super::period::parse_optional_day;
pub use super::table::RowError;

/// An agency with its links.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryEntry {
    pub agency: Agency,
    /// The agencies that took over from a closed one, sorted; empty while it is open.
    pub successors: Vec<String>,
    /// For a service point: the agencies whose dossiers it receives, sorted; empty = only itself.
    pub serves: Vec<String>,
}

/// One row of an import as written; [`plan`] checks every field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    /// Line in the file (1 is the header); 0 for a row typed into a form.
    pub line: usize,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent: String,
    /// YYYY-MM-DD or empty; with a successor, the day the agency closes.
    pub valid_from: String,
    /// Successor codes, `;`-separated.
    pub successor: String,
    /// Served agency codes, `;`-separated.
    pub serves: String,
}

/// An existing agency before and after the import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub before: RegistryEntry,
    pub after: RegistryEntry,
}

/// What an import would do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPlan {
    pub added: Vec<RegistryEntry>,
    pub changed: Vec<Change>,
    /// Open agencies the import closes.
    pub closed: Vec<Change>,
    pub unchanged: usize,
}

impl ImportPlan {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.closed.is_empty()
    }

    /// The entries to store, each whole.
    pub fn entries(&self) -> impl Iterator<Item = &RegistryEntry> {
        self.added.iter().chain(self.changed.iter().chain(&self.closed).map(|c| &c.after))
    }
}

/// Checks `rows` against the registry `current` and says what they would change.
pub fn plan(current: &[RegistryEntry], rows: &[ImportRow]) -> Result<ImportPlan, Vec<RowError>> {
    let existing: HashMap<&str, &RegistryEntry> = current.iter().map(|e| (e.agency.code.as_str(), e)).collect();
    let mut errors = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut proposed: Vec<(&ImportRow, RegistryEntry)> = Vec::new();
    for row in rows {
        let entry = match read_row(row, &existing) {
            Ok(entry) => entry,
            Err(mut wrong) => {
                errors.append(&mut wrong);
                continue;
            }
        };
        if let Some(line) = first_line.get(&entry.agency.code) {
            errors.push(error(row, &entry.agency.code, format!("mã đơn vị trùng với dòng {line}")));
            continue;
        }
        first_line.insert(entry.agency.code.clone(), row.line);
        proposed.push((row, entry));
    }

    let mut after: HashMap<&str, &RegistryEntry> = existing.clone();
    for (_, entry) in &proposed {
        after.insert(entry.agency.code.as_str(), entry);
    }
    for (row, entry) in &proposed {
        check_links(row, entry, &after, &mut errors);
    }
    check_closed_parents(&proposed, &after, &mut errors);
    if !errors.is_empty() {
        errors.sort_by(|a, b| (a.line, &a.code).cmp(&(b.line, &b.code)));
        errors.dedup();
        return Err(errors);
    }

    let mut plan = ImportPlan::default();
    for (_, entry) in proposed {
        match existing.get(entry.agency.code.as_str()) {
            None => plan.added.push(entry),
            Some(before) if **before == entry => plan.unchanged += 1,
            Some(before) if !before.agency.is_closed() && entry.agency.is_closed() => {
                plan.closed.push(Change { before: (*before).clone(), after: entry })
            }
            Some(before) => plan.changed.push(Change { before: (*before).clone(), after: entry }),
        }
    }
    Ok(plan)
}

fn error(row: &ImportRow, code: &str, message: impl Into<String>) -> RowError {
    RowError { line: row.line, code: code.to_owned(), message: message.into() }
}

/// Sorted, distinct codes of a `;`-separated cell.
fn code_list(cell: &str) -> Result<Vec<String>, String> {
    let mut codes = cell
        .split(';')
        .filter(|c| !c.trim().is_empty())
        .map(|c| parse_code(c).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    codes.sort();
    codes.dedup();
    Ok(codes)
}

/// One row's own fields, parsed into the entry it asks for.
fn read_row(row: &ImportRow, existing: &HashMap<&str, &RegistryEntry>) -> Result<RegistryEntry, Vec<RowError>> {
    let shown = row.code.trim();
    let mut errors = Vec::new();
    let mut fail = |message: String| errors.push(error(row, shown, message));
    let code = parse_code(&row.code).map_err(|e| fail(e.to_string())).ok();
    let name = parse_name(&row.name).map_err(|e| fail(e.to_string())).ok();
    let kind = parse_kind(&row.kind).map_err(|e| fail(e.to_string())).ok();
    let parent = match row.parent.trim() {
        "" => Some(None),
        text => parse_code(text).map(Some).map_err(|e| fail(format!("đơn vị cha: {e}"))).ok(),
    };
    let day = parse_optional_day(Some(&row.valid_from))
        .map_err(|_| fail(format!("ngày \"{}\" không hợp lệ, hãy dùng dạng YYYY-MM-DD", row.valid_from.trim())))
        .ok();
    let successors = code_list(&row.successor).map_err(|e| fail(format!("đơn vị kế thừa: {e}"))).ok();
    let serves = code_list(&row.serves).map_err(|e| fail(format!("cột serves: {e}"))).ok();
    let (Some(code), Some(name), Some(kind), Some(parent), Some(day), Some(successors), Some(serves)) =
        (code, name, kind, parent, day, successors, serves)
    else {
        return Err(errors);
    };
    match (kind, &parent) {
        (AgencyKind::Province, Some(_)) => fail("UBND tỉnh là gốc của cây, không có đơn vị cha".into()),
        (AgencyKind::Province, None) => {}
        (_, None) => fail("thiếu mã đơn vị cha (cột parent)".into()),
        (_, Some(p)) if *p == code => fail("một đơn vị không thể là đơn vị cha của chính nó".into()),
        _ => {}
    }
    if successors.contains(&code) {
        fail("một đơn vị không thể kế thừa chính nó".into());
    }
    let before = existing.get(code.as_str());
    let (valid_from, valid_to) = if successors.is_empty() {
        if let Some(closed) = before.and_then(|b| b.agency.valid_to) {
            fail(format!(
                "đơn vị đã đóng từ ngày {closed}, không mở lại được; hãy đặt lại dòng có đơn vị kế thừa, hoặc tạo mã mới"
            ));
        }
        (day, None)
    } else {
        let Some(closes) = day else {
            fail("có đơn vị kế thừa thì cần ngày đóng ở cột valid_from".into());
            return Err(errors);
        };
        let opened = before.and_then(|b| b.agency.valid_from);
        if opened.is_some_and(|from| from >= closes) {
            fail(format!("ngày đóng {closes} phải sau ngày bắt đầu hoạt động {}", opened.unwrap_or(closes)));
        }
        (opened, Some(closes))
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(RegistryEntry { agency: Agency { code, name, kind, parent, valid_from, valid_to }, successors, serves })
}

/// Parents, successors and served agencies must exist in the registry as it would be, without
/// cycles, and a successor must be open on the day it takes over.
fn check_links(
    row: &ImportRow,
    entry: &RegistryEntry,
    after: &HashMap<&str, &RegistryEntry>,
    errors: &mut Vec<RowError>,
) {
    let code = entry.agency.code.as_str();
    let mut fail = |message: String| errors.push(error(row, code, message));
    if let Some(parent) = &entry.agency.parent {
        if !after.contains_key(parent.as_str()) {
            fail(format!("không có đơn vị cha mã {parent}"));
        } else if let Some(path) = cycle_through(code, after) {
            fail(format!("đơn vị cha tạo thành vòng lặp: {}", path.join(" → ")));
        }
    }
    if let Some(closes) = entry.agency.valid_to {
        for successor in &entry.successors {
            match after.get(successor.as_str()) {
                None => fail(format!("không có đơn vị kế thừa mã {successor}")),
                Some(s) if !s.agency.is_open_on(closes) => {
                    fail(format!("đơn vị kế thừa {successor} không hoạt động vào ngày {closes}"))
                }
                Some(_) => {}
            }
        }
    }
    for served in &entry.serves {
        if !after.contains_key(served.as_str()) {
            fail(format!("không có đơn vị mã {served} (cột serves)"));
        }
    }
}

/// The parent chain from `code` back to itself, if `code` is its own ancestor.
fn cycle_through(code: &str, after: &HashMap<&str, &RegistryEntry>) -> Option<Vec<String>> {
    let mut path = vec![code.to_owned()];
    let mut current = code;
    for _ in 0..=after.len() {
        let parent = after.get(current)?.agency.parent.as_deref()?;
        path.push(parent.to_owned());
        if parent == code {
            return Some(path);
        }
        current = parent;
    }
    None
}

/// A closed agency cannot keep children that stay open after it closes. The error goes to the
/// row that closes the parent, or else to the row that puts the child under it.
fn check_closed_parents(
    proposed: &[(&ImportRow, RegistryEntry)],
    after: &HashMap<&str, &RegistryEntry>,
    errors: &mut Vec<RowError>,
) {
    let row_of: HashMap<&str, &ImportRow> = proposed.iter().map(|(row, e)| (e.agency.code.as_str(), *row)).collect();
    let mut children: HashMap<&str, Vec<&Agency>> = HashMap::new();
    for entry in after.values() {
        if let Some(parent) = entry.agency.parent.as_deref() {
            children.entry(parent).or_default().push(&entry.agency);
        }
    }
    for entry in after.values() {
        let Some(closes) = entry.agency.valid_to else { continue };
        let parent = entry.agency.code.as_str();
        let mut open: Vec<&Agency> = children
            .get(parent)
            .into_iter()
            .flatten()
            .copied()
            .filter(|child| child.valid_to.is_none_or(|to| to > closes))
            .collect();
        open.sort_by(|a, b| a.code.cmp(&b.code));
        if open.is_empty() {
            continue;
        }
        if let Some(row) = row_of.get(parent) {
            let names: Vec<String> = open.iter().map(|c| format!("{} ({})", c.code, c.name)).collect();
            errors.push(error(
                row,
                parent,
                format!(
                    "còn đơn vị trực thuộc hoạt động sau ngày đóng {closes}: {}; hãy chuyển hoặc đóng chúng trước",
                    names.join(", ")
                ),
            ));
        }
        for child in open {
            if let (Some(row), false) = (row_of.get(child.code.as_str()), row_of.contains_key(parent)) {
                errors.push(error(row, &child.code, format!("đơn vị cha {parent} đã đóng từ ngày {closes}")));
            }
        }
    }
}

/// What changed between two versions of an entry, one Vietnamese phrase per field.
pub fn describe_change(change: &Change) -> Vec<String> {
    let (b, a) = (&change.before, &change.after);
    let mut said = Vec::new();
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let day = |v: Option<NaiveDate>| v.map_or_else(|| "—".into(), |d| d.to_string());
    if b.agency.name != a.agency.name {
        said.push(format!("tên: {} → {}", b.agency.name, a.agency.name));
    }
    if b.agency.kind != a.agency.kind {
        said.push(format!("loại: {} → {}", b.agency.kind.label(), a.agency.kind.label()));
    }
    if b.agency.parent != a.agency.parent {
        said.push(format!("đơn vị cha: {} → {}", show(&b.agency.parent), show(&a.agency.parent)));
    }
    if b.agency.valid_from != a.agency.valid_from {
        said.push(format!("hoạt động từ: {} → {}", day(b.agency.valid_from), day(a.agency.valid_from)));
    }
    if b.agency.valid_to != a.agency.valid_to || b.successors != a.successors {
        said.push(format!(
            "đóng từ {} (kế thừa: {})",
            day(a.agency.valid_to),
            if a.successors.is_empty() { "—".into() } else { a.successors.join(", ") }
        ));
    }
    if b.serves != a.serves {
        said.push(format!("tiếp nhận hồ sơ của: {} → {}", list(&b.serves), list(&a.serves)));
    }
    said
}

fn list(codes: &[String]) -> String {
    if codes.is_empty() {
        "chính đơn vị".into()
    } else {
        codes.join(", ")
    }
}

/// How a closed agency's successors relate to it, as the registry shows it.
pub fn reorganisation_label(entry: &RegistryEntry, registry: &[RegistryEntry]) -> &'static str {
    let shared = |successor: &String| registry.iter().filter(|other| other.successors.contains(successor)).count() > 1;
    match entry.successors.len() {
        0 => "",
        1 if shared(&entry.successors[0]) => "sáp nhập",
        1 => "đổi tên, chuyển đơn vị",
        _ => "chia tách",
    }
}

/// The codes of the agencies in `registry` that are open on `day`.
pub fn open_codes(registry: &[RegistryEntry], day: NaiveDate) -> HashSet<String> {
    registry.iter().filter(|e| e.agency.is_open_on(day)).map(|e| e.agency.code.clone()).collect()
}

/// Why a planned change was not stored (nothing was).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotSaved {
    /// The upload was applied already.
    AlreadyApplied,
    /// The registry is no longer the one the change was planned (or its upload previewed) against.
    RegistryChanged,
}

/// What a staged import remembers of the registry it was previewed against (and what its apply
/// compares, in the transaction that stores it): the SHA-256 of every entry, whole and in order.
/// Any change to the registry changes it; undoing a change restores it.
#[cfg(feature = "ssr")]
pub fn fingerprint(registry: &[RegistryEntry]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for entry in registry {
        hash.update(serde_json::to_vec(entry).expect("an entry is strings and dates"));
        hash.update(b"\n");
    }
    hex::encode(hash.finalize())
}

#[cfg(feature = "ssr")]
pub mod csv;
#[cfg(test)]
mod tests;
