//! Kiosks: registration, pairing by one-time code, device tokens, revocation, what the limits
//! flagged. Codes and tokens are stored only as hashes.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{FromRow, QueryBuilder, Row};

use super::{
    insert_audit, on_conn, on_pool, parse_optional_time, parse_time, timestamp, AsConn, Bind, Change, Conn, Db, Result,
};
use crate::domain::anomaly::AnomalyKind;
use crate::domain::audit::{Actor, AuditAction};

/// A paired kiosk, as a request authenticated by its token sees it.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Kiosk {
    pub id: i64,
    /// The service point it stands in.
    pub agency_code: String,
    pub name: String,
}

/// A kiosk as the admin's list shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct KioskListing {
    pub kiosk: Kiosk,
    pub agency_name: String,
    pub paired: bool,
    pub pairing_expires_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub responses_today: u64,
}

/// A flag raised by the kiosk limits, per kiosk, kind and hour.
#[derive(Clone, Debug, PartialEq)]
pub struct Anomaly {
    pub kiosk_id: i64,
    pub kiosk_name: String,
    pub agency_name: String,
    pub kind: AnomalyKind,
    pub hour: DateTime<Utc>,
    pub occurrences: u64,
}

impl Db {
    /// Registers a kiosk waiting to be paired with the code whose hash is given.
    pub async fn add_kiosk(
        &self,
        agency: &str,
        name: &str,
        pairing_hash: &str,
        expires_at: DateTime<Utc>,
        actor: &Actor,
    ) -> Result<i64> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            forget_expired_codes(tx.conn()).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO kiosks (agency_code, name, pairing_code_hash, pairing_expires_at, created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(agency)
            .bind(name)
            .bind(pairing_hash)
            .bind(timestamp(expires_at))
            .bind(timestamp(Utc::now()))
            .fetch_one(&mut *tx)
            .await?;
            insert_audit(tx.conn(), actor, AuditAction::KioskAdded, &format!("#{id} {name} tại {agency}")).await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Gives a kiosk a new pairing code; its current token keeps working until the code is used.
    pub async fn repair_kiosk(
        &self,
        id: i64,
        pairing_hash: &str,
        expires_at: DateTime<Utc>,
        actor: &Actor,
    ) -> Result<bool> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            forget_expired_codes(tx.conn()).await?;
            let done = sqlx::query(
                "UPDATE kiosks SET pairing_code_hash = $1, pairing_expires_at = $2, pairing_failures = 0 WHERE id = $3",
            )
            .bind(pairing_hash)
            .bind(timestamp(expires_at))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            insert_audit(tx.conn(), actor, AuditAction::KioskRepairing, &format!("#{id}")).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Exchanges a live pairing code for a device token: the code is used up, an earlier token
    /// of the same kiosk stops working, a revoked kiosk comes back.
    pub async fn pair_kiosk(
        &self,
        pairing_hash: &str,
        token_hash: &str,
        now: DateTime<Utc>,
        actor: &Actor,
    ) -> Result<Option<Kiosk>> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let kiosk: Option<Kiosk> = sqlx::query_as(
                "UPDATE kiosks SET token_hash = $1, paired_at = $2, last_seen_at = $2, revoked_at = NULL,
                     pairing_code_hash = NULL, pairing_expires_at = NULL
                 WHERE pairing_code_hash = $3 AND pairing_expires_at > $2
                 RETURNING id, agency_code, name",
            )
            .bind(token_hash)
            .bind(timestamp(now))
            .bind(pairing_hash)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(kiosk) = kiosk else { return Ok(None) };
            insert_audit(tx.conn(), actor, AuditAction::KioskPaired, &format!("#{} {}", kiosk.id, kiosk.name)).await?;
            tx.commit().await?;
            Ok(Some(kiosk))
        })
    }

    /// Counts a wrong pairing code against every code pending now (a wrong code names none of
    /// them); the codes that reach `wrong_tries` die. Returns the ids of the kiosks whose code died.
    pub async fn count_wrong_pairing_code(&self, wrong_tries: i64) -> Result<Vec<i64>> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE kiosks SET pairing_failures = pairing_failures + 1 WHERE pairing_code_hash IS NOT NULL",
            )
            .execute(&mut *tx)
            .await?;
            let died: Vec<i64> = sqlx::query_scalar(
                "UPDATE kiosks SET pairing_code_hash = NULL, pairing_expires_at = NULL
                 WHERE pairing_code_hash IS NOT NULL AND pairing_failures >= $1 RETURNING id",
            )
            .bind(wrong_tries)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(died)
        })
    }

    pub async fn kiosk_by_token_hash(&self, token_hash: &str) -> Result<Option<Kiosk>> {
        Ok(on_pool!(&self.read, |p| sqlx::query_as(
            "SELECT id, agency_code, name FROM kiosks WHERE token_hash = $1 AND revoked_at IS NULL"
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await)?)
    }

    /// Notes that a kiosk was seen at `minute` (already truncated), once per minute at most.
    pub async fn touch_kiosk(&self, id: i64, minute: DateTime<Utc>) -> Result<()> {
        let statement =
            "UPDATE kiosks SET last_seen_at = $1 WHERE id = $2 AND (last_seen_at IS NULL OR last_seen_at < $1)";
        self.touch(statement, id, minute).await
    }

    /// Every kiosk, newest first, with how many responses it sent on `today` (a Vietnam day).
    pub async fn kiosks(&self, today: NaiveDate) -> Result<Vec<KioskListing>> {
        on_pool!(&self.read, |p| {
            let rows = sqlx::query(
                "SELECT k.id, k.agency_code, k.name, a.name AS agency_name, k.token_hash IS NOT NULL AS paired,
                    k.pairing_expires_at, k.last_seen_at, k.revoked_at, COALESCE(t.responses, 0) AS responses_today
             FROM kiosks k JOIN agencies a ON a.code = k.agency_code
             LEFT JOIN kiosk_days t ON t.kiosk_id = k.id AND t.day = $1
             ORDER BY k.revoked_at IS NOT NULL, a.name, k.name, k.id",
            )
            .bind(day_text(today))
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(KioskListing {
                        kiosk: Kiosk::from_row(r)?,
                        agency_name: r.get("agency_name"),
                        paired: r.get("paired"),
                        pairing_expires_at: parse_optional_time(r.get("pairing_expires_at"))?,
                        last_seen_at: parse_optional_time(r.get("last_seen_at"))?,
                        revoked_at: parse_optional_time(r.get("revoked_at"))?,
                        responses_today: r.get::<i64, _>("responses_today") as u64,
                    })
                })
                .collect()
        })
    }

    /// Renames a kiosk or moves it to another service point.
    pub async fn update_kiosk(&self, id: i64, name: &str, agency: &str, actor: &Actor) -> Result<bool> {
        let update = Change::one(
            "UPDATE kiosks SET name = $1, agency_code = $2 WHERE id = $3",
            vec![Bind::from(name), Bind::from(agency), Bind::from(id)],
        );
        self.change_audited(update, actor, AuditAction::KioskUpdated, &format!("#{id} {name} tại {agency}")).await
    }

    /// Revokes a kiosk: its token and any pending code stop working at once.
    pub async fn revoke_kiosk(&self, id: i64, actor: &Actor) -> Result<bool> {
        let revoke = Change::one(
            "UPDATE kiosks SET token_hash = NULL, pairing_code_hash = NULL, pairing_expires_at = NULL, revoked_at = $1
             WHERE id = $2 AND revoked_at IS NULL",
            vec![Bind::from(timestamp(Utc::now())), Bind::from(id)],
        );
        self.change_audited(revoke, actor, AuditAction::KioskRevoked, &format!("#{id}")).await
    }

    /// Kiosks still working (paired or waiting to pair) at each of `agencies`: (agency, count).
    pub async fn live_kiosks_at(&self, agencies: &[String]) -> Result<Vec<(String, u64)>> {
        let mut counts = Vec::new();
        for agency in agencies {
            let n: i64 = on_pool!(&self.read, |p| sqlx::query_scalar(
                "SELECT COUNT(*) FROM kiosks WHERE agency_code = $1 AND revoked_at IS NULL"
            )
            .bind(agency)
            .fetch_one(p)
            .await)?;
            if n > 0 {
                counts.push((agency.clone(), n as u64));
            }
        }
        Ok(counts)
    }

    /// Counts one more occurrence of `kind` for a kiosk in the hour starting at `hour`.
    pub async fn record_anomaly(&self, kiosk_id: i64, kind: AnomalyKind, hour: DateTime<Utc>) -> Result<()> {
        on_pool!(&self.write, |p| sqlx::query(
            "INSERT INTO kiosk_anomalies (kiosk_id, kind, hour) VALUES ($1, $2, $3)
             ON CONFLICT (kiosk_id, kind, hour) DO UPDATE SET occurrences = kiosk_anomalies.occurrences + 1",
        )
        .bind(kiosk_id)
        .bind(kind.as_str())
        .bind(timestamp(hour))
        .execute(p)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// The latest flags, newest first.
    pub async fn anomalies(&self, limit: u32) -> Result<Vec<Anomaly>> {
        on_pool!(&self.read, |p| {
            let rows = sqlx::query(
                "SELECT n.kiosk_id, k.name AS kiosk_name, a.name AS agency_name, n.kind, n.hour, n.occurrences
             FROM kiosk_anomalies n JOIN kiosks k ON k.id = n.kiosk_id JOIN agencies a ON a.code = k.agency_code
             ORDER BY n.hour DESC, n.id DESC LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|r| {
                    let kind: String = r.get("kind");
                    Ok(Anomaly {
                        kiosk_id: r.get("kiosk_id"),
                        kiosk_name: r.get("kiosk_name"),
                        agency_name: r.get("agency_name"),
                        kind: AnomalyKind::parse(&kind)
                            .ok_or_else(|| super::StorageError::Corrupt(format!("anomaly kind {kind}")))?,
                        hour: parse_time(r.get("hour"))?,
                        occurrences: r.get::<i64, _>("occurrences") as u64,
                    })
                })
                .collect()
        })
    }
}

/// How `kiosk_days` writes a Vietnam day: `2026-11-30`.
fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// Adds one response to its kiosk's count of each (kiosk, Vietnam day) in `responses`, inside
/// the writer's transaction: one small row per kiosk and day instead of an index entry per
/// response.
pub(super) async fn count_kiosk_days(
    mut tx: Conn<'_>,
    responses: impl Iterator<Item = (i64, NaiveDate)>,
) -> Result<()> {
    let mut days: BTreeMap<(i64, NaiveDate), i64> = BTreeMap::new();
    for key in responses {
        *days.entry(key).or_default() += 1;
    }
    let days: Vec<_> = days.into_iter().collect();
    // Usually one statement of one row: a batch comes from a few kiosks on one day.
    for chunk in days.chunks(1000) {
        on_conn!(tx.reborrow(), |c| {
            let mut upsert = QueryBuilder::new("INSERT INTO kiosk_days (kiosk_id, day, responses) ");
            upsert.push_values(chunk, |mut row, ((kiosk, day), n)| {
                row.push_bind(*kiosk).push_bind(day_text(*day)).push_bind(*n);
            });
            upsert.push(
                " ON CONFLICT (kiosk_id, day) DO UPDATE SET responses = kiosk_days.responses + excluded.responses",
            );
            upsert.build().execute(&mut *c).await?;
        });
    }
    Ok(())
}

/// Pending codes past their time are dropped, so they can neither be used nor collide.
async fn forget_expired_codes(tx: Conn<'_>) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query(
            "UPDATE kiosks SET pairing_code_hash = NULL, pairing_expires_at = NULL WHERE pairing_expires_at <= $1",
        )
        .bind(timestamp(Utc::now()))
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}
