//! Smart-card (CNS) access, as seed 002 describes it. "Registra CNS" checks the certificate the
//! browser presented (dates, chain to the trusted CNS CAs, CNS/CIE policy, codice fiscale in
//! the CN), that its codice fiscale belongs to an enabled operator, and binds the certificate
//! to them. "Effettua la login" opens the services with a registered certificate; one not
//! registered (or a new card) is sent to "Registra CNS". Refusals fall in the three classes of
//! the seed, each with its page.

use super::contesto::Contesto;
use super::http::{self, Response};
use super::pagine::{self, Cornice};
use super::repo::Utente;
use super::{repo, ErrorePortale};
use crate::audit::catena::Azione;
use crate::db::schema::utente_cns;
use crate::pki::{CertificatoCns, ErroreCertificato, TipoCertificato};
use ::http::StatusCode;
use askama::Template;
use diesel::prelude::*;

const ACCESSO: &str = "Accesso con smart card";

#[derive(Template)]
#[template(path = "cns.html")]
pub struct PaginaAccesso {
    pub c: Cornice,
}

#[derive(Template)]
#[template(path = "cns_errore.html")]
pub struct PaginaErrore {
    pub c: Cornice,
    pub classe: &'static str,
    pub messaggio: String,
    pub indicazioni: &'static str,
    pub codice: &'static str,
}

#[derive(Template)]
#[template(path = "cns_registra.html")]
pub struct PaginaRegistra {
    pub c: Cornice,
    pub nominativo: String,
    pub codice_fiscale: String,
    pub tipo: &'static str,
    pub emittente: String,
    pub scadenza: String,
    pub registrato: bool,
    pub credenziali: bool,
}

/// GET /accesso/cns
pub fn accesso(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let c = ctx.cornice(Cornice::new(ACCESSO, &[]))?;
    ctx.pagina(StatusCode::OK, &PaginaAccesso { c })
}

/// The error page of `e` (its class, message, guidance, code), with its section 2.5 row.
pub fn errore(
    ctx: &mut Contesto<'_>,
    titolo: &str,
    operazione: &str,
    cf: Option<&str>,
    e: &ErroreCertificato,
) -> Result<Response, ErrorePortale> {
    tracing::info!(codice = e.codice(), errore = ?e, "CNS access refused");
    ctx.registra(cf, operazione, e.codice(), None)?;
    let stato = match e.classe() {
        crate::pki::ClasseErrore::SistemiSicurezza => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::FORBIDDEN,
    };
    let c = ctx.cornice(Cornice::new(titolo, &[(ACCESSO, "/accesso/cns")]))?;
    ctx.pagina(
        stato,
        &PaginaErrore {
            c,
            classe: e.classe().titolo(),
            messaggio: e.messaggio(),
            indicazioni: e.indicazioni(),
            codice: e.codice(),
        },
    )
}

/// A refusal: the codice fiscale when the certificate yielded one, and why.
type Rifiuto = (Option<String>, ErroreCertificato);

/// The presented certificate, checked, and the enabled operator of its codice fiscale.
fn verificato(
    ctx: &mut Contesto<'_>,
) -> Result<Result<(CertificatoCns, Utente), Rifiuto>, ErrorePortale> {
    let Some(presentato) = ctx.certificato else {
        return Ok(Err((None, ErroreCertificato::Assente)));
    };
    let Some(trusted) = ctx.portale.tls.cns() else {
        return Ok(Err((
            None,
            ErroreCertificato::CaNonAffidabile {
                dettaglio: "portal.cns_ca_file not loaded".into(),
            },
        )));
    };
    let cert = match crate::pki::verifica(&trusted, &presentato.foglia, &presentato.catena, ctx.ora)
    {
        Ok(c) => c,
        Err(e) => return Ok(Err((None, e))),
    };
    let cf = cert.codice_fiscale.as_str().to_owned();
    match repo::per_codice_fiscale(ctx.conn, &cf)? {
        None => Ok(Err((Some(cf), ErroreCertificato::CodiceFiscaleSconosciuto))),
        Some(u) if !u.abilitato => Ok(Err((Some(cf), ErroreCertificato::UtenzaNonAbilitata))),
        Some(u) => Ok(Ok((cert, u))),
    }
}

fn tipo(t: TipoCertificato) -> &'static str {
    match t {
        TipoCertificato::Cns => "CNS - Carta Nazionale dei Servizi",
        TipoCertificato::Cie => "CIE - Carta d'Identità Elettronica",
    }
}

fn pagina_registra(
    ctx: &mut Contesto<'_>,
    cert: &CertificatoCns,
    u: &Utente,
    registrato: bool,
) -> Result<Response, ErrorePortale> {
    let c = ctx.cornice(Cornice::new("Registra CNS", &[(ACCESSO, "/accesso/cns")]))?;
    ctx.pagina(
        StatusCode::OK,
        &PaginaRegistra {
            c,
            nominativo: u.nominativo(),
            codice_fiscale: u.codice_fiscale.clone(),
            tipo: tipo(cert.tipo),
            emittente: cert.issuer.clone(),
            scadenza: pagine::data_ora(Some(cert.not_after)),
            registrato,
            credenziali: registrato && matches!(u.tipo.as_str(), "MEDICO" | "PROFESSIONISTA"),
        },
    )
}

/// GET /accesso/cns/registra: the checks, then the confirmation form.
pub fn registra_form(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    match verificato(ctx)? {
        Err((cf, e)) => errore(ctx, "Registra CNS", "REGISTRA_CNS", cf.as_deref(), &e),
        Ok((cert, u)) => {
            ctx.sessione_o_nuova()?;
            pagina_registra(ctx, &cert, &u, false)
        }
    }
}

/// POST /accesso/cns/registra (CSRF already checked): checks again, binds the certificate.
pub fn registra(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let (cert, u) = match verificato(ctx)? {
        Err((cf, e)) => return errore(ctx, "Registra CNS", "REGISTRA_CNS", cf.as_deref(), &e),
        Ok(x) => x,
    };
    diesel::insert_into(utente_cns::table)
        .values((
            utente_cns::fingerprint.eq(&cert.fingerprint),
            utente_cns::utente_id.eq(u.id),
            utente_cns::seriale.eq(&cert.serial),
            utente_cns::emittente.eq(&cert.issuer),
            utente_cns::soggetto.eq(&cert.subject),
            utente_cns::valido_al.eq(cert.not_after),
            utente_cns::registrato_il.eq(ctx.ora),
        ))
        .on_conflict(utente_cns::fingerprint)
        .do_update()
        .set(utente_cns::registrato_il.eq(ctx.ora))
        .execute(ctx.conn)?;
    let cf = u.codice_fiscale.clone();
    ctx.registra(Some(&cf), "REGISTRA_CNS", "OK", Some(&cert.serial))?;
    super::audit(ctx, &cf, Azione::RegistraCns, Some(&cf), &cert.serial)?;
    pagina_registra(ctx, &cert, &u, true)
}

/// The checked certificate when it is registered to its (enabled) operator; otherwise the
/// answer to give (error page, or to "Registra CNS").
pub fn registrato(
    ctx: &mut Contesto<'_>,
) -> Result<Result<(CertificatoCns, Utente), Response>, ErrorePortale> {
    let (cert, u) = match verificato(ctx)? {
        Err((cf, e)) => {
            return errore(ctx, "Effettua la login", "LOGIN_CNS", cf.as_deref(), &e).map(Err)
        }
        Ok(x) => x,
    };
    let registrato: bool = diesel::select(diesel::dsl::exists(
        utente_cns::table
            .filter(utente_cns::fingerprint.eq(&cert.fingerprint))
            .filter(utente_cns::utente_id.eq(u.id)),
    ))
    .get_result(ctx.conn)?;
    if registrato {
        return Ok(Ok((cert, u)));
    }
    let cf = u.codice_fiscale.clone();
    ctx.registra(
        Some(&cf),
        "LOGIN_CNS",
        "CNS_NON_REGISTRATA",
        Some(&cert.serial),
    )?;
    ctx.sessione_o_nuova()?;
    if let Some(s) = &ctx.sessione {
        repo::messaggio_sessione(
            ctx.conn,
            &s.token_hash,
            Some("Il certificato della CNS non è registrato (prima volta o nuova carta): effettuare la registrazione."),
        )?;
    }
    Ok(Err(http::redirect("/accesso/cns/registra")))
}

/// GET /accesso/cns/login: a registered certificate of an enabled operator opens the services.
pub fn login(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let (_, u) = match registrato(ctx)? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let cf = u.codice_fiscale.clone();
    super::login::apri_sessione(ctx, u.id, &cf, "CNS", false)?;
    Ok(http::redirect("/servizi"))
}
