//! A province from nothing, through the `hailong` binary on a real SQLite file: init, the import
//! of a realistic registry, a reorganisation, files with bad lines, the export; and an upload on
//! `/admin/agencies`, applied only by the admin who previewed it, to the registry they previewed.

mod common;

use app::domain::account::Role;
use app::domain::audit::Actor;
use app::service::{AppState, Settings};
use chrono::TimeZone;
use serde_json::{json, Value};

/// Communes' names, numbered to make a province of the size of Phú Thọ after the 2025 merger.
const COMMUNE_NAMES: [&str; 10] = [
    "Thanh Sơn",
    "Tam Nông",
    "Hạ Hòa",
    "Đoan Hùng",
    "Lâm Thao",
    "Cẩm Khê",
    "Yên Lập",
    "Tân Sơn",
    "Phù Ninh",
    "Thanh Thủy",
];

/// A province: 1 province, 18 departments, 3 vertical agencies, a service centre with 6
/// branches (each receiving the departments' dossiers), 110 communes — 139 units.
fn province_csv() -> String {
    let mut csv = String::from("\u{feff}code,name,kind,parent,valid_from,successor,serves\r\n");
    csv.push_str("25,UBND tỉnh Phú Thọ,province,,,,\r\n");
    let departments: Vec<String> = (1..=18).map(|n| format!("S{n:02}")).collect();
    for code in &departments {
        csv.push_str(&format!("{code},Sở số {},department,25,,,\r\n", &code[1..]));
    }
    for (code, name) in [("CA", "Công an tỉnh"), ("CT", "Thuế tỉnh"), ("BHXH", "Bảo hiểm xã hội tỉnh")]
    {
        csv.push_str(&format!("{code},{name},vertical,25,,,\r\n"));
    }
    let serves = format!("{};CA", departments.join(";"));
    csv.push_str(&format!(
        "TTPVHCC,\"Trung tâm Phục vụ hành chính công, tỉnh Phú Thọ\",service_centre,25,,,{serves}\r\n"
    ));
    for n in 1..=6 {
        csv.push_str(&format!("TTPVHCC-{n},Chi nhánh số {n},service_branch,TTPVHCC,,,{serves}\r\n"));
    }
    for n in 0..110 {
        let name = format!("UBND xã {} {}", COMMUNE_NAMES[n % 10], n / 10 + 1);
        csv.push_str(&format!("{},{name},commune,25,2025-07-01,,\r\n", 7900 + n));
    }
    csv
}

fn run(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = common::hailong(url, args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn list(url: &str) -> Vec<Value> {
    let (ok, out, err) = run(url, &["agency", "list", "--json"]);
    assert!(ok, "{err}");
    serde_json::from_str::<Value>(&out).unwrap().as_array().unwrap().clone()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn a_province_starts_from_nothing_imports_its_tree_and_reorganises_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database(dir.path(), "tinh.db").await;
    assert!(run(&url, &["migrate"]).0);
    let (ok, out, err) = run(&url, &["init", "--province", "25", "--name", "UBND tỉnh Phú Thọ"]);
    assert!(ok, "{err}");
    let password =
        out.lines().find_map(|l| l.strip_prefix("Mật khẩu dùng một lần (chỉ hiện lần này): ")).unwrap().to_owned();
    let (again, _, err) = run(&url, &["init", "--province", "25", "--name", "UBND tỉnh Phú Thọ"]);
    assert!(!again && err.contains("đã được khởi tạo"), "{err}");

    let file = write(&dir, "tinh.csv", &province_csv());
    let (ok, out, err) = run(&url, &["agency", "import", &file, "--dry-run"]);
    assert!(ok, "{err}");
    assert!(out.contains("Sẽ thêm 138 đơn vị") && out.contains("1 đơn vị không thay đổi"), "{out}");
    assert_eq!(list(&url).len(), 1, "a dry run changes nothing");
    let (ok, out, err) = run(&url, &["agency", "import", &file, "--json"]);
    assert!(ok, "{err}");
    let applied: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((applied["added"].as_array().unwrap().len(), &applied["unchanged"]), (138, &json!(1)));

    let agencies = list(&url);
    assert_eq!(agencies.len(), 139);
    let by_code = |code: &str| agencies.iter().find(|a| a["code"] == code).unwrap_or_else(|| panic!("{code}")).clone();
    assert_eq!(by_code("TTPVHCC")["name"], "Trung tâm Phục vụ hành chính công, tỉnh Phú Thọ");
    assert_eq!(by_code("TTPVHCC-3")["parent"], "TTPVHCC");
    assert_eq!(by_code("TTPVHCC-3")["serves"].as_array().unwrap().len(), 19);
    assert_eq!(by_code("7900")["name"], "UBND xã Thanh Sơn 1");
    assert_eq!(by_code("7900")["valid_from"], "2025-07-01");
    assert_eq!(by_code("7900")["successors"], json!([]));
    let kinds = |kind: &str| agencies.iter().filter(|a| a["kind"] == kind).count();
    assert_eq!((kinds("department"), kinds("commune"), kinds("service_branch")), (18, 110, 6));
    // The same file again changes nothing.
    let (ok, out, _) = run(&url, &["agency", "import", &file]);
    assert!(ok && out.contains("Đã thêm 0 đơn vị") && out.contains("139 đơn vị không thay đổi"), "{out}");

    // Responses collected at commune 7900 before the reorganisation.
    let state = AppState::start(&url, Settings { link_secret: "x".repeat(32), ..Settings::default() }).await.unwrap();
    let kiosk = {
        let pairing = state.register_kiosk(&Actor::cli(), "7900", "Kiosk xã").await.unwrap();
        state.pair_kiosk(&pairing.code, common::LOCALHOST).await.unwrap().0
    };
    let autumn = chrono::Utc.with_ymd_and_hms(2025, 10, 15, 3, 0, 0).unwrap();
    for value in [5, 4, 2] {
        let body = json!({"id": uuid::Uuid::new_v4().to_string(), "answers": {"A1": value}});
        state.store_from_kiosk(&kiosk, &common::submission(body.clone()), autumn).await.unwrap();
    }
    state.revoke_kiosk(&Actor::cli(), kiosk.id).await.unwrap();

    // Communes 7900 and 7901 merge into 7902 on 1 January 2026.
    let merge = "code,name,kind,parent,valid_from,successor,serves\n\
                 7900,UBND xã Thanh Sơn 1,commune,25,2026-01-01,7902,\n\
                 7901,UBND xã Tam Nông 1,commune,25,2026-01-01,7902,\n\
                 7902,UBND xã Hạ Hòa 1,commune,25,2025-07-01,,\n";
    let merge = write(&dir, "sap-nhap.csv", merge);
    let (ok, out, err) = run(&url, &["agency", "import", &merge, "--dry-run"]);
    assert!(ok && out.contains("Sẽ đóng 2 đơn vị"), "{out}{err}");
    assert!(run(&url, &["agency", "import", &merge]).0);
    let agencies = list(&url);
    for code in ["7900", "7901"] {
        let closed = agencies.iter().find(|a| a["code"] == code).unwrap();
        assert_eq!((&closed["valid_to"], &closed["successors"]), (&json!("2026-01-01"), &json!(["7902"])), "{closed}");
        assert_eq!(closed["valid_from"], "2025-07-01", "the day it opened is kept");
    }
    // The closed commune's past indices still answer, by the CLI and the service.
    let (ok, out, err) = run(
        &url,
        &["--min-cell", "2", "index", "--agency", "7900", "--from", "2025-10-01", "--to", "2025-10-31", "--json"],
    );
    assert!(ok, "{err}");
    let index: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(index["responses"], 3);
    let a1 = &index["elements"][0]["criteria"][0];
    assert_eq!((&a1["code"], &a1["valid"]), (&json!("A1"), &json!(3)));
    assert!((a1["index"].as_f64().unwrap() - 200.0 / 3.0).abs() < 1e-9, "{a1}");

    // The export is the import format, and importing it back changes nothing.
    let (ok, exported, _) = run(&url, &["agency", "export"]);
    assert!(ok && exported.starts_with("code,name,kind,parent,valid_from,successor,serves"));
    assert!(exported.contains("7900,UBND xã Thanh Sơn 1,commune,25,2026-01-01,7902,"), "{exported}");
    let back = write(&dir, "xuat.csv", &exported);
    let (ok, out, _) = run(&url, &["agency", "import", &back]);
    assert!(ok && out.contains("139 đơn vị không thay đổi"), "{out}");

    // The first admin's one-time password works.
    assert!(
        state.login("admin", &password, common::LOCALHOST, chrono::Utc::now()).await.unwrap().0.must_change_password
    );
}

#[test]
fn a_file_with_bad_lines_is_refused_whole_with_each_line_named() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_blocking(dir.path(), "tinh.db");
    assert!(run(&url, &["init", "--province", "25", "--name", "UBND tỉnh Phú Thọ"]).0);
    let good = write(&dir, "tinh.csv", &province_csv());
    assert!(run(&url, &["agency", "import", &good]).0);
    let before = run(&url, &["agency", "export"]).1;

    let bad = "code,name,kind,parent,valid_from,successor,serves\n\
               9001,UBND xã Mới 1,commune,KHONG-CO,,,\n\
               S01,Sở số 01,department,TTPVHCC-1,,,\n\
               TTPVHCC,Trung tâm,service_centre,S01,,,\n\
               9002,UBND xã Mới 2,huyen,25,,,\n\
               9003,UBND xã Mới 3,commune,25,,,\n\
               9003,UBND xã Mới 3 lần nữa,commune,25,,,\n\
               9004,UBND xã Mới 4,commune,25,2026-13-01,,\n";
    let bad = write(&dir, "loi.csv", bad);
    let (ok, _, err) = run(&url, &["agency", "import", &bad]);
    assert!(!ok);
    for expected in [
        "Dòng 2 (9001): không có đơn vị cha mã KHONG-CO",
        "Dòng 3 (S01): đơn vị cha tạo thành vòng lặp",
        "Dòng 4 (TTPVHCC): đơn vị cha tạo thành vòng lặp",
        "Dòng 5 (9002): loại đơn vị \"huyen\" không có",
        "Dòng 7 (9003): mã đơn vị trùng với dòng 6",
        "Dòng 8 (9004): ngày \"2026-13-01\" không hợp lệ",
        "danh mục đơn vị không thay đổi",
    ] {
        assert!(err.contains(expected), "missing «{expected}» in:\n{err}");
    }
    let (ok, out, _) = run(&url, &["agency", "import", &bad, "--json"]);
    assert!(!ok);
    let errors: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(errors["errors"].as_array().unwrap().len(), 6, "{errors}");
    assert_eq!(errors["errors"][0]["line"], 2);
    assert_eq!(run(&url, &["agency", "export"]).1, before, "the registry is unchanged");

    // A closed parent with open children, and a file that is not a registry at all.
    let orphaning = write(
        &dir,
        "dong.csv",
        "code,name,kind,parent,valid_from,successor,serves\nTTPVHCC,Trung tâm,service_centre,25,2026-01-01,S01,\n",
    );
    let (ok, _, err) = run(&url, &["agency", "import", &orphaning]);
    assert!(
        !ok && err.contains("Dòng 2 (TTPVHCC): còn đơn vị trực thuộc hoạt động sau ngày đóng 2026-01-01: TTPVHCC-1"),
        "{err}"
    );
    let not_csv = write(&dir, "sai.csv", "mã,tên\n1,2\n");
    let (ok, _, err) = run(&url, &["agency", "import", &not_csv]);
    assert!(!ok && err.contains("dòng tiêu đề phải gồm đúng các cột"), "{err}");
    assert_eq!(run(&url, &["agency", "export"]).1, before, "the registry is still unchanged");
}

#[test]
fn a_database_url_that_cannot_be_used_stops_the_start_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let in_dir = |args: &[&str], env: &[(&str, &str)]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hailong"))
            .args(args)
            .current_dir(dir.path())
            .env("HAILONG_DATABASE_URL", "postgres://hailong@127.0.0.1:1/hailong")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    // No PostgreSQL listens on port 1: the message names where it looked.
    let out = in_dir(&["migrate"], &[("HAILONG_LINK_SECRET", common::LINK_SECRET)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("không kết nối được PostgreSQL tại 127.0.0.1:1 (cơ sở dữ liệu hailong)"), "{err}");
    // Several servers share one PostgreSQL: the link secret cannot be a file beside it.
    let out = in_dir(&["serve"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("với PostgreSQL, hãy đặt HAILONG_LINK_SECRET"), "{err}");
    let out = in_dir(&["backup", "copy.db"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("với PostgreSQL hãy dùng pg_dump"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file named after the URL appears");
    let out = common::hailong("mysql://x", &["migrate"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("sqlite://"));
}

/// A registry CSV uploaded on `/admin/agencies` as a browser sends the form: the upload's id.
async fn upload(app: &common::TestApp, cookie: &str, csv: &str) -> i64 {
    let boundary = "hailong-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"don-vi.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .post(format!("{}/admin/agencies/import", app.base))
        .header("origin", &app.base)
        .header("cookie", cookie)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(response.status().is_redirection(), "{}: {}", response.status(), response.text().await.unwrap());
    location
        .strip_prefix("/admin/agencies/import/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("{location}"))
}

/// The registry with one more department, `code`.
fn adding(code: &str) -> String {
    format!("{}{code},Sở mới {code},department,P,,,\n", common::REGISTRY)
}

async fn apply(app: &common::TestApp, cookie: &str, id: i64) -> (u16, String) {
    use leptos::server_fn::ServerFn;
    let response = app.post_form(app::admin::agencies::ApplyImport::PATH, Some(cookie), &format!("id={id}")).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn exists(app: &common::TestApp, code: &str) -> bool {
    app.state.agency(code).await.unwrap().is_some()
}

#[tokio::test]
async fn the_close_form_takes_a_splits_shares_and_refuses_ones_that_do_not_add_up() {
    use leptos::server_fn::ServerFn;
    let app = common::spawn_app().await;
    let tinh = app.session("tinh", Role::Admin, None).await;
    let close = app::admin::agencies::CloseAgency::PATH;
    let rows = AppState::read_registry_csv(&format!("{}D3,Cơ quan D3,department,P,,,\n", common::REGISTRY)).unwrap();
    app.state
        .apply_registry(&Actor::cli(), &rows, None, app::domain::audit::AuditAction::AgenciesImported)
        .await
        .unwrap();

    // 0.6 + 0.3: refused in Vietnamese, nothing changed
    let response = app.post_form(close, Some(&tinh), "code=D1&closes_on=2030-01-01&successors=D2:0.6;D3:0.3").await;
    assert_eq!(response.status(), 422);
    let message = response.text().await.unwrap();
    assert!(message.contains("tỷ lệ phân bổ phải cộng lại bằng 1 (đang là 0,9)"), "{message}");
    assert!(!app.state.agency("D1").await.unwrap().unwrap().is_closed());

    // D1 (with G under it moved first) splits 60/40
    let moved = AppState::read_registry_csv(
        "code,name,kind,parent,valid_from,successor,serves\nG,Cơ quan G,service_branch,D2,,,\n",
    )
    .unwrap();
    app.state
        .apply_registry(&Actor::cli(), &moved, None, app::domain::audit::AuditAction::AgenciesImported)
        .await
        .unwrap();
    let response = app.post_form(close, Some(&tinh), "code=D1&closes_on=2030-01-01&successors=D3:0,4;D2:0,6").await;
    assert_eq!(response.status(), 302, "{}", response.text().await.unwrap());
    let registry = app.state.registry().await.unwrap();
    let d1 = registry.iter().find(|e| e.agency.code == "D1").unwrap();
    assert_eq!((d1.successors.clone(), d1.shares.clone()), (vec!["D2".to_owned(), "D3".into()], vec![600, 400]));
    let (status, page) = app.page(Some(&tinh), "/admin/agencies").await;
    assert_eq!(status, 200);
    assert!(page.contains("Đã đóng từ 01/01/2030 (chia tách: D2 (60 %), D3 (40 %))"), "{page}");
    // and the registry file writes them back
    let exported = app.state.export_registry().await.unwrap();
    assert!(exported.contains("D1,Cơ quan D1,department,P,2030-01-01,D2:0.6;D3:0.4,"), "{exported}");
}

#[tokio::test]
async fn an_upload_is_applied_only_by_the_admin_who_previewed_it_and_only_to_that_registry() {
    let app = common::spawn_app().await;
    let tinh = app.session("tinh", Role::Admin, None).await;
    let other = app.session("quantri.khac", Role::Admin, None).await;
    let button = "Áp dụng các thay đổi";

    // Another admin sees the preview but cannot apply it.
    let id = upload(&app, &tinh, &adding("D3")).await;
    let (status, page) = app.page(Some(&other), &format!("/admin/agencies/import/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("import-refusal") && page.contains("do tài khoản tinh tải lên"), "{page}");
    assert!(!page.contains(button));
    let (status, message) = apply(&app, &other, id).await;
    assert_eq!(status, 403, "{message}");
    assert!(message.contains("chỉ người đã tải lên và xem trước mới áp dụng được"), "{message}");
    assert!(!exists(&app, "D3").await, "nothing changed");

    // The registry changes between the preview and the apply: refused, nothing changed.
    let (status, page) = app.page(Some(&tinh), &format!("/admin/agencies/import/{id}")).await;
    assert!(status == 200 && page.contains(button) && page.contains("D3 — Sở mới D3"), "{page}");
    let rows = AppState::read_registry_csv(&adding("D4")).unwrap();
    let cli = Actor::cli();
    app.state.apply_registry(&cli, &rows, None, app::domain::audit::AuditAction::AgenciesImported).await.unwrap();
    let (_, page) = app.page(Some(&tinh), &format!("/admin/agencies/import/{id}")).await;
    assert!(page.contains("Danh mục đơn vị đã thay đổi sau khi xem trước") && !page.contains(button), "{page}");
    let (status, message) = apply(&app, &tinh, id).await;
    assert_eq!(status, 409, "{message}");
    assert!(message.contains("Hãy tải tệp lên lại"), "{message}");
    assert!(!exists(&app, "D3").await, "nothing changed");

    // Uploaded again, previewed over today's registry: applied, once.
    let id = upload(&app, &tinh, &adding("D3")).await;
    let (status, message) = apply(&app, &tinh, id).await;
    assert_eq!(status, 302, "{message}");
    assert!(exists(&app, "D3").await && exists(&app, "D4").await);
    assert_eq!(apply(&app, &tinh, id).await.0, 409, "a second apply");
    let (_, page) = app.page(Some(&tinh), &format!("/admin/agencies/import/{id}")).await;
    assert!(page.contains("Tệp này đã được áp dụng.") && !page.contains(button), "{page}");
}

#[tokio::test]
async fn of_two_uploads_previewed_together_only_the_first_applied_is_stored() {
    let app = common::spawn_app().await;
    let tinh = app.session("tinh", Role::Admin, None).await;
    let other = app.session("quantri.khac", Role::Admin, None).await;
    let (first, second) = (upload(&app, &tinh, &adding("D3")).await, upload(&app, &other, &adding("D4")).await);
    // At the same moment: whichever commits second finds the registry changed, inside its
    // transaction if not before.
    let (a, b) = tokio::join!(apply(&app, &tinh, first), apply(&app, &other, second));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [302, 409], "{a:?} {b:?}");
    assert_ne!(exists(&app, "D3").await, exists(&app, "D4").await, "one file, not both");
}
