//! The reporting console (admins: the province; managers: their subtree): the dashboard at
//! `/admin`, rankings, breakdowns. Server-rendered from the report aggregates and readable with
//! JavaScript off; charts are SVG drawn on the server.

pub mod annex;
pub mod breakdown;
pub mod chart;
pub mod comments;
pub mod dashboard;
pub mod download;
pub mod format;
pub mod print;
pub mod ranking;
pub mod server;

use leptos::prelude::*;

use crate::access::LogOutButton;
use crate::admin::AdminNav;
use crate::domain::period::Comparison;
use format::capitalised;
use server::Frame;

pub use breakdown::BreakdownPage;
pub use comments::CommentsPage;
pub use dashboard::DashboardPage;
pub use print::PrintPage;
pub use ranking::RankingPage;

/// The header every report page shares: who is looking, the report tabs, and the filter form
/// (a GET form: it works without JavaScript and the address can be bookmarked).
#[component]
pub fn ReportHeader(frame: Frame, title: &'static str, action: &'static str, extra: AnyView) -> impl IntoView {
    let query = frame.query();
    let tabs = [
        ("/admin", "Tổng quan"),
        ("/admin/rankings", "Xếp hạng"),
        ("/admin/breakdowns", "Phân tổ"),
        ("/admin/comments", "Ý kiến"),
    ]
    .into_iter()
    .map(|(href, label)| {
        let current = (href == action).then_some("page");
        view! { <li><a href=format!("{href}?{query}") aria-current=current>{label}</a></li> }
    })
    .collect_view();
    let options = frame
        .agencies
        .iter()
        .map(|a| {
            let depth = std::iter::successors(a.parent.as_ref(), |p| {
                frame.agencies.iter().find(|x| &x.code == *p).and_then(|x| x.parent.as_ref())
            })
            .count();
            let label = format!("{}{}", "— ".repeat(depth), a.name);
            view! { <option value=a.code.clone() selected=a.code == frame.agency.code>{label}</option> }
        })
        .collect_view();
    let restated = frame.basis == crate::domain::report::Basis::Restated;
    let late = crate::domain::submission::MAX_DAYS_LATE;
    let covered = match &frame.covered {
        Some((from, to)) => format!(
            "Số liệu từ {} đến hết {}: chỉ những ngày đã chốt. {late} ngày gần nhất còn tạm thời (kiosk mất mạng có thể gửi phiếu muộn tới {late} ngày), chưa công bố.",
            format::day(from),
            format::day(to)
        ),
        None => format!(
            "Chưa có ngày nào của kỳ này được chốt: {late} ngày gần nhất còn tạm thời (kiosk mất mạng có thể gửi phiếu muộn tới {late} ngày), chưa công bố."
        ),
    };
    let steps = format!(
        "Phiếu được công bố theo đợt: mỗi đơn vị, mỗi kênh đủ {k} phiếu mới thành một đợt, tính vào kỳ có ngày đủ {k} phiếu (có thể gồm phiếu vài ngày trước kỳ); phiếu chưa đủ đợt chờ kỳ sau. Nhờ vậy không thể lấy hai số liệu trừ nhau để biết câu trả lời của dưới {k} người.",
        k = frame.min_cell
    );
    view! {
        {frame.is_admin.then(|| view! { <AdminNav /> })}
        <header class="admin-header">
            <h1>{title}</h1>
            <div class="who">
                <span>{frame.username.clone()}</span>
                {(!frame.is_admin).then(|| view! { " · "<a href="/account/password">"Đổi mật khẩu"</a><LogOutButton /> })}
            </div>
            <nav class="report-tabs" aria-label="Báo cáo"><ul>{tabs}</ul></nav>
            <form method="get" action=action class="filter">
                <label><span>"Cơ quan, đơn vị"</span><select name="agency">{options}</select></label>
                <label><span>"Từ ngày"</span><input type="date" name="from" value=frame.from.clone() /></label>
                <label><span>"Đến ngày"</span><input type="date" name="to" value=frame.to.clone() /></label>
                <label>
                    <span>"Đơn vị đã sắp xếp lại"</span>
                    <select name="basis">
                        <option value="as_they_were" selected=!restated>"Như lúc khảo sát"</option>
                        <option value="restated" selected=restated>"Quy về đơn vị hiện nay"</option>
                    </select>
                </label>
                <label>
                    <span>"So sánh với"</span>
                    <select name="compare">
                        {Comparison::ALL
                            .into_iter()
                            .map(|c| {
                                let chosen = c == frame.compare;
                                view! { <option value=c.as_str() selected=chosen>{capitalised(c.label())}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
                {extra}
                <button type="submit" class="primary">"Xem"</button>
            </form>
            <p class="covered">{covered}</p>
            <p class="covered" id="steps">{steps}</p>
        </header>
    }
}
