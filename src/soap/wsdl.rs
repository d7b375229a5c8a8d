//! `GET <endpoint>?wsdl` and `?xsd=NAME`: the contracts as shipped, with the running server's
//! address in `soap:address` and every `schemaLocation` pointing back to this endpoint.

use super::Operation;
use regex::Regex;
use std::collections::HashMap;
use std::sync::LazyLock;

static ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<soap:address location="[^"]*"\s*/>"#).expect("static regex"));
static SCHEMA_LOCATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"schemaLocation="([A-Za-z0-9_.-]+\.xsd)""#).expect("static regex")
});

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
            let wsdl = ADDRESS.replace(
                op.wsdl,
                format!(r#"<soap:address location="{endpoint}"/>"#).as_str(),
            );
            docs.insert(format!("{}?wsdl", op.path), locate(&wsdl));
            for (name, text) in op.schemas {
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
