//! Writing responses: one transaction per batch, multi-row INSERTs, idempotent on the client id.

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
    /// Its id was stored before with a different body: not stored (the client reused an id).
    Conflict,
}

/// Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
const ROWS_PER_INSERT: usize = 500;

impl Db {
    /// Stores `batch`, answers of the questionnaire laid out as `layout`, in one transaction
    /// with the report aggregates it adds to, and says what became of each entry.
    pub async fn insert_responses(&self, batch: &[NewResponse], layout: &Layout) -> Result<Vec<Outcome>> {
        let mut tx = self.write.begin().await?;
        let outcomes = insert_in(&mut tx, batch, layout).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    pub async fn count_responses(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM responses").fetch_one(&self.read).await?;
        Ok(n as u64)
    }

    pub async fn count_answers(&self) -> Result<u64> {
        let n: i64 =
            sqlx::query_scalar("SELECT COALESCE(SUM((SELECT COUNT(*) FROM json_each(answers))), 0) FROM responses")
                .fetch_one(&self.read)
                .await?;
        Ok(n as u64)
    }
}

/// Stores `batch` inside `tx`, with the aggregates, and says what became of each entry.
pub(super) async fn insert_in(
    tx: &mut SqliteConnection,
    batch: &[NewResponse],
    layout: &Layout,
) -> Result<Vec<Outcome>> {
    if let Some(other) = batch.iter().find(|r| r.response.questionnaire_version != layout.version) {
        let version = &other.response.questionnaire_version;
        return Err(StorageError::Corrupt(format!(
            "a response of questionnaire {version} written as {}",
            layout.version
        )));
    }
    let mut first_of_id = std::collections::HashSet::new();
    let candidates: Vec<&NewResponse> = batch.iter().filter(|r| first_of_id.insert(r.response.id)).collect();
    let mut inserted = std::collections::HashSet::new();
    for chunk in candidates.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO responses (id, questionnaire_version, agency_code, service_point_code, kiosk_id, channel, submitted_at, comment, comment_status, answers, expectations, profile, body_hash) ",
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
                .push_bind(r.response.comment.as_ref().map(|_| "pending"))
                .push_bind(as_object(&r.response.answers))
                .push_bind(as_object(&r.response.expectations))
                .push_bind(as_object(&r.response.profile))
                .push_bind(body_hash(&r.response));
        });
        insert.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
        let ids: Vec<String> = insert.build_query_scalar().fetch_all(&mut *tx).await?;
        inserted.extend(ids);
    }
    let fresh: Vec<&NewResponse> =
        candidates.into_iter().filter(|r| inserted.contains(&r.response.id.to_string())).collect();
    let tallies = tally_responses(
        layout,
        fresh.iter().map(|r| Counted {
            response: &r.response,
            service_point: &r.service_point,
            channel: r.channel,
            day: vietnam_day(r.submitted_at),
        }),
    );
    merge_tallies(&mut *tx, &tallies).await?;
    // Entries not stored now were stored before, or earlier in this batch: what they said then.
    let again: Vec<String> = batch
        .iter()
        .map(|r| r.response.id.to_string())
        .filter({
            let inserted = &inserted;
            let mut seen = std::collections::HashSet::new();
            move |id| !seen.insert(id.clone()) || !inserted.contains(id)
        })
        .collect();
    let stored_hashes = stored_hashes(tx, &again).await?;

    let mut reported = std::collections::HashSet::new();
    Ok(batch
        .iter()
        .map(|r| {
            let id = r.response.id.to_string();
            if inserted.contains(&id) && reported.insert(id.clone()) {
                Outcome::New
            } else {
                match stored_hashes.get(&id) {
                    Some(Some(stored)) if *stored != body_hash(&r.response) => Outcome::Conflict,
                    _ => Outcome::Repeat,
                }
            }
        })
        .collect())
}

/// What a response said, as 8 bytes of SHA-256 of its fields: a retry must say the same.
pub(crate) fn body_hash(response: &ValidResponse) -> i64 {
    use sha2::{Digest, Sha256};
    let said = serde_json::json!([
        response.agency,
        response.questionnaire_version,
        response.answers,
        response.expectations,
        response.profile,
        response.comment,
        response.day,
    ]);
    let digest = Sha256::digest(said.to_string().as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 digest has 32 bytes"))
}

/// The stored body hash of each of `ids` that is stored (`None` for rows older than the hash).
async fn stored_hashes(
    tx: &mut SqliteConnection,
    ids: &[String],
) -> Result<std::collections::HashMap<String, Option<i64>>> {
    let mut found = std::collections::HashMap::new();
    for chunk in ids.chunks(ROWS_PER_INSERT) {
        let mut select = QueryBuilder::<Sqlite>::new("SELECT id, body_hash FROM responses WHERE id IN ");
        select.push_tuples(chunk, |mut row, id| {
            row.push_bind(id);
        });
        let rows: Vec<(String, Option<i64>)> = select.build_query_as().fetch_all(&mut *tx).await?;
        found.extend(rows);
    }
    Ok(found)
}

/// `(code, value)` pairs as a JSON object, the way a response row holds its answers.
fn as_object<V: serde::Serialize>(pairs: &[(String, V)]) -> String {
    struct Object<'a, V>(&'a [(String, V)]);
    impl<V: serde::Serialize> serde::Serialize for Object<'_, V> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.iter().map(|(code, value)| (code, value)))
        }
    }
    serde_json::to_string(&Object(pairs)).expect("codes and values serialise")
}

/// A JSON object of a response row (`answers`, `expectations`, `profile`) read back as
/// `(code, value)` pairs, in stored order.
struct Pairs<V>(Vec<(String, V)>);

impl<'de, V: serde::Deserialize<'de>> serde::Deserialize<'de> for Pairs<V> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Visit<V>(std::marker::PhantomData<V>);
        impl<'de, V: serde::Deserialize<'de>> serde::de::Visitor<'de> for Visit<V> {
            type Value = Pairs<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of codes")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Pairs<V>, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// One response of a page as SQLite's `json_array` wrote it (see [`responses_after`]).
#[derive(serde::Deserialize)]
struct PageRow(String, String, String, String, String, String, u8, Pairs<Option<u8>>, Pairs<u8>, Pairs<String>);

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
    // The page comes back as one JSON text: a row crosses from SQLite's thread to ours with a
    // wake-up and copies of each value, and a page of rows that way costs more than the rest
    // of an export together.
    let page: String = sqlx::query_scalar(
        "SELECT json_group_array(json_array(id, questionnaire_version, agency_code, service_point_code, channel,
                                            submitted_at, comment IS NOT NULL, json(answers), json(expectations), json(profile))
                                 ORDER BY agency_code, submitted_at, id)
         FROM (SELECT * FROM responses
               WHERE (agency_code, submitted_at, id) > (?, ?, ?) AND (agency_code, submitted_at) < (?, ?)
               ORDER BY agency_code, submitted_at, id LIMIT ?)",
    )
    .bind(agency)
    .bind(at)
    .bind(id)
    .bind(last_agency)
    .bind(end)
    .bind(PAGE)
    .fetch_one(&mut *tx)
    .await?;
    let rows: Vec<PageRow> =
        serde_json::from_str(&page).map_err(|e| StorageError::Corrupt(format!("a page of responses: {e}")))?;
    rows.into_iter()
        .map(
            |PageRow(
                id,
                version,
                agency,
                service_point,
                channel,
                submitted_at,
                commented,
                answers,
                expectations,
                profile,
            )| {
                Ok(StoredResponse {
                    response: ValidResponse {
                        id: Uuid::parse_str(&id)
                            .map_err(|e| StorageError::Corrupt(format!("response id {id}: {e}")))?,
                        agency,
                        questionnaire_version: version,
                        answers: answers.0,
                        expectations: expectations.0,
                        profile: profile.0,
                        comment: (commented == 1).then(String::new),
                        day: None,
                    },
                    service_point,
                    channel: Channel::parse(&channel)
                        .ok_or_else(|| StorageError::Corrupt(format!("channel {channel}")))?,
                    submitted_at,
                })
            },
        )
        .collect()
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
