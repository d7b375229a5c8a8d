//! What a monitoring page shows: the request form as filled, the report's sections with their charts inline and their tables.

use super::{percorso, Monitor, ALTEZZA_SVG, LARGHEZZA_SVG};
use crate::monitoraggio::{
    self, Cella, Dimensione, Granularita, Report, Richiesta, Sezione, TipoReport,
};
use std::collections::HashMap;

/// An option of a select: value, label, selected.
pub type Scelta = (&'static str, &'static str, bool);

/// The request form, filled with what was asked (or with the defaults it was given).
pub struct Modulo {
    pub azione: String,
    pub da: String,
    pub a: String,
    pub granularita: Vec<Scelta>,
    /// Empty when the view has a single grouping.
    pub per: Vec<Scelta>,
    /// The traffic's own filters (operation, caller, IP, esito); the misuse view has the
    /// operation only.
    pub operazione: Option<String>,
    pub chiamante: Option<String>,
    pub ip: Option<String>,
    pub esito: Option<String>,
    pub regione: String,
    /// A region's staff: their region, shown and sent but not editable.
    pub regione_fissa: Option<String>,
}

fn etichetta_granularita(g: Granularita) -> &'static str {
    match g {
        Granularita::Ora => "Oraria",
        Granularita::Giorno => "Giornaliera",
        Granularita::Settimana => "Settimanale",
        Granularita::Mese => "Mensile",
    }
}

impl Modulo {
    /// The form of view `tipo` with the values `valore` gives (a query as sent, or a request).
    fn new(tipo: TipoReport, m: &Monitor, valore: &dyn Fn(&str) -> Option<String>) -> Modulo {
        let v = |k: &str| valore(k).unwrap_or_default();
        let granularita_scelta = v("granularita");
        let granularita = match tipo {
            // Misuse is judged per day and per week, whatever the granularity.
            TipoReport::Anomalie => Vec::new(),
            _ => Granularita::TUTTE
                .into_iter()
                .filter(|g| !(tipo == TipoReport::Vaccinazioni && *g == Granularita::Ora))
                .map(|g| {
                    let scelta = if granularita_scelta.is_empty() {
                        g == Granularita::Giorno
                    } else {
                        granularita_scelta == g.as_str()
                    };
                    (g.as_str(), etichetta_granularita(g), scelta)
                })
                .collect(),
        };
        let per_scelto = v("per");
        let per = match tipo {
            TipoReport::Traffico => Dimensione::TUTTE
                .into_iter()
                .map(|d| {
                    let scelta = if per_scelto.is_empty() {
                        d == Dimensione::Operazione
                    } else {
                        per_scelto == d.as_str()
                    };
                    (d.as_str(), d.intestazione(), scelta)
                })
                .collect(),
            _ => Vec::new(),
        };
        let traffico = tipo == TipoReport::Traffico;
        Modulo {
            azione: percorso(tipo),
            da: v("da"),
            a: v("a"),
            granularita,
            per,
            operazione: (tipo != TipoReport::Vaccinazioni).then(|| v("operazione")),
            chiamante: traffico.then(|| v("chiamante")),
            ip: traffico.then(|| v("ip")),
            esito: traffico.then(|| v("esito")),
            regione: m.ambito.regione.clone().unwrap_or_else(|| v("regione")),
            regione_fissa: m.regione.clone(),
        }
    }

    pub(super) fn da_query(tipo: TipoReport, m: &Monitor, q: &HashMap<String, String>) -> Modulo {
        Modulo::new(tipo, m, &|k| q.get(k).map(|s| s.trim().to_owned()))
    }

    pub(super) fn da_richiesta(m: &Monitor, r: &Richiesta) -> Modulo {
        let f = &r.filtro;
        Modulo::new(r.tipo, m, &|k| match k {
            "da" => Some(r.da.format("%Y-%m-%d").to_string()),
            "a" => Some(r.a.format("%Y-%m-%d").to_string()),
            "granularita" => Some(r.granularita.as_str().to_owned()),
            "per" => Some(r.per.as_str().to_owned()),
            "operazione" => f.operazione.clone(),
            "regione" => f.regione.clone(),
            "chiamante" => f.chiamante.clone(),
            "ip" => f.ip.map(|i| i.to_string()),
            "esito" => f.esito.clone(),
            _ => None,
        })
    }
}

/// A cell as the page writes it.
pub struct VistaCella {
    pub testo: String,
    pub numerica: bool,
    /// A long text (a flag's evidence): given room, so that its row stays readable.
    pub lunga: bool,
    pub href: Option<String>,
}

/// Texts longer than this get a wider column.
const TESTO_LUNGO: usize = 40;

/// A section as the page shows it: its chart inline, its exports, its table.
pub struct VistaSezione {
    pub id: &'static str,
    pub titolo: String,
    /// The `<svg>` element of the chart (from `grafico::svg`, which escapes its texts).
    pub svg: Option<String>,
    pub href_csv: String,
    pub href_svg: Option<String>,
    pub intestazione: Vec<String>,
    pub righe: Vec<Vec<VistaCella>>,
}

impl VistaSezione {
    /// Whether `riga` is the total row (shown apart).
    pub fn totale(&self, riga: &[VistaCella]) -> bool {
        riga.first().is_some_and(|c| c.testo == "Totale")
    }
}

/// A report as the page shows it.
pub struct VistaReport {
    pub titolo: String,
    pub note: Vec<String>,
    pub precedente: String,
    pub successivo: String,
    pub href_json: String,
    pub sezioni: Vec<VistaSezione>,
}

/// The `<svg>` element of a standalone SVG document, to put inside a page (an XML
/// declaration or a doctype before it is dropped).
pub(super) fn svg_in_linea(documento: &str) -> String {
    match documento.find("<svg") {
        Some(i) => documento[i..].to_owned(),
        None => String::new(),
    }
}

pub(super) fn svg_di(s: &Sezione) -> Option<String> {
    s.grafico
        .as_ref()
        .map(|g| monitoraggio::grafico::svg(g, LARGHEZZA_SVG, ALTEZZA_SVG))
}

pub(super) fn vista(report: &Report, r: &Richiesta) -> VistaReport {
    let base = percorso(r.tipo);
    let query = r.query();
    let sezioni = report
        .sezioni
        .iter()
        .map(|s| VistaSezione {
            id: s.id,
            titolo: s.titolo.clone(),
            svg: svg_di(s).map(|d| svg_in_linea(&d)),
            href_csv: format!("{base}?{query}&formato=csv&sezione={}", s.id),
            href_svg: s
                .grafico
                .as_ref()
                .map(|_| format!("{base}?{query}&formato=svg&sezione={}", s.id)),
            intestazione: s.tabella.intestazione.clone(),
            righe: s
                .tabella
                .righe
                .iter()
                .map(|riga| {
                    riga.iter()
                        .map(|c: &Cella| {
                            let testo = c.italiano();
                            VistaCella {
                                lunga: !c.numerica() && testo.chars().count() > TESTO_LUNGO,
                                numerica: c.numerica(),
                                href: c.href().map(str::to_owned),
                                testo,
                            }
                        })
                        .collect()
                })
                .collect(),
        })
        .collect();
    VistaReport {
        titolo: report.titolo.clone(),
        note: report.note.clone(),
        precedente: format!("{base}?{}", r.spostata(-1).query()),
        successivo: format!("{base}?{}", r.spostata(1).query()),
        href_json: format!("{base}?{query}&formato=json"),
        sezioni,
    }
}
