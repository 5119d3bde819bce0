//! The admin read view at `/admin`: indices of an agency subtree, its criteria, a ranking of
//! its siblings. Admins and managers sign in; a manager sees only their subtree.

pub mod outbox;
mod page;
pub mod procedures;
pub mod server;

pub use outbox::OutboxPage;
pub use page::AdminPage;
pub use procedures::ProceduresPage;
