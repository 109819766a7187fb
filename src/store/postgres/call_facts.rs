//! Facts about calls in progress, in tables every process on the database reads: the decisions
//! made during a forward's announcement, and the providers' once-only tokens.

use std::time::Duration;

use deadpool_postgres::GenericClient;
use tokio_postgres::types::Json;

use super::super::StoreError;
use super::errors::{decoding, described};
use super::{Tenant, pg};
use crate::domain::OwnerDecision;
use crate::store::pending_decisions::KEEP;

/// How long a provider's token is remembered: as long as each process remembers it itself
/// (`crate::provider::replay::REMEMBER_SECS`).
const TOKENS_KEPT: &str = "1 day";

fn kept_for() -> f64 {
    KEEP.as_secs_f64()
}

/// Keeps `decision` for the call, replacing any kept for it; decisions past their time go too.
pub async fn hold(tenant: &Tenant, call_id: &str, decision: &OwnerDecision) -> Result<(), StoreError> {
    let connection = tenant.connection().await?;
    connection
        .execute(
            "INSERT INTO owner_decisions (business_id, call_id, decision) VALUES ($1, $2, $3) \
             ON CONFLICT (business_id, call_id) DO UPDATE SET decision = EXCLUDED.decision, at = now()",
            &[&tenant.key(), &call_id, &Json(decision)],
        )
        .await
        .map_err(pg)?;
    // Few rows at any time (one per call announced in the last minutes), so this costs nothing.
    connection
        .execute("DELETE FROM owner_decisions WHERE at < now() - make_interval(secs => $1)", &[&kept_for()])
        .await
        .map_err(pg)
        .map(drop)
}

/// Takes the decision kept for the call: one statement, so of two callbacks at once (at two
/// processes, say) exactly one gets it.
pub async fn take(tenant: &Tenant, call_id: &str) -> Result<Option<OwnerDecision>, StoreError> {
    let connection = tenant.connection().await?;
    let row = connection
        .query_opt(
            "DELETE FROM owner_decisions WHERE business_id = $1 AND call_id = $2 \
             RETURNING decision, at >= now() - make_interval(secs => $3)",
            &[&tenant.key(), &call_id, &kept_for()],
        )
        .await
        .map_err(pg)?;
    let Some(row) = row else { return Ok(None) };
    if !row.get::<_, bool>(1) {
        return Ok(None);
    }
    let decision = row.try_get::<_, Json<OwnerDecision>>(0).map(|Json(decision)| decision);
    decision.map(Some).map_err(|error| decoding(&format!("the decision kept for call {call_id}"), described(&error)))
}

/// Whether the token is new, remembering it if so: one insert that only the first of any number
/// of processes makes. Waits at most `within`. Tokens are the deployment's, not a business's: a
/// provider signs for the deployment.
pub async fn first_seen(tenant: &Tenant, scope: &str, token: &str, within: Duration) -> Result<bool, StoreError> {
    let inserted = tokio::time::timeout(within, async {
        let connection = tenant.connection().await?;
        connection
            .execute("INSERT INTO seen_tokens (scope, token) VALUES ($1, $2) ON CONFLICT DO NOTHING", &[&scope, &token])
            .await
            .map_err(pg)
    })
    .await
    .map_err(|_| StoreError::Unavailable(format!("PostgreSQL did not answer within {within:?}")))??;
    Ok(inserted == 1)
}

/// Forgets the tokens past their day and the decisions past their time.
pub async fn prune(client: &impl GenericClient) -> Result<(), StoreError> {
    client
        .execute(&format!("DELETE FROM seen_tokens WHERE at < now() - interval '{TOKENS_KEPT}'"), &[])
        .await
        .map_err(pg)?;
    client
        .execute("DELETE FROM owner_decisions WHERE at < now() - make_interval(secs => $1)", &[&kept_for()])
        .await
        .map_err(pg)
        .map(drop)
}
