//! Smart-card (CNS) access in a real Chromium presenting client certificates over real TLS:
//! registration, login, a new card, the three error classes of seed 002, and the rows they
//! leave (bindings, section 2.5 access log).

mod common;

use common::portale::{count, scenario};
use common::TestServer;
use diesel::prelude::*;
use tsgate::domain::CodiceFiscale;
use tsgate::pki::{Emissione, TipoCertificato};

fn accessi(s: &TestServer) -> Vec<(Option<String>, String, String)> {
    common::portale::accessi(s)
        .into_iter()
        .map(|r| (r.codice_fiscale, r.operazione, r.esito))
        .collect()
}

fn cf(s: &str) -> CodiceFiscale {
    CodiceFiscale::parse(s).unwrap()
}

fn paths(c: &tsgate::pki::IssuedCert) -> serde_json::Value {
    serde_json::json!({ "certPath": c.cert_path, "keyPath": c.key_path })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cns_registration_login_and_the_three_error_classes() {
    let s = TestServer::start().await;
    let ca = s.cns_ca();
    let rossi = ca
        .issue("rossi", &cf("RSSMRA80A01H501U"), 365, TipoCertificato::Cns)
        .unwrap();
    let rossi_nuova = ca
        .issue(
            "rossi-nuova",
            &cf("RSSMRA80A01H501U"),
            365,
            TipoCertificato::Cie,
        )
        .unwrap();
    let ferrari = ca
        .issue(
            "ferrari",
            &cf("FRRSLV62S68H501Z"),
            365,
            TipoCertificato::Cns,
        )
        .unwrap();
    let sconosciuto = ca
        .issue(
            "sconosciuto",
            &cf("SCNGNN66D15L219X"),
            365,
            TipoCertificato::Cns,
        )
        .unwrap();
    let disabilitato = ca
        .issue("galli", &cf("GLLNDR90B12F205N"), 365, TipoCertificato::Cns)
        .unwrap();
    diesel::sql_query(
        "UPDATE utente SET abilitato = FALSE WHERE codice_fiscale = 'GLLNDR90B12F205N'",
    )
    .execute(&mut s.db.connection())
    .unwrap();
    let mut e = Emissione::new(&cf("RSSMRA80A01H501U"), TipoCertificato::Cns, 30);
    e.not_before = chrono::Utc::now() - chrono::Duration::days(400);
    e.not_after = chrono::Utc::now() - chrono::Duration::days(35);
    let scaduto = ca.issue_with("scaduto", &e).unwrap();
    let mut e = Emissione::new(&cf("RSSMRA80A01H501U"), TipoCertificato::Cns, 30);
    e.tipo = None;
    let senza_policy = ca.issue_with("senza-policy", &e).unwrap();
    // Shaped like a CNS, but signed by the gateway's CA, which the portal does not trust for cards.
    let estraneo = s
        .pki
        .issue_cns_client("estraneo", "RSSMRA80A01H501U", "Estranei", 30)
        .unwrap();
    let certs = serde_json::json!({
        "rossi": paths(&rossi), "rossi_nuova": paths(&rossi_nuova), "ferrari": paths(&ferrari),
        "sconosciuto": paths(&sconosciuto), "scaduto": paths(&scaduto),
        "senza_policy": paths(&senza_policy), "estraneo": paths(&estraneo), "disabilitato": paths(&disabilitato),
    })
    .to_string();

    scenario(&s, "cns", vec![("CERTS", certs.clone())]).await;

    // Rossi's first card and Ferrari's are bound; the new card is not (yet).
    let bound = |fp: &str| {
        count(
            &s,
            &format!("SELECT count(*) AS n FROM utente_cns WHERE fingerprint = '{fp}'"),
        )
    };
    assert_eq!(bound(&rossi.fingerprint), 1);
    assert_eq!(bound(&ferrari.fingerprint), 1);
    assert_eq!(bound(&rossi_nuova.fingerprint), 0);
    assert_eq!(bound(&estraneo.fingerprint), 0);

    let rows = accessi(&s);
    let rossi_cf = Some("RSSMRA80A01H501U".to_owned());
    for expected in [
        (rossi_cf.clone(), "LOGIN_CNS", "CNS_NON_REGISTRATA"),
        (rossi_cf.clone(), "REGISTRA_CNS", "OK"),
        (rossi_cf.clone(), "LOGIN_CNS", "OK"),
        (None, "REGISTRA_CNS", "CNS_SCADUTO"),
        (None, "LOGIN_CNS", "CNS_CA_NON_AFFIDABILE"),
        (None, "REGISTRA_CNS", "CNS_NON_AUTENTICAZIONE"),
        (None, "LOGIN_CNS", "CNS_ASSENTE"),
        (
            Some("SCNGNN66D15L219X".into()),
            "REGISTRA_CNS",
            "CNS_CF_SCONOSCIUTO",
        ),
        (Some("FRRSLV62S68H501Z".into()), "REGISTRA_CNS", "OK"),
        (
            Some("GLLNDR90B12F205N".into()),
            "LOGIN_CNS",
            "CNS_UTENZA_NON_ABILITATA",
        ),
        (Some("FRRSLV62S68H501Z".into()), "STAMPA_CREDENZIALI", "OK"),
    ] {
        let e = (expected.0, expected.1.to_owned(), expected.2.to_owned());
        assert!(rows.contains(&e), "{e:?} not in {rows:?}");
    }
    // A CNS login is a login: a session in CNS mode.
    assert_eq!(
        count(&s, "SELECT count(*) AS n FROM accesso_operatore WHERE operazione = 'LOGIN_CNS' AND esito = 'OK'"),
        1
    );

    // Class 2: the revocation list of the CNS CAs cannot be read.
    std::fs::write(
        ca.dir().join("crl.pem"),
        "-----BEGIN X509 CRL-----\nnonsense\n-----END X509 CRL-----\n",
    )
    .unwrap();
    scenario(&s, "cns_sistemi", vec![("CERTS", certs)]).await;
    assert!(accessi(&s).contains(&(None, "REGISTRA_CNS".into(), "CNS_SISTEMI_SICUREZZA".into())));
}
