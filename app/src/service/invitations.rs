//! Invitations: one survey link per dossier, and the link channel's submissions.
//!
//! The link token is derived, HMAC(link secret, dossier code), so that asking again for a dossier
//! shows the same link although the database keeps only the token's hash.

use chrono::{Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{coarse, secret, AppState, ServiceError};
use crate::domain::delivery::Medium;
use crate::domain::invitation::{parse_dossier_code, InvitationError, InvitationStatus};
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
    fn link_token(&self, dossier_code: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.settings.link_secret.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(b"hailong invitation\0");
        mac.update(dossier_code.as_bytes());
        // 160 bits of the MAC: more than the 128 the link needs, short enough for a QR code.
        hex::encode(&mac.finalize().into_bytes()[..20])
    }

    /// The survey link of a dossier's invitation.
    pub(crate) fn link_url(&self, dossier_code: &str) -> String {
        format!("{}/s/{}", self.settings.public_url, self.link_token(dossier_code))
    }

    fn link_of(&self, invitation: Invitation) -> InvitationLink {
        let token = self.link_token(&invitation.dossier_code);
        let status = InvitationStatus::of(invitation.expires_at, invitation.answered_at, Utc::now());
        InvitationLink { url: self.link_url(&invitation.dossier_code), token, invitation, status }
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
        if let Some(existing) = self.db.invitation_by_dossier(&dossier_code).await.map_err(ServiceError::from)? {
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
        let token_hash = secret::hash(&self.link_token(&dossier_code));
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
    pub async fn save_procedure(&self, actor: &str, code: &str, name: &str) -> Result<(), InviteError> {
        let (code, name) = crate::domain::invitation::parse_procedure(code, name)?;
        self.db.upsert_procedure(&code, &name).await.map_err(ServiceError::from)?;
        self.db.audit(actor, "procedure.save", &format!("{code}: {name}")).await.map_err(ServiceError::from)?;
        Ok(())
    }

    /// Creates an API key for one-stop software, scoped to `agency`'s subtree; shown once.
    pub async fn register_api_key(&self, actor: &str, agency: &str) -> Result<String, ServiceError> {
        if self.db.agency(agency).await?.is_none() {
            return Err(ServiceError::UnknownAgency(agency.to_owned()));
        }
        let key = secret::new_token();
        self.db.add_api_key(agency, &secret::hash(&key)).await?;
        self.db.audit(actor, "apikey.add", agency).await?;
        Ok(key)
    }

    /// The codes of the agencies an API key may act for, if the key is live.
    pub async fn api_key_scope(&self, key: &str) -> Result<Option<std::collections::HashSet<String>>, ServiceError> {
        let Some(root) = self.db.api_key_agency(&secret::hash(key)).await? else { return Ok(None) };
        let agencies = self.db.agencies().await?;
        Ok(Some(crate::domain::agency::subtree_codes(&agencies, &root)))
    }

    /// The invitation of a dossier, with its link, if there is one.
    pub async fn invitation_of_dossier(&self, dossier_code: &str) -> Result<Option<InvitationLink>, ServiceError> {
        let found = self.db.invitation_by_dossier(dossier_code.trim()).await?;
        Ok(found.map(|i| self.link_of(i)))
    }

    /// The invitation behind a link token, if there is one.
    pub async fn invitation_for_token(&self, token: &str) -> Result<Option<InvitationLink>, ServiceError> {
        let found = self.db.invitation_by_token_hash(&secret::hash(token)).await?;
        Ok(found.map(|i| self.link_of(i)))
    }

    /// Validates and stores a citizen's answer to an invitation; the invitation is marked
    /// answered in the same transaction, and the response keeps no trace of it.
    pub async fn submit_from_link(
        &self,
        invitation: &Invitation,
        body: &Submission,
    ) -> Result<(uuid::Uuid, Outcome), ServiceError> {
        let served = [invitation.agency_code.clone()];
        let response = submission::validate(&self.questionnaire, &served, body).map_err(ServiceError::Invalid)?;
        let id = response.id;
        let new = NewResponse {
            response,
            service_point: invitation.agency_code.clone(),
            kiosk_id: None,
            channel: Channel::Link,
            submitted_at: coarse(Utc::now()),
            invitation_id: Some(invitation.id),
        };
        Ok((id, self.writer.store(new).await?))
    }
}
