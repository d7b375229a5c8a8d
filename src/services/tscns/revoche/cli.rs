//! `tsgate tscns eventi carica` and `tsgate tscns revoche esporta|elenco`: the commands' output
//! (CLI code: anyhow errors, results on stdout).

use super::{eventi, fornitura, RevocheError};
use crate::domain::CodiceRegione;
use diesel::PgConnection;
use std::path::Path;

/// Loads an events file and prints the bad lines, the unknown cards and the counts. Fails
/// (after the load is committed) when some lines were not loaded, so a script notices.
pub fn carica_eventi(conn: &mut PgConnection, file: &Path) -> anyhow::Result<()> {
    let c = eventi::carica_file(conn, file).map_err(|e| match e {
        // Already names the file.
        RevocheError::Lettura { .. } => anyhow::Error::new(e),
        e => anyhow::Error::new(e).context(file.display().to_string()),
    })?;
    let mut scartate: Vec<_> = c.errate.iter().chain(&c.tessere_sconosciute).collect();
    scartate.sort_by_key(|e| e.riga);
    for e in scartate {
        println!("line {}: {}", e.riga, e.motivo);
    }
    println!(
        "events read {}, new {}, loaded before {}, notices queued {}, already notified {}, \
         cards without an active certificate {}, unknown cards {}, bad lines {}",
        c.letti,
        c.nuovi,
        c.gia_caricati,
        c.comunicazioni,
        c.gia_comunicati,
        c.senza_certificato,
        c.tessere_sconosciute.len(),
        c.errate.len()
    );
    if c.incompleto() {
        anyhow::bail!(
            "{} bad line(s) and {} unknown card(s) not loaded; the other events were loaded",
            c.errate.len(),
            c.tessere_sconosciute.len()
        );
    }
    Ok(())
}

/// Produces, stores and writes the file of a region's pending notices.
pub fn esporta(
    conn: &mut PgConnection,
    regione: &CodiceRegione,
    dir: &Path,
    operatore: &str,
) -> anyhow::Result<()> {
    let f = fornitura::esporta(conn, regione, dir, operatore)?;
    println!(
        "{}\t{}\t{}\t{} record(s)\tsha256 {}\t{}",
        f.id,
        f.codice_regione,
        f.nome_file,
        f.numero_record,
        f.sha256,
        f.percorso.display()
    );
    Ok(())
}

/// Lists the stored files, newest first (generation time in Europe/Rome).
pub fn elenco(
    conn: &mut PgConnection,
    regione: Option<&CodiceRegione>,
    limite: u32,
) -> anyhow::Result<()> {
    println!("id\tregione\tgenerata_il (Europe/Rome)\trecord\tnome_file\tsha256");
    for v in fornitura::elenco_file(conn, regione, limite)? {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            v.id, v.codice_regione, v.generata_il_roma, v.numero_record, v.nome_file, v.sha256
        );
    }
    Ok(())
}
