//! The delivery queue: survey links waiting to go out by SMS or e-mail.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{on_pool, parse_optional_time, parse_time, timestamp, Db, Engine, Result, StorageError};
use crate::domain::delivery::{DeliveryStatus, Medium};

/// A delivery as the officer, the API and the admin's outbox see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub invitation_id: i64,
    pub medium: Medium,
    pub recipient_hint: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A delivery the worker (or the admin's outbox) needs to send: with its contact and dossier.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingDelivery {
    pub delivery: Delivery,
    pub recipient: String,
    pub dossier_code: String,
    pub agency_code: String,
    pub agency_name: String,
    pub expires_at: DateTime<Utc>,
    /// The link's token, sealed; kept on the invitation while a message carrying it waits.
    pub link_sealed: Option<Vec<u8>>,
    /// The hash of the link's token, to check a link derived for an invitation made before
    /// migration 14.
    pub token_hash: String,
}

const DELIVERY_COLUMNS: &str = "d.id, d.invitation_id, d.medium, d.recipient_hint, d.status, d.attempts, d.last_error,
     d.created_at, d.sent_at";

/// The [`DELIVERY_COLUMNS`] of a delivery.
#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    invitation_id: i64,
    medium: String,
    recipient_hint: String,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    created_at: String,
    sent_at: Option<String>,
}

impl DeliveryRow {
    fn into_delivery(self) -> Result<Delivery> {
        let medium = &self.medium;
        let status = &self.status;
        Ok(Delivery {
            medium: Medium::parse(medium).ok_or_else(|| StorageError::Corrupt(format!("delivery medium {medium}")))?,
            status: DeliveryStatus::parse(status)
                .ok_or_else(|| StorageError::Corrupt(format!("delivery status {status}")))?,
            id: self.id,
            invitation_id: self.invitation_id,
            recipient_hint: self.recipient_hint,
            attempts: self.attempts.try_into().unwrap_or(u32::MAX),
            last_error: self.last_error,
            created_at: parse_time(&self.created_at)?,
            sent_at: parse_optional_time(self.sent_at)?,
        })
    }
}

/// A delivery with its contact and its invitation's dossier, to be sent.
#[derive(sqlx::FromRow)]
struct PendingRow {
    #[sqlx(flatten)]
    delivery: DeliveryRow,
    recipient: String,
    dossier_code: String,
    agency_code: String,
    agency_name: String,
    expires_at: String,
    link_sealed: Option<Vec<u8>>,
    token_hash: String,
}

impl PendingRow {
    fn into_pending(self) -> Result<PendingDelivery> {
        Ok(PendingDelivery {
            delivery: self.delivery.into_delivery()?,
            recipient: self.recipient,
            dossier_code: self.dossier_code,
            agency_code: self.agency_code,
            agency_name: self.agency_name,
            expires_at: parse_time(&self.expires_at)?,
            link_sealed: self.link_sealed,
            token_hash: self.token_hash,
        })
    }
}

fn media_list(media: &[Medium]) -> String {
    media.iter().map(|m| format!("'{}'", m.as_str())).collect::<Vec<_>>().join(", ")
}

impl Db {
    /// Queues a message to `recipient` unless the invitation already has one by this medium that
    /// is queued or sent; a failed or cancelled one is queued again with the new contact.
    /// Returns whether a message was queued.
    pub async fn queue_delivery(
        &self,
        invitation_id: i64,
        medium: Medium,
        recipient: &str,
        hint: &str,
    ) -> Result<bool> {
        let now = timestamp(Utc::now());
        let queued = on_pool!(&self.write, |p| sqlx::query(
            "INSERT INTO deliveries (invitation_id, medium, recipient, recipient_hint, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (invitation_id, medium) DO UPDATE SET
                 recipient = excluded.recipient, recipient_hint = excluded.recipient_hint, status = 'queued',
                 attempts = 0, next_attempt_at = excluded.next_attempt_at, last_error = NULL, sent_at = NULL
             WHERE deliveries.status IN ('failed', 'cancelled')",
        )
        .bind(invitation_id)
        .bind(medium.as_str())
        .bind(recipient)
        .bind(hint)
        .bind(&now)
        .bind(&now)
        .execute(p)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(queued == 1)
    }

    /// The deliveries of an invitation, SMS first.
    pub async fn deliveries_of(&self, invitation_id: i64) -> Result<Vec<Delivery>> {
        let rows: Vec<DeliveryRow> = on_pool!(&self.write, |p| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.invitation_id = $1 ORDER BY d.medium DESC"
        )))
        .bind(invitation_id)
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(DeliveryRow::into_delivery).collect()
    }

    /// Claims up to `limit` queued deliveries by one of `media` whose time has come, oldest
    /// first, for one sender: each is put off until `lease_until`, so that no other server's
    /// worker (nor this one's next round) sends it meanwhile. Sent or failed, the sender marks it
    /// before then; a server that dies while sending leaves it to be sent after the lease.
    pub async fn claim_due_deliveries(
        &self,
        media: &[Medium],
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PendingDelivery>> {
        if media.is_empty() {
            return Ok(Vec::new());
        }
        // PostgreSQL: rows another server is claiming are skipped, not waited for; the outer
        // condition is checked again on the row as that claim left it.
        let skip_locked = match self.engine() {
            Engine::Sqlite => "",
            Engine::Postgres => "FOR UPDATE SKIP LOCKED",
        };
        let due = format!("status = 'queued' AND medium IN ({}) AND next_attempt_at <= $1", media_list(media));
        let claim = format!(
            "UPDATE deliveries SET next_attempt_at = $2
             WHERE {due} AND id IN (SELECT id FROM deliveries WHERE {due}
                                    ORDER BY next_attempt_at, id LIMIT $3 {skip_locked})
             RETURNING id"
        );
        let select = format!(
            "SELECT {DELIVERY_COLUMNS}, d.recipient, i.dossier_code, i.agency_code, a.name AS agency_name, i.expires_at, i.link_sealed, i.token_hash
             FROM deliveries d JOIN invitations i ON i.id = d.invitation_id JOIN agencies a ON a.code = i.agency_code
             WHERE d.id = $1"
        );
        let rows: Vec<PendingRow> = on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let ids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(claim))
                .bind(timestamp(now))
                .bind(timestamp(lease_until))
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                rows.push(sqlx::query_as(sqlx::AssertSqlSafe(select.as_str())).bind(id).fetch_one(&mut *tx).await?);
            }
            tx.commit().await?;
            rows
        });
        let mut pending = rows.into_iter().map(PendingRow::into_pending).collect::<Result<Vec<_>>>()?;
        pending.sort_by_key(|p| p.delivery.id);
        Ok(pending)
    }

    /// When the next queued delivery by one of `media` falls due.
    pub async fn next_delivery_at(&self, media: &[Medium]) -> Result<Option<DateTime<Utc>>> {
        if media.is_empty() {
            return Ok(None);
        }
        let next: Option<String> = on_pool!(&self.write, |p| sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'queued' AND medium IN ({})",
            media_list(media)
        )))
        .fetch_one(p)
        .await)?;
        next.as_deref().map(parse_time).transpose()
    }

    /// Queued deliveries by a medium no gateway sends: the admin's outbox, oldest first.
    pub async fn outbox(&self, media: &[Medium]) -> Result<Vec<PendingDelivery>> {
        if media.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<PendingRow> = on_pool!(&self.read, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS}, d.recipient, i.dossier_code, i.agency_code, a.name AS agency_name, i.expires_at, i.link_sealed, i.token_hash
             FROM deliveries d JOIN invitations i ON i.id = d.invitation_id JOIN agencies a ON a.code = i.agency_code
             WHERE d.status = 'queued' AND d.medium IN ({}) ORDER BY d.created_at, d.id",
            media_list(media)
        )))
        .fetch_all(p)
        .await
        })?;
        rows.into_iter().map(PendingRow::into_pending).collect()
    }

    /// Records a delivered message and forgets its contact. `false` when it was no longer queued.
    pub async fn mark_delivery_sent(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let updated = on_pool!(&self.write, |p| sqlx::query(
            "UPDATE deliveries SET status = 'sent', recipient = NULL, sent_at = $1, attempts = attempts + 1,
                 last_error = NULL
             WHERE id = $2 AND status = 'queued'",
        )
        .bind(timestamp(at))
        .bind(id)
        .execute(p)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(updated == 1)
    }

    /// Records a failed try: tried again at `retry_at`, or, with `None`, failed for good (the
    /// contact is forgotten).
    pub async fn mark_delivery_failed(&self, id: i64, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()> {
        let query = match retry_at {
            Some(_) => {
                "UPDATE deliveries SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2
                 WHERE id = $3 AND status = 'queued'"
            }
            None => {
                "UPDATE deliveries SET attempts = attempts + 1, last_error = $1, status = 'failed', recipient = NULL,
                     next_attempt_at = COALESCE($2, next_attempt_at)
                 WHERE id = $3 AND status = 'queued'"
            }
        };
        on_pool!(&self.write, |p| sqlx::query(query)
            .bind(error)
            .bind(retry_at.map(timestamp))
            .bind(id)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Cancels what is still queued for answered or expired invitations and forgets every contact
    /// they still hold. Returns how many deliveries were cancelled.
    pub async fn cancel_closed_deliveries(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(on_pool!(&self.write, |p| sqlx::query(
            "UPDATE deliveries SET status = 'cancelled', recipient = NULL
             WHERE status = 'queued' AND invitation_id IN
                 (SELECT id FROM invitations WHERE answered_at IS NOT NULL OR expires_at <= $1)",
        )
        .bind(timestamp(now))
        .execute(p)
        .await
        .map(|done| done.rows_affected()))?)
    }

    /// The contacts still held, for tests and the privacy check: (delivery id, recipient).
    pub async fn stored_contacts(&self) -> Result<Vec<(i64, String)>> {
        on_pool!(&self.read, |p| {
            let rows = sqlx::query("SELECT id, recipient FROM deliveries WHERE recipient IS NOT NULL ORDER BY id")
                .fetch_all(p)
                .await?;
            Ok(rows.iter().map(|r| (r.get("id"), r.get("recipient"))).collect())
        })
    }
}
