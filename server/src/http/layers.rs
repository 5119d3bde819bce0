//! What every request passes through: its client address, the same-origin check for browser
//! POSTs, the security headers, and a log line that never holds a token.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use app::access::request::ClientIp;
use app::service::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;

use super::api::ApiError;

/// Reverse proxies whose `X-Forwarded-For` is believed (`HAILONG_TRUSTED_PROXIES`): addresses
/// and ranges (a load balancer pool in `10.0.0.0/24`).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Arc<Vec<IpNet>>);

impl TrustedProxies {
    fn trusts(&self, address: &IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(address))
    }

    /// The client of a request that reached us from `peer`: the peer itself, or, from a
    /// trusted proxy, the right-most address in `X-Forwarded-For` that is not a trusted proxy.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusts(&peer) {
            return peer;
        }
        let hops = forwarded_for.unwrap_or("").split(',').rev().filter_map(|hop| hop.trim().parse::<IpAddr>().ok());
        hops.into_iter().find(|hop| !self.trusts(hop)).unwrap_or(peer)
    }
}

/// One entry of `HAILONG_TRUSTED_PROXIES`: an address (`127.0.0.1`, `::1`) or a range
/// (`10.0.0.0/24`).
pub fn parse_proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("'{text}' không phải địa chỉ IP hay dải địa chỉ (ví dụ 127.0.0.1 hoặc 10.0.0.0/24)"))
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
        tracing::warn!(
            path = %redact(request.uri().path()),
            origin = origin.unwrap_or("-"),
            sec_fetch_site = fetch_site.unwrap_or("-"),
            configured = ours,
            "cross-site POST refused: the page was not opened at HAILONG_PUBLIC_URL"
        );
        let message = format!(
            "Yêu cầu không gửi từ trang của hệ thống ({ours}) nên bị từ chối. Hãy mở hệ thống đúng địa chỉ này."
        );
        return refusal(headers, message);
    }
    next.run(request).await
}

/// A 403 with `message`: for a hydrated page's server function in the encoding its client
/// decodes, so that the page shows the message itself rather than a network error; as text
/// for a form posted without JavaScript and for every other client.
fn refusal(headers: &axum::http::HeaderMap, message: String) -> Response {
    use leptos::server_fn::error::FromServerFnError;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let page = accept.contains("text/html") || accept.is_empty() || accept == "*/*";
    if page {
        return (StatusCode::FORBIDDEN, message).into_response();
    }
    let error: leptos::prelude::ServerFnError = leptos::prelude::ServerFnError::ServerError(message);
    let body = error.ser();
    (StatusCode::FORBIDDEN, body).into_response()
}

/// Why browsers opening the server at `listening` would have their forms refused: the public
/// URL names an address (not a name a reverse proxy answers to) that is not this one.
pub fn public_url_mismatch(public_url: &str, listening: std::net::SocketAddr) -> Option<String> {
    let origin = origin_of(public_url);
    let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => (host, port.parse::<u16>().ok()),
        _ => (authority, None),
    };
    let default_port = if origin.starts_with("https://") { 443 } else { 80 };
    let port = port.unwrap_or(default_port);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let named: Option<std::net::IpAddr> =
        if host.eq_ignore_ascii_case("localhost") { Some([127, 0, 0, 1].into()) } else { host.parse().ok() };
    // A name (a reverse proxy's, usually) is not checked: it may well lead here.
    let named = named?;
    let same_ip = listening.ip().is_unspecified() || listening.ip() == named;
    (port != listening.port() || !same_ip).then(|| {
        format!(
            "HAILONG_PUBLIC_URL là {public_url} nhưng máy chủ nghe tại {listening}: trình duyệt mở hệ thống ở địa chỉ khác {origin} sẽ bị từ chối khi gửi biểu mẫu (đăng nhập, gửi phiếu). Hãy đặt HAILONG_PUBLIC_URL đúng địa chỉ người dùng mở."
        )
    })
}

/// The largest body the server reads (`DefaultBodyLimit` on the router takes it too), far above
/// a survey (a few KB) or a province's registry as CSV.
pub const BODY_LIMIT: usize = 2 << 20;

/// A body over the limit is refused before it is read, by its `Content-Length`: server functions
/// would otherwise fail to read it and answer 500. A body sent in chunks is cut by axum's
/// extractors (`DefaultBodyLimit`), whose English 413 is replaced. Either way the refusal is in Vietnamese, in the
/// API's JSON shape on `/api/`.
pub async fn too_large_in_vietnamese(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let response = match declared {
        Some(length) if length > BODY_LIMIT => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        _ => next.run(request).await,
    };
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    let message = format!("Nội dung gửi lên quá lớn (tối đa {} MB).", BODY_LIMIT >> 20);
    if api {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body", &message).into_response()
    } else {
        (StatusCode::PAYLOAD_TOO_LARGE, message).into_response()
    }
}

/// What a page's requests tell about the page: the pages of signed-in people and the pairing
/// form, whose addresses carry no secret, name themselves to this server (`same-origin`), so
/// that a form posted without JavaScript comes back to its page with what went wrong
/// ([`form_errors_back_to_their_page`]); every other page, a survey link's (`/s/<token>`) and
/// a pairing link's (`/kiosk/pair?code=…`, whose code is good until used) first, tells nothing
/// to anyone.
fn referrer_policy(path: &str, query: Option<&str>) -> &'static str {
    let signed_in = ["/login", "/account", "/admin", "/staff"]
        .iter()
        .any(|area| path.strip_prefix(area).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')));
    if signed_in || (path == "/kiosk/pair" && query.is_none()) {
        "same-origin"
    } else {
        "no-referrer"
    }
}

/// A form posted without JavaScript to a server function that refused it: Leptos points the
/// answer back at the page the form came from, the refusal in its address (`__err`), which the
/// page shows in its alert; but the status the function set (401, 422, …) keeps a browser from
/// following it and shows the raw refusal instead. Such an answer becomes a 303 to that page.
///
/// The way back is only believed from this server's own pages: a refusal in an address that
/// another site, a mail or a chat sent someone to (`/login?__path=…&__err=…`) would put any
/// text its author chose in the page's alert, so without our own page as its Referer the
/// refusal is dropped from the address before the page reads it.
pub async fn form_errors_back_to_their_page(State(app): State<AppState>, mut request: Request, next: Next) -> Response {
    let carries_refusal = request.uri().query().is_some_and(|q| q.contains("__err=") || q.contains("__path="));
    if carries_refusal && !from_our_pages(&app, request.headers()) {
        let uri = request.uri();
        let kept: Vec<&str> = uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.starts_with("__err=") && !pair.starts_with("__path="))
            .collect();
        let rewritten =
            if kept.is_empty() { uri.path().to_owned() } else { format!("{}?{}", uri.path(), kept.join("&")) };
        if let Ok(rewritten) = rewritten.parse() {
            *request.uri_mut() = rewritten;
        }
    }
    let path = request.uri().path();
    let server_function = path.starts_with("/api/") && !path.starts_with("/api/v1/");
    let plain_form = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let mut response = next.run(request).await;
    let back =
        response.headers().get(header::LOCATION).and_then(|l| l.to_str().ok()).is_some_and(|l| l.contains("__err="));
    if server_function && plain_form && back && response.headers().contains_key("serverfnerror") {
        *response.status_mut() = StatusCode::SEE_OTHER;
        // The browser follows it naming the form's page, which the check above looks for.
        response.headers_mut().insert("referrer-policy", HeaderValue::from_static("same-origin"));
    }
    response
}

/// Whether a request says it comes from a page of this server (`Referer` under the public URL).
fn from_our_pages(app: &AppState, headers: &axum::http::HeaderMap) -> bool {
    let ours = origin_of(&app.settings.public_url);
    let referer = headers.get(header::REFERER).and_then(|r| r.to_str().ok()).unwrap_or("");
    referer.strip_prefix(ours).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Headers every response gets. Pages rendered by Leptos set their own Content-Security-Policy
/// (with the nonce of their inline hydration scripts); everything else gets a strict one.
pub async fn security_headers(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let referrer = referrer_policy(request.uri().path(), request.uri().query());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(headers, "content-security-policy", app::app::STRICT_CSP);
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", referrer);
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

    fn address(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_proxy_may_name_the_client() {
        let proxy = address("127.0.0.1");
        let proxies = TrustedProxies(Arc::new(vec![parse_proxy("127.0.0.1").unwrap()]));
        let client = address("203.0.113.7");
        assert_eq!(proxies.client(proxy, Some("198.51.100.1, 203.0.113.7")), client, "the right-most untrusted hop");
        assert_eq!(proxies.client(client, Some("198.51.100.1")), client, "a client cannot claim another address");
        assert_eq!(
            proxies.client(address("127.0.0.2"), Some("198.51.100.1")),
            address("127.0.0.2"),
            "one address, not its range"
        );
        assert_eq!(proxies.client(proxy, None), proxy);
        assert_eq!(proxies.client(proxy, Some("not an address")), proxy);
    }

    #[test]
    fn a_range_of_proxies_is_trusted_hop_by_hop() {
        let proxies =
            TrustedProxies(Arc::new(vec![parse_proxy("10.0.0.0/24").unwrap(), parse_proxy(" ::1 ").unwrap()]));
        let client = address("203.0.113.7");
        // the balancer 10.0.0.9 forwards what the edge proxy 10.0.0.4 saw
        assert_eq!(proxies.client(address("10.0.0.9"), Some("203.0.113.7, 10.0.0.4")), client);
        assert_eq!(proxies.client(address("::1"), Some("203.0.113.7")), client);
        assert_eq!(proxies.client(address("10.0.1.9"), Some("198.51.100.1")), address("10.0.1.9"), "outside the range");
        assert_eq!(
            parse_proxy("10.0.0.0/33").unwrap_err(),
            "'10.0.0.0/33' không phải địa chỉ IP hay dải địa chỉ (ví dụ 127.0.0.1 hoặc 10.0.0.0/24)"
        );
        assert!(parse_proxy("nginx").is_err());
    }

    #[test]
    fn a_public_url_that_names_another_address_is_noticed() {
        let at = |addr: &str| addr.parse::<std::net::SocketAddr>().unwrap();
        assert_eq!(super::public_url_mismatch("http://127.0.0.1:3000", at("127.0.0.1:3000")), None);
        assert_eq!(super::public_url_mismatch("http://localhost:3000", at("0.0.0.0:3000")), None);
        assert_eq!(super::public_url_mismatch("https://khaosat.phutho.gov.vn", at("127.0.0.1:3000")), None);
        assert_eq!(super::public_url_mismatch("http://[::1]:3000", at("[::1]:3000")), None);
        let warned = super::public_url_mismatch("http://127.0.0.1:3000", at("0.0.0.0:8080")).unwrap();
        assert!(warned.contains("HAILONG_PUBLIC_URL là http://127.0.0.1:3000") && warned.contains("0.0.0.0:8080"));
        assert!(super::public_url_mismatch("http://10.0.0.5", at("10.0.0.6:80")).is_some());
        assert!(super::public_url_mismatch("http://192.168.1.10:3000", at("127.0.0.1:3000")).is_some());
    }

    #[test]
    fn origins_and_logged_paths() {
        assert_eq!(origin_of("https://khaosat.phutho.gov.vn"), "https://khaosat.phutho.gov.vn");
        assert_eq!(origin_of("http://127.0.0.1:3000/hailong"), "http://127.0.0.1:3000");
        assert_eq!(redact("/s/0123456789abcdef"), "/s/…");
        assert_eq!(redact("/kiosk/pair"), "/kiosk/pair");
    }
}
