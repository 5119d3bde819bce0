//! Accounts, sessions, failed logins and the audit log.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, Row};

use super::{
    insert_audit, on_pool, parse_optional_time, parse_time, timestamp, AsConn, Bind, Change, Db, Result, StorageError,
};
use crate::domain::account::{Role, KNOWN_CLIENT_FOR};
use crate::domain::audit::{Actor, AuditAction, AuditEntry};

/// A stored account, without its password hash.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub agency_code: Option<String>,
    pub must_change_password: bool,
}

/// An account as the admin's list shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct UserListing {
    pub user: User,
    pub agency_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub disabled: bool,
}

/// Which audit lines to show; every filter is optional.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only lines older than this id (the next page).
    pub before: Option<i64>,
}

/// The columns of an account that make a [`User`].
#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    role: String,
    agency_code: Option<String>,
    must_change_password: bool,
}

impl UserRow {
    fn into_user(self) -> Result<User> {
        Ok(User {
            role: Role::parse(&self.role).ok_or_else(|| StorageError::Corrupt(format!("role {}", self.role)))?,
            id: self.id,
            username: self.username,
            agency_code: self.agency_code,
            must_change_password: self.must_change_password,
        })
    }
}

/// An account with what the admin's list adds to it.
#[derive(sqlx::FromRow)]
struct UserListingRow {
    #[sqlx(flatten)]
    user: UserRow,
    agency_name: Option<String>,
    created_at: String,
    last_login_at: Option<String>,
    disabled_at: Option<String>,
}

impl UserListingRow {
    fn into_listing(self) -> Result<UserListing> {
        Ok(UserListing {
            user: self.user.into_user()?,
            agency_name: self.agency_name,
            created_at: parse_time(&self.created_at)?,
            last_login_at: parse_optional_time(self.last_login_at)?,
            disabled: self.disabled_at.is_some(),
        })
    }
}

impl Db {
    /// Creates accounts in one transaction, with one audit line each; `Err(username)` (and
    /// nothing created) when a username is taken.
    pub async fn add_users(
        &self,
        users: &[(String, String, Role, Option<String>)],
        must_change_password: bool,
        actor: &Actor,
    ) -> Result<Result<Vec<i64>, String>> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let mut ids = Vec::with_capacity(users.len());
            for (username, password_hash, role, agency) in users {
                let id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO users (username, password_hash, role, agency_code, must_change_password, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING RETURNING id",
                )
                .bind(username)
                .bind(password_hash)
                .bind(role.as_str())
                .bind(agency)
                .bind(must_change_password)
                .bind(timestamp(Utc::now()))
                .fetch_optional(&mut *tx)
                .await?;
                let Some(id) = id else { return Ok(Err(username.clone())) };
                let subject = format!(
                    "{username} ({}{})",
                    role.as_str(),
                    agency.as_ref().map(|a| format!(", {a}")).unwrap_or_default()
                );
                insert_audit(tx.conn(), actor, AuditAction::UserAdded, &subject).await?;
                ids.push(id);
            }
            tx.commit().await?;
            Ok(Ok(ids))
        })
    }

    /// Every account, by username.
    pub async fn users(&self) -> Result<Vec<UserListing>> {
        let rows: Vec<UserListingRow> = on_pool!(&self.read, |p| sqlx::query_as(
            "SELECT u.id, u.username, u.role, u.agency_code, u.must_change_password, a.name AS agency_name,
                    u.created_at, u.last_login_at, u.disabled_at
             FROM users u LEFT JOIN agencies a ON a.code = u.agency_code ORDER BY u.username",
        )
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(UserListingRow::into_listing).collect()
    }

    /// Changes an account's role and agency (audit-logged).
    pub async fn update_user(
        &self,
        id: i64,
        role: Role,
        agency: Option<&str>,
        actor: &Actor,
        subject: &str,
    ) -> Result<bool> {
        let update = Change::one(
            "UPDATE users SET role = $1, agency_code = $2 WHERE id = $3",
            vec![Bind::from(role.as_str()), Bind::from(agency), Bind::from(id)],
        );
        self.change_audited(update, actor, AuditAction::UserUpdated, subject).await
    }

    /// Disables an account (its sessions end at once) or enables it again.
    pub async fn set_user_disabled(&self, id: i64, disabled: bool, actor: &Actor, subject: &str) -> Result<bool> {
        let change = if disabled {
            let sql = "UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL";
            Change::one(sql, vec![Bind::from(timestamp(Utc::now())), Bind::from(id)])
        } else {
            Change::one(
                "UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL",
                vec![Bind::from(id)],
            )
        };
        let action = if disabled { AuditAction::UserDisabled } else { AuditAction::UserEnabled };
        self.change_audited(ending_sessions(change, id), actor, action, subject).await
    }

    /// Gives an account a new one-time password and ends its sessions.
    pub async fn reset_password(&self, id: i64, password_hash: &str, actor: &Actor, subject: &str) -> Result<bool> {
        let sql = "UPDATE users SET password_hash = $1, must_change_password = TRUE WHERE id = $2";
        let change = Change::one(sql, vec![Bind::from(password_hash), Bind::from(id)]);
        self.change_audited(ending_sessions(change, id), actor, AuditAction::PasswordReset, subject).await
    }

    /// How many admin accounts can still log in.
    pub async fn active_admins(&self) -> Result<u64> {
        let n: i64 = on_pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL"
        )
        .fetch_one(p)
        .await)?;
        Ok(n as u64)
    }

    /// The account and its password hash, if it exists and is not disabled.
    pub async fn user_for_login(&self, username: &str) -> Result<Option<(User, String)>> {
        on_pool!(&self.read, |p| {
            let row = sqlx::query(
                "SELECT id, username, role, agency_code, must_change_password, password_hash
             FROM users WHERE username = $1 AND disabled_at IS NULL",
            )
            .bind(username)
            .fetch_optional(p)
            .await?;
            row.map(|r| Ok((UserRow::from_row(&r)?.into_user()?, r.get("password_hash")))).transpose()
        })
    }

    /// Sets a user's own new password and ends their other sessions.
    pub async fn change_password(
        &self,
        user_id: i64,
        password_hash: &str,
        keep_session: &str,
        actor: &Actor,
    ) -> Result<()> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE users SET password_hash = $1, must_change_password = FALSE WHERE id = $2")
                .bind(password_hash)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(user_id)
                .bind(keep_session)
                .execute(&mut *tx)
                .await?;
            insert_audit(tx.conn(), actor, AuditAction::PasswordChanged, &actor.name).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records a failed try of `username` (an existing account's name, or a digest) from
    /// `client` (its throttling key), and forgets failures older than `keep_since`.
    pub async fn record_login_failure(
        &self,
        username: &str,
        client: &str,
        at: DateTime<Utc>,
        keep_since: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM login_failures WHERE failed_at < $1")
                .bind(timestamp(keep_since))
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO login_failures (username, ip, failed_at) VALUES ($1, $2, $3)")
                .bind(username)
                .bind(client)
                .bind(timestamp(at))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Failed tries from `client` since `since`: for `username`, and for any username.
    pub async fn login_failures_since(
        &self,
        username: &str,
        client: &str,
        since: DateTime<Utc>,
    ) -> Result<(Vec<DateTime<Utc>>, Vec<DateTime<Utc>>)> {
        on_pool!(&self.read, |p| {
            let rows = sqlx::query("SELECT username, failed_at FROM login_failures WHERE ip = $1 AND failed_at >= $2")
                .bind(client)
                .bind(timestamp(since))
                .fetch_all(p)
                .await?;
            let (mut account, mut address) = (Vec::new(), Vec::new());
            for row in rows {
                let at = parse_time(row.get("failed_at"))?;
                if row.get::<String, _>("username") == username {
                    account.push(at);
                }
                address.push(at);
            }
            Ok((account, address))
        })
    }

    /// Failed tries from every client since `since` (the global budget).
    pub async fn login_failures_everywhere(&self, since: DateTime<Utc>) -> Result<u64> {
        let n: i64 =
            on_pool!(&self.read, |p| sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE failed_at >= $1")
                .bind(timestamp(since))
                .fetch_one(p)
                .await)?;
        Ok(n as u64)
    }

    /// Whether `client` logged in since `since`.
    pub async fn login_client_known(&self, client: &str, since: DateTime<Utc>) -> Result<bool> {
        let n: i64 = on_pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_clients WHERE client = $1 AND succeeded_at >= $2"
        )
        .bind(client)
        .bind(timestamp(since))
        .fetch_one(p)
        .await)?;
        Ok(n > 0)
    }

    /// Forgets the failures of `username` from `client` after it logged in there.
    pub async fn clear_login_failures(&self, username: &str, client: &str) -> Result<()> {
        on_pool!(&self.write, |p| sqlx::query("DELETE FROM login_failures WHERE username = $1 AND ip = $2")
            .bind(username)
            .bind(client)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// How many failed logins are remembered (for the pruning test).
    pub async fn count_login_failures(&self) -> Result<u64> {
        let n: i64 =
            on_pool!(&self.read, |p| sqlx::query_scalar("SELECT COUNT(*) FROM login_failures").fetch_one(p).await)?;
        Ok(n as u64)
    }

    /// Opens a session after a successful login (audit-logged with the address, which the session
    /// keeps: a link answered from it is flagged), and notes `client` (its throttling key) as
    /// known until [`KNOWN_CLIENT_FOR`] has passed.
    pub async fn add_session(
        &self,
        token_hash: &str,
        user_id: i64,
        expires_at: DateTime<Utc>,
        actor: &Actor,
        client: &str,
    ) -> Result<()> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let now = timestamp(Utc::now());
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, ip) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(user_id)
            .bind(&now)
            .bind(timestamp(expires_at))
            .bind(actor.ip.as_deref())
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
                .bind(&now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(&now).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO login_clients (client, succeeded_at) VALUES ($1, $2)
                 ON CONFLICT (client) DO UPDATE SET succeeded_at = excluded.succeeded_at",
            )
            .bind(client)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM login_clients WHERE succeeded_at < $1")
                .bind(timestamp(Utc::now() - KNOWN_CLIENT_FOR))
                .execute(&mut *tx)
                .await?;
            insert_audit(tx.conn(), actor, AuditAction::LoginSucceeded, &actor.name).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The user of a live session.
    pub async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        let row: Option<UserRow> = on_pool!(&self.read, |p| sqlx::query_as(
            "SELECT u.id, u.username, u.role, u.agency_code, u.must_change_password
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
        )
        .bind(token_hash)
        .bind(timestamp(now))
        .fetch_optional(p)
        .await)?;
        row.map(UserRow::into_user).transpose()
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        on_pool!(&self.write, |p| sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    pub async fn audit(&self, actor: &Actor, action: AuditAction, subject: &str) -> Result<()> {
        on_pool!(&self.write, |p| insert_audit(p.acquire().await?.conn(), actor, action, subject).await)
    }

    /// Audit lines matching `filter`, newest first.
    pub async fn audit_log(&self, filter: &AuditFilter, limit: u32) -> Result<Vec<AuditEntry>> {
        on_pool!(&self.read, |p| {
            let rows = sqlx::query(
                "SELECT id, at, actor, ip, action, subject FROM audit_log
             WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action = $2)
               AND ($3 IS NULL OR at >= $3) AND ($4 IS NULL OR at < $4) AND ($5 IS NULL OR id < $5)
             ORDER BY id DESC LIMIT $6",
            )
            .bind(&filter.actor)
            .bind(filter.action.map(AuditAction::as_str))
            .bind(filter.from.map(timestamp))
            .bind(filter.until.map(timestamp))
            .bind(filter.before)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|r| {
                    let action: String = r.get("action");
                    Ok(AuditEntry {
                        id: r.get("id"),
                        at: r.get("at"),
                        actor: r.get("actor"),
                        ip: r.get("ip"),
                        action: AuditAction::parse(&action)
                            .ok_or_else(|| StorageError::Corrupt(format!("audit action {action}")))?,
                        subject: r.get("subject"),
                    })
                })
                .collect()
        })
    }
}

/// `change`, then the end of every session of account `id`.
fn ending_sessions(change: Change, id: i64) -> Change {
    Change { then: vec![("DELETE FROM sessions WHERE user_id = $1", vec![Bind::from(id)])], ..change }
}
