//! Telnyx at the edge: Twilio's dialect under `/telnyx`, signed with the account's Ed25519 key,
//! the caller's name in `CallerId` and the STIR/SHAKEN result in `ShakenStirAttestation` and
//! `ShakenStirValidated`.

use super::recordings;
use super::signature::PublicKey;
use crate::domain::{ForwardOutcome, IncomingCall, Verification};
use crate::provider::form::Params;
use crate::provider::header_text;
use crate::provider::twilio::{Compatible, Flavour, request};
use crate::provider::{Inbound, Rejection};

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
