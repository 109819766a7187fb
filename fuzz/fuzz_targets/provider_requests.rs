//! Plivo's and Vonage's requests: any body is read or refused, and any token or signature is
//! checked or refused, without a panic; a request signed as the provider signs it passes, and the
//! same signature over a changed request does not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use saidno::provider::form::Params;
use saidno::provider::plivo::request as plivo;
use saidno::provider::plivo::signature::{Signed, sign_v3, verify_v3};
use saidno::provider::vonage::request as vonage;
use saidno::provider::vonage::signature::SignatureSecret;

const TOKEN: &str = "fuzz-plivo-token";
const URL: &str = "https://saidno.example.com/plivo/voice";

fuzz_target!(|data: &[u8]| {
    // Vonage: the body as JSON, and the same bytes as a token.
    if let Ok(params) = vonage::params(data) {
        let _ = vonage::incoming_call(&params);
        let _ = vonage::dial_outcome(&params);
        let _ = vonage::voicemail(&params);
    }
    let text = String::from_utf8_lossy(data);
    let secret = SignatureSecret::new("fuzz-vonage-secret");
    let _ = secret.claims(&text);
    let _ = secret.verify(Some(&format!("Bearer {text}")), data, 1_700_000_000, |_| true);

    // Plivo: the body as a form, signed over any URL the input carries after a newline.
    let (body, url) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], format!("{URL}?{}", String::from_utf8_lossy(&data[at + 1..]))),
        None => (data, URL.to_owned()),
    };
    let Ok(params) = Params::decode(body) else { return };
    let _ = plivo::incoming_call(&params);
    let _ = plivo::dial_outcome(&params);
    let _ = plivo::voicemail(&params);
    let signature = sign_v3(TOKEN, &url, &params, "12345");
    let signed = Signed { url: &url, params: &params, nonce: Some("12345"), signatures: [Some(&signature), None] };
    assert_eq!(verify_v3(TOKEN, &signed), Ok(()), "a request signed as Plivo signs it passes");
    let mut pairs: Vec<(String, String)> = params.pairs().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    pairs.push(("SaidnoFuzzAdded".into(), "1".into()));
    let changed = Params::from_pairs(pairs);
    let tampered = Signed { params: &changed, ..signed };
    assert!(verify_v3(TOKEN, &tampered).is_err(), "a parameter added after signing is caught");
});
