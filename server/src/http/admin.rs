//! Admin routes outside Leptos: CSV uploads (multipart forms that also work without JavaScript)
//! and the registry download. Each checks the session like the admin pages do.

use app::access::request::ClientIp;
use app::domain::access::{Action, Principal};
use app::domain::audit::Actor;
use app::service::accounts::AccountServiceError;
use app::service::registry::RegistryError;
use app::service::{AppState, ServiceError};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Extension;

use super::plain::{document, escape};

/// The admin behind the request's session cookie, or the page to answer instead.
async fn admin(app: &AppState, headers: &HeaderMap, ip: ClientIp) -> Result<Actor, Response> {
    let token = app::access::request::Cookie::Session.read(app, headers);
    let user = match token {
        Some(token) => app.session_user(&token).await.map_err(|_| unavailable())?,
        None => None,
    };
    match user {
        None => {
            Err(page(StatusCode::UNAUTHORIZED, "Cần đăng nhập", &["Vui lòng đăng nhập bằng tài khoản quản trị tỉnh."]))
        }
        Some(user) if user.must_change_password => Err(Redirect::to("/account/password").into_response()),
        Some(user) => {
            let principal = Principal::User { role: user.role, agency: user.agency_code.clone() };
            if principal.may(Action::Administer) {
                Ok(Actor::new(user.username, Some(ip.0)))
            } else {
                Err(page(StatusCode::FORBIDDEN, "Không có quyền truy cập", &[principal.denial(Action::Administer)]))
            }
        }
    }
}

/// A plain page with a title, lines of text and a way back.
fn page(status: StatusCode, title: &str, lines: &[&str]) -> Response {
    let items: String = lines.iter().map(|l| format!("<li>{}</li>", escape(l))).collect();
    let body = format!(
        "<h1>{title}</h1><ul class=\"errors\" role=\"alert\">{items}</ul><p><a href=\"/admin\">Về trang quản trị</a></p>",
        title = escape(title)
    );
    (status, Html(document("admin", title, &body))).into_response()
}

fn unavailable() -> Response {
    page(StatusCode::SERVICE_UNAVAILABLE, "Máy chủ đang gặp sự cố", &["Vui lòng thử lại sau ít phút."])
}

/// The text of the form's `file` field (a CSV), or the page explaining what is wrong.
async fn uploaded_csv(mut form: Multipart) -> Result<String, Response> {
    let bad = |line: &str| page(StatusCode::UNPROCESSABLE_ENTITY, "Không đọc được tệp", &[line]);
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() != Some("file") {
            continue;
        }
        let bytes = field.bytes().await.map_err(|_| bad("Tệp tải lên bị gián đoạn, vui lòng thử lại."))?;
        if bytes.is_empty() {
            return Err(bad("Chưa chọn tệp, hoặc tệp rỗng."));
        }
        return String::from_utf8(bytes.to_vec())
            .map_err(|_| bad("Tệp phải là CSV mã hóa UTF-8 (trong Excel: Lưu thành → CSV UTF-8)."));
    }
    Err(bad("Chưa chọn tệp."))
}

/// Why an uploaded file changed nothing: the server failed (logged, 503), or the file has
/// problems, one line each (422).
enum Refusal {
    Server(ServiceError),
    File(Vec<String>),
}

impl From<RegistryError> for Refusal {
    fn from(error: RegistryError) -> Self {
        match error {
            RegistryError::Service(error) => Self::Server(error),
            error => Self::File(error.messages()),
        }
    }
}

impl From<AccountServiceError> for Refusal {
    fn from(error: AccountServiceError) -> Self {
        match error {
            AccountServiceError::Service(error) => Self::Server(error),
            error => Self::File(error.to_string().lines().map(str::to_owned).collect()),
        }
    }
}

/// An upload form from start to end: the admin behind the session and the CSV they sent go to
/// `apply`; a file it refuses is answered by a page titled `refused` listing its problems.
async fn upload<E: Into<Refusal>>(
    app: &AppState,
    request: (HeaderMap, ClientIp),
    form: Result<Multipart, MultipartRejection>,
    refused: &str,
    apply: impl AsyncFnOnce(&Actor, &str) -> Result<Response, E>,
) -> Response {
    let (headers, ip) = request;
    let actor = match admin(app, &headers, ip).await {
        Ok(actor) => actor,
        Err(refusal) => return refusal,
    };
    let Ok(form) = form else {
        return page(StatusCode::BAD_REQUEST, "Không đọc được tệp", &["Biểu mẫu tải lên không hợp lệ."]);
    };
    let csv = match uploaded_csv(form).await {
        Ok(csv) => csv,
        Err(refusal) => return refusal,
    };
    match apply(&actor, &csv).await.map_err(Into::into) {
        Ok(response) => response,
        Err(Refusal::Server(error)) => {
            tracing::error!(%error, "an uploaded file was not applied");
            unavailable()
        }
        Err(Refusal::File(lines)) => {
            page(StatusCode::UNPROCESSABLE_ENTITY, refused, &lines.iter().map(String::as_str).collect::<Vec<_>>())
        }
    }
}

/// `GET /admin/agencies.csv`: the registry as a file that imports back unchanged.
pub async fn export_agencies(
    State(app): State<AppState>,
    Extension(ip): Extension<ClientIp>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = admin(&app, &headers, ip).await {
        return refusal;
    }
    match app.export_registry().await {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"don-vi.csv\""),
            ],
            // A BOM, so that Excel reads the Vietnamese letters as UTF-8.
            format!("\u{feff}{csv}"),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "registry export failed");
            unavailable()
        }
    }
}

/// `POST /admin/agencies/import`: keeps the uploaded CSV and shows its preview.
pub async fn upload_agencies(
    State(app): State<AppState>,
    Extension(ip): Extension<ClientIp>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    upload(&app, (headers, ip), form, "Tệp có lỗi, chưa thay đổi gì", async |actor, csv| {
        let id = app.stage_registry_import(actor, csv).await?;
        Ok::<_, RegistryError>(Redirect::to(&format!("/admin/agencies/import/{id}")).into_response())
    })
    .await
}

/// `POST /admin/users/import`: creates every account of a CSV (`username,role,agency`), or none,
/// and shows the one-time passwords once.
pub async fn import_users(
    State(app): State<AppState>,
    Extension(ip): Extension<ClientIp>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    upload(&app, (headers, ip), form, "Tệp có lỗi, chưa tạo tài khoản nào", async |actor, csv| {
        let created = app.import_users(actor, csv).await?;
        Ok::<_, AccountServiceError>(created_accounts(&created))
    })
    .await
}

/// The accounts just created with their one-time passwords: shown once, to print and hand over.
fn created_accounts(created: &[(String, String)]) -> Response {
    let rows: String = created
        .iter()
        .map(|(username, password)| {
            format!("<tr><td>{}</td><td class=\"secret\">{}</td></tr>", escape(username), escape(password))
        })
        .collect();
    let body = format!(
        "<h1>Đã tạo {n} tài khoản</h1>\
         <p role=\"status\">Mật khẩu dùng một lần chỉ hiện trên trang này: hãy in hoặc chuyển cho từng người ngay. \
         Mỗi người phải đổi mật khẩu khi đăng nhập lần đầu.</p>\
         <table class=\"created-accounts\"><thead><tr><th>Tên đăng nhập</th><th>Mật khẩu dùng một lần</th></tr></thead>\
         <tbody>{rows}</tbody></table><p><a href=\"/admin/users\">Về danh sách tài khoản</a></p>",
        n = created.len()
    );
    (StatusCode::CREATED, Html(document("admin", "Đã tạo tài khoản", &body))).into_response()
}
