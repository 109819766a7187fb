//! Metrics for Prometheus: calls by decision, webhook latency, store errors, notification failures.
//! Served on a listener of their own that binds to loopback only, so they are never public by accident.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::domain::DecisionKind;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Decision {
    decision: String,
}

pub struct Metrics {
    registry: Registry,
    calls: Family<Decision, Counter>,
    webhook_seconds: Histogram,
    store_errors: Counter,
    notification_failures: Counter,
    calls_pruned: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let calls = Family::<Decision, Counter>::default();
        // From 100 µs to about 3 s.
        let webhook_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let store_errors = Counter::default();
        let notification_failures = Counter::default();
        let calls_pruned = Counter::default();
        let mut registry = Registry::with_prefix("saidno");
        registry.register("calls", "Incoming calls answered, by decision", calls.clone());
        registry.register(
            "webhook_seconds",
            "Time to answer an incoming call's webhook, from the request to the answer",
            webhook_seconds.clone(),
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
        Self { registry, calls, webhook_seconds, store_errors, notification_failures, calls_pruned }
    }
}

impl Metrics {
    pub fn call(&self, kind: DecisionKind) {
        self.calls.get_or_create(&Decision { decision: kind.to_string() }).inc();
    }

    pub fn webhook_latency(&self, seconds: f64) {
        self.webhook_seconds.observe(seconds);
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
    }
}
