//! `GET <endpoint>?wsdl` and `?xsd=NAME`: the contracts as shipped, with the running server's
//! address in `soap:address` and every `schemaLocation` pointing back to this endpoint.

use super::operation::ERRORE_GATEWAY_XSD;
use super::Operation;
use regex::Regex;
use std::collections::HashMap;
use std::sync::LazyLock;

static ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<soap:address location="[^"]*"\s*/>"#).expect("static regex"));
static SCHEMA_LOCATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"schemaLocation="([A-Za-z0-9_.-]+\.xsd)""#).expect("static regex")
});

/// A WSDL's `soap:address` set to `endpoint`.
fn with_address(wsdl: &str, endpoint: &str) -> String {
    ADDRESS
        .replace(
            wsdl,
            format!(r#"<soap:address location="{endpoint}"/>"#).as_str(),
        )
        .into_owned()
}

/// The bundle for integrators (`tsgate contratti esporta DIR`): every WSDL, its `soap:address`
/// set to `base_url` + the endpoint's path, and every schema it imports, side by side in `dir`
/// with the relative `schemaLocation`s as shipped — what `wsdl2h`, `wsimport` or SoapUI read
/// from files, since they cannot present a client certificate when they fetch `?wsdl`.
/// Returns the file names written, sorted.
pub fn esporta(
    operations: &[&'static Operation],
    base_url: &str,
    dir: &std::path::Path,
) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut files = std::collections::BTreeMap::new();
    for op in operations {
        let endpoint = format!("{}{}", base_url.trim_end_matches('/'), op.path);
        files.insert(
            format!("{}.wsdl", op.name),
            with_address(op.wsdl, &endpoint),
        );
        for (name, text) in op.schemas.iter().chain(&[ERRORE_GATEWAY_XSD]) {
            files.insert((*name).to_owned(), (*text).to_owned());
        }
    }
    for (name, text) in &files {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(files.into_keys().collect())
}

/// The documents of every operation, rewritten once for the server's base URL.
pub struct Contracts {
    /// keyed by `<path>?wsdl` and `<path>?xsd=<name>`
    docs: HashMap<String, String>,
}

impl Contracts {
    pub fn new(operations: &[&'static Operation], base_url: &str) -> Self {
        let mut docs = HashMap::new();
        for op in operations {
            let endpoint = format!("{}{}", base_url.trim_end_matches('/'), op.path);
            let locate = |text: &str| {
                SCHEMA_LOCATION
                    .replace_all(text, |c: &regex::Captures<'_>| {
                        format!(r#"schemaLocation="{endpoint}?xsd={}""#, &c[1])
                    })
                    .into_owned()
            };
            let wsdl = with_address(op.wsdl, &endpoint);
            docs.insert(format!("{}?wsdl", op.path), locate(&wsdl));
            for (name, text) in op.schemas.iter().chain(&[ERRORE_GATEWAY_XSD]) {
                docs.insert(format!("{}?xsd={name}", op.path), locate(text));
            }
        }
        Self { docs }
    }

    /// The document asked for by `query` (`wsdl` or `xsd=NAME`) at `path`.
    pub fn lookup(&self, path: &str, query: &str) -> Option<&str> {
        let query = if query.eq_ignore_ascii_case("wsdl") {
            "wsdl"
        } else {
            query
        };
        self.docs
            .get(&format!("{path}?{query}"))
            .map(String::as_str)
    }
}
