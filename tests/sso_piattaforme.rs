//! `tsgate sso piattaforme applica|elenco` against a real database: the change lines, the rows,
//! idempotence, --dry-run, removals, one audit row per change (the chain still verifies), and
//! bad files refused naming the field with nothing changed.

mod common;
use common::*;
use diesel::prelude::*;
use std::path::Path;
use std::process::{Command, Output};
use tsgate::db::schema::{
    audit_amministrativo, sso_fornitore, sso_piattaforma, sso_piattaforma_tipo,
};

fn tsgate(db: &TestDb) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tsgate"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TSGATE_DATABASE_URL", &db.url)
        .env("TSGATE_LOG_LEVEL", "warn")
        .current_dir(scratch_dir("cwd"));
    c
}

fn applica(db: &TestDb, file: &Path, dry_run: bool) -> Output {
    let mut c = tsgate(db);
    c.args(["sso", "piattaforme", "applica"]).arg(file);
    if dry_run {
        c.arg("--dry-run");
    }
    c.output().expect("run tsgate")
}

fn ok(out: &Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The SPs, the platforms, their types and the count of audit rows.
type Stato = (
    Vec<(String, String, Vec<String>, bool)>,
    Vec<(String, bool, Option<String>)>,
    Vec<(String, String)>,
    i64,
);

/// Everything `applica` may write: the three tables and the audit chain.
fn stato(db: &TestDb) -> Stato {
    let mut c = db.connection();
    let f = sso_fornitore::table
        .select((
            sso_fornitore::entity_id,
            sso_fornitore::acs_url,
            sso_fornitore::certificati,
            sso_fornitore::richieste_firmate,
        ))
        .order(sso_fornitore::entity_id)
        .load(&mut c)
        .unwrap();
    let p = sso_piattaforma::table
        .select((
            sso_piattaforma::codice,
            sso_piattaforma::abilitata,
            sso_piattaforma::sp_entity_id,
        ))
        .order(sso_piattaforma::codice)
        .load(&mut c)
        .unwrap();
    let t = sso_piattaforma_tipo::table
        .select((
            sso_piattaforma_tipo::codice,
            sso_piattaforma_tipo::tipo_operatore,
        ))
        .order((
            sso_piattaforma_tipo::codice,
            sso_piattaforma_tipo::tipo_operatore,
        ))
        .load(&mut c)
        .unwrap();
    let n = audit_amministrativo::table
        .count()
        .get_result(&mut c)
        .unwrap();
    (f, p, t, n)
}

fn azioni_dal(db: &TestDb, dopo: i64) -> Vec<(String, Option<String>)> {
    audit_amministrativo::table
        .filter(audit_amministrativo::id.gt(dopo))
        .order(audit_amministrativo::id)
        .select((audit_amministrativo::azione, audit_amministrativo::oggetto))
        .load(&mut db.connection())
        .unwrap()
}

fn ultimo_audit(db: &TestDb) -> i64 {
    audit_amministrativo::table
        .select(diesel::dsl::max(audit_amministrativo::id))
        .first::<Option<i64>>(&mut db.connection())
        .unwrap()
        .unwrap_or(0)
}

/// A self-signed certificate written as PEM; returns its DER in base64.
fn certificato(path: &Path) -> String {
    let key = path.with_extension("key");
    tsgate::sso::crea_chiave_se_manca(&key, path).unwrap();
    let pem = std::fs::read(path).unwrap();
    let x = openssl::x509::X509::from_pem(&pem).unwrap();
    openssl::base64::encode_block(&x.to_der().unwrap())
}

fn metadata(b64: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://lazio.example/sp">
  <md:SPSSODescriptor AuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://lazio.example/acs" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"#
    )
}

const PN: &str = r#"
[pn]
tipi = ["MEDICO", "INFERMIERE", "FARMACISTA"]
[pn.sp]
entity_id = "https://pn.example/sp"
acs_url = "https://pn.example/acs"
certificati = ["certs/pn.pem"]
"#;

const LAZIO: &str = r#"
[[regione]]
codice = "120"
tipi = ["MEDICO", "INFERMIERE"]
piattaforma = "propria"
[regione.sp]
metadata = "lazio.xml"
"#;

const LOMBARDIA: &str = r#"
[[regione]]
codice = "030"
tipi = ["MEDICO", "FARMACISTA"]
piattaforma = "pn"
"#;

const DIFESA: &str = r#"
[[regione]]
codice = "300"
tipi = ["MEDICO"]
piattaforma = "pn"
"#;

/// A directory with the certificates and the Lazio metadata; returns it.
fn materiale() -> std::path::PathBuf {
    let dir = scratch_dir("sso-piattaforme");
    std::fs::create_dir_all(dir.join("certs")).unwrap();
    certificato(&dir.join("certs/pn.pem"));
    let b64 = certificato(&dir.join("certs/lazio.pem"));
    std::fs::write(dir.join("lazio.xml"), metadata(&b64)).unwrap();
    dir
}

fn scrivi(dir: &Path, nome: &str, testo: &str) -> std::path::PathBuf {
    let p = dir.join(nome);
    std::fs::write(&p, testo).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_is_declarative_idempotent_audited_and_dry_run_writes_nothing() {
    let db = TestDb::new().await;
    let dir = materiale();
    let file = scrivi(
        &dir,
        "iscrizioni.toml",
        &format!("{PN}{LAZIO}{LOMBARDIA}{DIFESA}"),
    );
    let prima = stato(&db);

    // --dry-run: the lines, nothing stored.
    let righe = ok(&applica(&db, &file, true));
    assert!(
        righe.iter().any(|r| r.contains("nothing written")),
        "{righe:?}"
    );
    assert!(
        righe
            .iter()
            .any(|r| r.starts_with("+ regione 120: iscritta")),
        "{righe:?}"
    );
    assert_eq!(stato(&db), prima);

    // Applied: one line and one audit row per change.
    let da = ultimo_audit(&db);
    let righe = ok(&applica(&db, &file, false));
    let atteso = [
        "+ fornitore https://lazio.example/sp: registrato (ACS https://lazio.example/acs, 1 certificato/i, richieste firmate sì)",
        "+ fornitore https://pn.example/sp: registrato (ACS https://pn.example/acs, 1 certificato/i, richieste firmate sì)",
        "+ PN: iscritta (piattaforma propria https://pn.example/sp, abilitata, tipi FARMACISTA, INFERMIERE, MEDICO)",
        "+ regione 120: iscritta (piattaforma propria https://lazio.example/sp, abilitata, tipi INFERMIERE, MEDICO)",
        "+ regione 030: iscritta (tramite la PN, abilitata, tipi FARMACISTA, MEDICO)",
        "+ regione 300: iscritta (tramite la PN, abilitata, tipi MEDICO)",
    ];
    assert_eq!(righe, atteso);
    let azioni = azioni_dal(&db, da);
    assert_eq!(azioni.len(), righe.len());
    assert_eq!(
        azioni[0],
        (
            "REGISTRAZIONE_FORNITORE_SSO".into(),
            Some("https://lazio.example/sp".into())
        )
    );
    assert_eq!(
        azioni[3],
        ("ISCRIZIONE_PIATTAFORMA".into(), Some("120".into()))
    );
    let (f, p, t, _) = stato(&db);
    assert_eq!(f.len(), 2);
    assert!(f[0].2[0].starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(
        p,
        vec![
            ("030".into(), true, None),
            ("120".into(), true, Some("https://lazio.example/sp".into())),
            ("300".into(), true, None),
            ("PN".into(), true, Some("https://pn.example/sp".into())),
        ]
    );
    assert!(t.contains(&("120".into(), "INFERMIERE".into())));
    let metadata_origine: Option<String> = sso_fornitore::table
        .find("https://lazio.example/sp")
        .select(sso_fornitore::metadata_origine)
        .first(&mut db.connection())
        .unwrap();
    assert!(metadata_origine.unwrap().ends_with("lazio.xml"));

    // Again: nothing to do, no audit row.
    let n = stato(&db).3;
    assert_eq!(
        ok(&applica(&db, &file, false)),
        ["nessuna modifica (no changes)"]
    );
    assert_eq!(stato(&db).3, n);

    // The list.
    let elenco = ok(tsgate(&db)
        .args(["sso", "piattaforme", "elenco"])
        .output()
        .as_ref()
        .unwrap())
    .join("\n");
    for atteso in [
        "Piattaforma Nazionale",
        "Lazio",
        "Ministero della Difesa",
        "https://lazio.example/acs",
        "FARMACISTA",
    ] {
        assert!(elenco.contains(atteso), "{elenco}");
    }
    let lombardia = elenco.lines().find(|l| l.starts_with("030")).unwrap();
    assert!(
        lombardia.contains("PN") && lombardia.contains("https://pn.example/acs"),
        "{elenco}"
    );

    // A type and a region removed, one disabled, Lazio through the PN: effective, audited.
    let modificato = format!(
        "{PN}{}{}",
        LAZIO.replace(r#"["MEDICO", "INFERMIERE"]"#, r#"["MEDICO"]"#),
        DIFESA.replace("codice = \"300\"", "codice = \"300\"\nabilitata = false"),
    );
    let file2 = scrivi(&dir, "modificato.toml", &modificato);
    let da = ultimo_audit(&db);
    let righe = ok(&applica(&db, &file2, false));
    assert_eq!(
        righe,
        [
            "~ regione 120: tipo INFERMIERE rimosso",
            "~ regione 300: disabilitata",
            "- regione 030: rimossa",
        ]
    );
    let azioni: Vec<String> = azioni_dal(&db, da).into_iter().map(|a| a.0).collect();
    assert_eq!(
        azioni,
        [
            "RIMOZIONE_TIPO_OPERATORE",
            "ISCRIZIONE_PIATTAFORMA",
            "ISCRIZIONE_PIATTAFORMA"
        ]
    );
    let (_, p, t, _) = stato(&db);
    assert!(!p.iter().any(|x| x.0 == "030"));
    assert!(p.contains(&("300".into(), false, None)));
    assert!(!t.contains(&("120".into(), "INFERMIERE".into())));
    assert!(!t.iter().any(|x| x.0 == "030"));

    let via_pn = format!(
        "{PN}{}",
        LAZIO.replace(
            "\"propria\"\n[regione.sp]\nmetadata = \"lazio.xml\"",
            "\"pn\""
        )
    );
    let file3 = scrivi(&dir, "via_pn.toml", &via_pn);
    let righe = ok(&applica(&db, &file3, false));
    assert_eq!(
        righe,
        [
            "~ regione 120: tramite la PN (era piattaforma propria https://lazio.example/sp)",
            "~ regione 120: tipo INFERMIERE aggiunto",
            "- regione 300: rimossa",
            "- fornitore https://lazio.example/sp: rimosso",
        ]
    );
    // Back to the first file: types added back one by one on an existing platform.
    let righe = ok(&applica(&db, &file, false));
    assert!(
        righe.contains(
            &"+ regione 030: iscritta (tramite la PN, abilitata, tipi FARMACISTA, MEDICO)"
                .to_owned()
        ),
        "{righe:?}"
    );
    assert!(
        righe.contains(
            &"~ regione 120: piattaforma propria https://lazio.example/sp (era tramite la PN)"
                .to_owned()
        ),
        "{righe:?}"
    );

    let out = tsgate(&db).args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_files_fail_naming_the_field_and_change_nothing() {
    let db = TestDb::new().await;
    let dir = materiale();
    let buono = scrivi(&dir, "buono.toml", &format!("{PN}{LAZIO}{LOMBARDIA}"));
    ok(&applica(&db, &buono, false));
    let prima = stato(&db);
    std::fs::write(
        dir.join("rotto.xml"),
        "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"",
    )
    .unwrap();
    let dtd = metadata("AAAA").replace(
        "<md:EntityDescriptor ",
        "<!DOCTYPE md [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><md:EntityDescriptor ",
    );
    std::fs::write(dir.join("dtd.xml"), dtd).unwrap();
    let casi: Vec<(String, &str)> = vec![
        (format!("{PN}{LAZIO}{}", LOMBARDIA.replace("030", "999")), "regione[2].codice: no region 999 in table regione"),
        (
            format!("{PN}{}", LAZIO.replace("120", "300")),
            "regione[1].piattaforma: region 300 (Ministero della Difesa) is virtual",
        ),
        (format!("{}{LAZIO}", PN.replace("FARMACISTA", "CHIRURGO")), "pn.tipi[3]: unknown operator type CHIRURGO"),
        (
            format!("{PN}{LAZIO}{}", "[[regione]]\ncodice = \"190\"\ntipi = [\"MEDICO\"]\npiattaforma = \"propria\"\n[regione.sp]\nentity_id = \"https://sicilia.example/sp\"\nacs_url = \"http://sicilia.example/acs\"\ncertificati = [\"certs/pn.pem\"]\n"),
            "regione[2].sp.acs_url: must be an https:// URL",
        ),
        (format!("{}{LAZIO}", PN.replace("certs/pn.pem", "certs/manca.pem")), "pn.sp.certificati[1]: cannot read"),
        (format!("{PN}{}", LAZIO.replace("lazio.xml", "rotto.xml")), "regione[1].sp.metadata:"),
        (format!("{PN}{}", LAZIO.replace("lazio.xml", "dtd.xml")), "DOCTYPE is not allowed"),
        (format!("{PN}{}", LAZIO.replace("codice = \"120\"", "codice = \"120\"\ncolore = \"blu\"")), "unknown field `colore`"),
        (format!("{PN}{LAZIO}{LAZIO}"), "regione[2].codice: 120 is already in regione[1]"),
        (
            format!("{PN}{}", LAZIO.replace("metadata = \"lazio.xml\"", "entity_id = \"https://pn.example/sp\"\nacs_url = \"https://pn.example/acs\"\ncertificati = [\"certs/pn.pem\"]")),
            "regione[1].sp.entity_id: https://pn.example/sp is the PN's SP",
        ),
    ];
    for (i, (testo, atteso)) in casi.iter().enumerate() {
        let file = scrivi(&dir, &format!("cattivo{i}.toml"), testo);
        for dry_run in [false, true] {
            let out = applica(&db, &file, dry_run);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "case {i} accepted");
            assert!(
                err.contains(atteso),
                "case {i}: expected `{atteso}` in\n{err}"
            );
        }
        assert_eq!(stato(&db), prima, "case {i} changed the database");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_enrolment_is_applied_and_idempotent() {
    let db = TestDb::new().await;
    let dir = scratch_dir("sso-demo");
    let mut c = db.connection();
    tsgate::sso::piattaforme::iscrivi_demo(&mut c, &dir).unwrap();
    let prima = stato(&db);
    tsgate::sso::piattaforme::iscrivi_demo(&mut c, &dir).unwrap();
    assert_eq!(stato(&db), prima);
    let elenco = tsgate::sso::piattaforme::elenco(&mut c).unwrap();
    assert!(
        elenco.contains("https://127.0.0.1:9543/sp-lazio"),
        "{elenco}"
    );
    let (f, p, t, _) = prima;
    assert_eq!(f.len(), 2);
    assert_eq!(p.len(), 4);
    assert_eq!(t.iter().filter(|x| x.0 == "PN").count(), 7);
    assert!(dir.join("sp-lazio.key").exists() && dir.join("sp-pn.pem").exists());
}
