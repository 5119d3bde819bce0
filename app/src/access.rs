//! One way for every page and server function to check access (`ssr::require`), and one reply
//! shape for pages (`PageReply`) rendered the same way everywhere (`page_reply`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::account::server::LogOut;

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

#[component]
pub fn LogOutButton() -> impl IntoView {
    let log_out = ServerAction::<LogOut>::new();
    view! {
        <ActionForm action=log_out attr:class="logout">
            <button type="submit" class="secondary">"Đăng xuất"</button>
        </ActionForm>
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! The server side of access: who is asking, and what they may reach.

    use std::net::IpAddr;

    use axum::http::StatusCode;
    use leptos::prelude::*;

    use super::PageReply;
    use crate::domain::access::{Action, Principal, Reach, Scope};
    use crate::domain::audit::Actor;
    use crate::service::{AppState, ServiceError};
    use crate::storage::User;

    /// The client's address, put on every request by the HTTP layer (the peer, or the first
    /// untrusted hop of `X-Forwarded-For` behind a configured proxy).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct ClientIp(pub IpAddr);

    /// A signed-in user allowed to do an action, and where.
    #[derive(Clone, Debug)]
    pub struct Access {
        pub user: User,
        pub principal: Principal,
        pub reach: Reach,
    }

    impl Access {
        /// The user as the audit log names them.
        pub fn actor(&self) -> Actor {
            Actor::new(self.user.username.clone(), client_ip())
        }
    }

    /// What one change tells the admin on the next page they see (kept in a short-lived
    /// HttpOnly cookie, so it also works without JavaScript and is never stored on the server).
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Flash {
        pub title: String,
        pub secret: Option<String>,
        pub note: String,
        /// Text for a QR code under the secret (the kiosk pairing link).
        pub qr_text: Option<String>,
    }

    fn flash_cookie(state: &AppState) -> &'static str {
        if state.settings.secure_cookies {
            "__Host-hailong_flash"
        } else {
            "hailong_flash"
        }
    }

    /// Leaves `flash` for the next page this browser loads (within five minutes).
    pub fn set_flash(state: &AppState, flash: &Flash) {
        let value = hex::encode(serde_json::to_vec(flash).unwrap_or_default());
        crate::account::server::ssr::set_cookie(state, flash_cookie(state), &value, 300);
    }

    /// The flash left for this page, if any; it is shown once.
    pub fn take_flash(state: &AppState) -> Option<super::Notice> {
        let parts = use_context::<axum::http::request::Parts>()?;
        let value = crate::kiosk::server::ssr::cookie(&parts.headers, flash_cookie(state)).filter(|v| !v.is_empty())?;
        crate::account::server::ssr::set_cookie(state, flash_cookie(state), "", 0);
        let flash: Flash = serde_json::from_slice(&hex::decode(value).ok()?).ok()?;
        let qr_svg = flash.qr_text.as_deref().and_then(|text| {
            qrcode::QrCode::new(text.as_bytes())
                .ok()
                .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build())
        });
        Some(super::Notice { title: flash.title, secret: flash.secret, note: flash.note, qr_svg })
    }

    /// The address of the current request.
    pub fn client_ip() -> Option<IpAddr> {
        use_context::<axum::http::request::Parts>().and_then(|parts| parts.extensions.get::<ClientIp>().map(|ip| ip.0))
    }

    /// Sets the status of the current response.
    pub fn set_status(status: StatusCode) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
    }

    /// The agencies a principal's scope covers, resolved against today's registry.
    pub async fn reach(state: &AppState, principal: &Principal) -> Result<Reach, ServiceError> {
        Ok(match principal.scope() {
            Scope::Province => Reach::All,
            Scope::Subtree(_) => {
                let agencies = state.agencies().await?;
                principal.scope().reach(&agencies, |_| Vec::new())
            }
            Scope::ServicePoint(point) => {
                let served: Vec<String> = state.served_agencies(&point).await?.into_iter().map(|a| a.code).collect();
                Reach::Only(served.into_iter().collect())
            }
        })
    }

    /// The signed-in user, if they may do `action`; otherwise the reply to give instead, with
    /// the response's status set (401, 403, or a redirect to change a one-time password).
    pub async fn require<T>(state: &AppState, action: Action) -> Result<Result<Access, PageReply<T>>, ServerFnError> {
        let user = match crate::account::server::ssr::signed_in(state).await? {
            Ok(user) => user,
            Err(_) => return Ok(Err(PageReply::LoginRequired)),
        };
        let principal = Principal::User { role: user.role, agency: user.agency_code.clone() };
        if !principal.may(action) {
            set_status(StatusCode::FORBIDDEN);
            return Ok(Err(PageReply::Forbidden(principal.denial(action).to_owned())));
        }
        let reach = reach(state, &principal).await.map_err(crate::service::internal)?;
        Ok(Ok(Access { user, principal, reach }))
    }

    /// As [`require`], for a server function that changes something: a refusal is an error
    /// with its status (401 or 403) and the Vietnamese reason.
    pub async fn require_for_change(state: &AppState, action: Action) -> Result<Access, ServerFnError> {
        match require::<()>(state, action).await? {
            Ok(access) => Ok(access),
            Err(PageReply::LoginRequired) => {
                crate::service::refuse(StatusCode::UNAUTHORIZED, "Vui lòng đăng nhập lại.")
            }
            Err(PageReply::Forbidden(message) | PageReply::Invalid(message)) => {
                crate::service::refuse(StatusCode::FORBIDDEN, message)
            }
            Err(PageReply::Ready(())) => unreachable!("a refusal is never ready"),
        }
    }
}
