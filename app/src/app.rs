//! The HTML shell and the router: which page answers which path.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{lazy_route, Lazy, LazyRoute, ParamSegment, SsrMode, StaticSegment};

use crate::account::{ChangePasswordPage, LoginPage};
use crate::admin::{
    AgenciesPage, AuditPage, DossiersPage, ImportPreviewPage, KeysPage, KiosksPage, OutboxPage, ProceduresPage,
    UsersPage,
};
use crate::kiosk::{KioskPage, KioskPairPage, LinkSurveyPage};
use crate::report::{BreakdownPage, CommentsPage, DashboardPage, PrintPage, RankingPage};
use crate::staff::{InvitationPage, InvitePage};

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

pub fn shell(options: LeptosOptions) -> impl IntoView {
    page_shell(options, true)
}

/// The shell without the hydration scripts: for pages rendered from a form post, which the
/// browser's client-side state cannot reproduce (they stay plain HTML forms).
pub fn static_shell(options: LeptosOptions) -> impl IntoView {
    page_shell(options, false)
}

fn page_shell(options: LeptosOptions, hydrate: bool) -> impl IntoView {
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
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(value) = axum::http::HeaderValue::from_str(&page_csp(&nonce)) {
            response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    // Lets browser tests wait until the page is interactive.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/hailong.css" />
        <Title text="Hài lòng — Khảo sát sự hài lòng của người dân" />
        <Router>
            // Async: every page arrives complete, so it also works with JavaScript off.
            <Routes fallback=|| view! { <p class="page-message">"Không tìm thấy trang này."</p> }>
                <Route path=StaticSegment("") view={Lazy::<HomeRoute>::new()} ssr=SsrMode::Async />
                <Route path=StaticSegment("kiosk") view=KioskPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("kiosk"), StaticSegment("pair")) view={Lazy::<KioskPairRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("s"), ParamSegment("token")) view=LinkSurveyPage ssr=SsrMode::Async />
                <Route path=StaticSegment("admin") view={Lazy::<DashboardRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("rankings")) view={Lazy::<RankingRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("breakdowns")) view={Lazy::<BreakdownRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("report")) view={Lazy::<PrintRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("comments")) view={Lazy::<CommentsRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("procedures")) view={Lazy::<ProceduresRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("dossiers")) view={Lazy::<DossiersRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("outbox")) view={Lazy::<OutboxRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("agencies")) view={Lazy::<AgenciesRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("agencies"), StaticSegment("import"), ParamSegment("id")) view={Lazy::<ImportPreviewRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("kiosks")) view={Lazy::<KiosksRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("users")) view={Lazy::<UsersRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("keys")) view={Lazy::<KeysRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("audit")) view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async />
                <Route path=StaticSegment("login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async />
                <Route path=StaticSegment("staff") view={Lazy::<InviteRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("staff"), StaticSegment("invitations"), ParamSegment("agency"), ParamSegment("dossier")) view={Lazy::<InvitationRoute>::new()} ssr=SsrMode::Async />
                <Route path=(StaticSegment("account"), StaticSegment("password")) view={Lazy::<ChangePasswordRoute>::new()} ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

// Every page but the two surveys (kiosk and link) comes as a wasm chunk of its own (`cargo
// leptos build --split`), loaded when it is first shown: a kiosk tablet or a citizen's phone
// loads only the survey's code. Each `*Route` below is such a chunk.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(this: Self) -> AnyView {
                let _ = this;
                view! { <$page /> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    HomeRoute => HomePage,
    KioskPairRoute => KioskPairPage,
    LoginRoute => LoginPage,
    DashboardRoute => DashboardPage,
    RankingRoute => RankingPage,
    BreakdownRoute => BreakdownPage,
    PrintRoute => PrintPage,
    CommentsRoute => CommentsPage,
    ProceduresRoute => ProceduresPage,
    DossiersRoute => DossiersPage,
    OutboxRoute => OutboxPage,
    AgenciesRoute => AgenciesPage,
    ImportPreviewRoute => ImportPreviewPage,
    KiosksRoute => KiosksPage,
    UsersRoute => UsersPage,
    KeysRoute => KeysPage,
    AuditRoute => AuditPage,
    InviteRoute => InvitePage,
    InvitationRoute => InvitationPage,
    ChangePasswordRoute => ChangePasswordPage,
}

#[component]
fn HomePage() -> impl IntoView {
    view! {
        <main class="home">
            <h1>"Hài lòng"</h1>
            <p>"Hệ thống khảo sát sự hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan hành chính nhà nước."</p>
            <ul class="home-links">
                <li><a href="/kiosk">"Màn hình khảo sát tại quầy (kiosk)"</a></li>
                <li><a href="/admin">"Xem chỉ số hài lòng (quản trị)"</a></li>
                <li><a href="/staff">"Gửi phiếu khảo sát cho hồ sơ (công chức một cửa)"</a></li>
                <li><a href="/login">"Đăng nhập"</a></li>
            </ul>
        </main>
    }
}
