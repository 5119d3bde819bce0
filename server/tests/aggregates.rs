//! The report aggregates against an independent count of the raw answers: kept by concurrent
//! writers, unchanged by retries, identical after `aggregates rebuild`.

mod common;

use std::collections::BTreeMap;

use app::domain::period::{vietnam_day, Period};
use app::domain::report::BreakdownBy;
use app::domain::Population;
use app::service::reports::Scope;
use app::storage::Outcome;
use chrono::{Duration, NaiveDate, Utc};
use common::{hailong, spawn_app, TestApp};
use serde_json::{json, Value};

/// One submitted response as the test remembers it.
#[derive(Clone)]
struct Sent {
    agency: &'static str,
    day: NaiveDate,
    answers: BTreeMap<String, Option<u8>>,
    gender: Option<&'static str>,
}

/// SIPAS's elements and their criteria, written out here rather than read from the questionnaire.
const ELEMENTS: [&[&str]; 5] =
    [&["A1", "A2", "A3"], &["B1", "B2", "B3", "B4"], &["C1", "C2", "C3"], &["D1", "D2", "D3"], &["E1", "E2", "E3"]];

/// A deterministic stream of responses over the last 70 days.
fn responses(count: u64) -> Vec<(Value, Sent)> {
    let mut seed = 0x1234_5678_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let today = vietnam_day(Utc::now());
    (0..count)
        .map(|_| {
            let agency = ["D1", "G", "D2"][next(3) as usize];
            let day = today - Duration::days(1 + next(70) as i64);
            let answers: BTreeMap<String, Option<u8>> = ELEMENTS
                .iter()
                .flat_map(|e| e.iter())
                .map(|c| (c.to_string(), [None, Some(1), Some(2), Some(3), Some(4), Some(5)][next(6) as usize]))
                .collect();
            let gender = [None, Some("nam"), Some("nu")][next(3) as usize];
            let mut body = json!({"id": uuid::Uuid::new_v4().to_string(), "agency": agency, "answers": answers,
                                  "expectations": {"X1": 1 + next(4)}});
            if let Some(g) = gender {
                body["profile"] = json!({"gender": g});
            }
            (body, Sent { agency, day, answers, gender })
        })
        .collect()
}

/// The overall index of `sent` computed by hand from the raw answers: criterion = share of 4s
/// and 5s among valid answers; element = mean of criteria; overall = mean of elements.
fn overall_by_hand<'a>(sent: impl Iterator<Item = &'a Sent> + Clone) -> Option<f64> {
    let criterion = |code: &str| {
        let values: Vec<u8> = sent.clone().filter_map(|s| s.answers[code]).collect();
        (!values.is_empty()).then(|| values.iter().filter(|v| **v >= 4).count() as f64 / values.len() as f64 * 100.0)
    };
    let mean = |xs: Vec<f64>| (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
    let elements: Vec<f64> =
        ELEMENTS.iter().filter_map(|codes| mean(codes.iter().filter_map(|c| criterion(c)).collect())).collect();
    mean(elements)
}

/// The responses of `sent` that figures over `from..=to` publish, worked out by hand with
/// `dimension` the breakdown by gender, or none. Per agency (all came by kiosk), days oldest
/// first, a step closes on the day k responses have come since the last; a wider step (gender)
/// once every gender, the unanswered included, has 0 or k since the last. A period holds the
/// steps closed inside it; `to` is the last final day (no later day is in any step yet).
fn published(sent: &[Sent], from: NaiveDate, to: NaiveDate, by_gender: bool) -> Vec<&Sent> {
    let k = app::domain::index::MIN_CELL as usize;
    let mut kept = Vec::new();
    for agency in ["D1", "G", "D2"] {
        let mut mine: Vec<&Sent> = sent.iter().filter(|s| s.agency == agency && s.day <= to).collect();
        mine.sort_by_key(|s| s.day);
        let (mut step, mut wider): (Vec<&Sent>, Vec<&Sent>) = (Vec::new(), Vec::new());
        for (i, s) in mine.iter().enumerate() {
            step.push(s);
            let day_ends = mine.get(i + 1).is_none_or(|next| next.day != s.day);
            if !day_ends || step.len() < k {
                continue;
            }
            wider.append(&mut step);
            let genders = [None, Some("nam"), Some("nu")].map(|g| wider.iter().filter(|s| s.gender == g).count());
            if !by_gender || genders.iter().all(|n| *n == 0 || *n >= k) {
                if (from..=to).contains(&s.day) {
                    kept.append(&mut wider);
                }
                wider.clear();
            }
        }
    }
    kept
}

fn close(actual: Option<f64>, expected: Option<f64>) {
    match (actual, expected) {
        (Some(a), Some(e)) => assert!((a - e).abs() < 1e-9, "{a} is not {e}"),
        _ => assert_eq!(actual, expected),
    }
}

async fn store_all(app: &TestApp, batch: Vec<(Value, Sent)>) {
    let kiosk = app.state.kiosks().await.unwrap().remove(0).kiosk;
    // Four writers at once, each sending every response twice (a retry): stored once.
    let tasks = batch.chunks(batch.len().div_ceil(4)).map(|part| {
        let (state, kiosk, part) = (app.state.clone(), kiosk.clone(), part.to_vec());
        tokio::spawn(async move {
            for (body, sent) in part {
                let at = app::domain::period::start_of_day(sent.day) + Duration::hours(10);
                let first = state.store_from_kiosk(&kiosk, &common::submission(body.clone()), at).await.unwrap().1;
                let again = state.store_from_kiosk(&kiosk, &common::submission(body.clone()), at).await.unwrap().1;
                assert_eq!((first, again), (Outcome::New, Outcome::Repeat));
            }
        })
    });
    for task in futures::future::join_all(tasks).await {
        task.unwrap();
    }
}

async fn stored_aggregates(app: &TestApp) -> Vec<(String, String, String, String, String)> {
    let db = common::sql(&app.database_url).await;
    let rows = sqlx::query_as(
        "SELECT grain || ' ' || span, agency_code, channel, facet || '=' || facet_value, counts FROM report_counts
         ORDER BY grain, facet, span, agency_code, service_point_code, channel, questionnaire_version, facet_value",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    db.close().await;
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn indices_from_the_aggregates_equal_a_count_of_the_raw_answers() {
    let app = spawn_app().await;
    let batch = responses(300);
    let sent: Vec<Sent> = batch.iter().map(|(_, s)| s.clone()).collect();
    store_all(&app, batch).await;
    assert_eq!(app.stored().await, 300);

    let today = vietnam_day(Utc::now());
    // A period with partial months at both ends (days) and, depending on today, whole months.
    let (from, to) = (today - Duration::days(65), today - Duration::days(i64::from(common::FINAL)));
    let period = Period { from: Some(from), to: Some(to) };
    let figures = published(&sent, from, to, false);
    assert!(figures.len() > 150 && figures.len() < 300, "{} published", figures.len());
    for (agency, members) in [("D1", &["D1", "G"][..]), ("G", &["G"][..]), ("P", &["D1", "G", "D2"][..])] {
        let index = app.state.indices(agency, &Population { period, channel: None }).await.unwrap();
        let mine = figures.iter().copied().filter(|s| members.contains(&s.agency));
        assert_eq!(index.responses, mine.clone().count() as u64, "{agency}");
        close(index.overall, overall_by_hand(mine));
    }

    // The gender breakdown of the province: counts and index per cell equal the raw ones.
    let days = period.closed_days(today).unwrap();
    let rows =
        app.state.breakdown("P", &BreakdownBy::Profile("gender".into()), &days, &Scope::default()).await.unwrap();
    let parts = published(&sent, from, to, true);
    for (value, gender) in [("nam", Some("nam")), ("nu", Some("nu")), ("", None)] {
        let row = rows.iter().find(|r| r.value == value).unwrap();
        let mine = parts.iter().copied().filter(|s| s.gender == gender);
        assert!(!row.suppressed, "{value}: {} responses", mine.clone().count());
        assert_eq!(row.responses, Some(mine.clone().count() as u64));
        close(row.index, overall_by_hand(mine));
    }

    // Rebuilt from the responses, the aggregates are the same rows, by the service and by the CLI.
    let kept = stored_aggregates(&app).await;
    assert!(kept.len() > 100, "{} aggregate rows", kept.len());
    assert_eq!(app.state.rebuild_aggregates().await.unwrap(), 300);
    assert_eq!(stored_aggregates(&app).await, kept);
    let cli = hailong(&app.database_url, &["aggregates", "rebuild"]);
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    assert!(String::from_utf8_lossy(&cli.stdout).contains("300"));
    assert_eq!(stored_aggregates(&app).await, kept);

    // Tallies as stored before the per-respondent sums (the first 122 numbers) read back without
    // them: counted, the intervals fall back, and a rebuild brings them back. (A server started
    // on them: a running one keeps the tallies of final days it read in memory.)
    let per_respondent = app.state.indices("P", &Population { period, channel: None }).await.unwrap().ci95;
    assert!(per_respondent.is_some());
    assert_eq!(app.state.tallies_without_respondents().await.unwrap(), 0);
    let db = common::sql(&app.database_url).await;
    let all: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT counts FROM report_counts").fetch_all(&db).await.unwrap();
    for (counts,) in all {
        let numbers: Vec<u64> = serde_json::from_str(&counts).unwrap();
        let old = serde_json::to_string(&numbers[..122]).unwrap();
        sqlx::query("UPDATE report_counts SET counts = $1 WHERE counts = $2")
            .bind(old)
            .bind(counts)
            .execute(&db)
            .await
            .unwrap();
    }
    db.close().await;
    let started = app::service::AppState::start(&app.database_url, (*app.state.settings).clone()).await.unwrap();
    assert!(started.tallies_without_respondents().await.unwrap() > 0);
    let index = started.indices("P", &Population { period, channel: None }).await.unwrap();
    assert_eq!(index.ci95, None, "no interval per respondent from old tallies");
    assert!(app::service::reports::index_interval(&index).is_some(), "Wilson at the mean n instead");
    started.rebuild_aggregates().await.unwrap();
    assert_eq!(started.tallies_without_respondents().await.unwrap(), 0);
    assert_eq!(stored_aggregates(&app).await, kept);
    let rebuilt = started.indices("P", &Population { period, channel: None }).await.unwrap();
    assert_eq!(rebuilt.ci95, per_respondent);
}
