//! Plivo's webhook parameters turned into domain types.

use crate::domain::{CallerId, ForwardOutcome, IncomingCall, Verification};
use crate::provider::fields::{self, bounded, extra, recording_url, seconds};
use crate::provider::form::Params;
use crate::provider::{Rejection, Transcript};

pub fn incoming_call(params: &Params) -> Result<IncomingCall, Rejection> {
    Ok(IncomingCall {
        call_id: call_id(params)?,
        from: CallerId::from_international_digits(bounded(params, "From")?.ok_or(Rejection::Missing("From"))?),
        to: bounded(params, "To")?.unwrap_or_default().to_owned(),
        caller_name: extra(params, "CallerName"),
        verification: verification(params),
    })
}

pub fn call_id(params: &Params) -> Result<String, Rejection> {
    fields::call_id(params, "CallUUID")
}

/// Plivo's `STIRVerification` is `Verified` for a number the originating carrier fully vouched
/// for and `Not Verified` for everything else, partial attestation and failed checks alike. It
/// cannot tell a spoofed number from a small carrier's, so it is reported and never counts as
/// a failed verification.
fn verification(params: &Params) -> Option<Verification> {
    let level = extra(params, "STIRVerification")?;
    let report = match extra(params, "STIRAttestation") {
        Some(attestation) => format!("{level}, attestation {attestation}"),
        None => level,
    };
    Some(Verification { failed: false, report })
}

/// The `<Dial action>` callback: how the forward ended. Plivo calls an unanswered ring `timeout`
/// as well as `no-answer`.
pub fn dial_outcome(params: &Params) -> Result<ForwardOutcome, Rejection> {
    let status = params.get("DialStatus").ok_or(Rejection::Missing("DialStatus"))?;
    let status = match status {
        "completed" | "answer" | "answered" => "answered",
        "timeout" | "no-answer" => "no-answer",
        "cancel" | "canceled" | "cancelled" => "canceled",
        "busy" | "failed" => status,
        _ => return Err(Rejection::Invalid("DialStatus")),
    };
    Ok(ForwardOutcome {
        status: Some(status.to_owned()),
        duration_secs: seconds(params, "DialBLegDuration")?,
        ..ForwardOutcome::default()
    })
}

/// The `<Record action>` callback: the voicemail left.
pub fn voicemail(params: &Params) -> Result<ForwardOutcome, Rejection> {
    Ok(ForwardOutcome {
        recording_url: recording_url(params, "RecordUrl")?,
        recording_secs: seconds(params, "RecordingDuration")?,
        ..ForwardOutcome::default()
    })
}

/// The `<Record transcriptionUrl>` callback: the voicemail's words in `transcription`, under the
/// call's `call_uuid`. Plivo reports a transcription it could not make in `error`.
pub fn transcript(params: &Params) -> Result<Transcript, Rejection> {
    let call_id = fields::call_id(params, "call_uuid")?;
    let failed = params.get("error").is_some_and(|error| !error.trim().is_empty());
    let text = if failed { None } else { fields::transcript(params, "transcription")? };
    Ok(Transcript { call_id, text, file: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn digits_without_a_plus_are_the_caller_and_anything_else_is_withheld() {
        let call = incoming_call(&params(&[("CallUUID", "97ceeb52-58b6"), ("From", "442079460123")])).unwrap();
        assert_eq!(call.from.to_string(), "+442079460123");
        for from in ["", "anonymous", "Restricted", "sip:anonymous@phone.plivo.com"] {
            let call = incoming_call(&params(&[("CallUUID", "97ceeb52-58b6"), ("From", from)])).unwrap();
            assert_eq!(call.from, CallerId::Withheld, "{from:?}");
        }
    }

    #[test]
    fn a_stir_level_is_reported_but_never_held_against_the_caller() {
        let call = incoming_call(&params(&[
            ("CallUUID", "97ceeb52-58b6"),
            ("From", "14155550100"),
            ("STIRVerification", "Not Verified"),
            ("STIRAttestation", "C"),
        ]))
        .unwrap();
        assert_eq!(
            call.verification,
            Some(Verification { failed: false, report: "Not Verified, attestation C".into() })
        );
    }

    #[test]
    fn dial_statuses_are_read_in_plivos_words() {
        let outcome = dial_outcome(&params(&[("DialStatus", "timeout")])).unwrap();
        assert_eq!(outcome.status.as_deref(), Some("no-answer"));
        assert!(dial_outcome(&params(&[("DialStatus", "exploded")])).is_err());
        assert_eq!(dial_outcome(&params(&[])), Err(Rejection::Missing("DialStatus")));
    }

    #[test]
    fn a_transcript_is_read_with_its_call_and_a_reported_error_has_no_words() {
        let done = params(&[("call_uuid", "97ceeb52-58b6"), ("transcription", "Please call back.")]);
        assert_eq!(
            transcript(&done).unwrap(),
            Transcript { call_id: "97ceeb52-58b6".into(), text: Some("Please call back.".into()), file: None }
        );
        let failed = params(&[("call_uuid", "97ceeb52-58b6"), ("transcription", ""), ("error", "Audio too short")]);
        assert_eq!(transcript(&failed).unwrap().text, None);
        assert_eq!(transcript(&params(&[("transcription", "hi")])), Err(Rejection::Missing("call_uuid")));
    }
}
