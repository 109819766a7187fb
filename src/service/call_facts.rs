//! Facts about a call in progress that the next request about it needs, wherever it arrives: kept
//! in the store, which several processes may share.

use std::time::Duration;

use super::Service;
use crate::domain::OwnerDecision;
use crate::store::StoreError;

/// How long a request about a call waits for the store before going on without the fact: the
/// provider is holding a caller on the line meanwhile.
pub const CALL_FACT_WAIT: Duration = Duration::from_secs(2);

impl Service {
    /// Keeps what whoever answered the forward of `call_id` decided, for its dial callback.
    pub async fn hold_owner_decision(&self, call_id: &str, decision: OwnerDecision) -> Result<(), StoreError> {
        within(self.store.hold_owner_decision(call_id, decision)).await
    }

    /// Takes what whoever answered the forward of `call_id` decided, if they decided anything.
    pub async fn take_owner_decision(&self, call_id: &str) -> Result<Option<OwnerDecision>, StoreError> {
        within(self.store.take_owner_decision(call_id)).await
    }
}

async fn within<T>(answer: crate::store::Answer<'_, T>) -> Result<T, StoreError> {
    tokio::time::timeout(CALL_FACT_WAIT, answer)
        .await
        .map_err(|_| StoreError::Unavailable(format!("the store did not answer within {CALL_FACT_WAIT:?}")))?
}
