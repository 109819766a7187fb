//! Whom a request is from: the peer, or, when the peer is a trusted reverse proxy, the client
//! the proxies named in `X-Forwarded-For`.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// Each proxy appends the address it got the request from, so the list is read from the right:
/// the first address that is not itself a trusted proxy is the client. What an untrusted peer
/// sends in the header is never read, or anyone could pick the address they are counted as.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|range| range.contains(address));
    if !is_trusted(&peer) {
        return peer;
    }
    let named = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for text in named.into_iter().rev() {
        // A list the proxies did not write in full cannot be trusted past this point.
        let Ok(address) = text.parse::<IpAddr>() else { break };
        client = address;
        if !is_trusted(&address) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded_for: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded_for {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn ranges(texts: &[&str]) -> Vec<IpNet> {
        texts.iter().map(|text| text.parse().unwrap()).collect()
    }

    #[test]
    fn a_peer_that_is_not_a_trusted_proxy_is_the_client_whatever_it_claims() {
        let claimed = headers(&["203.0.113.9"]);
        assert_eq!(client_address(ip("198.51.100.4"), &claimed, &ranges(&["127.0.0.1/32"])), ip("198.51.100.4"));
        assert_eq!(client_address(ip("127.0.0.1"), &claimed, &[]), ip("127.0.0.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_client_is_the_last_address_they_did_not_add_themselves() {
        let trusted = ranges(&["127.0.0.1/32", "10.0.0.0/8"]);
        // The visitor put a made-up address first; the proxies appended what they saw.
        let chain = headers(&["192.0.2.66, 203.0.113.9", "10.1.2.3"]);
        assert_eq!(client_address(ip("127.0.0.1"), &chain, &trusted), ip("203.0.113.9"));
        assert_eq!(client_address(ip("127.0.0.1"), &headers(&["2001:db8::7"]), &trusted), ip("2001:db8::7"));
    }

    #[test]
    fn a_trusted_proxy_that_names_nobody_or_nonsense_is_counted_itself() {
        let trusted = ranges(&["127.0.0.1/32"]);
        assert_eq!(client_address(ip("127.0.0.1"), &headers(&[]), &trusted), ip("127.0.0.1"));
        assert_eq!(client_address(ip("127.0.0.1"), &headers(&["not-an-address"]), &trusted), ip("127.0.0.1"));
        let after_nonsense = headers(&["203.0.113.9, junk"]);
        assert_eq!(client_address(ip("127.0.0.1"), &after_nonsense, &trusted), ip("127.0.0.1"));
    }
}
