//! Admin components: the filter, the indices of one agency subtree, the sibling ranking.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::nav::AdminNav;
use super::server::{admin_dashboard, Dashboard};
use crate::access::{page_reply, LogOutButton};
use crate::domain::index::CriterionIndex;

/// Two decimals, Vietnamese style (comma), "—" when there is no value.
pub fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}%").replace('.', ","))
}

fn decimal(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}").replace('.', ","))
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let query = use_query_map();
    let dashboard = Resource::new_blocking(
        move || query.with(|q| (q.get("agency"), q.get("from"), q.get("to"))),
        |(agency, from, to)| admin_dashboard(agency, from, to),
    );
    view! {
        <Title text="Chỉ số hài lòng — Quản trị" />
        <main class="admin">
            <Suspense fallback=|| view! { <p>"Đang tải…"</p> }>
                {move || Suspend::new(async move {
                    page_reply(dashboard.await, |d| view! { <DashboardView dashboard=d /> }.into_any())
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn DashboardView(dashboard: Dashboard) -> impl IntoView {
    let Dashboard { agencies, agency, from, to, index, questionnaire, ranking, username, is_admin } = dashboard;
    let nav = is_admin.then(|| view! { <AdminNav /> });
    let options = agencies
        .iter()
        .map(|a| {
            let depth = std::iter::successors(a.parent.as_ref(), |p| {
                agencies.iter().find(|x| &x.code == *p).and_then(|x| x.parent.as_ref())
            })
            .count();
            let label = format!("{}{}", "— ".repeat(depth), a.name);
            view! { <option value=a.code.clone() selected=a.code == agency.code>{label}</option> }
        })
        .collect_view();
    let elements = index
        .elements
        .iter()
        .map(|e| {
            let title =
                questionnaire.elements.iter().find(|x| x.code == e.code).map(|x| x.title.clone()).unwrap_or_default();
            view! {
                <li class="element-card">
                    <span class="code">{e.code.clone()}</span>
                    <span class="title">{title}</span>
                    <strong data-element=e.code.clone()>{percent(e.index)}</strong>
                </li>
            }
        })
        .collect_view();
    let criteria = index
        .elements
        .iter()
        .flat_map(|e| e.criteria.iter())
        .map(|c| {
            criterion_row(c, questionnaire.criteria().find(|(_, x)| x.code == c.code).map(|(_, x)| x.text.clone()))
        })
        .collect_view();
    let ranking_rows = ranking
        .into_iter()
        .map(|r| {
            let current = r.code == agency.code;
            view! {
                <tr class:current=current>
                    <td>{r.rank.map_or_else(|| "—".to_owned(), |n| n.to_string())}</td>
                    <td><a href=format!("/admin?agency={}&from={from}&to={to}", r.code)>{r.name}</a></td>
                    <td class="num">{percent(r.overall)}</td>
                    <td class="num">{r.responses}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {nav}
        <header class="admin-header">
            <h1>"Chỉ số hài lòng"</h1>
            <div class="who">
                <span>{username}</span>
                {(!is_admin).then(|| view! { " · "<a href="/account/password">"Đổi mật khẩu"</a><LogOutButton /> })}
            </div>
            <form method="get" action="/admin" class="filter">
                <label><span>"Cơ quan, đơn vị"</span><select name="agency">{options}</select></label>
                <label><span>"Từ ngày"</span><input type="date" name="from" value=from.clone() /></label>
                <label><span>"Đến ngày"</span><input type="date" name="to" value=to.clone() /></label>
                <button type="submit" class="primary">"Xem"</button>
            </form>
        </header>
        <section class="overall">
            <h2>{agency.name.clone()}</h2>
            <p>
                "Chỉ số hài lòng chung (SIPAS): "
                <strong id="overall-index">{percent(index.overall)}</strong>
                " · "<span id="response-count">{index.responses}</span>" phiếu"
            </p>
            <ul class="elements">{elements}</ul>
        </section>
        <section>
            <h2>"Theo tiêu chí"</h2>
            <table class="criteria">
                <thead>
                    <tr>
                        <th>"Tiêu chí"</th><th>"Tỷ lệ hài lòng"</th><th>"Khoảng tin cậy 95%"</th>
                        <th>"Điểm TB"</th><th>"Hợp lệ"</th><th>"1"</th><th>"2"</th><th>"3"</th><th>"4"</th><th>"5"</th>
                    </tr>
                </thead>
                <tbody>{criteria}</tbody>
            </table>
        </section>
        <section>
            <h2>"Xếp hạng các đơn vị cùng cấp"</h2>
            <table class="ranking">
                <thead><tr><th>"Hạng"</th><th>"Cơ quan, đơn vị"</th><th>"Chỉ số chung"</th><th>"Số phiếu"</th></tr></thead>
                <tbody>{ranking_rows}</tbody>
            </table>
            <p class="note">"Đơn vị có chỉ số bằng nhau được xếp đồng hạng. Khoảng tin cậy rộng nghĩa là còn ít phiếu: chênh lệch nhỏ giữa các đơn vị có thể chưa có ý nghĩa."</p>
        </section>
    }
}

fn criterion_row(c: &CriterionIndex, text: Option<String>) -> impl IntoView {
    let interval =
        c.ci95.map_or_else(|| "—".to_owned(), |[lo, hi]| format!("{} – {}", percent(Some(lo)), percent(Some(hi))));
    let counts = c.counts.iter().map(|n| view! { <td class="num">{*n}</td> }).collect_view();
    view! {
        <tr data-criterion=c.code.clone()>
            <td><span class="code">{c.code.clone()}</span>" "{text.unwrap_or_default()}</td>
            <td class="num index">{percent(c.index)}</td>
            <td class="num">{interval}</td>
            <td class="num">{decimal(c.mean)}</td>
            <td class="num">{c.valid}</td>
            {counts}
        </tr>
    }
}
