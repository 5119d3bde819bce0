//! The JSON API (docs/api.md): parse, authorise, call the service, map errors to status codes.

use std::collections::BTreeMap;

use app::domain::submission::{Channel, Submission, Verdict, Way};
use app::domain::{FieldErrors, Period, Population};
use app::service::surveys::Source;
use app::service::{AppState, ServiceError};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// An API failure: a status and `{"errors": {field: message}}` with Vietnamese messages.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    errors: FieldErrors,
}

impl ApiError {
    pub fn new(status: StatusCode, field: &str, message: &str) -> Self {
        Self { status, errors: BTreeMap::from([(field.to_owned(), message.to_owned())]) }
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "authorization", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = matches!(self.status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE);
        let mut response = (self.status, Json(json!({ "errors": self.errors }))).into_response();
        if retry {
            response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from_static("60"));
        }
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(errors) => Self { status: StatusCode::UNPROCESSABLE_ENTITY, errors },
            ServiceError::UnknownAgency(_) => {
                Self::new(StatusCode::NOT_FOUND, "agency", "Không có cơ quan, đơn vị mã này.")
            }
            ServiceError::RateLimited => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "kiosk",
                "Thiết bị gửi quá nhiều phiếu trong một phút; hãy gửi lại sau (Retry-After).",
            ),
            other => {
                tracing::error!(error = %other, "API request failed");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "server",
                    "Máy chủ tạm thời không xử lý được yêu cầu, vui lòng gửi lại sau ít phút.",
                )
            }
        }
    }
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

pub async fn questionnaire(State(app): State<AppState>) -> Json<Value> {
    Json(serde_json::to_value(&*app.questionnaire).unwrap_or(Value::Null))
}

/// `POST /api/v1/responses`: 201 stored, 200 stored before (same body), 409 stored before with
/// another body, 422, 401; 503 or 429 with `Retry-After` when it must be sent again later.
pub async fn submit_response(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let token =
        bearer(&headers).ok_or_else(|| ApiError::unauthorized("Thiếu mã thiết bị (Authorization: Bearer …)."))?;
    let kiosk = app
        .kiosk_for_token(token)
        .await?
        .ok_or_else(|| ApiError::unauthorized("Mã thiết bị không hợp lệ hoặc đã bị thu hồi."))?;
    // Every field is `Given`, so only a body that is no JSON object fails here.
    let submission = match serde_json::from_slice::<Submission>(&body) {
        Ok(submission) => submission,
        Err(error) if error.is_data() => {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "body", "Nội dung phải là một đối tượng JSON."))
        }
        Err(_) => return Err(ApiError::new(StatusCode::BAD_REQUEST, "body", "Nội dung không phải JSON hợp lệ.")),
    };
    let (verdict, id) = app.submit(&Source::Kiosk(kiosk), &submission).await;
    let status = StatusCode::from_u16(verdict.status(Way::Api)).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    match verdict {
        Verdict::Stored | Verdict::AlreadyCounted => {
            let id = id.map(|id| id.to_string()).unwrap_or_default();
            Ok((status, Json(json!({ "id": id }))).into_response())
        }
        Verdict::Fix(errors) => Err(ApiError { status, errors }),
        Verdict::Conflict => Err(ApiError::new(
            status,
            "id",
            "Mã phiếu (id) này đã được dùng cho một phiếu có nội dung khác; phiếu mới cần một mã mới.",
        )),
        Verdict::RetryAfter { busy: false, .. } => Err(ServiceError::RateLimited.into()),
        Verdict::RetryAfter { busy: true, .. } => Err(ApiError::new(
            status,
            "server",
            "Máy chủ tạm thời không xử lý được yêu cầu, vui lòng gửi lại sau ít phút.",
        )),
        Verdict::LinkClosed | Verdict::NotPaired | Verdict::Queued => {
            Err(ApiError::new(status, "id", "Phiếu này không nhận được qua kênh kiosk."))
        }
    }
}

/// `POST /api/v1/kiosks/pair {"code"}`: exchanges a one-time pairing code for the kiosk's
/// device token (201), for kiosk software that does not use the browser page.
pub async fn pair_kiosk(
    State(app): State<AppState>,
    axum::Extension(ip): axum::Extension<app::access::request::ClientIp>,
    body: Bytes,
) -> Result<Response, ApiError> {
    use app::service::kiosks::PairError;
    let code = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => map.get("code").and_then(Value::as_str).map(str::to_owned),
        _ => {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "body", "Nội dung phải là JSON dạng {\"code\": \"…\"}."))
        }
    };
    let Some(code) = code else {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "code", "Thiếu mã ghép nối (code)."));
    };
    match app.pair_kiosk(&code, ip.0).await {
        Ok((kiosk, token)) => Ok((
            StatusCode::CREATED,
            Json(json!({"token": token, "kiosk": {"id": kiosk.id, "name": kiosk.name, "service_point": kiosk.agency_code}})),
        )
            .into_response()),
        Err(PairError::Service(error)) => Err(error.into()),
        Err(error) => match error.retry_after() {
            Some(seconds) => {
                let mut refused =
                    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "code", &error.to_string()).into_response();
                refused.headers_mut().insert(header::RETRY_AFTER, seconds.max(1).into());
                Ok(refused)
            }
            None => Err(ApiError::new(StatusCode::NOT_FOUND, "code", &error.to_string())),
        },
    }
}

#[derive(Debug, Deserialize)]
pub struct IndicesQuery {
    agency: Option<String>,
    from: Option<String>,
    to: Option<String>,
    channel: Option<String>,
}

/// `GET /api/v1/indices?agency=&from=&to=` with the admin token.
pub async fn indices(
    State(app): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<IndicesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let token =
        bearer(&headers).ok_or_else(|| ApiError::unauthorized("Thiếu mã quản trị (Authorization: Bearer …)."))?;
    if !app.is_admin_token(token) {
        return Err(ApiError::unauthorized("Mã quản trị không đúng."));
    }
    let Ok(Query(query)) = query else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "query", "Tham số truy vấn không hợp lệ."));
    };
    let agency = query
        .agency
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "agency", "Thiếu mã cơ quan (agency)."))?;
    let period = Period::parse(query.from.as_deref(), query.to.as_deref())
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "period", &e.to_string()))?;
    let channel = match query.channel.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(Channel::parse(c).ok_or_else(|| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "channel", "Kênh khảo sát phải là kiosk hoặc link.")
        })?),
    };
    let report = app.indices_report(&agency, &Population { period, channel }).await?;
    Ok(Json(serde_json::to_value(&report).unwrap_or(Value::Null)))
}
