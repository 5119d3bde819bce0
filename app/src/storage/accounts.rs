//! Accounts, sessions, failed logins and the audit log.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{timestamp, Db, Result, StorageError};
use crate::domain::account::Role;

/// A stored account, without its password hash.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub agency_code: Option<String>,
    pub must_change_password: bool,
}

fn user_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<User> {
    let role: String = row.get("role");
    Ok(User {
        id: row.get("id"),
        username: row.get("username"),
        role: Role::parse(&role).ok_or_else(|| StorageError::Corrupt(format!("role {role}")))?,
        agency_code: row.get("agency_code"),
        must_change_password: row.get::<i64, _>("must_change_password") == 1,
    })
}

impl Db {
    /// Creates an account; `None` when the username is taken.
    pub async fn add_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        agency: Option<&str>,
    ) -> Result<Option<i64>> {
        let id = sqlx::query_scalar(
            "INSERT INTO users (username, password_hash, role, agency_code, created_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(username)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(agency)
        .bind(timestamp(Utc::now()))
        .fetch_optional(&self.write)
        .await?;
        Ok(id)
    }

    /// The account and its password hash, if it exists and is not disabled.
    pub async fn user_for_login(&self, username: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(
            "SELECT id, username, role, agency_code, must_change_password, password_hash
             FROM users WHERE username = ? AND disabled_at IS NULL",
        )
        .bind(username)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| Ok((user_from_row(&r)?, r.get("password_hash")))).transpose()
    }

    pub async fn set_password(&self, user_id: i64, password_hash: &str, must_change: bool) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = ?, must_change_password = ? WHERE id = ?")
            .bind(password_hash)
            .bind(i64::from(must_change))
            .bind(user_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn record_login_failure(&self, username: &str, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT INTO login_failures (username, failed_at) VALUES (?, ?)")
            .bind(username)
            .bind(timestamp(at))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Failed logins of `username` since `since`.
    pub async fn login_failures_since(&self, username: &str, since: DateTime<Utc>) -> Result<Vec<DateTime<Utc>>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT failed_at FROM login_failures WHERE username = ? AND failed_at >= ?")
                .bind(username)
                .bind(timestamp(since))
                .fetch_all(&self.read)
                .await?;
        rows.iter()
            .map(|t| {
                DateTime::parse_from_rfc3339(t)
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|e| StorageError::Corrupt(format!("failed_at {t}: {e}")))
            })
            .collect()
    }

    pub async fn clear_login_failures(&self, username: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE username = ?").bind(username).execute(&self.write).await?;
        Ok(())
    }

    pub async fn add_session(&self, token_hash: &str, user_id: i64, expires_at: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(token_hash)
            .bind(user_id)
            .bind(timestamp(Utc::now()))
            .bind(timestamp(expires_at))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The user of a live session.
    pub async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.role, u.agency_code, u.must_change_password
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL",
        )
        .bind(token_hash)
        .bind(timestamp(now))
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?").bind(token_hash).execute(&self.write).await?;
        Ok(())
    }

    /// Ends every session of a user but `keep` (after a password change).
    pub async fn delete_other_sessions(&self, user_id: i64, keep: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?")
            .bind(user_id)
            .bind(keep)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn audit(&self, actor: &str, action: &str, subject: &str) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (at, actor, action, subject) VALUES (?, ?, ?, ?)")
            .bind(timestamp(Utc::now()))
            .bind(actor)
            .bind(action)
            .bind(subject)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
