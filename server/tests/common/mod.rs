//! Test helpers: the real application on a random port over a fresh database — a SQLite file,
//! or, when `HAILONG_TEST_POSTGRES_URL` names a PostgreSQL server (`scripts/with-postgres.sh`
//! sets it; `make test` runs the suite both ways), a new PostgreSQL database on it.
#![allow(dead_code)] // each test binary uses its own part of the helpers

pub mod gateway;
pub mod process;

use std::net::{IpAddr, Ipv4Addr};

use app::domain::account::Role;
use app::domain::anomaly::KioskLimits;
use app::domain::audit::{Actor, AuditAction};
use app::service::{AppState, Settings};
use chrono::Utc;

pub const ADMIN_TOKEN: &str = "test-admin-token";
/// Days to age today's responses by for their day to be final (reports cover final days only).
pub const FINAL: u32 = app::domain::submission::MAX_DAYS_LATE as u32;
pub const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The registry every test starts from: P (province) → D1 → G, and P → D2; P serves D1, G, D2.
pub const REGISTRY: &str = "code,name,kind,parent,valid_from,successor,serves
P,Cơ quan P,province,,,,D1;G;D2
D1,Cơ quan D1,department,P,,,
G,Cơ quan G,service_branch,D1,,,
D2,Cơ quan D2,department,P,,,
";

/// The PostgreSQL server the tests run on, if any.
pub fn postgres_server() -> Option<String> {
    std::env::var("HAILONG_TEST_POSTGRES_URL").ok().filter(|url| !url.is_empty())
}

pub fn on_postgres() -> bool {
    postgres_server().is_some()
}

/// The link secret of servers started by the tests: on PostgreSQL there is no file beside the
/// database to keep one in.
pub const LINK_SECRET: &str = "a test link secret that is long enough";

/// A new, empty database for one test: the SQLite file `name` in `dir`, or a new PostgreSQL
/// database (the throwaway cluster is deleted whole at the end).
pub async fn fresh_database(dir: &std::path::Path, name: &str) -> String {
    use sqlx::{Connection, Executor};
    let Some(server) = postgres_server() else { return format!("sqlite://{}/{name}", dir.display()) };
    let database = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&server).await.expect("the test PostgreSQL answers");
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}"))).await.unwrap();
    admin.close().await.unwrap();
    let (base, _) = server.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{database}")
}

/// [`fresh_database`] from code that is not async (on a thread of its own, as the caller may
/// be inside a runtime all the same).
pub fn fresh_database_blocking(dir: &std::path::Path, name: &str) -> String {
    let dir = dir.to_owned();
    let name = name.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(fresh_database(&dir, &name))
    })
    .join()
    .unwrap()
}

/// A pool on the test's database for statements the application has no function for (moving
/// time, reading raw rows): the same `$N` SQL on both engines.
pub async fn sql(database_url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(database_url).await.expect("the test database opens")
}

/// Bytes the test's database takes: the SQLite file (its log copied in first), or the
/// PostgreSQL database's files.
pub async fn database_bytes(app: &TestApp) -> u64 {
    if on_postgres() {
        let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&sql(&app.database_url).await)
            .await
            .unwrap();
        return size as u64;
    }
    while !app.state.checkpoint().await.unwrap() {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let path = app::storage::sqlite_path(&app.database_url).unwrap();
    std::fs::metadata(path).unwrap().len()
}

/// SQL for the Vietnam day of a response's `hour` column (`2026-11-30`).
pub fn vietnam_day_of_hour() -> &'static str {
    if on_postgres() {
        "to_char(to_timestamp(hour * 3600 + 7 * 3600) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    } else {
        "date(hour * 3600, 'unixepoch', '+7 hours')"
    }
}

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
    let database_url = fresh_database(dir.path(), "test.db").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = Settings {
        admin_token: Some(ADMIN_TOKEN.into()),
        link_secret: LINK_SECRET.into(),
        public_url: format!("http://{addr}"),
        ..settings
    };
    let state = AppState::start(&database_url, settings).await.expect("app starts");
    let rows = AppState::read_registry_csv(REGISTRY).unwrap();
    state.apply_registry(&Actor::cli(), &rows, None, AuditAction::AgenciesImported).await.unwrap();
    let kiosk_token = paired_kiosk(&state, "P").await;
    state.save_procedure(&Actor::cli(), "KS", "Đăng ký khai sinh").await.unwrap();

    TestApp {
        base: serve(state.clone(), listener),
        state,
        database_url,
        kiosk_token,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

/// Starts what `hailong serve` runs beside the router (the delivery worker, the link mixer)
/// and serves `state` on `listener`: its base URL.
pub fn serve(state: AppState, listener: tokio::net::TcpListener) -> String {
    let addr = listener.local_addr().unwrap();
    state.start_delivery_worker();
    state.start_link_mixer();
    let router = server::http::router(state, server::http::leptos_options(addr), Default::default());
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap()
    });
    format!("http://{addr}")
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
        let db = sql(&self.database_url).await;
        sqlx::query("UPDATE responses SET hour = hour - 24 * $1").bind(i64::from(days)).execute(&db).await.unwrap();
        // Each kiosk's count of a day follows its responses.
        sqlx::query("DELETE FROM kiosk_days").execute(&db).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO kiosk_days (kiosk_id, day, responses)
                 SELECT kiosk_id, {}, COUNT(*) FROM responses WHERE kiosk_id IS NOT NULL GROUP BY 1, 2",
            vietnam_day_of_hour()
        )))
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
        .envs(on_postgres().then_some(("HAILONG_LINK_SECRET", LINK_SECRET)))
        .output()
        .expect("the CLI runs")
}

/// The ids of the responses stored in `db`, as the clients wrote them (the table keeps 16 bytes).
pub async fn response_ids(db: &sqlx::AnyPool) -> Vec<String> {
    let ids: Vec<Vec<u8>> = sqlx::query_scalar("SELECT id FROM responses").fetch_all(db).await.unwrap();
    ids.iter().map(|id| uuid::Uuid::from_slice(id).expect("16 bytes").to_string()).collect()
}

/// A survey link as the one-stop software gets it when it makes an invitation.
#[derive(Clone, Debug)]
pub struct Issued {
    pub invitation: app::storage::Invitation,
    pub token: String,
    pub url: String,
    pub status: app::domain::invitation::InvitationStatus,
    pub created: bool,
}

/// Makes (or finds, within the re-print time) a dossier's invitation as the one-stop software does.
pub async fn invite(
    state: &AppState,
    dossier: &str,
    procedure: &str,
    agency: &str,
) -> Result<app::service::invitations::Invited, app::service::invitations::InviteError> {
    use app::service::invitations::Maker;
    state.invite(Maker::OneStop { actor: &Actor::cli() }, dossier, procedure, agency).await
}

/// [`invite`], for a test that needs the link: panics if there is none.
pub async fn issue(state: &AppState, dossier: &str, procedure: &str, agency: &str) -> Issued {
    let invited = invite(state, dossier, procedure, agency).await.unwrap();
    let link = invited.link.unwrap_or_else(|| panic!("no link for {dossier}"));
    Issued {
        invitation: invited.invitation,
        token: link.token,
        url: link.url,
        status: invited.status,
        created: invited.created,
    }
}

/// A survey as the API would receive `body`, for tests that call the service directly.
pub fn submission(body: serde_json::Value) -> app::domain::Submission {
    serde_json::from_value(body).expect("every field of a submission is Given")
}
