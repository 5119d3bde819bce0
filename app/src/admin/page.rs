//! The frame every admin page shares: its window title, the navigation, the heading, what the
//! page says before its data (an introduction, filters, the alerts of its forms), then the data
//! once loaded, or the standard refusal page ([`Loaded`]).

use leptos::prelude::*;
use leptos_meta::Title;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::nav::AdminNav;
use crate::access::{Loaded, PageReply};

#[component]
pub fn AdminPage<T, R>(
    /// The window's title, before " — Hài lòng".
    title: &'static str,
    heading: &'static str,
    data: Resource<Result<PageReply<T>, ServerFnError>>,
    /// The page's body, from its data.
    ready: R,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    R: Fn(T) -> AnyView + Clone + Send + Sync + 'static,
{
    view! {
        <Title text=format!("{title} — Hài lòng") />
        <main class="admin">
            <AdminNav />
            <h1>{heading}</h1>
            {children.map(|children| children())}
            <Loaded data ready />
        </main>
    }
}

/// A CSV file posted to `action` (a plain multipart form, so it works without JavaScript): the
/// section's heading, what the file must hold, and the button.
#[component]
pub fn CsvUpload(
    heading: &'static str,
    hint: &'static str,
    action: &'static str,
    button: &'static str,
) -> impl IntoView {
    view! {
        <section>
            <h2>{heading}</h2>
            <p class="hint">{hint}</p>
            <form method="post" action=action enctype="multipart/form-data" class="login">
                <label><span>"Tệp CSV"</span><input type="file" name="file" accept=".csv,text/csv" required /></label>
                <button type="submit" class="primary">{button}</button>
            </form>
        </section>
    }
}
