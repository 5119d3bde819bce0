//! Durability, proven: `hailong serve` takes responses from concurrent kiosks and is killed with
//! SIGKILL (a power cut) in the middle, over and over. After every restart, each response that
//! got 201 or 200 is stored, exactly once, with the aggregates agreeing, and SQLite's integrity
//! check passes; the responses whose answer was lost in the cut are sent again and are stored
//! once (201, or 200 when the cut came after their commit), never refused.
//!
//! `make test` runs 20 cuts; `HAILONG_KILL_ROUNDS=200 cargo test --release -p server --test
//! durability` is the long run (`make bench` runs it).

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::process::{free_port, paired_kiosk, start};
use serde_json::{json, Value};

const REGISTRY: &str = "code,name,kind,parent,valid_from,successor,serves
P,Cơ quan P,province,,,,D1;D2
D1,Cơ quan D1,department,P,,,
D2,Cơ quan D2,department,P,,,
";
const CLIENTS: usize = 16;

/// What the clients learnt: bodies by id, acknowledged (201/200) or not known (no answer).
#[derive(Default)]
struct Ledger {
    acknowledged: HashMap<String, Value>,
    unknown: HashMap<String, Value>,
}

fn body(n: usize) -> Value {
    let id = uuid::Uuid::new_v4().to_string();
    let agency = ["D1", "D2"][n % 2];
    json!({"id": id, "agency": agency, "answers": {"A1": 1 + n % 5, "C2": 1 + (n / 5) % 5}, "comment": n.is_multiple_of(7).then_some("Ý kiến")})
}

/// Sends new responses until `stop`, recording each outcome; some are sent twice (a retry).
async fn client(base: String, token: String, ledger: Arc<Mutex<Ledger>>, stop: Arc<tokio::sync::Notify>) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut n = 0;
    loop {
        n += 1;
        let body = body(n);
        let id = body["id"].as_str().unwrap().to_owned();
        for _ in 0..(1 + n % 4 / 3) {
            let send = http.post(format!("{base}/api/v1/responses")).bearer_auth(&token).json(&body).send();
            let status = tokio::select! {
                sent = send => sent.map(|r| r.status().as_u16()).ok(),
                _ = stop.notified() => None,
            };
            let mut ledger = ledger.lock().unwrap();
            match status {
                Some(201 | 200) => {
                    ledger.unknown.remove(&id);
                    ledger.acknowledged.insert(id.clone(), body.clone());
                }
                Some(503) | None => {
                    if !ledger.acknowledged.contains_key(&id) {
                        ledger.unknown.insert(id.clone(), body.clone());
                    }
                    if status.is_none() {
                        return;
                    }
                }
                Some(other) => panic!("unexpected status {other} for {body}"),
            }
        }
    }
}

async fn check_database(database_url: &str, acknowledged: &[String]) -> u64 {
    let db = common::sql(database_url).await;
    if !common::on_postgres() {
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&db).await.unwrap();
        assert_eq!(integrity, "ok");
    }
    let stored: std::collections::HashSet<String> = common::response_ids(&db).await.into_iter().collect();
    let missing: Vec<&String> = acknowledged.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(missing.is_empty(), "{} acknowledged responses are not stored, e.g. {}", missing.len(), missing[0]);
    let counted: i64 = sqlx::query_scalar(if common::on_postgres() {
        "SELECT CAST(COALESCE(SUM(CAST(counts::json->>0 AS BIGINT)), 0) AS BIGINT) FROM report_counts
             WHERE grain = 'day' AND facet = ''"
    } else {
        "SELECT COALESCE(SUM(json_extract(counts, '$[0]')), 0) FROM report_counts WHERE grain = 'day' AND facet = ''"
    })
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(counted as usize, stored.len(), "the aggregates count every stored response once");
    db.close().await;
    stored.len() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_responses_survive_sigkill_exactly_once() {
    let rounds: usize = std::env::var("HAILONG_KILL_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let database_url = common::fresh_database(dir.path(), "durable.db").await;
    let port = free_port();
    let mut server = start(&database_url, port).await;
    let token = paired_kiosk(&database_url, REGISTRY, "P", &server).await;

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut cuts_mid_load = 0;
    for round in 0..rounds {
        let stop = Arc::new(tokio::sync::Notify::new());
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| tokio::spawn(client(server.base.clone(), token.clone(), ledger.clone(), stop.clone())))
            .collect();
        // The cut comes at a different moment of the load each round.
        tokio::time::sleep(Duration::from_millis(150 + (round as u64 * 137) % 500)).await;
        server.kill();
        stop.notify_waiters();
        for client in clients {
            client.await.unwrap();
        }
        // Requests that got no answer: the cut came while they were being handled.
        if !ledger.lock().unwrap().unknown.is_empty() {
            cuts_mid_load += 1;
        }

        let acknowledged = ledger.lock().unwrap().acknowledged.keys().cloned().collect::<Vec<_>>();
        let stored = check_database(&database_url, &acknowledged).await;
        server = start(&database_url, port).await;
        // What was lost in the cut is sent again: stored now (201) or already (200), never refused.
        let unknown: Vec<Value> = ledger.lock().unwrap().unknown.drain().map(|(_, body)| body).collect();
        let http = reqwest::Client::new();
        for body in unknown {
            let sent = http.post(format!("{}/api/v1/responses", server.base)).bearer_auth(&token).json(&body).send();
            let status = sent.await.unwrap().status().as_u16();
            assert!(status == 201 || status == 200, "a resent response got {status}");
            ledger.lock().unwrap().acknowledged.insert(body["id"].as_str().unwrap().to_owned(), body);
        }
        let acknowledged = ledger.lock().unwrap().acknowledged.len() as u64;
        assert!(stored <= acknowledged, "round {round}: {stored} stored, only {acknowledged} sent");
    }
    server.kill();

    let acknowledged = ledger.lock().unwrap().acknowledged.keys().cloned().collect::<Vec<_>>();
    let stored = check_database(&database_url, &acknowledged).await;
    assert_eq!(stored as usize, acknowledged.len(), "every response stored exactly once, nothing else");
    assert!(cuts_mid_load >= rounds / 2, "the cuts came while responses were being stored");
    eprintln!("{rounds} SIGKILLs, {stored} responses acknowledged and stored once");
}
