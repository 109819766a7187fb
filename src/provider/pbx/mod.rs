//! A business's own PBX (Asterisk, FreePBX): before it rings, its dialplan asks saidno about the
//! call with one `GET` and acts on the one word it gets back. There is no markup and no callback:
//! the PBX speaks the words with its own text to speech and rings its own phones.

mod lookup;
mod verdict;

pub use lookup::{Lookup, LookupError};
pub use verdict::{Verb, Verdict};

use sha2::{Digest, Sha256};

/// The look-up's bearer token, kept only as a digest, so comparing it leaks nothing of the token
/// through timing.
pub struct Pbx {
    token: [u8; 32],
}

impl Pbx {
    pub fn new(token: &str) -> Self {
        Self { token: Sha256::digest(token.as_bytes()).into() }
    }

    /// Whether an `Authorization` header's value carries the token.
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        let presented = authorization.and_then(|value| value.strip_prefix("Bearer ")).map(str::trim);
        presented.is_some_and(|token| !token.is_empty() && <[u8; 32]>::from(Sha256::digest(token)) == self.token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_itself_is_admitted() {
        let pbx = Pbx::new("s3cret");
        assert!(pbx.admits(Some("Bearer s3cret")));
        for presented in [None, Some(""), Some("s3cret"), Some("Bearer "), Some("Bearer s3cre"), Some("Basic s3cret")] {
            assert!(!pbx.admits(presented), "{presented:?}");
        }
    }
}
