//! `hailong backup` and `hailong restore`, and the lock that keeps a restore away from a
//! database a server is using.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use app::storage::{inspect_backup, sqlite_path, BackupSummary, Db};

/// Held by `hailong serve` for as long as it runs (an advisory lock on `<database>.serving`,
/// released by the kernel even when the process is killed): a restore, or a second server,
/// on the same database is refused while it is held.
pub struct ServingLock(#[allow(dead_code)] Option<File>);

pub fn lock_database(database_url: &str) -> anyhow::Result<ServingLock> {
    let Some(path) = sqlite_path(database_url) else { return Ok(ServingLock(None)) };
    let lock_path = with_suffix(&path, ".serving");
    if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("không tạo được thư mục {}", dir.display()))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("không mở được {}", lock_path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(ServingLock(Some(file))),
        Err(std::fs::TryLockError::WouldBlock) => {
            bail!("một máy chủ hailong đang dùng cơ sở dữ liệu {}; hãy dừng nó trước", path.display())
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e).context(format!("không khóa được {}", lock_path.display())),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn sync_dir_of(path: &Path) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()
}

/// PostgreSQL has its own backups (pg_dump, base backups with WAL archiving): docs/deploy.md.
fn refuse_postgres(database_url: &str) -> anyhow::Result<()> {
    if app::storage::check_url(database_url)? == app::storage::Engine::Postgres {
        bail!(
            "hailong backup và hailong restore dùng cho SQLite; với PostgreSQL hãy dùng pg_dump / pg_restore \
             hoặc pg_basebackup (xem docs/deploy.md)"
        )
    }
    Ok(())
}

fn describe(summary: &BackupSummary) -> String {
    format!("{} phiếu, {} đơn vị, lược đồ {}", summary.responses, summary.agencies, summary.schema)
}

/// Copies the live database into `file` (which must not exist), checks the copy and only then
/// gives it its name. The server may keep serving meanwhile.
pub async fn backup(database_url: &str, file: &Path) -> anyhow::Result<()> {
    refuse_postgres(database_url)?;
    let Some(database) = sqlite_path(database_url) else {
        bail!("cơ sở dữ liệu trong bộ nhớ không sao lưu được")
    };
    if !database.is_file() {
        bail!("không có cơ sở dữ liệu {}", database.display());
    }
    if file.exists() {
        bail!("tệp {} đã có; hãy chọn tên khác (bản sao lưu không ghi đè)", file.display());
    }
    let started = std::time::Instant::now();
    let partial = with_suffix(file, ".partial");
    let _ = std::fs::remove_file(&partial); // what an interrupted backup left
    let db = Db::open(database_url).await?;
    let copied = db.backup_into(&partial).await;
    db.close().await;
    copied.with_context(|| format!("không sao lưu được vào {}", partial.display()))?;
    File::open(&partial)?.sync_all()?;
    let summary = match inspect_backup(&partial).await {
        Ok(summary) => summary,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error).context("bản sao vừa tạo không đọc lại được");
        }
    };
    std::fs::rename(&partial, file)?;
    sync_dir_of(file)?;
    let megabytes = std::fs::metadata(file)?.len() as f64 / 1e6;
    println!(
        "Đã sao lưu vào {} ({}; {megabytes:.1} MB, {:.1} giây).",
        file.display(),
        describe(&summary),
        started.elapsed().as_secs_f64()
    );
    println!("Khóa liên kết (HAILONG_LINK_SECRET) không nằm trong bản sao: hãy giữ nó riêng.");
    Ok(())
}

/// Replaces the database with the backup `file`, once it has been checked; the replaced files
/// are kept beside it. Refused while a server uses the database.
pub async fn restore(database_url: &str, file: &Path) -> anyhow::Result<()> {
    refuse_postgres(database_url)?;
    let Some(database) = sqlite_path(database_url) else {
        bail!("cơ sở dữ liệu trong bộ nhớ không khôi phục được")
    };
    let _lock = lock_database(database_url)?;
    let summary = inspect_backup(file).await?;
    let incoming = with_suffix(&database, ".restoring");
    std::fs::copy(file, &incoming).with_context(|| format!("không chép được {}", file.display()))?;
    File::open(&incoming)?.sync_all()?;

    let kept = with_suffix(&database, &format!(".before-restore-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")));
    if database.exists() {
        // The replaced database goes aside whole, with its log, so it stays openable.
        std::fs::rename(&database, &kept)?;
        for suffix in ["-wal", "-shm"] {
            let log = with_suffix(&database, suffix);
            if log.exists() {
                std::fs::rename(&log, with_suffix(&kept, suffix))?;
            }
        }
    }
    std::fs::rename(&incoming, &database)?;
    sync_dir_of(&database)?;

    // Brings a backup from an older version up to this one.
    let db = Db::open(database_url).await?;
    db.migrate().await?;
    db.close().await;
    println!("Đã khôi phục {} từ {} ({}).", database.display(), file.display(), describe(&summary));
    if kept.exists() {
        println!("Cơ sở dữ liệu trước đó được giữ tại {}.", kept.display());
    }
    Ok(())
}
