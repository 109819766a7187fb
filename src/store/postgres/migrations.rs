//! The schema, built into the binary as numbered SQL files and applied in order when the store
//! opens: each in the one transaction that records it in `schema_migrations`.

use deadpool_postgres::Pool;

use super::super::StoreError;
use super::pg;

/// Every migration, by version, in order. A new one is added at the end, never changed once released.
pub(super) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_schema.sql")),
    (2, include_str!("migrations/0002_prune_by_month.sql")),
    (3, include_str!("migrations/0003_owner_changes.sql")),
    (4, include_str!("migrations/0004_call_facts.sql")),
    (5, include_str!("migrations/0005_businesses.sql")),
];

/// Held for the length of the transaction that migrates, so that two processes starting at once
/// take turns: the second finds the first one's work recorded.
const MIGRATION_LOCK: i64 = 0x0073_6169_646e_6f6d;

/// The newest version this binary knows.
fn known() -> i64 {
    MIGRATIONS.last().map_or(0, |(version, _)| *version)
}

/// Brings the schema up to date, or refuses a database migrated by a newer release.
pub async fn apply(pool: &Pool, shown: &str) -> Result<(), StoreError> {
    let mut connection = super::get(pool, shown).await?;
    let transaction = connection.transaction().await.map_err(pg)?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(pg)?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version bigint PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await
        .map_err(pg)?;
    let current = current(&transaction).await?;
    newer_than_known(current)?;
    for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > current) {
        transaction.batch_execute(sql).await.map_err(pg)?;
        transaction.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[version]).await.map_err(pg)?;
        tracing::info!(version, "the PostgreSQL schema is migrated");
    }
    transaction.commit().await.map_err(pg)
}

/// Whether the schema is still the one this binary knows.
pub async fn check(pool: &Pool, shown: &str) -> Result<(), StoreError> {
    let connection = super::get(pool, shown).await?;
    newer_than_known(current(&connection).await?)
}

async fn current(client: &impl deadpool_postgres::GenericClient) -> Result<i64, StoreError> {
    let row = client.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[]).await.map_err(pg)?;
    Ok(row.get(0))
}

fn newer_than_known(current: i64) -> Result<(), StoreError> {
    if current > known() {
        return Err(StoreError::Unavailable(format!(
            "the PostgreSQL database's schema is at version {current}, newer than this saidno knows ({}): \
             it was used by a newer release; run that release, or restore a dump taken before the upgrade",
            known()
        )));
    }
    Ok(())
}
