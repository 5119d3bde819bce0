//! An export link that shows how far a large download has come. Without JavaScript it is a plain
//! link (the browser's own download bar shows the bytes); hydrated, a click fetches the file,
//! counts what arrives (rows for a CSV, against the rows the period holds) and then saves it.

use leptos::prelude::*;

/// A link to an export at `href`, saved as `file`; `rows` is how many rows the file will hold.
#[component]
pub fn DownloadLink(href: String, file: String, rows: u64, label: &'static str) -> impl IntoView {
    let progress = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Set once this link runs in the browser (effects never run on the server): from then on a
    // click is counted here, not left to the browser's own download.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let on_click = {
        let (href, file) = (href.clone(), file.clone());
        move |ev: leptos::ev::MouseEvent| {
            #[cfg(feature = "hydrate")]
            {
                ev.prevent_default();
                if busy.get_untracked() {
                    return;
                }
                busy.set(true);
                let (href, file) = (href.clone(), file.clone());
                leptos::task::spawn_local(async move {
                    let outcome = fetch_and_save(&href, &file, rows, progress).await;
                    progress.set(Some(match outcome {
                        Ok(bytes) => format!("Đã tải xong ({}).", megabytes(bytes)),
                        Err(message) => message,
                    }));
                    busy.set(false);
                });
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (ev, &href, &file, rows);
        }
    };
    view! {
        <a href=href download=file on:click=on_click aria-busy=move || busy.get().to_string()
            data-ready=move || ready.get().then_some("true")>{label}</a>
        {move || progress.get().map(|text| view! { <span class="download-progress" role="status">" "{text}</span> })}
    }
    .into_any()
}

#[cfg(feature = "hydrate")]
fn megabytes(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1e6).replace('.', ",")
}

/// Reads the file as it arrives, telling `progress` how far it is, then hands it to the browser
/// to save. Returns the size, or a message for the user.
#[cfg(feature = "hydrate")]
async fn fetch_and_save(href: &str, file: &str, rows: u64, progress: RwSignal<Option<String>>) -> Result<f64, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    fn failed<E>(_: E) -> String {
        "Không tải được tệp, vui lòng thử lại.".into()
    }
    let window = web_sys::window().ok_or("Không tải được tệp.")?;
    progress.set(Some("Đang chuẩn bị tệp…".into()));
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str(href)).await.map_err(failed)?.dyn_into().map_err(failed)?;
    if !response.ok() {
        return Err(format!("Không tải được tệp (mã {}).", response.status()));
    }
    let body = response.body().ok_or("Tệp rỗng.")?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().dyn_into().map_err(failed)?;
    let csv = file.ends_with(".csv");
    let chunks = js_sys::Array::new();
    let (mut bytes, mut lines) = (0f64, 0u64);
    loop {
        let step = JsFuture::from(reader.read()).await.map_err(failed)?;
        let done = js_sys::Reflect::get(&step, &"done".into()).map_err(failed)?.as_bool().unwrap_or(true);
        if done {
            break;
        }
        let chunk: js_sys::Uint8Array =
            js_sys::Reflect::get(&step, &"value".into()).map_err(failed)?.dyn_into().map_err(failed)?;
        bytes += f64::from(chunk.length());
        if csv {
            lines += chunk.to_vec().iter().filter(|b| **b == b'\n').count() as u64;
        }
        chunks.push(&chunk);
        progress.set(Some(if csv && rows > 0 {
            // the first line is the header
            let done = lines.saturating_sub(1).min(rows);
            format!("Đang tải: {done} / {rows} dòng ({}%), {}", done * 100 / rows, megabytes(bytes))
        } else {
            format!("Đang tải: {}", megabytes(bytes))
        }));
    }
    let blob = web_sys::Blob::new_with_u8_array_sequence(&chunks).map_err(failed)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(failed)?;
    let document = window.document().ok_or("Không tải được tệp.")?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a").map_err(failed)?.dyn_into().map_err(failed)?;
    link.set_href(&url);
    link.set_download(file);
    link.click();
    // The browser copies the file from the object URL after the click: free it a while later.
    set_timeout(move || drop(web_sys::Url::revoke_object_url(&url)), std::time::Duration::from_secs(60));
    Ok(bytes)
}
