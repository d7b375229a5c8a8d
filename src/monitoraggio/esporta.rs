//! A report written out: CSV for Italian spreadsheets (UTF-8 with a byte-order mark, `;`
//! separator, decimal comma, a header row), JSON for tools, aligned text for the terminal.

use super::modello::{Report, Sezione};

/// The formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formato {
    Tabella,
    Csv,
    Json,
}

impl Formato {
    pub fn parse(s: &str) -> Option<Formato> {
        match s {
            "tabella" => Some(Formato::Tabella),
            "csv" => Some(Formato::Csv),
            "json" => Some(Formato::Json),
            _ => None,
        }
    }
}

fn campo_csv(s: &str) -> String {
    if s.contains([';', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The table of `sezione` as CSV: exactly the rows and columns the page shows.
pub fn csv(sezione: &Sezione) -> String {
    let mut out = String::from("\u{feff}");
    let riga = |celle: Vec<String>| {
        celle
            .iter()
            .map(|c| campo_csv(c))
            .collect::<Vec<_>>()
            .join(";")
    };
    out.push_str(&riga(sezione.tabella.intestazione.clone()));
    out.push_str("\r\n");
    for r in &sezione.tabella.righe {
        out.push_str(&riga(r.iter().map(|c| c.csv()).collect()));
        out.push_str("\r\n");
    }
    out
}

/// The whole report as JSON (numbers as numbers).
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        tracing::error!(error = %e, "report not serialisable");
        "{}".to_owned()
    })
}

/// The report as aligned text tables, for the terminal.
pub fn testo(report: &Report) -> String {
    let mut out = format!("{}\n", report.titolo);
    for n in &report.note {
        out.push_str(&format!("  {n}\n"));
    }
    for s in &report.sezioni {
        out.push_str(&format!("\n{}\n", s.titolo));
        let t = &s.tabella;
        let celle: Vec<Vec<String>> = t
            .righe
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| match c.href() {
                        Some(h) => format!("{} <{h}>", c.italiano()),
                        None => c.italiano(),
                    })
                    .collect()
            })
            .collect();
        let mut larghezze: Vec<usize> = t.intestazione.iter().map(|h| h.chars().count()).collect();
        for r in &celle {
            for (i, c) in r.iter().enumerate() {
                if let Some(l) = larghezze.get_mut(i) {
                    *l = (*l).max(c.chars().count());
                }
            }
        }
        let scrivi = |out: &mut String, r: &[String], numeriche: &[bool]| {
            let parti: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let w = larghezze.get(i).copied().unwrap_or(0);
                    if numeriche.get(i).copied().unwrap_or(false) {
                        format!("{c:>w$}")
                    } else {
                        format!("{c:<w$}")
                    }
                })
                .collect();
            out.push_str(parti.join("  ").trim_end());
            out.push('\n');
        };
        scrivi(&mut out, &t.intestazione, &[]);
        let sotto: Vec<String> = larghezze.iter().map(|w| "-".repeat(*w)).collect();
        scrivi(&mut out, &sotto, &[]);
        for (r, orig) in celle.iter().zip(&t.righe) {
            let numeriche: Vec<bool> = orig.iter().map(|c| c.numerica()).collect();
            scrivi(&mut out, r, &numeriche);
        }
        if t.righe.is_empty() {
            out.push_str("(nessun dato)\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::modello::{Cella, Tabella};
    use super::*;

    #[test]
    fn csv_quotes_what_it_must() {
        let s = Sezione {
            id: "x",
            titolo: "t".into(),
            grafico: None,
            tabella: Tabella {
                intestazione: vec!["Nome".into(), "Chiamate".into(), "Quota %".into()],
                righe: vec![vec![
                    Cella::testo("a;b \"c\""),
                    Cella::Intero(1234),
                    Cella::decimale(12.26, 1),
                ]],
            },
        };
        assert_eq!(
            csv(&s),
            "\u{feff}Nome;Chiamate;Quota %\r\n\"a;b \"\"c\"\"\";1234;12,3\r\n"
        );
    }
}
