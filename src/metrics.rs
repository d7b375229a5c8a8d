//! Prometheus metrics, served on the loopback admin port at /metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    operation: String,
    esito: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<OutcomeLabels, Counter>,
    latency: HistogramFamily<OperationLabels>,
    faults: Family<CodeLabels, Counter>,
    rate_limited: Family<OperationLabels, Counter>,
    connections_refused: Family<ReasonLabels, Counter>,
    batch_size: Histogram,
    in_flight: Gauge,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tsgate");
        let requests = Family::<OutcomeLabels, Counter>::default();
        let latency: HistogramFamily<OperationLabels> =
            Family::new_with_constructor(latency_histogram);
        let faults = Family::<CodeLabels, Counter>::default();
        let rate_limited = Family::<OperationLabels, Counter>::default();
        let connections_refused = Family::<ReasonLabels, Counter>::default();
        let batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 11));
        let in_flight = Gauge::default();
        registry.register(
            "requests",
            "SOAP requests by operation and esito (or fault)",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "SOAP request latency, access-log commit included",
            latency.clone(),
        );
        registry.register("faults", "SOAP faults by code", faults.clone());
        registry.register(
            "rate_limited",
            "Requests refused by a rate limit",
            rate_limited.clone(),
        );
        registry.register(
            "connections_refused",
            "Connections refused before or during TLS",
            connections_refused.clone(),
        );
        registry.register(
            "access_log_batch_size",
            "Rows committed per access-log batch",
            batch_size.clone(),
        );
        registry.register(
            "requests_in_flight",
            "Requests being processed",
            in_flight.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            faults,
            rate_limited,
            connections_refused,
            batch_size,
            in_flight,
        }
    }

    /// Records a finished request: `esito` is the decree's outcome or the fault code.
    pub fn request(&self, operation: &str, esito: &str, elapsed: Duration) {
        self.requests
            .get_or_create(&OutcomeLabels {
                operation: operation.to_owned(),
                esito: esito.to_owned(),
            })
            .inc();
        self.latency
            .get_or_create(&OperationLabels {
                operation: operation.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn fault(&self, code: &str) {
        self.faults
            .get_or_create(&CodeLabels {
                code: code.to_owned(),
            })
            .inc();
    }

    pub fn rate_limited(&self, operation: &str) {
        self.rate_limited
            .get_or_create(&OperationLabels {
                operation: operation.to_owned(),
            })
            .inc();
    }

    pub fn connection_refused(&self, reason: &str) {
        self.connections_refused
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    pub fn access_log_batch(&self, rows: usize) {
        self.batch_size.observe(rows as f64);
    }

    pub fn in_flight(&self) -> &Gauge {
        &self.in_flight
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        out
    }
}
