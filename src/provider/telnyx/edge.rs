//! Telnyx at the edge: Twilio's dialect under `/telnyx`, signed with the account's Ed25519 key,
//! the caller's name in `CallerId` and the STIR/SHAKEN result in `ShakenStirAttestation` and
//! `ShakenStirValidated`.

use super::recordings;
use super::signature::PublicKey;
use crate::domain::{ForwardOutcome, IncomingCall, Verification};
use crate::provider::form::Params;
use crate::provider::header_text;
use crate::provider::twilio::twiml::TranscribeAttributes;
use crate::provider::twilio::{Compatible, Flavour, request};
use crate::provider::{Inbound, Rejection, Transcript};

pub struct TelnyxSignature {
    key: PublicKey,
    /// Where Telnyx's API answers, under which the voicemail's recording is kept.
    api_base_url: String,
}

impl Flavour for TelnyxSignature {
    fn check(&self, request: &Inbound<'_>, _: &Params) -> Result<(), Rejection> {
        let signature = header_text(request, "telnyx-signature-ed25519");
        let timestamp = header_text(request, "telnyx-timestamp");
        self.key
            .verify(signature, timestamp, request.body, jiff::Timestamp::now().as_second())
            .map_err(|error| Rejection::Unsigned(format!("the request is not signed by Telnyx: {error}")))
    }

    fn incoming_call(&self, params: &Params) -> Result<IncomingCall, Rejection> {
        let mut call = request::incoming_call(params)?;
        call.caller_name = request::extra(params, "CallerId");
        call.verification = verification(params);
        Ok(call)
    }

    /// The voicemail is kept as its recording's resource in the TeXML API, as the `RecordingUrl`
    /// given expires minutes after the call; without the identifiers, as given.
    fn voicemail(&self, params: &Params) -> Result<ForwardOutcome, Rejection> {
        let mut left = request::voicemail(params)?;
        let ids = request::extra(params, "AccountSid").zip(request::extra(params, "RecordingSid"));
        if let Some(resource) =
            ids.and_then(|(account, recording)| recordings::resource(&self.api_base_url, &account, &recording))
        {
            left.recording_url = Some(resource);
        }
        Ok(left)
    }

    fn transcribe_attributes(&self) -> TranscribeAttributes {
        TranscribeAttributes { on: "transcription", callback: "transcriptionCallback" }
    }

    /// TeXML's transcription callbacks name the call `CallSid` and carry the words in
    /// `Transcript` (its `<Transcription>` documents that name); one in Twilio's own
    /// `TranscriptionText` is read as well.
    fn transcript(&self, params: &Params) -> Result<Transcript, Rejection> {
        let words = if params.get("TranscriptionText").is_some() { "TranscriptionText" } else { "Transcript" };
        request::transcript(params, words)
    }
}

/// `ShakenStirValidated=false` is a number that did not verify; the attestation level (A, B or C)
/// is how much the originating carrier vouched for it.
fn verification(params: &Params) -> Option<Verification> {
    let attestation = request::extra(params, "ShakenStirAttestation");
    let validated = request::extra(params, "ShakenStirValidated").map(|v| v.eq_ignore_ascii_case("true"));
    let report = match (&attestation, validated) {
        (None, None) => return None,
        (Some(level), None) => format!("attestation {level}"),
        (None, Some(valid)) => if valid { "validated" } else { "not validated" }.to_owned(),
        (Some(level), Some(valid)) => {
            format!("attestation {level}, {}", if valid { "validated" } else { "not validated" })
        }
    };
    Some(Verification { failed: validated == Some(false), report })
}

pub type Telnyx = Compatible<TelnyxSignature>;

pub fn telnyx(public_key: PublicKey, api_base_url: &str) -> Telnyx {
    Compatible::new("telnyx", TelnyxSignature { key: public_key, api_base_url: api_base_url.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transcript_is_read_from_texmls_transcript_parameter() {
        let params = |pairs: &[(&str, &str)]| {
            Params::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        };
        let key = PublicKey::from_base64(&format!("{}=", "A".repeat(43))).unwrap();
        let flavour = TelnyxSignature { key, api_base_url: String::new() };
        let read = flavour.transcript(&params(&[("CallSid", "v3:abc"), ("Transcript", "Ring me.")])).unwrap();
        assert_eq!(read, Transcript { call_id: "v3:abc".into(), text: Some("Ring me.".into()), file: None });
        let failed = params(&[("CallSid", "v3:abc"), ("TranscriptionStatus", "failed")]);
        assert_eq!(flavour.transcript(&failed).unwrap().text, None);
    }
}
