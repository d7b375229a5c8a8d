//! Provisioning of operators (the demo fixture `fixtures/demo_operatori.toml`, the tests): an
//! operator already present is left as it is, so a changed password survives a reload.

use super::password;
use crate::db::schema::{utente, utente_profilo};
use crate::domain::CodiceFiscale;
use anyhow::Context;
use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use serde::Deserialize;

const DEMO_OPERATORI: &str = include_str!("../../fixtures/demo_operatori.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NuovoOperatore {
    pub codice_fiscale: String,
    /// Defaults to the codice fiscale.
    pub codice_identificativo: Option<String>,
    pub cognome: String,
    pub nome: String,
    pub data_nascita: Option<NaiveDate>,
    pub sesso: Option<String>,
    pub luogo_nascita: Option<String>,
    pub provincia_nascita: Option<String>,
    pub tipo: String,
    pub codice_regione: Option<String>,
    pub codice_asl: Option<String>,
    pub indirizzo_lavoro: Option<String>,
    pub cap_lavoro: Option<String>,
    pub comune_lavoro: Option<String>,
    pub provincia_lavoro: Option<String>,
    pub telefono: Option<String>,
    pub fax: Option<String>,
    pub email: Option<String>,
    pub profili: Vec<String>,
    pub parola_chiave: String,
    pub cambio_password_obbligatorio: bool,
}

#[derive(Deserialize)]
struct File {
    operatore: Vec<NuovoOperatore>,
}

pub fn demo() -> anyhow::Result<Vec<NuovoOperatore>> {
    Ok(toml::from_str::<File>(DEMO_OPERATORI)
        .context("fixtures/demo_operatori.toml")?
        .operatore)
}

/// Inserts the operator and their profiles unless the codice fiscale is already there;
/// returns the operator's id.
pub fn inserisci(conn: &mut PgConnection, o: &NuovoOperatore) -> anyhow::Result<i64> {
    CodiceFiscale::parse(&o.codice_fiscale)
        .map_err(|e| anyhow::anyhow!("operator {}: {e}", o.codice_fiscale))?;
    if let Some(id) = utente::table
        .filter(utente::codice_fiscale.eq(&o.codice_fiscale))
        .select(utente::id)
        .first::<i64>(conn)
        .optional()?
    {
        return Ok(id);
    }
    let hash = password::hash(&o.parola_chiave)?;
    let ora = Utc::now();
    conn.transaction(|c| {
        let id: i64 = diesel::insert_into(utente::table)
            .values((
                utente::codice_identificativo.eq(o
                    .codice_identificativo
                    .as_ref()
                    .unwrap_or(&o.codice_fiscale)),
                utente::codice_fiscale.eq(&o.codice_fiscale),
                utente::cognome.eq(&o.cognome),
                utente::nome.eq(&o.nome),
                utente::data_nascita.eq(o.data_nascita),
                utente::sesso.eq(&o.sesso),
                utente::luogo_nascita.eq(&o.luogo_nascita),
                utente::provincia_nascita.eq(&o.provincia_nascita),
                utente::tipo.eq(&o.tipo),
                utente::codice_regione.eq(&o.codice_regione),
                utente::codice_asl.eq(&o.codice_asl),
                utente::indirizzo_lavoro.eq(&o.indirizzo_lavoro),
                utente::cap_lavoro.eq(&o.cap_lavoro),
                utente::comune_lavoro.eq(&o.comune_lavoro),
                utente::provincia_lavoro.eq(&o.provincia_lavoro),
                utente::telefono.eq(&o.telefono),
                utente::fax.eq(&o.fax),
                utente::email.eq(&o.email),
                utente::password_hash.eq(&hash),
                utente::password_cambiata_il.eq((!o.cambio_password_obbligatorio).then_some(ora)),
                utente::cambio_password_obbligatorio.eq(o.cambio_password_obbligatorio),
            ))
            .returning(utente::id)
            .get_result(c)?;
        for p in &o.profili {
            diesel::insert_into(utente_profilo::table)
                .values((
                    utente_profilo::utente_id.eq(id),
                    utente_profilo::profilo.eq(p),
                ))
                .execute(c)?;
        }
        Ok::<_, diesel::result::Error>(id)
    })
    .with_context(|| format!("operator {}", o.codice_fiscale))
}
