//! The survey screens, at a kiosk (`/kiosk`) and from a link (`/s/{token}`): flow (pure),
//! page (components), server functions.

pub mod flow;
mod offline;
mod page;
pub mod pair;
pub mod server;

pub use page::{KioskPage, LinkSurveyPage};
pub use pair::KioskPairPage;

/// The draft a no-JavaScript form post produced; the server renders the page from it.
#[derive(Clone, Debug)]
pub struct PostedDraft(pub flow::Draft);
