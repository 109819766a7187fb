//! XML markup as the providers' dialects share it (TwiML, Plivo XML): elements written straight
//! into a string, every value escaped.

use std::borrow::Cow;

/// `inner` is markup already escaped; attribute values are escaped here. Written into one string:
/// every answer to a call is built from these.
pub fn element(name: &str, attributes: &[(&str, &str)], inner: Option<&str>) -> String {
    let mut out = String::with_capacity(64 + inner.map_or(0, str::len));
    out.push('<');
    out.push_str(name);
    for (key, value) in attributes {
        let value = text(value);
        // Judged after cleaning: a value of nothing but control characters is no value either.
        if value.is_empty() {
            continue;
        }
        for part in [" ", key, "=\"", &value, "\""] {
            out.push_str(part);
        }
    }
    match inner {
        Some(inner) => {
            for part in [">", inner, "</", name, ">"] {
                out.push_str(part);
            }
        }
        None => out.push_str("/>"),
    }
    out
}

/// Escapes markup and drops the characters XML 1.0 cannot carry at all (NUL and most controls).
pub fn text(value: &str) -> Cow<'_, str> {
    let allowed = |c: &char| matches!(*c, '\t' | '\n' | '\r') || (*c >= ' ' && !matches!(*c, '\u{FFFE}' | '\u{FFFF}'));
    if value.chars().all(|c| allowed(&c)) {
        return quick_xml::escape::escape(value);
    }
    let clean: String = value.chars().filter(allowed).collect();
    Cow::Owned(quick_xml::escape::escape(clean.as_str()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped_and_control_characters_dropped() {
        assert_eq!(text("<b>&\"'\0\u{7}"), "&lt;b&gt;&amp;&quot;&apos;");
    }

    #[test]
    fn empty_attributes_are_left_out() {
        assert_eq!(element("Say", &[("voice", "")], Some("hi")), "<Say>hi</Say>");
        assert_eq!(element("Say", &[("voice", "\0\u{7}")], Some("hi")), "<Say>hi</Say>");
    }
}
