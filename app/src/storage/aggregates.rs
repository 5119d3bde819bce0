//! The report aggregates (`report_counts`): merged by the response writer in its transaction
//! ([`merge_tallies`]), read by every report; rebuilt from the responses on demand by
//! `Db::rebuild_aggregates`, which lives with the responses it reads.

use std::collections::{BTreeMap, HashMap};

use sqlx::QueryBuilder;

use super::{on_conn, on_pool, Conn, Db, Result, StorageError};
use crate::domain::disclosure::{Atom, DayCount, SERVICE_POINT};
use crate::domain::submission::Channel;
use crate::domain::tally::{Grain, Layout, Tally, TallyKey, EVERYONE};

/// Keys per statement: 8 parameters each, well under SQLite's limit.
const KEYS_PER_STATEMENT: usize = 400;

/// One stored tally as a report reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct TallyRow {
    pub span: String,
    pub agency: String,
    pub service_point: String,
    pub channel: Channel,
    pub version: String,
    pub facet_value: String,
    pub counts: Tally,
}

/// Which stored tallies a report reads: one grain and facet, spans `first..=last`.
#[derive(Clone, Debug)]
pub struct TallyQuery<'a> {
    pub grain: Grain,
    pub facet: &'a str,
    pub first: &'a str,
    pub last: &'a str,
}

/// A stored tally: its key and its counts (a JSON array).
#[derive(sqlx::FromRow)]
struct CountsRow {
    grain: String,
    facet: String,
    span: String,
    agency_code: String,
    service_point_code: String,
    channel: String,
    questionnaire_version: String,
    facet_value: String,
    counts: String,
}

/// The columns of a [`CountsRow`].
const COUNTS_COLUMNS: &str =
    "grain, facet, span, agency_code, service_point_code, channel, questionnaire_version, facet_value, counts";

/// Adds `tallies` to the stored ones, inside the caller's transaction.
pub(super) async fn merge_tallies(
    mut tx: Conn<'_>,
    tallies: &BTreeMap<TallyKey, Tally>,
    layouts: &[&Layout],
) -> Result<()> {
    let keys: Vec<&TallyKey> = tallies.keys().collect();
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let mut merged: Vec<(&TallyKey, Tally)> = chunk.iter().map(|key| (*key, tallies[*key].clone())).collect();
        for row in stored_tallies(tx.reborrow(), chunk).await? {
            let key = row.key()?;
            let Some((_, sum)) = merged.iter_mut().find(|(k, _)| **k == key) else { continue };
            let layout = layouts
                .iter()
                .find(|l| l.version == key.version)
                .ok_or_else(|| StorageError::Corrupt(format!("questionnaire {}", key.version)))?;
            let stored =
                Tally::from_json(&row.counts, layout).map_err(|e| StorageError::Corrupt(format!("{e} ({key:?})")))?;
            sum.add(&stored);
        }
        on_conn!(tx.reborrow(), |c| {
            let mut upsert = QueryBuilder::new(
            "INSERT INTO report_counts (grain, facet, span, agency_code, service_point_code, channel, questionnaire_version, facet_value, counts) ",
        );
            upsert.push_values(&merged, |mut row, (key, tally)| {
                push_key(&mut row, key);
                row.push_bind(tally.to_json());
            });
            upsert.push(
            " ON CONFLICT (grain, facet, span, agency_code, service_point_code, channel, questionnaire_version, facet_value)
              DO UPDATE SET counts = excluded.counts",
        );
            upsert.build().execute(&mut *c).await?;
        });
    }
    Ok(())
}

/// The stored tallies of `keys` (those that have one).
async fn stored_tallies(tx: Conn<'_>, keys: &[&TallyKey]) -> Result<Vec<CountsRow>> {
    Ok(match tx {
        Conn::Sqlite(c) => {
            let mut select = QueryBuilder::new(format!(
                "SELECT {COUNTS_COLUMNS} FROM report_counts
                 WHERE (grain, facet, span, agency_code, service_point_code, channel, questionnaire_version, facet_value) IN "
            ));
            select.push_tuples(keys, |mut row, key| {
                push_key(&mut row, key);
            });
            select.build_query_as().fetch_all(&mut *c).await?
        }
        // A list of rows in the statement would be planned again at each call (tens of
        // milliseconds for 400 keys, most of a bulk load): eight arrays keep one statement,
        // planned once, looked up through the primary key.
        Conn::Postgres(c) => {
            let column = |part: fn(&TallyKey) -> &str| keys.iter().map(|k| part(k).to_owned()).collect::<Vec<_>>();
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COUNTS_COLUMNS} FROM report_counts
                 JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                      AS k (grain, facet, span, agency_code, service_point_code, channel, questionnaire_version, facet_value)
                 USING (grain, facet, span, agency_code, service_point_code, channel, questionnaire_version, facet_value)"
            )))
            .bind(column(|k| k.grain.as_str()))
            .bind(column(|k| &k.facet))
            .bind(column(|k| &k.span))
            .bind(column(|k| &k.agency))
            .bind(column(|k| &k.service_point))
            .bind(column(|k| k.channel.as_str()))
            .bind(column(|k| &k.version))
            .bind(column(|k| &k.facet_value))
            .fetch_all(&mut *c)
            .await?
        }
    })
}

/// Binds the 8 columns of a tally's key, in [`COUNTS_COLUMNS`] order.
fn push_key<DB>(row: &mut sqlx::query_builder::Separated<'_, DB, &'static str>, key: &TallyKey)
where
    DB: sqlx::Database,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    row.push_bind(key.grain.as_str().to_owned())
        .push_bind(key.facet.clone())
        .push_bind(key.span.clone())
        .push_bind(key.agency.clone())
        .push_bind(key.service_point.clone())
        .push_bind(key.channel.as_str().to_owned())
        .push_bind(key.version.clone())
        .push_bind(key.facet_value.clone());
}

impl CountsRow {
    fn key(&self) -> Result<TallyKey> {
        let grain = match self.grain.as_str() {
            "day" => Grain::Day,
            "month" => Grain::Month,
            other => return Err(StorageError::Corrupt(format!("tally grain {other}"))),
        };
        Ok(TallyKey {
            grain,
            facet: self.facet.clone(),
            span: self.span.clone(),
            agency: self.agency_code.clone(),
            service_point: self.service_point_code.clone(),
            channel: channel_of(&self.channel)?,
            version: self.questionnaire_version.clone(),
            facet_value: self.facet_value.clone(),
        })
    }
}

/// The first number of a stored tally (`[12,3,…]`): its responses.
fn first_count(counts: &str) -> Result<u64> {
    let digits = counts.trim_start().strip_prefix('[').map(|rest| rest.split([',', ']']).next().unwrap_or(""));
    digits.and_then(|d| d.trim().parse().ok()).ok_or_else(|| StorageError::Corrupt(format!("tally {counts:.40}")))
}

fn channel_of(text: &str) -> Result<Channel> {
    Channel::parse(text).ok_or_else(|| StorageError::Corrupt(format!("channel {text}")))
}

impl Db {
    /// The stored tallies `query` selects, each read in the layout of its version. Rows of a
    /// version missing from `layouts` are corrupt: every stored version has its questionnaire.
    pub async fn tally_rows(&self, query: &TallyQuery<'_>, layouts: &HashMap<String, Layout>) -> Result<Vec<TallyRow>> {
        let rows: Vec<CountsRow> = on_pool!(&self.read, |p| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COUNTS_COLUMNS} FROM report_counts WHERE grain = $1 AND facet = $2 AND span >= $3 AND span <= $4"
        )))
        .bind(query.grain.as_str())
        .bind(query.facet)
        .bind(query.first)
        .bind(query.last)
        .fetch_all(p)
        .await)?;
        rows.into_iter()
            .map(|row| {
                let version = row.questionnaire_version;
                let layout =
                    layouts.get(&version).ok_or_else(|| StorageError::Corrupt(format!("questionnaire {version}")))?;
                Ok(TallyRow {
                    span: row.span,
                    agency: row.agency_code,
                    service_point: row.service_point_code,
                    channel: channel_of(&row.channel)?,
                    facet_value: row.facet_value,
                    counts: Tally::from_json(&row.counts, layout).map_err(|e| StorageError::Corrupt(e.to_string()))?,
                    version,
                })
            })
            .collect()
    }

    /// How many responses each agency got per channel, day and breakdown value over the days
    /// after `after` up to `through` (`YYYY-MM-DD`), for the disclosure steps: the everyone
    /// tallies per service point (dimension [`SERVICE_POINT`]) and the profile tallies per
    /// question and option. Only the first count of each tally is read (its responses).
    pub async fn day_counts(
        &self,
        after: Option<&str>,
        through: &str,
    ) -> Result<BTreeMap<(chrono::NaiveDate, Atom), DayCount>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            span: String,
            agency_code: String,
            service_point_code: String,
            channel: String,
            facet: String,
            facet_value: String,
            counts: String,
        }
        let mut days: BTreeMap<(chrono::NaiveDate, Atom), DayCount> = BTreeMap::new();
        let mut add = |row: Row| -> Result<()> {
            let day = crate::domain::period::parse_day(&row.span)
                .map_err(|_| StorageError::Corrupt(format!("tally day {}", row.span)))?;
            let responses = first_count(&row.counts)?;
            let count = days.entry((day, (row.agency_code, channel_of(&row.channel)?))).or_default();
            let (dimension, value) = if row.facet == EVERYONE {
                count.responses += responses;
                (SERVICE_POINT.to_owned(), row.service_point_code)
            } else {
                (row.facet, row.facet_value)
            };
            *count.parts.entry(dimension).or_default().entry(value).or_default() += responses;
            Ok(())
        };
        // A row at a time, and only the head of its counts (the first count is the responses):
        // a year of day tallies is hundreds of thousands of rows.
        on_pool!(&self.read, |p| {
            let mut rows = sqlx::query_as::<_, Row>(
                "SELECT span, agency_code, service_point_code, channel, facet, facet_value,
                        substr(counts, 1, 24) AS counts
                 FROM report_counts WHERE grain = 'day' AND span > $1 AND span <= $2",
            )
            .bind(after.unwrap_or(""))
            .bind(through)
            .fetch(p);
            while let Some(row) = futures::TryStreamExt::try_next(&mut rows).await? {
                add(row)?;
            }
        });
        Ok(days)
    }

    /// Whether responses are stored but no aggregate is (a database from before aggregates).
    pub async fn aggregates_missing(&self) -> Result<bool> {
        let missing: bool = on_pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM responses) AND NOT EXISTS (SELECT 1 FROM report_counts)"
        )
        .fetch_one(p)
        .await)?;
        Ok(missing)
    }
}
