//! Who may see which page: every role against every page, form endpoint and API, over real HTTP.

mod common;

use app::domain::account::Role;
use app::domain::audit::Actor;
use chrono::Utc;
use common::{spawn_app, LOCALHOST};

/// One test of this file at a time. Run side by side (each on a tokio runtime of its own, in one
/// process), one of them now and then got no answer from its server for a while (about 1 run in
/// 7, since before 2026-12-06; never alone). A guess not yet checked: Leptos's task spawner is
/// one per process, and a page render can wake on another test's runtime, which then ends. See
/// the closing note of 2026-12-07; `serve` runs one runtime and is not affected by this.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn each_role_sees_what_it_may_and_nothing_else() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let admin = app.session("tinh", Role::Admin, None).await;
    let manager = app.session("lanhdao.d1", Role::Manager, Some("D1")).await;
    let staff = app.session("motcua", Role::Staff, Some("P")).await;

    let (status, body) = app.page(None, "/admin").await;
    assert_eq!(status, 401);
    assert!(body.contains("Cần đăng nhập"));

    let (status, body) = app.page(Some(&admin), "/admin?agency=D2").await;
    assert_eq!(status, 200);
    assert!(body.contains("Cơ quan D2") && body.contains("overall-index"));

    let (status, body) = app.page(Some(&manager), "/admin?agency=G").await;
    assert_eq!(status, 200, "a manager sees their sub-units");
    assert!(body.contains("overall-index"));
    let (status, body) = app.page(Some(&manager), "/admin?agency=D2").await;
    assert_eq!(status, 403, "a manager of D1 must not see its sibling D2");
    assert!(!body.contains("overall-index"));
    let (status, _) = app.page(Some(&manager), "/admin?agency=P").await;
    assert_eq!(status, 403, "nor the province above");
    let (_, body) = app.page(Some(&manager), "/admin").await;
    assert!(!body.contains("value=\"D2\""), "the agency list holds only the manager's subtree");

    let (status, body) = app.page(Some(&staff), "/admin").await;
    assert_eq!(status, 403);
    assert!(body.contains("không xem được chỉ số"));

    let (status, _) = app.page(Some("hailong_session=forged"), "/admin").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn staff_see_their_points_invitations_and_another_agencys_dossier_does_not_exist() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let staff = app.session("motcua", Role::Staff, Some("P")).await;
    let elsewhere = app.session("motcua.d2", Role::Staff, Some("D2")).await;
    common::issue(&app.state, "HS-ACCESS-1", "KS", "D1").await;

    let (status, body) = app.page(Some(&staff), "/staff/invitations/D1/HS-ACCESS-1").await;
    assert_eq!(status, 200);
    assert!(body.contains("Chưa trả lời"), "the officer sees where it stands");
    assert!(!body.contains("<svg") && !body.contains("/s/"), "never the one-stop software's link or QR code");
    assert!(!body.contains("Rất hài lòng"), "never an answer");
    // Another point's officer, a wrong agency, an unknown dossier: all the same 404.
    let not_there = [
        (&elsewhere, "/staff/invitations/D1/HS-ACCESS-1"),
        (&staff, "/staff/invitations/D2/HS-ACCESS-1"),
        (&staff, "/staff/invitations/D1/NO-SUCH"),
    ];
    for (cookie, path) in not_there {
        let (status, body) = app.page(Some(cookie), path).await;
        assert_eq!(status, 404, "{path}");
        assert!(body.contains("Không có lời mời khảo sát nào cho mã hồ sơ này"), "{path}");
    }
}

#[tokio::test]
async fn a_one_time_password_must_be_changed_before_any_page() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let password = app.state.add_user(&Actor::cli(), "moi", Role::Admin, None).await.unwrap();
    let (_, token) = app.state.login("moi", &password, LOCALHOST, Utc::now()).await.unwrap();
    let cookie = format!("hailong_session={token}");
    for path in ["/admin", "/staff", "/admin/procedures", "/admin/users"] {
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
    assert_eq!(app.page(Some(&cookie), "/account/password").await.0, 200);
}

#[tokio::test]
async fn browser_posts_must_come_from_the_public_url() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = spawn_app().await;
    let admin = app.session("tinh", Role::Admin, None).await;
    let path = <app::admin::procedures::SaveProcedure as leptos::server_fn::ServerFn>::PATH;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let post = |origin: Option<&str>, cookie: Option<&str>, fetch_site: Option<&str>| {
        let mut request = client
            .post(format!("{}{path}", app.base))
            .header("accept", "text/html")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("code=X1&name=Thủ tục thử");
        for (name, value) in [("origin", origin), ("cookie", cookie), ("sec-fetch-site", fetch_site)] {
            if let Some(value) = value {
                request = request.header(name, value);
            }
        }
        request.send()
    };
    let own = app.base.as_str();
    // Another site; a Host header cannot make another origin ours.
    assert_eq!(post(Some("https://evil.example"), Some(&admin), None).await.unwrap().status(), 403);
    let spoofed = client
        .post(format!("{}{path}", app.base))
        .header("origin", "http://evil.example")
        .header("host", "evil.example")
        .header("cookie", &admin)
        .form(&[("code", "X1"), ("name", "Thủ tục thử")])
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), 403);
    // Our cookie without any sign of where the form came from, or from another site.
    assert_eq!(post(None, Some(&admin), None).await.unwrap().status(), 403);
    assert_eq!(post(None, Some(&admin), Some("cross-site")).await.unwrap().status(), 403);
    assert_eq!(post(Some("null"), Some(&admin), None).await.unwrap().status(), 403);
    assert_eq!(post(Some("null"), None, Some("cross-site")).await.unwrap().status(), 403, "no login from another site");
    assert!(app.state.procedures().await.unwrap().iter().all(|(code, _)| code != "X1"), "nothing was saved");
    // A hydrated page opened at another address (a configuration mistake, not a network error):
    // its server function gets the refusal in the encoding its client reads, naming our address.
    let hydrated = client
        .post(format!("{}{path}", app.base))
        .header("origin", "http://192.168.1.10:3000")
        .header("accept", "application/json")
        .header("cookie", &admin)
        .form(&[("code", "X1"), ("name", "Thủ tục thử")])
        .send()
        .await
        .unwrap();
    assert_eq!(hydrated.status(), 403);
    let error: leptos::prelude::ServerFnError =
        leptos::server_fn::error::FromServerFnError::de(hydrated.bytes().await.unwrap());
    assert_eq!(
        error,
        leptos::prelude::ServerFnError::ServerError(format!(
            "Yêu cầu không gửi từ trang của hệ thống ({own}) nên bị từ chối. Hãy mở hệ thống đúng địa chỉ này."
        ))
    );
    // From our own page: saved.
    let saved = post(Some(own), Some(&admin), None).await.unwrap();
    assert!(saved.status().is_redirection(), "{}", saved.status());
    assert!(post(None, Some(&admin), Some("same-origin")).await.unwrap().status().is_redirection());
    // A form posted without JavaScript: `Origin: null` (our Referrer-Policy) and same-origin.
    assert!(post(Some("null"), Some(&admin), Some("same-origin")).await.unwrap().status().is_redirection());
    // No cookie and no Origin (not a browser): reaches the handler, which wants a login.
    assert_eq!(post(None, None, None).await.unwrap().status(), 401);
}

/// Every page, form endpoint and API route, for every role: who gets in and who gets which 4xx.
#[tokio::test]
async fn every_route_for_every_role() {
    let _one = ONE_AT_A_TIME.lock().await;
    use app::admin::{agencies, dossiers, keys, kiosks, outbox, procedures, users};
    use app::report::server as report;
    use leptos::server_fn::ServerFn;
    let app = spawn_app().await;
    let admin = app.session("tinh", Role::Admin, None).await;
    let manager = app.session("lanhdao.d1", Role::Manager, Some("D1")).await;
    let staff = app.session("motcua", Role::Staff, Some("P")).await;
    let link = common::issue(&app.state, "HS-MATRIX-1", "KS", "D1").await;
    let survey = format!("/s/{}", link.token);
    // Uploaded by the admin of the matrix: only they may apply it.
    let staged = app.state.stage_registry_import(&Actor::new("tinh", None), common::REGISTRY).await.unwrap();
    let spare_kiosk = app.state.register_kiosk(&Actor::cli(), "P", "Kiosk dự phòng").await.unwrap().kiosk_id;
    let (spare_key, _) = app.state.register_api_key(&Actor::cli(), "D2", "Phần mềm thử").await.unwrap();
    app.state.add_user(&Actor::cli(), "canbo.thu", Role::Staff, Some("P")).await.unwrap();

    let all = [200, 200, 200, 200];
    let admin_only = [401, 403, 403, 200];
    let change = |ok: u16| [401, 403, 403, ok];
    // (method, path, form body, [anonymous, staff, manager of D1, admin])
    let routes: Vec<(&str, String, String, [u16; 4])> = vec![
        ("GET", "/".into(), "".into(), all),
        ("GET", "/kiosk/pair".into(), "".into(), all),
        ("GET", "/admin".into(), "".into(), [401, 403, 200, 200]),
        ("GET", "/admin?agency=D2".into(), "".into(), [401, 403, 403, 200]),
        ("GET", "/admin?agency=G&from=2026-13-01".into(), "".into(), [401, 403, 422, 422]),
        ("GET", "/admin?agency=G&basis=other".into(), "".into(), [401, 403, 422, 422]),
        ("GET", "/admin/rankings?kind=commune".into(), "".into(), [401, 403, 200, 200]),
        ("GET", "/admin/rankings?kind=province".into(), "".into(), [401, 403, 422, 422]),
        ("GET", "/admin/rankings?agency=D2".into(), "".into(), [401, 403, 403, 200]),
        ("GET", "/admin/breakdowns?agency=G&by=gender".into(), "".into(), [401, 403, 200, 200]),
        ("GET", "/admin/breakdowns?agency=G&by=shoe_size".into(), "".into(), [401, 403, 422, 422]),
        ("GET", "/admin/breakdowns?agency=D2&by=gender".into(), "".into(), [401, 403, 403, 200]),
        ("GET", "/api/v1/breakdowns?agency=G&by=gender".into(), "".into(), [401, 403, 200, 200]),
        ("GET", "/api/v1/breakdowns?agency=D2&by=gender".into(), "".into(), [401, 403, 404, 200]),
        ("GET", "/api/v1/breakdowns?agency=G&by=shoe_size".into(), "".into(), [401, 403, 422, 422]),
        ("GET", "/api/v1/rankings?kind=department".into(), "".into(), [401, 403, 200, 200]),
        ("GET", "/api/v1/rankings?kind=planet".into(), "".into(), [401, 403, 422, 422]),
        ("GET", "/api/v1/expectations?agency=G".into(), "".into(), [401, 403, 200, 200]),
        ("GET", "/api/v1/expectations?agency=P".into(), "".into(), [401, 403, 404, 200]),
        ("GET", "/api/v1/trend?agency=D1&from=2026-01-01".into(), "".into(), [401, 403, 200, 200]),
        ("GET", "/api/v1/trend?agency=D2".into(), "".into(), [401, 403, 404, 200]),
        ("GET", "/admin/report?agency=D1".into(), "".into(), [401, 403, 200, 200]),
        ("GET", "/admin/comments?agency=G".into(), "".into(), [401, 403, 200, 200]),
        ("GET", "/admin/comments?agency=D2".into(), "".into(), [401, 403, 403, 200]),
        ("GET", "/admin/report?agency=D2".into(), "".into(), [401, 403, 403, 200]),
        ("GET", "/api/v1/exports/responses.csv?agency=G".into(), "".into(), [401, 403, 200, 200]),
        ("GET", "/api/v1/exports/responses.xlsx?agency=D2".into(), "".into(), [401, 403, 404, 200]),
        ("GET", "/api/v1/exports/ranking.xlsx?kind=commune".into(), "".into(), [401, 403, 200, 200]),
        ("GET", "/api/v1/exports/ranking.xlsx?kind=province".into(), "".into(), [401, 403, 422, 422]),
        ("GET", "/api/v1/exports/expectations.csv?agency=P".into(), "".into(), [401, 403, 404, 200]),
        ("GET", "/admin/procedures".into(), "".into(), admin_only),
        ("GET", "/admin/dossiers".into(), "".into(), admin_only),
        ("GET", "/admin/outbox".into(), "".into(), admin_only),
        ("GET", "/admin/agencies".into(), "".into(), admin_only),
        ("GET", format!("/admin/agencies/import/{staged}"), "".into(), admin_only),
        ("GET", "/admin/agencies.csv".into(), "".into(), admin_only),
        ("GET", "/admin/kiosks".into(), "".into(), admin_only),
        ("GET", "/admin/users".into(), "".into(), admin_only),
        ("GET", "/admin/keys".into(), "".into(), admin_only),
        ("GET", "/admin/audit".into(), "".into(), admin_only),
        ("GET", "/staff".into(), "".into(), [401, 200, 403, 200]),
        ("GET", "/staff/invitations/D1/HS-MATRIX-1".into(), "".into(), [401, 200, 403, 200]),
        ("GET", "/staff/invitations/D2/HS-MATRIX-1".into(), "".into(), [401, 404, 403, 404]),
        ("GET", "/account/password".into(), "".into(), [401, 200, 200, 200]),
        ("GET", survey.clone(), "".into(), all),
        ("GET", "/kiosk".into(), "".into(), [401, 401, 401, 401]),
        ("POST", "/admin/agencies/import".into(), "file=x".into(), change(400)),
        ("POST", "/admin/users/import".into(), "file=x".into(), change(400)),
        // Before the agency forms below change the registry it was previewed against (409 then).
        ("POST", agencies::ApplyImport::PATH.into(), format!("id={staged}"), change(302)),
        ("POST", procedures::SaveProcedure::PATH.into(), "code=NEW&name=Thủ tục mới".into(), change(302)),
        ("POST", dossiers::SaveDossiers::PATH.into(), "csv=D1,2026-10,120".into(), change(302)),
        ("POST", dossiers::SaveDossiers::PATH.into(), "csv=D1,2026-10,nhiều".into(), change(422)),
        ("POST", dossiers::SaveDossiers::PATH.into(), "csv=KHONGCO,2026-10,5".into(), change(422)),
        ("POST", outbox::MarkSentByHand::PATH.into(), "id=1".into(), change(404)),
        (
            "POST",
            agencies::SaveAgency::PATH.into(),
            "code=D3&name=Cơ quan D3&kind=department&parent=P".into(),
            change(302),
        ),
        ("POST", agencies::CloseAgency::PATH.into(), "code=G&closes_on=2030-01-01&successors=NOPE".into(), change(422)),
        ("POST", kiosks::AddKiosk::PATH.into(), "name=Kiosk mới&point=P".into(), change(302)),
        ("POST", kiosks::RepairKiosk::PATH.into(), format!("id={spare_kiosk}"), change(302)),
        ("POST", kiosks::UpdateKiosk::PATH.into(), format!("id={spare_kiosk}&name=Kiosk đổi tên&point=P"), change(302)),
        ("POST", kiosks::RevokeKiosk::PATH.into(), format!("id={spare_kiosk}"), change(302)),
        ("POST", users::AddAccount::PATH.into(), "username=moi.tao&role=staff&agency=P".into(), change(302)),
        ("POST", users::UpdateAccount::PATH.into(), "username=canbo.thu&role=manager&agency=D2".into(), change(302)),
        ("POST", users::ResetAccountPassword::PATH.into(), "username=canbo.thu".into(), change(302)),
        ("POST", users::SetAccountDisabled::PATH.into(), "username=canbo.thu&disabled=true".into(), change(302)),
        ("POST", keys::AddKey::PATH.into(), "name=Phần mềm mới&agency=D1".into(), change(302)),
        ("POST", keys::RevokeKey::PATH.into(), format!("id={spare_key}"), change(302)),
        ("POST", app::survey::pair::PairThisKiosk::PATH.into(), "code=00000000".into(), [404, 404, 404, 404]),
        (
            "POST",
            app::staff::server::CreateInvitation::PATH.into(),
            "dossier_code=HS-MATRIX-2&procedure=KS&agency=D1".into(),
            [401, 302, 403, 302],
        ),
        // The one-stop software's link cannot be sent to a number an officer types (409).
        (
            "POST",
            app::staff::server::CreateInvitation::PATH.into(),
            "dossier_code=HS-MATRIX-1&procedure=KS&agency=D1&phone=0987654321".into(),
            [401, 409, 403, 409],
        ),
        // A loader posted as a no-JS form redirects back (302) when it succeeds.
        ("POST", report::ReportDashboard::PATH.into(), "agency=D2".into(), [401, 403, 403, 302]),
        ("POST", report::ReportRanking::PATH.into(), "kind=commune".into(), [401, 403, 302, 302]),
        ("POST", report::ReportBreakdown::PATH.into(), "agency=G&by=gender".into(), [401, 403, 302, 302]),
        ("POST", report::ReportPrint::PATH.into(), "agency=D2".into(), [401, 403, 403, 302]),
        (
            "POST",
            app::report::server::ModerateComment::PATH.into(),
            "id=none&approve=true&back=/admin".into(),
            change(404),
        ),
    ];
    // A request that gets no answer fails with its route rather than hanging the suite.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let mut wrong = Vec::new();
    for (method, path, body, expected) in &routes {
        for (who, cookie) in [None, Some(&staff), Some(&manager), Some(&admin)].into_iter().enumerate() {
            let mut request = client
                .request(method.parse().unwrap(), format!("{}{path}", app.base))
                .header("accept", "text/html")
                .header("origin", &app.base);
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie.as_str());
            }
            if *method == "POST" {
                request = request.header("content-type", "application/x-www-form-urlencoded").body(body.clone());
            }
            let sent = request.send().await.unwrap_or_else(|e| panic!("{method} {path} as {who}: {e:?}"));
            let status = sent.status().as_u16();
            sent.bytes().await.unwrap_or_else(|e| panic!("{method} {path} as {who}: {e:?}"));
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
    let (_, key) = app.state.register_api_key(&Actor::cli(), "D1", "Phần mềm một cửa").await.unwrap();
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
    let _one = ONE_AT_A_TIME.lock().await;
    use leptos::server_fn::ServerFn;
    let app = spawn_app().await;
    let staff = app.session("motcua", Role::Staff, Some("P")).await;
    let path = <app::staff::server::CreateInvitation as ServerFn>::PATH;
    for (form, message) in [
        ("dossier_code=HS-F-1&procedure=KS&agency=D1&phone=12345", "Số điện thoại di động không hợp lệ"),
        ("dossier_code=HS-F-1&procedure=KS&agency=D1&email=dan%40", "Địa chỉ e-mail không hợp lệ"),
        ("dossier_code=HS%2FF&procedure=KS&agency=D1&phone=0912345678", "Mã hồ sơ"),
    ] {
        let response = app.post_form(path, Some(&staff), form).await;
        assert_eq!(response.status(), 422, "{form}");
        assert!(response.text().await.unwrap().contains(message), "{form}");
    }
    assert!(app.state.invitation_of_dossier("D1", "HS-F-1").await.unwrap().is_none());
    assert!(app.state.stored_contacts().await.unwrap().is_empty());

    let response = app
        .post_form(path, Some(&staff), "dossier_code=HS-F-2&procedure=KS&agency=D1&phone=%2B84+912+345+678&email=")
        .await;
    assert!(response.status().is_success() || response.status().is_redirection(), "{}", response.status());
    let invitation = app.state.invitation_of_dossier("D1", "HS-F-2").await.unwrap().unwrap();
    let deliveries = app.state.deliveries_of(&invitation).await.unwrap();
    assert_eq!(deliveries.len(), 1, "a blank e-mail sends nothing: {deliveries:?}");
    assert_eq!(deliveries[0].recipient_hint, "091•••••78");

    // The officer's page lists it with how the link went out; another point's officer does not see it.
    let (status, body) = app.page(Some(&staff), "/staff").await;
    assert_eq!(status, 200);
    assert!(body.contains("Lời mời gần đây") && body.contains("HS-F-2"), "{body}");
    assert!(body.contains("Tin nhắn SMS: chờ quản trị gửi"), "{body}");
    let elsewhere = app.session("motcua.d2", Role::Staff, Some("D2")).await;
    let (_, body) = app.page(Some(&elsewhere), "/staff").await;
    assert!(!body.contains("HS-F-2"));
}
