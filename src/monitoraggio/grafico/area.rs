//! The plot area's geometry: where label `j` and value `v` fall, for lines and for bars.

use super::scala::Scala;
use crate::monitoraggio::modello::TipoGrafico;

/// Where things go: the plot area and what is around it.
pub(super) struct Disposizione {
    /// The plot area.
    pub(super) sinistra: f64,
    pub(super) destra: f64,
    pub(super) alto: f64,
    pub(super) basso: f64,
    pub(super) n: usize,
    pub(super) tipo: TipoGrafico,
    pub(super) scala: Scala,
}

impl Disposizione {
    pub(super) fn larghezza(&self) -> f64 {
        self.destra - self.sinistra
    }

    /// The centre of label `j`: evenly spaced points for lines, the middle of a slot for bars.
    pub(super) fn x(&self, j: usize) -> f64 {
        let pw = self.larghezza();
        match self.tipo {
            TipoGrafico::Linee if self.n <= 1 => self.sinistra + pw / 2.0,
            TipoGrafico::Linee => self.sinistra + j as f64 * pw / (self.n - 1) as f64,
            TipoGrafico::Barre => self.sinistra + (j as f64 + 0.5) * pw / self.n.max(1) as f64,
        }
    }

    /// The distance between two consecutive labels.
    pub(super) fn passo_x(&self) -> f64 {
        passo_x(self.tipo, self.n, self.larghezza())
    }

    pub(super) fn y(&self, v: f64) -> f64 {
        let Scala { min, max, .. } = self.scala;
        let v = if v.is_finite() {
            v.clamp(min, max)
        } else {
            min
        };
        self.alto + (max - v) / (max - min) * (self.basso - self.alto)
    }
}

pub(super) fn passo_x(tipo: TipoGrafico, n: usize, larghezza: f64) -> f64 {
    match tipo {
        TipoGrafico::Linee if n > 1 => larghezza / (n - 1) as f64,
        TipoGrafico::Linee => larghezza,
        TipoGrafico::Barre => larghezza / n.max(1) as f64,
    }
}
