//! Numbers as people type them and as providers send them: every input is taken as E.164 or
//! refused, never a panic, and a number taken reads back as itself. The fast path for E.164 text
//! and for numbers written nationally give exactly the verdict of the full parser
//! (`parse_typed_full`), whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use saidno::domain::{CallerId, PhoneNumber, Region};

// With a national prefix and its pattern (GB, AU), a prefix that is the country code (US), a
// prefix with rules rewriting the number (AR, MX, BR), and none (IT).
const REGIONS: [&str; 12] = ["GB", "US", "FR", "DE", "IT", "IN", "AU", "NG", "JP", "BR", "AR", "MX"];

/// The fast paths (E.164 text, and numbers written nationally in `region`) against the crate.
fn check(input: &str, code: &str, region: Region) {
    for force in [false, true] {
        let verdict = PhoneNumber::parse_typed(input, region, force);
        let full = PhoneNumber::parse_typed_full(input, region, force);
        assert_eq!(verdict, full, "{input:?} in {code} with force {force}: the fast path differs");
        let Ok(number) = verdict else { continue };
        assert_eq!(PhoneNumber::from_e164(number.as_str()).as_ref(), Some(&number), "{input:?} in {code}");
        let again = PhoneNumber::parse_typed(number.as_str(), region, force);
        assert_eq!(again.as_ref(), Ok(&number), "{input:?} in {code} does not read back");
        let _ = number.national();
    }
}

fuzz_target!(|input: &str| {
    // Most fuzzed text is not written as a national number would be; behind a trunk zero it is
    // closer to one ("020 7946 0123" from "20 7946 0123").
    let national = format!("0{input}");
    for code in REGIONS {
        let region: Region = code.parse().expect("a known region");
        check(input, code, region);
        check(&national, code, region);
        if let Ok(prefix) = region.range_prefix(input) {
            let digits = &prefix[1..];
            assert!(prefix.starts_with('+') && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
        }
    }
    if let Some(number) = PhoneNumber::from_e164(input) {
        assert_eq!(number.as_str(), input);
    }
    let _ = CallerId::from_text(input).to_string();
});
