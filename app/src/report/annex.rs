//! The parts of the printed report that a Sở Nội vụ submits besides the rankings: per kind of
//! unit, the spread line, the units at or above and below the year's milestone, and the annex
//! of every unit's element indices; the comparisons; the data-quality page.

use leptos::prelude::*;

use super::format::{capitalised, interval, percent, points};
use super::ranking::rank_change;
use super::server::Labelled;
use crate::domain::anomaly::Sensitivity;
use crate::domain::report::{change, Ranking, RankingRow};
use crate::domain::{Questionnaire, SatisfactionIndex};

/// The spread line and the lists against the milestone of one ranking.
#[component]
pub fn SpreadAndTarget(ranking: Ranking) -> impl IntoView {
    let kind = ranking.kind;
    let ranked = ranking.rows.iter().filter(|r| r.rank.is_some() && r.index.is_some()).count();
    let spread = ranking.spread().map(|(lowest, highest)| {
        format!(
            "Chỉ số hài lòng chung của {ranked} {} được xếp hạng từ {} ({}) đến {} ({}).",
            kind.label().to_lowercase(),
            percent(lowest.index),
            lowest.name,
            percent(highest.index),
            highest.name
        )
    });
    let (at, below) = ranking.against_target();
    let names = |rows: &[&RankingRow]| {
        if rows.is_empty() {
            "không có".to_owned()
        } else {
            rows.iter().map(|r| format!("{} ({})", r.name, percent(r.index))).collect::<Vec<_>>().join("; ")
        }
    };
    let lists = ranking.target.filter(|_| ranked > 0).map(|t| {
        let milestone = format!("mốc mục tiêu năm {} ({})", t.year, percent(Some(t.percent)));
        view! {
            <p class="at-target">{format!("Đạt {milestone}: {} đơn vị — {}.", at.len(), names(&at))}</p>
            <p class="below-target">{format!("Chưa đạt {milestone}: {} đơn vị — {}.", below.len(), names(&below))}</p>
        }
    });
    view! {
        <p class="spread" id=format!("spread-{}", kind.as_str())>
            {spread.unwrap_or_else(|| "Chưa có đơn vị nào đủ điều kiện xếp hạng.".to_owned())}
        </p>
        {lists}
    }
}

/// The annex of one kind of unit in the Ministry's layout: every unit with its five element
/// indices, overall, sample, adequacy, rank and movement.
#[component]
pub fn AnnexTable(ranking: Ranking, questionnaire: Questionnaire) -> impl IntoView {
    let heads =
        questionnaire.elements.iter().map(|e| view! { <th title=e.title.clone()>{e.code.clone()}</th> }).collect_view();
    let rows = ranking
        .rows
        .iter()
        .map(|row| {
            let elements = row.elements.iter().map(|e| view! { <td class="num">{percent(*e)}</td> }).collect_view();
            let movement = rank_change(row.rank, row.previous_rank);
            let count = |n: Option<u64>| n.map_or_else(|| "—".to_owned(), |n| n.to_string());
            let sample = if row.ranked() { row.adequacy.label().to_owned() } else { row.not_ranked_because() };
            view! {
                <tr data-code=row.code.clone()>
                    <td>{row.name.clone()}</td>
                    {elements}
                    <td class="num index">{percent(row.index)}</td>
                    <td class="num">{percent(row.weighted)}</td>
                    <td class="num">{row.responses}</td>
                    <td class="num">{count(row.dossiers)}</td>
                    <td class="num">{percent(row.response_rate)}</td>
                    <td>{sample}</td>
                    <td class="num">{row.rank.map_or_else(|| "—".to_owned(), |r| r.to_string())}</td>
                    <td class="num">{movement}</td>
                    <td class="num">{points(change(row.index, row.previous_index))}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="annex" id=format!("annex-{}", ranking.kind.as_str())>
            <caption>{format!("Phụ lục: chỉ số hài lòng của từng {}", ranking.kind.label().to_lowercase())}</caption>
            <thead>
                <tr>
                    <th>"Cơ quan, đơn vị"</th>{heads}<th>"Chỉ số chung"</th><th>"Có trọng số theo N"</th>
                    <th>"Số phiếu (n)"</th><th>"Hồ sơ (N)"</th><th>"Tỷ lệ phản hồi"</th><th>"Mẫu"</th>
                    <th>"Hạng"</th><th>"Thay đổi hạng"</th><th>"Thay đổi điểm"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// The overall index against the previous period and the same period last year.
#[component]
pub fn Comparisons(index: SatisfactionIndex, comparisons: Vec<Labelled>) -> impl IntoView {
    let rows = comparisons
        .into_iter()
        .map(|before| {
            let change = change(index.overall, before.index.overall);
            view! {
                <tr>
                    <th scope="row">{capitalised(&before.label)}</th>
                    <td class="num">{before.index.withheld.clone().unwrap_or_else(|| percent(before.index.overall))}</td>
                    <td class="num">{before.index.responses}</td>
                    <td class="num">{points(change)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="compare" id="comparisons">
            <thead>
                <tr><th>"So với"</th><th>"Chỉ số chung khi đó"</th><th>"Số phiếu"</th><th>"Kỳ này thay đổi (điểm %)"</th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// The data-quality page: how often each criterion was skipped, the mix of channels, what is
/// still provisional, and what the kiosk limits and officer flags saw.
#[component]
pub fn DataQuality(
    index: SatisfactionIndex,
    channels: Vec<Labelled>,
    questionnaire: Questionnaire,
    provisional: String,
    integrity: Option<Vec<(String, u64)>>,
    sensitivity: Option<Sensitivity>,
    min_cell: u64,
) -> impl IntoView {
    let sensitivity = sensitivity.map(|s| {
        view! {
            <h3 id="sensitivity">"Chỉ số khi bỏ các giờ kiosk bị gắn cờ"</h3>
            <p>{sensitivity_note(&s, index.overall, min_cell)}</p>
        }
    });
    let responses = index.responses;
    let share = |n: u64| (responses > 0).then(|| n as f64 / responses as f64 * 100.0);
    let skips = index
        .elements
        .iter()
        .flat_map(|e| e.criteria.iter())
        .map(|c| {
            let text = questionnaire.criteria().find(|(_, x)| x.code == c.code).map(|(_, x)| x.text.clone());
            view! {
                <tr>
                    <th scope="row">{c.code.clone()}</th>
                    <td>{text.unwrap_or_default()}</td>
                    <td class="num">{c.valid}</td>
                    <td class="num">{percent(share(responses.saturating_sub(c.valid)))}</td>
                </tr>
            }
        })
        .collect_view();
    let mix = channels
        .iter()
        .map(|c| format!("{}: {} phiếu ({})", c.label, c.index.responses, percent(share(c.index.responses))))
        .collect::<Vec<_>>()
        .join("; ");
    let flags = integrity.map(|counts| {
        let rows = counts
            .into_iter()
            .map(|(what, n)| view! { <tr><th scope="row">{what}</th><td class="num">{n}</td></tr> })
            .collect_view();
        view! {
            <h3 id="integrity-flags">"Dấu hiệu bất thường"</h3>
            <p>"Ghi nhận trong kỳ (chi tiết tại trang Kiosk của quản trị). Cờ được ghi trên thiết bị, cán bộ và lời mời, không trên phiếu trả lời: các phiếu này vẫn được tính."</p>
            <table class="integrity">
                <thead><tr><th>"Dấu hiệu"</th><th>"Số lần"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    view! {
        <section id="data-quality" class="page-break">
            <h2>"Chất lượng dữ liệu"</h2>
            <p id="channel-mix">{format!("Cơ cấu kênh khảo sát: {mix}.")}</p>
            <p id="provisional">{provisional}</p>
            <h3>"Tỷ lệ bỏ qua từng tiêu chí"</h3>
            <p>"Người trả lời được bỏ qua tiêu chí không liên quan tới mình; tỷ lệ bỏ qua cao làm chỉ số của tiêu chí dựa trên ít ý kiến hơn."</p>
            <table class="skips">
                <thead><tr><th>"Mã"</th><th>"Tiêu chí"</th><th>"Số ý kiến hợp lệ"</th><th>"Tỷ lệ bỏ qua"</th></tr></thead>
                <tbody>{skips}</tbody>
            </table>
            {flags}
            {sensitivity}
        </section>
    }
}

/// What leaving out the answers of flagged kiosk-hours does to the overall, in words.
fn sensitivity_note(s: &Sensitivity, published: Option<f64>, min_cell: u64) -> String {
    let hours = s.kiosk_hours;
    if hours == 0 {
        return "Không có giờ kiosk nào bị gắn cờ trong kỳ.".to_owned();
    }
    if s.left_out == 0 {
        return format!("Có {hours} giờ kiosk bị gắn cờ; không phiếu nào gửi trong các giờ đó được tính vào kỳ này.");
    }
    let left_out = s.left_out;
    if !Sensitivity::may_show(left_out, min_cell) {
        return format!(
            "Có {hours} giờ kiosk bị gắn cờ, gồm {left_out} phiếu được tính — dưới {min_cell} phiếu: không công bố chỉ số khi bỏ các phiếu này, vì phần chênh lệch sẽ mô tả dưới {min_cell} người."
        );
    }
    match s.overall {
        Some(overall) => format!(
            "Bỏ {left_out} phiếu gửi trong {hours} giờ kiosk bị gắn cờ, chỉ số hài lòng chung là {} (khoảng tin cậy 95%: {}), so với {} khi tính mọi phiếu. Chênh lệch lớn cho thấy kết quả phụ thuộc vào các giờ cần xem xét.",
            percent(Some(overall)),
            interval(s.ci95),
            percent(published)
        ),
        None => format!(
            "Bỏ {left_out} phiếu gửi trong {hours} giờ kiosk bị gắn cờ, phần còn lại không đủ để tính chỉ số hài lòng chung."
        ),
    }
}
