//! SignalWire's request signatures, keyed with the project's Signing Key (not its API token), as
//! its SDKs check them (`signalwire/signalwire-python`
//! `signalwire/core/security/webhook_validator.py`):
//! - `X-SignalWire-Signature` (or its alias `X-Twilio-Signature`): either hex HMAC-SHA1 over the
//!   URL and the raw body, or base64 HMAC-SHA1 over the URL and every parameter name and value
//!   sorted by name (Twilio's scheme; a repeated name keeps the order it came in), on the URL as
//!   given or with the default port added or taken off;
//! - `X-SignalWire-SHA256-Signature`, where sent: hex HMAC-SHA256 over the URL and the raw body.
//!   When present it must match too.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::provider::form::Params;
use crate::provider::signing::{from_hex, hex, keyed, query_value, url_variants};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no X-SignalWire-Signature header")]
    Missing,
    #[error("the request signature does not match")]
    Mismatch,
    #[error("the request's X-SignalWire-SHA256-Signature does not match")]
    Sha256Mismatch,
}

/// What arrived with one request that a signature covers.
pub struct Signed<'a> {
    /// The full URL SignalWire requested: the public address, the path and the query.
    pub url: &'a str,
    pub params: &'a Params,
    pub body: &'a [u8],
    /// `X-SignalWire-Signature`, or `X-Twilio-Signature`.
    pub signature: Option<&'a str>,
    /// `X-SignalWire-SHA256-Signature`.
    pub sha256: Option<&'a str>,
}

pub fn verify(signing_key: &str, request: &Signed<'_>) -> Result<(), SignatureError> {
    let key = signing_key.as_bytes();
    if let Some(sha256) = request.sha256 {
        let expected = from_hex(sha256).ok_or(SignatureError::Sha256Mismatch)?;
        let matches =
            |url: &String| keyed::<Hmac<Sha256>>(key, &[url.as_bytes(), request.body]).verify_slice(&expected).is_ok();
        if !url_variants(request.url).iter().any(matches) {
            return Err(SignatureError::Sha256Mismatch);
        }
        if request.signature.is_none() {
            return Ok(());
        }
    }
    let signature = request.signature.map(str::trim).filter(|s| !s.is_empty()).ok_or(SignatureError::Missing)?;
    // Hex over the raw body: what SignalWire sends with a JSON body. A SHA-1 is 20 bytes, which
    // tells it from the base64 of the form scheme without computing anything.
    if let Some(expected) = from_hex(signature).filter(|bytes| bytes.len() == 20) {
        return match keyed::<Hmac<Sha1>>(key, &[request.url.as_bytes(), request.body]).verify_slice(&expected) {
            Ok(()) => Ok(()),
            Err(_) => Err(SignatureError::Mismatch),
        };
    }
    let expected = BASE64.decode(signature).map_err(|_| SignatureError::Mismatch)?;
    let form = sorted_concatenation(request.params);
    let signs = |url: &str| {
        // A URL that carries the body's hash vouches for the body only when the hash is right.
        let body_hash_wrong = query_value(url, "bodySHA256")
            .is_some_and(|body_hash| hex(&Sha256::digest(request.body)) != body_hash.to_ascii_lowercase());
        !body_hash_wrong
            && [&form[..], &[]]
                .iter()
                .any(|form| keyed::<Hmac<Sha1>>(key, &[url.as_bytes(), form]).verify_slice(&expected).is_ok())
    };
    // The URL as received first: that is what a cXML webhook is signed over, and the other
    // spellings of its port cost building.
    if signs(request.url) || url_variants(request.url).iter().skip(1).any(|url| signs(url)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Names in byte order, a repeated name's values in the order they came (a stable sort by name).
fn sorted_concatenation(params: &Params) -> Vec<u8> {
    let mut pairs: Vec<(&str, &str)> = params.pairs().collect();
    pairs.sort_by_key(|(name, _)| *name);
    pairs.into_iter().flat_map(|(name, value)| [name.as_bytes(), value.as_bytes()]).flatten().copied().collect()
}

/// The `X-SignalWire-Signature` SignalWire sends with a form post; for tests and for anything
/// that signs requests.
pub fn sign(signing_key: &str, url: &str, params: &Params) -> String {
    let mac = keyed::<Hmac<Sha1>>(signing_key.as_bytes(), &[url.as_bytes(), &sorted_concatenation(params)]);
    BASE64.encode(mac.finalize().into_bytes())
}

/// The `X-SignalWire-SHA256-Signature` for a request.
pub fn sign_sha256(signing_key: &str, url: &str, body: &[u8]) -> String {
    hex(&keyed::<Hmac<Sha256>>(signing_key.as_bytes(), &[url.as_bytes(), body]).finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/signalwire-signature.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn text<'v>(vector: &'v Value, name: &str) -> &'v str {
        vector[name].as_str().unwrap()
    }

    fn signed<'a>(url: &'a str, params: &'a Params, body: &'a [u8], signature: &'a str) -> Signed<'a> {
        Signed { url, params, body, signature: Some(signature), sha256: None }
    }

    #[test]
    fn the_official_json_vector_a_verifies_and_a_changed_body_does_not() {
        let a = &vectors()["a"];
        let (key, url, body, expected) =
            (text(a, "signing_key"), text(a, "url"), text(a, "raw_body"), text(a, "expected"));
        let none = Params::default();
        assert_eq!(verify(key, &signed(url, &none, body.as_bytes(), expected)), Ok(()));
        let changed = body.replace("answered", "ringing");
        assert_eq!(verify(key, &signed(url, &none, changed.as_bytes(), expected)), Err(SignatureError::Mismatch));
        assert_eq!(verify("wrong-key", &signed(url, &none, body.as_bytes(), expected)), Err(SignatureError::Mismatch));
        assert_eq!(sign_sha256(key, url, body.as_bytes()), text(a, "expected_sha256"));
    }

    #[test]
    fn the_official_form_vector_b_verifies_on_either_port_spelling() {
        let b = &vectors()["b"];
        let params = Params::from_pairs(
            b["params"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect(),
        );
        let (key, url, expected) = (text(b, "signing_key"), text(b, "url"), text(b, "expected"));
        assert_eq!(sign(key, url, &params), expected);
        assert_eq!(verify(key, &signed(url, &params, b"", expected)), Ok(()));
        let with_port = url.replace("mycompany.com", "mycompany.com:443");
        assert_eq!(verify(key, &signed(&with_port, &params, b"", expected)), Ok(()));
        let mut tampered = params.pairs().map(|(k, v)| (k.to_owned(), v.to_owned())).collect::<Vec<_>>();
        tampered[2].1 = "9".into();
        let tampered = Params::from_pairs(tampered);
        assert_eq!(verify(key, &signed(url, &tampered, b"", expected)), Err(SignatureError::Mismatch));
    }

    #[test]
    fn the_official_body_hash_vector_c_verifies_only_with_its_body() {
        let c = &vectors()["c"];
        let (key, url, body, expected) =
            (text(c, "signing_key"), text(c, "url"), text(c, "raw_body"), text(c, "expected"));
        let none = Params::default();
        assert_eq!(verify(key, &signed(url, &none, body.as_bytes(), expected)), Ok(()));
        assert_eq!(verify(key, &signed(url, &none, b"{\"event\":\"other\"}", expected)), Err(SignatureError::Mismatch));
    }

    #[test]
    fn a_sha256_header_must_match_when_it_is_sent() {
        let params = Params::from_pairs(vec![("CallSid".into(), "CA1".into())]);
        let (url, body) = ("https://saidno.example.com/signalwire/voice", b"CallSid=CA1".as_slice());
        let sha1 = sign("key", url, &params);
        let sha256 = sign_sha256("key", url, body);
        let request = |signature, sha256| Signed { url, params: &params, body, signature, sha256 };
        assert_eq!(verify("key", &request(Some(&sha1), Some(&sha256))), Ok(()));
        assert_eq!(verify("key", &request(None, Some(&sha256))), Ok(()));
        assert_eq!(verify("key", &request(Some(&sha1), Some("00ff"))), Err(SignatureError::Sha256Mismatch));
        assert_eq!(verify("key", &request(None, None)), Err(SignatureError::Missing));
    }
}
