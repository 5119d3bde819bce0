//! The engine room: the two engines behind one seam. A [`Db`] holds a pool of either; each query
//! is written once and compiled for both ([`on_pool!`], [`on_conn!`]); opening, migrating and
//! closing; statements built before their engine is known ([`Change`], [`Bind`]) and the audit
//! line a change writes with them.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, Row, SqliteConnection};

use super::{timestamp, Result, StorageError};
use crate::domain::audit::{Actor, AuditAction};

/// Handle on the database: a read pool and a write pool (on SQLite a single connection).
#[derive(Clone, Debug)]
pub struct Db {
    pub(super) read: Pool,
    pub(super) write: Pool,
}

/// A pool of either engine.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// One connection of either engine, inside whatever transaction its owner holds: what the
/// statements several writes share take.
pub(crate) enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Conn<'_> {
    /// The same connection, borrowed again for one more statement.
    pub(crate) fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Sqlite(c) => Conn::Sqlite(c),
            Conn::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// A transaction or pooled connection of either engine, as a [`Conn`].
pub(crate) trait AsConn {
    fn conn(&mut self) -> Conn<'_>;
}

macro_rules! as_conn {
    ($($held:ty => $variant:ident),*) => {$(
        impl AsConn for $held {
            fn conn(&mut self) -> Conn<'_> {
                Conn::$variant(self)
            }
        }
    )*};
}

as_conn! {
    sqlx::Transaction<'_, sqlx::Sqlite> => Sqlite,
    sqlx::pool::PoolConnection<sqlx::Sqlite> => Sqlite,
    sqlx::Transaction<'_, sqlx::Postgres> => Postgres,
    sqlx::pool::PoolConnection<sqlx::Postgres> => Postgres
}

/// Runs `$body` with `$p` bound to the engine's own pool: the body is written once and compiled
/// for each engine.
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::storage::Pool::Sqlite($p) => $body,
            $crate::storage::Pool::Postgres($p) => $body,
        }
    };
}

/// As [`on_pool!`], for a [`Conn`]: `$c` is the engine's own `&mut` connection.
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::storage::Conn::Sqlite($c) => $body,
            $crate::storage::Conn::Postgres($c) => $body,
        }
    };
}

pub(crate) use {on_conn, on_pool};

/// The schema's migrations, compiled in: one folder per engine, the same versions in both.
pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Which engine a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The statement that makes the current transaction check foreign keys at its COMMIT, so
    /// that rows may come in any order (PostgreSQL's keys are DEFERRABLE for this).
    pub(crate) fn defer_foreign_keys(self) -> &'static str {
        match self {
            Engine::Sqlite => "PRAGMA defer_foreign_keys = ON",
            Engine::Postgres => "SET CONSTRAINTS ALL DEFERRED",
        }
    }
}

/// How long a statement waits for a lock held by another connection (`truncate_wal` sets it
/// back to this).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl Db {
    /// Opens the database at `url`: `sqlite://data/hailong.db` (created if missing) or
    /// `postgres://user:password@host/database` (which must exist).
    pub async fn open(url: &str) -> Result<Self> {
        match check_url(url)? {
            Engine::Sqlite => Self::open_sqlite(url).await,
            Engine::Postgres => Self::open_postgres(url).await,
        }
    }

    async fn open_sqlite(url: &str) -> Result<Self> {
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
        Ok(Self { read: Pool::Sqlite(read), write: Pool::Sqlite(write) })
    }

    /// PostgreSQL takes concurrent writers: the write pool has several connections (the
    /// response writer still sends one batch at a time), and each server has its own pools.
    async fn open_postgres(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StorageError::Url(e.to_string()))?
            .application_name("hailong")
            .options([("lock_timeout", "10s")]);
        let unreachable = |e: sqlx::Error| {
            StorageError::Url(format!(
                "không kết nối được PostgreSQL tại {}:{} (cơ sở dữ liệu {}): {e}",
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or("?")
            ))
        };
        let write = PgPoolOptions::new().max_connections(8).connect_with(options.clone()).await.map_err(unreachable)?;
        let read = PgPoolOptions::new().max_connections(8).connect_with(options.clone()).await.map_err(unreachable)?;
        Ok(Self { read: Pool::Postgres(read), write: Pool::Postgres(write) })
    }

    pub fn engine(&self) -> Engine {
        match self.write {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        let write = match &self.write {
            Pool::Sqlite(write) => write,
            Pool::Postgres(write) => {
                PG_MIGRATOR.run(write).await?;
                return Ok(());
            }
        };
        let applied = || sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(write);
        let before = applied().await.unwrap_or(0);
        MIGRATOR.run(write).await?;
        if applied().await? == before {
            return Ok(());
        }
        // Migrations that rebuild tables run with foreign keys off: check what they left (a scan
        // of every table, so only when a migration ran).
        let broken = sqlx::query("PRAGMA foreign_key_check").fetch_all(write).await?;
        if let Some(row) = broken.first() {
            let table: String = row.get(0);
            return Err(StorageError::Corrupt(format!("{} rows break a foreign key, e.g. in {table}", broken.len())));
        }
        Ok(())
    }

    /// Copies the write-ahead log into the database file and empties the log, so that rows
    /// erased since (contacts) do not stay behind in old log frames. Waits at most a quarter
    /// second for readers still on an old snapshot: `false` then, to be tried again later.
    /// PostgreSQL keeps its own log (docs/privacy.md): nothing to do there.
    pub async fn truncate_wal(&self) -> Result<bool> {
        let Pool::Sqlite(write) = &self.write else { return Ok(true) };
        let mut connection = write.acquire().await?;
        sqlx::query("PRAGMA busy_timeout = 250").execute(&mut *connection).await?;
        let done: std::result::Result<(i64, i64, i64), sqlx::Error> =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&mut *connection).await;
        sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *connection).await?;
        Ok(done?.0 == 0)
    }

    /// Each pool's connections: (pool, open, of which idle).
    pub fn pool_use(&self) -> [(&'static str, u32, usize); 2] {
        let usage = |pool: &Pool| on_pool!(pool, |p| (p.size(), p.num_idle()));
        let ((read, read_idle), (write, write_idle)) = (usage(&self.read), usage(&self.write));
        [("read", read, read_idle), ("write", write, write_idle)]
    }

    /// Whether both pools answer a query: what a load balancer's readiness check asks.
    pub async fn ready(&self) -> Result<()> {
        for pool in [&self.read, &self.write] {
            on_pool!(pool, |p| sqlx::query("SELECT 1").execute(p).await.map(|_| ()))?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(&self.write, |p| p.close().await);
        on_pool!(&self.read, |p| p.close().await);
    }
}

impl Db {
    /// Runs `statement`, an UPDATE of one row's last-seen time (`$1` the minute, already
    /// truncated; `$2` the row's id) that changes it only forward: what noting a kiosk or a key
    /// in use once a minute shares.
    pub(super) async fn touch(&self, statement: &'static str, id: i64, minute: DateTime<Utc>) -> Result<()> {
        on_pool!(&self.write, |p| sqlx::query(statement)
            .bind(timestamp(minute))
            .bind(id)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

/// Which engine `url` names; anything else stops the start with a clear message, instead of
/// becoming a file name.
pub fn check_url(url: &str) -> Result<Engine> {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("sqlite") => Ok(Engine::Sqlite),
        Some("postgres" | "postgresql") => Ok(Engine::Postgres),
        _ => Err(StorageError::Url(format!(
            "HAILONG_DATABASE_URL \"{}\" không hợp lệ; hãy dùng dạng sqlite://đường/dẫn/tệp.db \
             hoặc postgres://người_dùng:mật_khẩu@máy/cơ_sở_dữ_liệu",
            redacted(url)
        ))),
    }
}

/// `url` with its password, if it has one, shown as `***`: what may be printed or logged. The
/// password may stand in the user part (`user:password@host`) or, as PostgreSQL also takes it,
/// in the query (`?password=…`, `&sslpassword=…`; names compared case-blind and
/// percent-decoded, as the driver reads them).
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let host_start = rest.find('/').unwrap_or(rest.len());
    let (user, after) = match rest[..host_start].rsplit_once('@') {
        Some((user_info, _)) => {
            // From a `:` on is the password; a `?` there means the URL is ambiguous (a `?` in the
            // password, or an `@` in the query): hide from it on too.
            let user = match user_info.find([':', '?']) {
                Some(end) => format!("{}:***", &user_info[..end]),
                None => user_info.to_owned(),
            };
            (format!("{user}@"), &rest[user_info.len() + 1..])
        }
        None => (String::new(), rest),
    };
    let Some((path, query)) = after.split_once('?') else { return format!("{scheme}://{user}{after}") };
    let secret = |name: &str| {
        let (mut bytes, mut decoded) = (name.bytes(), Vec::new());
        while let Some(b) = bytes.next() {
            let hex = |b: Option<u8>| b.and_then(|b| (b as char).to_digit(16));
            match b {
                b'%' => match (hex(bytes.next()), hex(bytes.next())) {
                    (Some(high), Some(low)) => decoded.push((high * 16 + low) as u8),
                    _ => return true, // not a name the driver reads: hide it to be safe
                },
                b'+' => decoded.push(b' '),
                b => decoded.push(b),
            }
        }
        String::from_utf8_lossy(&decoded).to_lowercase().contains("password")
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if secret(name) => format!("{name}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{scheme}://{user}{path}?{}", query.join("&"))
}

/// A value bound to a statement that is built before its engine is known ([`Change`]).
#[derive(Clone, Debug)]
pub(crate) enum Bind {
    Int(i64),
    Text(Option<String>),
    Bytes(Vec<u8>),
}

impl From<i64> for Bind {
    fn from(value: i64) -> Self {
        Bind::Int(value)
    }
}

impl From<&str> for Bind {
    fn from(value: &str) -> Self {
        Bind::Text(Some(value.to_owned()))
    }
}

impl From<String> for Bind {
    fn from(value: String) -> Self {
        Bind::Text(Some(value))
    }
}

impl From<Option<&str>> for Bind {
    fn from(value: Option<&str>) -> Self {
        Bind::Text(value.map(str::to_owned))
    }
}

impl From<Vec<u8>> for Bind {
    fn from(value: Vec<u8>) -> Self {
        Bind::Bytes(value)
    }
}

/// One statement that changes rows, as `Db::change_audited` takes it, and the statements that
/// follow it in the same transaction when it changed a row (`then`).
pub(crate) struct Change {
    pub sql: &'static str,
    pub binds: Vec<Bind>,
    pub then: Vec<(&'static str, Vec<Bind>)>,
}

impl Change {
    /// `sql` with `binds`, and nothing after it.
    pub(crate) fn one(sql: &'static str, binds: Vec<Bind>) -> Self {
        Self { sql, binds, then: Vec::new() }
    }
}

/// Binds `binds` to `sql`, for whichever engine `$query` is built for.
macro_rules! bound {
    ($sql:expr, $binds:expr) => {{
        let mut query = sqlx::query($sql);
        for bind in $binds {
            query = match bind {
                Bind::Int(value) => query.bind(*value),
                Bind::Text(value) => query.bind(value.as_deref()),
                Bind::Bytes(value) => query.bind(value.as_slice()),
            };
        }
        query
    }};
}

impl Db {
    /// Runs `change` and, when it changed a row, what follows it and its audit line, in one
    /// transaction.
    /// False (and nothing written) when no row matched.
    pub(crate) async fn change_audited(
        &self,
        change: Change,
        actor: &Actor,
        action: AuditAction,
        subject: &str,
    ) -> Result<bool> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            if bound!(change.sql, &change.binds).execute(&mut *tx).await?.rows_affected() == 0 {
                return Ok(false);
            }
            for (sql, binds) in &change.then {
                bound!(*sql, binds).execute(&mut *tx).await?;
            }
            insert_audit(tx.conn(), actor, action, subject).await?;
            tx.commit().await?;
        });
        Ok(true)
    }
}

/// Appends one line to the audit log, inside whatever transaction `conn` is in.
pub(crate) async fn insert_audit(conn: Conn<'_>, actor: &Actor, action: AuditAction, subject: &str) -> Result<()> {
    on_conn!(conn, |c| {
        sqlx::query("INSERT INTO audit_log (at, actor, ip, action, subject) VALUES ($1, $2, $3, $4, $5)")
            .bind(timestamp(Utc::now()))
            .bind(&actor.name)
            .bind(&actor.ip)
            .bind(action.as_str())
            .bind(subject)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn a_password_never_reaches_the_screen() {
        assert_eq!(
            redacted("postgres://hailong:bí mật@db.tinh.vn:5432/hailong"),
            "postgres://hailong:***@db.tinh.vn:5432/hailong"
        );
        assert_eq!(redacted("postgres://hailong@localhost/hailong"), "postgres://hailong@localhost/hailong");
        assert_eq!(redacted("postgres://u:p@h/d?sslmode=require"), "postgres://u:***@h/d?sslmode=require");
        assert_eq!(redacted("sqlite://data/hailong.db"), "sqlite://data/hailong.db");
        assert_eq!(redacted("sqlite://data/a@b:c.db"), "sqlite://data/a@b:c.db");
    }

    #[test]
    fn a_password_in_the_query_is_hidden_too() {
        assert_eq!(
            redacted("postgres://hailong@db/hailong?password=bí-mật&sslmode=require"),
            "postgres://hailong@db/hailong?password=***&sslmode=require"
        );
        assert_eq!(
            redacted("postgres:///hailong?host=/run/postgresql&user=hailong&password=s3cret"),
            "postgres:///hailong?host=/run/postgresql&user=hailong&password=***"
        );
        assert_eq!(
            redacted("postgres://u:p@db/h?sslmode=verify-full&sslpassword=khoa&application_name=hailong"),
            "postgres://u:***@db/h?sslmode=verify-full&sslpassword=***&application_name=hailong"
        );
        // As the driver reads the name: any case, percent-encoded; no path before the query.
        assert_eq!(redacted("postgres://db?PASSWORD=x"), "postgres://db?PASSWORD=***");
        assert_eq!(redacted("postgres://db/h?pass%77ord=x"), "postgres://db/h?pass%77ord=***");
        assert_eq!(redacted("postgres://db/h?pa%zzword=x"), "postgres://db/h?pa%zzword=***");
        assert_eq!(redacted("postgres://u:p@db?password=x"), "postgres://u:***@db?password=***");
        // Ambiguous (not percent-encoded): whatever the driver would make of it, nothing leaks.
        assert_eq!(redacted("postgres://db?password=a@b"), "postgres://db:***@b");
        assert_eq!(redacted("postgres://u:p?w@db/h"), "postgres://u:***@db/h");
        // Nothing else is touched: a value that mentions a password, an empty query.
        assert_eq!(redacted("postgres://db/h?application_name=password"), "postgres://db/h?application_name=password");
        assert_eq!(redacted("postgres://db/h?"), "postgres://db/h?");
        assert_eq!(redacted("sqlite://data/hailong.db?mode=rwc"), "sqlite://data/hailong.db?mode=rwc");
    }
}
