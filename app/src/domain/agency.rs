//! Agencies (cơ quan, đơn vị) and their kinds; the tree itself lives in storage.

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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agency {
    pub code: String,
    pub name: String,
    pub kind: AgencyKind,
    pub parent: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subtree_holds_the_root_and_all_its_descendants_only() {
        let agency = |code: &str, parent: Option<&str>| Agency {
            code: code.into(),
            name: code.into(),
            kind: AgencyKind::Department,
            parent: parent.map(Into::into),
        };
        // listed children-first on purpose
        let tree = [agency("G", Some("D1")), agency("D1", Some("P")), agency("D2", Some("P")), agency("P", None)];
        let mut codes: Vec<String> = subtree_codes(&tree, "D1").into_iter().collect();
        codes.sort();
        assert_eq!(codes, ["D1", "G"]);
        assert_eq!(subtree_codes(&tree, "P").len(), 4);
        assert_eq!(subtree_codes(&tree, "G").len(), 1);
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in AgencyKind::ALL {
            assert_eq!(AgencyKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AgencyKind::parse("district"), None);
    }
}
