//! How long to wait before trying a text again.

use std::time::Duration;

/// A `Retry-After` longer than this is cut short: a text an hour late is no use to the owner.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The longest pause between tries when the provider names none.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The pause after the `failed`-th try (1 for the first): the provider's `Retry-After` when it gave
/// one (up to a minute), else `base` doubled for each try already made.
pub fn pause(failed: u32, base: Duration, retry_after: Option<Duration>) -> Duration {
    if let Some(asked) = retry_after {
        return asked.min(MAX_RETRY_AFTER);
    }
    let doubling = 2u32.saturating_pow(failed.saturating_sub(1).min(16));
    base.saturating_mul(doubling).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_from_the_base_up_to_a_bound() {
        let base = Duration::from_secs(1);
        let pauses: Vec<u64> = (1..=4).map(|n| pause(n, base, None).as_secs()).collect();
        assert_eq!(pauses, [1, 2, 4, 8]);
        assert_eq!(pause(40, base, None), MAX_BACKOFF);
    }

    #[test]
    fn retry_after_wins_but_is_bounded() {
        let base = Duration::from_secs(1);
        assert_eq!(pause(1, base, Some(Duration::from_secs(7))), Duration::from_secs(7));
        assert_eq!(pause(3, base, Some(Duration::ZERO)), Duration::ZERO);
        assert_eq!(pause(1, base, Some(Duration::from_secs(3600))), MAX_RETRY_AFTER);
    }
}
