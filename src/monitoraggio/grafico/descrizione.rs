//! The chart's `<desc>`: what it shows, in words, for screen readers.

use super::testo::{tronca, valore_testo};
use super::NESSUN_DATO;
use crate::monitoraggio::modello::{Grafico, TipoGrafico};
use std::borrow::Cow;
use std::fmt::Write as _;

/// The `<desc>`: what the chart shows, in words.
pub(super) fn descrizione(g: &Grafico, estremi: Option<(f64, f64)>) -> String {
    let Some((_, massimo)) = estremi.filter(|_| !g.etichette.is_empty() && !g.serie.is_empty())
    else {
        return format!("{NESSUN_DATO}.");
    };
    let n = g.etichette.len();
    let (tipo, voce, voci) = match g.tipo {
        TipoGrafico::Linee => ("Grafico a linee", "periodo", "periodi"),
        TipoGrafico::Barre => ("Grafico a barre", "voce", "voci"),
    };
    let mut d = format!("{tipo}: {} serie", g.serie.len());
    if g.serie.len() > 1 {
        let nomi: Vec<Cow<str>> = g
            .serie
            .iter()
            .take(8)
            .map(|s| tronca(s.nome.trim(), 40))
            .collect();
        let altre = if g.serie.len() > 8 { ", …" } else { "" };
        scrivi!(d, " ({}{altre})", nomi.join(", "));
    }
    scrivi!(d, ", {n} {}", if n == 1 { voce } else { voci });
    if let (TipoGrafico::Linee, [prima, .., ultima]) = (g.tipo, g.etichette.as_slice()) {
        scrivi!(
            d,
            " (da {} a {})",
            tronca(prima.trim(), 40),
            tronca(ultima.trim(), 40)
        );
    }
    scrivi!(d, ", massimo {}.", valore_testo(massimo));
    if let Some((s, testo)) = g.soglia.as_ref().filter(|(s, _)| s.is_finite()) {
        scrivi!(d, " Soglia: {}", valore_testo(*s));
        if !testo.trim().is_empty() {
            scrivi!(d, " ({})", tronca(testo.trim(), 60));
        }
        d.push('.');
    }
    d
}
