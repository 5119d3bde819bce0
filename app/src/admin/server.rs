//! Server functions of the admin view.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::{Agency, Questionnaire, SatisfactionIndex};

/// One row of the sibling ranking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankedAgency {
    pub code: String,
    pub name: String,
    pub rank: Option<usize>,
    pub overall: Option<f64>,
    pub responses: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub agencies: Vec<Agency>,
    pub agency: Agency,
    pub from: String,
    pub to: String,
    pub index: SatisfactionIndex,
    pub questionnaire: Questionnaire,
    pub ranking: Vec<RankedAgency>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DashboardReply {
    /// Not logged in: show the login form.
    LoginRequired,
    /// The filter is wrong: say why (in Vietnamese).
    BadFilter(String),
    Ready(Box<Dashboard>),
}

#[server]
pub async fn admin_dashboard(
    agency: Option<String>,
    from: Option<String>,
    to: Option<String>,
) -> Result<DashboardReply, ServerFnError> {
    use crate::domain::index::rank;
    use crate::domain::Period;
    use crate::service::ServiceError;

    let state = expect_context::<crate::service::AppState>();
    if !ssr::is_admin(&state) {
        return Ok(DashboardReply::LoginRequired);
    }
    let period = match Period::parse(from.as_deref(), to.as_deref()) {
        Ok(p) => p,
        Err(e) => return Ok(DashboardReply::BadFilter(e.to_string())),
    };
    let agencies = state.db.agencies().await.map_err(ssr::internal)?;
    let wanted = agency.filter(|a| !a.is_empty());
    let chosen = match wanted {
        Some(code) => agencies.iter().find(|a| a.code == code).cloned(),
        None => agencies.first().cloned(),
    };
    let Some(chosen) = chosen else {
        return Ok(DashboardReply::BadFilter("Không tìm thấy cơ quan, đơn vị này.".into()));
    };
    let index = state.indices(&chosen.code, &period).await.map_err(|e: ServiceError| ssr::internal(e))?;
    let siblings = state.sibling_indices(&chosen, &period).await.map_err(ssr::internal)?;
    let ranking = rank(siblings.into_iter().map(|s| (s.clone(), s.overall)).collect())
        .into_iter()
        .map(|(s, rank)| RankedAgency {
            name: agencies.iter().find(|a| a.code == s.agency).map_or_else(|| s.agency.clone(), |a| a.name.clone()),
            code: s.agency,
            rank,
            overall: s.overall,
            responses: s.responses,
        })
        .collect();
    Ok(DashboardReply::Ready(Box::new(Dashboard {
        agencies,
        agency: chosen,
        from: from.unwrap_or_default(),
        to: to.unwrap_or_default(),
        index,
        questionnaire: (*state.questionnaire).clone(),
        ranking,
    })))
}

/// Checks the admin token and, when right, keeps it in an HttpOnly cookie.
#[server]
pub async fn admin_login(token: String) -> Result<(), ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let response = expect_context::<leptos_axum::ResponseOptions>();
    if !state.is_admin_token(token.trim()) {
        response.set_status(axum::http::StatusCode::UNAUTHORIZED);
        return Err(ServerFnError::new("Mã quản trị không đúng."));
    }
    // The cookie holds the token's hash, never the token itself.
    let value = crate::service::secret::hash(token.trim());
    let cookie = format!("{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200", ssr::ADMIN_COOKIE);
    if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
        response.insert_header(axum::http::header::SET_COOKIE, value);
    }
    leptos_axum::redirect("/admin");
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use leptos::prelude::*;

    use crate::kiosk::server::ssr::cookie;
    use crate::service::AppState;

    pub const ADMIN_COOKIE: &str = "hailong_admin";

    pub fn is_admin(state: &AppState) -> bool {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| cookie(&parts.headers, ADMIN_COOKIE))
            .is_some_and(|hashed| state.is_admin_cookie(&hashed))
    }

    pub fn internal(error: impl std::fmt::Display) -> ServerFnError {
        tracing::error!(%error, "admin server function failed");
        ServerFnError::new("Máy chủ đang gặp sự cố, vui lòng thử lại sau.")
    }
}
