//! Metrics for Prometheus: calls by decision, webhook latency, fail-open answers, whether saidno
//! runs degraded, store errors, notification failures. Served on a listener of their own that binds
//! to loopback only, so they are never public by accident. `contrib/prometheus` alerts on them.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::domain::DecisionKind;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Decision {
    decision: String,
}

/// Every decision a call can get. Each has its series from the start, so an alert on a rate sees
/// the first call of a kind as an increase from 0 rather than a series appearing already at 1.
const DECISIONS: [DecisionKind; 4] =
    [DecisionKind::Forward, DecisionKind::Decline, DecisionKind::Screen, DecisionKind::Closed];

pub struct Metrics {
    registry: Registry,
    /// Each decision's counter, in the order of `DECISIONS`, so a call does not look its series up.
    calls: [Counter; DECISIONS.len()],
    webhook_seconds: Histogram,
    fail_open: Counter,
    degraded: Gauge,
    store_errors: Counter,
    notification_failures: Counter,
    calls_pruned: Counter,
    calls_not_logged: Counter,
    outcomes_not_logged: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let family = Family::<Decision, Counter>::default();
        let calls = DECISIONS.map(|kind| family.get_or_create(&Decision { decision: kind.to_string() }).clone());
        // From 100 µs to about 3 s.
        let webhook_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let fail_open = Counter::default();
        let degraded = Gauge::default();
        let store_errors = Counter::default();
        let notification_failures = Counter::default();
        let calls_pruned = Counter::default();
        let calls_not_logged = Counter::default();
        let outcomes_not_logged = Counter::default();
        let mut registry = Registry::with_prefix("saidno");
        registry.register("calls", "Incoming calls answered, by decision", family);
        registry.register(
            "webhook_seconds",
            "Time to answer an incoming call's webhook, from the request to the answer",
            webhook_seconds.clone(),
        );
        registry.register(
            "fail_open",
            "Calls put through unscreened because something inside saidno failed while deciding",
            fail_open.clone(),
        );
        registry.register(
            "degraded",
            "1 while saidno cannot use its database and forwards every call, until it is restarted",
            degraded.clone(),
        );
        registry.register("store_errors", "Errors from the database", store_errors.clone());
        registry.register(
            "notification_failures",
            "Notifications to the owner that could not be sent",
            notification_failures.clone(),
        );
        registry.register(
            "calls_pruned",
            "Calls removed from the log because they were older than its retention period",
            calls_pruned.clone(),
        );
        registry.register(
            "calls_not_logged",
            "Calls answered but left out of the call log because as many as [log] queue were already waiting to be written",
            calls_not_logged.clone(),
        );
        registry.register(
            "outcomes_not_logged",
            "Reports of how a call ended left out of the call log because as many as [log] queue were already waiting",
            outcomes_not_logged.clone(),
        );
        Self {
            registry,
            calls,
            webhook_seconds,
            fail_open,
            degraded,
            store_errors,
            notification_failures,
            calls_pruned,
            calls_not_logged,
            outcomes_not_logged,
        }
    }
}

impl Metrics {
    pub fn call(&self, kind: DecisionKind) {
        let index = DECISIONS.iter().position(|known| *known == kind).expect("every decision has its counter");
        self.calls[index].inc();
    }

    pub fn webhook_latency(&self, seconds: f64) {
        self.webhook_seconds.observe(seconds);
    }

    /// A call got the fallback forward instead of a decision.
    pub fn failed_open(&self) {
        self.fail_open.inc();
    }

    /// saidno has given up on its database; it stays so until restarted.
    pub fn degraded(&self) {
        self.degraded.set(1);
    }

    pub fn store_error(&self) {
        self.store_errors.inc();
    }

    pub fn notification_failed(&self) {
        self.notification_failures.inc();
    }

    pub fn calls_pruned(&self, count: u64) {
        self.calls_pruned.inc_by(count);
    }

    /// A call (or, when not `call`, a call's outcome) was left out of the call log: its queue was full.
    pub fn not_logged(&self, call: bool) {
        if call {
            self.calls_not_logged.inc()
        } else {
            self.outcomes_not_logged.inc()
        };
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_counted_shows_in_the_exposition() {
        let metrics = Metrics::default();
        metrics.call(DecisionKind::Decline);
        metrics.call(DecisionKind::Decline);
        metrics.call(DecisionKind::Forward);
        metrics.webhook_latency(0.002);
        metrics.store_error();
        let text = metrics.render();
        assert!(text.contains(r#"saidno_calls_total{decision="decline"} 2"#), "{text}");
        assert!(text.contains(r#"saidno_calls_total{decision="forward"} 1"#), "{text}");
        assert!(text.contains("saidno_webhook_seconds_count 1"), "{text}");
        assert!(text.contains("saidno_store_errors_total 1"), "{text}");
        assert!(text.contains("saidno_notification_failures_total 0"), "{text}");
        metrics.calls_pruned(3);
        assert!(metrics.render().contains("saidno_calls_pruned_total 3"));
        metrics.not_logged(true);
        metrics.not_logged(true);
        metrics.not_logged(false);
        let text = metrics.render();
        assert!(text.contains("saidno_calls_not_logged_total 2"), "{text}");
        assert!(text.contains("saidno_outcomes_not_logged_total 1"), "{text}");
    }

    #[test]
    fn every_decision_has_a_series_before_its_first_call() {
        let text = Metrics::default().render();
        for decision in ["forward", "decline", "screen", "closed"] {
            assert!(text.contains(&format!(r#"saidno_calls_total{{decision="{decision}"}} 0"#)), "{text}");
        }
    }

    #[test]
    fn fail_open_answers_and_a_degraded_server_show_in_the_exposition() {
        let metrics = Metrics::default();
        let healthy = metrics.render();
        assert!(healthy.contains("saidno_fail_open_total 0"), "{healthy}");
        assert!(healthy.contains("saidno_degraded 0"), "{healthy}");
        metrics.failed_open();
        metrics.failed_open();
        metrics.degraded();
        metrics.degraded();
        let text = metrics.render();
        assert!(text.contains("saidno_fail_open_total 2"), "{text}");
        assert!(text.contains("saidno_degraded 1"), "{text}");
        assert!(text.contains("# TYPE saidno_degraded gauge"), "{text}");
    }
}
