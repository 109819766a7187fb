//! Reading a provider's webhook parameters: the bounds and checks every provider's fields share,
//! whatever each provider calls them.

use crate::provider::Rejection;
use crate::provider::form::Params;

/// Call ids are short tokens of letters and digits (Twilio's `CA...`), with `-`, `_` and `:` in
/// Telnyx's (`v3:...`) and Plivo's UUIDs; anything else is not from a provider.
const MAX_CALL_ID: usize = 64;
/// Long enough for any real caller name or URL, short enough to keep the log small.
const MAX_TEXT: usize = 512;

/// The call id in parameter `name`, checked.
pub fn call_id(params: &Params, name: &'static str) -> Result<String, Rejection> {
    let id = params.get(name).ok_or(Rejection::Missing(name))?;
    let well_formed = !id.is_empty()
        && id.len() <= MAX_CALL_ID
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_:".contains(&b));
    if well_formed { Ok(id.to_owned()) } else { Err(Rejection::Invalid(name)) }
}

/// A parameter's text, refused when implausibly long.
pub fn bounded<'p>(params: &'p Params, name: &'static str) -> Result<Option<&'p str>, Rejection> {
    match params.get(name) {
        Some(value) if value.chars().count() > MAX_TEXT => Err(Rejection::Invalid(name)),
        value => Ok(value),
    }
}

/// Facts about the caller that a call can do without: one that is implausibly long is dropped,
/// not held against the call, which must still be answered.
pub fn extra(params: &Params, name: &'static str) -> Option<String> {
    optional_text(params, name)
        .inspect_err(|_| tracing::warn!(parameter = name, "an over-long parameter was left out"))
        .ok()
        .flatten()
}

/// A parameter's trimmed text; empty is none.
pub fn optional_text(params: &Params, name: &'static str) -> Result<Option<String>, Rejection> {
    Ok(bounded(params, name)?.map(str::trim).filter(|value| !value.is_empty()).map(str::to_owned))
}

/// A whole number of seconds; empty is none.
pub fn seconds(params: &Params, name: &'static str) -> Result<Option<u32>, Rejection> {
    match params.get(name).map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => value.parse().map(Some).map_err(|_| Rejection::Invalid(name)),
    }
}

/// A recording's address: the log links to it, so it must be a web address.
pub fn recording_url(params: &Params, name: &'static str) -> Result<Option<String>, Rejection> {
    let url = optional_text(params, name)?;
    if url.as_deref().is_some_and(|url| !url.starts_with("https://") && !url.starts_with("http://")) {
        return Err(Rejection::Invalid(name));
    }
    Ok(url)
}

/// A voicemail's transcript: longer than any voicemail's words is refused, empty is none.
pub fn transcript(params: &Params, name: &'static str) -> Result<Option<String>, Rejection> {
    match params.get(name).map(str::trim) {
        Some(text) if text.chars().count() > crate::domain::MAX_TRANSCRIPT_CHARS => Err(Rejection::Invalid(name)),
        text => Ok(text.filter(|text| !text.is_empty()).map(str::to_owned)),
    }
}
