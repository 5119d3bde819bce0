//! Test helpers: the real application on a random port over a fresh SQLite file.
#![allow(dead_code)] // each test binary uses its own part of the helpers

use app::domain::{Agency, AgencyKind};
use app::service::{AppState, Settings};

pub const ADMIN_TOKEN: &str = "test-admin-token";

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub database_url: String,
    /// Bearer token of a kiosk at service point `P` (serves D1, G and D2).
    pub kiosk_token: String,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// Starts the app with a small tree: P (province) → D1 → G, and P → D2.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default()).await
}

/// As [`spawn_app`], with the given settings (admin token and link secret filled in).
pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}/test.db", dir.path().display());
    let settings = Settings {
        admin_token: Some(ADMIN_TOKEN.into()),
        link_secret: "a test link secret that is long enough".into(),
        ..settings
    };
    let state = AppState::start(&database_url, settings).await.expect("app starts");
    for (code, kind, parent) in [
        ("P", AgencyKind::Province, None),
        ("D1", AgencyKind::Department, Some("P")),
        ("G", AgencyKind::ServiceBranch, Some("D1")),
        ("D2", AgencyKind::Department, Some("P")),
    ] {
        let agency =
            Agency { code: code.into(), name: format!("Cơ quan {code}"), kind, parent: parent.map(Into::into) };
        state.db.upsert_agency(&agency).await.unwrap();
    }
    for served in ["D1", "G", "D2"] {
        state.db.add_served_agency("P", served).await.unwrap();
    }
    let kiosk_token = state.register_kiosk("P", "Kiosk thử nghiệm").await.unwrap();
    state.db.upsert_procedure("KS", "Đăng ký khai sinh").await.unwrap();

    state.start_delivery_worker();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = server::http::router(state.clone(), server::http::leptos_options(addr));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    TestApp {
        base: format!("http://{addr}"),
        state,
        database_url,
        kiosk_token,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

impl TestApp {
    pub async fn post_response(&self, body: &serde_json::Value) -> reqwest::Response {
        self.post_raw(body.to_string()).await
    }

    pub async fn post_raw(&self, body: String) -> reqwest::Response {
        self.client
            .post(format!("{}/api/v1/responses", self.base))
            .bearer_auth(&self.kiosk_token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn indices(&self, query: &str) -> reqwest::Response {
        self.client
            .get(format!("{}/api/v1/indices?{query}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn stored(&self) -> u64 {
        self.state.db.count_responses().await.unwrap()
    }
}

/// Runs the `hailong` binary against the SQLite database at `database_url`.
pub fn hailong(database_url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hailong"))
        .args(args)
        .env("HAILONG_DATABASE_URL", database_url)
        .output()
        .expect("the CLI runs")
}
