//! A database made by an earlier version keeps its answers through the migrations that came
//! after it: they are read back, counted and exported as they were stored.

use app::domain::period::{vietnam_day, Period};
use app::domain::Population;
use app::service::{AppState, Settings};
use chrono::{Duration, Utc};
use sqlx::migrate::Migrator;

/// The migrations up to (not including) the one that moved answers into the response row.
const BEFORE_INLINE_ANSWERS: &str = "20261125000009";

#[tokio::test]
async fn answers_stored_as_rows_by_an_earlier_version_move_into_their_responses() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("migrations");
    std::fs::create_dir(&old).unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().as_ref() < BEFORE_INLINE_ANSWERS {
            std::fs::copy(&path, old.join(path.file_name().unwrap())).unwrap();
        }
    }
    let url = format!("sqlite://{}/old.db?mode=rwc", dir.path().display());
    let db = sqlx::SqlitePool::connect(&url).await.unwrap();
    Migrator::new(old.as_path()).await.unwrap().run(&db).await.unwrap();

    let version = app::domain::questionnaire::Questionnaire::bundled().version;
    let at = (Utc::now() - Duration::days(3)).format("%Y-%m-%dT%H:00:00.000Z").to_string();
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
    let settings = Settings { link_secret: "a test link secret that is long enough".into(), ..Settings::default() };
    let state = AppState::start(&url, settings).await.unwrap();
    assert_eq!(state.count_answers().await.unwrap(), 6, "two answers of each response, the skipped one kept");
    let today = vietnam_day(Utc::now());
    let period = Period { from: Some(today - Duration::days(7)), to: Some(today) };
    let index = state.indices("P", &Population { period, channel: None }).await.unwrap();
    assert_eq!(index.responses, 3);
    let criterion = |code: &str| index.elements.iter().flat_map(|e| &e.criteria).find(|c| c.code == code).unwrap();
    assert_eq!(criterion("A1").counts, [0, 0, 0, 1, 1], "the skipped answer is not a valid one");
    assert_eq!(criterion("B2").counts, [0, 0, 3, 0, 0]);

    let days = period.closed_days(today).unwrap();
    let mut exported = state.export_page("D1", &days, None).await.unwrap();
    exported.sort_by_key(|stored| stored.response.id);
    let first = &exported[0].response;
    assert_eq!(first.answers, vec![("A1".to_string(), Some(5)), ("B2".to_string(), Some(3))]);
    assert_eq!(first.expectations, vec![("X3".to_string(), 2)]);
    assert_eq!(exported[1].response.profile, vec![("gender".to_string(), "nu".to_string())]);
    assert_eq!(exported[2].response.answers[0], ("A1".to_string(), None));
    state.close().await;
}
