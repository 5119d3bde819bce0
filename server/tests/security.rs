//! What every response carries (security headers, the page's script nonce), cookies under https,
//! and logs that never hold a token — the last through the real binary's log output.

mod common;

use app::domain::account::Role;
use app::service::Settings;
use common::{spawn_app, spawn_app_with};

#[tokio::test]
async fn pages_and_api_answers_carry_the_security_headers() {
    let app = spawn_app().await;
    let page = app.client.get(format!("{}/login", app.base)).send().await.unwrap();
    let headers = page.headers().clone();
    let html = page.text().await.unwrap();
    let csp = headers["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // The inline hydration script carries the nonce the policy names, and only that one.
    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{html}");
    let second = app.client.get(format!("{}/login", app.base)).send().await.unwrap();
    assert_ne!(second.headers()["content-security-policy"], headers["content-security-policy"], "a nonce per page");
    // A signed-in person's page names itself to this server only (its forms come back to it);
    // a survey link's and a kiosk's address carry codes and are told to nobody.
    assert_eq!(headers["referrer-policy"], "same-origin");
    let pairing = app.client.get(format!("{}/kiosk/pair", app.base)).send().await.unwrap();
    assert_eq!(pairing.headers()["referrer-policy"], "same-origin", "the pairing form without a code in its address");
    for path in ["/s/0123456789abcdef", "/kiosk", "/kiosk/pair?code=12345678", "/"] {
        let other = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(other.headers()["referrer-policy"], "no-referrer", "{path}");
    }
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers.get("strict-transport-security").is_none(), "no HSTS over plain http");

    let api = app.client.get(format!("{}/api/v1/questionnaire", app.base)).send().await.unwrap();
    let csp = api.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(api.headers()["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn under_https_cookies_are_host_prefixed_and_secure_and_hsts_is_sent() {
    let app = spawn_app_with(Settings { secure_cookies: true, ..Settings::default() }).await;
    app.state.add_demo_user("tinh", Role::Admin, None, "mật khẩu đủ dài 1", false).await.unwrap();
    let login = <app::account::server::LogIn as leptos::server_fn::ServerFn>::PATH;
    let response =
        app.post_form(login, None, "username=tinh&password=m%E1%BA%ADt+kh%E1%BA%A9u+%C4%91%E1%BB%A7+d%C3%A0i+1").await;
    assert!(response.status().is_redirection(), "{}", response.status());
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-hailong_session="), "{cookie}");
    assert!(cookie.contains("; Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
    assert!(response.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
    let session = cookie.split(';').next().unwrap();
    assert_eq!(app.page(Some(session), "/admin").await.0, 200, "the prefixed cookie is the session");
}

/// Starts the `hailong` binary with debug logs on a free port; returns it and its address.
fn serve(dir: &std::path::Path) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let url = common::fresh_database_blocking(dir, "log.db");
    assert!(common::hailong(&url, &["demo"]).status.success());
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_hailong"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("HAILONG_DATABASE_URL", &url)
        .env("HAILONG_PUBLIC_URL", &base)
        .envs(common::on_postgres().then_some(("HAILONG_LINK_SECRET", common::LINK_SECRET)))
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    (child, base)
}

#[tokio::test]
async fn no_token_or_code_appears_in_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve(dir.path());
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let survey_token = "0123456789abcdef0123456789abcdef01234567";
    let pairing_code = "31415926";
    let api_key = "k".repeat(64);
    let _ = client.get(format!("{base}/s/{survey_token}")).send().await.unwrap();
    let _ = client.post(format!("{base}/s/{survey_token}")).form(&[("nav", "start")]).send().await.unwrap();
    let _ = client.get(format!("{base}/kiosk/pair?code={pairing_code}")).send().await.unwrap();
    let _ =
        client.post(format!("{base}/api/v1/kiosks/pair")).body(format!("{{\"code\":\"{pairing_code}\"}}")).send().await;
    let _ = client.get(format!("{base}/api/v1/invitations/HS-1")).bearer_auth(&api_key).send().await.unwrap();
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.contains("/s/…"), "the request log is there, with the token cut: {logs}");
    for secret in [survey_token, pairing_code, api_key.as_str()] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs:\n{logs}");
    }
}
