//! "Profilo Utente": the operator's personal and work data as seed 004 shows them, and the
//! pincode (printed as a PDF, regenerable).

use super::contesto::Contesto;
use super::http::Response;
use super::pagine::{self, o_non_presente, Cornice};
use super::ErrorePortale;
use crate::db::schema::utente;
use ::http::StatusCode;
use askama::Template;
use diesel::prelude::*;

#[derive(Template)]
#[template(path = "profilo.html")]
pub struct Pagina {
    pub c: Cornice,
    pub codice_fiscale: String,
    pub nominativo: String,
    pub data_nascita: String,
    pub sesso: String,
    pub luogo_nascita: String,
    pub indirizzo_lavoro: String,
    pub telefono: String,
    pub fax: String,
    pub email: String,
    pub regione: Option<String>,
    pub asl: Option<String>,
    pub pincode_generato: Option<String>,
}

/// `via - cap - comune (pr)`, as the seed's "Indirizzo lavoro".
fn indirizzo(
    via: &Option<String>,
    cap: &Option<String>,
    comune: &Option<String>,
    pr: &Option<String>,
) -> String {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let comune = match pr {
        Some(p) => format!("{} ({})", s(comune), p),
        None => s(comune),
    };
    format!("{} - {} - {}", s(via), s(cap), comune)
}

/// GET /profilo
pub fn pagina(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let op = match ctx.operatore()? {
        Ok(op) => op,
        Err(r) => return Ok(r),
    };
    let u = &op.utente;
    let generato: Option<chrono::DateTime<chrono::Utc>> = utente::table
        .find(u.id)
        .select(utente::pincode_generato_il)
        .first(ctx.conn)?;
    let (regione, asl) = super::servizi::denominazioni(
        ctx.conn,
        u.codice_regione.as_deref(),
        u.codice_asl.as_deref(),
    )?;
    let luogo = match (&u.luogo_nascita, &u.provincia_nascita) {
        (Some(l), Some(p)) => Some(format!("{l} ({p})")),
        (l, _) => l.clone(),
    };
    let pagina = Pagina {
        c: Cornice::default(),
        codice_fiscale: u.codice_fiscale.clone(),
        nominativo: u.nominativo(),
        data_nascita: u
            .data_nascita
            .map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_else(|| "Non Presente".into()),
        sesso: o_non_presente(&u.sesso),
        luogo_nascita: o_non_presente(&luogo),
        indirizzo_lavoro: indirizzo(
            &u.indirizzo_lavoro,
            &u.cap_lavoro,
            &u.comune_lavoro,
            &u.provincia_lavoro,
        ),
        telefono: o_non_presente(&u.telefono),
        fax: o_non_presente(&u.fax),
        email: o_non_presente(&u.email),
        regione,
        asl,
        pincode_generato: generato.map(|t| pagine::data_ora(Some(t))),
    };
    let cf = u.codice_fiscale.clone();
    ctx.registra(Some(&cf), "PROFILO", "OK", None)?;
    let c = ctx.cornice(Cornice::new(
        "Profilo Utente",
        &[("Servizi On Line", "/servizi")],
    ))?;
    ctx.pagina(StatusCode::OK, &Pagina { c, ..pagina })
}
