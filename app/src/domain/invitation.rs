//! Survey invitations (lời mời khảo sát) for one dossier: codes, expiry, status.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    if !(1..=30).contains(&code.len()) || !code.chars().all(allowed) {
        return Err(InvitationError::BadProcedureCode);
    }
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if !(3..=200).contains(&name.chars().count()) {
        return Err(InvitationError::BadProcedureName);
    }
    Ok((code, name))
}

/// A dossier code (mã hồ sơ) as the one-stop software prints it, e.g. `000.00.15.H43-250101-0001`.
pub fn parse_dossier_code(input: &str) -> Result<String, InvitationError> {
    let code = input.trim();
    // No "/": the code appears as one segment of page and API paths.
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_".contains(c);
    if (1..=50).contains(&code.len()) && code.chars().all(allowed) {
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
}
