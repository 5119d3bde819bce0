//! Kiosks over real HTTP: pairing by one-time code, revocation, re-pairing, the per-kiosk rate
//! limit and the flags for bursts and identical answers.

mod common;

use app::domain::anomaly::{AnomalyKind, KioskLimits};
use app::domain::audit::{Actor, AuditAction};
use app::service::Settings;
use app::storage::AuditFilter;
use common::{spawn_app, spawn_app_with, TestApp};
use serde_json::{json, Value};

async fn pair(app: &TestApp, code: &str) -> (u16, Value) {
    let response =
        app.client.post(format!("{}/api/v1/kiosks/pair", app.base)).json(&json!({"code": code})).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn submit(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.client.post(format!("{}/api/v1/responses", app.base)).bearer_auth(token).json(body).send().await.unwrap()
}

fn answer(a1: u8) -> Value {
    json!({"id": uuid::Uuid::new_v4().to_string(), "agency": "D1", "answers": {"A1": a1, "B1": 4}})
}

#[tokio::test]
async fn a_code_pairs_once_and_a_revoked_kiosk_is_refused_at_once() {
    let app = spawn_app().await;
    let pairing = app.state.register_kiosk(&Actor::cli(), "P", "Kiosk quầy 2").await.unwrap();
    assert_eq!(pairing.code.len(), 8);
    let (status, paired) = pair(&app, &format!("{} {}", &pairing.code[..4], &pairing.code[4..])).await;
    assert_eq!(status, 201, "{paired}");
    assert_eq!(paired["kiosk"]["service_point"], "P");
    let token = paired["token"].as_str().unwrap().to_owned();
    let (status, again) = pair(&app, &pairing.code).await;
    assert_eq!(status, 404, "a code works once: {again}");
    assert!(again["errors"]["code"].as_str().unwrap().contains("Mã ghép nối không đúng"));

    assert_eq!(submit(&app, &token, &answer(5)).await.status(), 201);
    let listed = app.state.kiosks().await.unwrap();
    let kiosk = listed.iter().find(|k| k.kiosk.id == pairing.kiosk_id).unwrap();
    assert!(kiosk.paired && kiosk.revoked_at.is_none());
    assert_eq!(kiosk.responses_today, 1);

    app.state.revoke_kiosk(&Actor::cli(), pairing.kiosk_id).await.unwrap();
    let refused = submit(&app, &token, &answer(5)).await;
    assert_eq!(refused.status(), 401);
    // The tablet's pages say it must be paired again.
    let cookie = format!("hailong_kiosk={token}");
    let (status, body) = app.page(Some(&cookie), "/kiosk").await;
    assert_eq!(status, 401);
    assert!(body.contains("/kiosk/pair"), "{body}");
    let posted = app.post_form("/kiosk", Some(&cookie), "nav=submit").await;
    assert_eq!(posted.status(), 401);
    assert!(posted.text().await.unwrap().contains("/kiosk/pair?lost=1"));
}

/// The wasm a page loads: the name in its hydration script (`…, "pkg", "<name>", …`).
fn wasm_of(page: &str) -> Option<&str> {
    let (_, after) = page.split_once(r#", "pkg", ""#)?;
    after.split('"').next()
}

/// A kiosk and a link survey load the surveys' own wasm, which carries no staff page; a staff
/// page loads the site's.
#[tokio::test]
async fn surveys_load_their_own_wasm() {
    let app = spawn_app().await;
    let pairing = app.state.register_kiosk(&Actor::cli(), "P", "Kiosk quầy 1").await.unwrap();
    let (_, paired) = pair(&app, &pairing.code).await;
    let cookie = format!("hailong_kiosk={}", paired["token"].as_str().unwrap());
    let (status, kiosk) = app.page(Some(&cookie), "/kiosk").await;
    assert_eq!(status, 200);
    assert!(kiosk.contains("Bắt đầu"), "{kiosk}");
    assert_eq!(wasm_of(&kiosk), Some("surveys"), "{kiosk}");
    let (status, link) = app.page(None, "/s/not-a-token").await;
    assert_eq!(status, 404);
    assert_eq!(wasm_of(&link), Some("surveys"), "{link}");
    for path in ["/login", "/kiosk/pair", "/"] {
        let (_, page) = app.page(None, path).await;
        assert_eq!(wasm_of(&page), Some("hailong"), "{path}: {page}");
    }
}

#[tokio::test]
async fn re_pairing_replaces_the_tablet_and_brings_a_revoked_kiosk_back() {
    let app = spawn_app().await;
    let pairing = app.state.register_kiosk(&Actor::cli(), "P", "Kiosk quầy 3").await.unwrap();
    let old = pair(&app, &pairing.code).await.1["token"].as_str().unwrap().to_owned();
    let again = app.state.repair_kiosk(&Actor::cli(), pairing.kiosk_id).await.unwrap();
    assert_eq!(submit(&app, &old, &answer(4)).await.status(), 201, "the old tablet works until the new one pairs");
    let new = pair(&app, &again.code).await.1["token"].as_str().unwrap().to_owned();
    assert_eq!(submit(&app, &old, &answer(4)).await.status(), 401);
    assert_eq!(submit(&app, &new, &answer(4)).await.status(), 201);

    app.state.revoke_kiosk(&Actor::cli(), pairing.kiosk_id).await.unwrap();
    let back = app.state.repair_kiosk(&Actor::cli(), pairing.kiosk_id).await.unwrap();
    let newest = pair(&app, &back.code).await.1["token"].as_str().unwrap().to_owned();
    assert_eq!(submit(&app, &newest, &answer(4)).await.status(), 201);
}

#[tokio::test]
async fn an_expired_code_and_guessed_codes_do_not_pair() {
    let app = spawn_app().await;
    let pairing = app.state.register_kiosk(&Actor::cli(), "P", "Kiosk hết hạn").await.unwrap();
    // Half an hour later, as the clock would have it.
    let pool = common::sql(&app.database_url).await;
    sqlx::query("UPDATE kiosks SET pairing_expires_at = '2020-01-01T00:00:00.000Z' WHERE id = $1")
        .bind(pairing.kiosk_id)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(pair(&app, &pairing.code).await.0, 404);

    let fresh = app.state.register_kiosk(&Actor::cli(), "P", "Kiosk mới").await.unwrap();
    for guess in ["00000001", "00000002", "00000003", "00000004"] {
        assert_eq!(pair(&app, guess).await.0, 404, "{guess}");
    }
    // The fifth failure (the expired code counted as one) makes this address wait, even with the right code.
    let (status, waiting) = pair(&app, &fresh.code).await;
    assert_eq!(status, 429, "{waiting}");
    let failures = AuditFilter { action: Some(AuditAction::KioskPairingFailed), ..AuditFilter::default() };
    let logged = app.state.audit_log(&failures, 10).await.unwrap();
    assert_eq!(logged.len(), 5);
    assert!(logged.iter().all(|e| e.ip.as_deref() == Some("127.0.0.1")));
}

#[tokio::test]
async fn a_kiosk_over_its_rate_is_refused_and_flagged_and_loses_nothing_else() {
    let limits = KioskLimits { max_per_minute: 3, burst: 100, identical: 100 };
    let app = spawn_app_with(Settings { kiosk_limits: limits, ..Settings::default() }).await;
    for n in 0..3 {
        assert_eq!(submit(&app, &app.kiosk_token, &answer(4)).await.status(), 201, "response {n}");
    }
    let over = answer(4);
    let refused = submit(&app, &app.kiosk_token, &over).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "60");
    assert_eq!(app.stored().await, 3, "the refused response is not stored; the kiosk sends it again later");
    let flags = app.state.kiosk_anomalies(10).await.unwrap();
    assert_eq!(flags.len(), 1);
    assert_eq!((flags[0].kind, flags[0].occurrences), (AnomalyKind::RateLimited, 1));
    // Another kiosk is not slowed down by this one.
    let other = common::paired_kiosk(&app.state, "P").await;
    assert_eq!(submit(&app, &other, &answer(4)).await.status(), 201);

    let admin = app.session("tinh", app::domain::account::Role::Admin, None).await;
    let (status, page) = app.page(Some(&admin), "/admin/kiosks").await;
    assert_eq!(status, 200);
    assert!(page.contains("Gửi quá nhanh"), "the admin sees the flag");
}

#[tokio::test]
async fn bursts_and_identical_answers_are_flagged_but_kept() {
    let limits = KioskLimits { max_per_minute: 0, burst: 5, identical: 3 };
    let app = spawn_app_with(Settings { kiosk_limits: limits, ..Settings::default() }).await;
    for _ in 0..3 {
        assert_eq!(submit(&app, &app.kiosk_token, &answer(5)).await.status(), 201);
    }
    for value in [1, 2] {
        assert_eq!(submit(&app, &app.kiosk_token, &answer(value)).await.status(), 201);
    }
    assert_eq!(app.stored().await, 5, "flagged responses are stored, never silently dropped");
    let mut kinds: Vec<(AnomalyKind, u64)> =
        app.state.kiosk_anomalies(10).await.unwrap().iter().map(|a| (a.kind, a.occurrences)).collect();
    kinds.sort_by_key(|(k, _)| k.as_str());
    assert_eq!(kinds, [(AnomalyKind::Burst, 1), (AnomalyKind::Identical, 1)]);
}

#[tokio::test]
async fn a_service_point_with_live_kiosks_cannot_be_closed() {
    let app = spawn_app().await;
    let csv = |line: &str| {
        app::service::AppState::read_registry_csv(&format!(
            "code,name,kind,parent,valid_from,successor,serves\n{line}\n"
        ))
        .unwrap()
    };
    let opened = csv("X1,UBND xã X1,commune,P,,,");
    app.state.apply_registry(&Actor::cli(), &opened, None, AuditAction::AgencySaved).await.unwrap();
    let pairing = app.state.register_kiosk(&Actor::cli(), "X1", "Kiosk xã").await.unwrap();
    let closing = csv("X1,UBND xã X1,commune,P,2030-01-01,D2,");
    let refused = app.state.plan_registry(&closing).await.unwrap_err().to_string();
    assert_eq!(
        refused,
        "Dòng 2 (X1): còn 1 kiosk đang hoạt động tại đơn vị này; hãy chuyển hoặc thu hồi trước khi đóng"
    );
    app.state.revoke_kiosk(&Actor::cli(), pairing.kiosk_id).await.unwrap();
    assert_eq!(app.state.plan_registry(&closing).await.unwrap().closed.len(), 1);
}

#[test]
fn the_cli_registers_lists_and_revokes_kiosks() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_blocking(dir.path(), "cli.db");
    let run = |args: &[&str]| common::hailong(&url, args);
    assert!(run(&["demo"]).status.success());
    let out = run(&["kiosk", "add", "--agency", "PT-STP", "--name", "Kiosk Sở Tư pháp", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let added: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(added["pairing_code"].as_str().unwrap().len(), 8);
    assert!(added["expires_at"].as_str().unwrap().contains('T'));
    let id = added["id"].to_string();
    let listed: Value = serde_json::from_slice(&run(&["kiosk", "list", "--json"]).stdout).unwrap();
    let kiosk = listed.as_array().unwrap().iter().find(|k| k["id"] == added["id"]).unwrap();
    assert_eq!((&kiosk["status"], &kiosk["service_point"]), (&json!("pending"), &json!("PT-STP")));
    assert!(run(&["kiosk", "revoke", "--id", &id]).status.success());
    let listed: Value = serde_json::from_slice(&run(&["kiosk", "list", "--json"]).stdout).unwrap();
    let kiosk = listed.as_array().unwrap().iter().find(|k| k["id"] == added["id"]).unwrap();
    assert_eq!(kiosk["status"], "revoked");
    let bad = run(&["kiosk", "add", "--agency", "NOPE", "--name", "x"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("Không có điểm phục vụ mã NOPE"));
}
