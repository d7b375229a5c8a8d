//! The road shared by TrasmissionePrenotazione and TrasmissioneSomministrazione (section 4):
//! `services::scrittura` with the access-log row of section 4.3 (caller, time, esito,
//! transaction id, client IP: no patient data) and the AVN's descriptions.

use super::avn::Errore;
use super::repo::Applicata;
use crate::audit::LogFields;
use crate::db::DbError;
use crate::services::scrittura::{self, Motivo};
use crate::soap::{Fault, Outcome, RequestCtx};
use diesel::prelude::*;
use uuid::Uuid;

pub use crate::services::scrittura::Esito;

impl Motivo for Errore {
    fn codice(self) -> &'static str {
        Errore::codice(self)
    }
    fn descrizione(self) -> &'static str {
        Errore::descrizione(self)
    }
}

fn descrizione(applicata: Applicata, soggetto: &str) -> String {
    match applicata {
        Applicata::Inserita => format!("{soggetto} registrata"),
        Applicata::GiaPresente => {
            format!("{soggetto} già registrata con gli stessi dati: nessuna modifica")
        }
        Applicata::Variata => format!("{soggetto} variata"),
        Applicata::Annullata => format!("{soggetto} annullata: il record è stato rimosso"),
    }
}

/// Answers a transmission of `soggetto` ("Prenotazione", "Somministrazione").
pub fn trasmetti<T>(
    conn: &mut PgConnection,
    ctx: &RequestCtx,
    soggetto: &str,
    record: Result<T, Vec<Errore>>,
    applica: impl FnOnce(&mut PgConnection, &T, Uuid) -> QueryResult<Result<Applicata, Vec<Errore>>>,
    ricevuta: impl Fn(Esito) -> Result<String, Fault>,
) -> Result<Outcome, DbError> {
    scrittura::registra(
        conn,
        ctx,
        LogFields::default(),
        record,
        applica,
        |a| descrizione(a, soggetto),
        ricevuta,
    )
}
