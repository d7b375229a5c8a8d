//! What a report is, whoever shows it: sections, each a chart and a table of the same numbers.
//! The portal renders them as HTML with an SVG chart, the CLI as text, both export CSV and JSON.

use serde::Serialize;

/// A whole report: a title that says what and when, and one or more sections.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// `traffico`, `vaccinazioni` or `anomalie`.
    pub tipo: &'static str,
    pub titolo: String,
    /// The period shown, as dates (`AAAA-MM-GG`, both included) and in words.
    pub da: String,
    pub a: String,
    pub periodo: String,
    /// Short notes under the title (e.g. which aggregates were read, thresholds in force).
    pub note: Vec<String>,
    pub sezioni: Vec<Sezione>,
}

/// A chart above a table of the same numbers.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sezione {
    /// Stable, for links and exports (`serie`, `distribuzione`, `regioni`, `ip`…).
    pub id: &'static str,
    pub titolo: String,
    pub grafico: Option<Grafico>,
    pub tabella: Tabella,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TipoGrafico {
    /// A time series: one line per series over the `etichette` (periods).
    Linee,
    /// A distribution: one bar per label (grouped when there is more than one series).
    Barre,
}

/// The numbers of a chart: `serie[i].valori[j]` is the value of series i at label j.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Grafico {
    pub tipo: TipoGrafico,
    pub titolo: String,
    pub asse_x: String,
    pub asse_y: String,
    pub etichette: Vec<String>,
    pub serie: Vec<Serie>,
    /// A horizontal reference line (e.g. a threshold), with its label.
    pub soglia: Option<(f64, String)>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Serie {
    pub nome: String,
    pub valori: Vec<f64>,
}

/// A table: a header row and rows of cells.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tabella {
    pub intestazione: Vec<String>,
    pub righe: Vec<Vec<Cella>>,
}

/// One cell: how it is written depends on where (a page, CSV for Italian spreadsheets, JSON).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Cella {
    Testo(String),
    Intero(i64),
    /// A decimal number shown with `cifre` decimal digits.
    Decimale {
        valore: f64,
        cifre: u8,
    },
    /// A text that links to another view (e.g. a flag to the traffic that raised it).
    Link {
        testo: String,
        href: String,
    },
}

impl Cella {
    pub fn testo(s: impl Into<String>) -> Cella {
        Cella::Testo(s.into())
    }

    pub fn decimale(valore: f64, cifre: u8) -> Cella {
        Cella::Decimale { valore, cifre }
    }

    /// The cell as an Italian reader writes it: `1.234.567`, `12,5`.
    pub fn italiano(&self) -> String {
        match self {
            Cella::Testo(s) | Cella::Link { testo: s, .. } => s.clone(),
            Cella::Intero(n) => migliaia(*n),
            Cella::Decimale { valore, cifre } => decimale_italiano(*valore, *cifre, true),
        }
    }

    /// The cell in a CSV for Italian spreadsheets: numbers without thousands separators and
    /// with a decimal comma, so that they are read as numbers.
    pub fn csv(&self) -> String {
        match self {
            Cella::Testo(s) | Cella::Link { testo: s, .. } => s.clone(),
            Cella::Intero(n) => n.to_string(),
            Cella::Decimale { valore, cifre } => decimale_italiano(*valore, *cifre, false),
        }
    }

    /// Whether the cell holds a number (right-aligned in tables).
    pub fn numerica(&self) -> bool {
        matches!(self, Cella::Intero(_) | Cella::Decimale { .. })
    }

    pub fn href(&self) -> Option<&str> {
        match self {
            Cella::Link { href, .. } => Some(href),
            _ => None,
        }
    }
}

/// `1234567` → `1.234.567`.
pub fn migliaia(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    out
}

fn decimale_italiano(v: f64, cifre: u8, separatori: bool) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let s = format!("{:.*}", usize::from(cifre), v.abs());
    let (intera, frazione) = s.split_once('.').unwrap_or((&s, ""));
    let intera = if separatori {
        migliaia(intera.parse::<i64>().unwrap_or(0))
    } else {
        intera.to_owned()
    };
    let segno = if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_the_italian_way() {
        assert_eq!(migliaia(0), "0");
        assert_eq!(migliaia(999), "999");
        assert_eq!(migliaia(1_000), "1.000");
        assert_eq!(migliaia(-1_234_567), "-1.234.567");
        assert_eq!(Cella::decimale(1234.5, 2).italiano(), "1.234,50");
        assert_eq!(Cella::decimale(1234.5, 2).csv(), "1234,50");
        assert_eq!(Cella::decimale(-0.001, 1).csv(), "0,0");
        assert_eq!(Cella::decimale(f64::NAN, 1).csv(), "");
        assert_eq!(Cella::Intero(12_000).csv(), "12000");
    }
}
