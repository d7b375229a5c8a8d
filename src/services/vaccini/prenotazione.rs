//! TrasmissionePrenotazione (decree 31 May 2021, annex A, section 4.1.3): the Anagrafe
//! Nazionale Vaccini inserts (I), changes (V) or cancels (C) one booking. A booking is one
//! patient, dose and booking region; the same insert twice stores it once (esito 00 both times).

use super::avn::{self, PrenotazioneIn};
use super::{repo, trasmissione};
use crate::access::TipoChiamante;
use crate::audit::LogFields;
use crate::contracts::trasmissione_prenotazione::{
    TrasmissionePrenotazioneRicevuta as Ricevuta, TrasmissionePrenotazioneRichiesta as Richiesta,
    NAMESPACE,
};
use crate::db::DbError;
use crate::soap::operation::TIPI_DATI_XSD;
use crate::soap::{typed, Handler, Operation, Outcome, RequestCtx};
use diesel::PgConnection;

pub static TRASMISSIONE_PRENOTAZIONE: Operation = Operation {
    name: "TrasmissionePrenotazione",
    path: "/ws/TrasmissionePrenotazione",
    soap_action: "urn:tsgate:vaccini:trasmissionePrenotazione#TrasmissionePrenotazione",
    request_ns: NAMESPACE,
    request_element: "TrasmissionePrenotazioneRichiesta",
    wsdl: include_str!("../../../wsdl/TrasmissionePrenotazione.wsdl"),
    schemas: &[
        (
            "TrasmissionePrenotazione.xsd",
            include_str!("../../../xsd/TrasmissionePrenotazione.xsd"),
        ),
        TIPI_DATI_XSD,
    ],
    callers: &[TipoChiamante::Avn],
    handler: Handler::Write(handle),
};

fn handle(conn: &mut PgConnection, ctx: &RequestCtx, body: &str) -> Result<Outcome, DbError> {
    let req: Richiesta = match typed::decode(body) {
        Ok(r) => r,
        Err(fault) => return Ok(Outcome::fault(fault, LogFields::default())),
    };
    let record = avn::parse_prenotazione(&PrenotazioneIn {
        tipo_operazione: &req.tipo_operazione,
        codice_regione: &req.codice_regione,
        identificativo_assistito: &req.identificativo_assistito,
        regione_prenotazione: &req.regione_prenotazione,
        codice_aic: req.codice_aic.as_deref(),
        data_prenotazione: &req.data_prenotazione,
        dose: &req.dose,
    });
    trasmissione::trasmetti(
        conn,
        ctx,
        "Prenotazione",
        record,
        repo::applica_prenotazione,
        |e| {
            typed::encode(&Ricevuta {
                identificativo_transazione: ctx.transaction_id.to_string(),
                esito: e.esito.to_owned(),
                descrizione_esito: e.descrizione,
                lista_errori: e.errori,
            })
        },
    )
}
