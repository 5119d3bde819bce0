//! HTTP: the axum router that joins the JSON API, the kiosk form posts, the admin uploads and
//! the Leptos pages, behind the layers every request passes (client address, same-origin
//! check for browser POSTs, security headers, logs without tokens).

mod admin;
mod api;
mod assets;
mod exports;
mod integration;
mod layers;
pub use layers::public_url_mismatch;
mod metrics;
mod plain;
mod reports;
mod survey;

use std::net::SocketAddr;

use app::app::{shell, survey_shell, App, SurveyApp};
use app::service::AppState;
use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

pub use layers::{parse_proxy, TrustedProxies};

/// What every handler can extract: the application and the Leptos site settings.
#[derive(Clone, FromRef)]
pub struct HttpState {
    pub app: AppState,
    pub leptos: LeptosOptions,
}

/// The site settings; cargo-leptos passes them as `LEPTOS_*` variables, these are the defaults.
pub fn leptos_options(addr: SocketAddr) -> LeptosOptions {
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    LeptosOptions::builder()
        .output_name(env("LEPTOS_OUTPUT_NAME", "hailong"))
        .site_root(assets::site_root(env("LEPTOS_SITE_ROOT", "target/site")))
        .site_pkg_dir(env("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(addr)
        .build()
}

/// The whole application as a router, for `serve` and for tests.
pub fn router(app: AppState, leptos: LeptosOptions, proxies: TrustedProxies) -> Router {
    // The two surveys are rendered by an app of their own, which their own wasm hydrates.
    let surveys = generate_route_list(SurveyApp);
    let mut routes = generate_route_list(App);
    routes.retain(|route| !surveys.iter().any(|survey| survey.path() == route.path()));
    let context = {
        let app = app.clone();
        move || provide_context(app.clone())
    };
    metrics::install();
    let state = HttpState { app, leptos };
    let mut router = Router::new();
    for survey in &surveys {
        let leptos = state.leptos.clone();
        let render = leptos_axum::render_app_async_with_context(context.clone(), move || survey_shell(leptos.clone()));
        router = router.route(survey.path(), get(render));
    }
    router
        .route("/healthz", get(metrics::live))
        .route("/livez", get(metrics::live))
        .route("/readyz", get(metrics::ready))
        .route("/metrics", get(metrics::metrics))
        .route("/pkg/{*file}", get(assets::serve))
        .route("/kiosk-sw.js", get(survey::service_worker))
        .route("/api/v1/questionnaire", get(api::questionnaire))
        .route("/api/v1/responses", post(api::submit_response))
        .route("/api/v1/indices", get(api::indices))
        .route("/api/v1/kiosks/pair", post(api::pair_kiosk))
        .route("/api/v1/breakdowns", get(reports::breakdowns))
        .route("/api/v1/rankings", get(reports::rankings))
        .route("/api/v1/expectations", get(reports::expectations))
        .route("/api/v1/trend", get(reports::trend))
        .route("/api/v1/exports/{file}", get(exports::export))
        .route("/api/v1/invitations", post(integration::create))
        .route("/api/v1/invitations/{dossier}", get(integration::status))
        .route("/api/v1/invitations/{dossier}/qr.svg", get(integration::qr))
        .route("/kiosk", post(survey::step))
        .route("/s/{token}", post(survey::link_step))
        .route("/admin/agencies.csv", get(admin::export_agencies))
        .route("/admin/agencies/import", post(admin::upload_agencies))
        .route("/admin/users/import", post(admin::import_users))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let leptos = state.leptos.clone();
            move || shell(leptos.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<HttpState, _>(context, shell))
        .layer(axum::extract::DefaultBodyLimit::max(layers::BODY_LIMIT))
        .layer(axum::middleware::from_fn(layers::too_large_in_vietnamese))
        .layer(axum::middleware::from_fn_with_state(state.app.clone(), layers::form_errors_back_to_their_page))
        .layer(axum::middleware::from_fn_with_state(state.app.clone(), layers::same_origin_posts))
        .layer(axum::middleware::from_fn_with_state(state.app.clone(), layers::security_headers))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(layers::trace())
        .layer(axum::middleware::from_fn_with_state(proxies, layers::client_ip))
        .with_state(state)
}

/// Ctrl-C, or SIGTERM as systemd and container runtimes send it: requests under way finish,
/// then the database is closed.
async fn stop_asked() {
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(terminate) => terminate,
        Err(error) => {
            tracing::warn!(%error, "SIGTERM cannot be caught: only Ctrl-C stops the server gracefully");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("hailong dừng: các yêu cầu đang xử lý được làm xong");
}

pub async fn serve(app: AppState, addr: SocketAddr, proxies: TrustedProxies) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    if !assets::site_available(&leptos_options(addr)) {
        tracing::warn!(
            "không tìm thấy tệp giao diện (pkg/hailong.css): trang sẽ không có kiểu dáng; hãy build bằng cargo leptos build --release"
        );
    }
    tracing::info!("hailong đang phục vụ tại http://{addr}");
    let router = router(app.clone(), leptos_options(addr), proxies);
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(stop_asked())
        .await?;
    app.close().await;
    Ok(())
}
