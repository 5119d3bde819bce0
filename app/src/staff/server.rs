//! Server functions of the staff pages.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the invitation form offers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InviteForm {
    pub procedures: Vec<(String, String)>,
    pub agencies: Vec<(String, String)>,
    pub default_agency: Option<String>,
    /// The latest invitations made at the officer's service point.
    pub recent: Vec<RecentInvitation>,
}

/// A line of the officer's recent invitations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecentInvitation {
    pub dossier_code: String,
    pub procedure_name: String,
    pub agency_name: String,
    /// hh:mm dd/mm/yyyy, Vietnam time.
    pub created: String,
    pub status: String,
    pub deliveries: Vec<DeliveryView>,
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
    pub deliveries: Vec<DeliveryView>,
}

/// A message sent (or to be sent) with the link, as the officer sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    /// "Tin nhắn SMS" or "E-mail".
    pub medium: String,
    /// The contact, masked: 091•••••78.
    pub recipient: String,
    /// queued, sent, failed, cancelled or outbox (queued, but no gateway will send it).
    pub status: String,
    /// The status in words, with the time or the cause.
    pub detail: String,
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
    let mut recent = Vec::new();
    for invitation in state.db.recent_invitations(user.agency_code.as_deref(), 20).await.map_err(ssr::internal)? {
        let deliveries = state.deliveries_of(&invitation).await.map_err(ssr::internal)?;
        recent.push(RecentInvitation {
            created: ssr::vietnam_time(invitation.created_at),
            status: ssr::status_text(&invitation).into(),
            deliveries: deliveries.iter().map(|d| ssr::delivery_view(&state, d)).collect(),
            dossier_code: invitation.dossier_code,
            procedure_name: invitation.procedure_name,
            agency_name: invitation.agency_name,
        });
    }
    Ok(StaffReply::Ready(InviteForm { procedures, default_agency: user.agency_code, agencies, recent }))
}

#[server]
pub async fn create_invitation(
    dossier_code: String,
    procedure: String,
    agency: String,
    #[server(default)] phone: String,
    #[server(default)] email: String,
) -> Result<(), ServerFnError> {
    use crate::service::invitations::InviteError;
    use crate::service::refuse;
    let state = expect_context::<crate::service::AppState>();
    let user = match ssr::officer::<()>(&state).await? {
        Ok(user) => user,
        Err(_) => {
            return refuse(axum::http::StatusCode::FORBIDDEN, "Vui lòng đăng nhập bằng tài khoản công chức một cửa.")
        }
    };
    let allowed = ssr::agencies_for(&state, &user).await?;
    let in_scope = |code: &str| allowed.iter().any(|(allowed, _)| allowed == code);
    if !in_scope(&agency) {
        return refuse(
            axum::http::StatusCode::FORBIDDEN,
            "Cơ quan này không tiếp nhận hồ sơ tại điểm phục vụ của bạn.",
        );
    }
    let contacts = match crate::domain::delivery::parse_contacts(Some(&phone), Some(&email)) {
        Ok(contacts) => contacts,
        Err(error) => return refuse(axum::http::StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
    };
    let link = match state.invite(Some(user.id), &dossier_code, &procedure, &agency).await {
        Ok((link, _)) => link,
        Err(InviteError::Service(error)) => return Err(ssr::internal(error)),
        Err(error) => return refuse(axum::http::StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
    };
    if !in_scope(&link.invitation.agency_code) {
        return refuse(
            axum::http::StatusCode::FORBIDDEN,
            "Hồ sơ này đã có lời mời khảo sát của một cơ quan ngoài điểm phục vụ của bạn.",
        );
    }
    state.send_invitation(&link, &contacts).await.map_err(ssr::internal)?;
    leptos_axum::redirect(&format!("/staff/invitations/{}", link.invitation.dossier_code));
    Ok(())
}

#[server]
pub async fn load_invitation(dossier_code: String) -> Result<StaffReply<InvitationView>, ServerFnError> {
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
    let deliveries = state.deliveries_of(&invitation).await.map_err(ssr::internal)?;
    let deliveries = deliveries.iter().map(|d| ssr::delivery_view(&state, d)).collect();
    let qr_svg = qrcode::QrCode::new(link.url.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).build())
        .map_err(ssr::internal)?;
    Ok(StaffReply::Ready(InvitationView {
        dossier_code: invitation.dossier_code.clone(),
        procedure_name: invitation.procedure_name.clone(),
        agency_name: invitation.agency_name.clone(),
        url: link.url,
        qr_svg,
        expires_on: crate::domain::invitation::last_day(invitation.expires_at),
        status: ssr::status_text(&invitation).into(),
        deliveries,
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

    pub fn vietnam_time(at: chrono::DateTime<chrono::Utc>) -> String {
        at.with_timezone(&crate::domain::period::vietnam()).format("%H:%M %d/%m/%Y").to_string()
    }

    pub fn status_text(invitation: &crate::storage::Invitation) -> &'static str {
        use crate::domain::invitation::InvitationStatus;
        match InvitationStatus::of(invitation.expires_at, invitation.answered_at, chrono::Utc::now()) {
            InvitationStatus::Pending => "Chưa trả lời",
            InvitationStatus::Answered => "Đã trả lời",
            InvitationStatus::Expired => "Đã hết hạn",
        }
    }

    /// How a delivery reads on the officer's page. Only what a gateway confirmed is "sent".
    pub fn delivery_view(state: &AppState, delivery: &crate::storage::Delivery) -> super::DeliveryView {
        use crate::domain::delivery::DeliveryStatus;
        let medium = delivery.medium;
        let (status, detail) = match delivery.status {
            DeliveryStatus::Queued if !state.delivery_configured(medium) => (
                "outbox",
                "Chưa gửi: chưa cấu hình cổng gửi; tin nằm trong hộp thư đi để quản trị gửi thủ công.".to_owned(),
            ),
            DeliveryStatus::Queued => (
                "queued",
                match &delivery.last_error {
                    None => "Đang chờ gửi.".to_owned(),
                    Some(cause) => format!("Đang chờ gửi lại (đã thử {} lần; lần trước: {cause})", delivery.attempts),
                },
            ),
            DeliveryStatus::Sent => {
                ("sent", format!("Đã gửi lúc {}.", delivery.sent_at.map(vietnam_time).unwrap_or_default()))
            }
            DeliveryStatus::Failed => (
                "failed",
                format!(
                    "Gửi không thành công sau {} lần thử: {}",
                    delivery.attempts,
                    delivery.last_error.as_deref().unwrap_or("không rõ nguyên nhân.")
                ),
            ),
            DeliveryStatus::Cancelled => {
                ("cancelled", "Không gửi: phiếu đã được trả lời hoặc đường dẫn đã hết hạn.".to_owned())
            }
        };
        super::DeliveryView {
            medium: medium.label().to_owned(),
            recipient: delivery.recipient_hint.clone(),
            status: status.to_owned(),
            detail,
        }
    }
}
