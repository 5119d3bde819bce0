//! Server functions of the kiosk, and the step logic the no-JavaScript form post shares with them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::flow::Draft;
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SubmitReply {
    Stored,
    /// Never sent by the server: the kiosk's service worker answers this when it keeps the
    /// survey in the browser's queue to send later (the server was out of reach or busy).
    Queued,
    /// What the citizen must fix, in Vietnamese.
    Invalid(Vec<String>),
    /// This browser is not (or no longer) a paired kiosk: it must be paired again.
    NotPaired,
}

/// Where the kiosk's finished surveys are posted (the service worker watches this path).
pub const SUBMIT_PATH: &str = "/api/kiosk/submit";

/// What the citizen reads when the kiosk is over its per-minute limit.
pub const TOO_FAST: &str =
    "Thiết bị này vừa gửi nhiều phiếu trong một phút. Vui lòng đợi một lát rồi bấm \"Gửi phiếu\" lại.";
/// What the citizen reads when the server cannot store now.
pub const UNAVAILABLE: &str = "Máy chủ tạm thời chưa lưu được phiếu. Vui lòng bấm \"Gửi phiếu\" lại sau ít phút.";
/// What the citizen reads when this survey was sent before with other answers.
pub const SENT_BEFORE: &str = "Phiếu này đã được gửi trước đó và đã được ghi nhận. Xin cảm ơn Ông/Bà.";

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
/// A server that cannot store it now answers 503 (or 429 over the kiosk's limit) with
/// `Retry-After`; the same id sent with other answers, 409.
#[server(input = server_fn::codec::Json, endpoint = "kiosk/submit")]
pub async fn submit_survey(draft: Draft, link: Option<String>) -> Result<SubmitReply, ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let source = match link {
        Some(token) => match state.invitation_for_token(&token).await.map_err(ssr::internal)? {
            Some(link) => ssr::Source::Link(link.invitation, crate::access::request::client_ip()),
            None => return Ok(SubmitReply::Invalid(vec![ssr::LINK_CLOSED.into()])),
        },
        None => match ssr::paired_kiosk(&state).await? {
            Some(kiosk) => ssr::Source::Kiosk(kiosk),
            // A reply, not an HTTP error: the page tells the citizen and asks for a new pairing.
            None => return Ok(SubmitReply::NotPaired),
        },
    };
    match ssr::submit(&state, &source, &draft).await {
        Ok(reply) => Ok(reply),
        Err(refused) => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(refused.status);
                if let Some(seconds) = refused.retry_after {
                    response.insert_header(axum::http::header::RETRY_AFTER, seconds.into());
                }
            }
            Err(ServerFnError::new(refused.message))
        }
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! The parts the axum form handler calls too.

    use super::*;
    use crate::service::invitations::InvitationLink;
    use crate::service::{AppState, ServiceError};
    use crate::storage::{Invitation, Kiosk, Outcome};

    pub const LINK_CLOSED: &str = "Phiếu khảo sát này đã được trả lời hoặc đã hết hạn. Xin cảm ơn Ông/Bà.";

    /// Where a survey is being answered: a kiosk, or a link from an address (which flags the
    /// invitation if an officer of the point is signed in from it; never kept with the answer).
    pub enum Source {
        Kiosk(Kiosk),
        Link(Invitation, Option<std::net::IpAddr>),
    }

    pub const NOT_PAIRED: &str = "Thiết bị này chưa được đăng ký làm kiosk khảo sát. Vui lòng liên hệ quản trị viên.";

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

    /// A submission the server did not take, with the status to answer: send again later
    /// (`retry_after` seconds) or not at all.
    #[derive(Debug)]
    pub struct Refused {
        pub status: axum::http::StatusCode,
        pub message: &'static str,
        pub retry_after: Option<u32>,
    }

    /// Validates and stores `draft`; the reply says what the citizen must fix, if anything.
    pub async fn submit(state: &AppState, source: &Source, draft: &Draft) -> Result<SubmitReply, Refused> {
        use axum::http::StatusCode;
        let submission = draft.to_submission();
        let stored = match source {
            Source::Kiosk(kiosk) => state.submit_from_kiosk(kiosk, &submission).await,
            Source::Link(invitation, from) => state.submit_from_link(invitation, &submission, *from).await,
        };
        match stored {
            Ok((_, Outcome::New | Outcome::Repeat)) => Ok(SubmitReply::Stored),
            Ok((_, Outcome::InvitationClosed)) => Ok(SubmitReply::Invalid(vec![LINK_CLOSED.into()])),
            Ok((_, Outcome::Conflict)) => {
                Err(Refused { status: StatusCode::CONFLICT, message: SENT_BEFORE, retry_after: None })
            }
            Err(ServiceError::Invalid(errors)) => {
                Ok(SubmitReply::Invalid(describe_errors(&state.questionnaire, &errors)))
            }
            Err(ServiceError::RateLimited) => {
                Err(Refused { status: StatusCode::TOO_MANY_REQUESTS, message: TOO_FAST, retry_after: Some(60) })
            }
            Err(error) => {
                tracing::error!(%error, "kiosk submission not stored");
                Err(Refused { status: StatusCode::SERVICE_UNAVAILABLE, message: UNAVAILABLE, retry_after: Some(30) })
            }
        }
    }

    /// Field errors as sentences that name the question.
    pub fn describe_errors(questionnaire: &Questionnaire, errors: &crate::domain::FieldErrors) -> Vec<String> {
        errors
            .iter()
            .map(|(field, message)| {
                let code = field.split_once('.').map(|(_, code)| code);
                let criterion = code.and_then(|c| questionnaire.criteria().find(|(_, cr)| cr.code == c));
                match criterion {
                    Some((_, c)) => format!("{} — {}: {message}", c.code, c.text),
                    None => message.clone(),
                }
            })
            .collect()
    }

    pub use crate::service::internal;
}
