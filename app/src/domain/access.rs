//! Who may do what, and where: one rule for accounts, API keys and kiosks. Pages, server
//! functions and the API ask [`Principal::may`] and [`Scope::reach`]; none decides on its own.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::account::Role;
use super::agency::{subtree_codes, Agency};

/// What someone wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Read indices, rankings and reports.
    ViewIndices,
    /// Create survey invitations for dossiers and see whether they were answered.
    Invite,
    /// Manage the province: agencies, kiosks, accounts, keys, procedures, outbox, audit.
    Administer,
    /// Submit citizens' answers.
    Submit,
}

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Principal {
    User {
        role: Role,
        agency: Option<String>,
    },
    /// One-stop software with a key scoped to an agency subtree.
    ApiKey {
        agency: String,
    },
    /// A paired tablet standing at a service point.
    Kiosk {
        point: String,
    },
}

/// The part of the registry an action may touch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// Every agency of the province.
    Province,
    /// An agency and everything below it.
    Subtree(String),
    /// The agencies whose dossiers a service point receives.
    ServicePoint(String),
}

/// The agencies a scope covers, resolved against the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    All,
    Only(HashSet<String>),
}

impl Reach {
    pub fn contains(&self, code: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(codes) => codes.contains(code),
        }
    }
}

impl Principal {
    /// Whether this principal may do `action` anywhere at all.
    pub fn may(&self, action: Action) -> bool {
        use Action::*;
        match self {
            Self::User { role: Role::Admin, .. } => action != Submit,
            Self::User { role: Role::Manager, .. } => action == ViewIndices,
            Self::User { role: Role::Staff, .. } => action == Invite,
            Self::ApiKey { .. } => action == Invite,
            Self::Kiosk { .. } => action == Submit,
        }
    }

    /// Where this principal acts.
    pub fn scope(&self) -> Scope {
        match self {
            Self::User { role: Role::Admin, .. } | Self::User { agency: None, .. } => Scope::Province,
            Self::User { role: Role::Manager, agency: Some(agency) } | Self::ApiKey { agency } => {
                Scope::Subtree(agency.clone())
            }
            Self::User { role: Role::Staff, agency: Some(point) } | Self::Kiosk { point } => {
                Scope::ServicePoint(point.clone())
            }
        }
    }

    /// Why this principal may not do `action`, in Vietnamese.
    pub fn denial(&self, action: Action) -> &'static str {
        match (self, action) {
            (Self::User { role: Role::Staff, .. }, Action::ViewIndices) => {
                "Tài khoản công chức một cửa không xem được chỉ số hài lòng."
            }
            (Self::User { .. }, Action::Invite) => "Trang này dành cho công chức một cửa.",
            (Self::User { .. }, Action::Administer) => "Chỉ quản trị tỉnh được dùng trang này.",
            (_, Action::Submit) => "Chỉ kiosk đã ghép nối được gửi phiếu.",
            _ => "Bạn không có quyền thực hiện thao tác này.",
        }
    }
}

impl Scope {
    /// The agencies covered: `served` gives the agencies a service point receives.
    pub fn reach(&self, agencies: &[Agency], served: impl FnOnce(&str) -> Vec<String>) -> Reach {
        match self {
            Self::Province => Reach::All,
            Self::Subtree(root) => Reach::Only(subtree_codes(agencies, root)),
            Self::ServicePoint(point) => Reach::Only(served(point).into_iter().collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Vec<Agency> {
        use crate::domain::agency::department;
        vec![
            department("P", None),
            department("D1", Some("P")),
            department("G", Some("D1")),
            department("D2", Some("P")),
        ]
    }

    #[test]
    fn each_principal_may_do_only_its_own_work() {
        use Action::*;
        let admin = Principal::User { role: Role::Admin, agency: None };
        let manager = Principal::User { role: Role::Manager, agency: Some("D1".into()) };
        let staff = Principal::User { role: Role::Staff, agency: Some("P".into()) };
        let key = Principal::ApiKey { agency: "D1".into() };
        let kiosk = Principal::Kiosk { point: "P".into() };
        let table = [
            (&admin, [true, true, true, false]),
            (&manager, [true, false, false, false]),
            (&staff, [false, true, false, false]),
            (&key, [false, true, false, false]),
            (&kiosk, [false, false, false, true]),
        ];
        for (who, expected) in table {
            let got = [ViewIndices, Invite, Administer, Submit].map(|a| who.may(a));
            assert_eq!(got, expected, "{who:?}");
        }
        assert_eq!(staff.denial(ViewIndices), "Tài khoản công chức một cửa không xem được chỉ số hài lòng.");
    }

    #[test]
    fn scopes_reach_the_province_a_subtree_or_what_a_point_receives() {
        let tree = tree();
        let none = |_: &str| -> Vec<String> { unreachable!("only service points ask") };
        let admin = Principal::User { role: Role::Admin, agency: None };
        assert_eq!(admin.scope().reach(&tree, none), Reach::All);
        let manager = Principal::User { role: Role::Manager, agency: Some("D1".into()) };
        let reach = manager.scope().reach(&tree, none);
        assert!(reach.contains("D1") && reach.contains("G"));
        assert!(!reach.contains("D2") && !reach.contains("P"));
        let staff = Principal::User { role: Role::Staff, agency: Some("P".into()) };
        let reach = staff.scope().reach(&tree, |point| {
            assert_eq!(point, "P");
            vec!["D2".into()]
        });
        assert!(reach.contains("D2") && !reach.contains("D1") && !reach.contains("P"));
    }
}
