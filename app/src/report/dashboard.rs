//! `/admin`: the dashboard of one agency subtree — overall index with its interval and the
//! targets, the five elements, the 16 criteria, the trend, kiosk against link, the previous
//! period beside this one, and what citizens want improved first.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::chart::{BarChart, TrendChart};
use super::download::DownloadLink;
use super::format::{capitalised, decimal, interval, percent, points};
use super::server::{report_dashboard, Dashboard, Filter, Labelled};
use super::ReportHeader;
use crate::access::Loaded;
use crate::domain::index::CriterionIndex;
use crate::domain::report::{change, ExpectationShare};
use crate::domain::weighting::Weighted;
use crate::domain::{Questionnaire, SatisfactionIndex};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = use_query_map();
    let dashboard = Resource::new_blocking(move || query.with(Filter::of), report_dashboard);
    view! {
        <Title text="Chỉ số hài lòng — Tổng quan" />
        <main class="admin report">
            <Loaded data=dashboard ready={|d: Dashboard| view! { <DashboardView dashboard=d /> }.into_any()} />
        </main>
    }
}

pub fn element_title(questionnaire: &Questionnaire, code: &str) -> String {
    questionnaire.elements.iter().find(|e| e.code == code).map(|e| e.title.clone()).unwrap_or_default()
}

#[component]
fn DashboardView(dashboard: Dashboard) -> impl IntoView {
    let Dashboard {
        frame,
        index,
        interval: overall_interval,
        weighted,
        previous,
        channels,
        months,
        quarters,
        expectations,
        today,
        targets,
        questionnaire,
    } = dashboard;
    let agency_name = frame.agency.name.clone();
    let element_minimum = frame.element_minimum;
    let query = frame.query();
    let element_bars: Vec<(String, Option<f64>, Option<[f64; 2]>)> = index
        .elements
        .iter()
        .map(|e| (format!("{}. {}", e.code, element_title(&questionnaire, &e.code)), e.index, e.interval()))
        .collect();
    let side_by_side = previous.map(|before| {
        let rows = index
            .elements
            .iter()
            .zip(&before.index.elements)
            .map(|(now, then)| {
                view! {
                    <tr>
                        <th scope="row">{format!("{}. {}", now.code, element_title(&questionnaire, &now.code))}</th>
                        <td class="num">{percent(then.index)}</td>
                        <td class="num">{percent(now.index)}</td>
                        <td class="num">{points(change(now.index, then.index))}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <section>
                <h2>{format!("So với {}", before.label)}</h2>
                <table class="compare">
                    <thead>
                        <tr><th>""</th><th>{capitalised(&before.label)}</th><th>"Kỳ này"</th><th>"Thay đổi (điểm %)"</th></tr>
                    </thead>
                    <tbody>
                        <tr>
                            <th scope="row">"Chỉ số chung"</th>
                            <td class="num">{percent(before.index.overall)}</td>
                            <td class="num">{percent(index.overall)}</td>
                            <td class="num">{points(change(index.overall, before.index.overall))}</td>
                        </tr>
                        <tr>
                            <th scope="row">"Số phiếu"</th>
                            <td class="num">{before.index.responses}</td>
                            <td class="num">{index.responses}</td>
                            <td></td>
                        </tr>
                        {rows}
                    </tbody>
                </table>
            </section>
        }
    });
    let channel_rows = labelled_rows(&channels);
    let quarter_rows = labelled_rows(&quarters);
    let month_points: Vec<(String, Option<f64>)> = months.iter().map(|m| (m.label.clone(), m.index.overall)).collect();
    let target_text = targets
        .iter()
        .map(|t| format!("≥ {} vào năm {}", percent(Some(t.percent)), t.year))
        .collect::<Vec<_>>()
        .join("; ");
    view! {
        <ReportHeader frame=frame title="Chỉ số hài lòng" action="/admin" extra=().into_any() />
        <p class="today" id="today-count">
            "Hôm nay đã nhận "<strong>{today}</strong>" phiếu (chỉ hiện số lượng cho tới khi hết ngày)."
        </p>
        <section class="overall">
            <h2>{agency_name}</h2>
            <p>
                "Chỉ số hài lòng chung (SIPAS): "
                <strong id="overall-index">{percent(index.overall)}</strong>
                " · khoảng tin cậy 95%: "<span id="overall-interval">{interval(overall_interval)}</span>
                " · "<span id="response-count">{index.responses}</span>" phiếu"
            </p>
            {weighted.map(|w| weighted_note(&w))}
            {left_out_note(&index, element_minimum)}
            {index.withheld.clone().map(|why| view! {
                <p class="withheld" id="withheld" role="note">
                    {format!("Không công bố chỉ số: {why}, để không ai đọc được câu trả lời của từng người.")}
                </p>
            })}
            <p class="note">"Mục tiêu của tỉnh: "{target_text}"."</p>
            <BarChart title="Chỉ số theo yếu tố".into() rows=element_bars targets=targets.clone() />
            <ul class="elements">
                {index
                    .elements
                    .iter()
                    .map(|e| {
                        view! {
                            <li class="element-card">
                                <span class="code">{e.code.clone()}</span>
                                <span class="title">{element_title(&questionnaire, &e.code)}</span>
                                <strong data-element=e.code.clone()>{percent(e.index)}</strong>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
        {side_by_side}
        <section>
            <h2>"Theo tiêu chí"</h2>
            <CriteriaTable index=index.clone() questionnaire=questionnaire.clone() />
        </section>
        <section>
            <h2>"Diễn biến theo tháng"</h2>
            <TrendChart title="Chỉ số hài lòng chung theo tháng".into() points=month_points targets=targets />
            <h3>"Theo quý"</h3>
            <table class="trend" id="quarters">
                <thead><tr><th>"Quý"</th><th>"Chỉ số chung"</th><th>"Khoảng tin cậy 95%"</th><th>"Số phiếu"</th></tr></thead>
                <tbody>{quarter_rows}</tbody>
            </table>
        </section>
        <section>
            <h2>"Kiosk và đường liên kết"</h2>
            <table class="channels" id="channels">
                <thead><tr><th>"Kênh"</th><th>"Chỉ số chung"</th><th>"Khoảng tin cậy 95%"</th><th>"Số phiếu"</th></tr></thead>
                <tbody>{channel_rows}</tbody>
            </table>
        </section>
        <section>
            <h2>"Sự mong đợi: người dân muốn cải thiện điều gì trước"</h2>
            <ExpectationsTable expectations=expectations questionnaire=questionnaire.clone() />
        </section>
        <ExportLinks query=query responses=index.responses />
    }
}

/// Downloads of this report's tables and of the responses behind it, and the printable report.
#[component]
fn ExportLinks(query: String, responses: u64) -> impl IntoView {
    let files = [
        ("criteria", "Chỉ số theo tiêu chí"),
        ("expectations", "Sự mong đợi"),
        ("ranking", "Xếp hạng sở, ban, ngành"),
        ("responses", "Phiếu trả lời (mỗi phiếu một dòng)"),
    ];
    let links = files
        .into_iter()
        .map(|(name, label)| {
            let link = |ext: &str, text: &'static str| {
                // Only the responses file grows with the period; the tables are a few rows.
                let rows = if name == "responses" { responses } else { 0 };
                view! {
                    <DownloadLink
                        href=format!("/api/v1/exports/{name}.{ext}?{query}")
                        file=format!("{name}.{ext}")
                        rows=rows
                        label=text
                    />
                }
            };
            view! { <li>{label}": "{link("xlsx", "Excel (.xlsx)")}" · "{link("csv", "CSV")}</li> }.into_any()
        })
        .collect_view();
    view! {
        <section class="exports">
            <h2>"Xuất dữ liệu và báo cáo"</h2>
            <p><a class="button primary" href=format!("/admin/report?{query}")>"Báo cáo để in (khổ A4)"</a></p>
            <ul>{links}</ul>
            <p class="note">
                {format!("Tệp phiếu trả lời của kỳ này có {responses} dòng; khi tải, trang hiện đã nhận được bao nhiêu. ")}
                "Tệp không chứa mã phiếu, giờ trả lời hay ý kiến riêng của người trả lời."
            </p>
        </section>
    }
}

#[component]
pub fn CriteriaTable(index: SatisfactionIndex, questionnaire: Questionnaire) -> impl IntoView {
    let rows = index
        .elements
        .iter()
        .flat_map(|e| e.criteria.iter())
        .map(|c| {
            criterion_row(c, questionnaire.criteria().find(|(_, x)| x.code == c.code).map(|(_, x)| x.text.clone()))
        })
        .collect_view();
    view! {
        <table class="criteria">
            <thead>
                <tr>
                    <th>"Tiêu chí"</th><th>"Tỷ lệ hài lòng"</th><th>"Khoảng tin cậy 95%"</th>
                    <th>"Điểm TB"</th><th>"Hợp lệ"</th><th>"1"</th><th>"2"</th><th>"3"</th><th>"4"</th><th>"5"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// What citizens want improved first, ranked.
#[component]
pub fn ExpectationsTable(expectations: Vec<ExpectationShare>, questionnaire: Questionnaire) -> impl IntoView {
    let rows = expectations
        .iter()
        .map(|e| {
            let label = questionnaire
                .expectations
                .areas
                .iter()
                .find(|a| a.code == e.code)
                .map(|a| a.text.clone())
                .unwrap_or_default();
            view! {
                <tr>
                    <td class="num">{e.rank.map_or_else(|| "—".to_owned(), |r| r.to_string())}</td>
                    <td>{label}</td>
                    <td class="num">{percent(e.share)}</td>
                    <td class="num">{e.respondents}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="expectations" id="expectations">
            <thead><tr><th>"Hạng"</th><th>"Nội dung"</th><th>"Tỷ lệ mong muốn"</th><th>"Số người trả lời"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <p class="note">"Tỷ lệ mong muốn = số người chọn “Mong muốn” hoặc “Rất mong muốn” ÷ số người trả lời nội dung đó."</p>
    }
}

pub fn labelled_rows(rows: &[Labelled]) -> impl IntoView {
    rows.iter()
        .map(|row| {
            view! {
                <tr>
                    <th scope="row">{row.label.clone()}</th>
                    <td class="num">{row.index.withheld.clone().unwrap_or_else(|| percent(row.index.overall))}</td>
                    <td class="num">{interval(row.interval)}</td>
                    <td class="num">{row.index.responses}</td>
                </tr>
            }
        })
        .collect_view()
}

fn criterion_row(c: &CriterionIndex, text: Option<String>) -> impl IntoView {
    let counts = c.counts.iter().map(|n| view! { <td class="num">{*n}</td> }).collect_view();
    view! {
        <tr data-criterion=c.code.clone()>
            <td><span class="code">{c.code.clone()}</span>" "{text.unwrap_or_default()}</td>
            <td class="num index">{percent(c.index)}</td>
            <td class="num">{interval(c.ci95)}</td>
            <td class="num">{decimal(c.mean)}</td>
            <td class="num">{c.valid}</td>
            {counts}
        </tr>
    }
}

/// Which elements the overall leaves out, and why; nothing when it has all five.
pub fn left_out_note(index: &SatisfactionIndex, minimum: u64) -> Option<impl IntoView> {
    let reasons: Vec<String> = index
        .elements
        .iter()
        .filter(|e| index.left_out.contains(&e.code))
        .map(|e| match e.valid {
            0 => format!("{} (chưa có câu trả lời)", e.code),
            n => format!("{} ({n} câu trả lời)", e.code),
        })
        .collect();
    (index.overall.is_some() && !reasons.is_empty()).then(|| {
        view! {
            <p class="note" id="left-out" role="note">
                {format!(
                    "Chỉ số chung chưa tính thành phần {}: mỗi tiêu chí có trả lời của một thành phần cần ít nhất {minimum} câu trả lời hợp lệ.",
                    reasons.join(", ")
                )}
            </p>
        }
    })
}

/// The post-stratified index beside the pooled one, and what it covers; nothing for a single
/// unit, where the two are the same.
pub fn weighted_note(weighted: &Weighted) -> Option<impl IntoView> {
    let units = weighted.units + weighted.units_without_n;
    (units > 1).then(|| {
        let covered = format!(
            "tính trên {} đơn vị đã nhập số hồ sơ đã giải quyết (N = {})",
            weighted.units,
            weighted.dossiers.round()
        );
        let gap = (weighted.units_without_n > 0).then(|| {
            format!(
                "; {} đơn vị có phiếu nhưng chưa nhập N ({} phiếu) không được tính",
                weighted.units_without_n, weighted.responses_without_n
            )
        });
        let left_out = (!weighted.left_out.is_empty() && weighted.overall.is_some())
            .then(|| format!("; chưa tính thành phần {}", weighted.left_out.join(", ")));
        let channels = weighted.channel_shares.map(|shares| {
            format!("; số hồ sơ của mỗi đơn vị chia cho hai kênh khảo sát theo tỷ lệ tỉnh đặt ({})", shares.describe())
        });
        view! {
            <p class="weighted" id="weighted">
                "Chỉ số có trọng số theo số hồ sơ đã giải quyết: "
                <strong id="weighted-index">{percent(weighted.overall)}</strong>
                {format!(
                    " — mỗi đơn vị tính theo tỷ trọng hồ sơ N của mình thay vì số phiếu, {covered}{}{}{}.",
                    channels.unwrap_or_default(),
                    gap.unwrap_or_default(),
                    left_out.unwrap_or_default()
                )}
            </p>
        }
    })
}
