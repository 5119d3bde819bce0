//! The admin pages' navigation bar.

use leptos::prelude::*;

use crate::access::LogOutButton;

/// Links to every admin page (a manager who follows one gets a clear 403).
#[component]
pub fn AdminNav() -> impl IntoView {
    let links = [
        ("/admin", "Chỉ số"),
        ("/admin/agencies", "Đơn vị"),
        ("/admin/kiosks", "Kiosk"),
        ("/admin/users", "Tài khoản"),
        ("/admin/keys", "Khóa API"),
        ("/admin/procedures", "Thủ tục"),
        ("/admin/dossiers", "Số hồ sơ"),
        ("/admin/outbox", "Hộp thư đi"),
        ("/admin/audit", "Nhật ký"),
        ("/account/password", "Đổi mật khẩu"),
    ];
    view! {
        <nav class="admin-nav" aria-label="Quản trị">
            <ul>{links.into_iter().map(|(href, label)| view! { <li><a href=href>{label}</a></li> }).collect_view()}</ul>
            <LogOutButton />
        </nav>
    }
}
