//! The address rule every provider's recordings share: a recording is a plain identifier right
//! under its account's own address, and nothing else is fetched. Each provider's part names its
//! account's address; this file is beneath them all, so none of them reaches up to the part that
//! chooses among them.

/// Why a provider gave no audio to play.
#[derive(Debug, thiserror::Error)]
pub enum Unfetched {
    /// The provider could not be reached, or broke off.
    #[error("the provider could not be reached: {0}")]
    Unreachable(reqwest::Error),
    /// The provider answered, but not with the recording: its status, or what was wrong.
    #[error("{0}")]
    Refused(String),
}

/// The plain identifier `url` names right under `base` (which ends with `/`), with one of
/// `endings` or none: letters, digits and `-` only. Anything else after the base (a further path,
/// `..`, a query, a fragment) is not a recording of the account; and since the base is the
/// account's own scheme, host and path, neither is an address on another host, one with a user
/// before the host, or one over plain `http` when the account's is `https`.
pub fn identifier<'u>(url: &'u str, base: &str, endings: &[&str]) -> Option<&'u str> {
    let name = url.strip_prefix(base)?;
    let id = endings.iter().find_map(|ending| name.strip_suffix(ending)).unwrap_or(name);
    let plain = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    plain.then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_identifier_right_under_the_base_is_a_recording() {
        let base = "https://media.example/v1/Account/MA1/Recording/";
        assert_eq!(identifier(&format!("{base}abc-123.mp3"), base, &[".mp3"]), Some("abc-123"));
        assert_eq!(identifier(&format!("{base}abc-123"), base, &[".mp3"]), Some("abc-123"));
        for elsewhere in [
            "https://media.example/v1/Account/MA1/Recording/",
            "https://media.example/v1/Account/MA1/Recording/a/../../b",
            "https://media.example/v1/Account/MA1/Recording/a?x=1",
            "https://media.example/v1/Account/MA1/Recording/a#x",
            "https://media.example/v1/Account/MA1/Recording/a.b",
            "https://media.example/v1/Account/MA1/Recording/a%2F..",
            "https://media.example.evil.example/v1/Account/MA1/Recording/a",
            "https://media.example@evil.example/v1/Account/MA1/Recording/a",
            "http://media.example/v1/Account/MA1/Recording/a",
            "https://media.example/v1/Account/MA2/Recording/a",
        ] {
            assert_eq!(identifier(elsewhere, base, &[".mp3"]), None, "{elsewhere}");
        }
        let long = format!("{base}{}", "a".repeat(65));
        assert_eq!(identifier(&long, base, &[]), None);
    }
}
