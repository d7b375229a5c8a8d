//! Operator SSO pages (decree annex A §2): the IdP's SSO endpoint (`/sso/login`, both
//! bindings), the continue link that binds an accepted request to the portal session
//! (`/sso/continua`), the signed metadata (`/sso/metadata`), and the choice page of the
//! operator (`/servizi/vaccinazioni`) that sends the signed Response to the platform.
//!
//! The session cookie is `SameSite=Strict`, so a browser arriving from a platform does not
//! send it: the SSO endpoint never touches sessions; it stores the request and answers a page
//! of ours that moves on to `/sso/continua` (a same-site navigation, which carries the cookie).

use super::contesto::Contesto;
use super::http::{self, Response};
use super::pagine::Cornice;
use super::{repo, ErrorePortale};
use crate::sso::repo::{self as sso_repo, Destinazione, RichiestaSso};
use crate::sso::richiesta::{self, ErroreRichiesta, Registrazione, Trasporto};
use crate::sso::risposta::{self, Destinatario};
use crate::sso::Idp;
use ::http::{Method, StatusCode};
use askama::Template;

pub const PROFILO: &str = "VACCINAZIONI_SSO";
pub const PERCORSO_SCELTA: &str = "/servizi/vaccinazioni";
const TITOLO: &str = "Vaccinazioni anti SARS-CoV-2";
const OP_RICHIESTA: &str = "SSO_RICHIESTA";
const OP_INVIO: &str = "SSO";

#[derive(Template)]
#[template(path = "sso_prosegui.html")]
struct Prosegui {
    c: Cornice,
    url: String,
}

#[derive(Template)]
#[template(path = "sso_invio.html")]
struct Invio {
    c: Cornice,
    acs: String,
    saml_response: String,
    relay_state: Option<String>,
}

/// One line of the choice page.
struct Voce {
    chiave: String,
    etichetta: String,
    piattaforma: String,
    motivo: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "sso_scelta.html")]
struct Scelta {
    c: Cornice,
    voci: Vec<Voce>,
    ammesse: usize,
    /// The platform that asked (SP-initiated), shown above the list.
    richiedente: Option<String>,
    /// The platform asks a smart-card login and the session is a credentials one.
    serve_cns: bool,
    in_attesa: bool,
}

fn idp<'a>(ctx: &Contesto<'a>) -> Option<&'a Idp> {
    ctx.portale.idp.as_deref()
}

fn non_configurato(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    ctx.rifiuto(
        StatusCode::SERVICE_UNAVAILABLE,
        "Servizio non disponibile",
        vec![
            "L'accesso federato alle piattaforme vaccinali non è configurato su questo sistema."
                .into(),
        ],
    )
}

/// The routes of this module, or `None` for a path that is not theirs. `/sso/login` comes
/// before the CSRF check: a platform POSTs it, authenticated by its signature.
pub fn dispatch(ctx: &mut Contesto<'_>) -> Option<Result<Response, ErrorePortale>> {
    let r = match (&ctx.req.method, ctx.req.path.as_str()) {
        (&Method::GET, crate::sso::PERCORSO_SSO) => sso(ctx, true),
        (&Method::POST, crate::sso::PERCORSO_SSO) => sso(ctx, false),
        (&Method::GET, crate::sso::PERCORSO_METADATA) => metadata(ctx),
        (&Method::GET, "/sso/continua") => continua(ctx),
        _ => return None,
    };
    Some(r)
}

/// GET /sso/metadata: the signed IdP metadata.
fn metadata(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let Some(idp) = idp(ctx) else {
        return non_configurato(ctx);
    };
    let xml = crate::sso::metadata::documento(idp)
        .map_err(|e| ErrorePortale::Interno(format!("metadata: {e}")))?;
    Ok(http::xml(xml))
}

/// The SSO endpoint: an AuthnRequest by HTTP-Redirect (`get`) or HTTP-POST.
fn sso(ctx: &mut Contesto<'_>, get: bool) -> Result<Response, ErrorePortale> {
    let Some(idp) = idp(ctx) else {
        return non_configurato(ctx);
    };
    let campi = if get { &ctx.req.query } else { &ctx.req.form };
    let saml = campi.get("SAMLRequest").cloned().unwrap_or_default();
    let relay = campi.get("RelayState").cloned().filter(|r| !r.is_empty());
    let query = ctx.req.raw_query.clone();
    let esito = accetta(ctx, idp, &saml, relay.as_deref(), get, &query)?;
    match esito {
        Ok(maniglia) => {
            let url = format!("/sso/continua?r={maniglia}");
            let c = ctx.cornice(Cornice::new("Accesso alla piattaforma", &[]))?;
            ctx.pagina(StatusCode::OK, &Prosegui { c, url })
        }
        Err((e, fornitore, request_id)) => {
            tracing::info!(errore = %e, "SSO AuthnRequest refused");
            match fornitore.filter(|_| e.risposta_possibile()) {
                Some(f) => {
                    let dest = Destinatario {
                        sp_entity_id: f.entity_id.clone(),
                        acs_url: f.acs_url.clone(),
                        in_response_to: request_id,
                    };
                    let secondo = match e {
                        ErroreRichiesta::NonSupportata(_) => risposta::STATO_REQUEST_UNSUPPORTED,
                        _ => risposta::STATO_REQUEST_DENIED,
                    };
                    let (_, xml) = risposta::errore(
                        idp,
                        &dest,
                        risposta::STATO_REQUESTER,
                        Some(secondo),
                        e.messaggio(),
                        ctx.ora,
                    )
                    .map_err(|e| ErrorePortale::Interno(format!("SAML error Response: {e}")))?;
                    invia(ctx, &dest.acs_url, &xml, relay)
                }
                None => ctx.rifiuto(
                    StatusCode::BAD_REQUEST,
                    "Richiesta di autenticazione non valida",
                    vec![
                        e.messaggio().into(),
                        "Tornare alla piattaforma e ripetere l'accesso; se il problema persiste, \
                         rivolgersi all'assistenza della piattaforma."
                            .into(),
                    ],
                ),
            }
        }
    }
}

type Rifiutata = (ErroreRichiesta, Option<sso_repo::Fornitore>, Option<String>);

/// Reads, checks and stores an AuthnRequest; its §2.5 row is written either way. Returns the
/// continue link's handle, or the refusal with the SP (when known) and the request's ID.
fn accetta(
    ctx: &mut Contesto<'_>,
    idp: &Idp,
    saml: &str,
    relay: Option<&str>,
    redirect: bool,
    query: &str,
) -> Result<Result<String, Rifiutata>, ErrorePortale> {
    let rifiuta = |ctx: &mut Contesto<'_>,
                   e: ErroreRichiesta,
                   f: Option<sso_repo::Fornitore>,
                   id: Option<String>|
     -> Result<Result<String, Rifiutata>, ErrorePortale> {
        let dettaglio = format!(
            "sp={} id={} {}",
            f.as_ref().map(|f| f.entity_id.as_str()).unwrap_or("-"),
            id.as_deref().unwrap_or("-"),
            e
        );
        let dettaglio: String = dettaglio.chars().take(500).collect();
        ctx.registra(None, OP_RICHIESTA, e.esito(), Some(&dettaglio))?;
        Ok(Err((e, f, id)))
    };
    if saml.is_empty() {
        return rifiuta(
            ctx,
            ErroreRichiesta::Malformata("no SAMLRequest".into()),
            None,
            None,
        );
    }
    if relay.is_some_and(|r| r.len() > richiesta::MASSIMO_RELAY_STATE) {
        return rifiuta(
            ctx,
            ErroreRichiesta::Malformata("RelayState over 80 bytes".into()),
            None,
            None,
        );
    }
    let xml = match richiesta::decodifica(saml, redirect) {
        Ok(x) => x,
        Err(e) => return rifiuta(ctx, e, None, None),
    };
    let req = match richiesta::leggi(&xml) {
        Ok(r) => r,
        Err(e) => return rifiuta(ctx, e, None, None),
    };
    let Some(f) = sso_repo::fornitore(ctx.conn, &req.issuer)? else {
        let issuer = req.issuer.clone();
        return rifiuta(
            ctx,
            ErroreRichiesta::SpSconosciuto(issuer),
            None,
            Some(req.id),
        );
    };
    let trasporto = if redirect {
        Trasporto::Redirect { query }
    } else {
        Trasporto::Post
    };
    let reg = Registrazione {
        acs_url: &f.acs_url,
        certificati: &f.certificati,
        richieste_firmate: f.richieste_firmate,
    };
    let tolleranza =
        chrono::Duration::seconds(i64::try_from(idp.cfg.tolleranza_secs).unwrap_or(180));
    let url_sso = idp.url(crate::sso::PERCORSO_SSO);
    if let Err(e) =
        richiesta::controlla(&req, &xml, &trasporto, &reg, &url_sso, ctx.ora, tolleranza)
    {
        return rifiuta(ctx, e, Some(f), Some(req.id));
    }
    let maniglia = super::sessione::token_casuale();
    let attesa = chrono::Duration::seconds(i64::try_from(idp.cfg.attesa_secs).unwrap_or(900));
    let nuova = sso_repo::NuovaRichiesta {
        sp_entity_id: &f.entity_id,
        request_id: &req.id,
        acs_url: &f.acs_url,
        relay_state: relay,
        livello: req.livello,
        forza_autenticazione: req.force_authn,
        maniglia_hash: &super::sessione::hash_token(&maniglia),
        ora: ctx.ora,
        scade_il: ctx.ora + attesa,
    };
    if sso_repo::inserisci(ctx.conn, &nuova)?.is_none() {
        return rifiuta(ctx, ErroreRichiesta::Ripetuta, Some(f), Some(req.id));
    }
    let dettaglio = format!("sp={} id={} livello={}", f.entity_id, req.id, req.livello);
    ctx.registra(None, OP_RICHIESTA, "OK", Some(&dettaglio))?;
    Ok(Ok(maniglia))
}

/// GET /sso/continua?r=…: binds the waiting request to this browser's session (a new
/// anonymous one when there is none) and goes on to the login or to the choice.
fn continua(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let maniglia = ctx.req.query.get("r").cloned().unwrap_or_default();
    let trovata = match maniglia.len() {
        64 => sso_repo::per_maniglia(ctx.conn, &super::sessione::hash_token(&maniglia))?,
        _ => None,
    };
    let mia = |r: &RichiestaSso, s: Option<&Vec<u8>>| {
        r.sessione_token_hash.is_none() || r.sessione_token_hash.as_ref() == s
    };
    let token = ctx.sessione.as_ref().map(|s| s.token_hash.clone());
    let r = match trovata {
        Some(r) if r.usata_il.is_none() && r.scade_il > ctx.ora && mia(&r, token.as_ref()) => r,
        _ => {
            ctx.registra(
                None,
                OP_RICHIESTA,
                "RICHIESTA_SCADUTA",
                Some("continue link not valid"),
            )?;
            return ctx.rifiuto(
                StatusCode::BAD_REQUEST,
                "Richiesta di autenticazione scaduta",
                vec!["La richiesta di autenticazione non è più valida: tornare alla piattaforma e ripetere l'accesso.".into()],
            );
        }
    };
    let connesso = ctx.sessione.as_ref().is_some_and(|s| s.utente_id.is_some());
    // ForceAuthn: a session older than the request does not count.
    let vecchia = ctx
        .sessione
        .as_ref()
        .is_some_and(|s| s.creata_il < r.ricevuta_il);
    if connesso && r.forza_autenticazione && vecchia {
        if let Some(s) = ctx.sessione.take() {
            repo::elimina_sessione(ctx.conn, &s.token_hash)?;
        }
    }
    ctx.sessione_o_nuova()?;
    let Some(s) = ctx.sessione.as_ref() else {
        return Err(ErrorePortale::Interno(
            "no session after creating one".into(),
        ));
    };
    let (hash, connesso) = (s.token_hash.clone(), s.utente_id.is_some());
    sso_repo::lega(ctx.conn, r.id, &hash)?;
    Ok(http::redirect(if connesso { PERCORSO_SCELTA } else { "/" }))
}

/// The request waiting in this session, if any (the services page moves on to the choice).
pub fn in_attesa(ctx: &mut Contesto<'_>) -> Result<Option<RichiestaSso>, ErrorePortale> {
    match ctx.sessione.as_ref().map(|s| s.token_hash.clone()) {
        Some(h) => Ok(sso_repo::pendente(ctx.conn, &h, ctx.ora)?),
        None => Ok(None),
    }
}

/// The SpidL level of this session's login: 2 for a CNS smart card, 1 for credentials.
fn livello_sessione(ctx: &Contesto<'_>) -> i16 {
    match ctx.sessione.as_ref().and_then(|s| s.modalita.as_deref()) {
        Some("CNS") => 2,
        _ => 1,
    }
}

/// The destinations, pre-filtered to what the waiting request's SP serves.
fn destinazioni(
    ctx: &mut Contesto<'_>,
    utente_id: i64,
    tipo: &str,
    attesa: Option<&RichiestaSso>,
) -> Result<Vec<Destinazione>, ErrorePortale> {
    let tutte = sso_repo::destinazioni(ctx.conn, utente_id, tipo)?;
    let Some(r) = attesa else {
        return Ok(tutte);
    };
    // Only what this SP serves can answer its request; refused lines stay, with their reason.
    Ok(tutte
        .into_iter()
        .filter(|d| match &d.esito {
            Ok(i) => i.sp_entity_id == r.sp_entity_id,
            Err(_) => true,
        })
        .collect())
}

/// GET /servizi/vaccinazioni: the operator's choice of ASL or virtual region.
pub fn pagina(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let op = match ctx.operatore()? {
        Ok(op) => op,
        Err(r) => return Ok(r),
    };
    let cf = op.utente.codice_fiscale.clone();
    if !repo::ha_profilo(ctx.conn, op.utente.id, PROFILO)? {
        return ctx.non_abilitato(&cf, "SSO_SCELTA", None);
    }
    if idp(ctx).is_none() {
        return non_configurato(ctx);
    }
    let attesa = in_attesa(ctx)?;
    let dest = destinazioni(
        ctx,
        op.utente.id,
        &op.utente.tipo_operatore,
        attesa.as_ref(),
    )?;
    let serve_cns = attesa
        .as_ref()
        .is_some_and(|r| r.livello > livello_sessione(ctx));
    ctx.registra(Some(&cf), "SSO_SCELTA", "OK", None)?;
    mostra(ctx, StatusCode::OK, dest, attesa, serve_cns, None)
}

fn mostra(
    ctx: &mut Contesto<'_>,
    stato: StatusCode,
    dest: Vec<Destinazione>,
    attesa: Option<RichiestaSso>,
    serve_cns: bool,
    errore: Option<&str>,
) -> Result<Response, ErrorePortale> {
    let voci: Vec<Voce> = dest
        .iter()
        .map(|d| Voce {
            chiave: d.chiave(),
            etichetta: match (&d.codice_asl, &d.asl) {
                (Some(a), Some(nome)) => {
                    format!("{} - {} — ASL {a} {nome}", d.codice_regione, d.regione)
                }
                _ => format!("{} - {} (regione virtuale)", d.codice_regione, d.regione),
            },
            piattaforma: match &d.esito {
                Ok(i) if i.via_pn => "Piattaforma Nazionale".into(),
                Ok(_) => "Piattaforma regionale".into(),
                Err(_) => String::new(),
            },
            motivo: d.esito.as_ref().err().copied(),
        })
        .collect();
    let ammesse = voci.iter().filter(|v| v.motivo.is_none()).count();
    let mut c = Cornice::new(TITOLO, &[("Servizi On Line", "/servizi")]);
    if let Some(e) = errore {
        c = c.errore(e);
    }
    if ammesse == 0 {
        c = c.errore(
            "Nessuna piattaforma vaccinale è disponibile per l'utenza: i motivi sono indicati accanto a ciascuna voce.",
        );
    }
    if serve_cns {
        c = c.errore(
            "La piattaforma richiede l'accesso con smart card (CNS): uscire e accedere con la CNS.",
        );
    }
    let c = ctx.cornice(c)?;
    let pagina = Scelta {
        c,
        ammesse,
        voci,
        richiedente: attesa.as_ref().map(|r| r.sp_entity_id.clone()),
        serve_cns,
        in_attesa: attesa.is_some(),
    };
    ctx.pagina(stato, &pagina)
}

/// POST /servizi/vaccinazioni (CSRF checked): the chosen destination, or "Annulla".
pub fn invia_scelta(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let op = match ctx.operatore()? {
        Ok(op) => op,
        Err(r) => return Ok(r),
    };
    let u = op.utente;
    let cf = u.codice_fiscale.clone();
    if !repo::ha_profilo(ctx.conn, u.id, PROFILO)? {
        return ctx.non_abilitato(&cf, OP_INVIO, None);
    }
    let Some(idp) = idp(ctx) else {
        return non_configurato(ctx);
    };
    let attesa = in_attesa(ctx)?;
    if ctx.req.field("annulla") == "1" {
        let Some(r) = attesa else {
            return Ok(http::redirect("/servizi"));
        };
        sso_repo::usa(ctx.conn, r.id, ctx.ora)?;
        let dest = Destinatario {
            sp_entity_id: r.sp_entity_id.clone(),
            acs_url: r.acs_url.clone(),
            in_response_to: Some(r.request_id.clone()),
        };
        let (_, xml) = risposta::errore(
            idp,
            &dest,
            risposta::STATO_RESPONDER,
            Some(risposta::STATO_AUTHN_FAILED),
            "Autenticazione annullata dall'utente",
            ctx.ora,
        )
        .map_err(|e| ErrorePortale::Interno(format!("SAML error Response: {e}")))?;
        let dettaglio = format!("sp={} id={}", r.sp_entity_id, r.request_id);
        ctx.registra(Some(&cf), OP_INVIO, "ANNULLATO", Some(&dettaglio))?;
        return invia(ctx, &dest.acs_url, &xml, r.relay_state);
    }
    let chiave = ctx.req.field("destinazione").to_owned();
    let dest = destinazioni(ctx, u.id, &u.tipo_operatore, attesa.as_ref())?;
    let scelta = dest.iter().find(|d| d.chiave() == chiave).cloned();
    let livello = livello_sessione(ctx);
    let serve_cns = attesa.as_ref().is_some_and(|r| r.livello > livello);
    let instradamento = match scelta.as_ref().map(|d| &d.esito) {
        Some(Ok(i)) if !serve_cns => i.clone(),
        altro => {
            let (esito, messaggio) = match altro {
                None => (
                    "SCELTA_NON_VALIDA",
                    "La scelta non è tra quelle disponibili.",
                ),
                Some(Err(m)) if *m == sso_repo::TIPO_NON_AMMESSO => ("TIPO_NON_AMMESSO", *m),
                Some(Err(m)) => ("REGIONE_NON_ABILITATA", *m),
                Some(Ok(_)) => (
                    "LIVELLO_INSUFFICIENTE",
                    "La piattaforma richiede l'accesso con smart card (CNS).",
                ),
            };
            let dettaglio: String = format!("scelta={chiave}").chars().take(200).collect();
            ctx.registra(Some(&cf), OP_INVIO, esito, Some(&dettaglio))?;
            return mostra(
                ctx,
                StatusCode::BAD_REQUEST,
                dest,
                attesa,
                serve_cns,
                Some(messaggio),
            );
        }
    };
    let Some(d) = scelta else {
        return Err(ErrorePortale::Interno("choice vanished".into()));
    };
    if let Some(r) = &attesa {
        sso_repo::usa(ctx.conn, r.id, ctx.ora)?;
    }
    let destinatario = Destinatario {
        sp_entity_id: instradamento.sp_entity_id.clone(),
        acs_url: instradamento.acs_url.clone(),
        in_response_to: attesa.as_ref().map(|r| r.request_id.clone()),
    };
    let autenticato_il = ctx
        .sessione
        .as_ref()
        .map(|s| s.creata_il)
        .unwrap_or(ctx.ora);
    let operatore = risposta::Operatore {
        codice_fiscale: cf.clone(),
        nome: u.nome.clone(),
        cognome: u.cognome.clone(),
        tipo_operatore: u.tipo_operatore.clone(),
        codice_regione: d.codice_regione.clone(),
        codice_asl: d.codice_asl.clone(),
        livello,
        autenticato_il,
    };
    let (id, xml) = risposta::successo(idp, &destinatario, &operatore, ctx.ora)
        .map_err(|e| ErrorePortale::Interno(format!("SAML Response: {e}")))?;
    let dettaglio = format!(
        "regione={} asl={} sp={} risposta={id} in_risposta_a={}{}",
        d.codice_regione,
        d.codice_asl.as_deref().unwrap_or("-"),
        instradamento.sp_entity_id,
        destinatario.in_response_to.as_deref().unwrap_or("-"),
        if instradamento.via_pn { " via=PN" } else { "" }
    );
    ctx.registra(Some(&cf), OP_INVIO, "OK", Some(&dettaglio))?;
    tracing::info!(regione = %d.codice_regione, sp = %instradamento.sp_entity_id, "SSO Response sent");
    invia(
        ctx,
        &destinatario.acs_url,
        &xml,
        attesa.and_then(|r| r.relay_state),
    )
}

/// The page that POSTs a Response to the ACS: submitted by a one-line script of ours, with a
/// button for browsers without JavaScript; its CSP lets the form go to the ACS only.
fn invia(
    ctx: &mut Contesto<'_>,
    acs: &str,
    xml: &str,
    relay_state: Option<String>,
) -> Result<Response, ErrorePortale> {
    let c = ctx.cornice(Cornice::new("Accesso alla piattaforma", &[]))?;
    let pagina = Invio {
        c,
        acs: acs.to_owned(),
        saml_response: openssl::base64::encode_block(xml.as_bytes()),
        relay_state,
    };
    Ok(http::html_with_form_action(
        StatusCode::OK,
        pagina.render()?,
        acs,
    ))
}
