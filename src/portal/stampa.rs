//! "Stampa pincode": the operator's pincode letter as a PDF (the pincode made at the first
//! print, regenerable, which invalidates the old one), and for a Medico/Professionista who has
//! just registered a CNS the letter with credentials (a temporary password) and a new pincode.
//! The pincode is stored encrypted and never logged.

use super::contesto::Contesto;
use super::http::{self, Response};
use super::pdf::{pdf_pincode, Credenziali, DatiPincode};
use super::pincode::Pincode;
use super::repo::Utente;
use super::{password, repo, ErrorePortale};
use crate::audit::catena::Azione;
use crate::db::schema::utente;
use crate::domain::CodiceFiscale;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// The operator's pincode, made (and stored) when there is none, with when it was made.
fn pincode_di(
    ctx: &mut Contesto<'_>,
    u: &Utente,
    nuovo: bool,
) -> Result<(Pincode, DateTime<Utc>), ErrorePortale> {
    let (blob, il): (Option<Vec<u8>>, Option<DateTime<Utc>>) = utente::table
        .find(u.id)
        .select((utente::pincode_cifrato, utente::pincode_generato_il))
        .for_update()
        .first(ctx.conn)?;
    let chiave = &ctx.portale.chiave_pincode;
    if let (false, Some(blob), Some(il)) = (nuovo, &blob, il) {
        match chiave.decifra(blob, u.id) {
            Ok(p) => return Ok((p, il)),
            // A key replaced since: the old pincode cannot be read back, so a new one is made.
            Err(e) => {
                tracing::warn!(utente = u.id, error = %e, "stored pincode unreadable: a new one is generated")
            }
        }
    }
    let (pincode, blob) = chiave.nuovo_pincode(u.id)?;
    diesel::update(utente::table.find(u.id))
        .set((
            utente::pincode_cifrato.eq(Some(blob)),
            utente::pincode_generato_il.eq(Some(ctx.ora)),
        ))
        .execute(ctx.conn)?;
    let cf = u.codice_fiscale.clone();
    super::audit(ctx, &cf, Azione::RigeneraPincode, Some(&cf), "")?;
    Ok((pincode, ctx.ora))
}

fn lettera(
    u: &Utente,
    pincode: Pincode,
    generato: DateTime<Utc>,
    credenziali: Option<Credenziali>,
) -> Result<Vec<u8>, ErrorePortale> {
    let codice_fiscale = CodiceFiscale::parse(&u.codice_fiscale)
        .map_err(|e| ErrorePortale::Interno(format!("stored codice fiscale: {e}")))?;
    Ok(pdf_pincode(&DatiPincode {
        codice_fiscale,
        cognome: u.cognome.clone(),
        nome: u.nome.clone(),
        credenziali,
        pincode,
        generato,
    }))
}

/// GET /profilo/pincode
pub fn stampa(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let op = match ctx.operatore()? {
        Ok(op) => op,
        Err(r) => return Ok(r),
    };
    let (pincode, generato) = match pincode_di(ctx, &op.utente, false) {
        Ok(x) => x,
        Err(ErrorePortale::Pincode(e)) => {
            tracing::error!(utente = op.utente.id, error = %e, "stored pincode cannot be decrypted");
            ctx.registra(
                Some(&op.utente.codice_fiscale),
                "STAMPA_PINCODE",
                "PINCODE_ILLEGGIBILE",
                None,
            )?;
            return ctx.rifiuto(
                ::http::StatusCode::CONFLICT,
                "Stampa pincode",
                vec![
                    "Il pincode memorizzato non è leggibile.".into(),
                    "Generarne uno nuovo dal Profilo Utente con «Genera nuovo pincode».".into(),
                ],
            );
        }
        Err(e) => return Err(e),
    };
    let pdf = lettera(&op.utente, pincode, generato, None)?;
    ctx.registra(
        Some(&op.utente.codice_fiscale),
        "STAMPA_PINCODE",
        "OK",
        None,
    )?;
    Ok(http::attachment("application/pdf", "pincode.pdf", pdf))
}

/// POST /profilo/pincode/rigenera (CSRF already checked)
pub fn rigenera(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let op = match ctx.operatore()? {
        Ok(op) => op,
        Err(r) => return Ok(r),
    };
    pincode_di(ctx, &op.utente, true)?;
    ctx.registra(
        Some(&op.utente.codice_fiscale),
        "RIGENERA_PINCODE",
        "OK",
        None,
    )?;
    repo::messaggio_sessione(
        ctx.conn,
        &op.sessione.token_hash,
        Some("Nuovo pincode generato: il precedente non è più valido. Stamparlo con «Stampa pincode»."),
    )?;
    Ok(http::redirect("/profilo"))
}

/// POST /accesso/cns/credenziali (CSRF already checked): after "Registra CNS", a Medico or
/// Professionista gets the letter with a temporary password (changed at the first credentials
/// login) and a new pincode. Only with the registered card of that very operator.
pub fn credenziali_cns(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let (cert, u) = match super::cns::registrato(ctx)? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    // Only right after "Registra CNS" (registering again gives it again).
    let registrato_il: DateTime<Utc> = crate::db::schema::utente_cns::table
        .find(&cert.fingerprint)
        .select(crate::db::schema::utente_cns::registrato_il)
        .first(ctx.conn)?;
    if ctx.ora - registrato_il > chrono::Duration::minutes(10) {
        ctx.registra(
            Some(&u.codice_fiscale),
            "STAMPA_CREDENZIALI",
            "REGISTRAZIONE_NON_RECENTE",
            None,
        )?;
        return ctx.rifiuto(
            ::http::StatusCode::FORBIDDEN,
            "Operazione non consentita",
            vec!["Il PDF con le credenziali si ottiene al termine della registrazione della CNS: ripetere «Registra CNS».".into()],
        );
    }
    if !matches!(u.tipo.as_str(), "MEDICO" | "PROFESSIONISTA") {
        ctx.registra(
            Some(&u.codice_fiscale),
            "STAMPA_CREDENZIALI",
            "NON_PREVISTA",
            None,
        )?;
        return ctx.rifiuto(
            ::http::StatusCode::FORBIDDEN,
            "Operazione non prevista",
            vec!["Il PDF con le credenziali è previsto solo per gli utenti di tipo Medico e Professionista.".into()],
        );
    }
    let temporanea = password::temporanea()?;
    let hash = password::hash(&temporanea)?;
    diesel::update(utente::table.find(u.id))
        .set((
            utente::password_hash.eq(&hash),
            utente::cambio_password_obbligatorio.eq(true),
            utente::tentativi_falliti.eq(0),
            utente::bloccato_fino.eq(None::<DateTime<Utc>>),
        ))
        .execute(ctx.conn)?;
    // The new password ends every open session of the operator.
    repo::elimina_sessioni_utente(ctx.conn, u.id)?;
    let (pincode, generato) = pincode_di(ctx, &u, true)?;
    let credenziali = Credenziali {
        codice_identificativo: u.codice_identificativo.clone(),
        parola_chiave: temporanea,
    };
    let pdf = lettera(&u, pincode, generato, Some(credenziali))?;
    let cf = u.codice_fiscale.clone();
    ctx.registra(Some(&cf), "STAMPA_CREDENZIALI", "OK", Some(&cert.serial))?;
    super::audit(ctx, &cf, Azione::RilascioCredenziali, Some(&cf), "CNS")?;
    Ok(http::attachment(
        "application/pdf",
        "credenziali-pincode.pdf",
        pdf,
    ))
}
