//! Differencing is closed (issue 19, part 2). An attacker queries every agency of the tree, with
//! each channel and without, for every period inside three weeks of final days (and periods
//! reaching back before them), then subtracts every pair of nested populations: a period and
//! one inside it, a parent and a child, all channels and one, and any mix of these. No
//! difference may describe 1 to k − 1 responses: it is empty (no count changes) or it holds k
//! or more. Breakdowns are attacked the same way, value by value. The responses are spread thin
//! (0 to 2 per agency, channel and day), so that nearly every day alone is a small population.

mod common;

use std::collections::HashMap;

use app::domain::period::{last_final_day, start_of_day, vietnam_day, ClosedDays, Period};
use app::domain::report::BreakdownBy;
use app::domain::submission::Channel;
use app::domain::{Population, SatisfactionIndex, ValidResponse};
use app::service::reports::Scope;
use app::storage::NewResponse;
use chrono::{Duration, NaiveDate, Utc};
use common::{spawn_app, TestApp};
use serde_json::Value;

const K: u64 = app::domain::index::MIN_CELL;
const AGENCIES: [&str; 4] = ["P", "D1", "G", "D2"];
/// Who contains whom: P holds D1 (and G) and D2, D1 holds G.
const CONTAINS: [(&str, &str); 4] = [("P", "D1"), ("P", "G"), ("P", "D2"), ("D1", "G")];
const DAYS_STORED: i64 = 30;
const DAYS_ATTACKED: i64 = 14;
/// Responses per agency, channel and day: nearly every day alone is a small population.
const THIN: [usize; 6] = [0, 0, 0, 1, 1, 2];

/// A small deterministic generator: the same thin spread on every run and engine.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % sides
    }
}

/// Stores `per_day` (one of them at random) responses per agency, channel and day over the 30
/// final days up to the last, each with its own answers (some criteria skipped), gender (or
/// none) and service point.
async fn store_spread(app: &TestApp, last: NaiveDate, per_day: &[usize]) -> u64 {
    let questionnaire = &app.state.questionnaire;
    let criteria: Vec<String> =
        questionnaire.elements.iter().flat_map(|e| e.criteria.iter().map(|c| c.code.clone())).collect();
    let mut dice = Dice(19);
    let mut batch = Vec::new();
    for back in 0..DAYS_STORED {
        let day = last - Duration::days(back);
        for agency in AGENCIES {
            for channel in [Channel::Kiosk, Channel::Link] {
                let count = per_day[dice.roll(per_day.len() as u64) as usize];
                for _ in 0..count {
                    let answers = criteria
                        .iter()
                        .map(|c| (c.clone(), (dice.roll(10) > 0).then(|| dice.roll(5) as u8 + 1)))
                        .collect();
                    let gender = ["nam", "nu", "khac", ""][dice.roll(4) as usize];
                    let profile = if gender.is_empty() { vec![] } else { vec![("gender".into(), gender.into())] };
                    batch.push(NewResponse {
                        response: ValidResponse {
                            id: uuid::Uuid::new_v4(),
                            agency: agency.into(),
                            questionnaire_version: questionnaire.version.clone(),
                            answers,
                            expectations: vec![],
                            profile,
                            comment: None,
                            day: None,
                        },
                        service_point: if dice.roll(2) == 0 { "P".into() } else { agency.into() },
                        kiosk_id: None,
                        channel,
                        submitted_at: start_of_day(day) + Duration::hours(10),
                    });
                }
            }
        }
    }
    app.state.store_bulk(&batch).await.unwrap()
}

/// A published population: its number of responses, then every criterion's count per level.
fn figures(index: &SatisfactionIndex) -> Vec<i64> {
    let counts = index.elements.iter().flat_map(|e| &e.criteria).flat_map(|c| c.counts.map(|n| n as i64));
    std::iter::once(index.responses as i64).chain(counts).collect()
}

/// The 95 % intervals a population publishes: of the overall, then of each element (worked out
/// per respondent from the sums the tallies keep beside the counts).
fn intervals(index: &SatisfactionIndex) -> Vec<Option<[f64; 2]>> {
    std::iter::once(index.ci95).chain(index.elements.iter().map(|e| e.ci95)).collect()
}

/// Fails unless `bigger` less `smaller` is nothing or k responses or more, all counts with it.
fn assert_difference_safe(bigger: &[i64], smaller: &[i64], what: &str) {
    if smaller[0] == 0 {
        return; // the bigger one alone, checked on its own
    }
    assert_eq!(bigger.len(), smaller.len(), "{what}: both publish their counts");
    let difference: Vec<i64> = bigger.iter().zip(smaller).map(|(b, s)| b - s).collect();
    assert!(difference.iter().all(|d| *d >= 0), "{what}: a nested population has more: {difference:?}");
    if difference[0] == 0 {
        assert!(difference.iter().all(|d| *d == 0), "{what}: same responses, other counts: {difference:?}");
    } else {
        assert!(difference[0] as u64 >= K, "{what}: {} responses told apart: {difference:?}", difference[0]);
    }
}

type Key = (&'static str, Option<Channel>, NaiveDate, NaiveDate);

#[tokio::test]
async fn no_two_published_figures_subtract_to_fewer_than_k_responses() {
    let app = spawn_app().await;
    let last = last_final_day(vietnam_day(Utc::now())).unwrap();
    let stored = store_spread(&app, last, &THIN).await;
    assert!(stored > 100, "a thin spread, not an empty one: {stored}");

    let first = last - Duration::days(DAYS_ATTACKED - 1);
    let mut periods: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for from in 0..DAYS_ATTACKED {
        for to in from..DAYS_ATTACKED {
            periods.push((first + Duration::days(from), first + Duration::days(to)));
        }
    }
    // periods reaching back before the attacked days, and the open one
    periods.extend([(last - Duration::days(DAYS_STORED), last), (last - Duration::days(20), last - Duration::days(3))]);
    let mut published: HashMap<Key, Vec<i64>> = HashMap::new();
    let mut published_intervals: HashMap<Key, Vec<Option<[f64; 2]>>> = HashMap::new();
    let mut steps_seen = 0;
    for agency in AGENCIES {
        for channel in [None, Some(Channel::Kiosk), Some(Channel::Link)] {
            for (from, to) in &periods {
                let population = Population { period: Period { from: Some(*from), to: Some(*to) }, channel };
                let index = app.state.indices(agency, &population).await.unwrap();
                let n = index.responses;
                assert!(n == 0 || n >= K, "{agency} {channel:?} {from}..{to}: {n} responses published");
                assert!(index.withheld.is_none());
                if from == to && n > 0 {
                    steps_seen += 1;
                }
                published_intervals.insert((agency, channel, *from, *to), intervals(&index));
                published.insert((agency, channel, *from, *to), figures(&index));
            }
        }
    }
    // Single days do publish: steps close on them (the spread is thin, not empty of figures).
    assert!(steps_seen > 20, "only {steps_seen} single days published");

    // Every nested pair: the agency contains (or is) the other, the channel is all or the same,
    // the period contains the other's.
    let within = |outer: &str, inner: &str| outer == inner || CONTAINS.contains(&(outer, inner));
    let (mut pairs, mut same_counts) = (0, 0);
    for ((a, ca, fa, ta), bigger) in &published {
        for ((b, cb, fb, tb), smaller) in &published {
            let nested = within(a, b) && (ca.is_none() || ca == cb) && fa <= fb && tb <= ta;
            if nested && (a, ca, fa, ta) != (b, cb, fb, tb) {
                let what = format!("{a} {ca:?} {fa}..{ta} less {b} {cb:?} {fb}..{tb}");
                assert_difference_safe(bigger, smaller, &what);
                // The same published responses give the same intervals: they too are worked out
                // from published steps only, so no pair of intervals tells unpublished answers.
                if bigger == smaller {
                    let (wide, narrow) =
                        (&published_intervals[&(*a, *ca, *fa, *ta)], &published_intervals[&(*b, *cb, *fb, *tb)]);
                    assert_eq!(wide, narrow, "{what}: same counts, other intervals");
                    same_counts += 1;
                }
                pairs += 1;
            }
        }
    }
    assert!(pairs > 10_000, "{pairs} pairs");
    assert!(same_counts > 1_000, "only {same_counts} nested pairs publish the same responses");
    let with_intervals = published_intervals.values().filter(|i| i[0].is_some()).count();
    assert!(with_intervals > 100, "only {with_intervals} populations publish an interval");

    // A parent less all its children, and all channels less both: what is left is P's own.
    for (from, to) in &periods {
        let get = |agency, channel| &published[&(agency, channel, *from, *to)];
        let mut children: Vec<i64> = get("D1", None).clone();
        for (sum, n) in children.iter_mut().zip(get("D2", None)) {
            *sum += n;
        }
        if get("D1", None)[0] > 0 && get("D2", None)[0] > 0 {
            assert_difference_safe(get("P", None), &children, &format!("P less D1 and D2 over {from}..{to}"));
        }
        for agency in AGENCIES {
            let all = get(agency, None);
            let (kiosk, link) = (get(agency, Some(Channel::Kiosk)), get(agency, Some(Channel::Link)));
            if kiosk[0] > 0 && link[0] > 0 {
                let sum: Vec<i64> = kiosk.iter().zip(link).map(|(a, b)| a + b).collect();
                assert_eq!(all, &sum, "{agency} {from}..{to}: all channels are the two channels");
            }
        }
    }

    // The API publishes what the service computed.
    for (agency, channel) in [("G", "link"), ("P", "kiosk")] {
        let (from, to) = (first, last);
        let query = format!("agency={agency}&channel={channel}&from={from}&to={to}");
        let api: Value = app.indices(&query).await.json().await.unwrap();
        let key = (agency, Channel::parse(channel), from, to);
        assert_eq!(api["responses"].as_i64(), Some(published[&key][0]), "{query}");
    }
}

#[tokio::test]
async fn breakdowns_split_only_into_parts_of_k_or_more_and_nested_parts_differ_by_k_or_more() {
    // Breakdowns wait for every value to reach k: denser, and periods over all 30 days.
    let app = spawn_app().await;
    let last = last_final_day(vietnam_day(Utc::now())).unwrap();
    store_spread(&app, last, &[0, 1, 2, 3, 4, 5]).await;
    let edges: Vec<NaiveDate> = (0..=DAYS_STORED / 3).map(|i| last - Duration::days(DAYS_STORED - 3 * i)).collect();
    let scope = Scope::default();
    for by in [BreakdownBy::Profile("gender".into()), BreakdownBy::ServicePoint, BreakdownBy::Channel] {
        for agency in ["P", "G"] {
            // responses per value, per period
            let mut rows: HashMap<(NaiveDate, NaiveDate), HashMap<String, u64>> = HashMap::new();
            for (i, from) in edges.iter().enumerate() {
                for to in &edges[i..] {
                    let days = ClosedDays { from: *from, to: *to };
                    let breakdown = app.state.breakdown(agency, &by, &days, &scope).await.unwrap();
                    let mut values = HashMap::new();
                    for row in breakdown {
                        assert!(!row.suppressed, "{by:?} {agency} {days:?}: a part had to be hidden: {row:?}");
                        let n = row.responses.unwrap();
                        assert!(n == 0 || n >= K, "{by:?} {agency} {days:?}: {n} responses in {}", row.value);
                        values.insert(row.value, n);
                    }
                    rows.insert((days.from, days.to), values);
                }
            }
            let mut parts_seen = 0;
            for ((fa, ta), outer) in &rows {
                for ((fb, tb), inner) in &rows {
                    if fa <= fb && tb <= ta {
                        for (value, n) in inner {
                            let difference = outer.get(value).copied().unwrap_or(0) as i64 - *n as i64;
                            let what = format!("{by:?} {agency} {value}: {fa}..{ta} less {fb}..{tb}");
                            assert!(difference == 0 || difference >= K as i64, "{what}: {difference}");
                            parts_seen += usize::from(*n > 0);
                        }
                    }
                }
            }
            assert!(parts_seen > 0, "{by:?} {agency}: some part is published");
        }
    }
}

#[tokio::test]
async fn months_of_the_dashboard_add_up_to_its_total() {
    let app = spawn_app().await;
    let last = last_final_day(vietnam_day(Utc::now())).unwrap();
    store_spread(&app, last, &THIN).await;
    let days = ClosedDays { from: last - Duration::days(DAYS_STORED), to: last };
    let overview = app.state.overview("P", &days, &Scope::default()).await.unwrap();
    let total = overview.totals.whole_responses();
    assert!(total >= K);
    let months: u64 = overview.months.iter().map(|(_, t)| t.whole_responses()).sum();
    let channels: u64 = overview.channels.values().map(|t| t.whole_responses()).sum();
    assert_eq!((months, channels), (total, total));
    for (label, totals) in &overview.months {
        let responses = totals.whole_responses();
        assert!(responses == 0 || responses >= K, "{label}: {responses}");
    }
    let index = app.state.indices("P", &Population::from(Period { from: Some(days.from), to: Some(days.to) })).await;
    assert_eq!(index.unwrap().responses, total);
}
