//! "Gestione Utenze": the security administrator of an ASL lists the ASL's operators (only
//! those), enables and disables their assignable profiles, and unlocks locked accounts. Every
//! change goes to the audit chain in the same transaction as the change itself.

use super::contesto::{Contesto, Operatore};
use super::http::{self, Response};
use super::pagine::{self, Cornice};
use super::{repo, ErrorePortale};
use crate::audit::catena::Azione;
use crate::db::schema::{profilo, utente, utente_profilo};
use ::http::StatusCode;
use askama::Template;
use diesel::prelude::*;
use std::collections::BTreeSet;

pub const PROFILO: &str = "AMMINISTRATORE_SICUREZZA";
const TITOLO: &str = "Gestione Utenze";

/// A profile the administrator may switch.
#[derive(Debug, Clone, Queryable)]
pub struct ProfiloAssegnabile {
    pub codice: String,
    pub descrizione: String,
}

/// One row of the ASL's operators.
#[derive(Debug)]
pub struct RigaUtente {
    pub id: i64,
    pub codice_fiscale: String,
    pub nominativo: String,
    pub tipo: String,
    pub abilitato: bool,
    pub bloccato_fino: Option<String>,
    pub profili: BTreeSet<String>,
}

#[derive(Template)]
#[template(path = "utenze.html")]
pub struct Pagina {
    pub c: Cornice,
    pub asl: String,
    pub assegnabili: Vec<ProfiloAssegnabile>,
    pub righe: Vec<RigaUtente>,
}

/// The administrator, with their ASL, or the refusal page (and its section 2.5 row).
fn amministratore(
    ctx: &mut Contesto<'_>,
    operazione: &str,
) -> Result<Result<(Operatore, String, String), Response>, ErrorePortale> {
    let op = match ctx.operatore()? {
        Ok(op) => op,
        Err(r) => return Ok(Err(r)),
    };
    let cf = op.utente.codice_fiscale.clone();
    let asl = match (&op.utente.codice_regione, &op.utente.codice_asl) {
        (Some(r), Some(a)) if repo::ha_profilo(ctx.conn, op.utente.id, PROFILO)? => {
            (r.clone(), a.clone())
        }
        _ => {
            return ctx.non_abilitato(&cf, operazione, None).map(Err);
        }
    };
    Ok(Ok((op, asl.0, asl.1)))
}

/// GET /servizi/utenze
pub fn elenco(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let (op, regione, asl) = match amministratore(ctx, "UTENZE_ELENCO")? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let assegnabili = assegnabili(ctx.conn)?;
    let righe = utenti_asl(ctx.conn, &regione, &asl)?;
    let (_, nome_asl) = super::servizi::denominazioni(ctx.conn, Some(&regione), Some(&asl))?;
    ctx.registra(Some(&op.utente.codice_fiscale), "UTENZE_ELENCO", "OK", None)?;
    let c = ctx.cornice(Cornice::new(TITOLO, &[("Servizi On Line", "/servizi")]))?;
    ctx.pagina(
        StatusCode::OK,
        &Pagina {
            c,
            asl: nome_asl.unwrap_or(asl),
            assegnabili,
            righe,
        },
    )
}

fn assegnabili(conn: &mut PgConnection) -> QueryResult<Vec<ProfiloAssegnabile>> {
    profilo::table
        .filter(profilo::assegnabile)
        .order(profilo::ordine)
        .select((profilo::codice, profilo::descrizione))
        .load(conn)
}

/// id, codice fiscale, cognome, nome, tipo, abilitato, bloccato_fino.
type RigaDb = (
    i64,
    String,
    String,
    String,
    String,
    bool,
    Option<chrono::DateTime<chrono::Utc>>,
);

fn utenti_asl(conn: &mut PgConnection, regione: &str, asl: &str) -> QueryResult<Vec<RigaUtente>> {
    let utenti: Vec<RigaDb> = utente::table
        .filter(utente::codice_regione.eq(regione))
        .filter(utente::codice_asl.eq(asl))
        .order((utente::cognome, utente::nome, utente::id))
        .select((
            utente::id,
            utente::codice_fiscale,
            utente::cognome,
            utente::nome,
            utente::tipo,
            utente::abilitato,
            utente::bloccato_fino,
        ))
        .load(conn)?;
    let ids: Vec<i64> = utenti.iter().map(|u| u.0).collect();
    let profili: Vec<(i64, String)> = utente_profilo::table
        .filter(utente_profilo::utente_id.eq_any(&ids))
        .select((utente_profilo::utente_id, utente_profilo::profilo))
        .load(conn)?;
    let ora = chrono::Utc::now();
    Ok(utenti
        .into_iter()
        .map(
            |(id, cf, cognome, nome, tipo, abilitato, bloccato)| RigaUtente {
                id,
                codice_fiscale: cf,
                nominativo: format!("{cognome} {nome}"),
                tipo,
                abilitato,
                bloccato_fino: bloccato
                    .filter(|t| *t > ora)
                    .map(|t| pagine::data_ora(Some(t))),
                profili: profili
                    .iter()
                    .filter(|(u, _)| *u == id)
                    .map(|(_, p)| p.clone())
                    .collect(),
            },
        )
        .collect())
}

/// The target operator of a POST: an id of the administrator's own ASL, locked for the change.
fn bersaglio(
    ctx: &mut Contesto<'_>,
    regione: &str,
    asl: &str,
) -> Result<Option<(i64, String, String)>, ErrorePortale> {
    let Ok(id) = ctx.req.field("utente").parse::<i64>() else {
        return Ok(None);
    };
    Ok(utente::table
        .find(id)
        .filter(utente::codice_regione.eq(regione))
        .filter(utente::codice_asl.eq(asl))
        .select((utente::id, utente::codice_fiscale, utente::cognome))
        .for_update()
        .first::<(i64, String, String)>(ctx.conn)
        .optional()?)
}

fn fuori_asl(
    ctx: &mut Contesto<'_>,
    cf: &str,
    operazione: &str,
) -> Result<Response, ErrorePortale> {
    ctx.registra(Some(cf), operazione, "UTENTE_NON_DELLA_ASL", None)?;
    ctx.rifiuto(
        StatusCode::FORBIDDEN,
        "Operazione non consentita",
        vec!["L'utenza indicata non appartiene alla ASL dell'amministratore.".into()],
    )
}

/// The prologue of a change to one operator: the administrator's codice fiscale and the target
/// operator of their own ASL (id, codice fiscale), or the refusal to send.
fn azione_su_utente(
    ctx: &mut Contesto<'_>,
    operazione: &str,
) -> Result<Result<(String, i64, String), Response>, ErrorePortale> {
    let (op, regione, asl) = match amministratore(ctx, operazione)? {
        Ok(x) => x,
        Err(r) => return Ok(Err(r)),
    };
    let admin = op.utente.codice_fiscale.clone();
    match bersaglio(ctx, &regione, &asl)? {
        Some((id, cf, _)) => Ok(Ok((admin, id, cf))),
        None => fuori_asl(ctx, &admin, operazione).map(Err),
    }
}

/// POST /servizi/utenze/profili: sets the assignable profiles of one operator of the ASL to
/// the boxes ticked (`p_<CODICE>=on`); each profile switched on or off is one audit row.
pub fn profili(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    const OP: &str = "UTENZE_PROFILI";
    let (admin, id, cf) = match azione_su_utente(ctx, OP)? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let attuali: BTreeSet<String> = utente_profilo::table
        .filter(utente_profilo::utente_id.eq(id))
        .select(utente_profilo::profilo)
        .load::<String>(ctx.conn)?
        .into_iter()
        .collect();
    let mut cambi = Vec::new();
    for p in assegnabili(ctx.conn)? {
        let voluto = ctx.req.field(&format!("p_{}", p.codice)) == "on";
        let presente = attuali.contains(&p.codice);
        if voluto && !presente {
            diesel::insert_into(utente_profilo::table)
                .values((
                    utente_profilo::utente_id.eq(id),
                    utente_profilo::profilo.eq(&p.codice),
                    utente_profilo::abilitato_il.eq(ctx.ora),
                    utente_profilo::abilitato_da.eq(Some(&admin)),
                ))
                .execute(ctx.conn)?;
            super::audit(ctx, &admin, Azione::AbilitaProfilo, Some(&cf), &p.codice)?;
            cambi.push(format!("abilitato il profilo «{}»", p.descrizione));
        } else if !voluto && presente {
            diesel::delete(
                utente_profilo::table
                    .filter(utente_profilo::utente_id.eq(id))
                    .filter(utente_profilo::profilo.eq(&p.codice)),
            )
            .execute(ctx.conn)?;
            super::audit(ctx, &admin, Azione::DisabilitaProfilo, Some(&cf), &p.codice)?;
            cambi.push(format!("disabilitato il profilo «{}»", p.descrizione));
        }
    }
    let messaggio = if cambi.is_empty() {
        format!("Nessuna modifica ai profili dell'utenza {cf}.")
    } else {
        format!("Utenza {cf}: {}.", cambi.join("; "))
    };
    ctx.registra(
        Some(&admin),
        OP,
        "OK",
        Some(&format!("{cf}: {}", cambi.len())),
    )?;
    messaggio_e_torna(ctx, &messaggio)
}

/// POST /servizi/utenze/sblocca: ends the lock of an operator of the ASL.
pub fn sblocca(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    const OP: &str = "UTENZE_SBLOCCA";
    let (admin, id, cf) = match azione_su_utente(ctx, OP)? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    diesel::update(utente::table.find(id))
        .set((
            utente::tentativi_falliti.eq(0),
            utente::bloccato_fino.eq(None::<chrono::DateTime<chrono::Utc>>),
        ))
        .execute(ctx.conn)?;
    super::audit(ctx, &admin, Azione::SbloccaUtente, Some(&cf), "")?;
    ctx.registra(Some(&admin), OP, "OK", Some(&cf))?;
    messaggio_e_torna(ctx, &format!("Utenza {cf} sbloccata."))
}

fn messaggio_e_torna(ctx: &mut Contesto<'_>, messaggio: &str) -> Result<Response, ErrorePortale> {
    if let Some(s) = &ctx.sessione {
        repo::messaggio_sessione(ctx.conn, &s.token_hash, Some(messaggio))?;
    }
    Ok(http::redirect("/servizi/utenze"))
}
