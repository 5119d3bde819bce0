//! The login and change-password pages; plain forms that also work with JavaScript off.

use leptos::prelude::*;
use leptos_meta::Title;

use super::server::{password_owner, ChangePassword, LogIn};
use crate::domain::account::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};

/// The message of a failed server function, without its technical prefix.
pub fn failure_message<T>(result: Option<Result<T, ServerFnError>>) -> Option<String> {
    result.and_then(Result::err).map(|error| match error {
        // What the server function said, whole (messages may contain ": ").
        ServerFnError::ServerError(message) => message,
        _ => "Không gửi được yêu cầu tới máy chủ, vui lòng kiểm tra kết nối và thử lại.".to_owned(),
    })
}

/// The message of a failed server function as an alert, or nothing.
pub fn failure_alert<T>(result: Option<Result<T, ServerFnError>>) -> impl IntoView {
    failure_message(result).map(|m| view! { <p class="errors" role="alert">{m}</p> })
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<LogIn>::new();
    view! {
        <Title text="Đăng nhập — Hài lòng" />
        <main class="admin">
            <h1>"Đăng nhập"</h1>
            <ActionForm action=login attr:class="login">
                <label>
                    <span>"Tên đăng nhập"</span>
                    <input type="text" name="username" required autocomplete="username" autocapitalize="none" />
                </label>
                <label>
                    <span>"Mật khẩu"</span>
                    <input type="password" name="password" required autocomplete="current-password" />
                </label>
                {move || failure_alert(login.value().get())}
                <button type="submit" class="primary">"Đăng nhập"</button>
            </ActionForm>
        </main>
    }
}

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let owner = Resource::new_blocking(|| (), |_| password_owner());
    view! {
        <Title text="Đổi mật khẩu — Hài lòng" />
        <main class="admin">
            <h1>"Đổi mật khẩu"</h1>
            <Suspense fallback=|| view! { <p>"Đang tải…"</p> }>
                {move || Suspend::new(async move {
                    match owner.await {
                        Ok(Some(username)) => view! { <ChangePasswordForm username /> }.into_any(),
                        Ok(None) => view! {
                            <p class="errors" role="alert">"Cần đăng nhập trước khi đổi mật khẩu. "<a href="/login">"Đăng nhập"</a></p>
                        }.into_any(),
                        Err(error) => view! { <p class="errors" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn ChangePasswordForm(username: String) -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    view! {
            <p>"Tài khoản " <strong>{username}</strong> {format!(". Mật khẩu mới cần ít nhất {MIN_PASSWORD_CHARS} ký tự. Các phiên đăng nhập khác của bạn sẽ kết thúc.")}</p>
            <ActionForm action=change attr:class="login">
                <label>
                    <span>"Mật khẩu hiện tại"</span>
                    <input type="password" name="current" required autocomplete="current-password" />
                </label>
                <label>
                    <span>"Mật khẩu mới"</span>
                    <input type="password" name="new" required minlength=MIN_PASSWORD_CHARS maxlength=MAX_PASSWORD_CHARS autocomplete="new-password" />
                </label>
                <label>
                    <span>"Nhập lại mật khẩu mới"</span>
                    <input type="password" name="confirm" required minlength=MIN_PASSWORD_CHARS maxlength=MAX_PASSWORD_CHARS autocomplete="new-password" />
                </label>
                {move || failure_alert(change.value().get())}
                <button type="submit" class="primary">"Đổi mật khẩu"</button>
            </ActionForm>
    }
}
