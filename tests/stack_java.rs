//! Integrator stack: Java JAX-WS, Debian's RI 2.3 (packages jaxws, libjaxws-java, libjaxb-java)
//! on the JDK 17. `tests/stacks/java/build.sh` runs wsimport over each WSDL of the exported
//! bundle (one package per service) and javac; `run.sh` runs `Client.java`, which calls every
//! operation over mutual TLS (SSLContext from the caller's PKCS#12 and the CA's PEM) with the
//! fixture data as Java values (xs:date as an XMLGregorianCalendar built from a
//! GregorianCalendar, in the JVM's Europe/Rome zone), once with an invalid request caught as the
//! generated `ErroreGateway_Exception`, and validates every answer (the RI's
//! SchemaValidationFeature, inbound) and fault detail (ErroreGateway.xsd). The built client is
//! kept under the target dir, keyed by the bundle (its server address left out), the sources and
//! the installed JDK and JAX-WS, and rebuilt only when they change.

mod common;
use common::stack::*;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const JDK: &str = "/usr/lib/jvm/java-17-openjdk-amd64";

/// The client: built by `tests/stacks/java/build.sh` (its `classpath` file names the JDK and
/// the jars, not the directory, so the build can move), rebuilt when the JDK's release or the
/// JAX-WS jars change.
fn compilato() -> Compilato<'static> {
    let mut toolchain = std::fs::read(format!("{JDK}/release")).unwrap_or_default();
    for jar in ["jaxws-rt.jar", "jaxws-tools.jar", "jaxb-runtime.jar"] {
        if let Ok(m) = std::fs::metadata(Path::new("/usr/share/java").join(jar)) {
            toolchain.extend(format!("{jar} {} {:?}", m.len(), m.modified().ok()).as_bytes());
        }
    }
    Compilato {
        stack: "java",
        sources: &["build.sh", "run.sh", "Client.java"],
        toolchain,
        env: &[("JAVA_HOME", JDK)],
        done: "classpath",
    }
}

fn client(bundle: &Path, base_url: &str) -> PathBuf {
    compilato().client(bundle, base_url)
}

fn sorgenti() -> PathBuf {
    compilato().sorgenti()
}

#[tokio::test(flavor = "multi_thread")]
async fn jaxws_client_calls_every_operation() {
    let s = TestServer::start().await;
    let a = Ambiente::prepara(&s, "java");
    let env: Value =
        serde_json::from_slice(&std::fs::read(&a.file).expect("ambiente.json")).expect("json");
    let base = testo(&env, "/base_url").to_owned();
    let built = tokio::task::spawn_blocking({
        let (bundle, base) = (a.dir.join("contratti"), base.clone());
        move || client(&bundle, &base)
    })
    .await
    .expect("build task");

    let mut cmd = Command::new("sh");
    cmd.arg(sorgenti().join("run.sh")).arg(&built).arg(&a.file);
    let t = Instant::now();
    let v = a.esegui(cmd).await;
    eprintln!("java: client ran in {:.1?}", t.elapsed());
    eprintln!("java: {}", testo(&v, "/stack"));

    // Inbound validation, checked on canned answers first: the RI's SchemaValidationFeature
    // refuses a body breaking a length, a pattern, a required element, an unknown element and
    // the sequence's order; a fault's detail is validated by the client's handler.
    let auto = &v["validazione"]["autoverifica"];
    for (caso, esito) in [
        ("conforme", "OK"),
        ("lunghezza", "WebServiceException"),
        ("pattern", "WebServiceException"),
        ("obbligatorio_mancante", "WebServiceException"),
        ("elemento_sconosciuto", "WebServiceException"),
        ("ordine", "WebServiceException"),
        ("fault_conforme", "fault TSG-0301"),
        ("fault_dettaglio_non_conforme", "WebServiceException"),
    ] {
        assert_eq!(
            auto[caso].as_str(),
            Some(esito),
            "canned answer {caso}: {v}"
        );
    }

    // What an XMLGregorianCalendar made from a GregorianCalendar puts on the wire for an
    // xs:date: the date and the zone's offset (Europe/Rome: +01:00, +02:00 in summer time).
    assert_eq!(testo(&v, "/time_zone"), "Europe/Rome");
    assert_eq!(
        testo(
            &v,
            "/date_sul_filo/VerificaAssistitoFuoriRegione/dataScadenzaTessera"
        ),
        "2028-01-31+01:00"
    );
    assert_eq!(
        testo(&v, "/date_sul_filo/AttivazioneTSCNS/dataInizioValidita"),
        "2024-07-01+02:00"
    );
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut date = 0;
    for (op, sent) in v["date_sul_filo"].as_object().expect("date_sul_filo") {
        let fixture = std::fs::read_to_string(root.join(format!("fixtures/requests/{op}.xml")))
            .expect("fixture");
        for (name, wire) in sent.as_object().expect("dates") {
            let wire = wire.as_str().unwrap_or_default();
            let day = xml_text(&fixture, name).expect("date in the fixture");
            assert!(
                wire == format!("{day}+01:00") || wire == format!("{day}+02:00"),
                "{op}/{name}: {wire} for {day}"
            );
            date += 1;
        }
    }
    assert_eq!(date, 8, "the dates of the fixtures: {v}");

    verifica(&s, "java", &v);

    // Every answer went through the schema validation and every fault detail through
    // ErroreGateway.xsd.
    assert_eq!(v["validazione"]["risposte_validate"], 11, "{v}");
    assert_eq!(v["validazione"]["dettagli_validati"], 11, "{v}");
    assert_eq!(v["errori"], 0, "{v}");

    // The typed answers, as JAXB bound them.
    let tipo = |op: &str, path: &str| {
        v["tipi"][op][path]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_default()
    };
    assert_eq!(
        tipo("VerificaRinnovoCertificato", "/dataScadenzaProrogata"),
        "XMLGregorianCalendar",
        "{v}"
    );
    assert_eq!(
        tipo("VerificaRinnovoCertificato", "/pukRichiesto"),
        "Boolean"
    );
    assert_eq!(tipo("ElencoSerieCarte", "/serie/0/pukRichiesto"), "Boolean");
    assert_eq!(tipo("ElencoRevoche", "/cursoreSuccessivo"), "Long");
    assert_eq!(tipo("ElencoRevoche", "/altreRevoche"), "Boolean");
    assert_eq!(tipo("ConfermaRevoche", "/numeroConfermate"), "Integer");
    assert_eq!(
        tipo(
            "VerificaSomministrazioni",
            "/listaSomministrazioni/somministrazione/0/numeroDose"
        ),
        "Integer"
    );
    assert_eq!(
        testo(&v, "/valid/VerificaAssistitoFuoriRegione/regioneAssistenza"),
        "120"
    );
    let lista =
        &v["valid"]["VerificaSomministrazioni"]["listaSomministrazioni"]["somministrazione"];
    assert!(
        lista
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x["dataSomministrazione"]
                .as_str()
                .is_some_and(|d| d.starts_with("2026-01-10"))
                && x["numeroDose"] == 1
                && x["codiceAIC"] == "049269018")),
        "{v}"
    );
    let ids: Vec<i64> = v["valid"]["ElencoRevoche"]["listaRevoche"]["revoca"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["idComunicazione"].as_i64())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(ids, [1, 2, 4], "{v}");
    assert_eq!(v["valid"]["ConfermaRevoche"]["numeroConfermate"], 2);

    // Each invalid request was refused for the value it broke.
    for (op, campo) in [
        ("AttivazioneTSCNS", "codiceFiscale"),
        ("RevocaTSCNS", "numeroTessera"),
        ("ElencoSerieCarte", "sigla"),
        ("VerificaRinnovoCertificato", "numeroTessera"),
        ("RegistraRinnovoCertificato", "numeroTessera"),
        ("ElencoRevoche", "numeroMassimo"),
        ("ConfermaRevoche", "idComunicazione"),
        ("VerificaAssistitoFuoriRegione", "codiceFiscale"),
        ("TrasmissionePrenotazione", "dose"),
        ("TrasmissioneSomministrazione", "dose"),
        ("VerificaSomministrazioni", "codiceFiscale"),
    ] {
        let d = testo(&v, &format!("/faults/{op}/descrizione"));
        assert!(d.contains(&format!("campo {campo}")), "{op}: {d}");
    }

    // Each call's transaction is in the access log, the faults with their code.
    let log = access_log(&s.db);
    for (op, _, chiamante) in OPERAZIONI {
        for kind in ["valid", "faults"] {
            let id = testo(&v, &format!("/{kind}/{op}/identificativoTransazione"));
            let row = log
                .iter()
                .find(|r| r.transazione == id)
                .unwrap_or_else(|| panic!("{op} {kind}: {id} not in the access log"));
            assert_eq!(row.operazione.as_deref(), Some(*op), "{row:?}");
            assert_eq!(row.chiamante.as_deref(), Some(*chiamante), "{row:?}");
            if kind == "faults" {
                assert_eq!(
                    row.codice_errore.as_deref(),
                    v["faults"][op]["codice"].as_str(),
                    "{op}: {row:?}"
                );
            }
        }
        assert_eq!(
            testo(&v, &format!("/faults/{op}/faultcode")),
            "{http://schemas.xmlsoap.org/soap/envelope/}Client"
        );
    }
    s.stop().await;
}
