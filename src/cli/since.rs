//! `--since`: a moment, a day, or a span back from now.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

pub fn parse(text: &str, now: Timestamp, time_zone: &TimeZone) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    if let Ok(day) = text.parse::<Date>() {
        return day
            .to_zoned_datetime(time_zone.clone())
            .map(|start| start.timestamp())
            .map_err(|e| format!("--since {text:?}: {e}"));
    }
    let span: Span = text.parse().map_err(|_| {
        format!("--since {text:?} is not a date (2026-11-03), a time (2026-11-03T09:00:00Z) or a span (7d, 12h)")
    })?;
    now.to_zoned_datetime(time_zone.clone())
        .checked_sub(span.abs())
        .map(|start| start.timestamp())
        .map_err(|e| format!("--since {text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-25T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_span_counts_back_from_now() {
        assert_eq!(parse("7d", now(), &TimeZone::UTC).unwrap().to_string(), "2026-11-18T12:00:00Z");
        assert_eq!(parse("12h", now(), &TimeZone::UTC).unwrap().to_string(), "2026-11-25T00:00:00Z");
        assert_eq!(parse("2 days", now(), &TimeZone::UTC).unwrap().to_string(), "2026-11-23T12:00:00Z");
    }

    #[test]
    fn a_day_starts_at_midnight_in_the_business_time_zone() {
        let paris = TimeZone::get("Europe/Paris").unwrap();
        assert_eq!(parse("2026-11-03", now(), &paris).unwrap().to_string(), "2026-11-02T23:00:00Z");
    }

    #[test]
    fn a_moment_is_taken_as_it_is() {
        assert_eq!(parse("2026-11-03T09:00:00Z", now(), &TimeZone::UTC).unwrap().to_string(), "2026-11-03T09:00:00Z");
    }

    #[test]
    fn anything_else_is_refused_with_examples() {
        let err = parse("last tuesday", now(), &TimeZone::UTC).unwrap_err();
        assert!(err.contains("7d"), "{err}");
    }
}
