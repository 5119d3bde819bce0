//! Server functions for sessions. The session cookie holds a random token; the database keeps
//! only its hash.

use leptos::prelude::*;

#[server]
pub async fn log_in(username: String, password: String) -> Result<(), ServerFnError> {
    use crate::service::accounts::{LoginError, SESSION_LIFETIME};

    let state = expect_context::<crate::service::AppState>();
    let ip = crate::access::ssr::client_ip().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
    match state.login(&username, &password, ip, chrono::Utc::now()).await {
        Ok((user, token)) => {
            ssr::set_cookie(&state, ssr::session_cookie(&state), &token, SESSION_LIFETIME.num_seconds());
            let next = if user.must_change_password { "/account/password" } else { ssr::home(user.role) };
            leptos_axum::redirect(next);
            Ok(())
        }
        Err(LoginError::Service(error)) => Err(ssr::internal(error)),
        Err(error) => match error.retry_after() {
            Some(seconds) => ssr::refuse_for(seconds, error.to_string()),
            None => crate::service::refuse(axum::http::StatusCode::UNAUTHORIZED, error.to_string()),
        },
    }
}

#[server]
pub async fn log_out() -> Result<(), ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    if let Some(token) = ssr::session_token() {
        state.logout(&token).await.map_err(ssr::internal)?;
    }
    ssr::set_cookie(&state, ssr::session_cookie(&state), "", 0);
    leptos_axum::redirect("/login");
    Ok(())
}

#[server]
pub async fn change_password(current: String, new: String, confirm: String) -> Result<(), ServerFnError> {
    use crate::service::accounts::AccountServiceError;

    let state = expect_context::<crate::service::AppState>();
    use crate::service::refuse;
    let Some(token) = ssr::session_token() else {
        return refuse(axum::http::StatusCode::UNAUTHORIZED, "Vui lòng đăng nhập lại.");
    };
    if new != confirm {
        return refuse(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "Hai lần nhập mật khẩu mới không khớp.");
    }
    let ip = crate::access::ssr::client_ip().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
    match state.change_password(&token, &current, &new, ip).await {
        Ok(role) => {
            leptos_axum::redirect(ssr::home(role));
            Ok(())
        }
        Err(AccountServiceError::Service(error)) => Err(ssr::internal(error)),
        Err(error) => match error.retry_after() {
            Some(seconds) => ssr::refuse_for(seconds, error.to_string()),
            None => refuse(axum::http::StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
        },
    }
}

/// Who is changing their password: the signed-in username (one-time passwords included), or
/// `None` with a 401.
#[server]
pub async fn password_owner() -> Result<Option<String>, ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let user = ssr::user(&state).await?;
    if user.is_none() {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::UNAUTHORIZED);
        }
    }
    Ok(user.map(|u| u.username))
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use leptos::prelude::*;

    use crate::kiosk::server::ssr::cookie;
    use crate::service::AppState;
    use crate::storage::User;

    /// The session cookie; `__Host-` prefixed when served over https, so that no other site
    /// or path can set or shadow it.
    pub fn session_cookie(state: &AppState) -> &'static str {
        if state.settings.secure_cookies {
            "__Host-hailong_session"
        } else {
            "hailong_session"
        }
    }

    pub fn session_token() -> Option<String> {
        let state = use_context::<AppState>()?;
        use_context::<axum::http::request::Parts>().and_then(|parts| cookie(&parts.headers, session_cookie(&state)))
    }

    /// The logged-in user of the current request.
    pub async fn user(state: &AppState) -> Result<Option<User>, ServerFnError> {
        let Some(token) = session_token() else { return Ok(None) };
        state.session_user(&token).await.map_err(internal)
    }

    /// Why a page gets no user.
    pub enum Denied {
        /// Not logged in: the response is 401.
        Anonymous,
        /// Still on a one-time password: the response redirects to the password page.
        MustChangePassword,
    }

    /// The logged-in user of any page but the password page, with the response set when none.
    pub async fn signed_in(state: &AppState) -> Result<Result<User, Denied>, ServerFnError> {
        Ok(match user(state).await? {
            Some(user) if user.must_change_password => {
                leptos_axum::redirect("/account/password");
                Err(Denied::MustChangePassword)
            }
            Some(user) => Ok(user),
            None => {
                if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                    response.set_status(axum::http::StatusCode::UNAUTHORIZED);
                }
                Err(Denied::Anonymous)
            }
        })
    }

    /// Where a user's pages start: the staff page for one-stop staff, the indices for the others.
    pub fn home(role: crate::domain::account::Role) -> &'static str {
        match role {
            crate::domain::account::Role::Staff => "/staff",
            _ => "/admin",
        }
    }

    /// A try turned away for now: 429 with `Retry-After` and the Vietnamese `message`.
    pub fn refuse_for<T>(seconds: i64, message: String) -> Result<T, ServerFnError> {
        if let (Some(response), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            axum::http::HeaderValue::from_str(&seconds.max(1).to_string()),
        ) {
            response.insert_header(axum::http::header::RETRY_AFTER, value);
        }
        crate::service::refuse(axum::http::StatusCode::TOO_MANY_REQUESTS, message)
    }

    /// Sets (or, with `max_age` 0, clears) an HttpOnly cookie for the whole site on the response.
    pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) {
        let secure = if state.settings.secure_cookies { "; Secure" } else { "" };
        let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
        if let (Some(response), Ok(value)) =
            (use_context::<leptos_axum::ResponseOptions>(), axum::http::HeaderValue::from_str(&cookie))
        {
            response.append_header(axum::http::header::SET_COOKIE, value);
        }
    }

    pub use crate::service::internal;
}
