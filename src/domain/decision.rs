//! What to do with a call, and the reason a person can read.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Decline, RefusalMode};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Ring the business's phones.
    Forward,
    /// Refuse the call, in the given way, on the strength of a decline.
    Refuse { mode: RefusalMode, decline: Decline },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    /// "refused: Everest Windows, declined 3 Nov 2026 by Sam (kitchen upsell)".
    pub reason: String,
}

/// The decision's kind as the log and the API name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Forward,
    Decline,
}

impl Decision {
    pub fn kind(&self) -> DecisionKind {
        match self.action {
            Action::Forward => DecisionKind::Forward,
            Action::Refuse { .. } => DecisionKind::Decline,
        }
    }

    pub fn company(&self) -> Option<&str> {
        match &self.action {
            Action::Refuse { decline, .. } => decline.company.as_deref(),
            Action::Forward => None,
        }
    }

    pub fn declined_at(&self) -> Option<Timestamp> {
        match &self.action {
            Action::Refuse { decline, .. } => Some(decline.declined_at),
            Action::Forward => None,
        }
    }
}

impl std::fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Forward => "forward",
            Self::Decline => "decline",
        })
    }
}
