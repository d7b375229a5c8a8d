//! Queries of the vaccination services.

use crate::db::schema::{assistito, regione, tessera_sanitaria};
use crate::domain::{CodiceFiscale, CodiceRegione};
use chrono::NaiveDate;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Assistito {
    pub codice_fiscale: String,
    pub regione_assistenza: String,
    pub regione_residenza: String,
    pub identificativo_cluster: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Tessera {
    pub numero: String,
    pub data_scadenza: NaiveDate,
}

/// The patient and all their cards, in one round trip.
pub fn assistito_con_tessere(
    conn: &mut PgConnection,
    cf: &CodiceFiscale,
) -> QueryResult<Option<(Assistito, Vec<Tessera>)>> {
    // The card side is filtered by the codice fiscale too, so both sides use their index.
    let rows: Vec<(Assistito, Option<Tessera>)> = assistito::table
        .left_join(
            tessera_sanitaria::table.on(tessera_sanitaria::codice_fiscale
                .eq(assistito::codice_fiscale)
                .and(tessera_sanitaria::codice_fiscale.eq(cf.as_str()))),
        )
        .filter(assistito::codice_fiscale.eq(cf.as_str()))
        .select((
            (
                assistito::codice_fiscale,
                assistito::regione_assistenza,
                assistito::regione_residenza,
                assistito::identificativo_cluster,
            ),
            (tessera_sanitaria::numero, tessera_sanitaria::data_scadenza).nullable(),
        ))
        .load(conn)?;
    let mut rows = rows.into_iter();
    let Some((assistito, first)) = rows.next() else {
        return Ok(None);
    };
    let tessere = first
        .into_iter()
        .chain(rows.filter_map(|(_, t)| t))
        .collect();
    Ok(Some((assistito, tessere)))
}

pub fn regione_esiste(conn: &mut PgConnection, codice: &CodiceRegione) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        regione::table.filter(regione::codice.eq(codice.as_str())),
    ))
    .get_result(conn)
}
