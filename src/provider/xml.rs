//! XML markup as the providers' dialects share it (TwiML, Plivo XML): one document written
//! straight into one string, every value escaped.

use std::borrow::Cow;

/// A `<Response>` document being written. Every answer to a call is one of these, so it is built
/// in one buffer rather than from a string per element.
pub struct Markup(String);

impl Markup {
    /// The prolog and the opened `<Response>`.
    pub fn response() -> Self {
        let mut out = String::with_capacity(512);
        out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#);
        Self(out)
    }

    /// `<name attributes>`; close it with `close`.
    pub fn open(&mut self, name: &str, attributes: &[(&str, &str)]) -> &mut Self {
        self.start(name, attributes);
        self.0.push('>');
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        for part in ["</", name, ">"] {
            self.0.push_str(part);
        }
        self
    }

    /// `<name attributes/>`.
    pub fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) -> &mut Self {
        self.start(name, attributes);
        self.0.push_str("/>");
        self
    }

    /// `<name attributes>words</name>`.
    pub fn element(&mut self, name: &str, attributes: &[(&str, &str)], words: &str) -> &mut Self {
        self.open(name, attributes).text(words).close(name)
    }

    pub fn text(&mut self, words: &str) -> &mut Self {
        self.0.push_str(&text(words));
        self
    }

    /// The document, with `</Response>` closed.
    pub fn finish(mut self) -> String {
        self.0.push_str("</Response>");
        self.0
    }

    fn start(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.0.push('<');
        self.0.push_str(name);
        for (key, value) in attributes {
            let value = text(value);
            // Judged after cleaning: a value of nothing but control characters is no value either.
            if value.is_empty() {
                continue;
            }
            for part in [" ", key, "=\"", &value, "\""] {
                self.0.push_str(part);
            }
        }
    }
}

/// Escapes markup and drops the characters XML 1.0 cannot carry at all (NUL and most controls).
pub fn text(value: &str) -> Cow<'_, str> {
    // Most values (numbers, addresses, plain sentences) need nothing: one byte-wise look says so.
    if value.bytes().all(plain) {
        return Cow::Borrowed(value);
    }
    let allowed = |c: &char| matches!(*c, '\t' | '\n' | '\r') || (*c >= ' ' && !matches!(*c, '\u{FFFE}' | '\u{FFFF}'));
    if value.chars().all(|c| allowed(&c)) {
        return quick_xml::escape::escape(value);
    }
    let clean: String = value.chars().filter(allowed).collect();
    Cow::Owned(quick_xml::escape::escape(clean.as_str()).into_owned())
}

/// A byte that stands for itself in XML: not markup, not a control, not a carriage return (which
/// a reader would fold into the line end after it, so it is written as a reference), and not the
/// lead byte of U+FFFE or U+FFFF (which `text` must look at as characters).
fn plain(byte: u8) -> bool {
    !matches!(byte, b'<' | b'>' | b'&' | b'"' | b'\'' | 0xEF) && (byte >= b' ' || matches!(byte, b'\t' | b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped_and_control_characters_dropped() {
        assert_eq!(text("<b>&\"'\0\u{7}"), "&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(text("caf\u{e9} \u{FFFE}\u{FFFF}\u{FFFD} \u{1F600}"), "caf\u{e9} \u{FFFD} \u{1F600}");
        assert_eq!(text("plain +44 20 7946 0123\t"), "plain +44 20 7946 0123\t");
        // A carriage return kept as itself would reach the provider folded into the line end.
        assert_eq!(text("\r\nPolly"), "&#13;\nPolly");
    }

    #[test]
    fn empty_attributes_are_left_out() {
        let mut xml = Markup::response();
        xml.element("Say", &[("voice", "")], "hi").element("Say", &[("voice", "\0\u{7}")], "hi");
        xml.empty("Hangup", &[("reason", "<busy>")]);
        assert_eq!(
            xml.finish(),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>hi</Say><Say>hi</Say><Hangup reason="&lt;busy&gt;"/></Response>"#
        );
    }
}
