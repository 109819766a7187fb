//! Telnyx's request signature: Ed25519 over `"{telnyx-timestamp}|{raw body}"` with the account's
//! key pair, in `telnyx-signature-ed25519` (base64), the timestamp in `telnyx-timestamp` (Unix
//! seconds). As Telnyx's own SDK (`team-telnyx/telnyx-python`
//! `src/telnyx/lib/webhook_verification.py`) does, a timestamp more than five minutes from now
//! either way is refused, so a captured request cannot be replayed later.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::signature::{ED25519, UnparsedPublicKey};

/// How far a request's timestamp may be from now.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no telnyx-signature-ed25519 and telnyx-timestamp headers")]
    Missing,
    #[error("the request's telnyx-timestamp is more than {TOLERANCE_SECS} seconds from now")]
    Stale,
    #[error("the request signature does not match")]
    Mismatch,
}

/// The account's public key, as Mission Control shows it: base64 of 32 bytes.
#[derive(Clone, Debug)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = BASE64.decode(text.trim()).map_err(|_| "is not base64".to_owned())?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| "is not the 32 bytes of an Ed25519 public key".to_owned())?;
        Ok(Self(key))
    }

    pub fn verify(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now_secs: i64,
    ) -> Result<(), SignatureError> {
        let (Some(signature), Some(timestamp)) = (signature, timestamp) else {
            return Err(SignatureError::Missing);
        };
        let timestamp = timestamp.trim();
        let at: i64 = timestamp.parse().map_err(|_| SignatureError::Stale)?;
        if (now_secs - at).abs() > TOLERANCE_SECS {
            return Err(SignatureError::Stale);
        }
        let signature = BASE64.decode(signature.trim()).map_err(|_| SignatureError::Mismatch)?;
        let message = [timestamp.as_bytes(), b"|", body].concat();
        UnparsedPublicKey::new(&ED25519, &self.0).verify(&message, &signature).map_err(|_| SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{Ed25519KeyPair, KeyPair};
    use serde_json::Value;

    fn vector() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/telnyx-signature.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_fixed_vector_verifies_within_five_minutes_and_not_after() {
        let v = vector();
        let text = |name: &str| v[name].as_str().unwrap().to_owned();
        let key = PublicKey::from_base64(&text("public_key")).unwrap();
        let (signature, timestamp, body) = (text("signature"), text("timestamp"), text("body"));
        let at: i64 = timestamp.parse().unwrap();
        let check = |body: &str, now| key.verify(Some(&signature), Some(&timestamp), body.as_bytes(), now);
        assert_eq!(check(&body, at), Ok(()));
        assert_eq!(check(&body, at + TOLERANCE_SECS), Ok(()));
        assert_eq!(check(&body, at - TOLERANCE_SECS), Ok(()));
        assert_eq!(check(&body, at + TOLERANCE_SECS + 1), Err(SignatureError::Stale));
        assert_eq!(check(&body.replace("ringing", "answered"), at), Err(SignatureError::Mismatch));
        assert_eq!(key.verify(None, Some(&timestamp), body.as_bytes(), at), Err(SignatureError::Missing));
    }

    #[test]
    fn a_key_pair_made_here_signs_what_the_key_verifies() {
        let seed: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
        let key = PublicKey::from_base64(&BASE64.encode(pair.public_key().as_ref())).unwrap();
        let signature = BASE64.encode(pair.sign(b"1700000000|CallSid=v3%3Aabc").as_ref());
        assert_eq!(key.verify(Some(&signature), Some("1700000000"), b"CallSid=v3%3Aabc", 1_700_000_010), Ok(()));
        let other = PublicKey::from_base64(vector()["public_key"].as_str().unwrap()).unwrap();
        let result = other.verify(Some(&signature), Some("1700000000"), b"CallSid=v3%3Aabc", 1_700_000_010);
        assert_eq!(result, Err(SignatureError::Mismatch));
    }

    #[test]
    fn a_key_that_is_not_one_is_refused_with_the_reason() {
        assert!(PublicKey::from_base64("not base64!").unwrap_err().contains("base64"));
        assert!(PublicKey::from_base64(&BASE64.encode([1u8; 16])).unwrap_err().contains("32 bytes"));
    }
}
