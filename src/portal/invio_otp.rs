//! "Caricamento App Immuni" (seed 004), for operators with profile `INVIO_OTP`: the pincode
//! page first (three wrong pincodes lock the service for the session), then the form with the
//! OTP code, the symptom-onset date and a captcha (single use, 5 minutes), validated before any
//! call; then the authorisation by the OTP service and the result page with its transaction
//! id. Every submission is a row of `invio_otp` (the OTP only as its SHA-256), at most
//! `portal.otp_invii_ora` an hour per operator.

use super::contesto::{Contesto, Operatore};
use super::http::{self, Response};
use super::pagine::{self, Cornice};
use super::{captcha, repo, ErrorePortale};
use crate::db::schema::{invio_otp, sessione, utente};
use crate::domain::otp::{verifica_inizio_sintomi, GIORNI_INIZIO_SINTOMI};
use crate::domain::Otp;
use crate::otp::client::{self, EsitoAutorizzazione};
use ::http::StatusCode;
use askama::Template;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

pub const PROFILO: &str = "INVIO_OTP";
const TITOLO: &str = "Caricamento App Immuni";
const MAX_PINCODE_ERRATI: i32 = 3;
const VALIDITA_CAPTCHA_MIN: i64 = 5;

#[derive(Template)]
#[template(path = "otp_pincode.html")]
pub struct PaginaPincode {
    pub c: Cornice,
    pub errore: Option<String>,
}

#[derive(Template)]
#[template(path = "otp.html")]
pub struct PaginaOtp {
    pub c: Cornice,
    pub ultimo_accesso: String,
    pub otp: String,
    pub data: String,
    pub oggi: String,
    pub data_minima: String,
    pub captcha: String,
    pub errore_otp: Option<String>,
    pub errore_data: Option<String>,
    pub errore_captcha: Option<String>,
}

#[derive(Template)]
#[template(path = "otp_esito.html")]
pub struct PaginaEsito {
    pub c: Cornice,
    pub positivo: bool,
    pub motivo: Option<String>,
    pub id_transazione: String,
}

fn cornice() -> Cornice {
    Cornice::new(TITOLO, &[("Servizi Online", "/servizi")])
}

/// The operator, if they hold the profile and the service is not locked for the session.
fn ammesso(
    ctx: &mut Contesto<'_>,
    operazione: &str,
) -> Result<Result<Operatore, Response>, ErrorePortale> {
    let op = match ctx.operatore()? {
        Ok(op) => op,
        Err(r) => return Ok(Err(r)),
    };
    let cf = op.utente.codice_fiscale.clone();
    if !repo::ha_profilo(ctx.conn, op.utente.id, PROFILO)? {
        return ctx.non_abilitato(&cf, operazione, None).map(Err);
    }
    if op.sessione.pincode_errori >= MAX_PINCODE_ERRATI {
        ctx.registra(Some(&cf), operazione, "SERVIZIO_BLOCCATO", None)?;
        return ctx
            .rifiuto(
                StatusCode::FORBIDDEN,
                "Servizio bloccato",
                vec![
                    "Il servizio per la trasmissione del codice OTP è bloccato per questa sessione: il pincode è stato inserito in modo errato per tre volte.".into(),
                    "Uscire e accedere di nuovo per riprovare.".into(),
                ],
            )
            .map(Err);
    }
    Ok(Ok(op))
}

/// GET /servizi/otp: the pincode page, or the form (a new captcha each time: "altra immagine").
pub fn pagina(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let op = match ammesso(ctx, "INVIO_OTP_PAGINA")? {
        Ok(op) => op,
        Err(r) => return Ok(r),
    };
    ctx.registra(
        Some(&op.utente.codice_fiscale),
        "INVIO_OTP_PAGINA",
        "OK",
        None,
    )?;
    if !op.sessione.pincode_verificato {
        let c = ctx.cornice(cornice())?;
        return ctx.pagina(StatusCode::OK, &PaginaPincode { c, errore: None });
    }
    modulo(ctx, &op, StatusCode::OK, Campi::default(), None)
}

/// What the operator typed and the errors beside each field.
#[derive(Default)]
struct Campi {
    otp: String,
    data: String,
    errore_otp: Option<String>,
    errore_data: Option<String>,
    errore_captcha: Option<String>,
}

fn modulo(
    ctx: &mut Contesto<'_>,
    op: &Operatore,
    stato: StatusCode,
    campi: Campi,
    messaggio: Option<String>,
) -> Result<Response, ErrorePortale> {
    let immagine = captcha::genera().map_err(|e| ErrorePortale::Interno(e.to_string()))?;
    diesel::update(sessione::table.find(&op.sessione.token_hash))
        .set((
            sessione::captcha.eq(Some(&immagine.testo)),
            sessione::captcha_scade.eq(Some(ctx.ora + Duration::minutes(VALIDITA_CAPTCHA_MIN))),
        ))
        .execute(ctx.conn)?;
    let oggi = crate::domain::tempo::data_roma(ctx.ora);
    let ultimo = match op.utente.accesso_precedente {
        Some(t) => {
            let l = crate::domain::tempo::ora_roma(t);
            format!(
                "Ultimo accesso il {} alle {}",
                l.format("%d/%m/%Y"),
                l.format("%H:%M")
            )
        }
        None => "Primo accesso".to_owned(),
    };
    let mut c = cornice();
    if let Some(m) = messaggio {
        c = c.errore(m);
    }
    let c = ctx.cornice(c)?;
    ctx.pagina(
        stato,
        &PaginaOtp {
            c,
            ultimo_accesso: ultimo,
            otp: campi.otp,
            data: campi.data,
            oggi: oggi.to_string(),
            data_minima: (oggi - Duration::days(GIORNI_INIZIO_SINTOMI)).to_string(),
            captcha: captcha::data_uri(&immagine.png),
            errore_otp: campi.errore_otp,
            errore_data: campi.errore_data,
            errore_captcha: campi.errore_captcha,
        },
    )
}

/// POST /servizi/otp/pincode (CSRF already checked).
pub fn pincode(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let op = match ammesso(ctx, "INVIO_OTP_PINCODE")? {
        Ok(op) => op,
        Err(r) => return Ok(r),
    };
    let cf = op.utente.codice_fiscale.clone();
    let hash = op.sessione.token_hash.clone();
    let blob: Option<Vec<u8>> = utente::table
        .find(op.utente.id)
        .select(utente::pincode_cifrato)
        .first(ctx.conn)?;
    let inserito = ctx.req.field("pincode").to_owned();
    let Some(blob) = blob else {
        ctx.registra(Some(&cf), "INVIO_OTP_PINCODE", "PINCODE_NON_GENERATO", None)?;
        let c = ctx.cornice(cornice())?;
        let errore = Some(
            "Pincode non ancora generato: stamparlo dal Profilo Utente con «Stampa pincode»."
                .into(),
        );
        return ctx.pagina(
            StatusCode::UNPROCESSABLE_ENTITY,
            &PaginaPincode { c, errore },
        );
    };
    if ctx
        .portale
        .chiave_pincode
        .verifica(&blob, op.utente.id, &inserito)
    {
        diesel::update(sessione::table.find(&hash))
            .set(sessione::pincode_verificato.eq(true))
            .execute(ctx.conn)?;
        ctx.registra(Some(&cf), "INVIO_OTP_PINCODE", "OK", None)?;
        return Ok(http::redirect("/servizi/otp"));
    }
    let errori: i32 = diesel::update(sessione::table.find(&hash))
        .set(sessione::pincode_errori.eq(sessione::pincode_errori + 1))
        .returning(sessione::pincode_errori)
        .get_result(ctx.conn)?;
    if errori >= MAX_PINCODE_ERRATI {
        ctx.registra(Some(&cf), "INVIO_OTP_PINCODE", "PINCODE_BLOCCATO", None)?;
        return Ok(http::redirect("/servizi/otp"));
    }
    ctx.registra(Some(&cf), "INVIO_OTP_PINCODE", "PINCODE_ERRATO", None)?;
    let c = ctx.cornice(cornice())?;
    let errore = Some(format!(
        "Pincode errato. Tentativi rimasti prima del blocco del servizio per questa sessione: {}.",
        MAX_PINCODE_ERRATI - errori
    ));
    ctx.pagina(
        StatusCode::UNPROCESSABLE_ENTITY,
        &PaginaPincode { c, errore },
    )
}

/// One `invio_otp` row and its section 2.5 row.
#[allow(clippy::too_many_arguments)]
fn registra_invio(
    ctx: &mut Contesto<'_>,
    op: &Operatore,
    id: Uuid,
    otp: Option<&Otp>,
    data: Option<NaiveDate>,
    esito: &str,
    motivo: Option<&str>,
    inizio: std::time::Instant,
) -> Result<(), ErrorePortale> {
    let u = &op.utente;
    diesel::insert_into(invio_otp::table)
        .values((
            invio_otp::id_transazione.eq(id),
            invio_otp::codice_fiscale.eq(&u.codice_fiscale),
            invio_otp::codice_regione.eq(&u.codice_regione),
            invio_otp::codice_asl.eq(&u.codice_asl),
            invio_otp::istante.eq(ctx.ora),
            invio_otp::otp_sha256.eq(otp.map(Otp::sha256_hex)),
            invio_otp::inizio_sintomi.eq(data),
            invio_otp::esito.eq(esito),
            invio_otp::motivo.eq(motivo),
            invio_otp::durata_ms
                .eq(i32::try_from(inizio.elapsed().as_millis()).unwrap_or(i32::MAX)),
        ))
        .execute(ctx.conn)?;
    let cf = u.codice_fiscale.clone();
    ctx.registra(Some(&cf), "INVIO_OTP", esito, Some(&id.to_string()))
}

/// POST /servizi/otp (CSRF already checked): limit, validation, then the call.
pub fn invia(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let inizio = std::time::Instant::now();
    let op = match ammesso(ctx, "INVIO_OTP")? {
        Ok(op) => op,
        Err(r) => return Ok(r),
    };
    if !op.sessione.pincode_verificato {
        return Ok(http::redirect("/servizi/otp"));
    }
    let id = Uuid::now_v7();
    // The captcha works once: it is gone whatever the outcome.
    let (atteso, scade) = (op.sessione.captcha.clone(), op.sessione.captcha_scade);
    diesel::update(sessione::table.find(&op.sessione.token_hash))
        .set((
            sessione::captcha.eq(None::<String>),
            sessione::captcha_scade.eq(None::<DateTime<Utc>>),
        ))
        .execute(ctx.conn)?;

    // The operator's row serialises the count and the insert of their submissions, whatever
    // session or node they come from.
    utente::table
        .find(op.utente.id)
        .select(utente::id)
        .for_update()
        .first::<i64>(ctx.conn)?;
    let limite = i64::from(ctx.portale.cfg.otp_invii_ora);
    let (recenti, primo): (i64, Option<DateTime<Utc>>) = invio_otp::table
        .filter(invio_otp::codice_fiscale.eq(&op.utente.codice_fiscale))
        .filter(invio_otp::istante.gt(ctx.ora - Duration::hours(1)))
        .filter(invio_otp::esito.ne("LIMITE"))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(invio_otp::istante),
        ))
        .first(ctx.conn)?;
    if recenti >= limite {
        let fino = primo.map(|t| t + Duration::hours(1)).unwrap_or(ctx.ora);
        let motivo = format!(
            "È stato raggiunto il limite di {limite} invii di codici OTP in un'ora: riprovare dopo le {}.",
            pagine::ora(fino)
        );
        registra_invio(ctx, &op, id, None, None, "LIMITE", Some(&motivo), inizio)?;
        return modulo(
            ctx,
            &op,
            StatusCode::TOO_MANY_REQUESTS,
            Campi::default(),
            Some(motivo),
        );
    }

    let mut campi = Campi {
        otp: ctx.req.field("otp").chars().take(20).collect(),
        data: ctx.req.field("data").chars().take(10).collect(),
        ..Campi::default()
    };
    let otp = match Otp::parse(&campi.otp) {
        Ok(o) => Some(o),
        Err(e) => {
            campi.errore_otp = Some(maiuscola(&e.to_string()));
            None
        }
    };
    let oggi = crate::domain::tempo::data_roma(ctx.ora);
    let data = match NaiveDate::parse_from_str(&campi.data, "%Y-%m-%d") {
        Ok(d) => match verifica_inizio_sintomi(d, oggi) {
            Ok(()) => Some(d),
            Err(e) => {
                campi.errore_data = Some(maiuscola(&e.to_string()));
                None
            }
        },
        Err(_) => {
            campi.errore_data =
                Some("Data inizio sintomi: inserire una data valida (gg/mm/aaaa).".into());
            None
        }
    };
    let captcha_ok = matches!((&atteso, scade), (Some(a), Some(s)) if s > ctx.ora && captcha::verifica(a, ctx.req.field("captcha")));
    if !captcha_ok {
        campi.errore_captcha = Some(
            "Codice di sicurezza errato o scaduto: inserire i caratteri della nuova immagine."
                .into(),
        );
    }
    let (Some(otp), Some(data), true) = (otp.clone(), data, captcha_ok) else {
        let motivo: Vec<&str> = [&campi.errore_otp, &campi.errore_data, &campi.errore_captcha]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let motivo = motivo.join(" ");
        registra_invio(
            ctx,
            &op,
            id,
            otp.as_ref(),
            data,
            "NON_VALIDO",
            Some(&motivo),
            inizio,
        )?;
        return modulo(
            ctx,
            &op,
            StatusCode::UNPROCESSABLE_ENTITY,
            campi,
            Some("I dati non sono stati inviati: correggere i campi indicati.".into()),
        );
    };

    let esito = match &ctx.portale.client_otp {
        Some(c) => tokio::runtime::Handle::current().block_on(client::autorizza(c, &otp, data)),
        None => EsitoAutorizzazione::Negativo {
            motivo: "servizio OTP non configurato (otp.client_cert_file)".into(),
        },
    };
    let (codice, motivo) = match &esito {
        EsitoAutorizzazione::Autorizzato => ("POSITIVO", None),
        e => ("NEGATIVO", e.motivo().map(str::to_owned)),
    };
    tracing::info!(otp = ?otp, esito = codice, motivo = ?motivo, %id, "OTP submission");
    registra_invio(
        ctx,
        &op,
        id,
        Some(&otp),
        Some(data),
        codice,
        motivo.as_deref(),
        inizio,
    )?;
    let mut c = Cornice::new(
        "Esito Transazione",
        &[("Servizi Online", "/servizi"), (TITOLO, "/servizi/otp")],
    );
    c.titolo = TITOLO.to_owned();
    let c = ctx.cornice(c)?;
    ctx.pagina(
        StatusCode::OK,
        &PaginaEsito {
            c,
            positivo: esito.positivo(),
            motivo,
            id_transazione: id.to_string(),
        },
    )
}

/// "codice OTP: ..." → "Codice OTP: ...".
fn maiuscola(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
