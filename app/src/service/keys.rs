//! API keys for one-stop software: each scoped to an agency subtree, shown once, revocable.

use super::{secret, AppState, ServiceError};
use crate::domain::audit::Actor;
use crate::storage::ApiKeyListing;

/// Longest name of the software a key is for.
pub const MAX_KEY_NAME_CHARS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("Tên phần mềm dùng khóa phải có từ 1 đến 100 ký tự.")]
    BadName,
    #[error("Không có khóa này, hoặc khóa đã bị thu hồi.")]
    NotFound,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::storage::StorageError> for KeyError {
    fn from(error: crate::storage::StorageError) -> Self {
        Self::Service(error.into())
    }
}

impl AppState {
    /// Creates a key scoped to `agency`'s subtree for the software `name`; returns (id, key).
    /// The key is shown once and stored hashed.
    pub async fn register_api_key(&self, actor: &Actor, agency: &str, name: &str) -> Result<(i64, String), KeyError> {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        if !(1..=MAX_KEY_NAME_CHARS).contains(&name.chars().count()) {
            return Err(KeyError::BadName);
        }
        let agency = agency.trim();
        if self.db.agency(agency).await?.is_none() {
            return Err(ServiceError::UnknownAgency(agency.to_owned()).into());
        }
        let key = secret::new_token();
        let id = self.db.add_api_key(agency, &name, &secret::hash(&key), actor).await?;
        Ok((id, key))
    }

    pub async fn api_keys(&self) -> Result<Vec<ApiKeyListing>, ServiceError> {
        Ok(self.db.api_keys().await?)
    }

    pub async fn revoke_api_key(&self, actor: &Actor, id: i64) -> Result<(), KeyError> {
        if !self.db.revoke_api_key(id, actor).await? {
            return Err(KeyError::NotFound);
        }
        Ok(())
    }

    /// The id of a live key and the agency it covers (its subtree), noting when it was last used.
    pub async fn api_key_agency(&self, key: &str) -> Result<Option<(i64, String)>, ServiceError> {
        let Some((id, agency)) = self.db.api_key(&secret::hash(key)).await? else { return Ok(None) };
        if let Some(minute) = self.note_once_a_minute(format!("apikey:{id}")) {
            self.db.touch_api_key(id, minute).await?;
        }
        Ok(Some((id, agency)))
    }
}
