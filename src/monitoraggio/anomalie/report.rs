//! The misuse report: the regions' calls per 1,000 patients, the flags with their evidence, the client IPs' shares.

use super::{
    analizza, dec1, giorni, per_mille, UsoIp, MEDIANA, SOGLIA_GIORNALIERA, SOGLIA_SETTIMANALE,
};
use crate::config::MonitoraggioConfig;
use crate::monitoraggio::modello::{Cella, Grafico, Report, Serie, Sezione, Tabella, TipoGrafico};
use crate::monitoraggio::quota;
use crate::monitoraggio::richiesta::{Granularita, Richiesta};
use diesel::prelude::*;
use std::collections::HashMap;

fn tipo_testo(t: &str) -> &'static str {
    match t {
        SOGLIA_GIORNALIERA => "Soglia giornaliera superata",
        SOGLIA_SETTIMANALE => "Soglia settimanale superata",
        MEDIANA => "Salto rispetto alla mediana",
        _ => "IP nuovo",
    }
}

pub fn report(
    conn: &mut PgConnection,
    cfg: &MonitoraggioConfig,
    r: &Richiesta,
) -> QueryResult<Report> {
    // (`monitoraggio::report` narrowed the request to the asker's scope.)
    let mut r = r.clone();
    // Misuse is judged per day and per week, whatever the granularity asked.
    r.granularita = Granularita::Giorno;
    let e = analizza(conn, cfg, &r)?;
    let nome = |c: &str| e.regioni.get(c).cloned().unwrap_or_else(|| c.to_owned());
    let giorni_periodo = giorni(r.da, r.a, 1);

    // Regions: per mille per day, the regions with the highest peak drawn.
    let mut codici: Vec<&String> = e.giornaliere.keys().collect();
    codici.sort();
    struct Riassunto {
        codice: String,
        chiamate: i64,
        picco_g: Option<f64>,
        picco_s: Option<f64>,
        segnalazioni: usize,
    }
    let lunedi = Granularita::Settimana.inizio(r.da);
    let riassunti: Vec<Riassunto> = codici
        .iter()
        .map(|c| {
            let a = e.assistiti.get(*c).copied().unwrap_or(0);
            let g = &e.giornaliere[*c];
            let chiamate: i64 = g.range(r.da..=r.a).map(|(_, n)| n).sum();
            let picco_g = g
                .range(r.da..=r.a)
                .filter_map(|(_, &n)| per_mille(n, a))
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
            let picco_s = e.settimanali.get(*c).and_then(|s| {
                s.range(lunedi..=r.a)
                    .filter_map(|(_, &n)| per_mille(n, a))
                    .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
            });
            Riassunto {
                codice: (*c).clone(),
                chiamate,
                picco_g,
                picco_s,
                segnalazioni: e
                    .segnalazioni
                    .iter()
                    .filter(|s| &s.regione == *c && s.chiamante.is_none())
                    .count(),
            }
        })
        .filter(|x| x.chiamate > 0)
        .collect();
    let mut disegnate: Vec<&Riassunto> = riassunti.iter().collect();
    disegnate.sort_by(|a, b| {
        b.picco_g
            .unwrap_or(f64::INFINITY)
            .total_cmp(&a.picco_g.unwrap_or(f64::INFINITY))
            .then_with(|| a.codice.cmp(&b.codice))
    });
    disegnate.truncate(cfg.top.min(8));
    let serie = disegnate
        .iter()
        .map(|x| {
            let a = e.assistiti.get(&x.codice).copied().unwrap_or(0);
            let g = &e.giornaliere[&x.codice];
            Serie {
                nome: nome(&x.codice),
                valori: giorni_periodo
                    .iter()
                    .map(|d| per_mille(g.get(d).copied().unwrap_or(0), a).unwrap_or(f64::NAN))
                    .collect(),
            }
        })
        .collect();
    let sezione_regioni = Sezione {
        id: "regioni",
        titolo: "Chiamate delle regioni in rapporto agli assistiti".into(),
        grafico: Some(Grafico {
            tipo: TipoGrafico::Linee,
            titolo: format!(
                "Chiamate giornaliere ogni 1.000 assistiti della regione chiamante, {}",
                r.periodo_testo()
            ),
            asse_x: "Giorno".into(),
            asse_y: "Chiamate ogni 1.000 assistiti".into(),
            etichette: giorni_periodo
                .iter()
                .map(|d| d.format("%d/%m/%Y").to_string())
                .collect(),
            serie,
            soglia: Some((
                cfg.soglia_giornaliera_per_mille,
                format!("soglia {}", dec1(cfg.soglia_giornaliera_per_mille)),
            )),
        }),
        tabella: Tabella {
            intestazione: vec![
                "Regione chiamante".into(),
                "Assistiti".into(),
                "Chiamate nel periodo".into(),
                "Massimo giornaliero ‰".into(),
                "Massimo settimanale ‰".into(),
                "Segnalazioni".into(),
            ],
            righe: riassunti
                .iter()
                .map(|x| {
                    let dec =
                        |v: Option<f64>| v.map_or(Cella::testo("—"), |v| Cella::decimale(v, 2));
                    vec![
                        Cella::testo(nome(&x.codice)),
                        Cella::Intero(e.assistiti.get(&x.codice).copied().unwrap_or(0)),
                        Cella::Intero(x.chiamate),
                        dec(x.picco_g),
                        dec(x.picco_s),
                        Cella::Intero(x.segnalazioni as i64),
                    ]
                })
                .collect(),
        },
    };

    let dec = |v: Option<f64>, cifre| match v {
        Some(v) if v.is_finite() => Cella::decimale(v, cifre),
        Some(_) => Cella::testo("∞"),
        None => Cella::testo(""),
    };
    let sezione_segnalazioni = Sezione {
        id: "segnalazioni",
        titolo: format!("Segnalazioni ({})", e.segnalazioni.len()),
        grafico: None,
        tabella: Tabella {
            intestazione: vec![
                "Tipo".into(),
                "Regione".into(),
                "Chiamante".into(),
                "IP client".into(),
                "Dal".into(),
                "Al".into(),
                "Chiamate".into(),
                "Assistiti".into(),
                "Valore".into(),
                "Soglia".into(),
                "Mediana".into(),
                "Evidenza".into(),
            ],
            righe: e
                .segnalazioni
                .iter()
                .map(|s| {
                    vec![
                        Cella::testo(tipo_testo(s.tipo)),
                        Cella::testo(if s.regione.is_empty() {
                            "Nazionale".to_owned()
                        } else {
                            nome(&s.regione)
                        }),
                        Cella::testo(s.chiamante.clone().unwrap_or_default()),
                        Cella::testo(s.ip.clone().unwrap_or_default()),
                        Cella::testo(s.da.format("%d/%m/%Y").to_string()),
                        Cella::testo(s.a.format("%d/%m/%Y").to_string()),
                        Cella::Intero(s.chiamate),
                        s.assistiti.map_or(Cella::testo(""), Cella::Intero),
                        dec(s.valore, 2),
                        dec(s.soglia, 1),
                        dec(s.mediana, 1),
                        Cella::Link {
                            testo: s.motivo.clone(),
                            href: s.href(),
                        },
                    ]
                })
                .collect(),
        },
    };

    // Client IPs: the share of their caller's calls, the new ones marked.
    let mut per_chiamante: HashMap<&str, i64> = HashMap::new();
    for u in &e.ip {
        *per_chiamante.entry(u.chiamante.as_str()).or_default() += u.nel_periodo;
    }
    let mut ip: Vec<&UsoIp> = e.ip.iter().filter(|u| u.nel_periodo > 0).collect();
    ip.sort_by(|a, b| {
        b.nel_periodo
            .cmp(&a.nel_periodo)
            .then_with(|| (&a.chiamante, &a.ip).cmp(&(&b.chiamante, &b.ip)))
    });
    let quota_di = |u: &UsoIp| {
        quota(
            u.nel_periodo,
            per_chiamante
                .get(u.chiamante.as_str())
                .copied()
                .unwrap_or(0),
        )
    };
    let disegnati: Vec<&&UsoIp> = ip.iter().take(cfg.top).collect();
    let sezione_ip = Sezione {
        id: "ip",
        titolo: "IP client: quota delle chiamate del proprio chiamante".into(),
        grafico: Some(Grafico {
            tipo: TipoGrafico::Barre,
            titolo: format!(
                "Quota delle chiamate del chiamante per IP client (i {} con più chiamate), {}",
                disegnati.len(),
                r.periodo_testo()
            ),
            asse_x: "IP client (chiamante)".into(),
            asse_y: "Quota %".into(),
            etichette: disegnati
                .iter()
                .map(|u| format!("{} ({})", u.ip, u.chiamante))
                .collect(),
            serie: vec![Serie {
                nome: "Quota %".into(),
                valori: disegnati.iter().map(|u| quota_di(u)).collect(),
            }],
            soglia: None,
        }),
        tabella: Tabella {
            intestazione: vec![
                "IP client".into(),
                "Chiamante".into(),
                "Regione".into(),
                "Chiamate nel periodo".into(),
                "Quota del chiamante %".into(),
                "Primo uso".into(),
                "Nuovo".into(),
            ],
            righe: ip
                .iter()
                .map(|u| {
                    vec![
                        Cella::testo(u.ip.clone()),
                        Cella::testo(u.chiamante.clone()),
                        Cella::testo(if u.regione.is_empty() {
                            "Nazionale".to_owned()
                        } else {
                            nome(&u.regione)
                        }),
                        Cella::Intero(u.nel_periodo),
                        Cella::decimale(quota_di(u), 1),
                        Cella::testo(
                            u.primo
                                .map(|d| d.format("%d/%m/%Y").to_string())
                                .unwrap_or_default(),
                        ),
                        Cella::testo(if u.nuovo(r.da) { "sì" } else { "no" }),
                    ]
                })
                .collect(),
        },
    };
    Ok(Report {
        tipo: "anomalie",
        titolo: format!("Usi impropri: segnalazioni {}", r.periodo_testo()),
        da: r.da.format("%Y-%m-%d").to_string(),
        a: r.a.format("%Y-%m-%d").to_string(),
        periodo: r.periodo_testo(),
        note: vec![format!(
            "Soglie: {} chiamate al giorno e {} alla settimana ogni 1.000 assistiti; salto: oltre {} volte la mediana dei {} giorni (delle {} settimane) precedenti, da {} chiamate; IP nuovo: mai usato prima dal chiamante.",
            dec1(cfg.soglia_giornaliera_per_mille),
            dec1(cfg.soglia_settimanale_per_mille),
            dec1(cfg.fattore_mediana),
            cfg.finestra_mediana_giorni,
            (cfg.finestra_mediana_giorni / 7).max(4),
            cfg.minimo_chiamate,
        )],
        sezioni: vec![sezione_regioni, sezione_segnalazioni, sezione_ip],
    })
}
