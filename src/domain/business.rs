//! A business a deployment serves: its name, the settings it lays over the configuration file's,
//! its admin token, and its lines (the numbers callers dial, the provider's `To`). The embedded
//! store serves one, `BusinessId::DEFAULT`; a PostgreSQL store may serve many.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::PhoneNumber;

/// A business's number in the store. The records of a deployment that served one business before
/// it served many are the default business's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BusinessId(pub i64);

impl BusinessId {
    pub const DEFAULT: Self = Self(1);
}

impl Default for BusinessId {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl std::fmt::Display for BusinessId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What the operator calls a business: lower-case letters, digits and dashes, so that it reads the
/// same in a command, an address and a sign-in form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BusinessName(String);

impl BusinessName {
    /// The name of the business every deployment has, which a single-business one serves alone.
    pub const DEFAULT: &'static str = "default";
    const MAX_CHARS: usize = 40;

    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() || text.len() > Self::MAX_CHARS {
            return Err(format!("must be 1 to {} characters", Self::MAX_CHARS));
        }
        let fits = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !text.chars().all(fits) || text.starts_with('-') || text.ends_with('-') {
            return Err("may hold only lower-case letters, digits and dashes (not at either end)".into());
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BusinessName {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
    }
}

impl From<BusinessName> for String {
    fn from(name: BusinessName) -> String {
        name.0
    }
}

impl std::fmt::Display for BusinessName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Business {
    pub id: BusinessId,
    pub name: BusinessName,
    /// The business's own settings, as TOML in the configuration file's keys (business name,
    /// refusal wording, forward targets, hours, owner phones, notifications), laid over the file's.
    /// Checked when it is set, as the file is.
    pub settings: String,
    /// The SHA-256, in lower-case hex, of the business's admin API token; none until one is issued.
    pub token_sha256: Option<String>,
    pub created_at: Timestamp,
}

/// A number callers dial, and the business whose calls it brings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub number: PhoneNumber,
    pub business: BusinessId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_lower_case_letters_digits_and_dashes() {
        assert_eq!(BusinessName::parse(" acme-plumbing-2 ").unwrap().as_str(), "acme-plumbing-2");
        for bad in ["", "Acme", "acme plumbing", "-acme", "acme-", "acmé", &"a".repeat(41)] {
            assert!(BusinessName::parse(bad).is_err(), "{bad:?} was taken");
        }
    }
}
