//! The one-stop integration API over real HTTP: API keys, scopes, one invitation per dossier.

mod common;

use app::domain::audit::Actor;
use common::{spawn_app, TestApp};
use serde_json::{json, Value};

async fn post(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/api/v1/invitations", app.base))
        .bearer_auth(key)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, key: &str, path: &str) -> reqwest::Response {
    app.client.get(format!("{}/api/v1/invitations/{path}", app.base)).bearer_auth(key).send().await.unwrap()
}

#[tokio::test]
async fn one_stop_software_invites_within_its_scope_and_reads_the_status_only() {
    let app = spawn_app().await;
    let (_, key) = app.state.register_api_key(&Actor::cli(), "D1", "Một cửa").await.unwrap();
    let body = json!({"dossier_code": "HS-API-1", "procedure": "KS", "agency": "G", "returned_at": "2026-11-21T09:30:00+07:00"});

    let (status, first) = post(&app, &key, body.clone()).await;
    assert_eq!(status, 201, "{first}");
    assert!(first["url"].as_str().unwrap().contains("/s/"));
    let (status, again) = post(&app, &key, body).await;
    assert_eq!((status, &again), (200, &first), "the same dossier gives the same invitation");

    let (status, denied) =
        post(&app, &key, json!({"dossier_code": "HS-API-2", "procedure": "KS", "agency": "D2"})).await;
    assert_eq!(status, 404, "D2 is outside D1's subtree, so it does not exist for this key: {denied}");

    let state: Value = get(&app, &key, "HS-API-1").await.json().await.unwrap();
    assert_eq!(state["status"], "pending");
    assert_eq!(state["delivery"], json!([]), "nothing to send without a contact");
    assert!(state.get("answers").is_none());
    let qr = get(&app, &key, "HS-API-1/qr.svg").await;
    assert_eq!(qr.status(), 200);
    assert!(qr.text().await.unwrap().contains("<svg"));

    // The citizen answers through the link; the status follows, still without the answer.
    let token = first["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let link = app.state.invitation_for_token(&token).await.unwrap().unwrap();
    let answer = json!({"id": uuid::Uuid::new_v4().to_string(), "answers": {"A1": 4}});
    app.state.submit_from_link(&link.invitation, &common::submission(answer.clone()), None).await.unwrap();
    let state: Value = get(&app, &key, "HS-API-1").await.json().await.unwrap();
    assert_eq!(state["status"], "answered");

    let (_, other_key) = app.state.register_api_key(&Actor::cli(), "D2", "Một cửa").await.unwrap();
    assert_eq!(get(&app, &other_key, "HS-API-1").await.status(), 404, "another scope does not see it");
    assert_eq!(get(&app, &other_key, "HS-API-1/qr.svg").await.status(), 404);
}

#[tokio::test]
async fn two_agencies_may_use_the_same_dossier_code_and_never_see_each_others() {
    let app = spawn_app().await;
    let (_, d1) = app.state.register_api_key(&Actor::cli(), "D1", "Một cửa D1").await.unwrap();
    let (_, d2) = app.state.register_api_key(&Actor::cli(), "D2", "Một cửa D2").await.unwrap();
    let (status, first) = post(&app, &d1, json!({"dossier_code": "HS-CHUNG", "procedure": "KS", "agency": "D1"})).await;
    assert_eq!(status, 201, "{first}");
    // D2 cannot take D1's dossier: the same code is a different dossier of D2, with its own link.
    let (status, second) =
        post(&app, &d2, json!({"dossier_code": "HS-CHUNG", "procedure": "KS", "agency": "D2"})).await;
    assert_eq!(status, 201, "{second}");
    assert_ne!(first["url"], second["url"], "the agency is part of the link");
    // Probing D1's dossier with D2's key, or creating for D1 with it: 404, like a dossier nobody has.
    let (status, probe) = post(&app, &d2, json!({"dossier_code": "HS-CHUNG", "procedure": "KS", "agency": "D1"})).await;
    assert_eq!(status, 404, "{probe}");
    let seen: Value = get(&app, &d2, "HS-CHUNG").await.json().await.unwrap();
    assert_eq!(seen["status"], "pending");
    let d1_link = app.state.invitation_of_dossier("D1", "HS-CHUNG").await.unwrap().unwrap();
    let d2_link = app.state.invitation_of_dossier("D2", "HS-CHUNG").await.unwrap().unwrap();
    assert_ne!(d1_link.id, d2_link.id);
    // A province-wide key sees both and must say which.
    let (_, province) = app.state.register_api_key(&Actor::cli(), "P", "Một cửa tỉnh").await.unwrap();
    assert_eq!(get(&app, &province, "HS-CHUNG").await.status(), 422);
    assert_eq!(get(&app, &province, "HS-CHUNG?agency=D2").await.status(), 200);
    assert_eq!(get(&app, &province, "HS-KHAC?agency=D2").await.status(), 404);
}

#[tokio::test]
async fn bad_keys_and_bad_bodies_are_refused_and_create_nothing() {
    let app = spawn_app().await;
    let (_, key) = app.state.register_api_key(&Actor::cli(), "P", "Một cửa").await.unwrap();
    let ok = json!({"dossier_code": "HS-1", "procedure": "KS", "agency": "D1"});
    assert_eq!(post(&app, "not-a-key", ok.clone()).await.0, 401);
    assert_eq!(post(&app, &app.kiosk_token.clone(), ok).await.0, 401, "a kiosk token is not an API key");
    let cases = [
        (json!({"procedure": "KS", "agency": "D1"}), "dossier_code"),
        (json!({"dossier_code": "HS 1", "procedure": "KS", "agency": "D1"}), "dossier_code"),
        (json!({"dossier_code": "HS-1", "procedure": "XX", "agency": "D1"}), "procedure"),
        (json!({"dossier_code": "HS-1", "procedure": "KS", "agency": 7}), "agency"),
        (json!({"dossier_code": "HS-1", "procedure": "KS", "agency": "D1", "returned_at": "hôm qua"}), "returned_at"),
        (json!({"dossier_code": "HS-1", "procedure": "KS", "agency": "D1", "phone": "12345"}), "phone"),
        (json!({"dossier_code": "HS-1", "procedure": "KS", "agency": "D1", "phone": 912345678}), "phone"),
        (json!({"dossier_code": "HS-1", "procedure": "KS", "agency": "D1", "email": "dan@"}), "email"),
        (
            json!({"dossier_code": "HS-1", "procedure": "KS", "agency": "D1", "phone": "0912345678", "email": "x"}),
            "email",
        ),
    ];
    for (body, field) in cases {
        let (status, errors) = post(&app, &key, body).await;
        assert_eq!(status, 422, "{field}: {errors}");
        assert!(errors["errors"][field].is_string(), "{field}: {errors}");
    }
    assert!(app.state.invitation_of_dossier("D1", "HS-1").await.unwrap().is_none());
    assert!(app.state.stored_contacts().await.unwrap().is_empty());
}

#[test]
fn the_cli_prints_an_api_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_blocking(dir.path(), "cli.db");
    let run = |args: &[&str]| common::hailong(&url, args);
    assert!(run(&["demo"]).status.success());
    let out = run(&["apikey", "add", "--agency", "PT-STP", "--name", "Một cửa tỉnh", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["key"].as_str().unwrap().len(), 64);
    assert!(!run(&["apikey", "add", "--agency", "NOPE"]).status.success());
    let id = printed["id"].as_i64().unwrap().to_string();
    assert!(run(&["apikey", "revoke", "--id", &id]).status.success());
    let listed: Value = serde_json::from_slice(&run(&["apikey", "list", "--json"]).stdout).unwrap();
    let key = listed.as_array().unwrap().iter().find(|k| k["id"] == printed["id"]).unwrap();
    assert!(key["revoked_at"].is_string(), "{key}");
    assert!(!run(&["apikey", "revoke", "--id", &id]).status.success(), "a key is revoked once");
}

#[tokio::test]
async fn a_revoked_key_answers_401_at_once_and_use_is_noted() {
    let app = spawn_app().await;
    let (id, key) = app.state.register_api_key(&Actor::cli(), "D1", "Một cửa").await.unwrap();
    let ok = json!({"dossier_code": "HS-R-1", "procedure": "KS", "agency": "D1"});
    assert_eq!(post(&app, &key, ok.clone()).await.0, 201);
    let listed = app.state.api_keys().await.unwrap();
    assert!(listed.iter().find(|k| k.id == id).unwrap().last_used_at.is_some(), "the use is noted");
    app.state.revoke_api_key(&Actor::cli(), id).await.unwrap();
    assert_eq!(post(&app, &key, ok).await.0, 401);
    assert_eq!(get(&app, &key, "HS-R-1").await.status(), 401);
}
