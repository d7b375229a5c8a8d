//! What the SSO tests share: a browser-less portal client with its session cookie, a service
//! provider made here (its key, AuthnRequests in both bindings, signed or not), the
//! enrolment of platforms, and reading the Response out of the page that posts it.

use super::client::Client;
use super::TestServer;
use bytes::Bytes;
use diesel::prelude::*;
use http_body_util::Full;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use std::collections::HashMap;
use std::path::PathBuf;

/// A portal client that keeps the session cookie, like a browser would.
pub struct Navigatore {
    client: Client,
    pub cookie: Option<String>,
}

#[derive(Debug)]
pub struct Pagina {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Navigatore {
    pub fn new(s: &TestServer) -> Self {
        Navigatore {
            client: Client::new(s.running().portal_addr, &s.pki.ca_pem_path(), None),
            cookie: None,
        }
    }

    async fn send(&mut self, req: http::request::Builder, body: String, cookie: bool) -> Pagina {
        let mut conn = self.client.connect().await.expect("connect");
        let mut req = req.header("host", conn.host().to_owned());
        if let (true, Some(c)) = (cookie, &self.cookie) {
            req = req.header("cookie", format!("__Host-tsgate-sessione={c}"));
        }
        let reply = conn
            .send(req.body(Full::new(Bytes::from(body))).expect("request"))
            .await
            .expect("reply");
        for v in reply.headers.get_all("set-cookie") {
            let v = v.to_str().unwrap_or("");
            if let Some(rest) = v.strip_prefix("__Host-tsgate-sessione=") {
                let token = rest.split(';').next().unwrap_or("");
                self.cookie = (!token.is_empty()).then(|| token.to_owned());
            }
        }
        Pagina {
            status: reply.status,
            location: reply
                .headers
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: reply.body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Pagina {
        self.send(http::Request::get(path), String::new(), true)
            .await
    }

    /// A GET the way a browser arriving from another site makes it: without the
    /// `SameSite=Strict` cookie.
    pub async fn get_da_fuori(&mut self, path: &str) -> Pagina {
        self.send(http::Request::get(path), String::new(), false)
            .await
    }

    pub async fn post(&mut self, path: &str, campi: &[(&str, &str)], cookie: bool) -> Pagina {
        let body = campi
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req =
            http::Request::post(path).header("content-type", "application/x-www-form-urlencoded");
        self.send(req, body, cookie).await
    }

    /// Posts the choice page's form for `destinazione` (`120:003`, `300:`).
    pub async fn scegli(&mut self, csrf: &str, destinazione: &str) -> Pagina {
        self.post(
            "/servizi/vaccinazioni",
            &[("csrf", csrf), ("destinazione", destinazione)],
            true,
        )
        .await
    }

    /// Presses "Annulla e torna alla piattaforma" on the choice page.
    pub async fn annulla(&mut self, csrf: &str) -> Pagina {
        self.post(
            "/servizi/vaccinazioni",
            &[("csrf", csrf), ("annulla", "1")],
            true,
        )
        .await
    }

    /// Logs in with credentials (demo password).
    pub async fn login(&mut self, codice: &str) -> Pagina {
        let form = self.get("/accesso/credenziali").await;
        let csrf = csrf(&form.body);
        self.post(
            "/accesso/credenziali",
            &[
                ("codice", codice),
                ("parola", "Demo.Tsgate1"),
                ("csrf", &csrf),
            ],
            true,
        )
        .await
    }
}

pub fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// The CSRF token of the first form of a page.
pub fn csrf(html: &str) -> String {
    campo_nascosto(html, "csrf").expect("csrf field")
}

/// The value of a hidden field, HTML entities undone.
pub fn campo_nascosto(html: &str, nome: &str) -> Option<String> {
    let re = regex::Regex::new(&format!(r#"name="{nome}" value="([^"]*)""#)).ok()?;
    let v = re.captures(html)?.get(1)?.as_str();
    Some(
        v.replace("&#x2b;", "+")
            .replace("&#43;", "+")
            .replace("&#x2f;", "/")
            .replace("&#47;", "/")
            .replace("&#x3d;", "=")
            .replace("&#61;", "=")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// What the page that posts to an ACS carries.
#[derive(Debug)]
pub struct Inviata {
    pub acs: String,
    pub xml: String,
    pub saml_response: String,
    pub relay_state: Option<String>,
}

pub fn inviata(p: &Pagina) -> Inviata {
    let acs = regex::Regex::new(r#"<form id="invio" method="post" action="([^"]+)""#)
        .unwrap()
        .captures(&p.body)
        .unwrap_or_else(|| panic!("no form to an ACS in {}", p.body))[1]
        .replace("&#x2f;", "/")
        .replace("&#x3a;", ":");
    let saml_response = campo_nascosto(&p.body, "SAMLResponse").expect("SAMLResponse");
    let xml = String::from_utf8(openssl::base64::decode_block(&saml_response).unwrap()).unwrap();
    Inviata {
        acs,
        xml,
        saml_response,
        relay_state: campo_nascosto(&p.body, "RelayState"),
    }
}

/// A service provider made by the test: its key and certificate, its entity ID and ACS.
pub struct SpTest {
    pub entity_id: String,
    pub acs_url: String,
    pub key: openssl::pkey::PKey<openssl::pkey::Private>,
    pub cert_pem: String,
}

impl SpTest {
    pub fn new(nome: &str) -> Self {
        let (key, cert) = tsgate::sso::autofirmato(nome, 2048, 30).unwrap();
        let cert_pem = String::from_utf8(cert.to_pem().unwrap()).unwrap();
        SpTest {
            entity_id: format!("https://{nome}.example/sp"),
            acs_url: format!("https://{nome}.example/acs"),
            key,
            cert_pem,
        }
    }

    /// An AuthnRequest XML.
    pub fn authn_request(
        &self,
        id: &str,
        sso_url: &str,
        istante: chrono::DateTime<chrono::Utc>,
        livello: u8,
    ) -> String {
        format!(
            "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" \
             IssueInstant=\"{}\" Destination=\"{sso_url}\" AssertionConsumerServiceURL=\"{}\" \
             ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\">\
             <saml:Issuer>{}</saml:Issuer>\
             <samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:transient\"/>\
             <samlp:RequestedAuthnContext Comparison=\"minimum\">\
             <saml:AuthnContextClassRef>https://www.spid.gov.it/SpidL{livello}</saml:AuthnContextClassRef>\
             </samlp:RequestedAuthnContext></samlp:AuthnRequest>",
            istante.format("%Y-%m-%dT%H:%M:%SZ"),
            self.acs_url,
            self.entity_id
        )
    }

    /// The query string of the HTTP-Redirect binding: deflated, base64, signed (RSA-SHA256)
    /// unless `firma` is false.
    pub fn redirect(&self, xml: &str, relay: Option<&str>, firma: bool) -> String {
        let deflated = miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6);
        let mut q = format!(
            "SAMLRequest={}",
            enc(&openssl::base64::encode_block(&deflated))
        );
        if let Some(r) = relay {
            q.push_str(&format!("&RelayState={}", enc(r)));
        }
        if firma {
            q.push_str(&format!(
                "&SigAlg={}",
                enc("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
            ));
            let mut s =
                openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &self.key)
                    .unwrap();
            s.update(q.as_bytes()).unwrap();
            let sig = s.sign_to_vec().unwrap();
            q.push_str(&format!(
                "&Signature={}",
                enc(&openssl::base64::encode_block(&sig))
            ));
        }
        q
    }

    /// The HTTP-POST binding's SAMLRequest: the XML with an enveloped signature (made with
    /// tsgate's own signer), base64.
    pub fn post(&self, xml_con_modello: &str) -> String {
        let c = tsgate::sso::firma::ChiaveFirma::da_pem(
            &self.key.private_key_to_pem_pkcs8().unwrap(),
            self.cert_pem.as_bytes(),
        )
        .unwrap();
        let firmato = tsgate::sso::firma::firma(xml_con_modello, &c).unwrap();
        openssl::base64::encode_block(firmato.as_bytes())
    }

    /// The signature template to put after the Issuer of an AuthnRequest with `id`.
    pub fn modello(&self, id: &str) -> String {
        let c = tsgate::sso::firma::ChiaveFirma::da_pem(
            &self.key.private_key_to_pem_pkcs8().unwrap(),
            self.cert_pem.as_bytes(),
        )
        .unwrap();
        tsgate::sso::firma::modello(id, &c)
    }
}

/// Enrols `lazio` as Lazio's own SP and `pn` as the PN's; Lombardia (030) and the virtual
/// region 300 go through the PN. The types are the demo's.
pub fn iscrivi(s: &TestServer, lazio: &SpTest, pn: &SpTest) {
    let mut c = s.db.connection();
    for sp in [lazio, pn] {
        diesel::sql_query(
            "INSERT INTO sso_fornitore (entity_id, acs_url, certificati, richieste_firmate, aggiornato_il) \
             VALUES ($1, $2, ARRAY[$3], TRUE, now())",
        )
        .bind::<diesel::sql_types::Text, _>(&sp.entity_id)
        .bind::<diesel::sql_types::Text, _>(&sp.acs_url)
        .bind::<diesel::sql_types::Text, _>(&sp.cert_pem)
        .execute(&mut c)
        .unwrap();
    }
    let piattaforme: [(&str, Option<&str>, &[&str]); 4] = [
        (
            "120",
            Some(&lazio.entity_id),
            &["MEDICO", "INFERMIERE", "PERSONALE_ASL_REGIONE"],
        ),
        ("030", None, &["MEDICO", "FARMACISTA"]),
        (
            "PN",
            Some(&pn.entity_id),
            &[
                "MEDICO",
                "ODONTOIATRA",
                "FARMACISTA",
                "INFERMIERE",
                "ASSISTENTE_SANITARIO",
                "PROFESSIONISTA_SANITARIO",
                "PERSONALE_ASL_REGIONE",
            ],
        ),
        (
            "300",
            None,
            &["MEDICO", "INFERMIERE", "PERSONALE_ASL_REGIONE"],
        ),
    ];
    for (codice, sp, tipi) in piattaforme {
        diesel::sql_query(
            "INSERT INTO sso_piattaforma (codice, abilitata, sp_entity_id, aggiornato_il) VALUES ($1, TRUE, $2, now())",
        )
        .bind::<diesel::sql_types::Text, _>(codice)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(sp)
        .execute(&mut c)
        .unwrap();
        for t in tipi {
            diesel::sql_query(
                "INSERT INTO sso_piattaforma_tipo (codice, tipo_operatore) VALUES ($1, $2)",
            )
            .bind::<diesel::sql_types::Text, _>(codice)
            .bind::<diesel::sql_types::Text, _>(*t)
            .execute(&mut c)
            .unwrap();
        }
    }
}

/// The IdP's signing certificate (PEM) of this server.
pub fn certificato_idp(s: &TestServer) -> String {
    std::fs::read_to_string(&s.config.sso.cert_file).unwrap()
}

/// The SSO endpoint URL of this server.
pub fn url_sso(s: &TestServer) -> String {
    format!("{}/sso/login", s.portal_url())
}

/// The attributes of an Assertion, by name.
pub fn attributi(xml: &str) -> HashMap<String, String> {
    let re = regex::Regex::new(
        r#"<saml:Attribute Name="([^"]+)"[^>]*><saml:AttributeValue>([^<]*)</saml:AttributeValue>"#,
    )
    .unwrap();
    re.captures_iter(xml)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect()
}

/// The Python of the test venv (made by scripts/test), or `TSGATE_TEST_PYTHON`.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TSGATE_TEST_PYTHON") {
        return p.into();
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        p.exists(),
        "{} not found: run scripts/test (it creates the venv)",
        p.display()
    );
    p
}

/// The SP's files: signing key and certificate, the IdP's metadata.
pub struct FileSp {
    pub sp: SpTest,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub metadata: PathBuf,
    pub dir: PathBuf,
}

pub async fn file_sp(s: &TestServer, sp: SpTest) -> FileSp {
    let dir = super::scratch_dir("sso-sp");
    let (cert, key, metadata) = (dir.join("sp.pem"), dir.join("sp.key"), dir.join("idp.xml"));
    std::fs::write(&cert, &sp.cert_pem).unwrap();
    std::fs::write(&key, sp.key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let m = Navigatore::new(s).get("/sso/metadata").await;
    std::fs::write(&metadata, m.body).unwrap();
    FileSp {
        sp,
        cert,
        key,
        metadata,
        dir,
    }
}

impl FileSp {
    /// `python tests/sso/<script> <comando> --entity-id … --idp-metadata …`, plus the SP's
    /// signing key and certificate when `con_chiave` (sp.py needs them, onelogin.py does not).
    pub fn script(&self, script: &str, comando: &str, con_chiave: bool) -> std::process::Command {
        let mut cmd = std::process::Command::new(python());
        cmd.arg(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/sso")
                .join(script),
        )
        .args([comando, "--entity-id", &self.sp.entity_id])
        .arg("--idp-metadata")
        .arg(&self.metadata);
        if con_chiave {
            cmd.arg("--sign-cert")
                .arg(&self.cert)
                .arg("--sign-key")
                .arg(&self.key);
        }
        cmd
    }
}

/// Runs a test script that prints one JSON line last; panics with its stderr when it fails.
pub fn json_di(mut cmd: std::process::Command, nome: &str) -> serde_json::Value {
    let out = cmd.output().unwrap_or_else(|e| panic!("{nome}: {e}"));
    assert!(
        out.status.success(),
        "{nome}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{nome} printed {stdout}: {e}"))
}
