//! VerificaSomministrazioni (decree 31 May 2021, annex A, section 6.3): a region or the
//! Piattaforma Nazionale reads the administrations recorded for a patient before a new one.
//!
//! esito 01 when the data do not match the registry (unknown codice fiscale, card number not
//! the patient's); 00 otherwise, with the administrations in dose order (none is still 00).
//! `numeroTessera` is required from callers whose `tessera_obbligatoria` is set (TSG-0306).
//! Access log (section 6.5): codice fiscale always, esito only when negative.

use super::repo;
use crate::access::TipoChiamante;
use crate::audit::LogFields;
use crate::contracts::verifica_somministrazioni::{
    VerificaSomministrazioniRicevuta as Ricevuta,
    VerificaSomministrazioniRicevutaListaSomministrazioni as Lista,
    VerificaSomministrazioniRicevutaListaSomministrazioniSomministrazione as Voce,
    VerificaSomministrazioniRichiesta as Richiesta, NAMESPACE,
};
use crate::db::DbError;
use crate::domain::{CodiceFiscale, DomainError};
use crate::soap::operation::TIPI_DATI_XSD;
use crate::soap::{typed, Fault, FaultCode, Handler, Operation, Outcome, RequestCtx};
use diesel::PgConnection;

pub static VERIFICA_SOMMINISTRAZIONI: Operation = Operation {
    name: "VerificaSomministrazioni",
    path: "/ws/VerificaSomministrazioni",
    soap_action: "urn:tsgate:vaccini:verificaSomministrazioni#VerificaSomministrazioni",
    request_ns: NAMESPACE,
    request_element: "VerificaSomministrazioniRichiesta",
    wsdl: include_str!("../../../wsdl/VerificaSomministrazioni.wsdl"),
    schemas: &[
        (
            "VerificaSomministrazioni.xsd",
            include_str!("../../../xsd/VerificaSomministrazioni.xsd"),
        ),
        TIPI_DATI_XSD,
    ],
    callers: &[TipoChiamante::Regione, TipoChiamante::PiattaformaNazionale],
    handler: Handler::Read(handle),
};

const CF_SCONOSCIUTO: &str = "Codice fiscale non presente nella banca dati del Sistema TS";
const TESSERA_NON_COERENTE: &str = "Numero di tessera sanitaria non coerente con il codice fiscale";

fn handle(conn: &mut PgConnection, ctx: &RequestCtx, body: &str) -> Result<Outcome, DbError> {
    let req: Richiesta = match typed::decode(body) {
        Ok(r) => r,
        Err(fault) => {
            return Ok(Outcome::fault(
                fault,
                super::log_richiesta_rifiutata(body, true),
            ))
        }
    };
    // Section 6.5: the codice fiscale always, the esito only when negative.
    let log = LogFields {
        codice_fiscale: Some(req.codice_fiscale.clone()),
        esito_solo_se_negativo: true,
        ..LogFields::default()
    };
    let fault = |f: Fault| Ok(Outcome::fault(f, log.clone()));
    let cf = match CodiceFiscale::parse(&req.codice_fiscale) {
        Ok(cf) => cf,
        Err(DomainError::CodiceFiscaleControllo) => {
            return fault(Fault::with_detail(
                FaultCode::CodiceFiscaleInvalid,
                "carattere di controllo errato",
            ))
        }
        Err(_) => return fault(Fault::new(FaultCode::CodiceFiscaleInvalid)),
    };
    if req.numero_tessera.is_none() && ctx.caller.tessera_obbligatoria {
        return fault(Fault::new(FaultCode::NumeroTesseraRequired));
    }

    let found = repo::assistito_con_tessere(conn, &cf)?;
    let (esito, descrizione, lista) = match found {
        None => ("01", CF_SCONOSCIUTO.to_owned(), None),
        Some((_, tessere))
            if req
                .numero_tessera
                .as_deref()
                .is_some_and(|n| !tessere.iter().any(|t| t.numero == n)) =>
        {
            ("01", TESSERA_NON_COERENTE.to_owned(), None)
        }
        Some(_) => {
            let doses = repo::somministrazioni(conn, &cf)?;
            let descrizione = match doses.len() {
                0 => "Dati coerenti: nessuna somministrazione registrata".to_owned(),
                1 => "Dati coerenti: 1 somministrazione registrata".to_owned(),
                n => format!("Dati coerenti: {n} somministrazioni registrate"),
            };
            let lista = (!doses.is_empty()).then(|| Lista {
                somministrazione: doses
                    .into_iter()
                    .map(|d| Voce {
                        data_somministrazione: d.data_somministrazione.to_string(),
                        numero_dose: d.dose.to_string(),
                        codice_aic: d.codice_aic,
                        regione_somministrazione: d.regione_somministrazione,
                    })
                    .collect(),
            });
            ("00", descrizione, lista)
        }
    };
    let ricevuta = Ricevuta {
        identificativo_transazione: ctx.transaction_id.to_string(),
        esito: esito.to_owned(),
        descrizione_esito: descrizione,
        lista_somministrazioni: lista,
    };
    Ok(match typed::encode(&ricevuta) {
        Ok(xml) => Outcome::answer(xml, esito, log),
        Err(f) => Outcome::fault(f, log),
    })
}
