//! Command line: every flag is also an environment variable (`HAILONG_…`).

mod accounts;
mod backup;
mod copy;
mod registry;

use std::net::SocketAddr;

use anyhow::{bail, Context};
use app::domain::anomaly::KioskLimits;
use app::domain::audit::Actor;
use app::domain::delivery::Backoff;
use app::domain::invitation::OfficerLimits;
use app::domain::Period;
use app::service::delivery::{DeliverySettings, SmsGateway, SmtpRelay};
use app::service::{AppState, Settings};
use clap::{Parser, Subcommand};

pub use accounts::{ApikeyCommand, KioskCommand, UserCommand};
pub use registry::AgencyCommand;

#[derive(Debug, Parser)]
#[command(name = "hailong", version, about = "Khảo sát sự hài lòng của người dân, tổ chức (SIPAS)")]
pub struct Cli {
    /// sqlite://file.db (created if missing) or postgres://user:password@host/database.
    #[arg(
        long,
        env = "HAILONG_DATABASE_URL",
        default_value = "sqlite://data/hailong.db",
        global = true,
        hide_env_values = true
    )]
    database_url: String,
    /// Bearer token for the indices API and the admin view.
    #[arg(long, env = "HAILONG_ADMIN_TOKEN", global = true, hide_env_values = true)]
    admin_token: Option<String>,
    /// Address citizens and kiosks reach the server at, used in printed links.
    #[arg(long, env = "HAILONG_PUBLIC_URL", default_value = app::service::LOCAL_URL, global = true)]
    public_url: String,
    /// Key survey links are derived from (at least 32 characters). Default: kept in a file
    /// beside the SQLite database, created on first use.
    #[arg(long, env = "HAILONG_LINK_SECRET", global = true, hide_env_values = true)]
    link_secret: Option<String>,
    /// Days a survey link stays open.
    #[arg(long, env = "HAILONG_INVITATION_DAYS", default_value_t = app::service::INVITATION_DAYS, global = true)]
    invitation_days: u32,
    /// Minutes a kiosk pairing code stays valid.
    #[arg(long, env = "HAILONG_PAIRING_MINUTES", default_value_t = app::service::kiosks::PAIRING_MINUTES, global = true)]
    pairing_minutes: u32,
    /// The province's satisfaction targets, year:percent, e.g. 2025:90,2030:95.
    #[arg(long, env = "HAILONG_TARGETS", default_value = app::domain::report::DEFAULT_TARGETS_TEXT, global = true)]
    targets: String,
    /// Survey-link answers stored together in one batch, so that none can be paired with its
    /// dossier (fewer wait at most to the end of the hour). 1 stores each at once: tests only.
    #[arg(long, env = "HAILONG_LINK_MIX", default_value_t = app::service::mixer::LINK_MIX, global = true)]
    link_mix: u32,
    /// Bearer token a Prometheus scraper sends for /metrics (at least 16 characters); without
    /// it, /metrics is off.
    #[arg(long, env = "HAILONG_METRICS_TOKEN", global = true, hide_env_values = true)]
    metrics_token: Option<String>,
    /// Fewest responses any published figure may describe (k, 2 to 100): an index, a count per
    /// level, a mean, an interval, an expectations share or a comment list of fewer responses is
    /// not shown anywhere.
    #[arg(long, env = "HAILONG_MIN_CELL", default_value_t = app::domain::index::MIN_CELL, global = true)]
    min_cell: u64,
    /// Fewest responses a unit needs to be ranked when its completed dossiers (N) were not
    /// entered for the period (1 to 10000); with N entered, its minimum sample decides.
    #[arg(long, env = "HAILONG_RANKING_FLOOR", default_value_t = app::domain::report::RANKING_FLOOR, global = true)]
    ranking_floor: u64,
    /// Fewest valid answers each answered criterion of an element needs for the element to count
    /// in the overall index (1 to 10000); a unit whose overall lacks an element is not ranked.
    #[arg(long, env = "HAILONG_ELEMENT_MINIMUM", default_value_t = app::domain::index::ELEMENT_MINIMUM, global = true)]
    element_minimum: u64,
    /// Weigh each unit's kiosk and link answers by the share of its completed dossiers each
    /// channel reaches, in the figures weighted by N: kiosk:SHARE,link:SHARE adding up to 1,
    /// e.g. kiosk:0.7,link:0.3. Empty (the default): a unit's answers count together.
    #[arg(long, env = "HAILONG_CHANNEL_WEIGHTS", default_value = "", global = true)]
    channel_weights: String,
    /// Log lines as text (for a person) or as JSON objects, one per line (for a log collector).
    #[arg(long, env = "HAILONG_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Applies the migrations and loads the bundled questionnaire.
    Migrate,
    /// Starts a province on an empty database: its root agency and the first admin account.
    Init {
        /// The province's code (the national administrative-unit code, e.g. 25).
        #[arg(long)]
        province: String,
        /// Its name, e.g. "UBND tỉnh Phú Thọ".
        #[arg(long)]
        name: String,
        /// Username of the first admin account.
        #[arg(long, default_value = "admin")]
        admin: String,
    },
    /// Loads a demo province (idempotent) and prints what to open.
    Demo {
        /// Also load this many synthetic responses spread over the last 24 months, through the
        /// bulk path (for benchmarks and trying the reports).
        #[arg(long)]
        responses: Option<u64>,
    },
    /// The report aggregates (bảng tổng hợp).
    Aggregates {
        #[command(subcommand)]
        command: AggregatesCommand,
    },
    /// Completed dossiers per agency and month (số hồ sơ đã giải quyết), for the rankings'
    /// minimum sample.
    Dossiers {
        #[command(subcommand)]
        command: DossiersCommand,
    },
    /// Agencies (cơ quan, đơn vị).
    Agency {
        #[command(subcommand)]
        command: AgencyCommand,
    },
    /// Kiosks (thiết bị khảo sát tại điểm phục vụ).
    Kiosk {
        #[command(subcommand)]
        command: KioskCommand,
    },
    /// API keys for one-stop software (khóa tích hợp).
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Staff accounts (tài khoản).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Copies the database into FILE while the server keeps serving (a consistent snapshot,
    /// checked before it is named FILE). The link secret is not in it: keep that apart.
    Backup { file: std::path::PathBuf },
    /// Replaces the database with the backup FILE after checking it; the server must be
    /// stopped. The replaced database is kept beside it.
    Restore { file: std::path::PathBuf },
    /// Copies a whole database into another, empty one — e.g. a province's SQLite file into
    /// PostgreSQL — and checks the copy by its row counts and its indices. The source is read as
    /// of one moment; stop the servers first so that nothing written after it is left behind.
    Copy {
        /// The database copied, e.g. sqlite://data/hailong.db.
        #[arg(long)]
        from: String,
        /// The empty database it is copied into, e.g. postgres://hailong@localhost/hailong.
        #[arg(long)]
        to: String,
    },
    /// Prints the satisfaction indices of an agency and its subtree.
    Index {
        #[arg(long)]
        agency: String,
        /// First day, YYYY-MM-DD, Vietnam time.
        #[arg(long)]
        from: Option<String>,
        /// Last day (inclusive), YYYY-MM-DD, Vietnam time.
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Serves the kiosk, the admin view and the API.
    Serve {
        #[arg(long, env = "HAILONG_ADDR", default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// Seconds without a touch before the kiosk discards the answers.
        #[arg(long, env = "HAILONG_KIOSK_IDLE_SECONDS", default_value_t = app::service::KIOSK_IDLE_SECONDS)]
        kiosk_idle_seconds: u32,
        /// Seconds the kiosk's thank-you screen stays.
        #[arg(long, env = "HAILONG_KIOSK_THANKS_SECONDS", default_value_t = app::service::KIOSK_THANKS_SECONDS)]
        kiosk_thanks_seconds: u32,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        officers: OfficerArgs,
        /// Reverse proxies whose X-Forwarded-For names the client, comma-separated addresses or
        /// ranges (e.g. 127.0.0.1 or 10.0.0.0/24).
        #[arg(long, env = "HAILONG_TRUSTED_PROXIES", value_delimiter = ',', value_parser = crate::http::parse_proxy)]
        trusted_proxies: Vec<ipnet::IpNet>,
        #[command(flatten)]
        delivery: DeliveryArgs,
    },
}

#[derive(Debug, Subcommand)]
enum DossiersCommand {
    /// Stores the counts of a CSV file of `agency,month,completed` lines (month as 2026-10;
    /// header optional); a month entered again is replaced. Nothing is stored if a line is bad.
    Import { file: std::path::PathBuf },
}

#[derive(Debug, Subcommand)]
enum AggregatesCommand {
    /// Recomputes every aggregate from the stored responses (the server may keep running).
    Rebuild,
}

/// How fast a kiosk may send, and what gets it flagged for the admin.
#[derive(Debug, clap::Args)]
struct LimitArgs {
    /// Responses one kiosk may send within a minute; more are refused with 429 (0: no limit).
    #[arg(long, env = "HAILONG_KIOSK_MAX_PER_MINUTE", default_value_t = KioskLimits::default().max_per_minute)]
    kiosk_max_per_minute: u32,
    /// Responses from one kiosk within ten minutes from which it is flagged.
    #[arg(long, env = "HAILONG_KIOSK_BURST", default_value_t = KioskLimits::default().burst)]
    kiosk_burst: u32,
    /// Identical sets of answers from one kiosk within half an hour from which it is flagged.
    #[arg(long, env = "HAILONG_KIOSK_IDENTICAL", default_value_t = KioskLimits::default().identical)]
    kiosk_identical: u32,
}

/// Who may make survey links, how long their maker may print them, and what flags an officer.
#[derive(Debug, clap::Args)]
struct OfficerArgs {
    /// Survey links one officer may make in a day; more are refused and flagged (0: no limit).
    #[arg(long, env = "HAILONG_OFFICER_MAX_PER_DAY", default_value_t = OfficerLimits::default().max_per_day)]
    officer_max_per_day: u32,
    /// A link answered within this many minutes of being made flags its officer.
    #[arg(long, env = "HAILONG_QUICK_ANSWER_MINUTES", default_value_t = OfficerLimits::default().quick_answer_minutes)]
    quick_answer_minutes: u32,
    /// Minutes after making a link during which its maker may show and print it again (1 to 480).
    #[arg(long, env = "HAILONG_REPRINT_MINUTES", default_value_t = OfficerLimits::default().reprint_minutes)]
    reprint_minutes: u32,
    /// Only the one-stop software (the integration API) makes survey links; the staff page only
    /// looks them up.
    #[arg(long, env = "HAILONG_INVITATIONS_API_ONLY")]
    invitations_api_only: bool,
}

impl OfficerArgs {
    fn limits(&self) -> anyhow::Result<OfficerLimits> {
        if !(1..=OfficerLimits::MAX_REPRINT_MINUTES).contains(&self.reprint_minutes) {
            bail!("HAILONG_REPRINT_MINUTES phải từ 1 đến {} phút", OfficerLimits::MAX_REPRINT_MINUTES);
        }
        Ok(OfficerLimits {
            max_per_day: self.officer_max_per_day,
            quick_answer_minutes: self.quick_answer_minutes,
            reprint_minutes: self.reprint_minutes,
            api_only: self.invitations_api_only,
        })
    }
}

/// Gateways for sending survey links. Without them, messages wait in the admin's outbox.
#[derive(Debug, clap::Args)]
struct DeliveryArgs {
    /// SMS gateway URL; may contain {phone} (0912345678), {phone84} (84912345678), {link} and {message}.
    #[arg(long, env = "HAILONG_SMS_URL", hide_env_values = true)]
    sms_url: Option<String>,
    /// HTTP method of the SMS gateway.
    #[arg(long, env = "HAILONG_SMS_METHOD", default_value = "POST")]
    sms_method: String,
    /// A header for the SMS gateway, "Name: value"; repeat the flag, or one per line in the variable.
    #[arg(long = "sms-header", env = "HAILONG_SMS_HEADERS", value_delimiter = '\n', hide_env_values = true)]
    sms_headers: Vec<String>,
    /// Body sent to the SMS gateway; the same placeholders, escaped for its Content-Type.
    #[arg(long, env = "HAILONG_SMS_BODY", default_value = r#"{"to":"{phone}","message":"{message}"}"#)]
    sms_body: String,
    /// SMTP relay: smtps://user:password@host, smtp://user:password@host:587?tls=required, smtp://host:25.
    #[arg(long, env = "HAILONG_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// Sender of the e-mails, e.g. "Khảo sát hài lòng <khaosat@phutho.gov.vn>".
    #[arg(long, env = "HAILONG_MAIL_FROM")]
    mail_from: Option<String>,
    /// Seconds before the first retry of a failed message; each retry waits twice as long (at most an hour).
    #[arg(long, env = "HAILONG_DELIVERY_RETRY_SECONDS", default_value_t = app::domain::delivery::RETRY_BASE_SECONDS)]
    delivery_retry_seconds: u64,
    /// Tries before a message is given up as failed.
    #[arg(long, env = "HAILONG_DELIVERY_MAX_ATTEMPTS", default_value_t = app::domain::delivery::MAX_ATTEMPTS)]
    delivery_max_attempts: u32,
}

impl DeliveryArgs {
    fn settings(&self) -> anyhow::Result<DeliverySettings> {
        let headers = self
            .sms_headers
            .iter()
            .filter(|line| !line.trim().is_empty())
            .map(|line| match line.split_once(':') {
                Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_owned(), value.trim().to_owned())),
                _ => bail!("tiêu đề cổng SMS phải có dạng \"Tên: giá trị\": {line}"),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let sms = self.sms_url.as_ref().filter(|url| !url.trim().is_empty()).map(|url| SmsGateway {
            url: url.trim().to_owned(),
            method: self.sms_method.clone(),
            headers,
            body: self.sms_body.clone(),
        });
        let smtp = match (self.smtp_url.as_ref().filter(|url| !url.trim().is_empty()), &self.mail_from) {
            (None, _) => None,
            (Some(url), Some(from)) => Some(SmtpRelay { url: url.trim().to_owned(), from: from.clone() }),
            (Some(_), None) => bail!("có HAILONG_SMTP_URL thì cần cả HAILONG_MAIL_FROM (địa chỉ gửi thư)"),
        };
        if self.delivery_max_attempts == 0 {
            bail!("HAILONG_DELIVERY_MAX_ATTEMPTS phải lớn hơn 0");
        }
        let backoff = Backoff {
            base: std::time::Duration::from_secs(self.delivery_retry_seconds),
            max_attempts: self.delivery_max_attempts,
        };
        Ok(DeliverySettings { sms, smtp, backoff })
    }
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        if let Some(token) = &self.admin_token {
            if token.trim().chars().count() < 16 {
                bail!("mã quản trị (HAILONG_ADMIN_TOKEN) phải có ít nhất 16 ký tự; để trống thì bỏ hẳn biến này");
            }
        }
        if self.metrics_token.as_ref().is_some_and(|token| token.chars().count() < 16) {
            bail!("mã đọc số liệu (HAILONG_METRICS_TOKEN) phải có ít nhất 16 ký tự");
        }
        if !(1..=3650).contains(&self.invitation_days) {
            bail!("HAILONG_INVITATION_DAYS phải từ 1 đến 3650 ngày");
        }
        app::storage::check_url(&self.database_url)?;
        match &self.command {
            Command::Backup { file } => return backup::backup(&self.database_url, file).await,
            Command::Restore { file } => return backup::restore(&self.database_url, file).await,
            Command::Copy { from, to } => return copy::copy(from, to).await,
            _ => {}
        }
        // A server keeps its database to itself; the other commands may run beside it.
        let _serving = match &self.command {
            Command::Serve { .. } => Some(backup::lock_database(&self.database_url)?),
            _ => None,
        };
        let public_url = self.public_url.trim_end_matches('/').to_owned();
        let link_secret = match &self.link_secret {
            Some(secret) if secret.chars().count() >= 32 => secret.clone(),
            Some(_) => bail!("HAILONG_LINK_SECRET phải có ít nhất 32 ký tự"),
            None => link_secret_file(&self.database_url)?,
        };
        responses_within(
            "HAILONG_MIN_CELL",
            self.min_cell,
            app::domain::index::MIN_CELL_RANGE,
            app::domain::index::MIN_CELL,
        )?;
        let floor_range = app::domain::report::RANKING_FLOOR_RANGE;
        responses_within("HAILONG_RANKING_FLOOR", self.ranking_floor, floor_range, app::domain::report::RANKING_FLOOR)?;
        let element_range = app::domain::index::ELEMENT_MINIMUM_RANGE;
        let element_default = app::domain::index::ELEMENT_MINIMUM;
        responses_within("HAILONG_ELEMENT_MINIMUM", self.element_minimum, element_range, element_default)?;
        if !(1..=10_080).contains(&self.pairing_minutes) {
            bail!("HAILONG_PAIRING_MINUTES phải từ 1 đến 10080 phút (một tuần)");
        }
        let base = Settings {
            admin_token: self.admin_token.clone(),
            public_url: public_url.clone(),
            link_secret,
            invitation_days: self.invitation_days,
            secure_cookies: public_url.starts_with("https://"),
            pairing_minutes: self.pairing_minutes,
            link_mix: self.link_mix.max(1),
            metrics_token: self.metrics_token.clone(),
            targets: app::domain::report::parse_targets(&self.targets).map_err(anyhow::Error::msg)?,
            min_cell: self.min_cell,
            ranking_floor: self.ranking_floor,
            element_minimum: self.element_minimum,
            channel_shares: app::domain::weighting::ChannelShares::parse(&self.channel_weights)
                .map_err(|e| anyhow::anyhow!("HAILONG_CHANNEL_WEIGHTS: {e}"))?,
            ..Settings::default()
        };
        let settings = match &self.command {
            Command::Serve { kiosk_idle_seconds, kiosk_thanks_seconds, delivery, limits, officers, .. } => Settings {
                kiosk_idle_seconds: *kiosk_idle_seconds,
                kiosk_thanks_seconds: *kiosk_thanks_seconds,
                delivery: delivery.settings()?,
                kiosk_limits: KioskLimits {
                    max_per_minute: limits.kiosk_max_per_minute,
                    burst: limits.kiosk_burst,
                    identical: limits.kiosk_identical,
                },
                officer_limits: officers.limits()?,
                ..base
            },
            _ => base,
        };
        let state = AppState::start(&self.database_url, settings)
            .await
            .with_context(|| format!("không mở được cơ sở dữ liệu {}", app::storage::redacted(&self.database_url)))?;
        match self.command {
            Command::Migrate => {
                println!("Đã cập nhật cơ sở dữ liệu; phiếu khảo sát hiện hành: {}", state.questionnaire.version);
            }
            Command::Init { province, name, admin } => registry::init(&state, &province, &name, &admin).await?,
            Command::Demo { responses } => {
                crate::demo::load(&state, &public_url).await?;
                if let Some(count) = responses {
                    crate::demo::load_bulk(&state, count).await?;
                }
            }
            Command::Aggregates { command: AggregatesCommand::Rebuild } => {
                let started = std::time::Instant::now();
                let counted = state.rebuild_aggregates().await?;
                println!(
                    "Đã tính lại bảng tổng hợp từ {counted} phiếu trong {:.1} giây. Máy chủ đang chạy dùng bảng mới sau tối đa {} phút (hoặc khởi động lại hailong serve).",
                    started.elapsed().as_secs_f64(),
                    app::service::tally_cache::KEPT_FOR.as_secs() / 60
                );
            }
            Command::Dossiers { command: DossiersCommand::Import { file } } => {
                let text =
                    std::fs::read_to_string(&file).with_context(|| format!("không đọc được tệp {}", file.display()))?;
                let stored = state.enter_dossier_counts(&Actor::cli(), &text).await?;
                println!("Đã lưu số hồ sơ đã giải quyết của {stored} đơn vị-tháng.");
            }
            Command::Agency { command } => registry::run(&state, command).await?,
            Command::Kiosk { command } => accounts::kiosk(&state, command).await?,
            Command::Apikey { command } => accounts::apikey(&state, command).await?,
            Command::User { command } => accounts::user(&state, command).await?,
            Command::Backup { .. } | Command::Restore { .. } | Command::Copy { .. } => {} // done before the state starts
            Command::Index { agency, from, to, json } => {
                let period = Period::parse(from.as_deref(), to.as_deref())?;
                let report = state.indices_report(&agency, &period.into()).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    print_index(&report.index);
                }
            }
            Command::Serve { addr, trusted_proxies, .. } => {
                let demo = crate::demo::accounts_still_on_demo_password(&state).await?;
                if !demo.is_empty() {
                    let rule = "!".repeat(78);
                    eprintln!(
                        "{rule}\n!! CẢNH BÁO: tài khoản demo còn dùng mật khẩu demo công khai: {}.\n\
                         !! Ai biết mật khẩu demo (hailong demo in ra) đều đăng nhập được. Hãy đăng nhập để đổi mật khẩu,\n\
                         !! hoặc khóa tài khoản: hailong user disable --username <tên>. Đừng dùng demo cho dữ liệu thật.\n{rule}",
                        demo.join(", ")
                    );
                }
                if let Some(warning) = crate::http::public_url_mismatch(&state.settings.public_url, addr) {
                    eprintln!("Chú ý: {warning}");
                    tracing::warn!(public_url = %state.settings.public_url, %addr, "the public URL names another address");
                }
                let media = state.delivery_media();
                if media.is_empty() {
                    println!("Chưa cấu hình cổng SMS hay máy chủ thư: tin gửi đường dẫn nằm trong /admin/outbox.");
                }
                state.start_delivery_worker();
                state.start_link_mixer();
                state.prepare_reports();
                let proxies = crate::http::TrustedProxies(std::sync::Arc::new(trusted_proxies));
                crate::http::serve(state, addr, proxies).await?
            }
        }
        Ok(())
    }
}

/// Refuses a setting counted in responses outside `range`, in Vietnamese, naming its default.
fn responses_within(name: &str, value: u64, range: std::ops::RangeInclusive<u64>, default: u64) -> anyhow::Result<()> {
    if !range.contains(&value) {
        bail!("{name} phải từ {} đến {} phiếu (mặc định {default})", range.start(), range.end());
    }
    Ok(())
}

/// The link secret kept beside a SQLite database (`<file>.link-secret`, mode 0600).
fn link_secret_file(database_url: &str) -> anyhow::Result<String> {
    if app::storage::check_url(database_url)? == app::storage::Engine::Postgres {
        bail!("với PostgreSQL, hãy đặt HAILONG_LINK_SECRET (ít nhất 32 ký tự, cùng một giá trị trên mọi máy chủ)")
    }
    let Some(database) = app::storage::sqlite_path(database_url) else {
        bail!("cơ sở dữ liệu trong bộ nhớ không giữ được khóa liên kết; hãy đặt HAILONG_LINK_SECRET")
    };
    let mut path = database.into_os_string();
    path.push(".link-secret");
    let path = std::path::PathBuf::from(path);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if existing.trim().len() >= 32 {
            return Ok(existing.trim().to_owned());
        }
        bail!("tệp khóa liên kết {} hỏng (ngắn hơn 32 ký tự); sửa hoặc đặt HAILONG_LINK_SECRET", path.display());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let secret = app::service::secret::new_token();
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
        file.write_all(secret.as_bytes())?;
    }
    Ok(secret)
}

fn print_index(index: &app::domain::SatisfactionIndex) {
    let show = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}%"));
    println!("{}: {} phiếu, chỉ số hài lòng chung {}", index.agency, index.responses, show(index.overall));
    if let Some(why) = &index.withheld {
        println!("  Không công bố chỉ số: {why}.");
    }
    for element in &index.elements {
        println!("  {} {}", element.code, show(element.index));
        for c in &element.criteria {
            println!("    {:<4} {:>8}  ({} câu trả lời hợp lệ)", c.code, show(c.index), c.valid);
        }
    }
}
