//! Kiosk limits: how fast one kiosk may send answers, and which patterns look like ballot
//! stuffing ("bảo đảm trung thực, khách quan"). Over the rate a submission is refused (the kiosk
//! can send it again later); a burst or a run of identical answers is only flagged for the
//! admin — those answers are kept, never silently dropped.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::ValidResponse;

/// The window of [`KioskLimits::burst`].
pub const BURST_WINDOW: Duration = Duration::minutes(10);
/// The window of [`KioskLimits::identical`].
pub const IDENTICAL_WINDOW: Duration = Duration::minutes(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KioskLimits {
    /// Responses a kiosk may send within any 60 seconds; 0 turns the limit off.
    pub max_per_minute: u32,
    /// Responses within [`BURST_WINDOW`] from which a kiosk is flagged.
    pub burst: u32,
    /// Identical sets of answers within [`IDENTICAL_WINDOW`] from which a kiosk is flagged.
    pub identical: u32,
}

impl Default for KioskLimits {
    /// A citizen needs well over a minute for sixteen questions; a busy counter serves one
    /// citizen every few minutes.
    fn default() -> Self {
        Self { max_per_minute: 6, burst: 20, identical: 5 }
    }
}

/// What the limits noticed about a kiosk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AnomalyKind {
    /// A submission refused for coming faster than the per-minute limit.
    RateLimited,
    /// Many responses in a short time.
    Burst,
    /// The same answers over and over.
    Identical,
}

impl AnomalyKind {
    pub const ALL: [AnomalyKind; 3] = [Self::RateLimited, Self::Burst, Self::Identical];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::Burst => "burst",
            Self::Identical => "identical",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::RateLimited => "Gửi quá nhanh (phiếu bị từ chối, kiosk gửi lại sau)",
            Self::Burst => "Nhiều phiếu dồn dập trong thời gian ngắn",
            Self::Identical => "Nhiều phiếu có câu trả lời giống hệt nhau",
        }
    }
}

/// A kiosk's recent submissions, kept in memory only: times and answer fingerprints, never the
/// answers themselves. Every check costs the same however busy the kiosk is.
#[derive(Clone, Debug, Default)]
pub struct KioskActivity {
    accepted: VecDeque<DateTime<Utc>>,
    patterns: VecDeque<(DateTime<Utc>, u64)>,
    /// How many of `patterns` have each fingerprint.
    pattern_counts: HashMap<u64, usize>,
}

impl KioskActivity {
    /// Whether one more response may be taken at `now`.
    pub fn admits(&mut self, now: DateTime<Utc>, limits: &KioskLimits) -> bool {
        if limits.max_per_minute == 0 {
            return true;
        }
        self.forget_before(now);
        // Newest last: count back until a minute ago, no further than the limit.
        let last_minute = self
            .accepted
            .iter()
            .rev()
            .take(limits.max_per_minute as usize)
            .take_while(|at| now - **at < Duration::minutes(1))
            .count();
        last_minute < limits.max_per_minute as usize
    }

    /// Records a response taken at `now`; says what looks wrong about the kiosk now.
    pub fn record(&mut self, now: DateTime<Utc>, fingerprint: u64, limits: &KioskLimits) -> Vec<AnomalyKind> {
        self.forget_before(now);
        self.accepted.push_back(now);
        self.patterns.push_back((now, fingerprint));
        let same = self.pattern_counts.entry(fingerprint).or_default();
        *same += 1;
        let mut seen = Vec::new();
        if self.accepted.len() >= limits.burst.max(1) as usize {
            seen.push(AnomalyKind::Burst);
        }
        if *same >= limits.identical.max(2) as usize {
            seen.push(AnomalyKind::Identical);
        }
        seen
    }

    fn forget_before(&mut self, now: DateTime<Utc>) {
        while self.accepted.front().is_some_and(|at| now - *at >= BURST_WINDOW) {
            self.accepted.pop_front();
        }
        while let Some((_, print)) = self.patterns.front().copied().filter(|(at, _)| now - *at >= IDENTICAL_WINDOW) {
            self.patterns.pop_front();
            if let Some(count) = self.pattern_counts.get_mut(&print) {
                *count -= 1;
                if *count == 0 {
                    self.pattern_counts.remove(&print);
                }
            }
        }
    }
}

/// A fingerprint of a response's ratings and expectations, to spot identical answer sets.
pub fn fingerprint(response: &ValidResponse) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    response.answers.hash(&mut hasher);
    response.expectations.hash(&mut hasher);
    hasher.finish()
}

/// How far the published overall leans on answers from kiosk-hours the limits flagged: the
/// same overall with those answers left out (the report's sensitivity index). Flags stay on the
/// kiosk and the hour, never on an answer; this only says how much a suspect hour could move
/// the figure.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    /// Kiosk-hours flagged over the period, of any kind.
    pub kiosk_hours: u64,
    /// Responses from those hours that the published figure counts.
    pub left_out: u64,
    /// The overall without them, and its interval: none when fewer than k were left out (the
    /// difference from the published overall would describe fewer than k citizens), when fewer
    /// than k remain, or when what remains has no overall.
    pub overall: Option<f64>,
    pub ci95: Option<[f64; 2]>,
}

impl Sensitivity {
    /// Whether an overall without `left_out` responses may be shown beside the published one.
    pub fn may_show(left_out: u64, min_cell: u64) -> bool {
        left_out >= min_cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seventh_response_within_a_minute_is_refused_and_a_minute_later_taken() {
        let limits = KioskLimits::default();
        let start = Utc::now();
        let mut kiosk = KioskActivity::default();
        for n in 0..6 {
            let at = start + Duration::seconds(n * 5);
            assert!(kiosk.admits(at, &limits), "response {n}");
            kiosk.record(at, n as u64, &limits);
        }
        assert!(!kiosk.admits(start + Duration::seconds(40), &limits));
        assert!(kiosk.admits(start + Duration::seconds(61), &limits), "the first one left the minute");
        let off = KioskLimits { max_per_minute: 0, ..limits };
        assert!(kiosk.admits(start + Duration::seconds(40), &off));
    }

    #[test]
    fn a_burst_and_identical_answers_are_flagged() {
        let limits = KioskLimits { max_per_minute: 0, burst: 4, identical: 3 };
        let start = Utc::now();
        let mut kiosk = KioskActivity::default();
        assert!(kiosk.record(start, 1, &limits).is_empty());
        assert!(kiosk.record(start + Duration::seconds(10), 2, &limits).is_empty());
        assert_eq!(kiosk.record(start + Duration::seconds(20), 1, &limits), []);
        assert_eq!(
            kiosk.record(start + Duration::seconds(30), 1, &limits),
            [AnomalyKind::Burst, AnomalyKind::Identical]
        );
        // Ten minutes later the burst is over; half an hour later the pattern too.
        assert_eq!(kiosk.record(start + Duration::minutes(11), 1, &limits), [AnomalyKind::Identical]);
        assert_eq!(kiosk.record(start + Duration::minutes(45), 1, &limits), []);
    }
}
