//! Accounts over a real SQLite file: creation rules, login, throttling by address, sessions,
//! passwords, disabling, CSV import, the audit trail.

mod common;

use std::net::IpAddr;

use app::domain::account::Role;
use app::domain::audit::{Actor, AuditAction};
use app::service::accounts::{AccountServiceError, LoginError};
use app::service::gate::MAX_WAITING_LOGINS;
use app::storage::AuditFilter;
use chrono::{Duration, Utc};
use common::{spawn_app, LOCALHOST};

const ELSEWHERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9));

#[tokio::test]
async fn a_new_account_logs_in_with_its_one_time_password_and_changes_it() {
    let app = spawn_app().await;
    let s = &app.state;
    let password = s.add_user(&Actor::cli(), "Lan.Nguyen", Role::Manager, Some("D1")).await.unwrap();
    assert_eq!(password.len(), 16);

    let (user, token) = s.login("lan.nguyen", &password, LOCALHOST, Utc::now()).await.unwrap();
    assert_eq!(
        (user.username.as_str(), user.role, user.agency_code.as_deref()),
        ("lan.nguyen", Role::Manager, Some("D1"))
    );
    assert!(user.must_change_password);
    assert_eq!(s.session_user(&token).await.unwrap().map(|u| u.id), Some(user.id));

    let other_session = s.login("lan.nguyen", &password, LOCALHOST, Utc::now()).await.unwrap().1;
    let change = |current: &'static str, new: &'static str| s.change_password(&token, current, new, LOCALHOST);
    assert!(matches!(change("wrong", "mật khẩu mới đủ dài").await, Err(AccountServiceError::WrongPassword)));
    let same = s.change_password(&token, &password, &password, LOCALHOST).await;
    assert!(matches!(same, Err(AccountServiceError::SamePassword)), "{same:?}");
    assert!(matches!(
        s.change_password(&token, &password, "ngắn", LOCALHOST).await,
        Err(AccountServiceError::Invalid(_))
    ));
    s.change_password(&token, &password, "mật khẩu mới đủ dài", LOCALHOST).await.unwrap();
    assert!(s.session_user(&other_session).await.unwrap().is_none(), "other sessions end on a password change");
    assert!(matches!(s.login("lan.nguyen", &password, LOCALHOST, Utc::now()).await, Err(LoginError::BadCredentials)));
    let (user, _) = s.login("lan.nguyen", "mật khẩu mới đủ dài", LOCALHOST, Utc::now()).await.unwrap();
    assert!(!user.must_change_password);
    let again = s.change_password(&token, "mật khẩu mới đủ dài", "mật khẩu mới đủ dài", LOCALHOST).await;
    assert!(matches!(again, Err(AccountServiceError::SamePassword)), "the new password must differ: {again:?}");

    s.logout(&token).await.unwrap();
    assert!(s.session_user(&token).await.unwrap().is_none());
}

#[tokio::test]
async fn account_rules_are_enforced() {
    let app = spawn_app().await;
    let s = &app.state;
    let cli = Actor::cli();
    assert!(matches!(s.add_user(&cli, "staff1", Role::Staff, None).await, Err(AccountServiceError::AgencyRequired)));
    assert!(matches!(
        s.add_user(&cli, "boss", Role::Admin, Some("P")).await,
        Err(AccountServiceError::AgencyNotAllowed)
    ));
    assert!(matches!(s.add_user(&cli, "x", Role::Admin, None).await, Err(AccountServiceError::Invalid(_))));
    assert!(s.add_user(&cli, "staff1", Role::Staff, Some("NOPE")).await.is_err());
    s.add_user(&cli, "staff1", Role::Staff, Some("P")).await.unwrap();
    assert!(matches!(s.add_user(&cli, "STAFF1", Role::Staff, Some("P")).await, Err(AccountServiceError::Taken(_))));
}

/// The account forms' server functions take a `Role`: a forged or missing one is refused in
/// Vietnamese, field by field as any bad input, not by the framework in English.
#[tokio::test]
async fn a_forged_role_is_refused_in_vietnamese_and_creates_nothing() {
    let app = spawn_app().await;
    let admin = app.session("tinh", Role::Admin, None).await;
    let path = <app::admin::users::AddAccount as leptos::server_fn::ServerFn>::PATH;
    let client = reqwest::Client::new();
    for body in ["username=gia.mao&role=root&agency=P", "username=gia.mao&agency=P", "username=gia.mao&role=&agency=P"]
    {
        let refused = client
            .post(format!("{}{path}", app.base))
            .header("origin", &app.base)
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &admin)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 422, "{body}");
        let error: leptos::prelude::ServerFnError =
            leptos::server_fn::error::FromServerFnError::de(refused.bytes().await.unwrap());
        assert_eq!(
            error,
            leptos::prelude::ServerFnError::ServerError("Vai trò phải là admin, manager hoặc staff.".into())
        );
    }
    assert!(app.state.users().await.unwrap().iter().all(|u| u.user.username != "gia.mao"));
}

/// Without JavaScript a refused form comes back to its page, which says why in its alert: the
/// refusal travels in the address (303), never as a raw error page. The login and the kiosk
/// pairing form, each refused.
#[tokio::test]
async fn a_form_refused_without_javascript_comes_back_to_its_page_with_its_reason() {
    let app = spawn_app().await;
    app.session("tinh", Role::Admin, None).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let forms = [
        (
            <app::account::server::LogIn as leptos::server_fn::ServerFn>::PATH,
            "/login",
            vec![("username", "tinh"), ("password", "không phải mật khẩu")],
            "Tên đăng nhập hoặc mật khẩu không đúng.",
        ),
        (
            <app::survey::pair::PairThisKiosk as leptos::server_fn::ServerFn>::PATH,
            "/kiosk/pair",
            vec![("code", "00000000")],
            "Mã ghép nối không đúng",
        ),
    ];
    for (path, page, fields, reason) in forms {
        let refused = client
            .post(format!("{}{path}", app.base))
            .header("origin", &app.base)
            .header("referer", format!("{}{page}", app.base))
            .header("accept", "text/html")
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 303, "{page}");
        assert_eq!(refused.headers()["referrer-policy"], "same-origin", "the way back names the form's page");
        let back = refused.headers()["location"].to_str().unwrap().to_owned();
        assert!(back.starts_with(&format!("{}{page}?", app.base)) && back.contains("__err="), "{back}");
        let alert = |referer: Option<String>| {
            let mut request = client.get(&back).header("accept", "text/html");
            if let Some(referer) = referer {
                request = request.header("referer", referer);
            }
            async move {
                let shown = request.send().await.unwrap().text().await.unwrap();
                let alert = shown.split("role=\"alert\"").nth(1).and_then(|rest| rest.split_once('>'));
                alert.map(|(_, text)| text.to_owned())
            }
        };
        let shown = alert(Some(format!("{}{page}", app.base))).await.unwrap_or_else(|| panic!("no alert on {page}"));
        assert!(shown.starts_with(reason), "{page}: {shown}");
        // The same address opened from elsewhere (a mail, another site) shows no refusal: its
        // text would be whatever the sender wrote.
        assert_eq!(alert(None).await, None, "{page}");
        assert_eq!(alert(Some("https://evil.example/login".into())).await, None, "{page}");
    }
}

#[tokio::test]
async fn wrong_passwords_slow_down_that_address_only_and_old_failures_are_pruned() {
    let app = spawn_app().await;
    let s = &app.state;
    let password = s.add_user(&Actor::cli(), "admin", Role::Admin, None).await.unwrap();
    let now = Utc::now();
    for _ in 0..5 {
        assert!(matches!(s.login("admin", "sai-mat-khau", ELSEWHERE, now).await, Err(LoginError::BadCredentials)));
    }
    match s.login("admin", &password, ELSEWHERE, now).await {
        Err(LoginError::Throttled { seconds }) => assert!((1..=31).contains(&seconds), "{seconds}"),
        other => panic!("expected a wait, got {other:?}"),
    }
    // The admin at the office is not locked out by someone guessing from elsewhere.
    assert!(s.login("admin", &password, LOCALHOST, now).await.is_ok());
    // Each further failure doubles the wait for that address.
    let later = now + Duration::seconds(31);
    assert!(matches!(s.login("admin", "sai", ELSEWHERE, later).await, Err(LoginError::BadCredentials)));
    match s.login("admin", &password, ELSEWHERE, later).await {
        Err(LoginError::Throttled { seconds }) => assert!((31..=61).contains(&seconds), "{seconds}"),
        other => panic!("expected a longer wait, got {other:?}"),
    }
    // Failures older than the window are deleted when the next one is recorded.
    assert_eq!(s.count_login_failures().await.unwrap(), 6);
    let much_later = now + Duration::hours(1);
    let _ = s.login("admin", "sai", LOCALHOST, much_later).await;
    assert_eq!(s.count_login_failures().await.unwrap(), 1, "only the newest failure is kept");
    assert!(s.login("admin", &password, ELSEWHERE, much_later).await.is_ok());
}

#[tokio::test]
async fn an_address_trying_many_usernames_waits_too() {
    let app = spawn_app().await;
    let s = &app.state;
    let password = s.add_user(&Actor::cli(), "tinh", Role::Admin, None).await.unwrap();
    let now = Utc::now();
    for n in 0..20 {
        let _ = s.login(&format!("khong.co{n}"), "sai-mat-khau", ELSEWHERE, now).await;
    }
    assert!(matches!(s.login("tinh", &password, ELSEWHERE, now).await, Err(LoginError::Throttled { .. })));
    assert!(s.login("tinh", &password, LOCALHOST, now).await.is_ok());
}

#[tokio::test]
async fn a_flood_of_logins_is_refused_at_once_beyond_the_queue() {
    let app = spawn_app().await;
    let attempts = MAX_WAITING_LOGINS + 8;
    // From as many addresses: one address alone gets no more than its own few places.
    let tries = (0..attempts).map(|n| {
        let s = app.state.clone();
        let ip = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, n as u8 + 1));
        tokio::spawn(async move { s.login(&format!("nguoi{n}"), "sai-mat-khau", ip, Utc::now()).await })
    });
    let results = futures::future::join_all(tries).await;
    let busy = results.iter().filter(|r| matches!(r, Ok(Err(LoginError::Busy)))).count();
    assert!(busy >= 1, "some logins beyond the queue of {MAX_WAITING_LOGINS} are refused: {busy}");
    assert!(busy <= attempts - MAX_WAITING_LOGINS, "the queue itself is served: {busy}");
}

#[tokio::test]
async fn guessing_the_password_through_a_session_is_throttled_too() {
    let app = spawn_app().await;
    let s = &app.state;
    let password = s.add_user(&Actor::cli(), "motcua", Role::Staff, Some("P")).await.unwrap();
    let (_, token) = s.login("motcua", &password, LOCALHOST, Utc::now()).await.unwrap();
    let new = "một mật khẩu mới đủ dài";
    for _ in 0..5 {
        let wrong = s.change_password(&token, "doan-mo", new, LOCALHOST).await;
        assert!(matches!(wrong, Err(AccountServiceError::WrongPassword)), "{wrong:?}");
    }
    let locked = s.change_password(&token, &password, new, LOCALHOST).await;
    assert!(matches!(locked, Err(AccountServiceError::Throttled { .. })), "{locked:?}");
    assert!(matches!(s.login("motcua", &password, LOCALHOST, Utc::now()).await, Err(LoginError::Throttled { .. })));
}

#[tokio::test]
async fn disabling_ends_sessions_at_once_and_the_last_admin_stays() {
    let app = spawn_app().await;
    let s = &app.state;
    let tinh = Actor::new("tinh", Some(LOCALHOST));
    s.add_user(&Actor::cli(), "tinh", Role::Admin, None).await.unwrap();
    let cookie = app.session("motcua", Role::Staff, Some("P")).await;
    assert_eq!(app.page(Some(&cookie), "/staff").await.0, 200);

    s.set_user_disabled(&tinh, "motcua", true).await.unwrap();
    assert_eq!(app.page(Some(&cookie), "/staff").await.0, 401, "the session ended with the account");
    assert!(matches!(
        s.login("motcua", "một mật khẩu mới đủ dài", LOCALHOST, Utc::now()).await,
        Err(LoginError::BadCredentials)
    ));
    s.set_user_disabled(&tinh, "motcua", false).await.unwrap();
    assert!(s.login("motcua", "một mật khẩu mới đủ dài", LOCALHOST, Utc::now()).await.is_ok());

    let reset = s.reset_password(&tinh, "motcua").await.unwrap();
    let (user, _) = s.login("motcua", &reset, LOCALHOST, Utc::now()).await.unwrap();
    assert!(user.must_change_password, "a reset password is a one-time password");

    assert!(matches!(s.set_user_disabled(&tinh, "tinh", true).await, Err(AccountServiceError::OwnAccount)));
    let other = Actor::new("someone", None);
    assert!(matches!(s.set_user_disabled(&other, "tinh", true).await, Err(AccountServiceError::LastAdmin)));
    assert!(matches!(
        s.update_user(&other, "tinh", Role::Manager, Some("D1")).await,
        Err(AccountServiceError::LastAdmin)
    ));
    s.update_user(&tinh, "motcua", Role::Manager, Some("D2")).await.unwrap();
    let users = s.users().await.unwrap();
    let moved = users.iter().find(|u| u.user.username == "motcua").unwrap();
    assert_eq!((moved.user.role, moved.user.agency_code.as_deref()), (Role::Manager, Some("D2")));
}

#[tokio::test]
async fn an_account_list_is_created_whole_or_not_at_all() {
    let app = spawn_app().await;
    let s = &app.state;
    let before = s.users().await.unwrap().len();
    let bad = "username,role,agency\nlan.nv,manager,D1\nhung.tt,staff,NOPE\nlan.nv,staff,P\n";
    let error = s.import_users(&Actor::cli(), bad).await.unwrap_err().to_string();
    assert_eq!(error, "Dòng 4 (lan.nv): tên đăng nhập trùng với dòng 2");
    let unknown = s.import_users(&Actor::cli(), "username,role,agency\nlan.nv,manager,D1\nhung.tt,staff,NOPE\n").await;
    assert_eq!(unknown.unwrap_err().to_string(), "Dòng 3 (hung.tt): không có cơ quan, đơn vị mã NOPE");
    assert_eq!(s.users().await.unwrap().len(), before, "nothing was created");

    let created = s
        .import_users(&Actor::cli(), "\u{feff}username,role,agency\r\nlan.nv,manager,D1\r\nhung.tt,staff,P\r\n")
        .await
        .unwrap();
    assert_eq!(created.iter().map(|(u, _)| u.as_str()).collect::<Vec<_>>(), ["lan.nv", "hung.tt"]);
    let (user, _) = s.login("hung.tt", &created[1].1, LOCALHOST, Utc::now()).await.unwrap();
    assert_eq!((user.role, user.must_change_password), (Role::Staff, true));
}

#[tokio::test]
async fn logins_and_changes_are_in_the_audit_log_with_their_address() {
    let app = spawn_app().await;
    let s = &app.state;
    let password = s.add_user(&Actor::cli(), "tinh", Role::Admin, None).await.unwrap();
    let _ = s.login("tinh", "sai-mat-khau", ELSEWHERE, Utc::now()).await;
    s.login("tinh", &password, LOCALHOST, Utc::now()).await.unwrap();
    let log = s.audit_log(&AuditFilter { actor: Some("tinh".into()), ..AuditFilter::default() }, 10).await.unwrap();
    let seen: Vec<(AuditAction, Option<&str>)> = log.iter().map(|e| (e.action, e.ip.as_deref())).collect();
    assert_eq!(
        seen,
        [(AuditAction::LoginSucceeded, Some("127.0.0.1")), (AuditAction::LoginFailed, Some("203.0.113.9"))]
    );
    let added = s.audit_log(&AuditFilter { action: Some(AuditAction::UserAdded), ..AuditFilter::default() }, 10).await;
    assert!(added.unwrap().iter().any(|e| e.actor == "cli" && e.subject.starts_with("tinh")));
    // Append-only: the database itself refuses to change or delete a line.
    let url = app.database_url.clone();
    let pool = common::sql(&url).await;
    for sql in ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"] {
        let refused = sqlx::query(sql).execute(&pool).await.unwrap_err().to_string();
        assert!(refused.contains("append-only"), "{sql}: {refused}");
    }
}

#[test]
fn the_cli_creates_disables_and_lists_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_blocking(dir.path(), "cli.db");
    let run = |args: &[&str]| common::hailong(&url, args);
    let created = run(&["user", "add", "--username", "tinh", "--role", "admin"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let out = String::from_utf8(created.stdout).unwrap();
    assert!(out.contains("Mật khẩu dùng một lần: "), "{out}");
    let bad = run(&["user", "add", "--username", "tinh2", "--role", "root"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("vai trò"));
    run(&["user", "add", "--username", "tinh2", "--role", "admin"]);
    assert!(run(&["user", "disable", "--username", "tinh2"]).status.success());
    let list = run(&["user", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let tinh2 = list.as_array().unwrap().iter().find(|u| u["username"] == "tinh2").unwrap();
    assert_eq!(tinh2["disabled"], true);
}

#[test]
fn a_too_short_admin_token_is_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_blocking(dir.path(), "cli.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hailong"))
        .args(["migrate"])
        .env("HAILONG_DATABASE_URL", &url)
        .env("HAILONG_ADMIN_TOKEN", "")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ít nhất 16 ký tự"));
}

/// What `hailong serve` over `database_url` writes to stderr until it serves.
fn serve_start_lines(database_url: &str) -> String {
    use std::io::BufRead;
    let port = common::process::free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hailong"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("HAILONG_DATABASE_URL", database_url)
        .envs(common::on_postgres().then_some(("HAILONG_LINK_SECRET", common::LINK_SECRET)))
        .env("LEPTOS_SITE_ROOT", "/nonexistent")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    for line in std::io::BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if line.contains("đang phục vụ tại") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    said
}

#[tokio::test]
async fn demo_accounts_must_choose_a_password_and_serve_warns_until_they_do() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database(dir.path(), "demo.db").await;
    let demo = common::hailong(&url, &["demo"]);
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let printed = String::from_utf8(demo.stdout).unwrap();
    assert!(printed.contains("admin / hailong-demo-admin") && printed.contains("phải chọn mật khẩu mới"), "{printed}");
    let warned = serve_start_lines(&url);
    assert!(warned.contains("CẢNH BÁO") && warned.contains("admin, lanhdao.stp, motcua.ttpvhcc"), "{warned}");

    let state = app::service::AppState::start(&url, app::service::Settings::default()).await.unwrap();
    for (username, password) in [
        ("admin", "hailong-demo-admin"),
        ("lanhdao.stp", "hailong-demo-manager"),
        ("motcua.ttpvhcc", "hailong-demo-staff"),
    ] {
        let (user, token) = state.login(username, password, LOCALHOST, Utc::now()).await.unwrap();
        assert!(user.must_change_password, "{username} must choose a password first");
        let home = state.change_password(&token, password, "mật khẩu riêng đủ dài", LOCALHOST).await.unwrap();
        assert_eq!(home, user.role);
        if username == "admin" {
            let left = server::demo::accounts_still_on_demo_password(&state).await.unwrap();
            assert_eq!(left, ["lanhdao.stp", "motcua.ttpvhcc"]);
        }
    }
    state.close().await;
    let quiet = serve_start_lines(&url);
    assert!(quiet.contains("đang phục vụ tại") && !quiet.contains("CẢNH BÁO"), "{quiet}");
}
