//! Kiosk routes outside Leptos: pairing a tablet, and the step-by-step form posts of a kiosk
//! running without JavaScript (each post carries the whole draft; the reply is the next screen).

use app::app::static_shell;
use app::kiosk::flow::{Context, Draft, Nav};
use app::kiosk::server::ssr::{kiosk_from_headers, setup_for, submit, KIOSK_COOKIE, NOT_PAIRED};
use app::kiosk::server::SubmitReply;
use app::kiosk::PostedDraft;
use axum::body::Body;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use leptos::prelude::*;

use super::HttpState;

/// A plain page with one message, for answers that are not a kiosk screen.
fn message_page(status: StatusCode, title: &str, text: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <link rel=\"stylesheet\" href=\"/pkg/hailong.css\"></head>\
         <body><main class=\"kiosk-message\"><h1>{title}</h1><p>{text}</p><p><a href=\"/kiosk\">Về màn hình khảo sát</a></p></main></body></html>"
    );
    (status, Html(html)).into_response()
}

fn unavailable() -> Response {
    message_page(StatusCode::SERVICE_UNAVAILABLE, "Máy chủ đang gặp sự cố", "Vui lòng thử lại sau ít phút.")
}

/// `GET /kiosk/pair/{token}`: remembers this browser as the kiosk of `token` (ten years).
pub async fn pair(State(state): State<HttpState>, Path(token): Path<String>) -> Response {
    match state.app.kiosk_for_token(&token).await {
        Ok(Some(_)) => {
            let cookie = format!("{KIOSK_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=315360000");
            ([(header::SET_COOKIE, cookie)], Redirect::to("/kiosk")).into_response()
        }
        Ok(None) => message_page(
            StatusCode::NOT_FOUND,
            "Đường dẫn ghép nối không hợp lệ",
            "Đường dẫn này không đúng hoặc thiết bị đã bị thu hồi. Vui lòng xin quản trị viên đường dẫn mới.",
        ),
        Err(error) => {
            tracing::error!(%error, "pairing failed");
            unavailable()
        }
    }
}

/// `POST /kiosk`: the next screen for a browser without JavaScript.
pub async fn step(
    State(state): State<HttpState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let app = state.app.clone();
    let kiosk = match kiosk_from_headers(&app, &headers).await {
        Ok(Some(kiosk)) => kiosk,
        Ok(None) => return message_page(StatusCode::UNAUTHORIZED, "Thiết bị chưa được đăng ký", NOT_PAIRED),
        Err(_) => return unavailable(),
    };
    let Ok(Form(fields)) = form else {
        return message_page(StatusCode::BAD_REQUEST, "Không đọc được phiếu", "Vui lòng quay lại màn hình khảo sát.");
    };
    let (posted, nav) = Draft::from_form(&fields, &app.questionnaire);
    let (next, status) = if nav == Nav::Submit {
        match submit(&app, &kiosk, &posted).await {
            SubmitReply::Stored => (Draft::submitted(), StatusCode::OK),
            SubmitReply::Invalid(errors) => (Draft { errors, ..posted }, StatusCode::UNPROCESSABLE_ENTITY),
            SubmitReply::Unavailable(error) => {
                (Draft { errors: vec![error], ..posted }, StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    } else {
        let Ok(setup) = setup_for(&app, &kiosk).await else { return unavailable() };
        let codes = setup.agency_codes();
        let context = Context { questionnaire: &setup.questionnaire, agencies: &codes };
        (posted.go(nav, &context, || uuid::Uuid::new_v4().to_string()), StatusCode::OK)
    };
    render_kiosk(state, headers, next, status).await
}

/// Renders `/kiosk` as a GET would, starting from `draft`, as a page that is not hydrated.
async fn render_kiosk(state: HttpState, headers: HeaderMap, draft: Draft, status: StatusCode) -> Response {
    let app = state.app.clone();
    let leptos = state.leptos.clone();
    // Async: the whole page at once, since a browser without JavaScript cannot swap streamed parts.
    let render = leptos_axum::render_app_async_with_context(
        move || {
            provide_context(app.clone());
            provide_context(PostedDraft(draft.clone()));
        },
        move || static_shell(leptos.clone()),
    );
    let mut request = Request::get("/kiosk").body(Body::empty()).expect("a static request");
    *request.headers_mut() = headers;
    request.headers_mut().remove(header::CONTENT_TYPE);
    request.headers_mut().remove(header::CONTENT_LENGTH);
    let mut response = render(request).await;
    *response.status_mut() = status;
    response
}
