//! Link answers are stored in mixed batches, never in the transaction that claims their
//! invitation: whoever copies the database files and replays its write-ahead log commit by
//! commit must not find a dossier's claim next to its answer (docs/privacy.md).
//!
//! At submit, one transaction claims the invitation and holds the answer sealed
//! (ChaCha20-Poly1305, key derived from the link secret, which is not in the database) under a
//! keyed tag of its id. A later transaction opens the held answers and stores them together,
//! in a shuffled order: as soon as [`Settings::link_mix`] answers are held, or at the end of
//! the hour an answer came in, whichever is first. The single use of a link is kept by the
//! claim; a retry finds the held or stored answer by its id.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{AppState, ServiceError};
use crate::domain::submission::Channel;
use crate::domain::ValidResponse;
use crate::storage::{Held, NewResponse, Outcome, StorageError};

/// Default size of a mixed batch (k): the answers stored together.
pub const LINK_MIX: u32 = 5;

/// The keys of the held answers, and of the survey links kept for re-printing and sending,
/// derived from the link secret.
pub struct Sealer {
    cipher: ChaCha20Poly1305,
    tag_key: Vec<u8>,
    link_cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

fn derive(secret: &str, purpose: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

/// A held answer, as sealed.
#[derive(Serialize, Deserialize)]
struct Sealed {
    id: uuid::Uuid,
    agency: String,
    version: String,
    answers: Vec<(String, Option<u8>)>,
    expectations: Vec<(String, u8)>,
    profile: Vec<(String, String)>,
    comment: Option<String>,
    service_point: String,
    submitted_at: DateTime<Utc>,
    body_hash: i64,
}

impl Sealer {
    pub fn new(link_secret: &str) -> Self {
        let key = derive(link_secret, "hailong: held link answers");
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
            tag_key: derive(link_secret, "hailong: held answer ids").to_vec(),
            link_cipher: ChaCha20Poly1305::new(Key::from_slice(&derive(link_secret, "hailong: survey link tokens"))),
        }
    }

    /// A survey link's token, sealed for the short time it may be shown again (`invitations.link_sealed`).
    pub fn seal_link(&self, token: &str) -> Vec<u8> {
        seal_with(&self.link_cipher, token.as_bytes())
    }

    /// The token of a sealed link; `None` if it does not open (another link secret).
    pub fn open_link(&self, sealed: &[u8]) -> Option<String> {
        open_with(&self.link_cipher, sealed).and_then(|plain| String::from_utf8(plain).ok())
    }

    fn tag(&self, id: &uuid::Uuid) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.tag_key).expect("HMAC takes any key");
        mac.update(id.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    fn seal(&self, new: &NewResponse) -> Vec<u8> {
        let r = &new.response;
        let plain = serde_json::to_vec(&Sealed {
            id: r.id,
            agency: r.agency.clone(),
            version: r.questionnaire_version.clone(),
            answers: r.answers.clone(),
            expectations: r.expectations.clone(),
            profile: r.profile.clone(),
            comment: r.comment.clone(),
            service_point: new.service_point.clone(),
            submitted_at: new.submitted_at,
            body_hash: crate::storage::body_hash(r),
        })
        .expect("a response serialises");
        seal_with(&self.cipher, &plain)
    }

    fn open(&self, sealed: &[u8]) -> Result<Sealed, StorageError> {
        let refused =
            || StorageError::Corrupt("a held link answer cannot be opened (was the link secret changed?)".into());
        let plain = open_with(&self.cipher, sealed).ok_or_else(refused)?;
        serde_json::from_slice(&plain).map_err(|e| StorageError::Corrupt(format!("a held link answer: {e}")))
    }
}

/// nonce ‖ ChaCha20-Poly1305 of `plain`, under a fresh random nonce.
fn seal_with(cipher: &ChaCha20Poly1305, plain: &[u8]) -> Vec<u8> {
    let nonce: [u8; 12] = rand::random();
    let mut sealed = nonce.to_vec();
    sealed.extend(cipher.encrypt(Nonce::from_slice(&nonce), plain).expect("sealing cannot fail"));
    sealed
}

fn open_with(cipher: &ChaCha20Poly1305, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 12 {
        return None;
    }
    let (nonce, text) = sealed.split_at(12);
    cipher.decrypt(Nonce::from_slice(nonce), text).ok()
}

impl Sealed {
    fn into_response(self) -> NewResponse {
        NewResponse {
            response: ValidResponse {
                id: self.id,
                agency: self.agency,
                questionnaire_version: self.version,
                answers: self.answers,
                expectations: self.expectations,
                profile: self.profile,
                comment: self.comment,
                day: None,
            },
            service_point: self.service_point,
            kiosk_id: None,
            channel: Channel::Link,
            submitted_at: self.submitted_at,
        }
    }
}

impl AppState {
    /// Claims `invitation` and holds `new` until its mixed batch; stores the batch when this
    /// answer completes it.
    pub(crate) async fn hold_link_answer(&self, invitation: i64, new: NewResponse) -> Result<Outcome, ServiceError> {
        let id = new.response.id;
        let hash = crate::storage::body_hash(&new.response);
        let held = self
            .db
            .hold_link_answer(invitation, &id, &self.sealer.tag(&id), &self.sealer.seal(&new), hour(Utc::now()))
            .await?;
        let said_before = |before: Option<i64>| match before {
            Some(before) if before != hash => Outcome::Conflict,
            _ => Outcome::Repeat,
        };
        Ok(match held {
            Held::New => {
                if self.db.count_held_answers().await? >= u64::from(self.settings.link_mix.max(1)) {
                    self.release_held_answers(None).await?;
                }
                Outcome::New
            }
            Held::StoredBefore(before) => said_before(before),
            Held::HeldBefore(sealed) => said_before(Some(self.sealer.open(&sealed)?.body_hash)),
            Held::Closed => Outcome::InvitationClosed,
        })
    }

    /// Stores the held answers that came in before `before` (every one with `None`) as one
    /// shuffled batch; returns how many were stored.
    pub async fn release_held_answers(&self, before: Option<DateTime<Utc>>) -> Result<u64, ServiceError> {
        use rand::seq::SliceRandom;
        let _one_at_a_time = self.release_gate.lock().await;
        let held = self.db.held_answers(before).await?;
        if held.is_empty() {
            return Ok(0);
        }
        let mut batch = Vec::with_capacity(held.len());
        let mut tags = Vec::with_capacity(held.len());
        for answer in held {
            match self.sealer.open(&answer.sealed) {
                Ok(sealed) => {
                    batch.push(sealed.into_response());
                    tags.push(answer.id_tag);
                }
                // Kept, not lost: it opens again once the right link secret is configured.
                Err(error) => tracing::error!(%error, "a held link answer stays held"),
            }
        }
        batch.shuffle(&mut rand::rng());
        let layout = crate::domain::tally::Layout::of(&self.questionnaire);
        let outcomes = self.db.release_held_answers(&batch, &tags, &layout).await?;
        super::writer::count_stored(&batch, &outcomes);
        Ok(outcomes.iter().filter(|o| **o == Outcome::New).count() as u64)
    }

    /// Starts the task that stores, at the end of each hour, what is held from that hour (one
    /// per server); what is left from before a restart is stored at once.
    pub fn start_link_mixer(&self) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            loop {
                let now = Utc::now();
                if let Err(error) = state.release_held_answers(Some(hour(now))).await {
                    tracing::error!(%error, "held link answers not stored");
                }
                let next_hour = hour(now) + TimeDelta::hours(1);
                let wait = (next_hour - now).to_std().unwrap_or_default() + std::time::Duration::from_secs(1);
                tokio::time::sleep(wait).await;
            }
        })
    }
}

fn hour(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_answer_opens_with_the_same_secret_only() {
        let new = NewResponse {
            response: ValidResponse {
                id: uuid::Uuid::new_v4(),
                agency: "D1".into(),
                questionnaire_version: "v".into(),
                answers: vec![("A1".into(), Some(4)), ("A2".into(), None)],
                expectations: vec![],
                profile: vec![("gender".into(), "nu".into())],
                comment: Some("Tốt".into()),
                day: None,
            },
            service_point: "P".into(),
            kiosk_id: None,
            channel: Channel::Link,
            submitted_at: hour(Utc::now()),
        };
        let sealer = Sealer::new("a link secret of at least thirty-two characters");
        let sealed = sealer.seal(&new);
        assert!(!sealed.windows(3).any(|w| w == b"\"A1"), "the answers are not readable");
        let opened = sealer.open(&sealed).unwrap().into_response();
        assert_eq!(opened.response, new.response);
        assert_eq!((opened.service_point.as_str(), opened.submitted_at), ("P", new.submitted_at));
        assert!(Sealer::new("another secret of at least thirty-two characters").open(&sealed).is_err());
        assert_eq!(sealer.tag(&new.response.id), sealer.tag(&new.response.id));
        assert_ne!(sealer.tag(&new.response.id), sealer.tag(&uuid::Uuid::new_v4()));
    }

    #[test]
    fn a_sealed_link_opens_with_its_own_key_only() {
        let sealer = Sealer::new("a link secret of at least thirty-two characters");
        let sealed = sealer.seal_link("0123456789abcdef");
        assert!(!sealed.windows(8).any(|w| w == b"01234567"), "the token is not readable");
        assert_eq!(sealer.open_link(&sealed).as_deref(), Some("0123456789abcdef"));
        assert_ne!(sealer.seal_link("0123456789abcdef"), sealed, "a fresh nonce each time");
        assert_eq!(Sealer::new("another secret of at least thirty-two characters").open_link(&sealed), None);
        assert!(sealer.open(&sealed).is_err(), "a link is not an answer: other key");
        assert_eq!(sealer.open_link(&sealed[..11]), None);
    }
}
