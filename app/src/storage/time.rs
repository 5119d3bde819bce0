//! How storage writes time: fixed-width UTC text that sorts as bytes, and responses' hours as
//! integers.

use chrono::{DateTime, Utc};

use super::{Result, StorageError};

/// Fixed-width UTC text, so that string order is time order.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Reads back a [`timestamp`].
pub(super) fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| StorageError::Corrupt(format!("timestamp {text}: {e}")))
}

/// Reads back an optional [`timestamp`].
pub(super) fn parse_optional_time(text: Option<String>) -> Result<Option<DateTime<Utc>>> {
    text.as_deref().map(parse_time).transpose()
}

/// The hour `at` falls in, as hours since the Unix epoch: how a response keeps its time.
pub(super) fn hour_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(3600)
}

/// The start of an [`hour_of`].
pub(super) fn start_of_hour(hour: i64) -> Result<DateTime<Utc>> {
    hour.checked_mul(3600)
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
        .ok_or_else(|| StorageError::Corrupt(format!("hour {hour}")))
}
