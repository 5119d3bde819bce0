//! Staff accounts (tài khoản): roles, username and password rules, login throttling.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Who a user is to hailong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Quản trị tỉnh: the whole province.
    Admin,
    /// Lãnh đạo cơ quan: an agency and its subtree.
    Manager,
    /// Công chức Bộ phận Một cửa: a service point; never sees answers or indices.
    Staff,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Manager => "manager",
            Self::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Admin, Self::Manager, Self::Staff].into_iter().find(|r| r.as_str() == s)
    }

    /// Managers and staff belong to an agency; an admin covers the whole province.
    pub fn needs_agency(self) -> bool {
        self != Self::Admin
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Admin => "Quản trị tỉnh",
            Self::Manager => "Lãnh đạo cơ quan",
            Self::Staff => "Công chức một cửa",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountError {
    #[error("Tên đăng nhập phải dài 3–32 ký tự, chỉ gồm chữ thường không dấu, số, dấu chấm, gạch ngang, gạch dưới.")]
    BadUsername,
    #[error("Mật khẩu phải có ít nhất {MIN_PASSWORD_CHARS} ký tự.")]
    ShortPassword,
    #[error("Mật khẩu dài quá {MAX_PASSWORD_CHARS} ký tự.")]
    LongPassword,
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A username: 3–32 of `a-z 0-9 . _ -`, stored lower-case.
pub fn parse_username(input: &str) -> Result<String, AccountError> {
    let name = input.trim().to_lowercase();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    if (3..=32).contains(&name.chars().count()) && name.chars().all(allowed) {
        Ok(name)
    } else {
        Err(AccountError::BadUsername)
    }
}

/// Checks a new password's length (in characters: Vietnamese letters count once).
pub fn check_password(password: &str) -> Result<(), AccountError> {
    match password.chars().count() {
        n if n < MIN_PASSWORD_CHARS => Err(AccountError::ShortPassword),
        n if n > MAX_PASSWORD_CHARS => Err(AccountError::LongPassword),
        _ => Ok(()),
    }
}

/// Failed logins allowed within [`THROTTLE_WINDOW`] before the username is locked.
pub const MAX_FAILURES: usize = 5;
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);

/// Until when a username is locked, given the times of its recent failed logins: after
/// [`MAX_FAILURES`] failures within the window, until the window has passed since the last one.
pub fn locked_until(failures: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let recent: Vec<&DateTime<Utc>> = failures.iter().filter(|at| now - **at < THROTTLE_WINDOW).collect();
    if recent.len() < MAX_FAILURES {
        return None;
    }
    recent.into_iter().max().map(|last| *last + THROTTLE_WINDOW).filter(|until| *until > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_simple_lowercase_words() {
        assert_eq!(parse_username("  Nguyen.Van_A "), Ok("nguyen.van_a".into()));
        assert_eq!(parse_username("ab"), Err(AccountError::BadUsername));
        assert_eq!(parse_username("nguyễn"), Err(AccountError::BadUsername));
        assert_eq!(parse_username("a b c"), Err(AccountError::BadUsername));
        assert_eq!(parse_username(&"a".repeat(33)), Err(AccountError::BadUsername));
    }

    #[test]
    fn passwords_are_counted_in_characters() {
        assert_eq!(check_password("ngắn"), Err(AccountError::ShortPassword));
        assert_eq!(check_password("mậtkhẩuđủdài"), Ok(()));
        assert_eq!(check_password(&"x".repeat(129)), Err(AccountError::LongPassword));
    }

    #[test]
    fn five_failures_in_fifteen_minutes_lock_until_fifteen_minutes_after_the_last() {
        let now = Utc::now();
        let ago = |m: i64| now - Duration::minutes(m);
        assert_eq!(locked_until(&[ago(1), ago(2), ago(3), ago(4)], now), None);
        let five = [ago(1), ago(2), ago(3), ago(4), ago(5)];
        assert_eq!(locked_until(&five, now), Some(ago(1) + THROTTLE_WINDOW));
        // old failures do not count
        assert_eq!(locked_until(&[ago(1), ago(2), ago(3), ago(4), ago(20)], now), None);
        // the lock lifts once the window has passed since the last failure
        assert_eq!(locked_until(&five, now + Duration::minutes(14)), None);
    }

    #[test]
    fn roles_round_trip() {
        for role in [Role::Admin, Role::Manager, Role::Staff] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
        assert!(!Role::Admin.needs_agency() && Role::Staff.needs_agency());
    }
}
