//! Vonage's signed webhooks: `Authorization: Bearer <JWT>`, the token signed HS256 with the
//! account's signature secret, its `payload_hash` claim the lowercase hex SHA-256 of the body.
//! Vonage's own verifier (`Vonage/vonage-python-sdk` `jwt/src/vonage_jwt/verify_jwt.py`) checks
//! the signature only; the body's hash, the token's age (`iat`) and its one-time id (`jti`) are
//! checked here too, so that neither a changed body nor a copy of a request gets through.
//!
//! The token is decoded by hand: the JWT crates bring whole asymmetric-crypto stacks along for
//! what is here one HMAC.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::provider::signing::{hex, keyed};

/// How far a token's `iat` may be from now, either way: the window Telnyx's timestamps get too.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no Authorization: Bearer token")]
    Missing,
    #[error("the token is not a JWT")]
    Malformed,
    #[error("the token is not signed with HS256")]
    WrongAlgorithm,
    #[error("the token's signature does not match")]
    Mismatch,
    #[error("the token has no {0} claim")]
    NoClaim(&'static str),
    #[error("the token's payload_hash is not the hash of this body")]
    BodyChanged,
    #[error("the token's iat is more than {TOLERANCE_SECS} seconds from now")]
    Stale,
    #[error("the token was used before")]
    Replayed,
}

/// What saidno reads of a token once its signature is good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub iat: Option<i64>,
    pub jti: Option<String>,
    pub payload_hash: Option<String>,
}

/// The account's signature secret (Dashboard, API Settings).
pub struct SignatureSecret(Vec<u8>);

impl SignatureSecret {
    pub fn new(secret: &str) -> Self {
        Self(secret.trim().as_bytes().to_vec())
    }

    /// The claims of a token signed HS256 with this secret; anything else is refused, `none`
    /// included, whatever the header says.
    pub fn claims(&self, token: &str) -> Result<Claims, SignatureError> {
        let mut parts = token.trim().split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SignatureError::Malformed);
        };
        let header = decoded_json(header)?;
        if header.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err(SignatureError::WrongAlgorithm);
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| SignatureError::Mismatch)?;
        // `verify_slice` compares in constant time.
        keyed::<Hmac<Sha256>>(&self.0, &[header_part(token), b".", payload.as_bytes()])
            .verify_slice(&signature)
            .map_err(|_| SignatureError::Mismatch)?;
        let claims = decoded_json(payload)?;
        Ok(Claims {
            // A NumericDate may carry a fraction; a whole second is as fine as the window.
            iat: claims.get("iat").and_then(|iat| iat.as_i64().or_else(|| iat.as_f64().map(|f| f as i64))),
            jti: claims.get("jti").and_then(Value::as_str).map(str::to_owned),
            payload_hash: claims.get("payload_hash").and_then(Value::as_str).map(str::to_owned),
        })
    }

    /// Checks a request's `Authorization` header against its body at `now_secs`. `first_time` is
    /// asked last, so only tokens that are otherwise good take a place among those remembered.
    pub fn verify(
        &self,
        authorization: Option<&str>,
        body: &[u8],
        now_secs: i64,
        first_time: impl FnOnce(&str) -> bool,
    ) -> Result<(), SignatureError> {
        let token = authorization
            .map(str::trim)
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .filter(|token| !token.trim().is_empty())
            .ok_or(SignatureError::Missing)?;
        let claims = self.claims(token)?;
        let hash = claims.payload_hash.ok_or(SignatureError::NoClaim("payload_hash"))?;
        if !hash.eq_ignore_ascii_case(&hex(&Sha256::digest(body))) {
            return Err(SignatureError::BodyChanged);
        }
        let iat = claims.iat.ok_or(SignatureError::NoClaim("iat"))?;
        if (now_secs - iat).abs() > TOLERANCE_SECS {
            return Err(SignatureError::Stale);
        }
        let jti = claims.jti.filter(|jti| !jti.is_empty()).ok_or(SignatureError::NoClaim("jti"))?;
        if !first_time(&jti) {
            return Err(SignatureError::Replayed);
        }
        Ok(())
    }
}

/// The header part of a token as sent, which is what the signature covers.
fn header_part(token: &str) -> &[u8] {
    token.trim().split('.').next().unwrap_or_default().as_bytes()
}

fn decoded_json(part: &str) -> Result<Value, SignatureError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| SignatureError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(SignatureError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/vonage-jwt.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn text(value: &Value, name: &str) -> String {
        value[name].as_str().unwrap().to_owned()
    }

    #[test]
    fn the_sdk_vector_verifies_with_its_secret_and_not_with_another() {
        let v = &vector()["sdk"];
        let token = text(v, "token");
        let claims = SignatureSecret::new(&text(v, "valid_secret")).claims(&token).unwrap();
        assert_eq!(claims.iat, Some(1_697_634_680));
        let wrong = SignatureSecret::new(&text(v, "invalid_secret")).claims(&token);
        assert_eq!(wrong, Err(SignatureError::Mismatch));
        assert_eq!(SignatureSecret::new(&text(v, "valid_secret")).claims("asdf"), Err(SignatureError::Malformed));
    }

    #[test]
    fn a_vonage_shaped_token_covers_its_body_for_five_minutes_and_once() {
        let v = &vector()["webhook"];
        let secret = SignatureSecret::new(&text(v, "secret"));
        let (token, body) = (text(v, "token"), text(v, "body"));
        let at = v["iat"].as_i64().unwrap();
        let header = format!("Bearer {token}");
        let check = |body: &str, now| secret.verify(Some(&header), body.as_bytes(), now, |_| true);
        assert_eq!(hex(&Sha256::digest(body.as_bytes())), text(v, "payload_hash"));
        assert_eq!(check(&body, at), Ok(()));
        assert_eq!(check(&body, at + TOLERANCE_SECS), Ok(()));
        assert_eq!(check(&body, at - TOLERANCE_SECS), Ok(()));
        assert_eq!(check(&body, at + TOLERANCE_SECS + 1), Err(SignatureError::Stale));
        assert_eq!(check(&body, at - TOLERANCE_SECS - 1), Err(SignatureError::Stale));
        assert_eq!(check(&body.replace("447700900000", "447700900001"), at), Err(SignatureError::BodyChanged));
        let mut seen = std::collections::HashSet::new();
        let mut once = |now| secret.verify(Some(&header), body.as_bytes(), now, |jti| seen.insert(jti.to_owned()));
        assert_eq!(once(at), Ok(()));
        assert_eq!(once(at + 1), Err(SignatureError::Replayed));
        assert_eq!(secret.verify(None, body.as_bytes(), at, |_| true), Err(SignatureError::Missing));
        assert_eq!(secret.verify(Some(&token), body.as_bytes(), at, |_| true), Err(SignatureError::Missing));
    }

    #[test]
    fn an_unsigned_token_is_refused_whatever_its_claims() {
        let v = &vector()["webhook"];
        let token = text(v, "token");
        let payload = token.split('.').nth(1).unwrap();
        let secret = SignatureSecret::new(&text(v, "secret"));
        for alg in ["none", "HS512", "RS256"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
            assert_eq!(secret.claims(&format!("{header}.{payload}.")), Err(SignatureError::WrongAlgorithm), "{alg}");
        }
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
        assert_eq!(secret.claims(&format!("{header}.{payload}.")), Err(SignatureError::Mismatch));
    }
}
