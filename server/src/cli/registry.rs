//! `hailong init` and `hailong agency …`: starting a province and keeping its agency registry.

use anyhow::{bail, Context};
use app::domain::audit::{Actor, AuditAction};
use app::domain::registry::{describe_change, successors_shown, ImportPlan, RegistryEntry, WHOLE_SHARE};
use app::service::registry::RegistryError;
use app::service::AppState;
use clap::Subcommand;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum AgencyCommand {
    /// Lists agencies in tree order, open and closed.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Imports a registry CSV (code,name,kind,parent,valid_from,successor,serves): all or nothing.
    Import {
        /// The CSV file (UTF-8; a BOM as Excel writes it is fine).
        file: std::path::PathBuf,
        /// Only say what would be added, changed and closed.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Writes the registry in the import format (to standard output, or to --output).
    Export {
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

pub async fn init(state: &AppState, province: &str, name: &str, admin: &str) -> anyhow::Result<()> {
    let done = state.init_province(province, name, admin).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
    println!("Đã khởi tạo {} ({}).", name.trim(), province.trim());
    println!("Tài khoản quản trị đầu tiên: {}", done.username);
    println!("Mật khẩu dùng một lần (chỉ hiện lần này): {}", done.one_time_password);
    println!("Đăng nhập tại /login rồi đổi mật khẩu; sau đó nhập danh mục đơn vị (hailong agency import TỆP.csv).");
    Ok(())
}

pub async fn run(state: &AppState, command: AgencyCommand) -> anyhow::Result<()> {
    match command {
        AgencyCommand::List { json } => list(state, json).await,
        AgencyCommand::Import { file, dry_run, json } => import(state, &file, dry_run, json).await,
        AgencyCommand::Export { output } => {
            let csv = state.export_registry().await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, csv).with_context(|| format!("không ghi được {}", path.display()))?
                }
                None => print!("{csv}"),
            }
            Ok(())
        }
    }
}

async fn list(state: &AppState, json: bool) -> anyhow::Result<()> {
    let registry = state.registry().await?;
    if json {
        let list: Vec<Value> = registry
            .iter()
            .map(|e| {
                let a = &e.agency;
                json!({"code": a.code, "name": a.name, "kind": a.kind, "parent": a.parent,
                       "valid_from": a.valid_from, "valid_to": a.valid_to, "successors": e.successors,
                       "shares": shares(e), "serves": e.serves})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for e in registry {
            let closed =
                e.agency.valid_to.map(|d| format!("  (đóng từ {d}, kế thừa: {})", successors_shown(&e, str::to_owned)));
            println!(
                "{:<20} {:<16} {}{}",
                e.agency.code,
                e.agency.kind.as_str(),
                e.agency.name,
                closed.unwrap_or_default()
            );
        }
    }
    Ok(())
}

async fn import(state: &AppState, file: &std::path::Path, dry_run: bool, json: bool) -> anyhow::Result<()> {
    let text = std::fs::read(file).with_context(|| format!("không đọc được tệp {}", file.display()))?;
    let Ok(text) = String::from_utf8(text) else {
        bail!("tệp {} không phải UTF-8 (trong Excel: Lưu thành → CSV UTF-8)", file.display());
    };
    let result = match AppState::read_registry_csv(&text) {
        Ok(rows) if dry_run => state.plan_registry(&rows).await,
        Ok(rows) => state.apply_registry(&Actor::cli(), &rows, None, AuditAction::AgenciesImported).await,
        Err(error) => Err(error),
    };
    let plan = match result {
        Ok(plan) => plan,
        Err(RegistryError::Rows(rows)) => {
            if json {
                let errors: Vec<Value> =
                    rows.iter().map(|r| json!({"line": r.line, "code": r.code, "message": r.message})).collect();
                println!("{}", serde_json::to_string_pretty(&json!({"errors": errors}))?);
            } else {
                for row in &rows {
                    eprintln!("{row}");
                }
            }
            bail!("tệp có {} lỗi; danh mục đơn vị không thay đổi", rows.len());
        }
        Err(other) => bail!(other.to_string()),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&plan_json(&plan, !dry_run))?);
    } else {
        print_plan(&plan, dry_run);
    }
    Ok(())
}

/// A split's shares as fractions (`[0.6, 0.4]`), in the order of its successors; empty: none.
fn shares(entry: &RegistryEntry) -> Vec<f64> {
    entry.shares.iter().map(|s| f64::from(*s) / f64::from(WHOLE_SHARE)).collect()
}

fn plan_json(plan: &ImportPlan, applied: bool) -> Value {
    let change =
        |c: &app::domain::registry::Change| json!({"code": c.after.agency.code, "changes": describe_change(c)});
    json!({
        "applied": applied,
        "added": plan.added.iter().map(|e| &e.agency.code).collect::<Vec<_>>(),
        "changed": plan.changed.iter().map(change).collect::<Vec<_>>(),
        "closed": plan.closed.iter().map(|c| json!({
            "code": c.after.agency.code, "valid_to": c.after.agency.valid_to, "successors": c.after.successors,
            "shares": shares(&c.after),
        })).collect::<Vec<_>>(),
        "unchanged": plan.unchanged,
    })
}

fn print_plan(plan: &ImportPlan, dry_run: bool) {
    let verb = if dry_run { "Sẽ" } else { "Đã" };
    println!("{verb} thêm {} đơn vị:", plan.added.len());
    for e in &plan.added {
        println!("  + {} {} ({})", e.agency.code, e.agency.name, e.agency.kind.as_str());
    }
    println!("{verb} sửa {} đơn vị:", plan.changed.len());
    for c in &plan.changed {
        println!("  ~ {} {}", c.after.agency.code, describe_change(c).join("; "));
    }
    println!("{verb} đóng {} đơn vị:", plan.closed.len());
    for c in &plan.closed {
        println!("  × {} {}", c.after.agency.code, describe_change(c).join("; "));
    }
    println!("{} đơn vị không thay đổi.", plan.unchanged);
    if dry_run {
        println!("(Chạy thử: chưa thay đổi gì. Bỏ --dry-run để áp dụng.)");
    }
}
