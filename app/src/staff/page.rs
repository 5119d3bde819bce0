//! Staff components: the invitation form, and an invitation's link, QR code and print slip.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::server::{
    load_invitation, load_invite_form, CreateInvitation, InvitationView, InviteForm, RecentInvitation,
};
use crate::access::Loaded;
use crate::account::page::failure_alert;

#[component]
pub fn InvitePage() -> impl IntoView {
    let form = Resource::new_blocking(|| (), |_| load_invite_form());
    view! {
        <Title text="Gửi phiếu khảo sát — Hài lòng" />
        <main class="admin staff">
            <Loaded data=form ready={|form: InviteForm| view! { <InviteFormView form /> }.into_any()} />
        </main>
    }
}

#[component]
fn InviteFormView(form: InviteForm) -> impl IntoView {
    let create = ServerAction::<CreateInvitation>::new();
    let no_procedures = form.procedures.is_empty().then(|| {
        view! {
            <p class="errors" role="alert">
                "Danh mục thủ tục hành chính đang trống, nên chưa gửi được phiếu. Đề nghị quản trị tỉnh thêm thủ tục tại trang Danh mục thủ tục (/admin/procedures)."
            </p>
        }
    });
    let procedures =
        form.procedures.into_iter().map(|(code, name)| view! { <option value=code>{name}</option> }).collect_view();
    let agencies = form
        .agencies
        .into_iter()
        .map(|(code, name)| {
            let selected = form.default_agency.as_deref() == Some(code.as_str());
            view! { <option value=code selected=selected>{name}</option> }
        })
        .collect_view();
    let reprint = form.reprint_minutes;
    let intro = if form.api_only {
        view! {
            <p class="notice" role="note">
                "Tỉnh nhận lời mời khảo sát từ phần mềm một cửa; phần mềm gửi đường dẫn cho người dân. Tại đây chỉ tra cứu tình trạng lời mời của một hồ sơ."
            </p>
        }
        .into_any()
    } else {
        view! {
            <p>"Khi trả kết quả hồ sơ, tạo đường dẫn khảo sát để người dân trả lời trên điện thoại. Mỗi hồ sơ chỉ có một đường dẫn, dùng được một lần; phiếu trả lời không gắn với hồ sơ hay người dân."</p>
            <p class="hint">{format!("Đường dẫn thuộc về người dân: chỉ người tạo xem và in được, trong {reprint} phút sau khi tạo. Nhập mã một hồ sơ đã có lời mời để xem tình trạng.")}</p>
            {no_procedures}
        }
        .into_any()
    };
    let creating = (!form.api_only).then(|| {
        view! {
            <label><span>"Thủ tục hành chính"</span><select name="procedure" required>{procedures}</select></label>
        }
    });
    let contacts = (!form.api_only).then(|| {
        view! {
            <fieldset class="contacts">
                <legend>"Gửi đường dẫn cho người dân (không bắt buộc)"</legend>
                <label>
                    <span>"Số điện thoại di động"</span>
                    <input type="tel" name="phone" inputmode="tel" autocomplete="off" maxlength="20" placeholder="0912 345 678" />
                </label>
                <label>
                    <span>"E-mail"</span>
                    <input type="email" name="email" autocomplete="off" maxlength="254" placeholder="ten@example.vn" />
                </label>
                <p class="hint">"Số điện thoại và e-mail chỉ dùng để gửi đường dẫn này và bị xóa ngay khi đã gửi xong hoặc khi đường dẫn hết hạn."</p>
            </fieldset>
        }
    });
    let (heading, button) = if form.api_only {
        ("Tra cứu lời mời khảo sát", "Tra cứu")
    } else {
        ("Gửi phiếu khảo sát", "Tạo đường dẫn khảo sát")
    };
    view! {
        <h1>{heading}</h1>
        {intro}
        <ActionForm action=create attr:class="login invite">
            <label>
                <span>"Mã hồ sơ"</span>
                <input type="text" name="dossier_code" required maxlength=crate::domain::invitation::MAX_DOSSIER_CODE_CHARS autocomplete="off" />
            </label>
            {creating}
            {form.api_only.then(|| view! { <input type="hidden" name="procedure" value="" /> })}
            <label><span>"Cơ quan giải quyết"</span><select name="agency" required>{agencies}</select></label>
            {contacts}
            {move || failure_alert(create.value().get())}
            <button type="submit" class="primary">{button}</button>
        </ActionForm>
        <RecentInvitations recent=form.recent />
    }
}

/// The officer's latest invitations, to follow whether each was sent and answered.
#[component]
fn RecentInvitations(recent: Vec<RecentInvitation>) -> impl IntoView {
    if recent.is_empty() {
        return ().into_any();
    }
    let rows = recent
        .into_iter()
        .map(|r| {
            let sending = r
                .deliveries
                .iter()
                .map(|d| format!("{}: {}", d.medium, d.status.short()))
                .collect::<Vec<_>>()
                .join(" · ");
            view! {
                <tr>
                    <td><a href=format!("/staff/invitations/{}/{}", r.agency_code, r.dossier_code)>{r.dossier_code.clone()}</a></td>
                    <td>{r.procedure_name}<br/><small>{r.agency_name}</small></td>
                    <td>{r.created}</td>
                    <td>{r.status.label()}</td>
                    <td>{sending}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2>"Lời mời gần đây"</h2>
        <table class="recent-invitations">
            <thead><tr><th>"Mã hồ sơ"</th><th>"Thủ tục"</th><th>"Tạo lúc"</th><th>"Phiếu"</th><th>"Gửi đường dẫn"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
pub fn InvitationPage() -> impl IntoView {
    let params = use_params_map();
    let invitation = Resource::new_blocking(
        move || params.with(|p| (p.get("agency").unwrap_or_default(), p.get("dossier").unwrap_or_default())),
        |(agency, dossier)| load_invitation(agency, dossier),
    );
    view! {
        <Title text="Đường dẫn khảo sát — Hài lòng" />
        <main class="admin staff">
            <Loaded data=invitation ready={|view: InvitationView| view! { <InvitationSlip invitation=view /> }.into_any()} />
        </main>
    }
}

#[component]
fn InvitationSlip(invitation: InvitationView) -> impl IntoView {
    let InvitationView { dossier_code, procedure_name, agency_name, link, no_link, expires_on, status, deliveries } =
        invitation;
    let deliveries = (!deliveries.is_empty()).then(|| {
        let rows = deliveries
            .into_iter()
            .map(|d| {
                view! {
                    <tr class=format!("delivery-{}", d.status.as_str()) data-status=d.status.as_str()>
                        <td>{d.medium}</td><td>{d.recipient}</td><td>{d.detail}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="deliveries">
                <caption>"Gửi đường dẫn"</caption>
                <thead><tr><th>"Cách gửi"</th><th>"Người nhận"</th><th>"Tình trạng"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let Some(link) = link else {
        return view! {
            <h1>"Lời mời khảo sát của hồ sơ " {dossier_code}</h1>
            <p>"Tình trạng: " <strong id="invitation-status">{status.label()}</strong> " · Hạn trả lời: " {expires_on}</p>
            <p>{procedure_name} " — " {agency_name}</p>
            <p class="notice" id="no-link" role="note">{no_link}</p>
            {deliveries}
            <p><a href="/staff">"Gửi phiếu cho hồ sơ khác"</a></p>
        }
        .into_any();
    };
    view! {
        <div class="no-print">
            <h1>"Đường dẫn khảo sát của hồ sơ " {dossier_code.clone()}</h1>
            <p>"Tình trạng: " <strong id="invitation-status">{status.label()}</strong> " · Hạn trả lời: " {expires_on.clone()}</p>
            <p>"Đường dẫn: " <a id="survey-link" href=link.url.clone()>{link.url.clone()}</a></p>
            <p class="hint">{format!("Đường dẫn thuộc về người dân: hãy trao phiếu mời cho họ. Chỉ bạn xem và in lại được, đến {}.", link.printable_until)}</p>
            {deliveries}
            <p>"Bấm Ctrl+P (hoặc nút In của trình duyệt) để in phiếu mời khổ A6 bên dưới. "
               <a href="/staff">"Gửi phiếu cho hồ sơ khác"</a></p>
        </div>
        <section class="slip" aria-label="Phiếu mời khảo sát">
            <h2>"Mời Ông/Bà đánh giá sự phục vụ"</h2>
            <p class="slip-agency">{agency_name}</p>
            <p>"Thủ tục: " {procedure_name}</p>
            <div class="qr" inner_html=link.qr_svg></div>
            <p class="slip-link">{link.url}</p>
            <p>"Quét mã QR bằng điện thoại để trả lời phiếu khảo sát ẩn danh (khoảng 2 phút), trước ngày " {expires_on} "."</p>
        </section>
    }
    .into_any()
}
