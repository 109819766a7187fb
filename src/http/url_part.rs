//! Text put into a link: a company's key in a path, a number in a query.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// `text` as one part of a URL, with everything but letters and digits escaped.
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}
