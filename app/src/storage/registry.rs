//! The agency registry: agencies, their successors and the agencies each service point serves,
//! and CSV uploads waiting for an admin to apply them.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sqlx::Row;

use super::{insert_audit, on_conn, on_pool, timestamp, AsConn, Conn, Db, Engine, Result, StorageError};
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::registry::{fingerprint, NotSaved, RegistryEntry};
use crate::domain::{Agency, AgencyKind};

/// Agencies in tree order: parents before children, siblings by name.
const TREE_ORDER: &str = "WITH RECURSIVE tree (code, path) AS (
         SELECT code, name FROM agencies WHERE parent_code IS NULL
         UNION ALL
         SELECT a.code, t.path || ' / ' || a.name FROM agencies a JOIN tree t ON a.parent_code = t.code)
     SELECT a.code, a.name, a.kind, a.parent_code, a.valid_from, a.valid_to
     FROM agencies a JOIN tree t ON t.code = a.code
     ORDER BY t.path, a.code";

/// The PostgreSQL advisory lock a change of the registry holds until its COMMIT, so that the
/// registry it checks is the one it changes even with several servers.
const REGISTRY_LOCK: i64 = 0x6861_696c_6f6e_6752; // "hailong" and "R"

/// An upload of `/admin/agencies` waiting for its preview to be applied.
#[derive(Clone, Debug, PartialEq)]
pub struct StagedImport {
    pub id: i64,
    pub csv: String,
    /// The admin who uploaded it, the only one who may apply it.
    pub uploaded_by: String,
    pub applied: bool,
    /// `domain::registry::fingerprint` of the registry when it was uploaded; `None` for an
    /// upload kept from before migration 15.
    pub registry_fingerprint: Option<String>,
}

fn day(text: Option<String>) -> Result<Option<NaiveDate>> {
    text.map(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|e| StorageError::Corrupt(format!("date {t}: {e}"))))
        .transpose()
}

/// The columns of an [`Agency`].
#[derive(sqlx::FromRow)]
struct AgencyRow {
    code: String,
    name: String,
    kind: String,
    parent_code: Option<String>,
    valid_from: Option<String>,
    valid_to: Option<String>,
}

impl AgencyRow {
    fn into_agency(self) -> Result<Agency> {
        let kind = &self.kind;
        Ok(Agency {
            kind: AgencyKind::parse(kind).ok_or_else(|| StorageError::Corrupt(format!("agency kind {kind}")))?,
            code: self.code,
            name: self.name,
            parent: self.parent_code,
            valid_from: day(self.valid_from)?,
            valid_to: day(self.valid_to)?,
        })
    }
}

impl Db {
    /// All agencies, open and closed, in tree order.
    pub async fn agencies(&self) -> Result<Vec<Agency>> {
        let rows: Vec<AgencyRow> = on_pool!(&self.read, |p| sqlx::query_as(TREE_ORDER).fetch_all(p).await)?;
        rows.into_iter().map(AgencyRow::into_agency).collect()
    }

    pub async fn agency(&self, code: &str) -> Result<Option<Agency>> {
        let row: Option<AgencyRow> = on_pool!(&self.read, |p| sqlx::query_as(
            "SELECT code, name, kind, parent_code, valid_from, valid_to FROM agencies WHERE code = $1"
        )
        .bind(code)
        .fetch_optional(p)
        .await)?;
        row.map(AgencyRow::into_agency).transpose()
    }

    /// The agencies open on `day` whose dossiers `point` receives; a point that lists none
    /// serves itself.
    pub async fn served_agencies(&self, point: &str, day: NaiveDate) -> Result<Vec<Agency>> {
        let rows: Vec<AgencyRow> = on_pool!(&self.read, |p| {
            sqlx::query_as(
            "SELECT a.code, a.name, a.kind, a.parent_code, a.valid_from, a.valid_to FROM agencies a
             WHERE (a.code IN (SELECT agency_code FROM service_point_agencies WHERE service_point_code = $1)
                    OR (a.code = $1 AND NOT EXISTS (SELECT 1 FROM service_point_agencies WHERE service_point_code = $1)))
               AND (a.valid_from IS NULL OR a.valid_from <= $2) AND (a.valid_to IS NULL OR a.valid_to > $2)
             ORDER BY a.name",
        )
        .bind(point)
        .bind(day.to_string())
        .fetch_all(p)
        .await
        })?;
        rows.into_iter().map(AgencyRow::into_agency).collect()
    }

    /// The whole registry in tree order, each agency with its successors and served agencies.
    pub async fn registry(&self) -> Result<Vec<RegistryEntry>> {
        on_pool!(&self.read, |p| registry_on(p.acquire().await?.conn()).await)
    }

    /// Stores `entries` whole (agency, successors, served agencies) in one transaction with
    /// one audit line, and marks the upload `staged` applied. Foreign keys are checked at the
    /// commit, so entries may come in any order. Nothing is stored when `staged` was applied
    /// already, or when the registry's fingerprint is no longer `planned_on`, the registry the
    /// entries were planned against (compared inside the transaction, one change at a time).
    pub async fn save_registry(
        &self,
        entries: &[&RegistryEntry],
        planned_on: &str,
        staged: Option<i64>,
        actor: &Actor,
        action: AuditAction,
        subject: &str,
    ) -> Result<Result<(), NotSaved>> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            if self.engine() == Engine::Postgres {
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(REGISTRY_LOCK).execute(&mut *tx).await?;
            }
            sqlx::query(self.engine().defer_foreign_keys()).execute(&mut *tx).await?;
            if fingerprint(&registry_on(tx.conn()).await?) != planned_on {
                return Ok(Err(NotSaved::RegistryChanged));
            }
            if let Some(id) = staged {
                let marked =
                    sqlx::query("UPDATE agency_imports SET applied_at = $1 WHERE id = $2 AND applied_at IS NULL")
                        .bind(timestamp(Utc::now()))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                if marked.rows_affected() == 0 {
                    return Ok(Err(NotSaved::AlreadyApplied));
                }
            }
            for entry in entries {
                let a = &entry.agency;
                sqlx::query(
                    "INSERT INTO agencies (code, name, kind, parent_code, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                         parent_code = excluded.parent_code, valid_from = excluded.valid_from, valid_to = excluded.valid_to",
                )
                .bind(&a.code)
                .bind(&a.name)
                .bind(a.kind.as_str())
                .bind(&a.parent)
                .bind(a.valid_from.map(|d| d.to_string()))
                .bind(a.valid_to.map(|d| d.to_string()))
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM agency_successors WHERE agency_code = $1")
                    .bind(&a.code)
                    .execute(&mut *tx)
                    .await?;
                for (i, successor) in entry.successors.iter().enumerate() {
                    let share = entry.shares.get(i).map(|s| i64::from(*s));
                    sqlx::query(
                        "INSERT INTO agency_successors (agency_code, successor_code, share) VALUES ($1, $2, $3)",
                    )
                    .bind(&a.code)
                    .bind(successor)
                    .bind(share)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("DELETE FROM service_point_agencies WHERE service_point_code = $1")
                    .bind(&a.code)
                    .execute(&mut *tx)
                    .await?;
                for served in &entry.serves {
                    sqlx::query("INSERT INTO service_point_agencies (service_point_code, agency_code) VALUES ($1, $2)")
                        .bind(&a.code)
                        .bind(served)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            insert_audit(tx.conn(), actor, action, subject).await?;
            tx.commit().await?;
            Ok(Ok(()))
        })
    }

    /// Keeps an uploaded CSV for its preview, with the fingerprint of the registry it is
    /// previewed against; returns its id.
    pub async fn stage_import(&self, csv: &str, uploaded_by: &str, registry_fingerprint: &str) -> Result<i64> {
        Ok(on_pool!(&self.write, |p| sqlx::query_scalar(
            "INSERT INTO agency_imports (csv, uploaded_by, uploaded_at, registry_fingerprint)
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(csv)
        .bind(uploaded_by)
        .bind(timestamp(Utc::now()))
        .bind(registry_fingerprint)
        .fetch_one(p)
        .await)?)
    }

    pub async fn staged_import(&self, id: i64) -> Result<Option<StagedImport>> {
        on_pool!(&self.read, |p| {
            let row = sqlx::query(
                "SELECT id, csv, uploaded_by, applied_at, registry_fingerprint FROM agency_imports WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await?;
            Ok(row.map(|r| StagedImport {
                id: r.get("id"),
                csv: r.get("csv"),
                uploaded_by: r.get("uploaded_by"),
                applied: r.get::<Option<String>, _>("applied_at").is_some(),
                registry_fingerprint: r.get("registry_fingerprint"),
            }))
        })
    }
}

/// The whole registry in tree order as `conn` sees it (inside a transaction: as it will change).
async fn registry_on(conn: Conn<'_>) -> Result<Vec<RegistryEntry>> {
    let (agencies, successors, serves) = on_conn!(conn, |c| {
        let agencies: Vec<AgencyRow> = sqlx::query_as(TREE_ORDER).fetch_all(&mut *c).await?;
        let successors: Vec<(String, String, Option<i64>)> =
            sqlx::query_as("SELECT agency_code, successor_code, share FROM agency_successors ORDER BY successor_code")
                .fetch_all(&mut *c)
                .await?;
        let serves: Vec<(String, String)> =
            sqlx::query_as("SELECT service_point_code, agency_code FROM service_point_agencies ORDER BY agency_code")
                .fetch_all(&mut *c)
                .await?;
        (agencies, successors, serves)
    });
    let by_agency = |pairs: Vec<(String, String)>| {
        let mut grouped: HashMap<String, Vec<String>> = HashMap::new();
        for (agency, other) in pairs {
            grouped.entry(agency).or_default().push(other);
        }
        grouped
    };
    // a split's shares are stored for each successor or for none
    let mut shares: HashMap<String, Vec<u32>> = HashMap::new();
    for (agency, _, share) in &successors {
        if let Some(share) = share {
            let share = u32::try_from(*share).map_err(|_| StorageError::Corrupt(format!("share {share}")))?;
            shares.entry(agency.clone()).or_default().push(share);
        }
    }
    let successors = successors.into_iter().map(|(agency, successor, _)| (agency, successor)).collect();
    let (mut successors, mut serves) = (by_agency(successors), by_agency(serves));
    agencies
        .into_iter()
        .map(|row| {
            let agency = row.into_agency()?;
            let successors = successors.remove(&agency.code).unwrap_or_default();
            let shares = shares.remove(&agency.code).filter(|s| s.len() == successors.len()).unwrap_or_default();
            Ok(RegistryEntry { successors, shares, serves: serves.remove(&agency.code).unwrap_or_default(), agency })
        })
        .collect()
}
