//! `/admin/outbox`: survey links for a medium that has no gateway configured. An admin reads
//! them, sends them by hand, and marks each as sent; nothing here is ever sent automatically.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::page::AdminPage;
use crate::access::PageReply;
use crate::account::page::failure_alert;

/// A message waiting for an admin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxRow {
    pub id: i64,
    /// hh:mm dd/mm/yyyy, Vietnam time.
    pub queued_at: String,
    pub medium: String,
    pub recipient: String,
    pub agency: String,
    pub dossier_code: String,
    pub text: String,
}

#[server]
pub async fn load_outbox() -> Result<PageReply<Vec<OutboxRow>>, ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    if let Err(refusal) = crate::access::guard::require(&state, crate::domain::access::Action::Administer).await? {
        return Ok(refusal);
    }
    let items = state.outbox().await.map_err(crate::service::internal)?;
    Ok(PageReply::Ready(
        items
            .into_iter()
            .map(|item| {
                let delivery = &item.pending.delivery;
                OutboxRow {
                    id: delivery.id,
                    queued_at: crate::staff::server::ssr::vietnam_time(delivery.created_at),
                    medium: delivery.medium.label().to_owned(),
                    recipient: item.pending.recipient.clone(),
                    agency: item.pending.agency_name.clone(),
                    dossier_code: item.pending.dossier_code.clone(),
                    text: item.text,
                }
            })
            .collect(),
    ))
}

#[server]
pub async fn mark_sent_by_hand(id: i64) -> Result<(), ServerFnError> {
    use axum::http::StatusCode;
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, crate::domain::access::Action::Administer).await?;
    if !state.mark_sent_by_hand(&access.actor(), id).await.map_err(crate::service::internal)? {
        return crate::service::refuse(StatusCode::NOT_FOUND, "Tin này không còn trong hộp thư đi.");
    }
    leptos_axum::redirect("/admin/outbox");
    Ok(())
}

#[component]
pub fn OutboxPage() -> impl IntoView {
    let mark = ServerAction::<MarkSentByHand>::new();
    let outbox = Resource::new_blocking(move || mark.version().get(), |_| load_outbox());
    let ready = move |rows: Vec<OutboxRow>| {
        if rows.is_empty() {
            view! { <p id="outbox-empty">"Không có tin nào chờ gửi."</p> }.into_any()
        } else {
            view! {
            <table class="outbox">
                <thead><tr><th>"Lúc"</th><th>"Cách gửi"</th><th>"Người nhận"</th><th>"Hồ sơ"</th><th>"Nội dung"</th><th></th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|row| view! {
                        <tr>
                            <td>{row.queued_at}</td>
                            <td>{row.medium}</td>
                            <td class="recipient">{row.recipient}</td>
                            <td>{row.dossier_code}<br/><small>{row.agency}</small></td>
                            <td><pre class="message">{row.text}</pre></td>
                            <td>
                                <ActionForm action=mark>
                                    <input type="hidden" name="id" value=row.id />
                                    <button type="submit">"Đã gửi"</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }.into_any()
        }
    };
    view! {
        <AdminPage title="Hộp thư đi" heading="Hộp thư đi" data=outbox ready>
            <p>"Tin gửi đường dẫn khảo sát chưa có cổng SMS hoặc máy chủ thư để gửi. Hãy gửi thủ công rồi bấm “Đã gửi”: số điện thoại, e-mail được xóa ngay sau đó. Tin chưa gửi bị hủy khi đường dẫn hết hạn hoặc người dân đã trả lời."</p>
            {move || failure_alert(mark.value().get())}
        </AdminPage>
    }
}
