//! What became of a submitted survey: the one [`Verdict`] every way in (the survey page, the
//! form posted without JavaScript, the JSON API) answers from. The storage's outcomes and the
//! service's refusals stop here.

use std::net::IpAddr;

use super::{AppState, ServiceError};
use crate::domain::submission::{Submission, Verdict};
use crate::storage::{Invitation, Kiosk, Outcome};

/// Where a survey is answered: at a kiosk, or from a link, sent from an address (which flags
/// the invitation if an officer of the point is signed in from it; never kept with the answer).
pub enum Source {
    Kiosk(Kiosk),
    Link(Invitation, Option<IpAddr>),
}

/// Seconds a kiosk over its per-minute limit is told to wait.
const TOO_FAST_WAIT: u32 = 60;
/// Seconds a client is told to wait when the server could not store a survey.
pub const BUSY_WAIT: u32 = 30;

impl AppState {
    /// Validates and stores a survey from `source`, and says what became of it, with the id it
    /// is stored under when it is (or was) stored. A failure to store is logged here and told
    /// as a wait.
    pub async fn submit(&self, source: &Source, submission: &Submission) -> (Verdict, Option<uuid::Uuid>) {
        let stored = match source {
            Source::Kiosk(kiosk) => self.submit_from_kiosk(kiosk, submission).await,
            Source::Link(invitation, from) => self.submit_from_link(invitation, submission, *from).await,
        };
        match stored {
            Ok((id, Outcome::New)) => (Verdict::Stored, Some(id)),
            Ok((id, Outcome::Repeat)) => (Verdict::AlreadyCounted, Some(id)),
            Ok((_, Outcome::Conflict)) => (Verdict::Conflict, None),
            Ok((_, Outcome::InvitationClosed)) => (Verdict::LinkClosed, None),
            Err(ServiceError::Invalid(errors)) => (Verdict::Fix(errors), None),
            Err(ServiceError::RateLimited) => (Verdict::RetryAfter { seconds: TOO_FAST_WAIT, busy: false }, None),
            Err(error) => {
                tracing::error!(%error, "a survey was not stored");
                (Verdict::RetryAfter { seconds: BUSY_WAIT, busy: true }, None)
            }
        }
    }
}
