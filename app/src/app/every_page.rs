//! Every page of the site in one router, for staff and admin browsers; each page but the two
//! surveys comes as a wasm chunk of its own (`cargo leptos build --split`).

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{lazy_route, Lazy, LazyRoute, ParamSegment, SsrMode, StaticSegment};

use super::{mark_hydrated, not_found, page_setup, site_head};
use crate::account::{ChangePasswordPage, LoginPage};
use crate::admin::{
    AgenciesPage, AuditPage, DossiersPage, ImportPreviewPage, KeysPage, KiosksPage, OutboxPage, ProceduresPage,
    UsersPage,
};
use crate::report::{BreakdownPage, CommentsPage, DashboardPage, PrintPage, RankingPage};
use crate::staff::{InvitationPage, InvitePage};
use crate::survey::{KioskPage, KioskPairPage, LinkSurveyPage};

/// Every page. Staff and admin pages hydrate it; it keeps the survey routes too, so that a
/// link from a staff page to the kiosk is followed in the browser.
#[component]
pub fn App() -> impl IntoView {
    page_setup();
    view! {
        {site_head()}
        <Router>
            // Async: every page arrives complete, so it also works with JavaScript off.
            <Routes fallback=not_found>
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
                mark_hydrated();
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
