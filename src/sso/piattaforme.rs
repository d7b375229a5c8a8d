//! The enrolment of platforms for operator SSO (decree annex A §2.4), declared in a TOML file
//! and applied to the database: which regions and the Piattaforma Nazionale operators may be
//! sent to, through which SAML service provider, accepting which operator types.
//!
//! ```toml
//! [pn]                                  # the Piattaforma Nazionale (optional)
//! abilitata = true                      # default true
//! tipi = ["MEDICO", "FARMACISTA"]       # codes of tipo_operatore, at least one
//! [pn.sp]
//! entity_id = "https://pn.example/sp"
//! acs_url = "https://pn.example/acs"    # https only
//! certificati = ["pn-sp.pem"]           # PEM files, one or more (rollover)
//! richieste_firmate = true              # default true: unsigned AuthnRequests are refused
//! # or: metadata = "pn-sp.xml"          # entity_id (optional, then checked), ACS and
//! #                                     # certificates read from the SP's SAML metadata file
//! # or: metadata = "https://pn.example/metadata"   # ... downloaded at each `applica`
//! # metadata_ca = "ca.pem"              # a private CA for that HTTPS server (besides the
//! #                                     # system's trust store)
//! # metadata_firmato_da = ["fed.pem"]   # the metadata must carry a valid signature by one
//! #                                     # of these certificates (file or URL)
//!
//! [[regione]]
//! codice = "120"
//! abilitata = true
//! tipi = ["MEDICO"]
//! piattaforma = "propria"               # its own SP in [regione.sp]; or "pn" (no [regione.sp])
//! [regione.sp]
//! entity_id = "https://lazio.example/sp" # ... as for the PN
//! ```
//!
//! Relative paths are relative to the file's directory. Problems are reported all at once,
//! each with its field (`regione[2].sp.acs_url`, regions counted from 1). Rules besides the
//! obvious ones: a virtual region always goes through the PN; a region's own SP may not be the
//! PN's (write `piattaforma = "pn"`: only then does the region's code travel to the PN); two
//! regions may share an SP only with identical data; a metadata URL is fetched with
//! [`scarica`](super::scarica) (https, verified, no redirects, 1 MiB, 15 s), so `applica` run
//! again refreshes a platform whose certificates rolled over. [`applica`] makes the database
//! equal to the file in one transaction, audited.

use super::{firma, metadata_sp, scarica};
use anyhow::{anyhow, Context};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The code of the Piattaforma Nazionale in `sso_piattaforma`.
pub const CODICE_PN: &str = "PN";
/// The demo's enrolment; its certificate paths are relative to the demo's SSO directory.
pub const DEMO_SSO: &str = include_str!("../../fixtures/demo_sso.toml");

fn vero() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    pn: Option<PnToml>,
    #[serde(default)]
    regione: Vec<RegioneToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PnToml {
    #[serde(default = "vero")]
    abilitata: bool,
    tipi: Vec<String>,
    sp: SpToml,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegioneToml {
    codice: String,
    #[serde(default = "vero")]
    abilitata: bool,
    tipi: Vec<String>,
    piattaforma: Tramite,
    sp: Option<SpToml>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Tramite {
    Propria,
    Pn,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpToml {
    entity_id: Option<String>,
    acs_url: Option<String>,
    certificati: Option<Vec<String>>,
    richieste_firmate: Option<bool>,
    metadata: Option<String>,
    metadata_ca: Option<String>,
    metadata_firmato_da: Option<Vec<String>>,
}

/// A service provider as the file declares it (certificates as normalised PEM text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fornitore {
    pub entity_id: String,
    pub acs_url: String,
    pub certificati: Vec<String>,
    pub richieste_firmate: bool,
    /// The metadata file or URL the data came from.
    pub metadata_origine: Option<String>,
}

impl Fornitore {
    fn stessi_dati(&self, altro: &Fornitore) -> bool {
        self.acs_url == altro.acs_url
            && impronte(&self.certificati) == impronte(&altro.certificati)
            && self.richieste_firmate == altro.richieste_firmate
    }
}

/// A platform as the file declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piattaforma {
    /// `PN` or a codice regione.
    pub codice: String,
    /// Where it is in the file (`pn`, `regione[2]`), for the messages.
    pub campo: String,
    pub abilitata: bool,
    /// Its own SP's entity id; `None`: through the PN.
    pub sp: Option<String>,
    pub tipi: Vec<String>,
}

/// A parsed and resolved enrolment file.
#[derive(Debug, Clone)]
pub struct Iscrizioni {
    /// The file, for the messages.
    pub origine: String,
    /// The PN first (when declared), then the regions in file order.
    pub piattaforme: Vec<Piattaforma>,
    pub fornitori: BTreeMap<String, Fornitore>,
}

/// Reads and resolves an enrolment file (certificates and metadata read, everything checked
/// that needs no database).
pub fn leggi_file(path: &Path) -> anyhow::Result<Iscrizioni> {
    let testo =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let base = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    da_testo(&testo, &path.display().to_string(), &base)
}

/// [`leggi_file`] on text, with relative paths resolved against `base`.
pub fn da_testo(testo: &str, origine: &str, base: &Path) -> anyhow::Result<Iscrizioni> {
    let file: FileToml = toml::from_str(testo).map_err(|e| anyhow!("{origine}: {e}"))?;
    let mut err = Vec::new();
    let mut piattaforme = Vec::new();
    let mut fornitori: BTreeMap<String, Fornitore> = BTreeMap::new();
    let mut campo_sp: HashMap<String, String> = HashMap::new();
    let mut aggiungi =
        |f: Fornitore, campo: &str, err: &mut Vec<String>| match fornitori.get(&f.entity_id) {
            Some(g) if !g.stessi_dati(&f) => err.push(format!(
                "{campo}: SP {} is already declared in {} with other acs_url, certificati or \
                 richieste_firmate",
                f.entity_id,
                campo_sp.get(&f.entity_id).map_or("", String::as_str)
            )),
            Some(_) => {}
            None => {
                campo_sp.insert(f.entity_id.clone(), campo.to_owned());
                fornitori.insert(f.entity_id.clone(), f);
            }
        };
    let mut sp_pn = None;
    if let Some(pn) = &file.pn {
        let sp = fornitore(&pn.sp, "pn.sp", base, &mut err);
        sp_pn = sp.as_ref().map(|f| f.entity_id.clone());
        piattaforme.push(Piattaforma {
            codice: CODICE_PN.into(),
            campo: "pn".into(),
            abilitata: pn.abilitata,
            sp: sp_pn.clone(),
            tipi: tipi(&pn.tipi, "pn", &mut err),
        });
        if let Some(f) = sp {
            aggiungi(f, "pn.sp", &mut err);
        }
    }
    let mut codici: HashMap<String, String> = HashMap::new();
    for (i, r) in file.regione.iter().enumerate() {
        let campo = format!("regione[{}]", i + 1);
        if crate::domain::CodiceRegione::parse(&r.codice).is_err() {
            err.push(format!(
                "{campo}.codice: \"{}\" is not a codice regione (3 digits, e.g. 030)",
                r.codice
            ));
        } else if let Some(prima) = codici.insert(r.codice.clone(), campo.clone()) {
            err.push(format!(
                "{campo}.codice: {} is already in {prima}",
                r.codice
            ));
        }
        let sp = match (r.piattaforma, &r.sp) {
            (Tramite::Propria, Some(sp)) => fornitore(sp, &format!("{campo}.sp"), base, &mut err),
            (Tramite::Propria, None) => {
                err.push(format!(
                    "{campo}.sp: missing (piattaforma = \"propria\" needs [regione.sp])"
                ));
                None
            }
            (Tramite::Pn, Some(_)) => {
                err.push(format!("{campo}.sp: not allowed with piattaforma = \"pn\""));
                None
            }
            (Tramite::Pn, None) => {
                if file.pn.is_none() {
                    err.push(format!(
                        "{campo}.piattaforma: \"pn\", but the file has no [pn]"
                    ));
                }
                None
            }
        };
        if let Some(f) = &sp {
            if sp_pn.as_deref() == Some(f.entity_id.as_str()) {
                err.push(format!(
                    "{campo}.sp.entity_id: {} is the PN's SP; write piattaforma = \"pn\" (then \
                     the region's code travels to the PN)",
                    f.entity_id
                ));
            }
        }
        piattaforme.push(Piattaforma {
            codice: r.codice.clone(),
            campo: campo.clone(),
            abilitata: r.abilitata,
            sp: sp.as_ref().map(|f| f.entity_id.clone()),
            tipi: tipi(&r.tipi, &campo, &mut err),
        });
        if let Some(f) = sp {
            aggiungi(f, &format!("{campo}.sp"), &mut err);
        }
    }
    if !err.is_empty() {
        return Err(problemi(origine, &err));
    }
    Ok(Iscrizioni {
        origine: origine.to_owned(),
        piattaforme,
        fornitori,
    })
}

fn problemi(origine: &str, err: &[String]) -> anyhow::Error {
    anyhow!(
        "{origine}: {} problem(s), nothing changed:\n  {}",
        err.len(),
        err.join("\n  ")
    )
}

fn tipi(tipi: &[String], campo: &str, err: &mut Vec<String>) -> Vec<String> {
    if tipi.is_empty() {
        err.push(format!("{campo}.tipi: at least one operator type"));
    }
    let mut visti = BTreeSet::new();
    for (i, t) in tipi.iter().enumerate() {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
            err.push(format!(
                "{campo}.tipi[{}]: \"{t}\" is not an operator type code (A-Z and _)",
                i + 1
            ));
        } else if !visti.insert(t.as_str()) {
            err.push(format!("{campo}.tipi[{}]: {t} is given twice", i + 1));
        }
    }
    tipi.to_vec()
}

fn https(url: &str) -> Result<(), String> {
    let uri: http::Uri = url.parse().map_err(|_| format!("\"{url}\" is not a URL"))?;
    if uri.scheme_str() != Some("https") || uri.host().is_none_or(str::is_empty) {
        return Err(format!("must be an https:// URL, got \"{url}\""));
    }
    if url.len() > 2048 {
        return Err("longer than 2048 characters".into());
    }
    Ok(())
}

fn entity_id(v: &str) -> Result<(), String> {
    if v.trim().is_empty() || v.trim() != v {
        return Err(format!("\"{v}\" is empty or has surrounding spaces"));
    }
    if v.len() > 1024 {
        return Err("longer than 1024 characters".into());
    }
    Ok(())
}

fn percorso(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Resolves `[...sp]`: its files are read and checked; problems go to `err`.
fn fornitore(sp: &SpToml, campo: &str, base: &Path, err: &mut Vec<String>) -> Option<Fornitore> {
    let n = err.len();
    let mut e = |sotto: &str, m: String| err.push(format!("{campo}.{sotto}: {m}"));
    let richieste_firmate = sp.richieste_firmate.unwrap_or(true);
    if let Some(m) = &sp.metadata {
        if sp.acs_url.is_some() || sp.certificati.is_some() {
            e(
                "metadata",
                "give either metadata or acs_url and certificati, not both".into(),
            );
            return None;
        }
        let (xml, origine) = if m.starts_with("https://") {
            let ca = sp.metadata_ca.as_deref().map(|c| percorso(base, c));
            match scarica::scarica(m, ca.as_deref(), scarica::Limiti::default()) {
                Ok(x) => (x, m.clone()),
                Err(x) => {
                    e("metadata", format!("{m}: {x}"));
                    return None;
                }
            }
        } else if m.starts_with("http://") {
            e("metadata", format!("{m}: only https URLs are fetched"));
            return None;
        } else {
            if sp.metadata_ca.is_some() {
                e("metadata_ca", "only for a metadata URL".into());
            }
            let path = percorso(base, m);
            match std::fs::read(&path) {
                Ok(x) => (x, path.display().to_string()),
                Err(x) => {
                    e("metadata", format!("cannot read {}: {x}", path.display()));
                    return None;
                }
            }
        };
        if let Some(firmatari) = &sp.metadata_firmato_da {
            let mut pem = Vec::new();
            for (i, f) in firmatari.iter().enumerate() {
                match leggi_pem(&percorso(base, f)) {
                    Ok(v) => pem.extend(v),
                    Err(x) => e(&format!("metadata_firmato_da[{}]", i + 1), x),
                }
            }
            if pem.is_empty() {
                e("metadata_firmato_da", "at least one PEM file".into());
                return None;
            }
            if let Err(x) = firma::verifica(&xml, &pem) {
                e(
                    "metadata",
                    format!("{origine}: signature not accepted: {x}"),
                );
                return None;
            }
        }
        let md = match metadata_sp::leggi(&xml) {
            Ok(md) => md,
            Err(x) => {
                e("metadata", format!("{origine}: {x}"));
                return None;
            }
        };
        if let Some(atteso) = &sp.entity_id {
            if *atteso != md.entity_id {
                e(
                    "entity_id",
                    format!(
                        "\"{atteso}\", but the metadata's entityID is \"{}\"",
                        md.entity_id
                    ),
                );
            }
        }
        if let Err(x) = entity_id(&md.entity_id) {
            e("metadata", format!("entityID {x}"));
        }
        if let Err(x) = https(&md.acs_url) {
            e("metadata", format!("AssertionConsumerService Location {x}"));
        }
        return (err.len() == n).then_some(Fornitore {
            entity_id: md.entity_id,
            acs_url: md.acs_url,
            certificati: md.certificati,
            richieste_firmate,
            metadata_origine: Some(origine),
        });
    }
    if sp.metadata_ca.is_some() || sp.metadata_firmato_da.is_some() {
        e(
            "metadata",
            "missing (metadata_ca and metadata_firmato_da apply to it)".into(),
        );
    }
    match &sp.entity_id {
        None => e("entity_id", "missing (or give metadata)".into()),
        Some(v) => {
            if let Err(x) = entity_id(v) {
                e("entity_id", x);
            }
        }
    }
    match &sp.acs_url {
        None => e("acs_url", "missing (or give metadata)".into()),
        Some(v) => {
            if let Err(x) = https(v) {
                e("acs_url", x);
            }
        }
    }
    let mut certificati: Vec<String> = Vec::new();
    match &sp.certificati {
        None => e("certificati", "missing (or give metadata)".into()),
        Some(c) if c.is_empty() => e("certificati", "at least one PEM file".into()),
        Some(c) => {
            for (i, f) in c.iter().enumerate() {
                let sotto = format!("certificati[{}]", i + 1);
                let path = percorso(base, f);
                match leggi_pem(&path) {
                    Ok(v) => certificati.extend(v),
                    Err(x) => e(&sotto, x),
                }
            }
        }
    }
    let mut visti = BTreeSet::new();
    certificati.retain(|c| visti.insert(impronta(c)));
    if err.len() != n {
        return None;
    }
    Some(Fornitore {
        entity_id: sp.entity_id.clone().unwrap_or_default(),
        acs_url: sp.acs_url.clone().unwrap_or_default(),
        certificati,
        richieste_firmate,
        metadata_origine: None,
    })
}

/// The certificates of a PEM file, normalised.
fn leggi_pem(path: &Path) -> Result<Vec<String>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let certs = openssl::x509::X509::stack_from_pem(&pem)
        .map_err(|e| format!("{}: not a PEM certificate ({e})", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
    }
    certs
        .iter()
        .map(|c| {
            c.to_pem()
                .map_err(|e| e.to_string())
                .and_then(|p| String::from_utf8(p).map_err(|e| e.to_string()))
        })
        .collect()
}

/// The SHA-256 fingerprint of a PEM certificate, in hex (`?` when it does not parse).
pub fn impronta(pem: &str) -> String {
    openssl::x509::X509::from_pem(pem.as_bytes())
        .and_then(|c| c.digest(openssl::hash::MessageDigest::sha256()))
        .map(|d| d.iter().map(|b| format!("{b:02x}")).collect())
        .unwrap_or_else(|_| "?".into())
}

fn impronte(certificati: &[String]) -> BTreeSet<String> {
    certificati.iter().map(|c| impronta(c)).collect()
}

fn si_no(b: bool) -> &'static str {
    if b {
        "sì"
    } else {
        "no"
    }
}

fn nome(codice: &str) -> String {
    if codice == CODICE_PN {
        "PN".into()
    } else {
        format!("regione {codice}")
    }
}

fn descrivi_sp(sp: Option<&str>) -> String {
    sp.map_or_else(
        || "tramite la PN".into(),
        |s| format!("piattaforma propria {s}"),
    )
}

/// Short fingerprints of the certificates, for the lines and the audit.
fn elenco_impronte(c: &BTreeSet<String>) -> String {
    c.iter()
        .map(|i| format!("sha256:{}", i.get(..16).unwrap_or(i)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Checks against the database: regions exist, virtual ones go through the PN, types exist.
mod applica;
mod elenco;

pub use applica::applica;
pub use elenco::{elenco, iscrivi_demo};

#[cfg(test)]
#[path = "piattaforme_tests.rs"]
mod tests;
