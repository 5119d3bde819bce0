//! What every request passes through: its client address, the same-origin check for browser
//! POSTs, the security headers, and a log line that never holds a token.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use app::access::ssr::ClientIp;
use app::service::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Reverse proxies whose `X-Forwarded-For` is believed (`HAILONG_TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Arc<Vec<IpAddr>>);

impl TrustedProxies {
    /// The client of a request that reached us from `peer`: the peer itself, or, from a
    /// trusted proxy, the right-most address in `X-Forwarded-For` that is not a trusted proxy.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.0.contains(&peer) {
            return peer;
        }
        let hops = forwarded_for.unwrap_or("").split(',').rev().filter_map(|hop| hop.trim().parse::<IpAddr>().ok());
        hops.into_iter().find(|hop| !self.0.contains(hop)).unwrap_or(peer)
    }
}

/// Puts the client's address on the request (`ClientIp`) for throttling and the audit log.
pub async fn client_ip(State(proxies): State<TrustedProxies>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let forwarded = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let client = proxies.client(peer, forwarded);
    request.extensions_mut().insert(ClientIp(client));
    next.run(request).await
}

/// `scheme://host[:port]` of a URL, as browsers send it in `Origin`.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..].find('/').map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

/// Refuses a browser POST that did not come from our own pages (cross-site request forgery).
/// An `Origin` must be the configured public URL (never compared with `Host`, which the client
/// chooses). Without one — or with `Origin: null`, which browsers send for form posts under our
/// `Referrer-Policy: no-referrer` — a browser's `Sec-Fetch-Site` must say `same-origin`, and a
/// request carrying our cookies must have one of the two. Machines that send neither header and
/// no cookie (kiosk software, one-stop software, curl) authenticate with bearer tokens instead.
pub async fn same_origin_posts(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() == Method::GET || request.method() == Method::HEAD || request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let headers = request.headers();
    let ours = origin_of(&app.settings.public_url);
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()).filter(|o| *o != "null");
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let refused = match (origin, fetch_site) {
        (Some(origin), _) => origin != ours,
        (None, Some(site)) => site != "same-origin",
        (None, None) => {
            headers.get_all(header::COOKIE).iter().filter_map(|c| c.to_str().ok()).any(|c| c.contains("hailong_"))
        }
    };
    if refused {
        tracing::warn!(path = %redact(request.uri().path()), "cross-site POST refused");
        return (
            StatusCode::FORBIDDEN,
            format!(
                "Yêu cầu không gửi từ trang của hệ thống ({ours}) nên bị từ chối. Hãy mở hệ thống đúng địa chỉ này."
            ),
        )
            .into_response();
    }
    next.run(request).await
}

/// Headers every response gets. Pages rendered by Leptos set their own Content-Security-Policy
/// (with the nonce of their inline hydration scripts); everything else gets a strict one.
pub async fn security_headers(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(headers, "content-security-policy", app::app::STRICT_CSP);
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "x-frame-options", "DENY");
    let html =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if html {
        // Admin pages can show a one-time password or key: never keep them in a cache.
        set(headers, "cache-control", "no-store");
    }
    if app.settings.secure_cookies {
        set(headers, "strict-transport-security", "max-age=31536000");
    }
    response
}

/// A path as logs may show it: survey-link tokens are cut off (query strings are never logged).
pub fn redact(path: &str) -> String {
    match path.strip_prefix("/s/") {
        Some(_) => "/s/…".to_owned(),
        None => path.to_owned(),
    }
}

/// Request logs with the method, the redacted path, the status and the time taken.
pub fn trace() -> tower_http::trace::TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    impl Fn(&Request) -> tracing::Span + Clone,
> {
    tower_http::trace::TraceLayer::new_for_http().make_span_with(|request: &Request| {
        tracing::info_span!("request", method = %request.method(), path = %redact(request.uri().path()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trusted_proxy_may_name_the_client() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let proxies = TrustedProxies(Arc::new(vec![proxy]));
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(proxies.client(proxy, Some("198.51.100.1, 203.0.113.7")), client, "the right-most untrusted hop");
        assert_eq!(proxies.client(client, Some("198.51.100.1")), client, "a client cannot claim another address");
        assert_eq!(proxies.client(proxy, None), proxy);
        assert_eq!(proxies.client(proxy, Some("not an address")), proxy);
    }

    #[test]
    fn origins_and_logged_paths() {
        assert_eq!(origin_of("https://khaosat.phutho.gov.vn"), "https://khaosat.phutho.gov.vn");
        assert_eq!(origin_of("http://127.0.0.1:3000/hailong"), "http://127.0.0.1:3000");
        assert_eq!(redact("/s/0123456789abcdef"), "/s/…");
        assert_eq!(redact("/kiosk/pair"), "/kiosk/pair");
    }
}
