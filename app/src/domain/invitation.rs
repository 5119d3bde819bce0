//! Survey invitations (lời mời khảo sát) for one dossier: codes, expiry, status.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest dossier code, procedure code and procedure name taken (forms say so too).
pub const MAX_DOSSIER_CODE_CHARS: usize = 50;
pub const MAX_PROCEDURE_CODE_CHARS: usize = 30;
pub const MAX_PROCEDURE_NAME_CHARS: usize = 200;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvitationError {
    #[error("Mã hồ sơ phải dài 1–50 ký tự, gồm chữ không dấu, số và các dấu . - _")]
    BadDossierCode,
    #[error("Mã thủ tục phải dài 1–30 ký tự, gồm chữ in hoa không dấu, số và các dấu . - _")]
    BadProcedureCode,
    #[error("Tên thủ tục phải dài 3–200 ký tự.")]
    BadProcedureName,
}

/// A procedure (thủ tục hành chính) for the invitation list: its code upper-cased, its name trimmed.
pub fn parse_procedure(code: &str, name: &str) -> Result<(String, String), InvitationError> {
    let code = code.trim().to_uppercase();
    let allowed = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || ".-_".contains(c);
    if !(1..=MAX_PROCEDURE_CODE_CHARS).contains(&code.len()) || !code.chars().all(allowed) {
        return Err(InvitationError::BadProcedureCode);
    }
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if !(3..=MAX_PROCEDURE_NAME_CHARS).contains(&name.chars().count()) {
        return Err(InvitationError::BadProcedureName);
    }
    Ok((code, name))
}

/// A dossier code (mã hồ sơ) as the one-stop software prints it, e.g. `000.00.15.H43-250101-0001`.
pub fn parse_dossier_code(input: &str) -> Result<String, InvitationError> {
    let code = input.trim();
    // No "/": the code appears as one segment of page and API paths.
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_".contains(c);
    if (1..=MAX_DOSSIER_CODE_CHARS).contains(&code.len()) && code.chars().all(allowed) {
        Ok(code.to_owned())
    } else {
        Err(InvitationError::BadDossierCode)
    }
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Pending,
    Answered,
    Expired,
}

impl InvitationStatus {
    /// How the officer's page says it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Chưa trả lời",
            Self::Answered => "Đã trả lời",
            Self::Expired => "Đã hết hạn",
        }
    }

    pub fn of(expires_at: DateTime<Utc>, answered_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Self {
        match answered_at {
            Some(_) => Self::Answered,
            None if now >= expires_at => Self::Expired,
            None => Self::Pending,
        }
    }
}

/// The last day an invitation can be answered, dd/mm/yyyy in Vietnam time (a link expiring at
/// midnight belongs to the day before).
pub fn last_day(expires_at: DateTime<Utc>) -> String {
    (expires_at - chrono::Duration::seconds(1)).with_timezone(&super::period::vietnam()).format("%d/%m/%Y").to_string()
}

/// What the province lets an officer do with survey links, and what gets an officer flagged
/// (issue 19: "links belong to the citizen").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficerLimits {
    /// Invitations one officer may make in a Vietnam day; more are refused (429) and flagged.
    /// 0 turns the limit off.
    pub max_per_day: u32,
    /// A link answered within this many minutes of being made flags its invitation and maker.
    pub quick_answer_minutes: u32,
    /// Minutes after making a link during which its maker (and nobody else) may show and print
    /// it again; after that the link exists only with the citizen.
    pub reprint_minutes: u32,
    /// Only the one-stop software (the integration API) makes invitations; the staff page only
    /// looks them up.
    pub api_only: bool,
}

impl Default for OfficerLimits {
    /// A busy counter returns well under a hundred dossiers a day; a citizen handed a slip at
    /// the counter rarely answers before leaving the building.
    fn default() -> Self {
        Self { max_per_day: 150, quick_answer_minutes: 5, reprint_minutes: 15, api_only: false }
    }
}

impl OfficerLimits {
    /// Most minutes a link may stay re-printable: a working day.
    pub const MAX_REPRINT_MINUTES: u32 = 8 * 60;

    /// Whether the officer `viewer` may see the link of an invitation `creator` made, at `now`.
    /// Invitations of the one-stop software (no creator) are never shown on staff pages.
    pub fn may_show_link(
        creator: Option<i64>,
        viewer: i64,
        reprint_until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> bool {
        creator == Some(viewer) && reprint_until.is_some_and(|until| now < until)
    }

    /// Whether an answer at `answered` to a link made at `created` came suspiciously soon.
    pub fn answered_quickly(&self, created: DateTime<Utc>, answered: DateTime<Utc>) -> bool {
        answered - created < chrono::Duration::minutes(i64::from(self.quick_answer_minutes))
    }

    /// Whether an officer who already made `made_today` invitations today may make another.
    pub fn admits(&self, made_today: u64) -> bool {
        self.max_per_day == 0 || made_today < u64::from(self.max_per_day)
    }
}

/// What may show that an officer answers links for citizens. Flags go on the invitation and the
/// officer, never on an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InvitationFlag {
    /// More invitations in a day than the province allows (the extra ones were refused).
    OverDailyLimit,
    /// A link answered within minutes of being made.
    AnsweredQuickly,
    /// A link answered from an address an officer of the same service point is signed in from.
    OfficerAddress,
}

impl InvitationFlag {
    pub const ALL: [InvitationFlag; 3] = [Self::OverDailyLimit, Self::AnsweredQuickly, Self::OfficerAddress];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OverDailyLimit => "over_daily_limit",
            Self::AnsweredQuickly => "answered_quickly",
            Self::OfficerAddress => "officer_address",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::OverDailyLimit => "Tạo quá số lời mời cho phép trong ngày (lời mời vượt mức bị từ chối)",
            Self::AnsweredQuickly => "Đường dẫn được trả lời chỉ vài phút sau khi tạo",
            Self::OfficerAddress => "Đường dẫn được trả lời từ địa chỉ mạng mà cán bộ cùng điểm phục vụ đang đăng nhập",
        }
    }
}

/// How the links of a period fared: the invitations made for dossiers of a subtree, and how
/// many of them have been answered (the report's account of how the sample was drawn).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkUptake {
    pub made: u64,
    pub answered: u64,
}

impl LinkUptake {
    /// The share of invitations answered, in percent; none without invitations.
    pub fn rate(&self) -> Option<f64> {
        (self.made > 0).then(|| self.answered as f64 / self.made as f64 * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn dossier_codes_are_trimmed_and_checked() {
        assert_eq!(parse_dossier_code(" 000.00.15.H43-250101-0001 "), Ok("000.00.15.H43-250101-0001".into()));
        assert_eq!(parse_dossier_code(""), Err(InvitationError::BadDossierCode));
        assert_eq!(parse_dossier_code("hồ sơ 1"), Err(InvitationError::BadDossierCode));
        assert_eq!(parse_dossier_code("HS/2026/1"), Err(InvitationError::BadDossierCode));
        assert_eq!(parse_dossier_code(&"1".repeat(51)), Err(InvitationError::BadDossierCode));
    }

    #[test]
    fn procedures_have_a_plain_code_and_a_real_name() {
        assert_eq!(
            parse_procedure(" gpxd-1 ", "  Cấp   giấy phép xây dựng "),
            Ok(("GPXD-1".into(), "Cấp giấy phép xây dựng".into()))
        );
        assert_eq!(parse_procedure("", "Khai sinh"), Err(InvitationError::BadProcedureCode));
        assert_eq!(parse_procedure("KHAI SINH", "Khai sinh"), Err(InvitationError::BadProcedureCode));
        assert_eq!(parse_procedure("KS", "  "), Err(InvitationError::BadProcedureName));
        assert_eq!(parse_procedure("KS", &"á".repeat(201)), Err(InvitationError::BadProcedureName));
    }

    #[test]
    fn the_last_day_is_a_vietnamese_day() {
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(last_day(utc("2026-12-21T17:00:00Z")), "21/12/2026"); // midnight in Hà Nội
        assert_eq!(last_day(utc("2026-12-21T17:00:01Z")), "22/12/2026");
        assert_eq!(last_day(utc("2026-12-21T10:00:00Z")), "21/12/2026");
    }

    #[test]
    fn answered_wins_over_expired() {
        let now = Utc::now();
        assert_eq!(InvitationStatus::of(now + Duration::days(1), None, now), InvitationStatus::Pending);
        assert_eq!(InvitationStatus::of(now, None, now), InvitationStatus::Expired);
        assert_eq!(InvitationStatus::of(now - Duration::days(1), Some(now), now), InvitationStatus::Answered);
    }

    #[test]
    fn only_the_maker_sees_a_link_and_only_for_a_while() {
        let now = Utc::now();
        let later = Some(now + Duration::minutes(1));
        assert!(OfficerLimits::may_show_link(Some(7), 7, later, now));
        assert!(!OfficerLimits::may_show_link(Some(7), 8, later, now), "another officer");
        assert!(!OfficerLimits::may_show_link(None, 7, later, now), "made by the one-stop software");
        assert!(!OfficerLimits::may_show_link(Some(7), 7, Some(now), now), "the window is over");
        assert!(!OfficerLimits::may_show_link(Some(7), 7, None, now), "erased");
    }

    #[test]
    fn quick_answers_and_the_daily_limit() {
        let limits = OfficerLimits { max_per_day: 3, quick_answer_minutes: 5, ..OfficerLimits::default() };
        let made = Utc::now();
        assert!(limits.answered_quickly(made, made + Duration::seconds(299)));
        assert!(!limits.answered_quickly(made, made + Duration::minutes(5)));
        assert!(limits.admits(2));
        assert!(!limits.admits(3));
        assert!(OfficerLimits { max_per_day: 0, ..limits }.admits(1_000_000));
    }

    #[test]
    fn flags_round_trip() {
        for flag in InvitationFlag::ALL {
            assert_eq!(InvitationFlag::parse(flag.as_str()), Some(flag));
        }
        assert_eq!(InvitationFlag::parse("burst"), None);
    }
}
