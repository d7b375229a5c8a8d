//! The layout of a chart with data: the plot area, the Y grid and axis, the X labels (thinned, rotated when long), the threshold and where the legend goes.

use super::area::{passo_x, Disposizione};
use super::legenda::Legenda;
use super::scala::Scala;
use super::serie::{colori, serie};
use super::testo::{larghezza_testo, numero, tronca, C, E};
use super::{
    ALTEZZA_RIGA_LEGENDA, ASSE, GRIGLIA, LIMITE_VALORI, MAX_CAR_RUOTATA, MIN_CAR_RUOTATA,
    PASSO_RUOTATE, PX_CARATTERE, ROSSO_SOGLIA, TESTO, TESTO_TENUE,
};
use crate::monitoraggio::modello::Grafico;
use std::borrow::Cow;
use std::fmt::Write as _;

/// Draws the axes, the series, the threshold and the legend of a chart with data.
pub(super) fn disegna(out: &mut String, g: &Grafico, w: f64, h: f64, min: f64, max: f64) {
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

#[cfg(test)]
#[path = "disposizione_tests.rs"]
mod tests;
