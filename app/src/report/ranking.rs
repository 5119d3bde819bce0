//! `/admin/rankings`: units of one kind ranked by overall index, with their movement since the
//! previous period of the same length, the gap to the target and the sample check.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::format::{day, interval, percent, points};
use super::server::{report_ranking, RankingPage as Page};
use super::ReportHeader;
use crate::access::page_reply;
use crate::domain::report::{Ranking, RankingRow};

#[component]
pub fn RankingPage() -> impl IntoView {
    let query = use_query_map();
    let page = Resource::new_blocking(
        move || query.with(|q| (q.get("kind"), q.get("agency"), q.get("from"), q.get("to"), q.get("basis"))),
        |(kind, agency, from, to, basis)| report_ranking(kind, agency, from, to, basis),
    );
    view! {
        <Title text="Xếp hạng — Chỉ số hài lòng" />
        <main class="admin report">
            <Suspense fallback=|| view! { <p>"Đang tải…"</p> }>
                {move || Suspend::new(async move { page_reply(page.await, |p| view! { <RankingView page=p /> }.into_any()) })}
            </Suspense>
        </main>
    }
}

#[component]
fn RankingView(page: Page) -> impl IntoView {
    let Page { frame, kinds, ranking } = page;
    let chosen = ranking.as_ref().map(|r| r.kind);
    let kind_select = view! {
        <label>
            <span>"Loại đơn vị"</span>
            <select name="kind">
                {kinds
                    .into_iter()
                    .map(|k| view! { <option value=k.as_str() selected=Some(k) == chosen>{k.label()}</option> })
                    .collect_view()}
            </select>
        </label>
    }
    .into_any();
    view! {
        <ReportHeader frame=frame title="Xếp hạng đơn vị" action="/admin/rankings" extra=kind_select />
        {ranking.map(|r| view! { <RankingTable ranking=r /> })}
    }
}

/// The ranking table with the Ministry's movement summary; also used by the printable report.
#[component]
pub fn RankingTable(ranking: Ranking) -> impl IntoView {
    let Ranking { kind, previous_from, previous_to, target, rows, movement, .. } = ranking;
    let target_head = target.map_or_else(
        || "So với mục tiêu".to_owned(),
        |t| format!("So với mục tiêu {} ({})", t.year, percent(Some(t.percent))),
    );
    let previous = match (previous_from, previous_to) {
        (Some(from), Some(to)) => format!("kỳ trước ({} – {})", day(&from), day(&to)),
        _ => "kỳ trước".to_owned(),
    };
    let summary = format!(
        "So với {previous}: {} đơn vị tăng điểm, {} giảm điểm; {} tăng hạng, {} giảm hạng, {} giữ nguyên hạng.",
        movement.score_rose, movement.score_fell, movement.rank_climbed, movement.rank_fell, movement.rank_kept
    );
    let flagged = rows.iter().filter(|r| r.below_minimum).count();
    let body = rows.into_iter().map(ranking_row).collect_view();
    view! {
        <section>
            <h2>{format!("Xếp hạng {}", kind.label())}</h2>
            <p id="movement">{summary}</p>
            <table class="ranking" id="ranking">
                <thead>
                    <tr>
                        <th>"Hạng"</th><th>"Cơ quan, đơn vị"</th><th>"Chỉ số chung"</th><th>"Khoảng tin cậy 95%"</th>
                        <th>"Số phiếu"</th><th>"Hạng kỳ trước"</th><th>"Thay đổi"</th><th>{target_head}</th>
                        <th>"Cỡ mẫu tối thiểu"</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
            <p class="note">
                "Đơn vị có chỉ số bằng nhau được xếp đồng hạng. Khoảng tin cậy chồng lên nhau nghĩa là chênh lệch có thể chưa có ý nghĩa. "
                "Cỡ mẫu tối thiểu n = N ÷ (1 + N × 0,05²), N là số hồ sơ đã gửi phiếu trong kỳ. "
                {(flagged > 0).then(|| format!("{flagged} đơn vị chưa đủ mẫu (đánh dấu ⚠)."))}
            </p>
        </section>
    }
}

fn ranking_row(row: RankingRow) -> impl IntoView {
    let place = |p: Option<usize>| p.map_or_else(|| "—".to_owned(), |n| n.to_string());
    let change = match (row.rank, row.previous_rank) {
        (Some(now), Some(before)) if now < before => format!("↑ {}", before - now),
        (Some(now), Some(before)) if now > before => format!("↓ {}", now - before),
        (Some(_), Some(_)) => "=".to_owned(),
        _ => "—".to_owned(),
    };
    let sample = if row.dossiers == 0 {
        "—".to_owned()
    } else {
        format!("{} (N = {}){}", row.minimum_sample, row.dossiers, if row.below_minimum { " ⚠" } else { "" })
    };
    view! {
        <tr data-code=row.code.clone() class:below-minimum=row.below_minimum>
            <td class="num rank">{place(row.rank)}</td>
            <td>{row.name}</td>
            <td class="num index">{percent(row.index)}</td>
            <td class="num">{interval(row.ci95)}</td>
            <td class="num">{row.responses}</td>
            <td class="num">{place(row.previous_rank)}</td>
            <td class="num change">{change}</td>
            <td class="num">{points(row.gap_to_target)}</td>
            <td class="num">{sample}</td>
        </tr>
    }
}
