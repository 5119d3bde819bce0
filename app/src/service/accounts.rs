//! Accounts: creating users, logging in (argon2id, throttled), sessions, password changes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};

use super::{secret, AppState, ServiceError};
use crate::domain::account::{self, AccountError, Role};
use crate::storage::User;

/// How long a session lasts without logging in again.
pub const SESSION_LIFETIME: Duration = Duration::hours(12);

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("Tên đăng nhập hoặc mật khẩu không đúng.")]
    BadCredentials,
    #[error("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.")]
    Throttled { minutes: i64 },
    #[error(transparent)]
    Service(#[from] ServiceError),
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
    #[error("Nhập sai mật khẩu quá nhiều lần. Vui lòng thử lại sau {minutes} phút.")]
    Throttled { minutes: i64 },
    #[error(transparent)]
    Service(#[from] ServiceError),
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
        actor: &str,
        username: &str,
        role: Role,
        agency: Option<&str>,
    ) -> Result<String, AccountServiceError> {
        let password = one_time_password();
        self.create_user(actor, username, role, agency, &password, true).await?;
        Ok(password)
    }

    /// Creates a demo account with a known password, unless the username exists already.
    pub async fn add_demo_user(
        &self,
        username: &str,
        role: Role,
        agency: Option<&str>,
        password: &str,
    ) -> Result<(), AccountServiceError> {
        match self.create_user("demo", username, role, agency, password, false).await {
            Ok(()) | Err(AccountServiceError::Taken(_)) => Ok(()),
            Err(other) => Err(other),
        }
    }

    async fn create_user(
        &self,
        actor: &str,
        username: &str,
        role: Role,
        agency: Option<&str>,
        password: &str,
        must_change: bool,
    ) -> Result<(), AccountServiceError> {
        let username = account::parse_username(username)?;
        match (role.needs_agency(), agency) {
            (true, None) => return Err(AccountServiceError::AgencyRequired),
            (false, Some(_)) => return Err(AccountServiceError::AgencyNotAllowed),
            (true, Some(code)) if self.db.agency(code).await.map_err(ServiceError::from)?.is_none() => {
                return Err(ServiceError::UnknownAgency(code.to_owned()).into());
            }
            _ => {}
        }
        let hash = hash_password(password)?;
        let created = self.db.add_user(&username, &hash, role, agency).await.map_err(ServiceError::from)?;
        let Some(id) = created else { return Err(AccountServiceError::Taken(username)) };
        if !must_change {
            self.db.set_password(id, &hash, false).await.map_err(ServiceError::from)?;
        }
        self.db
            .audit(actor, "user.add", &format!("{username} ({})", role.as_str()))
            .await
            .map_err(ServiceError::from)?;
        Ok(())
    }

    /// Checks a login; on success opens a session and returns its cookie value.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<(User, String), LoginError> {
        // Invalid names cannot exist: refuse them without a row in login_failures.
        let Ok(username) = account::parse_username(username) else { return Err(LoginError::BadCredentials) };
        let _one_at_a_time = self.login_gate.lock().await;
        let failures = self
            .db
            .login_failures_since(&username, now - account::THROTTLE_WINDOW)
            .await
            .map_err(ServiceError::from)?;
        if let Some(until) = account::locked_until(&failures, now) {
            return Err(LoginError::Throttled { minutes: (until - now).num_minutes() + 1 });
        }
        let found = self.db.user_for_login(&username).await.map_err(ServiceError::from)?;
        // An unknown name is checked against a dummy hash, so it takes as long as a known one.
        let hash = found.as_ref().map_or_else(|| dummy_hash().to_owned(), |(_, hash)| hash.clone());
        let matches = check_in_background(password, hash).await;
        let Some((user, _)) = found.filter(|_| matches) else {
            self.db.record_login_failure(&username, now).await.map_err(ServiceError::from)?;
            return Err(LoginError::BadCredentials);
        };
        self.db.clear_login_failures(&username).await.map_err(ServiceError::from)?;
        let token = secret::new_token();
        self.db
            .add_session(&secret::hash(&token), user.id, now + SESSION_LIFETIME)
            .await
            .map_err(ServiceError::from)?;
        Ok((user, token))
    }

    pub async fn session_user(&self, token: &str) -> Result<Option<User>, ServiceError> {
        Ok(self.db.session_user(&secret::hash(token), Utc::now()).await?)
    }

    pub async fn logout(&self, token: &str) -> Result<(), ServiceError> {
        Ok(self.db.delete_session(&secret::hash(token)).await?)
    }

    /// Changes the password of the session's user and ends their other sessions.
    /// Wrong current passwords count as failed logins: a stolen session cannot be used to
    /// guess the password faster than the login form allows.
    pub async fn change_password(&self, token: &str, current: &str, new: &str) -> Result<(), AccountServiceError> {
        account::check_password(new)?;
        let user = self.session_user(token).await?.ok_or(AccountServiceError::WrongPassword)?;
        let now = Utc::now();
        let _one_at_a_time = self.login_gate.lock().await;
        let failures = self
            .db
            .login_failures_since(&user.username, now - account::THROTTLE_WINDOW)
            .await
            .map_err(ServiceError::from)?;
        if let Some(until) = account::locked_until(&failures, now) {
            return Err(AccountServiceError::Throttled { minutes: (until - now).num_minutes() + 1 });
        }
        let (_, hash) = self
            .db
            .user_for_login(&user.username)
            .await
            .map_err(ServiceError::from)?
            .ok_or(AccountServiceError::WrongPassword)?;
        if !check_in_background(current, hash).await {
            self.db.record_login_failure(&user.username, now).await.map_err(ServiceError::from)?;
            return Err(AccountServiceError::WrongPassword);
        }
        self.db.clear_login_failures(&user.username).await.map_err(ServiceError::from)?;
        self.db.set_password(user.id, &hash_password(new)?, false).await.map_err(ServiceError::from)?;
        self.db.delete_other_sessions(user.id, &secret::hash(token)).await.map_err(ServiceError::from)?;
        Ok(())
    }
}
