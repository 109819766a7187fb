//! The neutral answer as the one word a dialplan branches on, and the words it speaks.

use serde::Serialize;

use crate::answer::{Answer, KeyFor, Step};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    /// Speak `say`, then hang up; with `press_1`, speak that too and put the caller through on a 1.
    Decline,
    /// Do not answer: `Busy()` or `Hangup(21)` before `Answer()`.
    Reject,
    /// Speak `say` and wait for one key: a 1 puts the caller through, anything else hangs up.
    Screen,
    /// Go on to the business's own phones (and its voicemail), speaking `say` first if any.
    Forward,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub action: Verb,
    pub say: String,
    /// The business's recording, to play in place of `say` where the dialplan can fetch it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub play: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub press_1: Option<String>,
}

impl Verdict {
    /// What the PBX does when saidno cannot decide: ring the business.
    pub fn forward() -> Self {
        Self { action: Verb::Forward, say: String::new(), play: None, press_1: None }
    }

    /// The answer's steps read for a PBX, which rings its own phones: a forward or a voicemail of
    /// saidno's is the business's own ring group, with its own voicemail.
    pub fn of(answer: &Answer) -> Self {
        let mut verdict = Self { action: Verb::Decline, ..Self::forward() };
        let mut said = Vec::new();
        for step in &answer.steps {
            match step {
                Step::Say(words) => said.push(words.as_str()),
                Step::Play { recording, words } => {
                    said.push(words.as_str());
                    verdict.play = Some(recording.clone());
                }
                Step::Gather { prompt, key: KeyFor::Escape, .. } => verdict.press_1 = Some(prompt.clone()),
                Step::Gather { prompt, .. } => {
                    verdict.action = Verb::Screen;
                    said.push(prompt);
                }
                Step::Dial { .. } | Step::Record { .. } => verdict.action = Verb::Forward,
                Step::Reject => verdict.action = Verb::Reject,
                Step::Hangup => {}
            }
        }
        verdict.say = said.join(" ");
        verdict
    }

    /// The plain-text answer: the word on the first line, the words to speak on the second, and
    /// the escape hatch's prompt on a third when a 1 puts the caller through.
    pub fn text(&self) -> String {
        let word = match self.action {
            Verb::Decline => "decline",
            Verb::Reject => "reject",
            Verb::Screen => "screen",
            Verb::Forward => "forward",
        };
        let mut text = format!("{word}\n{}\n", self.say);
        if let Some(prompt) = &self.press_1 {
            text += prompt;
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Voice;

    fn answer(steps: Vec<Step>) -> Answer {
        Answer { voice: Voice::default(), steps }
    }

    #[test]
    fn each_answer_becomes_the_word_its_caller_gets() {
        let refusal = answer(vec![Step::Say("We said no.".into()), Step::Hangup]);
        assert_eq!(Verdict::of(&refusal).text(), "decline\nWe said no.\n");
        assert_eq!(Verdict::of(&answer(vec![Step::Reject])).text(), "reject\n\n");
        let dial = Step::Dial { caller: None, to: Vec::new(), ring_timeout_secs: 20, announce: None };
        assert_eq!(Verdict::of(&answer(vec![dial])).text(), "forward\n\n");
        let closed = answer(vec![
            Step::Say("We are closed.".into()),
            Step::Record { max_secs: 60, transcribe: false },
            Step::Hangup,
        ]);
        assert_eq!(Verdict::of(&closed).text(), "forward\nWe are closed.\n");
    }

    #[test]
    fn a_recording_is_offered_to_play_with_the_words_it_stands_in_for() {
        let play = Step::Play { recording: "https://example.com/no.mp3".into(), words: "We said no.".into() };
        let verdict = Verdict::of(&answer(vec![play, Step::Hangup]));
        assert_eq!((verdict.action, verdict.say.as_str()), (Verb::Decline, "We said no."));
        assert_eq!(verdict.play.as_deref(), Some("https://example.com/no.mp3"));
        assert_eq!(verdict.text(), "decline\nWe said no.\n", "the plain-text answer speaks the words");
    }

    #[test]
    fn a_key_press_is_asked_for_in_the_words_the_caller_would_hear() {
        let gather = |key| Step::Gather { prompt: "Press 1.".into(), timeout_secs: 6, key, on_silence: false };
        let escape = answer(vec![Step::Say("We said no.".into()), gather(KeyFor::Escape), Step::Hangup]);
        assert_eq!(Verdict::of(&escape).text(), "decline\nWe said no.\nPress 1.\n");
        let screen = answer(vec![gather(KeyFor::Screen), Step::Hangup]);
        assert_eq!(Verdict::of(&screen).text(), "screen\nPress 1.\n");
        let json = serde_json::to_value(Verdict::of(&escape)).unwrap();
        assert_eq!(json, serde_json::json!({"action": "decline", "say": "We said no.", "press_1": "Press 1."}));
    }
}
