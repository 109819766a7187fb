//! The things saidno reasons about: numbers, declines, allows, calls and decisions.

pub mod allow;
pub mod business;
pub mod call;
pub mod decision;
pub mod decline;
pub mod hold;
pub mod owner_decision;
pub mod phone;
pub mod session;
pub mod setting_change;
pub mod signed_in;
pub mod text;

pub use allow::Allow;
pub use business::{Business, BusinessId, BusinessName, Line};
pub use call::{CallRecord, ForwardOutcome, IncomingCall, MAX_TRANSCRIPT_CHARS, Verification};
pub use decision::{Action, Decision, DecisionKind, Ground, Refusal};
pub use decline::{
    Channel, Decline, DeclineBatch, DeclineTerms, FollowUps, RefusalMode, Target, company_key, party_key,
};
pub use hold::LegalHold;
pub use owner_decision::OwnerDecision;
pub use phone::{CallerId, NumberError, PhoneNumber, Region};
pub use session::{DeclinedBefore, TextChange, TextSession, WebChange, remember_web_change};
pub use setting_change::SettingChange;
pub use signed_in::SignedIn;
