//! The operation table: everything the pipeline needs to know about one SOAP operation.
//! Adding an operation = XSD + WSDL + handler + one `Operation` value listed in its service
//! family's `OPERAZIONI` (the catalogue, `crate::catalogo`, gathers those).

use super::Fault;
use crate::access::{Caller, TipoChiamante};
use crate::audit::{AccessRecord, LogFields};
use crate::db::DbError;
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use std::net::IpAddr;
use std::sync::Arc;
use uuid::Uuid;

/// What a handler knows about the request besides its body.
pub struct RequestCtx {
    pub transaction_id: Uuid,
    pub caller: Arc<Caller>,
    pub operation: &'static str,
    /// When the request arrived and where from: the access-log row's own fields.
    pub ts: DateTime<Utc>,
    pub peer_ip: IpAddr,
    /// When the request arrived, on the monotonic clock (the row's duration).
    pub started: std::time::Instant,
}

impl RequestCtx {
    /// This request's access-log row with `esito`, for a handler that commits it in the same
    /// transaction as its business writes (then it answers with `Outcome::logged`).
    pub fn access_record(&self, esito: &str, fields: LogFields) -> AccessRecord {
        AccessRecord::new(
            self.ts,
            self.transaction_id,
            Some(self.operation),
            Some(self.caller.nome.clone()),
            self.peer_ip,
            Ok(esito),
            fields,
        )
        .durata_da(self.started)
    }
}

/// A handler's answer: the response body element (XML, no declaration) or a fault, plus the
/// access-log fields. `esito` is the decree's outcome code when the response is an answer.
/// `logged`: the handler already committed the access-log row with its own writes.
pub struct Outcome {
    pub response: Result<(String, &'static str), Fault>,
    pub log: LogFields,
    pub logged: bool,
}

impl Outcome {
    pub fn answer(body_xml: String, esito: &'static str, log: LogFields) -> Self {
        Self {
            response: Ok((body_xml, esito)),
            log,
            logged: false,
        }
    }

    /// An answer whose access-log row was committed in the handler's own transaction.
    pub fn logged(body_xml: String, esito: &'static str) -> Self {
        Self {
            response: Ok((body_xml, esito)),
            log: LogFields::default(),
            logged: true,
        }
    }

    pub fn fault(fault: Fault, log: LogFields) -> Self {
        Self {
            response: Err(fault),
            log,
            logged: false,
        }
    }
}

/// A handler's function: the request's body element in, its outcome out, on a database
/// connection.
pub type HandlerFn = fn(&mut PgConnection, &RequestCtx, &str) -> Result<Outcome, DbError>;

/// How a handler runs, by what it does to the database.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Reads only: runs in a look-up batch (`soap::batch`), its row committed with the batch's.
    Read(HandlerFn),
    /// Writes: runs on the blocking pool in its own transaction, with its row when it answers
    /// `Outcome::logged` (`services::scrittura`).
    Write(HandlerFn),
}

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
    /// The kinds of caller the decree lets call it, whatever the entitlements say.
    pub callers: &'static [TipoChiamante],
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

/// The operation served at `path` among `operations` (`AppState::operations`).
pub fn by_path(operations: &[&'static Operation], path: &str) -> Option<&'static Operation> {
    operations.iter().copied().find(|op| op.path == path)
}

/// Shared schemas, embedded in the binary.
pub const TIPI_DATI_XSD: (&str, &str) = ("TipiDati.xsd", include_str!("../../xsd/TipiDati.xsd"));

/// The schema of every fault's detail (`erroreGateway`), imported by every WSDL and served at
/// every endpoint beside the operation's own schemas.
pub const ERRORE_GATEWAY_XSD: (&str, &str) = (
    "ErroreGateway.xsd",
    include_str!("../../xsd/ErroreGateway.xsd"),
);
