//! The `hailong` server: command line, HTTP routing, demo data. `main.rs` only starts it.

pub mod cli;
pub mod demo;
pub mod http;
