//! Server functions for logging in and changing one's password. The session cookie holds a
//! random token; the database keeps only its hash (see [`crate::access`] for the session itself).

use leptos::prelude::*;

#[server]
pub async fn log_in(username: String, password: String) -> Result<(), ServerFnError> {
    use crate::service::accounts::{LoginError, SESSION_LIFETIME};

    let state = expect_context::<crate::service::AppState>();
    let ip = crate::access::request::client_ip().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
    match state.login(&username, &password, ip, chrono::Utc::now()).await {
        Ok((user, token)) => {
            crate::access::request::Cookie::Session.set(&state, &token, SESSION_LIFETIME.num_seconds());
            let next = if user.must_change_password { "/account/password" } else { ssr::home(user.role) };
            leptos_axum::redirect(next);
            Ok(())
        }
        Err(LoginError::Service(error)) => Err(ssr::internal(error)),
        Err(error) => match error.retry_after() {
            Some(seconds) => crate::access::request::refuse_for(seconds, error.to_string()),
            None => crate::service::refuse(axum::http::StatusCode::UNAUTHORIZED, error.to_string()),
        },
    }
}

#[server]
pub async fn change_password(current: String, new: String, confirm: String) -> Result<(), ServerFnError> {
    use crate::service::accounts::AccountServiceError;

    let state = expect_context::<crate::service::AppState>();
    use crate::service::refuse;
    let Some(token) = crate::access::guard::session_token() else {
        return refuse(axum::http::StatusCode::UNAUTHORIZED, "Vui lòng đăng nhập lại.");
    };
    if new != confirm {
        return refuse(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "Hai lần nhập mật khẩu mới không khớp.");
    }
    let ip = crate::access::request::client_ip().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
    match state.change_password(&token, &current, &new, ip).await {
        Ok(role) => {
            leptos_axum::redirect(ssr::home(role));
            Ok(())
        }
        Err(AccountServiceError::Service(error)) => Err(ssr::internal(error)),
        Err(error) => match error.retry_after() {
            Some(seconds) => crate::access::request::refuse_for(seconds, error.to_string()),
            None => refuse(axum::http::StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
        },
    }
}

/// Who is changing their password: the signed-in username (one-time passwords included), or
/// `None` with a 401.
#[server]
pub async fn password_owner() -> Result<Option<String>, ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let user = crate::access::guard::user(&state).await?;
    if user.is_none() {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::UNAUTHORIZED);
        }
    }
    Ok(user.map(|u| u.username))
}

#[cfg(feature = "ssr")]
pub mod ssr {
    /// Where a user's pages start: the staff page for one-stop staff, the indices for the others.
    pub fn home(role: crate::domain::account::Role) -> &'static str {
        match role {
            crate::domain::account::Role::Staff => "/staff",
            _ => "/admin",
        }
    }

    pub use crate::service::internal;
}
