//! Submit-path benchmark: 64 concurrent HTTP clients posting kiosk responses to the real server
//! over a fresh SQLite file for a fixed time. Prints responses/s and latency percentiles.
//! Run: `cargo bench -p server --bench submit` (env `BENCH_SECONDS`, `BENCH_CLIENTS`).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use serde_json::json;

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let clients: usize = std::env::var("BENCH_CLIENTS").ok().and_then(|s| s.parse().ok()).unwrap_or(64);
    let app = common::spawn_app().await;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for client in 0..clients {
        let (base, token, http) = (app.base.clone(), app.kiosk_token.clone(), app.client.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let answers: serde_json::Map<_, _> =
                    ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"]
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.to_string(), json!(1 + (i + client) % 5)))
                        .collect();
                let body = json!({"id": uuid::Uuid::new_v4().to_string(), "agency": "D1", "answers": answers});
                let started = Instant::now();
                let status = http
                    .post(format!("{base}/api/v1/responses"))
                    .bearer_auth(&token)
                    .body(body.to_string())
                    .send()
                    .await
                    .expect("request")
                    .status();
                assert_eq!(status, 201);
                latencies.push(started.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    latencies.sort();
    let stored = app.stored().await;
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "submit: {clients} clients, {seconds} s: {stored} responses stored, {:.0} responses/s, p50 {:.1} ms, p99 {:.1} ms",
        stored as f64 / seconds as f64,
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0
    );
}
