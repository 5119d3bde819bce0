//! Writing responses: one transaction per batch, multi-row INSERTs, idempotent on the client id;
//! reading them back in (agency, hour, id) order for exports and rebuilds.
//!
//! A row is keyed by (agency, hour, id): appends cluster by agency and hour, and inside an hour
//! the order is that of the client's random id, not of arrival (docs/privacy.md). The id is 16
//! bytes, the hour an integer, the answers packed one character each (`packed`).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::aggregates::merge_tallies;
use super::kiosks::count_kiosk_days;
use super::packed::{pack, unpack, Packed};
use super::{hour_of, on_conn, on_pool, start_of_hour, AsConn, Conn, Db, Result, StorageError};
use crate::domain::period::vietnam_day;
use crate::domain::submission::Channel;
use crate::domain::tally::{tally_responses, Counted, Layout, Tally, TallyKey};
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

/// The PostgreSQL advisory lock a batch of responses holds while it adds to the aggregates.
pub(super) const WRITER_LOCK: i64 = 0x6861_696c_6f6e_6701; // "hailong" and 1

/// Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
const ROWS_PER_INSERT: usize = 500;

impl Db {
    /// Stores `batch`, answers of the questionnaire laid out as `layout`, in one transaction
    /// with the report aggregates it adds to, and says what became of each entry.
    pub async fn insert_responses(&self, batch: &[NewResponse], layout: &Layout) -> Result<Vec<Outcome>> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let outcomes = insert_in(tx.conn(), batch, layout).await?;
            tx.commit().await?;
            Ok(outcomes)
        })
    }

    pub async fn count_responses(&self) -> Result<u64> {
        let n: i64 = on_pool!(&self.read, |p| sqlx::query_scalar("SELECT COUNT(*) FROM responses").fetch_one(p).await)?;
        Ok(n as u64)
    }

    /// Criteria answered or skipped, over every response (a criterion not shown is not counted).
    pub async fn count_answers(&self) -> Result<u64> {
        let n: i64 = on_pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT COALESCE(SUM(length(replace(answers, '.', ''))), 0) FROM responses"
        )
        .fetch_one(p)
        .await)?;
        Ok(n as u64)
    }
}

/// Stores `batch` inside `tx`, with the aggregates and the kiosks' day counts, and says what
/// became of each entry.
pub(super) async fn insert_in(mut tx: Conn<'_>, batch: &[NewResponse], layout: &Layout) -> Result<Vec<Outcome>> {
    if let Some(other) = batch.iter().find(|r| r.response.questionnaire_version != layout.version) {
        let version = &other.response.questionnaire_version;
        return Err(StorageError::Corrupt(format!(
            "a response of questionnaire {version} written as {}",
            layout.version
        )));
    }
    if let Conn::Postgres(c) = &mut tx {
        // The aggregates are read, added to and written back: on PostgreSQL, where several
        // servers write, one batch at a time (a lock held until the transaction ends).
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITER_LOCK).execute(&mut **c).await?;
    }
    let mut first_of_id = HashSet::new();
    let candidates: Vec<&NewResponse> = batch.iter().filter(|r| first_of_id.insert(r.response.id)).collect();
    let mut inserted = HashSet::with_capacity(candidates.len());
    for chunk in candidates.chunks(ROWS_PER_INSERT) {
        inserted.extend(insert_rows(tx.reborrow(), chunk, layout).await?);
    }
    let fresh: Vec<&NewResponse> = candidates.into_iter().filter(|r| inserted.contains(&r.response.id)).collect();
    let tallies = tally_responses(
        layout,
        fresh.iter().map(|r| Counted {
            response: &r.response,
            service_point: &r.service_point,
            channel: r.channel,
            day: vietnam_day(r.submitted_at),
        }),
    );
    merge_tallies(tx.reborrow(), &tallies, &[layout]).await?;
    count_kiosk_days(tx.reborrow(), fresh.iter().filter_map(|r| Some((r.kiosk_id?, vietnam_day(r.submitted_at)))))
        .await?;
    outcomes(tx, batch, &inserted).await
}

/// Inserts `rows` (of distinct ids) in one statement, leaving out those whose id is stored
/// already; returns the ids stored now.
async fn insert_rows(tx: Conn<'_>, rows: &[&NewResponse], layout: &Layout) -> Result<Vec<Uuid>> {
    let rows = rows
        .iter()
        .map(|r| Ok((*r, pack(layout, &r.response.answers, &r.response.expectations, &r.response.profile)?)))
        .collect::<Result<Vec<(&NewResponse, Packed)>>>()?;
    on_conn!(tx, |c| {
        let mut insert = QueryBuilder::new(
        "INSERT INTO responses (agency_code, hour, id, questionnaire_version, service_point_code, kiosk_id, channel,
                                answers, expectations, profile, body_hash, comment, comment_status) ",
    );
        insert.push_values(rows, |mut row, (r, packed)| {
            row.push_bind(r.response.agency.as_str())
                .push_bind(hour_of(r.submitted_at))
                .push_bind(r.response.id.as_bytes().as_slice())
                .push_bind(r.response.questionnaire_version.as_str())
                .push_bind(r.service_point.as_str())
                .push_bind(r.kiosk_id)
                .push_bind(channel_code(r.channel))
                .push_bind(packed.answers)
                .push_bind(packed.expectations)
                .push_bind(packed.profile)
                .push_bind(body_hash(&r.response))
                .push_bind(r.response.comment.as_deref())
                .push_bind(r.response.comment.as_ref().map(|_| "pending"));
        });
        // Any conflict is the id's: it is unique, and the primary key holds it.
        insert.push(" ON CONFLICT DO NOTHING RETURNING id");
        let ids: Vec<Vec<u8>> = insert.build_query_scalar().fetch_all(&mut *c).await?;
        ids.iter().map(|id| uuid_of(id)).collect()
    })
}

/// What became of each entry of `batch`, `inserted` being the ids stored now. An entry not
/// stored now was stored before, or earlier in this batch: it is compared with what it said then.
async fn outcomes(tx: Conn<'_>, batch: &[NewResponse], inserted: &HashSet<Uuid>) -> Result<Vec<Outcome>> {
    let mut seen = HashSet::new();
    let again: Vec<Uuid> =
        batch.iter().map(|r| r.response.id).filter(|id| !inserted.contains(id) || !seen.insert(*id)).collect();
    let stored_hashes = stored_hashes(tx, &again).await?;
    let mut reported = HashSet::new();
    Ok(batch
        .iter()
        .map(|r| {
            let id = r.response.id;
            if inserted.contains(&id) && reported.insert(id) {
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
async fn stored_hashes(mut tx: Conn<'_>, ids: &[Uuid]) -> Result<HashMap<Uuid, Option<i64>>> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_INSERT) {
        let rows: Vec<(Vec<u8>, Option<i64>)> = on_conn!(tx.reborrow(), |c| {
            let mut select = QueryBuilder::new("SELECT id, body_hash FROM responses WHERE id IN ");
            select.push_tuples(chunk, |mut row, id| {
                row.push_bind(id.as_bytes().as_slice());
            });
            select.build_query_as().fetch_all(&mut *c).await?
        });
        for (id, hash) in rows {
            found.insert(uuid_of(&id)?, hash);
        }
    }
    Ok(found)
}

/// A stored id (16 bytes) as the UUID the client made.
pub(super) fn uuid_of(bytes: &[u8]) -> Result<Uuid> {
    Uuid::from_slice(bytes).map_err(|e| StorageError::Corrupt(format!("a response id of {} bytes: {e}", bytes.len())))
}

/// How a response row keeps its channel: 0 kiosk, 1 link (SQLite stores both in no bytes).
fn channel_code(channel: Channel) -> i64 {
    match channel {
        Channel::Kiosk => 0,
        Channel::Link => 1,
    }
}

fn channel_from_code(code: i64) -> Result<Channel> {
    match code {
        0 => Ok(Channel::Kiosk),
        1 => Ok(Channel::Link),
        other => Err(StorageError::Corrupt(format!("channel {other}"))),
    }
}

/// One response of a page as SQLite's `json_array` wrote it (see [`responses_after`]): agency,
/// hour, id in hex, version, service point, channel, whether it has a comment, packed answers.
#[derive(serde::Deserialize)]
struct PageRow(String, i64, String, String, String, i64, u8, String, String, String);

/// A response as stored, read back (for a rebuild of the aggregates, for an export).
#[derive(Clone, Debug)]
pub struct StoredResponse {
    pub response: ValidResponse,
    pub service_point: String,
    pub channel: Channel,
    /// The start of the hour it was answered in.
    pub submitted_at: DateTime<Utc>,
}

/// Where a reading in (agency, hour, id) order has got to: the next page starts after it.
#[derive(Clone, Debug)]
pub(super) struct Cursor {
    agency: String,
    hour: i64,
    id: Vec<u8>,
}

impl Cursor {
    /// Before every response.
    pub(super) fn start() -> Self {
        Self { agency: String::new(), hour: i64::MIN, id: Vec::new() }
    }

    /// Just after `stored`.
    pub(super) fn after(stored: &StoredResponse) -> Self {
        Self {
            agency: stored.response.agency.clone(),
            hour: hour_of(stored.submitted_at),
            id: stored.response.id.as_bytes().to_vec(),
        }
    }
}

/// Responses read per step of a rebuild or an export.
const PAGE: i64 = 500;

/// The next responses in (agency, hour, id) order after `after` — up to `until` (agency, hour)
/// when given — with their answers, read in the layout of their questionnaire version.
pub(super) async fn responses_after(
    tx: Conn<'_>,
    after: &Cursor,
    until: Option<(&str, i64)>,
    layouts: &HashMap<String, Layout>,
) -> Result<Vec<StoredResponse>> {
    let (last_agency, end) = until.unwrap_or(("\u{10FFFF}", i64::MAX));
    let tx = match tx {
        Conn::Sqlite(tx) => tx,
        Conn::Postgres(tx) => return pg_responses_after(tx, after, (last_agency, end), layouts).await,
    };
    // The page comes back as one JSON text: a row crosses from SQLite's thread to ours with a
    // wake-up and copies of each value, and a page of rows that way costs more than the rest
    // of an export together.
    let page: String = sqlx::query_scalar(
        "SELECT json_group_array(json_array(agency_code, hour, hex(id), questionnaire_version, service_point_code,
                                            channel, comment IS NOT NULL, answers, expectations, profile)
                                 ORDER BY agency_code, hour, id)
         FROM (SELECT * FROM responses
               WHERE (agency_code, hour, id) > ($1, $2, $3) AND (agency_code, hour) < ($4, $5)
               ORDER BY agency_code, hour, id LIMIT $6)",
    )
    .bind(after.agency.as_str())
    .bind(after.hour)
    .bind(after.id.as_slice())
    .bind(last_agency)
    .bind(end)
    .bind(PAGE)
    .fetch_one(&mut *tx)
    .await?;
    let rows: Vec<PageRow> =
        serde_json::from_str(&page).map_err(|e| StorageError::Corrupt(format!("a page of responses: {e}")))?;
    rows.into_iter().map(|row| stored_response(row, layouts)).collect()
}

/// [`responses_after`] on PostgreSQL, whose rows come over the wire already: no JSON.
async fn pg_responses_after(
    tx: &mut sqlx::PgConnection,
    after: &Cursor,
    (last_agency, end): (&str, i64),
    layouts: &HashMap<String, Layout>,
) -> Result<Vec<StoredResponse>> {
    let rows: Vec<WireRow> = sqlx::query_as(
        "SELECT agency_code, hour, id, questionnaire_version, service_point_code, channel, comment IS NOT NULL,
                answers, expectations, profile
         FROM responses
         WHERE (agency_code, hour, id) > ($1, $2, $3) AND (agency_code, hour) < ($4, $5)
         ORDER BY agency_code, hour, id LIMIT $6",
    )
    .bind(after.agency.as_str())
    .bind(after.hour)
    .bind(after.id.as_slice())
    .bind(last_agency)
    .bind(end)
    .bind(PAGE)
    .fetch_all(&mut *tx)
    .await?;
    rows.into_iter().map(|row| stored_response(row.into(), layouts)).collect()
}

/// A response's columns as an engine hands them over row by row (see [`PageRow`]).
type WireRow = (String, i64, Vec<u8>, String, String, i64, bool, String, String, String);

impl From<WireRow> for PageRow {
    fn from(row: WireRow) -> Self {
        let (agency, hour, id, version, point, channel, commented, answers, expectations, profile) = row;
        PageRow(
            agency,
            hour,
            hex::encode(id),
            version,
            point,
            channel,
            commented.into(),
            answers,
            expectations,
            profile,
        )
    }
}

fn stored_response(row: PageRow, layouts: &HashMap<String, Layout>) -> Result<StoredResponse> {
    let PageRow(agency, hour, id, version, service_point, channel, commented, answers, expectations, profile) = row;
    let layout = layouts.get(&version).ok_or_else(|| StorageError::Corrupt(format!("questionnaire {version}")))?;
    let (answers, expectations, profile) = unpack(layout, &Packed { answers, expectations, profile })?;
    Ok(StoredResponse {
        response: ValidResponse {
            id: Uuid::try_parse(&id).map_err(|e| StorageError::Corrupt(format!("response id {id}: {e}")))?,
            agency,
            questionnaire_version: version,
            answers,
            expectations,
            profile,
            comment: (commented == 1).then(String::new),
            day: None,
        },
        service_point,
        channel: channel_from_code(channel)?,
        submitted_at: start_of_hour(hour)?,
    })
}

impl Db {
    /// The responses for `agency` answered in `[start, end)`, oldest hour first, a page at a
    /// time: `after` is the (time, id) of the last one read. `layouts` are those of every
    /// questionnaire version stored.
    pub async fn responses_page(
        &self,
        agency: &str,
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        after: Option<(DateTime<Utc>, Uuid)>,
        layouts: &HashMap<String, Layout>,
    ) -> Result<Vec<StoredResponse>> {
        // An empty id sorts before every id: the first page starts with the first response at `start`.
        let from = match after {
            Some((at, id)) => Cursor { agency: agency.to_owned(), hour: hour_of(at), id: id.as_bytes().to_vec() },
            None => Cursor { agency: agency.to_owned(), hour: hour_of(start), id: Vec::new() },
        };
        on_pool!(&self.read, |p| {
            let mut connection = p.acquire().await?;
            responses_after(connection.conn(), &from, Some((agency, hour_of(end))), layouts).await
        })
    }
}

/// The responses sent from kiosk-hours the kiosk limits flagged, and how many such hours there
/// were (see [`Db::flagged_kiosk_responses`]).
#[derive(Debug, Default)]
pub struct FlaggedResponses {
    pub kiosk_hours: u64,
    pub responses: Vec<StoredResponse>,
}

impl Db {
    /// The responses stored in the hours from `from` until `until` by a kiosk that was flagged
    /// in that same hour (for any kind of flag): what the report's sensitivity index leaves out.
    /// A flag and the answers it concerns share the hour the server received them in.
    pub async fn flagged_kiosk_responses(
        &self,
        (from, until): (DateTime<Utc>, DateTime<Utc>),
        layouts: &HashMap<String, Layout>,
    ) -> Result<FlaggedResponses> {
        let flagged: Vec<(i64, String)> = on_pool!(&self.read, |p| sqlx::query_as(
            "SELECT DISTINCT kiosk_id, hour FROM kiosk_anomalies WHERE hour >= $1 AND hour < $2 ORDER BY 1, 2"
        )
        .bind(super::timestamp(from))
        .bind(super::timestamp(until))
        .fetch_all(p)
        .await)?;
        let mut responses = Vec::new();
        for (kiosk, hour) in &flagged {
            let hour = hour_of(super::parse_time(hour)?);
            // Every agency's key range at that hour: the primary key leads with the agency.
            let rows: Vec<WireRow> = on_pool!(&self.read, |p| sqlx::query_as(
                "SELECT agency_code, hour, id, questionnaire_version, service_point_code, channel,
                        comment IS NOT NULL, answers, expectations, profile
                 FROM responses
                 WHERE agency_code IN (SELECT code FROM agencies) AND hour = $1 AND kiosk_id = $2"
            )
            .bind(hour)
            .bind(kiosk)
            .fetch_all(p)
            .await)?;
            for row in rows {
                responses.push(stored_response(row.into(), layouts)?);
            }
        }
        Ok(FlaggedResponses { kiosk_hours: flagged.len() as u64, responses })
    }
}

impl Db {
    /// Recomputes every aggregate from the stored responses, in one transaction (the writer
    /// waits meanwhile, so no response is counted twice or missed). Returns how many
    /// responses were counted.
    pub async fn rebuild_aggregates(&self, layouts: &HashMap<String, Layout>) -> Result<u64> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            if let Conn::Postgres(c) = &mut tx.conn() {
                // No server adds a batch meanwhile (see `insert_in`).
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITER_LOCK).execute(&mut **c).await?;
            }
            sqlx::query("DELETE FROM report_counts").execute(&mut *tx).await?;
            let mut after = Cursor::start();
            let mut counted = 0;
            loop {
                let step = responses_after(tx.conn(), &after, None, layouts).await?;
                let Some(last) = step.last() else { break };
                after = Cursor::after(last);
                counted += step.len() as u64;
                let mut tallies: BTreeMap<TallyKey, Tally> = BTreeMap::new();
                for version in
                    step.iter().map(|r| &r.response.questionnaire_version).collect::<std::collections::BTreeSet<_>>()
                {
                    let layout = layouts
                        .get(version)
                        .ok_or_else(|| StorageError::Corrupt(format!("questionnaire {version}")))?;
                    let of_version = step.iter().filter(|r| &r.response.questionnaire_version == version);
                    tallies.extend(tally_responses(
                        layout,
                        of_version.map(|r| Counted {
                            response: &r.response,
                            service_point: &r.service_point,
                            channel: r.channel,
                            day: vietnam_day(r.submitted_at),
                        }),
                    ));
                }
                let all: Vec<&Layout> = layouts.values().collect();
                merge_tallies(tx.conn(), &tallies, &all).await?;
            }
            tx.commit().await?;
            Ok(counted)
        })
    }
}
