//! A database made by an earlier version keeps its answers through the migrations that came
//! after it: they are read back, counted and exported as they were stored.

use app::domain::period::{vietnam_day, ClosedDays};
use app::service::reports::Scope;
use app::service::{AppState, Settings};
use chrono::{Duration, DurationRound, TimeDelta, Utc};
use sqlx::migrate::Migrator;
use sqlx::SqlitePool;

/// The migrations up to (not including) the one that moved answers into the response row.
const BEFORE_INLINE_ANSWERS: &str = "20261125000009";
/// The migrations up to (not including) the one that packed the response row.
const BEFORE_PACKED_RESPONSES: &str = "20261130000013";

/// A database file in `dir` made by the migrations older than `version`, as an earlier
/// version of hailong left it.
async fn database_before(dir: &std::path::Path, version: &str) -> (String, SqlitePool) {
    let old = dir.join("migrations");
    std::fs::create_dir(&old).unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().as_ref() < version {
            std::fs::copy(&path, old.join(path.file_name().unwrap())).unwrap();
        }
    }
    let url = format!("sqlite://{}/old.db?mode=rwc", dir.display());
    let db = SqlitePool::connect(&url).await.unwrap();
    Migrator::new(old.as_path()).await.unwrap().run(&db).await.unwrap();
    (url, db)
}

/// k = 2 (a province may set it): the migrated files hold three responses.
fn settings() -> Settings {
    Settings { link_secret: "a test link secret that is long enough".into(), min_cell: 2, ..Settings::default() }
}

#[tokio::test]
async fn answers_stored_as_rows_by_an_earlier_version_move_into_their_responses() {
    let dir = tempfile::tempdir().unwrap();
    let (url, db) = database_before(dir.path(), BEFORE_INLINE_ANSWERS).await;

    let version = app::domain::questionnaire::Questionnaire::bundled().version;
    // Ten days back: a final day, whose responses reports publish.
    let at = (Utc::now() - Duration::days(10)).format("%Y-%m-%dT%H:00:00.000Z").to_string();
    sqlx::query("INSERT INTO questionnaires (version, body, loaded_at, is_current) VALUES (?, ?, ?, 1)")
        .bind(&version)
        .bind(app::domain::questionnaire::BUNDLED_SIPAS)
        .bind(&at)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO agencies (code, name, kind, parent_code) VALUES ('P', 'Tỉnh P', 'province', NULL),
                                                                   ('D1', 'Sở D1', 'department', 'P')",
    )
    .execute(&db)
    .await
    .unwrap();
    // Three responses of D1: A1 answered 5, 4 and skipped; one rated area X3; one profile answer.
    let ids = [
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
        "00000000-0000-4000-8000-000000000003",
    ];
    for (id, a1) in ids.iter().zip([Some(5), Some(4), None]) {
        sqlx::query(
            "INSERT INTO responses (id, questionnaire_version, agency_code, service_point_code, channel, submitted_at)
             VALUES (?, ?, 'D1', 'P', 'kiosk', ?)",
        )
        .bind(id)
        .bind(&version)
        .bind(&at)
        .execute(&db)
        .await
        .unwrap();
        sqlx::query("INSERT INTO answers (response_id, criterion_code, value) VALUES (?, 'A1', ?), (?, 'B2', 3)")
            .bind(id)
            .bind(a1)
            .bind(id)
            .execute(&db)
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO expectation_answers (response_id, area_code, value) VALUES (?, 'X3', 2)")
        .bind(ids[0])
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO profile_answers (response_id, question_code, option_code) VALUES (?, 'gender', 'nu')")
        .bind(ids[1])
        .execute(&db)
        .await
        .unwrap();
    db.close().await;

    // Today's version migrates the file and computes the aggregates from what it moved.
    let state = AppState::start(&url, settings()).await.unwrap();
    assert_eq!(state.count_answers().await.unwrap(), 6, "two answers of each response, the skipped one kept");
    let today = vietnam_day(Utc::now());
    let days = ClosedDays { from: today - Duration::days(14), to: today - Duration::days(8) };
    let index = state.report_index("P", Some(&days), &Scope::default()).await.unwrap();
    assert_eq!(index.responses, 3);
    let criterion = |code: &str| index.elements.iter().flat_map(|e| &e.criteria).find(|c| c.code == code).unwrap();
    assert_eq!(criterion("A1").counts, [0, 0, 0, 1, 1], "the skipped answer is not a valid one");
    assert_eq!(criterion("B2").counts, [0, 0, 3, 0, 0]);

    let mut exported = state.export_page("D1", &days, None).await.unwrap().rows;
    exported.sort_by_key(|stored| stored.response.id);
    let first = &exported[0].response;
    assert_eq!(first.answers, vec![("A1".to_string(), Some(5)), ("B2".to_string(), Some(3))]);
    assert_eq!(first.expectations, vec![("X3".to_string(), 2)]);
    assert_eq!(exported[1].response.profile, vec![("gender".to_string(), "nu".to_string())]);
    assert_eq!(exported[2].response.answers[0], ("A1".to_string(), None));
    state.close().await;
}

#[tokio::test]
async fn responses_stored_as_json_objects_are_packed_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (url, db) = database_before(dir.path(), BEFORE_PACKED_RESPONSES).await;
    let version = app::domain::questionnaire::Questionnaire::bundled().version;
    let now = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap();
    let text = |at: chrono::DateTime<Utc>| at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    sqlx::query("INSERT INTO questionnaires (version, body, loaded_at, is_current) VALUES (?, ?, ?, 1)")
        .bind(&version)
        .bind(app::domain::questionnaire::BUNDLED_SIPAS)
        .bind(text(now))
        .execute(&db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO agencies (code, name, kind, parent_code) VALUES ('P', 'Tỉnh P', 'province', NULL),
             ('D1', 'Sở D1', 'department', 'P'), ('D2', 'Sở D2', 'department', 'P');
         INSERT INTO kiosks (id, agency_code, name, token_hash, paired_at, created_at) VALUES (7, 'P', 'Kiosk P', 'h', ?1, ?1)",
    )
    .bind(text(now))
    .execute(&db)
    .await
    .unwrap();
    // (id, agency, service point, kiosk, channel, time, answers, expectations, profile, body hash, comment, status)
    let rows = [
        (
            "6f1c2a64-8a6e-4c59-9a43-0f2f3f6b9f10",
            "D1",
            "P",
            Some(7),
            "kiosk",
            now,
            r#"{"A1": 5, "A2": null, "B4": 3, "E3": 1}"#,
            r#"{"X10": 4, "X2": 1}"#,
            r#"{"gender": "nu", "occupation": "khac"}"#,
            Some(42),
            Some("Cán bộ nhiệt tình"),
            Some("approved"),
        ),
        (
            "0a2b3c4d-0000-4000-8000-00000000beef",
            "D1",
            "P",
            Some(7),
            "kiosk",
            now - Duration::days(1),
            r#"{"A1": 4}"#,
            "{}",
            r#"{"age_band": "60+"}"#,
            None,
            Some("Chờ duyệt"),
            Some("pending"),
        ),
        (
            "ffffffff-ffff-4fff-bfff-ffffffffffff",
            "D2",
            "D2",
            None,
            "link",
            now - Duration::days(3),
            r#"{"A1": 1, "A2": 2, "A3": 3, "B1": 4, "B2": 5, "B3": null, "B4": 1, "C1": 2, "C2": 3, "C3": 4,
                "D1": 5, "D2": null, "D3": 1, "E1": 2, "E2": 3, "E3": 4}"#,
            r#"{"X1": 1, "X2": 2, "X3": 3, "X4": 4, "X5": 1, "X6": 2, "X7": 3, "X8": 4, "X9": 1, "X10": 2}"#,
            r#"{"occupation": "cong_chuc", "education": "sau_dai_hoc", "age_band": "18-24", "gender": "khac"}"#,
            Some(-7),
            None,
            None,
        ),
    ];
    for (id, agency, point, kiosk, channel, at, answers, expectations, profile, hash, comment, status) in rows {
        sqlx::query(
            "INSERT INTO responses (id, questionnaire_version, agency_code, service_point_code, kiosk_id, channel,
                                    submitted_at, comment, comment_status, answers, expectations, profile, body_hash)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, json(?), json(?), json(?), ?)",
        )
        .bind(id)
        .bind(&version)
        .bind(agency)
        .bind(point)
        .bind(kiosk)
        .bind(channel)
        .bind(text(at))
        .bind(comment)
        .bind(status)
        .bind(answers)
        .bind(expectations)
        .bind(profile)
        .bind(hash)
        .execute(&db)
        .await
        .unwrap();
    }
    db.close().await;

    let state = AppState::start(&url, settings()).await.unwrap();
    let db = SqlitePool::connect(&url).await.unwrap();
    // Each row as one line: agency, hour (from now's), id, channel, kiosk, answers, expectations,
    // profile, body hash, comment status, comment.
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT printf('%s %d %s %d %s %s %s %s %s %s %s', agency_code, hour - ?, lower(hex(id)), channel,
                       coalesce(kiosk_id, '-'), answers, expectations, profile, coalesce(body_hash, '-'),
                       coalesce(comment_status, '-'), coalesce(comment, '-'))
         FROM responses ORDER BY agency_code, hour, id",
    )
    .bind(now.timestamp() / 3600)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        stored,
        [
            "D1 -24 0a2b3c4d00004000800000000000beef 0 7 4............... .......... .5.. - pending Chờ duyệt",
            "D1 0 6f1c2a648a6e4c599a430f2f3f6b9f10 0 7 5-....3........1 .1.......4 2..7 42 approved Cán bộ nhiệt tình",
            "D2 -72 ffffffffffff4fffbfffffffffffffff 1 - 12345-12345-1234 1234123412 3161 -7 - -",
        ]
    );
    let indexes: Vec<(String, i64)> =
        sqlx::query_as("SELECT name, \"unique\" FROM pragma_index_list('responses') WHERE origin = 'c' ORDER BY name")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(indexes, [("responses_comments".to_string(), 0), ("responses_id".to_string(), 1)]);
    let today = vietnam_day(Utc::now());
    let kiosk_days: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT kiosk_id, day, responses FROM kiosk_days ORDER BY day").fetch_all(&db).await.unwrap();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    assert_eq!(kiosk_days, [(7, day(vietnam_day(now - Duration::days(1))), 1), (7, day(vietnam_day(now)), 1)]);
    db.close().await;

    // Read back through the application: counts, the kiosk list, the comment queue, exports.
    assert_eq!(state.count_answers().await.unwrap(), 4 + 1 + 16, "skipped answers count, criteria not shown do not");
    let kiosk = state.kiosks().await.unwrap().into_iter().find(|k| k.kiosk.id == 7).unwrap();
    assert_eq!(kiosk.responses_today, 1);
    let comments = state.comments("P", None, true).await.unwrap();
    let pending: Vec<&str> = comments.pending.iter().map(|c| c.response_id.as_str()).collect();
    assert_eq!((pending, comments.waiting), (vec!["0a2b3c4d-0000-4000-8000-00000000beef"], 1));
    // The days the rows were written on (today excluded), read whether or not they are final.
    let days = ClosedDays { from: today - Duration::days(7), to: today - Duration::days(1) };
    let pairs = |list: &[(&str, &str)]| list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
    let d1 = state.stored_responses("D1", &days, None).await.unwrap();
    assert_eq!(d1.len(), 1, "today is not closed yet");
    assert_eq!(d1[0].response.answers, [("A1".to_string(), Some(4))]);
    assert_eq!(d1[0].response.profile, pairs(&[("age_band", "60+")]));
    assert_eq!(d1[0].submitted_at, now - Duration::days(1));
    let d2 = &state.stored_responses("D2", &days, None).await.unwrap()[0];
    let answers: Vec<Option<u8>> = d2.response.answers.iter().map(|(_, v)| *v).collect();
    assert_eq!(answers, [1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4].map(|v| (v > 0).then_some(v)));
    assert_eq!(d2.response.answers[5].0, "B3");
    let areas: Vec<(&str, u8)> = d2.response.expectations.iter().map(|(c, v)| (c.as_str(), *v)).collect();
    assert_eq!(areas[9], ("X10", 2), "areas in the questionnaire's order");
    assert_eq!(
        d2.response.profile,
        pairs(&[("gender", "khac"), ("age_band", "18-24"), ("education", "sau_dai_hoc"), ("occupation", "cong_chuc")])
    );
    assert_eq!(d2.channel, app::domain::submission::Channel::Link);
    state.close().await;
}

/// How long migration 13 takes on a large database (`HAILONG_UPGRADE_RESPONSES`, default
/// 100,000 responses of the shape migration 12 left): `cargo test --release -p server --test
/// migrations -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a timing, run by hand"]
async fn packing_a_large_database() {
    let count: i64 = std::env::var("HAILONG_UPGRADE_RESPONSES").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let (url, db) = database_before(dir.path(), BEFORE_PACKED_RESPONSES).await;
    let version = app::domain::questionnaire::Questionnaire::bundled().version;
    sqlx::query("INSERT INTO questionnaires (version, body, loaded_at, is_current) VALUES (?, ?, '2026-01-01', 1)")
        .bind(&version)
        .bind(app::domain::questionnaire::BUNDLED_SIPAS)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO agencies (code, name, kind, parent_code) VALUES ('P', 'Tỉnh P', 'province', NULL),
             ('D1', 'Sở D1', 'department', 'P');
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO responses (id, questionnaire_version, agency_code, service_point_code, channel, submitted_at,
                                answers, expectations, profile, body_hash)
         SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a'
                      || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
                ?2, 'D1', 'P', 'link', strftime('%Y-%m-%dT%H:00:00.000Z', '2026-11-01', '-' || (i % 7000) || ' hours'),
                '{\"A1\":5,\"A2\":null,\"A3\":4,\"B1\":3,\"B2\":2,\"B3\":1,\"B4\":5,\"C1\":4,\"C2\":3,\"C3\":2,\"D1\":1,\"D2\":5,\"D3\":4,\"E1\":3,\"E2\":2,\"E3\":1}',
                '{\"X3\":2,\"X7\":4}', '{\"gender\":\"nu\",\"age_band\":\"35-49\"}', i
         FROM n",
    )
    .bind(count)
    .bind(&version)
    .execute(&db)
    .await
    .unwrap();
    db.close().await;

    let started = std::time::Instant::now();
    let upgraded = app::storage::Db::open(&url).await.unwrap();
    upgraded.migrate().await.unwrap();
    println!("migration 13 packed {count} responses in {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(upgraded.count_responses().await.unwrap(), count as u64);
    assert_eq!(upgraded.count_answers().await.unwrap(), 16 * count as u64);
    upgraded.close().await;
}
