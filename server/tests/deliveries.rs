//! Sending survey links: e-mail to an in-test SMTP server, SMS to an in-test HTTP gateway, retries
//! of a failing gateway, the outbox when nothing is configured, and contacts that do not stay.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::domain::audit::Actor;
use app::domain::delivery::{Backoff, DeliveryStatus, Medium};
use app::service::delivery::{DeliverySettings, SmtpRelay};
use app::service::{ServiceError, Settings};
use app::storage::{Delivery, Invitation};
use common::gateway::{gateway_settings, sms_gateway};
use common::{spawn_app, spawn_app_with, TestApp};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A message the SMTP sink accepted: envelope recipients and the raw DATA.
#[derive(Clone, Debug)]
struct Mail {
    recipients: Vec<String>,
    data: String,
}

/// An SMTP server on a random port that accepts every message.
async fn smtp_sink() -> (String, Arc<Mutex<Vec<Mail>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let sink = inbox.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let inbox = sink.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut recipients = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "RCPT" => {
                            recipients.push(line[line.find(':').unwrap() + 1..].trim().to_owned());
                            b"250 OK\r\n"
                        }
                        "DATA" => {
                            write.write_all(b"354 go on\r\n").await.unwrap();
                            let mut data = String::new();
                            while let Ok(Some(line)) = lines.next_line().await {
                                if line == "." {
                                    break;
                                }
                                data.push_str(&line);
                                data.push('\n');
                            }
                            inbox.lock().unwrap().push(Mail { recipients: std::mem::take(&mut recipients), data });
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        _ => b"250 OK\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (url, inbox)
}

/// Makes a dossier's invitation as the one-stop software does and sends its link to `contacts`.
async fn invite(app: &TestApp, dossier: &str, contacts: &[(Medium, &str)]) -> common::Issued {
    let invited = common::invite(&app.state, dossier, "KS", "D1").await.unwrap();
    let contacts: Vec<(Medium, String)> = contacts.iter().map(|(m, c)| (*m, c.to_string())).collect();
    app.state.send_invitation(&invited, &contacts, &Actor::cli()).await.unwrap();
    common::issue(&app.state, dossier, "KS", "D1").await
}

/// Waits (up to 10 s) until every delivery of the invitation is past `Queued`.
async fn settled(app: &TestApp, invitation: &Invitation) -> Vec<Delivery> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let deliveries = app.state.deliveries_of(invitation).await.unwrap();
        if deliveries.iter().all(|d| d.status != DeliveryStatus::Queued) || Instant::now() > deadline {
            return deliveries;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Undoes quoted-printable: soft line breaks and `=XX` bytes.
fn unquote(data: &str) -> String {
    let joined = data.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn an_email_reaches_the_smtp_server_once_and_the_address_is_forgotten() {
    let (smtp_url, inbox) = smtp_sink().await;
    let settings = Settings {
        delivery: DeliverySettings {
            smtp: Some(SmtpRelay { url: smtp_url, from: "Khảo sát hài lòng <khaosat@phutho.test>".into() }),
            ..DeliverySettings::default()
        },
        ..Settings::default()
    };
    let app = spawn_app_with(settings).await;
    let (_, key) = app.state.register_api_key(&Actor::cli(), "P", "Một cửa").await.unwrap();
    let body = json!({"dossier_code": "HS-MAIL-1", "procedure": "KS", "agency": "D1", "email": "Dan.Cu@Example.VN"});
    let post = || app.client.post(format!("{}/api/v1/invitations", app.base)).bearer_auth(&key).json(&body).send();
    let created = post().await.unwrap();
    assert_eq!(created.status(), 201);
    let url = created.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_owned();

    let invitation = app.state.invitation_of_dossier("D1", "HS-MAIL-1").await.unwrap().unwrap();
    let deliveries = settled(&app, &invitation).await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!((deliveries[0].status, deliveries[0].attempts), (DeliveryStatus::Sent, 1), "{deliveries:?}");
    assert_eq!(deliveries[0].recipient_hint, "D•••@example.vn");

    let mail = inbox.lock().unwrap()[0].clone();
    assert_eq!(mail.recipients, ["<Dan.Cu@example.vn>"]);
    let text = unquote(&mail.data);
    assert!(text.contains(&url), "the link, on one line: {text}");
    assert!(text.contains("Kính gửi Ông/Bà") && text.contains("Cơ quan D1"), "{text}");
    assert!(app.state.stored_contacts().await.unwrap().is_empty(), "the address is deleted once sent");

    let status: Value = app
        .client
        .get(format!("{}/api/v1/invitations/HS-MAIL-1", app.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["delivery"][0]["channel"], "email");
    assert_eq!(status["delivery"][0]["status"], "sent");
    assert!(status["delivery"][0]["sent_at"].is_string());

    // The same dossier again: the same invitation, and no second e-mail.
    assert_eq!(post().await.unwrap().status(), 200);
    app.state.deliver_due().await.unwrap();
    assert_eq!(inbox.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_sms_goes_to_the_http_gateway_as_configured() {
    let (base, requests) = sms_gateway(vec![]).await;
    let app = spawn_app_with(gateway_settings(&base, Backoff::default())).await;
    let link = invite(&app, "HS-SMS-1", &[(Medium::Sms, "0912345678")]).await;

    let deliveries = settled(&app, &link.invitation).await;
    assert_eq!(deliveries[0].status, DeliveryStatus::Sent, "{deliveries:?}");
    let request = requests.lock().unwrap()[0].clone();
    assert_eq!(request.uri.query(), Some("to=0912345678"));
    assert_eq!(request.headers["authorization"], "Bearer gateway-secret");
    let body: Value = serde_json::from_str(&request.body).expect("the template filled in stays JSON");
    assert_eq!(body["to"], "0912345678");
    assert_eq!(body["link"], link.url.as_str());
    let text = body["text"].as_str().unwrap();
    assert!(text.starts_with("Co quan D1: moi Ong/Ba") && text.ends_with(&link.url), "{text}");
    assert!(app.state.stored_contacts().await.unwrap().is_empty(), "the number is deleted once sent");
    // Nor is it left in the files: free space is zeroed, and the write-ahead log is emptied.
    // (Not so on PostgreSQL, whose dead rows wait for VACUUM: docs/privacy.md.)
    if common::on_postgres() {
        return;
    }
    let files = |app: &TestApp| {
        let path = app.database_url.trim_start_matches("sqlite://").to_owned();
        ["", "-wal"].iter().flat_map(|suffix| std::fs::read(format!("{path}{suffix}")).unwrap_or_default()).collect()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut bytes: Vec<u8> = files(&app);
    while bytes.windows(10).any(|w| w == b"0912345678") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        bytes = files(&app);
    }
    assert!(!bytes.windows(10).any(|w| w == b"0912345678"), "the number is still in the database files");
}

#[tokio::test]
async fn a_failing_gateway_is_retried_with_growing_waits_until_it_answers() {
    let (base, requests) = sms_gateway(vec![503, 500]).await;
    let backoff = Backoff { base: Duration::from_millis(300), max_attempts: 5 };
    let app = spawn_app_with(gateway_settings(&base, backoff)).await;
    let link = invite(&app, "HS-SMS-2", &[(Medium::Sms, "+84 386 123 456")]).await;

    let deliveries = settled(&app, &link.invitation).await;
    assert_eq!((deliveries[0].status, deliveries[0].attempts), (DeliveryStatus::Sent, 3), "{deliveries:?}");
    let times: Vec<Instant> = requests.lock().unwrap().iter().map(|r| r.at).collect();
    assert_eq!(times.len(), 3);
    assert!(times[1] - times[0] >= Duration::from_millis(300), "first wait {:?}", times[1] - times[0]);
    assert!(times[2] - times[1] >= Duration::from_millis(600), "second wait doubles {:?}", times[2] - times[1]);
    assert!(app.state.stored_contacts().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_gateway_that_keeps_failing_is_given_up_and_the_number_forgotten() {
    let (base, requests) = sms_gateway(vec![500; 10]).await;
    let app = spawn_app_with(gateway_settings(&base, Backoff { base: Duration::ZERO, max_attempts: 3 })).await;
    let link = invite(&app, "HS-SMS-3", &[(Medium::Sms, "0912345678")]).await;
    let deliveries = settled(&app, &link.invitation).await;
    assert_eq!((deliveries[0].status, deliveries[0].attempts), (DeliveryStatus::Failed, 3), "{deliveries:?}");
    assert_eq!(deliveries[0].last_error.as_deref(), Some("Cổng SMS trả lời HTTP 500."));
    assert_eq!(requests.lock().unwrap().len(), 3);
    assert!(app.state.stored_contacts().await.unwrap().is_empty(), "a failed message keeps no number");

    // Its maker may try again with another number while the link is theirs: the failed message is
    // queued afresh.
    let again = common::invite(&app.state, "HS-SMS-3", "KS", "D1").await.unwrap();
    let resend = app.state.send_invitation(&again, &[(Medium::Sms, "0987654321".into())], &Actor::cli()).await;
    assert_eq!(resend.unwrap(), 1);

    // A refusal (4xx) is not retried.
    let (base, requests) = sms_gateway(vec![400]).await;
    let app = spawn_app_with(gateway_settings(&base, Backoff { base: Duration::ZERO, max_attempts: 5 })).await;
    let link = invite(&app, "HS-SMS-4", &[(Medium::Sms, "0912345678")]).await;
    let deliveries = settled(&app, &link.invitation).await;
    assert_eq!((deliveries[0].status, deliveries[0].attempts), (DeliveryStatus::Failed, 1), "{deliveries:?}");
    assert_eq!(requests.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn without_gateways_messages_wait_in_the_outbox_and_are_never_reported_sent() {
    let app = spawn_app().await;
    let link = invite(&app, "HS-OUT-1", &[(Medium::Sms, "0912345678"), (Medium::Email, "dan@example.vn")]).await;
    app.state.deliver_due().await.unwrap();
    let deliveries = app.state.deliveries_of(&link.invitation).await.unwrap();
    assert!(deliveries.iter().all(|d| d.status == DeliveryStatus::Queued && d.attempts == 0), "{deliveries:?}");

    let outbox = app.state.outbox().await.unwrap();
    let recipients: Vec<&str> = outbox.iter().map(|item| item.pending.recipient.as_str()).collect();
    assert_eq!(recipients, ["0912345678", "dan@example.vn"]);
    assert!(outbox.iter().all(|item| item.text.contains(&link.url)));

    // An admin sends the SMS by hand and says so: its number is deleted.
    let sms = outbox.iter().find(|item| item.pending.delivery.medium == Medium::Sms).unwrap();
    assert!(app.state.mark_sent_by_hand(&Actor::cli(), sms.pending.delivery.id).await.unwrap());
    assert!(!app.state.mark_sent_by_hand(&Actor::cli(), sms.pending.delivery.id).await.unwrap(), "only once");
    assert_eq!(app.state.stored_contacts().await.unwrap().len(), 1);

    // The link expires: what is still queued is cancelled and its address deleted.
    let pool = common::sql(&app.database_url).await;
    sqlx::query("UPDATE invitations SET expires_at = '2000-01-01T00:00:00.000Z'").execute(&pool).await.unwrap();
    app.state.deliver_due().await.unwrap();
    let statuses: Vec<DeliveryStatus> =
        app.state.deliveries_of(&link.invitation).await.unwrap().iter().map(|d| d.status).collect();
    assert_eq!(statuses, [DeliveryStatus::Sent, DeliveryStatus::Cancelled]);
    assert!(app.state.stored_contacts().await.unwrap().is_empty());
    assert!(app.state.outbox().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_answer_cancels_what_is_still_queued() {
    let app = spawn_app().await;
    let link = invite(&app, "HS-OUT-2", &[(Medium::Sms, "0912345678")]).await;
    let answer = json!({"id": uuid::Uuid::new_v4().to_string(), "answers": {"A1": 5}});
    app.state.submit_from_link(&link.invitation, &common::submission(answer), None).await.unwrap();
    app.state.deliver_due().await.unwrap();
    let deliveries = app.state.deliveries_of(&link.invitation).await.unwrap();
    assert_eq!(deliveries[0].status, DeliveryStatus::Cancelled);
    assert!(app.state.stored_contacts().await.unwrap().is_empty());

    // An answered invitation sends nothing new.
    let answered = common::invite(&app.state, "HS-OUT-2", "KS", "D1").await.unwrap();
    let sent = app.state.send_invitation(&answered, &[(Medium::Email, "a@b.vn".into())], &Actor::cli()).await;
    assert_eq!(sent.unwrap(), 0);
}

#[tokio::test]
async fn a_mistake_in_the_gateway_settings_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database(dir.path(), "bad.db").await;
    let mut bad_method = gateway_settings("http://127.0.0.1:9", Backoff::default());
    if let Some(sms) = bad_method.delivery.sms.as_mut() {
        sms.method = "PO ST".into();
    }
    let bad_sender = Settings {
        delivery: DeliverySettings {
            smtp: Some(SmtpRelay { url: "smtp://127.0.0.1:25".into(), from: "không phải địa chỉ".into() }),
            ..DeliverySettings::default()
        },
        ..Settings::default()
    };
    let bad_relay = Settings {
        delivery: DeliverySettings {
            smtp: Some(SmtpRelay { url: "imap://mail.example.vn".into(), from: "a@b.vn".into() }),
            ..DeliverySettings::default()
        },
        ..Settings::default()
    };
    for settings in [bad_method, bad_sender, bad_relay] {
        let started = app::service::AppState::start(&url, settings).await;
        assert!(matches!(started, Err(ServiceError::Config(_))), "{:?}", started.err());
    }
}
