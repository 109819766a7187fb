//! The token a Vonage application signs in with: a JWT signed RS256 with the application's
//! private key, carrying Vonage's claims (`application_id`, `iat`, `jti`, `exp`). Each token is
//! made for one request and lives a few minutes, so a leaked one is soon worthless.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use serde_json::json;

/// How long a token is good for: long enough for one download to start.
const LIFETIME_SECS: i64 = 5 * 60;

pub struct Signer {
    application_id: String,
    key: RsaKeyPair,
    random: SystemRandom,
}

impl Signer {
    /// The signer for `application_id` with the RSA key in `pem` (PKCS #8, as Vonage gives it, or
    /// PKCS #1); the error says what is wrong with the key.
    pub fn new(application_id: &str, pem: &[u8]) -> Result<Self, String> {
        let der = PrivateKeyDer::from_pem_slice(pem)
            .map_err(|_| "is not a private key in PEM form (-----BEGIN PRIVATE KEY-----)".to_owned())?;
        let key = match &der {
            PrivateKeyDer::Pkcs8(key) => RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(key) => RsaKeyPair::from_der(key.secret_pkcs1_der()),
            _ => return Err("is not an RSA private key".into()),
        }
        .map_err(|why| format!("is not an RSA private key that can sign ({why})"))?;
        Ok(Self { application_id: application_id.to_owned(), key, random: SystemRandom::new() })
    }

    /// A fresh token, issued `now` (seconds since 1970).
    pub fn token(&self, now: i64) -> Result<String, String> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|why| format!("no randomness for the token's id: {why}"))?;
        let header = json!({"alg": "RS256", "typ": "JWT"});
        let claims = json!({
            "application_id": self.application_id,
            "iat": now,
            "jti": id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "exp": now + LIFETIME_SECS,
        });
        let signed =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.random, signed.as_bytes(), &mut signature)
            .map_err(|_| "the key could not sign the token".to_owned())?;
        Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}
