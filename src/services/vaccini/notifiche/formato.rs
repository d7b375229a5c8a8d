//! The file layout of the multiple-booking notices (decree section 5.4): fixed-width ASCII
//! records, one a line (LF), a header, one detail record per patient, a trailer. The layout is
//! documented in docs/services/vaccini.md, "Multiple-booking notices"; this is the only code that writes it.

use chrono::{DateTime, Utc};

/// Tipo record of the header, detail and trailer records.
pub const TIPO_TESTATA: char = '0';
pub const TIPO_DETTAGLIO: char = '1';
pub const TIPO_CODA: char = '9';
/// Name of the flow, in the header and in the file name.
pub const FLUSSO: &str = "PRENOTAZIONI_MULTIPLE";
/// Position (0-based) and length of the generation time in the header record.
pub const TESTATA_DATA_ORA: std::ops::Range<usize> = 25..42;

/// One patient of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RigaNotifica {
    pub codice_fiscale: String,
    /// Codice regione/SASN che eroga l'assistenza.
    pub regione_assistenza: String,
    /// All the patient's current bookings, the assistance region's included.
    pub numero_prenotazioni: u32,
    /// The booking regions other than the assistance region: distinct, sorted.
    pub altre_regioni: Vec<String>,
}

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

/// `PRENOTAZIONI_MULTIPLE_<regione>_<yyyyMMddHHmmssSSS UTC>.txt`
pub fn nome_file(regione: &str, generata_il: DateTime<Utc>) -> String {
    format!("{FLUSSO}_{regione}_{}.txt", generated(generata_il))
}

fn campo(campo: &'static str, valore: &str, len: usize, digits: bool) -> Result<(), FormatoError> {
    let ok = valore.len() == len
        && valore.bytes().all(|b| {
            if digits {
                b.is_ascii_digit()
            } else {
                b.is_ascii_uppercase() || b.is_ascii_digit()
            }
        });
    if ok {
        Ok(())
    } else {
        Err(FormatoError {
            campo,
            valore: valore.to_owned(),
        })
    }
}

/// The whole file for `regione`, generated at `generata_il`, with `righe` in the given order.
pub fn formatta(
    regione: &str,
    generata_il: DateTime<Utc>,
    righe: &[RigaNotifica],
) -> Result<Vec<u8>, FormatoError> {
    campo("codice regione", regione, 3, true)?;
    let mut out = String::with_capacity(64 + righe.len() * 40);
    out.push(TIPO_TESTATA);
    out.push_str(FLUSSO);
    out.push_str(regione);
    out.push_str(&generated(generata_il));
    out.push('\n');
    for r in righe {
        campo("codice fiscale", &r.codice_fiscale, 16, false)?;
        campo("regione assistenza", &r.regione_assistenza, 3, true)?;
        if r.numero_prenotazioni > 999 {
            return Err(FormatoError {
                campo: "numero prenotazioni",
                valore: r.numero_prenotazioni.to_string(),
            });
        }
        if r.altre_regioni.len() > 99 {
            return Err(FormatoError {
                campo: "numero regioni",
                valore: r.altre_regioni.len().to_string(),
            });
        }
        out.push(TIPO_DETTAGLIO);
        out.push_str(&r.codice_fiscale);
        out.push_str(&r.regione_assistenza);
        out.push_str(&format!(
            "{:03}{:02}",
            r.numero_prenotazioni,
            r.altre_regioni.len()
        ));
        for regione in &r.altre_regioni {
            campo("regione di prenotazione", regione, 3, true)?;
            out.push_str(regione);
        }
        out.push('\n');
    }
    if righe.len() > 999_999_999 {
        return Err(FormatoError {
            campo: "numero record",
            valore: righe.len().to_string(),
        });
    }
    out.push(TIPO_CODA);
    out.push_str(&format!("{:09}", righe.len()));
    out.push('\n');
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 1, 2, 3)
            .single()
            .unwrap()
            + chrono::TimeDelta::milliseconds(45)
    }

    fn riga(cf: &str, n: u32, altre: &[&str]) -> RigaNotifica {
        RigaNotifica {
            codice_fiscale: cf.into(),
            regione_assistenza: "030".into(),
            numero_prenotazioni: n,
            altre_regioni: altre.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn name_carries_region_and_utc_time_with_milliseconds() {
        assert_eq!(
            nome_file("030", at()),
            "PRENOTAZIONI_MULTIPLE_030_20261127010203045.txt"
        );
    }

    #[test]
    fn header_details_and_trailer() {
        let file = formatta(
            "030",
            at(),
            &[
                riga("RSSMRA60C15F205L", 2, &["120"]),
                riga("FNTLCU04M06F205H", 3, &["010", "050", "120"]),
            ],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(file).unwrap(),
            "0PRENOTAZIONI_MULTIPLE03020261127010203045\n\
             1RSSMRA60C15F205L03000201120\n\
             1FNTLCU04M06F205H03000303010050120\n\
             9000000002\n"
        );
    }

    #[test]
    fn generation_time_sits_where_the_constant_says() {
        let file = formatta("030", at(), &[]).unwrap();
        assert_eq!(&file[TESTATA_DATA_ORA], b"20261127010203045");
    }

    #[test]
    fn empty_file_has_header_and_trailer_only() {
        let file = formatta("150", at(), &[]).unwrap();
        assert_eq!(
            String::from_utf8(file).unwrap(),
            "0PRENOTAZIONI_MULTIPLE15020261127010203045\n9000000000\n"
        );
    }

    #[test]
    fn values_that_do_not_fit_are_errors_not_panics() {
        assert_eq!(
            formatta("30", at(), &[]).unwrap_err().campo,
            "codice regione"
        );
        let err = formatta("030", at(), &[riga("SHORT", 1, &["120"])]).unwrap_err();
        assert_eq!(err.campo, "codice fiscale");
        let err = formatta("030", at(), &[riga("RSSMRA60C15F205L", 1000, &[])]).unwrap_err();
        assert_eq!(err.campo, "numero prenotazioni");
        let err = formatta("030", at(), &[riga("RSSMRA60C15F205L", 2, &["12"])]).unwrap_err();
        assert_eq!(err.campo, "regione di prenotazione");
        let err = formatta("030", at(), &[riga("rssmra60c15f205l", 2, &["120"])]).unwrap_err();
        assert_eq!(err.campo, "codice fiscale");
    }
}
