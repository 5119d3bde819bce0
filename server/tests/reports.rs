//! The reports against hand-computed numbers: a ranking with ties, movement, the target gap and
//! the sample check; units restated to their successors; breakdowns with hidden small cells;
//! today's responses shown only as a count.

mod common;

use app::domain::audit::{Actor, AuditAction};
use app::domain::period::{start_of_day, vietnam_day};
use app::domain::submission::Channel;
use app::domain::ValidResponse;
use app::service::Settings;
use app::storage::NewResponse;
use chrono::{Datelike, Duration, Months, NaiveDate, Utc};
use common::{spawn_app, spawn_app_with, TestApp, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::io::Cursor;

use calamine::{Reader, Xlsx};

const CRITERIA: [&str; 16] =
    ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "D1", "D2", "D3", "E1", "E2", "E3"];

/// The first day of the month `back` months before this one.
fn month_start(back: u32) -> NaiveDate {
    let today = vietnam_day(Utc::now());
    today.with_day(1).unwrap().checked_sub_months(Months::new(back)).unwrap()
}

/// `count` responses for `agency` on `day`, the first `satisfied` answering 5 to everything and
/// the rest 2: each one's criteria, elements and overall index are then 100 % or 0 %.
async fn store(app: &TestApp, agency: &str, day: NaiveDate, count: usize, satisfied: usize, gender: Option<&str>) {
    let level = |i: usize| if i < satisfied { 5 } else { 2 };
    let answers = |i| CRITERIA.iter().map(|c| (*c, level(i))).collect();
    store_answers(app, agency, day, count, gender, Channel::Link, answers).await;
}

/// `count` responses for `agency` on `day`, the `i`th answering `answers(i)` (the rest skipped).
async fn store_answers(
    app: &TestApp,
    agency: &str,
    day: NaiveDate,
    count: usize,
    gender: Option<&str>,
    channel: Channel,
    answers: impl Fn(usize) -> Vec<(&'static str, u8)>,
) {
    let version = app.state.questionnaire.version.clone();
    let batch: Vec<NewResponse> = (0..count)
        .map(|i| NewResponse {
            response: ValidResponse {
                id: uuid::Uuid::new_v4(),
                agency: agency.into(),
                questionnaire_version: version.clone(),
                answers: answers(i).into_iter().map(|(c, level)| (c.to_string(), Some(level))).collect(),
                expectations: vec![],
                profile: gender.map(|g| vec![("gender".to_string(), g.to_string())]).unwrap_or_default(),
                comment: None,
                day: None,
            },
            service_point: agency.into(),
            kiosk_id: None,
            channel,
            submitted_at: start_of_day(day) + Duration::hours(9),
        })
        .collect();
    assert_eq!(app.state.store_bulk(&batch).await.unwrap(), count as u64);
}

async fn import(app: &TestApp, csv: &str) {
    let rows = app::service::AppState::read_registry_csv(csv).unwrap();
    app.state.apply_registry(&Actor::cli(), &rows, None, AuditAction::AgenciesImported).await.unwrap();
}

async fn get(app: &TestApp, path: &str) -> Value {
    let response = app.client.get(format!("{}{path}", app.base)).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// The default targets' milestone for `year`: 90 in 2025 rising by 1 a year to 95 in 2030.
fn milestone(year: i32) -> f64 {
    90.0 + f64::from(year.clamp(2025, 2030) - 2025)
}

fn close(actual: &Value, expected: f64) {
    let actual = actual.as_f64().unwrap_or_else(|| panic!("{actual} is not a number"));
    assert!((actual - expected).abs() < 1e-9, "{actual} is not {expected}");
}

#[tokio::test]
async fn a_ranking_shares_places_shows_movement_the_target_gap_and_restates_merged_units() {
    // k = 2 (a province may set it): the month before holds X1's two responses; units whose
    // completed dossiers were not entered are ranked from 2 responses.
    // Elements hold from 2 answers, so that these small samples keep all five.
    let settings = Settings { min_cell: 2, ranking_floor: 2, element_minimum: 2, ..Settings::default() };
    let app = spawn_app_with(settings).await;
    import(&app, "code,name,kind,parent,valid_from,successor,serves\nX1,Xã Một,commune,P,,,\nX2,Xã Hai,commune,P,,,\nX3,Xã Ba,commune,P,,,\n").await;
    let (last, before) = (month_start(1), month_start(2));
    // Last month: X1 3/4 = 75 %, X2 9/10 = 90 %, X3 3/4 = 75 %.
    // The month before: X1 2/2 = 100 %, X2 4/5 = 80 %, X3 nothing.
    for (agency, day, count, satisfied) in
        [("X1", last, 4, 3), ("X2", last, 10, 9), ("X3", last, 4, 3), ("X1", before, 2, 2), ("X2", before, 5, 4)]
    {
        store(&app, agency, day + Duration::days(9), count, satisfied, None).await;
    }
    // X1 then merged into X3 at the start of this month.
    import(
        &app,
        &format!("code,name,kind,parent,valid_from,successor,serves\nX1,Xã Một,commune,P,{},X3,\n", month_start(0)),
    )
    .await;
    // X2 completed 10 dossiers last month: minimum sample 10 / (1 + 10 × 0.0025) = 9.76 → 10.
    let counts = format!("X2,{},10", last.format("%Y-%m"));
    app.state.enter_dossier_counts(&Actor::cli(), &counts).await.unwrap();

    let to = month_start(0) - Duration::days(1);
    let period = format!("from={last}&to={to}");
    let ranking = get(&app, &format!("/api/v1/rankings?kind=commune&{period}")).await;
    let row = |code: &str| ranking["rows"].as_array().unwrap().iter().find(|r| r["code"] == code).cloned().unwrap();
    let target = milestone(to.year());
    close(&ranking["target"]["percent"], target);
    assert_eq!(ranking["previous_from"], before.to_string());
    assert_eq!((row("X2")["rank"].clone(), row("X2")["previous_rank"].clone()), (json!(1), json!(2)));
    close(&row("X2")["index"], 90.0);
    close(&row("X2")["gap_to_target"], 90.0 - target);
    assert_eq!((row("X1")["rank"].clone(), row("X1")["previous_rank"].clone()), (json!(2), json!(1)));
    assert_eq!(
        (row("X3")["rank"].clone(), row("X3")["previous_rank"].clone()),
        (json!(2), Value::Null),
        "a tie with X1"
    );
    close(&row("X1")["index"], 75.0);
    assert_eq!(
        ranking["movement"],
        json!({"score_rose": 1, "score_fell": 1, "rank_climbed": 1, "rank_fell": 1, "rank_kept": 0})
    );
    assert_eq!((row("X2")["dossiers"].clone(), row("X2")["minimum_sample"].clone()), (json!(10), json!(10)));
    assert_eq!(row("X2")["adequacy"], "adequate", "10 responses for 10 dossiers");
    close(&row("X2")["response_rate"], 100.0);
    assert_eq!((row("X1")["adequacy"].clone(), row("X1")["dossiers"].clone()), (json!("unknown_n"), Value::Null));
    // Per respondent: each of X2's 10 respondents is wholly satisfied (9) or not (1), so the
    // overall varies as one proportion: variance 0.9 × 0.1 / 9 = 0.01, effective n = 0.09 / 0.01
    // = 9, Wilson for 8.1 of 9: 57.73 % – 98.34 % (criterion by criterion it was 59.58 – 98.21).
    let ci = row("X2")["ci95"].as_array().unwrap().clone();
    assert!(
        (ci[0].as_f64().unwrap() - 57.726).abs() < 0.01 && (ci[1].as_f64().unwrap() - 98.342).abs() < 0.01,
        "{ci:?}"
    );

    // Restated to today's units: X1's responses count for X3 (3 + 3 of 8 = 75 %), X1 is gone.
    let restated = get(&app, &format!("/api/v1/rankings?kind=commune&{period}&basis=restated")).await;
    let rows = restated["rows"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["code"] != "X1"));
    let x3 = rows.iter().find(|r| r["code"] == "X3").unwrap();
    assert_eq!((x3["responses"].clone(), x3["rank"].clone()), (json!(8), json!(2)));
    close(&x3["index"], 75.0);
    assert_eq!(x3["previous_rank"], json!(1), "the month before, X1's 2 of 2 (100 %) count for X3, above X2's 80 %");
}

#[tokio::test]
async fn a_60_40_split_is_restated_by_its_shares_and_a_split_without_shares_is_footnoted() {
    let settings = Settings { min_cell: 2, ranking_floor: 2, element_minimum: 2, ..Settings::default() };
    let app = spawn_app_with(settings).await;
    let header = "code,name,kind,parent,valid_from,successor,serves\n";
    import(
        &app,
        &format!(
            "{header}S,Xã Sơn,commune,P,,,\nT,Xã Tân,commune,P,,,\nA,Xã An,commune,P,,,\nB,Xã Bình,commune,P,,,\n"
        ),
    )
    .await;
    // Last month: S 5 of 10 satisfied, A 18 of 20, B 2 of 10, T 4 of 4; completed dossiers
    // S 100, A 200, B 100 (T none entered).
    let last = month_start(1);
    for (agency, count, satisfied) in [("S", 10, 5), ("A", 20, 18), ("B", 10, 2), ("T", 4, 4)] {
        store(&app, agency, last + Duration::days(3), count, satisfied, None).await;
    }
    let month = last.format("%Y-%m");
    let counts = format!("S,{month},100\nA,{month},200\nB,{month},100");
    app.state.enter_dossier_counts(&Actor::cli(), &counts).await.unwrap();
    // This month S splits 60/40 into A and B; T splits into A and B with no shares.
    let closes = month_start(0);
    import(&app, &format!("{header}S,Xã Sơn,commune,P,{closes},A:0.6;B:0.4,\nT,Xã Tân,commune,P,{closes},A;B,\n"))
        .await;

    let to = closes - Duration::days(1);
    let period = format!("from={last}&to={to}");
    let restated = get(&app, &format!("/api/v1/rankings?kind=commune&{period}&basis=restated")).await;
    let rows = restated["rows"].as_array().unwrap();
    let row = |code: &str| rows.iter().find(|r| r["code"] == code).cloned();
    assert!(row("S").is_none() && row("T").is_none(), "{rows:?}");
    // A: 20 + 0.6 × 10 = 26 responses, 18 + 3 = 21 satisfied: 80.77 %; N = 200 + 60 = 260
    let a = row("A").unwrap();
    assert_eq!((a["responses"].clone(), a["dossiers"].clone()), (json!(26), json!(260)));
    close(&a["index"], 2100.0 / 26.0);
    close(&a["weighted"], 2100.0 / 26.0);
    // B: 10 + 4 = 14 responses, 2 + 2 = 4 satisfied: 28.57 %; N = 100 + 40 = 140
    let b = row("B").unwrap();
    assert_eq!((b["responses"].clone(), b["dossiers"].clone()), (json!(14), json!(140)));
    close(&b["index"], 400.0 / 14.0);
    assert_eq!(
        restated["restated_splits"],
        json!([
            {"code": "S", "name": "Xã Sơn", "successors": "Xã An (60 %), Xã Bình (40 %)", "apportioned": true},
            {"code": "T", "name": "Xã Tân", "successors": "Xã An, Xã Bình", "apportioned": false},
        ])
    );
    // As they were, nothing is apportioned and nothing footnoted.
    let as_were = get(&app, &format!("/api/v1/rankings?kind=commune&{period}")).await;
    let s = as_were["rows"].as_array().unwrap().iter().find(|r| r["code"] == "S").cloned().unwrap();
    assert_eq!(s["responses"], json!(10));
    assert!(as_were.get("restated_splits").is_none());

    // A's breakdown and trend take its 0.6 of S's answers; the province keeps all 44.
    let channels = get(&app, &format!("/api/v1/breakdowns?agency=A&by=channel&{period}&basis=restated")).await;
    let link = channels["rows"].as_array().unwrap().iter().find(|r| r["value"] == "link").cloned().unwrap();
    assert_eq!(link["responses"], json!(26));
    close(&link["index"], 2100.0 / 26.0);
    let province = get(&app, &format!("/api/v1/breakdowns?agency=P&by=channel&{period}&basis=restated")).await;
    assert_eq!(province["rows"][1]["responses"], json!(44));

    // The ranking page footnotes both splits.
    let admin = app.session("tinh", app::domain::account::Role::Admin, None).await;
    let (status, page) = app.page(Some(&admin), &format!("/admin/rankings?kind=commune&{period}&basis=restated")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Phiếu và số hồ sơ của Xã Sơn (S) đã chia tách được phân bổ cho Xã An (60 %), Xã Bình (40 %)"),
        "{page}"
    );
    assert!(
        page.contains("Xã Tân (T) chia tách thành Xã An, Xã Bình nhưng chưa có tỷ lệ phân bổ nên không quy đổi"),
        "{page}"
    );

    // The report's workbook footnotes them under the communes' annex.
    let path = format!("{}/api/v1/exports/report.xlsx?agency=P&{period}&basis=restated", app.base);
    let response = app.client.get(&path).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(response.bytes().await.unwrap().to_vec())).unwrap();
    let annex = workbook.worksheet_range("phu-luc-commune").unwrap();
    let notes: Vec<String> = annex.rows().filter(|r| r[0] == "Ghi chú").map(|r| r[1].to_string()).collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].starts_with("Phiếu và số hồ sơ của Xã Sơn (S) đã chia tách được phân bổ cho Xã An (60 %)"));
}

#[tokio::test]
async fn breakdowns_wait_until_every_part_has_k_and_today_is_only_a_count() {
    // a part of 9 men keeps its overall: elements hold from 5 answers
    let app = spawn_app_with(Settings { element_minimum: 5, ..Settings::default() }).await;
    let day = month_start(1) + Duration::days(2);
    store(&app, "D2", day, 4, 4, Some("nam")).await; // 4 < k: the breakdown waits
    store(&app, "D2", day, 12, 6, Some("nu")).await;
    store(&app, "D2", day, 20, 15, None).await; // no answer to the question: 75 %
    let breakdown = |by: &str, from: NaiveDate, to: NaiveDate| {
        let path = format!("/api/v1/breakdowns?agency=D2&by={by}&from={from}&to={to}");
        let app = &app;
        async move { get(app, &path).await["rows"].clone() }
    };
    let cell =
        |rows: &Value, value: &str| rows.as_array().unwrap().iter().find(|r| r["value"] == value).cloned().unwrap();
    // The day's 36 responses are one disclosure step, but four men would be a part of 4: no part
    // of the gender breakdown is published yet, none hidden either.
    let rows = breakdown("gender", day, day).await;
    for value in ["nam", "nu", "khac", ""] {
        assert_eq!(
            (cell(&rows, value)["responses"].clone(), cell(&rows, value)["suppressed"].clone()),
            (json!(0), json!(false)),
            "{value}"
        );
    }
    let channels = breakdown("channel", day, day).await;
    assert_eq!(channels[1]["value"], "link");
    assert_eq!(channels[1]["responses"], 36);
    close(&channels[1]["index"], (4.0 + 6.0 + 15.0) / 36.0 * 100.0);

    // Five more men the next day, all satisfied: every part has 0 or k, the breakdown publishes
    // both days in the period that holds the next day.
    let next = day + Duration::days(1);
    store(&app, "D2", next, 5, 5, Some("nam")).await;
    let rows = breakdown("gender", day, next).await;
    assert_eq!(rows, breakdown("gender", next, next).await, "the wider step closed on the next day");
    assert_eq!(cell(&rows, "nam")["responses"], 9);
    close(&cell(&rows, "nam")["index"], 100.0);
    assert_eq!(cell(&rows, "nu")["responses"], 12);
    close(&cell(&rows, "nu")["index"], 50.0);
    assert_eq!((cell(&rows, "")["responses"].clone(), cell(&rows, "khac")["responses"].clone()), (json!(20), json!(0)));
    close(&cell(&rows, "")["index"], 75.0);
    assert!(rows.as_array().unwrap().iter().all(|r| r["suppressed"] == false));
    let first_day = breakdown("gender", day, day).await;
    assert_eq!(cell(&first_day, "nam")["responses"], 0, "the first day alone still publishes no part");

    // Today's responses: a count on the dashboard, no per-level numbers anywhere.
    let today = vietnam_day(Utc::now());
    store(&app, "D2", today, 3, 1, Some("nu")).await;
    let indices = get(&app, &format!("/api/v1/indices?agency=D2&from={today}&to={today}")).await;
    assert_eq!(indices["responses"], 0);
    assert_eq!(indices["elements"][0]["criteria"][0]["counts"], json!([0, 0, 0, 0, 0]));
    let today_rows = get(&app, &format!("/api/v1/breakdowns?agency=D2&by=gender&from={today}&to={today}")).await;
    assert_eq!(today_rows["rows"], json!([]));
    let admin = app.session("tinh", app::domain::account::Role::Admin, None).await;
    let (status, page) = app.page(Some(&admin), &format!("/admin?agency=D2&from={today}&to={today}")).await;
    assert_eq!(status, 200);
    let today_line = page.split("id=\"today-count\"").nth(1).and_then(|rest| rest.split("</p>").next()).unwrap();
    assert!(today_line.contains(">3<"), "today's count on the dashboard: {today_line}");
    assert!(page.contains("Chưa có ngày nào của kỳ này được chốt"));
}

#[tokio::test]
async fn entered_dossier_counts_set_the_minimum_sample_and_a_bad_file_stores_nothing() {
    let app = spawn_app().await;
    import(&app, "code,name,kind,parent,valid_from,successor,serves\nX1,Xã Một,commune,P,,,\nX2,Xã Hai,commune,P,,,\n")
        .await;
    let (last, before) = (month_start(1), month_start(2));
    store(&app, "X1", last + Duration::days(2), 30, 30, None).await;
    store(&app, "X2", last + Duration::days(2), 30, 30, None).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hoso.csv");
    let month = |d: NaiveDate| d.format("%Y-%m").to_string();

    // An unknown agency and a bad number: refused whole, with each line named.
    std::fs::write(
        &file,
        format!("agency,month,completed\nX1,{},400\nX9,{},10\nX2,{},nhiều\n", month(last), month(last), month(last)),
    )
    .unwrap();
    let out = common::hailong(&app.database_url, &["dossiers", "import", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("Dòng 4") && err.contains("số nguyên"), "{err}");
    std::fs::write(&file, format!("X1,{},400\nX9,{},10\n", month(last), month(last))).unwrap();
    let out = common::hailong(&app.database_url, &["dossiers", "import", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Không có đơn vị mã X9"), "{out:?}");

    // X1 completed 400 dossiers last month and 600 the month before; X2 has no count entered.
    std::fs::write(&file, format!("X1,{},400\nX1,{},600\n", month(last), month(before))).unwrap();
    let out = common::hailong(&app.database_url, &["dossiers", "import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let to = month_start(0) - Duration::days(1);
    let ranking = get(&app, &format!("/api/v1/rankings?kind=commune&from={last}&to={to}")).await;
    let row = |code: &str| ranking["rows"].as_array().unwrap().iter().find(|r| r["code"] == code).cloned().unwrap();
    // 400 / (1 + 400 × 0.0025) = 200: 30 responses are far below it.
    assert_eq!((row("X1")["dossiers"].clone(), row("X1")["minimum_sample"].clone()), (json!(400), json!(200)));
    assert_eq!((row("X1")["adequacy"].clone(), row("X1")["rank"].clone()), (json!("below_minimum"), Value::Null));
    close(&row("X1")["response_rate"], 30.0 / 400.0 * 100.0);
    // X2's N is unknown, never 0: ranked on the floor (30 responses), its minimum sample unknown.
    assert_eq!((row("X2")["dossiers"].clone(), row("X2")["minimum_sample"].clone()), (Value::Null, Value::Null));
    assert_eq!((row("X2")["adequacy"].clone(), row("X2")["rank"].clone()), (json!("unknown_n"), json!(1)));

    // Ten days of last month count ten of its days' share: 400 × 10 / (days in the month).
    let days_in_month = (month_start(0) - last).num_days() as f64;
    let tenth = last + Duration::days(9);
    let ranking = get(&app, &format!("/api/v1/rankings?kind=commune&from={last}&to={tenth}")).await;
    let x1 = ranking["rows"].as_array().unwrap().iter().find(|r| r["code"] == "X1").cloned().unwrap();
    assert_eq!(x1["dossiers"], json!((400.0 * 10.0 / days_in_month).round() as u64), "{x1}");
    // Entering a month again replaces it.
    std::fs::write(&file, format!("X1,{},40\n", month(last))).unwrap();
    assert!(common::hailong(&app.database_url, &["dossiers", "import", file.to_str().unwrap()]).status.success());
    let ranking = get(&app, &format!("/api/v1/rankings?kind=commune&from={last}&to={to}")).await;
    assert_eq!(ranking["rows"].as_array().unwrap().iter().find(|r| r["code"] == "X1").unwrap()["dossiers"], json!(40));
}

#[tokio::test]
async fn units_below_their_minimum_sample_or_the_floor_are_listed_apart_not_ranked() {
    let settings = Settings { min_cell: 2, ranking_floor: 8, element_minimum: 1, ..Settings::default() };
    let app = spawn_app_with(settings).await;
    let communes = "Y1,Xã Một,commune,P,,,\nY2,Xã Hai,commune,P,,,\nY3,Xã Ba,commune,P,,,\nY4,Xã Bốn,commune,P,,,\n";
    import(&app, &format!("code,name,kind,parent,valid_from,successor,serves\n{communes}")).await;
    let last = month_start(1);
    // Y1 9 of 10 satisfied, N = 10: minimum 10, adequate. Y2 10 of 10 (the best index), N = 40:
    // minimum 40 / 1.1 = 36.4 → 37, below it. Y3 6 of 8, N not entered: the floor is 8, ranked.
    // Y4 6 of 6, N not entered: below the floor.
    for (agency, count, satisfied) in [("Y1", 10, 9), ("Y2", 10, 10), ("Y3", 8, 6), ("Y4", 6, 6)] {
        store(&app, agency, last + Duration::days(3), count, satisfied, None).await;
    }
    let month = last.format("%Y-%m");
    app.state.enter_dossier_counts(&Actor::cli(), &format!("Y1,{month},10\nY2,{month},40")).await.unwrap();

    let period = format!("kind=commune&from={last}&to={}", month_start(0) - Duration::days(1));
    let ranking = get(&app, &format!("/api/v1/rankings?{period}")).await;
    let rows = ranking["rows"].as_array().unwrap();
    let mut listed: Vec<(&str, &Value, &str)> = rows
        .iter()
        .filter(|r| r["code"].as_str().unwrap().starts_with('Y'))
        .map(|r| (r["code"].as_str().unwrap(), &r["rank"], r["adequacy"].as_str().unwrap()))
        .collect();
    // ranked first, by place; then the others (in the registry's order)
    listed[2..].sort_by_key(|(code, _, _)| *code);
    assert_eq!(
        listed,
        [
            ("Y1", &json!(1), "adequate"),
            ("Y3", &json!(2), "unknown_n"),
            ("Y2", &Value::Null, "below_minimum"),
            ("Y4", &Value::Null, "below_floor")
        ]
    );
    let row = |code: &str| rows.iter().find(|r| r["code"] == code).cloned().unwrap();
    assert_eq!((row("Y2")["minimum_sample"].clone(), row("Y2")["dossiers"].clone()), (json!(37), json!(40)));
    close(&row("Y2")["index"], 100.0);
    close(&row("Y2")["response_rate"], 25.0);
    assert_eq!(ranking["ranking_floor"], 8);

    // The CSV says the same, row by row.
    let csv = app
        .client
        .get(format!("{}/api/v1/exports/ranking.csv?{period}", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = |code: &str| csv.lines().find(|l| l.contains(&format!(",{code},"))).unwrap_or_else(|| panic!("{csv}"));
    // … ending in the sample, the interval group and the elements left out
    // and the index weighted by N (Y1's own, 90 %; none for Y3 without N)
    assert!(line("Y2").starts_with(',') && line("Y2").ends_with(",chưa đủ mẫu,,,100"), "{}", line("Y2"));
    assert!(line("Y1").starts_with("1,") && line("Y1").ends_with(",đủ mẫu,1,,90"), "{}", line("Y1"));
    assert!(line("Y3").ends_with(",chưa nhập số hồ sơ (N),1,,"), "{}", line("Y3"));

    // The page lists Y2 and Y4 apart, under the ranking.
    let admin = app.session("tinh", app::domain::account::Role::Admin, None).await;
    let (status, page) = app.page(Some(&admin), &format!("/admin/rankings?{period}")).await;
    assert_eq!(status, 200);
    let (ranked, apart) = page.split_once("id=\"unranked\"").expect("a list of units not ranked");
    for code in ["Y1", "Y3"] {
        assert!(ranked.contains(&format!("data-code=\"{code}\"")) && !apart.contains(&format!("data-code=\"{code}\"")));
    }
    for code in ["Y2", "Y4"] {
        assert!(apart.contains(&format!("data-code=\"{code}\"")) && !ranked.contains(&format!("data-code=\"{code}\"")));
    }
    assert!(page.contains("Chưa xếp hạng: chưa đủ mẫu hoặc thiếu thành phần (2 đơn vị)"));
}

#[tokio::test]
async fn movement_is_measured_against_the_chosen_period_and_a_thin_element_unranks_a_unit() {
    let settings = Settings { min_cell: 2, ranking_floor: 2, element_minimum: 3, ..Settings::default() };
    let app = spawn_app_with(settings).await;
    let communes = "Z1,Xã Một,commune,P,,,\nZ2,Xã Hai,commune,P,,,\nZ3,Xã Ba,commune,P,,,\n";
    import(&app, &format!("code,name,kind,parent,valid_from,successor,serves\n{communes}")).await;
    let (last, month_before, a_year_before) = (month_start(1), month_start(2), month_start(13));
    // The same month a year before: Z1 4/5 = 80 %, Z2 5/5 = 100 %, Z3 3/4 = 75 % → Z2, Z1, Z3
    // (Z3 keeps showing its place of then, with no movement).
    // The month before: Z1 5/5 = 100 % alone.
    // Last month: Z1 9/10 = 90 %, Z2 8/10 = 80 %; Z3 6 answers of 5 to A–D, 2 of them also 2 to
    // E1–E3: E = 0 % from 2 answers, under the minimum of 3, so Z3's overall is A–D alone
    // (100 %, not (4 × 100 + 0) / 5 = 80 %) and Z3 is not ranked beside complete units.
    for (agency, day, count, satisfied) in [
        ("Z1", a_year_before, 5, 4),
        ("Z2", a_year_before, 5, 5),
        ("Z3", a_year_before, 4, 3),
        ("Z1", month_before, 5, 5),
        ("Z1", last, 10, 9),
        ("Z2", last, 10, 8),
    ] {
        store(&app, agency, day + Duration::days(2), count, satisfied, None).await;
    }
    store_answers(&app, "Z3", last + Duration::days(2), 6, None, Channel::Link, |i| {
        let mut answers: Vec<(&str, u8)> = CRITERIA[..13].iter().map(|c| (*c, 5)).collect();
        if i < 2 {
            answers.extend(["E1", "E2", "E3"].map(|c| (c, 2)));
        }
        answers
    })
    .await;
    let to = month_start(0) - Duration::days(1);
    let period = format!("kind=commune&from={last}&to={to}");
    let rows = |ranking: &Value| -> Vec<(String, Value, Value)> {
        let mut rows: Vec<(String, Value, Value)> = ranking["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["code"].as_str().unwrap().starts_with('Z'))
            .map(|r| (r["code"].as_str().unwrap().to_owned(), r["rank"].clone(), r["previous_rank"].clone()))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows
    };

    let last_year = get(&app, &format!("/api/v1/rankings?{period}&compare=same_period_last_year")).await;
    assert_eq!(last_year["comparison"], "same_period_last_year");
    assert_eq!(last_year["previous_from"], a_year_before.to_string());
    assert_eq!(
        rows(&last_year),
        [("Z1".into(), json!(1), json!(2)), ("Z2".into(), json!(2), json!(1)), ("Z3".into(), Value::Null, json!(3))]
    );
    assert_eq!(
        last_year["movement"],
        json!({"score_rose": 1, "score_fell": 1, "rank_climbed": 1, "rank_fell": 1, "rank_kept": 0})
    );
    let z3 = last_year["rows"].as_array().unwrap().iter().find(|r| r["code"] == "Z3").unwrap().clone();
    close(&z3["index"], 100.0);
    assert_eq!((z3["left_out"].clone(), z3["adequacy"].clone()), (json!(["E"]), json!("unknown_n")));
    let year = to.year();
    assert_eq!(last_year["target"]["year"], year.clamp(2025, 2030));
    let z1 = last_year["rows"].as_array().unwrap().iter().find(|r| r["code"] == "Z1").unwrap().clone();
    close(&z1["gap_to_target"], 90.0 - milestone(year));

    // Against the month before, only Z1 had a place: first then and now, its score fell.
    let previous = get(&app, &format!("/api/v1/rankings?{period}")).await;
    assert_eq!(previous["previous_from"], month_before.to_string());
    assert_eq!(
        rows(&previous),
        [
            ("Z1".into(), json!(1), json!(1)),
            ("Z2".into(), json!(2), Value::Null),
            ("Z3".into(), Value::Null, Value::Null)
        ]
    );
    assert_eq!(
        previous["movement"],
        json!({"score_rose": 0, "score_fell": 1, "rank_climbed": 0, "rank_fell": 0, "rank_kept": 1})
    );

    // The dashboard's index of Z3 says what its overall leaves out.
    let index = get(&app, &format!("/api/v1/indices?agency=Z3&from={last}&to={to}")).await;
    assert_eq!(index["left_out"], json!(["E"]));
    assert_eq!(index["elements"][4]["valid"], 2);
    close(&index["elements"][4]["index"], 0.0);

    // A comparison nobody offers is refused, on the API and on the page.
    let bad = app
        .client
        .get(format!("{}/api/v1/rankings?{period}&compare=last_week", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let admin = app.session("tinh", app::domain::account::Role::Admin, None).await;
    let (status, page) = app.page(Some(&admin), &format!("/admin/rankings?{period}&compare=last_week")).await;
    assert_eq!(status, 422);
    assert!(page.contains("same_period_last_year"), "the page names what it takes");

    // The page says what the figures are compared with and why Z3 is apart.
    let (status, page) =
        app.page(Some(&admin), &format!("/admin/rankings?{period}&compare=same_period_last_year")).await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("cùng kỳ năm trước ({}", a_year_before.format("%d/%m/%Y"))));
    let (_, apart) = page.split_once("id=\"unranked\"").expect("a list of units not ranked");
    assert!(apart.contains("data-code=\"Z3\"") && apart.contains("chỉ số chung thiếu thành phần E"));
    assert!(page.contains("selected") && page.contains("value=\"same_period_last_year\""));
}

#[tokio::test]
async fn a_parents_index_weighted_by_completed_dossiers_sits_beside_the_pooled_one() {
    let settings = Settings { min_cell: 2, ranking_floor: 2, element_minimum: 2, ..Settings::default() };
    let app = spawn_app_with(settings).await;
    let units = "W,Huyện W,department,P,,,\nW1,Xã Một,commune,W,,,\nW2,Xã Hai,commune,W,,,\nW3,Xã Ba,commune,W,,,\nW4,Xã Bốn,commune,W,,,\n";
    import(&app, &format!("code,name,kind,parent,valid_from,successor,serves\n{units}")).await;
    let last = month_start(1);
    // W1 N = 1000, 5 of 10 satisfied; W2 N = 100, 90 of 100; W3 N = 10, 40 of 40.
    // Pooled: (5 + 90 + 40) / 150 = 90 %. Weighted: (1000 × 0.5 + 100 × 0.9 + 10 × 1) / 1110 =
    // 54.054 %. W4's 6 answers (all satisfied) have no N: left out of the weighted figure, and said.
    for (agency, count, satisfied) in [("W1", 10, 5), ("W2", 100, 90), ("W3", 40, 40), ("W4", 6, 6)] {
        store(&app, agency, last + Duration::days(4), count, satisfied, None).await;
    }
    let month = last.format("%Y-%m");
    app.state
        .enter_dossier_counts(&Actor::cli(), &format!("W1,{month},1000\nW2,{month},100\nW3,{month},10"))
        .await
        .unwrap();
    let to = month_start(0) - Duration::days(1);
    let index = get(&app, &format!("/api/v1/indices?agency=W&from={last}&to={to}")).await;
    close(&index["overall"], 141.0 / 156.0 * 100.0);
    let weighted = &index["weighted"];
    close(&weighted["overall"], 600.0 / 1110.0 * 100.0);
    assert_eq!((weighted["units"].clone(), weighted["units_without_n"].clone()), (json!(3), json!(1)));
    assert_eq!(weighted["responses_without_n"], 6);
    close(&weighted["dossiers"], 1110.0);
    // The department's row of the ranking carries the same weighted figure beside its index.
    let ranking = get(&app, &format!("/api/v1/rankings?kind=department&from={last}&to={to}")).await;
    let w = ranking["rows"].as_array().unwrap().iter().find(|r| r["code"] == "W").unwrap().clone();
    close(&w["index"], 141.0 / 156.0 * 100.0);
    close(&w["weighted"], 600.0 / 1110.0 * 100.0);

    let admin = app.session("tinh", app::domain::account::Role::Admin, None).await;
    let (status, page) = app.page(Some(&admin), &format!("/admin?agency=W&from={last}&to={to}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("54,05%"), "the weighted index on the dashboard");
    assert!(page.contains("1 đơn vị có phiếu nhưng chưa nhập N (6 phiếu) không được tính"));

    // The report as a workbook: the overview with both figures, each kind's annex, data quality.
    let path = format!("{}/api/v1/exports/report.xlsx?agency=W&from={last}&to={to}", app.base);
    let response = app.client.get(&path).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.unwrap().to_vec();
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(body)).expect("a readable XLSX file");
    assert_eq!(workbook.sheet_names(), ["tong-quan", "phu-luc-department", "phu-luc-commune", "chat-luong"]);
    let overview = workbook.worksheet_range("tong-quan").unwrap();
    let figure = |what: &str| -> f64 {
        let row = overview.rows().find(|r| r[0] == what).unwrap_or_else(|| panic!("{what}"));
        row[1].to_string().parse().unwrap()
    };
    assert!((figure("Chỉ số có trọng số theo số hồ sơ N (%)") - 600.0 / 1110.0 * 100.0).abs() < 1e-3);
    assert!((figure("Chỉ số hài lòng chung (%)") - 141.0 / 156.0 * 100.0).abs() < 1e-3);
    let annex = workbook.worksheet_range("phu-luc-commune").unwrap();
    let w2: Vec<String> = annex.rows().find(|r| r[0] == "W2").unwrap().iter().map(|c| c.to_string()).collect();
    // code, name, A–E (90 % each), overall 90, weighted 90, n 100, N 100
    assert_eq!(&w2[2..11], ["90", "90", "90", "90", "90", "90", "90", "100", "100"]);
    let csv = app.client.get(path.replace(".xlsx", ".csv")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(csv.status(), 404, "the report is a workbook only");
}

/// Moves what the test kiosk sent, and the flag it got, into 9:00 on `day` (the flagged
/// kiosk-hour, as if it had happened then), all but `later` responses, which go to 10:00; then
/// recomputes the aggregates. A flag seen again later in the test is the same kiosk-hour's.
async fn into_kiosk_hours(app: &TestApp, day: NaiveDate, later: usize) {
    let at = start_of_day(day) + Duration::hours(9);
    let db = common::sql(&app.database_url).await;
    let hour = at.timestamp() / 3600;
    let later = format!(
        "UPDATE responses SET hour = $1 + 1 WHERE id IN
             (SELECT id FROM responses WHERE kiosk_id IS NOT NULL ORDER BY id LIMIT {later})"
    );
    let moves = [
        ("UPDATE responses SET hour = $1 WHERE kiosk_id IS NOT NULL", json!(hour)),
        (later.as_str(), json!(hour)),
        ("DELETE FROM kiosk_anomalies WHERE hour <> (SELECT MIN(hour) FROM kiosk_anomalies)", json!(null)),
        // Counted once, however many minutes the sends took (a flag counts at most once a minute).
        ("UPDATE kiosk_anomalies SET hour = $1, occurrences = 1", json!(app::storage::timestamp(at))),
    ];
    for (statement, value) in moves {
        let query = sqlx::query(sqlx::AssertSqlSafe(statement));
        let query = match value {
            Value::Number(hour) => query.bind(hour.as_i64().unwrap()),
            Value::String(text) => query.bind(text),
            _ => query,
        };
        query.execute(&db).await.unwrap();
    }
    db.close().await;
    app.state.rebuild_aggregates().await.unwrap();
}

/// The text of the printed report's sensitivity line, as `reader` sees it (none: not shown).
async fn sensitivity_line(app: &TestApp, reader: &str) -> Option<String> {
    let (status, report) = app.page(Some(reader), "/admin/report").await;
    assert_eq!(status, 200);
    let section = report.split("id=\"sensitivity\"").nth(1)?;
    Some(section.split("<p>").nth(1).unwrap().split("</p>").next().unwrap().to_owned())
}

#[tokio::test]
async fn the_report_gives_the_overall_without_flagged_kiosk_hours_to_the_province_only() {
    // Three identical answers from one kiosk within half an hour flag it; k = 5.
    let limits = app::domain::anomaly::KioskLimits { max_per_minute: 0, burst: 100, identical: 3 };
    let app = spawn_app_with(Settings { kiosk_limits: limits, ..Settings::default() }).await;
    let admin = app.session("tinh", app::domain::account::Role::Admin, None).await;
    // A final day, inside the report's default period whatever the date.
    let day = vietnam_day(Utc::now()) - Duration::days(i64::from(common::FINAL));
    // Ten link answers of 5 to everything at 9:00 that day (100 %), none from a kiosk.
    store(&app, "D1", day, 10, 10, None).await;
    let all_two: serde_json::Map<String, Value> = CRITERIA.iter().map(|c| (c.to_string(), json!(2))).collect();
    let kiosk_sends = |count: usize| {
        let app = &app;
        let all_two = &all_two;
        async move {
            for _ in 0..count {
                let body = json!({"id": uuid::Uuid::new_v4().to_string(), "agency": "D1", "answers": all_two});
                assert_eq!(app.post_response(&body).await.status(), 201);
            }
        }
    };

    // Six answers of 2 from the kiosk, flagged at the third; three of them in the flagged hour,
    // three an hour later. All 16 are published (the kiosk's 6 make a step of k), and 3 come
    // from the flagged kiosk-hour: fewer than k, so no overall without them is published.
    kiosk_sends(6).await;
    assert_eq!(app.state.kiosk_anomalies(10).await.unwrap().len(), 1, "the kiosk is flagged");
    into_kiosk_hours(&app, day, 3).await;
    let line = sensitivity_line(&app, &admin).await.expect("the province reads the sensitivity");
    assert_eq!(
        line,
        "Có 1 giờ kiosk bị gắn cờ, gồm 3 phiếu được tính — dưới 5 phiếu: không công bố chỉ số khi bỏ các phiếu này, vì phần chênh lệch sẽ mô tả dưới 5 người."
    );

    // Four more, and all ten in the flagged hour: 10 left out of 20. With them the overall is
    // 10/20 = 50 %; without them, the ten link answers of that same hour alone: 100 %.
    kiosk_sends(4).await;
    into_kiosk_hours(&app, day, 0).await;
    let line = sensitivity_line(&app, &admin).await.unwrap();
    assert!(
        line.starts_with(
            "Bỏ 10 phiếu gửi trong 1 giờ kiosk bị gắn cờ, chỉ số hài lòng chung là 100,00% (khoảng tin cậy 95%:"
        ),
        "{line}"
    );
    assert!(line.contains("so với 50,00% khi tính mọi phiếu"), "{line}");

    // The workbook's data-quality sheet holds the same figures.
    let path = format!("{}/api/v1/exports/report.xlsx?agency=P&from={day}&to={day}", app.base);
    let response = app.client.get(&path).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(response.bytes().await.unwrap().to_vec())).unwrap();
    let quality = workbook.worksheet_range("chat-luong").unwrap();
    let about = |what: &str| -> Vec<String> {
        let row = quality.rows().find(|r| r[1].to_string().starts_with(what)).unwrap_or_else(|| panic!("{what}"));
        row.iter().map(|c| c.to_string()).collect()
    };
    assert_eq!(about("Số giờ kiosk bị gắn cờ")[2], "1");
    assert_eq!(about("Số phiếu của các giờ đó được tính")[2], "10");
    assert_eq!(about("Chỉ số hài lòng chung khi bỏ các phiếu này")[3], "100");
    assert_eq!(about("Kiosk: Nhiều phiếu có câu trả lời giống hệt nhau")[2], "1");

    // A manager's report is of their subtree, and the flags are the province's: no sensitivity.
    let manager = app.session("lanhdao", app::domain::account::Role::Manager, Some("D1")).await;
    assert_eq!(sensitivity_line(&app, &manager).await, None);
}

#[tokio::test]
async fn where_the_province_weighs_channels_a_units_kiosk_and_link_answers_weigh_by_its_shares() {
    let shares = app::domain::weighting::ChannelShares { kiosk: 0.8, link: 0.2 };
    let settings = Settings {
        min_cell: 2,
        ranking_floor: 2,
        element_minimum: 2,
        channel_shares: Some(shares),
        ..Settings::default()
    };
    let app = spawn_app_with(settings).await;
    import(&app, "code,name,kind,parent,valid_from,successor,serves\nW,Huyện W,department,P,,,\nW1,Xã Một,commune,W,,,\nW2,Xã Hai,commune,W,,,\n").await;
    let (last, to) = (month_start(1), month_start(0) - Duration::days(1));
    let day = last + Duration::days(4);
    // W1, N = 100: 10 kiosk answers all satisfied (100 %), 30 link answers, 15 satisfied (50 %).
    // W2, N = 300: 20 link answers, 10 satisfied (50 %), no kiosk answer.
    let level =
        |satisfied: usize| move |i: usize| CRITERIA.iter().map(|c| (*c, if i < satisfied { 5 } else { 2 })).collect();
    store_answers(&app, "W1", day, 10, None, Channel::Kiosk, level(10)).await;
    store_answers(&app, "W1", day, 30, None, Channel::Link, level(15)).await;
    store_answers(&app, "W2", day, 20, None, Channel::Link, level(10)).await;
    let month = last.format("%Y-%m");
    app.state.enter_dossier_counts(&Actor::cli(), &format!("W1,{month},100\nW2,{month},300")).await.unwrap();

    // W1 alone: 0.8 × 100 + 0.2 × 50 = 90 % weighted, where its 40 answers pooled give 62.5 %.
    let ranking = get(&app, &format!("/api/v1/rankings?kind=commune&from={last}&to={to}")).await;
    let w1 = ranking["rows"].as_array().unwrap().iter().find(|r| r["code"] == "W1").unwrap().clone();
    close(&w1["index"], 62.5);
    close(&w1["weighted"], 90.0);
    assert_eq!(ranking["channel_shares"], json!({"kiosk": 0.8, "link": 0.2}));
    // W2's link answers stand for all its N. W: (100 × 90 + 300 × 50) / 400 = 60 %; pooled
    // (10 + 15 + 10) / 60 = 58.33 %. Without channels it would be (100 × 62.5 + 300 × 50) / 400.
    let index = get(&app, &format!("/api/v1/indices?agency=W&from={last}&to={to}")).await;
    close(&index["overall"], 35.0 / 60.0 * 100.0);
    close(&index["weighted"]["overall"], 60.0);
    assert_eq!(index["weighted"]["channel_shares"], json!({"kiosk": 0.8, "link": 0.2}));

    // Every table that shows the weighted figure says how it was weighted.
    let admin = app.session("tinh", app::domain::account::Role::Admin, None).await;
    let said = "theo tỷ lệ tỉnh đặt (Tại kiosk 80 %, Qua đường liên kết 20 %)";
    for path in
        [format!("/admin?agency=W&from={last}&to={to}"), format!("/admin/rankings?kind=commune&from={last}&to={to}")]
    {
        let (status, page) = app.page(Some(&admin), &path).await;
        assert_eq!(status, 200);
        assert!(page.contains(said), "{path}: {page}");
    }
    let (_, report) = app.page(Some(&admin), &format!("/admin/report?agency=W&from={last}&to={to}")).await;
    assert!(report.contains(
        "trong mỗi đơn vị giữa hai kênh khảo sát theo tỷ lệ hồ sơ mỗi kênh tiếp cận do tỉnh đặt (Tại kiosk 80 %"
    ));
}
