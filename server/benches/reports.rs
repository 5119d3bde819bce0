//! Reporting benchmark: the demo province with N synthetic responses (bulk path, timed), then
//! the real server answering the dashboard and ranking pages and the ranking API over HTTP for
//! the last 12 months. Prints load time, database size and p50/p95 per request. Then the
//! `hailong` binary serves the same file alone and exports every response as CSV and XLSX:
//! time, size and the server process's peak memory (VmHWM) per export.
//! Run: `cargo bench -p server --bench reports` (env `BENCH_RESPONSES=100000,1000000`,
//! `BENCH_REQUESTS=40`). Rebuild with `make build` before serving by hand: a bench rebuilds
//! `target/release/hailong` without the embedded site. Under `HAILONG_PG_DURABLE=1
//! scripts/with-postgres.sh` the database is PostgreSQL.

#[path = "../tests/common/mod.rs"]
mod common;

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
    let url = common::fresh_database(&dir, "bench.db").await;
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
    let bytes: u64 = if common::on_postgres() {
        let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&common::sql(&url).await)
            .await
            .expect("size");
        size as u64
    } else {
        std::fs::read_dir(&dir).expect("dir").filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum()
    };

    let router = server::http::router(state.clone(), server::http::leptos_options(addr), Default::default());
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .await
            .expect("serve")
    });
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let (_, session) = state.login("admin", "hailong-demo-admin", ip, Utc::now()).await.expect("demo admin logs in");
    // The demo password is one-time: the pages answer only once it is changed.
    state.change_password(&session, "hailong-demo-admin", "bench-admin-password", ip).await.expect("password changed");
    let cookie = format!("{}={session}", app::access::request::Cookie::Session.name(state.settings.secure_cookies));
    let today = vietnam_day(Utc::now());
    let period = format!("from={}&to={}", today - chrono::Duration::days(365), today);
    let http = reqwest::Client::new();
    println!(
        "reports ({}) at {size} responses: bulk load {:.1} s ({:.0} responses/s), database {:.0} MB",
        if common::on_postgres() { "PostgreSQL" } else { "SQLite" },
        load.as_secs_f64(),
        size as f64 / load.as_secs_f64(),
        bytes as f64 / 1e6
    );
    // The goals of issue 20 at 10 M, with weights and per-respondent intervals on: p95 under
    // 50 ms for the dashboard and ranking, 25 ms for the breakdown. The first request reads the
    // tallies from the database; the others find the final days' tallies in memory.
    println!("  {:<24} {:>10} {:>10} {:>10}   goal at 10 M", "", "first", "p50", "p95");
    for (name, path, goal) in [
        ("dashboard page", format!("/admin?agency=PT&{period}"), 50),
        ("dashboard of a commune", format!("/admin?agency=PT-X-TAMNONG&{period}"), 50),
        ("ranking page", format!("/admin/rankings?kind=department&{period}"), 50),
        ("ranking API", format!("/api/v1/rankings?kind=commune&{period}"), 50),
        ("breakdown API", format!("/api/v1/breakdowns?agency=PT&by=age_band&{period}"), 25),
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
        let first = times[0];
        times.sort();
        let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
        println!(
            "  {name:<24} {:>7.1} ms {:>7.1} ms {:>7.1} ms   p95 < {goal} ms",
            ms(first),
            ms(pct(0.50)),
            ms(pct(0.95))
        );
    }
    state.close().await;
    // The goal is stated at 1 M; exporting 10 M would only take ten times as long.
    if size <= 1_000_000 {
        exports(
            &url,
            &format!("from={}&to={}", today - chrono::Duration::days(800), today - chrono::Duration::days(1)),
        )
        .await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Exports every response from a `hailong serve` of its own, and prints time and peak memory.
async fn exports(url: &str, period: &str) {
    let addr = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("an address");
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_hailong"))
        .args(["serve", "--addr", &addr.to_string()])
        .env("HAILONG_DATABASE_URL", url)
        .env("HAILONG_ADMIN_TOKEN", "bench-admin-token")
        .env("HAILONG_PUBLIC_URL", format!("http://{addr}"))
        .env("HAILONG_LINK_SECRET", "a bench link secret that is long enough")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("hailong serve starts");
    let http = reqwest::Client::new();
    let ready = Instant::now();
    while http.get(format!("http://{addr}/healthz")).send().await.is_err() {
        assert!(ready.elapsed() < Duration::from_secs(60), "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = format!("/proc/{}/status", server.id());
    let peak_mb = || {
        let text = std::fs::read_to_string(&status).unwrap_or_default();
        let kb = text
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse::<f64>().ok());
        kb.unwrap_or(0.0) / 1024.0
    };
    println!(
        "  exports of every response by a `hailong serve` of its own (started at {:.0} MB; goal for 1 M: XLSX < 10 s, < 100 MB):",
        peak_mb()
    );
    for format in ["csv", "xlsx"] {
        // The peak from here on: writing 5 to clear_refs resets VmHWM to the current size.
        let _ = std::fs::write(format!("/proc/{}/clear_refs", server.id()), "5");
        let before = peak_mb();
        let started = Instant::now();
        let mut response = http
            .get(format!("http://{addr}/api/v1/exports/responses.{format}?{period}"))
            .bearer_auth("bench-admin-token")
            .send()
            .await
            .expect("export request");
        assert_eq!(response.status(), 200, "{format} export");
        let mut bytes = 0usize;
        while let Some(chunk) = response.chunk().await.expect("export body") {
            bytes += chunk.len();
        }
        let peak = peak_mb();
        println!(
            "  responses.{format:<4} {:>7.1} s   {:>6.0} MB   server peak {:>5.0} MB ({:+.0} MB while exporting)",
            started.elapsed().as_secs_f64(),
            bytes as f64 / 1e6,
            peak,
            peak - before
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
