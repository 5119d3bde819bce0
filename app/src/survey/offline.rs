//! The kiosk page's side of working offline: it registers the service worker
//! (`/kiosk-sw.js`, which caches the page and queues finished surveys), asks it to send its
//! queue every few seconds and at once when the network returns, and listens for the queue's
//! length, which staff see in a corner of the screen.

use leptos::prelude::*;

/// How often the page asks the worker to send its queue (the worker backs off on its own).
#[cfg(feature = "hydrate")]
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The Vietnam day (`YYYY-MM-DD`) by this device's clock: what a finished survey carries.
pub fn today() -> String {
    #[cfg(feature = "hydrate")]
    let now = chrono::DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default();
    #[cfg(not(feature = "hydrate"))]
    let now = chrono::Utc::now();
    // A date's Display is `YYYY-MM-DD`; `format` would bring chrono's strftime into the wasm.
    crate::domain::period::vietnam_day(now).to_string()
}

/// Starts the worker and keeps `queued` at the number of surveys waiting in the browser.
pub fn keep_working_offline(queued: RwSignal<u32>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;

        // Only secure pages (https, or the machine itself) have service workers: elsewhere the
        // kiosk stays online-only.
        let navigator = window().navigator();
        if js_sys::Reflect::get(&navigator, &"serviceWorker".into()).map_or(true, |w| w.is_undefined()) {
            return;
        }
        let container = navigator.service_worker();
        let options = web_sys::RegistrationOptions::new();
        options.set_scope("/kiosk");
        // A browser without service workers (or refusing them) keeps the online behaviour.
        let _ = container.register_with_options("/kiosk-sw.js", &options);

        let on_message = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let count = js_sys::Reflect::get(&event.data(), &"queued".into()).ok().and_then(|n| n.as_f64());
            if let Some(count) = count {
                queued.set(count as u32);
            }
        });
        container.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();

        // To the active worker once there is one (a page loaded before the worker took over,
        // or just reloaded, may not be controlled yet).
        let ask = move |what: &'static str| {
            let Ok(ready) = window().navigator().service_worker().ready() else { return };
            wasm_bindgen_futures::spawn_local(async move {
                let Ok(registration) = wasm_bindgen_futures::JsFuture::from(ready).await else { return };
                let registration: web_sys::ServiceWorkerRegistration = registration.unchecked_into();
                if let Some(worker) = registration.active() {
                    let _ = worker.post_message(&what.into());
                }
            });
        };
        ask("flush");
        if let Ok(handle) = set_interval_with_handle(move || ask("flush"), FLUSH_EVERY) {
            on_cleanup(move || handle.clear());
        }
        let online = window_event_listener(leptos::ev::online, move |_| ask("online"));
        on_cleanup(move || online.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = queued;
}
