//! The HTML shell and the router: which page answers which path.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

use crate::account::{ChangePasswordPage, LoginPage};
use crate::admin::{AdminPage, OutboxPage, ProceduresPage};
use crate::kiosk::{KioskPage, LinkSurveyPage};
use crate::staff::{InvitationPage, InvitePage};

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
                <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async />
                <Route path=StaticSegment("kiosk") view=KioskPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("s"), ParamSegment("token")) view=LinkSurveyPage ssr=SsrMode::Async />
                <Route path=StaticSegment("admin") view=AdminPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("procedures")) view=ProceduresPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("admin"), StaticSegment("outbox")) view=OutboxPage ssr=SsrMode::Async />
                <Route path=StaticSegment("login") view=LoginPage ssr=SsrMode::Async />
                <Route path=StaticSegment("staff") view=InvitePage ssr=SsrMode::Async />
                <Route path=(StaticSegment("staff"), StaticSegment("invitations"), ParamSegment("dossier")) view=InvitationPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("account"), StaticSegment("password")) view=ChangePasswordPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
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
