//! Sending a survey link to the citizen: contacts, the message, the gateway body, retries.
//!
//! A contact (phone number or e-mail address) is kept only until its message is delivered, has
//! failed for good, or the invitation is answered or expired (docs/privacy.md).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use validator::ValidateEmail;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContactError {
    #[error("Số điện thoại di động không hợp lệ (ví dụ: 0912 345 678 hoặc +84 912 345 678).")]
    BadPhone,
    #[error("Địa chỉ e-mail không hợp lệ (ví dụ: ten@example.vn).")]
    BadEmail,
}

/// How a link reaches the citizen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    Sms,
    Email,
}

impl Medium {
    pub const ALL: [Medium; 2] = [Medium::Sms, Medium::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Sms => "sms",
            Medium::Email => "email",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Medium::Sms => "Tin nhắn SMS",
            Medium::Email => "E-mail",
        }
    }
}

/// Where a message stands. `Queued` with no gateway configured is the admin's outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Queued,
    Sent,
    Failed,
    /// Not sent because the invitation was answered or expired first.
    Cancelled,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Queued, Self::Sent, Self::Failed, Self::Cancelled].into_iter().find(|s| s.as_str() == text)
    }
}

/// A Vietnamese mobile number in its domestic form `0xxxxxxxxx`, from what an officer types:
/// spaces, dots and dashes are ignored, `+84` or `84` stands for the leading 0.
pub fn parse_phone(input: &str) -> Result<String, ContactError> {
    let compact: String = input.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')')).collect();
    let national = if let Some(rest) = compact.strip_prefix("+84") {
        format!("0{rest}")
    } else if let Some(rest) = compact.strip_prefix("84").filter(|rest| rest.len() == 9) {
        format!("0{rest}")
    } else {
        compact
    };
    let digits_ok = national.len() == 10 && national.bytes().all(|b| b.is_ascii_digit());
    // Mobile prefixes since the 2018 renumbering: 03x, 05x, 07x, 08x, 09x.
    if digits_ok && national.starts_with('0') && matches!(national.as_bytes()[1], b'3' | b'5' | b'7' | b'8' | b'9') {
        Ok(national)
    } else {
        Err(ContactError::BadPhone)
    }
}

/// An e-mail address, trimmed, its domain lower-cased.
pub fn parse_email(input: &str) -> Result<String, ContactError> {
    let address = input.trim();
    let Some((local, domain)) = address.rsplit_once('@') else { return Err(ContactError::BadEmail) };
    let address = format!("{local}@{}", domain.to_lowercase());
    // A dot in the domain: an address without one cannot be reached from the province's mail server.
    if address.len() <= 254 && domain.contains('.') && address.validate_email() {
        Ok(address)
    } else {
        Err(ContactError::BadEmail)
    }
}

/// Optional contacts as a form or the API gives them: blank means none.
pub fn parse_contacts(phone: Option<&str>, email: Option<&str>) -> Result<Vec<(Medium, String)>, ContactError> {
    fn present(value: Option<&str>) -> Option<&str> {
        value.map(str::trim).filter(|v| !v.is_empty())
    }
    let mut contacts = Vec::new();
    if let Some(phone) = present(phone) {
        contacts.push((Medium::Sms, parse_phone(phone)?));
    }
    if let Some(email) = present(email) {
        contacts.push((Medium::Email, parse_email(email)?));
    }
    Ok(contacts)
}

/// A contact as an officer may see it afterwards: enough to recognise, not to reuse.
pub fn mask(medium: Medium, contact: &str) -> String {
    let chars: Vec<char> = contact.chars().collect();
    match medium {
        Medium::Sms if chars.len() > 5 => {
            let hidden = "•".repeat(chars.len() - 5);
            format!(
                "{}{hidden}{}",
                chars[..3].iter().collect::<String>(),
                chars[chars.len() - 2..].iter().collect::<String>()
            )
        }
        Medium::Email => match contact.split_once('@') {
            Some((local, domain)) => {
                format!("{}•••@{domain}", local.chars().next().map(String::from).unwrap_or_default())
            }
            None => "•••".into(),
        },
        Medium::Sms => "•••".into(),
    }
}

/// What the citizen receives: who asks, the link, and until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub agency: String,
    pub link: String,
    /// Last day to answer, dd/mm/yyyy.
    pub last_day: String,
}

impl Message {
    pub fn sms_text(&self) -> String {
        format!(
            "{}: moi Ong/Ba danh gia su hai long ve giai quyet ho so (an danh, 2 phut), truoc {}: {}",
            ascii_fold(&self.agency),
            self.last_day,
            self.link
        )
    }

    pub fn email_subject(&self) -> String {
        format!("Mời Ông/Bà đánh giá sự phục vụ của {}", self.agency)
    }

    pub fn email_body(&self) -> String {
        format!(
            "Kính gửi Ông/Bà,\n\n{} mời Ông/Bà cho biết mức độ hài lòng về việc giải quyết hồ sơ vừa qua. \
             Phiếu khảo sát ẩn danh, mất khoảng 2 phút, dùng được một lần, trước hết ngày {}:\n\n{}\n\n\
             Câu trả lời không gắn với hồ sơ hay thông tin cá nhân của Ông/Bà.\n\
             Địa chỉ e-mail này sẽ được xóa khỏi hệ thống sau khi thư được gửi.\n",
            self.agency, self.last_day, self.link
        )
    }
}

/// Vietnamese without diacritics: SMS gateways bill a message with diacritics as UCS-2, 70
/// characters a part instead of 160, and many brand-name routes refuse it.
pub fn ascii_fold(text: &str) -> String {
    const FROM: &str = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ";
    const TO: &str = "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd";
    text.chars()
        .map(|c| {
            let lower = c.to_lowercase().next().unwrap_or(c);
            match FROM.chars().position(|f| f == lower) {
                Some(i) => {
                    let plain = TO.chars().nth(i).unwrap_or(lower);
                    if c.is_uppercase() {
                        plain.to_ascii_uppercase()
                    } else {
                        plain
                    }
                }
                None => c,
            }
        })
        .collect()
}

/// How a value is written into a gateway request: the body's content type decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escape {
    /// Inside a JSON string.
    Json,
    /// In a URL or an `application/x-www-form-urlencoded` body.
    Url,
    Raw,
}

impl Escape {
    pub fn for_content_type(content_type: Option<&str>) -> Self {
        match content_type.map(str::to_ascii_lowercase) {
            Some(t) if t.contains("json") => Escape::Json,
            Some(t) if t.contains("x-www-form-urlencoded") => Escape::Url,
            _ => Escape::Raw,
        }
    }

    fn apply(self, value: &str) -> String {
        match self {
            Escape::Json => {
                let quoted = serde_json::to_string(value).unwrap_or_default();
                quoted[1..quoted.len() - 1].to_owned()
            }
            Escape::Url => value
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect(),
            Escape::Raw => value.to_owned(),
        }
    }
}

/// Fills `{phone}` (`0912345678`), `{phone84}` (`84912345678`), `{link}` and `{message}` in a
/// gateway template (URL or body), each value escaped for where it goes. Other braces are left
/// alone, so JSON templates need no doubling.
pub fn fill_template(template: &str, escape: Escape, phone: &str, message: &Message) -> String {
    let international = match phone.strip_prefix('0') {
        Some(rest) => format!("84{rest}"),
        None => phone.to_owned(),
    };
    template
        .replace("{phone}", &escape.apply(phone))
        .replace("{phone84}", &escape.apply(&international))
        .replace("{link}", &escape.apply(&message.link))
        .replace("{message}", &escape.apply(&message.sms_text()))
}

/// Retry policy: `base`, then doubling, at most an hour apart; gives up after `max_attempts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max_attempts: u32,
}

/// Seconds before the first retry of a failed message, unless the province sets another.
pub const RETRY_BASE_SECONDS: u64 = 60;
/// Tries before a message is given up, unless the province sets another.
pub const MAX_ATTEMPTS: u32 = 8;

impl Default for Backoff {
    fn default() -> Self {
        Self { base: Duration::from_secs(RETRY_BASE_SECONDS), max_attempts: MAX_ATTEMPTS }
    }
}

impl Backoff {
    /// The wait before the next try after `attempts` failed tries, or `None` to give up.
    pub fn after(&self, attempts: u32) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
        Some(self.base.saturating_mul(factor).min(Duration::from_secs(3600).max(self.base)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message {
            agency: "Sở Tư pháp tỉnh Phú Thọ".into(),
            link: "https://hailong.phutho.gov.vn/s/ab12".into(),
            last_day: "21/12/2026".into(),
        }
    }

    #[test]
    fn phones_are_normalised_to_the_domestic_form() {
        assert_eq!(parse_phone("0912 345 678"), Ok("0912345678".into()));
        assert_eq!(parse_phone("+84 912.345.678"), Ok("0912345678".into()));
        assert_eq!(parse_phone("84912345678"), Ok("0912345678".into()));
        assert_eq!(parse_phone("(+84) 386-123-456"), Ok("0386123456".into()));
        for bad in ["", "091234567", "09123456789", "0212345678", "0912a45678", "+1 912 345 678", "１２３"] {
            assert_eq!(parse_phone(bad), Err(ContactError::BadPhone), "{bad}");
        }
    }

    #[test]
    fn emails_are_checked_and_their_domain_lower_cased() {
        assert_eq!(parse_email("  Nguyen.Van.A@Gmail.COM "), Ok("Nguyen.Van.A@gmail.com".into()));
        for bad in ["", "a", "a@", "@b.vn", "a@b", "a b@c.vn", "a@@c.vn"] {
            assert_eq!(parse_email(bad), Err(ContactError::BadEmail), "{bad}");
        }
    }

    #[test]
    fn blank_contacts_are_none_and_a_bad_one_refuses_both() {
        assert_eq!(parse_contacts(Some("  "), None), Ok(vec![]));
        assert_eq!(
            parse_contacts(Some("0912345678"), Some("a@b.vn")),
            Ok(vec![(Medium::Sms, "0912345678".into()), (Medium::Email, "a@b.vn".into())])
        );
        assert_eq!(parse_contacts(Some("0912345678"), Some("nope")), Err(ContactError::BadEmail));
    }

    #[test]
    fn masks_keep_only_a_hint() {
        assert_eq!(mask(Medium::Sms, "0912345678"), "091•••••78");
        assert_eq!(mask(Medium::Email, "nguyenvana@gmail.com"), "n•••@gmail.com");
        assert_eq!(mask(Medium::Sms, "123"), "•••");
    }

    #[test]
    fn sms_text_has_no_diacritics_and_carries_the_link() {
        let text = message().sms_text();
        assert!(text.is_ascii(), "{text}");
        assert!(text.starts_with("So Tu phap tinh Phu Tho: moi Ong/Ba"), "{text}");
        assert!(text.ends_with("truoc 21/12/2026: https://hailong.phutho.gov.vn/s/ab12"), "{text}");
        assert_eq!(ascii_fold("Đăng ký KHAI SINH, Ủy ban"), "Dang ky KHAI SINH, Uy ban");
    }

    #[test]
    fn templates_escape_values_for_their_content_type() {
        let m = message();
        let json =
            fill_template(r#"{"to":"{phone}","text":"{message}","url":"{link}"}"#, Escape::Json, "0912345678", &m);
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("still JSON");
        assert_eq!(parsed["to"], "0912345678");
        assert_eq!(parsed["url"], m.link);
        assert_eq!(parsed["text"], m.sms_text());
        let form = fill_template("to={phone}&intl={phone84}&u={link}", Escape::Url, "0912345678", &m);
        assert_eq!(form, "to=0912345678&intl=84912345678&u=https%3A%2F%2Fhailong.phutho.gov.vn%2Fs%2Fab12");
        assert_eq!(Escape::for_content_type(Some("application/json; charset=utf-8")), Escape::Json);
        assert_eq!(Escape::for_content_type(Some("application/x-www-form-urlencoded")), Escape::Url);
        assert_eq!(Escape::for_content_type(None), Escape::Raw);
    }

    #[test]
    fn backoff_doubles_up_to_an_hour_then_gives_up() {
        let policy = Backoff { base: Duration::from_secs(60), max_attempts: 8 };
        let waits: Vec<_> = (1..=8).map(|n| policy.after(n).map(|d| d.as_secs())).collect();
        assert_eq!(waits, [Some(60), Some(120), Some(240), Some(480), Some(960), Some(1920), Some(3600), None]);
        assert_eq!(Backoff { base: Duration::ZERO, max_attempts: 2 }.after(1), Some(Duration::ZERO));
    }
}
