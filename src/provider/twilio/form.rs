//! Strict decoding of `application/x-www-form-urlencoded` bodies. Every parameter is kept, in
//! order and with repeats, because the signature covers all of them.

use percent_encoding::percent_decode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the form body is malformed: {0}")]
pub struct FormError(String);

/// The parameters of one request, in the order they came.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Unlike the lenient decoders, invalid UTF-8 is an error rather than replaced, so what is
    /// verified and stored is exactly what was sent.
    pub fn decode(body: &[u8]) -> Result<Self, FormError> {
        let mut pairs = Vec::new();
        for segment in body.split(|&b| b == b'&').filter(|segment| !segment.is_empty()) {
            let (name, value) = match segment.iter().position(|&b| b == b'=') {
                Some(at) => (&segment[..at], &segment[at + 1..]),
                None => (segment, &[][..]),
            };
            let name = decode_component(name)?;
            if name.is_empty() {
                return Err(FormError("a parameter has no name".into()));
            }
            pairs.push((name, decode_component(value)?));
        }
        Ok(Self(pairs))
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// The first value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

fn decode_component(raw: &[u8]) -> Result<String, FormError> {
    let spaced: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    let bytes: Vec<u8> = percent_decode(&spaced).collect();
    String::from_utf8(bytes).map_err(|_| FormError("a parameter is not valid UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_decoded_in_order_with_repeats_and_empty_values() {
        let params = Params::decode(b"From=%2B442079460123&Digits=1&Digits=2&Empty=&Flag&CallerName=A+B").unwrap();
        assert_eq!(params.get("From"), Some("+442079460123"));
        assert_eq!(params.get("Digits"), Some("1"));
        assert_eq!(params.get("Empty"), Some(""));
        assert_eq!(params.get("Flag"), Some(""));
        assert_eq!(params.get("CallerName"), Some("A B"));
        assert_eq!(params.pairs().len(), 6);
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_replacement() {
        assert!(Params::decode(b"CallerName=%FF%FE").is_err());
        assert!(Params::decode(b"Caller\xffName=x").is_err());
    }

    #[test]
    fn a_nameless_parameter_is_an_error() {
        assert!(Params::decode(b"=value").is_err());
    }
}
