//! Server functions of the staff pages.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::access::PageReply;

/// What the invitation form offers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InviteForm {
    pub procedures: Vec<(String, String)>,
    pub agencies: Vec<(String, String)>,
    pub default_agency: Option<String>,
    /// The latest invitations made at the officer's service point.
    pub recent: Vec<RecentInvitation>,
    /// The province takes invitations only from its one-stop software: the page only looks up.
    pub api_only: bool,
    /// Minutes a link's maker may show and print it again.
    pub reprint_minutes: u32,
}

/// A line of the officer's recent invitations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecentInvitation {
    pub dossier_code: String,
    pub procedure_name: String,
    pub agency_code: String,
    pub agency_name: String,
    /// hh:mm dd/mm/yyyy, Vietnam time.
    pub created: String,
    pub status: crate::domain::invitation::InvitationStatus,
    pub deliveries: Vec<DeliveryView>,
}

/// An invitation as the officer sees it: never the answer, only whether there is one; its link
/// only for the officer who made it, for the few minutes they may print it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvitationView {
    pub dossier_code: String,
    pub procedure_name: String,
    pub agency_name: String,
    pub link: Option<SlipLink>,
    /// Why there is no link, when there is none.
    pub no_link: Option<String>,
    /// Last day to answer, dd/mm/yyyy in Vietnam time.
    pub expires_on: String,
    pub status: crate::domain::invitation::InvitationStatus,
    pub deliveries: Vec<DeliveryView>,
}

/// A survey link on its maker's screen and slip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlipLink {
    pub url: String,
    pub qr_svg: String,
    /// hh:mm, Vietnam time: after this the link is not shown again.
    pub printable_until: String,
}

/// Where a message with the link stands, as the officer's page shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sending {
    Queued,
    /// Queued, but no gateway will send it: it waits in the admin's outbox.
    Outbox,
    Sent,
    Failed,
    Cancelled,
}

impl Sending {
    /// As the page marks it (`data-status`, a CSS class).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Outbox => "outbox",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// In a few words, for the list of recent invitations.
    pub fn short(self) -> &'static str {
        match self {
            Self::Queued => "đang chờ gửi",
            Self::Outbox => "chờ quản trị gửi",
            Self::Sent => "đã gửi",
            Self::Failed => "gửi lỗi",
            Self::Cancelled => "không gửi",
        }
    }
}

/// A message sent (or to be sent) with the link, as the officer sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    /// "Tin nhắn SMS" or "E-mail".
    pub medium: String,
    /// The contact, masked: 091•••••78.
    pub recipient: String,
    pub status: Sending,
    /// The status in words, with the time or the cause.
    pub detail: String,
}

#[server]
pub async fn load_invite_form() -> Result<PageReply<InviteForm>, ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let access = match crate::access::guard::require(&state, crate::domain::access::Action::Invite).await? {
        Ok(access) => access,
        Err(refusal) => return Ok(refusal),
    };
    let procedures = state.procedures().await.map_err(ssr::internal)?;
    let agencies = ssr::agencies_for(&state, &access).await?;
    let mut recent = Vec::new();
    for invitation in state.recent_invitations(access.user.agency_code.as_deref(), 20).await.map_err(ssr::internal)? {
        let deliveries = state.deliveries_of(&invitation).await.map_err(ssr::internal)?;
        recent.push(RecentInvitation {
            created: ssr::vietnam_time(invitation.created_at),
            status: ssr::status_of(&invitation),
            deliveries: deliveries.iter().map(|d| ssr::delivery_view(&state, d)).collect(),
            dossier_code: invitation.dossier_code,
            procedure_name: invitation.procedure_name,
            agency_code: invitation.agency_code,
            agency_name: invitation.agency_name,
        });
    }
    let limits = state.settings.officer_limits;
    Ok(PageReply::Ready(InviteForm {
        procedures,
        default_agency: access.user.agency_code,
        agencies,
        recent,
        api_only: limits.api_only,
        reprint_minutes: limits.reprint_minutes,
    }))
}

#[server]
pub async fn create_invitation(
    dossier_code: String,
    procedure: String,
    agency: String,
    #[server(default)] phone: String,
    #[server(default)] email: String,
) -> Result<(), ServerFnError> {
    use crate::service::invitations::Maker;
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, crate::domain::access::Action::Invite).await?;
    // An agency this point does not receive dossiers for does not exist for this officer.
    if !access.reach.contains(agency.trim()) {
        return crate::service::refuse(
            axum::http::StatusCode::NOT_FOUND,
            "Không có cơ quan này trong danh sách tiếp nhận của điểm phục vụ.",
        );
    }
    let contacts = match crate::domain::delivery::parse_contacts(Some(&phone), Some(&email)) {
        Ok(contacts) => contacts,
        Err(error) => return crate::service::refuse(axum::http::StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
    };
    let actor = access.actor();
    let maker = Maker::Officer { user_id: access.user.id, actor: &actor };
    let invited = state.invite(maker, &dossier_code, &procedure, &agency).await.map_err(ssr::refused)?;
    state.send_invitation(&invited, &contacts, &actor).await.map_err(ssr::refused)?;
    leptos_axum::redirect(&ssr::invitation_path(&invited.invitation));
    Ok(())
}

#[server]
pub async fn load_invitation(agency: String, dossier_code: String) -> Result<PageReply<InvitationView>, ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let access = match crate::access::guard::require(&state, crate::domain::access::Action::Invite).await? {
        Ok(access) => access,
        Err(refusal) => return Ok(refusal),
    };
    let found = if access.reach.contains(agency.trim()) {
        state
            .invitation_for_officer(access.user.id, &access.actor(), &agency, &dossier_code)
            .await
            .map_err(ssr::internal)?
    } else {
        None
    };
    // Another agency's dossier answers exactly like one nobody invited.
    let Some(invited) = found else {
        crate::access::request::set_status(axum::http::StatusCode::NOT_FOUND);
        return Ok(PageReply::Invalid(
            "Không có lời mời khảo sát nào cho mã hồ sơ này tại điểm phục vụ của bạn.".into(),
        ));
    };
    let invitation = &invited.invitation;
    let deliveries = state.deliveries_of(invitation).await.map_err(ssr::internal)?;
    let deliveries = deliveries.iter().map(|d| ssr::delivery_view(&state, d)).collect();
    let link = match &invited.link {
        Some(link) => Some(SlipLink {
            url: link.url.clone(),
            qr_svg: qrcode::QrCode::new(link.url.as_bytes())
                .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).build())
                .map_err(ssr::internal)?,
            printable_until: invitation.reprint_until.map(ssr::vietnam_clock).unwrap_or_default(),
        }),
        None => None,
    };
    let no_link = link.is_none().then(|| ssr::no_link_reason(&state, invitation, access.user.id));
    Ok(PageReply::Ready(InvitationView {
        dossier_code: invitation.dossier_code.clone(),
        procedure_name: invitation.procedure_name.clone(),
        agency_name: invitation.agency_name.clone(),
        link,
        no_link,
        expires_on: crate::domain::invitation::last_day(invitation.expires_at),
        status: ssr::status_of(invitation),
        deliveries,
    }))
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use leptos::prelude::*;

    use crate::access::guard::Access;
    use crate::service::AppState;

    /// The agencies an officer may invite for: those their service point receives (every open
    /// agency for an admin), as (code, name).
    pub async fn agencies_for(state: &AppState, access: &Access) -> Result<Vec<(String, String)>, ServerFnError> {
        let agencies = state.open_agencies().await.map_err(internal)?;
        Ok(agencies.into_iter().filter(|a| access.reach.contains(&a.code)).map(|a| (a.code, a.name)).collect())
    }

    /// Where an invitation's page is.
    pub fn invitation_path(invitation: &crate::storage::Invitation) -> String {
        format!("/staff/invitations/{}/{}", invitation.agency_code, invitation.dossier_code)
    }

    pub use crate::service::internal;

    pub fn vietnam_time(at: chrono::DateTime<chrono::Utc>) -> String {
        at.with_timezone(&crate::domain::period::vietnam()).format("%H:%M %d/%m/%Y").to_string()
    }

    pub fn vietnam_clock(at: chrono::DateTime<chrono::Utc>) -> String {
        at.with_timezone(&crate::domain::period::vietnam()).format("%H:%M").to_string()
    }

    /// Why the officer `viewer` does not see an invitation's link.
    pub fn no_link_reason(state: &AppState, invitation: &crate::storage::Invitation, viewer: i64) -> String {
        match invitation.created_by {
            None => "Lời mời này do phần mềm một cửa tạo và gửi cho người dân; đường dẫn không hiển thị ở đây.".into(),
            Some(maker) if maker != viewer => {
                "Đường dẫn chỉ hiển thị cho cán bộ đã tạo lời mời, ngay khi tạo; nó thuộc về người dân.".into()
            }
            Some(_) => format!(
                "Đường dẫn chỉ được xem, in lại trong {} phút sau khi tạo; sau đó chỉ người dân giữ đường dẫn.",
                state.settings.officer_limits.reprint_minutes
            ),
        }
    }

    /// An invitation refused or failed: its status and Vietnamese reason, or the internal error.
    pub fn refused(error: crate::service::invitations::InviteError) -> ServerFnError {
        use crate::service::invitations::InviteError;
        use axum::http::StatusCode;
        let status = match &error {
            InviteError::Service(error) => return internal(error),
            InviteError::ApiOnly => StatusCode::FORBIDDEN,
            InviteError::OverDailyLimit(_) => StatusCode::TOO_MANY_REQUESTS,
            InviteError::AlreadyIssued => StatusCode::CONFLICT,
            InviteError::Invalid(_) | InviteError::UnknownProcedure | InviteError::UnknownAgency(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
        };
        let Err(refusal) = crate::service::refuse::<std::convert::Infallible>(status, error.to_string());
        refusal
    }

    pub fn status_of(invitation: &crate::storage::Invitation) -> crate::domain::invitation::InvitationStatus {
        crate::domain::invitation::InvitationStatus::of(
            invitation.expires_at,
            invitation.answered_at,
            chrono::Utc::now(),
        )
    }

    /// How a delivery reads on the officer's page. Only what a gateway confirmed is "sent".
    pub fn delivery_view(state: &AppState, delivery: &crate::storage::Delivery) -> super::DeliveryView {
        use crate::domain::delivery::DeliveryStatus;
        let medium = delivery.medium;
        let (status, detail) = match delivery.status {
            DeliveryStatus::Queued if !state.delivery_configured(medium) => (
                super::Sending::Outbox,
                "Chưa gửi: chưa cấu hình cổng gửi; tin nằm trong hộp thư đi để quản trị gửi thủ công.".to_owned(),
            ),
            DeliveryStatus::Queued => (
                super::Sending::Queued,
                match &delivery.last_error {
                    None => "Đang chờ gửi.".to_owned(),
                    Some(cause) => format!("Đang chờ gửi lại (đã thử {} lần; lần trước: {cause})", delivery.attempts),
                },
            ),
            DeliveryStatus::Sent => (
                super::Sending::Sent,
                format!("Đã gửi lúc {}.", delivery.sent_at.map(vietnam_time).unwrap_or_default()),
            ),
            DeliveryStatus::Failed => (
                super::Sending::Failed,
                format!(
                    "Gửi không thành công sau {} lần thử: {}",
                    delivery.attempts,
                    delivery.last_error.as_deref().unwrap_or("không rõ nguyên nhân.")
                ),
            ),
            DeliveryStatus::Cancelled => {
                (super::Sending::Cancelled, "Không gửi: phiếu đã được trả lời hoặc đường dẫn đã hết hạn.".to_owned())
            }
        };
        super::DeliveryView {
            medium: medium.label().to_owned(),
            recipient: delivery.recipient_hint.clone(),
            status,
            detail,
        }
    }
}
