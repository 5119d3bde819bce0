//! Accounts: creating users, logging in (argon2id, throttled), sessions, password changes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};

use super::gate::Refusal;
use super::{secret, AppState, ServiceError};
use crate::domain::account::{self, AccountError, NewAccount, Role};
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::table::RowError;
use crate::storage::{User, UserListing};

/// How long a session lasts without logging in again.
pub const SESSION_LIFETIME: Duration = Duration::hours(12);

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("Tên đăng nhập hoặc mật khẩu không đúng.")]
    BadCredentials,
    #[error("Đăng nhập sai nhiều lần. Vui lòng thử lại sau {seconds} giây.")]
    Throttled { seconds: i64 },
    #[error("Máy chủ đang bận xử lý nhiều lượt đăng nhập. Vui lòng thử lại sau ít giây.")]
    Busy,
    #[error("{SATURATED}")]
    Saturated,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Said to a new address while the global budget of failed logins is spent.
pub const SATURATED: &str = "Hệ thống đang tạm từ chối đăng nhập từ địa chỉ mới vì có quá nhiều lượt đăng nhập sai. \
     Vui lòng thử lại sau một phút, hoặc đăng nhập từ máy đã đăng nhập trước đây.";

/// How a failed login of a name that is no account appears in the audit log: never what was
/// typed, which may be a password typed into the wrong box.
pub const UNKNOWN_ACCOUNT: &str = "(tài khoản không tồn tại)";

impl LoginError {
    /// Seconds to send in `Retry-After` with the 429 of a refused try.
    pub fn retry_after(&self) -> Option<i64> {
        match self {
            Self::Throttled { seconds } => Some(*seconds),
            Self::Busy => Some(Refusal::Busy.retry_after()),
            Self::Saturated => Some(Refusal::Saturated.retry_after()),
            Self::BadCredentials | Self::Service(_) => None,
        }
    }
}

impl From<Refusal> for LoginError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Wait { seconds } => Self::Throttled { seconds },
            Refusal::Busy => Self::Busy,
            Refusal::Saturated => Self::Saturated,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountServiceError {
    #[error(transparent)]
    Invalid(#[from] AccountError),
    #[error("Tên đăng nhập {0} đã có người dùng.")]
    Taken(String),
    #[error("Vai trò này cần một cơ quan, đơn vị (--agency).")]
    AgencyRequired,
    #[error("Quản trị tỉnh không gắn với cơ quan, đơn vị nào.")]
    AgencyNotAllowed,
    #[error("Mật khẩu hiện tại không đúng.")]
    WrongPassword,
    #[error("Mật khẩu mới phải khác mật khẩu hiện tại.")]
    SamePassword,
    #[error("Nhập sai mật khẩu nhiều lần. Vui lòng thử lại sau {seconds} giây.")]
    Throttled { seconds: i64 },
    #[error("Máy chủ đang bận xử lý nhiều lượt đăng nhập. Vui lòng thử lại sau ít giây.")]
    Busy,
    #[error("Không có tài khoản này.")]
    NotFound,
    #[error("Không tự khóa hoặc hạ quyền tài khoản của chính mình được.")]
    OwnAccount,
    #[error("Phải còn ít nhất một quản trị tỉnh đang hoạt động.")]
    LastAdmin,
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<RowError>),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl AccountServiceError {
    /// Seconds to send in `Retry-After` with the 429 of a refused try.
    pub fn retry_after(&self) -> Option<i64> {
        match self {
            Self::Throttled { seconds } => Some(*seconds),
            Self::Busy => Some(Refusal::Busy.retry_after()),
            _ => None,
        }
    }
}

fn hash_password(password: &str) -> Result<String, ServiceError> {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|e| corrupt(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| corrupt(format!("argon2: {e}")))
}

impl From<crate::storage::StorageError> for AccountServiceError {
    fn from(error: crate::storage::StorageError) -> Self {
        Self::Service(error.into())
    }
}

impl From<crate::storage::StorageError> for LoginError {
    fn from(error: crate::storage::StorageError) -> Self {
        Self::Service(error.into())
    }
}

fn corrupt(what: String) -> ServiceError {
    ServiceError::Storage(crate::storage::StorageError::Corrupt(what))
}

/// A hash no password is checked against in earnest: for unknown usernames.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&secret::new_token()).unwrap_or_default())
}

/// argon2 off the async workers, so that kiosks keep being served during logins.
async fn check_in_background(password: &str, hash: String) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || password_matches(&password, &hash)).await.unwrap_or(false)
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A readable one-time password: 16 characters (about 79 bits) without look-alikes.
fn one_time_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..16).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

impl AppState {
    /// Creates an account and returns its one-time password (to be changed at first login).
    pub async fn add_user(
        &self,
        actor: &Actor,
        username: &str,
        role: Role,
        agency: Option<&str>,
    ) -> Result<String, AccountServiceError> {
        let username = account::parse_username(username)?;
        let account = NewAccount { line: 0, username, role, agency: agency.map(|a| a.trim().to_owned()) };
        let mut created = self.add_accounts(actor, &[account]).await?;
        Ok(created.pop().map(|(_, password)| password).unwrap_or_default())
    }

    /// Creates every account of a list in one transaction, or none; returns each username with
    /// its one-time password.
    pub async fn import_users(&self, actor: &Actor, csv: &str) -> Result<Vec<(String, String)>, AccountServiceError> {
        let rows = crate::domain::table::read_csv(csv, &account::ACCOUNT_COLUMNS).map_err(AccountServiceError::Rows)?;
        let accounts = account::read_accounts(&rows).map_err(AccountServiceError::Rows)?;
        let created = self.add_accounts(actor, &accounts).await?;
        self.db.audit(actor, AuditAction::UsersImported, &format!("{} tài khoản", created.len())).await?;
        Ok(created)
    }

    async fn add_accounts(
        &self,
        actor: &Actor,
        accounts: &[NewAccount],
    ) -> Result<Vec<(String, String)>, AccountServiceError> {
        let mut errors = Vec::new();
        for account in accounts {
            match (account.role.needs_agency(), &account.agency) {
                (true, None) => return Err(AccountServiceError::AgencyRequired),
                (false, Some(_)) => return Err(AccountServiceError::AgencyNotAllowed),
                (true, Some(code)) if self.db.agency(code).await?.is_none() => errors.push(RowError {
                    line: account.line,
                    code: account.username.clone(),
                    message: format!("không có cơ quan, đơn vị mã {code}"),
                }),
                _ => {}
            }
        }
        if !errors.is_empty() {
            if let [single] = accounts {
                if single.line == 0 {
                    return Err(ServiceError::UnknownAgency(single.agency.clone().unwrap_or_default()).into());
                }
            }
            return Err(AccountServiceError::Rows(errors));
        }
        let passwords: Vec<String> = accounts.iter().map(|_| one_time_password()).collect();
        let hashes = hash_in_background(passwords.clone()).await?;
        let rows: Vec<(String, String, Role, Option<String>)> =
            accounts.iter().zip(hashes).map(|(a, hash)| (a.username.clone(), hash, a.role, a.agency.clone())).collect();
        match self.db.add_users(&rows, true, actor).await? {
            Ok(_) => Ok(accounts.iter().map(|a| a.username.clone()).zip(passwords).collect()),
            Err(taken) => Err(match accounts.iter().find(|a| a.username == taken) {
                Some(a) if a.line > 0 => AccountServiceError::Rows(vec![RowError {
                    line: a.line,
                    code: taken.clone(),
                    message: "tên đăng nhập đã có người dùng".into(),
                }]),
                _ => AccountServiceError::Taken(taken),
            }),
        }
    }

    /// Creates an account with a known password, unless the username exists already: the demo's
    /// (`one_time`: to be changed at first login) and the tests'.
    pub async fn add_demo_user(
        &self,
        username: &str,
        role: Role,
        agency: Option<&str>,
        password: &str,
        one_time: bool,
    ) -> Result<(), AccountServiceError> {
        let hash = hash_password(password)?;
        let row = (username.to_owned(), hash, role, agency.map(str::to_owned));
        self.db.add_users(&[row], one_time, &Actor::new("demo", None)).await?.ok();
        Ok(())
    }

    /// Which of `accounts` (username, password) can still log in with that password: the demo's
    /// accounts whose known password nobody has changed.
    pub async fn accounts_with_password(&self, accounts: &[(&str, &str)]) -> Result<Vec<String>, ServiceError> {
        let mut found = Vec::new();
        for (username, password) in accounts {
            if let Some((user, hash)) = self.db.user_for_login(username).await? {
                if check_in_background(password, hash).await {
                    found.push(user.username);
                }
            }
        }
        Ok(found)
    }

    /// Every account, for the admin.
    pub async fn users(&self) -> Result<Vec<UserListing>, ServiceError> {
        Ok(self.db.users().await?)
    }

    async fn user_named(&self, username: &str) -> Result<UserListing, AccountServiceError> {
        let username = username.trim().to_lowercase();
        self.db.users().await?.into_iter().find(|u| u.user.username == username).ok_or(AccountServiceError::NotFound)
    }

    /// Changes an account's role and agency. An admin cannot demote themselves, nor the last admin.
    pub async fn update_user(
        &self,
        actor: &Actor,
        username: &str,
        role: Role,
        agency: Option<&str>,
    ) -> Result<(), AccountServiceError> {
        let target = self.user_named(username).await?;
        let agency = agency.map(str::trim).filter(|a| !a.is_empty());
        match (role.needs_agency(), agency) {
            (true, None) => return Err(AccountServiceError::AgencyRequired),
            (false, Some(_)) => return Err(AccountServiceError::AgencyNotAllowed),
            (true, Some(code)) if self.db.agency(code).await?.is_none() => {
                return Err(ServiceError::UnknownAgency(code.to_owned()).into())
            }
            _ => {}
        }
        if target.user.role == Role::Admin && role != Role::Admin {
            self.keep_an_admin(actor, &target).await?;
        }
        let subject = format!(
            "{} → {}{}",
            target.user.username,
            role.as_str(),
            agency.map(|a| format!(", {a}")).unwrap_or_default()
        );
        self.db.update_user(target.user.id, role, agency, actor, &subject).await?;
        Ok(())
    }

    /// Disables an account (its sessions end at once) or enables it again.
    pub async fn set_user_disabled(
        &self,
        actor: &Actor,
        username: &str,
        disabled: bool,
    ) -> Result<(), AccountServiceError> {
        let target = self.user_named(username).await?;
        if disabled && target.user.role == Role::Admin {
            self.keep_an_admin(actor, &target).await?;
        }
        self.db.set_user_disabled(target.user.id, disabled, actor, &target.user.username).await?;
        Ok(())
    }

    /// A new one-time password for an account; its sessions end.
    pub async fn reset_password(&self, actor: &Actor, username: &str) -> Result<String, AccountServiceError> {
        let target = self.user_named(username).await?;
        let password = one_time_password();
        let hash = hash_in_background(vec![password.clone()]).await?.pop().unwrap_or_default();
        self.db.reset_password(target.user.id, &hash, actor, &target.user.username).await?;
        Ok(password)
    }

    /// Refuses to take away the actor's own admin rights or the last working admin account.
    async fn keep_an_admin(&self, actor: &Actor, target: &UserListing) -> Result<(), AccountServiceError> {
        if target.user.username == actor.name {
            return Err(AccountServiceError::OwnAccount);
        }
        if !target.disabled && self.db.active_admins().await? <= 1 {
            return Err(AccountServiceError::LastAdmin);
        }
        Ok(())
    }

    /// Checks a login from `ip`; on success opens a session and returns its cookie value.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        ip: std::net::IpAddr,
        now: DateTime<Utc>,
    ) -> Result<(User, String), LoginError> {
        // Invalid names cannot exist: refuse them without a row in login_failures.
        let Ok(username) = account::parse_username(username) else { return Err(LoginError::BadCredentials) };
        let slot = self.login_gate.claim(ip)?;
        let found = self.db.user_for_login(&username).await?;
        let counted = self.login_gate.counted_name(&username, found.is_some());
        let pass = self.pass_gate(slot, &counted, now, false).await??;
        // Counted as a failure before the password is checked, and forgotten below if it
        // matches: a try on another server meanwhile (several servers on PostgreSQL) already
        // sees this one, instead of each server letting one guess through at the same time.
        self.count_failure(&pass, &counted, now).await?;
        // An unknown name is checked against a dummy hash, so it takes as long as a known one.
        let hash = found.as_ref().map_or_else(|| dummy_hash().to_owned(), |(_, hash)| hash.clone());
        let matches = check_in_background(password, hash).await;
        let Some((user, _)) = found.filter(|_| matches) else {
            let name = if counted == username { username.as_str() } else { UNKNOWN_ACCOUNT };
            self.audit_failure(&Actor::new(name, Some(ip)), AuditAction::LoginFailed, name).await?;
            return Err(LoginError::BadCredentials);
        };
        self.forget_failures(&pass, &username).await?;
        let token = secret::new_token();
        let actor = Actor::new(username, Some(ip));
        self.db.add_session(&secret::hash(&token), user.id, now + SESSION_LIFETIME, &actor, pass.client()).await?;
        Ok((user, token))
    }

    pub async fn session_user(&self, token: &str) -> Result<Option<User>, ServiceError> {
        Ok(self.db.session_user(&secret::hash(token), Utc::now()).await?)
    }

    pub async fn logout(&self, token: &str) -> Result<(), ServiceError> {
        Ok(self.db.delete_session(&secret::hash(token)).await?)
    }

    /// Changes the password of the session's user, ends their other sessions and returns their
    /// role (where their pages start). Wrong current passwords count as failed logins from `ip`:
    /// a stolen session cannot guess the password faster than the login form allows.
    pub async fn change_password(
        &self,
        token: &str,
        current: &str,
        new: &str,
        ip: std::net::IpAddr,
    ) -> Result<Role, AccountServiceError> {
        account::check_password(new)?;
        let user = self.session_user(token).await?.ok_or(AccountServiceError::WrongPassword)?;
        let now = Utc::now();
        // Signed in: never turned away by the global budget, only by its own failures.
        let passed = match self.login_gate.claim(ip) {
            Ok(slot) => self.pass_gate(slot, &user.username, now, true).await?,
            Err(refusal) => Err(refusal),
        };
        let pass = match passed {
            Ok(pass) => pass,
            Err(Refusal::Wait { seconds }) => return Err(AccountServiceError::Throttled { seconds }),
            Err(Refusal::Busy | Refusal::Saturated) => return Err(AccountServiceError::Busy),
        };
        let actor = Actor::new(user.username.clone(), Some(ip));
        let (_, hash) = self.db.user_for_login(&user.username).await?.ok_or(AccountServiceError::WrongPassword)?;
        if !check_in_background(current, hash.clone()).await {
            self.count_failure(&pass, &user.username, now).await?;
            self.audit_failure(&actor, AuditAction::LoginFailed, &actor.name).await?;
            return Err(AccountServiceError::WrongPassword);
        }
        if check_in_background(new, hash).await {
            return Err(AccountServiceError::SamePassword);
        }
        self.forget_failures(&pass, &user.username).await?;
        let new_hash = hash_in_background(vec![new.to_owned()]).await?.pop().unwrap_or_default();
        self.db.change_password(user.id, &new_hash, &secret::hash(token), &actor).await?;
        Ok(user.role)
    }
}

/// argon2 hashes off the async workers.
async fn hash_in_background(passwords: Vec<String>) -> Result<Vec<String>, ServiceError> {
    tokio::task::spawn_blocking(move || passwords.iter().map(|p| hash_password(p)).collect())
        .await
        .map_err(|e| corrupt(format!("hashing: {e}")))?
}
