//! Webhook bodies: any bytes decode or are refused, a decoded form parses or is refused, and the
//! signature Twilio would send over it checks out while the same signature on a changed form does not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use saidno::provider::form::Params;
use saidno::provider::twilio::request;
use saidno::provider::twilio::signature::{Signed, Verifier, sign};

const AUTH_TOKEN: &str = "fuzz-auth-token";
/// A parameter name no form below carries, added to prove a signature covers every parameter.
const ADDED: &str = "SaidnoFuzzAdded";

/// The input is a request body, then optionally a line `--` and three lines: the signature
/// header, the signature settings header and the path, so that real bodies make good seeds.
fn request(data: &[u8]) -> (&[u8], String, String, String) {
    let Some(at) = data.windows(4).position(|window| window == b"\n--\n") else {
        return (data, String::new(), String::new(), String::new());
    };
    let extra = String::from_utf8_lossy(&data[at + 4..]).into_owned();
    let mut lines = extra.splitn(3, '\n').map(str::to_owned);
    let mut next = || lines.next().unwrap_or_default();
    (&data[..at], next(), next(), next())
}

fuzz_target!(|data: &[u8]| {
    let (body, signature, signature_settings, path) = request(data);
    let Ok(params) = Params::decode(body) else { return };
    let _ = request::incoming_call(&params);
    let _ = request::dial_outcome(&params);
    let _ = request::voicemail(&params);

    let verifier = Verifier::new(AUTH_TOKEN, Default::default());
    let url = format!("https://saidno.example.com/{path}");
    let signed = |params: &Params, signature: &str, settings: Option<&str>| {
        verifier.verify(&Signed { url: &url, params, body, signature: Some(signature), settings })
    };
    // Whatever the fuzzer sends as the signature and its settings, checking never panics.
    let _ = signed(&params, &signature, Some(&signature_settings));

    // A JSON body's hash rides in the URL instead; that path is covered by the unit tests.
    if url.contains("bodySHA256") {
        return;
    }
    let genuine = sign(AUTH_TOKEN, &url, &params);
    assert_eq!(signed(&params, &genuine, None), Ok(()), "a genuine signature was refused");
    if params.get(ADDED).is_none() {
        let mut pairs: Vec<(String, String)> =
            params.pairs().map(|(name, value)| (name.to_owned(), value.to_owned())).collect();
        pairs.push((ADDED.to_owned(), String::new()));
        assert!(signed(&Params::from_pairs(pairs), &genuine, None).is_err(), "a changed form passed");
    }
});
