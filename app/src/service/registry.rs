//! The agency registry: starting a province, importing and exporting the tree, the admin's
//! changes one agency at a time. Every change goes through `domain::registry::plan`, and is
//! stored only if the registry is still the one it was planned against (an upload: the one its
//! preview showed, and only by the admin who uploaded it).

use chrono::Utc;

use super::{AppState, ServiceError};
use crate::domain::account::Role;
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::registry::{self, ImportPlan, ImportRow, NotSaved, RegistryEntry, RowError};
use crate::storage::StagedImport;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Every line that is wrong; nothing was changed.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<RowError>),
    #[error("Hệ thống đã được khởi tạo (đã có đơn vị {0}); không khởi tạo lại được.")]
    AlreadyInitialised(String),
    #[error("Tệp này đã được áp dụng rồi.")]
    AlreadyApplied,
    #[error("Không có tệp tải lên này.")]
    NoSuchImport,
    /// Another admin's upload: only the one who previewed it may apply it.
    #[error(
        "Tệp này do tài khoản {0} tải lên; chỉ người đã tải lên và xem trước mới áp dụng được. \
         Nếu cần, hãy tự tải tệp lên để xem trước."
    )]
    NotYourImport(String),
    /// The registry changed after the plan (or the upload's preview) was made.
    #[error(
        "Danh mục đơn vị đã thay đổi sau khi xem trước nên chưa áp dụng gì. \
         Hãy tải tệp lên lại để xem trước các thay đổi so với danh mục hiện nay."
    )]
    RegistryChanged,
    #[error(transparent)]
    Account(#[from] super::accounts::AccountServiceError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::storage::StorageError> for RegistryError {
    fn from(error: crate::storage::StorageError) -> Self {
        Self::Service(error.into())
    }
}

impl RegistryError {
    /// The row errors, or the one message.
    pub fn messages(&self) -> Vec<String> {
        match self {
            Self::Rows(rows) => rows.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        }
    }
}

/// What the first admin gets from `hailong init`.
pub struct Initialised {
    pub username: String,
    pub one_time_password: String,
}

impl AppState {
    /// Starts a province on an empty database: its root agency and the first admin account.
    pub async fn init_province(
        &self,
        code: &str,
        name: &str,
        admin_username: &str,
    ) -> Result<Initialised, RegistryError> {
        let current = self.db.registry().await?;
        if let Some(first) = current.first() {
            return Err(RegistryError::AlreadyInitialised(first.agency.code.clone()));
        }
        let row = ImportRow { code: code.into(), name: name.into(), kind: "province".into(), ..ImportRow::default() };
        let plan = registry::plan(&current, &[row]).map_err(RegistryError::Rows)?;
        let actor = Actor::cli();
        let entries: Vec<&RegistryEntry> = plan.entries().collect();
        let subject = format!("{} {}", code.trim(), name.trim());
        saved(
            self.db
                .save_registry(&entries, &registry::fingerprint(&current), None, &actor, AuditAction::Init, &subject)
                .await?,
        )?;
        self.lookups.forget();
        let one_time_password = self.add_user(&actor, admin_username, Role::Admin, None).await?;
        Ok(Initialised { username: admin_username.trim().to_lowercase(), one_time_password })
    }

    /// Every agency, open or closed, in tree order.
    pub async fn agencies(&self) -> Result<Vec<crate::domain::Agency>, ServiceError> {
        Ok(self.db.agencies().await?)
    }

    pub async fn agency(&self, code: &str) -> Result<Option<crate::domain::Agency>, ServiceError> {
        Ok(self.db.agency(code.trim()).await?)
    }

    /// The agencies open today, in tree order: what a form may offer to choose.
    pub async fn open_agencies(&self) -> Result<Vec<crate::domain::Agency>, ServiceError> {
        let today = today();
        Ok(self.db.agencies().await?.into_iter().filter(|a| a.is_open_on(today)).collect())
    }

    /// The agencies open today whose dossiers a service point receives.
    pub async fn served_agencies(&self, point: &str) -> Result<Vec<crate::domain::Agency>, ServiceError> {
        Ok(self.db.served_agencies(point, today()).await?)
    }

    /// The whole registry in tree order.
    pub async fn registry(&self) -> Result<Vec<RegistryEntry>, ServiceError> {
        Ok(self.db.registry().await?)
    }

    /// What `rows` would change; nothing is stored.
    pub async fn plan_registry(&self, rows: &[ImportRow]) -> Result<ImportPlan, RegistryError> {
        self.plan_against(&self.db.registry().await?, rows).await
    }

    async fn plan_against(&self, current: &[RegistryEntry], rows: &[ImportRow]) -> Result<ImportPlan, RegistryError> {
        let plan = registry::plan(current, rows).map_err(RegistryError::Rows)?;
        self.check_closed_points(&plan, rows).await?;
        Ok(plan)
    }

    /// Checks and applies `rows` in one transaction, refused if the registry changes meanwhile;
    /// returns what changed. `staged`, an upload (see [`Self::apply_staged_import`], which also
    /// checks who applies it), is applied only to the registry its preview was made from.
    pub async fn apply_registry(
        &self,
        actor: &Actor,
        rows: &[ImportRow],
        staged: Option<i64>,
        action: AuditAction,
    ) -> Result<ImportPlan, RegistryError> {
        let current = self.db.registry().await?;
        let seen = registry::fingerprint(&current);
        if let Some(id) = staged {
            let previewed = self.staged_registry_import(id).await?.registry_fingerprint;
            if previewed.as_deref() != Some(seen.as_str()) {
                return Err(RegistryError::RegistryChanged);
            }
        }
        let plan = self.plan_against(&current, rows).await?;
        let entries: Vec<&RegistryEntry> = plan.entries().collect();
        let subject = format!(
            "{} thêm, {} sửa, {} đóng{}",
            plan.added.len(),
            plan.changed.len(),
            plan.closed.len(),
            summary(&entries)
        );
        saved(self.db.save_registry(&entries, &seen, staged, actor, action, &subject).await?)?;
        // Which agencies a service point serves may have changed.
        self.lookups.forget();
        Ok(plan)
    }

    /// Reads a registry CSV file (see `domain::registry::csv`) into rows.
    pub fn read_registry_csv(text: &str) -> Result<Vec<ImportRow>, RegistryError> {
        registry::csv::read(text).map_err(RegistryError::Rows)
    }

    /// The registry as a CSV file that imports back unchanged.
    pub async fn export_registry(&self) -> Result<String, ServiceError> {
        Ok(registry::csv::write(&self.db.registry().await?))
    }

    /// Keeps an uploaded CSV, with who uploaded it and the registry it is previewed against,
    /// so that its preview and its apply read the same text over the same registry.
    pub async fn stage_registry_import(&self, actor: &Actor, csv: &str) -> Result<i64, RegistryError> {
        // Unreadable files are refused at once, before anything is kept.
        Self::read_registry_csv(csv)?;
        let fingerprint = registry::fingerprint(&self.db.registry().await?);
        Ok(self.db.stage_import(csv, &actor.name, &fingerprint).await?)
    }

    pub async fn staged_registry_import(&self, id: i64) -> Result<StagedImport, RegistryError> {
        self.db.staged_import(id).await?.ok_or(RegistryError::NoSuchImport)
    }

    /// Why `actor` cannot apply `staged` now (applied already, another admin's upload, the
    /// registry changed since its preview), or `Ok` if they can: what the preview page tells
    /// before the button, and what the apply checks again.
    pub async fn check_staged_import(&self, actor: &Actor, staged: &StagedImport) -> Result<(), RegistryError> {
        if staged.applied {
            return Err(RegistryError::AlreadyApplied);
        }
        if staged.uploaded_by != actor.name {
            return Err(RegistryError::NotYourImport(staged.uploaded_by.clone()));
        }
        let now = registry::fingerprint(&self.db.registry().await?);
        if staged.registry_fingerprint.as_deref() != Some(now.as_str()) {
            return Err(RegistryError::RegistryChanged);
        }
        Ok(())
    }

    /// Applies an uploaded CSV after its preview, as [`Self::check_staged_import`] allows; the
    /// registry is compared again in the transaction that stores the change.
    pub async fn apply_staged_import(&self, actor: &Actor, id: i64) -> Result<ImportPlan, RegistryError> {
        let staged = self.staged_registry_import(id).await?;
        self.check_staged_import(actor, &staged).await?;
        let rows = Self::read_registry_csv(&staged.csv)?;
        self.apply_registry(actor, &rows, Some(id), AuditAction::AgenciesImported).await
    }

    /// A service point being closed must not keep kiosks: they would have nothing to collect for.
    async fn check_closed_points(&self, plan: &ImportPlan, rows: &[ImportRow]) -> Result<(), RegistryError> {
        let closing: Vec<String> = plan.closed.iter().map(|c| c.after.agency.code.clone()).collect();
        let live = self.db.live_kiosks_at(&closing).await?;
        if live.is_empty() {
            return Ok(());
        }
        Err(RegistryError::Rows(
            live.into_iter()
                .map(|(code, count)| RowError {
                    line: rows.iter().find(|r| r.code.trim() == code).map_or(0, |r| r.line),
                    code,
                    message: format!(
                        "còn {count} kiosk đang hoạt động tại đơn vị này; hãy chuyển hoặc thu hồi trước khi đóng"
                    ),
                })
                .collect(),
        ))
    }
}

/// Storage's refusal as the service's error.
fn saved(outcome: Result<(), NotSaved>) -> Result<(), RegistryError> {
    outcome.map_err(|refusal| match refusal {
        NotSaved::AlreadyApplied => RegistryError::AlreadyApplied,
        NotSaved::RegistryChanged => RegistryError::RegistryChanged,
    })
}

/// The first few codes of a change, for the audit line.
fn summary(entries: &[&RegistryEntry]) -> String {
    let codes: Vec<&str> = entries.iter().take(10).map(|e| e.agency.code.as_str()).collect();
    match (codes.is_empty(), entries.len() > codes.len()) {
        (true, _) => String::new(),
        (false, false) => format!(": {}", codes.join(", ")),
        (false, true) => format!(": {}, …", codes.join(", ")),
    }
}

/// Today, for callers that need the registry's view of it.
pub fn today() -> chrono::NaiveDate {
    crate::domain::period::vietnam_day(Utc::now())
}
