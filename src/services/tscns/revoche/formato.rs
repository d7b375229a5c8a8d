//! The file layout of a region's pending revocation notices: fixed-width records, one a line
//! (LF), a header, one detail record per notice (by idComunicazione), a trailer. Documented in
//! docs/services/tscns.md, "TS-CNS revocation notices"; this is the only code that writes it.

use super::repo::Comunicazione;
use crate::domain::tempo::data_roma;
use chrono::{DateTime, Utc};

pub const TIPO_TESTATA: char = '0';
pub const TIPO_DETTAGLIO: char = '1';
pub const TIPO_CODA: char = '9';
/// Name of the flow, in the header and in the file name.
pub const FLUSSO: &str = "REVOCHE_TSCNS";
/// Position (0-based) and length of the generation time in the header record.
pub const TESTATA_DATA_ORA: std::ops::Range<usize> = 17..34;

/// A value that does not fit its field (the database constraints make this an internal error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {campo}: `{valore}` does not fit the record layout")]
pub struct FormatoError {
    pub campo: &'static str,
    pub valore: String,
}

fn generated(at: DateTime<Utc>) -> String {
    at.format("%Y%m%d%H%M%S%3f").to_string()
}

/// `REVOCHE_TSCNS_<regione>_<yyyyMMddHHmmssSSS UTC>.txt`
pub fn nome_file(regione: &str, generata_il: DateTime<Utc>) -> String {
    format!("{FLUSSO}_{regione}_{}.txt", generated(generata_il))
}

fn errore(campo: &'static str, valore: &str) -> FormatoError {
    FormatoError {
        campo,
        valore: valore.to_owned(),
    }
}

/// `valore` checked to be exactly `len` characters of `ok`.
fn fisso(
    out: &mut String,
    campo: &'static str,
    valore: &str,
    len: usize,
    ok: fn(u8) -> bool,
) -> Result<(), FormatoError> {
    if valore.len() != len || !valore.bytes().all(ok) {
        return Err(errore(campo, valore));
    }
    out.push_str(valore);
    Ok(())
}

/// `valore` (1..=len characters of `ok`) left-aligned, padded with spaces.
fn a_sinistra(
    out: &mut String,
    campo: &'static str,
    valore: &str,
    len: usize,
    ok: fn(u8) -> bool,
) -> Result<(), FormatoError> {
    if valore.is_empty() || valore.len() > len || !valore.bytes().all(ok) {
        return Err(errore(campo, valore));
    }
    out.push_str(&format!("{valore:<len$}"));
    Ok(())
}

/// The whole file for `regione`, generated at `generata_il`, one detail per notice in the order
/// given. The file is UTF-8: every field is ASCII except the issuer, which ends the record.
pub fn formatta(
    regione: &str,
    generata_il: DateTime<Utc>,
    righe: &[Comunicazione],
) -> Result<Vec<u8>, FormatoError> {
    let digit = |b: u8| b.is_ascii_digit();
    let mut out = String::with_capacity(64 + righe.len() * 200);
    out.push(TIPO_TESTATA);
    out.push_str(FLUSSO);
    fisso(&mut out, "codice regione", regione, 3, digit)?;
    out.push_str(&generated(generata_il));
    out.push('\n');
    for r in righe {
        out.push(TIPO_DETTAGLIO);
        let id = format!("{:012}", r.id);
        fisso(&mut out, "id comunicazione", &id, 12, digit)?;
        fisso(&mut out, "numero tessera", &r.numero_tessera, 20, digit)?;
        fisso(&mut out, "codice fiscale", &r.codice_fiscale, 16, |b| {
            b.is_ascii_uppercase() || b.is_ascii_digit()
        })?;
        let motivo = r.motivo.to_ascii_uppercase();
        a_sinistra(&mut out, "motivo", &motivo, 12, |b| b.is_ascii_uppercase())?;
        out.push_str(&r.data_evento.format("%Y%m%d").to_string());
        out.push_str(&data_roma(r.creata_il).format("%Y%m%d").to_string());
        a_sinistra(
            &mut out,
            "seriale certificato",
            &r.seriale_certificato,
            40,
            |b| b.is_ascii_hexdigit(),
        )?;
        let e = &r.emittente_certificato;
        if e.is_empty() || e.chars().count() > 255 || e.chars().any(char::is_control) {
            return Err(errore("emittente certificato", e));
        }
        out.push_str(e);
        out.push('\n');
    }
    if righe.len() > 999_999_999 {
        return Err(errore("numero record", &righe.len().to_string()));
    }
    out.push(TIPO_CODA);
    out.push_str(&format!("{:09}", righe.len()));
    out.push('\n');
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 23, 2, 3)
            .single()
            .unwrap()
            + chrono::TimeDelta::milliseconds(45)
    }

    fn riga(id: i64, motivo: &str) -> Comunicazione {
        Comunicazione {
            id,
            numero_tessera: "80380030009000000001".into(),
            codice_fiscale: "FNTLCU04M06F205H".into(),
            seriale_certificato: "5A3F0001".into(),
            emittente_certificato: "CN=CA Regione Lombardia TS-CNS,O=Regione Lombardia,C=IT".into(),
            motivo: motivo.into(),
            data_evento: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            creata_il: at(),
        }
    }

    #[test]
    fn name_header_details_and_trailer() {
        assert_eq!(
            nome_file("030", at()),
            "REVOCHE_TSCNS_030_20261127230203045.txt"
        );
        let file = formatta("030", at(), &[riga(7, "decesso")]).unwrap();
        let text = String::from_utf8(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "0REVOCHE_TSCNS03020261127230203045");
        assert_eq!(&lines[0][TESTATA_DATA_ORA], "20261127230203045");
        // Created at 23:02 UTC on 27 November: 28 November in Italy.
        assert_eq!(
            lines[1],
            format!(
                "{}{:<40}{}",
                "100000000000780380030009000000001FNTLCU04M06F205HDECESSO     2026110220261128",
                "5A3F0001",
                "CN=CA Regione Lombardia TS-CNS,O=Regione Lombardia,C=IT"
            )
        );
        assert_eq!(
            &lines[1][117..],
            "CN=CA Regione Lombardia TS-CNS,O=Regione Lombardia,C=IT"
        );
        assert_eq!(lines[2], "9000000001");
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn empty_file_and_values_that_do_not_fit() {
        let file = formatta("120", at(), &[]).unwrap();
        assert_eq!(
            String::from_utf8(file).unwrap(),
            "0REVOCHE_TSCNS12020261127230203045\n9000000000\n"
        );
        assert_eq!(
            formatta("30", at(), &[]).unwrap_err().campo,
            "codice regione"
        );
        let mut r = riga(1, "decesso");
        r.emittente_certificato = "CN=x\nO=y".into();
        assert_eq!(
            formatta("030", at(), &[r]).unwrap_err().campo,
            "emittente certificato"
        );
    }
}
