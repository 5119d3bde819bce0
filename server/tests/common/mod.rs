//! Test helpers: the real application on a random port over a fresh SQLite file.
#![allow(dead_code)] // each test binary uses its own part of the helpers

pub mod process;

use std::net::{IpAddr, Ipv4Addr};

use app::domain::account::Role;
use app::domain::anomaly::KioskLimits;
use app::domain::audit::{Actor, AuditAction};
use app::service::{AppState, Settings};
use chrono::Utc;

pub const ADMIN_TOKEN: &str = "test-admin-token";
pub const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The registry every test starts from: P (province) → D1 → G, and P → D2; P serves D1, G, D2.
pub const REGISTRY: &str = "code,name,kind,parent,valid_from,successor,serves
P,Cơ quan P,province,,,,D1;G;D2
D1,Cơ quan D1,department,P,,,
G,Cơ quan G,service_branch,D1,,,
D2,Cơ quan D2,department,P,,,
";

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub database_url: String,
    /// Device token of a kiosk paired at service point `P` (serves D1, G and D2).
    pub kiosk_token: String,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// Starts the app with the small tree of [`REGISTRY`], without the kiosk rate limit (tests that
/// check the limits set it).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings {
        kiosk_limits: KioskLimits { max_per_minute: 0, ..KioskLimits::default() },
        ..Settings::default()
    })
    .await
}

/// As [`spawn_app`], with the given settings (admin token and link secret filled in).
pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}/test.db", dir.path().display());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = Settings {
        admin_token: Some(ADMIN_TOKEN.into()),
        link_secret: "a test link secret that is long enough".into(),
        public_url: format!("http://{addr}"),
        ..settings
    };
    let state = AppState::start(&database_url, settings).await.expect("app starts");
    let rows = AppState::read_registry_csv(REGISTRY).unwrap();
    state.apply_registry(&Actor::cli(), &rows, None, AuditAction::AgenciesImported).await.unwrap();
    let kiosk_token = paired_kiosk(&state, "P").await;
    state.save_procedure(&Actor::cli(), "KS", "Đăng ký khai sinh").await.unwrap();

    state.start_delivery_worker();
    state.start_link_mixer();

    let router = server::http::router(state.clone(), server::http::leptos_options(addr), Default::default());
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap()
    });
    TestApp {
        base: format!("http://{addr}"),
        state,
        database_url,
        kiosk_token,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

/// Registers a kiosk at `point` and pairs it; returns its device token.
pub async fn paired_kiosk(state: &AppState, point: &str) -> String {
    let pairing = state.register_kiosk(&Actor::cli(), point, "Kiosk thử nghiệm").await.unwrap();
    let (_, token) = state.pair_kiosk(&pairing.code, LOCALHOST).await.unwrap();
    token
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

    /// Moves every stored response `days` back in time and recomputes the aggregates: reports
    /// cover closed days only, so what a test submits today shows once it is "yesterday".
    pub async fn age_responses(&self, days: u32) {
        let db = sqlx::SqlitePool::connect(&self.database_url).await.unwrap();
        sqlx::query("UPDATE responses SET hour = hour - 24 * ?").bind(days).execute(&db).await.unwrap();
        // Each kiosk's count of a day follows its responses.
        sqlx::query(
            "DELETE FROM kiosk_days;
             INSERT INTO kiosk_days (kiosk_id, day, responses)
                 SELECT kiosk_id, date(hour * 3600, 'unixepoch', '+7 hours'), COUNT(*) FROM responses
                 WHERE kiosk_id IS NOT NULL GROUP BY 1, 2",
        )
        .execute(&db)
        .await
        .unwrap();
        db.close().await;
        self.state.rebuild_aggregates().await.unwrap();
    }

    pub async fn stored(&self) -> u64 {
        self.state.count_responses().await.unwrap()
    }

    /// Creates an account, replaces its one-time password, and returns its session cookie.
    pub async fn session(&self, username: &str, role: Role, agency: Option<&str>) -> String {
        let password = self.state.add_user(&Actor::cli(), username, role, agency).await.unwrap();
        let (_, token) = self.state.login(username, &password, LOCALHOST, Utc::now()).await.unwrap();
        self.state.change_password(&token, &password, "một mật khẩu mới đủ dài", LOCALHOST).await.unwrap();
        format!("hailong_session={token}")
    }

    /// A browser-like form POST from our own pages (with `Origin`), without following redirects.
    pub async fn post_form(&self, path: &str, cookie: Option<&str>, body: &str) -> reqwest::Response {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut request = client
            .post(format!("{}{path}", self.base))
            .header("origin", &self.base)
            .header("accept", "text/html")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request sent")
    }

    /// A page as a browser gets it (status and HTML), without following redirects.
    pub async fn page(&self, cookie: Option<&str>, path: &str) -> (u16, String) {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut request = client.get(format!("{}{path}", self.base)).header("accept", "text/html");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
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

/// The ids of the responses stored in `db`, as the clients wrote them (the table keeps 16 bytes).
pub async fn response_ids(db: &sqlx::SqlitePool) -> Vec<String> {
    let ids: Vec<Vec<u8>> = sqlx::query_scalar("SELECT id FROM responses").fetch_all(db).await.unwrap();
    ids.iter().map(|id| uuid::Uuid::from_slice(id).expect("16 bytes").to_string()).collect()
}
