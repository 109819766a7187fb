//! Plivo's request signatures, as its official Python SDK computes them
//! (`plivo/plivo-python` `plivo/utils/signature_v3.py` and `plivo/utils/__init__.py`).
//!
//! V3, on every voice request: base64 HMAC-SHA256 with the Auth Token over the URL without its
//! query, `?`, the URL's query sorted as `name=value&...` followed by `.` when there is one, the
//! posted parameters sorted as `namevalue` with nothing between them, then `.` and the nonce of
//! `X-Plivo-Signature-V3-Nonce`. `X-Plivo-Signature-V3` is signed with the token of the account
//! that owns the number, `X-Plivo-Signature-Ma-V3` with the main account's; either header may
//! hold several signatures, one per active token, separated by commas, and any one passing is
//! enough.
//!
//! V2, on messaging requests: the same MAC over the URL without its query and the nonce of
//! `X-Plivo-Signature-V2-Nonce`. It covers neither the body nor the query, so it is taken only
//! for texts, which is all Plivo signs with it.
//!
//! Neither has a timestamp: a nonce is refused the second time it is seen.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::provider::form::Params;
use crate::provider::signing::keyed;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no X-Plivo-Signature-V3 and X-Plivo-Signature-V3-Nonce headers")]
    Missing,
    #[error("the request signature does not match")]
    Mismatch,
}

/// What a V3 signature covers, and the signature headers as received.
pub struct Signed<'a> {
    pub url: &'a str,
    pub params: &'a Params,
    pub nonce: Option<&'a str>,
    /// `X-Plivo-Signature-V3` and `X-Plivo-Signature-Ma-V3`.
    pub signatures: [Option<&'a str>; 2],
}

/// Checks a V3 signature against `auth_token`.
pub fn verify_v3(auth_token: &str, request: &Signed<'_>) -> Result<(), SignatureError> {
    let nonce = request.nonce.ok_or(SignatureError::Missing)?;
    if request.signatures.iter().all(Option::is_none) {
        return Err(SignatureError::Missing);
    }
    let mac = v3_mac(auth_token, request.url, request.params, nonce);
    matches_any(&mac, request.signatures.iter().flatten().copied())
}

/// Checks a V2 signature against `auth_token`.
pub fn verify_v2(
    auth_token: &str,
    url: &str,
    nonce: Option<&str>,
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    let (Some(nonce), Some(signature)) = (nonce, signature) else {
        return Err(SignatureError::Missing);
    };
    matches_any(&v2_mac(auth_token, url, nonce), [signature])
}

pub fn sign_v3(auth_token: &str, url: &str, params: &Params, nonce: &str) -> String {
    BASE64.encode(v3_mac(auth_token, url, params, nonce).finalize().into_bytes())
}

pub fn sign_v2(auth_token: &str, url: &str, nonce: &str) -> String {
    BASE64.encode(v2_mac(auth_token, url, nonce).finalize().into_bytes())
}

/// What V3 signs, before the nonce.
pub fn v3_string(url: &str, params: &Params) -> String {
    let (base, query) = split(url);
    let query = sorted(form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())));
    let query: Vec<String> =
        query.iter().flat_map(|(name, values)| values.iter().map(move |value| format!("{name}={value}"))).collect();
    let query = query.join("&");
    let mut out = base.to_owned();
    if params.is_empty() {
        if !query.is_empty() {
            out.push('?');
            out.push_str(&query);
        }
        return out;
    }
    out.push('?');
    out.push_str(&query);
    if !query.is_empty() {
        out.push('.');
    }
    for (name, values) in sorted(params.pairs().map(|(k, v)| (k.to_owned(), v.to_owned()))) {
        for value in values {
            out.push_str(&name);
            out.push_str(&value);
        }
    }
    out
}

fn v3_mac(auth_token: &str, url: &str, params: &Params, nonce: &str) -> Hmac<Sha256> {
    let signed = v3_string(url, params);
    keyed(auth_token.as_bytes(), &[signed.as_bytes(), b".", nonce.as_bytes()])
}

fn v2_mac(auth_token: &str, url: &str, nonce: &str) -> Hmac<Sha256> {
    keyed(auth_token.as_bytes(), &[split(url).0.as_bytes(), nonce.as_bytes()])
}

/// Whether one of the comma-separated signatures in `headers` is the MAC's, compared in
/// constant time.
fn matches_any<'h>(mac: &Hmac<Sha256>, headers: impl IntoIterator<Item = &'h str>) -> Result<(), SignatureError> {
    let passes = headers
        .into_iter()
        .flat_map(|header| header.split(','))
        .filter_map(|signature| BASE64.decode(signature.trim()).ok())
        .any(|signature| mac.clone().verify_slice(&signature).is_ok());
    if passes { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// The URL without its query (and fragment), and the query.
fn split(url: &str) -> (&str, &str) {
    let url = url.split('#').next().unwrap_or(url);
    url.split_once('?').unwrap_or((url, ""))
}

/// Names in order, each name's values in order, as the SDK sorts them.
fn sorted(pairs: impl Iterator<Item = (String, String)>) -> BTreeMap<String, Vec<String>> {
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in pairs {
        by_name.entry(name).or_default().push(value);
    }
    by_name.values_mut().for_each(|values| values.sort());
    by_name
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/plivo-signature.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn params(case: &Value) -> Params {
        let pairs = case["params"].as_object().unwrap();
        Params::from_pairs(pairs.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect())
    }

    #[test]
    fn every_v3_vector_signs_the_same_string_and_verifies() {
        let v = vectors();
        let token = v["auth_token"].as_str().unwrap();
        for case in v["v3"].as_array().unwrap() {
            let (url, nonce, expected) =
                (case["url"].as_str().unwrap(), case["nonce"].as_str().unwrap(), case["signature"].as_str().unwrap());
            let params = params(case);
            assert_eq!(format!("{}.{nonce}", v3_string(url, &params)), case["signed_string"].as_str().unwrap());
            assert_eq!(sign_v3(token, url, &params, nonce), expected, "{url}");
            let several = format!("bm90IGl0,{expected}");
            let signed = Signed { url, params: &params, nonce: Some(nonce), signatures: [None, Some(&several)] };
            assert_eq!(verify_v3(token, &signed), Ok(()), "any one of several passes, in either header");
            let other = Signed { nonce: Some("99999"), ..signed };
            assert_eq!(verify_v3(token, &other), Err(SignatureError::Mismatch), "another nonce");
        }
    }

    #[test]
    fn a_v3_signature_over_other_parameters_or_without_a_nonce_is_refused() {
        let v = vectors();
        let case = &v["v3"][0];
        let (url, signature) = (case["url"].as_str().unwrap(), case["signature"].as_str().unwrap());
        let mut pairs: Vec<(String, String)> = params(case).pairs().map(|(k, v)| (k.into(), v.into())).collect();
        pairs[1].1 = "14155550101".into();
        let changed = Params::from_pairs(pairs);
        let signed = Signed { url, params: &changed, nonce: Some("12345"), signatures: [Some(signature), None] };
        assert_eq!(verify_v3("my_auth_token", &signed), Err(SignatureError::Mismatch));
        let unsigned = Signed { nonce: None, ..signed };
        assert_eq!(verify_v3("my_auth_token", &unsigned), Err(SignatureError::Missing));
    }

    #[test]
    fn the_sdks_v2_vectors_verify_and_cover_the_port() {
        let v = vectors();
        for case in v["v2"].as_array().unwrap() {
            let (url, nonce, signature) =
                (case["url"].as_str().unwrap(), case["nonce"].as_str().unwrap(), case["signature"].as_str().unwrap());
            assert_eq!(verify_v2("my_auth_token", url, Some(nonce), Some(signature)), Ok(()), "{url}");
            assert_eq!(sign_v2("my_auth_token", url, nonce), signature);
            let wrong = verify_v2("another_token", url, Some(nonce), Some(signature));
            assert_eq!(wrong, Err(SignatureError::Mismatch));
        }
    }
}
