//! Accounts over a real SQLite file: creation rules, login, throttling, sessions, passwords.

mod common;

use app::domain::account::Role;
use app::service::accounts::{AccountServiceError, LoginError};
use chrono::{Duration, Utc};
use common::spawn_app;

#[tokio::test]
async fn a_new_account_logs_in_with_its_one_time_password_and_changes_it() {
    let app = spawn_app().await;
    let s = &app.state;
    let password = s.add_user("cli", "Lan.Nguyen", Role::Manager, Some("D1")).await.unwrap();
    assert_eq!(password.len(), 16);

    let (user, token) = s.login("lan.nguyen", &password, Utc::now()).await.unwrap();
    assert_eq!(
        (user.username.as_str(), user.role, user.agency_code.as_deref()),
        ("lan.nguyen", Role::Manager, Some("D1"))
    );
    assert!(user.must_change_password);
    assert_eq!(s.session_user(&token).await.unwrap().map(|u| u.id), Some(user.id));

    let other_session = s.login("lan.nguyen", &password, Utc::now()).await.unwrap().1;
    assert!(matches!(
        s.change_password(&token, "wrong", "mật khẩu mới đủ dài").await,
        Err(AccountServiceError::WrongPassword)
    ));
    assert!(matches!(s.change_password(&token, &password, "ngắn").await, Err(AccountServiceError::Invalid(_))));
    s.change_password(&token, &password, "mật khẩu mới đủ dài").await.unwrap();
    assert!(s.session_user(&other_session).await.unwrap().is_none(), "other sessions end on a password change");
    assert!(matches!(s.login("lan.nguyen", &password, Utc::now()).await, Err(LoginError::BadCredentials)));
    let (user, _) = s.login("lan.nguyen", "mật khẩu mới đủ dài", Utc::now()).await.unwrap();
    assert!(!user.must_change_password);

    s.logout(&token).await.unwrap();
    assert!(s.session_user(&token).await.unwrap().is_none());
}

#[tokio::test]
async fn account_rules_are_enforced() {
    let app = spawn_app().await;
    let s = &app.state;
    assert!(matches!(s.add_user("cli", "staff1", Role::Staff, None).await, Err(AccountServiceError::AgencyRequired)));
    assert!(matches!(
        s.add_user("cli", "boss", Role::Admin, Some("P")).await,
        Err(AccountServiceError::AgencyNotAllowed)
    ));
    assert!(matches!(s.add_user("cli", "x", Role::Admin, None).await, Err(AccountServiceError::Invalid(_))));
    assert!(s.add_user("cli", "staff1", Role::Staff, Some("NOPE")).await.is_err());
    s.add_user("cli", "staff1", Role::Staff, Some("P")).await.unwrap();
    assert!(matches!(s.add_user("cli", "STAFF1", Role::Staff, Some("P")).await, Err(AccountServiceError::Taken(_))));
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_username_even_for_the_right_one() {
    let app = spawn_app().await;
    let s = &app.state;
    let password = s.add_user("cli", "admin", Role::Admin, None).await.unwrap();
    let now = Utc::now();
    for _ in 0..5 {
        assert!(matches!(s.login("admin", "sai-mat-khau", now).await, Err(LoginError::BadCredentials)));
    }
    match s.login("admin", &password, now).await {
        Err(LoginError::Throttled { minutes }) => assert!((1..=16).contains(&minutes)),
        other => panic!("expected a lock, got {other:?}"),
    }
    // after the window the right password works again
    assert!(s.login("admin", &password, now + Duration::minutes(16)).await.is_ok());
}

#[tokio::test]
async fn guessing_the_password_through_a_session_is_throttled_too() {
    let app = spawn_app().await;
    let s = &app.state;
    let password = s.add_user("cli", "motcua", Role::Staff, Some("P")).await.unwrap();
    let (_, token) = s.login("motcua", &password, Utc::now()).await.unwrap();
    let new = "một mật khẩu mới đủ dài";
    for _ in 0..5 {
        let wrong = s.change_password(&token, "doan-mo", new).await;
        assert!(matches!(wrong, Err(AccountServiceError::WrongPassword)), "{wrong:?}");
    }
    let locked = s.change_password(&token, &password, new).await;
    assert!(matches!(locked, Err(AccountServiceError::Throttled { .. })), "{locked:?}");
    assert!(matches!(s.login("motcua", &password, Utc::now()).await, Err(LoginError::Throttled { .. })));
}

#[test]
fn the_cli_prints_a_one_time_password_and_refuses_bad_roles() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/cli.db", dir.path().display());
    let run = |args: &[&str]| common::hailong(&url, args);
    let created = run(&["user", "add", "--username", "tinh", "--role", "admin"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let out = String::from_utf8(created.stdout).unwrap();
    assert!(out.contains("Mật khẩu dùng một lần: "), "{out}");
    let bad = run(&["user", "add", "--username", "tinh2", "--role", "root"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("vai trò"));
}

#[test]
fn a_too_short_admin_token_is_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/cli.db", dir.path().display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hailong"))
        .args(["migrate"])
        .env("HAILONG_DATABASE_URL", &url)
        .env("HAILONG_ADMIN_TOKEN", "")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ít nhất 16 ký tự"));
}
