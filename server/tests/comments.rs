//! Comments: personal details masked before storage, a queue only admins see, and approved
//! comments shown to managers only where the period has at least k responses.

mod common;

use app::domain::account::Role;
use app::domain::period::{start_of_day, vietnam_day};
use chrono::{Duration, Utc};
use common::{spawn_app, TestApp};
use leptos::server_fn::ServerFn;
use serde_json::json;

/// Stores a response for G five days ago, through the kiosk's validation.
async fn answer(app: &TestApp, comment: Option<&str>) -> String {
    let kiosk = app.state.kiosks().await.unwrap().remove(0).kiosk;
    let id = uuid::Uuid::new_v4().to_string();
    let mut body = json!({"id": id, "agency": "G", "answers": {"C1": 4}});
    if let Some(text) = comment {
        body["comment"] = json!(text);
    }
    // A final day: a week and more ago.
    let at = start_of_day(vietnam_day(Utc::now()) - Duration::days(10)) + Duration::hours(4);
    app.state.store_from_kiosk(&kiosk, &common::submission(body.clone()), at).await.unwrap();
    id
}

async fn moderate(app: &TestApp, cookie: &str, id: &str, approve: bool) -> u16 {
    let body = format!("id={id}&approve={approve}&back=/admin/comments");
    app.post_form(app::report::server::ModerateComment::PATH, Some(cookie), &body).await.status().as_u16()
}

#[tokio::test]
async fn comments_are_masked_moderated_and_shown_only_with_enough_responses() {
    let app = spawn_app().await;
    let admin = app.session("tinh", Role::Admin, None).await;
    let manager = app.session("lanhdao.d1", Role::Manager, Some("D1")).await;
    let id = answer(&app, Some("Cán bộ chậm. Gọi 0912 345 678, thư an.nguyen@example.vn, hồ sơ HS-2026-0042")).await;

    let db = common::sql(&app.database_url).await;
    let stored: String = sqlx::query_scalar("SELECT comment FROM responses WHERE id = $1")
        .bind(uuid::Uuid::parse_str(&id).unwrap().as_bytes().to_vec())
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    assert_eq!(
        stored, "Cán bộ chậm. Gọi [số điện thoại đã ẩn], thư [địa chỉ thư đã ẩn], hồ sơ [mã hồ sơ đã ẩn]",
        "masked before it was stored"
    );

    let from = vietnam_day(Utc::now()) - Duration::days(30);
    let page = format!("/admin/comments?agency=D1&from={from}");
    let (status, body) = app.page(Some(&admin), &page).await;
    assert_eq!(status, 200);
    assert!(body.contains("Chờ duyệt (1)") && body.contains("Cán bộ chậm"), "the admin's queue");
    let (status, body) = app.page(Some(&manager), &page).await;
    assert_eq!(status, 200);
    assert!(!body.contains("Cán bộ chậm") && !body.contains("Chờ duyệt"), "a manager never sees the queue");

    assert_eq!(moderate(&app, &manager, &id, true).await, 403, "only an admin moderates");
    assert_eq!(moderate(&app, &admin, "no-such-response", true).await, 404);
    assert_eq!(moderate(&app, &admin, &id, true).await, 302);

    // Approved, but one response in the period is under k = 5: still not shown.
    let (_, body) = app.page(Some(&manager), &page).await;
    assert!(body.contains("id=\"too-few\"") && !body.contains("Cán bộ chậm"));
    for _ in 0..4 {
        answer(&app, None).await;
    }
    let (_, body) = app.page(Some(&manager), &page).await;
    assert!(body.contains("approved-comments") && body.contains("Cán bộ chậm"), "five responses: the comment shows");
    assert!(!body.contains(&id), "no response id in a manager's page or its data");
    let (_, body) = app.page(Some(&manager), &format!("/admin/comments?agency=D2&from={from}")).await;
    assert!(!body.contains("Cán bộ chậm"), "not another subtree's");

    // Hidden again: gone for the manager; both decisions are in the audit log.
    assert_eq!(moderate(&app, &admin, &id, false).await, 302);
    let (_, body) = app.page(Some(&manager), &page).await;
    assert!(!body.contains("Cán bộ chậm"));
    let (_, audit) = app.page(Some(&admin), "/admin/audit?action=comment.approve").await;
    assert!(audit.contains(&id));
}
