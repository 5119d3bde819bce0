//! Submit-path benchmark: 64 concurrent HTTP clients posting kiosk responses to the real server
//! over a fresh SQLite file for a fixed time. Prints responses/s and latency percentiles.
//! Run: `cargo bench -p server --bench submit` (env `BENCH_SECONDS`, `BENCH_CLIENTS`,
//! `BENCH_PRELOAD`, `BENCH_SERVERS`), or `make bench`.
//!
//! Under `HAILONG_PG_DURABLE=1 scripts/with-postgres.sh` the server's database is PostgreSQL
//! instead (every COMMIT flushed, as SQLite's synchronous=FULL), and `BENCH_SERVERS=3` spreads
//! the clients over three servers on it, each with its own writer.
//!
//! First, in the same run, a baseline: what SQLite alone does on this machine with the same
//! durability (WAL, synchronous=FULL) and the best batching — the same number of producers
//! handing rows of the same shape (columns, key, indexes) to one writer that commits multi-row
//! INSERTs — with no HTTP, no validation and no aggregates. The server's rate is read against it.
//!
//! `BENCH_PRELOAD=N` first stores N responses through the bulk path of `hailong demo
//! --responses N` (spread over two years), so that the rate can be compared as the table grows.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use serde_json::json;

/// Rows per multi-row INSERT of the baseline, and responses per commit at most.
const BASELINE_ROWS: usize = 32;
const BASELINE_BATCH: usize = 256;

/// SQLite alone: `clients` producers, one writer committing what has come in (at most
/// [`BASELINE_BATCH`]) as multi-row INSERTs, each producer waiting for its commit.
async fn baseline(clients: usize, seconds: u64) -> (f64, f64) {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    use sqlx::{Connection, QueryBuilder};
    use tokio::sync::{mpsc, oneshot};

    let dir = tempfile::tempdir().unwrap();
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("raw.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut connection = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
    // The shape of migrations/sqlite/20261130000013_packed_responses.sql, without the foreign keys.
    sqlx::query(
        "CREATE TABLE responses (
             agency_code TEXT NOT NULL, hour INTEGER NOT NULL, id BLOB NOT NULL CHECK (length(id) = 16),
             questionnaire_version TEXT NOT NULL, service_point_code TEXT NOT NULL, kiosk_id INTEGER,
             channel INTEGER NOT NULL CHECK (channel IN (0, 1)),
             answers TEXT NOT NULL CHECK (answers NOT GLOB '*[^1-5.-]*'),
             expectations TEXT NOT NULL CHECK (expectations NOT GLOB '*[^1-4.]*'),
             profile TEXT NOT NULL CHECK (profile NOT GLOB '*[^1-9a-z.]*'),
             body_hash INTEGER, comment TEXT, comment_status TEXT,
             PRIMARY KEY (agency_code, hour, id)) WITHOUT ROWID;
         CREATE UNIQUE INDEX responses_id ON responses (id);
         CREATE INDEX responses_comments ON responses (comment_status, agency_code) WHERE comment IS NOT NULL",
    )
    .execute(&mut connection)
    .await
    .unwrap();
    let hour = chrono::Utc::now().timestamp() / 3600;
    let (send, mut receive) = mpsc::channel::<(uuid::Uuid, oneshot::Sender<()>)>(4096);
    let writer = tokio::spawn(async move {
        let mut written = 0u64;
        while let Some(first) = receive.recv().await {
            let mut batch = vec![first];
            while batch.len() < BASELINE_BATCH {
                match receive.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let mut tx = connection.begin().await.unwrap();
            for chunk in batch.chunks(BASELINE_ROWS) {
                let mut insert = QueryBuilder::new(
                    "INSERT INTO responses (agency_code, hour, id, questionnaire_version, service_point_code, kiosk_id,
                                            channel, answers, expectations, profile, body_hash, comment, comment_status) ",
                );
                insert.push_values(chunk, |mut row, (id, _)| {
                    row.push_bind("D1")
                        .push_bind(hour)
                        .push_bind(id.as_bytes().as_slice())
                        .push_bind("sipas-2025.1")
                        .push_bind("P")
                        .push_bind(1)
                        .push_bind(0)
                        .push_bind("1234512345123451")
                        .push_bind("..........")
                        .push_bind("....")
                        .push_bind(id.as_u64_pair().0 as i64)
                        .push_bind(None::<&str>)
                        .push_bind(None::<&str>);
                });
                insert.push(" ON CONFLICT DO NOTHING");
                insert.build().execute(&mut *tx).await.unwrap();
            }
            tx.commit().await.unwrap();
            written += batch.len() as u64;
            for (_, done) in batch {
                let _ = done.send(());
            }
        }
        written
    });
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let producers: Vec<_> = (0..clients)
        .map(|_| {
            let send = send.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let (done, committed) = oneshot::channel();
                    send.send((uuid::Uuid::new_v4(), done)).await.unwrap();
                    committed.await.unwrap();
                    latencies.push(started.elapsed());
                }
                latencies
            })
        })
        .collect();
    drop(send);
    let mut latencies = Vec::new();
    for producer in producers {
        latencies.extend(producer.await.unwrap());
    }
    let written = writer.await.unwrap();
    latencies.sort();
    let p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];
    (written as f64 / seconds as f64, p99.as_secs_f64() * 1000.0)
}

/// Stores `count` responses through the bulk path of `hailong demo --responses` at the
/// benchmark's service point; prints how long that took and what it weighs.
async fn preload(app: &common::TestApp, count: u64) {
    let started = Instant::now();
    let stored = server::demo::load_bulk_at(&app.state, count, &["P"]).await.expect("bulk load");
    let seconds = started.elapsed().as_secs_f64();
    let bytes = common::database_bytes(app).await;
    println!(
        "preload: {stored} responses in {seconds:.1} s ({:.0}/s), database {:.0} MB, {:.0} bytes per response",
        stored as f64 / seconds,
        bytes as f64 / 1e6,
        bytes as f64 / stored.max(1) as f64
    );
}

/// One more server on the database of `app`, as `hailong serve` on another machine would be:
/// its base URL.
async fn another_server(app: &common::TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let settings = app::service::Settings {
        link_secret: common::LINK_SECRET.into(),
        public_url: format!("http://{}", listener.local_addr().unwrap()),
        kiosk_limits: app::domain::anomaly::KioskLimits { max_per_minute: 0, ..Default::default() },
        ..Default::default()
    };
    let state = app::service::AppState::start(&app.database_url, settings).await.expect("the server starts");
    common::serve(state, listener)
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let clients: usize = std::env::var("BENCH_CLIENTS").ok().and_then(|s| s.parse().ok()).unwrap_or(64);
    let (raw_rate, raw_p99) = baseline(clients, seconds).await;
    println!(
        "baseline (SQLite alone, synchronous=FULL, one writer, multi-row INSERTs): {raw_rate:.0} responses/s, p99 {raw_p99:.1} ms"
    );
    let app = common::spawn_app().await;
    let servers: usize = std::env::var("BENCH_SERVERS").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut bases = vec![app.base.clone()];
    for _ in 1..servers {
        bases.push(another_server(&app).await);
    }
    let engine = if common::on_postgres() { "PostgreSQL" } else { "SQLite" };
    let preloaded: u64 = std::env::var("BENCH_PRELOAD").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    if preloaded > 0 {
        preload(&app, preloaded).await;
    }
    let preloaded = app.stored().await;
    let bytes_before = common::database_bytes(&app).await;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for client in 0..clients {
        let (base, token, http) = (bases[client % servers].clone(), app.kiosk_token.clone(), app.client.clone());
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
    let total = app.stored().await;
    let stored = total - preloaded;
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "submit ({engine}, {servers} server(s)): {clients} clients, {seconds} s over {preloaded} stored: {stored} responses stored, {:.0} responses/s, p50 {:.1} ms, p99 {:.1} ms",
        stored as f64 / seconds as f64,
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0
    );
    let bytes = common::database_bytes(&app).await;
    println!(
        "submit: {:.0} % of the baseline; {:.0} bytes of database per response ({:.0} per response stored in the run)",
        100.0 * stored as f64 / seconds as f64 / raw_rate,
        bytes as f64 / total.max(1) as f64,
        bytes.saturating_sub(bytes_before) as f64 / stored.max(1) as f64
    );
}
