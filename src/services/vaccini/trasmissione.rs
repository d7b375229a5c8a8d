//! The road shared by TrasmissionePrenotazione and TrasmissioneSomministrazione (section 4):
//! the record rules first, then the database rules and the write, committed in one transaction
//! with the access-log row of section 4.3 (caller, time, esito, transaction id, client IP).

use super::avn::Errore;
use super::repo::Applicata;
use crate::audit::LogFields;
use crate::contracts::tipi_dati::{ListaErroriType, MessaggioType};
use crate::db::DbError;
use crate::soap::{Fault, Outcome, RequestCtx};
use diesel::prelude::*;
use uuid::Uuid;

/// The answer's three variable parts, for the operation to write as its own Ricevuta.
pub struct Esito {
    pub esito: &'static str,
    pub descrizione: String,
    pub errori: Option<ListaErroriType>,
}

impl Esito {
    fn positivo(applicata: Applicata, soggetto: &str) -> Self {
        let descrizione = match applicata {
            Applicata::Inserita => format!("{soggetto} registrata"),
            Applicata::GiaPresente => {
                format!("{soggetto} già registrata con gli stessi dati: nessuna modifica")
            }
            Applicata::Variata => format!("{soggetto} variata"),
            Applicata::Annullata => format!("{soggetto} annullata: il record è stato rimosso"),
        };
        Self {
            esito: "00",
            descrizione,
            errori: None,
        }
    }

    fn negativo(errori: &[Errore]) -> Self {
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

/// Why the transaction is rolled back.
enum Abort {
    Db(diesel::result::Error),
    Fault(Fault),
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e)
    }
}

/// Answers a transmission: a record refused by its own rules is answered at once (its row goes
/// through the group-commit writer: nothing else is written); an accepted one is applied and
/// its access-log row committed in the same transaction, so a record is never stored without
/// its row, nor the row without the record.
pub fn trasmetti<T>(
    conn: &mut PgConnection,
    ctx: &RequestCtx,
    soggetto: &str,
    record: Result<T, Vec<Errore>>,
    applica: impl FnOnce(&mut PgConnection, &T, Uuid) -> QueryResult<Result<Applicata, Vec<Errore>>>,
    ricevuta: impl Fn(Esito) -> Result<String, Fault>,
) -> Result<Outcome, DbError> {
    let record = match record {
        Ok(r) => r,
        Err(errori) => {
            return Ok(match ricevuta(Esito::negativo(&errori)) {
                Ok(xml) => Outcome::answer(xml, "01", LogFields::default()),
                Err(fault) => Outcome::fault(fault, LogFields::default()),
            })
        }
    };
    let result = conn.transaction(|c| {
        let esito = match applica(c, &record, ctx.transaction_id)? {
            Ok(applicata) => Esito::positivo(applicata, soggetto),
            Err(errori) => Esito::negativo(&errori),
        };
        let code = esito.esito;
        let xml = ricevuta(esito).map_err(Abort::Fault)?;
        crate::audit::insert_in(c, &ctx.access_record(code, LogFields::default()))?;
        Ok::<_, Abort>(Outcome::logged(xml, code))
    });
    match result {
        Ok(outcome) => Ok(outcome),
        Err(Abort::Fault(fault)) => Ok(Outcome::fault(fault, LogFields::default())),
        // The same booking inserted at the same time by a bulk file: answered as a retry, which
        // then finds it.
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
