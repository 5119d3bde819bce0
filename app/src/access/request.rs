//! The current request and its response, as server functions and pages see them: the
//! client's address, cookies (one [`Cookie`] per purpose, named once), the status, and the
//! flash notice that survives one redirect.

use std::net::IpAddr;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use leptos::prelude::*;

use crate::service::AppState;

/// The client's address, put on every request by the HTTP layer (the peer, or the first
/// untrusted hop of `X-Forwarded-For` behind a configured proxy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

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

/// A try turned away for now: 429 with `Retry-After` and the Vietnamese `message`.
pub fn refuse_for<T>(seconds: i64, message: String) -> Result<T, ServerFnError> {
    if let (Some(response), Ok(value)) =
        (use_context::<leptos_axum::ResponseOptions>(), HeaderValue::from_str(&seconds.max(1).to_string()))
    {
        response.insert_header(header::RETRY_AFTER, value);
    }
    crate::service::refuse(StatusCode::TOO_MANY_REQUESTS, message)
}

/// The cookies hailong sets, all HttpOnly for the whole site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cookie {
    /// A signed-in user's session token.
    Session,
    /// A paired kiosk's device token.
    Kiosk,
    /// What one change tells the admin on the next page (see [`set_flash`]).
    Flash,
}

impl Cookie {
    /// Its name: `__Host-` prefixed when served over https, so that no other site or path can
    /// set or shadow it.
    pub fn name(self, secure: bool) -> &'static str {
        match (self, secure) {
            (Self::Session, true) => "__Host-hailong_session",
            (Self::Session, false) => "hailong_session",
            (Self::Kiosk, true) => "__Host-hailong_kiosk",
            (Self::Kiosk, false) => "hailong_kiosk",
            (Self::Flash, true) => "__Host-hailong_flash",
            (Self::Flash, false) => "hailong_flash",
        }
    }

    /// Its value in `headers`, named as `state` serves it.
    pub fn read(self, state: &AppState, headers: &HeaderMap) -> Option<String> {
        let name = self.name(state.settings.secure_cookies);
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    }

    /// Its value in the current request.
    pub fn of_request(self, state: &AppState) -> Option<String> {
        use_context::<axum::http::request::Parts>().and_then(|parts| self.read(state, &parts.headers))
    }

    /// Sets it (or, with `max_age` 0, clears it) on the current response.
    pub fn set(self, state: &AppState, value: &str, max_age: i64) {
        let secure = if state.settings.secure_cookies { "; Secure" } else { "" };
        let name = self.name(state.settings.secure_cookies);
        let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
        if let (Some(response), Ok(value)) =
            (use_context::<leptos_axum::ResponseOptions>(), HeaderValue::from_str(&cookie))
        {
            response.append_header(header::SET_COOKIE, value);
        }
    }
}

/// What one change tells the admin on the next page they see (kept in a short-lived HttpOnly
/// cookie, so it also works without JavaScript and is never stored on the server).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Flash {
    pub title: String,
    pub secret: Option<String>,
    pub note: String,
    /// Text for a QR code under the secret (the kiosk pairing link).
    pub qr_text: Option<String>,
}

/// Leaves `flash` for the next page this browser loads (within five minutes).
pub fn set_flash(state: &AppState, flash: &Flash) {
    let value = hex::encode(serde_json::to_vec(flash).unwrap_or_default());
    Cookie::Flash.set(state, &value, 300);
}

/// The flash left for this page, if any; it is shown once.
pub fn take_flash(state: &AppState) -> Option<super::Notice> {
    let value = Cookie::Flash.of_request(state).filter(|v| !v.is_empty())?;
    Cookie::Flash.set(state, "", 0);
    let flash: Flash = serde_json::from_slice(&hex::decode(value).ok()?).ok()?;
    let qr_svg = flash.qr_text.as_deref().and_then(|text| {
        qrcode::QrCode::new(text.as_bytes())
            .ok()
            .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build())
    });
    Some(super::Notice { title: flash.title, secret: flash.secret, note: flash.note, qr_svg })
}

#[cfg(test)]
mod tests {
    use super::Cookie;

    #[test]
    fn every_cookie_gets_the_host_prefix_over_https_only() {
        for cookie in [Cookie::Session, Cookie::Kiosk, Cookie::Flash] {
            let (plain, secure) = (cookie.name(false), cookie.name(true));
            assert_eq!(secure, format!("__Host-{plain}"));
            assert!(plain.starts_with("hailong_"), "{plain}");
        }
    }
}
