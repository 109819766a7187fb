//! Who called lately, in memory, for the announcement's "called 3 times this week": the
//! announcement is read to someone holding the phone, so it must not wait on the log.

use std::collections::VecDeque;

use jiff::{SignedDuration, Timestamp};

use crate::domain::{CallerId, PhoneNumber};

/// How far back the announcement counts.
pub const WINDOW: SignedDuration = SignedDuration::from_hours(7 * 24);
/// The most numbers remembered; past it the longest quiet are forgotten first.
const MAX_NUMBERS: usize = 100_000;
/// The most calls counted for one number: the announcement says "called 50 times" at most.
const MAX_CALLS: usize = 50;

#[derive(Default)]
pub struct RecentCallers {
    /// By `PhoneNumber::key`: no string is copied for a call.
    by_number: foldhash::HashMap<u64, Recent>,
}

#[derive(Default)]
struct Recent {
    /// Oldest first, in whole seconds: half the size of a `Timestamp`, and a count of calls this
    /// week needs no finer time.
    times: VecDeque<i64>,
    caller_name: Option<String>,
}

impl RecentCallers {
    pub fn note(&mut self, from: &CallerId, caller_name: Option<&str>, at: Timestamp) {
        let CallerId::Number(number) = from else { return };
        let key = number.key();
        if self.by_number.len() >= MAX_NUMBERS && !self.by_number.contains_key(&key) {
            self.forget_the_quietest(at);
        }
        let recent = self.by_number.entry(key).or_default();
        if recent.times.len() == MAX_CALLS {
            recent.times.pop_front();
        }
        recent.times.push_back(at.as_second());
        if let Some(name) = caller_name {
            recent.caller_name = Some(name.to_owned());
        }
    }

    /// How many calls `number` made in the week up to `now`, and the caller name the network last
    /// gave for it.
    pub fn this_week(&self, number: &PhoneNumber, now: Timestamp) -> (usize, Option<&str>) {
        let Some(recent) = self.by_number.get(&number.key()) else { return (0, None) };
        let since = now.checked_sub(WINDOW).unwrap_or(Timestamp::MIN).as_second();
        (recent.times.iter().filter(|&&at| at >= since).count(), recent.caller_name.as_deref())
    }

    /// Forgets numbers with no call this week, or, when every number called this week, the
    /// quieter half.
    fn forget_the_quietest(&mut self, now: Timestamp) {
        let since = now.checked_sub(WINDOW).unwrap_or(Timestamp::MIN).as_second();
        self.by_number.retain(|_, recent| recent.times.back().is_some_and(|&last| last >= since));
        if self.by_number.len() >= MAX_NUMBERS {
            let mut last_calls: Vec<i64> = self.by_number.values().filter_map(|r| r.times.back().copied()).collect();
            let middle = last_calls.len() / 2;
            let (_, &mut median, _) = last_calls.select_nth_unstable(middle);
            self.by_number.retain(|_, recent| recent.times.back().is_some_and(|&last| last > median));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(text: &str) -> CallerId {
        CallerId::Number(PhoneNumber::from_e164(text).unwrap())
    }

    #[test]
    fn only_this_weeks_calls_count_and_the_latest_name_is_kept() {
        let now: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let mut recent = RecentCallers::default();
        recent.note(&caller("+442079460123"), Some("EVEREST"), "2026-11-01T12:00:00Z".parse().unwrap());
        recent.note(&caller("+442079460123"), None, "2026-11-18T12:00:00Z".parse().unwrap());
        recent.note(&caller("+442079460123"), Some("EVEREST WIN"), "2026-11-20T11:00:00Z".parse().unwrap());
        recent.note(&CallerId::Withheld, None, now);
        let number = PhoneNumber::from_e164("+442079460123").unwrap();
        assert_eq!(recent.this_week(&number, now), (2, Some("EVEREST WIN")));
        assert_eq!(recent.this_week(&PhoneNumber::from_e164("+442079460124").unwrap(), now), (0, None));
    }

    #[test]
    fn memory_stays_bounded_and_the_busiest_lately_are_kept() {
        let start: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let mut recent = RecentCallers::default();
        for i in 0..MAX_NUMBERS as i64 + 10 {
            let at = start + SignedDuration::from_secs(i);
            recent.note(&caller(&format!("+4420{:08}", i)), None, at);
        }
        assert!(recent.by_number.len() <= MAX_NUMBERS);
        let newest = PhoneNumber::from_e164(&format!("+4420{:08}", MAX_NUMBERS + 9)).unwrap();
        assert_eq!(recent.this_week(&newest, start + SignedDuration::from_hours(1)).0, 1);
    }
}
