//! The records of the outcome document of a first-load file (the rest of the document is
//! `crate::flussi::documenti`): every record in file order with `posizione`, `tipo`,
//! `numeroTessera` as sent, `esito` and errors, written streaming a page at a time.

use crate::db::schema::flusso_tscns_record;
use crate::flussi::repo::{self, Flusso};
use crate::services::tscns::errore::Errore;
use diesel::prelude::*;
use diesel::PgConnection;
use quick_xml::escape::escape;
use std::io::Write;

/// Positions read per query.
const PAGE: i64 = 10_000;

pub fn records(conn: &mut PgConnection, f: &Flusso, w: &mut dyn Write) -> anyhow::Result<()> {
    let total = f.record_totali.unwrap_or(0);
    let mut from = 0i64;
    while from < total {
        let to = (from + PAGE).min(total);
        let righe: Vec<(i64, String, Option<String>)> = flusso_tscns_record::table
            .filter(flusso_tscns_record::flusso_id.eq(f.id))
            .filter(flusso_tscns_record::posizione.gt(from))
            .filter(flusso_tscns_record::posizione.le(to))
            .order(flusso_tscns_record::posizione)
            .select((
                flusso_tscns_record::posizione,
                flusso_tscns_record::tipo_record,
                flusso_tscns_record::numero_tessera,
            ))
            .load(conn)?;
        let errors = repo::errori_dopo(conn, f.id, from, to)?;
        let mut errors = errors.iter().peekable();
        for (pos, tipo, numero) in &righe {
            write!(
                w,
                "<record><posizione>{pos}</posizione><tipo>{}</tipo>",
                escape(tipo.as_str())
            )?;
            if let Some(n) = numero {
                write!(w, "<numeroTessera>{}</numeroTessera>", escape(n.as_str()))?;
            }
            // Errors of positions without a record row cannot exist (same transaction).
            while errors.next_if(|(p, _)| p < pos).is_some() {}
            let mut first = true;
            while let Some((_, code)) = errors.next_if(|(p, _)| p == pos) {
                if first {
                    w.write_all(b"<esito>01</esito>")?;
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
                w.write_all(b"<esito>00</esito>")?;
            }
            writeln!(w, "</record>")?;
        }
        from = to;
    }
    Ok(())
}
