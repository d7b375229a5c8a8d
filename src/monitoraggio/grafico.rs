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

use super::modello::{migliaia, Grafico, Serie, TipoGrafico};
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
    let s = format!("{:.*}", decimali, v.abs());
    let (intera, frazione) = s.split_once('.').unwrap_or((&s, ""));
    let intera = migliaia(intera.parse::<i64>().unwrap_or(0));
    let segno = if v < 0.0 && s.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        "-"
    } else {
        ""
    };
    if frazione.is_empty() {
        format!("{segno}{intera}")
    } else {
        format!("{segno}{intera},{frazione}")
    }
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
mod tests {
    use super::*;
    use quick_xml::events::{BytesStart, Event};
    use quick_xml::{Reader, XmlVersion};

    /// An element of the parsed document.
    #[derive(Debug)]
    struct Nodo {
        nome: String,
        attributi: Vec<(String, String)>,
        /// The text directly inside, references resolved.
        testo: String,
        /// The `class` of the enclosing elements.
        classi: Vec<String>,
    }

    impl Nodo {
        fn attr(&self, nome: &str) -> Option<&str> {
            self.attributi
                .iter()
                .find(|(k, _)| k == nome)
                .map(|(_, v)| v.as_str())
        }

        fn num(&self, nome: &str) -> f64 {
            self.attr(nome)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{} without a numeric {nome}", self.nome))
        }

        fn dentro(&self, classe: &str) -> bool {
            self.classi.iter().any(|c| c == classe)
        }
    }

    /// Parses the document with quick-xml, asserting it is well formed (one `svg` root, every
    /// element closed), and returns its elements in document order.
    fn analizza(svg: &str) -> Vec<Nodo> {
        fn nodo(e: &BytesStart<'_>, classi: &[String]) -> Nodo {
            let attributi = e
                .attributes()
                .map(|a| {
                    let a = a.expect("well-formed attribute");
                    let v = a
                        .normalized_value(XmlVersion::Implicit1_0)
                        .expect("attribute value escaped");
                    (a.key.as_ref().to_owned(), v.into_owned())
                })
                .collect();
            Nodo {
                nome: e.name().as_ref().to_owned(),
                attributi,
                testo: String::new(),
                classi: classi.to_vec(),
            }
        }
        let mut reader = Reader::from_str(svg);
        let mut nodi: Vec<Nodo> = Vec::new();
        // Indices into `nodi` of the open elements.
        let mut aperti: Vec<usize> = Vec::new();
        let mut classi: Vec<String> = Vec::new();
        let mut radici = 0;
        loop {
            let evento = reader.read_event().unwrap_or_else(|e| {
                panic!("malformed at {}: {e}\n{svg}", reader.buffer_position())
            });
            match evento {
                Event::Start(e) => {
                    if aperti.is_empty() {
                        radici += 1;
                    }
                    let n = nodo(&e, &classi);
                    classi.push(n.attr("class").unwrap_or("").to_owned());
                    aperti.push(nodi.len());
                    nodi.push(n);
                }
                Event::Empty(e) => {
                    assert!(!aperti.is_empty(), "element outside the root");
                    nodi.push(nodo(&e, &classi));
                }
                Event::End(_) => {
                    aperti.pop().expect("balanced");
                    classi.pop();
                }
                Event::Text(t) => {
                    let t = t.xml10_content();
                    match aperti.last() {
                        Some(&i) => nodi[i].testo.push_str(&t),
                        None => assert!(t.trim().is_empty(), "text outside the root"),
                    }
                }
                Event::GeneralRef(r) => {
                    let c = match r.xml10_content().as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => r
                            .resolve_char_ref()
                            .expect("valid character reference")
                            .expect("only predefined entities"),
                    };
                    let i = *aperti.last().expect("reference inside the root");
                    nodi[i].testo.push(c);
                }
                Event::Eof => break,
                Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::CData(_) => {
                    panic!("unexpected {evento:?}")
                }
                Event::Comment(_) => {}
            }
        }
        assert!(aperti.is_empty(), "unclosed elements");
        assert_eq!(radici, 1);
        assert_eq!(nodi[0].nome, "svg");
        nodi
    }

    fn testi<'a>(nodi: &'a [Nodo], classe: &str) -> Vec<&'a Nodo> {
        nodi.iter()
            .filter(|n| n.nome == "text" && n.dentro(classe))
            .collect()
    }

    /// Every number in a coordinate attribute has at most one decimal digit.
    fn coordinate_brevi(nodi: &[Nodo]) {
        for n in nodi {
            for (k, v) in &n.attributi {
                if [
                    "x",
                    "y",
                    "x1",
                    "y1",
                    "x2",
                    "y2",
                    "cx",
                    "cy",
                    "width",
                    "height",
                    "points",
                    "transform",
                    "viewBox",
                ]
                .contains(&k.as_str())
                {
                    let numeri = v
                        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                        .filter(|t| !t.is_empty());
                    for t in numeri {
                        let decimali = t.split_once('.').map_or(0, |(_, d)| d.len());
                        assert!(decimali <= 1, "{k}=\"{v}\" in {}", n.nome);
                        assert!(t.parse::<f64>().is_ok(), "{k}=\"{v}\"");
                    }
                }
            }
        }
    }

    fn grafico(tipo: TipoGrafico, etichette: &[&str], serie: &[(&str, &[f64])]) -> Grafico {
        Grafico {
            tipo,
            titolo: "Chiamate per periodo".into(),
            asse_x: "Periodo (giorno)".into(),
            asse_y: "Chiamate".into(),
            etichette: etichette.iter().map(|&e| e.to_owned()).collect(),
            serie: serie
                .iter()
                .map(|&(nome, valori)| Serie {
                    nome: nome.into(),
                    valori: valori.to_vec(),
                })
                .collect(),
            soglia: None,
        }
    }

    fn etichette(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("P{i:04}")).collect()
    }

    fn tacche_y(nodi: &[Nodo]) -> Vec<String> {
        testi(nodi, "asse-y")
            .iter()
            .map(|n| n.testo.clone())
            .collect()
    }

    #[test]
    fn a_line_chart_with_three_series() {
        let g = grafico(
            TipoGrafico::Linee,
            &["01/05", "02/05", "03/05", "04/05"],
            &[
                ("Lombardia", &[10.0, 20.0, 87.0, 40.0]),
                ("Lazio", &[5.0, 0.0, 12.0, 30.0]),
                ("Altri", &[1.0, 2.0, 3.0, 4.0]),
            ],
        );
        let s = svg(&g, 640, 360);
        let nodi = analizza(&s);
        coordinate_brevi(&nodi);
        let radice = &nodi[0];
        assert_eq!(radice.attr("xmlns"), Some("http://www.w3.org/2000/svg"));
        assert_eq!(radice.attr("role"), Some("img"));
        assert_eq!(radice.attr("width"), Some("640"));
        assert_eq!(radice.attr("height"), Some("360"));
        assert_eq!(radice.attr("font-family"), Some("sans-serif"));
        let titolo = nodi.iter().find(|n| n.nome == "title").unwrap();
        assert_eq!(titolo.testo, "Chiamate per periodo");
        let desc = nodi.iter().find(|n| n.nome == "desc").unwrap();
        assert!(
            desc.testo
                .starts_with("Grafico a linee: 3 serie (Lombardia, Lazio, Altri), 4 periodi"),
            "{}",
            desc.testo
        );
        assert!(desc.testo.contains("massimo 87"), "{}", desc.testo);
        let tutti: Vec<&str> = nodi
            .iter()
            .filter(|n| n.nome == "text")
            .map(|n| n.testo.as_str())
            .collect();
        for atteso in ["Chiamate per periodo", "Periodo (giorno)", "Chiamate"] {
            assert!(tutti.contains(&atteso), "{atteso} missing in {tutti:?}");
        }
        let titolo = nodi
            .iter()
            .find(|n| n.nome == "text" && n.testo == "Chiamate per periodo")
            .unwrap();
        assert_eq!(titolo.attr("font-weight"), Some("bold"));
        let asse_y = nodi
            .iter()
            .find(|n| n.nome == "text" && n.testo == "Chiamate")
            .unwrap();
        assert!(asse_y.attr("transform").unwrap().starts_with("rotate(-90"));

        let linee: Vec<&Nodo> = nodi.iter().filter(|n| n.nome == "polyline").collect();
        assert_eq!(linee.len(), 3);
        let colori: Vec<&str> = linee.iter().map(|n| n.attr("stroke").unwrap()).collect();
        assert_eq!(colori, ["#0072B2", "#E69F00", "#999999"]);
        assert_eq!(linee[0].attr("points").unwrap().split(' ').count(), 4);
        // Markers, with a tooltip.
        let cerchi = nodi.iter().filter(|n| n.nome == "circle").count();
        assert_eq!(cerchi, 12);
        assert!(nodi
            .iter()
            .any(|n| n.nome == "title" && n.testo == "03/05 — Lombardia: 87"));
        // The legend, with the same colours.
        let legenda = testi(&nodi, "legenda");
        let nomi: Vec<&str> = legenda.iter().map(|n| n.testo.as_str()).collect();
        assert_eq!(nomi, ["Lombardia", "Lazio", "Altri"]);
        let campioni: Vec<&str> = nodi
            .iter()
            .filter(|n| n.nome == "rect" && n.dentro("legenda"))
            .map(|n| n.attr("fill").unwrap())
            .collect();
        assert_eq!(campioni, ["#0072B2", "#E69F00", "#999999"]);
        // The legend is under the X axis labels.
        let etichetta_x = testi(&nodi, "asse-x")[0].num("y");
        assert!(legenda.iter().all(|n| n.num("y") > etichetta_x));
        assert_eq!(testi(&nodi, "asse-x").len(), 4);
        assert_eq!(tacche_y(&nodi), ["0", "20", "40", "60", "80", "100"]);
    }

    #[test]
    fn altri_is_grey_and_does_not_use_up_a_colour() {
        let g = grafico(
            TipoGrafico::Linee,
            &["a", "b"],
            &[
                ("Altri", &[1.0, 2.0]),
                ("X", &[1.0, 2.0]),
                ("Y", &[3.0, 4.0]),
            ],
        );
        let nodi = analizza(&svg(&g, 500, 300));
        let colori: Vec<&str> = nodi
            .iter()
            .filter(|n| n.nome == "polyline")
            .map(|n| n.attr("stroke").unwrap())
            .collect();
        assert_eq!(colori, ["#999999", "#0072B2", "#E69F00"]);
        // The palette cycles, without the yellow.
        let nomi: Vec<String> = (0..9).map(|i| format!("S{i}")).collect();
        let serie: Vec<Serie> = nomi
            .iter()
            .map(|n| Serie {
                nome: n.clone(),
                valori: vec![1.0],
            })
            .collect();
        let c = super::colori(&serie);
        assert_eq!(c[7], "#0072B2");
        assert!(!c.contains(&"#F0E442"));
        // A single-series bar chart greys its "Altri" bar.
        let g = grafico(
            TipoGrafico::Barre,
            &["Roma", "Milano", "Altri"],
            &[("Chiamate", &[5.0, 4.0, 9.0])],
        );
        let nodi = analizza(&svg(&g, 500, 300));
        let barre: Vec<&str> = nodi
            .iter()
            .filter(|n| n.nome == "rect" && n.dentro("serie"))
            .map(|n| n.attr("fill").unwrap())
            .collect();
        assert_eq!(barre, ["#0072B2", "#0072B2", "#999999"]);
    }

    #[test]
    fn a_bar_chart_groups_its_series() {
        let g = grafico(
            TipoGrafico::Barre,
            &["Lombardia", "Lazio", "Campania", "Sicilia", "Veneto"],
            &[
                ("Chiamate", &[1200.0, 800.0, 0.0, 450.0, 300.0]),
                ("di cui rifiutate", &[30.0, 12.0, 0.0, 7.0, 0.0]),
            ],
        );
        let s = svg(&g, 640, 360);
        let nodi = analizza(&s);
        coordinate_brevi(&nodi);
        let barre: Vec<&Nodo> = nodi
            .iter()
            .filter(|n| n.nome == "rect" && n.dentro("serie"))
            .collect();
        assert_eq!(barre.len(), 10);
        assert!(nodi.iter().all(|n| n.nome != "polyline"));
        // Side by side: the second series' bar right of the first, the same baseline.
        let (a, b) = (barre[0], barre[5]);
        assert!(b.num("x") >= a.num("x") + a.num("width"));
        let base = |n: &Nodo| n.num("y") + n.num("height");
        assert!((base(a) - base(b)).abs() < 0.11);
        // A zero is a bar of no height at the baseline.
        assert_eq!(barre[2].num("height"), 0.0);
        assert!((barre[0].num("height") / barre[1].num("height") - 1.5).abs() < 0.01);
        assert_eq!(
            tacche_y(&nodi),
            ["0", "200", "400", "600", "800", "1.000", "1.200"]
        );
        assert!(desc(&nodi).starts_with("Grafico a barre: 2 serie"));
        assert!(desc(&nodi).contains("5 voci, massimo 1.200."));
        let etichette: Vec<&str> = testi(&nodi, "asse-x")
            .iter()
            .map(|n| n.testo.as_str())
            .collect();
        assert_eq!(etichette.first(), Some(&"Lombardia"));
        assert_eq!(etichette.last(), Some(&"Veneto"));
    }

    fn desc(nodi: &[Nodo]) -> &str {
        &nodi.iter().find(|n| n.nome == "desc").unwrap().testo
    }

    #[test]
    fn an_empty_chart_says_so() {
        let mut g = grafico(TipoGrafico::Linee, &[], &[("A", &[])]);
        let casi = [
            g.clone(),
            grafico(TipoGrafico::Barre, &["a", "b"], &[]),
            grafico(
                TipoGrafico::Linee,
                &["a", "b"],
                &[("A", &[f64::NAN, f64::NAN])],
            ),
            grafico(TipoGrafico::Barre, &["a"], &[("A", &[])]),
        ];
        for g in &casi {
            let nodi = analizza(&svg(g, 640, 360));
            let testi: Vec<&str> = nodi
                .iter()
                .filter(|n| n.nome == "text")
                .map(|n| n.testo.as_str())
                .collect();
            assert_eq!(testi, ["Chiamate per periodo", NESSUN_DATO]);
            let messaggio = nodi.iter().find(|n| n.testo == NESSUN_DATO).unwrap();
            assert_eq!(messaggio.num("x"), 320.0);
            assert_eq!(messaggio.num("y"), 180.0);
            assert_eq!(desc(&nodi), "Nessun dato nel periodo.");
            assert!(nodi
                .iter()
                .all(|n| n.nome != "polyline" && n.nome != "line"));
        }
        g.titolo.clear();
        let nodi = analizza(&svg(&g, 640, 360));
        assert_eq!(nodi.iter().filter(|n| n.nome == "text").count(), 1);
        assert_eq!(
            nodi.iter().find(|n| n.nome == "title").unwrap().testo,
            "Grafico"
        );
    }

    #[test]
    fn every_text_is_escaped() {
        let brutta = r#"<script>&amp;"'</svg>"#;
        let mut g = grafico(
            TipoGrafico::Barre,
            &[brutta, "10.0.0.1", "a\u{1}b\nc"],
            &[(brutta, &[1.0, 2.0, 3.0]), ("<&>", &[3.0, 2.0, 1.0])],
        );
        g.titolo = format!("Titolo {brutta}");
        g.asse_x = brutta.into();
        g.asse_y = "<&>\"'".into();
        g.soglia = Some((2.5, brutta.into()));
        for tipo in [TipoGrafico::Barre, TipoGrafico::Linee] {
            g.tipo = tipo;
            let s = svg(&g, 800, 400);
            assert!(!s.contains("<script"));
            let nodi = analizza(&s);
            coordinate_brevi(&nodi);
            let testi: Vec<&str> = nodi.iter().map(|n| n.testo.as_str()).collect();
            assert!(testi.contains(&format!("Titolo {brutta}").as_str()));
            assert!(testi.contains(&brutta), "{testi:?}");
            assert!(testi.contains(&"<&>\"'"));
            assert!(testi.contains(&"<&>"));
            assert!(testi.contains(&"a\u{FFFD}b c"), "{testi:?}");
            assert!(desc(&nodi).contains(brutta));
        }
    }

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

    #[test]
    fn italian_numbers() {
        assert_eq!(numero(1_234_567.0, 0), "1.234.567");
        assert_eq!(numero(0.5, 1), "0,5");
        assert_eq!(numero(-1500.25, 2), "-1.500,25");
        assert_eq!(numero(2e20, 0), "2e20");
        assert_eq!(numero(1.5e20, 0), "1,5e20");
        assert_eq!(valore_testo(87.0), "87");
        assert_eq!(valore_testo(12.5), "12,5");
        assert_eq!(valore_testo(1234.567), "1.234,57");
    }

    #[test]
    fn the_threshold_is_a_dashed_red_line_within_the_plot() {
        let mut g = grafico(
            TipoGrafico::Linee,
            &["a", "b", "c"],
            &[("Chiamate", &[10.0, 50.0, 30.0])],
        );
        g.soglia = Some((120.0, "Soglia di allarme".into()));
        let nodi = analizza(&svg(&g, 600, 300));
        let linea = nodi
            .iter()
            .find(|n| n.attr("class") == Some("soglia"))
            .expect("threshold line");
        assert_eq!(linea.attr("stroke"), Some(ROSSO_SOGLIA));
        assert!(linea.attr("stroke-dasharray").is_some());
        let griglia: Vec<f64> = nodi
            .iter()
            .filter(|n| n.nome == "line" && n.dentro("asse-y"))
            .map(|n| n.num("y1"))
            .collect();
        let (alto, basso) = (
            griglia.iter().copied().fold(f64::MAX, f64::min),
            griglia.iter().copied().fold(f64::MIN, f64::max),
        );
        let y = linea.num("y1");
        assert!(alto <= y && y <= basso, "{alto} {y} {basso}");
        assert_eq!(linea.num("y1"), linea.num("y2"));
        // The scale includes the threshold, above every value.
        assert_eq!(tacche_y(&nodi).last().unwrap(), "120");
        let etichetta = nodi
            .iter()
            .find(|n| n.testo == "Soglia di allarme")
            .unwrap();
        assert_eq!(etichetta.attr("text-anchor"), Some("end"));
        assert!(etichetta.num("x") > 500.0);
        assert!(desc(&nodi).ends_with("Soglia: 120 (Soglia di allarme)."));
        // A threshold that is not a number is ignored.
        g.soglia = Some((f64::NAN, "x".into()));
        let nodi = analizza(&svg(&g, 600, 300));
        assert!(nodi.iter().all(|n| n.attr("class") != Some("soglia")));
    }

    #[test]
    fn a_thousand_labels_are_thinned() {
        let e = etichette(1000);
        let valori: Vec<f64> = (0..1000).map(|i| f64::from(i % 37)).collect();
        for tipo in [TipoGrafico::Linee, TipoGrafico::Barre] {
            for larghezza in [240u32, 640, 1200] {
                let g = Grafico {
                    tipo,
                    titolo: "Mille".into(),
                    asse_x: "Periodo".into(),
                    asse_y: "Chiamate".into(),
                    etichette: e.clone(),
                    serie: vec![
                        Serie {
                            nome: "A".into(),
                            valori: valori.clone(),
                        },
                        Serie {
                            nome: "B".into(),
                            valori: valori.iter().map(|v| v * 2.0).collect(),
                        },
                    ],
                    soglia: None,
                };
                let s = svg(&g, larghezza, 400);
                let nodi = analizza(&s);
                coordinate_brevi(&nodi);
                let x = testi(&nodi, "asse-x");
                assert!(
                    x.len() as f64 <= f64::from(larghezza) / 20.0,
                    "{tipo:?} {larghezza}: {} labels",
                    x.len()
                );
                assert_eq!(x.first().unwrap().testo, "P0000");
                assert_eq!(x.last().unwrap().testo, "P0999");
                // Rotated, evenly spaced far enough apart.
                assert!(x[0].attr("transform").unwrap().starts_with("rotate(-45"));
                let xs: Vec<f64> = x.iter().map(|n| n.num("x")).collect();
                assert!(xs.windows(2).all(|w| w[1] - w[0] >= PASSO_RUOTATE - 0.2));
                if tipo == TipoGrafico::Linee {
                    assert!(nodi.iter().all(|n| n.nome != "circle"));
                } else {
                    let barre = nodi
                        .iter()
                        .filter(|n| n.nome == "rect" && n.dentro("serie"))
                        .count();
                    assert_eq!(barre, 2000);
                }
            }
        }
    }

    #[test]
    fn flat_labels_do_not_overlap() {
        for n in [1usize, 2, 7, 31, 90] {
            let e: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
            let g = Grafico {
                tipo: TipoGrafico::Linee,
                titolo: String::new(),
                asse_x: String::new(),
                asse_y: String::new(),
                etichette: e.clone(),
                serie: vec![Serie {
                    nome: "A".into(),
                    valori: vec![3.0; n],
                }],
                soglia: None,
            };
            let nodi = analizza(&svg(&g, 400, 250));
            let x = testi(&nodi, "asse-x");
            assert_eq!(x.first().unwrap().testo, "1");
            assert_eq!(x.last().unwrap().testo, n.to_string());
            assert!(x.iter().all(|n| n.attr("transform").is_none()));
            for w in x.windows(2) {
                let spazio = w[1].num("x") - w[0].num("x");
                let serve = (larghezza_testo(&w[0].testo) + larghezza_testo(&w[1].testo)) / 2.0;
                assert!(spazio >= serve, "{n}: {} {}", w[0].testo, w[1].testo);
            }
            // No title, no axis titles, no legend for a single series.
            assert_eq!(
                nodi.iter()
                    .filter(|n| n.nome == "text" && !n.dentro("asse-x") && !n.dentro("asse-y"))
                    .count(),
                0
            );
        }
    }

    #[test]
    fn long_labels_are_rotated_and_shortened() {
        let lunga = "Azienda Sanitaria Locale Roma 1 — Presidio Ospedaliero";
        let g = grafico(
            TipoGrafico::Barre,
            &[lunga, "Breve", lunga],
            &[("Chiamate", &[1.0, 2.0, 3.0])],
        );
        let nodi = analizza(&svg(&g, 400, 300));
        let x = testi(&nodi, "asse-x");
        assert_eq!(x.len(), 3);
        assert!(x[0].attr("transform").unwrap().starts_with("rotate(-45"));
        assert_eq!(x[0].testo.chars().count(), MAX_CAR_RUOTATA);
        assert!(x[0].testo.ends_with('…'));
        assert_eq!(x[1].testo, "Breve");
        assert!(nodi.iter().any(|n| n.nome == "title" && n.testo == lunga));
        assert!(x[0].num("x") - x[0].testo.chars().count() as f64 * PX_CARATTERE * 0.71 > 0.0);
    }

    #[test]
    fn gaps_and_odd_values() {
        let g = grafico(
            TipoGrafico::Linee,
            &["a", "b", "c", "d", "e", "f"],
            &[
                ("A", &[1.0, f64::NAN, 3.0, 4.0, f64::INFINITY, 2.0]),
                ("B", &[0.0, 0.0]),
            ],
        );
        let nodi = analizza(&svg(&g, 600, 300));
        coordinate_brevi(&nodi);
        // A: [1] [3, 4] [2]: one polyline, the isolated points as markers; B: one polyline.
        let linee: Vec<&Nodo> = nodi.iter().filter(|n| n.nome == "polyline").collect();
        assert_eq!(linee.len(), 2);
        assert_eq!(linee[0].attr("points").unwrap().split(' ').count(), 2);
        assert_eq!(nodi.iter().filter(|n| n.nome == "circle").count(), 4 + 2);
        assert!(desc(&nodi).contains("massimo 4."));

        // Isolated points in a long series still show.
        let mut valori = vec![f64::NAN; 100];
        valori[50] = 7.0;
        let e = etichette(100);
        let g = Grafico {
            etichette: e,
            serie: vec![Serie {
                nome: "A".into(),
                valori,
            }],
            ..grafico(TipoGrafico::Linee, &[], &[])
        };
        let nodi = analizza(&svg(&g, 600, 300));
        assert_eq!(nodi.iter().filter(|n| n.nome == "circle").count(), 1);

        // All zero: a flat line at the bottom of a 0–5 scale.
        let g = grafico(TipoGrafico::Barre, &["a", "b"], &[("A", &[0.0, 0.0])]);
        let nodi = analizza(&svg(&g, 600, 300));
        assert_eq!(tacche_y(&nodi), ["0", "1", "2", "3", "4", "5"]);

        // A single label: one point or bar, its label once.
        for tipo in [TipoGrafico::Linee, TipoGrafico::Barre] {
            let g = grafico(tipo, &["Giugno 2024"], &[("A", &[42.0])]);
            let nodi = analizza(&svg(&g, 400, 250));
            let x = testi(&nodi, "asse-x");
            assert_eq!(x.len(), 1);
            assert_eq!(x[0].testo, "Giugno 2024");
            let segni = nodi
                .iter()
                .filter(|n| (n.nome == "rect" || n.nome == "circle") && n.dentro("serie"))
                .count();
            assert_eq!(segni, 1);
            assert!(desc(&nodi).contains(", 1 "), "{}", desc(&nodi));
        }

        // Huge, infinite and negative values, silly sizes: no panic, well formed.
        let strani: &[f64] = &[f64::MAX, -f64::MAX, f64::NEG_INFINITY, 1e300, -5.0, 5e-324];
        for tipo in [TipoGrafico::Linee, TipoGrafico::Barre] {
            let mut g = grafico(tipo, &["a", "b", "c", "d", "e", "f"], &[("A", strani)]);
            g.soglia = Some((f64::MAX, "max".into()));
            for (w, h) in [(0, 0), (1, 1), (u32::MAX, u32::MAX), (240, 160)] {
                let nodi = analizza(&svg(&g, w, h));
                coordinate_brevi(&nodi);
            }
        }
    }

    #[test]
    fn the_legend_wraps_into_rows() {
        let nomi: Vec<String> = (0..12).map(|i| format!("Regione numero {i}")).collect();
        let serie: Vec<Serie> = nomi
            .iter()
            .map(|n| Serie {
                nome: n.clone(),
                valori: vec![1.0, 2.0],
            })
            .collect();
        let g = Grafico {
            serie: serie.clone(),
            ..grafico(TipoGrafico::Linee, &["a", "b"], &[])
        };
        let nodi = analizza(&svg(&g, 640, 600));
        let legenda = testi(&nodi, "legenda");
        assert_eq!(legenda.len(), 12);
        let mut righe: Vec<i64> = legenda.iter().map(|n| n.num("y") as i64).collect();
        righe.dedup();
        assert!(righe.len() > 1);
        assert!(legenda
            .iter()
            .all(|n| n.num("x") + larghezza_testo(&n.testo) <= 640.0));
        // Too many for the room: the last ones are counted instead.
        let molte: Vec<Serie> = (0..200)
            .map(|i| Serie {
                nome: format!("Chiamante {i}"),
                valori: vec![1.0, 2.0],
            })
            .collect();
        let g = Grafico {
            serie: molte,
            ..grafico(TipoGrafico::Barre, &["a", "b"], &[])
        };
        let nodi = analizza(&svg(&g, 640, 360));
        let legenda = testi(&nodi, "legenda");
        let ultima = legenda.last().unwrap();
        assert!(ultima.testo.starts_with("e altre "), "{}", ultima.testo);
        let altre: usize = ultima.testo["e altre ".len()..]
            .trim_end_matches(" serie")
            .parse()
            .unwrap();
        assert_eq!(legenda.len() - 1 + altre, 200);
        assert!(legenda.iter().all(|n| n.num("y") <= 360.0));
    }
}
