//! Agencies (cơ quan, đơn vị) and their kinds; the tree itself lives in storage.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What sort of unit an agency is, after the two-level local government of 1 July 2025.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyKind {
    /// UBND tỉnh / thành phố.
    Province,
    /// Sở, ban, ngành.
    Department,
    /// UBND xã, phường, đặc khu.
    Commune,
    /// Trung tâm Phục vụ hành chính công.
    ServiceCentre,
    /// Chi nhánh của Trung tâm Phục vụ hành chính công.
    ServiceBranch,
    /// Cơ quan ngành dọc: công an, thuế, bảo hiểm xã hội…
    Vertical,
}

impl AgencyKind {
    pub const ALL: [AgencyKind; 6] =
        [Self::Province, Self::Department, Self::Commune, Self::ServiceCentre, Self::ServiceBranch, Self::Vertical];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::Department => "department",
            Self::Commune => "commune",
            Self::ServiceCentre => "service_centre",
            Self::ServiceBranch => "service_branch",
            Self::Vertical => "vertical",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kinds ranked against their peers: every kind below the province.
    pub const RANKED: [AgencyKind; 5] =
        [Self::Department, Self::Commune, Self::ServiceCentre, Self::ServiceBranch, Self::Vertical];

    /// What a ranking request is told when its `kind` is none of [`Self::RANKED`].
    pub const RANKED_EXPECTED: &'static str =
        "Loại đơn vị (kind) phải là department, commune, service_centre, service_branch hoặc vertical.";

    /// The kind a ranking request asks for: departments when it names none; `None` when it names
    /// something else than a ranked kind.
    pub fn ranked(kind: super::given::Given<Self>) -> Option<Self> {
        kind.or_if_absent(Self::Department).filter(|k| Self::RANKED.contains(k))
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Province => "UBND tỉnh",
            Self::Department => "Sở, ban, ngành",
            Self::Commune => "UBND cấp xã",
            Self::ServiceCentre => "Trung tâm Phục vụ hành chính công",
            Self::ServiceBranch => "Chi nhánh Trung tâm PVHCC",
            Self::Vertical => "Cơ quan ngành dọc",
        }
    }
}

/// An agency of the registry: open from `valid_from` (none: since ever) until `valid_to`
/// (exclusive; none: still open). A closed agency has successors (see `domain::registry`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agency {
    pub code: String,
    pub name: String,
    pub kind: AgencyKind,
    pub parent: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

impl Agency {
    /// Whether the agency exists on `day`.
    pub fn is_open_on(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= day) && self.valid_to.is_none_or(|to| day < to)
    }

    pub fn is_closed(&self) -> bool {
        self.valid_to.is_some()
    }
}

/// Longest agency code: national administrative-unit codes are 2–5 digits, a province's own
/// codes for departments and centres are short too.
pub const MAX_CODE_CHARS: usize = 40;
pub const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AgencyError {
    #[error("mã đơn vị \"{0}\" không hợp lệ: 1–40 ký tự gồm chữ không dấu, số và các dấu . - _")]
    BadCode(String),
    #[error("tên đơn vị phải dài 1–200 ký tự")]
    BadName,
    #[error("loại đơn vị \"{0}\" không có; dùng province, department, commune, service_centre, service_branch hoặc vertical")]
    BadKind(String),
}

/// An agency code as written in the registry: trimmed; letters, digits and `. - _`.
pub fn parse_code(input: &str) -> Result<String, AgencyError> {
    let code = input.trim();
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_".contains(c);
    if (1..=MAX_CODE_CHARS).contains(&code.len()) && code.chars().all(allowed) {
        Ok(code.to_owned())
    } else {
        Err(AgencyError::BadCode(code.to_owned()))
    }
}

/// An agency name: inner whitespace collapsed, 1–200 characters.
pub fn parse_name(input: &str) -> Result<String, AgencyError> {
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if (1..=MAX_NAME_CHARS).contains(&name.chars().count()) {
        Ok(name)
    } else {
        Err(AgencyError::BadName)
    }
}

pub fn parse_kind(input: &str) -> Result<AgencyKind, AgencyError> {
    AgencyKind::parse(input.trim()).ok_or_else(|| AgencyError::BadKind(input.trim().to_owned()))
}

/// How deep each agency sits in the tree (the root is 0).
pub fn depths(agencies: &[Agency]) -> std::collections::HashMap<String, usize> {
    let parent: std::collections::HashMap<&str, &str> =
        agencies.iter().filter_map(|a| a.parent.as_deref().map(|p| (a.code.as_str(), p))).collect();
    agencies
        .iter()
        .map(|a| {
            // Bounded by the number of agencies, so a cycle in bad data cannot loop forever.
            let depth =
                std::iter::successors(parent.get(a.code.as_str()), |p| parent.get(*p)).take(agencies.len()).count();
            (a.code.clone(), depth)
        })
        .collect()
}

/// The codes of `root` and every agency below it in `agencies`.
pub fn subtree_codes(agencies: &[Agency], root: &str) -> std::collections::HashSet<String> {
    let mut inside = std::collections::HashSet::from([root.to_owned()]);
    // Parents may come after children in `agencies`: repeat until nothing is added.
    loop {
        let before = inside.len();
        for agency in agencies {
            if agency.parent.as_ref().is_some_and(|p| inside.contains(p)) {
                inside.insert(agency.code.clone());
            }
        }
        if inside.len() == before {
            return inside;
        }
    }
}

/// A department `code` under `parent`, open for ever: what the tests build their trees of.
#[cfg(test)]
pub(crate) fn department(code: &str, parent: Option<&str>) -> Agency {
    Agency {
        code: code.into(),
        name: code.into(),
        kind: AgencyKind::Department,
        parent: parent.map(Into::into),
        valid_from: None,
        valid_to: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subtree_holds_the_root_and_all_its_descendants_only() {
        let agency = department;
        // listed children-first on purpose
        let tree = [agency("G", Some("D1")), agency("D1", Some("P")), agency("D2", Some("P")), agency("P", None)];
        let mut codes: Vec<String> = subtree_codes(&tree, "D1").into_iter().collect();
        codes.sort();
        assert_eq!(codes, ["D1", "G"]);
        assert_eq!(subtree_codes(&tree, "P").len(), 4);
        assert_eq!(subtree_codes(&tree, "G").len(), 1);
    }

    #[test]
    fn an_agency_is_open_from_its_first_day_until_the_day_before_it_closes() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let agency = Agency {
            code: "X".into(),
            name: "X".into(),
            kind: AgencyKind::Commune,
            parent: None,
            valid_from: Some(day("2025-07-01")),
            valid_to: Some(day("2026-01-01")),
        };
        assert!(!agency.is_open_on(day("2025-06-30")));
        assert!(agency.is_open_on(day("2025-07-01")));
        assert!(agency.is_open_on(day("2025-12-31")));
        assert!(!agency.is_open_on(day("2026-01-01")));
        assert!(agency.is_closed());
    }

    #[test]
    fn codes_names_and_kinds_are_checked() {
        assert_eq!(parse_code(" 25 "), Ok("25".into()));
        assert_eq!(parse_code("PT-SNV.1_a"), Ok("PT-SNV.1_a".into()));
        assert!(parse_code("").is_err());
        assert!(parse_code("Sở Nội vụ").is_err());
        assert!(parse_code(&"1".repeat(41)).is_err());
        assert_eq!(parse_name("  UBND   xã  Tam Nông "), Ok("UBND xã Tam Nông".into()));
        assert_eq!(parse_name("   "), Err(AgencyError::BadName));
        assert_eq!(parse_kind("district"), Err(AgencyError::BadKind("district".into())));
        assert_eq!(parse_kind(" commune"), Ok(AgencyKind::Commune));
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in AgencyKind::ALL {
            assert_eq!(AgencyKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AgencyKind::parse("district"), None);
    }

    #[test]
    fn a_ranking_is_of_a_kind_below_the_province_departments_unless_named() {
        use crate::domain::given::Given;
        assert_eq!(AgencyKind::ranked(Given::Absent), Some(AgencyKind::Department));
        assert_eq!(AgencyKind::ranked(Given::Is(AgencyKind::Commune)), Some(AgencyKind::Commune));
        assert_eq!(AgencyKind::ranked(Given::Is(AgencyKind::Province)), None);
        assert_eq!(AgencyKind::ranked(Given::Wrong), None);
        assert_eq!(AgencyKind::RANKED.len() + 1, AgencyKind::ALL.len());
    }
}
