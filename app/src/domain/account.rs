//! Staff accounts (tài khoản): roles, username and password rules, login throttling.

use std::net::{IpAddr, Ipv6Addr};

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
pub const MAX_USERNAME_CHARS: usize = 32;

/// A username: 3–32 of `a-z 0-9 . _ -`, stored lower-case.
pub fn parse_username(input: &str) -> Result<String, AccountError> {
    let name = input.trim().to_lowercase();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    if (3..=MAX_USERNAME_CHARS).contains(&name.chars().count()) && name.chars().all(allowed) {
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

/// An account to create, as a CSV line or a form gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAccount {
    pub line: usize,
    pub username: String,
    pub role: Role,
    pub agency: Option<String>,
}

/// The columns of an account list: `username,role,agency`.
pub const ACCOUNT_COLUMNS: [&str; 3] = ["username", "role", "agency"];

/// Reads the cells of an account list (username, role, agency), checking each line and that
/// no username appears twice. Whether the agencies exist is the caller's to check.
pub fn read_accounts(
    rows: &[crate::domain::table::TableRow],
) -> Result<Vec<NewAccount>, Vec<crate::domain::table::RowError>> {
    use crate::domain::table::RowError;
    let mut errors = Vec::new();
    let mut accounts: Vec<NewAccount> = Vec::new();
    for row in rows {
        let cell = |n: usize| row.cells.get(n).map(|c| c.trim()).unwrap_or("");
        let fail = |message: String| RowError { line: row.line, code: cell(0).to_owned(), message };
        let username = match parse_username(cell(0)) {
            Ok(name) => name,
            Err(e) => {
                errors.push(fail(e.to_string()));
                continue;
            }
        };
        let Some(role) = Role::parse(cell(1)) else {
            errors.push(fail(format!("vai trò \"{}\" không có; dùng admin, manager hoặc staff", cell(1))));
            continue;
        };
        let agency = Some(cell(2).to_owned()).filter(|a| !a.is_empty());
        match (role.needs_agency(), &agency) {
            (true, None) => errors.push(fail("vai trò này cần mã cơ quan, đơn vị (cột agency)".into())),
            (false, Some(_)) => errors.push(fail("quản trị tỉnh không gắn với cơ quan, đơn vị nào".into())),
            _ => {}
        }
        if let Some(first) = accounts.iter().find(|a| a.username == username) {
            errors.push(fail(format!("tên đăng nhập trùng với dòng {}", first.line)));
        }
        accounts.push(NewAccount { line: row.line, username, role, agency });
    }
    if errors.is_empty() {
        Ok(accounts)
    } else {
        Err(errors)
    }
}

/// Failed logins are counted over this window; older ones are pruned.
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// Failures from one address for one username before each further try must wait.
pub const FREE_FAILURES_PER_ACCOUNT: usize = 5;
/// Failures from one address over all usernames before it must wait (password spraying).
pub const FREE_FAILURES_PER_ADDRESS: usize = 20;
/// The first wait; each further failure doubles it, up to the window.
pub const FIRST_DELAY: Duration = Duration::seconds(30);

/// Failed tries over all clients within a minute (counted in the database, so over every
/// server) beyond which only known clients may try: a flood from many addresses turns new
/// addresses away (429), never the offices that logged in before.
pub const FAILURES_PER_MINUTE: u64 = 300;
/// A client that logged in within this time is known: it keeps trying when the budget is spent.
pub const KNOWN_CLIENT_FOR: Duration = Duration::days(30);
/// Tries of one client at the gate at once (waiting or being checked); more are refused at once,
/// so that one client cannot fill the queue everybody else waits in.
pub const TRIES_IN_FLIGHT_PER_CLIENT: usize = 2;
/// Wrong pairing codes, typed from any address, after which every code pending at that moment
/// dies: a code can be guessed this many times at most, however many addresses try.
pub const PAIRING_CODE_WRONG_TRIES: i64 = 5;

/// The key a client's failures are counted under: an IPv4 address, or the /64 network of an
/// IPv6 address (one subscriber gets a whole /64 and may pick any address in it). An
/// IPv4-mapped IPv6 address counts as its IPv4 address.
pub fn client_key(ip: IpAddr) -> String {
    let v6 = match ip {
        IpAddr::V4(v4) => return v4.to_string(),
        IpAddr::V6(v6) => v6,
    };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return v4.to_string();
    }
    let [a, b, c, d, ..] = v6.segments();
    format!("{}/64", Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
}

/// Why a try is turned away before its password or code is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    /// This client failed too often: it waits until then.
    Until(DateTime<Utc>),
    /// The global budget of failures is spent and this client never logged in recently.
    Saturated,
}

/// Whether a try may go on, given the recent failures of this client for this name and for any
/// name, the failures everywhere within the last minute, and whether the client is known
/// (logged in within [`KNOWN_CLIENT_FOR`], or already signed in).
pub fn hold(
    account_failures: &[DateTime<Utc>],
    client_failures: &[DateTime<Utc>],
    failures_last_minute: u64,
    known_client: bool,
    now: DateTime<Utc>,
) -> Option<Hold> {
    if let Some(until) = retry_after(account_failures, client_failures, now) {
        return Some(Hold::Until(until));
    }
    (failures_last_minute >= FAILURES_PER_MINUTE && !known_client).then_some(Hold::Saturated)
}

/// Until when a login from an address must wait, given the recent failures from that address
/// for this username and for any username. Nobody can lock an account for everyone: the
/// waits belong to the address the failures came from.
pub fn retry_after(
    account_failures: &[DateTime<Utc>],
    address_failures: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let account = delay_after(account_failures, FREE_FAILURES_PER_ACCOUNT, now);
    let address = delay_after(address_failures, FREE_FAILURES_PER_ADDRESS, now);
    account.max(address)
}

fn delay_after(failures: &[DateTime<Utc>], free: usize, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let recent: Vec<&DateTime<Utc>> = failures.iter().filter(|at| now - **at < THROTTLE_WINDOW).collect();
    let beyond = recent.len().checked_sub(free)?;
    let doublings = u32::try_from(beyond).unwrap_or(u32::MAX).min(16);
    let delay = (FIRST_DELAY * 2_i32.pow(doublings)).min(THROTTLE_WINDOW);
    recent.into_iter().max().map(|last| *last + delay).filter(|until| *until > now)
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
    fn waits_grow_with_each_failure_from_one_address_for_one_account() {
        let now = Utc::now();
        let ago = |s: i64| now - Duration::seconds(s);
        let four: Vec<_> = (1..=4).map(ago).collect();
        assert_eq!(retry_after(&four, &four, now), None, "four mistakes cost nothing");
        let five: Vec<_> = (1..=5).map(ago).collect();
        assert_eq!(retry_after(&five, &five, now), Some(ago(1) + Duration::seconds(30)));
        let seven: Vec<_> = (1..=7).map(ago).collect();
        assert_eq!(retry_after(&seven, &seven, now), Some(ago(1) + Duration::seconds(120)));
        // capped at the window, and over once the wait has passed
        let many: Vec<_> = (1..=40).map(ago).collect();
        assert_eq!(retry_after(&many, &[], now), Some(ago(1) + THROTTLE_WINDOW));
        assert_eq!(retry_after(&five, &five, now + Duration::seconds(30)), None);
        // failures older than the window are forgotten
        let old: Vec<_> = (1..=5).map(|m| now - Duration::minutes(15 + m)).collect();
        assert_eq!(retry_after(&old, &old, now), None);
    }

    #[test]
    fn an_address_spraying_many_usernames_waits_too() {
        let now = Utc::now();
        let spray: Vec<_> = (1..=20).map(|s| now - Duration::seconds(s)).collect();
        // one failure per username, twenty usernames
        assert_eq!(retry_after(&spray[..1], &spray, now), Some(spray[0] + Duration::seconds(30)));
        assert_eq!(retry_after(&spray[..1], &spray[..19], now), None);
    }

    #[test]
    fn a_client_is_an_ipv4_address_or_an_ipv6_slash_64() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("203.0.113.9"), "203.0.113.9");
        assert_ne!(key("203.0.113.9"), key("203.0.113.10"));
        assert_eq!(key("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:3::1"), "2001:db8:1:3::/64");
        assert_eq!(key("::1"), "::/64");
    }

    #[test]
    fn a_spent_budget_turns_away_new_clients_only() {
        let now = Utc::now();
        assert_eq!(hold(&[], &[], FAILURES_PER_MINUTE - 1, false, now), None);
        assert_eq!(hold(&[], &[], FAILURES_PER_MINUTE, false, now), Some(Hold::Saturated));
        assert_eq!(hold(&[], &[], FAILURES_PER_MINUTE * 10, true, now), None, "a known client goes on");
        // A client's own wait comes first, known or not.
        let five: Vec<_> = (1..=5).map(|s| now - Duration::seconds(s)).collect();
        let until = Some(Hold::Until(five[0] + FIRST_DELAY));
        assert_eq!(hold(&five, &five, 0, true, now), until);
        assert_eq!(hold(&five, &five, FAILURES_PER_MINUTE, false, now), until);
    }

    #[test]
    fn an_account_list_is_checked_line_by_line() {
        use crate::domain::table::TableRow;
        let row = |line: usize, cells: [&str; 3]| TableRow { line, cells: cells.map(String::from).to_vec() };
        let ok = read_accounts(&[row(2, ["Lan.NV", "manager", "SNV"]), row(3, ["tinh2", "admin", ""])]).unwrap();
        assert_eq!(
            ok[0],
            NewAccount { line: 2, username: "lan.nv".into(), role: Role::Manager, agency: Some("SNV".into()) }
        );
        assert_eq!(ok[1].agency, None);
        let said: Vec<String> = read_accounts(&[
            row(2, ["a", "staff", "TT"]),
            row(3, ["motcua1", "root", "TT"]),
            row(4, ["motcua2", "staff", ""]),
            row(5, ["tinh3", "admin", "TT"]),
            row(6, ["motcua4", "staff", "TT"]),
            row(7, ["MOTCUA4", "staff", "TT"]),
        ])
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            said,
            [
                "Dòng 2 (a): Tên đăng nhập phải dài 3–32 ký tự, chỉ gồm chữ thường không dấu, số, dấu chấm, gạch ngang, gạch dưới.",
                "Dòng 3 (motcua1): vai trò \"root\" không có; dùng admin, manager hoặc staff",
                "Dòng 4 (motcua2): vai trò này cần mã cơ quan, đơn vị (cột agency)",
                "Dòng 5 (tinh3): quản trị tỉnh không gắn với cơ quan, đơn vị nào",
                "Dòng 7 (MOTCUA4): tên đăng nhập trùng với dòng 6",
            ]
        );
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
