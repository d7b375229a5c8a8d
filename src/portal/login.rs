//! Login with credentials (Codice Identificativo + Parola chiave), the forced password change,
//! and logout.

use super::contesto::Contesto;
use super::http::{self, Response};
use super::pagine::{self, Cornice};
use super::regole::{self, Ammissione, REGOLE_PASSWORD};
use super::{password, repo, sessione, ErrorePortale};
use crate::audit::catena::Azione;
use ::http::StatusCode;

pub const TITOLO_LOGIN: &str = "Autenticazione";
const CREDENZIALI_ERRATE: &str = "Codice Identificativo o Parola chiave errati.";

pub fn form(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    if ctx.sessione.as_ref().is_some_and(|s| s.utente_id.is_some()) {
        return Ok(http::redirect("/servizi"));
    }
    ctx.sessione_o_nuova()?;
    mostra(ctx, StatusCode::OK, String::new(), None)
}

fn mostra(
    ctx: &mut Contesto<'_>,
    stato: StatusCode,
    codice: String,
    errore: Option<String>,
) -> Result<Response, ErrorePortale> {
    let mut c = Cornice::new(TITOLO_LOGIN, &[]);
    if let Some(e) = &errore {
        c = c.errore(e.clone());
    }
    let c = ctx.cornice(c)?;
    ctx.pagina(stato, &pagine::Login { c, codice, errore })
}

/// The answer to wrong credentials, the same whether the codice identificativo exists or not
/// (no count of the attempts left: it would tell that the user exists).
fn errate(ctx: &Contesto<'_>) -> String {
    format!(
        "{CREDENZIALI_ERRATE} Dopo {} tentativi errati consecutivi l'utenza viene bloccata per {} minuti.",
        ctx.portale.cfg.max_tentativi, ctx.portale.cfg.blocco_minuti
    )
}

/// A wrong password of a known operator counted toward the lock; when it locks the account,
/// the lock is recorded (section 2.5 row of `operazione`, audit row) and its end returned.
fn password_errata(
    ctx: &mut Contesto<'_>,
    u: &repo::Utente,
    operazione: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ErrorePortale> {
    let dopo = u.blocco().dopo_errore(ctx.ora, &ctx.portale.politica);
    repo::aggiorna_blocco(ctx.conn, u.id, &dopo)?;
    if dopo.bloccato_fino.is_some() {
        let cf = &u.codice_fiscale;
        ctx.registra(
            Some(cf),
            operazione,
            "UTENZA_BLOCCATA",
            Some("soglia raggiunta"),
        )?;
        super::audit(
            ctx,
            cf,
            Azione::BloccoUtente,
            Some(cf),
            "troppi tentativi errati",
        )?;
    }
    Ok(dopo.bloccato_fino)
}

/// A refused login of a known operator: its section 2.5 row and its audit row.
fn fallito(ctx: &mut Contesto<'_>, cf: &str, esito: &str) -> Result<(), ErrorePortale> {
    ctx.registra(Some(cf), "LOGIN", esito, None)?;
    let voce = crate::audit::catena::VoceAudit::new(cf, Azione::LoginFallito)
        .oggetto(cf)
        .esito(esito);
    crate::audit::catena::registra(ctx.conn, &voce)?;
    Ok(())
}

/// POST /accesso/credenziali (CSRF already checked).
pub fn entra(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let codice: String = ctx
        .req
        .field("codice")
        .to_uppercase()
        .chars()
        .take(32)
        .collect();
    let parola = ctx.req.field_exact("parola").to_owned();
    let politica = ctx.portale.politica;
    let Some((u, hash)) = repo::per_login(ctx.conn, &codice)? else {
        // Same cost as a wrong password: the answer must not tell which part was wrong.
        let _ = password::verifica(&parola, password::hash_fittizio());
        // What was typed is kept only when it looks like a codice identificativo (a password
        // typed into the wrong field must not end up in a 12-month log).
        let forma_codice = (6..=16).contains(&codice.len())
            && codice
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let tentato = if forma_codice {
            codice.as_str()
        } else {
            "(formato non valido)"
        };
        ctx.registra(None, "LOGIN", "UTENTE_SCONOSCIUTO", Some(tentato))?;
        let m = errate(ctx);
        return mostra(ctx, StatusCode::UNAUTHORIZED, codice, Some(m));
    };
    let cf = u.codice_fiscale.clone();
    if let Ammissione::Bloccato(fino) = u.blocco().ammissione(ctx.ora) {
        fallito(ctx, &cf, "UTENZA_BLOCCATA")?;
        let m = format!(
            "Utenza bloccata per troppi tentativi errati: riprovare dopo le {}.",
            pagine::ora(fino)
        );
        return mostra(ctx, StatusCode::FORBIDDEN, codice, Some(m));
    }
    if !password::verifica(&parola, &hash) {
        let m = match password_errata(ctx, &u, "LOGIN")? {
            Some(fino) => {
                format!(
                    "{CREDENZIALI_ERRATE} L'utenza è stata bloccata per {} minuti: riprovare dopo le {}.",
                    ctx.portale.cfg.blocco_minuti,
                    pagine::ora(fino)
                )
            }
            None => {
                fallito(ctx, &cf, "PASSWORD_ERRATA")?;
                errate(ctx)
            }
        };
        return mostra(ctx, StatusCode::UNAUTHORIZED, codice, Some(m));
    }
    if !u.abilitato {
        fallito(ctx, &cf, "UTENZA_DISABILITATA")?;
        return mostra(
            ctx,
            StatusCode::FORBIDDEN,
            codice,
            Some("Utenza disabilitata: rivolgersi all'amministratore di sicurezza della propria ASL.".into()),
        );
    }
    let cambio = regole::cambio_obbligatorio(
        u.cambio_password_obbligatorio,
        u.password_cambiata_il,
        ctx.ora,
        &politica,
    );
    apri_sessione(ctx, u.id, &cf, "CREDENZIALI", cambio)?;
    Ok(http::redirect(if cambio {
        "/password"
    } else {
        "/servizi"
    }))
}

/// Logs the operator in: the login recorded (section 2.5 and audit chain), the visitor's
/// session replaced by a new one (new cookie: rotation), the failures forgotten.
pub fn apri_sessione(
    ctx: &mut Contesto<'_>,
    utente_id: i64,
    cf: &str,
    modalita: &str,
    cambio_password: bool,
) -> Result<(), ErrorePortale> {
    repo::registra_login(ctx.conn, utente_id, ctx.ora)?;
    let vecchia = ctx.sessione.take();
    let (token, s) = sessione::crea(
        ctx.conn,
        Some(utente_id),
        Some(modalita),
        cambio_password,
        None,
        ctx.ora,
    )?;
    if let Some(vecchia) = vecchia {
        // An SSO request waiting in the visitor's session goes on after the login.
        crate::sso::repo::sposta(ctx.conn, &vecchia.token_hash, &s.token_hash)?;
        repo::elimina_sessione(ctx.conn, &vecchia.token_hash)?;
    }
    ctx.sessione = Some(s);
    ctx.nuovo_cookie = Some(Some(token));
    ctx.registra(Some(cf), &format!("LOGIN_{modalita}"), "OK", None)?;
    super::audit(ctx, cf, Azione::Login, Some(cf), modalita)?;
    Ok(())
}

pub fn form_password(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let op = match ctx.operatore()? {
        Ok(op) => op,
        Err(r) => return Ok(r),
    };
    let motivo = motivo(ctx, &op);
    mostra_password(ctx, StatusCode::OK, motivo, [None, None, None])
}

fn motivo(ctx: &Contesto<'_>, op: &super::contesto::Operatore) -> String {
    if !op.sessione.cambio_password {
        "Inserire la parola chiave attuale e la nuova.".to_owned()
    } else if op.utente.password_cambiata_il.is_none() || op.utente.cambio_password_obbligatorio {
        "Primo accesso: è necessario scegliere una nuova parola chiave per proseguire.".to_owned()
    } else {
        format!(
            "La parola chiave è scaduta (è più vecchia di {} giorni): sceglierne una nuova per proseguire.",
            ctx.portale.cfg.scadenza_password_giorni
        )
    }
}

fn mostra_password(
    ctx: &mut Contesto<'_>,
    stato: StatusCode,
    motivo: String,
    [errore_attuale, errore_nuova, errore_conferma]: [Option<String>; 3],
) -> Result<Response, ErrorePortale> {
    let mut c = Cornice::new("Cambio Password", &[("Servizi On Line", "/servizi")]);
    if errore_attuale.is_some() || errore_nuova.is_some() || errore_conferma.is_some() {
        c = c.errore("La parola chiave non è stata modificata: correggere i campi indicati.");
    }
    let c = ctx.cornice(c)?;
    ctx.pagina(
        stato,
        &pagine::Password {
            c,
            motivo,
            errore_attuale,
            errore_nuova,
            errore_conferma,
            regole: &REGOLE_PASSWORD,
        },
    )
}

/// POST /password (CSRF already checked).
pub fn cambia_password(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let op = match ctx.operatore()? {
        Ok(op) => op,
        Err(r) => return Ok(r),
    };
    let (attuale, nuova, conferma) = (
        ctx.req.field_exact("attuale").to_owned(),
        ctx.req.field_exact("nuova").to_owned(),
        ctx.req.field_exact("conferma").to_owned(),
    );
    let hash = repo::password_hash(ctx.conn, op.utente.id)?;
    let u = &op.utente;
    let mut errori: [Option<String>; 3] = [None, None, None];
    if !password::verifica(&attuale, &hash) {
        // Guessing the current password from an open session counts like a failed login.
        if password_errata(ctx, u, "CAMBIO_PASSWORD")?.is_some() {
            repo::elimina_sessioni_utente(ctx.conn, u.id)?;
            ctx.sessione = None;
            ctx.nuovo_cookie = Some(None);
            return Ok(http::redirect("/?esito=bloccato"));
        }
        errori[0] = Some("Parola chiave attuale errata.".into());
    } else if let Err(e) =
        regole::verifica_password(&nuova, &[&u.codice_identificativo, &u.cognome, &u.nome])
    {
        errori[1] = Some(e.to_string());
    } else if password::verifica(&nuova, &hash) {
        errori[1] = Some(regole::PasswordNonValida::UgualeAllaPrecedente.to_string());
    } else if nuova != conferma {
        errori[2] = Some(regole::PasswordNonValida::ConfermaDiversa.to_string());
    }
    let cf = u.codice_fiscale.clone();
    if errori.iter().any(Option::is_some) {
        ctx.registra(Some(&cf), "CAMBIO_PASSWORD", "NON_VALIDA", None)?;
        let motivo = motivo(ctx, &op);
        return mostra_password(ctx, StatusCode::UNPROCESSABLE_ENTITY, motivo, errori);
    }
    let nuovo_hash = password::hash(&nuova)?;
    repo::cambia_password(ctx.conn, u.id, &nuovo_hash, ctx.ora)?;
    // Every other session of the operator ends; this one goes on under a new token.
    repo::elimina_sessioni_utente(ctx.conn, u.id)?;
    let modalita = op.sessione.modalita.as_deref();
    let (token, s) = sessione::crea(
        ctx.conn,
        Some(u.id),
        modalita,
        false,
        Some("Parola chiave modificata correttamente.".into()),
        ctx.ora,
    )?;
    ctx.sessione = Some(s);
    ctx.nuovo_cookie = Some(Some(token));
    ctx.registra(Some(&cf), "CAMBIO_PASSWORD", "OK", None)?;
    super::audit(ctx, &cf, Azione::CambioPassword, Some(&cf), "")?;
    Ok(http::redirect("/servizi"))
}

/// POST /esci (CSRF already checked).
pub fn esci(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    if let Some(s) = ctx.sessione.take() {
        repo::elimina_sessione(ctx.conn, &s.token_hash)?;
        if let Some(id) = s.utente_id {
            let cf = repo::utente(ctx.conn, id)?.map(|u| u.codice_fiscale);
            ctx.registra(cf.as_deref(), "LOGOUT", "OK", None)?;
            if let Some(cf) = &cf {
                super::audit(ctx, cf, Azione::Logout, Some(cf), "")?;
            }
        }
    }
    ctx.nuovo_cookie = Some(None);
    Ok(http::redirect("/?esito=uscito"))
}
