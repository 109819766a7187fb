//! What several providers' request signatures share: an HMAC over the parts of a request, the
//! URL's port variants, and hex.

use hmac::{KeyInit, Mac};

/// A MAC keyed with `key` over `parts`, one after another.
pub fn keyed<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> M {
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac
}

/// The URL as received, without its port, and with the scheme's default port: proxies and
/// providers' own libraries disagree on whether the port is part of what was signed.
pub fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host_port) = match authority.rfind('@') {
        Some(at) => authority.split_at(at + 1),
        None => ("", authority),
    };
    // A port follows the last colon, unless that colon is inside an IPv6 literal.
    let port_start = host_port.rfind(':').filter(|&colon| !host_port[colon..].contains(']'));
    match port_start {
        Some(colon) => variants.push(format!("{scheme}://{userinfo}{}{tail}", &host_port[..colon])),
        None => {
            let default_port = match scheme.to_ascii_lowercase().as_str() {
                "https" => "443",
                "http" => "80",
                _ => return variants,
            };
            variants.push(format!("{scheme}://{userinfo}{host_port}:{default_port}{tail}"));
        }
    }
    variants
}

/// The value of `name` in the URL's query, as written.
pub fn query_value<'u>(url: &'u str, name: &str) -> Option<&'u str> {
    let query = url.split_once('?')?.1.split('#').next()?;
    query.split('&').filter_map(|pair| pair.split_once('=')).find(|(key, _)| *key == name).map(|(_, value)| value)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes a hex string spells, in either case; `None` when it is not hex.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}
