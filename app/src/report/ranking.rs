//! `/admin/rankings`: units of one kind ranked by overall index, with their movement since the
//! previous period of the same length, the gap to the target and the sample check.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::format::{day, interval, percent, points};
use super::server::{report_ranking, Filter, RankingPage as Page};
use super::ReportHeader;
use crate::access::Loaded;
use crate::domain::given::Given;
use crate::domain::report::{Ranking, RankingRow};
use crate::domain::AgencyKind;

#[component]
pub fn RankingPage() -> impl IntoView {
    let query = use_query_map();
    let page = Resource::new_blocking(
        move || query.with(|q| (Given::from_text(q.get("kind")), Filter::of(q))),
        |(kind, f)| report_ranking(kind, f),
    );
    view! {
        <Title text="Xếp hạng — Chỉ số hài lòng" />
        <main class="admin report">
            <Loaded data=page ready={|p: Page| view! { <RankingView page=p /> }.into_any()} />
        </main>
    }
}

#[component]
fn RankingView(page: Page) -> impl IntoView {
    let Page { frame, ranking } = page;
    let chosen = ranking.as_ref().map(|r| r.kind);
    let kind_select = view! {
        <label>
            <span>"Loại đơn vị"</span>
            <select name="kind">
                {AgencyKind::RANKED
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
    let Ranking {
        kind,
        comparison,
        previous_from,
        previous_to,
        target,
        ranking_floor: floor,
        element_minimum,
        rows,
        movement,
        restated_splits,
        channel_shares,
        ..
    } = ranking;
    let target_head = target.map_or_else(
        || "So với mục tiêu".to_owned(),
        |t| format!("So với mốc năm {} ({})", t.year, percent(Some(t.percent))),
    );
    let previous = match (previous_from, previous_to) {
        (Some(from), Some(to)) => format!("{} ({} – {})", comparison.label(), day(&from), day(&to)),
        _ => comparison.label().to_owned(),
    };
    let summary = format!(
        "So với {previous}: {} đơn vị tăng điểm, {} giảm điểm; {} tăng hạng, {} giảm hạng, {} giữ nguyên hạng.",
        movement.score_rose, movement.score_fell, movement.rank_climbed, movement.rank_fell, movement.rank_kept
    );
    let (ranked, unranked): (Vec<RankingRow>, Vec<RankingRow>) = rows.into_iter().partition(RankingRow::ranked);
    let unknown_n = ranked.iter().filter(|r| r.dossiers.is_none()).count();
    let body = ranked.into_iter().map(ranking_row).collect_view();
    let waiting = (!unranked.is_empty()).then(|| {
        let count = unranked.len();
        let rows = unranked.into_iter().map(unranked_row).collect_view();
        view! {
            <h3>{format!("Chưa xếp hạng: chưa đủ mẫu hoặc thiếu thành phần ({count} đơn vị)")}</h3>
            <table class="ranking" id="unranked">
                <thead>
                    <tr>
                        <th>"Cơ quan, đơn vị"</th><th>"Chỉ số chung"</th><th>"Số phiếu"</th>
                        <th>"Hồ sơ đã giải quyết (N)"</th><th>"Cỡ mẫu tối thiểu"</th><th>"Tỷ lệ phản hồi"</th><th>"Lý do"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let splits = (!restated_splits.is_empty()).then(|| {
        let notes = restated_splits.iter().map(|s| view! { <li>{s.note()}</li> }).collect_view();
        view! { <ul class="note restated-splits">{notes}</ul> }
    });
    view! {
        <section>
            <h2>{format!("Xếp hạng {}", kind.label())}</h2>
            <p id="movement">{summary}</p>
            <table class="ranking" id="ranking">
                <thead>
                    <tr>
                        <th>"Hạng"</th><th>"Cơ quan, đơn vị"</th><th>"Chỉ số chung"</th><th>"Khoảng tin cậy 95%"</th>
                        <th>"Có trọng số theo N"</th>
                        <th>"Nhóm"</th><th>"Số phiếu"</th><th>"Hạng kỳ so sánh"</th><th>"Thay đổi"</th><th>{target_head}</th>
                        <th>"Cỡ mẫu tối thiểu (N)"</th><th>"Tỷ lệ phản hồi"</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
            <p class="note">
                "Xếp hạng và tăng, giảm tính trên chỉ số làm tròn hai chữ số thập phân như đã hiển thị: đơn vị hiển thị bằng nhau được xếp đồng hạng. "
                "Các đơn vị cùng “Nhóm” có khoảng tin cậy 95% chồng lên khoảng của đơn vị đứng đầu nhóm: chênh lệch giữa chúng có thể chưa có ý nghĩa thống kê. "
                "Xếp hạng theo chỉ số chung (gộp mọi phiếu như công thức của Bộ); cột “Có trọng số theo N” tính mỗi cơ quan, đơn vị trực thuộc theo tỷ trọng số hồ sơ đã giải quyết, bỏ qua đơn vị chưa nhập N"
                {channel_shares.map(|shares| format!("; số hồ sơ của mỗi đơn vị chia cho hai kênh khảo sát theo tỷ lệ tỉnh đặt ({})", shares.describe()))}
                ". "
                "Mốc mục tiêu của năm lấy theo mục tiêu tỉnh đặt cho năm đó, hoặc nội suy tuyến tính giữa hai mục tiêu liền kề. "
                "Chỉ xếp hạng đơn vị đủ mẫu: số phiếu đạt cỡ mẫu tối thiểu n = N ÷ (1 + N × 0,05²), N là số hồ sơ đã giải quyết trong kỳ do tỉnh nhập; "
                "đơn vị chưa nhập N cần ít nhất "{floor}" phiếu. "
                "Chỉ số chung chỉ tính các thành phần mà mỗi tiêu chí có trả lời đều có ít nhất "{element_minimum}" câu trả lời hợp lệ; "
                "đơn vị có chỉ số chung thiếu thành phần không xếp hạng cùng đơn vị đủ năm thành phần. "
                {(unknown_n > 0).then(|| format!("{unknown_n} đơn vị được xếp hạng chưa có N (ghi “chưa nhập N”)."))}
            </p>
            {splits}
            {waiting}
        </section>
    }
}

/// A unit below its minimum sample (or the floor): its figures, and why it is not ranked.
fn unranked_row(row: RankingRow) -> impl IntoView {
    let count = |n: Option<u64>| n.map_or_else(|| "chưa nhập".to_owned(), |n| n.to_string());
    let because = row.not_ranked_because();
    view! {
        <tr data-code=row.code.clone() class="below-minimum">
            <td>{row.name}</td>
            <td class="num index">{percent(row.index)}</td>
            <td class="num">{row.responses}</td>
            <td class="num">{count(row.dossiers)}</td>
            <td class="num">{row.minimum_sample.map_or_else(|| "—".to_owned(), |n| n.to_string())}</td>
            <td class="num">{percent(row.response_rate)}</td>
            <td>{because}</td>
        </tr>
    }
}

/// Places climbed or lost since the period compared with: `↑ 2`, `↓ 1`, `=`, or `—`.
pub fn rank_change(rank: Option<usize>, previous: Option<usize>) -> String {
    match (rank, previous) {
        (Some(now), Some(before)) if now < before => format!("↑ {}", before - now),
        (Some(now), Some(before)) if now > before => format!("↓ {}", now - before),
        (Some(_), Some(_)) => "=".to_owned(),
        _ => "—".to_owned(),
    }
}

fn ranking_row(row: RankingRow) -> impl IntoView {
    let place = |p: Option<usize>| p.map_or_else(|| "—".to_owned(), |n| n.to_string());
    let change = rank_change(row.rank, row.previous_rank);
    let sample = match (row.minimum_sample, row.dossiers) {
        (Some(minimum), Some(n)) => format!("{minimum} (N = {n})"),
        _ => "chưa nhập N".to_owned(),
    };
    view! {
        <tr data-code=row.code.clone()>
            <td class="num rank">{place(row.rank)}</td>
            <td>{row.name}</td>
            <td class="num index">{percent(row.index)}</td>
            <td class="num">{interval(row.ci95)}</td>
            <td class="num weighted">{percent(row.weighted)}</td>
            <td class="num group">{place(row.overlap_group)}</td>
            <td class="num">{row.responses}</td>
            <td class="num">{place(row.previous_rank)}</td>
            <td class="num change">{change}</td>
            <td class="num">{points(row.gap_to_target)}</td>
            <td class="num">{sample}</td>
            <td class="num">{percent(row.response_rate)}</td>
        </tr>
    }
}
