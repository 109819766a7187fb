//! What a call is told, with no markup in it. The decision and the words are settled here, once;
//! each provider only spells this answer in its own markup.

use crate::config::{ClosedAction, Settings};
use crate::domain::{Action, Decision, Decline, Ground, IncomingCall, PhoneNumber, Refusal, RefusalMode};
use crate::speech::{refusal_message, refusal_recording, with_business};

/// How long a caller has to press a key.
const KEY_TIMEOUT_SECS: u32 = 6;

/// The steps of one answer, in order, spoken in one voice. An answer that runs out of steps ends:
/// for a forwarded call's announcement that connects the call, for anything else it hangs up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    pub voice: Voice,
    pub steps: Vec<Step>,
}

/// The text-to-speech voice and its language, as configured under `[refusal]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Voice {
    pub name: String,
    pub language: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Say(String),
    /// Plays the recording at `recording`, which stands in for `words` (a PBX, which speaks
    /// rather than fetches, is given both).
    Play {
        recording: String,
        words: String,
    },
    /// Says `prompt` and waits up to `timeout_secs` for one key, which goes to `key`; so does
    /// silence when `on_silence` is set. Otherwise silence goes on to the next step.
    Gather {
        prompt: String,
        timeout_secs: u32,
        key: KeyFor,
        on_silence: bool,
    },
    /// Rings every number in `to` at once, showing `caller`, for up to `ring_timeout_secs`; how it
    /// ended is reported to the dial-status callback. With `announce`, whoever answers first hears
    /// the announcement of that call before the two are connected.
    Dial {
        caller: Option<PhoneNumber>,
        to: Vec<PhoneNumber>,
        ring_timeout_secs: u32,
        announce: Option<CallRef>,
    },
    /// Records a message of up to `max_secs` after a beep, for the voicemail callback; with
    /// `transcribe`, the provider is asked for its words too, for the transcript callback.
    Record {
        max_secs: u32,
        transcribe: bool,
    },
    /// Leaves the call unanswered: the caller hears a busy signal and is not billed.
    Reject,
    Hangup,
}

/// What a gathered key decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyFor {
    /// A refused caller's "press 1 for an existing order".
    Escape,
    /// A screened caller's "press 1 to be put through".
    Screen,
    /// The owner's key during the announcement of a forwarded call.
    Announcement(CallRef),
}

/// The forwarded call an announcement (and its key) belongs to: the provider's callbacks for the
/// second leg carry it, since they arrive as requests of their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRef {
    pub call_id: String,
    pub caller: Option<PhoneNumber>,
}

impl Answer {
    fn of(settings: &Settings, steps: Vec<Step>) -> Self {
        let voice = Voice { name: settings.refusal.voice.clone(), language: settings.refusal.language.clone() };
        Self { voice, steps }
    }

    /// An answer that does nothing more: a forward's announcement connects, a text gets no reply.
    pub fn empty() -> Self {
        Self::default()
    }

    pub fn hangup() -> Self {
        Self { steps: vec![Step::Hangup], ..Self::default() }
    }
}

/// The answer to an incoming call, as decided.
pub fn for_call(decision: &Decision, call: &IncomingCall, settings: &Settings) -> Answer {
    match &decision.action {
        Action::Forward => forward_call(call, settings),
        Action::Refuse(Refusal { mode: RefusalMode::Reject, .. }) => Answer::of(settings, vec![Step::Reject]),
        Action::Refuse(Refusal { mode: RefusalMode::Message, ground, escape_hatch }) => {
            let mut steps = vec![refused(ground, settings)];
            if *escape_hatch {
                // No key: the gather ends and the refusal goes on to the hangup.
                steps.push(gather(
                    settings.policy.escape_hatch_prompt.clone(),
                    KEY_TIMEOUT_SECS,
                    KeyFor::Escape,
                    false,
                ));
            }
            steps.push(Step::Hangup);
            Answer::of(settings, steps)
        }
        Action::Screen => {
            let prompt = with_business(&settings.policy.screen_prompt, settings);
            // The callback hears of silence too, so the log can say the caller was screened out.
            Answer::of(settings, vec![gather(prompt, KEY_TIMEOUT_SECS, KeyFor::Screen, true), Step::Hangup])
        }
        Action::Closed => {
            let mut steps = vec![Step::Say(with_business(&settings.hours.closed_message, settings))];
            match settings.hours.closed {
                ClosedAction::Voicemail => steps.extend(record(settings)),
                ClosedAction::Message => steps.push(Step::Hangup),
            }
            Answer::of(settings, steps)
        }
    }
}

/// Rings the business's phones for this call, announcing it to whoever answers unless the
/// announcement is switched off.
pub fn forward_call(call: &IncomingCall, settings: &Settings) -> Answer {
    let caller = call.from.number().cloned();
    let announce = settings.whisper.enabled.then(|| CallRef { call_id: call.call_id.clone(), caller: caller.clone() });
    forward(caller, announce, settings)
}

/// Rings the business's phones, showing the caller's number; with no phones, straight to voicemail.
pub fn forward(caller: Option<PhoneNumber>, announce: Option<CallRef>, settings: &Settings) -> Answer {
    if settings.forward.to.is_empty() {
        return voicemail(settings);
    }
    let dial = Step::Dial {
        caller,
        to: settings.forward.to.clone(),
        ring_timeout_secs: settings.forward.ring_timeout_secs,
        announce,
    };
    Answer::of(settings, vec![dial])
}

/// The refusal of a decline, then the line closes.
pub fn refusal(decline: &Decline, settings: &Settings) -> Answer {
    let ground = Ground::Declined { decline: decline.clone(), follow_up: 1, flagged: false };
    Answer::of(settings, vec![refused(&ground, settings), Step::Hangup])
}

/// What a refused caller is told: the business's recording, or the words.
fn refused(ground: &Ground, settings: &Settings) -> Step {
    let words = refusal_message(ground, settings);
    match refusal_recording(ground, settings) {
        Some(recording) => Step::Play { recording: recording.to_owned(), words },
        None => Step::Say(words),
    }
}

/// A call to a number that is no business's line, in a deployment that hosts many: the words
/// callers know from a line that is not connected, so nobody mistakes it for a refusal.
pub fn not_in_service(settings: &Settings) -> Answer {
    say_and_hang_up(NOT_IN_SERVICE, settings)
}

pub const NOT_IN_SERVICE: &str = "The number you have called is not in service. Please check the number and try again.";

/// The end of a refusal that offered the escape hatch, when no 1 was pressed.
pub fn goodbye(settings: &Settings) -> Answer {
    say_and_hang_up("Goodbye.", settings)
}

/// After the forward: hang up if it was answered, else offer voicemail.
pub fn after_dial(answered_or_gone: bool, settings: &Settings) -> Answer {
    if answered_or_gone || !settings.forward.voicemail { Answer::hangup() } else { voicemail(settings) }
}

/// The voicemail greeting and the recording.
pub fn voicemail(settings: &Settings) -> Answer {
    let mut steps = vec![Step::Say(settings.forward.voicemail_greeting.clone())];
    steps.extend(record(settings));
    Answer::of(settings, steps)
}

/// The announcement to whoever answered: one key decides. With `hang_up_on_silence`, no key
/// goes to the key's callback too, so that it can send the caller to voicemail.
pub fn announcement(words: String, call: CallRef, hang_up_on_silence: bool, settings: &Settings) -> Answer {
    let wait = settings.whisper.wait_secs;
    Answer::of(settings, vec![gather(words, wait, KeyFor::Announcement(call), hang_up_on_silence)])
}

/// Speaks to whoever answered and hangs up their side: the caller goes on to the dial callback.
pub fn say_and_hang_up(words: &str, settings: &Settings) -> Answer {
    Answer::of(settings, vec![Step::Say(words.to_owned()), Step::Hangup])
}

/// Speaks to whoever answered and connects the call.
pub fn say_and_connect(words: &str, settings: &Settings) -> Answer {
    Answer::of(settings, vec![Step::Say(words.to_owned())])
}

fn gather(prompt: String, timeout_secs: u32, key: KeyFor, on_silence: bool) -> Step {
    Step::Gather { prompt, timeout_secs, key, on_silence }
}

fn record(settings: &Settings) -> [Step; 2] {
    let forward = &settings.forward;
    [Step::Record { max_secs: forward.voicemail_max_secs, transcribe: forward.transcribe }, Step::Hangup]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(from: &str) -> IncomingCall {
        IncomingCall::from_caller(from)
    }

    fn settings(edit: impl FnOnce(&mut Settings)) -> Settings {
        let mut settings = Settings::defaults();
        settings.forward.to = vec![PhoneNumber::from_e164("+442079460555").unwrap()];
        edit(&mut settings);
        settings
    }

    #[test]
    fn a_forward_announces_the_call_it_belongs_to_unless_the_announcement_is_off() {
        let announced = forward_call(&call("+442079460123"), &settings(|s| s.whisper.enabled = true));
        let caller = PhoneNumber::from_e164("+442079460123");
        let Step::Dial { announce, caller: shown, .. } = &announced.steps[0] else { panic!("{announced:?}") };
        assert_eq!(announce, &Some(CallRef { call_id: "CA1".into(), caller: caller.clone() }));
        assert_eq!(shown, &caller);
        let quiet = forward_call(&call("+442079460123"), &settings(|s| s.whisper.enabled = false));
        assert!(matches!(&quiet.steps[..], [Step::Dial { announce: None, .. }]), "{quiet:?}");
    }

    #[test]
    fn a_business_s_recording_stands_in_for_a_decline_s_words_but_not_for_the_policies() {
        let recorded = settings(|s| s.refusal.recording = "https://example.com/we-said-no.mp3".into());
        let number = PhoneNumber::from_e164("+442079460123").unwrap();
        let declined = Decline::new(crate::domain::Target::Number(number), "2026-11-03T10:00:00Z".parse().unwrap());
        let decline = Decline { company: Some("Everest Windows".into()), ..declined };
        let refusal = refusal(&decline, &recorded);
        let [Step::Play { recording, words }, Step::Hangup] = &refusal.steps[..] else { panic!("{refusal:?}") };
        assert_eq!(recording, "https://example.com/we-said-no.mp3");
        assert!(words.contains("Everest Windows"), "the words it stands in for, for a PBX: {words}");
        let withheld = Decision {
            action: Action::Refuse(Refusal {
                mode: RefusalMode::Message,
                ground: Ground::Withheld,
                escape_hatch: false,
            }),
            reason: "withheld".into(),
            uses_single_allow: false,
        };
        let answer = for_call(&withheld, &call(""), &recorded);
        assert!(matches!(&answer.steps[..], [Step::Say(_), Step::Hangup]), "{answer:?}");
    }

    #[test]
    fn a_withheld_caller_is_forwarded_without_a_number_to_show() {
        let answer = forward_call(&call(""), &settings(|s| s.whisper.enabled = true));
        let Step::Dial { caller, announce, .. } = &answer.steps[0] else { panic!("{answer:?}") };
        assert_eq!(caller, &None);
        assert_eq!(announce.as_ref().map(|call| call.caller.clone()), Some(None));
    }

    #[test]
    fn with_no_phones_to_ring_a_forward_is_the_voicemail() {
        let answer = forward(None, None, &settings(|s| s.forward.to.clear()));
        assert!(matches!(&answer.steps[..], [Step::Say(_), Step::Record { .. }, Step::Hangup]), "{answer:?}");
    }

    #[test]
    fn after_a_forward_nobody_took_voicemail_is_offered_only_when_it_is_on() {
        assert_eq!(after_dial(true, &settings(|_| {})), Answer::hangup());
        assert_eq!(after_dial(false, &settings(|s| s.forward.voicemail = false)), Answer::hangup());
        assert!(matches!(after_dial(false, &settings(|_| {})).steps[..], [_, Step::Record { .. }, Step::Hangup]));
    }

    #[test]
    fn a_voicemail_asks_for_its_transcript_only_when_transcription_is_on() {
        let transcribes = |settings: &Settings| match voicemail(settings).steps[..] {
            [_, Step::Record { transcribe, .. }, _] => transcribe,
            _ => panic!("no recording"),
        };
        assert!(transcribes(&settings(|_| {})), "on by default");
        assert!(!transcribes(&settings(|s| s.forward.transcribe = false)));
    }
}
