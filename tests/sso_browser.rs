//! Operator SSO in a real Chromium (tests/browser/sso.mjs): two pysaml2 service providers
//! (tests/sso/sp.py `servi`) run on loopback as the Lazio platform and the Piattaforma
//! Nazionale; the browser starts at the platform, logs in to the portal with credentials or a
//! CNS smart card, chooses, and arrives at the platform's page showing what pysaml2 verified.
//! Afterwards, the §2.5 rows each case left.

mod common;

use common::portale::scenario;
use common::sso::{file_sp, iscrivi, FileSp, SpTest};
use common::TestServer;
use std::io::BufRead;
use std::process::{Child, Stdio};
use tsgate::domain::CodiceFiscale;
use tsgate::pki::TipoCertificato;

const BIANCHI: &str = "BNCNNA78D52H501J";
const COSTA: &str = "CSTGNN82H14F205R";
const MARINO: &str = "MRNLSE88E61F839Q";

/// A running `sp.py servi`, killed when dropped.
struct SpInServizio {
    figlio: Child,
    base: String,
}

impl Drop for SpInServizio {
    fn drop(&mut self) {
        let _ = self.figlio.kill();
        let _ = self.figlio.wait();
    }
}

/// Starts the pysaml2 platform of `f` and registers its ACS in `f.sp` (before enrolment).
fn servi(f: &mut FileSp, nome: &str) -> SpInServizio {
    let mut figlio = f
        .script("sp.py", "servi", true)
        .args(["--nome", nome])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("sp.py servi");
    let mut riga = String::new();
    let letta = figlio
        .stdout
        .take()
        .map(|o| std::io::BufReader::new(o).read_line(&mut riga));
    let avvio: serde_json::Value = match letta {
        Some(Ok(n)) if n > 0 => serde_json::from_str(&riga).expect("sp.py servi JSON line"),
        _ => {
            let _ = figlio.kill();
            panic!("sp.py servi did not start: {riga}");
        }
    };
    let acs = avvio["acs"].as_str().expect("acs").to_owned();
    f.sp.acs_url = acs.clone();
    SpInServizio {
        figlio,
        base: acs.trim_end_matches("/acs").to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_in_chromium_with_pysaml2_platforms() {
    let s = TestServer::start().await;
    let mut lazio = file_sp(&s, SpTest::new("lazio")).await;
    let mut pn = file_sp(&s, SpTest::new("pn")).await;
    let sp_lazio = servi(&mut lazio, "Regione Lazio");
    let sp_pn = servi(&mut pn, "Piattaforma Nazionale");
    iscrivi(&s, &lazio.sp, &pn.sp);
    let carta = s
        .cns_ca()
        .issue(
            "bianchi",
            &CodiceFiscale::parse(BIANCHI).unwrap(),
            365,
            TipoCertificato::Cns,
        )
        .unwrap();
    let certs = serde_json::json!({
        "bianchi": { "certPath": carta.cert_path, "keyPath": carta.key_path },
    });

    let esito = scenario(
        &s,
        "sso",
        vec![
            ("SP_LAZIO", sp_lazio.base.clone()),
            ("SP_PN", sp_pn.base.clone()),
            ("CERTS", certs.to_string()),
        ],
    )
    .await;
    assert_eq!(esito["ok"], true, "{esito}");

    // §2.5: each Response sent and each choice page, with the operator and the destination.
    let righe = righe_sso(&s);
    let conta = |cf: &str, op: &str, esito: &str, dettaglio: &str| {
        righe
            .iter()
            .filter(|r| {
                r.codice_fiscale.as_deref() == Some(cf)
                    && r.operazione == op
                    && r.esito == esito
                    && r.dettaglio.starts_with(dettaglio)
            })
            .count()
    };
    for (cf, op, e, d, n) in [
        (
            BIANCHI,
            "SSO",
            "OK",
            "regione=120 asl=003 sp=https://lazio.example/sp",
            2,
        ),
        (
            BIANCHI,
            "SSO",
            "OK",
            "regione=030 asl=002 sp=https://pn.example/sp",
            1,
        ),
        (
            MARINO,
            "SSO",
            "OK",
            "regione=300 asl=- sp=https://pn.example/sp",
            1,
        ),
        (COSTA, "SSO_SCELTA", "OK", "", 2),
        (MARINO, "SSO_SCELTA", "OK", "", 1),
        (COSTA, "SSO", "OK", "", 0),
    ] {
        assert_eq!(conta(cf, op, e, d), n, "{cf} {op} {e} {d}: {righe:#?}");
    }
    // The two platform-initiated requests were accepted and logged before the login.
    let richieste = righe
        .iter()
        .filter(|r| r.operazione == "SSO_RICHIESTA" && r.esito == "OK")
        .count();
    assert_eq!(richieste, 3, "{righe:#?}");
}

#[derive(diesel::QueryableByName, Debug)]
struct Riga {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    codice_fiscale: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    operazione: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    esito: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    dettaglio: String,
}

/// The SSO rows of the operators' access log, oldest first.
fn righe_sso(s: &TestServer) -> Vec<Riga> {
    use diesel::RunQueryDsl;
    diesel::sql_query(
        "SELECT codice_fiscale, operazione, esito, coalesce(dettaglio, '') AS dettaglio \
         FROM accesso_operatore WHERE operazione LIKE 'SSO%' ORDER BY id",
    )
    .load(&mut s.db.connection())
    .expect("accesso_operatore")
}
