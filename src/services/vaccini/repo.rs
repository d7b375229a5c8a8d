//! Queries of the vaccination services: the patient look-ups, and the bookings and
//! administrations the AVN transmits. The rules that need the recorded data call these (the
//! administration's in `somministrazione`); nothing here calls back.

use super::avn::{Errore, Prenotazione, Somministrazione, TipoOperazione};
use crate::db::schema::{assistito, prenotazione, regione, somministrazione, tessera_sanitaria};
use crate::domain::{CodiceFiscale, CodiceRegione};
use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Assistito {
    pub codice_fiscale: String,
    pub regione_assistenza: String,
    pub regione_residenza: String,
    pub identificativo_cluster: Option<String>,
    /// The patient has a booking or an administration (the cluster rule of section 3.3).
    pub prenotato_o_vaccinato: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Tessera {
    pub numero: String,
    pub data_scadenza: NaiveDate,
}

/// The patient, whether booked or vaccinated, and all their cards, in one round trip.
pub fn assistito_con_tessere(
    conn: &mut PgConnection,
    cf: &CodiceFiscale,
) -> QueryResult<Option<(Assistito, Vec<Tessera>)>> {
    let prenotato = diesel::dsl::exists(
        prenotazione::table.filter(prenotazione::codice_fiscale.eq(cf.as_str())),
    );
    let vaccinato = diesel::dsl::exists(
        somministrazione::table.filter(somministrazione::codice_fiscale.eq(cf.as_str())),
    );
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
                prenotato.or(vaccinato),
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

/// What a transmission did to the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applicata {
    Inserita,
    /// The same insert again: nothing written (idempotent resubmission).
    GiaPresente,
    Variata,
    Annullata,
}

/// Locks the patient's row for the rest of the transaction (transmissions about one patient
/// are applied one at a time, so the sequence rules hold under concurrency) and checks that
/// the patient and both regions exist.
fn riferimenti(
    conn: &mut PgConnection,
    cf: &CodiceFiscale,
    codice_regione: &CodiceRegione,
    regione_evento: &CodiceRegione,
) -> QueryResult<Vec<Errore>> {
    let mut errors = Vec::new();
    let patient: Option<String> = assistito::table
        .select(assistito::codice_fiscale)
        .filter(assistito::codice_fiscale.eq(cf.as_str()))
        .for_no_key_update()
        .first(conn)
        .optional()?;
    if patient.is_none() {
        errors.push(Errore::AssistitoSconosciuto);
    }
    let known: Vec<String> = regione::table
        .select(regione::codice)
        .filter(regione::codice.eq_any([codice_regione.as_str(), regione_evento.as_str()]))
        .load(conn)?;
    if !known.iter().any(|r| r == codice_regione.as_str()) {
        errors.push(Errore::CodiceRegioneSconosciuto);
    }
    if !known.iter().any(|r| r == regione_evento.as_str()) {
        errors.push(Errore::RegioneSconosciuta);
    }
    Ok(errors)
}

/// Applies one booking (section 4.1.3). Call inside a transaction.
pub fn applica_prenotazione(
    conn: &mut PgConnection,
    p: &Prenotazione,
    transazione: Uuid,
) -> QueryResult<Result<Applicata, Vec<Errore>>> {
    use prenotazione::dsl as t;
    let errors = riferimenti(
        conn,
        &p.codice_fiscale,
        &p.codice_regione,
        &p.regione_prenotazione,
    )?;
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let existing: Option<(i64, String, Option<String>, NaiveDate)> = t::prenotazione
        .select((
            t::id,
            t::codice_regione,
            t::codice_aic,
            t::data_prenotazione,
        ))
        .filter(t::codice_fiscale.eq(p.codice_fiscale.as_str()))
        .filter(t::dose.eq(p.dose))
        .filter(t::regione_prenotazione.eq(p.regione_prenotazione.as_str()))
        // A bulk file applying this booking holds it: wait, then read what it left.
        .for_update()
        .first(conn)
        .optional()?;
    let aic = p.codice_aic.as_ref().map(|a| a.as_str());
    let values = (
        t::codice_regione.eq(p.codice_regione.as_str()),
        t::codice_aic.eq(aic),
        t::data_prenotazione.eq(p.data_prenotazione),
        t::identificativo_transazione.eq(transazione),
    );
    Ok(match (p.tipo_operazione, existing) {
        (TipoOperazione::Inserimento, None) => {
            diesel::insert_into(t::prenotazione)
                .values((
                    t::codice_fiscale.eq(p.codice_fiscale.as_str()),
                    t::dose.eq(p.dose),
                    t::regione_prenotazione.eq(p.regione_prenotazione.as_str()),
                    values,
                ))
                .execute(conn)?;
            Ok(Applicata::Inserita)
        }
        (TipoOperazione::Inserimento, Some((_, regione, old_aic, data))) => {
            if regione == p.codice_regione.as_str()
                && old_aic.as_deref() == aic
                && data == p.data_prenotazione
            {
                Ok(Applicata::GiaPresente)
            } else {
                Err(vec![Errore::PrenotazioneGiaPresente])
            }
        }
        (_, None) => Err(vec![Errore::PrenotazioneNonPresente]),
        (TipoOperazione::Variazione, Some((id, ..))) => {
            diesel::update(t::prenotazione.find(id))
                .set((values, t::aggiornata_il.eq(diesel::dsl::now)))
                .execute(conn)?;
            Ok(Applicata::Variata)
        }
        (TipoOperazione::Cancellazione, Some((id, ..))) => {
            diesel::delete(t::prenotazione.find(id)).execute(conn)?;
            Ok(Applicata::Annullata)
        }
    })
}

/// A recorded administration.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Dose {
    pub id: i64,
    pub dose: i16,
    pub codice_regione: String,
    pub regione_somministrazione: String,
    pub codice_aic: String,
    pub data_somministrazione: NaiveDate,
}

/// The patient's administrations in dose order.
pub fn somministrazioni(conn: &mut PgConnection, cf: &CodiceFiscale) -> QueryResult<Vec<Dose>> {
    use somministrazione::dsl as t;
    t::somministrazione
        .select((
            t::id,
            t::dose,
            t::codice_regione,
            t::regione_somministrazione,
            t::codice_aic,
            t::data_somministrazione,
        ))
        .filter(t::codice_fiscale.eq(cf.as_str()))
        .order(t::dose)
        .load(conn)
}

/// What an administration finds recorded: the errors of its references (patient, regions), or
/// the patient's doses for the rules (`somministrazione::sequenza`).
pub fn dosi_per_somministrazione(
    conn: &mut PgConnection,
    s: &Somministrazione,
) -> QueryResult<Result<Vec<Dose>, Vec<Errore>>> {
    let errors = riferimenti(
        conn,
        &s.codice_fiscale,
        &s.codice_regione,
        &s.regione_somministrazione,
    )?;
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    somministrazioni(conn, &s.codice_fiscale).map(Ok)
}

/// Writes an administration the rules accepted (section 4.2.3): `this` is the record of the same
/// dose, if any, among the patient's `doses`. Call inside a transaction.
pub fn scrivi_somministrazione(
    conn: &mut PgConnection,
    s: &Somministrazione,
    this: Option<&Dose>,
    doses: &[Dose],
    transazione: Uuid,
) -> QueryResult<Result<Applicata, Vec<Errore>>> {
    use somministrazione::dsl as t;
    let values = (
        t::codice_regione.eq(s.codice_regione.as_str()),
        t::regione_somministrazione.eq(s.regione_somministrazione.as_str()),
        t::codice_aic.eq(s.codice_aic.as_str()),
        t::data_somministrazione.eq(s.data_somministrazione),
        t::identificativo_transazione.eq(transazione),
    );
    let applied = match (s.tipo_operazione, this) {
        (TipoOperazione::Inserimento, Some(_)) => Applicata::GiaPresente,
        (TipoOperazione::Inserimento, None) => {
            let previous_missing = s.dose > 1 && !doses.iter().any(|d| d.dose == s.dose - 1);
            diesel::insert_into(t::somministrazione)
                .values((
                    t::codice_fiscale.eq(s.codice_fiscale.as_str()),
                    t::dose.eq(s.dose),
                    t::deroga_sequenza.eq(previous_missing),
                    values,
                ))
                .execute(conn)?;
            // The gap below the next dose, if it was recorded by exception, is now filled.
            diesel::update(
                t::somministrazione
                    .filter(t::codice_fiscale.eq(s.codice_fiscale.as_str()))
                    .filter(t::dose.eq(s.dose + 1)),
            )
            .set(t::deroga_sequenza.eq(false))
            .execute(conn)?;
            Applicata::Inserita
        }
        (TipoOperazione::Variazione, Some(d)) => {
            diesel::update(t::somministrazione.find(d.id))
                .set((values, t::aggiornata_il.eq(diesel::dsl::now)))
                .execute(conn)?;
            Applicata::Variata
        }
        (TipoOperazione::Cancellazione, Some(d)) => {
            diesel::delete(t::somministrazione.find(d.id)).execute(conn)?;
            Applicata::Annullata
        }
        (_, None) => return Ok(Err(vec![Errore::SomministrazioneNonPresente])),
    };
    Ok(Ok(applied))
}
