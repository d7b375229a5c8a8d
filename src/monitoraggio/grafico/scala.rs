//! The Y scale: "nice" steps of 1, 2 or 5 × 10^k, 4 to 7 ticks, from zero or below.

use super::LIMITE_VALORI;

/// The Y scale: from a multiple of the step at or under 0 (0 unless a value is negative) to the
/// first multiple at or over the largest value, the step 1, 2 or 5 × 10^k, 4 to 7 ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Scala {
    pub(super) min: f64,
    pub(super) max: f64,
    pub(super) passo: f64,
    /// How many decimal digits the tick labels need (0 for steps ≥ 1).
    pub(super) decimali: usize,
}

impl Scala {
    pub(super) fn nuova(min: f64, max: f64) -> Scala {
        let basso = if min.is_finite() {
            min.clamp(-LIMITE_VALORI, 0.0)
        } else {
            0.0
        };
        let alto = if max.is_finite() {
            max.clamp(0.0, LIMITE_VALORI)
        } else {
            0.0
        };
        let ampiezza = alto - basso;
        if ampiezza.is_nan() || ampiezza < 1e-9 {
            // All zero (or practically): 0 to 5.
            return Scala {
                min: 0.0,
                max: 5.0,
                passo: 1.0,
                decimali: 0,
            };
        }
        let k = (ampiezza / 6.0).log10().floor() as i32;
        let scala = |m: f64, e: i32| {
            let esponente = k + e;
            let passo = if esponente < 0 {
                m / 10f64.powi(-esponente)
            } else {
                m * 10f64.powi(esponente)
            };
            let da = (basso / passo + 1e-9).floor();
            let a = (alto / passo - 1e-9).ceil().max(da + 1.0);
            let s = Scala {
                min: da * passo,
                max: a * passo,
                passo,
                decimali: usize::try_from(-i64::from(esponente)).unwrap_or(0),
            };
            (s, a - da)
        };
        let candidati = [(1.0, 0), (2.0, 0), (5.0, 0), (1.0, 1), (2.0, 1), (5.0, 1)];
        for (m, e) in candidati {
            let (s, intervalli) = scala(m, e);
            if intervalli <= 6.0 {
                return s;
            }
        }
        scala(1.0, 2).0
    }

    /// The tick values, from `min` to `max`.
    pub(super) fn tacche(&self) -> impl Iterator<Item = f64> + '_ {
        let da = (self.min / self.passo).round() as i64;
        let a = (self.max / self.passo).round() as i64;
        (da..=a).map(move |i| i as f64 * self.passo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoraggio::grafico::testo::numero;

    #[test]
    fn the_ticks_are_nice() {
        let s = Scala::nuova(0.0, 87.0);
        assert_eq!((s.min, s.max, s.passo, s.decimali), (0.0, 100.0, 20.0, 0));
        assert_eq!(s.tacche().count(), 6);
        let s = Scala::nuova(0.0, 100.0);
        assert_eq!((s.max, s.passo), (100.0, 20.0));
        let s = Scala::nuova(0.0, 0.0);
        assert_eq!((s.min, s.max, s.passo), (0.0, 5.0, 1.0));
        let s = Scala::nuova(0.0, 1.0);
        assert_eq!((s.max, s.passo, s.decimali), (1.0, 0.2, 1));
        let tacche: Vec<String> = s.tacche().map(|t| numero(t, s.decimali)).collect();
        assert_eq!(tacche, ["0", "0,2", "0,4", "0,6", "0,8", "1,0"]);
        let s = Scala::nuova(0.0, 0.07);
        assert_eq!(numero(s.passo, s.decimali), "0,02");
        let s = Scala::nuova(0.0, 1_234_567.0);
        let tacche: Vec<String> = s.tacche().map(|t| numero(t, s.decimali)).collect();
        assert_eq!(tacche, ["0", "500.000", "1.000.000", "1.500.000"]);
        let s = Scala::nuova(-30.0, 87.0);
        assert!(s.min <= -30.0 && s.max >= 87.0);
        // 4 to 7 ticks from 0, steps 1, 2 or 5 × 10^k, the top at or over the maximum.
        let mut max = 0.013;
        while max < 1e18 {
            let s = Scala::nuova(0.0, max);
            let n = s.tacche().count();
            assert!((4..=7).contains(&n), "{max}: {n} ticks");
            assert_eq!(s.min, 0.0);
            assert!(s.max >= max && s.max - s.passo < max, "{max}: {s:?}");
            let mantissa = s.passo / 10f64.powf(s.passo.log10().floor());
            assert!(
                [1.0, 2.0, 5.0].iter().any(|m| (mantissa - m).abs() < 1e-6),
                "{max}: {s:?}"
            );
            max *= 1.37;
        }
        for m in [1e300, f64::MAX, 5e-324] {
            let s = Scala::nuova(0.0, m);
            assert!(s.max.is_finite() && s.passo > 0.0, "{s:?}");
        }
    }
}
