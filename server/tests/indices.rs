//! Indices by the API, by the CLI and by hand agree; the subtree and the period are respected.

mod common;

use app::service::Settings;
use common::{spawn_app, spawn_app_with, TestApp};
use serde_json::{json, Value};

async fn submit(app: &TestApp, agency: &str, answers: Value) {
    let body = json!({"id": uuid::Uuid::new_v4().to_string(), "agency": agency, "answers": answers});
    assert_eq!(app.post_response(&body).await.status(), 201);
}

fn close(actual: &Value, expected: f64) {
    let actual = actual.as_f64().unwrap_or_else(|| panic!("{actual} is not a number"));
    assert!((actual - expected).abs() < 1e-9, "{actual} is not {expected}");
}

#[tokio::test]
async fn indices_by_api_and_by_cli_equal_the_hand_computed_ones() {
    // k = 2 (a province may set it), and every response given twice (two citizens answering
    // alike): each agency's pair is one disclosure step, and the hand-computed example stays
    // small. Percentages and means are those of one of each.
    // The Ministry's formula on small hand-made samples: every element counts from 1 answer.
    let app = spawn_app_with(Settings { min_cell: 2, element_minimum: 1, ..Settings::default() }).await;
    for _ in 0..2 {
        submit(&app, "D1", json!({"A1": 5, "A2": 4, "A3": 2, "B1": 3})).await;
        submit(&app, "G", json!({"A1": 4, "A2": null, "A3": 1, "B1": 5})).await; // G is under D1
        submit(&app, "D2", json!({"A1": 1, "A2": 1})).await; // a sibling: not D1's
    }
    // Reports cover closed days: today's responses show only as a count.
    let today: Value = app.indices("agency=D1").await.json().await.unwrap();
    assert_eq!(today["responses"], 0);
    assert_eq!(app.state.responses_today("D1").await.unwrap(), 4);
    assert_eq!(app.state.responses_today("P").await.unwrap(), 6);
    app.age_responses(common::FINAL).await;

    let response = app.indices("agency=D1").await;
    assert_eq!(response.status(), 200);
    let api: Value = response.json().await.unwrap();

    // By hand, over D1's subtree (2 responses, each twice):
    // A1: 5, 4 → 2/2 = 100 %, mean 4.5;  A2: 4 (G skipped) → 1/1 = 100 %;  A3: 2, 1 → 0 %.
    // A = (100 + 100 + 0) / 3 = 66.67 %.  B1: 3, 5 → 50 %; B2–B4 unanswered → B = 50 %.
    // C, D, E unanswered: no index, left out. Overall = (66.67 + 50) / 2 = 58.33 %.
    assert_eq!(api["agency"], "D1");
    assert_eq!(api["responses"], 4);
    let a = &api["elements"][0];
    close(&a["index"], 200.0 / 3.0);
    assert_eq!(a["criteria"][0]["counts"], json!([0, 0, 0, 2, 2]));
    close(&a["criteria"][0]["mean"], 4.5);
    assert_eq!(a["criteria"][1]["valid"], 2);
    close(&a["criteria"][2]["index"], 0.0);
    close(&api["elements"][1]["index"], 50.0);
    assert_eq!(api["elements"][1]["criteria"][1]["index"], Value::Null);
    assert_eq!(api["elements"][2]["index"], Value::Null);
    close(&api["overall"], (200.0 / 3.0 + 50.0) / 2.0);
    let ci = api["elements"][0]["criteria"][0]["ci95"].as_array().unwrap();
    assert!(ci[0].as_f64().unwrap() < 100.0 && ci[1] == 100.0, "Wilson for 4/4 is [51.0, 100]: {ci:?}");

    let cli = common::hailong(
        &app.database_url,
        &["--min-cell", "2", "--element-minimum", "1", "index", "--agency", "D1", "--json"],
    );
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    let by_cli: Value = serde_json::from_slice(&cli.stdout).expect("the CLI prints JSON");
    assert_eq!(by_cli, api);

    // The province covers all six responses.
    let province: Value = app.indices("agency=P").await.json().await.unwrap();
    assert_eq!(province["responses"], 6);
    assert_eq!(province["elements"][0]["criteria"][0]["counts"], json!([2, 0, 0, 2, 2]));
}

#[tokio::test]
async fn periods_are_vietnamese_calendar_days_and_bad_queries_are_refused() {
    let app = spawn_app().await;
    // k responses: one disclosure step, published on their day.
    for _ in 0..5 {
        submit(&app, "D2", json!({"D1": 4})).await;
    }
    app.age_responses(common::FINAL).await;
    let today = chrono::Utc::now().with_timezone(&app::domain::period::vietnam()).date_naive();
    // The response is now on the last final day; the days after it are still provisional.
    let last_final = app::domain::period::last_final_day(today).unwrap();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let count = |v: Value| v["responses"].as_u64().unwrap();

    let same_day: Value =
        app.indices(&format!("agency=D2&from={0}&to={0}", day(last_final))).await.json().await.unwrap();
    assert_eq!(count(same_day), 5);
    let before: Value =
        app.indices(&format!("agency=D2&to={}", day(last_final.pred_opt().unwrap()))).await.json().await.unwrap();
    assert_eq!(count(before), 0);
    let later: Value = app.indices(&format!("agency=D2&from={}", day(today))).await.json().await.unwrap();
    assert_eq!(count(later.clone()), 0);
    assert_eq!(later["overall"], Value::Null);

    // An answer a kiosk sends three days late is still to come: those days are not published.
    submit(&app, "D2", json!({"D1": 2})).await;
    app.age_responses(3).await;
    let provisional =
        app.indices(&format!("agency=D2&from={}", day(last_final.succ_opt().unwrap()))).await.json().await.unwrap();
    assert_eq!(count(provisional), 0, "the last week is provisional");

    assert_eq!(app.indices("agency=D2&from=21/11/2026").await.status(), 422);
    assert_eq!(app.indices("agency=D2&from=2026-02-02&to=2026-02-01").await.status(), 422);
    assert_eq!(app.indices("agency=D2&from=-262143-01-01").await.status(), 422, "a year the clock cannot hold");
    assert_eq!(app.indices("agency=D2&to=%2B10000-01-01").await.status(), 422, "a five-digit year");
    assert_eq!(app.indices("from=2026-02-02").await.status(), 422);
    assert_eq!(app.indices("agency=NOPE").await.status(), 404);
    let anonymous = app.client.get(format!("{}/api/v1/indices?agency=D2", app.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let kiosk = app
        .client
        .get(format!("{}/api/v1/indices?agency=D2", app.base))
        .bearer_auth(&app.kiosk_token)
        .send()
        .await
        .unwrap();
    assert_eq!(kiosk.status(), 401, "a kiosk token is not an admin token");
}
