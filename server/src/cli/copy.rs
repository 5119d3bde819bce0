//! `hailong copy`: moves a province's whole database to another one, typically from its SQLite
//! file to PostgreSQL, and checks the copy by its row counts and its indices.

use anyhow::{bail, Context};
use app::domain::period::Period;
use app::service::{AppState, Settings};
use app::storage::{check_url, redacted, sqlite_path, Db};

/// Copies `from` into `to` (migrated here, and refused unless empty), then compares the
/// satisfaction indices of every top agency as each side computes them.
pub async fn copy(from: &str, to: &str) -> anyhow::Result<()> {
    check_url(from)?;
    check_url(to)?;
    if from == to {
        bail!("nguồn và đích là cùng một cơ sở dữ liệu");
    }
    if let Some(file) = sqlite_path(from).filter(|file| !file.is_file()) {
        bail!("không có cơ sở dữ liệu nguồn {}", file.display());
    }
    // A server on a SQLite source would write what the copy leaves behind: refused.
    let _serving = super::backup::lock_database(from)?;
    let started = std::time::Instant::now();
    let source = Db::open(from).await.context("không mở được cơ sở dữ liệu nguồn")?;
    let target = Db::open(to).await.context("không mở được cơ sở dữ liệu đích")?;
    target.migrate().await.context("không tạo được lược đồ ở đích")?;
    println!("Chép {} → {}:", redacted(from), redacted(to));
    let copied = source.copy_into(&target, |table, rows| println!("  {table}: {rows} dòng")).await;
    source.close().await;
    target.close().await;
    let copied = copied?;
    let rows: u64 = copied.iter().map(|(_, n)| n).sum();
    println!(
        "Đã chép {rows} dòng của {} bảng ({:.1} giây); số dòng hai bên khớp.",
        copied.len(),
        started.elapsed().as_secs_f64()
    );
    let agencies = same_indices(from, to).await?;
    println!("Chỉ số hài lòng của {agencies} đơn vị cấp cao nhất tính ở hai bên khớp nhau.");
    Ok(())
}

/// Compares the indices (every closed day, both channels) of each agency at the top of the
/// tree, each side from its own aggregates; the number compared.
async fn same_indices(from: &str, to: &str) -> anyhow::Result<usize> {
    // Indices use no link: any secret will do, and nothing is sent.
    let settings =
        || Settings { link_secret: "a secret only for reading indices, never used".into(), ..Settings::default() };
    let (source, target) = (AppState::start(from, settings()).await?, AppState::start(to, settings()).await?);
    let tops: Vec<String> =
        source.agencies().await?.into_iter().filter(|a| a.parent.is_none()).map(|a| a.code).collect();
    let every_day = Period::parse(None, None)?.into();
    for agency in &tops {
        let (before, after) = (source.indices(agency, &every_day).await?, target.indices(agency, &every_day).await?);
        if serde_json::to_value(&before)? != serde_json::to_value(&after)? {
            bail!(
                "chỉ số của {agency} khác nhau: nguồn {} phiếu, đích {} phiếu (máy chủ còn ghi vào nguồn trong khi chép?)",
                before.responses,
                after.responses
            );
        }
    }
    Ok(tops.len())
}
