//! `/admin/procedures`: the list of procedures officers pick from, extended by an admin.

use leptos::prelude::*;

use super::page::AdminPage;
use crate::access::PageReply;
use crate::account::page::failure_alert;

#[server]
pub async fn load_procedures() -> Result<PageReply<Vec<(String, String)>>, ServerFnError> {
    let state = expect_context::<crate::service::AppState>();
    if let Err(refusal) = crate::access::guard::require(&state, crate::domain::access::Action::Administer).await? {
        return Ok(refusal);
    }
    Ok(PageReply::Ready(state.procedures().await.map_err(crate::service::internal)?))
}

#[server]
pub async fn save_procedure(code: String, name: String) -> Result<(), ServerFnError> {
    use crate::service::invitations::InviteError;
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, crate::domain::access::Action::Administer).await?;
    match state.save_procedure(&access.actor(), &code, &name).await {
        Ok(()) => {
            leptos_axum::redirect("/admin/procedures");
            Ok(())
        }
        Err(InviteError::Service(error)) => Err(crate::service::internal(error)),
        Err(error) => crate::service::refuse(axum::http::StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
    }
}

#[component]
pub fn ProceduresPage() -> impl IntoView {
    let save = ServerAction::<SaveProcedure>::new();
    let procedures = Resource::new_blocking(move || save.version().get(), |_| load_procedures());
    let ready = move |procedures: Vec<(String, String)>| {
        view! {
                        <table class="procedures">
                            <thead><tr><th>"Mã"</th><th>"Tên thủ tục"</th></tr></thead>
                            <tbody>
                                {procedures.into_iter().map(|(code, name)| view! { <tr><td>{code}</td><td>{name}</td></tr> }).collect_view()}
                            </tbody>
                        </table>
                        <h2>"Thêm hoặc sửa thủ tục"</h2>
                        <ActionForm action=save attr:class="login">
                            <label><span>"Mã thủ tục"</span><input type="text" name="code" required maxlength=crate::domain::invitation::MAX_PROCEDURE_CODE_CHARS /></label>
                            <label><span>"Tên thủ tục"</span><input type="text" name="name" required maxlength=crate::domain::invitation::MAX_PROCEDURE_NAME_CHARS /></label>
                            {move || failure_alert(save.value().get())}
                            <button type="submit" class="primary">"Lưu thủ tục"</button>
                        </ActionForm>
        }
        .into_any()
    };
    view! {
        <AdminPage title="Danh mục thủ tục" heading="Danh mục thủ tục hành chính" data=procedures ready>
            <p>"Công chức một cửa chọn thủ tục trong danh mục này khi gửi phiếu khảo sát cho một hồ sơ."</p>
        </AdminPage>
    }
}
