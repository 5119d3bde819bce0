//! Who may see which page: every role against the admin view, over real HTTP.

mod common;

use app::domain::account::Role;
use chrono::Utc;
use common::{spawn_app, TestApp};

/// Creates an account and returns its session cookie.
async fn session(app: &TestApp, username: &str, role: Role, agency: Option<&str>) -> String {
    let password = app.state.add_user("test", username, role, agency).await.unwrap();
    let (_, token) = app.state.login(username, &password, Utc::now()).await.unwrap();
    format!("hailong_session={token}")
}

async fn admin_page(app: &TestApp, cookie: Option<&str>, query: &str) -> (u16, String) {
    let mut request = app.client.get(format!("{}/admin{query}", app.base));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn each_role_sees_what_it_may_and_nothing_else() {
    let app = spawn_app().await;
    let admin = session(&app, "tinh", Role::Admin, None).await;
    let manager = session(&app, "lanhdao.d1", Role::Manager, Some("D1")).await;
    let staff = session(&app, "motcua", Role::Staff, Some("P")).await;

    let (status, body) = admin_page(&app, None, "").await;
    assert_eq!(status, 401);
    assert!(body.contains("Cần đăng nhập"));

    let (status, body) = admin_page(&app, Some(&admin), "?agency=D2").await;
    assert_eq!(status, 200);
    assert!(body.contains("Cơ quan D2") && body.contains("overall-index"));

    let (status, body) = admin_page(&app, Some(&manager), "?agency=G").await;
    assert_eq!(status, 200, "a manager sees their sub-units");
    assert!(body.contains("overall-index"));
    let (status, body) = admin_page(&app, Some(&manager), "?agency=D2").await;
    assert_eq!(status, 403, "a manager of D1 must not see its sibling D2");
    assert!(!body.contains("overall-index"));
    let (status, _) = admin_page(&app, Some(&manager), "?agency=P").await;
    assert_eq!(status, 403, "nor the province above");
    let (_, body) = admin_page(&app, Some(&manager), "").await;
    assert!(!body.contains("value=\"D2\""), "the agency list holds only the manager's subtree");

    let (status, body) = admin_page(&app, Some(&staff), "").await;
    assert_eq!(status, 403);
    assert!(body.contains("không xem được chỉ số"));

    let (status, _) = admin_page(&app, Some("hailong_session=forged"), "").await;
    assert_eq!(status, 401);
}
