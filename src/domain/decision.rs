//! What to do with a call, and the reason a person can read.

use serde::{Deserialize, Serialize};

use super::{Decline, RefusalMode};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Ring the business's phones.
    Forward,
    /// Refuse the call.
    Refuse(Refusal),
    /// Ask the caller to press 1 to be put through.
    Screen,
    /// Outside business hours: the closed message, or voicemail.
    Closed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub ground: Ground,
    /// After escalation: a ladder step can turn a message into a silent reject.
    pub mode: RefusalMode,
    /// Offer "press 1 if you are calling about an existing order or appointment".
    pub escape_hatch: bool,
}

/// Why a call is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ground {
    /// The owner said no: `follow_up` is this call's number since then (1 for the first).
    Declined { decline: Decline, follow_up: u32, flagged: bool },
    /// The caller withheld their number and the policy refuses that.
    Withheld,
    /// The caller's number failed verification (the STIR/SHAKEN result given).
    Unverified(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    /// "refused: Everest Windows, declined 3 Nov 2026 by Sam; 4th call since; escalated to silent reject".
    pub reason: String,
    /// The call rings through on a single-use allow, which is now spent.
    pub uses_single_allow: bool,
}

/// The decision's kind as the log and the API name it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    #[default]
    Forward,
    Decline,
    Screen,
    Closed,
}

impl Decision {
    pub fn kind(&self) -> DecisionKind {
        match self.action {
            Action::Forward => DecisionKind::Forward,
            Action::Refuse(_) => DecisionKind::Decline,
            Action::Screen => DecisionKind::Screen,
            Action::Closed => DecisionKind::Closed,
        }
    }

    pub fn decline(&self) -> Option<&Decline> {
        match &self.action {
            Action::Refuse(Refusal { ground: Ground::Declined { decline, .. }, .. }) => Some(decline),
            _ => None,
        }
    }

    /// A refusal's number among its party's calls since the decline (1 for the first).
    pub fn follow_up(&self) -> Option<u32> {
        match &self.action {
            Action::Refuse(Refusal { ground: Ground::Declined { follow_up, .. }, .. }) => Some(*follow_up),
            _ => None,
        }
    }

    pub fn company(&self) -> Option<&str> {
        self.decline().and_then(|decline| decline.company.as_deref())
    }

    /// Whether this call reached the step of the ladder that flags the company for a complaint.
    pub fn flagged(&self) -> bool {
        matches!(&self.action, Action::Refuse(Refusal { ground: Ground::Declined { flagged: true, .. }, .. }))
    }
}

impl std::fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Forward => "forward",
            Self::Decline => "decline",
            Self::Screen => "screen",
            Self::Closed => "closed",
        })
    }
}
