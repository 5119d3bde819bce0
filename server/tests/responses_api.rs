//! The responses API over real HTTP and a real SQLite file: status codes, bad input, retries,
//! concurrency.

mod common;

use common::spawn_app;
use serde_json::{json, Value};

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn a_response_is_created_once_and_a_retry_gets_200_with_the_same_body() {
    let app = spawn_app().await;
    let body = json!({"id": new_id(), "agency": "D1", "answers": {"A1": 5, "A2": null}, "comment": "Rất tốt"});
    let first = app.post_response(&body).await;
    assert_eq!(first.status(), 201);
    let first_body: Value = first.json().await.unwrap();
    let again = app.post_response(&body).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), first_body);
    assert_eq!(app.stored().await, 1);
    assert_eq!(app.state.count_answers().await.unwrap(), 16, "every criterion has a row, skipped ones NULL");
}

#[tokio::test]
async fn a_bad_or_missing_kiosk_token_is_401_and_stores_nothing() {
    let app = spawn_app().await;
    let body = json!({"id": new_id(), "agency": "D1", "answers": {"A1": 5}}).to_string();
    let url = format!("{}/api/v1/responses", app.base);
    let none = app.client.post(&url).body(body.clone()).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = app.client.post(&url).bearer_auth("not-a-kiosk").body(body).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let message: Value = wrong.json().await.unwrap();
    assert_eq!(message["errors"]["authorization"], "Mã thiết bị không hợp lệ hoặc đã bị thu hồi.");
    assert_eq!(app.stored().await, 0);
}

#[tokio::test]
async fn every_bad_input_is_a_4xx_with_a_vietnamese_message_and_stores_nothing() {
    let app = spawn_app().await;
    let id = new_id();
    let cases: Vec<(&str, String, &str)> = vec![
        ("malformed JSON", "{\"id\": ".into(), "body"),
        ("not an object", "[1, 2]".into(), "body"),
        ("level 0", json!({"id": id, "agency": "D1", "answers": {"A1": 0}}).to_string(), "answers.A1"),
        ("level 6", json!({"id": id, "agency": "D1", "answers": {"A1": 6}}).to_string(), "answers.A1"),
        ("level as text", json!({"id": id, "agency": "D1", "answers": {"A1": "5"}}).to_string(), "answers.A1"),
        ("fractional level", json!({"id": id, "agency": "D1", "answers": {"A1": 4.5}}).to_string(), "answers.A1"),
        ("answers not an object", json!({"id": id, "agency": "D1", "answers": 5}).to_string(), "answers"),
        ("unknown criterion", json!({"id": id, "agency": "D1", "answers": {"Z9": 5}}).to_string(), "answers.Z9"),
        (
            "10 kB comment",
            json!({"id": id, "agency": "D1", "answers": {"A1": 5}, "comment": "x".repeat(10_240)}).to_string(),
            "comment",
        ),
        ("invalid UUID", json!({"id": "1234", "agency": "D1", "answers": {"A1": 5}}).to_string(), "id"),
        (
            "UUID made from the clock (version 7)",
            json!({"id": "017f22e2-79b0-7cc3-98c4-dc0c0c07398f", "agency": "D1", "answers": {"A1": 5}}).to_string(),
            "id",
        ),
        (
            "3 MB body",
            json!({"id": id, "agency": "D1", "answers": {"A1": 5}, "comment": "x".repeat(3 << 20)}).to_string(),
            "body",
        ),
        ("missing id", json!({"agency": "D1", "answers": {"A1": 5}}).to_string(), "id"),
        ("agency not served here", json!({"id": id, "agency": "XYZ", "answers": {"A1": 5}}).to_string(), "agency"),
        ("agency needed at a multi-agency point", json!({"id": id, "answers": {"A1": 5}}).to_string(), "agency"),
        (
            "profile value off the list",
            json!({"id": id, "agency": "D1", "answers": {"A1": 5}, "profile": {"age_band": "17"}}).to_string(),
            "profile.age_band",
        ),
        (
            "expectation out of range",
            json!({"id": id, "agency": "D1", "answers": {"A1": 5}, "expectations": {"X1": 5}}).to_string(),
            "expectations.X1",
        ),
        ("nothing answered", json!({"id": id, "agency": "D1", "answers": {"A1": null}}).to_string(), "answers"),
        ("a text body", "\"phiếu\"".into(), "body"),
        ("id as a number", json!({"id": 7, "agency": "D1", "answers": {"A1": 5}}).to_string(), "id"),
        (
            "day as a number",
            json!({"id": id, "agency": "D1", "answers": {"A1": 5}, "day": 20261207}).to_string(),
            "day",
        ),
    ];
    for (name, body, field) in cases {
        let response = app.post_raw(body).await;
        let status = response.status();
        assert!(status.is_client_error(), "{name}: got {status}");
        let errors: Value = response.json().await.unwrap_or_else(|_| panic!("{name}: body is not JSON"));
        let message =
            errors["errors"][field].as_str().unwrap_or_else(|| panic!("{name}: no message for {field}: {errors}"));
        assert!(
            message.chars().any(|c| "ảạấầẩậắằẳặẽẹếềểệỉịỏọốồổộớờởợủụứừửựỷỳđ".contains(c)),
            "{name}: «{message}» is not Vietnamese"
        );
    }
    // Several fields of the wrong type: each is named, none hides another.
    let body =
        json!({"id": id, "agency": 5, "answers": {"A1": "năm", "A2": 4}, "profile": [], "comment": 12, "kiosk": 1});
    let errors: Value = app.post_raw(body.to_string()).await.json().await.unwrap();
    let named: Vec<&str> = errors["errors"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(named, ["agency", "answers.A1", "comment", "kiosk", "profile"], "{errors}");
    assert_eq!(app.stored().await, 0);
    assert_eq!(app.state.count_answers().await.unwrap(), 0);
}

/// A body over 2 MB is refused in Vietnamese on every way in, the kiosk's server function and
/// the no-JS form post included (they would otherwise fail to read it), and so is one sent in
/// chunks, which no Content-Length announces.
#[tokio::test]
async fn a_body_over_two_megabytes_is_413_in_vietnamese_on_every_way_in() {
    let app = spawn_app().await;
    let cookie = format!("hailong_kiosk={}", app.kiosk_token);
    let big = format!("nav=submit&comment={}", "x".repeat(3 << 20));
    for path in ["/api/kiosk/submit", "/kiosk"] {
        let response = app.post_form(path, Some(&cookie), &big).await;
        assert_eq!(response.status(), 413, "{path}");
        let text = response.text().await.unwrap();
        assert!(text.contains("Nội dung gửi lên quá lớn (tối đa 2 MB)."), "{path}: {text}");
    }
    let body =
        json!({"id": new_id(), "agency": "D1", "answers": {"A1": 5}, "comment": "x".repeat(3 << 20)}).to_string();
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
        body.into_bytes().chunks(64 << 10).map(|c| Ok(c.to_vec())).collect();
    let chunked = app
        .client
        .post(format!("{}/api/v1/responses", app.base))
        .bearer_auth(&app.kiosk_token)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(pieces)))
        .send()
        .await
        .unwrap();
    assert_eq!(chunked.status(), 413);
    let errors: Value = chunked.json().await.unwrap();
    assert_eq!(errors["errors"]["body"], "Nội dung gửi lên quá lớn (tối đa 2 MB).");
    assert_eq!(app.stored().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_clients_sending_500_each_with_a_fifth_resent_store_exactly_4000() {
    let app = spawn_app().await;
    let mut clients = Vec::new();
    for client in 0..8 {
        let (base, token, http) = (app.base.clone(), app.kiosk_token.clone(), app.client.clone());
        clients.push(tokio::spawn(async move {
            let ids: Vec<String> = (0..500).map(|_| new_id()).collect();
            // every fifth response is sent twice: the 20 % a flaky network re-sends
            let sends = ids.iter().enumerate().flat_map(|(n, id)| if n % 5 == 0 { vec![id, id] } else { vec![id] });
            let (mut created, mut repeated) = (0, 0);
            for id in sends {
                let agency = ["D1", "G", "D2"][client % 3];
                let body = json!({"id": id, "agency": agency, "answers": {"A1": 1 + client % 5, "C2": 4}});
                let status = http
                    .post(format!("{base}/api/v1/responses"))
                    .bearer_auth(&token)
                    .body(body.to_string())
                    .send()
                    .await
                    .unwrap()
                    .status();
                match status.as_u16() {
                    201 => created += 1,
                    200 => repeated += 1,
                    other => panic!("unexpected status {other}"),
                }
            }
            (created, repeated)
        }));
    }
    let mut totals = (0, 0);
    for client in clients {
        let (created, repeated) = client.await.unwrap();
        totals = (totals.0 + created, totals.1 + repeated);
    }
    assert_eq!(totals, (4000, 800));
    assert_eq!(app.stored().await, 4000);
    assert_eq!(app.state.count_answers().await.unwrap(), 4000 * 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_new_id_sent_concurrently_is_stored_once() {
    let app = spawn_app().await;
    let body = json!({"id": new_id(), "agency": "D2", "answers": {"E3": 2}});
    let sends = (0..10).map(|_| app.post_response(&body));
    let statuses: Vec<u16> = futures::future::join_all(sends).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 9, "{statuses:?}");
    assert_eq!(app.stored().await, 1);
}

#[tokio::test]
async fn the_questionnaire_is_served_as_data() {
    let app = spawn_app().await;
    let q: Value =
        app.client.get(format!("{}/api/v1/questionnaire", app.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(q["version"], "sipas-2025.1");
    assert_eq!(q["elements"].as_array().unwrap().len(), 5);
    let criteria: usize =
        q["elements"].as_array().unwrap().iter().map(|e| e["criteria"].as_array().unwrap().len()).sum();
    assert_eq!(criteria, 16);
    assert_eq!(q["elements"][2]["title"], "Công chức trực tiếp giải quyết công việc");
    assert_eq!(q["scale"][4]["label"], "Rất hài lòng");
}
