//! `/kiosk/pair`: a tablet becomes a kiosk by typing (or scanning) the one-time code an admin
//! got on `/admin/kiosks`; the code is exchanged for a device token kept in a cookie.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::account::page::failure_alert;

#[server]
pub async fn pair_this_kiosk(code: String) -> Result<(), ServerFnError> {
    use crate::service::kiosks::PairError;
    use axum::http::StatusCode;
    let state = expect_context::<crate::service::AppState>();
    let ip = crate::access::request::client_ip().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
    match state.pair_kiosk(&code, ip).await {
        Ok((_, token)) => {
            // Ten years: the tablet stays a kiosk until an admin revokes it.
            crate::access::request::Cookie::Kiosk.set(&state, &token, 315_360_000);
            leptos_axum::redirect("/kiosk");
            Ok(())
        }
        Err(PairError::Service(error)) => Err(crate::service::internal(error)),
        Err(error) => match error.retry_after() {
            Some(seconds) => crate::access::request::refuse_for(seconds, error.to_string()),
            None => crate::service::refuse(StatusCode::NOT_FOUND, error.to_string()),
        },
    }
}

#[component]
pub fn KioskPairPage() -> impl IntoView {
    let pair = ServerAction::<PairThisKiosk>::new();
    let query = use_query_map();
    let code = query.with_untracked(|q| q.get("code").unwrap_or_default());
    let lost = query.with_untracked(|q| q.get("lost").is_some());
    view! {
        <Title text="Ghép nối kiosk — Hài lòng" />
        <main class="kiosk pair">
            <h1>"Ghép nối máy tính bảng làm kiosk khảo sát"</h1>
            {lost.then(|| view! {
                <p class="errors" role="alert">"Thiết bị này chưa được ghép nối hoặc đã bị thu hồi nên không gửi được phiếu. Vui lòng nhập mã ghép nối mới do quản trị viên cấp."</p>
            })}
            <p class="lead">"Nhập mã 8 chữ số do quản trị viên cấp tại trang Kiosk của hệ thống. Mã dùng một lần và có hạn 30 phút."</p>
            <ActionForm action=pair attr:class="pair-form">
                <label>
                    <span>"Mã ghép nối"</span>
                    <input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="12" value=code />
                </label>
                {move || failure_alert(pair.value().get())}
                <button type="submit" class="primary big">"Ghép nối"</button>
            </ActionForm>
        </main>
    }
}
