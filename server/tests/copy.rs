//! `hailong copy`: a province's SQLite file goes to PostgreSQL (when the tests run with one;
//! else to another SQLite file) and back, and comes back row for row as it was.

mod common;

use std::path::Path;

/// Every row of every table of the SQLite file at `url`, as SQLite quotes its values, sorted:
/// two files with the same rows give the same list.
async fn rows_of(url: &str) -> Vec<(String, Vec<String>)> {
    let db = sqlx::SqlitePool::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name <> '_sqlx_migrations'
         ORDER BY name",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let mut all = Vec::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
            .bind(&table)
            .fetch_all(&db)
            .await
            .unwrap();
        let quoted = columns.iter().map(|c| format!("quote({c})")).collect::<Vec<_>>().join(" || ',' || ");
        let mut rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {quoted} FROM {table}")))
            .fetch_all(&db)
            .await
            .unwrap();
        rows.sort();
        all.push((table, rows));
    }
    db.close().await;
    all
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = common::hailong("sqlite::memory:", args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sqlite(dir: &Path, name: &str) -> String {
    format!("sqlite://{}/{name}", dir.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_province_moves_to_another_database_and_back_row_for_row() {
    let dir = tempfile::tempdir().unwrap();
    let province = sqlite(dir.path(), "tinh.db");
    let demo = common::hailong(&province, &["demo", "--responses", "3000"]);
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    // More than the demo holds: an account, an API key, entered dossier counts.
    let file = dir.path().join("ho-so.csv");
    std::fs::write(&file, "PT,2026-10,1250\nPT,2026-11,1300\n").unwrap();
    for args in [
        vec!["user", "add", "--username", "tinh.moi", "--role", "admin"],
        vec!["apikey", "add", "--agency", "PT", "--name", "Cổng dịch vụ công"],
        vec!["dossiers", "import", file.to_str().unwrap()],
    ] {
        let out = common::hailong(&province, &args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    let middle = common::fresh_database(dir.path(), "giua.db").await;
    let (ok, out, err) = run(&["copy", "--from", &province, "--to", &middle]);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("số dòng hai bên khớp") && out.contains("đơn vị cấp cao nhất tính ở hai bên khớp"), "{out}");
    let responses = out.lines().find_map(|line| line.trim().strip_prefix("responses: ")).unwrap_or_default();
    assert!(responses.trim_end_matches(" dòng").parse::<u64>().unwrap_or(0) > 3000, "{out}");

    // The copy is a working database: new rows get new ids after the copied ones.
    let added = common::hailong(&middle, &["user", "add", "--username", "sau.khi.chep", "--role", "admin"]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let index = common::hailong(&middle, &["index", "--agency", "PT", "--json"]);
    assert!(index.status.success(), "{}", String::from_utf8_lossy(&index.stderr));
    let index: serde_json::Value = serde_json::from_slice(&index.stdout).unwrap();
    assert!(index["responses"].as_u64().unwrap() > 2000, "{index}");

    // And back: the same rows as the province had, plus the account added on the way.
    let back = sqlite(dir.path(), "ve.db");
    let (ok, out, err) = run(&["copy", "--from", &middle, "--to", &back]);
    assert!(ok, "{out}\n{err}");
    let (before, after) = (rows_of(&province).await, rows_of(&back).await);
    assert_eq!(before.len(), after.len());
    let filled: Vec<&str> = before.iter().filter(|(_, rows)| !rows.is_empty()).map(|(t, _)| t.as_str()).collect();
    for table in
        ["agencies", "api_keys", "audit_log", "dossier_counts", "kiosks", "questionnaires", "responses", "users"]
    {
        assert!(filled.contains(&table), "{table} has rows to copy: {filled:?}");
    }
    for ((table, rows), (_, back_rows)) in before.iter().zip(&after) {
        let (mut rows, mut back_rows) = (rows.clone(), back_rows.clone());
        if table == "users" || table == "audit_log" {
            // What `user add` on the copy wrote.
            back_rows.retain(|row| !row.contains("sau.khi.chep"));
            rows.retain(|row| !row.contains("sau.khi.chep"));
        }
        assert_eq!(rows, back_rows, "table {table}");
    }
}

#[tokio::test]
async fn a_copy_into_a_database_with_data_or_from_nothing_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let province = sqlite(dir.path(), "tinh.db");
    assert!(common::hailong(&province, &["demo"]).status.success());
    let other = common::fresh_database(dir.path(), "khac.db").await;
    assert!(common::hailong(&other, &["demo"]).status.success());
    let before = common::hailong(&other, &["index", "--agency", "PT", "--json"]).stdout;

    let (ok, _, err) = run(&["copy", "--from", &province, "--to", &other]);
    assert!(!ok && err.contains("cơ sở dữ liệu đích đã có dữ liệu"), "{err}");
    // A server still writing into the SQLite file would leave its answers behind.
    let mut server = common::process::start(&province, common::process::free_port()).await;
    let (ok, _, err) = run(&["copy", "--from", &province, "--to", &sqlite(dir.path(), "trong.db")]);
    server.kill();
    assert!(!ok && err.contains("đang dùng cơ sở dữ liệu"), "{err}");
    assert!(!dir.path().join("trong.db").exists());
    assert_eq!(common::hailong(&other, &["index", "--agency", "PT", "--json"]).stdout, before);

    let (ok, _, err) =
        run(&["copy", "--from", &sqlite(dir.path(), "khong-co.db"), "--to", &sqlite(dir.path(), "moi.db")]);
    assert!(!ok && err.contains("không có cơ sở dữ liệu nguồn"), "{err}");
    assert!(!dir.path().join("khong-co.db").exists() && !dir.path().join("moi.db").exists());
    let (ok, _, err) = run(&["copy", "--from", &province, "--to", "mysql://x"]);
    assert!(!ok && err.contains("không hợp lệ"), "{err}");
}
