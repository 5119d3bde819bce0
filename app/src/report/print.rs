//! `/admin/report`: the document a Sở Nội vụ attaches to its official report, laid out for A4:
//! method and sample, overall and elements with intervals, rankings, expectations, trends and
//! targets. The same tables are in the JSON API and the exports.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::annex::{AnnexTable, Comparisons, DataQuality, SpreadAndTarget};
use super::chart::TrendChart;
use super::dashboard::{element_title, labelled_rows, left_out_note, weighted_note, CriteriaTable, ExpectationsTable};
use super::format::{day, interval, percent, points};
use super::ranking::RankingTable;
use super::server::{report_print, Filter, PrintedReport};
use crate::access::Loaded;
use crate::domain::report::shown;

#[component]
pub fn PrintPage() -> impl IntoView {
    let query = use_query_map();
    let report = Resource::new_blocking(move || query.with(Filter::of), report_print);
    view! {
        <Title text="Báo cáo kết quả đo lường sự hài lòng" />
        <main class="admin printed-report">
            <Loaded data=report ready={|r: PrintedReport| view! { <PrintView report=r /> }.into_any()} />
        </main>
    }
}

#[component]
fn PrintView(report: PrintedReport) -> impl IntoView {
    let PrintedReport {
        dashboard,
        rankings,
        comparisons,
        dossiers,
        printed_on,
        integrity,
        sensitivity,
        links,
        min_cell,
    } = report;
    let frame = dashboard.frame.clone();
    let late = crate::domain::submission::MAX_DAYS_LATE;
    let provisional = format!(
        "Số liệu chỉ gồm những ngày đã chốt; {late} ngày gần nhất còn tạm thời (kiosk mất mạng có thể gửi phiếu muộn tới {late} ngày) và chưa có trong báo cáo. Phiếu được công bố theo đợt của {} phiếu: phiếu chưa đủ đợt được tính vào kỳ sau.",
        frame.min_cell
    );
    let index = dashboard.index.clone();
    let q = dashboard.questionnaire.clone();
    let period = match &frame.covered {
        Some((from, to)) => format!("từ ngày {} đến ngày {}", day(from), day(to)),
        None => "chưa có ngày nào được chốt".to_owned(),
    };
    let channels = dashboard
        .channels
        .iter()
        .map(|c| format!("{}: {} phiếu", c.label, c.index.responses))
        .collect::<Vec<_>>()
        .join("; ");
    let sample = match dossiers {
        Some(dossiers) => {
            let minimum = crate::domain::index::minimum_sample(dossiers);
            let rate = if dossiers > 0 {
                format!(", tỷ lệ phản hồi {}", percent(Some(index.responses as f64 / dossiers as f64 * 100.0)))
            } else {
                String::new()
            };
            format!(
                "Trong kỳ có {dossiers} hồ sơ đã giải quyết (N, số tỉnh nhập){rate}; cỡ mẫu tối thiểu n = N ÷ (1 + N × 0,05²) = {minimum} phiếu — {}.",
                if index.responses >= minimum { "đã đạt" } else { "chưa đạt" }
            )
        }
        None => "Chưa nhập đủ số hồ sơ đã giải quyết trong kỳ (N) cho các đơn vị có phiếu: không tính được cỡ mẫu tối thiểu (n = N ÷ (1 + N × 0,05²)) và tỷ lệ phản hồi; số phiếu khảo sát gửi đi không thay được N.".to_owned(),
    };
    let target = dashboard
        .targets
        .iter()
        .map(|t| format!("≥ {} vào năm {}", percent(Some(t.percent)), t.year))
        .collect::<Vec<_>>()
        .join("; ");
    let element_rows = index
        .elements
        .iter()
        .map(|e| {
            view! {
                <tr>
                    <th scope="row">{format!("{}. {}", e.code, element_title(&q, &e.code))}</th>
                    <td class="num">{percent(e.index)}</td>
                    <td class="num">{interval(e.interval())}</td>
                </tr>
            }
        })
        .collect_view();
    let year = frame.covered.as_ref().and_then(|(_, to)| to.get(..4)?.parse().ok());
    let gaps = year.and_then(|year| crate::domain::report::milestone(&dashboard.targets, year)).map_or_else(
        || "tỉnh chưa đặt mục tiêu".to_owned(),
        |t| {
            format!(
                "so với mốc mục tiêu năm {} ({}): {} điểm %",
                t.year,
                percent(Some(t.percent)),
                points(index.overall.map(|i| shown(i) - t.percent))
            )
        },
    );
    let month_points: Vec<(String, Option<f64>)> =
        dashboard.months.iter().map(|m| (m.label.clone(), m.index.overall)).collect();
    let print = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    view! {
        <p class="no-print">
            <a href=format!("/admin?{}", frame.query())>"← Về trang chỉ số"</a>" · "
            <button type="button" class="primary" on:click=print>"In báo cáo"</button>
            <span class="note">" (hoặc Ctrl+P)"</span>" · "
            <a href=format!("/api/v1/exports/report.xlsx?{}", frame.query()) download="bao-cao.xlsx">
                "Tải báo cáo dạng Excel (XLSX)"
            </a>
        </p>
        <header class="report-title">
            <p class="issuer">{frame.agency.name.clone()}</p>
            <h1>"Báo cáo kết quả đo lường sự hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan hành chính nhà nước"</h1>
            <p>{format!("Kỳ báo cáo: {period}. Lập ngày {printed_on}.")}</p>
        </header>
        <section>
            <h2>"1. Phương pháp và mẫu khảo sát"</h2>
            <p>{format!("Phiếu khảo sát “{}” (phiên bản {}): 5 yếu tố, {} tiêu chí, thang đo 5 mức từ “Rất không hài lòng” đến “Rất hài lòng”.", q.title, q.version, q.criteria().count())}</p>
            <p>"Tỷ lệ hài lòng của một tiêu chí = số ý kiến “Hài lòng” và “Rất hài lòng” ÷ số ý kiến hợp lệ; chỉ số yếu tố = trung bình các tiêu chí; chỉ số chung (SIPAS) = trung bình 5 yếu tố. Khoảng tin cậy 95%: của tiêu chí theo phương pháp Wilson; của yếu tố và chỉ số chung tính theo từng người trả lời (tuyến tính hoá Taylor trên điểm hài lòng của mỗi người ở từng yếu tố), vì một người trả lời mọi tiêu chí cùng lúc."</p>
            <p>{format!("Một yếu tố chỉ được tính vào chỉ số chung khi mỗi tiêu chí có trả lời của nó có ít nhất {} câu trả lời hợp lệ; đơn vị có chỉ số chung thiếu yếu tố không xếp hạng cùng đơn vị đủ 5 yếu tố. Mốc mục tiêu của năm: mục tiêu tỉnh đặt cho năm đó, hoặc nội suy tuyến tính giữa hai mục tiêu liền kề.", frame.element_minimum)}</p>
            <p id="sample-drawn">{sample_drawn(links, dashboard.weighted.as_ref().and_then(|w| w.channel_shares))}</p>
            <p id="basis-note">{basis_note(frame.basis)}</p>
            <p>{format!("Số phiếu hợp lệ: {} ({channels}). {sample}", index.responses)}</p>
            <p>{format!("Người trả lời ẩn danh; số liệu chỉ gồm những ngày đã chốt ({} ngày gần nhất còn tạm thời vì kiosk mất mạng có thể gửi phiếu muộn); không công bố con số nào của nhóm dưới {min_cell} phiếu. Phiếu được công bố theo đợt: mỗi đơn vị, mỗi kênh đủ {min_cell} phiếu mới thành một đợt, tính vào kỳ có ngày đủ {min_cell} phiếu; phiếu chưa đủ đợt được tính vào kỳ sau.", crate::domain::submission::MAX_DAYS_LATE)}</p>
        </section>
        <section>
            <h2>"2. Kết quả chung"</h2>
            <p class="headline">
                "Chỉ số hài lòng chung: "<strong id="printed-overall">{percent(index.overall)}</strong>
                {format!(" (khoảng tin cậy 95%: {}); {gaps}.", interval(dashboard.interval))}
            </p>
            {dashboard.weighted.as_ref().and_then(weighted_note)}
            <Comparisons index=index.clone() comparisons=comparisons />
            {left_out_note(&index, frame.element_minimum)}
            <p>{format!("Mục tiêu của tỉnh: {target}.")}</p>
            <table class="elements-table">
                <thead><tr><th>"Yếu tố"</th><th>"Chỉ số"</th><th>"Khoảng tin cậy 95%"</th></tr></thead>
                <tbody>{element_rows}</tbody>
            </table>
            <h3>"Theo tiêu chí"</h3>
            <CriteriaTable index=index.clone() questionnaire=q.clone() />
        </section>
        <section class="page-break">
            <h2>"3. Xếp hạng các cơ quan, đơn vị"</h2>
            {rankings
                .iter()
                .cloned()
                .map(|r| view! { <RankingTable ranking=r.clone() /><SpreadAndTarget ranking=r /> })
                .collect_view()}
        </section>
        <section>
            <h2>"4. Sự mong đợi của người dân, tổ chức"</h2>
            <ExpectationsTable expectations=dashboard.expectations.clone() questionnaire=q.clone() />
        </section>
        <section>
            <h2>"5. Diễn biến theo thời gian"</h2>
            <TrendChart title="Chỉ số hài lòng chung theo tháng".into() points=month_points targets=dashboard.targets.clone() />
            <table class="trend">
                <thead><tr><th>"Quý"</th><th>"Chỉ số chung"</th><th>"Khoảng tin cậy 95%"</th><th>"Số phiếu"</th></tr></thead>
                <tbody>{labelled_rows(&dashboard.quarters)}</tbody>
            </table>
        </section>
        <DataQuality
            index=index.clone()
            channels=dashboard.channels.clone()
            questionnaire=q.clone()
            provisional=provisional
            integrity=integrity
            sensitivity=sensitivity
            min_cell=min_cell
        />
        <section class="page-break" id="annex">
            <h2>"Phụ lục: chỉ số từng cơ quan, đơn vị"</h2>
            <p>"Cột A–E là chỉ số năm yếu tố; “—”: không có ý kiến hợp lệ, hoặc nhóm dưới k phiếu không công bố. Đơn vị chưa xếp hạng ghi lý do ở cột “Mẫu”."</p>
            {rankings.into_iter().map(|r| view! { <AnnexTable ranking=r questionnaire=q.clone() /> }).collect_view()}
        </section>
    }
}

/// How the sample was drawn, and how the period's survey links fared (the method page).
fn sample_drawn(
    links: Option<crate::domain::invitation::LinkUptake>,
    channels: Option<crate::domain::weighting::ChannelShares>,
) -> String {
    let how = "Cách chọn mẫu: không chọn ngẫu nhiên. Mọi người dân, tổ chức có hồ sơ đã giải quyết đều được mời trả lời, một lần cho mỗi hồ sơ: tại kiosk đặt ở bộ phận một cửa khi nhận kết quả, hoặc sau đó qua đường dẫn, mã QR cán bộ phát cho hồ sơ. Người dân tự chọn trả lời nên kết quả có thể nghiêng về những người muốn góp ý.";
    let weighting = match channels {
        Some(shares) => format!(" Chỉ số có trọng số theo N cân lại giữa các đơn vị, và trong mỗi đơn vị giữa hai kênh khảo sát theo tỷ lệ hồ sơ mỗi kênh tiếp cận do tỉnh đặt ({}); kênh không có phiếu ở một đơn vị thì phần của nó tính cho kênh còn lại.", shares.describe()),
        None => " Chỉ số có trọng số theo N cân lại giữa các đơn vị, không cân lại giữa kênh kiosk và đường dẫn bên trong một đơn vị.".to_owned(),
    };
    let uptake = match links {
        Some(links) if links.made > 0 => format!(
            " Trong kỳ đã phát {} lời mời khảo sát (đường dẫn, mã QR) cho hồ sơ của các đơn vị trong phạm vi báo cáo; {} lời mời đã được trả lời ({}).",
            links.made,
            links.answered,
            percent(links.rate())
        ),
        Some(_) => " Trong kỳ chưa phát lời mời khảo sát nào qua đường dẫn, mã QR.".to_owned(),
        None => String::new(),
    };
    format!("{how}{weighting}{uptake}")
}

/// How the report places the responses of units that have since closed (the method page).
fn basis_note(basis: crate::domain::report::Basis) -> &'static str {
    if basis == crate::domain::report::Basis::Restated {
        "Số liệu quy về đơn vị hiện nay: phiếu và số hồ sơ của đơn vị đã sáp nhập, đổi tên được tính cho đơn vị kế thừa; của đơn vị chia tách được phân bổ theo tỷ lệ ghi trong danh mục đơn vị (số lẻ chỉ làm tròn khi hiển thị). Đơn vị chia tách chưa có tỷ lệ thì không quy đổi và được ghi chú dưới bảng xếp hạng."
    } else {
        "Số liệu tính theo đơn vị tại thời điểm khảo sát: phiếu của đơn vị đã sáp nhập, chia tách vẫn thuộc đơn vị cũ."
    }
}
