//! `[monitoraggio]`: the monitoring reports' aggregates and the misuse analysis' thresholds.

use super::Errori;
use serde::{Deserialize, Serialize};

/// The monitoring reports and the misuse analysis (decree annex A 7.4, 7.7).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitoraggioConfig {
    /// Months the aggregates are kept (longer than the access log they summarise).
    pub retention_months: u32,
    /// How often the background job merges the aggregates' deltas, refreshes the patients per
    /// region and evaluates the misuse flags, in seconds.
    pub intervallo_secs: u64,
    /// Misuse: calls of a region per day, per 1,000 patients of the region, above which the day
    /// is flagged.
    pub soglia_giornaliera_per_mille: f64,
    /// The same per week.
    pub soglia_settimanale_per_mille: f64,
    /// Misuse: a day (week) whose calls exceed this many times the region's median of the
    /// preceding days (weeks) is flagged, even under the threshold.
    pub fattore_mediana: f64,
    /// How many preceding days make the trailing median (weeks: this ÷ 7, at least 4).
    pub finestra_mediana_giorni: u32,
    /// Days and weeks with fewer calls than this are never flagged against the median.
    pub minimo_chiamate: i64,
    /// Groups shown in a report before the rest is summed as "Altri".
    pub top: usize,
}

impl Default for MonitoraggioConfig {
    fn default() -> Self {
        Self {
            retention_months: 60,
            intervallo_secs: 60,
            soglia_giornaliera_per_mille: 50.0,
            soglia_settimanale_per_mille: 250.0,
            fattore_mediana: 3.0,
            finestra_mediana_giorni: 28,
            minimo_chiamate: 100,
            top: 10,
        }
    }
}

impl MonitoraggioConfig {
    /// The section's own checks; that the aggregates outlive the access log is checked by
    /// `Config::validate`, which sees both sections.
    pub(crate) fn validate(&self, errs: &mut Errori) {
        errs.positive(&[
            (
                "monitoraggio.retention_months",
                u64::from(self.retention_months),
            ),
            ("monitoraggio.intervallo_secs", self.intervallo_secs),
            (
                "monitoraggio.finestra_mediana_giorni",
                u64::from(self.finestra_mediana_giorni),
            ),
            ("monitoraggio.top", self.top as u64),
        ]);
        for (name, value) in [
            (
                "monitoraggio.soglia_giornaliera_per_mille",
                self.soglia_giornaliera_per_mille,
            ),
            (
                "monitoraggio.soglia_settimanale_per_mille",
                self.soglia_settimanale_per_mille,
            ),
            ("monitoraggio.fattore_mediana", self.fattore_mediana),
        ] {
            if !(value.is_finite() && value > 0.0) {
                errs.invalid(name, "must be a number greater than zero");
            }
        }
        if self.finestra_mediana_giorni > 366 {
            errs.invalid("monitoraggio.finestra_mediana_giorni", "at most 366 days");
        }
        if self.top > 50 {
            errs.invalid("monitoraggio.top", "at most 50 groups");
        }
    }
}
