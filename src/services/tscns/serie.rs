//! ElencoSerieCarte: the card series (the SIGLA printed on the card) with their manufacturer,
//! the card-management software per operating system (seed 000) and whether the certificate
//! extension asks for the PUK (seed 001). Reference data, also shown in the portal.

use super::repo;
use crate::audit::LogFields;
use crate::contracts::elenco_serie_carte::{
    ElencoSerieCarteRicevuta as Ricevuta, ElencoSerieCarteRichiesta as Richiesta, SerieType,
    SoftwareType, NAMESPACE,
};
use crate::db::DbError;
use crate::soap::{typed, Handler, Operation, Outcome, RequestCtx};
use diesel::PgConnection;

pub static ELENCO_SERIE_CARTE: Operation = Operation {
    name: "ElencoSerieCarte",
    path: "/ws/ElencoSerieCarte",
    soap_action: "urn:tsgate:tscns:elencoSerieCarte#ElencoSerieCarte",
    request_ns: NAMESPACE,
    request_element: "ElencoSerieCarteRichiesta",
    wsdl: include_str!("../../../wsdl/ElencoSerieCarte.wsdl"),
    schemas: crate::tscns_schemas!("ElencoSerieCarte"),
    callers: super::CHIAMANTI,
    handler: Handler::Read(handle),
};

fn handle(conn: &mut PgConnection, ctx: &RequestCtx, body: &str) -> Result<Outcome, DbError> {
    let req: Richiesta = match typed::decode(body) {
        Ok(r) => r,
        Err(fault) => return Ok(Outcome::fault(fault, LogFields::default())),
    };
    let serie: Vec<SerieType> = repo::serie_carte(conn)?
        .into_iter()
        .filter(|s| req.sigla.as_deref().is_none_or(|f| f.trim() == s.sigla))
        .map(|s| SerieType {
            sigla: s.sigla,
            produttore: s.produttore,
            puk_richiesto: s.puk_per_rinnovo.to_string(),
            software: s
                .middleware
                .into_iter()
                .map(|(sistema_operativo, nome_software)| SoftwareType {
                    sistema_operativo,
                    nome_software,
                })
                .collect(),
        })
        .collect();
    let descrizione_esito = match serie.len() {
        0 => "Nessuna serie di carte corrispondente".to_owned(),
        1 => "1 serie di carte".to_owned(),
        n => format!("{n} serie di carte"),
    };
    let ricevuta = Ricevuta {
        identificativo_transazione: ctx.transaction_id.to_string(),
        esito: "00".to_owned(),
        descrizione_esito,
        serie,
    };
    Ok(match typed::encode(&ricevuta) {
        Ok(xml) => Outcome::answer(xml, "00", LogFields::default()),
        Err(fault) => Outcome::fault(fault, LogFields::default()),
    })
}
