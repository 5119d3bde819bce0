//! Kiosks: registration with a one-time pairing code, the exchange for a device token,
//! revocation, and the submit path with its per-kiosk limits.

use chrono::{DateTime, Duration, DurationRound, TimeDelta, Utc};

use super::gate::Refusal;
use super::{answered_at, secret, AppState, ServiceError};
use crate::domain::account::PAIRING_CODE_WRONG_TRIES;
use crate::domain::anomaly::{fingerprint, AnomalyKind};
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::period::vietnam_day;
use crate::domain::submission::{self, Channel};
use crate::domain::Submission;
use crate::storage::{Anomaly, Kiosk, KioskListing, NewResponse, Outcome};

/// Minutes a pairing code is valid by default.
pub const PAIRING_MINUTES: u32 = 30;
/// Digits of a pairing code: typed on a tablet, guessed one try at a time (throttled).
pub const PAIRING_CODE_DIGITS: usize = 8;
/// Longest kiosk name.
pub const MAX_KIOSK_NAME_CHARS: usize = 100;

/// A kiosk waiting for its tablet: the code to type there, and until when it works.
#[derive(Clone, Debug, PartialEq)]
pub struct Pairing {
    pub kiosk_id: i64,
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// How pairing attempts appear in the failure count and the audit log (not a valid username).
const PAIRING_ACTOR: &str = "#ghép-nối-kiosk";

#[derive(Debug, thiserror::Error)]
pub enum PairError {
    #[error(
        "Mã ghép nối không đúng, đã được dùng, đã hết hạn hoặc đã bị hủy sau {PAIRING_CODE_WRONG_TRIES} lần nhập sai. \
         Vui lòng xin quản trị viên mã mới."
    )]
    Wrong,
    #[error("Nhập sai mã nhiều lần. Vui lòng thử lại sau {seconds} giây.")]
    Throttled { seconds: i64 },
    #[error("Máy chủ đang bận. Vui lòng thử lại sau ít giây.")]
    Busy,
    #[error(
        "Hệ thống đang tạm từ chối ghép nối từ địa chỉ mới vì có quá nhiều lượt nhập sai. Vui lòng thử lại sau một phút."
    )]
    Saturated,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl PairError {
    /// Seconds to send in `Retry-After` with the 429 of a refused try.
    pub fn retry_after(&self) -> Option<i64> {
        match self {
            Self::Throttled { seconds } => Some(*seconds),
            Self::Busy => Some(Refusal::Busy.retry_after()),
            Self::Saturated => Some(Refusal::Saturated.retry_after()),
            Self::Wrong | Self::Service(_) => None,
        }
    }
}

impl From<Refusal> for PairError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Wait { seconds } => Self::Throttled { seconds },
            Refusal::Busy => Self::Busy,
            Refusal::Saturated => Self::Saturated,
        }
    }
}

impl From<crate::storage::StorageError> for PairError {
    fn from(error: crate::storage::StorageError) -> Self {
        Self::Service(error.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    #[error("Tên thiết bị phải có từ 1 đến 100 ký tự.")]
    BadName,
    #[error("Không có điểm phục vụ mã {0} đang hoạt động.")]
    UnknownPoint(String),
    #[error("Không có thiết bị này.")]
    NotFound,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::storage::StorageError> for KioskError {
    fn from(error: crate::storage::StorageError) -> Self {
        Self::Service(error.into())
    }
}

fn parse_name(name: &str) -> Result<String, KioskError> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if (1..=MAX_KIOSK_NAME_CHARS).contains(&name.chars().count()) {
        Ok(name)
    } else {
        Err(KioskError::BadName)
    }
}

/// A random code of [`PAIRING_CODE_DIGITS`] digits.
fn pairing_code() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..PAIRING_CODE_DIGITS).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
}

/// A typed code as stored: digits only (spaces and dashes people add are dropped).
pub fn normalize_code(typed: &str) -> String {
    typed.chars().filter(char::is_ascii_digit).collect()
}

impl AppState {
    /// A service point open today, or the error naming it.
    async fn open_point(&self, code: &str) -> Result<(), KioskError> {
        let today = vietnam_day(Utc::now());
        match self.db.agency(code.trim()).await? {
            Some(agency) if agency.is_open_on(today) => Ok(()),
            _ => Err(KioskError::UnknownPoint(code.trim().to_owned())),
        }
    }

    fn pairing_expiry(&self) -> DateTime<Utc> {
        Utc::now() + Duration::minutes(i64::from(self.settings.pairing_minutes))
    }

    /// Registers a kiosk at a service point; its tablet pairs with the returned code.
    pub async fn register_kiosk(&self, actor: &Actor, point: &str, name: &str) -> Result<Pairing, KioskError> {
        let name = parse_name(name)?;
        self.open_point(point).await?;
        let code = pairing_code();
        let expires_at = self.pairing_expiry();
        let kiosk_id = self.db.add_kiosk(point.trim(), &name, &secret::hash(&code), expires_at, actor).await?;
        Ok(Pairing { kiosk_id, code, expires_at })
    }

    /// A new pairing code for a kiosk (a new or replaced tablet; a revoked kiosk comes back
    /// once its tablet uses it).
    pub async fn repair_kiosk(&self, actor: &Actor, id: i64) -> Result<Pairing, KioskError> {
        let code = pairing_code();
        let expires_at = self.pairing_expiry();
        if !self.db.repair_kiosk(id, &secret::hash(&code), expires_at, actor).await? {
            return Err(KioskError::NotFound);
        }
        Ok(Pairing { kiosk_id: id, code, expires_at })
    }

    /// Exchanges a pairing code typed at `ip` for a device token (shown once, stored hashed).
    /// Wrong codes count like failed logins from that address, and against every code pending:
    /// after [`PAIRING_CODE_WRONG_TRIES`] wrong codes from anywhere, those codes die.
    pub async fn pair_kiosk(&self, typed: &str, ip: std::net::IpAddr) -> Result<(Kiosk, String), PairError> {
        let now = Utc::now();
        let slot = self.login_gate.claim(ip)?;
        let pass = self.pass_gate(slot, PAIRING_ACTOR, now, false).await??;
        let actor = Actor::new(PAIRING_ACTOR, Some(ip));
        let code = normalize_code(typed);
        let token = secret::new_token();
        let paired = match code.len() {
            PAIRING_CODE_DIGITS => self.db.pair_kiosk(&secret::hash(&code), &secret::hash(&token), now, &actor).await?,
            _ => None,
        };
        if let Some(kiosk) = paired {
            // The kiosk's earlier token stops working.
            self.lookups.forget();
            return Ok((kiosk, token));
        }
        self.count_failure(&pass, PAIRING_ACTOR, now).await?;
        let died = self.db.count_wrong_pairing_code(PAIRING_CODE_WRONG_TRIES).await?;
        let subject = match died.as_slice() {
            [] => PAIRING_ACTOR.to_owned(),
            ids => {
                let ids: Vec<String> = ids.iter().map(|id| format!("#{id}")).collect();
                format!(
                    "{PAIRING_ACTOR}: mã của kiosk {} bị hủy sau {PAIRING_CODE_WRONG_TRIES} lần nhập sai",
                    ids.join(", ")
                )
            }
        };
        self.audit_failure(&actor, AuditAction::KioskPairingFailed, &subject).await?;
        Err(PairError::Wrong)
    }

    pub async fn rename_or_move_kiosk(
        &self,
        actor: &Actor,
        id: i64,
        name: &str,
        point: &str,
    ) -> Result<(), KioskError> {
        let name = parse_name(name)?;
        self.open_point(point).await?;
        if !self.db.update_kiosk(id, &name, point.trim(), actor).await? {
            return Err(KioskError::NotFound);
        }
        self.lookups.forget();
        Ok(())
    }

    /// Revokes a kiosk: its token answers 401 from the next request on (within a second when
    /// another process, the CLI, revokes it: see `lookups`).
    pub async fn revoke_kiosk(&self, actor: &Actor, id: i64) -> Result<(), KioskError> {
        if !self.db.revoke_kiosk(id, actor).await? {
            return Err(KioskError::NotFound);
        }
        self.lookups.forget();
        Ok(())
    }

    /// Every kiosk with its responses of today (Vietnam time).
    pub async fn kiosks(&self) -> Result<Vec<KioskListing>, ServiceError> {
        Ok(self.db.kiosks(vietnam_day(Utc::now())).await?)
    }

    pub async fn kiosk_anomalies(&self, limit: u32) -> Result<Vec<Anomaly>, ServiceError> {
        Ok(self.db.anomalies(limit).await?)
    }

    /// The kiosk a device token belongs to, if it is live.
    pub async fn kiosk_for_token(&self, token: &str) -> Result<Option<Kiosk>, ServiceError> {
        let hash = secret::hash(token);
        let generation = match self.lookups.kiosks.get(&hash) {
            Ok(kiosk) => return Ok(Some(kiosk)),
            Err(generation) => generation,
        };
        let kiosk = self.db.kiosk_by_token_hash(&hash).await?;
        if let Some(kiosk) = &kiosk {
            self.lookups.kiosks.keep(generation, hash, kiosk.clone());
        }
        Ok(kiosk)
    }

    /// The codes of the agencies `point` serves on `day`.
    async fn served_codes(&self, point: &str, day: chrono::NaiveDate) -> Result<Vec<String>, ServiceError> {
        let key = (point.to_owned(), day);
        let generation = match self.lookups.served.get(&key) {
            Ok(codes) => return Ok(codes),
            Err(generation) => generation,
        };
        let codes: Vec<String> = self.db.served_agencies(point, day).await?.into_iter().map(|a| a.code).collect();
        self.lookups.served.keep(generation, key, codes.clone());
        Ok(codes)
    }

    /// Notes that a kiosk showed its welcome screen (never called on a submit, so that the last
    /// time seen does not date an answer).
    pub async fn kiosk_seen(&self, kiosk: &Kiosk) -> Result<(), ServiceError> {
        if let Some(minute) = self.note_once_a_minute(format!("kiosk:{}", kiosk.id)) {
            self.db.touch_kiosk(kiosk.id, minute).await?;
        }
        Ok(())
    }

    /// Validates and durably stores a response collected by `kiosk`, within its limits.
    /// Returns only after the transaction holding it has committed.
    pub async fn submit_from_kiosk(
        &self,
        kiosk: &Kiosk,
        body: &Submission,
    ) -> Result<(uuid::Uuid, Outcome), ServiceError> {
        let now = Utc::now();
        let hour = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now);
        let limits = self.settings.kiosk_limits;
        let admitted = self.activity(kiosk.id, |activity| activity.admits(now, &limits));
        if !admitted {
            self.flag(kiosk, AnomalyKind::RateLimited, hour).await?;
            return Err(ServiceError::RateLimited);
        }
        let (id, outcome, print) = self.store_from_kiosk(kiosk, body, now).await?;
        if outcome == Outcome::New {
            for kind in self.activity(kiosk.id, |activity| activity.record(now, print, &limits)) {
                self.flag(kiosk, kind, hour).await?;
            }
        }
        Ok((id, outcome))
    }

    /// Counts a flag for the admin, at most once a minute per kiosk and kind, so that a kiosk in
    /// a burst does not add a write to every response.
    async fn flag(&self, kiosk: &Kiosk, kind: AnomalyKind, hour: DateTime<Utc>) -> Result<(), ServiceError> {
        if self.note_once_a_minute(format!("anomaly:{}:{}", kiosk.id, kind.as_str())).is_some() {
            self.db.record_anomaly(kiosk.id, kind, hour).await?;
        }
        Ok(())
    }

    fn activity<T>(&self, kiosk: i64, f: impl FnOnce(&mut crate::domain::anomaly::KioskActivity) -> T) -> T {
        let mut all = self.kiosk_activity.lock().unwrap_or_else(|e| e.into_inner());
        f(all.entry(kiosk).or_default())
    }

    /// Stores responses made up by the demo in one large transaction, without the writer queue
    /// or the kiosk limits (the bulk path of `hailong demo --responses`); returns how many were new.
    pub async fn store_bulk(&self, batch: &[NewResponse]) -> Result<u64, ServiceError> {
        let layout = crate::domain::tally::Layout::of(&self.questionnaire);
        let outcomes = self.db.insert_responses(batch, &layout).await?;
        self.forget_steps().await;
        Ok(outcomes.iter().filter(|o| **o == Outcome::New).count() as u64)
    }

    /// Validates and stores a response of `kiosk` answered at `at`, without the kiosk limits
    /// (the demo's back-dated samples); returns the answers' fingerprint too.
    pub async fn store_from_kiosk(
        &self,
        kiosk: &Kiosk,
        body: &Submission,
        at: DateTime<Utc>,
    ) -> Result<(uuid::Uuid, Outcome, u64), ServiceError> {
        let served = self.served_codes(&kiosk.agency_code, vietnam_day(at)).await?;
        let response =
            submission::validate(&self.questionnaire, &served, body, vietnam_day(at)).map_err(ServiceError::Invalid)?;
        let (id, print) = (response.id, fingerprint(&response));
        let submitted_at = answered_at(response.day, at);
        let new = NewResponse {
            response,
            service_point: kiosk.agency_code.clone(),
            kiosk_id: Some(kiosk.id),
            channel: Channel::Kiosk,
            submitted_at,
        };
        let outcome = self.writer.store(new).await?;
        self.forget_steps().await;
        Ok((id, outcome, print))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_codes_are_eight_digits_and_typed_codes_are_cleaned() {
        let code = pairing_code();
        assert_eq!(code.len(), 8);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(normalize_code(" 1234-5678 "), "12345678");
        assert_eq!(parse_name("  Kiosk   quầy 1 ").unwrap(), "Kiosk quầy 1");
        assert!(matches!(parse_name(" "), Err(KioskError::BadName)));
    }
}
