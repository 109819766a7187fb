//! A call as it arrives (`IncomingCall`) and as it is kept in the log (`CallRecord`).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{BusinessId, CallerId, DecisionKind};

/// The facts about an incoming call that a decision may use, whatever the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingCall {
    pub call_id: String,
    pub from: CallerId,
    pub to: String,
    pub caller_name: Option<String>,
    /// How the caller's number verified (STIR/SHAKEN), when the provider said.
    pub verification: Option<Verification>,
}

/// What the caller's network said of their number (STIR/SHAKEN), as one value whatever the
/// provider: whether it failed, in the provider's own words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    /// The number did not verify, so the `unverified` policy applies.
    pub failed: bool,
    /// The provider's words for the result ("TN-Validation-Failed-A"), for the log and the reason.
    pub report: String,
}

impl Verification {
    /// A SIP `verstat` value (3GPP TS 24.229, as carriers and providers pass it on): a number that
    /// did not verify is `TN-Validation-Failed` or `No-TN-Validation`, with suffixes such as
    /// `-Diverted` and `-Passthrough` after them, so the prefix decides.
    pub fn of_verstat(report: String) -> Self {
        let failed = report.starts_with("TN-Validation-Failed") || report.starts_with("No-TN-Validation");
        Self { failed, report }
    }
}

#[cfg(test)]
impl IncomingCall {
    /// A call from `from` to the business, with nothing else known, as unit tests make them.
    pub fn from_caller(from: &str) -> Self {
        Self {
            call_id: "CA1".into(),
            from: CallerId::from_text(from),
            to: "+442079460999".into(),
            caller_name: None,
            verification: None,
        }
    }
}

/// One call in the log: what came in, what saidno decided and why, and how the forward went.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallRecord {
    /// The provider's id for the call. Exports, `log --json` and the admin API have always named it
    /// `call_sid`, and outside tools read it by that name.
    #[serde(rename = "call_sid")]
    pub call_id: String,
    /// E.164, `withheld`, or what the provider sent when it is not a number.
    pub from: String,
    pub to: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub decision: DecisionKind,
    pub reason: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub caller_name: Option<String>,
    /// The verification's report, under the name exports and the admin API have always used.
    #[serde(default, rename = "verstat")]
    pub verification: Option<String>,
    #[serde(default)]
    pub outcome: Option<ForwardOutcome>,
    /// For a refused call: which call this is since the decline (1 for the first).
    #[serde(default)]
    pub follow_up: Option<u32>,
    /// Who was told no, for a call refused on a decline (see `domain::party_key`).
    #[serde(default)]
    pub party: Option<String>,
    /// The call reached the ladder step that flags the company for a complaint.
    #[serde(default)]
    pub flagged: bool,
    /// The call rang through on a single-use allow, which it spent.
    #[serde(default)]
    pub used_single_allow: bool,
    /// What the caller heard: the refusal message, a busy signal, the phones ringing.
    #[serde(default)]
    pub heard: Option<String>,
    /// The business whose call it was: what a log shared by businesses files it under. Each
    /// business's log holds only its own calls, so it is never written out with them.
    #[serde(skip)]
    pub business: BusinessId,
}

/// How a forwarded call ended, as the provider reported it afterwards.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForwardOutcome {
    /// `answered`, `no-answer`, `busy`, `failed` or `canceled`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub duration_secs: Option<u32>,
    #[serde(default)]
    pub recording_url: Option<String>,
    #[serde(default)]
    pub recording_secs: Option<u32>,
    /// A refused caller pressed 1 for an existing order or appointment and was put through.
    #[serde(default)]
    pub via_escape_hatch: bool,
    /// For a screened call: `passed` (pressed 1) or `screened out`.
    #[serde(default)]
    pub screening: Option<String>,
    /// The voicemail's words, as the provider transcribed them; none until (and unless) it did.
    #[serde(default)]
    pub transcript: Option<String>,
}

/// Transcription is offered for messages of minutes, a few hundred words; text far past that is
/// not a voicemail's, and would swell every page of the log that shows it.
pub const MAX_TRANSCRIPT_CHARS: usize = 8 * 1024;

impl ForwardOutcome {
    /// Folds a later report into this one: a voicemail arrives after the dial status.
    pub fn merge(&mut self, later: ForwardOutcome) {
        self.status = later.status.or(self.status.take());
        self.duration_secs = later.duration_secs.or(self.duration_secs);
        self.recording_url = later.recording_url.or(self.recording_url.take());
        self.recording_secs = later.recording_secs.or(self.recording_secs);
        self.via_escape_hatch |= later.via_escape_hatch;
        self.screening = later.screening.or(self.screening.take());
        self.transcript = later.transcript.or(self.transcript.take());
    }
}

impl CallRecord {
    pub fn new(call: &IncomingCall, at: Timestamp, decision: &super::Decision) -> Self {
        Self {
            call_id: call.call_id.clone(),
            from: call.from.to_string(),
            to: call.to.clone(),
            at,
            decision: decision.kind(),
            reason: decision.reason.clone(),
            company: decision.company().map(str::to_owned),
            caller_name: call.caller_name.clone(),
            verification: call.verification.as_ref().map(|verification| verification.report.clone()),
            outcome: None,
            follow_up: decision.follow_up(),
            party: decision.decline().map(|decline| decline.party()),
            flagged: decision.flagged(),
            used_single_allow: decision.uses_single_allow,
            heard: None,
            // A call path that serves several businesses files the call under the one it is for.
            business: BusinessId::DEFAULT,
        }
    }

    pub fn is_refusal(&self) -> bool {
        self.decision == DecisionKind::Decline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transcript_joins_the_voicemail_and_a_later_report_without_one_keeps_it() {
        let mut outcome = ForwardOutcome {
            status: Some("no-answer".into()),
            recording_url: Some("https://api.example/RE1".into()),
            recording_secs: Some(7),
            ..ForwardOutcome::default()
        };
        outcome.merge(ForwardOutcome { transcript: Some("Call me back.".into()), ..ForwardOutcome::default() });
        assert_eq!(outcome.recording_url.as_deref(), Some("https://api.example/RE1"));
        assert_eq!(outcome.transcript.as_deref(), Some("Call me back."));
        outcome.merge(ForwardOutcome { recording_secs: Some(8), ..ForwardOutcome::default() });
        assert_eq!(outcome.transcript.as_deref(), Some("Call me back."));
    }
}
