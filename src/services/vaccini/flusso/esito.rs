//! The documents answered about a file: the receipt of an upload and the outcome document
//! (state, progress and, once ELABORATO, every record with `posizione`, `esito` and errors),
//! written streaming from the stored errors (records without errors have esito 00).

use super::repo::{self, Flusso};
use super::ricevi::Ricevuta;
use super::{Stato, NS};
use crate::services::vaccini::avn::Errore;
use diesel::PgConnection;
use quick_xml::escape::escape;
use std::io::Write;

/// Namespace of the outcome document (`xsd/flussi/EsitoFlussoPrenotazioni.xsd`).
pub const NS_ESITO: &str = "urn:tsgate:vaccini:esitoFlussoPrenotazioni";
/// Positions read per query of stored errors.
const PAGE: i64 = 10_000;

fn rifiuto(f: &Flusso) -> String {
    match (&f.codice_rifiuto, &f.motivo_rifiuto) {
        (Some(c), m) => format!(
            "<rifiuto><codice>{}</codice><descrizione>{}</descrizione></rifiuto>",
            escape(c.as_str()),
            escape(truncate(m.as_deref().unwrap_or(""), 255))
        ),
        _ => String::new(),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The receipt of an upload (`ricevutaFlussoPrenotazioni`).
pub fn ricevuta(r: &Ricevuta, tx: &str) -> String {
    let f = &r.flusso;
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<ricevutaFlussoPrenotazioni xmlns="{ns}">"#,
            "<identificativoTransazione>{tx}</identificativoTransazione>",
            "<protocollo>{protocollo}</protocollo>",
            "<stato>{stato}</stato>",
            "<duplicato>{dup}</duplicato>",
            "{rifiuto}",
            "</ricevutaFlussoPrenotazioni>"
        ),
        ns = NS,
        tx = escape(tx),
        protocollo = escape(f.protocollo.as_str()),
        stato = escape(f.stato.as_str()),
        dup = r.duplicato,
        rifiuto = rifiuto(f),
    )
}

/// The outcome document of `f`, written to `w` with memory independent of the file size.
pub fn scrivi(
    conn: &mut PgConnection,
    f: &Flusso,
    tx: &str,
    w: &mut dyn Write,
) -> anyhow::Result<()> {
    write!(
        w,
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            "\n",
            r#"<esitoFlussoPrenotazioni xmlns="{ns}">"#,
            "\n<identificativoTransazione>{tx}</identificativoTransazione>",
            "<protocollo>{protocollo}</protocollo>",
            "<stato>{stato}</stato>",
            "<ricevutoIl>{ricevuto}</ricevutoIl>",
            "<recordLetti>{letti}</recordLetti>",
        ),
        ns = NS_ESITO,
        tx = escape(tx),
        protocollo = escape(f.protocollo.as_str()),
        stato = escape(f.stato.as_str()),
        ricevuto = f.ricevuto_il.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        letti = f.record_letti,
    )?;
    if let Some(t) = f.record_totali {
        write!(w, "<recordTotali>{t}</recordTotali>")?;
    }
    if let Some(s) = f.record_scartati {
        write!(w, "<recordScartati>{s}</recordScartati>")?;
    }
    w.write_all(rifiuto(f).as_bytes())?;
    w.write_all(b"\n")?;
    if Stato::parse(&f.stato) == Some(Stato::Elaborato) {
        records(conn, f, w)?;
    }
    w.write_all(b"</esitoFlussoPrenotazioni>\n")?;
    Ok(())
}

fn records(conn: &mut PgConnection, f: &Flusso, w: &mut dyn Write) -> anyhow::Result<()> {
    let total = f.record_totali.unwrap_or(0);
    let mut from = 0i64;
    while from < total {
        let to = (from + PAGE).min(total);
        let errors = repo::errori_dopo(conn, f.id, from, to)?;
        let mut errors = errors.iter().peekable();
        for pos in from + 1..=to {
            let mut first = true;
            while let Some((_, code)) = errors.next_if(|(p, _)| *p == pos) {
                if first {
                    write!(w, "<record><posizione>{pos}</posizione><esito>01</esito>")?;
                    first = false;
                }
                let descrizione = Errore::from_codice(code).map_or("", |e| e.descrizione());
                write!(
                    w,
                    "<errore><codice>{}</codice><descrizione>{}</descrizione></errore>",
                    escape(code.as_str()),
                    escape(descrizione)
                )?;
            }
            if first {
                writeln!(
                    w,
                    "<record><posizione>{pos}</posizione><esito>00</esito></record>"
                )?;
            } else {
                writeln!(w, "</record>")?;
            }
        }
        from = to;
    }
    Ok(())
}
