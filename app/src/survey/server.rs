//! Server functions of the survey screens (at a kiosk and from a link), and the parts the
//! no-JavaScript form post shares with them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::flow::Draft;
use crate::domain::submission::Verdict;
use crate::domain::Questionnaire;

/// What a paired kiosk shows: its service point, the agencies served there, the questionnaire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KioskSetup {
    pub point_name: String,
    /// (code, name) of the agencies whose dossiers this point receives.
    pub agencies: Vec<(String, String)>,
    pub questionnaire: Questionnaire,
    pub idle_seconds: u32,
    pub thanks_seconds: u32,
    /// The link token when this survey is answered from a link (on a phone), `None` at a kiosk.
    pub link: Option<String>,
    /// The procedure (thủ tục) the link was sent for.
    pub procedure: Option<String>,
}

impl KioskSetup {
    /// Where the screens' forms post (without JavaScript).
    pub fn form_action(&self) -> String {
        self.link.as_ref().map_or_else(|| "/kiosk".to_owned(), |token| format!("/s/{token}"))
    }

    pub fn agency_codes(&self) -> Vec<String> {
        self.agencies.iter().map(|(code, _)| code.clone()).collect()
    }
}

/// Where the kiosk's finished surveys are posted (the service worker watches this path).
pub const SUBMIT_PATH: &str = "/api/kiosk/submit";

/// A survey the server did not take, as the survey page's server function answers it (with
/// the verdict's status): the verdict, typed, for the page to act on, and the sentence a person
/// reads for clients that only show text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SubmitRefused {
    Judged {
        verdict: Verdict,
        message: String,
    },
    /// The request itself failed (it did not reach the function, or its answer was unreadable).
    Request(server_fn::error::ServerFnErrorErr),
}

impl server_fn::error::FromServerFnError for SubmitRefused {
    type Encoder = server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
        Self::Request(value)
    }
}

/// The setup of the kiosk this browser is paired as; `None` when it is not paired.
#[server(output = server_fn::codec::Postcard)]
pub async fn load_kiosk_setup() -> Result<Option<KioskSetup>, ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let Some(kiosk) = ssr::paired_kiosk(&state).await? else {
        // As the no-JavaScript form post answers: this browser is not a registered kiosk.
        crate::access::request::set_status(axum::http::StatusCode::UNAUTHORIZED);
        return Ok(None);
    };
    state.kiosk_seen(&kiosk).await.map_err(ssr::internal)?;
    Ok(Some(ssr::setup_for(&state, &kiosk).await?))
}

/// What a survey link leads to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LinkReply {
    Ready(Box<KioskSetup>),
    Answered,
    Expired,
    /// Unknown or malformed: the page says no more than that.
    Unknown,
}

#[server(output = server_fn::codec::Postcard)]
pub async fn load_link_setup(token: String) -> Result<LinkReply, ServerFnError> {
    use crate::domain::invitation::InvitationStatus;
    let state = expect_context::<crate::service::AppState>();
    let response = expect_context::<leptos_axum::ResponseOptions>();
    let found = state.invitation_for_token(&token).await.map_err(ssr::internal)?;
    let Some(link) = found else {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
        return Ok(LinkReply::Unknown);
    };
    match link.status {
        InvitationStatus::Answered => {
            response.set_status(axum::http::StatusCode::GONE);
            Ok(LinkReply::Answered)
        }
        InvitationStatus::Expired => {
            response.set_status(axum::http::StatusCode::GONE);
            Ok(LinkReply::Expired)
        }
        InvitationStatus::Pending => Ok(LinkReply::Ready(Box::new(ssr::link_setup(&state, &link)))),
    }
}

/// Stores a finished draft: from the kiosk this browser is paired as, or from a survey link.
/// What became of it is the verdict: as the reply when counted, else as the error, with the
/// verdict's status (503 or 429 with `Retry-After` when it must be sent again later).
#[server(input = server_fn::codec::Json, endpoint = "kiosk/submit")]
pub async fn submit_survey(draft: Draft, link: Option<String>) -> Result<Verdict, SubmitRefused> {
    use crate::domain::submission::Way;
    use crate::service::surveys::Source;

    let state = expect_context::<crate::service::AppState>();
    fn unavailable(error: impl std::fmt::Display) -> Verdict {
        tracing::error!(%error, "a survey's source was not read");
        Verdict::RetryAfter { seconds: crate::service::surveys::BUSY_WAIT, busy: true }
    }
    let source = match link {
        Some(token) => match state.invitation_for_token(&token).await {
            Ok(Some(link)) => Ok(Source::Link(link.invitation, crate::access::request::client_ip())),
            Ok(None) => Err(Verdict::LinkClosed),
            Err(error) => Err(unavailable(error)),
        },
        None => match ssr::paired_kiosk(&state).await {
            Ok(Some(kiosk)) => Ok(Source::Kiosk(kiosk)),
            Ok(None) => Err(Verdict::NotPaired),
            Err(error) => Err(unavailable(error)),
        },
    };
    let verdict = match source {
        Ok(source) => state.submit(&source, &draft.to_submission()).await.0,
        Err(verdict) => verdict,
    };
    let status = verdict.status(Way::Page);
    if status < 300 {
        return Ok(verdict);
    }
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::CONFLICT));
        if let Some(seconds) = verdict.retry_after() {
            response.insert_header(axum::http::header::RETRY_AFTER, seconds.into());
        }
    }
    let message = match &verdict {
        Verdict::Fix(errors) => super::flow::describe_errors(&state.questionnaire, errors).join(" "),
        other => super::flow::sentence(other).map(str::to_owned).unwrap_or_default(),
    };
    Err(SubmitRefused::Judged { verdict, message })
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! The parts the axum form handler calls too.

    use super::*;
    use crate::service::invitations::InvitationLink;
    use crate::service::AppState;
    use crate::storage::Kiosk;

    /// The kiosk of the current request's pairing cookie.
    pub async fn paired_kiosk(state: &AppState) -> Result<Option<Kiosk>, ServerFnError> {
        let Some(parts) = use_context::<axum::http::request::Parts>() else { return Ok(None) };
        kiosk_from_headers(state, &parts.headers).await
    }

    pub async fn kiosk_from_headers(
        state: &AppState,
        headers: &axum::http::HeaderMap,
    ) -> Result<Option<Kiosk>, ServerFnError> {
        let Some(token) = crate::access::request::Cookie::Kiosk.read(state, headers) else { return Ok(None) };
        state.kiosk_for_token(&token).await.map_err(internal)
    }

    pub async fn setup_for(state: &AppState, kiosk: &Kiosk) -> Result<KioskSetup, ServerFnError> {
        let point = state.agency(&kiosk.agency_code).await.map_err(internal)?;
        let agencies = state.served_agencies(&kiosk.agency_code).await.map_err(internal)?;
        Ok(KioskSetup {
            point_name: point.map_or_else(|| kiosk.agency_code.clone(), |p| p.name),
            agencies: agencies.into_iter().map(|a| (a.code, a.name)).collect(),
            questionnaire: (*state.questionnaire).clone(),
            idle_seconds: state.settings.kiosk_idle_seconds,
            thanks_seconds: state.settings.kiosk_thanks_seconds,
            link: None,
            procedure: None,
        })
    }

    pub fn link_setup(state: &AppState, link: &InvitationLink) -> KioskSetup {
        let invitation = &link.invitation;
        KioskSetup {
            point_name: invitation.agency_name.clone(),
            agencies: vec![(invitation.agency_code.clone(), invitation.agency_name.clone())],
            questionnaire: (*state.questionnaire).clone(),
            idle_seconds: 0,
            thanks_seconds: 0,
            link: Some(link.token.clone()),
            procedure: Some(invitation.procedure_name.clone()),
        }
    }

    pub use crate::service::internal;
}
