//! The SSO tables: registered service providers, the enrolment of platforms, and the
//! AuthnRequests waiting for their operator.

use crate::db::schema::{
    asl, regione, sso_fornitore, sso_piattaforma, sso_piattaforma_tipo, sso_richiesta, utente_asl,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::collections::HashMap;

/// A registered service provider.
#[derive(Debug, Clone, Queryable)]
pub struct Fornitore {
    pub entity_id: String,
    pub acs_url: String,
    pub certificati: Vec<String>,
    pub richieste_firmate: bool,
}

pub fn fornitore(conn: &mut PgConnection, entity_id: &str) -> QueryResult<Option<Fornitore>> {
    sso_fornitore::table
        .find(entity_id)
        .select((
            sso_fornitore::entity_id,
            sso_fornitore::acs_url,
            sso_fornitore::certificati,
            sso_fornitore::richieste_firmate,
        ))
        .first(conn)
        .optional()
}

/// An accepted AuthnRequest.
#[derive(Debug, Clone, Queryable)]
pub struct RichiestaSso {
    pub id: i64,
    pub sp_entity_id: String,
    pub request_id: String,
    pub acs_url: String,
    pub relay_state: Option<String>,
    pub livello: i16,
    pub forza_autenticazione: bool,
    pub sessione_token_hash: Option<Vec<u8>>,
    pub ricevuta_il: DateTime<Utc>,
    pub scade_il: DateTime<Utc>,
    pub usata_il: Option<DateTime<Utc>>,
}

type Colonne = (
    sso_richiesta::id,
    sso_richiesta::sp_entity_id,
    sso_richiesta::request_id,
    sso_richiesta::acs_url,
    sso_richiesta::relay_state,
    sso_richiesta::livello,
    sso_richiesta::forza_autenticazione,
    sso_richiesta::sessione_token_hash,
    sso_richiesta::ricevuta_il,
    sso_richiesta::scade_il,
    sso_richiesta::usata_il,
);
const COLONNE: Colonne = (
    sso_richiesta::id,
    sso_richiesta::sp_entity_id,
    sso_richiesta::request_id,
    sso_richiesta::acs_url,
    sso_richiesta::relay_state,
    sso_richiesta::livello,
    sso_richiesta::forza_autenticazione,
    sso_richiesta::sessione_token_hash,
    sso_richiesta::ricevuta_il,
    sso_richiesta::scade_il,
    sso_richiesta::usata_il,
);

pub struct NuovaRichiesta<'a> {
    pub sp_entity_id: &'a str,
    pub request_id: &'a str,
    pub acs_url: &'a str,
    pub relay_state: Option<&'a str>,
    pub livello: i16,
    pub forza_autenticazione: bool,
    pub maniglia_hash: &'a [u8],
    pub ora: DateTime<Utc>,
    pub scade_il: DateTime<Utc>,
}

/// Stores a request; `None` when the SP already sent this ID (a replay).
pub fn inserisci(conn: &mut PgConnection, r: &NuovaRichiesta<'_>) -> QueryResult<Option<i64>> {
    diesel::insert_into(sso_richiesta::table)
        .values((
            sso_richiesta::sp_entity_id.eq(r.sp_entity_id),
            sso_richiesta::request_id.eq(r.request_id),
            sso_richiesta::acs_url.eq(r.acs_url),
            sso_richiesta::relay_state.eq(r.relay_state),
            sso_richiesta::livello.eq(r.livello),
            sso_richiesta::forza_autenticazione.eq(r.forza_autenticazione),
            sso_richiesta::maniglia_hash.eq(r.maniglia_hash),
            sso_richiesta::ricevuta_il.eq(r.ora),
            sso_richiesta::scade_il.eq(r.scade_il),
        ))
        .on_conflict((sso_richiesta::sp_entity_id, sso_richiesta::request_id))
        .do_nothing()
        .returning(sso_richiesta::id)
        .get_result(conn)
        .optional()
}

/// The request of a continue link's handle, locked.
pub fn per_maniglia(conn: &mut PgConnection, hash: &[u8]) -> QueryResult<Option<RichiestaSso>> {
    sso_richiesta::table
        .filter(sso_richiesta::maniglia_hash.eq(hash))
        .select(COLONNE)
        .for_update()
        .first(conn)
        .optional()
}

pub fn lega(conn: &mut PgConnection, id: i64, sessione: &[u8]) -> QueryResult<()> {
    diesel::update(sso_richiesta::table.find(id))
        .set(sso_richiesta::sessione_token_hash.eq(sessione))
        .execute(conn)
        .map(drop)
}

/// The newest request waiting in this session (not used, not expired), locked.
pub fn pendente(
    conn: &mut PgConnection,
    sessione: &[u8],
    ora: DateTime<Utc>,
) -> QueryResult<Option<RichiestaSso>> {
    sso_richiesta::table
        .filter(sso_richiesta::sessione_token_hash.eq(sessione))
        .filter(sso_richiesta::usata_il.is_null())
        .filter(sso_richiesta::scade_il.gt(ora))
        .order(sso_richiesta::id.desc())
        .select(COLONNE)
        .for_update()
        .first(conn)
        .optional()
}

/// The request is answered (or abandoned): it cannot be answered again.
pub fn usa(conn: &mut PgConnection, id: i64, ora: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(sso_richiesta::table.find(id))
        .set(sso_richiesta::usata_il.eq(ora))
        .execute(conn)
        .map(drop)
}

/// Login rotates the session: its waiting requests follow it to the new one.
pub fn sposta(conn: &mut PgConnection, vecchia: &[u8], nuova: &[u8]) -> QueryResult<()> {
    diesel::update(sso_richiesta::table.filter(sso_richiesta::sessione_token_hash.eq(vecchia)))
        .set(sso_richiesta::sessione_token_hash.eq(nuova))
        .execute(conn)
        .map(drop)
}

/// Retention: requests received before `prima` (their IDs can no longer be replayed, since
/// an IssueInstant that old is refused anyway).
pub fn purge(conn: &mut PgConnection, prima: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(sso_richiesta::table.filter(sso_richiesta::ricevuta_il.lt(prima))).execute(conn)
}

/// Where a choice sends the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instradamento {
    pub sp_entity_id: String,
    pub acs_url: String,
    /// Through the Piattaforma Nazionale (the region's code travels in `codiceRegione`).
    pub via_pn: bool,
}

/// One line of the choice page: an ASL of the operator or a virtual region of the PN.
#[derive(Debug, Clone)]
pub struct Destinazione {
    pub codice_regione: String,
    pub regione: String,
    pub codice_asl: Option<String>,
    pub asl: Option<String>,
    pub esito: Result<Instradamento, &'static str>,
}

impl Destinazione {
    /// The value of the choice's button: `regione:asl` (`regione:` for a virtual region).
    pub fn chiave(&self) -> String {
        format!(
            "{}:{}",
            self.codice_regione,
            self.codice_asl.as_deref().unwrap_or("")
        )
    }
}

pub const NON_ADERENTE: &str =
    "La regione non aderisce al servizio (piattaforma non iscritta o inibita).";
pub const TIPO_NON_AMMESSO: &str = "La piattaforma non ammette il tipo di operatore dell'utenza.";
pub const PN_NON_DISPONIBILE: &str =
    "La Piattaforma Nazionale non è disponibile per il tipo di operatore dell'utenza.";

struct Piattaforma {
    abilitata: bool,
    sp: Option<String>,
    tipi: Vec<String>,
}

/// Every destination of an operator of `tipo`: their ASLs (in their order) and the virtual
/// regions of the PN, each admissible or with the reason it is not.
pub fn destinazioni(
    conn: &mut PgConnection,
    utente_id: i64,
    tipo: &str,
) -> QueryResult<Vec<Destinazione>> {
    let mut piattaforme: HashMap<String, Piattaforma> = sso_piattaforma::table
        .select((
            sso_piattaforma::codice,
            sso_piattaforma::abilitata,
            sso_piattaforma::sp_entity_id,
        ))
        .load::<(String, bool, Option<String>)>(conn)?
        .into_iter()
        .map(|(c, abilitata, sp)| {
            (
                c,
                Piattaforma {
                    abilitata,
                    sp,
                    tipi: Vec::new(),
                },
            )
        })
        .collect();
    let tipi: Vec<(String, String)> = sso_piattaforma_tipo::table
        .select((
            sso_piattaforma_tipo::codice,
            sso_piattaforma_tipo::tipo_operatore,
        ))
        .load(conn)?;
    for (c, t) in tipi {
        if let Some(p) = piattaforme.get_mut(&c) {
            p.tipi.push(t);
        }
    }
    let acs: HashMap<String, String> = sso_fornitore::table
        .select((sso_fornitore::entity_id, sso_fornitore::acs_url))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let ammessa = |p: &Piattaforma| p.abilitata && p.tipi.iter().any(|t| t == tipo);
    let via_pn = || -> Result<Instradamento, &'static str> {
        let pn = piattaforme
            .get("PN")
            .filter(|p| ammessa(p))
            .ok_or(PN_NON_DISPONIBILE)?;
        let sp = pn.sp.clone().ok_or(PN_NON_DISPONIBILE)?;
        let acs_url = acs.get(&sp).cloned().ok_or(PN_NON_DISPONIBILE)?;
        Ok(Instradamento {
            sp_entity_id: sp,
            acs_url,
            via_pn: true,
        })
    };
    let esito = |regione: &str, virtuale: bool| -> Result<Instradamento, &'static str> {
        let p = piattaforme
            .get(regione)
            .filter(|p| p.abilitata)
            .ok_or(NON_ADERENTE)?;
        if !p.tipi.iter().any(|t| t == tipo) {
            return Err(TIPO_NON_AMMESSO);
        }
        match (&p.sp, virtuale) {
            (Some(sp), false) => {
                let acs_url = acs.get(sp).cloned().ok_or(NON_ADERENTE)?;
                Ok(Instradamento {
                    sp_entity_id: sp.clone(),
                    acs_url,
                    via_pn: false,
                })
            }
            _ => via_pn(),
        }
    };
    let asl_operatore: Vec<(String, String, String, String, bool)> = utente_asl::table
        .inner_join(
            asl::table.on(asl::codice_regione
                .eq(utente_asl::codice_regione)
                .and(asl::codice.eq(utente_asl::codice_asl))),
        )
        .inner_join(regione::table.on(regione::codice.eq(utente_asl::codice_regione)))
        .filter(utente_asl::utente_id.eq(utente_id))
        .order((
            utente_asl::ordine,
            utente_asl::codice_regione,
            utente_asl::codice_asl,
        ))
        .select((
            utente_asl::codice_regione,
            regione::denominazione,
            utente_asl::codice_asl,
            asl::denominazione,
            regione::virtuale,
        ))
        .load(conn)?;
    let mut out: Vec<Destinazione> = asl_operatore
        .into_iter()
        .map(|(r, nome_r, a, nome_a, virtuale)| Destinazione {
            esito: esito(&r, virtuale),
            codice_regione: r,
            regione: nome_r,
            codice_asl: Some(a),
            asl: Some(nome_a),
        })
        .collect();
    let virtuali: Vec<(String, String)> = regione::table
        .filter(regione::virtuale)
        .order(regione::codice)
        .select((regione::codice, regione::denominazione))
        .load(conn)?;
    for (r, nome) in virtuali {
        // Only the virtual regions the PN offers are listed at all.
        if piattaforme.get(&r).is_some_and(|p| p.abilitata) {
            out.push(Destinazione {
                esito: esito(&r, true),
                codice_regione: r,
                regione: nome,
                codice_asl: None,
                asl: None,
            });
        }
    }
    Ok(out)
}
