//! Storage: every SQL statement of hailong lives in this module, one function per query.
//!
//! SQLite in WAL mode with `synchronous = FULL`. Writes of responses go through one connection
//! (see `service::writer`), reads through a separate pool, so readers never queue behind the
//! writer's lock. The SQL is kept portable (`$N` placeholders, recursive CTEs, `ON CONFLICT`,
//! `RETURNING`, signed integers, `TRUE`/`FALSE`), and a row shape several queries share is a
//! `FromRow` struct rather than a function of `SqliteRow`, so a PostgreSQL backend can follow.

mod accounts;
mod aggregates;
mod backup;
mod comments;
mod deliveries;
mod dossiers;
mod held;
mod invitations;
mod kiosks;
mod packed;
mod registry;
mod responses;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Row;

use crate::domain::audit::{Actor, AuditAction};
use crate::domain::Questionnaire;

pub use accounts::{AuditFilter, User, UserListing};
pub use aggregates::{TallyQuery, TallyRow};
pub use backup::{inspect_backup, known_schema, sqlite_path, BackupSummary};
pub use comments::StoredComment;
pub use deliveries::{Delivery, PendingDelivery};
pub use held::{Held, HeldAnswer};
pub use invitations::{ApiKeyListing, Invitation, NewInvitation};
pub use kiosks::{Anomaly, Kiosk, KioskListing};
pub use registry::StagedImport;
pub(crate) use responses::body_hash;
pub use responses::{NewResponse, Outcome, StoredResponse};

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

/// The schema's migrations, compiled in.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// How long a statement waits for a lock held by another connection (`truncate_wal` sets it
/// back to this).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Reads back an optional [`timestamp`].
fn parse_optional_time(text: Option<String>) -> Result<Option<DateTime<Utc>>> {
    text.as_deref().map(parse_time).transpose()
}

/// The hour `at` falls in, as hours since the Unix epoch: how a response keeps its time.
fn hour_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(3600)
}

/// The start of an [`hour_of`].
fn start_of_hour(hour: i64) -> Result<DateTime<Utc>> {
    hour.checked_mul(3600)
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
        .ok_or_else(|| StorageError::Corrupt(format!("hour {hour}")))
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
            // Deleted content is overwritten with zeros, not left readable in free space.
            .pragma("secure_delete", "on")
            .busy_timeout(BUSY_TIMEOUT);
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| StorageError::Url(format!("{}: {e}", parent.display())))?;
            }
        }
        // The writer keeps the upper levels of the tables it appends to in 64 MiB of page cache;
        // readers take 8 MiB each and leave the rest to the operating system's file cache, so
        // that an export's scan does not grow the server by hundreds of megabytes.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone().pragma("cache_size", "-65536"))
            .await?;
        let read =
            SqlitePoolOptions::new().max_connections(4).connect_with(options.pragma("cache_size", "-8192")).await?;
        Ok(Self { read, write })
    }

    pub async fn migrate(&self) -> Result<()> {
        let applied = || sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(&self.write);
        let before = applied().await.unwrap_or(0);
        MIGRATOR.run(&self.write).await?;
        if applied().await? == before {
            return Ok(());
        }
        // Migrations that rebuild tables run with foreign keys off: check what they left (a scan
        // of every table, so only when a migration ran).
        let broken = sqlx::query("PRAGMA foreign_key_check").fetch_all(&self.write).await?;
        if let Some(row) = broken.first() {
            let table: String = row.get(0);
            return Err(StorageError::Corrupt(format!("{} rows break a foreign key, e.g. in {table}", broken.len())));
        }
        Ok(())
    }

    /// Copies the write-ahead log into the database file and empties the log, so that rows
    /// erased since (contacts) do not stay behind in old log frames. Waits at most a quarter
    /// second for readers still on an old snapshot: `false` then, to be tried again later.
    pub async fn truncate_wal(&self) -> Result<bool> {
        let mut connection = self.write.acquire().await?;
        sqlx::query("PRAGMA busy_timeout = 250").execute(&mut *connection).await?;
        let done: std::result::Result<(i64, i64, i64), sqlx::Error> =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&mut *connection).await;
        sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *connection).await?;
        Ok(done?.0 == 0)
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
            "INSERT INTO questionnaires (version, body, loaded_at) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING",
        )
        .bind(&questionnaire.version)
        .bind(body)
        .bind(timestamp(Utc::now()))
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE questionnaires SET is_current = FALSE WHERE is_current = TRUE AND version <> $1")
            .bind(&questionnaire.version)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE questionnaires SET is_current = TRUE WHERE version = $1")
            .bind(&questionnaire.version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every questionnaire version ever installed.
    pub async fn questionnaires(&self) -> Result<Vec<Questionnaire>> {
        let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM questionnaires").fetch_all(&self.read).await?;
        bodies.iter().map(|b| Questionnaire::parse(b).map_err(|e| StorageError::Corrupt(e.to_string()))).collect()
    }

    pub async fn current_questionnaire(&self) -> Result<Option<Questionnaire>> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM questionnaires WHERE is_current = TRUE")
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
    sqlx::query("INSERT INTO audit_log (at, actor, ip, action, subject) VALUES ($1, $2, $3, $4, $5)")
        .bind(timestamp(Utc::now()))
        .bind(&actor.name)
        .bind(&actor.ip)
        .bind(action.as_str())
        .bind(subject)
        .execute(executor)
        .await?;
    Ok(())
}
