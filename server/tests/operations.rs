//! What an operator watches: `/metrics` for Prometheus (behind its own token), `/livez` and
//! `/readyz` for a load balancer, and log lines as JSON for a log collector.

mod common;

use std::io::BufRead;

use app::domain::anomaly::KioskLimits;
use app::service::Settings;
use common::{spawn_app_with, TestApp, LOCALHOST};
use serde_json::json;

const METRICS_TOKEN: &str = "a metrics token for the scraper";

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let request = app.client.get(format!("{}/metrics", app.base));
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.unwrap()
}

/// The value of the series `series` (name and labels as Prometheus prints them), 0 if absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .filter_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.trim().parse::<f64>().unwrap())
        .next()
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_what_the_server_did_for_the_scraper_with_the_token_only() {
    let app = spawn_app_with(Settings {
        metrics_token: Some(METRICS_TOKEN.into()),
        kiosk_limits: KioskLimits { max_per_minute: 0, ..KioskLimits::default() },
        ..Settings::default()
    })
    .await;
    assert_eq!(scrape(&app, None).await.status(), 401);
    assert_eq!(scrape(&app, Some("not the metrics token")).await.status(), 401);
    assert_eq!(scrape(&app, Some(common::ADMIN_TOKEN)).await.status(), 401, "the admin token is another key");
    let before = scrape(&app, Some(METRICS_TOKEN)).await;
    assert_eq!(before.status(), 200);
    assert!(before.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let before = before.text().await.unwrap();

    for n in 0..3 {
        let body = json!({"id": uuid::Uuid::new_v4().to_string(), "agency": "D1", "answers": {"A1": 1 + n}});
        assert_eq!(app.post_response(&body).await.status(), 201);
    }
    let again = json!({"id": uuid::Uuid::new_v4().to_string(), "agency": "D1", "answers": {"A1": 5}});
    assert_eq!(app.post_response(&again).await.status(), 201);
    assert_eq!(app.post_response(&again).await.status(), 200, "a repeat is not stored again");
    app.state.add_demo_user("tinh", app::domain::account::Role::Admin, None, "mật khẩu đủ dài 1", false).await.unwrap();
    assert!(app.state.login("tinh", "sai mật khẩu", LOCALHOST, chrono::Utc::now()).await.is_err());

    let after = scrape(&app, Some(METRICS_TOKEN)).await.text().await.unwrap();
    let grew = |series: &str| value(&after, series) - value(&before, series);
    assert_eq!(grew("hailong_responses_stored_total{channel=\"kiosk\"}"), 4.0, "{after}");
    assert_eq!(grew("hailong_submit_seconds_count"), 5.0, "every submission is timed: {after}");
    assert!(grew("hailong_writer_batch_size_count") >= 1.0, "{after}");
    assert!(value(&after, "hailong_writer_batch_size_bucket{le=\"256\"}") >= 1.0, "{after}");
    assert_eq!(grew("hailong_login_failures_total"), 1.0, "{after}");
    let open = value(&after, "hailong_db_connections{pool=\"read\",state=\"idle\"}")
        + value(&after, "hailong_db_connections{pool=\"read\",state=\"in_use\"}");
    assert!(open >= 1.0, "the read pool's connections: {after}");
    assert!(after.contains("hailong_writer_queue_depth "), "{after}");
}

#[tokio::test]
async fn without_a_token_there_are_no_metrics_and_the_probes_answer() {
    let app = common::spawn_app().await;
    assert_eq!(scrape(&app, Some(METRICS_TOKEN)).await.status(), 404);
    for probe in ["/livez", "/readyz", "/healthz"] {
        let response = app.client.get(format!("{}{probe}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{probe}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_database_is_gone_is_alive_but_not_ready_and_logs_json() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database(dir.path(), "ops.db").await;
    assert!(common::hailong(&url, &["migrate"]).status.success());
    let port = common::process::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hailong"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("HAILONG_DATABASE_URL", &url)
        .env("HAILONG_PUBLIC_URL", &base)
        .env("HAILONG_LINK_SECRET", common::LINK_SECRET)
        .env("HAILONG_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut ready = None;
    for _ in 0..200 {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await {
            ready = Some(response.status());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(ready, Some(reqwest::StatusCode::OK));

    if common::on_postgres() {
        // The database goes away under the running server (its connections are cut).
        let database = url.rsplit_once('/').unwrap().1;
        let admin = common::sql(&common::postgres_server().unwrap()).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {database} WITH (FORCE)")))
            .execute(&admin)
            .await
            .unwrap();
        let response = client.get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(response.status(), 503);
        assert!(response.headers().contains_key("retry-after"));
        assert_eq!(client.get(format!("{base}/livez")).send().await.unwrap().status(), 200, "still alive");
    }

    child.kill().unwrap();
    child.wait().unwrap();
    let lines: Vec<String> =
        std::io::BufReader::new(child.stderr.take().unwrap()).lines().map(Result::unwrap).collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let parsed: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(parsed["level"].is_string() && parsed["timestamp"].is_string(), "{line}");
    }
}
