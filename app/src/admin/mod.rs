//! Admin pages: the province's administration (admins only): agencies, kiosks, accounts, API
//! keys, procedures, completed dossiers, the outbox and the audit log.

pub mod agencies;
pub mod audit;
pub mod dossiers;
pub mod keys;
pub mod kiosks;
mod nav;
pub mod outbox;
mod page;
pub mod procedures;
pub mod users;

pub use agencies::{AgenciesPage, ImportPreviewPage};
pub use audit::AuditPage;
pub use dossiers::DossiersPage;
pub use keys::KeysPage;
pub use kiosks::KiosksPage;
pub use nav::AdminNav;
pub use outbox::OutboxPage;
pub use procedures::ProceduresPage;
pub use users::UsersPage;
