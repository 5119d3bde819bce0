//! `hailong kiosk …`, `hailong apikey …` and `hailong user …`: devices, keys and accounts from
//! the command line; each change is audit-logged as done by `cli`.

use anyhow::Context;
use app::domain::account::Role;
use app::domain::audit::Actor;
use app::service::kiosks::Pairing;
use app::service::AppState;
use chrono::Utc;
use clap::Subcommand;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum KioskCommand {
    /// Registers a kiosk at a service point and prints its one-time pairing code.
    Add {
        #[arg(long)]
        agency: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Lists kiosks with their state, last contact and responses today.
    List {
        #[arg(long)]
        json: bool,
    },
    /// A new pairing code for a kiosk (new or replaced tablet; brings a revoked kiosk back).
    Repair {
        #[arg(long)]
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Revokes a kiosk: its token stops working at once.
    Revoke {
        #[arg(long)]
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Creates a key scoped to an agency's subtree and prints it (shown once, stored hashed).
    Add {
        #[arg(long)]
        agency: String,
        /// The software that uses it, e.g. "Hệ thống một cửa điện tử tỉnh".
        #[arg(long, default_value = "Phần mềm một cửa")]
        name: String,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revokes a key: it answers 401 from now on.
    Revoke {
        #[arg(long)]
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates an account and prints its one-time password (changed at first login).
    Add {
        #[arg(long)]
        username: String,
        /// admin (whole province), manager (an agency subtree) or staff (a service point).
        #[arg(long)]
        role: String,
        /// The agency of a manager or staff account.
        #[arg(long)]
        agency: Option<String>,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    /// Disables an account; its sessions end at once.
    Disable {
        #[arg(long)]
        username: String,
    },
    Enable {
        #[arg(long)]
        username: String,
    },
    /// Gives an account a new one-time password; its sessions end.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Creates the accounts of a CSV file (username,role,agency): all or none.
    Import { file: std::path::PathBuf },
}

fn print_pairing(state: &AppState, pairing: &Pairing, json: bool) {
    if json {
        println!(
            "{}",
            json!({"id": pairing.kiosk_id, "pairing_code": pairing.code, "expires_at": pairing.expires_at.to_rfc3339()})
        );
    } else {
        let minutes = (pairing.expires_at - Utc::now()).num_minutes() + 1;
        println!("Kiosk #{}: mã ghép nối {} (dùng một lần, trong {minutes} phút).", pairing.kiosk_id, pairing.code);
        println!("Trên máy tính bảng, mở {}/kiosk/pair và nhập mã này.", state.settings.public_url);
    }
}

pub async fn kiosk(state: &AppState, command: KioskCommand) -> anyhow::Result<()> {
    let cli = Actor::cli();
    match command {
        KioskCommand::Add { agency, name, json } => {
            let pairing = state.register_kiosk(&cli, &agency, &name).await?;
            print_pairing(state, &pairing, json);
        }
        KioskCommand::Repair { id, json } => print_pairing(state, &state.repair_kiosk(&cli, id).await?, json),
        KioskCommand::Revoke { id } => {
            state.revoke_kiosk(&cli, id).await?;
            println!("Đã thu hồi kiosk #{id}.");
        }
        KioskCommand::List { json } => {
            let now = Utc::now();
            let kiosks = state.kiosks().await?;
            let status =
                |k: &app::storage::KioskListing| match (k.revoked_at, k.pairing_expires_at.filter(|at| *at > now)) {
                    (_, Some(_)) => "pending",
                    (Some(_), None) => "revoked",
                    (None, None) if k.paired => "paired",
                    (None, None) => "unpaired",
                };
            if json {
                let list: Vec<Value> = kiosks
                    .iter()
                    .map(|k| {
                        json!({"id": k.kiosk.id, "name": k.kiosk.name, "service_point": k.kiosk.agency_code,
                               "service_point_name": k.agency_name, "status": status(k),
                               "pairing_expires_at": k.pairing_expires_at.map(|t| t.to_rfc3339()),
                               "last_seen_at": k.last_seen_at.map(|t| t.to_rfc3339()),
                               "responses_today": k.responses_today})
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for k in &kiosks {
                    println!("#{:<5} {:<10} {:<20} {}", k.kiosk.id, status(k), k.kiosk.agency_code, k.kiosk.name);
                }
            }
        }
    }
    Ok(())
}

pub async fn apikey(state: &AppState, command: ApikeyCommand) -> anyhow::Result<()> {
    let cli = Actor::cli();
    match command {
        ApikeyCommand::Add { agency, name, json } => {
            let (id, key) = state.register_api_key(&cli, &agency, &name).await?;
            if json {
                println!("{}", json!({"id": id, "key": key, "agency": agency}));
            } else {
                println!("Khóa API #{id} cho {agency} (chỉ hiện một lần): {key}");
            }
        }
        ApikeyCommand::Revoke { id } => {
            state.revoke_api_key(&cli, id).await?;
            println!("Đã thu hồi khóa API #{id}.");
        }
        ApikeyCommand::List { json } => {
            let keys = state.api_keys().await?;
            if json {
                let list: Vec<Value> = keys
                    .iter()
                    .map(|k| {
                        json!({"id": k.id, "name": k.name, "agency": k.agency_code, "created_at": k.created_at.to_rfc3339(),
                               "last_used_at": k.last_used_at.map(|t| t.to_rfc3339()),
                               "revoked_at": k.revoked_at.map(|t| t.to_rfc3339())})
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for k in &keys {
                    let state = if k.revoked_at.is_some() { "đã thu hồi" } else { "đang dùng" };
                    println!("#{:<5} {:<12} {:<20} {}", k.id, state, k.agency_code, k.name);
                }
            }
        }
    }
    Ok(())
}

pub async fn user(state: &AppState, command: UserCommand) -> anyhow::Result<()> {
    let cli = Actor::cli();
    match command {
        UserCommand::Add { username, role, agency } => {
            let role = Role::parse(&role)
                .with_context(|| format!("vai trò \"{role}\" không có; dùng admin, manager hoặc staff"))?;
            let password = state.add_user(&cli, &username, role, agency.as_deref()).await?;
            println!("Đã tạo tài khoản {} ({}).", username.trim().to_lowercase(), role.label());
            println!("Mật khẩu dùng một lần: {password}");
            println!("Người dùng phải đổi mật khẩu khi đăng nhập lần đầu.");
        }
        UserCommand::Disable { username } => {
            state.set_user_disabled(&cli, &username, true).await?;
            println!("Đã khóa tài khoản {username}; các phiên đăng nhập của tài khoản đã kết thúc.");
        }
        UserCommand::Enable { username } => {
            state.set_user_disabled(&cli, &username, false).await?;
            println!("Đã mở khóa tài khoản {username}.");
        }
        UserCommand::ResetPassword { username } => {
            let password = state.reset_password(&cli, &username).await?;
            println!("Mật khẩu dùng một lần mới của {username}: {password}");
        }
        UserCommand::Import { file } => {
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("không đọc được tệp {}", file.display()))?;
            let created = state.import_users(&cli, &text).await?;
            println!("Đã tạo {} tài khoản (mật khẩu dùng một lần, chỉ hiện lần này):", created.len());
            for (username, password) in created {
                println!("  {username:<32} {password}");
            }
        }
        UserCommand::List { json } => {
            let users = state.users().await?;
            if json {
                let list: Vec<Value> = users
                    .iter()
                    .map(|u| {
                        json!({"username": u.user.username, "role": u.user.role, "agency": u.user.agency_code,
                               "disabled": u.disabled, "last_login_at": u.last_login_at.map(|t| t.to_rfc3339())})
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for u in &users {
                    let state = if u.disabled { "đã khóa" } else { "" };
                    println!(
                        "{:<32} {:<8} {:<20} {state}",
                        u.user.username,
                        u.user.role.as_str(),
                        u.user.agency_code.as_deref().unwrap_or("—")
                    );
                }
            }
        }
    }
    Ok(())
}
