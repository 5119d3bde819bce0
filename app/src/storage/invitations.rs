//! Procedures and invitations.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{parse_time, timestamp, Db, Result, StorageError};

/// An invitation with the names a page shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Invitation {
    pub id: i64,
    pub dossier_code: String,
    pub procedure_name: String,
    pub agency_code: String,
    pub agency_name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

pub struct NewInvitation<'a> {
    pub dossier_code: &'a str,
    pub procedure_code: &'a str,
    pub agency_code: &'a str,
    pub created_by: Option<i64>,
    pub expires_at: DateTime<Utc>,
}

fn invitation_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Invitation> {
    let answered: Option<String> = row.get("answered_at");
    Ok(Invitation {
        id: row.get("id"),
        dossier_code: row.get("dossier_code"),
        procedure_name: row.get("procedure_name"),
        agency_code: row.get("agency_code"),
        agency_name: row.get("agency_name"),
        created_at: parse_time(row.get("created_at"))?,
        expires_at: parse_time(row.get("expires_at"))?,
        answered_at: answered.as_deref().map(parse_time).transpose()?,
    })
}

const INVITATION_COLUMNS: &str =
    "SELECT i.id, i.dossier_code, p.name AS procedure_name, i.agency_code, a.name AS agency_name,
            i.created_at, i.expires_at, i.answered_at
     FROM invitations i JOIN procedures p ON p.code = i.procedure_code JOIN agencies a ON a.code = i.agency_code";

impl Db {
    pub async fn upsert_procedure(&self, code: &str, name: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO procedures (code, name) VALUES (?, ?) ON CONFLICT (code) DO UPDATE SET name = excluded.name",
        )
        .bind(code)
        .bind(name)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Active procedures, by name: (code, name).
    pub async fn procedures(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT code, name FROM procedures WHERE active = 1 ORDER BY name")
            .fetch_all(&self.read)
            .await?;
        Ok(rows.iter().map(|r| (r.get("code"), r.get("name"))).collect())
    }

    /// Inserts an invitation unless its dossier has one; returns the dossier's invitation either way
    /// and whether it is new. `token_hash` is used only when it is new.
    pub async fn insert_invitation(&self, new: &NewInvitation<'_>, token_hash: &str) -> Result<(Invitation, bool)> {
        let inserted = sqlx::query(
            "INSERT INTO invitations (dossier_code, procedure_code, agency_code, token_hash, created_by, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dossier_code) DO NOTHING",
        )
        .bind(new.dossier_code)
        .bind(new.procedure_code)
        .bind(new.agency_code)
        .bind(token_hash)
        .bind(new.created_by)
        .bind(timestamp(Utc::now()))
        .bind(timestamp(new.expires_at))
        .execute(&self.write)
        .await?
        .rows_affected()
            == 1;
        let invitation = self
            .invitation_by_dossier(new.dossier_code)
            .await?
            .ok_or_else(|| StorageError::Corrupt(format!("invitation of {} vanished", new.dossier_code)))?;
        Ok((invitation, inserted))
    }

    pub async fn invitation_by_dossier(&self, dossier_code: &str) -> Result<Option<Invitation>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{INVITATION_COLUMNS} WHERE i.dossier_code = ?")))
            .bind(dossier_code)
            .fetch_optional(&self.write)
            .await?;
        row.as_ref().map(invitation_from_row).transpose()
    }

    /// The latest invitations created by the officers of a service point (all of them for
    /// `None`), newest first.
    pub async fn recent_invitations(&self, service_point: Option<&str>, limit: u32) -> Result<Vec<Invitation>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{INVITATION_COLUMNS}
             WHERE ?1 IS NULL OR i.created_by IN (SELECT id FROM users WHERE agency_code = ?1)
             ORDER BY i.id DESC LIMIT ?2"
        )))
        .bind(service_point)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(invitation_from_row).collect()
    }

    pub async fn invitation_by_token_hash(&self, token_hash: &str) -> Result<Option<Invitation>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{INVITATION_COLUMNS} WHERE i.token_hash = ?")))
            .bind(token_hash)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(invitation_from_row).transpose()
    }
}

impl Db {
    pub async fn add_api_key(&self, agency: &str, key_hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO api_keys (agency_code, key_hash, created_at) VALUES (?, ?, ?)")
            .bind(agency)
            .bind(key_hash)
            .bind(timestamp(Utc::now()))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The agency whose subtree a live API key covers.
    pub async fn api_key_agency(&self, key_hash: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT agency_code FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL")
            .bind(key_hash)
            .fetch_optional(&self.read)
            .await?)
    }
}
