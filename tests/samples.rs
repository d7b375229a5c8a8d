//! The sample requests in fixtures/requests/ (the ones README.md and docs/integrators.md show with curl) are accepted
//! with esito 00 by the callers they are meant for, in the order a demo would send them.

mod common;
use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn every_sample_request_gets_esito_00() {
    let s = TestServer::start().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/requests");
    let cases = [
        ("cms-lombardia", "AttivazioneTSCNS", "attivazioneTSCNS"),
        ("cms-lombardia", "RevocaTSCNS", "revocaTSCNS"),
        ("cms-lombardia", "ElencoSerieCarte", "elencoSerieCarte"),
        (
            "cms-lombardia",
            "VerificaRinnovoCertificato",
            "verificaRinnovoCertificato",
        ),
        (
            "cms-lombardia",
            "RegistraRinnovoCertificato",
            "registraRinnovoCertificato",
        ),
        (
            "regione-lombardia",
            "VerificaAssistitoFuoriRegione",
            "verificaAssistitoFuoriRegione",
        ),
        (
            "avn",
            "TrasmissionePrenotazione",
            "trasmissionePrenotazione",
        ),
        (
            "avn",
            "TrasmissioneSomministrazione",
            "trasmissioneSomministrazione",
        ),
        (
            "regione-lombardia",
            "VerificaSomministrazioni",
            "verificaSomministrazioni",
        ),
    ];
    for (cert, name, lower) in cases {
        let body = std::fs::read(dir.join(format!("{name}.xml"))).expect("sample request");
        let op = if cert.starts_with("cms-") {
            Op::tscns(name, lower)
        } else {
            Op::new(name, lower)
        };
        let r = s
            .client(cert)
            .soap(&op.path(), &op.action(), body)
            .await
            .expect("reply");
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        assert_eq!(
            xml_text(&r.body, "esito").as_deref(),
            Some("00"),
            "{name}: {}",
            r.body
        );
    }
    // The check sees the administration the sample sent.
    assert_eq!(
        count(&s.db, "SELECT count(*) AS n FROM somministrazione"),
        1
    );
    s.stop().await;
}
