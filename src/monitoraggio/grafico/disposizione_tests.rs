//! Tests of the layout: X labels thinned, kept apart, rotated and shortened; the legend in rows.

use super::super::testo::larghezza_testo;
use super::super::tests::{analizza, coordinate_brevi, etichette, grafico, testi};
use super::super::{svg, MAX_CAR_RUOTATA, PASSO_RUOTATE, PX_CARATTERE};
use crate::monitoraggio::modello::{Grafico, Serie, TipoGrafico};

#[test]
fn a_thousand_labels_are_thinned() {
    let e = etichette(1000);
    let valori: Vec<f64> = (0..1000).map(|i| f64::from(i % 37)).collect();
    for tipo in [TipoGrafico::Linee, TipoGrafico::Barre] {
        for larghezza in [240u32, 640, 1200] {
            let g = Grafico {
                tipo,
                titolo: "Mille".into(),
                asse_x: "Periodo".into(),
                asse_y: "Chiamate".into(),
                etichette: e.clone(),
                serie: vec![
                    Serie {
                        nome: "A".into(),
                        valori: valori.clone(),
                    },
                    Serie {
                        nome: "B".into(),
                        valori: valori.iter().map(|v| v * 2.0).collect(),
                    },
                ],
                soglia: None,
            };
            let s = svg(&g, larghezza, 400);
            let nodi = analizza(&s);
            coordinate_brevi(&nodi);
            let x = testi(&nodi, "asse-x");
            assert!(
                x.len() as f64 <= f64::from(larghezza) / 20.0,
                "{tipo:?} {larghezza}: {} labels",
                x.len()
            );
            assert_eq!(x.first().unwrap().testo, "P0000");
            assert_eq!(x.last().unwrap().testo, "P0999");
            // Rotated, evenly spaced far enough apart.
            assert!(x[0].attr("transform").unwrap().starts_with("rotate(-45"));
            let xs: Vec<f64> = x.iter().map(|n| n.num("x")).collect();
            assert!(xs.windows(2).all(|w| w[1] - w[0] >= PASSO_RUOTATE - 0.2));
            if tipo == TipoGrafico::Linee {
                assert!(nodi.iter().all(|n| n.nome != "circle"));
            } else {
                let barre = nodi
                    .iter()
                    .filter(|n| n.nome == "rect" && n.dentro("serie"))
                    .count();
                assert_eq!(barre, 2000);
            }
        }
    }
}

#[test]
fn flat_labels_do_not_overlap() {
    for n in [1usize, 2, 7, 31, 90] {
        let e: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        let g = Grafico {
            tipo: TipoGrafico::Linee,
            titolo: String::new(),
            asse_x: String::new(),
            asse_y: String::new(),
            etichette: e.clone(),
            serie: vec![Serie {
                nome: "A".into(),
                valori: vec![3.0; n],
            }],
            soglia: None,
        };
        let nodi = analizza(&svg(&g, 400, 250));
        let x = testi(&nodi, "asse-x");
        assert_eq!(x.first().unwrap().testo, "1");
        assert_eq!(x.last().unwrap().testo, n.to_string());
        assert!(x.iter().all(|n| n.attr("transform").is_none()));
        for w in x.windows(2) {
            let spazio = w[1].num("x") - w[0].num("x");
            let serve = (larghezza_testo(&w[0].testo) + larghezza_testo(&w[1].testo)) / 2.0;
            assert!(spazio >= serve, "{n}: {} {}", w[0].testo, w[1].testo);
        }
        // No title, no axis titles, no legend for a single series.
        assert_eq!(
            nodi.iter()
                .filter(|n| n.nome == "text" && !n.dentro("asse-x") && !n.dentro("asse-y"))
                .count(),
            0
        );
    }
}

#[test]
fn long_labels_are_rotated_and_shortened() {
    let lunga = "Azienda Sanitaria Locale Roma 1 — Presidio Ospedaliero";
    let g = grafico(
        TipoGrafico::Barre,
        &[lunga, "Breve", lunga],
        &[("Chiamate", &[1.0, 2.0, 3.0])],
    );
    let nodi = analizza(&svg(&g, 400, 300));
    let x = testi(&nodi, "asse-x");
    assert_eq!(x.len(), 3);
    assert!(x[0].attr("transform").unwrap().starts_with("rotate(-45"));
    assert_eq!(x[0].testo.chars().count(), MAX_CAR_RUOTATA);
    assert!(x[0].testo.ends_with('…'));
    assert_eq!(x[1].testo, "Breve");
    assert!(nodi.iter().any(|n| n.nome == "title" && n.testo == lunga));
    assert!(x[0].num("x") - x[0].testo.chars().count() as f64 * PX_CARATTERE * 0.71 > 0.0);
}

#[test]
fn the_legend_wraps_into_rows() {
    let nomi: Vec<String> = (0..12).map(|i| format!("Regione numero {i}")).collect();
    let serie: Vec<Serie> = nomi
        .iter()
        .map(|n| Serie {
            nome: n.clone(),
            valori: vec![1.0, 2.0],
        })
        .collect();
    let g = Grafico {
        serie: serie.clone(),
        ..grafico(TipoGrafico::Linee, &["a", "b"], &[])
    };
    let nodi = analizza(&svg(&g, 640, 600));
    let legenda = testi(&nodi, "legenda");
    assert_eq!(legenda.len(), 12);
    let mut righe: Vec<i64> = legenda.iter().map(|n| n.num("y") as i64).collect();
    righe.dedup();
    assert!(righe.len() > 1);
    assert!(legenda
        .iter()
        .all(|n| n.num("x") + larghezza_testo(&n.testo) <= 640.0));
    // Too many for the room: the last ones are counted instead.
    let molte: Vec<Serie> = (0..200)
        .map(|i| Serie {
            nome: format!("Chiamante {i}"),
            valori: vec![1.0, 2.0],
        })
        .collect();
    let g = Grafico {
        serie: molte,
        ..grafico(TipoGrafico::Barre, &["a", "b"], &[])
    };
    let nodi = analizza(&svg(&g, 640, 360));
    let legenda = testi(&nodi, "legenda");
    let ultima = legenda.last().unwrap();
    assert!(ultima.testo.starts_with("e altre "), "{}", ultima.testo);
    let altre: usize = ultima.testo["e altre ".len()..]
        .trim_end_matches(" serie")
        .parse()
        .unwrap();
    assert_eq!(legenda.len() - 1 + altre, 200);
    assert!(legenda.iter().all(|n| n.num("y") <= 360.0));
}
