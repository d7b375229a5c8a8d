//! The operation table: everything the pipeline needs to know about one SOAP operation.
//! Adding an operation = XSD + WSDL + handler + one `Operation` value listed in `all()`.

use super::Fault;
use crate::access::Caller;
use crate::audit::LogFields;
use crate::db::DbError;
use diesel::PgConnection;
use std::sync::Arc;

/// What a handler knows about the request besides its body.
pub struct RequestCtx {
    pub transaction_id: String,
    pub caller: Arc<Caller>,
}

/// A handler's answer: the response body element (XML, no declaration) or a fault, plus the
/// access-log fields. `esito` is the decree's outcome code when the response is an answer.
pub struct Outcome {
    pub response: Result<(String, &'static str), Fault>,
    pub log: LogFields,
}

impl Outcome {
    pub fn answer(body_xml: String, esito: &'static str, log: LogFields) -> Self {
        Self {
            response: Ok((body_xml, esito)),
            log,
        }
    }

    pub fn fault(fault: Fault, log: LogFields) -> Self {
        Self {
            response: Err(fault),
            log,
        }
    }
}

/// A handler runs on the blocking pool with a database connection.
pub type Handler = fn(&mut PgConnection, &RequestCtx, &str) -> Result<Outcome, DbError>;

pub struct Operation {
    /// Operation name, as in the WSDL and in entitlements (`chiamante.operazioni`).
    pub name: &'static str,
    /// HTTP path of its endpoint.
    pub path: &'static str,
    pub soap_action: &'static str,
    /// Namespace and local name of the request element (the single Body child).
    pub request_ns: &'static str,
    pub request_element: &'static str,
    /// WSDL text and the schemas it imports, directly or not: (file name, text).
    pub wsdl: &'static str,
    pub schemas: &'static [(&'static str, &'static str)],
    pub handler: Handler,
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish()
    }
}

/// Every operation the gateway serves.
pub fn all() -> &'static [&'static Operation] {
    static ALL: [&Operation; 1] = [&crate::services::vaccini::VERIFICA_ASSISTITO_FUORI_REGIONE];
    &ALL
}

/// The operation served at `path`, if any.
pub fn by_path(path: &str) -> Option<&'static Operation> {
    all().iter().copied().find(|op| op.path == path)
}

/// Shared schemas, embedded in the binary.
pub const TIPI_DATI_XSD: (&str, &str) = ("TipiDati.xsd", include_str!("../../xsd/TipiDati.xsd"));
