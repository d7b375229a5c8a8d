//! The portal's routes: every request runs in one database transaction, so what it changes
//! and its section 2.5 row commit together, before the answer leaves. Every POST needs the
//! session's CSRF token.

use super::contesto::Contesto;
use super::http::{self, Response};
use super::{
    cns, file, invio_otp, login, monitoraggio, profilo, servizi, sso, stampa, utenze, ErrorePortale,
};
use crate::monitoraggio::TipoReport;
use ::http::{Method, StatusCode};

pub fn dispatch(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let percorso = ctx.req.path.clone();
    // The IdP's endpoints: a platform POSTs its AuthnRequest, authenticated by its signature.
    if let Some(r) = sso::dispatch(ctx) {
        return r;
    }
    if ctx.req.method == Method::POST {
        if let Some(r) = csrf_rifiutato(ctx, &percorso)? {
            return Ok(r);
        }
    }
    match (&ctx.req.method, percorso.as_str()) {
        (&Method::GET, "/") => servizi::home(ctx),
        (&Method::GET, "/accesso/credenziali") => login::form(ctx),
        (&Method::POST, "/accesso/credenziali") => login::entra(ctx),
        (&Method::GET, "/accesso/cns") => cns::accesso(ctx),
        (&Method::GET, "/accesso/cns/registra") => cns::registra_form(ctx),
        (&Method::POST, "/accesso/cns/registra") => cns::registra(ctx),
        (&Method::GET, "/accesso/cns/login") => cns::login(ctx),
        (&Method::GET, "/password") => login::form_password(ctx),
        (&Method::POST, "/password") => login::cambia_password(ctx),
        (&Method::POST, "/esci") => login::esci(ctx),
        (&Method::GET, "/servizi") => servizi::servizi(ctx),
        (&Method::GET, "/profilo") => profilo::pagina(ctx),
        (&Method::GET, "/profilo/pincode") => stampa::stampa(ctx),
        (&Method::POST, "/profilo/pincode/rigenera") => stampa::rigenera(ctx),
        (&Method::POST, "/accesso/cns/credenziali") => stampa::credenziali_cns(ctx),
        (&Method::GET, "/servizi/otp") => invio_otp::pagina(ctx),
        (&Method::POST, "/servizi/otp") => invio_otp::invia(ctx),
        (&Method::POST, "/servizi/otp/pincode") => invio_otp::pincode(ctx),
        (&Method::GET, sso::PERCORSO_SCELTA) => sso::pagina(ctx),
        (&Method::POST, sso::PERCORSO_SCELTA) => sso::invia_scelta(ctx),
        (&Method::GET, "/servizi/utenze") => utenze::elenco(ctx),
        (&Method::POST, "/servizi/utenze/profili") => utenze::profili(ctx),
        (&Method::POST, "/servizi/utenze/sblocca") => utenze::sblocca(ctx),
        (&Method::GET, file::PERCORSO) => file::elenco(ctx),
        // Downloads: /servizi/file/{notifiche|revoche}/{id}, parsed by the page itself.
        (&Method::GET, p) if file::e_download(p) => file::scarica(ctx, p),
        (&Method::GET, monitoraggio::PERCORSO) => monitoraggio::indice(ctx),
        (&Method::GET, "/servizi/monitoraggio/traffico") => {
            monitoraggio::pagina(ctx, TipoReport::Traffico)
        }
        (&Method::GET, "/servizi/monitoraggio/vaccinazioni") => {
            monitoraggio::pagina(ctx, TipoReport::Vaccinazioni)
        }
        (&Method::GET, "/servizi/monitoraggio/anomalie") => {
            monitoraggio::pagina(ctx, TipoReport::Anomalie)
        }
        _ => ctx.rifiuto(
            StatusCode::NOT_FOUND,
            "Pagina non trovata",
            vec!["La pagina richiesta non esiste.".into()],
        ),
    }
}

/// A POST whose CSRF token is missing or not the session's is refused (403) and recorded.
fn csrf_rifiutato(
    ctx: &mut Contesto<'_>,
    percorso: &str,
) -> Result<Option<Response>, ErrorePortale> {
    let inviato = ctx.req.field("csrf").to_owned();
    let valido = ctx
        .sessione
        .as_ref()
        .is_some_and(|s| super::sessione::csrf_valido(s, &inviato));
    if valido {
        return Ok(None);
    }
    let cf = match ctx.sessione.as_ref().and_then(|s| s.utente_id) {
        Some(id) => super::repo::utente(ctx.conn, id)?.map(|u| u.codice_fiscale),
        None => None,
    };
    let operazione = operation_of(percorso);
    ctx.registra(cf.as_deref(), &operazione, "CSRF_NON_VALIDO", None)?;
    tracing::info!(percorso, "portal POST refused: CSRF token missing or wrong");
    let paragrafi = vec![
        "Richiesta non valida: il modulo è scaduto o non proviene da questo sito.".into(),
        "Ricaricare la pagina e ripetere l'operazione.".into(),
    ];
    ctx.rifiuto(StatusCode::FORBIDDEN, "Richiesta non valida", paragrafi)
        .map(Some)
}

/// The section 2.5 operation name of a path: `/accesso/credenziali` → `ACCESSO_CREDENZIALI`.
pub fn operation_of(percorso: &str) -> String {
    let s: String = percorso
        .trim_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    if s.is_empty() {
        "HOME".into()
    } else {
        s
    }
}

/// The answer to a failure no page handled (the caller logs it): a plain page, no template.
pub fn failure_page(e: &ErrorePortale) -> Response {
    let (stato, testo) = match e {
        ErrorePortale::Db(_) | ErrorePortale::Pool(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Servizio momentaneamente non disponibile. Riprovare tra qualche minuto.",
        ),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Si è verificato un errore interno. Riprovare più tardi.",
        ),
    };
    http::html(
        stato,
        format!(
            "<!DOCTYPE html><html lang=\"it\"><head><meta charset=\"utf-8\"><title>Progetto Tessera Sanitaria</title>\
             <link rel=\"stylesheet\" href=\"/static/portale.css\"></head><body><header class=\"testata\">\
             <div class=\"marchio\">Progetto Tessera Sanitaria</div></header><main><h1>Servizio non disponibile</h1>\
             <p>{testo}</p><p><a href=\"/\">Torna alla Home</a></p></main></body></html>"
        ),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn operation_names() {
        assert_eq!(
            super::operation_of("/accesso/credenziali"),
            "ACCESSO_CREDENZIALI"
        );
        assert_eq!(super::operation_of("/"), "HOME");
        assert_eq!(super::operation_of("/x/ü'"), "X___");
    }
}
