//! Links belong to the citizen (issue 19), tried as an insider: an officer who loops over a day
//! of dossier codes that the one-stop software invited gets no link, token or QR code of any of
//! them; what officers do with links is audited, limited per day and flagged on the officer and
//! the invitation, never on an answer.

mod common;

use app::domain::account::Role;
use app::domain::audit::{Actor, AuditAction};
use app::domain::invitation::OfficerLimits;
use app::service::Settings;
use app::storage::AuditFilter;
use common::{spawn_app_with, TestApp};
use leptos::server_fn::ServerFn;
use serde_json::{json, Value};

const DAY: usize = 12;

fn limits(max_per_day: u32) -> Settings {
    Settings {
        link_mix: 1,
        officer_limits: OfficerLimits { max_per_day, ..OfficerLimits::default() },
        ..Settings::default()
    }
}

async fn api_invite(app: &TestApp, key: &str, dossier: &str) -> reqwest::Response {
    let body = json!({"dossier_code": dossier, "procedure": "KS", "agency": "D1", "phone": "0912345678"});
    app.client.post(format!("{}/api/v1/invitations", app.base)).bearer_auth(key).json(&body).send().await.unwrap()
}

/// The create form of the staff page, as a browser without JavaScript posts it.
async fn staff_create(app: &TestApp, cookie: &str, form: &str) -> reqwest::Response {
    app.post_form(<app::staff::server::CreateInvitation as ServerFn>::PATH, Some(cookie), form).await
}

async fn audited(app: &TestApp, action: AuditAction) -> Vec<String> {
    let filter = AuditFilter { action: Some(action), ..AuditFilter::default() };
    app.state
        .audit_log(&filter, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.actor, e.subject))
        .collect()
}

#[tokio::test]
async fn an_officer_looping_over_the_days_dossiers_gets_no_citizens_link() {
    let app = spawn_app_with(limits(100)).await;
    let (_, key) = app.state.register_api_key(&Actor::cli(), "P", "Một cửa").await.unwrap();
    let officer = app.session("motcua", Role::Staff, Some("P")).await;

    // The one-stop software invites a day of sequential dossiers and sends each link by SMS.
    let mut tokens = Vec::new();
    for n in 1..=DAY {
        let response = api_invite(&app, &key, &format!("HS-NGAY-{n:04}")).await;
        assert_eq!(response.status(), 201);
        let url = response.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_owned();
        tokens.push(url.rsplit('/').next().unwrap().to_owned());
    }
    let leaks = |body: &str| tokens.iter().any(|t| body.contains(t.as_str())) || body.contains("/s/");

    // The officer loops over the codes: the status page, the create form (the no-JS post and its
    // redirect), with and without a phone number of their own.
    for n in 1..=DAY {
        let dossier = format!("HS-NGAY-{n:04}");
        let (status, body) = app.page(Some(&officer), &format!("/staff/invitations/D1/{dossier}")).await;
        assert_eq!(status, 200);
        assert!(!leaks(&body) && !body.contains("<svg"), "{dossier}: the page shows a link or QR code");
        assert!(body.contains("Chưa trả lời") && body.contains("phần mềm một cửa"), "{dossier}: {body}");

        let looked_up = staff_create(&app, &officer, &format!("dossier_code={dossier}&procedure=KS&agency=D1")).await;
        assert!(looked_up.status().is_redirection(), "{dossier}: {}", looked_up.status());
        let to = looked_up.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(to, format!("/staff/invitations/D1/{dossier}"));
        assert!(!leaks(&looked_up.text().await.unwrap()));

        let resend = format!("dossier_code={dossier}&procedure=KS&agency=D1&phone=0987654321");
        let refused = staff_create(&app, &officer, &resend).await;
        assert_eq!(refused.status(), 409, "{dossier}: the link cannot be sent to the officer's own phone");
        let text = refused.text().await.unwrap();
        assert!(text.contains("không gửi lại được") && !leaks(&text), "{text}");
    }
    let (_, recent) = app.page(Some(&officer), "/staff").await;
    assert!(!leaks(&recent));
    for n in 1..=DAY {
        let invitation = app.state.invitation_of_dossier("D1", &format!("HS-NGAY-{n:04}")).await.unwrap().unwrap();
        let deliveries = app.state.deliveries_of(&invitation).await.unwrap();
        assert_eq!(deliveries.len(), 1, "only the citizen's own number: {deliveries:?}");
        assert_eq!(deliveries[0].recipient_hint, "091•••••78");
    }

    // The admin, who may make invitations too, sees no more of them than the officer.
    let admin = app.session("quantri", Role::Admin, None).await;
    let (_, body) = app.page(Some(&admin), "/staff/invitations/D1/HS-NGAY-0001").await;
    assert!(!leaks(&body) && body.contains("phần mềm một cửa"));

    // The software itself may fetch its link's QR code again for a while, audited.
    let qr = |dossier: &str| {
        let url = format!("{}/api/v1/invitations/{dossier}/qr.svg", app.base);
        app.client.get(url).bearer_auth(&key).send()
    };
    assert_eq!(qr("HS-NGAY-0001").await.unwrap().status(), 200);
    let shown = audited(&app, AuditAction::InvitationShown).await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(shown[0].starts_with("apikey#") && shown[0].ends_with("D1 / HS-NGAY-0001"), "{shown:?}");

    // Nor does the API after the re-print time: a retry is 409, the QR code 410.
    let pool = common::sql(&app.database_url).await;
    sqlx::query("UPDATE invitations SET reprint_until = created_at").execute(&pool).await.unwrap();
    assert_eq!(api_invite(&app, &key, "HS-NGAY-0001").await.status(), 409);
    assert_eq!(qr("HS-NGAY-0001").await.unwrap().status(), 410);
    // Once no message waits for it, the sealed link itself is erased.
    sqlx::query("UPDATE deliveries SET status = 'cancelled', recipient = NULL").execute(&pool).await.unwrap();
    app.state.deliver_due().await.unwrap();
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invitations WHERE link_sealed IS NOT NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(kept, 0);

    let made = audited(&app, AuditAction::InvitationCreated).await;
    assert_eq!(made.len(), DAY, "{made:?}");
    assert!(made.iter().all(|line| line.starts_with("apikey#")), "{made:?}");
    assert_eq!(audited(&app, AuditAction::InvitationShown).await, shown, "nothing was shown to anyone else");
}

#[tokio::test]
async fn an_officer_sees_their_own_link_for_a_while_and_is_limited_and_flagged() {
    let app = spawn_app_with(limits(3)).await;
    let officer = app.session("motcua", Role::Staff, Some("P")).await;
    let colleague = app.session("motcua.2", Role::Staff, Some("P")).await;

    // The officer makes a link: they see it and its QR code, and the audit log says so.
    let made = staff_create(&app, &officer, "dossier_code=HS-CB-1&procedure=KS&agency=D1&phone=0912345678").await;
    assert!(made.status().is_redirection(), "{}", made.status());
    let (_, body) = app.page(Some(&officer), "/staff/invitations/D1/HS-CB-1").await;
    assert!(body.contains("<svg") && body.contains("/s/"), "the maker sees the link: {body}");
    let token = body.split("/s/").nth(1).unwrap()[..40].to_owned();
    // A colleague at the same point does not.
    let (_, other) = app.page(Some(&colleague), "/staff/invitations/D1/HS-CB-1").await;
    assert!(!other.contains(&token) && !other.contains("<svg"), "{other}");
    assert!(other.contains("chỉ hiển thị cho cán bộ đã tạo"));
    // Neither does the maker once the re-print time is over.
    let pool = common::sql(&app.database_url).await;
    sqlx::query("UPDATE invitations SET reprint_until = created_at").execute(&pool).await.unwrap();
    let (_, later) = app.page(Some(&officer), "/staff/invitations/D1/HS-CB-1").await;
    assert!(!later.contains(&token) && later.contains("trong 15 phút"), "{later}");
    assert_eq!(audited(&app, AuditAction::InvitationCreated).await, ["motcua D1 / HS-CB-1"]);
    assert_eq!(audited(&app, AuditAction::InvitationShown).await, ["motcua D1 / HS-CB-1"]);
    assert_eq!(audited(&app, AuditAction::InvitationSent).await, ["motcua D1 / HS-CB-1: sms"]);
    let lines = app.state.audit_log(&AuditFilter::default(), 100).await.unwrap();
    assert!(lines
        .iter()
        .filter(|l| l.action == AuditAction::InvitationShown)
        .all(|l| l.ip.as_deref() == Some("127.0.0.1")));

    // The citizen answers at once, from the address the officers are signed in from (the test
    // client is on 127.0.0.1): the invitation and the officers are flagged; the answer counts.
    let form = format!("id={}&step=comment&agency=D1&a-C1=5&nav=submit", uuid::Uuid::new_v4());
    let answered = app.post_form(&format!("/s/{token}"), None, &form).await;
    assert_eq!(answered.status(), 200);
    assert_eq!(app.stored().await, 1);
    let flags = app.state.invitation_flags(50).await.unwrap();
    let seen: Vec<(String, Option<String>)> =
        flags.iter().map(|f| (f.kind.as_str().to_owned(), f.officer.clone())).collect();
    for expected in [
        ("answered_quickly", Some("motcua")),
        ("officer_address", Some("motcua")),
        ("officer_address", Some("motcua.2")),
    ] {
        assert!(seen.contains(&(expected.0.to_owned(), expected.1.map(str::to_owned))), "{expected:?}: {seen:?}");
    }
    assert!(flags.iter().all(|f| f.dossier == Some(("HS-CB-1".into(), "D1".into()))), "{flags:?}");

    // Three links a day: the fourth is refused with a reason, counted and flagged, nothing made.
    for n in 2..=3 {
        let form = format!("dossier_code=HS-CB-{n}&procedure=KS&agency=D1");
        assert!(staff_create(&app, &officer, &form).await.status().is_redirection());
    }
    let refused = staff_create(&app, &officer, "dossier_code=HS-CB-4&procedure=KS&agency=D1").await;
    assert_eq!(refused.status(), 429);
    assert!(refused.text().await.unwrap().contains("mức tối đa"));
    assert!(app.state.invitation_of_dossier("D1", "HS-CB-4").await.unwrap().is_none());
    assert_eq!(audited(&app, AuditAction::InvitationOverLimit).await, ["motcua D1 / HS-CB-4"]);
    // A colleague's count is their own.
    assert!(staff_create(&app, &colleague, "dossier_code=HS-CB-4&procedure=KS&agency=D1")
        .await
        .status()
        .is_redirection());

    // The admin's anomaly view lists the flags by officer, beside the kiosks'.
    let admin = app.session("quantri", Role::Admin, None).await;
    let (status, page) = app.page(Some(&admin), "/admin/kiosks").await;
    assert_eq!(status, 200);
    for text in ["Tạo quá số lời mời", "trả lời chỉ vài phút sau khi tạo", "cán bộ cùng điểm phục vụ", "motcua.2"]
    {
        assert!(page.contains(text), "{text}: {page}");
    }
    assert!(!page.contains(&token));
    // The printed report counts them in its data-quality section once their day is final (the
    // last final day: inside the report's default year whatever the date).
    let final_day = app::storage::timestamp(chrono::Utc::now() - chrono::Duration::days(i64::from(common::FINAL)));
    sqlx::query("UPDATE invitation_flags SET hour = $1").bind(&final_day).execute(&pool).await.unwrap();
    sqlx::query("UPDATE invitations SET created_at = $1").bind(&final_day).execute(&pool).await.unwrap();
    let (status, report) = app.page(Some(&admin), "/admin/report").await;
    assert_eq!(status, 200);
    // Its method page says how the sample was drawn: four links made that day, one answered.
    let drawn = report.split("id=\"sample-drawn\">").nth(1).expect("how the sample was drawn");
    assert!(drawn.contains("đã phát 4 lời mời khảo sát"), "{drawn}");
    assert!(drawn.contains("1 lời mời đã được trả lời (25,00%)"), "{drawn}");
    let quality = report.split("id=\"data-quality\"").nth(1).expect("a data-quality section");
    let row = |label: &str| {
        let at = quality.find(label).unwrap_or_else(|| panic!("{label}: {quality}"));
        quality[at..].split("class=\"num\">").nth(1).unwrap().split('<').next().unwrap().to_owned()
    };
    assert_eq!(row("Lời mời: Tạo quá số lời mời"), "1");
    assert_eq!(row("Lời mời: Đường dẫn được trả lời chỉ vài phút"), "1");
    assert_eq!(row("Lời mời: Đường dẫn được trả lời từ địa chỉ mạng"), "2");
    assert_eq!(row("Kiosk: Nhiều phiếu dồn dập"), "0");
    // A manager's report covers their subtree; the province's flags are not theirs to read.
    let manager = app.session("lanhdao", Role::Manager, Some("D1")).await;
    let (_, theirs) = app.page(Some(&manager), "/admin/report?agency=D1").await;
    assert!(theirs.contains("id=\"data-quality\"") && !theirs.contains("integrity-flags"));
    assert!(!theirs.contains("Lời mời: Tạo quá số lời mời"));
    // The response row keeps nothing of any of this.
    let columns: Vec<String> = if common::on_postgres() {
        sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'invitation_flags'",
        )
    } else {
        sqlx::query_scalar("SELECT name FROM pragma_table_info('invitation_flags')")
    }
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(!columns.iter().any(|c| c.contains("response")), "{columns:?}");
}

#[tokio::test]
async fn a_province_may_take_invitations_from_its_one_stop_software_only() {
    let mut settings = limits(100);
    settings.officer_limits.api_only = true;
    let app = spawn_app_with(settings).await;
    let (_, key) = app.state.register_api_key(&Actor::cli(), "P", "Một cửa").await.unwrap();
    assert_eq!(api_invite(&app, &key, "HS-API-1").await.status(), 201);
    let officer = app.session("motcua", Role::Staff, Some("P")).await;
    let (_, form) = app.page(Some(&officer), "/staff").await;
    assert!(form.contains("Tra cứu lời mời khảo sát") && !form.contains("Số điện thoại di động"), "{form}");

    let refused = staff_create(&app, &officer, "dossier_code=HS-MOI-1&procedure=KS&agency=D1").await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("phần mềm một cửa"));
    assert!(app.state.invitation_of_dossier("D1", "HS-MOI-1").await.unwrap().is_none());
    // Looking up the software's dossier still works: its status, never its link.
    let looked_up = staff_create(&app, &officer, "dossier_code=HS-API-1&procedure=&agency=D1").await;
    assert!(looked_up.status().is_redirection());
    let (_, body) = app.page(Some(&officer), "/staff/invitations/D1/HS-API-1").await;
    assert!(body.contains("Chưa trả lời") && !body.contains("/s/"));
}
