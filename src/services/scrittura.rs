//! The road of every write a caller transmits (AVN bookings and administrations, TS-CNS
//! activations, revocations and renewals): the record's own rules first, then the database
//! rules and the write, committed in one transaction with the request's access-log row, so a
//! record is never stored without its row, nor the row without the record.

use crate::audit::LogFields;
use crate::contracts::tipi_dati::{ListaErroriType, MessaggioType};
use crate::db::DbError;
use crate::soap::{Fault, Outcome, RequestCtx};
use diesel::prelude::*;
use uuid::Uuid;

/// A reason for esito 01 with its stable code.
pub trait Motivo: Copy {
    fn codice(self) -> &'static str;
    fn descrizione(self) -> &'static str;
}

/// The answer's three variable parts, for the operation to write as its own Ricevuta.
pub struct Esito {
    pub esito: &'static str,
    pub descrizione: String,
    pub errori: Option<ListaErroriType>,
}

impl Esito {
    pub fn positivo(descrizione: String) -> Self {
        Self {
            esito: "00",
            descrizione,
            errori: None,
        }
    }

    pub fn negativo<E: Motivo>(errori: &[E]) -> Self {
        Self {
            esito: "01",
            descrizione: "Transazione con esito negativo: vedere listaErrori".to_owned(),
            errori: Some(ListaErroriType {
                errore: errori
                    .iter()
                    .map(|e| MessaggioType {
                        codice: e.codice().to_owned(),
                        descrizione: e.descrizione().to_owned(),
                    })
                    .collect(),
            }),
        }
    }
}

/// Why a write's transaction is rolled back: a database error, or a fault met while writing
/// the answer (shared with the other writes that commit their access-log row, e.g.
/// ConfermaRevoche).
pub(crate) enum Abort {
    Db(diesel::result::Error),
    Fault(Fault),
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e)
    }
}

/// Answers a write: a record refused by its own rules is answered at once (its row goes
/// through the group-commit writer: nothing else is written); an accepted one is applied
/// (`applica` returns what it did, or every reason it refused) and its access-log row, with
/// `log`, committed in the same transaction.
#[allow(clippy::too_many_arguments)]
pub fn registra<T, A, E: Motivo>(
    conn: &mut PgConnection,
    ctx: &RequestCtx,
    log: LogFields,
    record: Result<T, Vec<E>>,
    applica: impl FnOnce(&mut PgConnection, &T, Uuid) -> QueryResult<Result<A, Vec<E>>>,
    descrivi: impl FnOnce(A) -> String,
    ricevuta: impl Fn(Esito) -> Result<String, Fault>,
) -> Result<Outcome, DbError> {
    let record = match record {
        Ok(r) => r,
        Err(errori) => {
            return Ok(match ricevuta(Esito::negativo(&errori)) {
                Ok(xml) => Outcome::answer(xml, "01", log),
                Err(fault) => Outcome::fault(fault, log),
            })
        }
    };
    let result = conn.transaction(|c| {
        let esito = match applica(c, &record, ctx.transaction_id)? {
            Ok(fatto) => Esito::positivo(descrivi(fatto)),
            Err(errori) => Esito::negativo(&errori),
        };
        let code = esito.esito;
        let xml = ricevuta(esito).map_err(Abort::Fault)?;
        crate::audit::insert_in(c, &ctx.access_record(code, log.clone()))?;
        Ok::<_, Abort>(Outcome::logged(xml, code))
    });
    concludi(result, log)
}

/// The answer of a write's transaction: its outcome, the fault (logged with `log`) that rolled
/// it back, or the database error.
pub(crate) fn concludi(result: Result<Outcome, Abort>, log: LogFields) -> Result<Outcome, DbError> {
    match result {
        Ok(outcome) => Ok(outcome),
        Err(Abort::Fault(fault)) => Ok(Outcome::fault(fault, log)),
        // The same record inserted at the same time by a bulk file: answered as a retry,
        // which then finds it.
        Err(Abort::Db(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            info,
        ))) => Err(DbError::Unavailable(format!(
            "concurrent insert: {}",
            info.message()
        ))),
        Err(Abort::Db(e)) => Err(DbError::from(e)),
    }
}
