//! What whoever answered a forward decided during its announcement, kept for the original call's
//! dial callback, which arrives as a request of its own seconds later (and, behind a load
//! balancer, perhaps at another process on the same database).

use serde::{Deserialize, Serialize};

use super::Decline;

/// What whoever answered decided, for the original call's dial callback to act on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "decline", rename_all = "snake_case")]
pub enum OwnerDecision {
    /// 9: the caller hears the refusal for this decline.
    Declined(Decline),
    /// No key, with `no_key = "voicemail"`: the caller may leave a message.
    ToVoicemail,
}
