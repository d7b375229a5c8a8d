//! "Scambio File": an operator holding profile SCAMBIO_FILE lists and downloads the files of
//! their own region — the multiple-booking notices and the TS-CNS revocation notices. Every
//! request writes its section 2.5 row; every download attempt also writes the section 5.5 row
//! of its kind (through the services' own `scarica`), in the request's transaction.

use super::contesto::Contesto;
use super::http::{self, Response};
use super::pagine::Cornice;
use super::ErrorePortale;
use crate::domain::CodiceRegione;
use crate::services::tscns::revoche::{self, RevocheError};
use crate::services::vaccini::notifiche::{self, NotificheError};
use ::http::StatusCode;
use askama::Template;

/// The profile that opens the page.
pub const PROFILO: &str = "SCAMBIO_FILE";
/// The page's path; downloads live under `PERCORSO/notifiche/{id}` and `PERCORSO/revoche/{id}`.
pub const PERCORSO: &str = "/servizi/file";
/// At most this many files of each kind are listed (the newest).
pub const LIMITE: u32 = 200;
const TITOLO: &str = "Scambio File";
const OP_ELENCO: &str = "SCAMBIO_FILE_ELENCO";
const OP_DOWNLOAD: &str = "SCAMBIO_FILE_DOWNLOAD";

/// The two kinds of file, as the page names them and as their download path names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tipo {
    Notifiche,
    Revoche,
}

impl Tipo {
    pub fn descrizione(self) -> &'static str {
        match self {
            Tipo::Notifiche => "Notifica prenotazioni multiple",
            Tipo::Revoche => "Comunicazioni di revoca TS-CNS",
        }
    }

    pub fn segmento(self) -> &'static str {
        match self {
            Tipo::Notifiche => "notifiche",
            Tipo::Revoche => "revoche",
        }
    }
}

/// One listed file.
#[derive(Debug)]
pub struct RigaFile {
    pub tipo: Tipo,
    pub id: i64,
    pub nome_file: String,
    /// `YYYY-MM-DD HH:MM:SS.mmm` in Europe/Rome, as the services list it (sorts as time).
    generata_il_roma: String,
    pub numero_record: i32,
    pub sha256: String,
}

impl RigaFile {
    pub fn generata_il(&self) -> String {
        data_ora_roma(&self.generata_il_roma)
    }

    pub fn href(&self) -> String {
        format!("{PERCORSO}/{}/{}", self.tipo.segmento(), self.id)
    }
}

#[derive(Template)]
#[template(path = "file.html")]
pub struct Pagina {
    pub c: Cornice,
    pub regione: String,
    pub righe: Vec<RigaFile>,
}

/// The first `limite` of each kind (each given newest first), merged newest first; and whether
/// either kind had more.
fn unisci(
    mut notifiche: Vec<RigaFile>,
    mut revoche: Vec<RigaFile>,
    limite: usize,
) -> (Vec<RigaFile>, bool) {
    let oltre = notifiche.len() > limite || revoche.len() > limite;
    notifiche.truncate(limite);
    revoche.truncate(limite);
    let mut righe = notifiche;
    righe.append(&mut revoche);
    righe.sort_by(|a, b| {
        (&b.generata_il_roma, b.id, b.tipo.segmento()).cmp(&(
            &a.generata_il_roma,
            a.id,
            a.tipo.segmento(),
        ))
    });
    (righe, oltre)
}

/// `YYYY-MM-DD HH:MM:SS[.mmm]` (already Italian time) shown as `pagine::data_ora` shows a time:
/// `dd/mm/yyyy HH:MM`; a text that is not such a time is shown as it is.
fn data_ora_roma(s: &str) -> String {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .map(|t| t.format("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_else(|_| s.to_owned())
}

/// The operator's codice fiscale and region, or the refusal page (403) after its section 2.5
/// row (`NON_ABILITATO`): without the profile, or without a valid region.
fn abilitato(
    ctx: &mut Contesto<'_>,
    operazione: &str,
) -> Result<Result<(String, CodiceRegione), Response>, ErrorePortale> {
    let op = match ctx.operatore()? {
        Ok(op) => op,
        Err(r) => return Ok(Err(r)),
    };
    let cf = op.utente.codice_fiscale.clone();
    let regione = op
        .utente
        .codice_regione
        .as_deref()
        .and_then(|r| CodiceRegione::parse(r).ok());
    let dettaglio = match regione {
        Some(r) if super::repo::ha_profilo(ctx.conn, op.utente.id, PROFILO)? => {
            return Ok(Ok((cf, r)))
        }
        Some(_) => "profilo SCAMBIO_FILE assente",
        None => "utenza senza regione",
    };
    ctx.non_abilitato(&cf, operazione, Some(dettaglio)).map(Err)
}

/// GET /servizi/file: the region's files of both kinds, newest first, at most `LIMITE` of each.
pub fn elenco(ctx: &mut Contesto<'_>) -> Result<Response, ErrorePortale> {
    let (cf, regione) = match abilitato(ctx, OP_ELENCO)? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    // One more than shown: whether more exist, without counting them.
    let notifiche =
        notifiche::elenco(ctx.conn, Some(&regione), LIMITE + 1).map_err(|e| match e {
            NotificheError::Db(e) => ErrorePortale::Db(e),
            e => ErrorePortale::Interno(e.to_string()),
        })?;
    let revoche =
        revoche::elenco_file(ctx.conn, Some(&regione), LIMITE + 1).map_err(|e| match e {
            RevocheError::Db(e) => ErrorePortale::Db(e),
            e => ErrorePortale::Interno(e.to_string()),
        })?;
    let notifiche = notifiche.into_iter().map(|v| RigaFile {
        tipo: Tipo::Notifiche,
        id: v.id,
        nome_file: v.nome_file,
        generata_il_roma: v.generata_il_roma,
        numero_record: v.numero_record,
        sha256: v.sha256,
    });
    let revoche = revoche.into_iter().map(|v| RigaFile {
        tipo: Tipo::Revoche,
        id: v.id,
        nome_file: v.nome_file,
        generata_il_roma: v.generata_il_roma,
        numero_record: v.numero_record,
        sha256: v.sha256,
    });
    let (righe, oltre) = unisci(notifiche.collect(), revoche.collect(), LIMITE as usize);
    let (nome, _) = super::servizi::denominazioni(ctx.conn, Some(regione.as_str()), None)?;
    let regione_testo = match nome {
        Some(n) => format!("{} - {n}", regione.as_str()),
        None => regione.as_str().to_owned(),
    };
    let dettaglio = format!("{} file", righe.len());
    ctx.registra(Some(&cf), OP_ELENCO, "OK", Some(&dettaglio))?;
    let mut c = Cornice::new(TITOLO, &[("Servizi On Line", "/servizi")]);
    if oltre {
        c = c.info(format!(
            "Sono elencati solo i {LIMITE} file più recenti di ciascun tipo: ne esistono altri meno recenti."
        ));
    }
    let c = ctx.cornice(c)?;
    ctx.pagina(
        StatusCode::OK,
        &Pagina {
            c,
            regione: regione_testo,
            righe,
        },
    )
}

/// Whether `percorso` is under the downloads (`/servizi/file/…`), for the router.
pub fn e_download(percorso: &str) -> bool {
    percorso
        .strip_prefix(PERCORSO)
        .is_some_and(|r| r.starts_with('/'))
}

/// `notifiche/12` → (Notifiche, 12); anything else (another kind, an id that is not a plain
/// positive number) → None.
fn bersaglio(resto: &str) -> Option<(Tipo, i64)> {
    let (tipo, id) = resto.split_once('/')?;
    let tipo = match tipo {
        "notifiche" => Tipo::Notifiche,
        "revoche" => Tipo::Revoche,
        _ => return None,
    };
    if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((tipo, id.parse().ok()?))
}

/// A download refused: the same page whether the file does not exist or belongs to another
/// region.
fn non_disponibile(
    ctx: &mut Contesto<'_>,
    cf: &str,
    esito: &str,
    dettaglio: &str,
) -> Result<Response, ErrorePortale> {
    ctx.registra(Some(cf), OP_DOWNLOAD, esito, Some(dettaglio))?;
    let c = ctx.cornice(Cornice::new(
        "File non disponibile",
        &[("Servizi On Line", "/servizi"), (TITOLO, PERCORSO)],
    ))?;
    ctx.pagina(
        StatusCode::NOT_FOUND,
        &super::pagine::Errore {
            c,
            paragrafi: vec![
                "Il file richiesto non è disponibile per la regione dell'utenza.".into(),
                "Scegliere un file dall'elenco di Scambio File.".into(),
            ],
            ritorno: ("Torna a Scambio File".into(), PERCORSO.into()),
        },
    )
}

/// GET /servizi/file/{notifiche|revoche}/{id} (`percorso` is the whole path): the file as an
/// attachment when it is the operator's region's. Every attempt that names a file records the
/// section 5.5 DOWNLOAD row of its kind, failed or not; a refusal is a page (404), returned as
/// `Ok` so that row commits with the request.
pub fn scarica(ctx: &mut Contesto<'_>, percorso: &str) -> Result<Response, ErrorePortale> {
    let (cf, regione) = match abilitato(ctx, OP_DOWNLOAD)? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let resto = percorso
        .strip_prefix(PERCORSO)
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or("");
    let Some((tipo, id)) = bersaglio(resto) else {
        return non_disponibile(ctx, &cf, "RICHIESTA_NON_VALIDA", resto);
    };
    let dettaglio = format!("{}/{id}", tipo.segmento());
    let esito = match tipo {
        Tipo::Notifiche => match notifiche::scarica(ctx.conn, id, &regione, &cf) {
            Ok(f) => Ok((f.nome_file, f.contenuto)),
            Err(NotificheError::Db(e)) => return Err(e.into()),
            Err(e) => Err(e.esito()),
        },
        Tipo::Revoche => match revoche::scarica(ctx.conn, id, &regione, &cf) {
            Ok(f) => Ok((f.nome_file, f.contenuto)),
            Err(RevocheError::Db(e)) => return Err(e.into()),
            Err(e) => Err(e.esito()),
        },
    };
    match esito {
        Ok((nome, contenuto)) => {
            ctx.registra(
                Some(&cf),
                OP_DOWNLOAD,
                "OK",
                Some(&format!("{dettaglio} {nome}")),
            )?;
            Ok(http::attachment(
                "text/plain; charset=utf-8",
                &nome,
                contenuto,
            ))
        }
        Err(codice) => non_disponibile(ctx, &cf, codice, &dettaglio),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_paths_are_parsed_strictly() {
        assert_eq!(bersaglio("notifiche/12"), Some((Tipo::Notifiche, 12)));
        assert_eq!(bersaglio("revoche/7"), Some((Tipo::Revoche, 7)));
        for cattivo in [
            "",
            "notifiche",
            "notifiche/",
            "notifiche/abc",
            "notifiche/-1",
            "notifiche/+1",
            "notifiche/1/2",
            "altro/1",
            "revoche/99999999999999999999",
        ] {
            assert_eq!(bersaglio(cattivo), None, "{cattivo}");
        }
    }

    #[test]
    fn times_are_shown_like_the_other_pages() {
        assert_eq!(data_ora_roma("2026-11-28 04:21:59.123"), "28/11/2026 04:21");
        assert_eq!(data_ora_roma("2026-03-29 03:00:00"), "29/03/2026 03:00");
        assert_eq!(data_ora_roma("ieri"), "ieri");
    }

    fn riga(tipo: Tipo, id: i64, t: &str) -> RigaFile {
        RigaFile {
            tipo,
            id,
            nome_file: format!("{}_{id}.txt", tipo.segmento()),
            generata_il_roma: t.into(),
            numero_record: 3,
            sha256: "ab".repeat(32),
        }
    }

    #[test]
    fn both_kinds_merge_newest_first_within_the_limit() {
        let n = || {
            vec![
                riga(Tipo::Notifiche, 3, "2026-11-28 10:00:00.300"),
                riga(Tipo::Notifiche, 2, "2026-11-28 09:00:00.000"),
                riga(Tipo::Notifiche, 1, "2026-11-27 09:00:00.000"),
            ]
        };
        let r = || vec![riga(Tipo::Revoche, 9, "2026-11-28 09:30:00.000")];
        let ordine = |v: &[RigaFile]| v.iter().map(|r| (r.tipo, r.id)).collect::<Vec<_>>();
        let (righe, oltre) = unisci(n(), r(), 3);
        assert!(!oltre);
        assert_eq!(
            ordine(&righe),
            [
                (Tipo::Notifiche, 3),
                (Tipo::Revoche, 9),
                (Tipo::Notifiche, 2),
                (Tipo::Notifiche, 1)
            ]
        );
        let (righe, oltre) = unisci(n(), r(), 2);
        assert!(oltre);
        assert_eq!(
            ordine(&righe),
            [
                (Tipo::Notifiche, 3),
                (Tipo::Revoche, 9),
                (Tipo::Notifiche, 2)
            ]
        );
    }

    fn pagina(righe: Vec<RigaFile>) -> String {
        Pagina {
            c: Cornice::new(TITOLO, &[("Servizi On Line", "/servizi")]),
            regione: "120 - Lazio".into(),
            righe,
        }
        .render()
        .unwrap()
    }

    #[test]
    fn the_page_has_a_captioned_table_or_says_there_is_no_file() {
        let vuota = pagina(Vec::new());
        assert!(vuota.contains("Nessun file disponibile per la regione 120 - Lazio."));
        assert!(!vuota.contains("<table"));
        assert!(vuota.contains("Ti trovi in : <a href=\"/\">Home</a> - <a href=\"/servizi\">Servizi On Line</a> - <span aria-current=\"page\">Scambio File</span>"));
        let piena = pagina(vec![riga(Tipo::Revoche, 5, "2026-11-28 09:30:00.000")]);
        assert!(!piena.contains("Nessun file disponibile"));
        assert!(piena.contains("<caption>File disponibili per la regione 120 - Lazio</caption>"));
        assert!(piena.contains("<th scope=\"row\" class=\"nome\">revoche_5.txt</th>"));
        assert!(piena.contains(
            "href=\"/servizi/file/revoche/5\" download aria-label=\"Scarica revoche_5.txt\""
        ));
        assert!(piena.contains("28/11/2026 09:30"));
        assert!(piena.contains("Comunicazioni di revoca TS-CNS"));
    }

    #[test]
    fn kinds_have_their_italian_names_and_paths() {
        let r = riga(Tipo::Revoche, 5, "");
        assert_eq!(r.href(), "/servizi/file/revoche/5");
        assert_eq!(
            Tipo::Notifiche.descrizione(),
            "Notifica prenotazioni multiple"
        );
        assert_eq!(
            Tipo::Revoche.descrizione(),
            "Comunicazioni di revoca TS-CNS"
        );
    }
}
