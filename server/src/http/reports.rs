//! The report tables as JSON (docs/api.md): breakdowns, rankings, expectations, trend. Open to
//! the admin token and to signed-in admins and managers; a manager sees their subtree only.

use app::domain::access::{Action, Principal, Reach};
use app::domain::given::Given;
use app::domain::period::{ClosedDays, Comparison};
use app::domain::report::{Basis, BreakdownBy};
use app::domain::{AgencyKind, Period};
use app::service::reports::{index_interval, Scope};
use app::service::{AppState, ServiceError};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{bearer, ApiError};

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    agency: Option<String>,
    from: Option<String>,
    to: Option<String>,
    #[serde(default)]
    basis: Given<Basis>,
    #[serde(default)]
    compare: Given<Comparison>,
    pub by: Option<String>,
    #[serde(default)]
    pub kind: Given<AgencyKind>,
}

pub type Params = Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>;

/// Who the caller is (as the audit log names them) and what they may see: everything with the
/// admin token, else the signed-in user's reach.
async fn viewer(app: &AppState, headers: &HeaderMap) -> Result<(String, Reach), ApiError> {
    if let Some(token) = bearer(headers) {
        return if app.is_admin_token(token) {
            Ok(("admin-token".to_owned(), Reach::All))
        } else {
            Err(ApiError::unauthorized("Mã quản trị không đúng."))
        };
    }
    let user = match app::access::request::Cookie::Session.read(app, headers) {
        Some(token) => app.session_user(&token).await?,
        None => None,
    };
    let Some(user) = user.filter(|u| !u.must_change_password) else {
        return Err(ApiError::unauthorized("Cần đăng nhập, hoặc mã quản trị (Authorization: Bearer …)."));
    };
    let principal = Principal::User { role: user.role, agency: user.agency_code.clone() };
    if !principal.may(Action::ViewIndices) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "authorization", principal.denial(Action::ViewIndices)));
    }
    Ok((user.username, app::access::guard::reach(app, &principal).await?))
}

/// The request's filter checked: the agency inside the caller's reach, closed days, a basis.
pub struct Request {
    /// The caller, as the audit log names them: a username or `admin-token`.
    pub viewer: String,
    pub reach: Reach,
    pub agency: Option<String>,
    pub days: Option<ClosedDays>,
    pub scope: Scope,
    pub compare: Comparison,
    pub query: ReportQuery,
}

pub async fn request(app: &AppState, headers: &HeaderMap, params: Params) -> Result<Request, ApiError> {
    let (viewer, reach) = viewer(app, headers).await?;
    let Ok(Query(query)) = params else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "query", "Tham số truy vấn không hợp lệ."));
    };
    let invalid = |field: &str, message: &str| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, field, message);
    let period =
        Period::parse(query.from.as_deref(), query.to.as_deref()).map_err(|e| invalid("period", &e.to_string()))?;
    let basis = query.basis.or_default().ok_or_else(|| invalid("basis", Basis::EXPECTED))?;
    let compare = query.compare.or_default().ok_or_else(|| invalid("compare", Comparison::EXPECTED))?;
    let agency = query.agency.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned);
    if let Some(code) = &agency {
        if !reach.contains(code) || app.agency(code).await?.is_none() {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "agency",
                "Không có cơ quan, đơn vị mã này trong phạm vi của bạn.",
            ));
        }
    }
    let days = period.closed_days(app::service::registry::today());
    Ok(Request { viewer, reach, agency, days, scope: Scope { channel: None, basis }, compare, query })
}

/// The kind of unit a ranking request asks for, or its refusal.
pub fn ranked_kind(query: &ReportQuery) -> Result<AgencyKind, ApiError> {
    AgencyKind::ranked(query.kind)
        .ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "kind", AgencyKind::RANKED_EXPECTED))
}

fn required(agency: Option<String>) -> Result<String, ApiError> {
    agency.ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "agency", "Thiếu mã cơ quan (agency)."))
}

/// `GET /api/v1/breakdowns?agency=&by=&from=&to=&basis=`: `{"rows": [{value, label, responses,
/// index, suppressed}]}`, small cells hidden.
pub async fn breakdowns(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let Request { agency, days, scope, query, .. } = request(&app, &headers, params).await?;
    let agency = required(agency)?;
    let by = query.by.as_deref().map(str::trim).filter(|b| !b.is_empty()).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "by",
            "Thiếu tiêu chí phân tổ (by), ví dụ gender, age_band, channel.",
        )
    })?;
    let rows = match days {
        Some(days) => app.breakdown(&agency, &BreakdownBy::parse(by), &days, &scope).await.map_err(|e| match e {
            error @ ServiceError::UnknownBreakdown(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "by", &error.to_string())
            }
            other => other.into(),
        })?,
        None => Vec::new(),
    };
    Ok(Json(json!({ "agency": agency, "by": by, "rows": rows })))
}

/// `GET /api/v1/rankings?kind=&from=&to=&basis=&compare=`: the ranking of one kind of unit.
pub async fn rankings(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let Request { reach, days, scope, compare, query, .. } = request(&app, &headers, params).await?;
    let kind = ranked_kind(&query)?;
    let Some(days) = days else { return Ok(Json(json!({ "kind": kind, "rows": [] }))) };
    let ranking = app.ranking(kind, &days, compare, &scope, |code| reach.contains(code)).await?;
    Ok(Json(serde_json::to_value(&ranking).unwrap_or(Value::Null)))
}

/// `GET /api/v1/expectations?agency=&from=&to=&basis=`: improvement areas ranked.
pub async fn expectations(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let Request { agency, days, scope, .. } = request(&app, &headers, params).await?;
    let agency = required(agency)?;
    let areas = match days {
        Some(days) => app.expectations(&agency, &days, &scope).await?,
        None => Vec::new(),
    };
    Ok(Json(json!({ "agency": agency, "areas": areas })))
}

/// `GET /api/v1/trend?agency=&from=&to=&basis=`: overall index per month and per quarter.
pub async fn trend(State(app): State<AppState>, headers: HeaderMap, params: Params) -> Result<Json<Value>, ApiError> {
    let Request { agency, days, scope, .. } = request(&app, &headers, params).await?;
    let agency = required(agency)?;
    let Some(days) = days else { return Ok(Json(json!({ "agency": agency, "months": [], "quarters": [] }))) };
    let trend = app.overview(&agency, &days, &scope).await?;
    let points = |spans: Vec<(String, app::domain::tally::Totals)>| -> Vec<Value> {
        spans
            .into_iter()
            .map(|(label, totals)| {
                let index = app.index_of(&agency, Some(&totals));
                json!({"label": label, "responses": index.responses, "overall": index.overall, "ci95": index_interval(&index)})
            })
            .collect()
    };
    Ok(Json(json!({ "agency": agency, "months": points(trend.months), "quarters": points(trend.quarters) })))
}
