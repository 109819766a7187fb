//! Moments as the owner types them, on the command line or in the web page's forms: `2026-11-03`,
//! `2026-11-03 14:00`, `14:00`, `tomorrow 16:00`, RFC 3339, or a span from now (`7d`, `2h`) that
//! counts back or ahead as the option means. One reading for both, so a window typed on the page
//! means what it means on the command line.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

/// Which way a span goes: `--since 7d` is a week ago, `--until 2h` two hours from now.
#[derive(Clone, Copy, Debug)]
pub enum Spans {
    Back,
    Ahead,
}

pub fn parse(flag: &str, text: &str, now: Timestamp, time_zone: &TimeZone, spans: Spans) -> Result<Timestamp, String> {
    let text = text.trim();
    let fail = |why: &str| format!("{flag} {text:?}: {why}");
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    let today = now.to_zoned_datetime(time_zone.clone()).date();
    let local = |at: DateTime| {
        at.to_zoned_datetime(time_zone.clone()).map(|zoned| zoned.timestamp()).map_err(|e| fail(&e.to_string()))
    };
    let lower = text.to_ascii_lowercase();
    for (word, day) in [("today", Some(today)), ("tomorrow", today.tomorrow().ok())] {
        if let (Some(rest), Some(day)) = (lower.strip_prefix(word), day) {
            let time = match rest.trim() {
                "" => Time::midnight(),
                rest => rest.parse::<Time>().map_err(|_| fail("give a time such as 16:00 after the day"))?,
            };
            return local(day.to_datetime(time));
        }
    }
    if let Ok(at) = text.replacen(' ', "T", 1).parse::<DateTime>() {
        return local(at);
    }
    if let Ok(day) = text.parse::<Date>() {
        return local(day.to_datetime(Time::midnight()));
    }
    if let Ok(time) = text.parse::<Time>() {
        return local(today.to_datetime(time));
    }
    let span: Span = text.parse().map_err(|_| {
        fail("not a day (2026-11-03), a time (2026-11-03 14:00, 14:00, tomorrow 16:00) or a span (7d, 2h)")
    })?;
    let zoned = now.to_zoned_datetime(time_zone.clone());
    let moved = match spans {
        Spans::Back => zoned.checked_sub(span.abs()),
        Spans::Ahead => zoned.checked_add(span.abs()),
    };
    moved.map(|zoned| zoned.timestamp()).map_err(|e| fail(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-25T12:00:00Z".parse().unwrap()
    }

    fn read(text: &str, spans: Spans) -> String {
        parse("--when", text, now(), &TimeZone::UTC, spans).unwrap().to_string()
    }

    #[test]
    fn a_span_counts_back_or_ahead_as_the_option_means() {
        assert_eq!(read("7d", Spans::Back), "2026-11-18T12:00:00Z");
        assert_eq!(read("12h", Spans::Back), "2026-11-25T00:00:00Z");
        assert_eq!(read("2 days", Spans::Back), "2026-11-23T12:00:00Z");
        assert_eq!(read("2h", Spans::Ahead), "2026-11-25T14:00:00Z");
    }

    #[test]
    fn days_and_times_are_read_in_the_business_time_zone() {
        let paris = TimeZone::get("Europe/Paris").unwrap();
        assert_eq!(
            parse("--since", "2026-11-03", now(), &paris, Spans::Back).unwrap().to_string(),
            "2026-11-02T23:00:00Z"
        );
        assert_eq!(read("2026-11-03 14:30", Spans::Ahead), "2026-11-03T14:30:00Z");
        assert_eq!(read("2026-11-03T14:30", Spans::Ahead), "2026-11-03T14:30:00Z");
        assert_eq!(read("16:00", Spans::Ahead), "2026-11-25T16:00:00Z");
        assert_eq!(read("tomorrow 16:00", Spans::Ahead), "2026-11-26T16:00:00Z");
        assert_eq!(read("Tomorrow", Spans::Ahead), "2026-11-26T00:00:00Z");
    }

    #[test]
    fn a_moment_is_taken_as_it_is() {
        assert_eq!(read("2026-11-03T09:00:00Z", Spans::Back), "2026-11-03T09:00:00Z");
    }

    #[test]
    fn anything_else_is_refused_with_examples() {
        let err = parse("--since", "last tuesday", now(), &TimeZone::UTC, Spans::Back).unwrap_err();
        assert!(err.starts_with("--since \"last tuesday\"") && err.contains("7d"), "{err}");
        assert!(parse("--until", "tomorrow teatime", now(), &TimeZone::UTC, Spans::Ahead).is_err());
    }
}
