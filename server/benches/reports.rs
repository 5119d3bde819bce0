//! Reporting benchmark: the demo province with N synthetic responses (bulk path, timed), then
//! the real server answering the dashboard and ranking pages and the ranking API over HTTP for
//! the last 12 months. Prints load time, database size and p50/p95 per request.
//! Run: `cargo bench -p server --bench reports` (env `BENCH_RESPONSES=100000,1000000`,
//! `BENCH_REQUESTS=40`). Rebuild with `make build` before serving by hand: a bench rebuilds
//! `target/release/hailong` without the embedded site.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use app::domain::period::vietnam_day;
use app::service::{AppState, Settings};
use chrono::Utc;

#[tokio::main]
async fn main() {
    let sizes: Vec<u64> = std::env::var("BENCH_RESPONSES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let requests: usize = std::env::var("BENCH_REQUESTS").ok().and_then(|s| s.parse().ok()).unwrap_or(40);
    for size in sizes {
        run(size, requests).await;
    }
}

async fn run(size: u64, requests: usize) {
    let dir = std::env::temp_dir().join(format!("hailong-bench-reports-{}-{size}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/bench.db", dir.display());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("an address");
    let settings = Settings {
        link_secret: "a bench link secret that is long enough".into(),
        public_url: format!("http://{addr}"),
        ..Settings::default()
    };
    let state = AppState::start(&url, settings).await.expect("app starts");
    server::demo::load(&state, &format!("http://{addr}")).await.expect("demo");
    let started = Instant::now();
    server::demo::load_bulk(&state, size).await.expect("bulk responses");
    let load = started.elapsed();
    let bytes: u64 =
        std::fs::read_dir(&dir).expect("dir").filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum();

    let router = server::http::router(state.clone(), server::http::leptos_options(addr), Default::default());
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .await
            .expect("serve")
    });
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let (_, session) = state.login("admin", "hailong-demo-admin", ip, Utc::now()).await.expect("demo admin logs in");
    let cookie = format!("{}={session}", app::account::server::ssr::session_cookie(&state));
    let today = vietnam_day(Utc::now());
    let period = format!("from={}&to={}", today - chrono::Duration::days(365), today);
    let http = reqwest::Client::new();
    println!(
        "reports at {size} responses: bulk load {:.1} s ({:.0} responses/s), database {:.0} MB",
        load.as_secs_f64(),
        size as f64 / load.as_secs_f64(),
        bytes as f64 / 1e6
    );
    for (name, path) in [
        ("dashboard page", format!("/admin?agency=PT&{period}")),
        ("dashboard of a commune", format!("/admin?agency=PT-X-TAMNONG&{period}")),
        ("ranking page", format!("/admin/rankings?kind=department&{period}")),
        ("ranking API", format!("/api/v1/rankings?kind=commune&{period}")),
        ("breakdown API", format!("/api/v1/breakdowns?agency=PT&by=age_band&{period}")),
    ] {
        let mut times = Vec::with_capacity(requests);
        for _ in 0..requests {
            let started = Instant::now();
            let response =
                http.get(format!("http://{addr}{path}")).header("cookie", &cookie).send().await.expect("request");
            assert_eq!(response.status(), 200, "{path}");
            response.bytes().await.expect("body");
            times.push(started.elapsed());
        }
        times.sort();
        let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
        println!("  {name:<24} p50 {:>7.1} ms   p95 {:>7.1} ms", ms(pct(0.50)), ms(pct(0.95)));
    }
    state.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
