//! What a kiosk's submit reads besides its write, remembered for a second: the kiosk of a device
//! token and the agencies a service point serves. Each read is a hop to SQLite's thread and a
//! fresh read transaction; at thousands of submits a second the two cost more than the write
//! (`cargo bench -p server --bench submit`; "The submit path" in docs/architecture.md). A change made through this server forgets them at once; one made
//! by another process (the CLI) is seen within [`TTL`].

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use crate::storage::Kiosk;

/// How long a remembered lookup is used.
pub const TTL: Duration = Duration::from_secs(1);

/// Entries kept before the stale ones are dropped.
const ROOM: usize = 256;

/// The remembered lookups of a server.
#[derive(Debug, Default)]
pub struct Lookups {
    /// Kiosk by the hash of its device token (live kiosks only: an unknown token is read again).
    pub kiosks: Remembered<String, Kiosk>,
    /// Codes of the agencies a service point serves on a Vietnam day.
    pub served: Remembered<(String, NaiveDate), Vec<String>>,
}

impl Lookups {
    /// Forgets everything: a kiosk or the agency registry changed.
    pub fn forget(&self) {
        self.kiosks.forget();
        self.served.forget();
    }
}

/// Values by key, each used for [`TTL`] after it was read.
#[derive(Debug)]
pub struct Remembered<K, V>(Mutex<Entries<K, V>>);

#[derive(Debug)]
struct Entries<K, V> {
    /// Counts the times everything was forgotten: a value read before the last time is stale.
    generation: u64,
    values: HashMap<K, (Instant, V)>,
}

impl<K, V> Default for Remembered<K, V> {
    fn default() -> Self {
        Self(Mutex::new(Entries { generation: 0, values: HashMap::new() }))
    }
}

impl<K: Eq + Hash, V: Clone> Remembered<K, V> {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of `key` if read less than [`TTL`] ago, else the generation to pass to
    /// [`Remembered::keep`] with the value read now.
    pub fn get(&self, key: &K) -> Result<V, u64> {
        let entries = self.entries();
        match entries.values.get(key) {
            Some((at, value)) if at.elapsed() < TTL => Ok(value.clone()),
            _ => Err(entries.generation),
        }
    }

    /// Keeps `value`, read for `key` in `generation`, unless everything was forgotten since.
    pub fn keep(&self, generation: u64, key: K, value: V) {
        let mut entries = self.entries();
        if entries.generation != generation {
            return;
        }
        if entries.values.len() >= ROOM {
            entries.values.retain(|_, (at, _)| at.elapsed() < TTL);
        }
        entries.values.insert(key, (Instant::now(), value));
    }

    pub fn forget(&self) {
        let mut entries = self.entries();
        entries.generation += 1;
        entries.values.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_used_for_a_second_and_a_read_from_before_a_change_is_not_kept() {
        let remembered: Remembered<&str, u32> = Remembered::default();
        let generation = remembered.get(&"P").unwrap_err();
        remembered.keep(generation, "P", 1);
        assert_eq!(remembered.get(&"P"), Ok(1));

        let before = remembered.get(&"Q").unwrap_err();
        remembered.forget();
        assert_eq!(remembered.get(&"P"), Err(generation + 1), "forgotten");
        remembered.keep(before, "Q", 2);
        assert!(remembered.get(&"Q").is_err(), "read before the change, so not kept");

        let mut entries = remembered.entries();
        entries.values.insert("R", (Instant::now().checked_sub(TTL).unwrap(), 3));
        drop(entries);
        assert!(remembered.get(&"R").is_err(), "older than a second");
    }
}
