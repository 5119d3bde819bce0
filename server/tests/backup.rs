//! `hailong backup` while the server takes responses, and `hailong restore` of that copy: the
//! copy is consistent (integrity, aggregates agreeing with its responses), holds everything
//! acknowledged before it started and nothing sent after it ended; a restore is refused while
//! the server runs and for a file that is not a backup, changing nothing; after it, the
//! database is the copy and the server takes up from there.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::hailong;
use common::process::{free_port, paired_kiosk, start};
use serde_json::{json, Value};

const REGISTRY: &str = "code,name,kind,parent,valid_from,successor,serves
P,Cơ quan P,province,,,,D1
D1,Cơ quan D1,department,P,,,
";

fn response(n: usize) -> Value {
    json!({"id": uuid::Uuid::new_v4().to_string(), "agency": "D1", "answers": {"A1": 1 + n % 5, "B2": 1 + n % 3}})
}

async fn send(http: &reqwest::Client, base: &str, token: &str, body: &Value) -> u16 {
    http.post(format!("{base}/api/v1/responses")).bearer_auth(token).json(body).send().await.unwrap().status().as_u16()
}

/// The response ids in the database at `url`, after checking it is whole and its aggregates
/// count each of them once.
async fn stored_ids(url: &str) -> HashSet<String> {
    let db = common::sql(url).await;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&db).await.unwrap();
    assert_eq!(integrity, "ok");
    let ids = common::response_ids(&db).await;
    let counted: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(json_extract(counts, '$[0]')), 0) FROM report_counts WHERE grain = 'day' AND facet = ''",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    db.close().await;
    assert_eq!(counted as usize, ids.len(), "the aggregates agree with the responses");
    ids.into_iter().collect()
}

fn text(output: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_while_serving_restores_to_a_working_server() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/live.db", dir.path().display());
    let copy = dir.path().join("copy.db");
    let port = free_port();
    let mut server = start(&url, port).await;
    let token = paired_kiosk(&url, REGISTRY, "P", &server).await;

    // Four kiosks keep sending through the backup.
    let acknowledged = Arc::new(Mutex::new(Vec::<(String, Value)>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load: Vec<_> = (0..4)
        .map(|k| {
            let (base, token, acknowledged, stop) =
                (server.base.clone(), token.clone(), acknowledged.clone(), stop.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut n = k;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 4;
                    let body = response(n);
                    assert_eq!(send(&http, &base, &token, &body).await, 201);
                    acknowledged.lock().unwrap().push((body["id"].as_str().unwrap().to_owned(), body));
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let before: HashSet<String> = acknowledged.lock().unwrap().iter().map(|(id, _)| id.clone()).collect();
    let copy_path = copy.to_str().unwrap().to_owned();
    let (url2, path2) = (url.clone(), copy_path.clone());
    let backup = tokio::task::spawn_blocking(move || hailong(&url2, &["backup", &path2])).await.unwrap();
    assert!(backup.status.success(), "{}", text(&backup));
    assert!(text(&backup).contains("Đã sao lưu"), "{}", text(&backup));
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }

    // Sent after the backup ended: not in it.
    let http = reqwest::Client::new();
    let after: Vec<Value> = (0..10).map(response).collect();
    for body in &after {
        assert_eq!(send(&http, &server.base, &token, body).await, 201);
    }

    let in_copy = stored_ids(&format!("sqlite://{copy_path}")).await;
    assert!(before.len() > 20, "the load ran before the backup ({} responses)", before.len());
    assert!(before.is_subset(&in_copy), "everything acknowledged before the backup is in it");
    assert!(after.iter().all(|b| !in_copy.contains(b["id"].as_str().unwrap())), "nothing sent after it");
    let live = stored_ids(&url).await;
    assert!(in_copy.is_subset(&live) && in_copy.len() < live.len());

    // Refusals change nothing.
    let again = hailong(&url, &["backup", &copy_path]);
    assert!(!again.status.success() && text(&again).contains("đã có"), "{}", text(&again));
    assert_eq!(stored_ids(&format!("sqlite://{copy_path}")).await, in_copy);
    let busy = hailong(&url, &["restore", &copy_path]);
    assert!(!busy.status.success() && text(&busy).contains("đang dùng"), "{}", text(&busy));
    server.kill();
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "không phải cơ sở dữ liệu ".repeat(300)).unwrap();
    let refused = hailong(&url, &["restore", junk.to_str().unwrap()]);
    assert!(!refused.status.success() && text(&refused).contains("không phải bản sao lưu"), "{}", text(&refused));
    let missing = hailong(&url, &["restore", dir.path().join("nothing.db").to_str().unwrap()]);
    assert!(!missing.status.success(), "{}", text(&missing));
    assert_eq!(stored_ids(&url).await, live, "a refused restore leaves the database as it was");

    let restored = hailong(&url, &["restore", &copy_path]);
    assert!(restored.status.success(), "{}", text(&restored));
    assert_eq!(stored_ids(&url).await, in_copy, "the database is the backup");
    let kept = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("live.db.before-restore-"))
        .expect("the replaced database is kept");
    let kept_url = format!("sqlite://{}", kept.path().display());
    assert_eq!(stored_ids(&kept_url).await, live, "the replaced database is whole, with its log");

    // The server takes up from the backup: the kiosk is still paired, what came after is new
    // again, what was in it is a repeat.
    let server = start(&url, port).await;
    let one_before = acknowledged.lock().unwrap().iter().find(|(id, _)| before.contains(id)).unwrap().1.clone();
    assert_eq!(send(&http, &server.base, &token, &one_before).await, 200);
    for body in &after {
        assert_eq!(send(&http, &server.base, &token, body).await, 201);
    }
    assert_eq!(stored_ids(&url).await.len(), in_copy.len() + after.len());
    let mut server = server;
    server.kill();
}
