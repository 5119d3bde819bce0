//! Procedures and invitations.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{
    insert_audit, on_pool, parse_optional_time, parse_time, timestamp, AsConn, Bind, Change, Db, Result, StorageError,
};
use crate::domain::anomaly::AnomalyKind;
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::invitation::InvitationFlag;

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
    /// The officer who made it; `None` for the one-stop software's.
    pub created_by: Option<i64>,
    /// Until when its maker may show the link again.
    pub reprint_until: Option<DateTime<Utc>>,
    /// The link's token, sealed, while it may be re-printed or a message carrying it waits.
    pub link_sealed: Option<Vec<u8>>,
}

pub struct NewInvitation<'a> {
    pub dossier_code: &'a str,
    pub procedure_code: &'a str,
    pub agency_code: &'a str,
    pub created_by: Option<i64>,
    pub expires_at: DateTime<Utc>,
    pub token_hash: &'a str,
    pub link_sealed: &'a [u8],
    pub reprint_until: DateTime<Utc>,
}

/// How often each kind of flag was seen over some hours.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlagCounts {
    pub kiosks: Vec<(AnomalyKind, u64)>,
    pub officers: Vec<(InvitationFlag, u64)>,
}

/// An officer flag as the admin's integrity view lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct OfficerFlag {
    pub kind: InvitationFlag,
    /// The officer's username, if the flag names one.
    pub officer: Option<String>,
    /// The officer's service point.
    pub service_point: Option<String>,
    /// The dossier of the flagged invitation, with its competent agency.
    pub dossier: Option<(String, String)>,
    pub hour: DateTime<Utc>,
    pub occurrences: u64,
}

/// An invitation as [`INVITATION_COLUMNS`] selects it.
#[derive(sqlx::FromRow)]
struct InvitationRow {
    id: i64,
    dossier_code: String,
    procedure_name: String,
    agency_code: String,
    agency_name: String,
    created_at: String,
    expires_at: String,
    answered_at: Option<String>,
    created_by: Option<i64>,
    reprint_until: Option<String>,
    link_sealed: Option<Vec<u8>>,
}

impl InvitationRow {
    fn into_invitation(self) -> Result<Invitation> {
        Ok(Invitation {
            id: self.id,
            dossier_code: self.dossier_code,
            procedure_name: self.procedure_name,
            agency_code: self.agency_code,
            agency_name: self.agency_name,
            created_at: parse_time(&self.created_at)?,
            expires_at: parse_time(&self.expires_at)?,
            answered_at: parse_optional_time(self.answered_at)?,
            created_by: self.created_by,
            reprint_until: parse_optional_time(self.reprint_until)?,
            link_sealed: self.link_sealed,
        })
    }
}

const INVITATION_COLUMNS: &str =
    "SELECT i.id, i.dossier_code, p.name AS procedure_name, i.agency_code, a.name AS agency_name,
            i.created_at, i.expires_at, i.answered_at, i.created_by, i.reprint_until, i.link_sealed
     FROM invitations i JOIN procedures p ON p.code = i.procedure_code JOIN agencies a ON a.code = i.agency_code";

/// A flag as [`Db::invitation_flags`] selects it.
#[derive(sqlx::FromRow)]
struct FlagRow {
    kind: String,
    username: Option<String>,
    service_point: Option<String>,
    dossier_code: Option<String>,
    agency_code: Option<String>,
    hour: String,
    occurrences: i64,
}

impl FlagRow {
    fn into_flag(self) -> Result<OfficerFlag> {
        let kind = &self.kind;
        Ok(OfficerFlag {
            kind: InvitationFlag::parse(kind)
                .ok_or_else(|| StorageError::Corrupt(format!("invitation flag {kind}")))?,
            officer: self.username,
            service_point: self.service_point,
            dossier: self.dossier_code.zip(self.agency_code),
            hour: parse_time(&self.hour)?,
            occurrences: self.occurrences as u64,
        })
    }
}

impl Db {
    /// Adds or renames a procedure (audit-logged).
    pub async fn save_procedure(&self, code: &str, name: &str, actor: &Actor) -> Result<()> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "INSERT INTO procedures (code, name) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET name = excluded.name",
            )
            .bind(code)
            .bind(name)
            .execute(&mut *tx)
            .await?;
            insert_audit(tx.conn(), actor, AuditAction::ProcedureSaved, &format!("{code}: {name}")).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Active procedures, by name: (code, name).
    pub async fn procedures(&self) -> Result<Vec<(String, String)>> {
        on_pool!(&self.read, |p| {
            let rows =
                sqlx::query("SELECT code, name FROM procedures WHERE active = TRUE ORDER BY name").fetch_all(p).await?;
            Ok(rows.iter().map(|r| (r.get("code"), r.get("name"))).collect())
        })
    }

    /// Inserts an invitation unless its dossier has one, audit-logged as made by `actor`; returns
    /// the dossier's invitation either way and whether it is new.
    pub async fn insert_invitation(&self, new: &NewInvitation<'_>, actor: &Actor) -> Result<(Invitation, bool)> {
        let inserted = on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO invitations (dossier_code, procedure_code, agency_code, token_hash, created_by, created_at,
                     expires_at, link_sealed, reprint_until)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (agency_code, dossier_code) DO NOTHING",
            )
            .bind(new.dossier_code)
            .bind(new.procedure_code)
            .bind(new.agency_code)
            .bind(new.token_hash)
            .bind(new.created_by)
            .bind(timestamp(Utc::now()))
            .bind(timestamp(new.expires_at))
            .bind(new.link_sealed)
            .bind(timestamp(new.reprint_until))
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if inserted {
                let subject = format!("{} / {}", new.agency_code, new.dossier_code);
                insert_audit(tx.conn(), actor, AuditAction::InvitationCreated, &subject).await?;
            }
            tx.commit().await?;
            Ok::<_, StorageError>(inserted)
        })?;
        let invitation = self
            .invitation_by_dossier(new.agency_code, new.dossier_code)
            .await?
            .ok_or_else(|| StorageError::Corrupt(format!("invitation of {} vanished", new.dossier_code)))?;
        Ok((invitation, inserted))
    }

    /// How many invitations the officer `user_id` made from `since` on.
    pub async fn invitations_made_since(&self, user_id: i64, since: DateTime<Utc>) -> Result<u64> {
        let n: i64 = on_pool!(&self.write, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM invitations WHERE created_by = $1 AND created_at >= $2"
        )
        .bind(user_id)
        .bind(timestamp(since))
        .fetch_one(p)
        .await)?;
        Ok(n as u64)
    }

    /// Erases the sealed links whose re-print time is over and that no queued message still
    /// needs. Returns how many were erased.
    pub async fn forget_old_links(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(on_pool!(&self.write, |p| {
            sqlx::query(
            "UPDATE invitations SET link_sealed = NULL
             WHERE link_sealed IS NOT NULL AND (reprint_until IS NULL OR reprint_until <= $1)
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.invitation_id = invitations.id AND d.status = 'queued')",
        )
        .bind(timestamp(now))
        .execute(p)
        .await
        .map(|done| done.rows_affected())
        })?)
    }

    /// Counts one more `kind` flag on an officer and/or an invitation in the hour starting at `hour`.
    pub async fn record_invitation_flag(
        &self,
        kind: InvitationFlag,
        officer: Option<i64>,
        invitation: Option<i64>,
        hour: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let counted = sqlx::query(
                "UPDATE invitation_flags SET occurrences = occurrences + 1
                 WHERE kind = $1 AND officer_id IS NOT DISTINCT FROM $2 AND invitation_id IS NOT DISTINCT FROM $3
                   AND hour = $4",
            )
            .bind(kind.as_str())
            .bind(officer)
            .bind(invitation)
            .bind(timestamp(hour))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if counted == 0 {
                sqlx::query(
                    "INSERT INTO invitation_flags (kind, officer_id, invitation_id, hour) VALUES ($1, $2, $3, $4)",
                )
                .bind(kind.as_str())
                .bind(officer)
                .bind(invitation)
                .bind(timestamp(hour))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The latest officer flags, newest first.
    pub async fn invitation_flags(&self, limit: u32) -> Result<Vec<OfficerFlag>> {
        let rows: Vec<FlagRow> = on_pool!(&self.read, |p| {
            sqlx::query_as(
            "SELECT f.kind, u.username, u.agency_code AS service_point, i.dossier_code, i.agency_code, f.hour, f.occurrences
             FROM invitation_flags f LEFT JOIN users u ON u.id = f.officer_id LEFT JOIN invitations i ON i.id = f.invitation_id
             ORDER BY f.hour DESC, f.id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(p)
        .await
        })?;
        rows.into_iter().map(FlagRow::into_flag).collect()
    }

    /// Per agency, the invitations made from `from` until `until` and how many of those have
    /// been answered since: (agency, made, answered).
    pub async fn invitations_made(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<(String, u64, u64)>> {
        let rows: Vec<(String, i64, i64)> = on_pool!(&self.read, |p| sqlx::query_as(
            "SELECT agency_code, COUNT(*), COUNT(answered_at) FROM invitations
             WHERE created_at >= $1 AND created_at < $2 GROUP BY agency_code"
        )
        .bind(timestamp(from))
        .bind(timestamp(until))
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|(agency, made, answered)| (agency, made as u64, answered as u64)).collect())
    }

    /// How often each kind of kiosk flag and of officer flag was seen in the hours from `from`
    /// until `until`, for the report's data-quality section: kinds never seen are left out.
    pub async fn flag_counts(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<FlagCounts> {
        let rows: Vec<(String, String, i64)> = on_pool!(&self.read, |p| sqlx::query_as(
            "SELECT 'kiosk', kind, CAST(SUM(occurrences) AS BIGINT) FROM kiosk_anomalies
             WHERE hour >= $1 AND hour < $2 GROUP BY kind
             UNION ALL
             SELECT 'officer', kind, CAST(SUM(occurrences) AS BIGINT) FROM invitation_flags
             WHERE hour >= $1 AND hour < $2 GROUP BY kind"
        )
        .bind(timestamp(from))
        .bind(timestamp(until))
        .fetch_all(p)
        .await)?;
        let mut counts = FlagCounts::default();
        for (source, kind, n) in rows {
            let corrupt = || StorageError::Corrupt(format!("{source} flag {kind}"));
            if source == "kiosk" {
                counts.kiosks.push((AnomalyKind::parse(&kind).ok_or_else(corrupt)?, n as u64));
            } else {
                counts.officers.push((InvitationFlag::parse(&kind).ok_or_else(corrupt)?, n as u64));
            }
        }
        Ok(counts)
    }

    /// The officer `creator`, and the officers of the points receiving dossiers for `agency`, whose
    /// live session signed in from `ip`.
    pub async fn officers_signed_in_from(
        &self,
        ip: &str,
        creator: Option<i64>,
        agency: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        on_pool!(&self.write, |p| sqlx::query_scalar(
            "SELECT DISTINCT s.user_id FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.ip = $1 AND s.expires_at > $2
               AND (u.id = $3
                    OR u.agency_code IN (SELECT service_point_code FROM service_point_agencies WHERE agency_code = $4))
             ORDER BY s.user_id",
        )
        .bind(ip)
        .bind(timestamp(now))
        .bind(creator)
        .bind(agency)
        .fetch_all(p)
        .await
        .map_err(StorageError::from))
    }

    /// The invitation of a competent agency's dossier.
    pub async fn invitation_by_dossier(&self, agency_code: &str, dossier_code: &str) -> Result<Option<Invitation>> {
        let row: Option<InvitationRow> = on_pool!(&self.write, |p| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{INVITATION_COLUMNS} WHERE i.agency_code = $1 AND i.dossier_code = $2"
        )))
        .bind(agency_code)
        .bind(dossier_code)
        .fetch_optional(p)
        .await)?;
        row.map(InvitationRow::into_invitation).transpose()
    }

    /// The invitations of every agency that used this dossier code.
    pub async fn invitations_with_dossier_code(&self, dossier_code: &str) -> Result<Vec<Invitation>> {
        let rows: Vec<InvitationRow> = on_pool!(&self.read, |p| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{INVITATION_COLUMNS} WHERE i.dossier_code = $1 ORDER BY i.id"
        )))
        .bind(dossier_code)
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(InvitationRow::into_invitation).collect()
    }

    /// The latest invitations created by the officers of a service point (all of them for
    /// `None`), newest first.
    pub async fn recent_invitations(&self, service_point: Option<&str>, limit: u32) -> Result<Vec<Invitation>> {
        let rows: Vec<InvitationRow> = on_pool!(&self.read, |p| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{INVITATION_COLUMNS}
             WHERE $1 IS NULL OR i.created_by IN (SELECT id FROM users WHERE agency_code = $1)
             ORDER BY i.id DESC LIMIT $2"
        )))
        .bind(service_point)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(InvitationRow::into_invitation).collect()
    }

    pub async fn invitation_by_token_hash(&self, token_hash: &str) -> Result<Option<Invitation>> {
        let row: Option<InvitationRow> = on_pool!(&self.read, |p| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{INVITATION_COLUMNS} WHERE i.token_hash = $1"
        )))
        .bind(token_hash)
        .fetch_optional(p)
        .await)?;
        row.map(InvitationRow::into_invitation).transpose()
    }
}

/// An API key as the admin's list shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiKeyListing {
    pub id: i64,
    pub name: String,
    pub agency_code: String,
    pub agency_name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Db {
    pub async fn add_api_key(&self, agency: &str, name: &str, key_hash: &str, actor: &Actor) -> Result<i64> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_keys (agency_code, name, key_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(agency)
            .bind(name)
            .bind(key_hash)
            .bind(timestamp(Utc::now()))
            .fetch_one(&mut *tx)
            .await?;
            insert_audit(tx.conn(), actor, AuditAction::ApiKeyAdded, &format!("#{id} {name} ({agency})")).await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// The id of a live API key and the agency whose subtree it covers.
    pub async fn api_key(&self, key_hash: &str) -> Result<Option<(i64, String)>> {
        on_pool!(&self.read, |p| {
            let row = sqlx::query("SELECT id, agency_code FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
                .bind(key_hash)
                .fetch_optional(p)
                .await?;
            Ok(row.map(|r| (r.get("id"), r.get("agency_code"))))
        })
    }

    /// Notes that a key was used at `minute` (already truncated), once per minute at most.
    pub async fn touch_api_key(&self, id: i64, minute: DateTime<Utc>) -> Result<()> {
        let statement =
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)";
        self.touch(statement, id, minute).await
    }

    /// Every key, live ones first, newest first.
    pub async fn api_keys(&self) -> Result<Vec<ApiKeyListing>> {
        on_pool!(&self.read, |p| {
            let rows = sqlx::query(
                "SELECT k.id, k.name, k.agency_code, a.name AS agency_name, k.created_at, k.last_used_at, k.revoked_at
             FROM api_keys k JOIN agencies a ON a.code = k.agency_code
             ORDER BY k.revoked_at IS NOT NULL, k.id DESC",
            )
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(ApiKeyListing {
                        id: r.get("id"),
                        name: r.get("name"),
                        agency_code: r.get("agency_code"),
                        agency_name: r.get("agency_name"),
                        created_at: parse_time(r.get("created_at"))?,
                        last_used_at: parse_optional_time(r.get("last_used_at"))?,
                        revoked_at: parse_optional_time(r.get("revoked_at"))?,
                    })
                })
                .collect()
        })
    }

    /// Revokes a key: it answers 401 from now on.
    pub async fn revoke_api_key(&self, id: i64, actor: &Actor) -> Result<bool> {
        let revoke = Change::one(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            vec![Bind::from(timestamp(Utc::now())), Bind::from(id)],
        );
        self.change_audited(revoke, actor, AuditAction::ApiKeyRevoked, &format!("#{id}")).await
    }
}
