//! The integration API for one-stop software (docs/api.md): invitations per returned dossier.
//! Authenticated by API keys scoped to an agency subtree.

use std::collections::HashSet;

use app::domain::delivery::{parse_contacts, ContactError};
use app::domain::invitation::InvitationStatus;
use app::service::invitations::{InvitationLink, InviteError};
use app::service::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::api::{bearer, ApiError};

async fn scope(app: &AppState, headers: &HeaderMap) -> Result<HashSet<String>, ApiError> {
    let key = bearer(headers).ok_or_else(|| ApiError::unauthorized("Thiếu khóa API (Authorization: Bearer …)."))?;
    app.api_key_scope(key).await?.ok_or_else(|| ApiError::unauthorized("Khóa API không hợp lệ hoặc đã bị thu hồi."))
}

fn invitation_json(app: &AppState, link: &InvitationLink) -> Value {
    json!({
        "url": link.url,
        "qr_svg_url": format!("{}/api/v1/invitations/{}/qr.svg", app.settings.public_url, link.invitation.dossier_code),
        "expires_at": link.invitation.expires_at.to_rfc3339(),
    })
}

fn optional_text<'a>(body: &'a serde_json::Map<String, Value>, field: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, field, "Sai kiểu (cần một chuỗi ký tự).")),
    }
}

fn text_field<'a>(body: &'a serde_json::Map<String, Value>, field: &str) -> Result<&'a str, ApiError> {
    body.get(field).and_then(Value::as_str).filter(|s| !s.trim().is_empty()).ok_or_else(|| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, field, "Thiếu hoặc sai kiểu (cần một chuỗi ký tự).")
    })
}

/// `POST /api/v1/invitations`: 201 new, 200 the dossier's existing invitation, 403 out of scope.
pub async fn create(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let scope = scope(&app, &headers).await?;
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&body) else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "body", "Nội dung phải là một đối tượng JSON."));
    };
    let dossier = text_field(&body, "dossier_code")?;
    let procedure = text_field(&body, "procedure")?;
    let agency = text_field(&body, "agency")?;
    if let Some(returned) = body.get("returned_at") {
        let valid = returned.as_str().is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok());
        if !valid {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "returned_at",
                "Thời điểm trả kết quả phải theo RFC 3339.",
            ));
        }
    }
    let phone = optional_text(&body, "phone")?;
    let email = optional_text(&body, "email")?;
    let contacts = parse_contacts(phone, email).map_err(|error| {
        let field = match error {
            ContactError::BadPhone => "phone",
            ContactError::BadEmail => "email",
        };
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, field, &error.to_string())
    })?;
    if !scope.contains(agency) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "agency",
            "Khóa API này không được gửi lời mời cho cơ quan này.",
        ));
    }
    let (link, created) = app.invite(None, dossier, procedure, agency).await.map_err(|error| match error {
        InviteError::Service(e) => ApiError::from(e),
        InviteError::Invalid(e) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "dossier_code", &e.to_string()),
        InviteError::UnknownProcedure => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "procedure", &error.to_string())
        }
        InviteError::UnknownAgency(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "agency", &error.to_string()),
    })?;
    if !scope.contains(&link.invitation.agency_code) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "dossier_code",
            "Hồ sơ này thuộc cơ quan ngoài phạm vi của khóa API.",
        ));
    }
    app.send_invitation(&link, &contacts).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(invitation_json(&app, &link))).into_response())
}

async fn find(app: &AppState, headers: &HeaderMap, dossier: &str) -> Result<InvitationLink, ApiError> {
    let scope = scope(app, headers).await?;
    app.invitation_of_dossier(dossier)
        .await?
        .filter(|link| scope.contains(&link.invitation.agency_code))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "dossier_code", "Không có lời mời khảo sát cho hồ sơ này."))
}

/// `GET /api/v1/invitations/{dossier_code}`: where the invitation stands — never the answer.
pub async fn status(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(dossier): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let link = find(&app, &headers, &dossier).await?;
    let status = match link.status {
        InvitationStatus::Pending => "pending",
        InvitationStatus::Answered => "answered",
        InvitationStatus::Expired => "expired",
    };
    let delivery: Vec<Value> = app
        .deliveries_of(&link.invitation)
        .await?
        .iter()
        .map(|d| {
            json!({
                "channel": d.medium.as_str(),
                "status": d.status.as_str(),
                "gateway_configured": app.delivery_configured(d.medium),
                "attempts": d.attempts,
                "last_error": d.last_error,
                "sent_at": d.sent_at.map(|t| t.to_rfc3339()),
            })
        })
        .collect();
    Ok(Json(json!({"status": status, "delivery": delivery, "expires_at": link.invitation.expires_at.to_rfc3339()})))
}

/// `GET /api/v1/invitations/{dossier_code}/qr.svg`: the link as a QR code.
pub async fn qr(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(dossier): Path<String>,
) -> Result<Response, ApiError> {
    let link = find(&app, &headers, &dossier).await?;
    let svg = qrcode::QrCode::new(link.url.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).build())
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "qr", "Không tạo được mã QR."))?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}
