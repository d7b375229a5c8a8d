//! ConfermaRevoche: a regional CMS acknowledges notices of its region by idComunicazione; an
//! acknowledged notice is no longer delivered. Idempotent: acknowledging twice is esito 00. An
//! id that is unknown or of another region is refused with CNS-0401 (the same answer either
//! way); the valid ids of a partly wrong request are acknowledged all the same (esito 01 lists
//! only the refused ones). The acknowledgement and its access-log row commit in one transaction.

use super::elenco::numero;
use super::repo;
use crate::access::TipoChiamante;
use crate::audit::LogFields;
use crate::contracts::conferma_revoche::{
    ConfermaRevocheRicevuta as Ricevuta, ConfermaRevocheRicevutaListaErrori as ListaErrori,
    ConfermaRevocheRichiesta as Richiesta, NAMESPACE,
};
use crate::contracts::tipi_dati::MessaggioType;
use crate::db::DbError;
use crate::services::scrittura::{self, Abort};
use crate::services::tscns::errore::Errore;
use crate::services::tscns::regione;
use crate::soap::operation::TIPI_DATI_XSD;
use crate::soap::{typed, Fault, Handler, Operation, Outcome, RequestCtx};
use diesel::prelude::*;
use std::collections::BTreeSet;

pub static CONFERMA_REVOCHE: Operation = Operation {
    name: "ConfermaRevoche",
    path: "/ws/ConfermaRevoche",
    soap_action: "urn:tsgate:tscns:confermaRevoche#ConfermaRevoche",
    request_ns: NAMESPACE,
    request_element: "ConfermaRevocheRichiesta",
    wsdl: include_str!("../../../../wsdl/ConfermaRevoche.wsdl"),
    schemas: &[
        (
            "ConfermaRevoche.xsd",
            include_str!("../../../../xsd/ConfermaRevoche.xsd"),
        ),
        TIPI_DATI_XSD,
    ],
    callers: &[TipoChiamante::Cms],
    handler: Handler::Write(handle),
};

fn ricevuta(ctx: &RequestCtx, confermate: usize, rifiutate: &[i64]) -> (Ricevuta, &'static str) {
    let esito = if rifiutate.is_empty() { "00" } else { "01" };
    let descrizione = match (confermate, rifiutate.len()) {
        (1, 0) => "Conferma registrata: 1 comunicazione di revoca confermata".to_owned(),
        (n, 0) => format!("Conferma registrata: {n} comunicazioni di revoca confermate"),
        (n, m) => format!(
            "Conferma con esito negativo per {m} identificativi (vedere listaErrori); \
             comunicazioni di revoca confermate: {n}"
        ),
    };
    let errori = (!rifiutate.is_empty()).then(|| ListaErrori {
        errore: rifiutate
            .iter()
            .map(|id| MessaggioType {
                codice: Errore::ComunicazioneSconosciuta.codice().to_owned(),
                descrizione: format!(
                    "idComunicazione {id}: {}",
                    Errore::ComunicazioneSconosciuta.descrizione()
                ),
            })
            .collect(),
    });
    let r = Ricevuta {
        identificativo_transazione: ctx.transaction_id.to_string(),
        esito: esito.to_owned(),
        descrizione_esito: descrizione,
        numero_confermate: confermate.to_string(),
        lista_errori: errori,
    };
    (r, esito)
}

fn handle(conn: &mut PgConnection, ctx: &RequestCtx, body: &str) -> Result<Outcome, DbError> {
    let fault = |f: Fault| Ok(Outcome::fault(f, LogFields::default()));
    let req: Richiesta = match typed::decode(body) {
        Ok(r) => r,
        Err(f) => return fault(f),
    };
    let regione = match regione(ctx) {
        Ok(r) => r,
        Err(f) => return fault(f),
    };
    let mut ids = BTreeSet::new();
    for id in &req.id_comunicazione {
        match numero("idComunicazione", id) {
            Ok(n) => ids.insert(n),
            Err(f) => return fault(f),
        };
    }
    let ids: Vec<i64> = ids.into_iter().collect();
    let result = conn.transaction(|c| {
        let trovate: BTreeSet<i64> = repo::conferma(c, regione, &ids, ctx.transaction_id)?
            .into_iter()
            .collect();
        let rifiutate: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| !trovate.contains(id))
            .collect();
        let (r, esito) = ricevuta(ctx, trovate.len(), &rifiutate);
        let xml = typed::encode(&r).map_err(Abort::Fault)?;
        crate::audit::insert_in(c, &ctx.access_record(esito, LogFields::default()))?;
        Ok::<_, Abort>(Outcome::logged(xml, esito))
    });
    scrittura::concludi(result, LogFields::default())
}
