//! Storage: every SQL statement of hailong lives in this module, one function per query.
//!
//! SQLite in WAL mode with `synchronous = FULL`. Writes of responses go through one connection
//! (see `service::writer`), reads through a separate pool, so readers never queue behind the
//! writer's lock. The SQL is kept portable (recursive CTEs, `ON CONFLICT`, `RETURNING`) so a
//! PostgreSQL backend can follow.

mod accounts;
mod deliveries;
mod invitations;
mod kiosks;
mod registry;
mod responses;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Row;

use crate::domain::audit::{Actor, AuditAction};
use crate::domain::{CriterionCounts, Period, Population, Questionnaire};

pub use accounts::{AuditFilter, User, UserListing};
pub use deliveries::{Delivery, PendingDelivery};
pub use invitations::{ApiKeyListing, Invitation, NewInvitation};
pub use kiosks::{Anomaly, Kiosk, KioskListing};
pub use registry::StagedImport;
pub use responses::{NewResponse, Outcome};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Url(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Handle on the database: a read pool and a single-connection write pool.
#[derive(Clone, Debug)]
pub struct Db {
    read: SqlitePool,
    write: SqlitePool,
}

/// Fixed-width UTC text, so that string order is time order.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Reads back a [`timestamp`].
fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| StorageError::Corrupt(format!("timestamp {text}: {e}")))
}

impl Db {
    /// Opens (creating if missing) the SQLite database at `url`, e.g. `sqlite://data/hailong.db`.
    pub async fn open(url: &str) -> Result<Self> {
        check_url(url)?;
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StorageError::Url(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 64 MiB of page cache per connection: the index queries scan the answers table.
            .pragma("cache_size", "-65536");
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| StorageError::Url(format!("{}: {e}", parent.display())))?;
            }
        }
        let write = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        let read = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        Ok(Self { read, write })
    }

    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("../migrations").run(&self.write).await?;
        // Migrations that rebuild tables run with foreign keys off: check what they left.
        let broken = sqlx::query("PRAGMA foreign_key_check").fetch_all(&self.write).await?;
        if let Some(row) = broken.first() {
            let table: String = row.get(0);
            return Err(StorageError::Corrupt(format!("{} rows break a foreign key, e.g. in {table}", broken.len())));
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    // ----- questionnaires -----

    /// Stores `questionnaire` (its original JSON `body`) as a new immutable version, unless that
    /// version exists already, and makes it the current one.
    pub async fn install_questionnaire(&self, questionnaire: &Questionnaire, body: &str) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO questionnaires (version, body, loaded_at) VALUES (?, ?, ?) ON CONFLICT (version) DO NOTHING",
        )
        .bind(&questionnaire.version)
        .bind(body)
        .bind(timestamp(Utc::now()))
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE questionnaires SET is_current = 0 WHERE is_current = 1 AND version <> ?")
            .bind(&questionnaire.version)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE questionnaires SET is_current = 1 WHERE version = ?")
            .bind(&questionnaire.version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn current_questionnaire(&self) -> Result<Option<Questionnaire>> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM questionnaires WHERE is_current = 1")
            .fetch_optional(&self.read)
            .await?;
        body.map(|b| Questionnaire::parse(&b).map_err(|e| StorageError::Corrupt(e.to_string()))).transpose()
    }
}

/// Only SQLite databases for now: anything else stops the start with a clear message, instead
/// of becoming a file name.
pub fn check_url(url: &str) -> Result<()> {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("sqlite") => Ok(()),
        Some("postgres" | "postgresql") => Err(StorageError::Url(
            "PostgreSQL chưa được hỗ trợ trong phiên bản này; hãy dùng HAILONG_DATABASE_URL=sqlite://đường/dẫn/tệp.db"
                .into(),
        )),
        _ => Err(StorageError::Url(format!(
            "HAILONG_DATABASE_URL \"{url}\" không hợp lệ; hãy dùng dạng sqlite://đường/dẫn/tệp.db"
        ))),
    }
}

/// One statement that changes rows, as `Db::change_audited` takes it.
pub(crate) type Change<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

impl Db {
    /// Runs `change` and, when it changed a row, appends its audit line, in one transaction.
    /// False (and nothing written) when no row matched.
    pub(crate) async fn change_audited(
        &self,
        change: Change<'_>,
        actor: &Actor,
        action: AuditAction,
        subject: &str,
    ) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        if change.execute(&mut *tx).await?.rows_affected() == 0 {
            return Ok(false);
        }
        insert_audit(&mut *tx, actor, action, subject).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Appends one line to the audit log, inside whatever transaction `executor` is.
pub(crate) async fn insert_audit<'e, E>(executor: E, actor: &Actor, action: AuditAction, subject: &str) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query("INSERT INTO audit_log (at, actor, ip, action, subject) VALUES (?, ?, ?, ?, ?)")
        .bind(timestamp(Utc::now()))
        .bind(&actor.name)
        .bind(&actor.ip)
        .bind(action.as_str())
        .bind(subject)
        .execute(executor)
        .await?;
    Ok(())
}

/// `[start, end)` of a period as stored text; open ends become bounds no timestamp passes.
fn period_bounds(period: &Period) -> (String, String) {
    let (start, end) = period.utc_bounds();
    (start.map_or_else(|| "0000".into(), timestamp), end.map_or_else(|| "9999".into(), timestamp))
}

/// Counts per level for every criterion, and the number of responses, of one population.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PopulationCounts {
    pub responses: u64,
    pub criteria: Vec<CriterionCounts>,
}

impl Db {
    /// Counts for the responses of `agency` and its whole subtree within `period`.
    pub async fn criterion_counts(&self, agency: &str, population: &Population) -> Result<PopulationCounts> {
        let mut by_root = self.counts_per_subtree(SUBTREE_OF_ONE, agency, population).await?;
        Ok(by_root.pop().map(|(_, counts)| counts).unwrap_or_default())
    }

    /// Counts for each child of `parent`, each covering the child's whole subtree.
    pub async fn criterion_counts_of_children(
        &self,
        parent: &str,
        population: &Population,
    ) -> Result<Vec<(String, PopulationCounts)>> {
        self.counts_per_subtree(SUBTREES_OF_CHILDREN, parent, population).await
    }

    async fn counts_per_subtree(
        &self,
        queries: &SubtreeQueries,
        seed: &str,
        population: &Population,
    ) -> Result<Vec<(String, PopulationCounts)>> {
        let (start, end) = period_bounds(&population.period);
        let channel = population.channel.map(|c| c.as_str());
        let run = |sql: &'static str| {
            sqlx::query(sql)
                .bind(seed)
                .bind(start.clone())
                .bind(end.clone())
                .bind(channel)
                .bind(channel)
                .fetch_all(&self.read)
        };
        let totals = run(queries.responses).await?;
        let levels = run(queries.levels).await?;
        let mut result: Vec<(String, PopulationCounts)> = Vec::new();
        for row in &totals {
            let responses: i64 = row.get("responses");
            result.push((row.get("root"), PopulationCounts { responses: responses as u64, criteria: Vec::new() }));
        }
        for row in &levels {
            let root: String = row.get("root");
            let Some((_, population)) = result.iter_mut().find(|(r, _)| *r == root) else { continue };
            let count = |column: &str| row.get::<i64, _>(column) as u64;
            population.criteria.push(CriterionCounts {
                code: row.get("criterion_code"),
                counts: [count("n1"), count("n2"), count("n3"), count("n4"), count("n5")],
            });
        }
        Ok(result)
    }
}

/// Two statements over the same recursive "subtree with its root" CTE.
struct SubtreeQueries {
    responses: &'static str,
    levels: &'static str,
}

macro_rules! subtree_queries {
    ($seed:literal) => {
        SubtreeQueries {
            responses: concat!(
                "WITH RECURSIVE tree (root, code) AS (
                     SELECT code, code FROM agencies WHERE ",
                $seed,
                " = ?
                     UNION ALL
                     SELECT t.root, a.code FROM agencies a JOIN tree t ON a.parent_code = t.code)
                 SELECT t.root AS root, COUNT(r.id) AS responses
                 FROM tree t LEFT JOIN responses r
                   ON r.agency_code = t.code AND r.submitted_at >= ? AND r.submitted_at < ?
                  AND (? IS NULL OR r.channel = ?)
                 GROUP BY t.root ORDER BY t.root"
            ),
            levels: concat!(
                "WITH RECURSIVE tree (root, code) AS (
                     SELECT code, code FROM agencies WHERE ",
                $seed,
                " = ?
                     UNION ALL
                     SELECT t.root, a.code FROM agencies a JOIN tree t ON a.parent_code = t.code)
                 SELECT t.root AS root, a.criterion_code AS criterion_code,
                        SUM(CASE WHEN a.value = 1 THEN 1 ELSE 0 END) AS n1,
                        SUM(CASE WHEN a.value = 2 THEN 1 ELSE 0 END) AS n2,
                        SUM(CASE WHEN a.value = 3 THEN 1 ELSE 0 END) AS n3,
                        SUM(CASE WHEN a.value = 4 THEN 1 ELSE 0 END) AS n4,
                        SUM(CASE WHEN a.value = 5 THEN 1 ELSE 0 END) AS n5
                 FROM tree t
                 JOIN responses r ON r.agency_code = t.code
                 JOIN answers a ON a.response_id = r.id
                 WHERE r.submitted_at >= ? AND r.submitted_at < ? AND (? IS NULL OR r.channel = ?)
                 GROUP BY t.root, a.criterion_code"
            ),
        }
    };
}

const SUBTREE_OF_ONE: &SubtreeQueries = &subtree_queries!("code");
const SUBTREES_OF_CHILDREN: &SubtreeQueries = &subtree_queries!("parent_code");
