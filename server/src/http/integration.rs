//! The integration API for one-stop software (docs/api.md): invitations per returned dossier.
//! Authenticated by API keys scoped to an agency subtree.

use app::access::request::ClientIp;
use app::domain::access::{Principal, Reach};
use app::domain::audit::Actor;
use app::domain::delivery::{parse_contacts, ContactError};
use app::service::invitations::{InviteError, Invited, Link, Maker};
use app::service::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};

use super::api::{bearer, ApiError};

/// The agencies the request's API key may invite for, and the key as the audit log names it.
async fn scope(app: &AppState, headers: &HeaderMap, ip: ClientIp) -> Result<(Reach, Actor), ApiError> {
    let key = bearer(headers).ok_or_else(|| ApiError::unauthorized("Thiếu khóa API (Authorization: Bearer …)."))?;
    let (id, agency) = app
        .api_key_agency(key)
        .await?
        .ok_or_else(|| ApiError::unauthorized("Khóa API không hợp lệ hoặc đã bị thu hồi."))?;
    let actor = Actor::new(format!("apikey#{id}"), Some(ip.0));
    Ok((app::access::guard::reach(app, &Principal::ApiKey { agency }).await?, actor))
}

/// An agency outside the key's subtree does not exist for it (404, never 403).
fn unknown_agency() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "agency", "Không có cơ quan, đơn vị mã này trong phạm vi của khóa API.")
}

fn invitation_json(app: &AppState, invited: &Invited, link: &Link) -> Value {
    let invitation = &invited.invitation;
    json!({
        "url": link.url,
        "qr_svg_url": format!(
            "{}/api/v1/invitations/{}/qr.svg?agency={}",
            app.settings.public_url, invitation.dossier_code, invitation.agency_code
        ),
        "expires_at": invitation.expires_at.to_rfc3339(),
        "printable_until": invitation.reprint_until.map(|t| t.to_rfc3339()),
    })
}

/// The link of a dossier that has one already, asked for after the re-print time (or made on
/// the staff page): the link belongs to the citizen now.
fn already_issued() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "dossier_code",
        "Hồ sơ này đã có lời mời khảo sát; đường dẫn chỉ được cấp khi tạo (và lấy lại trong thời gian ngắn sau đó). Tình trạng: GET /api/v1/invitations/{mã hồ sơ}.",
    )
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

/// `POST /api/v1/invitations`: 201 new; 200 the same link again when the software asks again
/// within the re-print time; 409 for a dossier whose link was issued before; 404 for an agency
/// outside the key's subtree.
pub async fn create(
    State(app): State<AppState>,
    headers: HeaderMap,
    Extension(ip): Extension<ClientIp>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (scope, actor) = scope(&app, &headers, ip).await?;
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
    if !scope.contains(agency.trim()) {
        return Err(unknown_agency());
    }
    let invited = app.invite(Maker::OneStop { actor: &actor }, dossier, procedure, agency).await.map_err(refused)?;
    let Some(link) = &invited.link else { return Err(already_issued()) };
    app.send_invitation(&invited, &contacts, &actor).await.map_err(refused)?;
    let status = if invited.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(invitation_json(&app, &invited, link))).into_response())
}

fn refused(error: InviteError) -> ApiError {
    match error {
        InviteError::Service(e) => ApiError::from(e),
        InviteError::Invalid(e) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "dossier_code", &e.to_string()),
        InviteError::UnknownProcedure => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "procedure", &error.to_string())
        }
        InviteError::UnknownAgency(_) => unknown_agency(),
        InviteError::AlreadyIssued => already_issued(),
        // Neither applies to the one-stop software.
        InviteError::ApiOnly | InviteError::OverDailyLimit(_) => {
            ApiError::new(StatusCode::FORBIDDEN, "dossier_code", &error.to_string())
        }
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct Which {
    /// The competent agency, when two agencies of the key's subtree used the same dossier code.
    agency: Option<String>,
}

/// The invitation of a dossier among the key's agencies; those of other agencies answer 404
/// exactly like a dossier nobody invited, so a key cannot probe them.
async fn find(app: &AppState, scope: &Reach, actor: &Actor, dossier: &str, which: &Which) -> Result<Invited, ApiError> {
    let mut found = app.invitations_within(dossier, scope, actor).await?;
    if let Some(agency) = which.agency.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        found.retain(|invited| invited.invitation.agency_code == agency);
    }
    match found.len() {
        0 => Err(ApiError::new(StatusCode::NOT_FOUND, "dossier_code", "Không có lời mời khảo sát cho hồ sơ này.")),
        1 => Ok(found.remove(0)),
        _ => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "agency",
            "Nhiều cơ quan có hồ sơ mang mã này; hãy thêm ?agency=MÃ_CƠ_QUAN.",
        )),
    }
}

/// `GET /api/v1/invitations/{dossier_code}`: where the invitation stands — never the answer.
pub async fn status(
    State(app): State<AppState>,
    headers: HeaderMap,
    Extension(ip): Extension<ClientIp>,
    Path(dossier): Path<String>,
    Query(which): Query<Which>,
) -> Result<Json<Value>, ApiError> {
    let (scope, actor) = scope(&app, &headers, ip).await?;
    let found = find(&app, &scope, &actor, &dossier, &which).await?;
    let delivery: Vec<Value> = app
        .deliveries_of(&found.invitation)
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
    Ok(Json(
        json!({"status": found.status, "delivery": delivery, "expires_at": found.invitation.expires_at.to_rfc3339()}),
    ))
}

/// `GET /api/v1/invitations/{dossier_code}/qr.svg`: the link as a QR code, for an invitation
/// the software made, within its re-print time; 410 after it.
pub async fn qr(
    State(app): State<AppState>,
    headers: HeaderMap,
    Extension(ip): Extension<ClientIp>,
    Path(dossier): Path<String>,
    Query(which): Query<Which>,
) -> Result<Response, ApiError> {
    let (scope, actor) = scope(&app, &headers, ip).await?;
    let found = find(&app, &scope, &actor, &dossier, &which).await?;
    let Some(link) = &found.link else {
        return Err(ApiError::new(
            StatusCode::GONE,
            "dossier_code",
            "Mã QR chỉ lấy được trong thời gian ngắn sau khi tạo lời mời; đường dẫn nay thuộc về người dân.",
        ));
    };
    app.note_link_shown(&actor, &found.invitation).await?;
    let svg = qrcode::QrCode::new(link.url.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).build())
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "qr", "Không tạo được mã QR."))?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}
