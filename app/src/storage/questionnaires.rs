//! The questionnaire versions: stored once each, immutable, one of them current.

use chrono::Utc;

use super::{on_pool, timestamp, Db, Result, StorageError};
use crate::domain::Questionnaire;

impl Db {
    /// Stores `questionnaire` (its original JSON `body`) as a new immutable version, unless that
    /// version exists already, and makes it the current one.
    pub async fn install_questionnaire(&self, questionnaire: &Questionnaire, body: &str) -> Result<()> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
            "INSERT INTO questionnaires (version, body, loaded_at) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING",
        )
        .bind(&questionnaire.version)
        .bind(body)
        .bind(timestamp(Utc::now()))
        .execute(&mut *tx)
        .await?;
            sqlx::query("UPDATE questionnaires SET is_current = FALSE WHERE is_current = TRUE AND version <> $1")
                .bind(&questionnaire.version)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE questionnaires SET is_current = TRUE WHERE version = $1")
                .bind(&questionnaire.version)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every questionnaire version ever installed.
    pub async fn questionnaires(&self) -> Result<Vec<Questionnaire>> {
        let bodies: Vec<String> =
            on_pool!(&self.read, |p| sqlx::query_scalar("SELECT body FROM questionnaires").fetch_all(p).await)?;
        bodies.iter().map(|b| Questionnaire::parse(b).map_err(|e| StorageError::Corrupt(e.to_string()))).collect()
    }

    pub async fn current_questionnaire(&self) -> Result<Option<Questionnaire>> {
        let body: Option<String> = on_pool!(&self.read, |p| {
            sqlx::query_scalar("SELECT body FROM questionnaires WHERE is_current = TRUE").fetch_optional(p).await
        })?;
        body.map(|b| Questionnaire::parse(&b).map_err(|e| StorageError::Corrupt(e.to_string()))).transpose()
    }
}
