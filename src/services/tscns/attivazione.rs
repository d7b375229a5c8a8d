//! AttivazioneTSCNS: the CMS of a region reports that the CNS function of one of its cards was
//! activated with an authentication certificate. Idempotent: the same activation again is
//! esito 00 and writes nothing.

use super::regole::{self, Applicata, AttivazioneIn};
use super::repo;
use crate::contracts::attivazione_tscns::{
    AttivazioneTSCNSRicevuta as Ricevuta, AttivazioneTSCNSRichiesta as Richiesta, NAMESPACE,
};
use crate::db::DbError;
use crate::services::scrittura;
use crate::soap::{typed, Handler, Operation, Outcome, RequestCtx};
use diesel::PgConnection;

pub static ATTIVAZIONE_TSCNS: Operation = Operation {
    name: "AttivazioneTSCNS",
    path: "/ws/AttivazioneTSCNS",
    soap_action: "urn:tsgate:tscns:attivazioneTSCNS#AttivazioneTSCNS",
    request_ns: NAMESPACE,
    request_element: "AttivazioneTSCNSRichiesta",
    wsdl: include_str!("../../../wsdl/AttivazioneTSCNS.wsdl"),
    schemas: crate::tscns_schemas!("AttivazioneTSCNS"),
    callers: super::CHIAMANTI,
    handler: Handler::Write(handle),
};

fn handle(conn: &mut PgConnection, ctx: &RequestCtx, body: &str) -> Result<Outcome, DbError> {
    let (req, log, regione) = match super::richiesta(ctx, body, |r: &Richiesta| &r.numero_tessera) {
        Ok(x) => x,
        Err(answer) => return Ok(answer),
    };
    let record = regole::parse_attivazione(
        &AttivazioneIn {
            codice_fiscale: Some(&req.codice_fiscale),
            numero_tessera: Some(&req.numero_tessera),
            seriale: Some(&req.seriale_certificato),
            emittente: Some(&req.emittente_certificato),
            valido_dal: Some(&req.data_inizio_validita),
            valido_al: Some(&req.data_fine_validita),
            data_attivazione: Some(&req.data_attivazione),
        },
        crate::domain::tempo::oggi_roma(),
    );
    scrittura::registra(
        conn,
        ctx,
        log,
        record,
        |c, a, tx| repo::applica_attivazione(c, &regione, a, tx),
        |fatto| match fatto {
            Applicata::Registrata => "Attivazione della TS-CNS registrata".to_owned(),
            Applicata::GiaPresente => {
                "Attivazione già registrata con gli stessi dati: nessuna modifica".to_owned()
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
