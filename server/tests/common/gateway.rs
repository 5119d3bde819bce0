//! An SMS gateway in the test: it records what it is sent.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use app::domain::delivery::Backoff;
use app::service::delivery::{DeliverySettings, SmsGateway};
use app::service::Settings;
use axum::http::{HeaderMap, StatusCode, Uri};

/// A request the gateway received.
#[derive(Clone, Debug)]
pub struct Request {
    pub at: Instant,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: String,
}

/// An SMS gateway on a random port answering `statuses` in turn, then 200.
pub async fn sms_gateway(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<Request>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    let handler = move |uri: Uri, headers: HeaderMap, body: String| {
        let log = log.clone();
        let statuses = statuses.clone();
        async move {
            let mut log = log.lock().unwrap();
            let status = statuses.get(log.len()).copied().unwrap_or(200);
            log.push(Request { at: Instant::now(), uri, headers, body });
            StatusCode::from_u16(status).unwrap()
        }
    };
    let router = axum::Router::new().route("/send", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, received)
}

pub fn gateway_settings(base: &str, backoff: Backoff) -> Settings {
    Settings {
        delivery: DeliverySettings {
            sms: Some(SmsGateway {
                url: format!("{base}/send?to={{phone}}"),
                method: "post".into(),
                headers: vec![
                    ("Authorization".into(), "Bearer gateway-secret".into()),
                    ("Content-Type".into(), "application/json".into()),
                ],
                body: r#"{"to":"{phone}","text":"{message}","link":"{link}"}"#.into(),
            }),
            smtp: None,
            backoff,
        },
        ..Settings::default()
    }
}
