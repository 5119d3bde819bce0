//! Access: one way for every page and server function to check who is asking
//! ([`guard::require`]), the request's cookies, address and status ([`request`]), the session's
//! end ([`session`]), and one reply shape for pages ([`PageReply`]) rendered the same way
//! everywhere ([`page_reply`]). Account and the survey screens import this; it imports neither.

#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod request;
pub mod session;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use session::LogOutButton;

/// What a page's loader answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PageReply<T> {
    Ready(T),
    /// Not logged in (401).
    LoginRequired,
    /// Logged in, but not theirs to see (403); the message says why.
    Forbidden(String),
    /// The request itself is wrong (a filter, an id); the message says what to fix.
    Invalid(String),
}

impl<T> PageReply<T> {
    /// The same refusal for a page of another type.
    pub fn refusal<U>(self) -> PageReply<U> {
        match self {
            Self::Ready(_) | Self::LoginRequired => PageReply::LoginRequired,
            Self::Forbidden(message) => PageReply::Forbidden(message),
            Self::Invalid(message) => PageReply::Invalid(message),
        }
    }
}

/// Renders a loader's answer: `ready` with the data, or the standard page for a refusal.
pub fn page_reply<T>(reply: Result<PageReply<T>, ServerFnError>, ready: impl FnOnce(T) -> AnyView) -> AnyView {
    match reply {
        Ok(PageReply::Ready(data)) => ready(data),
        Ok(PageReply::LoginRequired) => view! {
            <h1>"Cần đăng nhập"</h1>
            <p><a href="/login">"Đăng nhập"</a>" để dùng trang này."</p>
        }
        .into_any(),
        Ok(PageReply::Forbidden(message)) => view! {
            <h1>"Không có quyền truy cập"</h1>
            <p class="errors" role="alert">{message}</p>
            <LogOutButton />
        }
        .into_any(),
        Ok(PageReply::Invalid(message)) => view! {
            <p class="errors" role="alert">{message}</p>
            <p><a href="/admin">"Về trang quản trị"</a></p>
        }
        .into_any(),
        Err(error) => view! { <p class="errors" role="alert">{error.to_string()}</p> }.into_any(),
    }
}

/// A page's data once loaded, rendered by `ready`, or the standard refusal ([`page_reply`]);
/// "Đang tải…" meanwhile. Every page that loads its data shows it through this.
#[component]
pub fn Loaded<T, R>(data: Resource<Result<PageReply<T>, ServerFnError>>, ready: R) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + serde::de::DeserializeOwned + 'static,
    R: Fn(T) -> AnyView + Clone + Send + Sync + 'static,
{
    view! {
        <Suspense fallback=|| view! { <p>"Đang tải…"</p> }>
            {move || {
                let ready = ready.clone();
                Suspend::new(async move { page_reply(data.await, ready) })
            }}
        </Suspense>
    }
}

/// A message for the admin after a change: what happened, and a one-time secret (a password,
/// a key, a pairing code) shown only this once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub title: String,
    pub secret: Option<String>,
    pub note: String,
    /// A QR code of the secret's link, as SVG.
    pub qr_svg: Option<String>,
}

#[component]
pub fn NoticeView(notice: Option<Notice>) -> impl IntoView {
    notice.map(|Notice { title, secret, note, qr_svg }| {
        view! {
            <section class="notice" role="status">
                <h2>{title}</h2>
                {secret.map(|secret| view! { <p><output class="secret" id="notice-secret">{secret}</output></p> })}
                {qr_svg.map(|svg| view! { <div class="qr" inner_html=svg></div> })}
                <p>{note}</p>
            </section>
        }
    })
}
