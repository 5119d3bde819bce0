//! `/admin/keys`: API keys of one-stop software — create (shown once), last used, revoke.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::page::AdminPage;
use crate::access::{Notice, NoticeView, PageReply};
use crate::account::page::failure_alert;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: i64,
    pub name: String,
    pub agency_name: String,
    pub created: String,
    pub last_used: String,
    pub revoked: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeysView {
    pub keys: Vec<KeyRow>,
    pub agencies: Vec<(String, String)>,
    pub notice: Option<Notice>,
}

#[server]
pub async fn load_keys() -> Result<PageReply<KeysView>, ServerFnError> {
    use crate::staff::server::ssr::vietnam_time;
    let state = expect_context::<crate::service::AppState>();
    if let Err(refusal) = crate::access::guard::require(&state, crate::domain::access::Action::Administer).await? {
        return Ok(refusal);
    }
    let internal = crate::service::internal;
    let keys = state
        .api_keys()
        .await
        .map_err(internal)?
        .into_iter()
        .map(|k| KeyRow {
            id: k.id,
            name: k.name,
            agency_name: format!("{} ({})", k.agency_name, k.agency_code),
            created: vietnam_time(k.created_at),
            last_used: k.last_used_at.map(vietnam_time).unwrap_or_else(|| "Chưa dùng".into()),
            revoked: k.revoked_at.map(vietnam_time),
        })
        .collect();
    let agencies = state.open_agencies().await.map_err(internal)?.into_iter().map(|a| (a.code, a.name)).collect();
    Ok(PageReply::Ready(KeysView { keys, agencies, notice: crate::access::request::take_flash(&state) }))
}

#[server]
pub async fn add_key(name: String, agency: String) -> Result<(), ServerFnError> {
    use crate::access::request::{set_flash, Flash};
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, crate::domain::access::Action::Administer).await?;
    let (id, key) = ssr::done(state.register_api_key(&access.actor(), &agency, &name).await)?;
    set_flash(
        &state,
        &Flash {
            title: format!("Đã tạo khóa API #{id}"),
            secret: Some(key),
            note: "Khóa chỉ hiện một lần: hãy cấu hình ngay vào phần mềm một cửa (Authorization: Bearer …).".into(),
            qr_text: None,
        },
    );
    leptos_axum::redirect("/admin/keys");
    Ok(())
}

#[server]
pub async fn revoke_key(id: i64) -> Result<(), ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, crate::domain::access::Action::Administer).await?;
    ssr::done(state.revoke_api_key(&access.actor(), id).await)?;
    leptos_axum::redirect("/admin/keys");
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    use axum::http::StatusCode;
    use leptos::prelude::*;

    use crate::service::keys::KeyError;
    use crate::service::ServiceError;

    pub fn done<T>(result: Result<T, KeyError>) -> Result<T, ServerFnError> {
        match result {
            Ok(value) => Ok(value),
            Err(KeyError::Service(ServiceError::UnknownAgency(code))) => {
                crate::service::refuse(StatusCode::UNPROCESSABLE_ENTITY, format!("Không có cơ quan, đơn vị mã {code}."))
            }
            Err(KeyError::Service(error)) => Err(crate::service::internal(error)),
            Err(error @ KeyError::NotFound) => crate::service::refuse(StatusCode::NOT_FOUND, error.to_string()),
            Err(error) => crate::service::refuse(StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
        }
    }
}

#[component]
pub fn KeysPage() -> impl IntoView {
    let add = ServerAction::<AddKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let data = Resource::new_blocking(move || (add.version().get(), revoke.version().get()), |_| load_keys());
    let ready = move |KeysView { keys, agencies, notice }| {
        view! {
        <NoticeView notice />
        <section>
            <h2>"Tạo khóa"</h2>
            <p class="hint">"Khóa chỉ gửi được lời mời khảo sát cho cơ quan đã chọn và các đơn vị trực thuộc."</p>
            <ActionForm action=add attr:class="login">
                <label><span>"Phần mềm dùng khóa"</span><input type="text" name="name" required maxlength="100" placeholder="Hệ thống thông tin giải quyết TTHC tỉnh" /></label>
                <label><span>"Cơ quan, đơn vị"</span><select name="agency">
                    {agencies.into_iter().map(|(code, name)| view! { <option value=code.clone()>{format!("{name} ({code})")}</option> }).collect_view()}
                </select></label>
                {move || failure_alert(add.value().get())}
                <button type="submit" class="primary">"Tạo khóa"</button>
            </ActionForm>
        </section>
        <table class="keys">
            <thead><tr><th>"Khóa"</th><th>"Phạm vi"</th><th>"Tạo lúc"</th><th>"Dùng gần nhất"</th><th></th></tr></thead>
            <tbody>{keys.into_iter().map(|k| { let closed = k.revoked.is_some(); view! {
                <tr data-key=k.id class:closed=closed>
                    <td>{format!("#{} {}", k.id, k.name)}</td>
                    <td>{k.agency_name}</td>
                    <td>{k.created}</td>
                    <td>{k.last_used}</td>
                    <td>{match k.revoked {
                        Some(at) => view! { <span>{format!("Đã thu hồi lúc {at}")}</span> }.into_any(),
                        None => view! {
                            <ActionForm action=revoke attr:class="inline">
                                <input type="hidden" name="id" value=k.id />
                                <button type="submit" class="danger">"Thu hồi"</button>
                            </ActionForm>
                        }.into_any(),
                    }}</td>
                </tr>
            }}).collect_view()}</tbody>
        </table>
    }.into_any()
    };
    view! {
        <AdminPage title="Khóa API" heading="Khóa API cho phần mềm một cửa" data=data ready>
            {move || failure_alert(revoke.value().get())}
        </AdminPage>
    }
}
