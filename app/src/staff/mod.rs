//! One-stop staff pages: "Gửi phiếu khảo sát" (`/staff`) and an invitation's link, QR code
//! and printable slip (`/staff/invitations/{dossier}`).

mod page;
pub mod server;

pub use page::{InvitationPage, InvitePage};
