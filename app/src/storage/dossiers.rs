//! Completed dossiers per agency and month, as the province enters them.

use chrono::{NaiveDate, Utc};
use sqlx::{QueryBuilder, Row};

use super::{insert_audit, on_pool, timestamp, AsConn, Db, Result, StorageError};
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::dossiers::{parse_month, DossierCount};

impl Db {
    /// Stores `counts` (replacing the agency-months they name) in one transaction, with one
    /// audit line.
    pub async fn save_dossier_counts(&self, counts: &[DossierCount], actor: &Actor) -> Result<()> {
        on_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            let entered = timestamp(Utc::now());
            for chunk in counts.chunks(500) {
                let mut insert =
                    QueryBuilder::new("INSERT INTO dossier_counts (agency_code, month, completed, entered_at) ");
                insert.push_values(chunk, |mut row, count| {
                    row.push_bind(count.agency.clone())
                        .push_bind(count.month.format("%Y-%m").to_string())
                        .push_bind(count.completed as i64)
                        .push_bind(entered.clone());
                });
                insert.push(
                    " ON CONFLICT (agency_code, month) DO UPDATE SET completed = excluded.completed, entered_at = excluded.entered_at",
                );
                insert.build().execute(&mut *tx).await?;
            }
            let subject = format!("{} dòng", counts.len());
            insert_audit(tx.conn(), actor, AuditAction::DossiersEntered, &subject).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The counts entered for the months `first..=last` (first days of months), newest month
    /// first, agencies in code order.
    pub async fn dossier_counts(&self, first: NaiveDate, last: NaiveDate) -> Result<Vec<DossierCount>> {
        on_pool!(&self.read, |p| {
            let rows = sqlx::query(
            "SELECT agency_code, month, completed FROM dossier_counts WHERE month >= $1 AND month <= $2 ORDER BY month DESC, agency_code",
        )
        .bind(first.format("%Y-%m").to_string())
        .bind(last.format("%Y-%m").to_string())
        .fetch_all(p)
        .await?;
            rows.iter()
                .map(|row| {
                    let month: &str = row.get("month");
                    Ok(DossierCount {
                        agency: row.get("agency_code"),
                        month: parse_month(month)
                            .ok_or_else(|| StorageError::Corrupt(format!("dossier month {month}")))?,
                        completed: row.get::<i64, _>("completed") as u64,
                    })
                })
                .collect()
        })
    }
}
