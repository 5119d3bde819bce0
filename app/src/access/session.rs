//! Ending a session: the server function and the button every signed-in page carries.

use leptos::prelude::*;

#[server]
pub async fn log_out() -> Result<(), ServerFnError> {
    use super::request::Cookie;

    let state = expect_context::<crate::service::AppState>();
    if let Some(token) = super::guard::session_token() {
        state.logout(&token).await.map_err(crate::service::internal)?;
    }
    Cookie::Session.set(&state, "", 0);
    leptos_axum::redirect("/login");
    Ok(())
}

#[component]
pub fn LogOutButton() -> impl IntoView {
    let log_out = ServerAction::<LogOut>::new();
    view! {
        <ActionForm action=log_out attr:class="logout">
            <button type="submit" class="secondary">"Đăng xuất"</button>
        </ActionForm>
    }
}
