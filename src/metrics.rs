//! Prometheus metrics, served on the loopback admin port at /metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::sync::RwLock;
use std::time::Duration;

/// Distinct `caller` label values ever created in `tsgate_calls_total`; further callers are
/// counted under [`OVERFLOW_LABEL`].
pub const MAX_CALLERS: usize = 500;
/// Distinct `operation` label values ever created (`tsgate_calls_total`, `tsgate_requests_total`,
/// `tsgate_request_duration_seconds`, `tsgate_rate_limited_total`); further ones are [`OVERFLOW_LABEL`].
pub const MAX_OPERATIONS: usize = 64;
/// Distinct `kind` label values of `tsgate_misuse_flags_open_by_kind`.
pub const MAX_FLAG_KINDS: usize = 16;
/// Longest label value, in characters; longer values are cut.
pub const MAX_LABEL_CHARS: usize = 64;
/// The label value that stands for every value beyond a bound.
pub const OVERFLOW_LABEL: &str = "altri";
/// The `caller` of a request refused before the client certificate identified a caller.
pub const NO_CALLER_LABEL: &str = "-";

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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    caller: String,
    operation: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// A bounded set of label values: the first `max` distinct values (cut to
/// [`MAX_LABEL_CHARS`]) are kept as they are, every later one becomes [`OVERFLOW_LABEL`].
/// Values are never forgotten (a series, once exported, stays until the process restarts), so
/// the number of series of a family is bounded for the life of the process.
struct BoundedLabels {
    max: usize,
    seen: RwLock<HashSet<String>>,
}

impl BoundedLabels {
    fn new(max: usize) -> Self {
        Self {
            max,
            seen: RwLock::new(HashSet::new()),
        }
    }

    /// A value already seen (every request after the first of each caller) takes only the
    /// shared lock: the workers of the hot path never wait for each other here.
    fn label(&self, value: &str) -> String {
        let value = truncate(value);
        {
            let seen = self.seen.read().unwrap_or_else(|e| e.into_inner());
            if seen.contains(value) {
                return value.to_owned();
            }
            if seen.len() >= self.max {
                return OVERFLOW_LABEL.to_owned();
            }
        }
        let mut seen = self.seen.write().unwrap_or_else(|e| e.into_inner());
        if seen.contains(value) || seen.len() < self.max {
            seen.insert(value.to_owned());
            return value.to_owned();
        }
        OVERFLOW_LABEL.to_owned()
    }
}

/// `value` cut to at most [`MAX_LABEL_CHARS`] characters (at a character boundary).
fn truncate(value: &str) -> &str {
    match value.char_indices().nth(MAX_LABEL_CHARS) {
        Some((i, _)) => &value[..i],
        None => value,
    }
}

/// The `outcome` label of an esito: `ok` for "00", `refused` for a gateway fault code
/// (`TSG-nnnn`), `negative` for any other esito of the decree (a two-digit negative outcome).
pub fn outcome(esito: &str) -> &'static str {
    if esito == "00" {
        "ok"
    } else if esito.starts_with("TSG-") {
        "refused"
    } else {
        "negative"
    }
}

pub struct Metrics {
    registry: Registry,
    requests: Family<OutcomeLabels, Counter>,
    latency: HistogramFamily<OperationLabels>,
    faults: Family<CodeLabels, Counter>,
    rate_limited: Family<OperationLabels, Counter>,
    connections_refused: Family<ReasonLabels, Counter>,
    batch_size: Histogram,
    in_flight: Gauge,
    calls: Family<CallLabels, Counter>,
    misuse_flags: Gauge,
    misuse_flags_by_kind: Family<KindLabels, Gauge>,
    monitoring_last_run: Gauge,
    monitoring_errors: Counter,
    callers: BoundedLabels,
    operations: BoundedLabels,
    flag_kinds: BoundedLabels,
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
        let calls = Family::<CallLabels, Counter>::default();
        let misuse_flags = Gauge::default();
        let misuse_flags_by_kind = Family::<KindLabels, Gauge>::default();
        let monitoring_last_run = Gauge::default();
        let monitoring_errors = Counter::default();
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
        registry.register(
            "calls",
            "SOAP requests by caller, operation and outcome (ok, negative, refused); \
             bounded label sets, callers and operations beyond the bound are altri",
            calls.clone(),
        );
        registry.register(
            "misuse_flags_open",
            "Misuse flags open in the current day and week",
            misuse_flags.clone(),
        );
        registry.register(
            "misuse_flags_open_by_kind",
            "Misuse flags open in the current day and week, by kind",
            misuse_flags_by_kind.clone(),
        );
        registry.register(
            "monitoring_last_run_timestamp_seconds",
            "Unix time of the last successful run of the monitoring job",
            monitoring_last_run.clone(),
        );
        registry.register(
            "monitoring_errors",
            "Failed runs of the monitoring job",
            monitoring_errors.clone(),
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
            calls,
            misuse_flags,
            misuse_flags_by_kind,
            monitoring_last_run,
            monitoring_errors,
            callers: BoundedLabels::new(MAX_CALLERS),
            operations: BoundedLabels::new(MAX_OPERATIONS),
            flag_kinds: BoundedLabels::new(MAX_FLAG_KINDS),
        }
    }

    /// Records a finished request: `esito` is the decree's outcome or the fault code.
    pub fn request(&self, operation: &str, esito: &str, elapsed: Duration) {
        let operation = self.operations.label(operation);
        self.requests
            .get_or_create(&OutcomeLabels {
                operation: operation.clone(),
                esito: truncate(esito).to_owned(),
            })
            .inc();
        self.latency
            .get_or_create(&OperationLabels { operation })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a finished request by caller (the registered caller's name; "" when the request
    /// was refused before the certificate identified a caller, exported as "-"), operation and
    /// outcome (see [`outcome`]). At most [`MAX_CALLERS`] callers and [`MAX_OPERATIONS`]
    /// operations are ever exported; later ones are counted under "altri".
    pub fn call(&self, caller: &str, operation: &str, esito: &str) {
        let caller = if caller.is_empty() {
            NO_CALLER_LABEL.to_owned()
        } else {
            self.callers.label(caller)
        };
        self.calls
            .get_or_create(&CallLabels {
                caller,
                operation: self.operations.label(operation),
                outcome: outcome(esito).to_owned(),
            })
            .inc();
    }

    /// The misuse flags open in the current day and week (every kind), after a monitoring run.
    pub fn set_misuse_flags(&self, n: i64) {
        self.misuse_flags.set(n);
    }

    /// The misuse flags of one kind (`soglia_giornaliera`, `soglia_settimanale`, `mediana`,
    /// `ip_nuovo`) open in the current day and week.
    pub fn set_misuse_flags_by_kind(&self, kind: &str, n: i64) {
        self.misuse_flags_by_kind
            .get_or_create(&KindLabels {
                kind: self.flag_kinds.label(kind),
            })
            .set(n);
    }

    /// A successful run of the monitoring job, at `unix_secs`.
    pub fn monitoring_ran(&self, unix_secs: i64) {
        self.monitoring_last_run.set(unix_secs);
    }

    /// A failed run of the monitoring job.
    pub fn monitoring_error(&self) {
        self.monitoring_errors.inc();
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
                operation: self.operations.label(operation),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_mapping() {
        assert_eq!(outcome("00"), "ok");
        assert_eq!(outcome("01"), "negative");
        assert_eq!(outcome("30"), "negative");
        assert_eq!(outcome("TSG-0301"), "refused");
        assert_eq!(outcome("TSG-0504"), "refused");
    }

    #[test]
    fn calls_by_outcome() {
        let m = Metrics::new();
        m.call("asl-roma1", "VerificaAssistito", "00");
        m.call("asl-roma1", "VerificaAssistito", "00");
        m.call("asl-roma1", "VerificaAssistito", "02");
        m.call("", "-", "TSG-0101");
        let out = m.render();
        assert!(out.contains(
            r#"tsgate_calls_total{caller="asl-roma1",operation="VerificaAssistito",outcome="ok"} 2"#
        ));
        assert!(out.contains(
            r#"tsgate_calls_total{caller="asl-roma1",operation="VerificaAssistito",outcome="negative"} 1"#
        ));
        assert!(out.contains(r#"tsgate_calls_total{caller="-",operation="-",outcome="refused"} 1"#));
    }

    #[test]
    fn callers_are_bounded() {
        let m = Metrics::new();
        for i in 0..MAX_CALLERS {
            m.call(&format!("chiamante-{i}"), "Op", "00");
        }
        m.call("chiamante-oltre", "Op", "00");
        // A caller seen before the bound was reached keeps its own label.
        m.call("chiamante-0", "Op", "00");
        let out = m.render();
        assert!(out.contains(r#"tsgate_calls_total{caller="altri",operation="Op",outcome="ok"} 1"#));
        assert!(out
            .contains(r#"tsgate_calls_total{caller="chiamante-0",operation="Op",outcome="ok"} 2"#));
        assert!(!out.contains("chiamante-oltre"));
        let series = out
            .lines()
            .filter(|l| l.starts_with("tsgate_calls_total{"))
            .count();
        assert_eq!(series, MAX_CALLERS + 1);
        // The empty caller is not one of the bounded values.
        m.call("", "Op", "TSG-0101");
        assert!(m
            .render()
            .contains(r#"caller="-",operation="Op",outcome="refused""#));
    }

    #[test]
    fn operations_are_bounded_and_labels_cut() {
        let m = Metrics::new();
        for i in 0..MAX_OPERATIONS {
            m.call("c", &format!("Op{i}"), "00");
        }
        m.call("c", "OpOltre", "00");
        let out = m.render();
        assert!(out.contains(r#"tsgate_calls_total{caller="c",operation="altri",outcome="ok"} 1"#));
        let lungo = "è".repeat(100);
        let m = Metrics::new();
        m.call(&lungo, "Op", "00");
        let out = m.render();
        assert!(out.contains(&format!(r#"caller="{}""#, "è".repeat(MAX_LABEL_CHARS))));
        assert!(!out.contains(&"è".repeat(MAX_LABEL_CHARS + 1)));
    }

    #[test]
    fn gauges_in_render() {
        let m = Metrics::new();
        m.set_misuse_flags(3);
        m.set_misuse_flags_by_kind("soglia_giornaliera", 2);
        m.set_misuse_flags_by_kind("ip_nuovo", 1);
        m.set_misuse_flags_by_kind("ip_nuovo", 0);
        m.monitoring_ran(1_700_000_000);
        m.monitoring_error();
        let out = m.render();
        assert!(out.contains("tsgate_misuse_flags_open 3"));
        assert!(out.contains(r#"tsgate_misuse_flags_open_by_kind{kind="soglia_giornaliera"} 2"#));
        assert!(out.contains(r#"tsgate_misuse_flags_open_by_kind{kind="ip_nuovo"} 0"#));
        assert!(out.contains("tsgate_monitoring_last_run_timestamp_seconds 1700000000"));
        assert!(out.contains("tsgate_monitoring_errors_total 1"));
        assert!(out.contains(
            "# HELP tsgate_misuse_flags_open Misuse flags open in the current day and week"
        ));
    }

    #[test]
    fn existing_families_keep_their_names() {
        let m = Metrics::new();
        m.request("Op", "00", Duration::from_millis(3));
        m.fault("TSG-0504");
        m.rate_limited("Op");
        m.connection_refused("handshake");
        m.access_log_batch(10);
        m.in_flight().inc();
        let out = m.render();
        for name in [
            r#"tsgate_requests_total{operation="Op",esito="00"} 1"#,
            r#"tsgate_request_duration_seconds_bucket{le="#,
            r#"tsgate_request_duration_seconds_count{operation="Op"} 1"#,
            r#"tsgate_faults_total{code="TSG-0504"} 1"#,
            r#"tsgate_rate_limited_total{operation="Op"} 1"#,
            r#"tsgate_connections_refused_total{reason="handshake"} 1"#,
            "tsgate_access_log_batch_size_bucket{le=",
            "tsgate_access_log_batch_size_count 1",
            "tsgate_requests_in_flight 1",
        ] {
            assert!(out.contains(name), "{name} missing from\n{out}");
        }
    }
}
