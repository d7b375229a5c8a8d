//! "Monitoraggio servizi": the monitoring reports (`crate::monitoraggio`) as pages — a chart
//! drawn on the server (SVG, no script) above a table of the same numbers — and as CSV, JSON
//! and SVG exports of exactly what a page shows. MEF staff (type AMMINISTRAZIONE, no region)
//! see every region, a region's staff only their own: a request naming another region is
//! refused, never narrowed. Every view and export writes its section 2.5 row.

use super::contesto::Contesto;
use super::http::{self, Response};
use super::pagine::Cornice;
use super::ErrorePortale;
use crate::monitoraggio::{self, esporta, Ambito, Richiesta, TipoReport};
use ::http::StatusCode;
use askama::Template;
use viste::{svg_di, vista};

mod viste;

pub use viste::{Modulo, Scelta, VistaCella, VistaReport, VistaSezione};

/// The profile that opens the pages.
pub const PROFILO: &str = "MONITORAGGIO_SERVIZI";
/// The index; the views live under it (`PERCORSO/traffico`, …).
pub const PERCORSO: &str = "/servizi/monitoraggio";
const TITOLO: &str = "Monitoraggio servizi";
/// The breadcrumbs of every page under the index.
const BRICIOLE: &[(&str, &str)] = &[("Servizi On Line", "/servizi"), (TITOLO, PERCORSO)];
const OP_INDICE: &str = "MONITORAGGIO";
/// The size of an exported chart, in pixels.
const LARGHEZZA_SVG: u32 = 960;
const ALTEZZA_SVG: u32 = 420;
/// The longest `dettaglio` of a section 2.5 row written here, in characters.
const DETTAGLIO_MAX: usize = 200;

/// The section 2.5 operation of a view.
pub fn operazione(t: TipoReport) -> &'static str {
    match t {
        TipoReport::Traffico => "MONITORAGGIO_TRAFFICO",
        TipoReport::Vaccinazioni => "MONITORAGGIO_VACCINAZIONI",
        TipoReport::Anomalie => "MONITORAGGIO_ANOMALIE",
    }
}

/// The path of a view.
pub fn percorso(t: TipoReport) -> String {
    format!("{PERCORSO}/{}", t.as_str())
}

/// What a view is asked to answer with (`formato`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Formato {
    Html,
    Csv,
    Json,
    Svg,
}

impl Formato {
    fn parse(s: Option<&str>) -> Result<Formato, String> {
        match s.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("html") => Ok(Formato::Html),
            Some("csv") => Ok(Formato::Csv),
            Some("json") => Ok(Formato::Json),
            Some("svg") => Ok(Formato::Svg),
            Some(f) => Err(format!(
                "formato: «{f}» non valido (html, csv, json o svg)."
            )),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Formato::Html => "html",
            Formato::Csv => "csv",
            Formato::Json => "json",
            Formato::Svg => "svg",
        }
    }
}

/// Who is asking and whose figures they may see.
struct Monitor {
    cf: String,
    ambito: Ambito,
    /// "120 - Lazio" for a region's staff.
    regione: Option<String>,
}

/// The operator's scope, or the refusal page (403) after its section 2.5 row
/// (`NON_ABILITATO`): without the profile, or neither MEF staff nor a region's.
fn abilitato(
    ctx: &mut Contesto<'_>,
    operazione: &str,
) -> Result<Result<Monitor, Response>, ErrorePortale> {
    let op = match ctx.operatore()? {
        Ok(op) => op,
        Err(r) => return Ok(Err(r)),
    };
    let u = op.utente;
    if !super::repo::ha_profilo(ctx.conn, u.id, PROFILO)? {
        return ctx
            .non_abilitato(
                &u.codice_fiscale,
                operazione,
                Some("profilo MONITORAGGIO_SERVIZI assente"),
            )
            .map(Err);
    }
    let ambito = match (u.tipo.as_str(), u.codice_regione.as_deref()) {
        (_, Some(r)) => Ambito::regione(r),
        ("AMMINISTRAZIONE", None) => Ambito::nazionale(),
        _ => {
            return ctx
                .non_abilitato(&u.codice_fiscale, operazione, Some("utenza senza regione"))
                .map(Err)
        }
    };
    let regione = match &ambito.regione {
        Some(r) => {
            let (nome, _) = super::servizi::denominazioni(ctx.conn, Some(r), None)?;
            Some(nome.map_or_else(|| r.clone(), |n| format!("{r} - {n}")))
        }
        None => None,
    };
    Ok(Ok(Monitor {
        cf: u.codice_fiscale,
        ambito,
        regione,
    }))
}

fn ambito_testo(m: &Monitor) -> String {
    match &m.regione {
        Some(r) => format!("Dati della sola regione {r}."),
        None => "Dati di tutte le regioni e dei chiamanti nazionali.".into(),
    }
}

/// `s` cut to `DETTAGLIO_MAX` characters.
fn tronca(s: &str) -> String {
    s.chars().take(DETTAGLIO_MAX).collect()
}

/// The `dettaglio` of a view's row: the format, the section of an export, the request.
fn dettaglio(formato: Formato, sezione: Option<&str>, r: &Richiesta) -> String {
    let mut d = format!("formato={}", formato.as_str());
    if let Some(s) = sezione {
        d.push_str(&format!(" sezione={s}"));
    }
    d.push_str(&format!(
        " da={} a={} granularita={} per={}",
        r.da.format("%Y-%m-%d"),
        r.a.format("%Y-%m-%d"),
        r.granularita.as_str(),
        r.per.as_str()
    ));
    let f = &r.filtro;
    let ip = f.ip.map(|i| i.to_string());
    for (k, v) in [
        ("regione", f.regione.as_deref()),
        ("operazione", f.operazione.as_deref()),
        ("chiamante", f.chiamante.as_deref()),
        ("ip", ip.as_deref()),
        ("esito", f.esito.as_deref()),
    ] {
        if let Some(v) = v {
            d.push_str(&format!(" {k}={v}"));
        }
    }
    tronca(&d)
}

/// One view of the index.
pub struct Voce {
    pub titolo: &'static str,
    pub href: String,
    pub descrizione: &'static str,
}

#[derive(Template)]
#[template(path = "monitoraggio_indice.html")]
pub struct Indice {
    pub c: Cornice,
    pub ambito: String,
    pub voci: Vec<Voce>,
}

/// GET /servizi/monitoraggio: the three views, one line each.
pub fn indice(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let m = match abilitato(ctx, OP_INDICE)? {
        Ok(m) => m,
        Err(r) => return Ok(r),
    };
    let d = match &m.ambito.regione {
        Some(r) => format!("ambito=regione {r}"),
        None => "ambito=nazionale".to_owned(),
    };
    ctx.registra(Some(&m.cf), OP_INDICE, "OK", Some(&d))?;
    let voci = vec![
        Voce {
            titolo: TipoReport::Traffico.titolo(),
            href: percorso(TipoReport::Traffico),
            descrizione: "Chiamate ai servizi per periodo, per operazione, regione, chiamante, \
                          IP client, esito o codice errore, con le latenze.",
        },
        Voce {
            titolo: TipoReport::Vaccinazioni.titolo(),
            href: percorso(TipoReport::Vaccinazioni),
            descrizione: "Prenotazioni e somministrazioni trasmesse per periodo e per regione, \
                          via web service e con flusso massivo.",
        },
        Voce {
            titolo: TipoReport::Anomalie.titolo(),
            href: percorso(TipoReport::Anomalie),
            descrizione: "Chiamate in rapporto agli assistiti della regione chiamante, salti \
                          rispetto alla mediana e IP client mai usati prima.",
        },
    ];
    let c = ctx.cornice(Cornice::new(TITOLO, &[("Servizi On Line", "/servizi")]))?;
    ctx.pagina(
        StatusCode::OK,
        &Indice {
            c,
            ambito: ambito_testo(&m),
            voci,
        },
    )
}

#[derive(Template)]
#[template(path = "monitoraggio.html")]
pub struct Pagina {
    pub c: Cornice,
    pub ambito: String,
    pub modulo: Modulo,
    /// None when the request was refused (the message is at the top).
    pub report: Option<VistaReport>,
}

fn cornice_vista(tipo: TipoReport) -> Cornice {
    Cornice::new(tipo.titolo(), BRICIOLE)
}

/// A request that cannot be answered as asked: its row (`RICHIESTA_NON_VALIDA`) and the
/// view's page with the form as sent and `messaggio` at the top.
fn non_valida(
    ctx: &mut Contesto<'_>,
    tipo: TipoReport,
    m: &Monitor,
    stato: StatusCode,
    messaggio: String,
) -> Result<Response, ErrorePortale> {
    ctx.registra(
        Some(&m.cf),
        operazione(tipo),
        "RICHIESTA_NON_VALIDA",
        Some(&tronca(&messaggio)),
    )?;
    let modulo = Modulo::da_query(tipo, m, &ctx.req.query);
    let c = ctx.cornice(cornice_vista(tipo).errore(messaggio))?;
    ctx.pagina(
        stato,
        &Pagina {
            c,
            ambito: ambito_testo(m),
            modulo,
            report: None,
        },
    )
}

/// GET /servizi/monitoraggio/{traffico|vaccinazioni|anomalie}: the report as a page, or one
/// of its exports (`formato=csv|json|svg`, `sezione=<id>` for CSV and SVG).
pub fn pagina(ctx: &mut Contesto<'_>, tipo: TipoReport) -> Result<Response, ErrorePortale> {
    let op = operazione(tipo);
    let m = match abilitato(ctx, op)? {
        Ok(m) => m,
        Err(r) => return Ok(r),
    };
    let formato = match Formato::parse(ctx.req.query.get("formato").map(String::as_str)) {
        Ok(f) => f,
        Err(e) => return non_valida(ctx, tipo, &m, StatusCode::BAD_REQUEST, e),
    };
    let oggi = crate::domain::tempo::data_roma(ctx.ora);
    let richiesta = match Richiesta::da_coppie(tipo, &ctx.req.query, oggi) {
        Ok(r) => r,
        Err(e) => return non_valida(ctx, tipo, &m, StatusCode::BAD_REQUEST, e),
    };
    // Another region's figures: refused whatever the format, never silently narrowed.
    let richiesta = match m.ambito.applica(&richiesta) {
        Ok(r) => r,
        Err(e) => {
            ctx.registra(Some(&m.cf), op, "NON_ABILITATO", Some(&tronca(&e)))?;
            let paragrafi = vec![e, ambito_testo(&m)];
            return ctx.rifiuto_in(
                StatusCode::FORBIDDEN,
                "Dati non consultabili",
                BRICIOLE,
                paragrafi,
                ("Torna a Monitoraggio servizi".into(), PERCORSO.into()),
            );
        }
    };
    let report = monitoraggio::report(ctx.conn, &ctx.portale.monitoraggio, &m.ambito, &richiesta)?;
    let nome = |sezione: Option<&str>, estensione: &str| match sezione {
        Some(s) => format!(
            "tsgate-{}-{s}-{}-{}.{estensione}",
            report.tipo, report.da, report.a
        ),
        None => format!(
            "tsgate-{}-{}-{}.{estensione}",
            report.tipo, report.da, report.a
        ),
    };
    match formato {
        Formato::Html => {
            ctx.registra(
                Some(&m.cf),
                op,
                "OK",
                Some(&dettaglio(formato, None, &richiesta)),
            )?;
            let modulo = Modulo::da_richiesta(&m, &richiesta);
            let report = vista(&report, &richiesta);
            let c = ctx.cornice(cornice_vista(tipo))?;
            ctx.pagina(
                StatusCode::OK,
                &Pagina {
                    c,
                    ambito: ambito_testo(&m),
                    modulo,
                    report: Some(report),
                },
            )
        }
        Formato::Json => {
            ctx.registra(
                Some(&m.cf),
                op,
                "OK",
                Some(&dettaglio(formato, None, &richiesta)),
            )?;
            Ok(http::attachment(
                "application/json",
                &nome(None, "json"),
                esporta::json(&report).into_bytes(),
            ))
        }
        Formato::Csv | Formato::Svg => {
            let chiesta = ctx
                .req
                .query
                .get("sezione")
                .map(|s| s.trim())
                .filter(|s| !s.is_empty());
            let sezione = match chiesta {
                None => report.sezioni.first(),
                Some(id) => report.sezioni.iter().find(|s| s.id == id),
            };
            let Some(sezione) = sezione else {
                let ids: Vec<&str> = report.sezioni.iter().map(|s| s.id).collect();
                let e = format!(
                    "sezione: «{}» non esiste in questo report ({}).",
                    chiesta.unwrap_or(""),
                    ids.join(", ")
                );
                return non_valida(ctx, tipo, &m, StatusCode::BAD_REQUEST, e);
            };
            let d = dettaglio(formato, Some(sezione.id), &richiesta);
            if formato == Formato::Csv {
                ctx.registra(Some(&m.cf), op, "OK", Some(&d))?;
                return Ok(http::attachment(
                    "text/csv; charset=utf-8",
                    &nome(Some(sezione.id), "csv"),
                    esporta::csv(sezione).into_bytes(),
                ));
            }
            let Some(svg) = svg_di(sezione) else {
                ctx.registra(Some(&m.cf), op, "GRAFICO_ASSENTE", Some(&d))?;
                let paragrafi = vec![format!(
                    "La sezione «{}» non ha un grafico: se ne può scaricare la tabella in CSV.",
                    sezione.titolo
                )];
                return ctx.rifiuto_in(
                    StatusCode::NOT_FOUND,
                    "Grafico non disponibile",
                    BRICIOLE,
                    paragrafi,
                    (format!("Torna a {}", tipo.titolo()), percorso(tipo)),
                );
            };
            ctx.registra(Some(&m.cf), op, "OK", Some(&d))?;
            Ok(http::attachment(
                "image/svg+xml",
                &nome(Some(sezione.id), "svg"),
                svg.into_bytes(),
            ))
        }
    }
}

#[cfg(test)]
mod tests;
