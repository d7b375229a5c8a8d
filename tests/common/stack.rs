//! The SOAP stacks of the integrator tests (`tests/stack_*.rs`): what every stack's client is
//! given, and what all of them must agree on.
//!
//! `Ambiente::prepara` exports the WSDL bundle with `tsgate contratti esporta` (the files an
//! integrator feeds to wsdl2h, wsimport or SoapUI), writes each caller's certificate in the forms
//! the stacks want (PEM cert and key, both in one PEM, PKCS#12) and describes it all in
//! `ambiente.json`:
//!
//! ```json
//! { "base_url": "https://127.0.0.1:PORT", "ca": ".../ca.pem", "bundle": ".../contratti",
//!   "callers": { "avn": { "cert": "...", "key": "...", "pem": "...", "p12": "...",
//!                         "p12_password": "tsgate" }, ... },
//!   "operations": [ { "name": "AttivazioneTSCNS", "caller": "cms-lombardia",
//!                     "endpoint": "https://.../ws/AttivazioneTSCNS",
//!                     "wsdl": ".../contratti/AttivazioneTSCNS.wsdl",
//!                     "soap_action": "urn:tsgate:tscns:attivazioneTSCNS#AttivazioneTSCNS" }, ... ] }
//! ```
//!
//! A stack's client calls the operations in that order, each once with the valid data of
//! `fixtures/requests/<name>.xml` (the `fixtures` directory; dates as the stack's native date
//! type) and once with an
//! invalid request, and prints one JSON object: `{"valid": {"<op>": {"esito": "00",
//! "identificativoTransazione": "...", ...}}, "faults": {"<op>": {"faultcode": "...",
//! "codice": "TSG-0301", "descrizione": "...", "identificativoTransazione": "..."}}}`, reading
//! `codice`, `descrizione` and the transaction id from the stack's typed fault detail. `verifica` checks it.

use super::*;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// The operations in the order the clients call them, and the caller of each.
pub const OPERAZIONI: &[(&str, &str, &str)] = &[
    ("AttivazioneTSCNS", "tscns", "cms-lombardia"),
    ("RevocaTSCNS", "tscns", "cms-lombardia"),
    ("ElencoSerieCarte", "tscns", "cms-lombardia"),
    ("VerificaRinnovoCertificato", "tscns", "cms-lombardia"),
    ("RegistraRinnovoCertificato", "tscns", "cms-lombardia"),
    ("ElencoRevoche", "tscns", "cms-lombardia"),
    ("ConfermaRevoche", "tscns", "cms-lombardia"),
    (
        "VerificaAssistitoFuoriRegione",
        "vaccini",
        "regione-lombardia",
    ),
    ("TrasmissionePrenotazione", "vaccini", "avn"),
    ("TrasmissioneSomministrazione", "vaccini", "avn"),
    ("VerificaSomministrazioni", "vaccini", "regione-lombardia"),
];

pub const P12_PASSWORD: &str = "tsgate";

/// A stack's working directory and its `ambiente.json`.
pub struct Ambiente {
    pub dir: PathBuf,
    pub file: PathBuf,
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

impl Ambiente {
    /// Also loads the demo's revocation notices (as `tsgate demo` does): ConfermaRevoche's
    /// fixture acknowledges Lombardia's notices 1 and 2, which without them do not exist.
    pub fn prepara(s: &TestServer, stack: &str) -> Self {
        {
            let mut conn = s.db.connection();
            tsgate::services::tscns::revoche::carica(
                &mut conn,
                tsgate::services::tscns::revoche::eventi::EVENTI_DEMO,
                "eventi.csv",
            )
            .expect("load the demo revocation events");
        }
        let dir = scratch_dir(&format!("stack-{stack}"));
        let base = s.running().base_url.clone();
        let bundle = dir.join("contratti");
        let out = Command::new(env!("CARGO_BIN_EXE_tsgate"))
            .args(["contratti", "esporta"])
            .arg(&bundle)
            .args(["--indirizzo", &base])
            .env_remove("TSGATE_CONFIG")
            .current_dir(&dir)
            .output()
            .expect("run tsgate contratti esporta");
        assert!(
            out.status.success(),
            "contratti esporta: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut callers = serde_json::Map::new();
        for (_, _, nome) in OPERAZIONI {
            if callers.contains_key(*nome) {
                continue;
            }
            let (cert, key) = s.pki.client_paths(nome);
            let pem = dir.join(format!("{nome}.cert+key.pem"));
            let (c, k) = (
                std::fs::read(&cert).expect("cert"),
                std::fs::read(&key).expect("key"),
            );
            std::fs::write(&pem, [c.as_slice(), k.as_slice()].concat()).expect("pem");
            let p12 = dir.join(format!("{nome}.p12"));
            let x509 = openssl::x509::X509::from_pem(&c).expect("cert pem");
            let pkey = openssl::pkey::PKey::private_key_from_pem(&k).expect("key pem");
            let der = openssl::pkcs12::Pkcs12::builder()
                .name(nome)
                .pkey(&pkey)
                .cert(&x509)
                .build2(P12_PASSWORD)
                .expect("pkcs12")
                .to_der()
                .expect("pkcs12 der");
            std::fs::write(&p12, der).expect("p12");
            callers.insert(
                (*nome).to_owned(),
                json!({"cert": cert, "key": key, "pem": pem, "p12": p12, "p12_password": P12_PASSWORD}),
            );
        }
        let operations: Vec<Value> = OPERAZIONI
            .iter()
            .map(|(name, area, nome)| {
                json!({
                    "name": name,
                    "caller": nome,
                    "endpoint": format!("{base}/ws/{name}"),
                    "wsdl": bundle.join(format!("{name}.wsdl")),
                    "soap_action": format!("urn:tsgate:{area}:{}#{name}", lower_first(name)),
                })
            })
            .collect();
        let env = json!({
            "base_url": base,
            "ca": s.pki.ca_pem_path(),
            "bundle": bundle,
            "fixtures": PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/requests"),
            "callers": callers,
            "operations": operations,
        });
        let file = dir.join("ambiente.json");
        std::fs::write(&file, serde_json::to_vec_pretty(&env).expect("json")).expect("write");
        Self { dir, file }
    }

    /// Runs a stack's client (off the async runtime) and returns the JSON object it prints last.
    pub async fn esegui(&self, mut cmd: Command) -> Value {
        cmd.current_dir(&self.dir);
        let what = format!("{cmd:?}");
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("client task")
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{what} failed ({}):\n{stdout}\n{stderr}",
            out.status
        );
        let last = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .unwrap_or("");
        serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
    }
}

/// What every stack must have seen: each operation answered with its esito, each invalid
/// request refused with a Client fault whose typed detail carries the TSG code and an Italian
/// description; and each call logged, under the transaction id the client received.
pub fn verifica(s: &TestServer, stack: &str, v: &Value) {
    for (op, _, _) in OPERAZIONI {
        let esito = v
            .pointer(&format!("/valid/{op}/esito"))
            .and_then(Value::as_str);
        assert_eq!(esito, Some("00"), "{stack}: {op} valid call: {v}");
        let fault = &v["faults"][op];
        let codice = fault["codice"].as_str().unwrap_or_default();
        assert!(
            codice.starts_with("TSG-03"),
            "{stack}: {op} invalid call, no TSG code in the fault detail: {v}"
        );
        assert!(
            fault["faultcode"]
                .as_str()
                .is_some_and(|c| c.ends_with("Client")),
            "{stack}: {op} invalid call, not a Client fault: {v}"
        );
        assert!(
            fault["descrizione"]
                .as_str()
                .is_some_and(|d| d.starts_with("Richiesta non conforme") || d.contains(' ')),
            "{stack}: {op} invalid call, no description: {v}"
        );
    }
    let log = access_log(&s.db);
    assert_eq!(
        log.len(),
        2 * OPERAZIONI.len(),
        "{stack}: one access-log row per call"
    );
    nel_registro(s, stack, v);
}

/// Each call the client reports carries the transaction id it received: the access log must
/// have that transaction, with the operation, the caller and the fault's code (and the esito
/// of a valid call, where the operation logs one: VerificaSomministrazioni only a negative one).
fn nel_registro(s: &TestServer, stack: &str, v: &Value) {
    let log = access_log(&s.db);
    let riga = |op: &str, kind: &str| {
        let id = v[kind][op]["identificativoTransazione"]
            .as_str()
            .unwrap_or_else(|| panic!("{stack}: {op} {kind}: no transaction id: {v}"));
        log.iter()
            .find(|r| r.transazione == id)
            .unwrap_or_else(|| panic!("{stack}: {op} {kind}: {id} not in the access log"))
    };
    for (op, _, chiamante) in OPERAZIONI {
        for kind in ["valid", "faults"] {
            let row = riga(op, kind);
            assert_eq!(row.operazione.as_deref(), Some(*op), "{stack}: {row:?}");
            assert_eq!(
                row.chiamante.as_deref(),
                Some(*chiamante),
                "{stack}: {row:?}"
            );
        }
        let row = riga(op, "valid");
        assert!(
            row.esito.is_none() || row.esito.as_deref() == v["valid"][op]["esito"].as_str(),
            "{stack}: {op}: {row:?}"
        );
        let row = riga(op, "faults");
        assert_eq!(
            row.codice_errore.as_deref(),
            v["faults"][op]["codice"].as_str(),
            "{stack}: {op}: {row:?}"
        );
    }
}

/// The text at `path` (a JSON pointer) of a stack's output.
pub fn testo<'a>(v: &'a Value, path: &str) -> &'a str {
    v.pointer(path)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{path} in {v}"))
}

/// A stack whose client is compiled from the bundle (gSOAP, JAX-WS): `tests/stacks/<stack>/
/// build.sh OUTDIR BUNDLE` makes it, and the result is kept under the target dir, keyed by the
/// bundle's files (the server's address, which changes every run, left out), the client's
/// `sources`, and `toolchain` (what identifies the installed tools), so that it is rebuilt
/// only when one of them changes.
pub struct Compilato<'a> {
    pub stack: &'a str,
    pub sources: &'a [&'a str],
    pub toolchain: Vec<u8>,
    pub env: &'a [(&'a str, &'a str)],
    /// A file the build leaves last in OUTDIR: its presence means the build is complete.
    pub done: &'a str,
}

impl Compilato<'_> {
    pub fn sorgenti(&self) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/stacks/{}", self.stack))
    }

    fn chiave(&self, bundle: &Path, base_url: &str) -> String {
        let mut files: Vec<PathBuf> = std::fs::read_dir(bundle)
            .expect("bundle")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        let mut h = openssl::sha::Sha256::new();
        for f in &files {
            let text = std::fs::read_to_string(f).expect("bundle file");
            h.update(f.file_name().expect("name").as_encoded_bytes());
            h.update(text.replace(base_url, "BASE_URL").as_bytes());
        }
        for name in self.sources {
            h.update(name.as_bytes());
            h.update(&std::fs::read(self.sorgenti().join(name)).expect("client source"));
        }
        h.update(&self.toolchain);
        h.finish()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The directory of the client built from this bundle: from the cache, or built now (into
    /// a temporary directory renamed into place, so a concurrent run never sees half a build).
    pub fn client(&self, bundle: &Path, base_url: &str) -> PathBuf {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(self.stack);
        let dir = root.join(self.chiave(bundle, base_url));
        if dir.join(self.done).exists() {
            eprintln!("{}: cached client {}", self.stack, dir.display());
            return dir;
        }
        std::fs::create_dir_all(&root).expect("client cache dir");
        let tmp = root.join(format!(
            "{}.tmp-{}",
            dir.file_name().expect("key").to_string_lossy(),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&tmp);
        let t = Instant::now();
        let out = Command::new("bash")
            .arg(self.sorgenti().join("build.sh"))
            .arg(&tmp)
            .arg(bundle)
            .envs(self.env.iter().copied())
            .output()
            .expect("run build.sh");
        assert!(
            out.status.success(),
            "{} build failed:\n{}\n{}",
            self.stack,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("{}: client built in {:.1?}", self.stack, t.elapsed());
        if std::fs::rename(&tmp, &dir).is_err() {
            // Another run put the same build in place first.
            let _ = std::fs::remove_dir_all(&tmp);
        }
        assert!(
            dir.join(self.done).exists(),
            "{} missing after the build",
            dir.join(self.done).display()
        );
        dir
    }
}
