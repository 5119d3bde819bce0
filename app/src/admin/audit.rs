//! `/admin/audit`: the append-only audit log, newest first, filtered by actor, action and date.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::page::AdminPage;
use crate::access::PageReply;
use crate::domain::audit::AuditAction;

/// Lines per page.
pub const PAGE: u32 = 200;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub subject: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    pub rows: Vec<AuditRow>,
    /// The id to continue from, when there are older lines.
    pub older: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<String>,
}

#[server]
pub async fn load_audit(query: AuditQuery) -> Result<PageReply<AuditView>, ServerFnError> {
    use crate::domain::Period;
    use crate::storage::AuditFilter;
    let state = expect_context::<crate::service::AppState>();
    if let Err(refusal) = crate::access::guard::require(&state, crate::domain::access::Action::Administer).await? {
        return Ok(refusal);
    }
    let invalid = |message: String| {
        crate::access::request::set_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        Ok(PageReply::Invalid(message))
    };
    let period = match Period::parse(query.from.as_deref(), query.to.as_deref()) {
        Ok(period) => period,
        Err(error) => return invalid(error.to_string()),
    };
    let action = match query.action.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(code) => match AuditAction::parse(code) {
            Some(action) => Some(action),
            None => return invalid(format!("Không có loại thao tác \"{code}\".")),
        },
    };
    let before = match query.before.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        None => None,
        Some(id) => match id.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => return invalid("Tham số trang không hợp lệ.".into()),
        },
    };
    let (from, until) = period.utc_bounds();
    let filter = AuditFilter {
        actor: query.actor.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()),
        action,
        from,
        until,
        before,
    };
    let entries = state.audit_log(&filter, PAGE + 1).await.map_err(crate::service::internal)?;
    let older = (entries.len() > PAGE as usize).then(|| entries[PAGE as usize - 1].id);
    let rows = entries
        .into_iter()
        .take(PAGE as usize)
        .map(|e| AuditRow {
            id: e.id,
            at: chrono::DateTime::parse_from_rfc3339(&e.at)
                .map(|t| crate::staff::server::ssr::vietnam_time(t.with_timezone(&chrono::Utc)))
                .unwrap_or(e.at),
            actor: e.actor,
            ip: e.ip.unwrap_or_default(),
            action: e.action.label().to_owned(),
            subject: e.subject,
        })
        .collect();
    Ok(PageReply::Ready(AuditView { rows, older }))
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let current = move || {
        query.with(|q| AuditQuery {
            actor: q.get("actor"),
            action: q.get("action"),
            from: q.get("from"),
            to: q.get("to"),
            before: q.get("before"),
        })
    };
    let data = Resource::new_blocking(current, load_audit);
    let ready = move |AuditView { rows, older }| {
        let next = older.map(|id| {
            let q = current();
            let keep = |name: &str, value: Option<String>| {
                value.filter(|v| !v.is_empty()).map(|v| format!("&{name}={v}")).unwrap_or_default()
            };
            let href = format!(
                "/admin/audit?before={id}{}{}{}{}",
                keep("actor", q.actor),
                keep("action", q.action),
                keep("from", q.from),
                keep("to", q.to)
            );
            view! { <p><a href=href>"Cũ hơn →"</a></p> }
        });
        view! {
            <table class="audit">
                <thead><tr><th>"Lúc"</th><th>"Người thực hiện"</th><th>"Địa chỉ"</th><th>"Thao tác"</th><th>"Nội dung"</th></tr></thead>
                <tbody>{rows.into_iter().map(|r| view! {
                    <tr data-audit=r.id><td>{r.at}</td><td>{r.actor}</td><td>{r.ip}</td><td>{r.action}</td><td>{r.subject}</td></tr>
                }).collect_view()}</tbody>
            </table>
            {next}
        }.into_any()
    };
    view! {
        <AdminPage title="Nhật ký quản trị" heading="Nhật ký quản trị" data=data ready>
            <p class="hint">"Mọi thay đổi, đăng nhập (kể cả sai), ghép nối và thu hồi thiết bị. Nhật ký chỉ được ghi thêm, không sửa hay xóa được."</p>
            {move || {
                let q = current();
                let actions = AuditAction::ALL.iter().map(|a| {
                    view! { <option value=a.as_str() selected=q.action.as_deref() == Some(a.as_str())>{a.label()}</option> }
                }).collect_view();
                view! {
                    <form method="get" action="/admin/audit" class="filter">
                        <label><span>"Người thực hiện"</span><input type="text" name="actor" value=q.actor.clone().unwrap_or_default() /></label>
                        <label><span>"Thao tác"</span><select name="action"><option value="">"(tất cả)"</option>{actions}</select></label>
                        <label><span>"Từ ngày"</span><input type="date" name="from" value=q.from.clone().unwrap_or_default() /></label>
                        <label><span>"Đến ngày"</span><input type="date" name="to" value=q.to.clone().unwrap_or_default() /></label>
                        <button type="submit" class="primary">"Lọc"</button>
                    </form>
                }
            }}
        </AdminPage>
    }
}
