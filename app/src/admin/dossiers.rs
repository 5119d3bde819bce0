//! `/admin/dossiers`: the completed dossiers per agency and month that a province enters from its
//! one-stop software (the N of the rankings' minimum sample).

use leptos::prelude::*;

use super::page::AdminPage;
use crate::access::PageReply;
use crate::account::page::failure_alert;

/// Months of entered counts the page lists.
const MONTHS_SHOWN: u32 = 12;

/// One entered count as the page lists it: month (`2026-10`), agency code and name, dossiers.
pub type EnteredRow = (String, String, String, u64);

#[server]
pub async fn load_dossiers() -> Result<PageReply<Vec<EnteredRow>>, ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    if let Err(refusal) = crate::access::guard::require(&state, crate::domain::access::Action::Administer).await? {
        return Ok(refusal);
    }
    let counts = state.entered_dossiers(MONTHS_SHOWN).await.map_err(crate::service::internal)?;
    let agencies = state.agencies().await.map_err(crate::service::internal)?;
    let name = |code: &str| agencies.iter().find(|a| a.code == code).map_or_else(String::new, |a| a.name.clone());
    Ok(PageReply::Ready(
        counts
            .into_iter()
            .map(|c| (c.month.format("%Y-%m").to_string(), name(&c.agency), c.agency, c.completed))
            .collect(),
    ))
}

#[server]
pub async fn save_dossiers(csv: String) -> Result<(), ServerFnError> {
    use crate::service::ServiceError;
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, crate::domain::access::Action::Administer).await?;
    match state.enter_dossier_counts(&access.actor(), &csv).await {
        Ok(_) => {
            leptos_axum::redirect("/admin/dossiers");
            Ok(())
        }
        Err(ServiceError::BadDossierCounts(problems)) => {
            crate::service::refuse(axum::http::StatusCode::UNPROCESSABLE_ENTITY, problems.join(" "))
        }
        Err(error) => Err(crate::service::internal(error)),
    }
}

#[component]
pub fn DossiersPage() -> impl IntoView {
    let save = ServerAction::<SaveDossiers>::new();
    let entered = Resource::new_blocking(move || save.version().get(), |_| load_dossiers());
    let ready = move |rows: Vec<EnteredRow>| {
        view! {
            <Show when={let empty = rows.is_empty(); move || empty}>
                <p class="note">"Chưa nhập số hồ sơ của tháng nào."</p>
            </Show>
            <table class="dossiers">
                <thead><tr><th>"Tháng"</th><th>"Đơn vị"</th><th>"Mã"</th><th class="num">"Số hồ sơ"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|(month, name, code, completed)| view! {
                        <tr><td>{month}</td><td>{name}</td><td>{code}</td><td class="num">{completed}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <AdminPage title="Số hồ sơ đã giải quyết" heading="Số hồ sơ đã giải quyết" data=entered ready>
            <p>
                "Số hồ sơ mỗi đơn vị giải quyết trong tháng, lấy từ phần mềm một cửa: là N của cỡ mẫu tối thiểu "
                "n = N ÷ (1 + N × 0,05²) trên trang xếp hạng. Đơn vị chưa nhập thì tính bằng số hồ sơ đã gửi phiếu."
            </p>
            <h2>"Nhập số liệu"</h2>
            <ActionForm action=save attr:class="login wide">
                <label>
                    <span>"Mỗi dòng: mã đơn vị, tháng (YYYY-MM), số hồ sơ — nhập lại một tháng thì thay số cũ"</span>
                    <textarea name="csv" rows="8" required placeholder="PT-STP,2026-10,1250\nPT-X-TAMNONG,2026-10,310"></textarea>
                </label>
                {move || failure_alert(save.value().get())}
                <button type="submit" class="primary">"Lưu số hồ sơ"</button>
            </ActionForm>
            <p class="note">"Cũng nhập được bằng dòng lệnh: hailong dossiers import tep.csv"</p>
            <h2>{format!("Đã nhập ({MONTHS_SHOWN} tháng gần nhất)")}</h2>
        </AdminPage>
    }
}
