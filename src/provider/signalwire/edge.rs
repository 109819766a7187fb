//! SignalWire at the edge: Twilio's dialect under `/signalwire`, checked with the project's
//! Signing Key.

use super::signature::{self, Signed};
use crate::provider::form::Params;
use crate::provider::header_text;
use crate::provider::twilio::{Compatible, Flavour};
use crate::provider::{Inbound, Rejection};

pub struct SignalWireSignature {
    signing_key: String,
}

impl Flavour for SignalWireSignature {
    fn check(&self, request: &Inbound<'_>, params: &Params) -> Result<(), Rejection> {
        let signed = Signed {
            url: request.url,
            params,
            body: request.body,
            signature: header_text(request, "x-signalwire-signature").or(header_text(request, "x-twilio-signature")),
            sha256: header_text(request, "x-signalwire-sha256-signature"),
        };
        signature::verify(&self.signing_key, &signed)
            .map_err(|error| Rejection::Unsigned(format!("the request is not signed by SignalWire: {error}")))
    }
}

pub type SignalWire = Compatible<SignalWireSignature>;

pub fn signalwire(signing_key: &str) -> SignalWire {
    Compatible::new("signalwire", SignalWireSignature { signing_key: signing_key.to_owned() })
}
