//! Provisioning of operators (the demo fixture `fixtures/demo_operatori.toml`, the tests): an
//! operator already present is left as it is, so a changed password survives a reload.

use super::password;
use crate::db::schema::{utente, utente_asl, utente_profilo};
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
    /// The operator type the platforms see (§2.4, a code of `tipo_operatore`); defaults after
    /// `tipo` (MEDICO, PROFESSIONISTA_SANITARIO, else PERSONALE_ASL_REGIONE).
    #[serde(default)]
    pub tipo_operatore: Option<String>,
    /// ASLs the operator works in besides `codice_regione`/`codice_asl` (§2.3).
    #[serde(default)]
    pub altre_asl: Vec<AslOperatore>,
}

/// An ASL of an operator: region code and ASL code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AslOperatore {
    pub regione: String,
    pub asl: String,
}

impl NuovoOperatore {
    /// The type the platforms see.
    pub fn tipo_operatore(&self) -> &str {
        match (&self.tipo_operatore, self.tipo.as_str()) {
            (Some(t), _) => t,
            (None, "MEDICO") => "MEDICO",
            (None, "PROFESSIONISTA") => "PROFESSIONISTA_SANITARIO",
            (None, _) => "PERSONALE_ASL_REGIONE",
        }
    }
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
                utente::tipo_operatore.eq(o.tipo_operatore()),
            ))
            .returning(utente::id)
            .get_result(c)?;
        let prima = o
            .codice_regione
            .iter()
            .zip(&o.codice_asl)
            .map(|(r, a)| (r.as_str(), a.as_str()));
        let altre = o
            .altre_asl
            .iter()
            .map(|x| (x.regione.as_str(), x.asl.as_str()));
        for (ordine, (r, a)) in (0..).zip(prima.chain(altre)) {
            diesel::insert_into(utente_asl::table)
                .values((
                    utente_asl::utente_id.eq(id),
                    utente_asl::codice_regione.eq(r),
                    utente_asl::codice_asl.eq(a),
                    utente_asl::ordine.eq(ordine),
                ))
                .on_conflict_do_nothing()
                .execute(c)?;
        }
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
