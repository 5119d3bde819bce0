//! Storage: every SQL statement of hailong lives in this module, one function per query.
//!
//! Two engines behind one seam: SQLite (one file, the default) and PostgreSQL (several servers
//! on one database). A [`Db`] holds a pool of either; each query is written once and compiled
//! for both ([`on_pool!`], [`on_conn!`]), so the SQL is portable: `$N` placeholders, recursive
//! CTEs, `ON CONFLICT`, `RETURNING`, signed integers, `TRUE`/`FALSE`, text timestamps that sort
//! as bytes (`COLLATE "C"` on PostgreSQL). What only one engine has (pragmas, `VACUUM INTO`,
//! advisory locks) is matched on the engine where it is used.
//!
//! Where things are: [`engine`] holds the seam (the pools, the per-engine macros, opening,
//! migrating, statements built before their engine is known), [`time`] how time is written, and
//! every other file one area of the schema.
//!
//! On SQLite: WAL mode with `synchronous = FULL`; writes of responses go through one connection
//! (see `service::writer`), reads through a separate pool, so readers never queue behind the
//! writer's lock.

mod accounts;
mod aggregates;
mod backup;
mod comments;
mod copy;
mod deliveries;
mod dossiers;
mod engine;
mod held;
mod invitations;
mod kiosks;
mod packed;
mod questionnaires;
mod registry;
mod responses;
mod time;

pub use accounts::{AuditFilter, User, UserListing};
pub use aggregates::{TallyQuery, TallyRow};
pub use backup::{inspect_backup, known_schema, sqlite_path, BackupSummary};
pub use comments::StoredComment;
pub use deliveries::{Delivery, PendingDelivery};
pub use engine::{check_url, redacted, Db, Engine};
pub(crate) use engine::{insert_audit, on_conn, on_pool, AsConn, Bind, Change, Conn, Pool};
pub use held::{Held, HeldAnswer};
pub use invitations::{ApiKeyListing, Invitation, NewInvitation, OfficerFlag};
pub use kiosks::{Anomaly, Kiosk, KioskListing};
pub use registry::StagedImport;
pub(crate) use responses::body_hash;
pub use responses::{FlaggedResponses, NewResponse, Outcome, StoredResponse};
pub use time::timestamp;
use time::{hour_of, parse_optional_time, parse_time, start_of_hour};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Url(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;
