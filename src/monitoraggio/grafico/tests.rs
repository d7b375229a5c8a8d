//! Tests of `grafico`'s whole documents, and the helpers that parse them (shared with `disposizione_tests`).

use super::*;
use crate::monitoraggio::modello::{Grafico, Serie, TipoGrafico};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// An element of the parsed document.
#[derive(Debug)]
pub(super) struct Nodo {
    pub(super) nome: String,
    pub(super) attributi: Vec<(String, String)>,
    /// The text directly inside, references resolved.
    pub(super) testo: String,
    /// The `class` of the enclosing elements.
    pub(super) classi: Vec<String>,
}

impl Nodo {
    pub(super) fn attr(&self, nome: &str) -> Option<&str> {
        self.attributi
            .iter()
            .find(|(k, _)| k == nome)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn num(&self, nome: &str) -> f64 {
        self.attr(nome)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{} without a numeric {nome}", self.nome))
    }

    pub(super) fn dentro(&self, classe: &str) -> bool {
        self.classi.iter().any(|c| c == classe)
    }
}

/// Parses the document with quick-xml, asserting it is well formed (one `svg` root, every
/// element closed), and returns its elements in document order.
pub(super) fn analizza(svg: &str) -> Vec<Nodo> {
    fn nodo(e: &BytesStart<'_>, classi: &[String]) -> Nodo {
        let attributi = e
            .attributes()
            .map(|a| {
                let a = a.expect("well-formed attribute");
                let v = a
                    .normalized_value(XmlVersion::Implicit1_0)
                    .expect("attribute value escaped");
                (a.key.as_ref().to_owned(), v.into_owned())
            })
            .collect();
        Nodo {
            nome: e.name().as_ref().to_owned(),
            attributi,
            testo: String::new(),
            classi: classi.to_vec(),
        }
    }
    let mut reader = Reader::from_str(svg);
    let mut nodi: Vec<Nodo> = Vec::new();
    // Indices into `nodi` of the open elements.
    let mut aperti: Vec<usize> = Vec::new();
    let mut classi: Vec<String> = Vec::new();
    let mut radici = 0;
    loop {
        let evento = reader
            .read_event()
            .unwrap_or_else(|e| panic!("malformed at {}: {e}\n{svg}", reader.buffer_position()));
        match evento {
            Event::Start(e) => {
                if aperti.is_empty() {
                    radici += 1;
                }
                let n = nodo(&e, &classi);
                classi.push(n.attr("class").unwrap_or("").to_owned());
                aperti.push(nodi.len());
                nodi.push(n);
            }
            Event::Empty(e) => {
                assert!(!aperti.is_empty(), "element outside the root");
                nodi.push(nodo(&e, &classi));
            }
            Event::End(_) => {
                aperti.pop().expect("balanced");
                classi.pop();
            }
            Event::Text(t) => {
                let t = t.xml10_content();
                match aperti.last() {
                    Some(&i) => nodi[i].testo.push_str(&t),
                    None => assert!(t.trim().is_empty(), "text outside the root"),
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.xml10_content().as_ref() {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    _ => r
                        .resolve_char_ref()
                        .expect("valid character reference")
                        .expect("only predefined entities"),
                };
                let i = *aperti.last().expect("reference inside the root");
                nodi[i].testo.push(c);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::CData(_) => {
                panic!("unexpected {evento:?}")
            }
            Event::Comment(_) => {}
        }
    }
    assert!(aperti.is_empty(), "unclosed elements");
    assert_eq!(radici, 1);
    assert_eq!(nodi[0].nome, "svg");
    nodi
}

pub(super) fn testi<'a>(nodi: &'a [Nodo], classe: &str) -> Vec<&'a Nodo> {
    nodi.iter()
        .filter(|n| n.nome == "text" && n.dentro(classe))
        .collect()
}

/// Every number in a coordinate attribute has at most one decimal digit.
pub(super) fn coordinate_brevi(nodi: &[Nodo]) {
    for n in nodi {
        for (k, v) in &n.attributi {
            if [
                "x",
                "y",
                "x1",
                "y1",
                "x2",
                "y2",
                "cx",
                "cy",
                "width",
                "height",
                "points",
                "transform",
                "viewBox",
            ]
            .contains(&k.as_str())
            {
                let numeri = v
                    .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                    .filter(|t| !t.is_empty());
                for t in numeri {
                    let decimali = t.split_once('.').map_or(0, |(_, d)| d.len());
                    assert!(decimali <= 1, "{k}=\"{v}\" in {}", n.nome);
                    assert!(t.parse::<f64>().is_ok(), "{k}=\"{v}\"");
                }
            }
        }
    }
}

pub(super) fn grafico(tipo: TipoGrafico, etichette: &[&str], serie: &[(&str, &[f64])]) -> Grafico {
    Grafico {
        tipo,
        titolo: "Chiamate per periodo".into(),
        asse_x: "Periodo (giorno)".into(),
        asse_y: "Chiamate".into(),
        etichette: etichette.iter().map(|&e| e.to_owned()).collect(),
        serie: serie
            .iter()
            .map(|&(nome, valori)| Serie {
                nome: nome.into(),
                valori: valori.to_vec(),
            })
            .collect(),
        soglia: None,
    }
}

pub(super) fn etichette(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("P{i:04}")).collect()
}

fn tacche_y(nodi: &[Nodo]) -> Vec<String> {
    testi(nodi, "asse-y")
        .iter()
        .map(|n| n.testo.clone())
        .collect()
}

#[test]
fn a_line_chart_with_three_series() {
    let g = grafico(
        TipoGrafico::Linee,
        &["01/05", "02/05", "03/05", "04/05"],
        &[
            ("Lombardia", &[10.0, 20.0, 87.0, 40.0]),
            ("Lazio", &[5.0, 0.0, 12.0, 30.0]),
            ("Altri", &[1.0, 2.0, 3.0, 4.0]),
        ],
    );
    let s = svg(&g, 640, 360);
    let nodi = analizza(&s);
    coordinate_brevi(&nodi);
    let radice = &nodi[0];
    assert_eq!(radice.attr("xmlns"), Some("http://www.w3.org/2000/svg"));
    assert_eq!(radice.attr("role"), Some("img"));
    assert_eq!(radice.attr("width"), Some("640"));
    assert_eq!(radice.attr("height"), Some("360"));
    assert_eq!(radice.attr("font-family"), Some("sans-serif"));
    let titolo = nodi.iter().find(|n| n.nome == "title").unwrap();
    assert_eq!(titolo.testo, "Chiamate per periodo");
    let desc = nodi.iter().find(|n| n.nome == "desc").unwrap();
    assert!(
        desc.testo
            .starts_with("Grafico a linee: 3 serie (Lombardia, Lazio, Altri), 4 periodi"),
        "{}",
        desc.testo
    );
    assert!(desc.testo.contains("massimo 87"), "{}", desc.testo);
    let tutti: Vec<&str> = nodi
        .iter()
        .filter(|n| n.nome == "text")
        .map(|n| n.testo.as_str())
        .collect();
    for atteso in ["Chiamate per periodo", "Periodo (giorno)", "Chiamate"] {
        assert!(tutti.contains(&atteso), "{atteso} missing in {tutti:?}");
    }
    let titolo = nodi
        .iter()
        .find(|n| n.nome == "text" && n.testo == "Chiamate per periodo")
        .unwrap();
    assert_eq!(titolo.attr("font-weight"), Some("bold"));
    let asse_y = nodi
        .iter()
        .find(|n| n.nome == "text" && n.testo == "Chiamate")
        .unwrap();
    assert!(asse_y.attr("transform").unwrap().starts_with("rotate(-90"));

    let linee: Vec<&Nodo> = nodi.iter().filter(|n| n.nome == "polyline").collect();
    assert_eq!(linee.len(), 3);
    let colori: Vec<&str> = linee.iter().map(|n| n.attr("stroke").unwrap()).collect();
    assert_eq!(colori, ["#0072B2", "#E69F00", "#999999"]);
    assert_eq!(linee[0].attr("points").unwrap().split(' ').count(), 4);
    // Markers, with a tooltip.
    let cerchi = nodi.iter().filter(|n| n.nome == "circle").count();
    assert_eq!(cerchi, 12);
    assert!(nodi
        .iter()
        .any(|n| n.nome == "title" && n.testo == "03/05 — Lombardia: 87"));
    // The legend, with the same colours.
    let legenda = testi(&nodi, "legenda");
    let nomi: Vec<&str> = legenda.iter().map(|n| n.testo.as_str()).collect();
    assert_eq!(nomi, ["Lombardia", "Lazio", "Altri"]);
    let campioni: Vec<&str> = nodi
        .iter()
        .filter(|n| n.nome == "rect" && n.dentro("legenda"))
        .map(|n| n.attr("fill").unwrap())
        .collect();
    assert_eq!(campioni, ["#0072B2", "#E69F00", "#999999"]);
    // The legend is under the X axis labels.
    let etichetta_x = testi(&nodi, "asse-x")[0].num("y");
    assert!(legenda.iter().all(|n| n.num("y") > etichetta_x));
    assert_eq!(testi(&nodi, "asse-x").len(), 4);
    assert_eq!(tacche_y(&nodi), ["0", "20", "40", "60", "80", "100"]);
}

#[test]
fn altri_is_grey_and_does_not_use_up_a_colour() {
    let g = grafico(
        TipoGrafico::Linee,
        &["a", "b"],
        &[
            ("Altri", &[1.0, 2.0]),
            ("X", &[1.0, 2.0]),
            ("Y", &[3.0, 4.0]),
        ],
    );
    let nodi = analizza(&svg(&g, 500, 300));
    let colori: Vec<&str> = nodi
        .iter()
        .filter(|n| n.nome == "polyline")
        .map(|n| n.attr("stroke").unwrap())
        .collect();
    assert_eq!(colori, ["#999999", "#0072B2", "#E69F00"]);
    // The palette cycles, without the yellow.
    let nomi: Vec<String> = (0..9).map(|i| format!("S{i}")).collect();
    let serie: Vec<Serie> = nomi
        .iter()
        .map(|n| Serie {
            nome: n.clone(),
            valori: vec![1.0],
        })
        .collect();
    let c = super::serie::colori(&serie);
    assert_eq!(c[7], "#0072B2");
    assert!(!c.contains(&"#F0E442"));
    // A single-series bar chart greys its "Altri" bar.
    let g = grafico(
        TipoGrafico::Barre,
        &["Roma", "Milano", "Altri"],
        &[("Chiamate", &[5.0, 4.0, 9.0])],
    );
    let nodi = analizza(&svg(&g, 500, 300));
    let barre: Vec<&str> = nodi
        .iter()
        .filter(|n| n.nome == "rect" && n.dentro("serie"))
        .map(|n| n.attr("fill").unwrap())
        .collect();
    assert_eq!(barre, ["#0072B2", "#0072B2", "#999999"]);
}

#[test]
fn a_bar_chart_groups_its_series() {
    let g = grafico(
        TipoGrafico::Barre,
        &["Lombardia", "Lazio", "Campania", "Sicilia", "Veneto"],
        &[
            ("Chiamate", &[1200.0, 800.0, 0.0, 450.0, 300.0]),
            ("di cui rifiutate", &[30.0, 12.0, 0.0, 7.0, 0.0]),
        ],
    );
    let s = svg(&g, 640, 360);
    let nodi = analizza(&s);
    coordinate_brevi(&nodi);
    let barre: Vec<&Nodo> = nodi
        .iter()
        .filter(|n| n.nome == "rect" && n.dentro("serie"))
        .collect();
    assert_eq!(barre.len(), 10);
    assert!(nodi.iter().all(|n| n.nome != "polyline"));
    // Side by side: the second series' bar right of the first, the same baseline.
    let (a, b) = (barre[0], barre[5]);
    assert!(b.num("x") >= a.num("x") + a.num("width"));
    let base = |n: &Nodo| n.num("y") + n.num("height");
    assert!((base(a) - base(b)).abs() < 0.11);
    // A zero is a bar of no height at the baseline.
    assert_eq!(barre[2].num("height"), 0.0);
    assert!((barre[0].num("height") / barre[1].num("height") - 1.5).abs() < 0.01);
    assert_eq!(
        tacche_y(&nodi),
        ["0", "200", "400", "600", "800", "1.000", "1.200"]
    );
    assert!(desc(&nodi).starts_with("Grafico a barre: 2 serie"));
    assert!(desc(&nodi).contains("5 voci, massimo 1.200."));
    let etichette: Vec<&str> = testi(&nodi, "asse-x")
        .iter()
        .map(|n| n.testo.as_str())
        .collect();
    assert_eq!(etichette.first(), Some(&"Lombardia"));
    assert_eq!(etichette.last(), Some(&"Veneto"));
}

fn desc(nodi: &[Nodo]) -> &str {
    &nodi.iter().find(|n| n.nome == "desc").unwrap().testo
}

#[test]
fn an_empty_chart_says_so() {
    let mut g = grafico(TipoGrafico::Linee, &[], &[("A", &[])]);
    let casi = [
        g.clone(),
        grafico(TipoGrafico::Barre, &["a", "b"], &[]),
        grafico(
            TipoGrafico::Linee,
            &["a", "b"],
            &[("A", &[f64::NAN, f64::NAN])],
        ),
        grafico(TipoGrafico::Barre, &["a"], &[("A", &[])]),
    ];
    for g in &casi {
        let nodi = analizza(&svg(g, 640, 360));
        let testi: Vec<&str> = nodi
            .iter()
            .filter(|n| n.nome == "text")
            .map(|n| n.testo.as_str())
            .collect();
        assert_eq!(testi, ["Chiamate per periodo", NESSUN_DATO]);
        let messaggio = nodi.iter().find(|n| n.testo == NESSUN_DATO).unwrap();
        assert_eq!(messaggio.num("x"), 320.0);
        assert_eq!(messaggio.num("y"), 180.0);
        assert_eq!(desc(&nodi), "Nessun dato nel periodo.");
        assert!(nodi
            .iter()
            .all(|n| n.nome != "polyline" && n.nome != "line"));
    }
    g.titolo.clear();
    let nodi = analizza(&svg(&g, 640, 360));
    assert_eq!(nodi.iter().filter(|n| n.nome == "text").count(), 1);
    assert_eq!(
        nodi.iter().find(|n| n.nome == "title").unwrap().testo,
        "Grafico"
    );
}

#[test]
fn every_text_is_escaped() {
    let brutta = r#"<script>&amp;"'</svg>"#;
    let mut g = grafico(
        TipoGrafico::Barre,
        &[brutta, "10.0.0.1", "a\u{1}b\nc"],
        &[(brutta, &[1.0, 2.0, 3.0]), ("<&>", &[3.0, 2.0, 1.0])],
    );
    g.titolo = format!("Titolo {brutta}");
    g.asse_x = brutta.into();
    g.asse_y = "<&>\"'".into();
    g.soglia = Some((2.5, brutta.into()));
    for tipo in [TipoGrafico::Barre, TipoGrafico::Linee] {
        g.tipo = tipo;
        let s = svg(&g, 800, 400);
        assert!(!s.contains("<script"));
        let nodi = analizza(&s);
        coordinate_brevi(&nodi);
        let testi: Vec<&str> = nodi.iter().map(|n| n.testo.as_str()).collect();
        assert!(testi.contains(&format!("Titolo {brutta}").as_str()));
        assert!(testi.contains(&brutta), "{testi:?}");
        assert!(testi.contains(&"<&>\"'"));
        assert!(testi.contains(&"<&>"));
        assert!(testi.contains(&"a\u{FFFD}b c"), "{testi:?}");
        assert!(desc(&nodi).contains(brutta));
    }
}
#[test]
fn the_threshold_is_a_dashed_red_line_within_the_plot() {
    let mut g = grafico(
        TipoGrafico::Linee,
        &["a", "b", "c"],
        &[("Chiamate", &[10.0, 50.0, 30.0])],
    );
    g.soglia = Some((120.0, "Soglia di allarme".into()));
    let nodi = analizza(&svg(&g, 600, 300));
    let linea = nodi
        .iter()
        .find(|n| n.attr("class") == Some("soglia"))
        .expect("threshold line");
    assert_eq!(linea.attr("stroke"), Some(ROSSO_SOGLIA));
    assert!(linea.attr("stroke-dasharray").is_some());
    let griglia: Vec<f64> = nodi
        .iter()
        .filter(|n| n.nome == "line" && n.dentro("asse-y"))
        .map(|n| n.num("y1"))
        .collect();
    let (alto, basso) = (
        griglia.iter().copied().fold(f64::MAX, f64::min),
        griglia.iter().copied().fold(f64::MIN, f64::max),
    );
    let y = linea.num("y1");
    assert!(alto <= y && y <= basso, "{alto} {y} {basso}");
    assert_eq!(linea.num("y1"), linea.num("y2"));
    // The scale includes the threshold, above every value.
    assert_eq!(tacche_y(&nodi).last().unwrap(), "120");
    let etichetta = nodi
        .iter()
        .find(|n| n.testo == "Soglia di allarme")
        .unwrap();
    assert_eq!(etichetta.attr("text-anchor"), Some("end"));
    assert!(etichetta.num("x") > 500.0);
    assert!(desc(&nodi).ends_with("Soglia: 120 (Soglia di allarme)."));
    // A threshold that is not a number is ignored.
    g.soglia = Some((f64::NAN, "x".into()));
    let nodi = analizza(&svg(&g, 600, 300));
    assert!(nodi.iter().all(|n| n.attr("class") != Some("soglia")));
}
#[test]
fn gaps_and_odd_values() {
    let g = grafico(
        TipoGrafico::Linee,
        &["a", "b", "c", "d", "e", "f"],
        &[
            ("A", &[1.0, f64::NAN, 3.0, 4.0, f64::INFINITY, 2.0]),
            ("B", &[0.0, 0.0]),
        ],
    );
    let nodi = analizza(&svg(&g, 600, 300));
    coordinate_brevi(&nodi);
    // A: [1] [3, 4] [2]: one polyline, the isolated points as markers; B: one polyline.
    let linee: Vec<&Nodo> = nodi.iter().filter(|n| n.nome == "polyline").collect();
    assert_eq!(linee.len(), 2);
    assert_eq!(linee[0].attr("points").unwrap().split(' ').count(), 2);
    assert_eq!(nodi.iter().filter(|n| n.nome == "circle").count(), 4 + 2);
    assert!(desc(&nodi).contains("massimo 4."));

    // Isolated points in a long series still show.
    let mut valori = vec![f64::NAN; 100];
    valori[50] = 7.0;
    let e = etichette(100);
    let g = Grafico {
        etichette: e,
        serie: vec![Serie {
            nome: "A".into(),
            valori,
        }],
        ..grafico(TipoGrafico::Linee, &[], &[])
    };
    let nodi = analizza(&svg(&g, 600, 300));
    assert_eq!(nodi.iter().filter(|n| n.nome == "circle").count(), 1);

    // All zero: a flat line at the bottom of a 0–5 scale.
    let g = grafico(TipoGrafico::Barre, &["a", "b"], &[("A", &[0.0, 0.0])]);
    let nodi = analizza(&svg(&g, 600, 300));
    assert_eq!(tacche_y(&nodi), ["0", "1", "2", "3", "4", "5"]);

    // A single label: one point or bar, its label once.
    for tipo in [TipoGrafico::Linee, TipoGrafico::Barre] {
        let g = grafico(tipo, &["Giugno 2024"], &[("A", &[42.0])]);
        let nodi = analizza(&svg(&g, 400, 250));
        let x = testi(&nodi, "asse-x");
        assert_eq!(x.len(), 1);
        assert_eq!(x[0].testo, "Giugno 2024");
        let segni = nodi
            .iter()
            .filter(|n| (n.nome == "rect" || n.nome == "circle") && n.dentro("serie"))
            .count();
        assert_eq!(segni, 1);
        assert!(desc(&nodi).contains(", 1 "), "{}", desc(&nodi));
    }

    // Huge, infinite and negative values, silly sizes: no panic, well formed.
    let strani: &[f64] = &[f64::MAX, -f64::MAX, f64::NEG_INFINITY, 1e300, -5.0, 5e-324];
    for tipo in [TipoGrafico::Linee, TipoGrafico::Barre] {
        let mut g = grafico(tipo, &["a", "b", "c", "d", "e", "f"], &[("A", strani)]);
        g.soglia = Some((f64::MAX, "max".into()));
        for (w, h) in [(0, 0), (1, 1), (u32::MAX, u32::MAX), (240, 160)] {
            let nodi = analizza(&svg(&g, w, h));
            coordinate_brevi(&nodi);
        }
    }
}
