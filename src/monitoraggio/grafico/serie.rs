//! The series: their colours (Okabe–Ito, «Altri» grey), their lines or bars with tooltips, their finite values.

use super::area::Disposizione;
use super::testo::{valore_testo, C, E};
use super::{LIMITE_VALORI, MAX_MARCATORI};
use crate::monitoraggio::modello::{Grafico, Serie, TipoGrafico};
use std::fmt::Write as _;

/// The Okabe–Ito colour-blind-safe palette, in its order, without the yellow (#F0E442), which
/// is too light on white.
const TAVOLOZZA: [&str; 7] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
];
/// The colour of the series (or, in a single-series bar chart, the bar) named [`ALTRI`].
const GRIGIO_ALTRI: &str = "#999999";
/// The name of the group that sums everything after the first ones (`monitoraggio::ALTRI`).
const ALTRI: &str = "Altri";

/// Whether a label names the rest: «Altri», or «Altri (12)» as tables count them.
fn e_altri(s: &str) -> bool {
    let s = s.trim();
    s == ALTRI || s.strip_prefix(ALTRI).is_some_and(|r| r.starts_with(" ("))
}

/// The lines or the bars.
pub(super) fn serie(out: &mut String, g: &Grafico, d: &Disposizione, colori: &[&'static str]) {
    let n = d.n;
    out.push_str(r#"<g class="serie">"#);
    match g.tipo {
        TipoGrafico::Linee => {
            for (s, &colore) in g.serie.iter().zip(colori) {
                let punti: Vec<Option<(f64, f64)>> = (0..n)
                    .map(|j| valore(s, j).map(|v| (d.x(j), d.y(v))))
                    .collect();
                // One polyline per run of consecutive values: a NaN is a gap.
                for tratto in punti.split(|p| p.is_none()) {
                    match tratto {
                        [] => {}
                        // An isolated value: a dot, unless it gets a marker anyway.
                        [Some((x, y))] => {
                            if n > MAX_MARCATORI {
                                scrivi!(
                                    out,
                                    r#"<circle cx="{}" cy="{}" r="2" fill="{colore}"/>"#,
                                    C(*x),
                                    C(*y)
                                );
                            }
                        }
                        _ => {
                            scrivi!(
                                out,
                                r#"<polyline fill="none" stroke="{colore}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round" points=""#
                            );
                            for (i, (x, y)) in tratto.iter().flatten().enumerate() {
                                let sep = if i == 0 { "" } else { " " };
                                scrivi!(out, "{sep}{},{}", C(*x), C(*y));
                            }
                            out.push_str(r#""/>"#);
                        }
                    }
                }
                if n <= MAX_MARCATORI {
                    for j in 0..n {
                        let Some(v) = valore(s, j) else { continue };
                        scrivi!(
                            out,
                            r#"<circle cx="{}" cy="{}" r="3" fill="{colore}"><title>{}</title></circle>"#,
                            C(d.x(j)),
                            C(d.y(v)),
                            E(&suggerimento(g, s, j, v))
                        );
                    }
                }
            }
        }
        TipoGrafico::Barre => {
            let gruppo = d.passo_x() * 0.8;
            let k = g.serie.len().max(1) as f64;
            let larga = gruppo / k;
            let spazio = if larga > 4.0 { 1.0 } else { 0.0 };
            let y0 = d.y(0.0);
            let sola = g.serie.len() == 1;
            for (i, (s, &colore)) in g.serie.iter().zip(colori).enumerate() {
                for j in 0..n {
                    let Some(v) = valore(s, j) else { continue };
                    let x = d.x(j) - gruppo / 2.0 + i as f64 * larga;
                    let y = d.y(v);
                    let colore = if sola && e_altri(&g.etichette[j]) {
                        GRIGIO_ALTRI
                    } else {
                        colore
                    };
                    scrivi!(
                        out,
                        r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{colore}"><title>{}</title></rect>"#,
                        C(x),
                        C(y.min(y0)),
                        C(larga - spazio),
                        C((y - y0).abs()),
                        E(&suggerimento(g, s, j, v))
                    );
                }
            }
        }
    }
    out.push_str("</g>");
}

/// The tooltip of a point or a bar: `label — series: value`.
fn suggerimento(g: &Grafico, s: &Serie, j: usize, v: f64) -> String {
    let etichetta = g.etichette.get(j).map_or("", |e| e.trim());
    if g.serie.len() > 1 {
        format!("{etichetta} — {}: {}", s.nome.trim(), valore_testo(v))
    } else {
        format!("{etichetta}: {}", valore_testo(v))
    }
}

/// The value of series `s` at label `j`, if it is a (finite) number; clipped to ±1e300.
fn valore(s: &Serie, j: usize) -> Option<f64> {
    s.valori
        .get(j)
        .copied()
        .filter(|v| v.is_finite())
        .map(|v| v.clamp(-LIMITE_VALORI, LIMITE_VALORI))
}

/// The smallest and largest finite values over the labels, if any.
pub(super) fn estremi(g: &Grafico) -> Option<(f64, f64)> {
    let n = g.etichette.len();
    g.serie
        .iter()
        .flat_map(|s| (0..n).filter_map(|j| valore(s, j)))
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((a, b)) => Some((v.min(a), v.max(b))),
        })
}

/// The colour of each series: the palette in order, cycling, "Altri" grey (without using up a
/// colour).
pub(super) fn colori(serie: &[Serie]) -> Vec<&'static str> {
    let mut prossimo = 0;
    serie
        .iter()
        .map(|s| {
            if e_altri(&s.nome) {
                GRIGIO_ALTRI
            } else {
                let c = TAVOLOZZA[prossimo % TAVOLOZZA.len()];
                prossimo += 1;
                c
            }
        })
        .collect()
}
