//! The login and pairing gate cannot be jammed: a client that must wait is turned away before
//! the gate, a pairing code dies after a few wrong codes from anywhere, a failed login keeps
//! nothing typed that names no account, and a spent global budget turns away new addresses only.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use app::domain::account::{Role, FAILURES_PER_MINUTE, PAIRING_CODE_WRONG_TRIES, TRIES_IN_FLIGHT_PER_CLIENT};
use app::domain::audit::{Actor, AuditAction};
use app::service::accounts::{LoginError, UNKNOWN_ACCOUNT};
use app::service::kiosks::PairError;
use app::storage::AuditFilter;
use chrono::{Duration, Utc};
use common::{spawn_app, TestApp, LOCALHOST};
use serde_json::{json, Value};

const FLOODER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));

fn address(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, n))
}

/// Fails logins from `ip` until it must wait.
async fn make_wait(app: &TestApp, ip: IpAddr) {
    for n in 0..30 {
        if let Err(LoginError::Throttled { .. }) =
            app.state.login(&format!("doan{n}"), "sai-mat-khau", ip, Utc::now()).await
        {
            return;
        }
    }
    panic!("{ip} never had to wait");
}

#[tokio::test]
async fn a_flooding_client_is_turned_away_while_another_logs_in_at_once() {
    let app = spawn_app().await;
    let password = app.state.add_user(&Actor::cli(), "tinh", Role::Admin, None).await.unwrap();
    let flood = (0..60).map(|n| {
        let s = app.state.clone();
        tokio::spawn(async move { s.login(&format!("doan{n}"), "sai-mat-khau", FLOODER, Utc::now()).await })
    });
    let flood: Vec<_> = flood.collect();
    let meanwhile = app.state.login("tinh", &password, ELSEWHERE, Utc::now()).await;
    assert!(meanwhile.is_ok(), "another client logs in during the flood: {meanwhile:?}");
    let mut checked = 0;
    for result in futures::future::join_all(flood).await {
        match result.unwrap() {
            Err(LoginError::BadCredentials) => checked += 1,
            Err(LoginError::Busy | LoginError::Throttled { .. }) => {}
            other => panic!("a flood try ends in {other:?}"),
        }
    }
    assert!(checked <= 2 * TRIES_IN_FLIGHT_PER_CLIENT, "the flooding client had {checked} tries checked");

    // Once it must wait, it is answered at once, without queueing behind the tries of others.
    make_wait(&app, FLOODER).await;
    let done = Arc::new(AtomicUsize::new(0));
    let others: Vec<_> = (1..=12)
        .map(|n| {
            let (s, done) = (app.state.clone(), done.clone());
            tokio::spawn(async move {
                let _ = s.login("tinh", "sai-mat-khau", address(n), Utc::now()).await;
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    tokio::task::yield_now().await;
    let waiting = app.state.login("tinh", &password, FLOODER, Utc::now()).await;
    let behind = done.load(Ordering::SeqCst);
    assert!(matches!(waiting, Err(LoginError::Throttled { seconds }) if seconds > 0), "{waiting:?}");
    assert!(behind < 6, "the waiting client was answered after {behind} of 12 checks of others");
    futures::future::join_all(others).await;

    // Over HTTP: 429 with the seconds to wait in Retry-After.
    make_wait(&app, LOCALHOST).await;
    let login = <app::account::server::LogIn as leptos::server_fn::ServerFn>::PATH;
    let response = app
        .client
        .post(format!("{}{login}", app.base))
        .header("origin", &app.base)
        .form(&[("username", "tinh"), ("password", password.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let seconds: i64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=31).contains(&seconds), "{seconds}");
    assert!(response.text().await.unwrap().contains("Vui lòng thử lại sau"));
}

async fn pair_over_http(app: &TestApp, code: &str) -> (u16, Value) {
    let response =
        app.client.post(format!("{}/api/v1/kiosks/pair", app.base)).json(&json!({"code": code})).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_pairing_code_dies_after_five_wrong_codes_from_any_address() {
    let app = spawn_app().await;
    let s = &app.state;
    let wrong = |n: u8| s.pair_kiosk("00000000", address(n));
    // Four wrong codes, each from its own address: the code still works.
    let first = s.register_kiosk(&Actor::cli(), "P", "Kiosk quầy 1").await.unwrap();
    for n in 1..PAIRING_CODE_WRONG_TRIES as u8 {
        assert!(matches!(wrong(n).await, Err(PairError::Wrong)));
    }
    assert!(s.pair_kiosk(&first.code, address(50)).await.is_ok());

    // The fifth wrong code, from yet another address, kills the codes pending then.
    let second = s.register_kiosk(&Actor::cli(), "P", "Kiosk quầy 2").await.unwrap();
    for n in 11..=(10 + PAIRING_CODE_WRONG_TRIES as u8) {
        assert!(matches!(wrong(n).await, Err(PairError::Wrong)));
    }
    let (status, refused) = pair_over_http(&app, &second.code).await;
    assert_eq!(status, 404, "the right code, from an address that never failed: {refused}");
    let said = refused["errors"]["code"].as_str().unwrap();
    assert!(said.contains("đã bị hủy sau 5 lần nhập sai") && said.contains("xin quản trị viên mã mới"), "{said}");
    let failures = AuditFilter { action: Some(AuditAction::KioskPairingFailed), ..AuditFilter::default() };
    let logged = s.audit_log(&failures, 20).await.unwrap();
    assert!(logged.iter().any(|e| e.subject.contains(&format!("#{} bị hủy", second.kiosk_id))), "{logged:?}");

    // A new code from the admin works.
    let again = s.repair_kiosk(&Actor::cli(), second.kiosk_id).await.unwrap();
    assert_eq!(pair_over_http(&app, &again.code).await.0, 201);
}

#[tokio::test]
async fn a_failed_login_keeps_nothing_typed_that_names_no_account() {
    let app = spawn_app().await;
    let s = &app.state;
    s.add_user(&Actor::cli(), "tinh", Role::Admin, None).await.unwrap();
    // A password typed into the username box.
    let typed = "matkhau.bimat-2026";
    assert!(matches!(s.login(typed, "tinh", ELSEWHERE, Utc::now()).await, Err(LoginError::BadCredentials)));
    assert!(matches!(s.login("tinh", "sai-mat-khau", ELSEWHERE, Utc::now()).await, Err(LoginError::BadCredentials)));

    let failed = AuditFilter { action: Some(AuditAction::LoginFailed), ..AuditFilter::default() };
    let lines: Vec<(String, String)> =
        s.audit_log(&failed, 10).await.unwrap().into_iter().map(|e| (e.actor, e.subject)).collect();
    let unknown = (UNKNOWN_ACCOUNT.to_owned(), UNKNOWN_ACCOUNT.to_owned());
    assert_eq!(lines, [("tinh".to_owned(), "tinh".to_owned()), unknown]);
    let db = common::sql(&app.database_url).await;
    let names: Vec<String> = sqlx::query_scalar("SELECT username FROM login_failures").fetch_all(&db).await.unwrap();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"tinh".to_owned()), "{names:?}");
    assert!(names.iter().all(|n| !n.contains("matkhau") && !n.contains("bimat")), "{names:?}");

    // Guesses at one unknown name still count together, as for an account.
    for _ in 1..5 {
        let _ = s.login(typed, "doan", ELSEWHERE, Utc::now()).await;
    }
    assert!(matches!(s.login(typed, "doan", ELSEWHERE, Utc::now()).await, Err(LoginError::Throttled { .. })));
}

#[tokio::test]
async fn a_spent_budget_turns_away_new_addresses_only() {
    let app = spawn_app().await;
    let s = &app.state;
    let admin = app.session("tinh", Role::Admin, None).await; // signed in from 127.0.0.1
    let password = "một mật khẩu mới đủ dài";
    let office_v6: IpAddr = "2001:db8:1:2::10".parse().unwrap();
    s.login("tinh", password, office_v6, Utc::now()).await.unwrap();

    // A minute of failures from many addresses, as a spread-out attack makes them.
    let now = Utc::now();
    let db = common::sql(&app.database_url).await;
    for n in 0..FAILURES_PER_MINUTE {
        sqlx::query("INSERT INTO login_failures (username, ip, failed_at) VALUES ($1, $2, $3)")
            .bind("?")
            .bind(format!("198.51.{}.{}", n / 200, n % 200))
            .bind(app::storage::timestamp(now))
            .execute(&db)
            .await
            .unwrap();
    }
    let saturated = s.login("tinh", password, ELSEWHERE, now).await;
    assert!(matches!(saturated, Err(LoginError::Saturated)), "a new address waits: {saturated:?}");
    assert_eq!(saturated.unwrap_err().retry_after(), Some(60));
    assert!(matches!(s.pair_kiosk("00000000", ELSEWHERE).await, Err(PairError::Saturated)));
    let other_v6: IpAddr = "2001:db8:1:3::10".parse().unwrap();
    assert!(matches!(s.login("tinh", password, other_v6, now).await, Err(LoginError::Saturated)));

    // Known addresses go on: the office, any address of its IPv6 /64, and a signed-in admin.
    assert!(s.login("tinh", password, LOCALHOST, now).await.is_ok());
    assert!(s.login("tinh", password, "2001:db8:1:2::99".parse().unwrap(), now).await.is_ok());
    assert_eq!(app.page(Some(&admin), "/admin/kiosks").await.0, 200);
    let (_, from_elsewhere) = s.login("tinh", password, LOCALHOST, now).await.unwrap();
    let changed = s.change_password(&from_elsewhere, password, "mật khẩu thứ hai đủ dài", ELSEWHERE).await;
    assert!(changed.is_ok(), "a signed-in user is never turned away by the budget: {changed:?}");

    // A minute later the budget is back for everyone.
    assert!(s.login("tinh", "mật khẩu thứ hai đủ dài", ELSEWHERE, now + Duration::seconds(61)).await.is_ok());
}
