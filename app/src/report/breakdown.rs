//! `/admin/breakdowns`: one agency subtree split by channel, service point or a profile
//! question; cells under k responses, and enough others to protect them, are hidden.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::format::percent;
use super::server::{report_breakdown, BreakdownPage as Page, Filter};
use super::ReportHeader;
use crate::access::Loaded;

#[component]
pub fn BreakdownPage() -> impl IntoView {
    let query = use_query_map();
    let page =
        Resource::new_blocking(move || query.with(|q| (q.get("by"), Filter::of(q))), |(by, f)| report_breakdown(by, f));
    view! {
        <Title text="Phân tổ — Chỉ số hài lòng" />
        <main class="admin report">
            <Loaded data=page ready={|p: Page| view! { <BreakdownView page=p /> }.into_any()} />
        </main>
    }
}

#[component]
fn BreakdownView(page: Page) -> impl IntoView {
    let Page { frame, choices, by, rows, min_cell } = page;
    let title = choices.iter().find(|(code, _)| *code == by).map(|(_, label)| label.clone()).unwrap_or_default();
    let by_select = view! {
        <label>
            <span>"Phân tổ theo"</span>
            <select name="by">
                {choices
                    .into_iter()
                    .map(|(code, label)| view! { <option value=code.clone() selected=code == by>{label}</option> })
                    .collect_view()}
            </select>
        </label>
    }
    .into_any();
    let body = rows
        .into_iter()
        .map(|row| {
            let (responses, index) = if row.suppressed {
                ("Ẩn".to_owned(), "Ẩn".to_owned())
            } else {
                (row.responses.map_or_else(|| "—".to_owned(), |n| n.to_string()), percent(row.index))
            };
            view! {
                <tr data-value=row.value class:suppressed=row.suppressed>
                    <th scope="row">{row.label}</th>
                    <td class="num">{responses}</td>
                    <td class="num">{index}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <ReportHeader frame=frame title="Phân tổ kết quả" action="/admin/breakdowns" extra=by_select />
        <section>
            <h2>{title}</h2>
            <table class="breakdown" id="breakdown">
                <thead><tr><th>"Nhóm"</th><th>"Số phiếu"</th><th>"Chỉ số chung"</th></tr></thead>
                <tbody>{body}</tbody>
            </table>
            <p class="note">
                {format!("Để không ai nhận ra câu trả lời của một người, nhóm có dưới {min_cell} phiếu được ẩn, cùng với nhóm nhỏ nhất kế tiếp để không suy ra được từ tổng số.")}
            </p>
        </section>
    }
}
