//! The one type every change to the owner's record takes, so that each store has a single place
//! where a change is made durable and published.

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::SettingState;
use crate::domain::{
    Allow, Decline, DeclineBatch, PhoneNumber, SettingChange, SignedIn, Target, TextSession, WebChange,
};

/// One change to the owner's record, made whole or not at all. It owns what it carries, so a store
/// can take it to a thread of its own, and reads and writes as JSON, so that a store several
/// processes share can hand it from one to the others.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", content = "change", rename_all = "snake_case")]
pub enum Change {
    /// Saves a decline, replacing any of the same target, and keeps its company's name if the
    /// company is new.
    Decline(Decline),
    /// `Decline` for many at once: all of them, or none.
    Declines(Arc<DeclineBatch>),
    RemoveDecline(Target),
    /// Saves an allow, replacing any of the same number.
    Allow(Allow),
    /// `Allow` for many at once: all of them, or none.
    Allows(Vec<Allow>),
    RemoveAllow(PhoneNumber),
    /// The pause switch (while on, every call rings through), and who set it when.
    Paused {
        paused: bool,
        changed: SettingChange,
    },
    /// One of the owner's settings the web page changes (`crate::config::Choice`), with who
    /// changed it when; an Undo can put back one never changed.
    Setting(SettingState),
    /// Places a legal hold on a party (`Some` with when), or lifts it (`None`).
    LegalHold {
        party: String,
        since: Option<Timestamp>,
    },
    /// The argon2 hash of the web page's password.
    PasswordHash(String),
    /// What the owner's texts from `owner` left behind.
    TextSession {
        owner: PhoneNumber,
        session: TextSession,
    },
    /// The web page's recent declines, for its Undo.
    WebChanges(Vec<WebChange>),
    /// Keeps a browser signed in to the web page, and forgets those whose sessions ended by `now`.
    SignIn {
        browser: SignedIn,
        now: Timestamp,
    },
    /// Forgets the browser whose cookie has this digest; with `None`, every browser.
    SignOut {
        digest: Option<String>,
    },
}

impl Change {
    /// The browsers signed in once a `SignIn` or `SignOut` is made to `browsers`; `None` for a
    /// change of anything else.
    pub fn signed_in_after(&self, mut browsers: Vec<SignedIn>) -> Option<Vec<SignedIn>> {
        match self {
            Change::SignIn { browser, now } => {
                browsers.retain(|kept| kept.until > *now);
                browsers.push(browser.clone());
            }
            Change::SignOut { digest } => {
                browsers.retain(|kept| digest.as_ref().is_some_and(|digest| kept.digest != *digest));
            }
            _ => return None,
        }
        Some(browsers)
    }
}

/// Told of each change once it is durable, before the store takes the next one, so that a copy of
/// the record kept in memory (the call path's snapshot) follows the disk in the disk's order.
#[derive(Clone)]
pub struct Publish(Arc<dyn Fn(&Change) + Send + Sync>);

impl Publish {
    pub fn to(publish: impl Fn(&Change) + Send + Sync + 'static) -> Self {
        Self(Arc::new(publish))
    }

    /// For a change no copy in memory is kept of.
    pub fn nowhere() -> Self {
        Self::to(|_| {})
    }

    pub fn published(&self, change: &Change) {
        (self.0)(change)
    }
}

/// The record a change took away: a removal's decline or allow, when there was one.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Removed {
    #[default]
    Nothing,
    Decline(Decline),
    Allow(Allow),
}

impl Removed {
    pub fn decline(self) -> Option<Decline> {
        match self {
            Self::Decline(decline) => Some(decline),
            _ => None,
        }
    }

    pub fn allow(self) -> Option<Allow> {
        match self {
            Self::Allow(allow) => Some(allow),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Decline, DeclineBatch};

    fn decline(number: &str) -> Decline {
        let json = serde_json::json!({"number": number, "declined_at": "2026-01-02T03:04:05Z"});
        serde_json::from_value(json).unwrap()
    }

    /// Every kind of change reads back as the same JSON it was written as.
    #[test]
    fn every_change_reads_back_as_written() {
        let number = PhoneNumber::from_e164("+442079460123").unwrap();
        let at: Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
        let changes = [
            Change::Decline(decline("+442079460123")),
            Change::Declines(Arc::new(DeclineBatch::from_iter([decline("+442079460124")]))),
            Change::RemoveDecline(Target::Number(number.clone())),
            Change::RemoveAllow(number.clone()),
            Change::Paused { paused: true, changed: SettingChange::default() },
            Change::Setting(SettingState {
                choice: crate::config::Choice::Withheld(Some(crate::config::CallerPolicy::Refuse)),
                changed: Some(SettingChange::default()),
            }),
            Change::LegalHold { party: "everest".into(), since: Some(at) },
            Change::PasswordHash("hash".into()),
            Change::TextSession { owner: number, session: TextSession::default() },
            Change::WebChanges(Vec::new()),
            Change::SignOut { digest: None },
        ];
        for change in changes {
            let written = serde_json::to_value(&change).unwrap();
            let read: Change = serde_json::from_value(written.clone()).unwrap();
            assert_eq!(serde_json::to_value(&read).unwrap(), written);
        }
    }
}
