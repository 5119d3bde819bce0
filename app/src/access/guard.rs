//! Who is asking, and what they may reach: the session behind the request, and the one check
//! every page and server function makes ([`require`]).

use axum::http::StatusCode;
use leptos::prelude::*;

use super::request::{client_ip, set_status, Cookie};
use super::PageReply;
use crate::domain::access::{Action, Principal, Reach, Scope};
use crate::domain::audit::Actor;
use crate::service::{internal, AppState, ServiceError};
use crate::storage::User;

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

/// The session token of the current request.
pub fn session_token() -> Option<String> {
    let state = use_context::<AppState>()?;
    Cookie::Session.of_request(&state)
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
            set_status(StatusCode::UNAUTHORIZED);
            Err(Denied::Anonymous)
        }
    })
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

/// The signed-in user, if they may do `action`; otherwise the reply to give instead, with the
/// response's status set (401, 403, or a redirect to change a one-time password).
pub async fn require<T>(state: &AppState, action: Action) -> Result<Result<Access, PageReply<T>>, ServerFnError> {
    let user = match signed_in(state).await? {
        Ok(user) => user,
        Err(_) => return Ok(Err(PageReply::LoginRequired)),
    };
    let principal = Principal::User { role: user.role, agency: user.agency_code.clone() };
    if !principal.may(action) {
        set_status(StatusCode::FORBIDDEN);
        return Ok(Err(PageReply::Forbidden(principal.denial(action).to_owned())));
    }
    let reach = reach(state, &principal).await.map_err(internal)?;
    Ok(Ok(Access { user, principal, reach }))
}

/// As [`require`], for a server function that changes something: a refusal is an error with
/// its status (401 or 403) and the Vietnamese reason.
pub async fn require_for_change(state: &AppState, action: Action) -> Result<Access, ServerFnError> {
    match require::<()>(state, action).await? {
        Ok(access) => Ok(access),
        Err(PageReply::LoginRequired) => crate::service::refuse(StatusCode::UNAUTHORIZED, "Vui lòng đăng nhập lại."),
        Err(PageReply::Forbidden(message) | PageReply::Invalid(message)) => {
            crate::service::refuse(StatusCode::FORBIDDEN, message)
        }
        Err(PageReply::Ready(())) => unreachable!("a refusal is never ready"),
    }
}
