//! hailong's shared crate: the pure domain, the pages, and (with `ssr`) storage and services.
//!
//! Layers, inner to outer: `domain` (pure) → `storage` (all SQL) → `service` (joins them) →
//! server functions (`survey::server`, `report::server`, …) → components (`app`, `survey`, `report`, `admin`).

pub mod access;
pub mod account;
pub mod admin;
pub mod app;
pub mod domain;
pub mod report;
#[cfg(feature = "ssr")]
pub mod service;
pub mod staff;
#[cfg(feature = "ssr")]
pub mod storage;
pub mod survey;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // The surveys' own wasm (`surveys.wasm`, what a kiosk or a phone loads): the two surveys and
    // nothing else. The site's wasm (`hailong.wasm`): every page, each staff and admin page's
    // code loaded (then hydrated) only where it is shown.
    #[cfg(feature = "surveys")]
    leptos::mount::hydrate_body(app::SurveyApp);
    #[cfg(not(feature = "surveys"))]
    leptos::mount::hydrate_lazy(app::App);
}
