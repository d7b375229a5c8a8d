//! A third kind of file, declared here as a service folder would: the shared machinery routes
//! it, admits its sender and names its documents from its `Genere` alone.

use super::*;
use crate::flussi::import::{Esito, ImportOptions, Progress, SignedContent};
use crate::flussi::{documenti, http, ricevi::Ricevuta};
use crate::soap::FaultCode;
use ::http::{Method, Request};

fn elabora(
    _: &mut PgConnection,
    _: &Flusso,
    _: &SignedContent<'_>,
    _: &ImportOptions<'_>,
    _: &mut dyn FnMut(Progress),
) -> anyhow::Result<Esito> {
    Ok(Esito::Elaborato)
}

fn records(_: &mut PgConnection, _: &Flusso, w: &mut dyn Write) -> anyhow::Result<()> {
    Ok(w.write_all(b"<record/>")?)
}

static ISCRIZIONI: Genere = Genere {
    codice: "ISCRIZIONI",
    path: "/ws/flussi/iscrizioni",
    invio: "InvioFlussoIscrizioni",
    esito: "EsitoFlussoIscrizioni",
    mittente: TipoChiamante::Regione,
    per_regione: true,
    ns: "urn:prova:flussoIscrizioni",
    ns_esito: "urn:prova:esitoFlussoIscrizioni",
    radice: "flussoIscrizioni",
    elabora,
    records,
};

const GENERI: Generi = Generi(&[&ISCRIZIONI]);

fn req(method: Method, path: &str) -> Request<()> {
    Request::builder()
        .method(method)
        .uri(path)
        .body(())
        .unwrap()
}

#[test]
fn a_registered_kind_is_routed_and_admitted_by_its_declaration() {
    let p = "/ws/flussi/iscrizioni";
    assert_eq!(
        http::operation(GENERI, &req(Method::POST, p)),
        Ok(ISCRIZIONI.invio)
    );
    let esito = req(Method::GET, "/ws/flussi/iscrizioni/26120700000000001");
    assert_eq!(http::operation(GENERI, &esito), Ok(ISCRIZIONI.esito));
    assert_eq!(
        http::operation(GENERI, &req(Method::PUT, p)),
        Err(FaultCode::MethodNotAllowed)
    );
    let altro = req(Method::POST, "/ws/flussi/prenotazioni");
    assert_eq!(
        http::operation(GENERI, &altro),
        Err(FaultCode::UnknownOperation)
    );
    assert_eq!(
        http::callers(GENERI, ISCRIZIONI.invio),
        &[TipoChiamante::Regione]
    );
    assert_eq!(
        http::callers(GENERI, ISCRIZIONI.esito),
        &[TipoChiamante::Regione]
    );
    assert!(http::callers(GENERI, "InvioFlussoPrenotazioni").is_empty());
    assert_eq!(GENERI.per_nome("iscrizioni"), Some(&ISCRIZIONI));
    assert_eq!(GENERI.parse("ISCRIZIONI"), Some(&ISCRIZIONI));
    assert_eq!(GENERI.parse("PRENOTAZIONI"), None);
}

#[test]
fn its_receipt_is_named_after_its_root_and_namespace() {
    let flusso = Flusso {
        id: 1,
        protocollo: "26120700000000001".into(),
        identificativo_transazione: uuid::Uuid::nil(),
        chiamante: "regione-lazio".into(),
        impronta_sha256: String::new(),
        stato: "RICEVUTO".into(),
        codice_rifiuto: None,
        motivo_rifiuto: None,
        percorso: None,
        contenuto_inizio: None,
        contenuto_lunghezza: None,
        record_letti: 0,
        record_totali: None,
        record_scartati: None,
        ricevuto_il: chrono::Utc::now(),
        terminato_il: None,
        tipo: "ISCRIZIONI".into(),
        codice_regione: Some("120".into()),
    };
    assert_eq!(GENERI.di(&flusso).ok(), Some(&ISCRIZIONI));
    let r = Ricevuta {
        flusso: flusso.clone(),
        duplicato: false,
        logged: false,
    };
    let xml = documenti::ricevuta(&ISCRIZIONI, &r, "tx");
    assert!(
        xml.contains(r#"<ricevutaFlussoIscrizioni xmlns="urn:prova:flussoIscrizioni">"#),
        "{xml}"
    );
    assert!(xml.ends_with("</ricevutaFlussoIscrizioni>"), "{xml}");
    let ignota = Flusso {
        tipo: "ALTRO".into(),
        ..flusso
    };
    assert!(GENERI.di(&ignota).is_err());
}
