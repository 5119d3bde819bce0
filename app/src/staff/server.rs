//! Server functions of the staff pages.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the invitation form offers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InviteForm {
    pub procedures: Vec<(String, String)>,
    pub agencies: Vec<(String, String)>,
    pub default_agency: Option<String>,
}

/// An invitation as the officer sees it: never the answer, only whether there is one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvitationView {
    pub dossier_code: String,
    pub procedure_name: String,
    pub agency_name: String,
    pub url: String,
    pub qr_svg: String,
    /// Last day to answer, dd/mm/yyyy in Vietnam time.
    pub expires_on: String,
    pub status: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StaffReply<T> {
    Ready(T),
    LoginRequired,
    Forbidden(String),
}

#[server]
pub async fn load_invite_form() -> Result<StaffReply<InviteForm>, ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let user = match ssr::officer(&state).await? {
        Ok(user) => user,
        Err(reply) => return Ok(reply),
    };
    let procedures = state.db.procedures().await.map_err(ssr::internal)?;
    let agencies = ssr::agencies_for(&state, &user).await?;
    Ok(StaffReply::Ready(InviteForm { procedures, default_agency: user.agency_code, agencies }))
}

#[server]
pub async fn create_invitation(dossier_code: String, procedure: String, agency: String) -> Result<(), ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    use crate::service::refuse;
    let user = match ssr::officer::<()>(&state).await? {
        Ok(user) => user,
        Err(_) => {
            return refuse(axum::http::StatusCode::FORBIDDEN, "Vui lòng đăng nhập bằng tài khoản công chức một cửa.")
        }
    };
    if !ssr::agencies_for(&state, &user).await?.iter().any(|(code, _)| *code == agency) {
        return refuse(
            axum::http::StatusCode::FORBIDDEN,
            "Cơ quan này không tiếp nhận hồ sơ tại điểm phục vụ của bạn.",
        );
    }
    match state.invite(Some(user.id), &dossier_code, &procedure, &agency).await {
        Ok((link, _)) => {
            leptos_axum::redirect(&format!("/staff/invitations/{}", link.invitation.dossier_code));
            Ok(())
        }
        Err(crate::service::invitations::InviteError::Service(error)) => Err(ssr::internal(error)),
        Err(error) => refuse(axum::http::StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
    }
}

#[server]
pub async fn load_invitation(dossier_code: String) -> Result<StaffReply<InvitationView>, ServerFnError> {
    use crate::domain::invitation::InvitationStatus;
    let state = expect_context::<crate::service::AppState>();
    let user = match ssr::officer(&state).await? {
        Ok(user) => user,
        Err(reply) => return Ok(reply),
    };
    let found = state.invitation_of_dossier(&dossier_code).await.map_err(ssr::internal)?;
    let allowed = ssr::agencies_for(&state, &user).await?;
    let Some(link) = found.filter(|l| allowed.iter().any(|(code, _)| *code == l.invitation.agency_code)) else {
        return Ok(ssr::forbidden("Không có lời mời khảo sát nào cho mã hồ sơ này tại điểm phục vụ của bạn."));
    };
    let invitation = link.invitation.clone();
    let qr_svg = qrcode::QrCode::new(link.url.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).build())
        .map_err(ssr::internal)?;
    let last_day =
        (invitation.expires_at - chrono::Duration::seconds(1)).with_timezone(&crate::domain::period::vietnam());
    Ok(StaffReply::Ready(InvitationView {
        dossier_code: invitation.dossier_code.clone(),
        procedure_name: invitation.procedure_name.clone(),
        agency_name: invitation.agency_name.clone(),
        url: link.url,
        qr_svg,
        expires_on: last_day.format("%d/%m/%Y").to_string(),
        status: match link.status {
            InvitationStatus::Pending => "Chưa trả lời",
            InvitationStatus::Answered => "Đã trả lời",
            InvitationStatus::Expired => "Đã hết hạn",
        }
        .into(),
    }))
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use leptos::prelude::*;

    use super::StaffReply;
    use crate::domain::account::Role;
    use crate::service::AppState;
    use crate::storage::User;

    pub fn forbidden<T>(message: &str) -> StaffReply<T> {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::FORBIDDEN);
        }
        StaffReply::Forbidden(message.to_owned())
    }

    /// The logged-in one-stop officer (or admin), or the reply to give instead.
    pub async fn officer<T>(state: &AppState) -> Result<Result<User, StaffReply<T>>, ServerFnError> {
        Ok(match crate::account::server::ssr::signed_in(state).await? {
            Err(_) => Err(StaffReply::LoginRequired),
            Ok(user) if user.role == Role::Manager => Err(forbidden("Trang này dành cho công chức một cửa.")),
            Ok(user) => Ok(user),
        })
    }

    /// The agencies an officer may invite for: those their service point receives (all for an admin).
    pub async fn agencies_for(state: &AppState, user: &User) -> Result<Vec<(String, String)>, ServerFnError> {
        let agencies = match &user.agency_code {
            Some(point) => state.db.served_agencies(point).await,
            None => state.db.agencies().await,
        };
        Ok(agencies.map_err(internal)?.into_iter().map(|a| (a.code, a.name)).collect())
    }

    pub use crate::service::internal;
}
