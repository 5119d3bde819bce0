//! The admin read view at `/admin`: indices of an agency subtree, its criteria, a ranking of
//! its siblings. Protected by the admin token (accounts come later).

mod page;
pub mod procedures;
pub mod server;

pub use page::AdminPage;
pub use procedures::ProceduresPage;
