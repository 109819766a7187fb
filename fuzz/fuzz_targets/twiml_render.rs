//! TwiML built from hostile text (a company's name, the business's name, the voice, a reply, a
//! call's id): the answer always parses as XML, holds only the verbs saidno writes, and carries
//! the text exactly, so no `<` from the input ever becomes markup.
#![no_main]

use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use saidno::answer::{self, CallRef};
use saidno::config::Settings;
use saidno::domain::{Channel, Decline, Ground, PhoneNumber, Target};
use saidno::provider::twilio::twiml;
use saidno::speech::refusal_message;

const VERBS: [&str; 9] = ["Response", "Say", "Hangup", "Message", "Dial", "Number", "Gather", "Record", "Reject"];

/// Text compared as an XML reader may give it back: characters XML cannot carry are dropped (as
/// saidno drops them), and line ends and, in attributes, white space may be normalised, depending
/// on whether they were written as references.
fn as_read(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| matches!(*c, '\t' | '\n' | '\r') || (*c >= ' ' && !matches!(*c, '\u{FFFE}' | '\u{FFFF}')))
        .collect();
    kept.replace("\r\n", "\n").replace('\r', "\n")
}

fn as_read_attribute(text: &str) -> String {
    as_read(text.replace(['\t', '\n', '\r'], " ").as_str())
}

fn parsed(xml: &str) -> roxmltree::Document<'_> {
    let document = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not XML ({e}): {xml}"));
    assert_eq!(document.root_element().tag_name().name(), "Response");
    for element in document.descendants().filter(|node| node.is_element()) {
        assert!(VERBS.contains(&element.tag_name().name()), "markup from the input: {xml}");
    }
    document
}

fn text_of<'d>(document: &'d roxmltree::Document<'d>, element: &str) -> Vec<String> {
    document
        .descendants()
        .filter(|node| node.has_tag_name(element))
        .map(|node| as_read(node.text().unwrap_or_default()))
        .collect()
}

fuzz_target!(|input: (&str, &str, &str, &str)| {
    let (business, company, voice, words) = input;
    let mut settings = Settings::defaults();
    settings.business_name = business.to_owned();
    settings.refusal.voice = voice.to_owned();
    settings.forward.to = vec![PhoneNumber::from_e164("+442079460999").unwrap()];
    let decline = Decline {
        target: Target::Number(PhoneNumber::from_e164("+442079460123").unwrap()),
        company: Some(company.to_owned()),
        note: Some(words.to_owned()),
        declined_at: Timestamp::UNIX_EPOCH,
        declined_by: Some(business.to_owned()),
        channel: Channel::Api,
        mode: None,
        not_before: None,
        escape_hatch: None,
        on_call: None,
    };

    if let Ok(xml) = twiml::render(&answer::refusal(&decline, &settings)) {
        let document = parsed(&xml);
        let ground = Ground::Declined { decline: decline.clone(), follow_up: 1, flagged: false };
        assert_eq!(text_of(&document, "Say"), [as_read(&refusal_message(&ground, &settings))], "{xml}");
        let say = document.descendants().find(|node| node.has_tag_name("Say")).unwrap();
        let spoken_by = say.attribute("voice").map(as_read_attribute);
        let expected_voice = as_read_attribute(voice);
        assert_eq!(spoken_by, (!expected_voice.is_empty()).then_some(expected_voice), "{xml}");
    }
    if let Ok(xml) = twiml::message(words) {
        assert_eq!(text_of(&parsed(&xml), "Message"), [as_read(words)]);
    }
    if let Ok(xml) = twiml::render(&answer::say_and_hang_up(words, &settings)) {
        assert_eq!(text_of(&parsed(&xml), "Say"), [as_read(words)]);
    }
    // The call's id comes from the provider's request; the caller is a number or nobody.
    let call = CallRef { call_id: words.to_owned(), caller: PhoneNumber::from_e164(company) };
    if let Ok(xml) = twiml::render(&answer::forward(call.caller.clone(), Some(call.clone()), &settings)) {
        let document = parsed(&xml);
        let number = document.descendants().find(|node| node.has_tag_name("Number")).unwrap();
        let announced_at =
            as_read_attribute(&twiml::announcement_url(&format!("{}{}", twiml::ROUTES, twiml::WHISPER), &call));
        assert_eq!(number.attribute("url").map(as_read_attribute), Some(announced_at), "{xml}");
        let dial = document.descendants().find(|node| node.has_tag_name("Dial")).unwrap();
        let shown = dial.attribute("callerId").map(str::to_owned);
        assert_eq!(shown, call.caller.map(|number| number.as_str().to_owned()), "{xml}");
    }
});
