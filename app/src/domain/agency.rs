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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in AgencyKind::ALL {
            assert_eq!(AgencyKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AgencyKind::parse("district"), None);
    }
}
