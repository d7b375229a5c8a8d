//! TrasmissioneSomministrazione (decree 31 May 2021, annex A, section 4.2.3): the Anagrafe
//! Nazionale Vaccini inserts (I), changes (V) or cancels (C) one administration, one per
//! patient and dose. Rules: no date in the future; dose n after dose n-1 (unless the region
//! sends `derogaSequenzaDosi`), dates in dose order; a different second insert of a dose is a
//! duplicate; a cancel removes the record, and not below a later dose.

use super::avn::{self, SomministrazioneIn};
use super::{repo, trasmissione};
use crate::access::TipoChiamante;
use crate::audit::LogFields;
use crate::contracts::trasmissione_somministrazione::{
    TrasmissioneSomministrazioneRicevuta as Ricevuta,
    TrasmissioneSomministrazioneRichiesta as Richiesta, NAMESPACE,
};
use crate::db::DbError;
use crate::soap::operation::TIPI_DATI_XSD;
use crate::soap::{typed, Operation, Outcome, RequestCtx};
use diesel::PgConnection;

pub static TRASMISSIONE_SOMMINISTRAZIONE: Operation = Operation {
    name: "TrasmissioneSomministrazione",
    path: "/ws/TrasmissioneSomministrazione",
    soap_action: "urn:tsgate:vaccini:trasmissioneSomministrazione#TrasmissioneSomministrazione",
    request_ns: NAMESPACE,
    request_element: "TrasmissioneSomministrazioneRichiesta",
    wsdl: include_str!("../../../wsdl/TrasmissioneSomministrazione.wsdl"),
    schemas: &[
        (
            "TrasmissioneSomministrazione.xsd",
            include_str!("../../../xsd/TrasmissioneSomministrazione.xsd"),
        ),
        TIPI_DATI_XSD,
    ],
    callers: &[TipoChiamante::Avn],
    handler: handle,
};

fn handle(conn: &mut PgConnection, ctx: &RequestCtx, body: &str) -> Result<Outcome, DbError> {
    let req: Richiesta = match typed::decode(body) {
        Ok(r) => r,
        Err(fault) => return Ok(Outcome::fault(fault, LogFields::default())),
    };
    // xs:boolean: "true" or "1".
    let deroga = matches!(req.deroga_sequenza_dosi.as_deref(), Some("true" | "1"));
    let record = avn::parse_somministrazione(
        &SomministrazioneIn {
            tipo_operazione: &req.tipo_operazione,
            codice_regione: &req.codice_regione,
            identificativo_assistito: &req.identificativo_assistito,
            regione_somministrazione: &req.regione_somministrazione,
            codice_aic: &req.codice_aic,
            data_somministrazione: &req.data_somministrazione,
            dose: &req.dose,
            deroga_sequenza_dosi: deroga,
        },
        crate::domain::tempo::oggi_roma(),
    );
    trasmissione::trasmetti(
        conn,
        ctx,
        "Somministrazione",
        record,
        repo::applica_somministrazione,
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
