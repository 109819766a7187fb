//! The one type every change to the owner's record takes, so that each store has a single place
//! where a change is made durable.

use jiff::Timestamp;

use crate::domain::{Allow, Decline, DeclineBatch, PhoneNumber, SignedIn, Target, TextSession, WebChange};

/// One change to the owner's record, made whole or not at all.
#[derive(Clone, Copy, Debug)]
pub enum Change<'a> {
    /// Saves a decline, replacing any of the same target, and keeps its company's name if the
    /// company is new.
    Decline(&'a Decline),
    /// `Decline` for many at once: all of them, or none.
    Declines(&'a DeclineBatch),
    RemoveDecline(&'a Target),
    /// Saves an allow, replacing any of the same number.
    Allow(&'a Allow),
    /// `Allow` for many at once: all of them, or none.
    Allows(&'a [Allow]),
    RemoveAllow(&'a PhoneNumber),
    /// The pause switch: while on, every call rings through.
    Paused(bool),
    /// Places a legal hold on a party (`Some` with when), or lifts it (`None`).
    LegalHold {
        party: &'a str,
        since: Option<Timestamp>,
    },
    /// The argon2 hash of the web page's password.
    PasswordHash(&'a str),
    /// What the owner's texts from `owner` left behind.
    TextSession {
        owner: &'a PhoneNumber,
        session: &'a TextSession,
    },
    /// The web page's recent declines, for its Undo.
    WebChanges(&'a [WebChange]),
    /// Keeps a browser signed in to the web page, and forgets those whose sessions ended by `now`.
    SignIn {
        browser: &'a SignedIn,
        now: Timestamp,
    },
    /// Forgets the browser whose cookie has this digest; with `None`, every browser.
    SignOut {
        digest: Option<&'a str>,
    },
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
