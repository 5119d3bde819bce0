//! The site's styles, scripts and wasm. A release build made by `cargo leptos build --release
//! --precompress` (`make build`) carries them inside the binary — that flag builds the site
//! before the server — so `hailong serve` works from any folder; otherwise they are read from
//! the site root.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::prelude::LeptosOptions;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../target/site/pkg"]
#[prefix = "pkg/"]
#[allow_missing = true]
struct Site;

/// The surveys' own wasm and script (`surveys.wasm`, `surveys.js`), which cargo-leptos builds
/// as a project of its own (`Cargo.toml`) into a site root of its own.
#[derive(RustEmbed)]
#[folder = "../target/site-surveys/pkg"]
#[prefix = "pkg/"]
#[allow_missing = true]
struct Surveys;

/// Where the surveys' project puts its files when they are read from disk.
const SURVEYS_SITE_ROOT: &str = "target/site-surveys";

/// An embedded file of either site.
fn embedded(path: &str) -> Option<rust_embed::EmbeddedFile> {
    Site::get(path).or_else(|| Surveys::get(path))
}

/// The site root to hand Leptos. Its page shell reads the split build's chunk manifest
/// (`pkg/__wasm_split_manifest.json`) from disk, to preload a lazy page's chunks and to hydrate
/// that page only once they are there; a binary that carries its site has no such file beside
/// it, so the embedded manifest is written to a folder of its own (named by its digest: the same
/// build reuses it) and that folder is the root. Files are still served from the binary first.
pub fn site_root(configured: String) -> String {
    const MANIFEST: &str = "pkg/__wasm_split_manifest.json";
    let Some(manifest) = Site::get(MANIFEST) else { return configured };
    if std::path::Path::new(&configured).join(MANIFEST).exists() {
        return configured;
    }
    let digest = hex(&manifest.metadata.sha256_hash()[..8]);
    let root = std::env::temp_dir().join(format!("hailong-site-{digest}"));
    let path = root.join(MANIFEST);
    let written = path.exists() || {
        let partial = root.join(format!("{MANIFEST}.{}", std::process::id()));
        std::fs::create_dir_all(root.join("pkg")).is_ok()
            && std::fs::write(&partial, &manifest.data).is_ok()
            && std::fs::rename(&partial, &path).is_ok()
    };
    if written {
        root.to_string_lossy().into_owned()
    } else {
        tracing::warn!(root = %root.display(), "không ghi được tệp chunk manifest: các trang tải chậm hơn");
        configured
    }
}

/// Whether the stylesheet can be served (embedded, or found in the site root).
pub fn site_available(leptos: &LeptosOptions) -> bool {
    Site::get("pkg/hailong.css").is_some()
        || std::path::Path::new(leptos.site_root.as_ref()).join("pkg/hailong.css").exists()
}

/// `GET /pkg/{file}`: the embedded file, brotli or gzip when the browser takes it.
pub async fn serve(State(leptos): State<LeptosOptions>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    if file.contains("..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let path = format!("pkg/{file}");
    let accepts = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    let Some(plain) = embedded(&path) else { return from_disk(&leptos, &path, mime.as_ref()).await };
    let etag = format!("\"{}\"", hex(&plain.metadata.sha256_hash()));
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let encoded = [("br", ".br"), ("gzip", ".gz")]
        .into_iter()
        .filter(|(name, _)| accepts.split(',').any(|a| a.trim().split(';').next() == Some(*name)))
        .find_map(|(name, suffix)| embedded(&format!("{path}{suffix}")).map(|file| (name, file)));
    let mut response = match encoded {
        Some((encoding, file)) => {
            let mut response = Body::from(file.data.into_owned()).into_response();
            response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
            response
        }
        None => Body::from(plain.data.into_owned()).into_response(),
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    // The names do not change between builds: check with the ETag before using a cached copy.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn from_disk(leptos: &LeptosOptions, path: &str, mime: &str) -> Response {
    let read = |root: &str| tokio::fs::read(std::path::Path::new(root).join(path));
    let bytes = match read(leptos.site_root.as_ref()).await {
        Ok(bytes) => Ok(bytes),
        Err(_) => read(SURVEYS_SITE_ROOT).await,
    };
    match bytes {
        Ok(bytes) => ([(header::CONTENT_TYPE, mime.to_owned()), (header::CACHE_CONTROL, "no-cache".to_owned())], bytes)
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
