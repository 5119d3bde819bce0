//! Operations endpoints: `/metrics` in Prometheus's text format (behind its own bearer token),
//! `/livez` (the process answers) and `/readyz` (it can take answers: a load balancer sends
//! requests only to a ready server).

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::HttpState;

/// Latencies in seconds, from a millisecond to ten seconds.
const SECONDS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
/// Responses per writer transaction, up to the writer's largest batch.
const BATCH: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// The process's one Prometheus recorder, installed on first use (the metrics of the `app`
/// crate go to it from then on).
fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
            .and_then(|builder| {
                builder.set_buckets_for_metric(Matcher::Full("hailong_writer_batch_size".into()), BATCH)
            })
            .expect("bucket lists are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if let Err(error) = metrics::set_global_recorder(recorder) {
            tracing::warn!(%error, "another metrics recorder was installed first: /metrics stays empty");
        }
        handle
    })
}

/// Installs the recorder, so that what happens before the first scrape is counted.
pub fn install() {
    recorder();
}

pub async fn metrics(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    if state.app.settings.metrics_token.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(token) = super::api::bearer(&headers) else {
        return (StatusCode::UNAUTHORIZED, "Thiếu mã đọc số liệu (Authorization: Bearer …).").into_response();
    };
    if !state.app.is_metrics_token(token) {
        return (StatusCode::UNAUTHORIZED, "Mã đọc số liệu không đúng.").into_response();
    }
    state.app.gauge_pools();
    let handle = recorder();
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}

pub async fn live() -> &'static str {
    "ok"
}

pub async fn ready(State(state): State<HttpState>) -> Response {
    match state.app.ready().await {
        Ok(()) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "5")],
                "Chưa sẵn sàng: cơ sở dữ liệu chưa trả lời.",
            )
                .into_response()
        }
    }
}
