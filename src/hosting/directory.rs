//! What a deployment that hosts many businesses knows of all of them at once: each business's
//! name, settings and token, and which business each line brings calls to. Small (no declines, no
//! calls), so it is kept whole; a business's own records are loaded only when it is used.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::domain::{Business, BusinessId, Line};

#[derive(Default)]
pub struct Directory {
    businesses: HashMap<BusinessId, Business>,
    names: HashMap<String, BusinessId>,
    /// By the digits of the number, as providers send `To` with or without its `+`.
    lines: HashMap<String, BusinessId>,
    tokens: HashMap<[u8; 32], BusinessId>,
}

impl Directory {
    pub fn new(businesses: Vec<Business>, lines: Vec<Line>) -> Self {
        let names = businesses.iter().map(|business| (business.name.as_str().to_owned(), business.id)).collect();
        let tokens = businesses
            .iter()
            .filter_map(|business| Some((digest_of_hex(business.token_sha256.as_deref()?)?, business.id)))
            .collect();
        let lines = lines.into_iter().map(|line| (digits(line.number.as_str()), line.business)).collect();
        let businesses = businesses.into_iter().map(|business| (business.id, business)).collect();
        Self { businesses, names, lines, tokens }
    }

    /// Whether calls are routed by their line: once any line is added, or any business beside the
    /// default one. Until then the deployment is one business, served exactly as before.
    pub fn hosts_many(&self) -> bool {
        !self.lines.is_empty() || self.businesses.len() > 1
    }

    pub fn ids(&self) -> impl Iterator<Item = BusinessId> + '_ {
        self.businesses.keys().copied()
    }

    pub fn business(&self, id: BusinessId) -> Option<&Business> {
        self.businesses.get(&id)
    }

    pub fn named(&self, name: &str) -> Option<BusinessId> {
        self.names.get(name).copied()
    }

    /// The business whose line `to` is, as the provider sent it (`+447700900123` or `447700900123`).
    pub fn line(&self, to: &str) -> Option<BusinessId> {
        self.lines.get(&digits(to)).copied()
    }

    /// The business whose admin token this is.
    pub fn token(&self, presented: &str) -> Option<BusinessId> {
        self.tokens.get(&<[u8; 32]>::from(Sha256::digest(presented.as_bytes()))).copied()
    }
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// The 32 bytes a SHA-256 in lower-case hex spells; `None` for anything else.
pub fn digest_of_hex(hex: &str) -> Option<[u8; 32]> {
    let mut digest = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BusinessName, PhoneNumber};

    fn business(id: i64, name: &str, token: Option<&str>) -> Business {
        Business {
            id: BusinessId(id),
            name: BusinessName::parse(name).unwrap(),
            settings: String::new(),
            token_sha256: token.map(crate::service::token_sha256),
            created_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_call_finds_its_business_by_the_line_with_or_without_the_plus() {
        let line = Line { number: PhoneNumber::from_e164("+442079460100").unwrap(), business: BusinessId(7) };
        let directory = Directory::new(vec![business(1, "default", None), business(7, "acme", None)], vec![line]);
        assert_eq!(directory.line("+442079460100"), Some(BusinessId(7)));
        assert_eq!(directory.line("442079460100"), Some(BusinessId(7)));
        assert_eq!(directory.line("+442079460101"), None);
        assert!(directory.hosts_many());
    }

    #[test]
    fn a_token_finds_its_business_and_no_other() {
        let directory =
            Directory::new(vec![business(1, "default", None), business(7, "acme", Some("acme-secret"))], vec![]);
        assert_eq!(directory.token("acme-secret"), Some(BusinessId(7)));
        assert_eq!(directory.token("acme-secret "), None);
        assert_eq!(directory.named("acme"), Some(BusinessId(7)));
    }

    #[test]
    fn one_business_without_lines_is_served_as_before() {
        assert!(!Directory::new(vec![business(1, "default", None)], vec![]).hosts_many());
    }

    #[test]
    fn only_a_whole_lower_case_sha256_is_a_digest() {
        assert!(digest_of_hex(&"ab".repeat(32)).is_some());
        assert!(digest_of_hex(&"ab".repeat(31)).is_none());
        assert!(digest_of_hex(&"zz".repeat(32)).is_none());
    }
}
