//! The portal's queries: operators, their profiles, sessions and the section 2.5 access log.

use crate::db::schema::{accesso_operatore, profilo, sessione, utente, utente_profilo};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::PgConnection;
use ipnetwork::IpNetwork;
use std::net::IpAddr;

/// An operator as the pages see them (the password hash and the pincode stay in the table).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = utente)]
pub struct Utente {
    pub id: i64,
    pub codice_identificativo: String,
    pub codice_fiscale: String,
    pub cognome: String,
    pub nome: String,
    pub data_nascita: Option<chrono::NaiveDate>,
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
    pub abilitato: bool,
    pub password_cambiata_il: Option<DateTime<Utc>>,
    pub cambio_password_obbligatorio: bool,
    pub tentativi_falliti: i32,
    pub bloccato_fino: Option<DateTime<Utc>>,
    pub ultimo_accesso: Option<DateTime<Utc>>,
    pub accesso_precedente: Option<DateTime<Utc>>,
    /// The type the SSO platforms see (§2.4).
    pub tipo_operatore: String,
}

impl Utente {
    pub fn nominativo(&self) -> String {
        format!("{} {}", self.cognome, self.nome)
    }

    pub fn blocco(&self) -> super::regole::Blocco {
        super::regole::Blocco {
            tentativi_falliti: u32::try_from(self.tentativi_falliti).unwrap_or(0),
            bloccato_fino: self.bloccato_fino,
        }
    }
}

pub fn utente(conn: &mut PgConnection, id: i64) -> QueryResult<Option<Utente>> {
    utente::table
        .find(id)
        .select(Utente::as_select())
        .first(conn)
        .optional()
}

pub fn per_codice_fiscale(conn: &mut PgConnection, cf: &str) -> QueryResult<Option<Utente>> {
    utente::table
        .filter(utente::codice_fiscale.eq(cf))
        .select(Utente::as_select())
        .first(conn)
        .optional()
}

/// The operator with this codice identificativo, locked for the login's update, with the hash.
pub fn per_login(
    conn: &mut PgConnection,
    codice_identificativo: &str,
) -> QueryResult<Option<(Utente, String)>> {
    utente::table
        .filter(utente::codice_identificativo.eq(codice_identificativo))
        .select((Utente::as_select(), utente::password_hash))
        .for_update()
        .first(conn)
        .optional()
}

pub fn password_hash(conn: &mut PgConnection, id: i64) -> QueryResult<String> {
    utente::table
        .find(id)
        .select(utente::password_hash)
        .first(conn)
}

pub fn aggiorna_blocco(
    conn: &mut PgConnection,
    id: i64,
    b: &super::regole::Blocco,
) -> QueryResult<usize> {
    diesel::update(utente::table.find(id))
        .set((
            utente::tentativi_falliti.eq(i32::try_from(b.tentativi_falliti).unwrap_or(i32::MAX)),
            utente::bloccato_fino.eq(b.bloccato_fino),
        ))
        .execute(conn)
}

/// A successful login: the failures are forgotten, the previous access kept for display.
pub fn registra_login(conn: &mut PgConnection, id: i64, ora: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(utente::table.find(id))
        .set((
            utente::tentativi_falliti.eq(0),
            utente::bloccato_fino.eq(None::<DateTime<Utc>>),
            utente::accesso_precedente.eq(utente::ultimo_accesso),
            utente::ultimo_accesso.eq(Some(ora)),
        ))
        .execute(conn)
}

pub fn cambia_password(
    conn: &mut PgConnection,
    id: i64,
    hash: &str,
    ora: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(utente::table.find(id))
        .set((
            utente::password_hash.eq(hash),
            utente::password_cambiata_il.eq(Some(ora)),
            utente::cambio_password_obbligatorio.eq(false),
        ))
        .execute(conn)
}

/// A profile held by an operator, as a menu entry of the services page.
#[derive(Debug, Clone, Queryable)]
pub struct Servizio {
    pub codice: String,
    pub descrizione: String,
    pub voce_menu: String,
    pub percorso: String,
}

pub fn servizi(conn: &mut PgConnection, utente_id: i64) -> QueryResult<Vec<Servizio>> {
    utente_profilo::table
        .inner_join(profilo::table)
        .filter(utente_profilo::utente_id.eq(utente_id))
        .order(profilo::ordine)
        .select((
            profilo::codice,
            profilo::descrizione,
            profilo::voce_menu,
            profilo::percorso,
        ))
        .load(conn)
}

pub fn ha_profilo(conn: &mut PgConnection, utente_id: i64, codice: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        utente_profilo::table
            .filter(utente_profilo::utente_id.eq(utente_id))
            .filter(utente_profilo::profilo.eq(codice)),
    ))
    .get_result(conn)
}

/// A section 2.5 row: who (codice fiscale), when (ms), which operation, which outcome.
pub fn registra_accesso(
    conn: &mut PgConnection,
    codice_fiscale: Option<&str>,
    istante: DateTime<Utc>,
    operazione: &str,
    esito: &str,
    ip: IpAddr,
    dettaglio: Option<&str>,
) -> QueryResult<usize> {
    diesel::insert_into(accesso_operatore::table)
        .values((
            accesso_operatore::codice_fiscale.eq(codice_fiscale),
            accesso_operatore::istante.eq(istante),
            accesso_operatore::operazione.eq(operazione),
            accesso_operatore::esito.eq(esito),
            accesso_operatore::indirizzo_ip.eq(Some(IpNetwork::from(ip))),
            accesso_operatore::dettaglio.eq(dettaglio),
        ))
        .execute(conn)
}

/// A stored session.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessione)]
pub struct Sessione {
    pub token_hash: Vec<u8>,
    pub utente_id: Option<i64>,
    pub csrf: String,
    pub modalita: Option<String>,
    pub cambio_password: bool,
    pub messaggio: Option<String>,
    pub creata_il: DateTime<Utc>,
    pub ultimo_uso: DateTime<Utc>,
    pub pincode_verificato: bool,
    pub pincode_errori: i32,
    pub captcha: Option<String>,
    pub captcha_scade: Option<DateTime<Utc>>,
}

pub fn sessione(conn: &mut PgConnection, hash: &[u8]) -> QueryResult<Option<Sessione>> {
    sessione::table
        .find(hash)
        .select(Sessione::as_select())
        .first(conn)
        .optional()
}

/// The session, its row locked for the rest of the transaction.
pub fn sessione_bloccata(conn: &mut PgConnection, hash: &[u8]) -> QueryResult<Option<Sessione>> {
    sessione::table
        .find(hash)
        .select(Sessione::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn inserisci_sessione(conn: &mut PgConnection, s: &Sessione) -> QueryResult<usize> {
    diesel::insert_into(sessione::table)
        .values((
            sessione::token_hash.eq(&s.token_hash),
            sessione::utente_id.eq(s.utente_id),
            sessione::csrf.eq(&s.csrf),
            sessione::modalita.eq(&s.modalita),
            sessione::cambio_password.eq(s.cambio_password),
            sessione::messaggio.eq(&s.messaggio),
            sessione::creata_il.eq(s.creata_il),
            sessione::ultimo_uso.eq(s.ultimo_uso),
        ))
        .execute(conn)
}

pub fn tocca_sessione(
    conn: &mut PgConnection,
    hash: &[u8],
    ora: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(sessione::table.find(hash))
        .set(sessione::ultimo_uso.eq(ora))
        .execute(conn)
}

pub fn messaggio_sessione(
    conn: &mut PgConnection,
    hash: &[u8],
    messaggio: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(sessione::table.find(hash))
        .set(sessione::messaggio.eq(messaggio))
        .execute(conn)
}

pub fn elimina_sessione(conn: &mut PgConnection, hash: &[u8]) -> QueryResult<usize> {
    diesel::delete(sessione::table.find(hash)).execute(conn)
}

/// Ends every session of an operator (after a password change elsewhere, or a disabling).
pub fn elimina_sessioni_utente(conn: &mut PgConnection, utente_id: i64) -> QueryResult<usize> {
    diesel::delete(sessione::table.filter(sessione::utente_id.eq(utente_id))).execute(conn)
}

/// Deletes the sessions idle since `inattiva` or created before `massima`.
pub fn elimina_sessioni_scadute(
    conn: &mut PgConnection,
    inattiva: DateTime<Utc>,
    massima: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(
        sessione::table.filter(
            sessione::ultimo_uso
                .lt(inattiva)
                .or(sessione::creata_il.lt(massima)),
        ),
    )
    .execute(conn)
}
