//! Tests of the monitoring pages: formats, the rows' `dettaglio`, the form, the inline charts.

use super::viste::svg_in_linea;
use super::*;
use crate::monitoraggio::{
    Cella, Dimensione, Filtro, Grafico, Granularita, Report, Serie, Sezione, Tabella, TipoGrafico,
};
use chrono::NaiveDate;

fn richiesta() -> Richiesta {
    Richiesta::new(
        TipoReport::Traffico,
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        Granularita::Giorno,
        Dimensione::Regione,
        Filtro {
            regione: Some("120".into()),
            ..Filtro::default()
        },
    )
    .unwrap()
}

fn monitor(regione: Option<&str>) -> Monitor {
    Monitor {
        cf: "CNTFBA76L03H501N".into(),
        ambito: regione.map_or_else(Ambito::nazionale, Ambito::regione),
        regione: regione.map(|r| format!("{r} - Lazio")),
    }
}

#[test]
fn the_log_detail_says_what_was_shown() {
    let r = richiesta();
    assert_eq!(
        dettaglio(Formato::Csv, Some("serie"), &r),
        "formato=csv sezione=serie da=2026-11-01 a=2026-11-30 granularita=giorno per=regione regione=120"
    );
    let mut lunga = r.clone();
    lunga.filtro.chiamante = Some("x".repeat(100));
    lunga.filtro.operazione = Some("y".repeat(100));
    assert_eq!(
        dettaglio(Formato::Html, None, &lunga).chars().count(),
        DETTAGLIO_MAX
    );
}

#[test]
fn formats() {
    assert_eq!(Formato::parse(None), Ok(Formato::Html));
    assert_eq!(Formato::parse(Some("")), Ok(Formato::Html));
    assert_eq!(Formato::parse(Some("csv")), Ok(Formato::Csv));
    assert_eq!(Formato::parse(Some("svg")), Ok(Formato::Svg));
    assert!(Formato::parse(Some("xlsx")).unwrap_err().contains("xlsx"));
}

#[test]
fn an_svg_document_is_inlined_from_its_root() {
    assert_eq!(
        svg_in_linea("<?xml version=\"1.0\"?>\n<svg xmlns=\"x\"></svg>"),
        "<svg xmlns=\"x\"></svg>"
    );
    assert_eq!(svg_in_linea("nessun grafico"), "");
}

fn report() -> Report {
    Report {
        tipo: "traffico",
        titolo: "Chiamate per regione chiamante".into(),
        da: "2026-11-01".into(),
        a: "2026-11-30".into(),
        periodo: "dal 01/11/2026 al 30/11/2026".into(),
        note: vec!["Nota <prima>".into()],
        sezioni: vec![
            Sezione {
                id: "distribuzione",
                titolo: "Distribuzione".into(),
                grafico: Some(Grafico {
                    tipo: TipoGrafico::Barre,
                    titolo: "Chiamate".into(),
                    asse_x: "Regione".into(),
                    asse_y: "Chiamate".into(),
                    etichette: vec!["120 - Lazio".into()],
                    serie: vec![Serie {
                        nome: "Chiamate".into(),
                        valori: vec![1234.0],
                    }],
                    soglia: None,
                }),
                tabella: Tabella {
                    intestazione: vec!["Regione".into(), "Chiamate".into(), "Evidenza".into()],
                    righe: vec![
                        vec![
                            Cella::testo("120 - Lazio"),
                            Cella::Intero(1234),
                            Cella::Link {
                                testo: "vedi".into(),
                                href: "/servizi/monitoraggio/traffico?da=2026-11-01&per=ip".into(),
                            },
                        ],
                        vec![
                            Cella::testo("Totale"),
                            Cella::Intero(1234),
                            Cella::testo(""),
                        ],
                    ],
                },
            },
            Sezione {
                id: "vuota",
                titolo: "Vuota".into(),
                grafico: None,
                tabella: Tabella {
                    intestazione: vec!["A".into()],
                    righe: Vec::new(),
                },
            },
        ],
    }
}

#[test]
fn the_page_has_the_chart_the_table_and_the_links() {
    let r = richiesta();
    let m = monitor(Some("120"));
    let html = Pagina {
        c: cornice_vista(TipoReport::Traffico),
        ambito: ambito_testo(&m),
        modulo: Modulo::da_richiesta(&m, &r),
        report: Some(vista(&report(), &r)),
    }
    .render()
    .unwrap();
    assert!(
        html.contains("<span aria-current=\"page\">Traffico</span>"),
        "{html}"
    );
    assert!(html.contains("<a href=\"/servizi/monitoraggio\">Monitoraggio servizi</a>"));
    assert!(html.contains("<section id=\"sez-distribuzione\""));
    assert!(html.contains("<svg"));
    assert!(html.contains("<td class=\"numero\">1.234</td>"), "{html}");
    assert!(
        html.contains(
            "<a href=\"/servizi/monitoraggio/traffico?da=2026-11-01&#38;per=ip\">vedi</a>"
        ),
        "{html}"
    );
    assert!(html.contains("Nota &#60;prima&#62;"));
    assert!(html.contains("Periodo precedente"));
    assert!(html.contains("da=2026-10-02&#38;a=2026-10-31"), "{html}");
    assert!(html.contains("formato=csv&#38;sezione=distribuzione"));
    assert!(html.contains("formato=svg&#38;sezione=distribuzione"));
    assert!(!html.contains("formato=svg&#38;sezione=vuota"));
    assert!(html.contains("Nessun dato nel periodo"));
    // The region's staff: the region is shown and sent, not editable.
    assert!(
        html.contains("name=\"regione\" type=\"text\" value=\"120\" readonly"),
        "{html}"
    );
    assert!(!html.contains("style="));
}
