//! Services (server only): what the HTTP API, the server functions and the CLI call.
//! They parse nothing from HTTP and render nothing; they join the domain to storage.

pub mod accounts;
pub mod delivery;
pub mod gate;
pub mod invitations;
pub mod keys;
pub mod kiosks;
pub mod lookups;
pub mod mixer;
pub mod registry;
pub mod reports;
pub mod secret;
pub mod surveys;
pub mod tally_cache;
pub mod writer;

use std::sync::Arc;

use chrono::Utc;

use crate::domain::anomaly::{KioskActivity, KioskLimits};
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::tally::Layout;
use crate::domain::{FieldErrors, Questionnaire};
use crate::storage::{AuditFilter, Db, StorageError};
use writer::ResponseWriter;

/// Settings the pages and handlers need at run time.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Bearer token for the indices API and the admin view; `None` disables both.
    pub admin_token: Option<String>,
    /// Seconds without a touch after which the kiosk discards answers and shows the welcome.
    pub kiosk_idle_seconds: u32,
    /// Seconds the kiosk shows its thank-you screen.
    pub kiosk_thanks_seconds: u32,
    /// Whether cookies get `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// Address citizens reach the server at, for survey links (no trailing slash).
    pub public_url: String,
    /// Key the survey-link tokens are derived from; keep it secret and stable.
    pub link_secret: String,
    /// Days a survey link stays open.
    pub invitation_days: u32,
    /// Gateways for sending survey links, and the retry policy.
    pub delivery: delivery::DeliverySettings,
    /// How fast a kiosk may send, and what gets it flagged.
    pub kiosk_limits: KioskLimits,
    /// Minutes a kiosk pairing code stays valid.
    pub pairing_minutes: u32,
    /// The province's satisfaction targets (≥ 90 % by 2025, ≥ 95 % by 2030 by default).
    pub targets: Vec<crate::domain::report::Target>,
    /// Link answers stored together in one batch (k); fewer wait at most to the end of the hour.
    pub link_mix: u32,
    /// Bearer token a Prometheus scraper sends for `/metrics`; `None` turns `/metrics` off.
    pub metrics_token: Option<String>,
    /// Who may make survey links, for how long their maker may show them, and what flags an officer.
    pub officer_limits: crate::domain::invitation::OfficerLimits,
    /// Fewest responses a published figure may describe (k, `HAILONG_MIN_CELL`).
    pub min_cell: u64,
    /// Fewest responses a unit whose completed dossiers were not entered needs to be ranked
    /// (`HAILONG_RANKING_FLOOR`).
    pub ranking_floor: u64,
    /// Fewest valid answers an element needs to count in the overall
    /// (`HAILONG_ELEMENT_MINIMUM`).
    pub element_minimum: u64,
    /// The share of every unit's completed dossiers each channel reaches, when the province
    /// weighs channels in weighted figures (`HAILONG_CHANNEL_WEIGHTS`); none: it does not.
    pub channel_shares: Option<crate::domain::weighting::ChannelShares>,
}

/// Days a survey link stays open, unless the province sets another.
pub const INVITATION_DAYS: u32 = 30;
/// Seconds without a touch before a kiosk discards the answers, unless the province sets another.
pub const KIOSK_IDLE_SECONDS: u32 = 90;
/// Seconds a kiosk shows its thank-you screen, unless the province sets another.
pub const KIOSK_THANKS_SECONDS: u32 = 10;
/// Where the server is reached when no public URL is set (`hailong serve`'s default address).
pub const LOCAL_URL: &str = "http://127.0.0.1:3000";

impl Default for Settings {
    fn default() -> Self {
        Self {
            admin_token: None,
            kiosk_idle_seconds: KIOSK_IDLE_SECONDS,
            kiosk_thanks_seconds: KIOSK_THANKS_SECONDS,
            secure_cookies: false,
            public_url: LOCAL_URL.into(),
            link_secret: String::new(),
            invitation_days: INVITATION_DAYS,
            delivery: delivery::DeliverySettings::default(),
            kiosk_limits: KioskLimits::default(),
            pairing_minutes: kiosks::PAIRING_MINUTES,
            targets: crate::domain::report::DEFAULT_TARGETS.to_vec(),
            link_mix: mixer::LINK_MIX,
            metrics_token: None,
            officer_limits: crate::domain::invitation::OfficerLimits::default(),
            min_cell: crate::domain::index::MIN_CELL,
            ranking_floor: crate::domain::report::RANKING_FLOOR,
            element_minimum: crate::domain::index::ELEMENT_MINIMUM,
            channel_shares: None,
        }
    }
}

/// The error a server function gives when something inside failed: the cause goes to the log,
/// the citizen or officer gets a sentence in Vietnamese.
pub fn internal(error: impl std::fmt::Display) -> leptos::prelude::ServerFnError {
    tracing::error!(%error, "server function failed");
    leptos::prelude::ServerFnError::new("Máy chủ đang gặp sự cố, vui lòng thử lại sau.")
}

/// A refused server-function call: the page or form gets `status` and the Vietnamese `message`.
pub fn refuse<T>(
    status: axum::http::StatusCode,
    message: impl Into<String>,
) -> Result<T, leptos::prelude::ServerFnError> {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    Err(leptos::prelude::ServerFnError::new(message.into()))
}

/// Response times are kept to the hour, so that nobody who saw a citizen at a counter or
/// sent a link can find their answer by its minute.
pub fn coarse(at: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    use chrono::{DurationRound, TimeDelta};
    at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at)
}

/// When a response counts as answered: now (to the hour, see [`coarse`]) when answered today,
/// else the start of the Vietnam `day` the client says it was answered on (a kiosk's queue
/// sent after a day offline counts on the day its citizens answered).
pub fn answered_at(day: Option<chrono::NaiveDate>, now: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    use crate::domain::period::{start_of_day, vietnam_day};
    match day {
        Some(day) if day != vietnam_day(now) => start_of_day(day),
        _ => coarse(now),
    }
}

/// Everything a request needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Private to the services: the one seam a second database engine plugs into.
    db: Db,
    pub writer: ResponseWriter,
    pub questionnaire: Arc<Questionnaire>,
    /// The tally layout of every questionnaire version stored, for reading the aggregates.
    pub(crate) layouts: Arc<std::collections::HashMap<String, Layout>>,
    pub settings: Arc<Settings>,
    /// Logins, password checks and pairing codes, one at a time after each client's throttle.
    pub(crate) login_gate: Arc<gate::LoginGate>,
    /// The SMS and e-mail gateways; the worker is started by `start_delivery_worker`.
    pub(crate) deliveries: Arc<delivery::Deliveries>,
    /// Recent submissions per kiosk, for the rate limit and the anomaly flags (memory only).
    pub(crate) kiosk_activity: Arc<std::sync::Mutex<std::collections::HashMap<i64, KioskActivity>>>,
    /// When each kiosk and API key was last noted as seen, so that it is written once a minute.
    pub(crate) last_noted: Arc<std::sync::Mutex<std::collections::HashMap<String, chrono::DateTime<Utc>>>>,
    /// Seals link answers while they wait for their mixed batch (`mixer`).
    pub(crate) sealer: Arc<mixer::Sealer>,
    /// One release of held link answers at a time.
    pub(crate) release_gate: Arc<tokio::sync::Mutex<()>>,
    /// Kiosks by token and served agencies, remembered for a second (`lookups`).
    pub(crate) lookups: Arc<lookups::Lookups>,
    /// The disclosure steps of every agency and channel over the final days (`reports`).
    pub(crate) steps: Arc<tokio::sync::Mutex<Arc<crate::domain::disclosure::StepBook>>>,
    /// The decoded tallies of final spans the reports read (`tally_cache`).
    pub(crate) tallies: Arc<std::sync::Mutex<tally_cache::TallyCache>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("phiếu trả lời không hợp lệ")]
    Invalid(FieldErrors),
    #[error("không có cơ quan, đơn vị mã {0}")]
    UnknownAgency(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("bộ ghi phiếu đã dừng")]
    WriterStopped,
    #[error("bộ ghi phiếu đang quá tải")]
    Overloaded,
    #[error("cấu hình không hợp lệ: {0}")]
    Config(String),
    #[error("thiết bị gửi quá nhiều phiếu trong một phút")]
    RateLimited,
    #[error(
        "không phân tổ được theo \"{0}\"; hãy dùng channel, service_point hoặc mã một câu hỏi thông tin người trả lời"
    )]
    UnknownBreakdown(String),
    #[error("tệp số hồ sơ không hợp lệ:\n{}", .0.join("\n"))]
    BadDossierCounts(Vec<String>),
}

impl AppState {
    /// Opens the database, applies migrations, installs the bundled questionnaire when none is
    /// current, and starts the response writer.
    pub async fn start(database_url: &str, mut settings: Settings) -> Result<Self, ServiceError> {
        if settings.link_secret.len() < 32 {
            // Safe but unstable: links would change at the next start. The CLI passes a stable one.
            tracing::warn!("no link secret configured: survey links last until the server restarts");
            settings.link_secret = secret::new_token();
        }
        let deliveries = Arc::new(delivery::Deliveries::new(&settings.delivery)?);
        let db = Db::open(database_url).await?;
        db.migrate().await?;
        let questionnaire = match db.current_questionnaire().await? {
            Some(q) => q,
            None => {
                let bundled = Questionnaire::bundled();
                db.install_questionnaire(&bundled, crate::domain::questionnaire::BUNDLED_SIPAS).await?;
                bundled
            }
        };
        let layouts: std::collections::HashMap<String, Layout> =
            db.questionnaires().await?.iter().map(|q| (q.version.clone(), Layout::of(q))).collect();
        if db.aggregates_missing().await? {
            tracing::info!("computing the report aggregates of the stored responses");
            let counted = db.rebuild_aggregates(&layouts).await?;
            tracing::info!(counted, "report aggregates computed");
        }
        let writer = ResponseWriter::start(db.clone(), Layout::of(&questionnaire));
        let sealer = Arc::new(mixer::Sealer::new(&settings.link_secret));
        Ok(Self {
            db,
            writer,
            questionnaire: Arc::new(questionnaire),
            layouts: Arc::new(layouts),
            settings: Arc::new(settings),
            login_gate: Arc::default(),
            deliveries,
            kiosk_activity: Arc::default(),
            last_noted: Arc::default(),
            sealer,
            release_gate: Arc::default(),
            lookups: Arc::default(),
            steps: Arc::default(),
            tallies: Arc::default(),
        })
    }

    /// Copies the write-ahead log into the database file and empties it; false while readers
    /// still need it (try again later).
    pub async fn checkpoint(&self) -> Result<bool, ServiceError> {
        Ok(self.db.truncate_wal().await?)
    }

    /// Recomputes the report aggregates from the stored responses; returns how many were counted.
    pub async fn rebuild_aggregates(&self) -> Result<u64, ServiceError> {
        let counted = self.db.rebuild_aggregates(&self.layouts).await?;
        self.forget_steps().await;
        Ok(counted)
    }

    /// Closes the database (at the end of `serve`).
    pub async fn close(&self) {
        self.db.close().await;
    }

    /// Whether `token` is the configured metrics token.
    pub fn is_metrics_token(&self, token: &str) -> bool {
        self.settings.metrics_token.as_deref().is_some_and(|expected| secret::same(expected, token))
    }

    /// Whether this server can take answers: the database answers on both pools and the
    /// response writer runs. What a load balancer asks before sending it requests.
    pub async fn ready(&self) -> Result<(), ServiceError> {
        if !self.writer.is_running() {
            return Err(ServiceError::WriterStopped);
        }
        self.db.ready().await?;
        Ok(())
    }

    /// Sets the database pool gauges (`hailong_db_connections`), read when `/metrics` is scraped.
    pub fn gauge_pools(&self) {
        for (pool, open, idle) in self.db.pool_use() {
            let in_use = (open as usize).saturating_sub(idle);
            metrics::gauge!("hailong_db_connections", "pool" => pool, "state" => "in_use").set(in_use as f64);
            metrics::gauge!("hailong_db_connections", "pool" => pool, "state" => "idle").set(idle as f64);
        }
    }

    /// Whether `token` is the configured admin token.
    pub fn is_admin_token(&self, token: &str) -> bool {
        self.settings.admin_token.as_deref().is_some_and(|expected| secret::same(expected, token))
    }

    /// How many responses are stored (for checks and tests).
    pub async fn count_responses(&self) -> Result<u64, ServiceError> {
        Ok(self.db.count_responses().await?)
    }

    /// How many answer rows are stored (for checks and tests).
    pub async fn count_answers(&self) -> Result<u64, ServiceError> {
        Ok(self.db.count_answers().await?)
    }

    /// Every phone number and e-mail address still held, with its delivery id: what privacy
    /// checks expect to be empty once messages are sent or closed.
    pub async fn stored_contacts(&self) -> Result<Vec<(i64, String)>, ServiceError> {
        Ok(self.db.stored_contacts().await?)
    }

    /// How many failed logins and pairing tries are remembered (older ones are pruned).
    pub async fn count_login_failures(&self) -> Result<u64, ServiceError> {
        Ok(self.db.count_login_failures().await?)
    }

    /// Audit lines matching `filter`, newest first.
    pub async fn audit_log(&self, filter: &AuditFilter, limit: u32) -> Result<Vec<AuditEntry>, ServiceError> {
        Ok(self.db.audit_log(filter, limit).await?)
    }

    /// Records an action in the audit log.
    pub async fn audit(
        &self,
        actor: &crate::domain::audit::Actor,
        action: AuditAction,
        subject: &str,
    ) -> Result<(), ServiceError> {
        Ok(self.db.audit(actor, action, subject).await?)
    }

    /// Whether `key` (a kiosk id, an API key id) was noted less than a minute ago; if not,
    /// notes it now and returns the minute to store.
    pub(crate) fn note_once_a_minute(&self, key: String) -> Option<chrono::DateTime<Utc>> {
        use chrono::{DurationRound, TimeDelta};
        let now = Utc::now();
        let minute = now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now);
        let mut noted = self.last_noted.lock().unwrap_or_else(|e| e.into_inner());
        match noted.get(&key) {
            Some(last) if *last == minute => None,
            _ => {
                noted.insert(key, minute);
                Some(minute)
            }
        }
    }
}
