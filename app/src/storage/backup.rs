//! Backups: a consistent copy of the live database, taken while the server writes, and the
//! checks a copy must pass before it may replace the database.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use super::{Db, Pool, Result, StorageError};

/// What a backup holds, as checked.
#[derive(Debug)]
pub struct BackupSummary {
    pub responses: u64,
    pub agencies: u64,
    /// The newest migration it has.
    pub schema: i64,
}

/// The file of a `sqlite://` URL; `None` for an in-memory database or another engine.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    if super::check_url(url).ok()? != super::Engine::Sqlite {
        return None;
    }
    let rest = url.split_once(':')?.1.trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

impl Db {
    /// Writes a consistent copy of the database into `path`, which must not exist yet: one read
    /// transaction (`VACUUM INTO`), so writers go on meanwhile and the copy is as of its start.
    /// A SQLite database only: PostgreSQL has its own tools (docs/deploy.md).
    pub async fn backup_into(&self, path: &Path) -> Result<()> {
        let Pool::Sqlite(read) = &self.read else {
            return Err(StorageError::Url(
                "hailong backup chỉ dùng cho SQLite; với PostgreSQL hãy dùng pg_dump hoặc pg_basebackup (docs/deploy.md)"
                    .into(),
            ));
        };
        let target = path.to_str().ok_or_else(|| StorageError::Url(format!("{}: không phải UTF-8", path.display())))?;
        sqlx::query("VACUUM INTO $1").bind(target).execute(read).await?;
        Ok(())
    }
}

/// The newest migration this build knows.
pub fn known_schema() -> i64 {
    super::engine::MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Opens `path` read-only and checks that it is a whole hailong database this build can use.
pub async fn inspect_backup(path: &Path) -> Result<BackupSummary> {
    let not_ours = |why: &str| {
        StorageError::Corrupt(format!("{} không phải bản sao lưu hailong dùng được: {why}", path.display()))
    };
    if !path.is_file() {
        return Err(not_ours("không có tệp này"));
    }
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .map_err(|e| StorageError::Url(e.to_string()))?
        .read_only(true)
        .immutable(true);
    let pool: SqlitePool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
    let summary = summarise(&pool).await.map_err(|e| match e {
        StorageError::Sqlx(e) => not_ours(&e.to_string()),
        other => other,
    });
    pool.close().await;
    let summary = summary?;
    if summary.schema > known_schema() {
        return Err(not_ours("do một phiên bản hailong mới hơn tạo; hãy cập nhật hailong trước"));
    }
    Ok(summary)
}

async fn summarise(pool: &SqlitePool) -> Result<BackupSummary> {
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(pool).await?;
    if integrity != ["ok"] {
        return Err(StorageError::Corrupt(format!("kiểm tra toàn vẹn thất bại: {}", integrity.join("; "))));
    }
    let schema: i64 =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success").fetch_one(pool).await?;
    let responses: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM responses").fetch_one(pool).await?;
    let agencies: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM agencies").fetch_one(pool).await?;
    Ok(BackupSummary { responses: responses as u64, agencies: agencies as u64, schema })
}
