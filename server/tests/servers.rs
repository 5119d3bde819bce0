//! Three servers on one PostgreSQL database, each with its own writer, delivery worker, link
//! mixer and caches, as a province runs them behind a load balancer: every answer is stored
//! once and counted once, every invitation is answered once, every message is sent once.
//!
//! Only on PostgreSQL (`make unit-test` runs this file under `scripts/with-postgres.sh`): a
//! SQLite file has one server, which `hailong serve` enforces with a lock (tests/backup.rs).

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use app::domain::anomaly::KioskLimits;
use app::domain::delivery::{Backoff, Medium};
use app::service::{AppState, Settings};
use app::storage::Outcome;
use common::gateway::{gateway_settings, sms_gateway};
use common::{spawn_app_with, TestApp, ADMIN_TOKEN, LINK_SECRET};
use serde_json::{json, Value};

/// What every server is started with: an SMS gateway, no kiosk rate limit, and each link
/// answer stored as soon as it is held (no mixing wait).
fn settings(gateway: &str) -> Settings {
    Settings {
        kiosk_limits: KioskLimits { max_per_minute: 0, ..KioskLimits::default() },
        link_mix: 1,
        ..gateway_settings(gateway, Backoff::default())
    }
}

/// A second (third) server on the database of `first`.
async fn another_server(first: &TestApp, gateway: &str) -> (String, AppState) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let settings = Settings {
        admin_token: Some(ADMIN_TOKEN.into()),
        link_secret: LINK_SECRET.into(),
        public_url: format!("http://{}", listener.local_addr().unwrap()),
        ..settings(gateway)
    };
    let state = AppState::start(&first.database_url, settings).await.expect("the server starts");
    (common::serve(state.clone(), listener), state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_servers_store_each_answer_once_and_send_each_message_once() {
    if !common::on_postgres() {
        eprintln!("three servers need PostgreSQL: run under scripts/with-postgres.sh (make unit-test does)");
        return;
    }
    let (gateway, sent) = sms_gateway(vec![]).await;
    let first = spawn_app_with(settings(&gateway)).await;
    let (second_base, second) = another_server(&first, &gateway).await;
    let (third_base, third) = another_server(&first, &gateway).await;
    let bases = [first.base.clone(), second_base, third_base];
    let states = [first.state.clone(), second, third];

    // Kiosk answers: each sent to two servers at once, as a kiosk retrying through the load
    // balancer would. Per id exactly one 201; the other says 200.
    let ids: Vec<String> = (0..150).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let sends = ids.iter().enumerate().flat_map(|(n, id)| {
        let agency = ["D1", "G", "D2"][n % 3];
        let body = json!({"id": id, "agency": agency, "answers": {"A1": 1 + n % 5, "B2": 4}});
        [n % 3, (n + 1) % 3].map(|server| {
            let (client, base, token, body) =
                (first.client.clone(), bases[server].clone(), first.kiosk_token.clone(), body.clone());
            let id = id.clone();
            tokio::spawn(async move {
                let status = client
                    .post(format!("{base}/api/v1/responses"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                (id, status)
            })
        })
    });
    let mut created: HashMap<String, usize> = HashMap::new();
    for send in sends.collect::<Vec<_>>() {
        let (id, status) = send.await.unwrap();
        assert!(status == 201 || status == 200, "{id}: {status}");
        *created.entry(id).or_default() += usize::from(status == 201);
    }
    assert!(created.values().all(|&n| n == 1), "an id was created twice or never: {created:?}");

    // Invitations made on all three servers, each with a phone number: every server's worker
    // looks for due messages, and each message goes out once.
    let mut links = Vec::new();
    for n in 0..30 {
        let state = &states[n % 3];
        let invited = common::invite(state, &format!("HS-3MAY-{n}"), "KS", "D1").await.unwrap();
        let contacts = [(Medium::Sms, format!("09123456{n:02}"))];
        state.send_invitation(&invited, &contacts, &app::domain::audit::Actor::cli()).await.unwrap();
        links.push(invited);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while sent.lock().unwrap().len() < links.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Time for a message sent twice to arrive as well.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let phones: Vec<String> = sent
        .lock()
        .unwrap()
        .iter()
        .map(|request| serde_json::from_str::<Value>(&request.body).unwrap()["to"].as_str().unwrap().to_owned())
        .collect();
    let distinct: HashSet<&String> = phones.iter().collect();
    assert_eq!((phones.len(), distinct.len()), (links.len(), links.len()), "each number once: {phones:?}");

    // Each invitation answered on all three servers at once, with three different answers:
    // one is taken, the others find the invitation closed.
    let mut taken = 0;
    for link in &links {
        let tries = states.iter().map(|state| {
            let (state, invitation) = (state.clone(), link.invitation.clone());
            tokio::spawn(async move {
                let answer = json!({"id": uuid::Uuid::new_v4().to_string(), "answers": {"C1": 5}});
                state.submit_from_link(&invitation, &common::submission(answer.clone()), None).await.unwrap().1
            })
        });
        let mut outcomes = Vec::new();
        for answered in tries.collect::<Vec<_>>() {
            outcomes.push(answered.await.unwrap());
        }
        assert_eq!(outcomes.iter().filter(|o| **o == Outcome::New).count(), 1, "{outcomes:?}");
        assert_eq!(outcomes.iter().filter(|o| **o == Outcome::InvitationClosed).count(), 2, "{outcomes:?}");
        taken += 1;
    }
    // The mixers of all three servers store what is held, each answer once.
    for state in &states {
        state.release_held_answers(None).await.unwrap();
    }
    assert_eq!(first.stored().await, (ids.len() + taken) as u64);

    // The aggregates, merged by three writers, count every stored answer once (read as stored:
    // a rebuild would hide a double count).
    let db = common::sql(&first.database_url).await;
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM held_link_answers").fetch_one(&db).await.unwrap();
    assert_eq!(held, 0, "every held answer is stored");
    let counted: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(CAST(counts::json->>0 AS BIGINT)) AS BIGINT) FROM report_counts WHERE grain = 'day' AND facet = ''",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(counted as usize, ids.len() + taken);
}
