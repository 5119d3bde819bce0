//! Pages written without Leptos, for answers outside a page's own flow (a refused upload, a
//! survey screen that cannot be shown): the site's style around a title and a body.

/// The document around `body` (HTML) in a `<main>` of `class`, titled `title` (text).
pub fn document(class: &str, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"stylesheet\" href=\"/pkg/hailong.css\"></head><body><main class=\"{class}\">{body}</main></body></html>",
        title = escape(title)
    )
}

/// `text` made safe to stand in HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
