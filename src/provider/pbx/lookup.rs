//! The look-up's query: who is calling, whom, and the PBX's own id for the call.

use serde::Deserialize;

use crate::domain::{CallerId, IncomingCall, PhoneNumber, Region};

/// What an Asterisk dialplan fills in: `from=${CALLERID(num)}&to=${EXTEN}&call=${UNIQUEID}`,
/// and `name=${CALLERID(name)}` where the trunk passes one.
#[derive(Debug, Default, Deserialize)]
pub struct Lookup {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub call: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("the {0} parameter is longer than {MAX_TEXT} characters")]
    TooLong(&'static str),
    #[error("the call parameter may hold only letters, digits, '.', '-' and '_'")]
    CallId,
}

/// Far longer than any number, name or call id a PBX sends.
const MAX_TEXT: usize = 128;

/// What a PBX puts in the caller's number when there is none (Asterisk's and the trunks' usual
/// spellings).
const WITHHELD: [&str; 6] = ["anonymous", "restricted", "unknown", "unavailable", "private", "withheld"];

impl Lookup {
    /// The call, with the caller's number read as the PBX has it: E.164, international digits
    /// without `+`, or written nationally for the business's `region`.
    pub fn incoming_call(&self, region: Region, now_micros: i64) -> Result<IncomingCall, LookupError> {
        for (name, value) in [("from", &self.from), ("to", &self.to), ("call", &self.call), ("name", &self.name)] {
            if value.chars().count() > MAX_TEXT {
                return Err(LookupError::TooLong(name));
            }
        }
        let call = self.call.trim();
        if !call.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_".contains(&b)) {
            return Err(LookupError::CallId);
        }
        let name = self.name.trim();
        Ok(IncomingCall {
            // A dialplan that sends no id still gets each call logged as one of its own.
            call_id: if call.is_empty() { format!("pbx-{now_micros}") } else { call.to_owned() },
            from: caller(self.from.trim(), region),
            to: self.to.trim().to_owned(),
            caller_name: (!name.is_empty()).then(|| name.to_owned()),
            verification: None,
        })
    }
}

fn caller(from: &str, region: Region) -> CallerId {
    if WITHHELD.iter().any(|spelling| spelling.eq_ignore_ascii_case(from)) {
        return CallerId::Withheld;
    }
    if from.starts_with('+') {
        return CallerId::from_text(from);
    }
    // A number the plan does not know yet still matches its decline: numbers a person typed are
    // taken with `force` too when the range is new.
    match PhoneNumber::parse_typed(from, region, true) {
        Ok(number) => CallerId::Number(number),
        Err(_) => CallerId::from_text(from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(text: &str) -> CallerId {
        let lookup = Lookup { from: text.into(), ..Lookup::default() };
        lookup.incoming_call("GB".parse().unwrap(), 1).unwrap().from
    }

    #[test]
    fn a_number_is_read_whichever_way_the_pbx_writes_it() {
        for text in ["+442079460123", "442079460123", "02079460123", "020 7946 0123", "00442079460123"] {
            assert_eq!(from(text).to_string(), "+442079460123", "{text}");
        }
    }

    #[test]
    fn a_caller_with_no_number_is_withheld() {
        for text in ["", "anonymous", "Anonymous", "Restricted", "unavailable", "private"] {
            assert_eq!(from(text), CallerId::Withheld, "{text:?}");
        }
        assert_eq!(from("sip:alice@pbx.example"), CallerId::Other("sip:alice@pbx.example".into()));
    }

    #[test]
    fn a_missing_call_id_is_made_up_and_a_strange_one_refused() {
        let lookup = Lookup { from: "+442079460123".into(), ..Lookup::default() };
        assert_eq!(lookup.incoming_call("GB".parse().unwrap(), 42).unwrap().call_id, "pbx-42");
        let bad = Lookup { call: "1700000000.42<script>".into(), ..Lookup::default() };
        assert_eq!(bad.incoming_call("GB".parse().unwrap(), 42), Err(LookupError::CallId));
        let long = Lookup { from: "1".repeat(200), ..Lookup::default() };
        assert_eq!(long.incoming_call("GB".parse().unwrap(), 42), Err(LookupError::TooLong("from")));
    }
}
