//! The documents answered about a file, whatever its kind: the receipt of an upload and the
//! outcome document (state and progress; once ELABORATO, the records of its kind, written
//! streaming by `Genere::records`).

use super::repo::Flusso;
use super::ricevi::Ricevuta;
use super::{Stato, Tipo};
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

/// `flussoPrenotazioni` → `ricevutaFlussoPrenotazioni`, `esitoFlussoPrenotazioni`.
fn nome(prefisso: &str, r: &str) -> String {
    let mut chars = r.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase());
    format!("{prefisso}{}{}", first.unwrap_or_default(), chars.as_str())
}

/// The receipt of an upload (`ricevutaFlussoPrenotazioni`, `ricevutaFlussoTSCNS`).
pub fn ricevuta(t: Tipo, r: &Ricevuta, tx: &str) -> String {
    let f = &r.flusso;
    let root = nome("ricevuta", t.radice);
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
        ns = t.ns,
        tx = escape(tx),
        protocollo = escape(f.protocollo.as_str()),
        stato = escape(f.stato.as_str()),
        dup = r.duplicato,
        rifiuto = rifiuto(f),
    )
}

/// The outcome document of `f`, a file of kind `t`, written to `w` with memory independent of
/// the file size.
pub fn scrivi(
    conn: &mut PgConnection,
    t: Tipo,
    f: &Flusso,
    tx: &str,
    w: &mut dyn Write,
) -> anyhow::Result<()> {
    let root = nome("esito", t.radice);
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
        ns = t.ns_esito,
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
        (t.records)(conn, f, w)?;
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
            nome("ricevuta", "flussoPrenotazioni"),
            "ricevutaFlussoPrenotazioni"
        );
        assert_eq!(nome("esito", "flussoTSCNS"), "esitoFlussoTSCNS");
    }
}
