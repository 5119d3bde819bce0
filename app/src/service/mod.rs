//! Services (server only): what the HTTP API, the server functions and the CLI call.
//! They parse nothing from HTTP and render nothing; they join the domain to storage.

pub mod accounts;
pub mod delivery;
pub mod invitations;
pub mod secret;
pub mod writer;

use std::sync::Arc;

use chrono::Utc;

use crate::domain::submission::{self, Channel};
use crate::domain::{Agency, FieldErrors, Population, Questionnaire, SatisfactionIndex, Submission};
use crate::storage::{Db, Kiosk, NewResponse, Outcome, StorageError};
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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            admin_token: None,
            kiosk_idle_seconds: 90,
            kiosk_thanks_seconds: 10,
            secure_cookies: false,
            public_url: "http://127.0.0.1:3000".into(),
            link_secret: String::new(),
            invitation_days: 30,
            delivery: delivery::DeliverySettings::default(),
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

/// Everything a request needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub writer: ResponseWriter,
    pub questionnaire: Arc<Questionnaire>,
    pub settings: Arc<Settings>,
    /// One login at a time: the failure count and the password check cannot interleave
    /// (throttling holds under parallel guesses), and argon2 never takes both cores.
    pub(crate) login_gate: Arc<tokio::sync::Mutex<()>>,
    /// The SMS and e-mail gateways; the worker is started by `start_delivery_worker`.
    pub(crate) deliveries: Arc<delivery::Deliveries>,
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
    #[error("cấu hình không hợp lệ: {0}")]
    Config(String),
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
        let writer = ResponseWriter::start(db.clone());
        Ok(Self {
            db,
            writer,
            questionnaire: Arc::new(questionnaire),
            settings: Arc::new(settings),
            login_gate: Arc::default(),
            deliveries,
        })
    }

    /// The kiosk a bearer token or pairing cookie belongs to.
    pub async fn kiosk_for_token(&self, token: &str) -> Result<Option<Kiosk>, ServiceError> {
        Ok(self.db.kiosk_by_token_hash(&secret::hash(token)).await?)
    }

    /// Validates and durably stores a response collected by `kiosk`. Returns only after the
    /// transaction holding it has committed.
    pub async fn submit_from_kiosk(
        &self,
        kiosk: &Kiosk,
        body: &Submission,
    ) -> Result<(uuid::Uuid, Outcome), ServiceError> {
        self.submit_at(kiosk, body, Utc::now()).await
    }

    /// As [`Self::submit_from_kiosk`], with the submission time given (the demo's back-dated samples).
    pub async fn submit_at(
        &self,
        kiosk: &Kiosk,
        body: &Submission,
        submitted_at: chrono::DateTime<Utc>,
    ) -> Result<(uuid::Uuid, Outcome), ServiceError> {
        let served: Vec<String> =
            self.db.served_agencies(&kiosk.agency_code).await?.into_iter().map(|a| a.code).collect();
        let response = submission::validate(&self.questionnaire, &served, body).map_err(ServiceError::Invalid)?;
        let id = response.id;
        let new = NewResponse {
            response,
            service_point: kiosk.agency_code.clone(),
            kiosk_id: Some(kiosk.id),
            channel: Channel::Kiosk,
            submitted_at: coarse(submitted_at),
            invitation_id: None,
        };
        Ok((id, self.writer.store(new).await?))
    }

    /// The satisfaction indices of `agency` and its subtree over `period`.
    pub async fn indices(&self, agency: &str, population: &Population) -> Result<SatisfactionIndex, ServiceError> {
        if self.db.agency(agency).await?.is_none() {
            return Err(ServiceError::UnknownAgency(agency.to_owned()));
        }
        let counts = self.db.criterion_counts(agency, population).await?;
        Ok(SatisfactionIndex::compute(&self.questionnaire, agency, counts.responses, &counts.criteria))
    }

    /// Indices of each sibling of `agency` (children of its parent), for a ranking.
    pub async fn sibling_indices(
        &self,
        agency: &Agency,
        population: &Population,
    ) -> Result<Vec<SatisfactionIndex>, ServiceError> {
        let Some(parent) = &agency.parent else {
            return Ok(vec![self.indices(&agency.code, population).await?]);
        };
        let children = self.db.criterion_counts_of_children(parent, population).await?;
        Ok(children
            .into_iter()
            .map(|(code, counts)| {
                SatisfactionIndex::compute(&self.questionnaire, &code, counts.responses, &counts.criteria)
            })
            .collect())
    }

    /// Registers a kiosk at `agency`; returns the bearer token, which is stored only hashed.
    pub async fn register_kiosk(&self, agency: &str, name: &str) -> Result<String, ServiceError> {
        if self.db.agency(agency).await?.is_none() {
            return Err(ServiceError::UnknownAgency(agency.to_owned()));
        }
        let token = secret::new_token();
        self.db.add_kiosk(agency, name, &secret::hash(&token)).await?;
        Ok(token)
    }

    /// Whether `token` is the configured admin token.
    pub fn is_admin_token(&self, token: &str) -> bool {
        self.settings.admin_token.as_deref().is_some_and(|expected| secret::same(expected, token))
    }
}
