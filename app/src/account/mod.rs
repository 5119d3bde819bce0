//! Logging in and out, and changing one's password (`/login`, `/account/password`).

pub mod page;
pub mod server;

pub use page::{ChangePasswordPage, LoginPage};
