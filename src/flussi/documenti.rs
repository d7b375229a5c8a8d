//! The documents answered about a file, whatever its kind: the receipt of an upload and the
//! outcome document (state and progress; once ELABORATO, the records of its kind, written
//! streaming by `vaccini::flusso::esito` or `tscns::flusso::esito`).

use super::repo::Flusso;
use super::ricevi::Ricevuta;
use super::{Stato, Tipo};
use anyhow::Context;
use diesel::PgConnection;
use quick_xml::escape::escape;
use std::io::Write;

fn rifiuto(f: &Flusso) -> String {
    match (&f.codice_rifiuto, &f.motivo_rifiuto) {
        (Some(c), m) => format!(
            "<rifiuto><codice>{}</codice><descrizione>{}</descrizione></rifiuto>",
            escape(c.as_str()),
            escape(troncato(m.as_deref().unwrap_or(""), 255))
        ),
        _ => String::new(),
    }
}

/// At most `max` characters of `s`.
pub fn troncato(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn tipo(f: &Flusso) -> anyhow::Result<Tipo> {
    f.tipo()
        .with_context(|| format!("bulk file {} of unknown kind {}", f.protocollo, f.tipo))
}

/// `flussoPrenotazioni` → `ricevutaFlussoPrenotazioni`, `esitoFlussoPrenotazioni`.
fn nome(prefisso: &str, t: Tipo) -> String {
    let r = t.radice();
    let mut chars = r.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase());
    format!("{prefisso}{}{}", first.unwrap_or_default(), chars.as_str())
}

/// Namespace of the outcome document of a kind.
pub fn ns_esito(t: Tipo) -> &'static str {
    match t {
        Tipo::Prenotazioni => crate::services::vaccini::flusso::esito::NS_ESITO,
        Tipo::Tscns => crate::services::tscns::flusso::NS_ESITO,
    }
}

/// The receipt of an upload (`ricevutaFlussoPrenotazioni`, `ricevutaFlussoTSCNS`).
pub fn ricevuta(r: &Ricevuta, tx: &str) -> String {
    let f = &r.flusso;
    let t = f.tipo().unwrap_or(Tipo::Prenotazioni);
    let root = nome("ricevuta", t);
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<{root} xmlns="{ns}">"#,
            "<identificativoTransazione>{tx}</identificativoTransazione>",
            "<protocollo>{protocollo}</protocollo>",
            "<stato>{stato}</stato>",
            "<duplicato>{dup}</duplicato>",
            "{rifiuto}",
            "</{root}>"
        ),
        root = root,
        ns = t.ns(),
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
    let t = tipo(f)?;
    let root = nome("esito", t);
    write!(
        w,
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            "\n",
            r#"<{root} xmlns="{ns}">"#,
            "\n<identificativoTransazione>{tx}</identificativoTransazione>",
            "<protocollo>{protocollo}</protocollo>",
            "<stato>{stato}</stato>",
            "<ricevutoIl>{ricevuto}</ricevutoIl>",
            "<recordLetti>{letti}</recordLetti>",
        ),
        root = root,
        ns = ns_esito(t),
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
        match t {
            Tipo::Prenotazioni => crate::services::vaccini::flusso::esito::records(conn, f, w)?,
            Tipo::Tscns => crate::services::tscns::flusso::esito::records(conn, f, w)?,
        }
    }
    writeln!(w, "</{root}>")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_names_follow_the_root() {
        assert_eq!(
            nome("ricevuta", Tipo::Prenotazioni),
            "ricevutaFlussoPrenotazioni"
        );
        assert_eq!(nome("esito", Tipo::Tscns), "esitoFlussoTSCNS");
    }
}
