//! Strict decoding of `application/x-www-form-urlencoded` bodies. Every parameter is kept, in
//! order and with repeats, because the signature covers all of them.

use percent_encoding::percent_decode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the form body is malformed: {0}")]
pub struct FormError(String);

/// The parameters of one request, in the order they came: their decoded text in one buffer, and
/// where each name and value lies in it, so a webhook's twenty-odd fields cost two allocations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    text: String,
    pairs: Vec<(Span, Span)>,
}

type Span = std::ops::Range<usize>;

impl Params {
    /// Unlike the lenient decoders, invalid UTF-8 is an error rather than replaced, so what is
    /// verified and stored is exactly what was sent.
    pub fn decode(body: &[u8]) -> Result<Self, FormError> {
        let mut text = Vec::with_capacity(body.len());
        let mut pairs = Vec::with_capacity(body.iter().filter(|&&b| b == b'&').count() + 1);
        for segment in body.split(|&b| b == b'&').filter(|segment| !segment.is_empty()) {
            let (name, value) = match segment.iter().position(|&b| b == b'=') {
                Some(at) => (&segment[..at], &segment[at + 1..]),
                None => (segment, &[][..]),
            };
            let name = decode_into(&mut text, name)?;
            if name.is_empty() {
                return Err(FormError("a parameter has no name".into()));
            }
            pairs.push((name, decode_into(&mut text, value)?));
        }
        // Each component was checked on its own, and UTF-8 strings joined stay UTF-8.
        let text = String::from_utf8(text).map_err(|_| not_utf8())?;
        Ok(Self { text, pairs })
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut params = Self::default();
        for (name, value) in pairs {
            let name = params.push(&name);
            let value = params.push(&value);
            params.pairs.push((name, value));
        }
        params
    }

    fn push(&mut self, part: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(part);
        start..self.text.len()
    }

    /// The first value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs().find(|(key, _)| *key == name).map(|(_, value)| value)
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(name, value)| (&self.text[name.clone()], &self.text[value.clone()]))
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

fn not_utf8() -> FormError {
    FormError("a parameter is not valid UTF-8".into())
}

/// Appends one decoded name or value to `text` and says where it lies. Most parts are plain ASCII
/// and are copied whole; only a part that decodes to more than ASCII is checked as UTF-8 on its own
/// (the whole is checked again when the buffer becomes a string, and that check is cheap for ASCII).
fn decode_into(text: &mut Vec<u8>, raw: &[u8]) -> Result<Span, FormError> {
    let start = text.len();
    for (at, piece) in raw.split(|&b| b == b'+').enumerate() {
        if at > 0 {
            text.push(b' ');
        }
        if piece.contains(&b'%') {
            text.extend(percent_decode(piece));
        } else {
            text.extend_from_slice(piece);
        }
    }
    let decoded = &text[start..];
    if !decoded.is_ascii() {
        std::str::from_utf8(decoded).map_err(|_| not_utf8())?;
    }
    Ok(start..text.len())
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
        assert_eq!(params.len(), 6);
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
