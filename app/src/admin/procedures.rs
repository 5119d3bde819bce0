//! `/admin/procedures`: the list of procedures officers pick from, extended by an admin.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::account::page::failure_alert;

/// The procedure list for an admin; `None` when the user is not one.
#[server]
pub async fn load_procedures() -> Result<Option<Vec<(String, String)>>, ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    if ssr::admin(&state).await?.is_none() {
        return Ok(None);
    }
    Ok(Some(state.db.procedures().await.map_err(crate::service::internal)?))
}

#[server]
pub async fn save_procedure(code: String, name: String) -> Result<(), ServerFnError> {
    use crate::service::invitations::InviteError;
    let state = expect_context::<crate::service::AppState>();
    let Some(user) = ssr::admin(&state).await? else {
        return crate::service::refuse(
            axum::http::StatusCode::FORBIDDEN,
            "Chỉ quản trị tỉnh được sửa danh mục thủ tục.",
        );
    };
    match state.save_procedure(&user.username, &code, &name).await {
        Ok(()) => {
            leptos_axum::redirect("/admin/procedures");
            Ok(())
        }
        Err(InviteError::Service(error)) => Err(crate::service::internal(error)),
        Err(error) => crate::service::refuse(axum::http::StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use leptos::prelude::*;

    use crate::domain::account::Role;
    use crate::service::AppState;
    use crate::storage::User;

    /// The signed-in admin, if the request comes from one; sets 403 on the page for other users.
    pub async fn admin(state: &AppState) -> Result<Option<User>, ServerFnError> {
        match crate::account::server::ssr::signed_in(state).await? {
            Ok(user) if user.role == Role::Admin => Ok(Some(user)),
            Ok(_) => {
                if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                    response.set_status(axum::http::StatusCode::FORBIDDEN);
                }
                Ok(None)
            }
            Err(_) => Ok(None),
        }
    }
}

/// What an admin-only page loaded, or what to show instead: the admin notice (`None`: not an
/// admin) or the error.
pub(crate) fn admin_content<T>(loaded: Result<Option<T>, ServerFnError>) -> Result<T, AnyView> {
    match loaded {
        Ok(Some(content)) => Ok(content),
        Ok(None) => Err(view! {
            <p class="errors" role="alert">"Trang này dành cho quản trị tỉnh. "<a href="/login">"Đăng nhập"</a></p>
        }
        .into_any()),
        Err(error) => Err(view! { <p class="errors" role="alert">{error.to_string()}</p> }.into_any()),
    }
}

#[component]
pub fn ProceduresPage() -> impl IntoView {
    let save = ServerAction::<SaveProcedure>::new();
    let list = Resource::new_blocking(move || save.version().get(), |_| load_procedures());
    view! {
        <Title text="Danh mục thủ tục — Hài lòng" />
        <main class="admin">
            <h1>"Danh mục thủ tục hành chính"</h1>
            <Suspense fallback=|| view! { <p>"Đang tải…"</p> }>
                {move || Suspend::new(async move {
                    match admin_content(list.await) {
                        Ok(procedures) => view! {
                            <p>"Công chức một cửa chọn thủ tục trong danh mục này khi gửi phiếu khảo sát. Lưu một mã đã có để đổi tên."</p>
                            <table class="procedures">
                                <thead><tr><th>"Mã"</th><th>"Tên thủ tục"</th></tr></thead>
                                <tbody>
                                    {procedures.into_iter().map(|(code, name)| view! { <tr><td>{code}</td><td>{name}</td></tr> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(instead) => instead,
                    }
                })}
            </Suspense>
            <h2>"Thêm hoặc sửa thủ tục"</h2>
            <ActionForm action=save attr:class="login">
                <label><span>"Mã thủ tục"</span><input type="text" name="code" required maxlength="30" /></label>
                <label><span>"Tên thủ tục"</span><input type="text" name="name" required maxlength="200" /></label>
                {move || failure_alert(save.value().get())}
                <button type="submit" class="primary">"Lưu thủ tục"</button>
            </ActionForm>
        </main>
    }
}
