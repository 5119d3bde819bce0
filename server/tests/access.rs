//! Who may see which page: every role against the admin view, over real HTTP.

mod common;

use app::domain::account::Role;
use chrono::Utc;
use common::{spawn_app, TestApp};

/// Creates an account, replaces its one-time password, and returns its session cookie.
async fn session(app: &TestApp, username: &str, role: Role, agency: Option<&str>) -> String {
    let password = app.state.add_user("test", username, role, agency).await.unwrap();
    let (_, token) = app.state.login(username, &password, Utc::now()).await.unwrap();
    app.state.change_password(&token, &password, "một mật khẩu mới đủ dài").await.unwrap();
    format!("hailong_session={token}")
}

async fn page(app: &TestApp, cookie: Option<&str>, path: &str) -> (u16, String) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut request = client.get(format!("{}{path}", app.base));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn admin_page(app: &TestApp, cookie: Option<&str>, query: &str) -> (u16, String) {
    page(app, cookie, &format!("/admin{query}")).await
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

#[tokio::test]
async fn staff_pages_and_the_procedure_list_by_role() {
    let app = spawn_app().await;
    let admin = session(&app, "tinh", Role::Admin, None).await;
    let manager = session(&app, "lanhdao.d1", Role::Manager, Some("D1")).await;
    let staff = session(&app, "motcua", Role::Staff, Some("P")).await;
    app.state.invite(None, "HS-ACCESS-1", "KS", "D1").await.unwrap();

    for path in ["/staff", "/staff/invitations/HS-ACCESS-1", "/admin/procedures"] {
        assert_eq!(page(&app, None, path).await.0, 401, "{path} anonymous");
        assert_eq!(page(&app, Some(&manager), path).await.0, 403, "{path} manager");
        assert_eq!(page(&app, Some(&admin), path).await.0, 200, "{path} admin");
    }
    let (status, body) = page(&app, Some(&staff), "/staff/invitations/HS-ACCESS-1").await;
    assert_eq!(status, 200);
    assert!(body.contains("<svg") && body.contains("/s/"), "the officer sees the link and its QR code");
    assert!(!body.contains("Rất hài lòng"), "never an answer");
    assert_eq!(page(&app, Some(&staff), "/admin/procedures").await.0, 403);
    assert_eq!(page(&app, Some(&staff), "/staff/invitations/NO-SUCH").await.0, 403);
}

#[tokio::test]
async fn a_one_time_password_must_be_changed_before_any_page() {
    let app = spawn_app().await;
    let password = app.state.add_user("test", "moi", Role::Admin, None).await.unwrap();
    let (_, token) = app.state.login("moi", &password, Utc::now()).await.unwrap();
    let cookie = format!("hailong_session={token}");
    for path in ["/admin", "/staff", "/admin/procedures"] {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let response = client
            .get(format!("{}{path}", app.base))
            .header("cookie", &cookie)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{path}: {}", response.status());
        assert_eq!(response.headers()["location"], "/account/password", "{path}");
    }
    assert_eq!(page(&app, Some(&cookie), "/account/password").await.0, 200);
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused() {
    let app = spawn_app().await;
    let post = |origin: Option<&'static str>| {
        let mut request = app.client.post(format!("{}/kiosk", app.base)).form(&[("nav", "start")]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    assert_eq!(post(Some("https://evil.example")).await.unwrap().status(), 403);
    // same origin, or no Origin at all (not a browser), reaches the handler: 401 here, unpaired
    let own = Box::leak(app.base.clone().into_boxed_str());
    assert_eq!(post(Some(own)).await.unwrap().status(), 401);
    assert_eq!(post(None).await.unwrap().status(), 401);
}

/// Every page, form endpoint and API route, for every role: who gets in and who gets which 4xx.
#[tokio::test]
async fn every_route_for_every_role() {
    use leptos::server_fn::ServerFn;
    let app = spawn_app().await;
    let admin = session(&app, "tinh", Role::Admin, None).await;
    let manager = session(&app, "lanhdao.d1", Role::Manager, Some("D1")).await;
    let staff = session(&app, "motcua", Role::Staff, Some("P")).await;
    let (link, _) = app.state.invite(None, "HS-MATRIX-1", "KS", "D1").await.unwrap();
    let survey = format!("/s/{}", link.token);
    let save_procedure = <app::admin::procedures::SaveProcedure as ServerFn>::PATH;
    let mark_sent = <app::admin::outbox::MarkSentByHand as ServerFn>::PATH;
    let invite = <app::staff::server::CreateInvitation as ServerFn>::PATH;
    let dashboard = <app::admin::server::AdminDashboard as ServerFn>::PATH;

    // (method, path, form body, [anonymous, staff, manager of D1, admin])
    let routes: Vec<(&str, String, &str, [u16; 4])> = vec![
        ("GET", "/".into(), "", [200, 200, 200, 200]),
        ("GET", "/admin".into(), "", [401, 403, 200, 200]),
        ("GET", "/admin?agency=D2".into(), "", [401, 403, 403, 200]),
        ("GET", "/admin/procedures".into(), "", [401, 403, 403, 200]),
        ("GET", "/admin/outbox".into(), "", [401, 403, 403, 200]),
        ("GET", "/staff".into(), "", [401, 200, 403, 200]),
        ("GET", "/staff/invitations/HS-MATRIX-1".into(), "", [401, 200, 403, 200]),
        ("GET", "/account/password".into(), "", [401, 200, 200, 200]),
        ("GET", survey.clone(), "", [200, 200, 200, 200]),
        ("GET", "/kiosk".into(), "", [401, 401, 401, 401]),
        ("POST", save_procedure.into(), "code=NEW&name=Thủ tục mới", [403, 403, 403, 302]),
        ("POST", mark_sent.into(), "id=1", [403, 403, 403, 404]),
        ("POST", invite.into(), "dossier_code=HS-MATRIX-2&procedure=KS&agency=D1", [403, 302, 403, 302]),
        // A server function posted as a no-JS form redirects back (302) when it succeeds.
        ("POST", dashboard.into(), "agency=D2", [401, 403, 403, 302]),
        ("GET", "/api/v1/indices?agency=P".into(), "", [401, 401, 401, 401]),
        ("GET", "/api/v1/invitations/HS-MATRIX-1".into(), "", [401, 401, 401, 401]),
        ("POST", "/api/v1/invitations".into(), "", [401, 401, 401, 401]),
    ];
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut wrong = Vec::new();
    for (method, path, body, expected) in &routes {
        for (who, cookie) in [None, Some(&staff), Some(&manager), Some(&admin)].into_iter().enumerate() {
            let mut request =
                client.request(method.parse().unwrap(), format!("{}{path}", app.base)).header("accept", "text/html");
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie.as_str());
            }
            if *method == "POST" {
                request = request.header("content-type", "application/x-www-form-urlencoded").body(body.to_string());
            }
            let status = request.send().await.unwrap().status().as_u16();
            if status != expected[who] {
                wrong.push(format!(
                    "{method} {path} as {}: {status}, expected {}",
                    ["anonymous", "staff", "manager", "admin"][who],
                    expected[who]
                ));
            }
        }
    }

    // Bearer credentials of machines: each opens its own API and no other.
    let key = app.state.register_api_key("test", "D1").await.unwrap();
    let answer =
        serde_json::json!({"id": uuid::Uuid::new_v4().to_string(), "agency": "D1", "answers": {"A1": 5}}).to_string();
    let invitation = r#"{"dossier_code": "HS-MATRIX-3", "procedure": "KS", "agency": "G"}"#;
    let apis: [(&str, &str, &str, [u16; 3]); 5] = [
        // (method, path, JSON body, [admin token, API key of D1, kiosk token])
        ("GET", "/api/v1/indices?agency=P", "", [200, 401, 401]),
        ("GET", "/api/v1/invitations/HS-MATRIX-1", "", [401, 200, 401]),
        ("POST", "/api/v1/invitations", invitation, [401, 201, 401]),
        ("POST", "/api/v1/responses", &answer, [401, 401, 201]),
        ("GET", "/admin", "", [401, 401, 401]),
    ];
    for (method, path, body, expected) in apis {
        for (who, token) in [common::ADMIN_TOKEN, key.as_str(), app.kiosk_token.as_str()].into_iter().enumerate() {
            let request = client
                .request(method.parse().unwrap(), format!("{}{path}", app.base))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body.to_string());
            let status = request.send().await.unwrap().status().as_u16();
            if status != expected[who] {
                let name = ["admin token", "API key", "kiosk token"][who];
                wrong.push(format!("{method} {path} with the {name}: {status}, expected {}", expected[who]));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[tokio::test]
async fn the_invitation_form_checks_contacts_before_creating_anything() {
    use leptos::server_fn::ServerFn;
    let app = spawn_app().await;
    let staff = session(&app, "motcua", Role::Staff, Some("P")).await;
    let path = <app::staff::server::CreateInvitation as ServerFn>::PATH;
    let post = |form: &'static str| {
        app.client
            .post(format!("{}{path}", app.base))
            .header("cookie", &staff)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    for (form, message) in [
        ("dossier_code=HS-F-1&procedure=KS&agency=D1&phone=12345", "Số điện thoại di động không hợp lệ"),
        ("dossier_code=HS-F-1&procedure=KS&agency=D1&email=dan%40", "Địa chỉ e-mail không hợp lệ"),
        ("dossier_code=HS%2FF&procedure=KS&agency=D1&phone=0912345678", "Mã hồ sơ"),
    ] {
        let response = post(form).await.unwrap();
        assert_eq!(response.status(), 422, "{form}");
        assert!(response.text().await.unwrap().contains(message), "{form}");
    }
    assert!(app.state.invitation_of_dossier("HS-F-1").await.unwrap().is_none());
    assert!(app.state.db.stored_contacts().await.unwrap().is_empty());

    let response = post("dossier_code=HS-F-2&procedure=KS&agency=D1&phone=%2B84+912+345+678&email=").await.unwrap();
    assert!(response.status().is_success() || response.status().is_redirection(), "{}", response.status());
    let link = app.state.invitation_of_dossier("HS-F-2").await.unwrap().unwrap();
    let deliveries = app.state.deliveries_of(&link.invitation).await.unwrap();
    assert_eq!(deliveries.len(), 1, "a blank e-mail sends nothing: {deliveries:?}");
    assert_eq!(deliveries[0].recipient_hint, "091•••••78");

    // The officer's page lists it with how the link went out; another point's officer does not see it.
    let (status, body) = page(&app, Some(&staff), "/staff").await;
    assert_eq!(status, 200);
    assert!(body.contains("Lời mời gần đây") && body.contains("HS-F-2"), "{body}");
    assert!(body.contains("Tin nhắn SMS: chờ quản trị gửi"), "{body}");
    let elsewhere = session(&app, "motcua.d2", Role::Staff, Some("D2")).await;
    let (_, body) = page(&app, Some(&elsewhere), "/staff").await;
    assert!(!body.contains("HS-F-2"));
}
