//! Server functions of the admin view.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::access::PageReply;
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
    /// Who is looking (shown with the logout button).
    pub username: String,
    pub is_admin: bool,
}

#[server]
pub async fn admin_dashboard(
    agency: Option<String>,
    from: Option<String>,
    to: Option<String>,
) -> Result<PageReply<Dashboard>, ServerFnError> {
    use crate::access::ssr::{require, set_status};
    use crate::domain::access::Action;
    use crate::domain::account::Role;
    use crate::domain::Period;
    use axum::http::StatusCode;

    let state = expect_context::<crate::service::AppState>();
    let access = match require(&state, Action::ViewIndices).await? {
        Ok(access) => access,
        Err(refusal) => return Ok(refusal),
    };
    let forbidden = |message: &str| {
        set_status(StatusCode::FORBIDDEN);
        Ok(PageReply::Forbidden(message.to_owned()))
    };
    let all = state.agencies().await.map_err(crate::service::internal)?;
    // What this user may see: the province, or their agency's subtree.
    let agencies: Vec<Agency> = all.into_iter().filter(|a| access.reach.contains(&a.code)).collect();
    let period = match Period::parse(from.as_deref(), to.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            set_status(StatusCode::UNPROCESSABLE_ENTITY);
            return Ok(PageReply::Invalid(e.to_string()));
        }
    };
    let chosen = match agency.filter(|a| !a.is_empty()) {
        Some(code) => match agencies.iter().find(|a| a.code == code) {
            Some(a) => a.clone(),
            None => return forbidden("Bạn không có quyền xem cơ quan, đơn vị này, hoặc mã không tồn tại."),
        },
        None => match agencies.first() {
            Some(a) => a.clone(),
            None => return forbidden("Tài khoản của bạn chưa gắn với cơ quan, đơn vị nào."),
        },
    };
    let user = access.user;
    let population = period.into();
    let index = state.indices(&chosen.code, &population).await.map_err(crate::service::internal)?;
    let ranking = Vec::new();
    Ok(PageReply::Ready(Dashboard {
        agencies,
        agency: chosen,
        from: from.unwrap_or_default(),
        to: to.unwrap_or_default(),
        index,
        questionnaire: (*state.questionnaire).clone(),
        ranking,
        is_admin: user.role == Role::Admin,
        username: user.username,
    }))
}
