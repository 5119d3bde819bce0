//! `/admin/comments`: the moderation queue (admins: approve or hide each comment, personal
//! details already masked) and the approved comments of a subtree, shown only where the period
//! has at least k responses, never with their time.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::server::{Filter, Frame};
use super::ReportHeader;
use crate::access::{Loaded, PageReply};
use crate::account::page::failure_alert;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShownComment {
    pub id: String,
    pub agency: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommentsPage {
    pub frame: Frame,
    pub pending: Vec<ShownComment>,
    pub waiting: u64,
    pub approved: Option<Vec<ShownComment>>,
    pub min_cell: u64,
}

#[server]
pub async fn load_comments(
    agency: Option<String>,
    from: Option<String>,
    to: Option<String>,
    basis: Option<String>,
    compare: Option<String>,
) -> Result<PageReply<CommentsPage>, ServerFnError> {
    use super::server::ssr::{resolve, Resolved};
    let Resolved { state, frame, days, .. } = match resolve(Filter { agency, from, to, basis, compare }).await? {
        Ok(resolved) => resolved,
        Err(refusal) => return Ok(refusal),
    };
    let view =
        state.comments(&frame.agency.code, days.as_ref(), frame.is_admin).await.map_err(crate::service::internal)?;
    let name =
        |code: &str| frame.agencies.iter().find(|a| a.code == code).map_or_else(|| code.to_owned(), |a| a.name.clone());
    // A response's id goes only to the admin's moderation queue, which needs it for its buttons:
    // the approved list reaches managers, and their page's data carries no id.
    let shown = |comments: Vec<crate::storage::StoredComment>, with_id: bool| -> Vec<ShownComment> {
        comments
            .into_iter()
            .map(|c| ShownComment {
                agency: name(&c.agency_code),
                id: if with_id { c.response_id } else { String::new() },
                text: c.text,
            })
            .collect()
    };
    Ok(PageReply::Ready(CommentsPage {
        pending: shown(view.pending, true),
        waiting: view.waiting,
        approved: view.approved.map(|approved| shown(approved, false)),
        min_cell: state.settings.min_cell,
        frame,
    }))
}

#[server]
pub async fn moderate_comment(id: String, approve: bool, back: String) -> Result<(), ServerFnError> {
    use crate::domain::access::Action;
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, Action::Administer).await?;
    match state.moderate_comment(&access.actor(), &id, approve).await {
        Ok(true) => {
            // Back to the same filter; only paths of this page are followed.
            let back = if back.starts_with("/admin/comments") { back } else { "/admin/comments".into() };
            leptos_axum::redirect(&back);
            Ok(())
        }
        Ok(false) => crate::service::refuse(axum::http::StatusCode::NOT_FOUND, "Không có ý kiến này."),
        Err(error) => Err(crate::service::internal(error)),
    }
}

#[component]
pub fn CommentsPage() -> impl IntoView {
    let query = use_query_map();
    let moderate = ServerAction::<ModerateComment>::new();
    let page = Resource::new_blocking(
        move || (query.with(Filter::of), moderate.version().get()),
        |(f, _)| load_comments(f.agency, f.from, f.to, f.basis, f.compare),
    );
    view! {
        <Title text="Ý kiến người dân — Chỉ số hài lòng" />
        <main class="admin report">
            <Loaded data=page ready={move |p: CommentsPage| view! { <CommentsView page=p moderate=moderate /> }.into_any()} />
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
fn CommentsView(page: CommentsPage, moderate: ServerAction<ModerateComment>) -> impl IntoView {
    let CommentsPage { frame, pending, waiting, approved, min_cell } = page;
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
