//! Exports over real HTTP: responses as CSV and XLSX, scoped to the caller's subtree, without
//! anything that identifies a person; report tables; wrong requests refused.

mod common;

use std::io::Cursor;

use app::domain::account::Role;
use app::domain::period::{start_of_day, vietnam_day};
use app::domain::submission::Channel;
use app::domain::ValidResponse;
use app::storage::NewResponse;
use calamine::{Reader, Xlsx};
use chrono::{Duration, Utc};
use common::{spawn_app, TestApp, ADMIN_TOKEN};

/// Stores `count` kiosk responses at `agency` `days_ago`, at 3 o'clock, the n-th made by `made(n)`
/// from a response with only its agency and version set.
async fn store_each(
    app: &TestApp,
    agency: &str,
    days_ago: i64,
    count: usize,
    made: impl Fn(usize, ValidResponse) -> ValidResponse,
) {
    let day = vietnam_day(Utc::now()) - Duration::days(days_ago);
    let batch: Vec<NewResponse> = (0..count)
        .map(|i| NewResponse {
            response: made(
                i,
                ValidResponse {
                    id: uuid::Uuid::new_v4(),
                    agency: agency.into(),
                    questionnaire_version: app.state.questionnaire.version.clone(),
                    answers: vec![],
                    expectations: vec![],
                    profile: vec![],
                    comment: None,
                    day: None,
                },
            ),
            service_point: "P".into(),
            kiosk_id: None,
            channel: Channel::Kiosk,
            submitted_at: start_of_day(day) + Duration::hours(3),
        })
        .collect();
    app.state.store_bulk(&batch).await.unwrap();
}

async fn store(app: &TestApp, agency: &str, days_ago: i64, count: usize) {
    store_each(app, agency, days_ago, count, |i, response| ValidResponse {
        answers: vec![("A1".into(), Some(1 + (i % 5) as u8)), ("B2".into(), None)],
        expectations: vec![("X2".into(), 3)],
        profile: vec![("gender".into(), "nu".into())],
        comment: Some("gọi tôi: 0912 345 678".into()),
        ..response
    })
    .await;
}

async fn download(app: &TestApp, path: &str, cookie: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut request = app.client.get(format!("{}{path}", app.base));
    request = match cookie {
        Some(cookie) => request.header("cookie", cookie),
        None => request.bearer_auth(ADMIN_TOKEN),
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let disposition =
        response.headers().get("content-disposition").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, disposition, response.bytes().await.unwrap().to_vec())
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark for Excel");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect()
}

#[tokio::test]
async fn responses_export_as_csv_and_xlsx_within_the_callers_subtree() {
    let app = spawn_app().await;
    store(&app, "D1", 10, 7).await;
    store(&app, "G", 11, 5).await;
    store(&app, "D2", 10, 6).await;
    store(&app, "D1", 0, 2).await; // today: not exported until the day is final
    store(&app, "D1", 3, 2).await; // 3 days ago: a kiosk may still send answers of that day
    let from = vietnam_day(Utc::now()) - Duration::days(30);

    let (status, disposition, body) = download(&app, &format!("/api/v1/exports/responses.csv?from={from}"), None).await;
    assert_eq!(status, 200);
    assert!(disposition.contains("phieu-tra-loi.csv"), "{disposition}");
    let rows = csv_rows(&body);
    let header = &rows[0];
    assert_eq!(&header[..5], ["ngay", "co_quan", "diem_tiep_nhan", "kenh", "phien_ban_phieu"]);
    assert!(header.contains(&"gender".to_string()) && !header.iter().any(|h| h == "id" || h.contains("comment")));
    assert_eq!(rows.len() - 1, 18, "every response of the closed days, once");
    let a1 = header.iter().position(|h| h == "A1").unwrap();
    let mut levels: Vec<&str> = rows[1..].iter().filter(|r| r[1] == "D2").map(|r| r[a1].as_str()).collect();
    levels.sort();
    assert_eq!(levels, ["1", "1", "2", "3", "4", "5"]);
    assert!(!String::from_utf8_lossy(&body).contains("0912"), "never the comment");

    // A manager of D1: D1 and G only, by month, without the profile.
    let manager = app.session("lanhdao.d1", Role::Manager, Some("D1")).await;
    let (status, _, body) = download(&app, &format!("/api/v1/exports/responses.csv?from={from}"), Some(&manager)).await;
    assert_eq!(status, 200);
    let rows = csv_rows(&body);
    assert_eq!(rows[0][0], "thang");
    assert!(!rows[0].contains(&"gender".to_string()));
    assert_eq!(rows.len() - 1, 12);
    assert!(rows[1..].iter().all(|r| r[1] == "D1" || r[1] == "G"));
    let (status, _, _) = download(&app, "/api/v1/exports/responses.csv?agency=D2", Some(&manager)).await;
    assert_eq!(status, 404, "another subtree's responses");

    let (status, disposition, body) =
        download(&app, &format!("/api/v1/exports/responses.xlsx?agency=D1&from={from}"), Some(&manager)).await;
    assert_eq!(status, 200);
    assert!(disposition.contains(".xlsx"));
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(body)).expect("a readable XLSX file");
    let sheet = workbook.worksheet_range("phieu-1").unwrap();
    let rows: Vec<_> = sheet.rows().collect();
    assert_eq!(rows.len() - 1, 12, "D1 and its sub-unit G");
    assert_eq!(rows[0][0].to_string(), "thang");
    assert!(rows[1..].iter().all(|r| r[1] == "D1" || r[1] == "G"));
}

#[tokio::test]
async fn report_tables_export_and_wrong_names_are_refused() {
    let app = spawn_app().await;
    store(&app, "D1", 9, 5).await;
    store(&app, "D2", 9, 5).await;
    let from = vietnam_day(Utc::now()) - Duration::days(30);
    let (status, disposition, body) =
        download(&app, &format!("/api/v1/exports/ranking.xlsx?kind=department&from={from}"), None).await;
    assert_eq!(status, 200);
    assert!(disposition.contains("xep-hang.xlsx"));
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(body)).unwrap();
    let sheet = workbook.worksheet_range("xep-hang").unwrap();
    let codes: Vec<String> = sheet.rows().skip(1).map(|r| r[1].to_string()).collect();
    assert_eq!(codes.len(), 2);
    assert!(codes.contains(&"D1".to_string()) && codes.contains(&"D2".to_string()));

    let (status, _, body) = download(&app, &format!("/api/v1/exports/criteria.csv?agency=D1&from={from}"), None).await;
    assert_eq!(status, 200);
    let rows = csv_rows(&body);
    assert_eq!(rows.len(), 17, "a header and the 16 criteria");
    assert_eq!(rows[1][6], "5", "A1: five valid answers");

    for (path, expected) in [
        ("/api/v1/exports/ranking.pdf", 404),
        ("/api/v1/exports/passwords.csv", 404),
        ("/api/v1/exports/criteria.csv", 422),
        ("/api/v1/exports/breakdown.csv?agency=D1&by=shoe_size&from=2026-01-01", 422),
        ("/api/v1/exports/responses.csv?from=31/12/2025", 422),
    ] {
        assert_eq!(download(&app, path, None).await.0, expected, "{path}");
    }
    let anonymous = app.client.get(format!("{}/api/v1/exports/responses.csv", app.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn an_export_is_named_by_fixed_words_never_by_the_request() {
    let app = spawn_app().await;
    store(&app, "D1", 9, 5).await;
    let from = vietnam_day(Utc::now()) - Duration::days(30);
    let today = vietnam_day(Utc::now());
    let (status, disposition, _) =
        download(&app, &format!("/api/v1/exports/breakdown.csv?agency=D1&by=gender&from={from}"), None).await;
    assert_eq!((status, disposition.as_str()), (200, "attachment; filename=\"phan-to-gender.csv\""));

    let hostile = "%22%0D%0ASet-Cookie:%20x%3D1;%20..%2F..%2Fetc%2Fpasswd";
    for query in [
        // a breakdown the questionnaire does not have, also over a period with no closed day
        format!("agency=D1&by={hostile}&from={from}"),
        format!("agency=D1&by={hostile}&from={today}&to={today}"),
        format!("agency=D1{hostile}&by=gender&from={from}"),
        format!("agency=..%2FD1&by=gender&from={from}"),
        format!("agency=D1&by=gender&from={from}{hostile}"),
        format!("agency=D1&by=gender&from={from}&to=..%2F{hostile}"),
    ] {
        for format in ["csv", "xlsx"] {
            let path = format!("/api/v1/exports/breakdown.{format}?{query}");
            let response = app.client.get(format!("{}{path}", app.base)).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
            let status = response.status().as_u16();
            assert!(response.headers().get("content-disposition").is_none(), "{path}");
            assert!(response.headers().get("set-cookie").is_none(), "{path}");
            assert!([404, 422].contains(&status), "{path}: {status}");
            let body = response.text().await.unwrap();
            assert!(body.starts_with("{\"errors\":"), "a Vietnamese message in JSON: {body}");
        }
    }
}

#[tokio::test]
async fn text_a_spreadsheet_would_run_is_exported_inert() {
    use app::domain::audit::{Actor, AuditAction};
    use app::domain::registry::ImportRow;
    let app = spawn_app().await;
    let row = ImportRow {
        code: "D3".into(),
        name: "=HYPERLINK(\"http://x\";\"Bấm\")".into(),
        kind: "department".into(),
        parent: "P".into(),
        ..ImportRow::default()
    };
    app.state.apply_registry(&Actor::cli(), &[row], None, AuditAction::AgencySaved).await.unwrap();
    store(&app, "D3", 9, 10).await; // 10 answers to A1: the element minimum, so an overall
    let from = vietnam_day(Utc::now()) - Duration::days(30);
    let (status, _, body) =
        download(&app, &format!("/api/v1/exports/ranking.csv?kind=department&from={from}"), None).await;
    assert_eq!(status, 200);
    let rows = csv_rows(&body);
    let d3 = rows.iter().find(|r| r[1] == "D3").expect("D3 is ranked");
    assert_eq!(d3[2], "'=HYPERLINK(\"http://x\";\"Bấm\")");
    assert_eq!(d3[6], "10", "numbers stay numbers");
    assert!(d3[3].parse::<f64>().is_ok(), "the index is a number: {}", d3[3]);
    let admin = app.session("tinh", Role::Admin, None).await;
    let (_, _, registry) = download(&app, "/admin/agencies.csv", Some(&admin)).await;
    assert!(String::from_utf8_lossy(&registry).contains("D3,\"'=HYPERLINK("), "the registry file too");
}

/// Stores `count` responses at D2 `days_ago`, each with its own A1–A3 answers and the `profile`.
async fn store_with_profile(app: &TestApp, days_ago: i64, count: usize, profile: &[(&str, &str)]) {
    store_each(app, "D2", days_ago, count, |i, response| ValidResponse {
        answers: ["A1", "A2", "A3"]
            .iter()
            .zip([i % 5, i / 5 % 5, i / 25 % 5])
            .map(|(code, level)| (code.to_string(), Some(1 + level as u8)))
            .collect(),
        profile: profile.iter().map(|(q, o)| (q.to_string(), o.to_string())).collect(),
        ..response
    })
    .await;
}

#[tokio::test]
async fn a_profile_shared_by_fewer_than_k_rows_is_blanked_rows_come_shuffled_and_exports_are_audited() {
    let app = spawn_app().await;
    // One day at D2: 24 women aged 25–34 and one man over 60, whose profile would single him out.
    store_with_profile(&app, 9, 24, &[("gender", "nu"), ("age_band", "25-34")]).await;
    store_with_profile(&app, 9, 1, &[("gender", "nam"), ("age_band", "60+")]).await;
    let path = "/api/v1/exports/responses.csv?agency=D2";
    let (status, _, body) = download(&app, path, None).await;
    assert_eq!(status, 200);
    let rows = csv_rows(&body);
    let (gender, age) =
        (rows[0].iter().position(|h| h == "gender").unwrap(), rows[0].iter().position(|h| h == "age_band").unwrap());
    assert_eq!(rows.len() - 1, 25, "every response is exported");
    let profiles: Vec<(&str, &str)> = rows[1..].iter().map(|r| (r[gender].as_str(), r[age].as_str())).collect();
    assert_eq!(profiles.iter().filter(|p| **p == ("nu", "25-34")).count(), 24, "a group of 24 keeps its profile");
    assert_eq!(profiles.iter().filter(|p| **p == ("", "")).count(), 1, "a group of one is blanked");
    assert!(!profiles.contains(&("nam", "60+")), "even with the admin token");

    // The rows come in another order each time (25 distinct rows: the same order twice is 1 in 25!).
    let (_, _, again) = download(&app, path, None).await;
    let order = |rows: &[Vec<String>]| rows[1..].iter().map(|r| r.join(",")).collect::<Vec<_>>();
    let second = csv_rows(&again);
    assert_ne!(order(&rows), order(&second));
    let (mut a, mut b) = (order(&rows), order(&second));
    a.sort();
    b.sort();
    assert_eq!(a, b, "the same rows");

    // Each export is in the audit log: who, what, which agency and days, how many rows.
    let _ = download(&app, "/api/v1/exports/criteria.csv?agency=D2", None).await;
    let filter = app::storage::AuditFilter {
        action: Some(app::domain::audit::AuditAction::Exported),
        ..app::storage::AuditFilter::default()
    };
    let mut lines = Vec::new();
    for _ in 0..50 {
        lines = app.state.audit_log(&filter, 10).await.unwrap();
        if lines.len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await; // a streamed export is logged as it ends
    }
    let subjects: Vec<&str> = lines.iter().map(|l| l.subject.as_str()).collect();
    assert_eq!(lines.len(), 3, "{subjects:?}");
    assert!(lines.iter().all(|l| l.actor == "admin-token" && l.ip.as_deref() == Some("127.0.0.1")));
    assert!(subjects.iter().filter(|s| s.starts_with("phieu-tra-loi: D2, ") && s.ends_with(", 25 dòng")).count() == 2);
    assert!(subjects.iter().any(|s| s.starts_with("tieu-chi") || s.contains(": D2, ")), "{subjects:?}");
}
