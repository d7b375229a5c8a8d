//! The legend: a swatch and a name per series, in rows, the ones that do not fit counted.

use super::testo::{larghezza_testo, tronca, C, E};
use super::{ALTEZZA_RIGA_LEGENDA, MAX_CAR_LEGENDA, PX_CARATTERE, TESTO, TESTO_TENUE};
use crate::monitoraggio::modello::Serie;
use std::fmt::Write as _;

/// The legend: a swatch and a name per series, in rows.
pub(super) struct Legenda {
    voci: Vec<VoceLegenda>,
    /// "e altre N serie", where it goes, when not every series fits.
    altre: Option<(f64, usize, String)>,
    pub(super) righe: usize,
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
    pub(super) fn disponi(
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

    pub(super) fn scrivi(&self, out: &mut String, y0: f64) {
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
