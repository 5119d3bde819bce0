//! Comments on responses: the moderation queue and the approved ones. A comment is known by its
//! response's id, as the UUID text the client made (stored as 16 bytes).

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::responses::uuid_of;
use super::{hour_of, on_pool, Bind, Change, Db, Result};
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::comment::CommentStatus;

/// A comment, by the response it came with; never with its time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredComment {
    pub response_id: String,
    pub agency_code: String,
    pub text: String,
}

/// The columns of a response that make a [`StoredComment`].
#[derive(sqlx::FromRow)]
struct CommentRow {
    id: Vec<u8>,
    agency_code: String,
    comment: String,
}

impl CommentRow {
    fn into_comment(self) -> Result<StoredComment> {
        Ok(StoredComment {
            response_id: uuid_of(&self.id)?.to_string(),
            agency_code: self.agency_code,
            text: self.comment,
        })
    }
}

impl Db {
    /// Up to `limit` comments waiting for an admin, in id order (random: not the order they came).
    pub async fn pending_comments(&self, limit: u32) -> Result<(Vec<StoredComment>, u64)> {
        let rows: Vec<CommentRow> = on_pool!(&self.read, |p| sqlx::query_as(
            "SELECT id, agency_code, comment FROM responses
             WHERE comment IS NOT NULL AND comment_status = 'pending' ORDER BY id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(p)
        .await)?;
        let waiting: i64 = on_pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM responses WHERE comment IS NOT NULL AND comment_status = 'pending'",
        )
        .fetch_one(p)
        .await)?;
        Ok((rows.into_iter().map(CommentRow::into_comment).collect::<Result<_>>()?, waiting as u64))
    }

    /// Sets a comment's status (audit-logged); false when there is no such comment (or
    /// `response_id` is not a UUID).
    pub async fn set_comment_status(&self, response_id: &str, status: CommentStatus, actor: &Actor) -> Result<bool> {
        let Ok(id) = Uuid::try_parse(response_id) else { return Ok(false) };
        let change = Change::one(
            "UPDATE responses SET comment_status = $1 WHERE id = $2 AND comment IS NOT NULL",
            vec![Bind::from(status.as_str()), Bind::from(id.as_bytes().to_vec())],
        );
        let action = match status {
            CommentStatus::Approved => AuditAction::CommentApproved,
            _ => AuditAction::CommentHidden,
        };
        self.change_audited(change, actor, action, &id.to_string()).await
    }

    /// Approved comments of `agencies` answered in `[start, end)`, in id order.
    pub async fn approved_comments(
        &self,
        agencies: &[String],
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        limit: u32,
    ) -> Result<Vec<StoredComment>> {
        if agencies.is_empty() {
            return Ok(Vec::new());
        }
        on_pool!(&self.read, |p| {
            let mut query = QueryBuilder::new(
                "SELECT id, agency_code, comment FROM responses
             WHERE comment IS NOT NULL AND comment_status = 'approved' AND agency_code IN ",
            );
            query.push_tuples(agencies, |mut row, code| {
                row.push_bind(code.clone());
            });
            query.push(" AND hour >= ").push_bind(hour_of(start));
            query.push(" AND hour < ").push_bind(hour_of(end));
            query.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
            let rows: Vec<CommentRow> = query.build_query_as().fetch_all(p).await?;
            rows.into_iter().map(CommentRow::into_comment).collect()
        })
    }
}
