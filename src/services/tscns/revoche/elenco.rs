//! ElencoRevoche: a regional CMS pulls the revocation notices of its region that it has not
//! acknowledged, after `cursore` (absent: from the start, so every pending notice is delivered
//! again until acknowledged), by idComunicazione, at most `numeroMassimo` (default 100).
//! Always esito 00; a region's notices are never delivered to another. Read only: the
//! access-log row goes through the group-commit writer.

use super::repo;
use crate::access::TipoChiamante;
use crate::audit::LogFields;
use crate::contracts::elenco_revoche::{
    ElencoRevocheRicevuta as Ricevuta, ElencoRevocheRicevutaListaRevoche as Lista,
    ElencoRevocheRicevutaListaRevocheRevoca as Voce, ElencoRevocheRichiesta as Richiesta,
    NAMESPACE,
};
use crate::db::DbError;
use crate::domain::tempo::data_roma;
use crate::soap::operation::TIPI_DATI_XSD;
use crate::soap::{typed, Fault, FaultCode, Handler, Operation, Outcome, RequestCtx};
use diesel::PgConnection;

pub static ELENCO_REVOCHE: Operation = Operation {
    name: "ElencoRevoche",
    path: "/ws/ElencoRevoche",
    soap_action: "urn:tsgate:tscns:elencoRevoche#ElencoRevoche",
    request_ns: NAMESPACE,
    request_element: "ElencoRevocheRichiesta",
    wsdl: include_str!("../../../../wsdl/ElencoRevoche.wsdl"),
    schemas: &[
        (
            "ElencoRevoche.xsd",
            include_str!("../../../../xsd/ElencoRevoche.xsd"),
        ),
        TIPI_DATI_XSD,
    ],
    callers: &[TipoChiamante::Cms],
    handler: Handler::Read(handle),
};

/// `numeroMassimo` when the request has none.
pub const NUMERO_MASSIMO_PREDEFINITO: i64 = 100;

/// A value the schema already checked, as a number (a failure is a schema fault all the same).
pub(super) fn numero(campo: &str, valore: &str) -> Result<i64, Fault> {
    valore.trim().parse::<i64>().map_err(|_| {
        Fault::with_detail(
            FaultCode::SchemaViolation,
            format!("campo {campo}: valore fuori dall'intervallo ammesso"),
        )
    })
}

fn handle(conn: &mut PgConnection, ctx: &RequestCtx, body: &str) -> Result<Outcome, DbError> {
    let log = LogFields::default();
    let fault = |f: Fault| Ok(Outcome::fault(f, LogFields::default()));
    let req: Richiesta = match typed::decode(body) {
        Ok(r) => r,
        Err(f) => return fault(f),
    };
    let regione = match crate::services::tscns::regione(ctx) {
        Ok(r) => r,
        Err(f) => return fault(f),
    };
    let cursore = match req.cursore.as_deref().map(|c| numero("cursore", c)) {
        None => 0,
        Some(Ok(c)) => c,
        Some(Err(f)) => return fault(f),
    };
    let massimo = match req
        .numero_massimo
        .as_deref()
        .map(|n| numero("numeroMassimo", n))
    {
        None => NUMERO_MASSIMO_PREDEFINITO,
        Some(Ok(n)) => n,
        Some(Err(f)) => return fault(f),
    };
    // One more than asked: whether more follow, without counting them.
    let mut righe = repo::pendenti(conn, regione, cursore, massimo + 1)?;
    let altre = righe.len() as i64 > massimo;
    righe.truncate(usize::try_from(massimo).unwrap_or(0));
    let successivo = righe.last().map_or(cursore, |r| r.id);
    let descrizione = match (righe.len(), altre) {
        (0, _) => "Nessuna comunicazione di revoca da consegnare".to_owned(),
        (1, false) => "1 comunicazione di revoca da confermare".to_owned(),
        (n, false) => format!("{n} comunicazioni di revoca da confermare"),
        (n, true) => format!(
            "{n} comunicazioni di revoca da confermare; altre disponibili dopo il cursore {successivo}"
        ),
    };
    let lista = (!righe.is_empty()).then(|| Lista {
        revoca: righe
            .into_iter()
            .map(|r| Voce {
                id_comunicazione: r.id.to_string(),
                numero_tessera: r.numero_tessera,
                codice_fiscale: r.codice_fiscale,
                seriale_certificato: r.seriale_certificato,
                emittente_certificato: r.emittente_certificato,
                motivo: r.motivo,
                data_evento: r.data_evento.to_string(),
                data_comunicazione: data_roma(r.creata_il).to_string(),
            })
            .collect(),
    });
    let ricevuta = Ricevuta {
        identificativo_transazione: ctx.transaction_id.to_string(),
        esito: "00".to_owned(),
        descrizione_esito: descrizione,
        lista_revoche: lista,
        cursore_successivo: successivo.to_string(),
        altre_revoche: altre.to_string(),
    };
    Ok(match typed::encode(&ricevuta) {
        Ok(xml) => Outcome::answer(xml, "00", log),
        Err(f) => Outcome::fault(f, log),
    })
}
