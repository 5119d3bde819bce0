//! `/admin/users`: accounts — create (a one-time password shown once), change role or agency,
//! disable (their sessions end at once), reset the password, import a CSV list.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::page::{AdminPage, CsvUpload};
use crate::access::{Notice, NoticeView, PageReply};
use crate::account::page::failure_alert;
use crate::domain::account::Role;
use crate::domain::given::Given;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserRow {
    pub username: String,
    pub role: Role,
    pub agency: Option<String>,
    pub agency_name: String,
    pub created: String,
    pub last_login: String,
    pub disabled: bool,
    pub must_change_password: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsersView {
    pub users: Vec<UserRow>,
    /// Open agencies: (code, name).
    pub agencies: Vec<(String, String)>,
    pub notice: Option<Notice>,
    /// The admin looking: they cannot disable or demote themselves.
    pub me: String,
}

#[server]
pub async fn load_users() -> Result<PageReply<UsersView>, ServerFnError> {
    use crate::staff::server::ssr::vietnam_time;
    let state = expect_context::<crate::service::AppState>();
    let access = match crate::access::guard::require(&state, crate::domain::access::Action::Administer).await? {
        Ok(access) => access,
        Err(refusal) => return Ok(refusal),
    };
    let internal = crate::service::internal;
    let users = state
        .users()
        .await
        .map_err(internal)?
        .into_iter()
        .map(|u| UserRow {
            username: u.user.username,
            role: u.user.role,
            agency: u.user.agency_code,
            agency_name: u.agency_name.unwrap_or_else(|| "Toàn tỉnh".into()),
            created: vietnam_time(u.created_at),
            last_login: u.last_login_at.map(vietnam_time).unwrap_or_else(|| "—".into()),
            disabled: u.disabled,
            must_change_password: u.user.must_change_password,
        })
        .collect();
    let agencies = state.open_agencies().await.map_err(internal)?.into_iter().map(|a| (a.code, a.name)).collect();
    let notice = crate::access::request::take_flash(&state);
    Ok(PageReply::Ready(UsersView { users, agencies, notice, me: access.user.username }))
}

#[server]
pub async fn add_account(
    username: String,
    #[server(default)] role: Given<Role>,
    #[server(default)] agency: String,
) -> Result<(), ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, crate::domain::access::Action::Administer).await?;
    let (role, agency) = ssr::role_and_agency(role, &agency)?;
    let password = ssr::done(state.add_user(&access.actor(), &username, role, agency).await)?;
    ssr::show_password(&state, &username, &password, "Đã tạo tài khoản");
    Ok(())
}

#[server]
pub async fn update_account(
    username: String,
    #[server(default)] role: Given<Role>,
    #[server(default)] agency: String,
) -> Result<(), ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, crate::domain::access::Action::Administer).await?;
    let (role, agency) = ssr::role_and_agency(role, &agency)?;
    ssr::done(state.update_user(&access.actor(), &username, role, agency).await)?;
    leptos_axum::redirect("/admin/users");
    Ok(())
}

#[server]
pub async fn set_account_disabled(username: String, disabled: bool) -> Result<(), ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, crate::domain::access::Action::Administer).await?;
    ssr::done(state.set_user_disabled(&access.actor(), &username, disabled).await)?;
    leptos_axum::redirect("/admin/users");
    Ok(())
}

#[server]
pub async fn reset_account_password(username: String) -> Result<(), ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, crate::domain::access::Action::Administer).await?;
    let password = ssr::done(state.reset_password(&access.actor(), &username).await)?;
    ssr::show_password(&state, &username, &password, "Đã cấp lại mật khẩu");
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    use axum::http::StatusCode;
    use leptos::prelude::*;

    use crate::access::request::{set_flash, Flash};
    use crate::domain::account::Role;
    use crate::domain::given::Given;
    use crate::service::accounts::AccountServiceError;
    use crate::service::{AppState, ServiceError};

    /// The role an account form names, and its agency for a role that has one.
    pub fn role_and_agency(role: Given<Role>, agency: &str) -> Result<(Role, Option<&str>), ServerFnError> {
        let Given::Is(role) = role else {
            return crate::service::refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Vai trò phải là admin, manager hoặc staff.",
            );
        };
        Ok((role, Some(agency.trim()).filter(|a| !a.is_empty() && role.needs_agency())))
    }

    pub fn done<T>(result: Result<T, AccountServiceError>) -> Result<T, ServerFnError> {
        match result {
            Ok(value) => Ok(value),
            Err(AccountServiceError::Service(ServiceError::UnknownAgency(code))) => {
                crate::service::refuse(StatusCode::UNPROCESSABLE_ENTITY, format!("Không có cơ quan, đơn vị mã {code}."))
            }
            Err(AccountServiceError::Service(error)) => Err(crate::service::internal(error)),
            Err(error @ AccountServiceError::NotFound) => {
                crate::service::refuse(StatusCode::NOT_FOUND, error.to_string())
            }
            Err(error @ AccountServiceError::Taken(_)) => {
                crate::service::refuse(StatusCode::CONFLICT, error.to_string())
            }
            Err(error) => crate::service::refuse(StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
        }
    }

    pub fn show_password(state: &AppState, username: &str, password: &str, title: &str) {
        set_flash(
            state,
            &Flash {
                title: format!("{title} {}", username.trim().to_lowercase()),
                secret: Some(password.to_owned()),
                note: "Mật khẩu dùng một lần này chỉ hiện một lần: hãy chuyển cho người dùng. Họ phải đổi mật khẩu khi đăng nhập.".into(),
                qr_text: None,
            },
        );
        leptos_axum::redirect("/admin/users");
    }
}

fn role_options(selected: Role) -> impl IntoView {
    [Role::Admin, Role::Manager, Role::Staff]
        .into_iter()
        .map(|r| view! { <option value=r.as_str() selected=r == selected>{r.label()}</option> })
        .collect_view()
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let add = ServerAction::<AddAccount>::new();
    let update = ServerAction::<UpdateAccount>::new();
    let disable = ServerAction::<SetAccountDisabled>::new();
    let reset = ServerAction::<ResetAccountPassword>::new();
    let data = Resource::new_blocking(
        move || (add.version().get(), update.version().get(), disable.version().get(), reset.version().get()),
        |_| load_users(),
    );
    let ready = move |view| {
        let UsersView { users, agencies, notice, me } = view;
        let options = move |selected: Option<&str>| {
            let none = view! { <option value="" selected=selected.is_none()>"(Toàn tỉnh — chỉ cho quản trị)"</option> };
            let rest = agencies.iter().map(|(code, name)| view! {
                <option value=code.clone() selected=selected == Some(code.as_str())>{format!("{name} ({code})")}</option>
            }).collect_view();
            view! { {none}{rest} }
        };
        let new_options = options(None);
        view! {
            <NoticeView notice />
            <section>
                <h2>"Tạo tài khoản"</h2>
                <ActionForm action=add attr:class="login">
                    <label><span>"Tên đăng nhập"</span><input type="text" name="username" required maxlength=crate::domain::account::MAX_USERNAME_CHARS autocomplete="off" autocapitalize="none" /></label>
                    <label><span>"Vai trò"</span><select name="role">{role_options(Role::Staff)}</select></label>
                    <label><span>"Cơ quan, đơn vị"</span><select name="agency">{new_options}</select></label>
                    {move || failure_alert(add.value().get())}
                    <button type="submit" class="primary">"Tạo tài khoản"</button>
                </ActionForm>
            </section>
            <CsvUpload
                heading="Nhập danh sách tài khoản (CSV)"
                hint="Cột: username,role,agency (role: admin, manager, staff). Tạo tất cả hoặc không tạo tài khoản nào; mật khẩu dùng một lần hiện ngay sau khi nhập."
                action="/admin/users/import"
                button="Nhập danh sách"
            />
            <section>
                <h2>"Danh sách"</h2>
                <table class="users">
                    <thead><tr><th>"Tài khoản"</th><th>"Vai trò, đơn vị"</th><th>"Đăng nhập gần nhất"</th><th>"Thao tác"</th></tr></thead>
                    <tbody>
                        {users.into_iter().map(|u| {
                            let own = u.username == me;
                            let agency_options = options(u.agency.as_deref());
                            let names = [u.username.clone(), u.username.clone(), u.username.clone()];
                            let [for_update, for_reset, for_disable] = names;
                            let state = match (u.disabled, u.must_change_password) {
                                (true, _) => "Đã khóa",
                                (false, true) => "Chưa đổi mật khẩu dùng một lần",
                                (false, false) => "Đang hoạt động",
                            };
                            view! {
                                <tr data-user=u.username.clone() class:closed=u.disabled>
                                    <td><strong>{u.username.clone()}</strong><br/><small>{state}" · tạo "{u.created}</small></td>
                                    <td>
                                        <ActionForm action=update attr:class="inline">
                                            <input type="hidden" name="username" value=for_update />
                                            <label><span class="visually-hidden">"Vai trò"</span><select name="role">{role_options(u.role)}</select></label>
                                            <label><span class="visually-hidden">"Cơ quan, đơn vị"</span><select name="agency">{agency_options}</select></label>
                                            <button type="submit" class="secondary">"Lưu"</button>
                                        </ActionForm>
                                    </td>
                                    <td>{u.last_login}</td>
                                    <td>
                                        <ActionForm action=reset attr:class="inline">
                                            <input type="hidden" name="username" value=for_reset />
                                            <button type="submit" class="secondary">"Cấp lại mật khẩu"</button>
                                        </ActionForm>
                                        {(!own).then(|| view! {
                                            <ActionForm action=disable attr:class="inline">
                                                <input type="hidden" name="username" value=for_disable />
                                                <input type="hidden" name="disabled" value=(!u.disabled).to_string() />
                                                <button type="submit" class=if u.disabled { "secondary" } else { "danger" }>
                                                    {if u.disabled { "Mở khóa" } else { "Khóa" }}
                                                </button>
                                            </ActionForm>
                                        })}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        }.into_any()
    };
    view! {
        <AdminPage title="Tài khoản" heading="Tài khoản" data=data ready>
            {move || failure_alert(update.value().get())}
            {move || failure_alert(disable.value().get())}
            {move || failure_alert(reset.value().get())}
        </AdminPage>
    }
}
