//! `/admin/agencies`: the agency registry as a tree — add, rename, move, close with successors —
//! and a CSV upload whose preview (`/admin/agencies/import/{id}`) is applied in one step.

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use super::page::{AdminPage, CsvUpload};
use crate::access::{Notice, NoticeView, PageReply};
use crate::account::page::failure_alert;
use crate::domain::AgencyKind;

/// One agency as the tree shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgencyRow {
    pub code: String,
    pub name: String,
    pub kind: AgencyKind,
    pub parent: Option<String>,
    pub depth: usize,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    /// The successors of a closed agency with a split's shares: `07003 (60 %), 07004 (40 %)`.
    pub successors: String,
    pub serves: Vec<String>,
    /// "sáp nhập", "chia tách", … for a closed agency.
    pub reorganisation: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgenciesView {
    pub rows: Vec<AgencyRow>,
    /// The agency whose values fill the form (`?edit=CODE`).
    pub edit: Option<AgencyRow>,
    pub notice: Option<Notice>,
}

#[server]
pub async fn load_agencies(edit: Option<String>) -> Result<PageReply<AgenciesView>, ServerFnError> {
    use crate::domain::access::Action;
    use crate::domain::agency::depths;
    use crate::domain::registry::{reorganisation_label, successors_shown};
    let state = expect_context::<crate::service::AppState>();
    if let Err(refusal) = crate::access::guard::require(&state, Action::Administer).await? {
        return Ok(refusal);
    }
    let registry = state.registry().await.map_err(crate::service::internal)?;
    let agencies: Vec<_> = registry.iter().map(|e| e.agency.clone()).collect();
    let depth = depths(&agencies);
    let rows: Vec<AgencyRow> = registry
        .iter()
        .map(|entry| AgencyRow {
            code: entry.agency.code.clone(),
            name: entry.agency.name.clone(),
            kind: entry.agency.kind,
            parent: entry.agency.parent.clone(),
            depth: depth.get(&entry.agency.code).copied().unwrap_or_default(),
            valid_from: entry.agency.valid_from,
            valid_to: entry.agency.valid_to,
            successors: successors_shown(entry, str::to_owned),
            serves: entry.serves.clone(),
            reorganisation: reorganisation_label(entry, &registry).to_owned(),
        })
        .collect();
    let edit = edit.and_then(|code| rows.iter().find(|r| r.code == code).cloned());
    let notice = crate::access::request::take_flash(&state);
    Ok(PageReply::Ready(AgenciesView { rows, edit, notice }))
}

/// Adds an agency, or changes one (rename, move, kind, opening day, served agencies).
#[server]
pub async fn save_agency(
    code: String,
    name: String,
    kind: String,
    #[server(default)] parent: String,
    #[server(default)] valid_from: String,
    #[server(default)] serves: String,
) -> Result<(), ServerFnError> {
    use crate::domain::access::Action;
    use crate::domain::audit::AuditAction;
    use crate::domain::registry::ImportRow;
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, Action::Administer).await?;
    let row = ImportRow { line: 0, code, name, kind, parent, valid_from, successor: String::new(), serves };
    let plan = ssr::applied(state.apply_registry(&access.actor(), &[row], None, AuditAction::AgencySaved).await)?;
    ssr::done(&state, &plan, "/admin/agencies");
    Ok(())
}

/// Closes an agency on a day, naming the agencies that take over (merge, split, rename, move).
#[server]
pub async fn close_agency(code: String, closes_on: String, successors: String) -> Result<(), ServerFnError> {
    use crate::domain::access::Action;
    use crate::domain::audit::AuditAction;
    use crate::domain::registry::ImportRow;
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, Action::Administer).await?;
    let registry = state.registry().await.map_err(crate::service::internal)?;
    let Some(entry) = registry.iter().find(|e| e.agency.code == code.trim()) else {
        return crate::service::refuse(
            axum::http::StatusCode::NOT_FOUND,
            format!("Không có đơn vị mã {}.", code.trim()),
        );
    };
    if successors.trim().is_empty() {
        return crate::service::refuse(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "Hãy nhập mã đơn vị kế thừa: nơi tiếp nhận lịch sử và phiếu khảo sát của đơn vị này.",
        );
    }
    let row = ImportRow {
        line: 0,
        code: entry.agency.code.clone(),
        name: entry.agency.name.clone(),
        kind: entry.agency.kind.as_str().to_owned(),
        parent: entry.agency.parent.clone().unwrap_or_default(),
        valid_from: closes_on,
        successor: successors,
        serves: entry.serves.join(";"),
    };
    let plan = ssr::applied(state.apply_registry(&access.actor(), &[row], None, AuditAction::AgencyClosed).await)?;
    ssr::done(&state, &plan, "/admin/agencies");
    Ok(())
}

/// An uploaded file and what applying it would change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportPreview {
    pub id: i64,
    pub applied: bool,
    /// Why the signed-in admin cannot apply it now (another admin's upload, a registry changed
    /// since the upload); no button then.
    pub refusal: Option<String>,
    pub errors: Vec<String>,
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub closed: Vec<String>,
    pub unchanged: usize,
}

#[server]
pub async fn load_import(id: i64) -> Result<PageReply<ImportPreview>, ServerFnError> {
    use crate::domain::access::Action;
    use crate::domain::registry::describe_change;
    use crate::service::registry::RegistryError;
    use crate::service::AppState;
    let state = expect_context::<AppState>();
    let access = match crate::access::guard::require(&state, Action::Administer).await? {
        Ok(access) => access,
        Err(refusal) => return Ok(refusal),
    };
    let staged = match state.staged_registry_import(id).await {
        Ok(staged) => staged,
        Err(RegistryError::NoSuchImport) => {
            crate::access::request::set_status(axum::http::StatusCode::NOT_FOUND);
            return Ok(PageReply::Invalid("Không có tệp tải lên này.".into()));
        }
        Err(error) => return Err(crate::service::internal(error)),
    };
    let refusal = match state.check_staged_import(&access.actor(), &staged).await {
        Ok(()) | Err(RegistryError::AlreadyApplied) => None,
        Err(RegistryError::Service(error)) => return Err(crate::service::internal(error)),
        Err(error) => Some(error.to_string()),
    };
    let mut preview = ImportPreview {
        id,
        applied: staged.applied,
        refusal,
        errors: Vec::new(),
        added: Vec::new(),
        changed: Vec::new(),
        closed: Vec::new(),
        unchanged: 0,
    };
    let plan = match AppState::read_registry_csv(&staged.csv) {
        Ok(rows) => state.plan_registry(&rows).await,
        Err(error) => Err(error),
    };
    match plan {
        Ok(plan) => {
            preview.added = plan
                .added
                .iter()
                .map(|e| {
                    let parent = e.agency.parent.as_deref().map(|p| format!(", thuộc {p}")).unwrap_or_default();
                    format!("{} — {} ({}{parent})", e.agency.code, e.agency.name, e.agency.kind.label())
                })
                .collect();
            let line = |c: &crate::domain::registry::Change| {
                format!("{} — {}: {}", c.after.agency.code, c.after.agency.name, describe_change(c).join("; "))
            };
            preview.changed = plan.changed.iter().map(line).collect();
            preview.closed = plan.closed.iter().map(line).collect();
            preview.unchanged = plan.unchanged;
        }
        Err(RegistryError::Service(error)) => return Err(crate::service::internal(error)),
        Err(error) => preview.errors = error.messages(),
    }
    Ok(PageReply::Ready(preview))
}

#[server]
pub async fn apply_import(id: i64) -> Result<(), ServerFnError> {
    use crate::domain::access::Action;
    let state = expect_context::<crate::service::AppState>();
    let access = crate::access::guard::require_for_change(&state, Action::Administer).await?;
    let plan = ssr::applied(state.apply_staged_import(&access.actor(), id).await)?;
    ssr::done(&state, &plan, "/admin/agencies");
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    use leptos::prelude::*;

    use crate::access::request::{set_flash, Flash};
    use crate::domain::registry::ImportPlan;
    use crate::service::registry::RegistryError;
    use crate::service::AppState;

    /// The plan applied, or the refusal: 409 for a file applied twice or a registry changed
    /// since the plan (or the upload's preview), 403 for another admin's upload, 422 with every
    /// line wrong.
    pub fn applied(result: Result<ImportPlan, RegistryError>) -> Result<ImportPlan, ServerFnError> {
        use axum::http::StatusCode;
        match result {
            Ok(plan) => Ok(plan),
            Err(RegistryError::Service(error)) => Err(crate::service::internal(error)),
            Err(error @ (RegistryError::AlreadyApplied | RegistryError::RegistryChanged)) => {
                crate::service::refuse(StatusCode::CONFLICT, error.to_string())
            }
            Err(error @ RegistryError::NotYourImport(_)) => {
                crate::service::refuse(StatusCode::FORBIDDEN, error.to_string())
            }
            Err(error @ RegistryError::NoSuchImport) => {
                crate::service::refuse(StatusCode::NOT_FOUND, error.to_string())
            }
            Err(error) => crate::service::refuse(StatusCode::UNPROCESSABLE_ENTITY, error.messages().join("\n")),
        }
    }

    /// Tells the admin what changed, on the page the browser goes back to.
    pub fn done(state: &AppState, plan: &ImportPlan, to: &str) {
        let title = if plan.is_empty() {
            "Không có gì thay đổi.".to_owned()
        } else {
            format!("Đã lưu: {} thêm, {} sửa, {} đóng.", plan.added.len(), plan.changed.len(), plan.closed.len())
        };
        set_flash(state, &Flash { title, secret: None, note: String::new(), qr_text: None });
        leptos_axum::redirect(to);
    }
}

fn day(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default()
}

#[component]
pub fn AgenciesPage() -> impl IntoView {
    let save = ServerAction::<SaveAgency>::new();
    let close = ServerAction::<CloseAgency>::new();
    let query = use_query_map();
    let data = Resource::new_blocking(
        move || (save.version().get(), close.version().get(), query.with(|q| q.get("edit"))),
        |(_, _, edit)| load_agencies(edit),
    );
    let ready = move |view| view! { <AgenciesBody view save close /> }.into_any();
    view! {
        <AdminPage title="Danh mục đơn vị" heading="Danh mục cơ quan, đơn vị" data=data ready />
    }
}

#[component]
fn AgenciesBody(view: AgenciesView, save: ServerAction<SaveAgency>, close: ServerAction<CloseAgency>) -> impl IntoView {
    let AgenciesView { rows, edit, notice } = view;
    let open: Vec<&AgencyRow> = rows.iter().filter(|r| r.valid_to.is_none()).collect();
    let parents = open
        .iter()
        .map(|r| {
            let selected = edit.as_ref().and_then(|e| e.parent.as_deref()) == Some(r.code.as_str());
            let label = format!("{}{} ({})", "— ".repeat(r.depth), r.name, r.code);
            view! { <option value=r.code.clone() selected=selected>{label}</option> }
        })
        .collect_view();
    let closable = open
        .iter()
        .filter(|r| r.parent.is_some())
        .map(|r| view! { <option value=r.code.clone()>{format!("{} ({})", r.name, r.code)}</option> })
        .collect_view();
    let kinds = AgencyKind::ALL
        .into_iter()
        .map(|k| {
            let selected = edit.as_ref().map_or(k == AgencyKind::Commune, |e| e.kind == k);
            view! { <option value=k.as_str() selected=selected>{k.label()}</option> }
        })
        .collect_view();
    let value = |f: fn(&AgencyRow) -> String| edit.as_ref().map(f).unwrap_or_default();
    let (code, name) = (value(|e| e.code.clone()), value(|e| e.name.clone()));
    let valid_from = value(|e| e.valid_from.map(|d| d.to_string()).unwrap_or_default());
    let serves = value(|e| e.serves.join(";"));
    let editing = edit.is_some();
    let tree = rows
        .iter()
        .map(|r| {
            let status = match r.valid_to {
                None => format!("Hoạt động{}", r.valid_from.map(|d| format!(" từ {}", day(Some(d)))).unwrap_or_default()),
                Some(to) => format!("Đã đóng từ {} ({}: {})", day(Some(to)), r.reorganisation, r.successors),
            };
            let serves = (!r.serves.is_empty()).then(|| format!("Tiếp nhận hồ sơ của: {}", r.serves.join(", ")));
            view! {
                <tr class:closed=r.valid_to.is_some() data-code=r.code.clone()>
                    <td class=format!("tree-name depth-{}", r.depth.min(6))>
                        <strong>{r.name.clone()}</strong><br/><small>{r.code.clone()}</small>
                    </td>
                    <td>{r.kind.label()}</td>
                    <td>{status}<br/><small>{serves}</small></td>
                    <td>{r.valid_to.is_none().then(|| view! { <a href=format!("/admin/agencies?edit={}", r.code)>"Sửa"</a> })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <NoticeView notice />
        <p>
            <a href="/admin/agencies.csv">"Tải danh mục (CSV)"</a>
            " · Đơn vị đã đóng vẫn được giữ cùng phiếu khảo sát của nó; chỉ số của đơn vị kế thừa không tự cộng dồn."
        </p>
        <CsvUpload
            heading="Nhập từ tệp CSV"
            hint="Cột: code,name,kind,parent,valid_from,successor,serves (UTF-8, Excel: CSV UTF-8). Dòng có successor là đơn vị đóng vào ngày ở cột valid_from; đơn vị chia tách ghi kèm tỷ lệ phân bổ (07003:0.6;07004:0.4). Bạn sẽ xem trước thay đổi rồi mới áp dụng."
            action="/admin/agencies/import"
            button="Tải lên và xem trước"
        />
        <section>
            <h2>{if editing { "Sửa đơn vị" } else { "Thêm đơn vị" }}</h2>
            <ActionForm action=save attr:class="login agency-form">
                <label><span>"Mã đơn vị"</span><input type="text" name="code" required maxlength=crate::domain::agency::MAX_CODE_CHARS value=code readonly=editing /></label>
                <label><span>"Tên"</span><input type="text" name="name" required maxlength=crate::domain::agency::MAX_NAME_CHARS value=name /></label>
                <label><span>"Loại"</span><select name="kind">{kinds}</select></label>
                <label><span>"Đơn vị cha"</span><select name="parent"><option value="">"(không có — UBND tỉnh)"</option>{parents}</select></label>
                <label><span>"Hoạt động từ ngày"</span><input type="date" name="valid_from" value=valid_from /></label>
                <label><span>"Tiếp nhận hồ sơ của (mã, cách nhau bởi ;)"</span><input type="text" name="serves" value=serves /></label>
                {move || failure_alert(save.value().get())}
                <button type="submit" class="primary">"Lưu đơn vị"</button>
            </ActionForm>
        </section>
        <section>
            <h2>"Đóng đơn vị (sáp nhập, chia tách, đổi mã)"</h2>
            <ActionForm action=close attr:class="login">
                <label><span>"Đơn vị"</span><select name="code">{closable}</select></label>
                <label><span>"Đóng từ ngày"</span><input type="date" name="closes_on" required /></label>
                <label>
                    <span>"Đơn vị kế thừa (mã, cách nhau bởi ;)"</span>
                    <input type="text" name="successors" required size="40" aria-describedby="successor-hint" />
                </label>
                <p class="hint" id="successor-hint">"Chia tách: ghi kèm tỷ lệ phân bổ phiếu và hồ sơ cho từng đơn vị, cộng lại bằng 1, ví dụ 07003:0.6;07004:0.4. Không có tỷ lệ thì số liệu quy đổi để nguyên đơn vị cũ và báo cáo ghi chú điều đó."</p>
                {move || failure_alert(close.value().get())}
                <button type="submit" class="secondary">"Đóng đơn vị"</button>
            </ActionForm>
        </section>
        <section>
            <h2>"Cây đơn vị"</h2>
            <table class="agencies">
                <thead><tr><th>"Đơn vị"</th><th>"Loại"</th><th>"Hiệu lực"</th><th></th></tr></thead>
                <tbody>{tree}</tbody>
            </table>
        </section>
    }
}

#[component]
pub fn ImportPreviewPage() -> impl IntoView {
    let params = use_params_map();
    let apply = ServerAction::<ApplyImport>::new();
    let preview = Resource::new_blocking(
        move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or_default()),
        load_import,
    );
    let ready = move |p| view! { <PreviewBody preview=p apply /> }.into_any();
    view! {
        <AdminPage title="Xem trước tệp đơn vị" heading="Xem trước thay đổi danh mục đơn vị" data=preview ready />
    }
}

#[component]
fn PreviewBody(preview: ImportPreview, apply: ServerAction<ApplyImport>) -> impl IntoView {
    let list = |title: &'static str, id: &'static str, lines: Vec<String>| {
        (!lines.is_empty()).then(|| {
            view! {
                <h2>{format!("{title} ({})", lines.len())}</h2>
                <ul id=id>{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
            }
        })
    };
    if !preview.errors.is_empty() {
        return view! {
            <p class="errors" role="alert">"Tệp có lỗi nên chưa áp dụng được. Sửa các dòng dưới đây rồi tải lên lại:"</p>
            <ul class="errors" id="import-errors">{preview.errors.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
            <p><a href="/admin/agencies">"Về danh mục đơn vị"</a></p>
        }
        .into_any();
    }
    let nothing = preview.added.is_empty() && preview.changed.is_empty() && preview.closed.is_empty();
    view! {
        {preview.applied.then(|| view! { <p role="status">"Tệp này đã được áp dụng."</p> })}
        {preview.refusal.clone().map(|why| view! { <p class="errors" role="alert" id="import-refusal">{why}</p> })}
        {list("Thêm mới", "import-added", preview.added)}
        {list("Thay đổi", "import-changed", preview.changed)}
        {list("Đóng", "import-closed", preview.closed)}
        <p>{format!("{} đơn vị không thay đổi.", preview.unchanged)}</p>
        {(!preview.applied && preview.refusal.is_none() && !nothing).then(|| view! {
            <ActionForm action=apply>
                <input type="hidden" name="id" value=preview.id />
                {move || failure_alert(apply.value().get())}
                <button type="submit" class="primary">"Áp dụng các thay đổi"</button>
            </ActionForm>
        })}
        <p><a href="/admin/agencies">"Về danh mục đơn vị"</a></p>
    }
    .into_any()
}
