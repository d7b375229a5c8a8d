//! Server-side SVG charts for the reports: hand-written, deterministic, without JavaScript.
//!
//! [`svg`] draws a [`Grafico`] — lines over periods, or bars (grouped when there are several
//! series) over categories — as a standalone SVG document: "nice" Y ticks in Italian number
//! format over light grid lines, X labels thinned so that they never overlap (rotated when they
//! are long), axis titles, a legend, an optional dashed threshold line and the accessibility
//! elements (`role="img"`, `<title>`, `<desc>`). There are no font metrics on the server, so text
//! widths are estimated (about 7 px per character at 12 px).
//!
//! Every text comes from the caller, often from the database (caller names, IP addresses), and
//! is XML-escaped; characters XML cannot carry are replaced. No input makes the document
//! malformed or the function panic: NaN and infinite values are gaps, huge values are clipped.

use super::modello::{Grafico, Serie, TipoGrafico};
use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// Appends formatted text to a `String` (which cannot fail).
macro_rules! scrivi {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

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
const ROSSO_SOGLIA: &str = "#CC0000";
const SFONDO: &str = "#FFFFFF";
const TESTO: &str = "#222222";
const TESTO_TENUE: &str = "#444444";
const ASSE: &str = "#666666";
const GRIGLIA: &str = "#E3E3E3";
const NESSUN_DATO: &str = "Nessun dato nel periodo";

/// The estimated width of a character at 12 px.
const PX_CARATTERE: f64 = 7.0;
/// Line charts get a marker on every point up to this many points.
const MAX_MARCATORI: usize = 60;
/// The size of the document is clamped to these bounds (px).
const MIN_LARGHEZZA: u32 = 240;
const MIN_ALTEZZA: u32 = 160;
const MAX_LATO: u32 = 10_000;
/// Rotated X labels longer than this are shortened (the whole label is in their `<title>`).
const MAX_CAR_RUOTATA: usize = 20;
const MAX_CAR_LEGENDA: usize = 48;
/// Labels at least this long are rotated when they do not all fit horizontally.
const MIN_CAR_RUOTATA: usize = 5;
/// The horizontal room a rotated label needs (12 px text at −45°, plus a gap).
const PASSO_RUOTATE: f64 = 22.0;
const ALTEZZA_RIGA_LEGENDA: f64 = 20.0;
/// Values beyond ± this are clipped to it, so that no computation overflows.
const LIMITE_VALORI: f64 = 1e300;

/// The chart as a standalone SVG document (with `xmlns`, without XML declaration), `larghezza`
/// × `altezza` px, each clamped to 240–10 000 × 160–10 000.
///
/// A chart without labels, without series or without a single finite value shows its title
/// and "Nessun dato nel periodo".
pub fn svg(g: &Grafico, larghezza: u32, altezza: u32) -> String {
    let w = f64::from(larghezza.clamp(MIN_LARGHEZZA, MAX_LATO));
    let h = f64::from(altezza.clamp(MIN_ALTEZZA, MAX_LATO));
    let estremi = estremi(g);
    let mut out = String::with_capacity(8 * 1024);
    let titolo = if g.titolo.trim().is_empty() {
        "Grafico"
    } else {
        g.titolo.as_str()
    };
    scrivi!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" role="img" font-family="sans-serif">"#,
        C(w),
        C(h),
        C(w),
        C(h)
    );
    scrivi!(
        out,
        "<title>{}</title><desc>{}</desc>",
        E(titolo),
        E(&descrizione(g, estremi))
    );
    scrivi!(
        out,
        r#"<rect width="{}" height="{}" fill="{SFONDO}"/>"#,
        C(w),
        C(h)
    );
    if !g.titolo.trim().is_empty() {
        let max = ((w - 16.0) / 9.0).max(1.0) as usize;
        scrivi!(
            out,
            r#"<text x="{}" y="26" font-size="16" font-weight="bold" text-anchor="middle" fill="{TESTO}">{}</text>"#,
            C(w / 2.0),
            E(&tronca(g.titolo.trim(), max))
        );
    }
    match estremi {
        Some((min, max)) if !g.etichette.is_empty() && !g.serie.is_empty() => {
            disegna(&mut out, g, w, h, min, max);
        }
        _ => {
            scrivi!(
                out,
                r#"<text x="{}" y="{}" font-size="14" text-anchor="middle" fill="{TESTO_TENUE}">{NESSUN_DATO}</text>"#,
                C(w / 2.0),
                C(h / 2.0)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Where things go: the plot area and what is around it.
struct Disposizione {
    /// The plot area.
    sinistra: f64,
    destra: f64,
    alto: f64,
    basso: f64,
    n: usize,
    tipo: TipoGrafico,
    scala: Scala,
}

impl Disposizione {
    fn larghezza(&self) -> f64 {
        self.destra - self.sinistra
    }

    /// The centre of label `j`: evenly spaced points for lines, the middle of a slot for bars.
    fn x(&self, j: usize) -> f64 {
        let pw = self.larghezza();
        match self.tipo {
            TipoGrafico::Linee if self.n <= 1 => self.sinistra + pw / 2.0,
            TipoGrafico::Linee => self.sinistra + j as f64 * pw / (self.n - 1) as f64,
            TipoGrafico::Barre => self.sinistra + (j as f64 + 0.5) * pw / self.n.max(1) as f64,
        }
    }

    /// The distance between two consecutive labels.
    fn passo_x(&self) -> f64 {
        passo_x(self.tipo, self.n, self.larghezza())
    }

    fn y(&self, v: f64) -> f64 {
        let Scala { min, max, .. } = self.scala;
        let v = if v.is_finite() {
            v.clamp(min, max)
        } else {
            min
        };
        self.alto + (max - v) / (max - min) * (self.basso - self.alto)
    }
}

fn passo_x(tipo: TipoGrafico, n: usize, larghezza: f64) -> f64 {
    match tipo {
        TipoGrafico::Linee if n > 1 => larghezza / (n - 1) as f64,
        TipoGrafico::Linee => larghezza,
        TipoGrafico::Barre => larghezza / n.max(1) as f64,
    }
}

/// Draws the axes, the series, the threshold and the legend of a chart with data.
fn disegna(out: &mut String, g: &Grafico, w: f64, h: f64, min: f64, max: f64) {
    let n = g.etichette.len();
    let soglia = g
        .soglia
        .as_ref()
        .filter(|(v, _)| v.is_finite())
        .map(|(v, s)| (v.clamp(-LIMITE_VALORI, LIMITE_VALORI), s.as_str()));
    let (min, max) = match soglia {
        Some((s, _)) => (min.min(s), max.max(s)),
        None => (min, max),
    };
    let scala = Scala::nuova(min, max);
    let tacche: Vec<String> = scala.tacche().map(|t| numero(t, scala.decimali)).collect();
    let colori = colori(&g.serie);

    // Horizontal room: the Y axis title, the tick labels, a small margin on the right.
    let asse_y = g.asse_y.trim();
    let larghezza_tacche = tacche
        .iter()
        .map(|t| larghezza_testo(t))
        .fold(0.0, f64::max);
    let mut sinistra = 10.0 + if asse_y.is_empty() { 0.0 } else { 22.0 } + larghezza_tacche;
    let destra = w - 20.0;

    // The X labels: flat when they all fit (or are short), otherwise rotated by −45°.
    let max_car = g
        .etichette
        .iter()
        .map(|e| e.chars().count())
        .max()
        .unwrap_or(0);
    let serve_piatte = max_car as f64 * PX_CARATTERE + 10.0;
    let ruota = serve_piatte > passo_x(g.tipo, n, destra - sinistra) && max_car >= MIN_CAR_RUOTATA;
    let etichette: Vec<(Cow<str>, bool)> = g
        .etichette
        .iter()
        .map(|e| {
            let e = e.trim();
            if ruota {
                let t = tronca(e, MAX_CAR_RUOTATA);
                let accorciata = matches!(t, Cow::Owned(_));
                (t, accorciata)
            } else {
                (Cow::Borrowed(e), false)
            }
        })
        .collect();
    let altezza_etichette = if ruota {
        let piu_lunga = etichette
            .iter()
            .map(|(e, _)| larghezza_testo(e))
            .fold(0.0, f64::max);
        // The first label hangs to the left of its point: keep it inside the document.
        let prima = etichette.first().map_or(0.0, |(e, _)| larghezza_testo(e));
        sinistra = sinistra.max((prima * 0.71 + 6.0).min(w * 0.4));
        (piu_lunga * 0.71 + 20.0).min(h * 0.3)
    } else {
        24.0
    };
    let asse_x = g.asse_x.trim();
    let altezza_asse_x = if asse_x.is_empty() { 0.0 } else { 20.0 };
    let alto = if g.titolo.trim().is_empty() {
        20.0
    } else {
        44.0
    };

    // The legend, under the axis title, in as many rows as leave the plot 60 px (≤ 1/4 of h).
    let legenda = if g.serie.len() > 1 {
        let libero = h - alto - 60.0 - altezza_etichette - altezza_asse_x - 14.0;
        let righe = (libero.min(h / 4.0) / ALTEZZA_RIGA_LEGENDA)
            .floor()
            .max(1.0) as usize;
        let x0 = sinistra.min(w * 0.3);
        Some(Legenda::disponi(&g.serie, &colori, x0, w - 8.0 - x0, righe))
    } else {
        None
    };
    let altezza_legenda = legenda
        .as_ref()
        .map_or(0.0, |l| l.righe as f64 * ALTEZZA_RIGA_LEGENDA + 6.0);
    let basso = (h - altezza_etichette - altezza_asse_x - altezza_legenda - 8.0).max(alto + 20.0);
    let d = Disposizione {
        sinistra,
        destra,
        alto,
        basso,
        n,
        tipo: g.tipo,
        scala,
    };

    // Grid and Y axis.
    out.push_str(r#"<g class="asse-y" font-size="12">"#);
    for (t, testo) in d.scala.tacche().zip(&tacche) {
        let y = d.y(t);
        scrivi!(
            out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{GRIGLIA}" stroke-width="1"/>"#,
            C(d.sinistra),
            C(y),
            C(d.destra),
            C(y)
        );
        scrivi!(
            out,
            r#"<text x="{}" y="{}" dy="0.35em" text-anchor="end" fill="{TESTO_TENUE}">{}</text>"#,
            C(d.sinistra - 6.0),
            C(y),
            E(testo)
        );
    }
    out.push_str("</g>");
    if !asse_y.is_empty() {
        let cy = (d.alto + d.basso) / 2.0;
        let max = ((d.basso - d.alto) / 7.5).max(1.0) as usize;
        scrivi!(
            out,
            r#"<text x="18" y="{}" transform="rotate(-90 18 {})" font-size="13" text-anchor="middle" fill="{TESTO}">{}</text>"#,
            C(cy),
            C(cy),
            E(&tronca(asse_y, max))
        );
    }

    serie(out, g, &d, &colori);

    // Axes lines, over the series.
    let y0 = d.y(0.0);
    scrivi!(
        out,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{ASSE}" stroke-width="1"/>"#,
        C(d.sinistra),
        C(d.alto),
        C(d.sinistra),
        C(d.basso)
    );
    scrivi!(
        out,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{ASSE}" stroke-width="1"/>"#,
        C(d.sinistra),
        C(y0),
        C(d.destra),
        C(y0)
    );

    if let Some((valore, testo)) = soglia {
        let y = d.y(valore);
        scrivi!(
            out,
            r#"<line class="soglia" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{ROSSO_SOGLIA}" stroke-width="1.5" stroke-dasharray="6 4"/>"#,
            C(d.sinistra),
            C(y),
            C(d.destra),
            C(y)
        );
        let testo = testo.trim();
        if !testo.is_empty() {
            // Above the line, or under it when it runs along the top of the plot.
            let yt = if y - d.alto < 16.0 { y + 15.0 } else { y - 5.0 };
            let max = (d.larghezza() / PX_CARATTERE).max(1.0) as usize;
            scrivi!(
                out,
                r#"<text x="{}" y="{}" font-size="12" text-anchor="end" fill="{ROSSO_SOGLIA}">{}</text>"#,
                C(d.destra - 4.0),
                C(yt),
                E(&tronca(testo, max))
            );
        }
    }

    // X axis labels.
    out.push_str(r#"<g class="asse-x" font-size="12">"#);
    for j in mostrate(n, d.passo_x(), serve_piatte, ruota) {
        let Some((testo, accorciata)) = etichette.get(j) else {
            continue;
        };
        let x = d.x(j);
        scrivi!(
            out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{ASSE}" stroke-width="1"/>"#,
            C(x),
            C(d.basso),
            C(x),
            C(d.basso + 4.0)
        );
        if ruota {
            let (xt, yt) = (x + 3.0, d.basso + 12.0);
            scrivi!(
                out,
                r#"<text x="{}" y="{}" transform="rotate(-45 {} {})" text-anchor="end" fill="{TESTO_TENUE}">{}"#,
                C(xt),
                C(yt),
                C(xt),
                C(yt),
                E(testo)
            );
            if *accorciata {
                scrivi!(out, "<title>{}</title>", E(g.etichette[j].trim()));
            }
            out.push_str("</text>");
        } else {
            // Keep the label inside the document (the first and last points of a line chart).
            let mezza = larghezza_testo(testo) / 2.0;
            let xt = x.min(w - mezza - 2.0).max(mezza + 2.0);
            scrivi!(
                out,
                r#"<text x="{}" y="{}" text-anchor="middle" fill="{TESTO_TENUE}">{}</text>"#,
                C(xt),
                C(d.basso + 18.0),
                E(testo)
            );
        }
    }
    out.push_str("</g>");
    if !asse_x.is_empty() {
        let max = (d.larghezza() / 7.5).max(1.0) as usize;
        scrivi!(
            out,
            r#"<text x="{}" y="{}" font-size="13" text-anchor="middle" fill="{TESTO}">{}</text>"#,
            C((d.sinistra + d.destra) / 2.0),
            C(d.basso + altezza_etichette + 14.0),
            E(&tronca(asse_x, max))
        );
    }

    if let Some(l) = legenda {
        l.scrivi(out, d.basso + altezza_etichette + altezza_asse_x + 8.0);
    }
}

/// The lines or the bars.
fn serie(out: &mut String, g: &Grafico, d: &Disposizione, colori: &[&'static str]) {
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
fn estremi(g: &Grafico) -> Option<(f64, f64)> {
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
fn colori(serie: &[Serie]) -> Vec<&'static str> {
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

/// The `<desc>`: what the chart shows, in words.
fn descrizione(g: &Grafico, estremi: Option<(f64, f64)>) -> String {
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

/// The Y scale: from a multiple of the step at or under 0 (0 unless a value is negative) to the
/// first multiple at or over the largest value, the step 1, 2 or 5 × 10^k, 4 to 7 ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scala {
    min: f64,
    max: f64,
    passo: f64,
    /// How many decimal digits the tick labels need (0 for steps ≥ 1).
    decimali: usize,
}

impl Scala {
    fn nuova(min: f64, max: f64) -> Scala {
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
    fn tacche(&self) -> impl Iterator<Item = f64> + '_ {
        let da = (self.min / self.passo).round() as i64;
        let a = (self.max / self.passo).round() as i64;
        (da..=a).map(move |i| i as f64 * self.passo)
    }
}

/// Which labels to show: every k-th so that neighbours do not overlap, always the first and the
/// last (dropping the k-th before the last when it would be too close).
fn mostrate(n: usize, passo: f64, serve_piatte: f64, ruota: bool) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let serve = if ruota { PASSO_RUOTATE } else { serve_piatte };
    let k = if passo > 0.0 {
        ((serve / passo).ceil() as usize).max(1)
    } else {
        n
    };
    let mut scelte: Vec<usize> = (0..n).step_by(k).collect();
    if scelte.last() != Some(&(n - 1)) {
        if scelte.len() > 1 {
            scelte.pop();
        }
        scelte.push(n - 1);
    }
    scelte
}

/// The legend: a swatch and a name per series, in rows.
struct Legenda {
    voci: Vec<VoceLegenda>,
    /// "e altre N serie", where it goes, when not every series fits.
    altre: Option<(f64, usize, String)>,
    righe: usize,
}

struct VoceLegenda {
    x: f64,
    riga: usize,
    larghezza: f64,
    nome: String,
    colore: &'static str,
}

impl Legenda {
    /// Lays the series out in rows of `larghezza` px from `x0`, at most `max_righe` rows.
    fn disponi(
        serie: &[Serie],
        colori: &[&'static str],
        x0: f64,
        larghezza: f64,
        max_righe: usize,
    ) -> Legenda {
        let limite = x0 + larghezza;
        let max_car = ((larghezza - 18.0) / PX_CARATTERE).clamp(1.0, MAX_CAR_LEGENDA as f64);
        let mut voci: Vec<VoceLegenda> = Vec::new();
        let (mut x, mut riga) = (x0, 0);
        let mut escluse = 0;
        for (i, (s, &colore)) in serie.iter().zip(colori).enumerate() {
            let nome = tronca(s.nome.trim(), max_car as usize).into_owned();
            let larga = 18.0 + larghezza_testo(&nome);
            if x > x0 && x + larga > limite {
                riga += 1;
                x = x0;
            }
            if riga >= max_righe {
                escluse = serie.len() - i;
                break;
            }
            voci.push(VoceLegenda {
                x,
                riga,
                larghezza: larga,
                nome,
                colore,
            });
            x += larga + 16.0;
        }
        let altre = if escluse > 0 {
            let ultima = max_righe.saturating_sub(1);
            loop {
                let testo = altre_serie(escluse);
                let fine = voci
                    .last()
                    .filter(|v| v.riga == ultima)
                    .map_or(x0, |v| v.x + v.larghezza + 16.0);
                if fine + larghezza_testo(&testo) <= limite
                    || voci.last().is_none_or(|v| v.riga != ultima)
                {
                    break Some((fine, ultima, testo));
                }
                voci.pop();
                escluse += 1;
            }
        } else {
            None
        };
        let righe = voci.last().map_or(0, |v| v.riga + 1).max(1);
        Legenda { voci, altre, righe }
    }

    fn scrivi(&self, out: &mut String, y0: f64) {
        out.push_str(r#"<g class="legenda" font-size="12">"#);
        for v in &self.voci {
            let y = y0 + v.riga as f64 * ALTEZZA_RIGA_LEGENDA;
            scrivi!(
                out,
                r#"<rect x="{}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}" fill="{TESTO}">{}</text>"#,
                C(v.x),
                C(y + 1.0),
                v.colore,
                C(v.x + 18.0),
                C(y + 11.0),
                E(&v.nome)
            );
        }
        if let Some((x, riga, testo)) = &self.altre {
            scrivi!(
                out,
                r#"<text x="{}" y="{}" fill="{TESTO_TENUE}">{}</text>"#,
                C(*x),
                C(y0 + *riga as f64 * ALTEZZA_RIGA_LEGENDA + 11.0),
                E(testo)
            );
        }
        out.push_str("</g>");
    }
}

fn altre_serie(n: usize) -> String {
    if n == 1 {
        "e un’altra serie".to_owned()
    } else {
        format!("e altre {n} serie")
    }
}

/// The estimated width of a 12 px text.
fn larghezza_testo(s: &str) -> f64 {
    s.chars().count() as f64 * PX_CARATTERE
}

/// `s` cut to `max` characters, the last one an ellipsis.
fn tronca(s: &str, max: usize) -> Cow<'_, str> {
    if s.chars().count() <= max {
        return Cow::Borrowed(s);
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    Cow::Owned(t)
}

/// A number the Italian way with `decimali` decimal digits (`1.500`, `0,2`; zero is `0`);
/// from 10^15 on, `1,5e20`.
fn numero(v: f64, decimali: usize) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    if v.abs() >= 1e15 {
        return format!("{v:.1e}").replace(".0e", "e").replace('.', ",");
    }
    super::modello::Cella::decimale(v, u8::try_from(decimali).unwrap_or(u8::MAX)).italiano()
}

/// A value in a tooltip or in the description: integers as such, others with up to 2 decimals.
fn valore_testo(v: f64) -> String {
    if v.fract() == 0.0 {
        return numero(v, 0);
    }
    let s = numero(v, 2);
    if s.contains(',') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches(',').to_owned()
    } else {
        s
    }
}

/// A coordinate, with at most one decimal digit.
struct C(f64);

impl fmt::Display for C {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = if self.0.is_finite() {
            self.0.clamp(-1e7, 1e7)
        } else {
            0.0
        };
        let r = (x * 10.0).round() / 10.0;
        if r.fract() == 0.0 {
            write!(f, "{}", r as i64)
        } else {
            write!(f, "{r:.1}")
        }
    }
}

/// A text, XML-escaped, with the characters XML 1.0 cannot carry replaced (line breaks and tabs
/// by a space, other control characters by U+FFFD).
struct E<'a>(&'a str);

impl fmt::Display for E<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&apos;")?,
                '\t' | '\n' | '\r' => f.write_char(' ')?,
                '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => f.write_char('\u{FFFD}')?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "grafico_tests.rs"]
mod tests;
