//! The access page (choice of login) and the services page of a logged-in operator.

use super::contesto::Contesto;
use super::http::{self, Response};
use super::pagine::{self, Cornice, DatiUtente};
use super::{repo, ErrorePortale};
use crate::db::schema::{asl, regione};
use ::http::StatusCode;
use diesel::prelude::*;

/// GET /: "Area riservata Operatori", or the services of a logged-in operator.
pub fn home(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    if ctx.sessione.as_ref().is_some_and(|s| s.utente_id.is_some()) {
        return Ok(http::redirect("/servizi"));
    }
    let mut c = Cornice::new("Area riservata Operatori", &[]);
    c.briciole.truncate(1);
    c.titolo = "Area riservata Operatori".into();
    let c = match ctx.req.query.get("esito").map(String::as_str) {
        Some("uscito") => c.info("Disconnessione effettuata."),
        Some("scaduta") => c.errore("La sessione è scaduta per inattività: accedere di nuovo."),
        Some("bloccato") => {
            c.errore("Utenza bloccata per troppi tentativi errati: riprovare più tardi.")
        }
        Some("disabilitato") => c.errore(
            "Utenza disabilitata: rivolgersi all'amministratore di sicurezza della propria ASL.",
        ),
        _ => c,
    };
    let c = ctx.cornice(c)?;
    ctx.pagina(StatusCode::OK, &pagine::Accesso { c })
}

/// GET /servizi: the operator's data and the services of their profiles (only those).
pub fn servizi(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let op = match ctx.operatore()? {
        Ok(op) => op,
        Err(r) => return Ok(r),
    };
    // A platform's SSO request waiting in this session: after the login, on to the choice.
    if super::sso::in_attesa(ctx)?.is_some() {
        return Ok(http::redirect(super::sso::PERCORSO_SCELTA));
    }
    let u = &op.utente;
    let servizi = repo::servizi(ctx.conn, u.id)?;
    let (regione, asl) = denominazioni(
        ctx.conn,
        u.codice_regione.as_deref(),
        u.codice_asl.as_deref(),
    )?;
    let dati = DatiUtente::new(u, regione, asl);
    let cf = u.codice_fiscale.clone();
    ctx.registra(Some(&cf), "SERVIZI", "OK", None)?;
    let c = ctx.cornice(Cornice::new("Servizi On Line", &[]))?;
    ctx.pagina(
        StatusCode::OK,
        &pagine::Servizi {
            c,
            u: dati,
            servizi,
        },
    )
}

/// The names of a region and of one of its ASL, as the pages show them ("120 - Lazio").
pub fn denominazioni(
    conn: &mut PgConnection,
    codice_regione: Option<&str>,
    codice_asl: Option<&str>,
) -> QueryResult<(Option<String>, Option<String>)> {
    let Some(r) = codice_regione else {
        return Ok((None, None));
    };
    let nome_regione: Option<String> = regione::table
        .find(r)
        .select(regione::denominazione)
        .first(conn)
        .optional()?;
    let nome_asl: Option<String> = match codice_asl {
        Some(a) => asl::table
            .find((r, a))
            .select(asl::denominazione)
            .first::<String>(conn)
            .optional()?
            .map(|n| format!("{a}-{n}")),
        None => None,
    };
    Ok((nome_regione, nome_asl))
}
