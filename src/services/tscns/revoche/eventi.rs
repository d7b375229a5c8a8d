//! Loading the card events (`tsgate tscns eventi carica FILE`): a CSV `numeroTessera;tipoEvento;
//! dataEvento` with a header line. Each event of a card with an active certificate (not revoked,
//! still valid on the event date) queues one notice for the card's issuing region (one per card
//! certificate). An event loaded before is not stored again but is checked again, so a card
//! activated since gets its notice; loading the same file twice queues nothing new.

use super::repo::{self, NuovaComunicazione};
use super::RevocheError;
use crate::domain::NumeroTessera;
use crate::services::tscns::regole::{Certificato, StatoTessera};
use crate::services::tscns::repo as tscns_repo;
use chrono::NaiveDate;
use diesel::prelude::*;
use std::path::Path;

/// The demo events (`fixtures/tscns/eventi.csv`), loaded by `tsgate demo`.
pub const EVENTI_DEMO: &str = include_str!("../../../../fixtures/tscns/eventi.csv");

/// The header line the file must start with.
pub const INTESTAZIONE: &str = "numeroTessera;tipoEvento;dataEvento";

/// The type of an event, and the `motivo` of the notice it causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TipoEvento {
    Decesso,
    Sostituzione,
    Riemissione,
}

impl TipoEvento {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "DECESSO" => Some(Self::Decesso),
            "SOSTITUZIONE" => Some(Self::Sostituzione),
            "RIEMISSIONE" => Some(Self::Riemissione),
            _ => None,
        }
    }

    /// As stored in `evento_tessera.tipo`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Decesso => "DECESSO",
            Self::Sostituzione => "SOSTITUZIONE",
            Self::Riemissione => "RIEMISSIONE",
        }
    }

    /// The notice's `motivo` (TipiDati `motivoComunicazioneRevocaType`).
    pub fn motivo(self) -> &'static str {
        match self {
            Self::Decesso => "decesso",
            Self::Sostituzione => "sostituzione",
            Self::Riemissione => "riemissione",
        }
    }
}

/// A line that is not an event, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RigaErrata {
    pub riga: usize,
    pub motivo: String,
}

/// One well-formed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evento {
    pub riga: usize,
    pub numero_tessera: NumeroTessera,
    pub tipo: TipoEvento,
    pub data: NaiveDate,
}

/// What a load did. Every event of a known card ends in exactly one of `comunicazioni`,
/// `gia_comunicati` and `senza_certificato`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caricamento {
    /// Well-formed event lines.
    pub letti: usize,
    /// Events not loaded before (stored now).
    pub nuovi: usize,
    /// Events loaded before (not stored again, checked again).
    pub gia_caricati: usize,
    /// Notices queued.
    pub comunicazioni: usize,
    /// Events whose card certificate already had a notice (another event, or an earlier load,
    /// came first).
    pub gia_comunicati: usize,
    /// Events of cards without an active certificate (none, revoked card, or certificate no
    /// longer valid on the event date): stored, nothing to revoke.
    pub senza_certificato: usize,
    /// Events of cards not in the registry, with their line numbers: not stored.
    pub tessere_sconosciute: Vec<RigaErrata>,
    pub errate: Vec<RigaErrata>,
}

impl Caricamento {
    /// Whether some lines were not loaded (bad lines or unknown cards).
    pub fn incompleto(&self) -> bool {
        !self.errate.is_empty() || !self.tessere_sconosciute.is_empty()
    }
}

/// Parses the file's text: the events and the bad lines. Blank lines are skipped; a date after
/// `oggi` is a bad line. Fails only when the header is missing.
pub fn leggi(testo: &str, oggi: NaiveDate) -> Result<(Vec<Evento>, Vec<RigaErrata>), RevocheError> {
    let mut lines = testo.lines().enumerate();
    let header = lines
        .next()
        .map(|(_, l)| l.trim_start_matches('\u{feff}').trim());
    if !header.is_some_and(|h| h.eq_ignore_ascii_case(INTESTAZIONE)) {
        return Err(RevocheError::Intestazione);
    }
    let (mut eventi, mut errate) = (Vec::new(), Vec::new());
    for (i, line) in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match evento(line, oggi) {
            Ok((numero_tessera, tipo, data)) => eventi.push(Evento {
                riga: i + 1,
                numero_tessera,
                tipo,
                data,
            }),
            Err(motivo) => errate.push(RigaErrata {
                riga: i + 1,
                motivo,
            }),
        }
    }
    Ok((eventi, errate))
}

fn evento(line: &str, oggi: NaiveDate) -> Result<(NumeroTessera, TipoEvento, NaiveDate), String> {
    let campi: Vec<&str> = line.split(';').map(str::trim).collect();
    let [numero, tipo, data] = campi[..] else {
        return Err(format!("expected 3 fields, found {}", campi.len()));
    };
    let numero = NumeroTessera::parse(numero)
        .map_err(|_| format!("numeroTessera `{numero}`: 20 digits expected"))?;
    let tipo = TipoEvento::parse(tipo).ok_or_else(|| {
        format!("tipoEvento `{tipo}`: DECESSO, SOSTITUZIONE or RIEMISSIONE expected")
    })?;
    let data_ = NaiveDate::parse_from_str(data, "%Y-%m-%d")
        .ok()
        .filter(|_| data.len() == 10)
        .ok_or_else(|| format!("dataEvento `{data}`: YYYY-MM-DD expected"))?;
    if data_ > oggi {
        return Err(format!("dataEvento {data} is after today"));
    }
    Ok((numero, tipo, data_))
}

/// The certificate to revoke for an event on `data`: the card's certificate, unless the card
/// is revoked or the certificate expired before that day.
pub fn certificato_attivo(tessera: &StatoTessera, data: NaiveDate) -> Option<&Certificato> {
    if tessera.revoca.is_some() {
        return None;
    }
    tessera.certificato.as_ref().filter(|c| c.valido_al >= data)
}

/// Loads the file at `path` (its name is recorded as the events' source).
pub fn carica_file(conn: &mut PgConnection, path: &Path) -> Result<Caricamento, RevocheError> {
    let testo = std::fs::read_to_string(path).map_err(|source| RevocheError::Lettura {
        path: path.display().to_string(),
        source,
    })?;
    let fonte = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    carica(conn, &testo, &fonte)
}

/// Loads the events of `testo` from `fonte`, in one transaction.
pub fn carica(
    conn: &mut PgConnection,
    testo: &str,
    fonte: &str,
) -> Result<Caricamento, RevocheError> {
    let (eventi, errate) = leggi(testo, crate::domain::tempo::oggi_roma())?;
    let fonte = if fonte.trim().is_empty() { "-" } else { fonte };
    conn.transaction(|c| {
        repo::blocca_coda(c)?;
        // Every card of the file, locked at once in card order (no deadlock with a first-load
        // batch, which does the same).
        let numeri: Vec<&str> = eventi.iter().map(|e| e.numero_tessera.as_str()).collect();
        tscns_repo::blocca_tessere(c, &numeri, None)?;
        let mut esito = Caricamento {
            letti: eventi.len(),
            errate,
            ..Caricamento::default()
        };
        for e in &eventi {
            let numero = e.numero_tessera.as_str();
            // Locks the card row until the load commits: a concurrent renewal (which replaces
            // the serial) is applied either wholly before this read or after the notice.
            let Some(tessera) = tscns_repo::stato(c, numero, true)? else {
                esito.tessere_sconosciute.push(RigaErrata {
                    riga: e.riga,
                    motivo: format!("numeroTessera {numero}: unknown card"),
                });
                continue;
            };
            let tipo = e.tipo.as_str();
            let evento_id = match repo::inserisci_evento(c, numero, tipo, e.data, fonte)? {
                Some(id) => {
                    esito.nuovi += 1;
                    id
                }
                None => {
                    esito.gia_caricati += 1;
                    repo::evento(c, numero, tipo, e.data)?
                }
            };
            let Some(certificato) = certificato_attivo(&tessera, e.data) else {
                esito.senza_certificato += 1;
                continue;
            };
            let nuova = NuovaComunicazione {
                codice_regione: &tessera.codice_regione,
                numero_tessera: numero,
                codice_fiscale: &tessera.codice_fiscale,
                seriale_certificato: &certificato.seriale,
                emittente_certificato: &certificato.emittente,
                motivo: e.tipo.motivo(),
                data_evento: e.data,
                evento_id,
            };
            if repo::inserisci_comunicazione(c, &nuova)? {
                esito.comunicazioni += 1;
            } else {
                esito.gia_comunicati += 1;
            }
        }
        Ok(esito)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oggi() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    #[test]
    fn events_and_bad_lines_with_their_numbers() {
        let testo = "\u{feff}numeroTessera;tipoEvento;dataEvento\n\
                     80380030009000000001;DECESSO;2026-11-01\n\
                     \n\
                     80380030009000000002;sostituzione ; 2026-11-02\r\n\
                     8038;DECESSO;2026-11-01\n\
                     80380030009000000003;FURTO;2026-11-01\n\
                     80380030009000000003;DECESSO;2026-11-29\n\
                     80380030009000000003;DECESSO;2026-02-30\n\
                     80380030009000000003;DECESSO\n";
        let (eventi, errate) = leggi(testo, oggi()).unwrap();
        assert_eq!(eventi.len(), 2);
        assert_eq!(eventi[0].riga, 2);
        assert_eq!(eventi[1].riga, 4);
        assert_eq!(eventi[1].tipo, TipoEvento::Sostituzione);
        let righe: Vec<usize> = errate.iter().map(|e| e.riga).collect();
        assert_eq!(righe, [5, 6, 7, 8, 9]);
        assert!(errate[2].motivo.contains("after today"));
    }

    fn tessera(valido_al: &str, revocata: bool) -> StatoTessera {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        StatoTessera {
            numero: "80380030009000000001".into(),
            codice_fiscale: "FNTLCU04M06F205H".into(),
            codice_regione: "030".into(),
            data_scadenza: d("2028-12-31"),
            sigla_serie: None,
            puk_per_rinnovo: false,
            certificato: Some(Certificato {
                seriale: "5A3F".into(),
                emittente: "CN=CA".into(),
                valido_dal: d("2025-01-01"),
                valido_al: d(valido_al),
                data_attivazione: d("2025-01-10"),
            }),
            revoca: revocata.then(|| crate::services::tscns::regole::RevocaRegistrata {
                motivo: "furto".into(),
                data_revoca: d("2026-01-01"),
            }),
            rinnovo: None,
            proroga: None,
        }
    }

    #[test]
    fn the_active_certificate_is_valid_on_the_event_date_of_a_card_not_revoked() {
        let giorno = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        assert!(certificato_attivo(&tessera("2026-10-01", false), giorno).is_some());
        assert!(certificato_attivo(&tessera("2026-09-30", false), giorno).is_none());
        assert!(certificato_attivo(&tessera("2028-12-31", true), giorno).is_none());
        let mut senza = tessera("2028-12-31", false);
        senza.certificato = None;
        assert!(certificato_attivo(&senza, giorno).is_none());
    }

    #[test]
    fn the_header_is_required() {
        assert!(matches!(
            leggi("80380030009000000001;DECESSO;2026-11-01\n", oggi()),
            Err(RevocheError::Intestazione)
        ));
        assert!(matches!(leggi("", oggi()), Err(RevocheError::Intestazione)));
    }
}
