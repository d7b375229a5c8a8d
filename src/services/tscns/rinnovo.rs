//! Certificate extension of the TS-CNS whose expiry was extended (seed 001, tool
//! SOGEIEXTEND): VerificaRinnovoCertificato answers renewable / no renewable certificate /
//! already renewed, and whether the PUK is needed; RegistraRinnovoCertificato records the new
//! certificate's serial and expiry.

use super::regole::{self, Applicata, StatoRinnovo};
use super::repo;
use crate::contracts::registra_rinnovo_certificato::{
    RegistraRinnovoCertificatoRicevuta as RegistraRicevuta,
    RegistraRinnovoCertificatoRichiesta as RegistraRichiesta, NAMESPACE as REGISTRA_NS,
};
use crate::contracts::verifica_rinnovo_certificato::{
    VerificaRinnovoCertificatoRicevuta as VerificaRicevuta,
    VerificaRinnovoCertificatoRichiesta as VerificaRichiesta, NAMESPACE as VERIFICA_NS,
};
use crate::db::DbError;
use crate::services::scrittura::{self, Esito};
use crate::soap::{typed, Handler, Operation, Outcome, RequestCtx};
use diesel::PgConnection;

pub static VERIFICA_RINNOVO_CERTIFICATO: Operation = Operation {
    name: "VerificaRinnovoCertificato",
    path: "/ws/VerificaRinnovoCertificato",
    soap_action: "urn:tsgate:tscns:verificaRinnovoCertificato#VerificaRinnovoCertificato",
    request_ns: VERIFICA_NS,
    request_element: "VerificaRinnovoCertificatoRichiesta",
    wsdl: include_str!("../../../wsdl/VerificaRinnovoCertificato.wsdl"),
    schemas: crate::tscns_schemas!("VerificaRinnovoCertificato"),
    callers: super::CHIAMANTI,
    handler: Handler::Read(verifica),
};

pub static REGISTRA_RINNOVO_CERTIFICATO: Operation = Operation {
    name: "RegistraRinnovoCertificato",
    path: "/ws/RegistraRinnovoCertificato",
    soap_action: "urn:tsgate:tscns:registraRinnovoCertificato#RegistraRinnovoCertificato",
    request_ns: REGISTRA_NS,
    request_element: "RegistraRinnovoCertificatoRichiesta",
    wsdl: include_str!("../../../wsdl/RegistraRinnovoCertificato.wsdl"),
    schemas: crate::tscns_schemas!("RegistraRinnovoCertificato"),
    callers: super::CHIAMANTI,
    handler: Handler::Write(registra),
};

fn verifica(conn: &mut PgConnection, ctx: &RequestCtx, body: &str) -> Result<Outcome, DbError> {
    let (req, log, regione) =
        match super::richiesta(ctx, body, |r: &VerificaRichiesta| &r.numero_tessera) {
            Ok(x) => x,
            Err(answer) => return Ok(answer),
        };
    let mut ricevuta = VerificaRicevuta {
        identificativo_transazione: ctx.transaction_id.to_string(),
        ..VerificaRicevuta::default()
    };
    let esito = match regole::seriale_canonico(&req.seriale_certificato) {
        Err(e) => Err(vec![e]),
        Ok(seriale) => {
            let stato = repo::stato(conn, req.numero_tessera.trim(), false)?;
            regole::verifica_rinnovo(stato.as_ref(), &regione, &seriale)
                .map(|(r, s)| (r, s.clone()))
        }
    };
    match esito {
        Ok((stato_rinnovo, stato)) => {
            let rinnovabile = stato_rinnovo == StatoRinnovo::Rinnovabile;
            ricevuta.esito = "00".to_owned();
            ricevuta.descrizione_esito = match stato_rinnovo {
                StatoRinnovo::Rinnovabile if stato.puk_per_rinnovo => {
                    "La tessera ha un certificato rinnovabile: per il rinnovo sono richiesti PIN e PUK"
                }
                StatoRinnovo::Rinnovabile => {
                    "La tessera ha un certificato rinnovabile: per il rinnovo è richiesto il PIN"
                }
                StatoRinnovo::NonRinnovabile => {
                    "Nessun certificato rinnovabile presente nella carta"
                }
                StatoRinnovo::GiaRinnovato => "Il certificato della tessera risulta già rinnovato",
            }
            .to_owned();
            ricevuta.stato_rinnovo = Some(stato_rinnovo.as_str().to_owned());
            ricevuta.sigla_serie = stato.sigla_serie.clone();
            if rinnovabile {
                ricevuta.puk_richiesto = Some(stato.puk_per_rinnovo.to_string());
                ricevuta.data_scadenza_prorogata = Some(stato.scadenza_effettiva().to_string());
            }
        }
        Err(errori) => {
            let e = Esito::negativo(&errori);
            ricevuta.esito = e.esito.to_owned();
            ricevuta.descrizione_esito = e.descrizione;
            ricevuta.lista_errori = e.errori;
        }
    }
    let esito: &'static str = if ricevuta.esito == "00" { "00" } else { "01" };
    Ok(match typed::encode(&ricevuta) {
        Ok(xml) => Outcome::answer(xml, esito, log),
        Err(fault) => Outcome::fault(fault, log),
    })
}

fn registra(conn: &mut PgConnection, ctx: &RequestCtx, body: &str) -> Result<Outcome, DbError> {
    let (req, log, regione) =
        match super::richiesta(ctx, body, |r: &RegistraRichiesta| &r.numero_tessera) {
            Ok(x) => x,
            Err(answer) => return Ok(answer),
        };
    let record = regole::parse_rinnovo(&regole::RinnovoIn {
        numero_tessera: Some(&req.numero_tessera),
        seriale: Some(&req.seriale_certificato),
        seriale_nuovo: Some(&req.seriale_nuovo_certificato),
        scadenza_nuova: Some(&req.data_scadenza_nuovo_certificato),
    });
    scrittura::registra(
        conn,
        ctx,
        log,
        record,
        |c, (numero, r), tx| repo::applica_rinnovo(c, &regione, numero.as_str(), r, tx),
        |fatto| match fatto {
            Applicata::Registrata => "Rinnovo del certificato registrato".to_owned(),
            Applicata::GiaPresente => {
                "Rinnovo già registrato con gli stessi dati: nessuna modifica".to_owned()
            }
        },
        |e| {
            typed::encode(&RegistraRicevuta {
                identificativo_transazione: ctx.transaction_id.to_string(),
                esito: e.esito.to_owned(),
                descrizione_esito: e.descrizione,
                lista_errori: e.errori,
            })
        },
    )
}
