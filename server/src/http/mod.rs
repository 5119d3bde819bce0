//! HTTP: the axum router that joins the JSON API, the kiosk form posts and the Leptos pages.

mod api;
mod integration;
mod kiosk;

use std::net::SocketAddr;

use app::app::{shell, App};
use app::service::AppState;
use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

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
        .site_root(env("LEPTOS_SITE_ROOT", "target/site"))
        .site_pkg_dir(env("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(addr)
        .build()
}

/// The whole application as a router, for `serve` and for tests.
pub fn router(app: AppState, leptos: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let app = app.clone();
        move || provide_context(app.clone())
    };
    let state = HttpState { app, leptos };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/questionnaire", get(api::questionnaire))
        .route("/api/v1/responses", post(api::submit_response))
        .route("/api/v1/indices", get(api::indices))
        .route("/api/v1/invitations", post(integration::create))
        .route("/api/v1/invitations/{dossier}", get(integration::status))
        .route("/api/v1/invitations/{dossier}/qr.svg", get(integration::qr))
        .route("/kiosk/pair/{token}", get(kiosk::pair))
        .route("/kiosk", post(kiosk::step))
        .route("/s/{token}", post(kiosk::link_step))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let leptos = state.leptos.clone();
            move || shell(leptos.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<HttpState, _>(context, shell))
        .layer(axum::middleware::from_fn_with_state(state.app.clone(), same_origin_posts))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Refuses a browser POST sent from another site (cross-site request forgery): when the browser
/// says where the form came from (`Origin`), it must be this server. Clients that send no
/// `Origin` (kiosk apps, one-stop software, curl) authenticate with bearer tokens instead.
async fn same_origin_posts(
    axum::extract::State(app): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, Method, StatusCode};
    use axum::response::IntoResponse;
    if request.method() == Method::POST {
        if let Some(origin) = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
            let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
            let same_host = origin.split_once("://").map(|(_, rest)| rest) == host && host.is_some();
            if !same_host && origin != app.settings.public_url {
                return (StatusCode::FORBIDDEN, "Yêu cầu gửi từ trang web khác nên bị từ chối.").into_response();
            }
        }
    }
    next.run(request).await
}

pub async fn serve(app: AppState, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    tracing::info!("hailong đang phục vụ tại http://{addr}");
    let router = router(app.clone(), leptos_options(addr));
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    app.db.close().await;
    Ok(())
}
