//! Comments (ý kiến khác): personal details are masked before anyone reads them, and nobody but
//! an admin reads a comment until the admin has approved it.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Where a comment stands in moderation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommentStatus {
    Pending,
    Approved,
    /// Hidden by an admin: kept, shown to nobody.
    Rejected,
}

impl CommentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Rejected].into_iter().find(|s| s.as_str() == text)
    }
}

pub const MASKED_EMAIL: &str = "[địa chỉ thư đã ẩn]";
pub const MASKED_PHONE: &str = "[số điện thoại đã ẩn]";
pub const MASKED_DOSSIER: &str = "[mã hồ sơ đã ẩn]";

/// Nine or more digits, possibly grouped by spaces, dots or dashes, possibly after +84.
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\+84[\s.-]?)?\d([\s.-]?\d){8,}").expect("the phone pattern compiles"));
/// A word, up to the punctuation that may follow it.
static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"[^\s,;:!?()"]+"#).expect("the word pattern compiles"));

/// The comment with e-mail addresses, phone numbers and dossier codes replaced by a note.
pub fn mask_personal(text: &str) -> String {
    // Codes first: a phone-like run of digits inside a dossier code must not split the code.
    let words = WORD.replace_all(text, |found: &regex::Captures| {
        let word = found[0].trim_end_matches('.');
        let digits = word.chars().filter(char::is_ascii_digit).count();
        let letters = word.chars().any(char::is_alphabetic);
        let dashes = word.matches('-').count();
        let after_at = word.split_once('@').map(|(name, domain)| !name.is_empty() && domain.contains('.'));
        let tail = &found[0][word.len()..];
        if after_at == Some(true) {
            format!("{MASKED_EMAIL}{tail}")
        } else if (digits >= 4 && letters) || (digits >= 6 && dashes >= 2) {
            format!("{MASKED_DOSSIER}{tail}")
        } else {
            found[0].to_owned()
        }
    });
    PHONE.replace_all(&words, MASKED_PHONE).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_emails_and_dossier_codes_are_masked() {
        assert_eq!(
            mask_personal("Gọi tôi 0912 345 678 hoặc +84 912.345.678, thư nguyen.van.a@gmail.com"),
            format!("Gọi tôi {MASKED_PHONE} hoặc {MASKED_PHONE}, thư {MASKED_EMAIL}")
        );
        assert_eq!(mask_personal("Hồ sơ HS-2026-0001 bị trễ"), format!("Hồ sơ {MASKED_DOSSIER} bị trễ"));
        assert_eq!(mask_personal("mã 000.00.12.H23-240101-0001."), format!("mã {MASKED_DOSSIER}."));
        assert_eq!(mask_personal("số 24-001-2345 chưa xong"), format!("số {MASKED_DOSSIER} chưa xong"));
    }

    #[test]
    fn ordinary_numbers_and_words_stay() {
        for text in [
            "Chờ 45 phút, năm 2025 tốt hơn",
            "Phí 50.000 đồng",
            "Tầng 3, quầy số 12",
            "Cán bộ rất nhiệt tình!",
            "Năm 2025-2026",
            "Phí 12.345.678 đồng",
        ] {
            assert_eq!(mask_personal(text), text);
        }
    }
}
