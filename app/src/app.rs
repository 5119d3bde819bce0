//! The HTML shells, and the surveys' router: the two pages a kiosk or a phone opens, which have a
//! wasm of their own. Every page's router (`App`) is in `every_page.rs`.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

use crate::survey::{KioskPage, LinkSurveyPage};

// Every page but the surveys: not in the surveys' own wasm (feature `surveys`), which a kiosk
// tablet or a citizen's phone loads.
#[cfg(not(feature = "surveys"))]
mod every_page;
#[cfg(not(feature = "surveys"))]
pub use every_page::App;

/// The Content-Security-Policy of every response that is not a page (JSON, files, plain pages).
pub const STRICT_CSP: &str =
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of a rendered page: its inline hydration scripts carry `nonce`; the wasm needs
/// `wasm-unsafe-eval`; nothing else runs, and no site may frame it.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// The shell of every page but the surveys: the site's app and wasm.
#[cfg(not(feature = "surveys"))]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    page_shell(options, true, || view! { <App /> })
}

/// The name of the surveys' own wasm and script (`pkg/surveys.wasm`), built from this crate
/// with the `surveys` feature: a kiosk or a phone loads it instead of the site's.
pub const SURVEYS_OUTPUT: &str = "surveys";

/// The shell of the two surveys (kiosk and link): their own app, hydrated by their own wasm.
pub fn survey_shell(options: LeptosOptions) -> impl IntoView {
    let mut options = options;
    options.output_name = SURVEYS_OUTPUT.into();
    page_shell(options, true, || view! { <SurveyApp /> })
}

/// A survey page without the hydration scripts: rendered from a form post, which the
/// browser's client-side state cannot reproduce (it stays a plain HTML form).
pub fn static_survey_shell(options: LeptosOptions) -> impl IntoView {
    page_shell(options, false, || view! { <SurveyApp /> })
}

fn page_shell<V: IntoView>(options: LeptosOptions, hydrate: bool, app: impl FnOnce() -> V) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="vi">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                {hydrate.then(|| view! { <HydrationScripts options /> })}
                <MetaTags />
            </head>
            <body>
                {app()}
            </body>
        </html>
    }
}

/// What every app does first: the meta context and the page's security policy.
pub(crate) fn page_setup() {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(value) = axum::http::HeaderValue::from_str(&page_csp(&nonce)) {
            response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// Marks the body `data-hydrated` once the view that calls it runs in the browser (effects run
/// after the view they belong to is hydrated, never on the server): browser tests wait for it.
/// A lazy page calls it from its own view, as its chunk may arrive after the app's root.
pub(crate) fn mark_hydrated() {
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// What every app puts first: the site's stylesheet and the default title.
pub(crate) fn site_head() -> impl IntoView {
    view! {
        <Stylesheet id="leptos" href="/pkg/hailong.css" />
        <Title text="Hài lòng — Khảo sát sự hài lòng của người dân" />
    }
}

pub(crate) fn not_found() -> impl IntoView {
    view! { <p class="page-message">"Không tìm thấy trang này."</p> }
}

/// The two surveys alone: what a kiosk tablet or a citizen's phone hydrates (the server renders
/// these paths with it, `server/src/http`).
#[component]
pub fn SurveyApp() -> impl IntoView {
    page_setup();
    mark_hydrated();
    view! {
        {site_head()}
        <Router>
            <Routes fallback=not_found>
                <Route path=StaticSegment("kiosk") view=KioskPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("s"), ParamSegment("token")) view=LinkSurveyPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}
