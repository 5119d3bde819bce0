//! `/admin/comments`: the moderation queue (admins: approve or hide each comment, personal
//! details already masked) and the approved comments of a subtree, shown only where the period
//! has at least k responses, never with their time. Its server functions are in `server.rs`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::server::{load_comments, CommentsPage as Page, Filter, ModerateComment};
use super::ReportHeader;
use crate::access::Loaded;
use crate::account::page::failure_alert;

#[component]
pub fn CommentsPage() -> impl IntoView {
    let query = use_query_map();
    let moderate = ServerAction::<ModerateComment>::new();
    let page =
        Resource::new_blocking(move || (query.with(Filter::of), moderate.version().get()), |(f, _)| load_comments(f));
    view! {
        <Title text="Ý kiến người dân — Chỉ số hài lòng" />
        <main class="admin report">
            <Loaded data=page ready={move |p: Page| view! { <CommentsView page=p moderate=moderate /> }.into_any()} />
        </main>
    }
}

/// "Duyệt" or "Ẩn" for one comment: a form post, so it works without JavaScript too.
#[component]
fn ModerateButton(moderate: ServerAction<ModerateComment>, id: String, back: String, approve: bool) -> impl IntoView {
    let (label, class) = if approve { ("Duyệt", "primary") } else { ("Ẩn", "danger") };
    view! {
        <ActionForm action=moderate attr:class="inline">
            <input type="hidden" name="id" value=id />
            <input type="hidden" name="approve" value=approve.to_string() />
            <input type="hidden" name="back" value=back />
            <button type="submit" class=class>{label}</button>
        </ActionForm>
    }
}

#[component]
fn CommentsView(page: Page, moderate: ServerAction<ModerateComment>) -> impl IntoView {
    let Page { frame, pending, waiting, approved, min_cell } = page;
    let back = format!("/admin/comments?{}", frame.query());
    let is_admin = frame.is_admin;
    let queue = is_admin.then(|| {
        let items = pending
            .into_iter()
            .map(|c| {
                view! {
                    <li class="comment pending">
                        <p class="comment-agency">{c.agency}</p>
                        <blockquote>{c.text}</blockquote>
                        <ModerateButton moderate=moderate id=c.id.clone() back=back.clone() approve=true />
                        <ModerateButton moderate=moderate id=c.id back=back.clone() approve=false />
                    </li>
                }
            })
            .collect_view();
        view! {
            <section>
                <h2>{format!("Chờ duyệt ({waiting})")}</h2>
                <p class="note">"Số điện thoại, địa chỉ thư và mã hồ sơ đã được che trước khi lưu. Ý kiến chỉ hiện cho lãnh đạo sau khi được duyệt."</p>
                {move || failure_alert(moderate.value().get())}
                <ul class="comments" id="pending-comments">{items}</ul>
            </section>
        }
    });
    let approved = match approved {
        None => view! {
            <p class="note" id="too-few">{format!("Kỳ này có dưới {min_cell} phiếu: không hiện ý kiến để không ai nhận ra người viết.")}</p>
        }
        .into_any(),
        Some(comments) if comments.is_empty() => view! { <p class="note">"Chưa có ý kiến nào được duyệt trong kỳ này."</p> }.into_any(),
        Some(comments) => view! {
            <ul class="comments" id="approved-comments">
                {comments.into_iter().map(|c| view! { <li class="comment"><p class="comment-agency">{c.agency}</p><blockquote>{c.text}</blockquote></li> }).collect_view()}
            </ul>
        }
        .into_any(),
    };
    view! {
        <ReportHeader frame=frame title="Ý kiến người dân" action="/admin/comments" extra=().into_any() />
        {queue}
        <section>
            <h2>"Ý kiến đã duyệt"</h2>
            {approved}
        </section>
    }
}
