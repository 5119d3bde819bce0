//! `/admin/kiosks`: the tablets at service points — register (a one-time pairing code), rename,
//! move, re-pair, revoke — and what the kiosk limits flagged; beside them, what officers' survey
//! links flagged (on the officer and the invitation, never on an answer).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::page::AdminPage;
use crate::access::{Notice, NoticeView, PageReply};
use crate::account::page::failure_alert;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KioskRow {
    pub id: i64,
    pub name: String,
    pub point: String,
    pub point_name: String,
    /// "Đang hoạt động", "Chờ ghép nối đến hh:mm", "Đã thu hồi".
    pub status: String,
    pub live: bool,
    pub last_seen: String,
    pub responses_today: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnomalyRow {
    pub hour: String,
    pub kiosk: String,
    pub point_name: String,
    pub kind: String,
    pub occurrences: u64,
}

/// A flag on an officer and/or one of their invitations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OfficerFlagRow {
    pub hour: String,
    /// The officer's username, or "phần mềm một cửa" for its invitations.
    pub officer: String,
    pub point: String,
    /// Competent agency / dossier code of the flagged invitation, if one is named.
    pub dossier: String,
    pub kind: String,
    pub occurrences: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KiosksView {
    pub kiosks: Vec<KioskRow>,
    pub anomalies: Vec<AnomalyRow>,
    pub officer_flags: Vec<OfficerFlagRow>,
    /// Open service points: (code, name).
    pub points: Vec<(String, String)>,
    pub notice: Option<Notice>,
}

#[server]
pub async fn load_kiosks() -> Result<PageReply<KiosksView>, ServerFnError> {
    use crate::staff::server::ssr::vietnam_time;
    let state = expect_context::<crate::service::AppState>();
    if let Err(refusal) = crate::access::guard::require(&state, crate::domain::access::Action::Administer).await? {
        return Ok(refusal);
    }
    let internal = crate::service::internal;
    let kiosks = state
        .kiosks()
        .await
        .map_err(internal)?
        .into_iter()
        .map(|k| {
            let pending = k.pairing_expires_at.filter(|at| *at > chrono::Utc::now());
            let status = match (k.revoked_at, pending, k.paired) {
                (_, Some(until), _) => format!("Chờ ghép nối (mã dùng được đến {})", vietnam_time(until)),
                (Some(at), None, _) => format!("Đã thu hồi lúc {}", vietnam_time(at)),
                (None, None, true) => "Đang hoạt động".to_owned(),
                (None, None, false) => "Mã ghép nối đã hết hạn: cấp mã mới".to_owned(),
            };
            KioskRow {
                id: k.kiosk.id,
                name: k.kiosk.name,
                point: k.kiosk.agency_code,
                point_name: k.agency_name,
                live: k.revoked_at.is_none(),
                status,
                last_seen: k.last_seen_at.map(vietnam_time).unwrap_or_else(|| "—".into()),
                responses_today: k.responses_today,
            }
        })
        .collect();
    let anomalies = state
        .kiosk_anomalies(50)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|a| AnomalyRow {
            hour: vietnam_time(a.hour),
            kiosk: format!("#{} {}", a.kiosk_id, a.kiosk_name),
            point_name: a.agency_name,
            kind: a.kind.label().to_owned(),
            occurrences: a.occurrences,
        })
        .collect();
    let officer_flags = state
        .invitation_flags(50)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|f| OfficerFlagRow {
            hour: vietnam_time(f.hour),
            officer: f.officer.unwrap_or_else(|| "phần mềm một cửa".into()),
            point: f.service_point.unwrap_or_default(),
            dossier: f.dossier.map(|(dossier, agency)| format!("{agency} / {dossier}")).unwrap_or_default(),
            kind: f.kind.label().to_owned(),
            occurrences: f.occurrences,
        })
        .collect();
    let points = state.open_agencies().await.map_err(internal)?.into_iter().map(|a| (a.code, a.name)).collect();
    let notice = crate::access::request::take_flash(&state);
    Ok(PageReply::Ready(KiosksView { kiosks, anomalies, officer_flags, points, notice }))
}

#[server]
pub async fn add_kiosk(name: String, point: String) -> Result<(), ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, crate::domain::access::Action::Administer).await?;
    let pairing = ssr::done(state.register_kiosk(&access.actor(), &point, &name).await)?;
    ssr::show_code(&state, &format!("Kiosk \"{}\" đã được đăng ký", name.trim()), &pairing);
    Ok(())
}

#[server]
pub async fn repair_kiosk(id: i64) -> Result<(), ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, crate::domain::access::Action::Administer).await?;
    let pairing = ssr::done(state.repair_kiosk(&access.actor(), id).await)?;
    ssr::show_code(&state, &format!("Mã ghép nối mới cho kiosk #{id}"), &pairing);
    Ok(())
}

#[server]
pub async fn update_kiosk(id: i64, name: String, point: String) -> Result<(), ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, crate::domain::access::Action::Administer).await?;
    ssr::done(state.rename_or_move_kiosk(&access.actor(), id, &name, &point).await)?;
    leptos_axum::redirect("/admin/kiosks");
    Ok(())
}

#[server]
pub async fn revoke_kiosk(id: i64) -> Result<(), ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, crate::domain::access::Action::Administer).await?;
    ssr::done(state.revoke_kiosk(&access.actor(), id).await)?;
    crate::access::request::set_flash(
        &state,
        &crate::access::request::Flash {
            title: format!("Đã thu hồi kiosk #{id}"),
            secret: None,
            note: "Thiết bị không gửi được phiếu nữa và sẽ hiện màn hình yêu cầu ghép nối lại.".into(),
            qr_text: None,
        },
    );
    leptos_axum::redirect("/admin/kiosks");
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    use leptos::prelude::*;

    use crate::access::request::{set_flash, Flash};
    use crate::service::kiosks::{KioskError, Pairing};
    use crate::service::AppState;

    pub fn done<T>(result: Result<T, KioskError>) -> Result<T, ServerFnError> {
        use axum::http::StatusCode;
        match result {
            Ok(value) => Ok(value),
            Err(KioskError::Service(error)) => Err(crate::service::internal(error)),
            Err(error @ KioskError::NotFound) => crate::service::refuse(StatusCode::NOT_FOUND, error.to_string()),
            Err(error) => crate::service::refuse(StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
        }
    }

    /// Shows the pairing code once, with a QR code of the pairing page that fills it in.
    pub fn show_code(state: &AppState, title: &str, pairing: &Pairing) {
        let until = crate::staff::server::ssr::vietnam_time(pairing.expires_at);
        let url = format!("{}/kiosk/pair?code={}", state.settings.public_url, pairing.code);
        set_flash(
            state,
            &Flash {
                title: title.to_owned(),
                secret: Some(pairing.code.clone()),
                note: format!(
                    "Trên máy tính bảng, mở {}/kiosk/pair và nhập mã này (hoặc quét mã QR). Mã dùng một lần, đến {until}.",
                    state.settings.public_url
                ),
                qr_text: Some(url),
            },
        );
        leptos_axum::redirect("/admin/kiosks");
    }
}

#[component]
pub fn KiosksPage() -> impl IntoView {
    let add = ServerAction::<AddKiosk>::new();
    let repair = ServerAction::<RepairKiosk>::new();
    let update = ServerAction::<UpdateKiosk>::new();
    let revoke = ServerAction::<RevokeKiosk>::new();
    let data = Resource::new_blocking(
        move || (add.version().get(), repair.version().get(), update.version().get(), revoke.version().get()),
        |_| load_kiosks(),
    );
    let ready = move |view| {
        let KiosksView { kiosks, anomalies, officer_flags, points, notice } = view;
        let options =
            move |selected: &str| {
                points.iter().map(|(code, name)| {
            view! { <option value=code.clone() selected=code == selected>{format!("{name} ({code})")}</option> }
        }).collect_view()
            };
        let new_options = options("");
        view! {
            <NoticeView notice />
            <section>
                <h2>"Đăng ký kiosk mới"</h2>
                <ActionForm action=add attr:class="login">
                    <label><span>"Tên thiết bị"</span><input type="text" name="name" required maxlength="100" placeholder="Kiosk quầy số 1" /></label>
                    <label><span>"Điểm phục vụ"</span><select name="point">{new_options}</select></label>
                    {move || failure_alert(add.value().get())}
                    <button type="submit" class="primary">"Đăng ký và lấy mã ghép nối"</button>
                </ActionForm>
            </section>
            <section>
                <h2>"Thiết bị"</h2>
                <table class="kiosks">
                    <thead><tr><th>"Thiết bị"</th><th>"Tình trạng"</th><th>"Hoạt động gần nhất"</th><th>"Phiếu hôm nay"</th><th>"Thao tác"</th></tr></thead>
                    <tbody>
                        {kiosks.into_iter().map(|k| { let point_options = options(&k.point); view! {
                            <tr data-kiosk=k.id>
                                <td>
                                    <ActionForm action=update attr:class="inline">
                                        <input type="hidden" name="id" value=k.id />
                                        <label><span class="visually-hidden">"Tên"</span><input type="text" name="name" value=k.name.clone() required maxlength="100" /></label>
                                        <label><span class="visually-hidden">"Điểm phục vụ"</span><select name="point">{point_options}</select></label>
                                        <button type="submit" class="secondary">"Lưu"</button>
                                    </ActionForm>
                                </td>
                                <td class="kiosk-status">{k.status}</td>
                                <td>{k.last_seen}</td>
                                <td class="num">{k.responses_today}</td>
                                <td>
                                    <ActionForm action=repair attr:class="inline">
                                        <input type="hidden" name="id" value=k.id />
                                        <button type="submit" class="secondary">"Cấp mã ghép nối mới"</button>
                                    </ActionForm>
                                    {k.live.then(|| view! {
                                        <ActionForm action=revoke attr:class="inline">
                                            <input type="hidden" name="id" value=k.id />
                                            <button type="submit" class="danger">"Thu hồi"</button>
                                        </ActionForm>
                                    })}
                                </td>
                            </tr>
                        }}).collect_view()}
                    </tbody>
                </table>
            </section>
            <section>
                <h2>"Dấu hiệu bất thường"</h2>
                <p class="hint">"Phiếu vẫn được lưu (trừ phiếu gửi quá nhanh, kiosk tự gửi lại sau); đây là những giờ cần xem lại tại điểm phục vụ. Mỗi dấu hiệu được ghi nhận tối đa một lần mỗi phút."</p>
                {if anomalies.is_empty() {
                    view! { <p id="no-anomalies">"Chưa có dấu hiệu bất thường."</p> }.into_any()
                } else {
                    view! {
                        <table class="anomalies">
                            <thead><tr><th>"Giờ"</th><th>"Thiết bị"</th><th>"Điểm phục vụ"</th><th>"Dấu hiệu"</th><th>"Số phút ghi nhận"</th></tr></thead>
                            <tbody>{anomalies.into_iter().map(|a| view! {
                                <tr><td>{a.hour}</td><td>{a.kiosk}</td><td>{a.point_name}</td><td>{a.kind}</td><td class="num">{a.occurrences}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any()
                }}
            </section>
            <OfficerFlags flags=officer_flags />
        }.into_any()
    };
    view! {
        <AdminPage title="Kiosk" heading="Kiosk khảo sát" data=data ready>
            {move || failure_alert(repair.value().get())}
            {move || failure_alert(update.value().get())}
            {move || failure_alert(revoke.value().get())}
        </AdminPage>
    }
}

/// What officers' survey links flagged: to look into at the service point, never a verdict.
#[component]
fn OfficerFlags(flags: Vec<OfficerFlagRow>) -> impl IntoView {
    let table = if flags.is_empty() {
        view! { <p id="no-officer-flags">"Chưa có dấu hiệu bất thường."</p> }.into_any()
    } else {
        let rows = flags
            .into_iter()
            .map(|f| {
                view! {
                    <tr><td>{f.hour}</td><td>{f.officer}</td><td>{f.point}</td><td>{f.dossier}</td><td>{f.kind}</td><td class="num">{f.occurrences}</td></tr>
                }
            })
            .collect_view();
        view! {
            <table class="anomalies officer-flags">
                <thead><tr><th>"Giờ"</th><th>"Cán bộ"</th><th>"Điểm phục vụ"</th><th>"Hồ sơ"</th><th>"Dấu hiệu"</th><th>"Số lần"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section>
            <h2>"Dấu hiệu bất thường ở lời mời khảo sát (theo cán bộ)"</h2>
            <p class="hint">"Ghi trên cán bộ và lời mời, không bao giờ trên phiếu trả lời: phiếu vẫn được tính. Đây là những việc cần xem lại tại điểm phục vụ."</p>
            {table}
        </section>
    }
}
