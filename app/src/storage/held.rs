//! Link answers held between their invitation's claim and the mixed batch that stores them
//! (`service::mixer`): storage sees only opaque sealed bytes and keyed tags.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

use super::responses::{insert_in, NewResponse, Outcome};
use super::{on_pool, timestamp, AsConn, Db, Result};
use crate::domain::tally::Layout;

/// What became of an answer given on a link.
#[derive(Debug)]
pub enum Held {
    /// Its invitation is claimed and the sealed answer is held, in one transaction.
    New,
    /// Its id was stored before (in a batch already): the stored body hash, if known.
    StoredBefore(Option<i64>),
    /// Its id is held already: the sealed answer held, to compare with.
    HeldBefore(Vec<u8>),
    /// Its invitation was answered already or has expired.
    Closed,
}

/// One held answer, as stored.
pub struct HeldAnswer {
    pub id_tag: Vec<u8>,
    pub sealed: Vec<u8>,
}

impl Db {
    /// Claims `invitation` and holds the sealed answer `id` (tagged `id_tag`), in one transaction
    /// that holds nothing else; a retry of an answer held or stored already claims nothing.
    pub async fn hold_link_answer(
        &self,
        invitation: i64,
        id: &uuid::Uuid,
        id_tag: &[u8],
        sealed: &[u8],
        hour: DateTime<Utc>,
    ) -> Result<Held> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let stored: Option<Option<i64>> = sqlx::query_scalar("SELECT body_hash FROM responses WHERE id = $1")
                .bind(id.as_bytes().as_slice())
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(hash) = stored {
                return Ok(Held::StoredBefore(hash));
            }
            let held: Option<Vec<u8>> = sqlx::query_scalar("SELECT sealed FROM held_link_answers WHERE id_tag = $1")
                .bind(id_tag)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(sealed) = held {
                return Ok(Held::HeldBefore(sealed));
            }
            // answered_at to the hour, like submitted_at: the two must not pair up by time.
            let claimed = sqlx::query(
                "UPDATE invitations SET answered_at = $1 WHERE id = $2 AND answered_at IS NULL AND expires_at > $3",
            )
            .bind(timestamp(hour))
            .bind(invitation)
            .bind(timestamp(Utc::now()))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                return Ok(Held::Closed);
            }
            sqlx::query("INSERT INTO held_link_answers (id_tag, sealed, held_since) VALUES ($1, $2, $3)")
                .bind(id_tag)
                .bind(sealed)
                .bind(timestamp(hour))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Held::New)
        })
    }

    /// How many answers are held now.
    pub async fn count_held_answers(&self) -> Result<u64> {
        let n: i64 =
            on_pool!(&self.read, |p| sqlx::query_scalar("SELECT COUNT(*) FROM held_link_answers").fetch_one(p).await)?;
        Ok(n as u64)
    }

    /// The held answers that came in before `before` (all of them with `None`).
    pub async fn held_answers(&self, before: Option<DateTime<Utc>>) -> Result<Vec<HeldAnswer>> {
        let before = before.map_or_else(|| "9999".to_owned(), timestamp);
        let rows: Vec<(Vec<u8>, Vec<u8>)> = on_pool!(&self.read, |p| sqlx::query_as(
            "SELECT id_tag, sealed FROM held_link_answers WHERE held_since < $1"
        )
        .bind(before)
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|(id_tag, sealed)| HeldAnswer { id_tag, sealed }).collect())
    }

    /// Stores `batch` (the opened held answers, in a shuffled order) with their aggregates and
    /// deletes the held rows `tags`, in one transaction. Tags no longer held (another release
    /// took them) are left out of the batch by the caller's retry: nothing is stored twice,
    /// since a response id is stored once.
    pub async fn release_held_answers(
        &self,
        batch: &[NewResponse],
        tags: &[Vec<u8>],
        layout: &Layout,
    ) -> Result<Vec<Outcome>> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let outcomes = insert_in(tx.conn(), batch, layout).await?;
            for chunk in tags.chunks(500) {
                let mut delete = QueryBuilder::new("DELETE FROM held_link_answers WHERE id_tag IN ");
                delete.push_tuples(chunk, |mut row, tag| {
                    row.push_bind(tag);
                });
                delete.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(outcomes)
        })
    }
}
