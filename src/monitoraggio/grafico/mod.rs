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

use super::modello::Grafico;
use descrizione::descrizione;
use disposizione::disegna;
use serie::estremi;
use std::fmt::Write as _;
use testo::{tronca, C, E};

/// Appends formatted text to a `String` (which cannot fail).
macro_rules! scrivi {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

mod area;
mod descrizione;
mod disposizione;
mod legenda;
mod scala;
mod serie;
mod testo;

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

#[cfg(test)]
mod tests;
