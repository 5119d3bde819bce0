//! What a client may send again, and when: a retry is 200, an id reused with other answers is
//! 409, a storage failure is 503 with `Retry-After` on every way in (API, server function, form
//! post without JavaScript), and a day answered offline counts on that day.

mod common;

use common::{spawn_app, TestApp};
use serde_json::{json, Value};

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A connection of its own to the app's database file, as another process would have.
async fn database(app: &TestApp) -> sqlx::AnyPool {
    common::sql(&app.database_url).await
}

#[tokio::test]
async fn an_id_reused_with_other_answers_is_409_and_changes_nothing() {
    let app = spawn_app().await;
    let id = new_id();
    let first = json!({"id": id, "agency": "D1", "answers": {"A1": 5}});
    assert_eq!(app.post_response(&first).await.status(), 201);

    for other in [
        json!({"id": id, "agency": "D1", "answers": {"A1": 1}}),
        json!({"id": id, "agency": "D2", "answers": {"A1": 5}}),
        json!({"id": id, "agency": "D1", "answers": {"A1": 5}, "comment": "Thêm một ý kiến"}),
    ] {
        let reused = app.post_response(&other).await;
        assert_eq!(reused.status(), 409, "{other}");
        let errors: Value = reused.json().await.unwrap();
        assert_eq!(
            errors["errors"]["id"],
            "Mã phiếu (id) này đã được dùng cho một phiếu có nội dung khác; phiếu mới cần một mã mới."
        );
    }
    // The same body again is a plain retry; key order does not matter.
    let reordered = format!(r#"{{"answers": {{"A1": 5}}, "agency": "D1", "id": "{id}"}}"#);
    assert_eq!(app.post_raw(reordered).await.status(), 200);

    let stored: Vec<(String, String)> =
        sqlx::query_as("SELECT agency_code, answers FROM responses").fetch_all(&database(&app).await).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, "D1");
    assert_eq!(stored[0].1, "5---------------", "A1 answered 5, every other criterion skipped");
}

#[tokio::test]
async fn a_day_answered_offline_counts_on_that_day_within_seven_days() {
    // k = 2: two answers make a disclosure step.
    let app = common::spawn_app_with(app::service::Settings {
        min_cell: 2,
        kiosk_limits: app::domain::anomaly::KioskLimits { max_per_minute: 0, ..Default::default() },
        ..Default::default()
    })
    .await;
    let today = app::domain::period::vietnam_day(chrono::Utc::now());
    let days_ago = |n: u64| (today - chrono::Days::new(n)).format("%Y-%m-%d").to_string();
    let body = |day: String| json!({"id": new_id(), "agency": "D2", "answers": {"B2": 4}, "day": day});

    assert_eq!(app.post_response(&body(days_ago(3))).await.status(), 201);
    assert_eq!(app.post_response(&body(days_ago(6))).await.status(), 201);
    assert_eq!(app.post_response(&body(days_ago(0))).await.status(), 201);
    for (late, why) in [(days_ago(7), "quá 7 ngày"), ((today + chrono::Days::new(1)).to_string(), "tương lai")] {
        let refused = app.post_response(&body(late.clone())).await;
        assert_eq!(refused.status(), 422, "{late}");
        let errors: Value = refused.json().await.unwrap();
        assert!(errors["errors"]["day"].as_str().unwrap().contains(why), "{late}: {errors}");
    }

    let count_on = |day: String| {
        let app = &app;
        async move {
            let index: Value = app.indices(&format!("agency=D2&from={day}&to={day}")).await.json().await.unwrap();
            index["responses"].as_u64().unwrap()
        }
    };
    let days: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM responses ORDER BY hour",
        common::vietnam_day_of_hour()
    )))
    .fetch_all(&database(&app).await)
    .await
    .unwrap();
    assert_eq!(days, [days_ago(6), days_ago(3), days_ago(0)]);
    // Days a kiosk may still send answers of are provisional: nothing of them is published.
    assert_eq!(count_on(days_ago(3)).await, 0);
    assert_eq!(count_on(days_ago(6)).await, 0);
    // A week later they are final: the answers of 6 and 3 days back make a step of k = 2 on
    // the later day; today's waits for the next answer.
    let week = u64::from(common::FINAL);
    app.age_responses(common::FINAL).await;
    assert_eq!(count_on(days_ago(3 + week)).await, 2);
    assert_eq!(count_on(days_ago(6 + week)).await, 0);
    assert_eq!(count_on(days_ago(week)).await, 0);
}

#[tokio::test]
async fn a_storage_failure_is_503_with_retry_after_on_every_way_in_and_the_retry_is_stored() {
    let app = spawn_app().await;
    let db = database(&app).await;
    // The database itself refuses the write, as a full or failing disk would.
    let broken_disk = if common::on_postgres() {
        vec![
            "CREATE FUNCTION broken_disk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk I/O'; END $$",
            "CREATE TRIGGER broken_disk BEFORE INSERT ON responses FOR EACH ROW EXECUTE FUNCTION broken_disk()",
        ]
    } else {
        vec!["CREATE TRIGGER broken_disk BEFORE INSERT ON responses BEGIN SELECT RAISE(ABORT, 'disk I/O'); END"]
    };
    for statement in broken_disk {
        sqlx::query(statement).execute(&db).await.unwrap();
    }
    let cookie = format!("hailong_kiosk={}", app.kiosk_token);
    let api_body = json!({"id": new_id(), "agency": "D1", "answers": {"A1": 5}});
    let draft = |id: &str| {
        json!({"draft": {"id": id, "step": "Comment", "agency": "G", "answers": {"C1": "4"}, "expectations": {},
                         "profile": {}, "comment": ""}, "link": null})
    };
    let server_fn_id = new_id();
    let form_id = new_id();
    let form = format!("id={form_id}&step=comment&agency=D2&a-E1=3&nav=submit");
    let server_fn = |id: &str| {
        app.client
            .post(format!("{}/api/kiosk/submit", app.base))
            .header("origin", &app.base)
            .header("cookie", &cookie)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(draft(id).to_string())
            .send()
    };

    let api = app.post_response(&api_body).await;
    let function = server_fn(&server_fn_id).await.unwrap();
    let posted = app.post_form("/kiosk", Some(&cookie), &form).await;
    for (way, response) in [("API", api), ("server function", function), ("form post", posted)] {
        assert_eq!(response.status(), 503, "{way}");
        let retry = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        assert!(retry.is_some_and(|s| s.parse::<u32>().unwrap() > 0), "{way}: no Retry-After");
        let text = response.text().await.unwrap();
        assert!(text.contains("vui lòng") || text.contains("Vui lòng"), "{way}: {text}");
    }
    assert_eq!(app.stored().await, 0);

    let mended =
        if common::on_postgres() { "DROP TRIGGER broken_disk ON responses" } else { "DROP TRIGGER broken_disk" };
    sqlx::query(mended).execute(&db).await.unwrap();
    assert_eq!(app.post_response(&api_body).await.status(), 201);
    let function = server_fn(&server_fn_id).await.unwrap();
    assert_eq!(function.status(), 200);
    assert_eq!(function.json::<Value>().await.unwrap(), json!("Stored"));
    assert_eq!(app.post_form("/kiosk", Some(&cookie), &form).await.status(), 200);
    assert_eq!(app.stored().await, 3);
}
