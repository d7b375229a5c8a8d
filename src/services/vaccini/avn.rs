//! What the Anagrafe Nazionale Vaccini sends (decree 31 May 2021, annex A, section 4): the kinds
//! of operation, the record rules that need no database, and the error codes of esito 01.
//! Shared by the web services (one record a call) and the bulk booking files (many records).

use crate::domain::{CodiceAic, CodiceFiscale, CodiceRegione};
use chrono::NaiveDate;

/// `tipoOperazione`: I insert, V change, C cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TipoOperazione {
    Inserimento,
    Variazione,
    Cancellazione,
}

impl TipoOperazione {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "I" => Some(Self::Inserimento),
            "V" => Some(Self::Variazione),
            "C" => Some(Self::Cancellazione),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inserimento => "I",
            Self::Variazione => "V",
            Self::Cancellazione => "C",
        }
    }
}

/// The reasons for esito 01, each with a stable code (listed in docs/integrators.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Errore {
    TipoOperazioneNonValido,
    CodiceFiscaleControllo,
    AssistitoSconosciuto,
    CodiceRegioneSconosciuto,
    RegioneSconosciuta,
    CodiceAicControllo,
    CodiceAicObbligatorio,
    DoseNonValida,
    DataNonValida,
    PrenotazioneGiaPresente,
    PrenotazioneNonPresente,
    RecordDuplicatoNelFlusso,
    DataNelFuturo,
    DosePrecedenteAssente,
    DataFuoriSequenza,
    SomministrazioneGiaPresente,
    SomministrazioneNonPresente,
    DoseSuccessivaPresente,
    ElementoNonPrevisto,
    ElementoRipetuto,
}

impl Errore {
    pub const ALL: [Errore; 20] = [
        Self::TipoOperazioneNonValido,
        Self::CodiceFiscaleControllo,
        Self::AssistitoSconosciuto,
        Self::CodiceRegioneSconosciuto,
        Self::RegioneSconosciuta,
        Self::CodiceAicControllo,
        Self::CodiceAicObbligatorio,
        Self::DoseNonValida,
        Self::DataNonValida,
        Self::PrenotazioneGiaPresente,
        Self::PrenotazioneNonPresente,
        Self::RecordDuplicatoNelFlusso,
        Self::DataNelFuturo,
        Self::DosePrecedenteAssente,
        Self::DataFuoriSequenza,
        Self::SomministrazioneGiaPresente,
        Self::SomministrazioneNonPresente,
        Self::DoseSuccessivaPresente,
        Self::ElementoNonPrevisto,
        Self::ElementoRipetuto,
    ];

    pub fn codice(self) -> &'static str {
        match self {
            Self::TipoOperazioneNonValido => "AVN-0100",
            Self::CodiceFiscaleControllo => "AVN-0101",
            Self::AssistitoSconosciuto => "AVN-0102",
            Self::CodiceRegioneSconosciuto => "AVN-0103",
            Self::RegioneSconosciuta => "AVN-0104",
            Self::CodiceAicControllo => "AVN-0105",
            Self::CodiceAicObbligatorio => "AVN-0106",
            Self::DoseNonValida => "AVN-0107",
            Self::DataNonValida => "AVN-0108",
            Self::PrenotazioneGiaPresente => "AVN-0201",
            Self::PrenotazioneNonPresente => "AVN-0202",
            Self::RecordDuplicatoNelFlusso => "AVN-0203",
            Self::DataNelFuturo => "AVN-0301",
            Self::DosePrecedenteAssente => "AVN-0302",
            Self::DataFuoriSequenza => "AVN-0303",
            Self::SomministrazioneGiaPresente => "AVN-0304",
            Self::SomministrazioneNonPresente => "AVN-0305",
            Self::DoseSuccessivaPresente => "AVN-0306",
            Self::ElementoNonPrevisto => "AVN-0401",
            Self::ElementoRipetuto => "AVN-0402",
        }
    }

    /// The error of a stable code (the outcome file is generated from stored codes).
    pub fn from_codice(codice: &str) -> Option<Errore> {
        Self::ALL.into_iter().find(|e| e.codice() == codice)
    }

    pub fn descrizione(self) -> &'static str {
        match self {
            Self::TipoOperazioneNonValido => "Tipo operazione non valido: ammessi I, V, C",
            Self::CodiceFiscaleControllo => {
                "Codice fiscale dell'assistito non valido: carattere di controllo errato"
            }
            Self::AssistitoSconosciuto => {
                "Assistito non presente nella banca dati del Sistema TS"
            }
            Self::CodiceRegioneSconosciuto => "Codice regione non presente tra le regioni note",
            Self::RegioneSconosciuta => {
                "Regione di prenotazione o somministrazione non presente tra le regioni note"
            }
            Self::CodiceAicControllo => {
                "Codice AIC non valido: richieste 9 cifre, la prima 0, l'ultima di controllo corretta"
            }
            Self::CodiceAicObbligatorio => {
                "Codice AIC obbligatorio per le dosi successive alla prima"
            }
            Self::DoseNonValida => "Dose non valida: ammesso un numero da 1 a 9",
            Self::DataNonValida => "Data non valida: formato AAAA-MM-GG",
            Self::PrenotazioneGiaPresente => {
                "Prenotazione già presente per assistito, dose e regione con dati diversi: usare tipo operazione V"
            }
            Self::PrenotazioneNonPresente => {
                "Prenotazione da variare o annullare non presente per assistito, dose e regione"
            }
            Self::RecordDuplicatoNelFlusso => {
                "Record ripetuto nel flusso: assistito, dose e regione già presenti in una posizione precedente"
            }
            Self::DataNelFuturo => "Data di somministrazione successiva alla data odierna",
            Self::DosePrecedenteAssente => {
                "Dose precedente non registrata: inviare prima la dose precedente o richiedere la deroga"
            }
            Self::DataFuoriSequenza => {
                "Data di somministrazione fuori sequenza: anteriore a una dose precedente o successiva a una dose successiva"
            }
            Self::SomministrazioneGiaPresente => {
                "Somministrazione già registrata per assistito e dose con dati diversi: usare tipo operazione V"
            }
            Self::SomministrazioneNonPresente => {
                "Somministrazione da variare o annullare non presente per assistito e dose"
            }
            Self::DoseSuccessivaPresente => {
                "Annullamento non consentito: è registrata una dose successiva"
            }
            Self::ElementoNonPrevisto => {
                "Record del flusso non conforme allo schema: elemento non previsto"
            }
            Self::ElementoRipetuto => {
                "Record del flusso non conforme allo schema: elemento ripetuto"
            }
        }
    }
}

/// A booking record as it arrives (web service or bulk file), every field its lexical value.
#[derive(Debug, Clone, Copy)]
pub struct PrenotazioneIn<'a> {
    pub tipo_operazione: &'a str,
    pub codice_regione: &'a str,
    pub identificativo_assistito: &'a str,
    pub regione_prenotazione: &'a str,
    pub codice_aic: Option<&'a str>,
    pub data_prenotazione: &'a str,
    pub dose: &'a str,
}

/// A booking record that passed every rule that needs no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prenotazione {
    pub tipo_operazione: TipoOperazione,
    pub codice_regione: CodiceRegione,
    pub codice_fiscale: CodiceFiscale,
    pub regione_prenotazione: CodiceRegione,
    pub codice_aic: Option<CodiceAic>,
    pub data_prenotazione: NaiveDate,
    pub dose: i16,
}

/// Checks a booking record (shape, check characters, AIC from dose 2, date, dose) and returns
/// every error found, in field order. The database rules (patient, regions, existing booking)
/// come after, in the repository.
pub fn parse_prenotazione(r: &PrenotazioneIn<'_>) -> Result<Prenotazione, Vec<Errore>> {
    let mut errors = Vec::new();
    let tipo = TipoOperazione::parse(r.tipo_operazione);
    if tipo.is_none() {
        errors.push(Errore::TipoOperazioneNonValido);
    }
    let codice_regione = regione(
        r.codice_regione,
        Errore::CodiceRegioneSconosciuto,
        &mut errors,
    );
    let cf = codice_fiscale(r.identificativo_assistito, &mut errors);
    let regione_prenotazione = regione(
        r.regione_prenotazione,
        Errore::RegioneSconosciuta,
        &mut errors,
    );
    let dose = dose(r.dose, &mut errors);
    let aic = match r.codice_aic.filter(|s| !s.is_empty()) {
        Some(s) => codice_aic(s, &mut errors),
        None => {
            if dose.is_some_and(|d| d > 1) && tipo != Some(TipoOperazione::Cancellazione) {
                errors.push(Errore::CodiceAicObbligatorio);
            }
            None
        }
    };
    let data = date(r.data_prenotazione, &mut errors);
    match (tipo, codice_regione, cf, regione_prenotazione, dose, data) {
        (Some(t), Some(cr), Some(cf), Some(rp), Some(d), Some(data)) if errors.is_empty() => {
            Ok(Prenotazione {
                tipo_operazione: t,
                codice_regione: cr,
                codice_fiscale: cf,
                regione_prenotazione: rp,
                codice_aic: aic,
                data_prenotazione: data,
                dose: d,
            })
        }
        _ => Err(errors),
    }
}

/// An administration record as it arrives, every field its lexical value.
#[derive(Debug, Clone, Copy)]
pub struct SomministrazioneIn<'a> {
    pub tipo_operazione: &'a str,
    pub codice_regione: &'a str,
    pub identificativo_assistito: &'a str,
    pub regione_somministrazione: &'a str,
    pub codice_aic: &'a str,
    pub data_somministrazione: &'a str,
    pub dose: &'a str,
    pub deroga_sequenza_dosi: bool,
}

/// An administration record that passed every rule that needs no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Somministrazione {
    pub tipo_operazione: TipoOperazione,
    pub codice_regione: CodiceRegione,
    pub codice_fiscale: CodiceFiscale,
    pub regione_somministrazione: CodiceRegione,
    pub codice_aic: CodiceAic,
    pub data_somministrazione: NaiveDate,
    pub dose: i16,
    pub deroga_sequenza_dosi: bool,
}

/// Checks an administration record; `today` (Europe/Rome) bounds the date of an insert or a
/// change (a cancel names a record, its date is not a new fact).
pub fn parse_somministrazione(
    r: &SomministrazioneIn<'_>,
    today: NaiveDate,
) -> Result<Somministrazione, Vec<Errore>> {
    let mut errors = Vec::new();
    let tipo = TipoOperazione::parse(r.tipo_operazione);
    if tipo.is_none() {
        errors.push(Errore::TipoOperazioneNonValido);
    }
    let codice_regione = regione(
        r.codice_regione,
        Errore::CodiceRegioneSconosciuto,
        &mut errors,
    );
    let cf = codice_fiscale(r.identificativo_assistito, &mut errors);
    let regione_s = regione(
        r.regione_somministrazione,
        Errore::RegioneSconosciuta,
        &mut errors,
    );
    let aic = codice_aic(r.codice_aic, &mut errors);
    let data = date(r.data_somministrazione, &mut errors);
    if data.is_some_and(|d| d > today) && tipo != Some(TipoOperazione::Cancellazione) {
        errors.push(Errore::DataNelFuturo);
    }
    let dose = dose(r.dose, &mut errors);
    match (tipo, codice_regione, cf, regione_s, aic, data, dose) {
        (Some(t), Some(cr), Some(cf), Some(rs), Some(aic), Some(data), Some(d))
            if errors.is_empty() =>
        {
            Ok(Somministrazione {
                tipo_operazione: t,
                codice_regione: cr,
                codice_fiscale: cf,
                regione_somministrazione: rs,
                codice_aic: aic,
                data_somministrazione: data,
                dose: d,
                deroga_sequenza_dosi: r.deroga_sequenza_dosi,
            })
        }
        _ => Err(errors),
    }
}

/// A codice fiscale; its shape is the schema's business, so a bad shape and a bad check
/// character are both AVN-0101 here (a bulk file has no schema validation per field).
pub fn codice_fiscale(s: &str, errors: &mut Vec<Errore>) -> Option<CodiceFiscale> {
    CodiceFiscale::parse(s)
        .map_err(|_| errors.push(Errore::CodiceFiscaleControllo))
        .ok()
}

/// A region code of the right shape; whether it exists is checked against the `regione` table.
pub fn regione(s: &str, err: Errore, errors: &mut Vec<Errore>) -> Option<CodiceRegione> {
    CodiceRegione::parse(s).map_err(|_| errors.push(err)).ok()
}

pub fn codice_aic(s: &str, errors: &mut Vec<Errore>) -> Option<CodiceAic> {
    // Shape and check digit share one code: the schema checks the shape of a web service
    // request, so only a file record can reach here with a bad shape.
    CodiceAic::parse(s)
        .map_err(|_| errors.push(Errore::CodiceAicControllo))
        .ok()
}

/// A dose number from 1 to 9.
pub fn dose(s: &str, errors: &mut Vec<Errore>) -> Option<i16> {
    match s.parse::<i16>() {
        Ok(d) if (1..=9).contains(&d) => Some(d),
        _ => {
            errors.push(Errore::DoseNonValida);
            None
        }
    }
}

/// An `xs:date` without time zone, `YYYY-MM-DD`.
pub fn date(s: &str, errors: &mut Vec<Errore>) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) if s.len() == 10 => Some(d),
        _ => {
            errors.push(Errore::DataNonValida);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>() -> PrenotazioneIn<'a> {
        PrenotazioneIn {
            tipo_operazione: "I",
            codice_regione: "030",
            identificativo_assistito: "RSSMRA60C15F205L",
            regione_prenotazione: "030",
            codice_aic: None,
            data_prenotazione: "2026-12-01",
            dose: "1",
        }
    }

    #[test]
    fn a_first_dose_needs_no_aic() {
        let p = parse_prenotazione(&record()).expect("valid");
        assert_eq!(p.dose, 1);
        assert_eq!(p.codice_aic, None);
    }

    #[test]
    fn aic_is_required_from_dose_two_except_to_cancel() {
        let r = PrenotazioneIn {
            dose: "2",
            ..record()
        };
        assert_eq!(
            parse_prenotazione(&r).unwrap_err(),
            vec![Errore::CodiceAicObbligatorio]
        );
        let cancel = PrenotazioneIn {
            tipo_operazione: "C",
            ..r
        };
        assert!(parse_prenotazione(&cancel).is_ok());
    }

    #[test]
    fn every_error_is_reported_in_field_order() {
        let r = PrenotazioneIn {
            tipo_operazione: "X",
            identificativo_assistito: "RSSMRA60C15F205X",
            codice_aic: Some("049269019"),
            data_prenotazione: "2026-02-30",
            dose: "0",
            ..record()
        };
        assert_eq!(
            parse_prenotazione(&r).unwrap_err(),
            vec![
                Errore::TipoOperazioneNonValido,
                Errore::CodiceFiscaleControllo,
                Errore::DoseNonValida,
                Errore::CodiceAicControllo,
                Errore::DataNonValida,
            ]
        );
    }

    #[test]
    fn an_administration_may_not_be_in_the_future_unless_cancelled() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let r = SomministrazioneIn {
            tipo_operazione: "I",
            codice_regione: "030",
            identificativo_assistito: "RSSMRA60C15F205L",
            regione_somministrazione: "030",
            codice_aic: "049269018",
            data_somministrazione: "2026-11-28",
            dose: "1",
            deroga_sequenza_dosi: false,
        };
        assert_eq!(
            parse_somministrazione(&r, today).unwrap_err(),
            vec![Errore::DataNelFuturo]
        );
        let today_ok = SomministrazioneIn {
            data_somministrazione: "2026-11-27",
            ..r
        };
        assert!(parse_somministrazione(&today_ok, today).is_ok());
        let cancel = SomministrazioneIn {
            tipo_operazione: "C",
            ..r
        };
        assert!(parse_somministrazione(&cancel, today).is_ok());
    }

    #[test]
    fn every_code_is_listed_in_the_integrators_guide() {
        let readme = include_str!("../../../docs/integrators.md");
        for e in Errore::ALL {
            assert!(
                readme.contains(&format!("| {} |", e.codice())),
                "{} missing from docs/integrators.md",
                e.codice()
            );
        }
    }

    #[test]
    fn codes_are_unique_and_fit_the_schema() {
        let mut seen = std::collections::HashSet::new();
        for e in Errore::ALL {
            assert!(seen.insert(e.codice()), "{} twice", e.codice());
            assert!(e.codice().len() <= 10);
            assert!(e.descrizione().chars().count() <= 255);
        }
    }
}
