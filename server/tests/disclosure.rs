//! No published figure describes fewer than k citizens (issue 19, part 2, direct reads): fewer
//! than k responses of a unit wait for their disclosure step, and nothing of them shows in the
//! JSON API, the CLI, the dashboard (its hydration payload included), the exports or the printed
//! report — no count per level, index, mean or interval. (Differencing: `differencing.rs`.) A
//! bad k stops the server with a Vietnamese sentence.

mod common;

use app::domain::account::Role;
use common::{spawn_app, TestApp};
use serde_json::{json, Value};

async fn submit(app: &TestApp, agency: &str, answers: Value) {
    let body = json!({"id": uuid::Uuid::new_v4().to_string(), "agency": agency, "answers": answers});
    assert_eq!(app.post_response(&body).await.status(), 201);
}

/// Four answers no one else gave: if any page shows these counts, it shows these people.
const LONE: [(&str, u8); 4] = [("A1", 1), ("B2", 2), ("C3", 1), ("E1", 2)];

#[tokio::test]
async fn four_responses_publish_no_figure_anywhere_until_a_fifth_makes_a_step() {
    let app = spawn_app().await;
    for _ in 0..4 {
        let answers: serde_json::Map<String, Value> = LONE.iter().map(|(c, v)| (c.to_string(), json!(v))).collect();
        submit(&app, "G", Value::Object(answers)).await;
    }
    for _ in 0..5 {
        submit(&app, "D2", json!({"A1": 5, "B2": 4})).await;
    }
    app.age_responses(common::FINAL).await;

    // G's four wait for a disclosure step of five: not counted anywhere yet, in G nor in D1.
    let g: Value = app.indices("agency=G").await.json().await.unwrap();
    assert_eq!((&g["responses"], &g["overall"]), (&json!(0), &Value::Null), "{g}");
    let counts: Vec<&Value> = g["elements"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["criteria"].as_array().unwrap())
        .map(|c| &c["counts"])
        .collect();
    assert!(counts.iter().all(|c| **c == json!([0, 0, 0, 0, 0])), "{g}");
    let d1: Value = app.indices("agency=D1").await.json().await.unwrap();
    assert_eq!(d1["responses"], 0);
    // Five responses are published, with their counts.
    let d2: Value = app.indices("agency=D2").await.json().await.unwrap();
    assert_eq!(d2["elements"][0]["criteria"][0]["counts"], json!([0, 0, 0, 0, 5]));
    assert!(d2.get("withheld").is_none());
    // The kiosk channel of G alone: nothing either.
    let kiosk: Value = app.indices("agency=G&channel=kiosk").await.json().await.unwrap();
    assert_eq!((&kiosk["responses"], &kiosk["overall"]), (&json!(0), &Value::Null));

    let cli = common::hailong(&app.database_url, &["index", "--agency", "G", "--json"]);
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    let by_cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(by_cli, g);

    // The dashboard of a manager of G's parent, and its payload: no count per level of G.
    let manager = app.session("lanhdao", Role::Manager, Some("D1")).await;
    let (status, page) = app.page(Some(&manager), "/admin?agency=G").await;
    assert_eq!(status, 200);
    assert!(page.contains("mỗi kênh đủ 5 phiếu mới thành một đợt"), "the page says how figures are released: {page}");
    for leak in ["[4,0,0,0,0]", "[0,4,0,0,0]"] {
        assert!(!page.contains(leak), "per-level counts of G's four respondents: {page}");
    }

    // The criteria export of G counts nothing; the expectations export neither.
    for file in ["criteria.csv", "expectations.csv"] {
        let response = app
            .client
            .get(format!("{}/api/v1/exports/{file}?agency=G", app.base))
            .bearer_auth(common::ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{file}");
        let body = response.text().await.unwrap();
        // every row of G's criteria is empty: no valid answer, no count per level
        for line in body.lines().skip(1) {
            let counts: Vec<&str> = line.rsplit(',').take(6).collect();
            assert!(counts.iter().all(|c| c.trim().is_empty() || *c == "0"), "{file}: {line}");
        }
    }
    let (_, printed) = app.page(Some(&manager), "/admin/report?agency=G").await;
    assert!(printed.contains("mỗi kênh đủ 5 phiếu mới thành một đợt"), "{printed}");
    for leak in ["[4,0,0,0,0]", "[0,4,0,0,0]"] {
        assert!(!printed.contains(leak), "G's four respondents in the print: {printed}");
    }

    // A fifth answer a week later closes G's step: all five publish, on the fifth's day.
    let answers: serde_json::Map<String, Value> = LONE.iter().map(|(c, v)| (c.to_string(), json!(v))).collect();
    submit(&app, "G", Value::Object(answers)).await;
    app.age_responses(common::FINAL).await;
    let g: Value = app.indices("agency=G").await.json().await.unwrap();
    assert_eq!((&g["responses"], &g["elements"][0]["criteria"][0]["counts"]), (&json!(5), &json!([5, 0, 0, 0, 0])));
    let last_final = app::domain::period::last_final_day(app::domain::period::vietnam_day(chrono::Utc::now())).unwrap();
    let on_fifth: Value =
        app.indices(&format!("agency=G&from={last_final}&to={last_final}")).await.json().await.unwrap();
    assert_eq!(on_fifth["responses"], 5);
}

#[test]
fn a_province_cannot_set_k_below_2_or_above_100() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("k.db").display());
    for k in ["0", "1", "1000", "năm"] {
        let out = common::hailong(&url, &["--min-cell", k, "migrate"]);
        assert!(!out.status.success(), "k = {k}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("HAILONG_MIN_CELL") || err.contains("min-cell"), "k = {k}: {err}");
    }
    let out = common::hailong(&url, &["--min-cell", "1000", "migrate"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("phải từ 2 đến 100 phiếu"));
    assert!(common::hailong(&url, &["--min-cell", "10", "migrate"]).status.success());
    // The floor of responses that ranks a unit without N: 1 to 10000.
    for floor in ["0", "10001"] {
        let out = common::hailong(&url, &["--ranking-floor", floor, "migrate"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("HAILONG_RANKING_FLOOR phải từ 1 đến 10000 phiếu"), "{err}");
    }
    assert!(common::hailong(&url, &["--ranking-floor", "1", "migrate"]).status.success());
    // The valid answers an element needs to count in the overall: 1 to 10000.
    for minimum in ["0", "10001"] {
        let out = common::hailong(&url, &["--element-minimum", minimum, "migrate"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("HAILONG_ELEMENT_MINIMUM phải từ 1 đến 10000 phiếu"), "{err}");
    }
    assert!(common::hailong(&url, &["--element-minimum", "1", "migrate"]).status.success());
    // Channel shares in weighted figures: both channels, each above 0, adding up to 1.
    for (shares, why) in [
        ("kiosk:0.7,link:0.2", "hai tỷ lệ phải cộng lại bằng 1 (đang là 0.9)"),
        ("kiosk:1", "cần tỷ lệ của cả kiosk và link"),
    ] {
        let out = common::hailong(&url, &["--channel-weights", shares, "migrate"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("HAILONG_CHANNEL_WEIGHTS") && err.contains(why), "{err}");
    }
    assert!(common::hailong(&url, &["--channel-weights", "kiosk:0.7,link:0.3", "migrate"]).status.success());
}
