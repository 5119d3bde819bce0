//! Invitations: one survey link per dossier, and the link channel's submissions.
//!
//! The link token is derived, HMAC(link secret, dossier code), so that asking again for a dossier
//! shows the same link although the database keeps only the token's hash.

use chrono::{Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{secret, AppState, ServiceError};
use crate::domain::access::Reach;
use crate::domain::audit::Actor;
use crate::domain::delivery::Medium;
use crate::domain::invitation::{parse_dossier_code, InvitationError, InvitationStatus};
use crate::domain::period::vietnam_day;
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
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// An invitation with its link.
#[derive(Clone, Debug)]
pub struct InvitationLink {
    pub invitation: Invitation,
    pub token: String,
    pub url: String,
    pub status: InvitationStatus,
}

impl AppState {
    /// HMAC(link secret, agency, dossier): two agencies' dossiers with the same code get
    /// different links.
    fn link_token(&self, agency_code: &str, dossier_code: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.settings.link_secret.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(b"hailong invitation v2\0");
        mac.update(agency_code.as_bytes());
        mac.update(b"\0");
        mac.update(dossier_code.as_bytes());
        // 160 bits of the MAC: more than the 128 the link needs, short enough for a QR code.
        hex::encode(&mac.finalize().into_bytes()[..20])
    }

    /// The survey link of an invitation.
    pub(crate) fn link_url(&self, agency_code: &str, dossier_code: &str) -> String {
        format!("{}/s/{}", self.settings.public_url, self.link_token(agency_code, dossier_code))
    }

    fn link_of(&self, invitation: Invitation) -> InvitationLink {
        let token = self.link_token(&invitation.agency_code, &invitation.dossier_code);
        let status = InvitationStatus::of(invitation.expires_at, invitation.answered_at, Utc::now());
        InvitationLink {
            url: self.link_url(&invitation.agency_code, &invitation.dossier_code),
            token,
            invitation,
            status,
        }
    }

    /// The invitation of a dossier, created on first request; asking again returns the same one.
    pub async fn invite(
        &self,
        created_by: Option<i64>,
        dossier_code: &str,
        procedure_code: &str,
        agency_code: &str,
    ) -> Result<(InvitationLink, bool), InviteError> {
        let dossier_code = parse_dossier_code(dossier_code)?;
        let agency_code = agency_code.trim();
        if let Some(existing) =
            self.db.invitation_by_dossier(agency_code, &dossier_code).await.map_err(ServiceError::from)?
        {
            return Ok((self.link_of(existing), false));
        }
        let procedures = self.db.procedures().await.map_err(ServiceError::from)?;
        if !procedures.iter().any(|(code, _)| code == procedure_code) {
            return Err(InviteError::UnknownProcedure);
        }
        if self.db.agency(agency_code).await.map_err(ServiceError::from)?.is_none() {
            return Err(InviteError::UnknownAgency(agency_code.to_owned()));
        }
        let new = NewInvitation {
            dossier_code: &dossier_code,
            procedure_code,
            agency_code,
            created_by,
            expires_at: Utc::now() + Duration::days(i64::from(self.settings.invitation_days)),
        };
        let token_hash = secret::hash(&self.link_token(agency_code, &dossier_code));
        let (invitation, created) = self.db.insert_invitation(&new, &token_hash).await.map_err(ServiceError::from)?;
        Ok((self.link_of(invitation), created))
    }

    /// Sends a pending invitation's link to the citizen's contacts (parsed beforehand with
    /// `domain::delivery::parse_contacts`, so that a bad one refuses the whole request).
    /// Returns how many messages were queued; none for an answered or expired invitation.
    pub async fn send_invitation(
        &self,
        link: &InvitationLink,
        contacts: &[(Medium, String)],
    ) -> Result<usize, ServiceError> {
        if link.status != InvitationStatus::Pending || contacts.is_empty() {
            return Ok(0);
        }
        self.queue_deliveries(&link.invitation, contacts).await
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

    /// The invitation of a competent agency's dossier, with its link, if there is one.
    pub async fn invitation_of_dossier(
        &self,
        agency_code: &str,
        dossier_code: &str,
    ) -> Result<Option<InvitationLink>, ServiceError> {
        let found = self.db.invitation_by_dossier(agency_code.trim(), dossier_code.trim()).await?;
        Ok(found.map(|i| self.link_of(i)))
    }

    /// The invitations with this dossier code among the agencies `reach` covers. Those of other
    /// agencies are never returned: to anyone outside, they do not exist.
    pub async fn invitations_within(
        &self,
        dossier_code: &str,
        reach: &Reach,
    ) -> Result<Vec<InvitationLink>, ServiceError> {
        let found = self.db.invitations_with_dossier_code(dossier_code.trim()).await?;
        Ok(found.into_iter().filter(|i| reach.contains(&i.agency_code)).map(|i| self.link_of(i)).collect())
    }

    /// The invitation behind a link token, if there is one.
    pub async fn invitation_for_token(&self, token: &str) -> Result<Option<InvitationLink>, ServiceError> {
        let found = self.db.invitation_by_token_hash(&secret::hash(token)).await?;
        Ok(found.map(|i| self.link_of(i)))
    }

    /// Validates a citizen's answer to an invitation, claims the invitation and holds the answer
    /// for its mixed batch (`mixer`); the response keeps no trace of the invitation.
    pub async fn submit_from_link(
        &self,
        invitation: &Invitation,
        body: &Submission,
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
        Ok((id, self.hold_link_answer(invitation.id, new).await?))
    }
}
