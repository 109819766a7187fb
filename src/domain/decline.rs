//! A decline: "we told this company no", with when, by whom, and how the next call is refused.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::PhoneNumber;

/// How a refused caller is answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusalMode {
    /// Answer, say who declined them and when, ask to be removed, hang up.
    #[default]
    Message,
    /// Reject unanswered with a busy signal: not answered, so not billed.
    Reject,
}

/// Where the owner said no.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    CommandLine,
    Api,
    Web,
    Phone,
    Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decline {
    #[schema(value_type = String)]
    pub number: PhoneNumber,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub declined_at: Timestamp,
    #[serde(default)]
    pub declined_by: Option<String>,
    #[serde(default)]
    pub channel: Channel,
    /// `None` follows the configured default, so changing the default changes every such decline.
    #[serde(default)]
    pub mode: Option<RefusalMode>,
}

/// How often a declined party has called since it was told no.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FollowUps {
    pub count: u32,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_at: Option<Timestamp>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_at: Option<Timestamp>,
}

impl FollowUps {
    pub fn record(&mut self, at: Timestamp) {
        self.count += 1;
        self.first_at.get_or_insert(at);
        self.last_at = Some(self.last_at.map_or(at, |last| last.max(at)));
    }
}

/// A company's identity: case and spacing do not make a new company.
pub fn company_key(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Who was told no, for counting follow-ups: the company when the decline names one (all its
/// numbers count together), else the number itself.
pub fn party_key(company: Option<&str>, number: &str) -> String {
    match company {
        Some(company) => format!("company:{}", company_key(company)),
        None => format!("number:{number}"),
    }
}

impl Decline {
    pub fn party(&self) -> String {
        party_key(self.company.as_deref(), self.number.as_str())
    }
}

impl std::fmt::Display for RefusalMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Message => "message",
            Self::Reject => "reject",
        })
    }
}

impl std::str::FromStr for RefusalMode {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "message" => Ok(Self::Message),
            "reject" | "busy" | "silent" => Ok(Self::Reject),
            other => Err(format!("{other:?} is not a refusal mode (message or reject)")),
        }
    }
}
