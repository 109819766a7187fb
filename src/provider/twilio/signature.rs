//! Twilio's request signature: base64(HMAC(key, url + every parameter name and value, sorted)).
//! HMAC-SHA1 with the auth token, or HMAC-SHA256 with a shared key when the request names one.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::provider::form::Params;
use crate::provider::signing::{hex, keyed, query_value, url_variants};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no X-Twilio-Signature header")]
    Missing,
    #[error("the request signature does not match")]
    Mismatch,
    #[error("the request names a signing key saidno does not have")]
    UnknownKey,
    #[error("the request body does not match its bodySHA256")]
    BodyHash,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Algorithm {
    Sha1,
    Sha256,
}

/// The secrets that requests are checked against.
#[derive(Clone)]
pub struct Verifier {
    auth_token: String,
    signing_keys: BTreeMap<String, String>,
}

/// What arrived with one request that the signature covers.
pub struct Signed<'a> {
    /// The full URL Twilio requested: the public address, the path and the query.
    pub url: &'a str,
    pub params: &'a Params,
    pub body: &'a [u8],
    /// `X-Twilio-Signature`.
    pub signature: Option<&'a str>,
    /// `X-Twilio-Webhooks-Signature-Settings`.
    pub settings: Option<&'a str>,
}

impl Verifier {
    pub fn new(auth_token: &str, signing_keys: BTreeMap<String, String>) -> Self {
        Self { auth_token: auth_token.to_owned(), signing_keys }
    }

    pub fn verify(&self, request: &Signed<'_>) -> Result<(), SignatureError> {
        let expected = request.signature.ok_or(SignatureError::Missing)?;
        let expected = BASE64.decode(expected.trim()).map_err(|_| SignatureError::Mismatch)?;
        let (algorithm, key) = self.key_for(request.settings)?;

        // A JSON body is not signed as parameters: its hash travels in the URL, which is signed.
        let params = match query_value(request.url, "bodySHA256") {
            Some(body_hash) => {
                if hex(&Sha256::digest(request.body)) != body_hash.to_ascii_lowercase() {
                    return Err(SignatureError::BodyHash);
                }
                &Params::default()
            }
            None => request.params,
        };
        let payload_tail = sorted_concatenation(params);
        let signed = |url: &str| verify_mac(algorithm, key.as_bytes(), &[url.as_bytes(), &payload_tail], &expected);
        // The URL as received is what nearly every request signs; its variants are built only when it does not match.
        let matches = signed(request.url) || url_variants(request.url).iter().skip(1).any(|url| signed(url));
        if matches { Ok(()) } else { Err(SignatureError::Mismatch) }
    }

    fn key_for(&self, settings: Option<&str>) -> Result<(Algorithm, &str), SignatureError> {
        let settings = settings.unwrap_or_default();
        let field = |name: &str| {
            settings
                .split(',')
                .filter_map(|part| part.trim().split_once('='))
                .find(|(key, _)| key.trim().eq_ignore_ascii_case(name))
                .map(|(_, value)| value.trim())
        };
        match field("algorithm") {
            Some(algorithm) if algorithm.eq_ignore_ascii_case("HMAC_SHA256") => {
                let id = field("key").ok_or(SignatureError::UnknownKey)?;
                let key = self.signing_keys.get(id).ok_or(SignatureError::UnknownKey)?;
                Ok((Algorithm::Sha256, key))
            }
            _ => Ok((Algorithm::Sha1, &self.auth_token)),
        }
    }
}

/// Computes the signature Twilio would send; used by tests and by anything that signs requests.
pub fn sign(key: &str, url: &str, params: &Params) -> String {
    let mac = keyed::<Hmac<Sha1>>(key.as_bytes(), &[url.as_bytes(), &sorted_concatenation(params)]);
    BASE64.encode(mac.finalize().into_bytes())
}

/// Signs with HMAC-SHA256 under a shared key.
pub fn sign_sha256(key: &str, url: &str, params: &Params) -> String {
    let mac = keyed::<Hmac<Sha256>>(key.as_bytes(), &[url.as_bytes(), &sorted_concatenation(params)]);
    BASE64.encode(mac.finalize().into_bytes())
}

// `verify_slice` compares in constant time.
fn verify_mac(algorithm: Algorithm, key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    match algorithm {
        Algorithm::Sha1 => keyed::<Hmac<Sha1>>(key, parts).verify_slice(expected).is_ok(),
        Algorithm::Sha256 => keyed::<Hmac<Sha256>>(key, parts).verify_slice(expected).is_ok(),
    }
}

/// Names in byte order; for a repeated name, its distinct values in byte order (as Twilio's own libraries do).
fn sorted_concatenation(params: &Params) -> Vec<u8> {
    // Sorting the pairs by name, then value, and dropping repeated pairs orders them exactly so.
    let mut pairs: Vec<(&str, &str)> = params.pairs().collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut out = Vec::with_capacity(pairs.iter().map(|(name, value)| name.len() + value.len()).sum());
    for (name, value) in pairs {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The official vectors, copied into the project with their source noted beside them.
    fn vectors() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/twilio-signature.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    fn params_from(value: &Value) -> Params {
        let mut pairs = Vec::new();
        for (name, value) in value.as_object().unwrap() {
            match value {
                Value::Array(values) => {
                    pairs.extend(values.iter().map(|v| (name.clone(), v.as_str().unwrap().to_owned())))
                }
                other => pairs.push((name.clone(), other.as_str().unwrap().to_owned())),
            }
        }
        Params::from_pairs(pairs)
    }

    fn check(
        verifier: &Verifier,
        url: &str,
        params: &Params,
        body: &[u8],
        signature: &str,
    ) -> Result<(), SignatureError> {
        verifier.verify(&Signed { url, params, body, signature: Some(signature), settings: None })
    }

    #[test]
    fn every_official_vector_verifies() {
        let vectors = vectors();
        let token = vectors["auth_token"].as_str().unwrap();
        let verifier = Verifier::new(token, BTreeMap::new());
        let defaults = params_from(&vectors["default_params"]);
        for vector in vectors["vectors"].as_array().unwrap() {
            let params = match &vector["params"] {
                Value::String(s) if s == "default" => defaults.clone(),
                other => params_from(other),
            };
            let body = vector["body"].as_str().unwrap_or("").as_bytes();
            let url = vector["url"].as_str().unwrap();
            let signature = vector["signature"].as_str().unwrap();
            assert_eq!(check(&verifier, url, &params, body, signature), Ok(()), "{vector}");
        }
        let go = &vectors["go_vectors"];
        let go_params = params_from(&go["params"]);
        for case in go["cases"].as_array().unwrap() {
            let result =
                check(&verifier, case["url"].as_str().unwrap(), &go_params, b"", case["signature"].as_str().unwrap());
            let must_reject = case["must_reject"].as_bool().unwrap_or(false);
            assert_eq!(result.is_err(), must_reject, "{case}");
        }
    }

    #[test]
    fn our_signer_agrees_with_the_official_vectors() {
        let vectors = vectors();
        let first = &vectors["vectors"][0];
        let signature = sign(
            vectors["auth_token"].as_str().unwrap(),
            first["url"].as_str().unwrap(),
            &params_from(&vectors["default_params"]),
        );
        assert_eq!(signature, first["signature"].as_str().unwrap());
    }

    #[test]
    fn a_changed_parameter_a_wrong_token_or_no_signature_is_refused() {
        let url = "https://calls.example.com/twilio/voice";
        let params = Params::from_pairs(vec![("From".into(), "+442079460123".into())]);
        let signature = sign("token", url, &params);
        let verifier = Verifier::new("token", BTreeMap::new());
        assert_eq!(check(&verifier, url, &params, b"", &signature), Ok(()));

        let tampered = Params::from_pairs(vec![("From".into(), "+442079460124".into())]);
        assert_eq!(check(&verifier, url, &tampered, b"", &signature), Err(SignatureError::Mismatch));
        let added = Params::from_pairs(vec![("From".into(), "+442079460123".into()), ("X".into(), "".into())]);
        assert_eq!(check(&verifier, url, &added, b"", &signature), Err(SignatureError::Mismatch));
        let other = Verifier::new("other", BTreeMap::new());
        assert_eq!(check(&other, url, &params, b"", &signature), Err(SignatureError::Mismatch));
        assert_eq!(check(&verifier, url, &params, b"", "not base64!"), Err(SignatureError::Mismatch));
        let unsigned = Signed { url, params: &params, body: b"", signature: None, settings: None };
        assert_eq!(verifier.verify(&unsigned), Err(SignatureError::Missing));
    }

    #[test]
    fn a_json_body_must_match_its_hash() {
        let vectors = vectors();
        let vector = &vectors["vectors"][5];
        let verifier = Verifier::new(vectors["auth_token"].as_str().unwrap(), BTreeMap::new());
        let url = vector["url"].as_str().unwrap();
        let signature = vector["signature"].as_str().unwrap();
        let result = check(&verifier, url, &Params::default(), b"{\"property\": \"other\"}", signature);
        assert_eq!(result, Err(SignatureError::BodyHash));
    }

    #[test]
    fn a_shared_key_signs_with_sha256_when_the_request_says_so() {
        let url = "https://calls.example.com/twilio/voice";
        let params = Params::from_pairs(vec![("From".into(), "+442079460123".into())]);
        let keys = BTreeMap::from([("KS1".to_owned(), "shared-secret".to_owned())]);
        let verifier = Verifier::new("token", keys);
        let signature = sign_sha256("shared-secret", url, &params);
        let signed = |settings| Signed { url, params: &params, body: b"", signature: Some(&signature), settings };
        assert_eq!(verifier.verify(&signed(Some("key=KS1,algorithm=HMAC_SHA256"))), Ok(()));
        assert_eq!(verifier.verify(&signed(Some("key=KS2,algorithm=HMAC_SHA256"))), Err(SignatureError::UnknownKey));
        // Without the header the auth token and SHA-1 apply, and this signature is not one of those.
        assert_eq!(verifier.verify(&signed(None)), Err(SignatureError::Mismatch));
    }

    #[test]
    fn url_variants_add_or_remove_the_port() {
        assert_eq!(url_variants("https://a.example/x?y=1"), ["https://a.example/x?y=1", "https://a.example:443/x?y=1"]);
        assert_eq!(url_variants("http://a.example:8080/x"), ["http://a.example:8080/x", "http://a.example/x"]);
        assert_eq!(url_variants("http://[::1]/x"), ["http://[::1]/x", "http://[::1]:80/x"]);
        assert_eq!(url_variants("http://[::1]:81/x"), ["http://[::1]:81/x", "http://[::1]/x"]);
    }
}
