//! Invitations and the link channel over a real SQLite file: one link per dossier, one answer
//! per link, expiry, and a response table that cannot lead back to the invitation.

mod common;

use app::domain::audit::Actor;
use app::domain::given::Given;
use app::domain::invitation::InvitationStatus;
use app::service::invitations::InviteError;
use app::service::{ServiceError, Settings};
use app::storage::Outcome;
use common::{spawn_app, spawn_app_with};
use serde_json::json;

fn answer() -> app::domain::Submission {
    common::submission(json!({"id": uuid::Uuid::new_v4().to_string(), "answers": {"C1": 5}}))
}

#[tokio::test]
async fn a_link_is_random_and_a_token_finds_its_invitation() {
    let app = spawn_app().await;
    let first = common::issue(&app.state, " HS-2026-0001 ", "KS", "D1").await;
    assert!(first.created);
    assert_eq!(first.status, InvitationStatus::Pending);
    assert!(first.token.len() >= 32, "at least 128 bits");
    assert!(first.url.ends_with(&format!("/s/{}", first.token)));
    // Asked again by its maker within the re-print time: the same invitation and link.
    let again = common::issue(&app.state, "HS-2026-0001", "KS", "D1").await;
    assert!(!again.created);
    assert_eq!((again.token, again.invitation.id), (first.token.clone(), first.invitation.id));
    // Another agency's dossier with the same code is another invitation with another link.
    let other = common::issue(&app.state, "HS-2026-0001", "KS", "D2").await;
    assert!(other.created);
    assert_ne!(other.token, first.token);
    assert_eq!(other.invitation.agency_code, "D2");

    let found = app.state.invitation_for_token(&first.token).await.unwrap().unwrap();
    assert_eq!(found.invitation.procedure_name, "Đăng ký khai sinh");
    assert!(app.state.invitation_for_token("0123456789abcdef0123456789abcdef01234567").await.unwrap().is_none());

    let invite = |dossier: &'static str, procedure: &'static str, agency: &'static str| {
        let state = app.state.clone();
        async move { common::invite(&state, dossier, procedure, agency).await }
    };
    assert!(matches!(invite("HS 1", "KS", "D1").await, Err(InviteError::Invalid(_))));
    assert!(matches!(invite("HS-2", "NOPE", "D1").await, Err(InviteError::UnknownProcedure)));
    assert!(matches!(invite("HS-3", "KS", "NOPE").await, Err(InviteError::UnknownAgency(_))));

    // The database keeps the token's hash and, for the re-print time, the token sealed: never
    // the token itself, and no row of it is readable without the link secret.
    let pool = common::sql(&app.database_url).await;
    let dump: Vec<(String, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT token_hash, link_sealed FROM invitations").fetch_all(&pool).await.unwrap();
    assert_eq!(dump.len(), 2);
    for (hash, sealed) in &dump {
        assert_ne!(hash, &first.token);
        let sealed = sealed.as_ref().expect("sealed during the re-print time");
        assert!(!sealed.windows(16).any(|w| w == &first.token.as_bytes()[..16]), "the token is not readable");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_answers_on_one_link_store_exactly_one() {
    let app = spawn_app().await;
    let link = common::issue(&app.state, "HS-2026-0002", "KS", "G").await;
    let invitation = link.invitation.clone();
    let submissions = (0..10).map(|_| {
        let (state, invitation) = (app.state.clone(), invitation.clone());
        tokio::spawn(async move { state.submit_from_link(&invitation, &answer(), None).await.unwrap().1 })
    });
    let outcomes: Vec<Outcome> = futures::future::join_all(submissions).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == Outcome::New).count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == Outcome::InvitationClosed).count(), 9, "{outcomes:?}");
    assert_eq!(app.stored().await, 0, "held for a mixed batch of 5, or the end of the hour");
    assert_eq!(app.state.release_held_answers(None).await.unwrap(), 1);
    assert_eq!(app.stored().await, 1);
    let after = app.state.invitation_for_token(&link.token).await.unwrap().unwrap();
    assert_eq!(after.status, InvitationStatus::Answered);

    // The stored response is its agency's, on the link channel; once its day is final it still
    // waits for k answers of G by link before any figure counts it (a disclosure step).
    assert_eq!(app.state.responses_today("G").await.unwrap(), 1);
    app.age_responses(common::FINAL).await;
    let today = app::domain::period::vietnam_day(chrono::Utc::now());
    let days = app::domain::period::ClosedDays { from: today - chrono::Duration::days(10), to: today };
    let stored = app.state.stored_responses("G", &days, None).await.unwrap();
    assert_eq!(stored.iter().map(|s| s.channel).collect::<Vec<_>>(), [app::domain::submission::Channel::Link]);
    for query in ["agency=G", "agency=G&channel=link", "agency=G&channel=kiosk"] {
        let g: serde_json::Value = app.indices(query).await.json().await.unwrap();
        assert_eq!((&g["responses"], &g["overall"]), (&json!(0), &serde_json::Value::Null), "{query}");
    }
    assert_eq!(app.indices("agency=G&channel=sms").await.status(), 422);
}

#[tokio::test]
async fn a_retry_of_a_stored_link_answer_is_a_repeat_and_a_wrong_answer_changes_nothing() {
    let app = spawn_app().await;
    let link = common::issue(&app.state, "HS-2026-0003", "KS", "D1").await;
    let bad = common::submission(json!({"id": uuid::Uuid::new_v4().to_string(), "answers": {"C1": 9}}));
    assert!(matches!(app.state.submit_from_link(&link.invitation, &bad, None).await, Err(ServiceError::Invalid(_))));
    let pending = app.state.invitation_for_token(&link.token).await.unwrap().unwrap();
    assert_eq!(pending.status, InvitationStatus::Pending, "a rejected answer does not use the link up");
    let body = answer();
    let mut changed = body.clone();
    changed.comment = Given::Is("Một ý kiến khác".into());
    let submit = |body: app::domain::Submission| {
        let (state, invitation) = (app.state.clone(), link.invitation.clone());
        async move { state.submit_from_link(&invitation, &body, None).await.unwrap().1 }
    };
    assert_eq!(submit(body.clone()).await, Outcome::New);
    // While held, and once stored: the same answer is a repeat, another one under its id a conflict.
    for stored in [0, 1] {
        assert_eq!(submit(body.clone()).await, Outcome::Repeat);
        assert_eq!(submit(changed.clone()).await, Outcome::Conflict);
        assert_eq!(app.stored().await, stored);
        app.state.release_held_answers(None).await.unwrap();
    }
    assert_eq!(submit(answer()).await, Outcome::InvitationClosed);
    assert_eq!(app.stored().await, 1);
}

#[tokio::test]
async fn an_expired_link_takes_no_answer() {
    let app = spawn_app_with(Settings { invitation_days: 0, ..Settings::default() }).await;
    let link = common::issue(&app.state, "HS-2026-0004", "KS", "D1").await;
    assert_eq!(link.status, InvitationStatus::Expired);
    assert_eq!(
        app.state.submit_from_link(&link.invitation, &answer(), None).await.unwrap().1,
        Outcome::InvitationClosed
    );
    assert_eq!(app.stored().await, 0);
}

#[tokio::test]
async fn the_response_table_has_no_column_that_leads_back_to_a_person() {
    let app = spawn_app().await;
    let url = app.database_url.clone();
    let pool = common::sql(&url).await;
    let (columns, references) = if common::on_postgres() {
        (
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'responses'",
            "SELECT ccu.table_name::text FROM information_schema.table_constraints tc
             JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name
             WHERE tc.table_name = 'responses' AND tc.constraint_type = 'FOREIGN KEY'",
        )
    } else {
        (
            "SELECT name FROM pragma_table_info('responses')",
            "SELECT \"table\" FROM pragma_foreign_key_list('responses')",
        )
    };
    let columns: Vec<String> = sqlx::query_scalar(columns).fetch_all(&pool).await.unwrap();
    assert!(columns.contains(&"agency_code".to_string()), "{columns:?}");
    for forbidden in ["invitation", "dossier", "token", "phone", "email", "contact", "user", "officer", "created_by"] {
        assert!(!columns.iter().any(|c| c.contains(forbidden)), "responses.{forbidden}: {columns:?}");
    }
    let references: Vec<String> = sqlx::query_scalar(references).fetch_all(&pool).await.unwrap();
    assert!(!references.iter().any(|t| t == "invitations" || t == "users"), "{references:?}");
}

#[tokio::test]
async fn an_admin_extends_the_procedure_list_and_bad_entries_change_nothing() {
    let app = spawn_app().await;
    app.state.save_procedure(&Actor::cli(), " gpxd ", "Cấp  giấy phép xây dựng").await.unwrap();
    assert!(matches!(
        app.state.save_procedure(&Actor::cli(), "GP XD", "Tên hợp lệ").await,
        Err(InviteError::Invalid(_))
    ));
    assert!(matches!(app.state.save_procedure(&Actor::cli(), "X", "ab").await, Err(InviteError::Invalid(_))));
    let procedures = app.state.procedures().await.unwrap();
    assert_eq!(procedures.len(), 2, "{procedures:?}");
    assert!(procedures.contains(&("GPXD".to_string(), "Cấp giấy phép xây dựng".to_string())));
    // the new procedure can be used at once
    assert!(common::issue(&app.state, "HS-GPXD-1", "GPXD", "D1").await.created);
}
