//! Invitations: one survey link per dossier, and the link channel's submissions.
//!
//! A link belongs to the citizen (issue 19). Its token is random and the database keeps only its
//! hash; the link is shown to whoever made it, when it is made, and may be shown to that maker
//! again (audit-logged) for a short time the province sets. The one-stop software gets it in the
//! API's answer. Nobody else, staff or admin, ever sees it: looking up a dossier shows where its
//! invitation stands. What an officer does with links is counted and flagged on the officer and
//! the invitation, never on an answer.

use std::net::IpAddr;

use chrono::{Duration, Utc};
use rand::RngCore;

use super::{secret, AppState, ServiceError};
use crate::domain::access::Reach;
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::delivery::Medium;
use crate::domain::invitation::{parse_dossier_code, InvitationError, InvitationFlag, InvitationStatus, OfficerLimits};
use crate::domain::period::{start_of_day, vietnam_day};
use crate::domain::submission::{self, Channel};
use crate::domain::Submission;
use crate::storage::{Invitation, NewInvitation, NewResponse, Outcome};

#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error(transparent)]
    Invalid(#[from] InvitationError),

    #[error("Thủ tục hành chính này không có trong danh mục.")]
    UnknownProcedure,
    #[error("Không có cơ quan, đơn vị mã {0}.")]
    UnknownAgency(String),
    /// The province takes invitations only from its one-stop software.
    #[error("Tỉnh chỉ nhận lời mời khảo sát do phần mềm một cửa gửi sang; trang này chỉ tra cứu tình trạng hồ sơ.")]
    ApiOnly,
    /// The officer made as many invitations today as the province allows.
    #[error("Bạn đã tạo {0} lời mời khảo sát hôm nay, bằng mức tối đa tỉnh cho phép; lời mời này không được tạo. Nếu cần thêm, đề nghị liên hệ quản trị.")]
    OverDailyLimit(u32),
    /// Contacts given for a dossier whose link can no longer be shown.
    #[error("Hồ sơ này đã có đường dẫn khảo sát; đường dẫn chỉ được gửi khi tạo, nên không gửi lại được.")]
    AlreadyIssued,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Who makes an invitation.
#[derive(Clone, Copy, Debug)]
pub enum Maker<'a> {
    /// An officer on the staff page (or an admin).
    Officer { user_id: i64, actor: &'a Actor },
    /// The one-stop software, through the integration API.
    OneStop { actor: &'a Actor },
}

impl Maker<'_> {
    fn user_id(&self) -> Option<i64> {
        match self {
            Maker::Officer { user_id, .. } => Some(*user_id),
            Maker::OneStop { .. } => None,
        }
    }

    fn actor(&self) -> &Actor {
        match self {
            Maker::Officer { actor, .. } | Maker::OneStop { actor } => actor,
        }
    }

    /// Whether this maker may have the link of `invitation` (again) at `now`.
    fn may_have_link(&self, invitation: &Invitation, now: chrono::DateTime<Utc>) -> bool {
        match self {
            Maker::Officer { user_id, .. } => {
                OfficerLimits::may_show_link(invitation.created_by, *user_id, invitation.reprint_until, now)
            }
            Maker::OneStop { .. } => {
                invitation.created_by.is_none() && invitation.reprint_until.is_some_and(|until| now < until)
            }
        }
    }
}

/// A survey link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub token: String,
    pub url: String,
}

/// What asking for a dossier's invitation gave.
#[derive(Clone, Debug)]
pub struct Invited {
    pub invitation: Invitation,
    pub status: InvitationStatus,
    /// Whether it was made by this request.
    pub created: bool,
    /// Its link: for a new one, and for its maker while it may be shown again; otherwise none.
    pub link: Option<Link>,
}

/// An invitation found by its link's token: whoever has the token is its citizen.
#[derive(Clone, Debug)]
pub struct InvitationLink {
    pub invitation: Invitation,
    pub token: String,
    pub url: String,
    pub status: InvitationStatus,
}

/// Where an invitation stands now.
pub fn status_of(invitation: &Invitation) -> InvitationStatus {
    InvitationStatus::of(invitation.expires_at, invitation.answered_at, Utc::now())
}

/// A new link token: 160 random bits, more than the 128 a link needs and short enough for a QR code.
fn new_link_token() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl AppState {
    /// The survey link of a token.
    fn link(&self, token: String) -> Link {
        Link { url: format!("{}/s/{token}", self.settings.public_url), token }
    }

    /// The link of an invitation made before links were random (migration 14): derived from the
    /// link secret, used only if it is the one whose hash the invitation keeps.
    fn legacy_link(&self, invitation_token_hash: &str, agency_code: &str, dossier_code: &str) -> Option<Link> {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.settings.link_secret.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(b"hailong invitation v2\0");
        mac.update(agency_code.as_bytes());
        mac.update(b"\0");
        mac.update(dossier_code.as_bytes());
        let token = hex::encode(&mac.finalize().into_bytes()[..20]);
        (secret::hash(&token) == invitation_token_hash).then(|| self.link(token))
    }

    /// The link a delivery carries: the invitation's sealed one, or for an invitation made before
    /// migration 14, the one derived from the link secret.
    pub(crate) fn delivery_link(&self, pending: &crate::storage::PendingDelivery) -> Option<Link> {
        match &pending.link_sealed {
            Some(sealed) => self.sealer.open_link(sealed).map(|token| self.link(token)),
            None => self.legacy_link(&pending.token_hash, &pending.agency_code, &pending.dossier_code),
        }
    }

    /// The invitation of a dossier, made on first request. Asked again, the same invitation comes
    /// back, with its link only for its maker within the re-print time. Where the province takes
    /// invitations from its one-stop software only, an officer can only look one up.
    pub async fn invite(
        &self,
        maker: Maker<'_>,
        dossier_code: &str,
        procedure_code: &str,
        agency_code: &str,
    ) -> Result<Invited, InviteError> {
        let limits = &self.settings.officer_limits;
        let dossier_code = parse_dossier_code(dossier_code)?;
        let agency_code = agency_code.trim();
        if let Some(existing) =
            self.db.invitation_by_dossier(agency_code, &dossier_code).await.map_err(ServiceError::from)?
        {
            let invited = self.invited(maker, existing, false);
            // An officer is shown the link by the page this request redirects to, audited there.
            if invited.link.is_some() && matches!(maker, Maker::OneStop { .. }) {
                self.note_link_shown(maker.actor(), &invited.invitation).await?;
            }
            return Ok(invited);
        }
        if limits.api_only && matches!(maker, Maker::Officer { .. }) {
            return Err(InviteError::ApiOnly);
        }
        let procedures = self.db.procedures().await.map_err(ServiceError::from)?;
        if !procedures.iter().any(|(code, _)| code == procedure_code) {
            return Err(InviteError::UnknownProcedure);
        }
        if self.db.agency(agency_code).await.map_err(ServiceError::from)?.is_none() {
            return Err(InviteError::UnknownAgency(agency_code.to_owned()));
        }
        let now = Utc::now();
        if let Some(user_id) = maker.user_id() {
            let today = self.db.invitations_made_since(user_id, start_of_day(vietnam_day(now))).await;
            if !limits.admits(today.map_err(ServiceError::from)?) {
                self.db
                    .record_invitation_flag(InvitationFlag::OverDailyLimit, Some(user_id), None, super::coarse(now))
                    .await
                    .map_err(ServiceError::from)?;
                let subject = format!("{agency_code} / {dossier_code}");
                self.db
                    .audit(maker.actor(), AuditAction::InvitationOverLimit, &subject)
                    .await
                    .map_err(ServiceError::from)?;
                return Err(InviteError::OverDailyLimit(limits.max_per_day));
            }
        }
        let token = new_link_token();
        let new = NewInvitation {
            dossier_code: &dossier_code,
            procedure_code,
            agency_code,
            created_by: maker.user_id(),
            expires_at: now + Duration::days(i64::from(self.settings.invitation_days)),
            token_hash: &secret::hash(&token),
            link_sealed: &self.sealer.seal_link(&token),
            reprint_until: now + Duration::minutes(i64::from(limits.reprint_minutes)),
        };
        let (invitation, created) = self.db.insert_invitation(&new, maker.actor()).await.map_err(ServiceError::from)?;
        // Made by another request at the same moment: that one's maker has the link.
        Ok(if created {
            Invited { link: Some(self.link(token)), ..self.invited(maker, invitation, true) }
        } else {
            self.invited(maker, invitation, false)
        })
    }

    /// An invitation as `maker` may see it: its link only while they may have it.
    fn invited(&self, maker: Maker<'_>, invitation: Invitation, created: bool) -> Invited {
        let link = if maker.may_have_link(&invitation, Utc::now()) {
            invitation.link_sealed.as_deref().and_then(|sealed| self.sealer.open_link(sealed)).map(|t| self.link(t))
        } else {
            None
        };
        Invited { status: status_of(&invitation), invitation, created, link }
    }

    /// The invitation of a competent agency's dossier as the officer `user_id` may see it: with its
    /// link only if they made it and may still print it, which the audit log records.
    pub async fn invitation_for_officer(
        &self,
        user_id: i64,
        actor: &Actor,
        agency_code: &str,
        dossier_code: &str,
    ) -> Result<Option<Invited>, ServiceError> {
        let Some(invitation) = self.db.invitation_by_dossier(agency_code.trim(), dossier_code.trim()).await? else {
            return Ok(None);
        };
        let invited = self.invited(Maker::Officer { user_id, actor }, invitation, false);
        if invited.link.is_some() {
            self.note_link_shown(actor, &invited.invitation).await?;
        }
        Ok(Some(invited))
    }

    /// Writes to the audit log that `actor` was shown an existing invitation's link again.
    pub async fn note_link_shown(&self, actor: &Actor, invitation: &Invitation) -> Result<(), ServiceError> {
        let subject = format!("{} / {}", invitation.agency_code, invitation.dossier_code);
        Ok(self.db.audit(actor, AuditAction::InvitationShown, &subject).await?)
    }

    /// Sends a pending invitation's link to the citizen's contacts (parsed beforehand with
    /// `domain::delivery::parse_contacts`, so that a bad one refuses the whole request), audit-logged
    /// without the contacts. Only the link's maker sends it, while they have it: contacts for an
    /// invitation whose link they no longer have are refused. Returns how many messages were
    /// queued; none for an answered or expired invitation.
    pub async fn send_invitation(
        &self,
        invited: &Invited,
        contacts: &[(Medium, String)],
        actor: &Actor,
    ) -> Result<usize, InviteError> {
        if invited.status != InvitationStatus::Pending || contacts.is_empty() {
            return Ok(0);
        }
        if invited.link.is_none() {
            return Err(InviteError::AlreadyIssued);
        }
        let queued = self.queue_deliveries(&invited.invitation, contacts).await?;
        if queued > 0 {
            let media: Vec<&str> = contacts.iter().map(|(medium, _)| medium.as_str()).collect();
            let subject = format!(
                "{} / {}: {}",
                invited.invitation.agency_code,
                invited.invitation.dossier_code,
                media.join(", ")
            );
            self.db.audit(actor, AuditAction::InvitationSent, &subject).await.map_err(ServiceError::from)?;
        }
        Ok(queued)
    }

    /// Adds a procedure to the invitation list, or renames it (audit-logged).
    pub async fn save_procedure(&self, actor: &Actor, code: &str, name: &str) -> Result<(), InviteError> {
        let (code, name) = crate::domain::invitation::parse_procedure(code, name)?;
        self.db.save_procedure(&code, &name, actor).await.map_err(ServiceError::from)?;
        Ok(())
    }

    /// The latest invitations created by the officers of a service point (all of them for
    /// `None`), newest first.
    pub async fn recent_invitations(
        &self,
        service_point: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Invitation>, ServiceError> {
        Ok(self.db.recent_invitations(service_point, limit).await?)
    }

    /// The active procedures: (code, name), by name.
    pub async fn procedures(&self) -> Result<Vec<(String, String)>, ServiceError> {
        Ok(self.db.procedures().await?)
    }

    /// The invitation of a competent agency's dossier, without its link.
    pub async fn invitation_of_dossier(
        &self,
        agency_code: &str,
        dossier_code: &str,
    ) -> Result<Option<Invitation>, ServiceError> {
        Ok(self.db.invitation_by_dossier(agency_code.trim(), dossier_code.trim()).await?)
    }

    /// The invitations with this dossier code among the agencies `reach` covers, as the one-stop
    /// software sees them: with the link only for one it made and may still have. Those of other
    /// agencies are never returned: to anyone outside, they do not exist.
    pub async fn invitations_within(
        &self,
        dossier_code: &str,
        reach: &Reach,
        actor: &Actor,
    ) -> Result<Vec<Invited>, ServiceError> {
        let found = self.db.invitations_with_dossier_code(dossier_code.trim()).await?;
        Ok(found
            .into_iter()
            .filter(|i| reach.contains(&i.agency_code))
            .map(|i| self.invited(Maker::OneStop { actor }, i, false))
            .collect())
    }

    /// The invitation behind a link token, if there is one.
    pub async fn invitation_for_token(&self, token: &str) -> Result<Option<InvitationLink>, ServiceError> {
        let found = self.db.invitation_by_token_hash(&secret::hash(token)).await?;
        Ok(found.map(|invitation| {
            let Link { token, url } = self.link(token.to_owned());
            InvitationLink { status: status_of(&invitation), invitation, token, url }
        }))
    }

    /// Validates a citizen's answer to an invitation, claims the invitation and holds the answer
    /// for its mixed batch (`mixer`); the response keeps no trace of the invitation. An answer that
    /// came soon after the link was made, or from an address an officer of the point is signed in
    /// from, flags the invitation and the officer (never the answer).
    pub async fn submit_from_link(
        &self,
        invitation: &Invitation,
        body: &Submission,
        from: Option<IpAddr>,
    ) -> Result<(uuid::Uuid, Outcome), ServiceError> {
        let served = [invitation.agency_code.clone()];
        let now = Utc::now();
        let response = submission::validate(&self.questionnaire, &served, body, vietnam_day(now))
            .map_err(ServiceError::Invalid)?;
        let (id, submitted_at) = (response.id, super::answered_at(response.day, now));
        let new = NewResponse {
            response,
            service_point: invitation.agency_code.clone(),
            kiosk_id: None,
            channel: Channel::Link,
            submitted_at,
        };
        let outcome = self.hold_link_answer(invitation.id, new).await?;
        if outcome == Outcome::New {
            // The answer is held whatever happens here: a flag that cannot be written is logged.
            if let Err(error) = self.flag_link_answer(invitation, from, now).await {
                tracing::error!(%error, "an invitation flag was not recorded");
            }
        }
        Ok((id, outcome))
    }

    async fn flag_link_answer(
        &self,
        invitation: &Invitation,
        from: Option<IpAddr>,
        now: chrono::DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let hour = super::coarse(now);
        if self.settings.officer_limits.answered_quickly(invitation.created_at, now) {
            self.db
                .record_invitation_flag(
                    InvitationFlag::AnsweredQuickly,
                    invitation.created_by,
                    Some(invitation.id),
                    hour,
                )
                .await?;
        }
        if let Some(ip) = from {
            let officers = self
                .db
                .officers_signed_in_from(&ip.to_string(), invitation.created_by, &invitation.agency_code, now)
                .await?;
            for officer in officers {
                self.db
                    .record_invitation_flag(InvitationFlag::OfficerAddress, Some(officer), Some(invitation.id), hour)
                    .await?;
            }
        }
        Ok(())
    }

    /// What the kiosk limits and the officer flags saw over `days`, for the report's data-quality
    /// section: (what, how often), every kind listed, zeros included.
    pub async fn integrity_counts(
        &self,
        days: &crate::domain::period::ClosedDays,
    ) -> Result<Vec<(String, u64)>, ServiceError> {
        use crate::domain::anomaly::AnomalyKind;
        let (from, until) = (start_of_day(days.from), start_of_day(days.to) + Duration::days(1));
        fn count<K: PartialEq>(seen: &[(K, u64)], kind: K) -> u64 {
            seen.iter().find(|(k, _)| *k == kind).map_or(0, |(_, n)| *n)
        }
        let seen = self.db.flag_counts(from, until).await?;
        let kiosks = AnomalyKind::ALL.into_iter().map(|k| (format!("Kiosk: {}", k.label()), count(&seen.kiosks, k)));
        let officers =
            InvitationFlag::ALL.into_iter().map(|f| (format!("Lời mời: {}", f.label()), count(&seen.officers, f)));
        Ok(kiosks.chain(officers).collect())
    }

    /// The invitations made over `days` for dossiers of `agency`'s subtree, and how many have
    /// been answered.
    pub async fn link_uptake(
        &self,
        agency: &str,
        days: &crate::domain::period::ClosedDays,
    ) -> Result<crate::domain::invitation::LinkUptake, ServiceError> {
        let subtree = crate::domain::agency::subtree_codes(&self.db.agencies().await?, agency);
        let (from, until) = (start_of_day(days.from), start_of_day(days.to) + Duration::days(1));
        let mut uptake = crate::domain::invitation::LinkUptake::default();
        for (code, made, answered) in self.db.invitations_made(from, until).await? {
            if subtree.contains(&code) {
                uptake.made += made;
                uptake.answered += answered;
            }
        }
        Ok(uptake)
    }

    /// The latest officer flags, newest first.
    pub async fn invitation_flags(&self, limit: u32) -> Result<Vec<crate::storage::OfficerFlag>, ServiceError> {
        Ok(self.db.invitation_flags(limit).await?)
    }
}
