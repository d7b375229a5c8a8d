//! VerificaAssistitoFuoriRegione (decree 31 May 2021, annex A, section 3): a region, or the
//! Piattaforma Nazionale on a region's behalf, checks a patient assisted by another region.
//!
//! esito 01 when the data do not match the registry (unknown codice fiscale, card number not
//! the patient's, expiry not the card's); 02 when the patient is assisted by the calling region;
//! 00 otherwise, with the assistance region, the residence region when different, and the
//! cluster (only while the patient has neither a booking nor an administration).

use super::repo::{self, Assistito, Tessera};
use crate::access::TipoChiamante;
use crate::audit::LogFields;
use crate::contracts::verifica_assistito_fuori_regione::{
    VerificaAssistitoFuoriRegioneRicevuta as Ricevuta,
    VerificaAssistitoFuoriRegioneRichiesta as Richiesta, NAMESPACE,
};
use crate::db::DbError;
use crate::domain::{CodiceFiscale, CodiceRegione, DomainError};
use crate::soap::operation::TIPI_DATI_XSD;
use crate::soap::typed;
use crate::soap::{Fault, FaultCode, Handler, Operation, Outcome, RequestCtx};
use chrono::NaiveDate;
use diesel::PgConnection;

pub static VERIFICA_ASSISTITO_FUORI_REGIONE: Operation = Operation {
    name: "VerificaAssistitoFuoriRegione",
    path: "/ws/VerificaAssistitoFuoriRegione",
    soap_action: "urn:tsgate:vaccini:verificaAssistitoFuoriRegione#VerificaAssistitoFuoriRegione",
    request_ns: NAMESPACE,
    request_element: "VerificaAssistitoFuoriRegioneRichiesta",
    wsdl: include_str!("../../../wsdl/VerificaAssistitoFuoriRegione.wsdl"),
    schemas: &[
        (
            "VerificaAssistitoFuoriRegione.xsd",
            include_str!("../../../xsd/VerificaAssistitoFuoriRegione.xsd"),
        ),
        TIPI_DATI_XSD,
    ],
    callers: &[TipoChiamante::Regione, TipoChiamante::PiattaformaNazionale],
    handler: Handler::Read(handle),
};

/// The decision of the service, before it is written as a Ricevuta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Esito {
    CodiceFiscaleSconosciuto,
    TesseraNonCoerente,
    ScadenzaNonCoerente,
    NonFuoriRegione,
    FuoriRegione {
        regione_assistenza: String,
        regione_residenza: Option<String>,
        cluster: Option<String>,
    },
}

impl Esito {
    pub fn code(&self) -> &'static str {
        match self {
            Self::FuoriRegione { .. } => "00",
            Self::NonFuoriRegione => "02",
            _ => "01",
        }
    }

    pub fn descrizione(&self) -> &'static str {
        match self {
            Self::CodiceFiscaleSconosciuto => {
                "Codice fiscale non presente nella banca dati del Sistema TS"
            }
            Self::TesseraNonCoerente => {
                "Numero di tessera sanitaria non coerente con il codice fiscale"
            }
            Self::ScadenzaNonCoerente => "Data di scadenza non coerente con la tessera sanitaria",
            Self::NonFuoriRegione => {
                "Verifica non effettuata: l'assistito non è fuori regione per la regione chiamante"
            }
            Self::FuoriRegione { .. } => {
                "Dati coerenti con la banca dati del Sistema TS: assistito fuori regione"
            }
        }
    }
}

/// The rules of section 3.3, on data already read.
pub fn decide(
    found: Option<&(Assistito, Vec<Tessera>)>,
    numero_tessera: Option<&str>,
    scadenza: Option<NaiveDate>,
    regione_chiamante: &str,
) -> Esito {
    let Some((assistito, tessere)) = found else {
        return Esito::CodiceFiscaleSconosciuto;
    };
    let candidates: Vec<&Tessera> = match numero_tessera {
        Some(n) => tessere.iter().filter(|t| t.numero == n).collect(),
        None => tessere.iter().collect(),
    };
    if numero_tessera.is_some() && candidates.is_empty() {
        return Esito::TesseraNonCoerente;
    }
    if let Some(s) = scadenza {
        if !candidates.iter().any(|t| t.data_scadenza == s) {
            return Esito::ScadenzaNonCoerente;
        }
    }
    if assistito.regione_assistenza == regione_chiamante {
        return Esito::NonFuoriRegione;
    }
    Esito::FuoriRegione {
        regione_assistenza: assistito.regione_assistenza.clone(),
        regione_residenza: (assistito.regione_residenza != assistito.regione_assistenza)
            .then(|| assistito.regione_residenza.clone()),
        // Section 3.3: the cluster only while there is no booking or administration.
        cluster: assistito
            .identificativo_cluster
            .clone()
            .filter(|_| !assistito.prenotato_o_vaccinato),
    }
}

fn handle(conn: &mut PgConnection, ctx: &RequestCtx, body: &str) -> Result<Outcome, DbError> {
    let req: Richiesta = match typed::decode(body) {
        Ok(r) => r,
        Err(fault) => {
            return Ok(Outcome::fault(
                fault,
                super::log_richiesta_rifiutata(body, false),
            ))
        }
    };
    // Section 3.5: codice fiscale always; card number and expiry only for a negative outcome
    // (esito 01). 02 is "verification not performed", a fault is no outcome: neither keeps them.
    let scadenza = req
        .data_scadenza_tessera
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let negative_log = LogFields {
        codice_fiscale: Some(req.codice_fiscale.clone()),
        numero_tessera: req.numero_tessera.clone(),
        data_scadenza_tessera: scadenza,
        esito_solo_se_negativo: false,
    };
    let cf_only = LogFields {
        codice_fiscale: Some(req.codice_fiscale.clone()),
        ..LogFields::default()
    };
    let refuse = |code: FaultCode| Ok(Outcome::fault(Fault::new(code), cf_only.clone()));

    let cf = match CodiceFiscale::parse(&req.codice_fiscale) {
        Ok(cf) => cf,
        Err(DomainError::CodiceFiscaleControllo) => {
            return Ok(Outcome::fault(
                Fault::with_detail(
                    FaultCode::CodiceFiscaleInvalid,
                    "carattere di controllo errato",
                ),
                cf_only,
            ))
        }
        Err(_) => return refuse(FaultCode::CodiceFiscaleInvalid),
    };
    let regione_chiamante = match (ctx.caller.tipo, req.regione_chiamante.as_deref()) {
        (TipoChiamante::PiattaformaNazionale, Some(r)) => {
            let Ok(code) = CodiceRegione::parse(r) else {
                return refuse(FaultCode::RegioneChiamanteUnknown);
            };
            if !repo::regione_esiste(conn, &code)? {
                return refuse(FaultCode::RegioneChiamanteUnknown);
            }
            code.as_str().to_owned()
        }
        (TipoChiamante::PiattaformaNazionale, None) => {
            return refuse(FaultCode::RegioneChiamanteRequired)
        }
        (_, Some(_)) => return refuse(FaultCode::RegioneChiamanteNotAllowed),
        (_, None) => match &ctx.caller.codice_regione {
            Some(r) => r.clone(),
            None => return refuse(FaultCode::RegioneChiamanteRequired),
        },
    };

    let found = repo::assistito_con_tessere(conn, &cf)?;
    let esito = decide(
        found.as_ref(),
        req.numero_tessera.as_deref(),
        scadenza,
        &regione_chiamante,
    );
    let log = if esito.code() == "01" {
        negative_log
    } else {
        cf_only
    };
    let mut ricevuta = Ricevuta {
        identificativo_transazione: ctx.transaction_id.to_string(),
        esito: esito.code().to_owned(),
        descrizione_esito: esito.descrizione().to_owned(),
        ..Ricevuta::default()
    };
    if let Esito::FuoriRegione {
        regione_assistenza,
        regione_residenza,
        cluster,
    } = esito.clone()
    {
        ricevuta.regione_assistenza = Some(regione_assistenza);
        ricevuta.regione_residenza = regione_residenza;
        ricevuta.identificativo_cluster = cluster;
    }
    Ok(match typed::encode(&ricevuta) {
        Ok(xml) => Outcome::answer(xml, esito.code(), log),
        Err(fault) => Outcome::fault(fault, log),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient() -> (Assistito, Vec<Tessera>) {
        let d = |y, m, g| NaiveDate::from_ymd_opt(y, m, g).unwrap();
        (
            Assistito {
                codice_fiscale: "BNCGLI85L42H501P".into(),
                regione_assistenza: "120".into(),
                regione_residenza: "030".into(),
                identificativo_cluster: Some("SANITARI".into()),
                prenotato_o_vaccinato: false,
            },
            vec![
                Tessera {
                    numero: "80380120000000000002".into(),
                    data_scadenza: d(2028, 1, 31),
                },
                Tessera {
                    numero: "80380120000000000099".into(),
                    data_scadenza: d(2022, 1, 31),
                },
            ],
        )
    }

    #[test]
    fn unknown_patient_is_01() {
        assert_eq!(
            decide(None, None, None, "030"),
            Esito::CodiceFiscaleSconosciuto
        );
    }

    #[test]
    fn card_and_expiry_must_match_the_same_card() {
        let p = patient();
        let exp = NaiveDate::from_ymd_opt(2028, 1, 31);
        assert_eq!(
            decide(Some(&p), Some("80380120000000000000"), None, "030"),
            Esito::TesseraNonCoerente
        );
        assert_eq!(
            decide(Some(&p), Some("80380120000000000099"), exp, "030"),
            Esito::ScadenzaNonCoerente
        );
        assert_eq!(
            decide(Some(&p), None, NaiveDate::from_ymd_opt(2030, 1, 1), "030"),
            Esito::ScadenzaNonCoerente
        );
        assert_eq!(
            decide(Some(&p), Some("80380120000000000002"), exp, "030").code(),
            "00"
        );
    }

    #[test]
    fn own_region_is_02_and_others_get_the_regions() {
        let p = patient();
        assert_eq!(decide(Some(&p), None, None, "120"), Esito::NonFuoriRegione);
        assert_eq!(
            decide(Some(&p), None, None, "030"),
            Esito::FuoriRegione {
                regione_assistenza: "120".into(),
                regione_residenza: Some("030".into()),
                cluster: Some("SANITARI".into())
            }
        );
    }

    #[test]
    fn the_cluster_is_given_only_without_bookings_or_administrations() {
        let mut p = patient();
        p.0.prenotato_o_vaccinato = true;
        assert_eq!(
            decide(Some(&p), None, None, "030"),
            Esito::FuoriRegione {
                regione_assistenza: "120".into(),
                regione_residenza: Some("030".into()),
                cluster: None
            }
        );
    }

    #[test]
    fn consistency_is_checked_before_the_region() {
        let p = patient();
        assert_eq!(
            decide(Some(&p), Some("80380120000000000000"), None, "120"),
            Esito::TesseraNonCoerente
        );
    }
}
