//! The owner's text commands, read from a message body: pure, so any text can be thrown at it.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

/// How many calls `LAST` lists, and so the highest code `NO 3` may name.
pub const LISTED: u8 = 5;
/// The longest span `ALLOW ... for` takes.
const MAX_SPAN_HOURS: i64 = 366 * 24;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `NO [number | code] [company words]`
    Decline { target: Whom, company: Option<String> },
    /// `UNDO`
    Undo,
    /// `ALLOW number [for 2h | until tomorrow 16:00]`
    Allow { number: String, window: Window },
    /// `LAST`
    Last,
    /// `STATUS`
    Status,
    /// `HELP`
    Help,
}

/// Whom `NO` declines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Whom {
    /// The last caller who rang through.
    LastCaller,
    /// The call with this code in the last `LAST` listing (1 to 5).
    Code(u8),
    /// A number as the owner typed it; checked against the numbering plan later.
    Number(String),
}

/// How long an `ALLOW` holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Window {
    Always,
    For(SignedDuration),
    Until { day: Day, time: Time },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Day {
    Today,
    Tomorrow,
    On(Date),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not a command at all: the answer is the help text.
    #[error("unknown command")]
    Unknown,
    /// A known command written wrongly: the answer says what is wrong.
    #[error("{0}")]
    Malformed(String),
}

/// Reads one message. Case does not matter, nor does spacing.
pub fn parse(body: &str) -> Result<Command, ParseError> {
    let words: Vec<&str> = body.split_whitespace().collect();
    let Some((first, rest)) = words.split_first() else {
        return Err(ParseError::Unknown);
    };
    let keyword = first.trim_end_matches(['.', '!', ',', ':']).to_ascii_uppercase();
    match keyword.as_str() {
        "NO" => decline(rest),
        "ALLOW" => allow(rest),
        "UNDO" => alone(Command::Undo, "UNDO", rest),
        "LAST" => alone(Command::Last, "LAST", rest),
        "STATUS" => alone(Command::Status, "STATUS", rest),
        "HELP" | "?" => alone(Command::Help, "HELP", rest),
        _ => Err(ParseError::Unknown),
    }
}

fn malformed(message: impl Into<String>) -> ParseError {
    ParseError::Malformed(message.into())
}

fn alone(command: Command, name: &str, rest: &[&str]) -> Result<Command, ParseError> {
    if rest.is_empty() { Ok(command) } else { Err(malformed(format!("{name} takes nothing after it."))) }
}

fn decline(words: &[&str]) -> Result<Command, ParseError> {
    let (numeric, company) = leading_number_words(words);
    let target = match numeric {
        [] => Whom::LastCaller,
        [code] if code.len() <= 2 && code.bytes().all(|b| b.is_ascii_digit()) => {
            let code: u8 = code.parse().map_err(|_| malformed("That code is not a number."))?;
            if !(1..=LISTED).contains(&code) {
                return Err(malformed(format!("Codes run from 1 to {LISTED}: send LAST to see them.")));
            }
            Whom::Code(code)
        }
        _ => Whom::Number(phone_text(numeric)?),
    };
    let company = (!company.is_empty()).then(|| company.join(" "));
    Ok(Command::Decline { target, company })
}

fn allow(words: &[&str]) -> Result<Command, ParseError> {
    let (numeric, rest) = leading_number_words(words);
    if numeric.is_empty() {
        return Err(malformed("ALLOW needs a number: ALLOW +447700900123 for 2h"));
    }
    let number = phone_text(numeric)?;
    let window = match rest.split_first() {
        None => Window::Always,
        Some((word, span)) if word.eq_ignore_ascii_case("for") => Window::For(duration(span)?),
        Some((word, when)) if word.eq_ignore_ascii_case("until") || word.eq_ignore_ascii_case("till") => until(when)?,
        Some(_) => return Err(malformed("After the number, say for 2h or until tomorrow 16:00.")),
    };
    Ok(Command::Allow { number, window })
}

/// The words at the front that can only be part of a phone number (digits, +, brackets, dashes).
fn leading_number_words<'w>(words: &'w [&'w str]) -> (&'w [&'w str], &'w [&'w str]) {
    let numeric = |word: &&&str| word.chars().all(|c| c.is_ascii_digit() || "+()-./".contains(c));
    let count = words.iter().take_while(numeric).count();
    words.split_at(count)
}

fn phone_text(words: &[&str]) -> Result<String, ParseError> {
    let text = words.join(" ");
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    if (7..=17).contains(&digits) {
        Ok(text)
    } else {
        Err(malformed(format!("{text} is neither a phone number nor a code from LAST.")))
    }
}

/// `2h`, `90m`, `2 hours`, `1d 6h`.
fn duration(words: &[&str]) -> Result<SignedDuration, ParseError> {
    let bad = || malformed("Say how long as 30m, 2h or 3d.");
    let text: String = words.concat().to_ascii_lowercase();
    if text.is_empty() {
        return Err(bad());
    }
    let mut minutes: i64 = 0;
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 4 {
            return Err(bad());
        }
        let amount: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let per_unit = match &rest[..unit_len] {
            "m" | "min" | "mins" | "minute" | "minutes" => 1,
            "h" | "hr" | "hrs" | "hour" | "hours" => 60,
            "d" | "day" | "days" => 24 * 60,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        minutes += amount * per_unit;
    }
    if minutes == 0 || minutes > MAX_SPAN_HOURS * 60 {
        return Err(malformed("A window runs from a minute to a year."));
    }
    Ok(SignedDuration::from_mins(minutes))
}

/// `16:00`, `4pm`, `tomorrow 16:00`, `16:00 tomorrow`, `2026-12-01 9:30`.
fn until(words: &[&str]) -> Result<Window, ParseError> {
    let mut day = None;
    let mut time = None;
    for word in words {
        let word = word.to_ascii_lowercase();
        if let Some(parsed) = day_word(&word) {
            if day.replace(parsed).is_some() {
                return Err(malformed("Name one day."));
            }
        } else if let Some(parsed) = time_word(&word) {
            if time.replace(parsed).is_some() {
                return Err(malformed("Name one time."));
            }
        } else {
            return Err(malformed(format!("{word:?} is not a day or a time; say until tomorrow 16:00.")));
        }
    }
    let time = time.ok_or_else(|| malformed("Say a time: until 16:00 or until tomorrow 9am."))?;
    Ok(Window::Until { day: day.unwrap_or(Day::Today), time })
}

fn day_word(word: &str) -> Option<Day> {
    match word {
        "today" | "tonight" => Some(Day::Today),
        "tomorrow" | "tmrw" | "tmw" => Some(Day::Tomorrow),
        _ if word.len() == 10 => word.parse::<Date>().ok().map(Day::On),
        _ => None,
    }
}

fn time_word(word: &str) -> Option<Time> {
    let (clock, afternoon) = match (word.strip_suffix("pm"), word.strip_suffix("am")) {
        (Some(clock), _) => (clock, Some(true)),
        (_, Some(clock)) => (clock, Some(false)),
        _ => (word, None),
    };
    let (hour, minute) = match clock.split_once([':', '.']) {
        Some((hour, minute)) if minute.len() == 2 => (hour, minute),
        Some(_) => return None,
        None => (clock, "00"),
    };
    if hour.is_empty() || hour.len() > 2 || !hour.bytes().chain(minute.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (mut hour, minute): (i8, i8) = (hour.parse().ok()?, minute.parse().ok()?);
    match afternoon {
        Some(_) if !(1..=12).contains(&hour) => return None,
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    Time::new(hour, minute, 0, 0).ok()
}

impl Window {
    /// The allow's `(from, until)` as timestamps, read in the business's time zone at `now`.
    pub fn resolve(&self, now: Timestamp, time_zone: &TimeZone) -> Result<Option<Timestamp>, String> {
        let until = match self {
            Window::Always => return Ok(None),
            Window::For(span) => now.checked_add(*span).map_err(|e| e.to_string())?,
            Window::Until { day, time } => {
                let today = now.to_zoned_datetime(time_zone.clone()).date();
                let date = match day {
                    Day::Today => today,
                    Day::Tomorrow => today.checked_add(1.day()).map_err(|e| e.to_string())?,
                    Day::On(date) => *date,
                };
                let at = date.to_datetime(*time).to_zoned_datetime(time_zone.clone()).map_err(|e| e.to_string())?;
                if at.timestamp() <= now {
                    let hint = if *day == Day::Today { "; say tomorrow" } else { "" };
                    return Err(format!("{} has passed{hint}.", at.strftime("%-d %b %H:%M")));
                }
                at.timestamp()
            }
        };
        Ok(Some(until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(text in "\\PC{0,80}") {
            let _ = parse(&text);
        }

        #[test]
        fn any_window_after_a_number_parses_or_is_refused_without_panicking(
            words in "(for|until|till|tomorrow|today|[0-9]{1,5}|[0-9:.]{1,6}|am|pm|h|m|d|[a-z]{1,4}| ){0,8}"
        ) {
            if let Ok(Command::Allow { window, .. }) = parse(&format!("ALLOW +442079460123 {words}")) {
                let now: Timestamp = "2026-11-25T13:00:00Z".parse().unwrap();
                let _ = window.resolve(now, &TimeZone::get("Europe/London").unwrap());
            }
        }
    }

    fn ok(text: &str) -> Command {
        parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn no(target: Whom, company: Option<&str>) -> Command {
        Command::Decline { target, company: company.map(str::to_owned) }
    }

    #[test]
    fn no_alone_declines_the_last_caller() {
        assert_eq!(ok("NO"), no(Whom::LastCaller, None));
        assert_eq!(ok("  no  "), no(Whom::LastCaller, None));
    }

    #[test]
    fn no_with_words_names_the_company_whatever_the_case_and_spacing() {
        assert_eq!(ok("No   Everest \t Windows"), no(Whom::LastCaller, Some("Everest Windows")));
        assert_eq!(ok("no 3M Direct"), no(Whom::LastCaller, Some("3M Direct")));
    }

    #[test]
    fn no_with_a_number_declines_that_number() {
        assert_eq!(ok("NO +441632960123 Everest"), no(Whom::Number("+441632960123".into()), Some("Everest")));
        assert_eq!(ok("no 020 7946 0123"), no(Whom::Number("020 7946 0123".into()), None));
    }

    #[test]
    fn no_with_a_small_number_is_a_code_from_last() {
        assert_eq!(ok("NO 3 Everest"), no(Whom::Code(3), Some("Everest")));
        assert!(matches!(parse("NO 6"), Err(ParseError::Malformed(_))));
        assert!(matches!(parse("NO 0"), Err(ParseError::Malformed(_))));
        assert!(matches!(parse("NO 123 Everest"), Err(ParseError::Malformed(_))));
    }

    #[test]
    fn the_other_commands_stand_alone() {
        assert_eq!(ok("undo"), Command::Undo);
        assert_eq!(ok("Last"), Command::Last);
        assert_eq!(ok("STATUS."), Command::Status);
        assert_eq!(ok("help"), Command::Help);
        assert!(matches!(parse("UNDO everything"), Err(ParseError::Malformed(_))));
    }

    #[test]
    fn anything_else_is_unknown() {
        for text in ["", "   ", "hello", "NOPE", "yes please", "\u{1F600}"] {
            assert_eq!(parse(text), Err(ParseError::Unknown), "{text:?}");
        }
    }

    #[test]
    fn allow_takes_a_number_and_an_optional_window() {
        let number = "+447700900123".to_owned();
        assert_eq!(ok("ALLOW +447700900123"), Command::Allow { number: number.clone(), window: Window::Always });
        assert_eq!(
            ok("allow +447700900123 for 2h"),
            Command::Allow { number: number.clone(), window: Window::For(SignedDuration::from_hours(2)) }
        );
        assert_eq!(
            ok("allow +447700900123 for 1 day 30 minutes"),
            Command::Allow { number: number.clone(), window: Window::For(SignedDuration::from_mins(24 * 60 + 30)) }
        );
        assert_eq!(
            ok("ALLOW +447700900123 until tomorrow 16:00"),
            Command::Allow {
                number: number.clone(),
                window: Window::Until { day: Day::Tomorrow, time: Time::constant(16, 0, 0, 0) }
            }
        );
        assert_eq!(
            ok("ALLOW +447700900123 until 4:30pm"),
            Command::Allow { number, window: Window::Until { day: Day::Today, time: Time::constant(16, 30, 0, 0) } }
        );
    }

    #[test]
    fn a_malformed_allow_says_what_is_wrong() {
        for text in [
            "ALLOW",
            "ALLOW Everest",
            "ALLOW +447700900123 for",
            "ALLOW +447700900123 for ever",
            "ALLOW +447700900123 for 0h",
            "ALLOW +447700900123 for 99999h",
            "ALLOW +447700900123 until",
            "ALLOW +447700900123 until tomorrow",
            "ALLOW +447700900123 until 25:00",
            "ALLOW +447700900123 until 13pm",
            "ALLOW +447700900123 please",
            "ALLOW 12",
        ] {
            assert!(matches!(parse(text), Err(ParseError::Malformed(_))), "{text:?} gave {:?}", parse(text));
        }
    }

    #[test]
    fn times_read_as_people_write_them() {
        assert_eq!(time_word("9am"), Some(Time::constant(9, 0, 0, 0)));
        assert_eq!(time_word("12am"), Some(Time::constant(0, 0, 0, 0)));
        assert_eq!(time_word("12pm"), Some(Time::constant(12, 0, 0, 0)));
        assert_eq!(time_word("16.45"), Some(Time::constant(16, 45, 0, 0)));
        assert_eq!(time_word("16"), Some(Time::constant(16, 0, 0, 0)));
        assert_eq!(time_word("16:5"), None);
        assert_eq!(time_word("pm"), None);
    }

    #[test]
    fn windows_resolve_in_the_business_time_zone() {
        let london = TimeZone::get("Europe/London").unwrap();
        let now: Timestamp = "2026-11-25T13:00:00Z".parse().unwrap();
        let until = |window: Window| window.resolve(now, &london);
        assert_eq!(until(Window::Always), Ok(None));
        assert_eq!(
            until(Window::For(SignedDuration::from_hours(2))),
            Ok(Some("2026-11-25T15:00:00Z".parse().unwrap()))
        );
        let tomorrow = Window::Until { day: Day::Tomorrow, time: Time::constant(16, 0, 0, 0) };
        assert_eq!(until(tomorrow), Ok(Some("2026-11-26T16:00:00Z".parse().unwrap())));
        let passed = until(Window::Until { day: Day::Today, time: Time::constant(9, 0, 0, 0) }).unwrap_err();
        assert!(passed.contains("has passed; say tomorrow"), "{passed}");
    }

    #[test]
    fn odd_input_never_panics() {
        let samples = [
            "NO \u{0}\u{7f}",
            "ALLOW ++++++++",
            "ALLOW 0000000 until 99:99",
            "ALLOW +1 for 9999d",
            "NO 99",
            "ALLOW +447700900123 until ١٦:٠٠",
            "NO ÿÿÿ",
            "allow 1234567 for 1h1h1h1h1h",
            "ALLOW 1234567 until 2026-02-30 9am",
            "ALLOW 1234567 for 5\u{301}h",
            "NO 1 2 3",
        ];
        for text in samples {
            let _ = parse(text);
        }
    }
}
