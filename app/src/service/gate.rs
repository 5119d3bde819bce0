//! The login gate: logins, password checks and pairing codes are checked one at a time per
//! server, each client after its own throttle, so that one client cannot make everybody wait.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{MutexGuard, Semaphore, SemaphorePermit};

use super::{AppState, ServiceError};
use crate::domain::account::{self, Hold};
use crate::domain::audit::{Actor, AuditAction};

/// Logins that may wait for the one running; more are refused with 429 at once.
pub const MAX_WAITING_LOGINS: usize = 16;
/// Seconds a try refused because the gate is busy is told to wait.
pub const BUSY_RETRY_SECONDS: i64 = 5;
/// Seconds a new client is told to wait while the global budget of failures is spent.
pub const SATURATED_RETRY_SECONDS: i64 = 60;

/// One per server (in [`AppState`]).
#[derive(Debug)]
pub struct LoginGate {
    /// One check at a time: the failure count and the check cannot interleave (throttling holds
    /// under parallel guesses), and argon2 never takes both cores.
    turn: tokio::sync::Mutex<()>,
    /// Tries waiting for their turn (and the one being checked); when none is left, 429 at once.
    queue: Semaphore,
    /// Tries of each client (throttling key) waiting or being checked.
    in_flight: std::sync::Mutex<HashMap<String, usize>>,
    /// Key of the digest an unknown username is counted under; random, never written anywhere.
    unknown_names: [u8; 32],
}

impl Default for LoginGate {
    fn default() -> Self {
        let mut unknown_names = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut unknown_names);
        Self {
            turn: tokio::sync::Mutex::default(),
            queue: Semaphore::new(MAX_WAITING_LOGINS),
            in_flight: std::sync::Mutex::default(),
            unknown_names,
        }
    }
}

/// Why a try was turned away before its check: each is a 429 with `Retry-After`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// This client failed too often and waits this long.
    Wait { seconds: i64 },
    /// The queue is full, or this client already has its tries at the gate.
    Busy,
    /// The global budget of failures is spent and this client has not logged in recently.
    Saturated,
}

impl Refusal {
    /// Seconds to send in `Retry-After`.
    pub fn retry_after(self) -> i64 {
        match self {
            Self::Wait { seconds } => seconds,
            Self::Busy => BUSY_RETRY_SECONDS,
            Self::Saturated => SATURATED_RETRY_SECONDS,
        }
    }
}

/// A try at its turn, holding the gate until it is dropped.
pub(crate) struct Pass<'a> {
    slot: ClientSlot<'a>,
    _waiting: SemaphorePermit<'a>,
    _turn: MutexGuard<'a, ()>,
}

impl Pass<'_> {
    /// The throttling key of the try's client.
    pub(crate) fn client(&self) -> &str {
        &self.slot.client
    }
}

/// One of a client's [`account::TRIES_IN_FLIGHT_PER_CLIENT`] places at the gate, taken before
/// anything else is done for the try, and given back when dropped.
pub(crate) struct ClientSlot<'a> {
    gate: &'a LoginGate,
    client: String,
}

impl Drop for ClientSlot<'_> {
    fn drop(&mut self) {
        let mut all = self.gate.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = all.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                all.remove(&self.client);
            }
        }
    }
}

impl LoginGate {
    /// A place for a try from `ip`, or `Busy` when its client has all its places taken.
    pub(crate) fn claim(&self, ip: IpAddr) -> Result<ClientSlot<'_>, Refusal> {
        let client = account::client_key(ip);
        let mut all = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let n = all.entry(client.clone()).or_default();
        if *n >= account::TRIES_IN_FLIGHT_PER_CLIENT {
            return Err(Refusal::Busy);
        }
        *n += 1;
        Ok(ClientSlot { gate: self, client })
    }

    /// The name a try is counted under: an existing account's own; for any other, a digest of
    /// what was typed under a key that lives only in this process, so that a password typed into
    /// the username box is never stored, yet guesses at one unknown name still count together
    /// (it cannot be told from an existing one by how soon it must wait).
    pub(crate) fn counted_name(&self, typed: &str, exists: bool) -> String {
        use hmac::{Hmac, Mac};
        if exists {
            return typed.to_owned();
        }
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.unknown_names).expect("HMAC takes any key");
        mac.update(typed.as_bytes());
        // `?` is never in a username, so the digest names no account.
        format!("?{}", hex::encode(&mac.finalize().into_bytes()[..12]))
    }
}

fn seconds_until(until: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (until - now).num_seconds() + 1
}

impl AppState {
    /// Lets the try holding `slot` (see [`LoginGate::claim`]), of `name` as
    /// [`LoginGate::counted_name`] gives it, through the gate. Before it queues, its client must
    /// not be waiting, and must be known while the global budget is spent (a `signed_in` user
    /// always is). At its turn, the client's wait is checked again: other tries may have failed
    /// meanwhile, here or on another server.
    pub(crate) async fn pass_gate<'a>(
        &'a self,
        slot: ClientSlot<'a>,
        name: &str,
        now: DateTime<Utc>,
        signed_in: bool,
    ) -> Result<Result<Pass<'a>, Refusal>, ServiceError> {
        let client = slot.client.as_str();
        let (account_failures, client_failures) = self.failures(name, client, now).await?;
        let last_minute = self.db.login_failures_everywhere(now - Duration::minutes(1)).await?;
        let known = signed_in || self.db.login_client_known(client, now - account::KNOWN_CLIENT_FOR).await?;
        match account::hold(&account_failures, &client_failures, last_minute, known, now) {
            Some(Hold::Until(until)) => return Ok(Err(Refusal::Wait { seconds: seconds_until(until, now) })),
            Some(Hold::Saturated) => return Ok(Err(Refusal::Saturated)),
            None => {}
        }
        let Ok(waiting) = self.login_gate.queue.try_acquire() else { return Ok(Err(Refusal::Busy)) };
        let turn = self.login_gate.turn.lock().await;
        let (account_failures, client_failures) = self.failures(name, client, now).await?;
        if let Some(until) = account::retry_after(&account_failures, &client_failures, now) {
            return Ok(Err(Refusal::Wait { seconds: seconds_until(until, now) }));
        }
        Ok(Ok(Pass { slot, _waiting: waiting, _turn: turn }))
    }

    async fn failures(
        &self,
        name: &str,
        client: &str,
        now: DateTime<Utc>,
    ) -> Result<(Vec<DateTime<Utc>>, Vec<DateTime<Utc>>), ServiceError> {
        Ok(self.db.login_failures_since(name, client, now - account::THROTTLE_WINDOW).await?)
    }

    /// Counts a try of `name` by the client of `pass` as failed (before its check, so that a try
    /// on another server meanwhile sees it; [`Self::forget_failures`] when it succeeds).
    pub(crate) async fn count_failure(
        &self,
        pass: &Pass<'_>,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        Ok(self.db.record_login_failure(name, pass.client(), now, now - account::THROTTLE_WINDOW).await?)
    }

    /// Forgets the failures of `name` from the client of `pass` after it succeeded.
    pub(crate) async fn forget_failures(&self, pass: &Pass<'_>, name: &str) -> Result<(), ServiceError> {
        Ok(self.db.clear_login_failures(name, pass.client()).await?)
    }

    /// Writes a failed try to the audit log (with the actor's address) and the metrics.
    pub(crate) async fn audit_failure(
        &self,
        actor: &Actor,
        action: AuditAction,
        subject: &str,
    ) -> Result<(), ServiceError> {
        metrics::counter!("hailong_login_failures_total").increment(1);
        Ok(self.db.audit(actor, action, subject).await?)
    }
}
