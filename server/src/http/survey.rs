//! Survey routes outside Leptos, at a kiosk and from a link on a phone: the kiosk's service
//! worker, and the step-by-step form posts of a survey answered without JavaScript (each post
//! carries the whole draft; the reply is the next screen).

use app::app::static_survey_shell;
use app::domain::invitation::InvitationStatus;
use app::domain::submission::{Verdict, Way};
use app::service::surveys::Source;
use app::survey::flow::{after_submit, Context, Draft, Nav, LINK_CLOSED, NOT_PAIRED};
use app::survey::server::ssr::{kiosk_from_headers, link_setup, setup_for};
use app::survey::server::KioskSetup;
use app::survey::PostedDraft;
use axum::body::Body;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use leptos::prelude::*;

use super::plain::{document, escape};
use super::HttpState;

/// A plain page with one message, for answers that are not a survey screen.
fn message_page(status: StatusCode, title: &str, text: &str, next: (&str, &str)) -> Response {
    let (href, label) = next;
    let body =
        format!("<h1>{}</h1><p>{}</p><p><a href=\"{href}\">{}</a></p>", escape(title), escape(text), escape(label));
    (status, Html(document("kiosk-message", title, &body))).into_response()
}

const BACK: (&str, &str) = ("/kiosk", "Về màn hình khảo sát");
const PAIR: (&str, &str) = ("/kiosk/pair?lost=1", "Ghép nối lại thiết bị");

fn not_paired() -> Response {
    message_page(StatusCode::UNAUTHORIZED, "Thiết bị chưa được đăng ký", NOT_PAIRED, PAIR)
}

fn unavailable() -> Response {
    let mut page =
        message_page(StatusCode::SERVICE_UNAVAILABLE, "Máy chủ đang gặp sự cố", "Vui lòng thử lại sau ít phút.", BACK);
    page.headers_mut().insert(header::RETRY_AFTER, 30.into());
    page
}

/// `GET /kiosk-sw.js`: the kiosk's service worker (offline page and a queue of finished surveys).
pub async fn service_worker() -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
        // A browser checks for a new worker at every load; never an old one from a cache.
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (headers, include_str!("kiosk-sw.js")).into_response()
}

/// `POST /kiosk`: the next kiosk screen for a browser without JavaScript.
pub async fn step(
    State(state): State<HttpState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let app = state.app.clone();
    let kiosk = match kiosk_from_headers(&app, &headers).await {
        Ok(Some(kiosk)) => kiosk,
        Ok(None) => return not_paired(),
        Err(_) => return unavailable(),
    };
    let Ok(setup) = setup_for(&app, &kiosk).await else { return unavailable() };
    advance(state, headers, form, Source::Kiosk(kiosk), setup, "/kiosk".into()).await
}

/// `POST /s/{token}`: the next screen of a link survey for a browser without JavaScript.
pub async fn link_step(
    State(state): State<HttpState>,
    Path(token): Path<String>,
    Extension(ip): Extension<app::access::request::ClientIp>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let app = state.app.clone();
    let link = match app.invitation_for_token(&token).await {
        Ok(Some(link)) => link,
        Ok(None) => {
            return message_page(
                StatusCode::NOT_FOUND,
                "Không tìm thấy phiếu khảo sát",
                "Vui lòng kiểm tra lại đường dẫn.",
                ("/", "Trang chủ"),
            )
        }
        Err(_) => return unavailable(),
    };
    if link.status != InvitationStatus::Pending {
        return message_page(StatusCode::GONE, "Phiếu khảo sát đã đóng", LINK_CLOSED, ("/", "Trang chủ"));
    }
    let setup = link_setup(&app, &link);
    advance(state, headers, form, Source::Link(link.invitation, Some(ip.0)), setup, format!("/s/{token}")).await
}

/// Applies one posted screen of `source`'s survey and renders the next one at `path`.
async fn advance(
    state: HttpState,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
    source: Source,
    setup: KioskSetup,
    path: String,
) -> Response {
    let Ok(Form(fields)) = form else {
        return message_page(
            StatusCode::BAD_REQUEST,
            "Không đọc được phiếu",
            "Vui lòng quay lại màn hình khảo sát.",
            BACK,
        );
    };
    let (posted, nav) = Draft::from_form(&fields, &setup.questionnaire);
    let mut retry_after = None;
    let (next, status) = if nav == Nav::Submit {
        let (verdict, _) = state.app.submit(&source, &posted.to_submission()).await;
        if verdict == Verdict::NotPaired {
            return not_paired();
        }
        retry_after = verdict.retry_after();
        let status = StatusCode::from_u16(verdict.status(Way::Page)).unwrap_or(StatusCode::OK);
        (after_submit(posted, &verdict, &setup.questionnaire), status)
    } else {
        let codes = setup.agency_codes();
        let context = Context { questionnaire: &setup.questionnaire, agencies: &codes };
        (posted.go(nav, &context, || uuid::Uuid::new_v4().to_string()), StatusCode::OK)
    };
    let mut response = render_survey(state, headers, &path, next, status).await;
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
    }
    response
}

/// Renders the survey page at `path` as a GET would, starting from `draft`, not hydrated.
async fn render_survey(state: HttpState, headers: HeaderMap, path: &str, draft: Draft, status: StatusCode) -> Response {
    let app = state.app.clone();
    let leptos = state.leptos.clone();
    // Async: the whole page at once, since a browser without JavaScript cannot swap streamed parts.
    let render = leptos_axum::render_app_async_with_context(
        move || {
            provide_context(app.clone());
            provide_context(PostedDraft(draft.clone()));
        },
        move || static_survey_shell(leptos.clone()),
    );
    let Ok(mut request) = Request::get(path).body(Body::empty()) else { return unavailable() };
    *request.headers_mut() = headers;
    request.headers_mut().remove(header::CONTENT_TYPE);
    request.headers_mut().remove(header::CONTENT_LENGTH);
    let mut response = render(request).await;
    *response.status_mut() = status;
    response
}
