//! The decoded tallies of final spans, kept in memory for the reports. A final day (and a month
//! of final days) never changes — late kiosk answers come only within the days that are not final
//! yet — so the rows of one (grain, facet, span) read once serve every later report over it, up
//! to a memory budget: the least recently used spans are let go first. Bulk loads and a rebuild
//! of the aggregates empty it, with the disclosure steps (`AppState::forget_steps`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::tally::Grain;
use crate::storage::TallyRow;

/// Bytes of decoded tallies kept at most: every month of a province's everyone tallies and the
/// days around a year's edges, for a province of 120+ units.
pub const BUDGET: usize = 64 << 20;

/// How long a span is served from memory before it is read again.
pub const KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(600);

/// One span's rows of one facet.
type Key = (Grain, String, String);

struct Kept {
    rows: Arc<Vec<TallyRow>>,
    bytes: usize,
    used: u64,
    read_at: std::time::Instant,
}

pub struct TallyCache {
    spans: HashMap<Key, Kept>,
    bytes: usize,
    budget: usize,
    clock: u64,
    /// How many times it was emptied: rows read from the database before the last time are not
    /// kept (they may be older than what emptied it).
    generation: u64,
}

impl std::fmt::Debug for TallyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TallyCache").field("spans", &self.spans.len()).field("bytes", &self.bytes).finish()
    }
}

impl Default for TallyCache {
    fn default() -> Self {
        Self::with_budget(BUDGET)
    }
}

impl TallyCache {
    pub fn with_budget(budget: usize) -> Self {
        Self { spans: HashMap::new(), bytes: 0, budget, clock: 0, generation: 0 }
    }

    /// The kept rows of `facet` in `span`, if read less than [`KEPT_FOR`] ago.
    pub fn get(&mut self, grain: Grain, facet: &str, span: &str) -> Option<Arc<Vec<TallyRow>>> {
        self.clock += 1;
        let kept = self.spans.get_mut(&(grain, facet.to_owned(), span.to_owned()))?;
        if kept.read_at.elapsed() > KEPT_FOR {
            return None;
        }
        kept.used = self.clock;
        Some(Arc::clone(&kept.rows))
    }

    /// What to pass [`Self::keep`] for rows about to be read from the database.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Keeps the rows of `facet` in the final `span`, read when the cache was at `generation`,
    /// letting the least recently used spans go while over the budget. Rows read before the
    /// cache was last emptied are not kept.
    pub fn keep(&mut self, generation: u64, grain: Grain, facet: &str, span: &str, rows: Arc<Vec<TallyRow>>) {
        let bytes = rows.iter().map(row_bytes).sum::<usize>() + 64;
        if bytes > self.budget || generation != self.generation {
            return;
        }
        while self.bytes + bytes > self.budget {
            let Some(oldest) = self.spans.iter().min_by_key(|(_, kept)| kept.used).map(|(key, _)| key.clone()) else {
                break;
            };
            if let Some(gone) = self.spans.remove(&oldest) {
                self.bytes -= gone.bytes;
            }
        }
        self.clock += 1;
        let kept = Kept { rows, bytes, used: self.clock, read_at: std::time::Instant::now() };
        if let Some(replaced) = self.spans.insert((grain, facet.to_owned(), span.to_owned()), kept) {
            self.bytes -= replaced.bytes;
        }
        self.bytes += bytes;
    }

    pub fn clear(&mut self) {
        self.spans.clear();
        self.bytes = 0;
        self.generation += 1;
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// About what a decoded row takes in memory.
fn row_bytes(row: &TallyRow) -> usize {
    let text = row.span.len() + row.agency.len() + row.service_point.len() + row.version.len() + row.facet_value.len();
    std::mem::size_of::<TallyRow>() + text + row.counts.width() * std::mem::size_of::<u64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::submission::Channel;
    use crate::domain::tally::{Layout, Tally};
    use crate::domain::Questionnaire;

    fn rows(count: usize) -> Arc<Vec<TallyRow>> {
        let layout = Layout::of(&Questionnaire::bundled());
        let counts = Tally::from_json(&serde_json::to_string(&vec![0u64; layout.width()]).unwrap(), &layout).unwrap();
        let row = TallyRow {
            span: "2026-03-01".into(),
            agency: "X".into(),
            service_point: "X".into(),
            channel: Channel::Kiosk,
            version: "v".into(),
            facet_value: String::new(),
            counts,
        };
        Arc::new(vec![row; count])
    }

    #[test]
    fn the_least_recently_used_spans_go_first_when_over_budget() {
        let size = rows(10).iter().map(row_bytes).sum::<usize>() + 64;
        // room for two spans of 10 rows, not three
        let mut cache = TallyCache::with_budget(size * 2 + size / 2);
        cache.keep(0, Grain::Day, "", "2026-03-01", rows(10));
        cache.keep(0, Grain::Day, "", "2026-03-02", rows(10));
        assert!(cache.get(Grain::Day, "", "2026-03-01").is_some(), "used again: now the newest");
        cache.keep(0, Grain::Day, "", "2026-03-03", rows(10));
        assert!(cache.get(Grain::Day, "", "2026-03-02").is_none(), "the least recently used went");
        assert!(cache.get(Grain::Day, "", "2026-03-01").is_some() && cache.get(Grain::Day, "", "2026-03-03").is_some());
        assert_eq!(cache.bytes(), size * 2);
        assert!(cache.get(Grain::Day, "gender", "2026-03-01").is_none(), "another facet is another span");
        cache.keep(0, Grain::Month, "", "2026-03", rows(30));
        assert!(cache.get(Grain::Month, "", "2026-03").is_none(), "more than the budget is not kept");
        assert_eq!(cache.bytes(), size * 2, "and lets nothing go");
        cache.clear();
        assert_eq!((cache.bytes(), cache.get(Grain::Day, "", "2026-03-01").is_none()), (0, true));
        // rows read before it was emptied (a bulk load meanwhile) are not kept
        cache.keep(0, Grain::Day, "", "2026-03-01", rows(10));
        assert!(cache.get(Grain::Day, "", "2026-03-01").is_none());
        cache.keep(cache.generation(), Grain::Day, "", "2026-03-01", rows(10));
        assert!(cache.get(Grain::Day, "", "2026-03-01").is_some());
    }
}
