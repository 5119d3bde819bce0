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
    /// For a split: the share of the closed agency's responses and completed dossiers each
    /// successor takes when figures are restated, in thousandths ([`WHOLE_SHARE`] in all), in
    /// the order of `successors`; empty when none were given: such a split is not restated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<u32>,
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
    /// Successor codes, `;`-separated, each with its share after a colon for a split
    /// (`07003:0.6;07004:0.4`).
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

/// All of a closed agency's responses, in the thousandths its successors' shares are kept in.
pub const WHOLE_SHARE: u32 = 1000;

/// A share as the registry writes it: `0.6`, `0.625`, `1`.
pub fn share_text(thousandths: u32) -> String {
    let text = format!("{}.{:03}", thousandths / WHOLE_SHARE, thousandths % WHOLE_SHARE);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A share as a percent for people: `60 %`, `62,5 %`.
pub fn share_percent(thousandths: u32) -> String {
    let text = format!("{}.{}", thousandths / 10, thousandths % 10);
    format!("{} %", text.trim_end_matches(".0").replace('.', ","))
}

/// A successor cell: `07003;07004` or, for a split with shares, `07003:0.6;07004:0.4`. Codes
/// come back sorted, each with its share in thousandths; shares are given for every successor
/// or none, each above 0, to at most three decimals, and add up to 1 (a single successor takes
/// the whole: a share of 1 is the same as none).
fn successor_list(cell: &str) -> Result<(Vec<String>, Vec<u32>), String> {
    let mut parsed: Vec<(String, Option<u32>)> = Vec::new();
    for part in cell.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (code, share) = match part.split_once(':') {
            Some((code, share)) => (code, Some(parse_share(share)?)),
            None => (part, None),
        };
        let code = parse_code(code).map_err(|e| e.to_string())?;
        if parsed.iter().any(|(c, _)| *c == code) {
            return Err(format!("mã {code} ghi hai lần"));
        }
        parsed.push((code, share));
    }
    parsed.sort_by(|a, b| a.0.cmp(&b.0));
    let codes: Vec<String> = parsed.iter().map(|(c, _)| c.clone()).collect();
    let shares: Vec<u32> = parsed.iter().filter_map(|(_, s)| *s).collect();
    if shares.is_empty() {
        return Ok((codes, shares));
    }
    if shares.len() != codes.len() {
        return Err("tỷ lệ phân bổ phải ghi cho mọi đơn vị kế thừa hoặc không ghi cho đơn vị nào".into());
    }
    let sum: u32 = shares.iter().sum();
    if sum != WHOLE_SHARE {
        return Err(format!("tỷ lệ phân bổ phải cộng lại bằng 1 (đang là {})", share_text(sum).replace('.', ",")));
    }
    let shares = if codes.len() == 1 { Vec::new() } else { shares };
    Ok((codes, shares))
}

/// `0.6`, `0,6`, `0.625` or `1` in thousandths (above 0, at most 1).
fn parse_share(text: &str) -> Result<u32, String> {
    let text = text.trim().replace(',', ".");
    let wrong =
        || format!("tỷ lệ \"{text}\" không hợp lệ; hãy ghi số thập phân từ 0,001 đến 1, ví dụ 07003:0.6;07004:0.4");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if (whole.is_empty() && fraction.is_empty())
        || fraction.len() > 3
        || !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit())
    {
        return Err(wrong());
    }
    let whole: u32 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| wrong())? };
    let fraction: u32 = format!("{fraction:0<3}").parse().map_err(|_| wrong())?;
    let thousandths = whole.checked_mul(WHOLE_SHARE).and_then(|w| w.checked_add(fraction)).ok_or_else(wrong)?;
    if thousandths == 0 || thousandths > WHOLE_SHARE {
        return Err(wrong());
    }
    Ok(thousandths)
}

/// The successor cell of `entry` as the registry CSV writes it (what [`successor_list`] reads).
pub fn successor_cell(entry: &RegistryEntry) -> String {
    each_successor(entry, |code, share| match share {
        Some(share) => format!("{code}:{}", share_text(share)),
        None => code.to_owned(),
    })
    .join(";")
}

/// The successors of `entry` for people, each as `label` names it, with a split's shares:
/// `07003 (60 %), 07004 (40 %)`, or `07003, 07004`.
pub fn successors_shown(entry: &RegistryEntry, label: impl Fn(&str) -> String) -> String {
    each_successor(entry, |code, share| match share {
        Some(share) => format!("{} ({})", label(code), share_percent(share)),
        None => label(code),
    })
    .join(", ")
}

/// `write` of each successor of `entry` with its share, if the split has shares.
fn each_successor(entry: &RegistryEntry, write: impl Fn(&str, Option<u32>) -> String) -> Vec<String> {
    entry.successors.iter().enumerate().map(|(i, code)| write(code, entry.shares.get(i).copied())).collect()
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
    let successors = successor_list(&row.successor).map_err(|e| fail(format!("đơn vị kế thừa: {e}"))).ok();
    let serves = code_list(&row.serves).map_err(|e| fail(format!("cột serves: {e}"))).ok();
    let (Some(code), Some(name), Some(kind), Some(parent), Some(day), Some((successors, shares)), Some(serves)) =
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
    Ok(RegistryEntry { agency: Agency { code, name, kind, parent, valid_from, valid_to }, successors, shares, serves })
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
    if b.agency.valid_to != a.agency.valid_to || b.successors != a.successors || b.shares != a.shares {
        said.push(format!(
            "đóng từ {} (kế thừa: {})",
            day(a.agency.valid_to),
            if a.successors.is_empty() { "—".into() } else { successors_shown(a, str::to_owned) }
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
