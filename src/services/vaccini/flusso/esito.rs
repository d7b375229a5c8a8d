//! The records of the outcome document of a bookings file: every record with `posizione`,
//! `esito` and errors, written streaming from the stored errors (records without errors have
//! esito 00).

use crate::flussi::repo::{self, Flusso};
use crate::services::vaccini::avn::Errore;
use diesel::PgConnection;
use quick_xml::escape::escape;
use std::io::Write;

/// Namespace of the outcome document (`xsd/flussi/EsitoFlussoPrenotazioni.xsd`).
pub const NS_ESITO: &str = "urn:tsgate:vaccini:esitoFlussoPrenotazioni";
/// Positions read per query of stored errors.
const PAGE: i64 = 10_000;

/// The `record` elements of an ELABORATO file (the rest of the document is
/// `crate::flussi::documenti`).
pub fn records(conn: &mut PgConnection, f: &Flusso, w: &mut dyn Write) -> anyhow::Result<()> {
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
