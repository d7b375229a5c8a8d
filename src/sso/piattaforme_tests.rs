use super::*;
use crate::sso::metadata_sp::tests::{certificato_prova, metadati_spid};

/// A scratch directory with `lazio.pem`, `pn.pem` and `lazio.xml` (SP metadata).
struct Cartella(PathBuf);

impl Cartella {
    fn new(nome: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("tsgate-piattaforme-{nome}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (lazio, b64) = certificato_prova("lazio");
        let (pn, _) = certificato_prova("pn");
        std::fs::write(dir.join("lazio.pem"), &lazio).unwrap();
        std::fs::write(dir.join("pn.pem"), format!("{pn}{pn}")).unwrap();
        let acs = r#"<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://lazio.example/acs" index="1" isDefault="true"/>"#;
        std::fs::write(dir.join("lazio.xml"), metadati_spid(&b64, &b64, acs)).unwrap();
        Cartella(dir)
    }

    fn leggi(&self, testo: &str) -> anyhow::Result<Iscrizioni> {
        da_testo(testo, "prova.toml", &self.0)
    }
}

impl Drop for Cartella {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PN: &str = r#"
[pn]
tipi = ["MEDICO", "FARMACISTA"]
[pn.sp]
entity_id = "https://pn.example/sp"
acs_url = "https://pn.example/acs"
certificati = ["pn.pem"]
"#;

const LAZIO: &str = r#"
[[regione]]
codice = "120"
tipi = ["MEDICO"]
piattaforma = "propria"
[regione.sp]
entity_id = "https://lazio.example/sp"
acs_url = "https://lazio.example/acs"
certificati = ["lazio.pem"]
richieste_firmate = false
"#;

const LOMBARDIA: &str = r#"
[[regione]]
codice = "030"
abilitata = false
tipi = ["FARMACISTA"]
piattaforma = "pn"
"#;

#[test]
fn a_complete_file_is_resolved() {
    let d = Cartella::new("completo");
    let isc = d.leggi(&format!("{PN}{LAZIO}{LOMBARDIA}")).unwrap();
    let codici: Vec<&str> = isc.piattaforme.iter().map(|p| p.codice.as_str()).collect();
    assert_eq!(codici, ["PN", "120", "030"]);
    let [pn, lazio, lombardia] = &isc.piattaforme[..] else {
        panic!()
    };
    assert!(pn.abilitata, "abilitata defaults to true");
    assert_eq!(pn.sp.as_deref(), Some("https://pn.example/sp"));
    assert_eq!(lazio.sp.as_deref(), Some("https://lazio.example/sp"));
    assert_eq!(
        (lombardia.abilitata, lombardia.sp.as_deref()),
        (false, None)
    );
    assert_eq!(lombardia.campo, "regione[2]");
    let f = &isc.fornitori["https://pn.example/sp"];
    // The same certificate twice in a file counts once; signing required by default.
    assert_eq!(f.certificati.len(), 1);
    assert!(f.richieste_firmate);
    assert!(f.certificati[0].starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(!isc.fornitori["https://lazio.example/sp"].richieste_firmate);
}

#[test]
fn an_sp_from_its_metadata_file() {
    let d = Cartella::new("metadati");
    let testo = r#"
[[regione]]
codice = "120"
tipi = ["MEDICO"]
piattaforma = "propria"
[regione.sp]
metadata = "lazio.xml"
"#;
    let isc = d.leggi(testo).unwrap();
    let f = &isc.fornitori["https://lazio.example/sp"];
    assert_eq!(f.acs_url, "https://lazio.example/acs");
    assert_eq!(f.certificati.len(), 1);
    assert!(f
        .metadata_origine
        .as_deref()
        .is_some_and(|o| o.ends_with("lazio.xml")));
    // A declared entity_id must be the metadata's.
    let altro = testo.replace(
        "metadata = ",
        "entity_id = \"https://altro.example/sp\"\nmetadata = ",
    );
    let e = d.leggi(&altro).unwrap_err().to_string();
    assert!(e.contains("regione[1].sp.entity_id"), "{e}");
    // Metadata and explicit data together are ambiguous.
    let doppio = testo.replace(
        "metadata = ",
        "acs_url = \"https://lazio.example/acs\"\nmetadata = ",
    );
    let e = d.leggi(&doppio).unwrap_err().to_string();
    assert!(e.contains("either metadata or acs_url"), "{e}");
}

#[test]
fn an_sp_from_its_metadata_url_and_a_signed_metadata() {
    use crate::sso::scarica::tests::{servi_una, Pki};
    let d = Cartella::new("url");
    let pki = Pki::new("piattaforme");
    std::fs::copy(pki.ca(), d.0.join("ca.pem")).unwrap();
    let xml = std::fs::read_to_string(d.0.join("lazio.xml")).unwrap();
    let risposta = |corpo: &str| {
        Some(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{corpo}",
                corpo.len()
            )
            .into_bytes(),
        )
    };
    let file = |url: &str, extra: &str| {
        format!(
            "[[regione]]\ncodice = \"120\"\ntipi = [\"MEDICO\"]\npiattaforma = \"propria\"\n\
             [regione.sp]\nmetadata = \"{url}\"\n{extra}"
        )
    };
    let porta = servi_una(&pki, risposta(&xml));
    let url = format!("https://127.0.0.1:{porta}/sp/metadata");
    let isc = d.leggi(&file(&url, "metadata_ca = \"ca.pem\"\n")).unwrap();
    let f = &isc.fornitori["https://lazio.example/sp"];
    assert_eq!(f.acs_url, "https://lazio.example/acs");
    assert_eq!(f.metadata_origine.as_deref(), Some(url.as_str()));
    // A server the file does not trust: the field and the reason.
    let porta = servi_una(&pki, risposta(&xml));
    let url = format!("https://127.0.0.1:{porta}/sp/metadata");
    let e = d.leggi(&file(&url, "")).unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "regione[1].sp.metadata: {url}: TLS with 127.0.0.1"
        )),
        "{e}"
    );
    let e = d
        .leggi(&file("http://lazio.example/m", ""))
        .unwrap_err()
        .to_string();
    assert!(e.contains("only https URLs are fetched"), "{e}");
    let e = d
        .leggi(&file("lazio.xml", "metadata_ca = \"ca.pem\"\n"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("regione[1].sp.metadata_ca: only for a metadata URL"),
        "{e}"
    );

    // metadata_firmato_da: the unsigned file is refused; signed by the federation's key, taken.
    let (chiave, cert) = crate::sso::autofirmato("federazione", 2048, 30).unwrap();
    std::fs::write(d.0.join("fed.pem"), cert.to_pem().unwrap()).unwrap();
    let firmato_da = "metadata_firmato_da = [\"fed.pem\"]\n";
    let e = d
        .leggi(&file("lazio.xml", firmato_da))
        .unwrap_err()
        .to_string();
    assert!(e.contains("signature not accepted: no signature"), "{e}");
    let c = crate::sso::firma::ChiaveFirma::da_pem(
        &chiave.private_key_to_pem_pkcs8().unwrap(),
        &cert.to_pem().unwrap(),
    )
    .unwrap();
    let id = "_a3f1c0e2-6a4b-4d43-9d6e-1c2b3a4d5e6f";
    let fine_radice = xml.find("<md:Extensions>").unwrap();
    let con_modello = format!(
        "{}{}{}",
        &xml[..fine_radice],
        crate::sso::firma::modello(id, &c),
        &xml[fine_radice..]
    );
    let firmato = crate::sso::firma::firma(&con_modello, &c).unwrap();
    std::fs::write(d.0.join("firmato.xml"), &firmato).unwrap();
    assert!(d.leggi(&file("firmato.xml", firmato_da)).is_ok());
    let alterato = firmato.replace("https://lazio.example/acs\"", "https://evil.example/acs\"");
    assert_ne!(alterato, firmato);
    std::fs::write(d.0.join("alterato.xml"), &alterato).unwrap();
    let e = d
        .leggi(&file("alterato.xml", firmato_da))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("signature not accepted: signature does not verify"),
        "{e}"
    );
    let e = d
        .leggi(&file("firmato.xml", "metadata_firmato_da = []\n"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("metadata_firmato_da: at least one PEM file"),
        "{e}"
    );
}

#[test]
fn every_problem_is_reported_with_its_field_at_once() {
    let d = Cartella::new("errori");
    let testo = r#"
[[regione]]
codice = "12"
tipi = []
piattaforma = "propria"
[regione.sp]
entity_id = " spazi "
acs_url = "http://lazio.example/acs"
certificati = ["manca.pem"]

[[regione]]
codice = "030"
tipi = ["MEDICO", "MEDICO", "medico"]
piattaforma = "pn"
"#;
    let e = d.leggi(testo).unwrap_err().to_string();
    for atteso in [
        "regione[1].codice",
        "regione[1].tipi: at least one",
        "regione[1].sp.entity_id",
        "regione[1].sp.acs_url: must be an https:// URL",
        "regione[1].sp.certificati[1]: cannot read",
        "regione[2].piattaforma: \"pn\", but the file has no [pn]",
        "regione[2].tipi[2]: MEDICO is given twice",
        "regione[2].tipi[3]: \"medico\" is not an operator type code",
        "nothing changed",
    ] {
        assert!(e.contains(atteso), "{atteso} missing in:\n{e}");
    }
}

#[test]
fn the_pn_sp_twice_and_shared_sps_must_agree() {
    let d = Cartella::new("condivisi");
    let pn_come_propria = format!(
        "{PN}{}",
        LAZIO
            .replace("https://lazio.example/sp", "https://pn.example/sp")
            .replace("lazio.example/acs", "pn.example/acs")
            .replace("lazio.pem", "pn.pem")
            .replace("richieste_firmate = false", "")
    );
    let e = d.leggi(&pn_come_propria).unwrap_err().to_string();
    assert!(
        e.contains("is the PN's SP; write piattaforma = \"pn\""),
        "{e}"
    );
    // Two regions may share an SP only with the same data.
    let seconda = LAZIO.replace("\"120\"", "\"130\"");
    assert!(d.leggi(&format!("{LAZIO}{seconda}")).is_ok());
    let diversa = seconda.replace("lazio.example/acs", "lazio.example/acs2");
    let e = d
        .leggi(&format!("{LAZIO}{diversa}"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("already declared in regione[1].sp"), "{e}");
    let ripetuta = d.leggi(&format!("{LAZIO}{LAZIO}")).unwrap_err().to_string();
    assert!(
        ripetuta.contains("120 is already in regione[1]"),
        "{ripetuta}"
    );
}

#[test]
fn unknown_keys_and_missing_sections_are_refused() {
    let d = Cartella::new("chiavi");
    let e = d
        .leggi(&LAZIO.replace("tipi =", "tipo = [\"X\"]\ntipi ="))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field"), "{e}");
    let senza_sp = r#"
[[regione]]
codice = "120"
tipi = ["MEDICO"]
piattaforma = "propria"
"#;
    let e = d.leggi(senza_sp).unwrap_err().to_string();
    assert!(e.contains("needs [regione.sp]"), "{e}");
    let e = d
        .leggi(&format!(
            "{PN}{}",
            LOMBARDIA.replace("\"pn\"", "\"pn\"\n[regione.sp]\nentity_id = \"x\"")
        ))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not allowed with piattaforma = \"pn\""), "{e}");
}

#[test]
fn the_demo_file_resolves_against_the_demo_keys() {
    let d = Cartella::new("demo");
    std::fs::copy(d.0.join("pn.pem"), d.0.join("sp-pn.pem")).unwrap();
    std::fs::copy(d.0.join("lazio.pem"), d.0.join("sp-lazio.pem")).unwrap();
    let isc = d.leggi(DEMO_SSO).unwrap();
    let codici: Vec<&str> = isc.piattaforme.iter().map(|p| p.codice.as_str()).collect();
    assert_eq!(codici, ["PN", "120", "030", "300"]);
}
