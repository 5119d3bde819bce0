//! Writing responses: one transaction per batch, multi-row INSERTs, idempotent on the client id.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use uuid::Uuid;

use super::aggregates::merge_tallies;
use super::{timestamp, Db, Result, StorageError};
use crate::domain::period::vietnam_day;
use crate::domain::submission::Channel;
use crate::domain::tally::{tally_responses, Counted, Layout};
use crate::domain::ValidResponse;

/// A validated response with where, how and when it was collected.
#[derive(Clone, Debug)]
pub struct NewResponse {
    pub response: ValidResponse,
    pub service_point: String,
    pub kiosk_id: Option<i64>,
    pub channel: Channel,
    pub submitted_at: DateTime<Utc>,
    /// The invitation a link response answers: marked answered in the same transaction. It is
    /// never stored on the response row.
    pub invitation_id: Option<i64>,
}

/// What became of one response of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Stored now.
    New,
    /// Its id was stored before (a retry), earlier or by an entry before it in the batch.
    Repeat,
    /// Its invitation was answered already or has expired: not stored.
    InvitationClosed,
}

/// Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
const ROWS_PER_INSERT: usize = 500;

impl Db {
    /// Stores `batch`, answers of the questionnaire laid out as `layout`, in one transaction
    /// with the report aggregates it adds to, and says what became of each entry.
    pub async fn insert_responses(&self, batch: &[NewResponse], layout: &Layout) -> Result<Vec<Outcome>> {
        if let Some(other) = batch.iter().find(|r| r.response.questionnaire_version != layout.version) {
            let version = &other.response.questionnaire_version;
            return Err(StorageError::Corrupt(format!(
                "a response of questionnaire {version} written as {}",
                layout.version
            )));
        }
        let mut first_of_id = std::collections::HashSet::new();
        let unique: Vec<&NewResponse> = batch.iter().filter(|r| first_of_id.insert(r.response.id)).collect();

        let mut tx = self.write.begin().await?;
        // A link response first claims its invitation; a retry of a stored one is a repeat.
        let mut closed = std::collections::HashSet::new();
        let mut candidates = Vec::with_capacity(unique.len());
        for r in unique {
            if let Some(invitation) = r.invitation_id {
                let id = r.response.id.to_string();
                let stored: Option<i64> = sqlx::query_scalar("SELECT 1 FROM responses WHERE id = ?")
                    .bind(&id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if stored.is_some() {
                    continue;
                }
                // answered_at to the hour, like submitted_at: the two must not pair up by time.
                let claimed = sqlx::query(
                    "UPDATE invitations SET answered_at = ? WHERE id = ? AND answered_at IS NULL AND expires_at > ?",
                )
                .bind(timestamp(r.submitted_at))
                .bind(invitation)
                .bind(timestamp(Utc::now()))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if claimed == 0 {
                    closed.insert(id);
                    continue;
                }
            }
            candidates.push(r);
        }
        let mut inserted = std::collections::HashSet::new();
        for chunk in candidates.chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO responses (id, questionnaire_version, agency_code, service_point_code, kiosk_id, channel, submitted_at, comment, comment_status) ",
            );
            insert.push_values(chunk, |mut row, r| {
                row.push_bind(r.response.id.to_string())
                    .push_bind(r.response.questionnaire_version.clone())
                    .push_bind(r.response.agency.clone())
                    .push_bind(r.service_point.clone())
                    .push_bind(r.kiosk_id)
                    .push_bind(r.channel.as_str())
                    .push_bind(timestamp(r.submitted_at))
                    .push_bind(r.response.comment.clone())
                    .push_bind(r.response.comment.as_ref().map(|_| "pending"));
            });
            insert.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
            let ids: Vec<String> = insert.build_query_scalar().fetch_all(&mut *tx).await?;
            inserted.extend(ids);
        }
        let fresh: Vec<&NewResponse> =
            candidates.into_iter().filter(|r| inserted.contains(&r.response.id.to_string())).collect();

        let id_of = |r: &NewResponse| r.response.id.to_string();
        let answers = fresh.iter().flat_map(|r| {
            r.response.answers.iter().map(move |(code, value)| (id_of(r), code.clone(), value.map(i64::from)))
        });
        insert_child_rows(&mut tx, "INSERT INTO answers (response_id, criterion_code, value) ", answers.collect())
            .await?;
        let expectations = fresh.iter().flat_map(|r| {
            r.response.expectations.iter().map(move |(code, value)| (id_of(r), code.clone(), i64::from(*value)))
        });
        insert_child_rows(
            &mut tx,
            "INSERT INTO expectation_answers (response_id, area_code, value) ",
            expectations.collect(),
        )
        .await?;
        let profile = fresh.iter().flat_map(|r| {
            r.response.profile.iter().map(move |(question, option)| (id_of(r), question.clone(), option.clone()))
        });
        insert_child_rows(
            &mut tx,
            "INSERT INTO profile_answers (response_id, question_code, option_code) ",
            profile.collect(),
        )
        .await?;
        let tallies = tally_responses(
            layout,
            fresh.iter().map(|r| Counted {
                response: &r.response,
                service_point: &r.service_point,
                channel: r.channel,
                day: vietnam_day(r.submitted_at),
            }),
        );
        merge_tallies(&mut tx, &tallies).await?;
        tx.commit().await?;

        let mut reported = std::collections::HashSet::new();
        Ok(batch
            .iter()
            .map(|r| {
                let id = r.response.id.to_string();
                if closed.contains(&id) {
                    Outcome::InvitationClosed
                } else if inserted.contains(&id) && reported.insert(id) {
                    Outcome::New
                } else {
                    Outcome::Repeat
                }
            })
            .collect())
    }

    pub async fn count_responses(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM responses").fetch_one(&self.read).await?;
        Ok(n as u64)
    }

    pub async fn count_answers(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM answers").fetch_one(&self.read).await?;
        Ok(n as u64)
    }
}

/// Inserts `(response id, code, value)` rows under `head` ("INSERT INTO t (a, b, c) ") in chunks.
async fn insert_child_rows<T>(tx: &mut SqliteConnection, head: &str, rows: Vec<(String, String, T)>) -> Result<()>
where
    T: for<'q> sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite> + Clone + Send + 'static,
{
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new(head);
        insert.push_values(chunk, |mut row, (id, code, value)| {
            row.push_bind(id.clone()).push_bind(code.clone()).push_bind(value.clone());
        });
        insert.build().execute(&mut *tx).await?;
    }
    Ok(())
}

/// A response as stored, read back (for a rebuild of the aggregates, for an export).
#[derive(Clone, Debug)]
pub struct StoredResponse {
    pub response: ValidResponse,
    pub service_point: String,
    pub channel: Channel,
    pub submitted_at: String,
}

/// Responses read per step of a rebuild or an export.
const PAGE: i64 = 500;

/// The next responses in (agency, time, id) order after `after` — up to `until` (agency, time)
/// when given — with their answers: responses of one agency and day come together.
pub(super) async fn responses_after(
    tx: &mut SqliteConnection,
    (agency, at, id): &(String, String, String),
    until: Option<(&str, &str)>,
) -> Result<Vec<StoredResponse>> {
    let (last_agency, end) = until.unwrap_or(("\u{10FFFF}", "9999"));
    let rows = sqlx::query(
        "SELECT id, questionnaire_version, agency_code, service_point_code, channel, submitted_at, comment IS NOT NULL AS commented
         FROM responses WHERE (agency_code, submitted_at, id) > (?, ?, ?) AND (agency_code, submitted_at) < (?, ?)
         ORDER BY agency_code, submitted_at, id LIMIT ?",
    )
    .bind(agency)
    .bind(at)
    .bind(id)
    .bind(last_agency)
    .bind(end)
    .bind(PAGE)
    .fetch_all(&mut *tx)
    .await?;
    let mut responses = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: &str = row.get("id");
        responses.push(StoredResponse {
            response: ValidResponse {
                id: Uuid::parse_str(id).map_err(|e| StorageError::Corrupt(format!("response id {id}: {e}")))?,
                agency: row.get("agency_code"),
                questionnaire_version: row.get("questionnaire_version"),
                answers: Vec::new(),
                expectations: Vec::new(),
                profile: Vec::new(),
                comment: row.get::<bool, _>("commented").then(String::new),
            },
            service_point: row.get("service_point_code"),
            channel: channel_of(row)?,
            submitted_at: row.get("submitted_at"),
        });
    }
    let ids: Vec<String> = rows.iter().map(|r| r.get::<String, _>("id")).collect();
    let place: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    for (table, columns) in [
        ("answers", "criterion_code, value"),
        ("expectation_answers", "area_code, value"),
        ("profile_answers", "question_code, option_code"),
    ] {
        if ids.is_empty() {
            break;
        }
        let mut select =
            QueryBuilder::<Sqlite>::new(format!("SELECT response_id, {columns} FROM {table} WHERE response_id IN "));
        select.push_tuples(&ids, |mut row, id| {
            row.push_bind(id.clone());
        });
        for row in select.build().fetch_all(&mut *tx).await? {
            let Some(&i) = place.get(row.get::<&str, _>(0)) else { continue };
            let response = &mut responses[i].response;
            let code: String = row.get(1);
            match table {
                "answers" => response.answers.push((code, row.get::<Option<u8>, _>(2))),
                "expectation_answers" => response.expectations.push((code, row.get::<u8, _>(2))),
                _ => response.profile.push((code, row.get::<String, _>(2))),
            }
        }
    }
    Ok(responses)
}

impl Db {
    /// The responses for `agency` answered in `[start, end)`, oldest first, a page at a time:
    /// `after` is the (time, id) of the last one read, empty at first.
    pub async fn responses_page(
        &self,
        agency: &str,
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        after: Option<(&str, &str)>,
    ) -> Result<Vec<StoredResponse>> {
        let mut connection = self.read.acquire().await?;
        let start = timestamp(start);
        let (at, id) = after.unwrap_or((&start, ""));
        let from = (agency.to_owned(), at.to_owned(), id.to_owned());
        // An empty id sorts before every id: the first page starts with the first response at `start`.
        responses_after(&mut connection, &from, Some((agency, &timestamp(end)))).await
    }
}

pub(super) fn channel_of(row: &sqlx::sqlite::SqliteRow) -> Result<Channel> {
    let text: &str = row.get("channel");
    Channel::parse(text).ok_or_else(|| StorageError::Corrupt(format!("channel {text}")))
}
