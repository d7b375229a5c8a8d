//! RevocaTSCNS: the CMS of a region reports that the CNS function of one of its cards was
//! revoked (furto, smarrimento, deterioramento, decesso, sostituzione, altro). Idempotent; a
//! revoked card can no longer be activated or renewed.

use super::regole::{self, Applicata, RevocaIn};
use super::repo;
use crate::contracts::revoca_tscns::{
    RevocaTSCNSRicevuta as Ricevuta, RevocaTSCNSRichiesta as Richiesta, NAMESPACE,
};
use crate::db::DbError;
use crate::services::scrittura;
use crate::soap::{typed, Handler, Operation, Outcome, RequestCtx};
use diesel::PgConnection;

pub static REVOCA_TSCNS: Operation = Operation {
    name: "RevocaTSCNS",
    path: "/ws/RevocaTSCNS",
    soap_action: "urn:tsgate:tscns:revocaTSCNS#RevocaTSCNS",
    request_ns: NAMESPACE,
    request_element: "RevocaTSCNSRichiesta",
    wsdl: include_str!("../../../wsdl/RevocaTSCNS.wsdl"),
    schemas: crate::tscns_schemas!("RevocaTSCNS"),
    callers: super::CHIAMANTI,
    handler: Handler::Write(handle),
};

fn handle(conn: &mut PgConnection, ctx: &RequestCtx, body: &str) -> Result<Outcome, DbError> {
    let (req, log, regione) = match super::richiesta(ctx, body, |r: &Richiesta| &r.numero_tessera) {
        Ok(x) => x,
        Err(answer) => return Ok(answer),
    };
    let record = regole::parse_revoca(
        &RevocaIn {
            numero_tessera: Some(&req.numero_tessera),
            motivo: Some(&req.motivo),
            data_revoca: Some(&req.data_revoca),
        },
        crate::domain::tempo::oggi_roma(),
    );
    scrittura::registra(
        conn,
        ctx,
        log,
        record,
        |c, r, tx| repo::applica_revoca(c, &regione, r, tx),
        |fatto| match fatto {
            Applicata::Registrata => "Revoca della TS-CNS registrata".to_owned(),
            Applicata::GiaPresente => {
                "Revoca già registrata con gli stessi dati: nessuna modifica".to_owned()
            }
        },
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
