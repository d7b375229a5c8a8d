//! The vaccination data transmitted: bookings and administrations written per period, by region
//! of booking / of administration, web service and bulk file apart (`mon_vaccinazioni`).

use super::modello::{Cella, Grafico, Report, Serie, Sezione, Tabella, TipoGrafico};
use super::richiesta::{Granularita, Richiesta};
use super::{nomi_regioni, periodi, primi, sezione_serie, SerieTemporale, ALTRI};
use crate::config::MonitoraggioConfig;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamptz};
use std::collections::HashMap;

#[derive(Debug, Clone, QueryableByName)]
pub struct Riga {
    #[diesel(sql_type = Timestamptz)]
    pub periodo: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub regione: String,
    #[diesel(sql_type = Text)]
    pub tipo: String,
    #[diesel(sql_type = Text)]
    pub canale: String,
    #[diesel(sql_type = BigInt)]
    pub numero: i64,
    #[diesel(sql_type = BigInt)]
    pub cancellazioni: i64,
}

/// The four measures, in the order of the columns.
const MISURE: [(&str, &str, &str); 4] = [
    ("PRENOTAZIONE", "WS", "Prenotazioni (web service)"),
    ("PRENOTAZIONE", "FLUSSO", "Prenotazioni (flusso massivo)"),
    ("SOMMINISTRAZIONE", "WS", "Somministrazioni (web service)"),
    (
        "SOMMINISTRAZIONE",
        "FLUSSO",
        "Somministrazioni (flusso massivo)",
    ),
];

fn misura(tipo: &str, canale: &str) -> Option<usize> {
    MISURE
        .iter()
        .position(|(t, c, _)| *t == tipo && *c == canale)
}

pub fn righe(conn: &mut PgConnection, r: &Richiesta) -> QueryResult<Vec<Riga>> {
    diesel::sql_query(
        "SELECT mon_periodo($1, giorno::timestamp AT TIME ZONE 'Europe/Rome') AS periodo, regione, \
                tipo, canale, sum(numero)::int8 AS numero, \
                coalesce(sum(numero) FILTER (WHERE operazione = 'CANCELLAZIONE'), 0)::int8 AS cancellazioni \
         FROM mon_vaccinazioni \
         WHERE giorno BETWEEN $2 AND $3 AND ($4::text IS NULL OR regione = $4) \
         GROUP BY 1, 2, 3, 4",
    )
    .bind::<Text, _>(r.granularita.as_str())
    .bind::<Date, _>(r.da)
    .bind::<Date, _>(r.a)
    .bind::<Nullable<Text>, _>(r.filtro.regione.as_deref())
    .load(conn)
}

pub fn report(
    conn: &mut PgConnection,
    cfg: &MonitoraggioConfig,
    r: &Richiesta,
) -> QueryResult<Report> {
    let righe = righe(conn, r)?;
    let periodi = periodi(conn, r.granularita, r.da, r.a)?;
    let regioni = nomi_regioni(conn)?;
    let indice: HashMap<DateTime<Utc>, usize> = periodi
        .iter()
        .enumerate()
        .map(|(i, p)| (p.inizio, i))
        .collect();

    let mut serie = [(); 4].map(|_| vec![0i64; periodi.len()]);
    let mut per_regione: HashMap<String, ([i64; 4], i64)> = HashMap::new();
    let mut totali: HashMap<String, i64> = HashMap::new();
    for riga in &righe {
        let Some(m) = misura(&riga.tipo, &riga.canale) else {
            continue;
        };
        if let Some(&p) = indice.get(&riga.periodo) {
            serie[m][p] += riga.numero;
        }
        let e = per_regione.entry(riga.regione.clone()).or_default();
        e.0[m] += riga.numero;
        e.1 += riga.cancellazioni;
        *totali.entry(riga.regione.clone()).or_default() += riga.numero;
    }

    let unita = match r.granularita {
        Granularita::Settimana => "settimana (dal lunedì)",
        Granularita::Mese => "mese",
        _ => "giorno",
    };
    let titolo = format!(
        "Prenotazioni e somministrazioni trasmesse, granularità {}, {}",
        r.granularita.aggettivo(),
        r.periodo_testo()
    );

    let misure: Vec<String> = MISURE.iter().map(|m| m.2.to_owned()).collect();
    let sezione_serie = sezione_serie(
        format!("Trasmissioni per {unita}"),
        titolo.clone(),
        unita,
        "Record trasmessi",
        SerieTemporale {
            periodi: &periodi,
            colonne: &misure,
            linee: &misure,
            valori: &serie,
        },
    );

    // By region: the first `top`, the rest summed.
    let (primi, resto) = primi(&totali, cfg.top);
    let mut gruppi: Vec<(String, [i64; 4], i64)> = primi
        .iter()
        .map(|g| {
            let (m, c) = per_regione.get(g).copied().unwrap_or_default();
            (regioni.get(g).cloned().unwrap_or_else(|| g.clone()), m, c)
        })
        .collect();
    if !resto.is_empty() {
        let mut m = [0i64; 4];
        let mut c = 0;
        for g in &resto {
            if let Some((mg, cg)) = per_regione.get(g) {
                for i in 0..4 {
                    m[i] += mg[i];
                }
                c += cg;
            }
        }
        gruppi.push((format!("{ALTRI} ({})", resto.len()), m, c));
    }
    let mut righe_regioni: Vec<Vec<Cella>> = gruppi
        .iter()
        .map(|(nome, m, c)| {
            let mut riga = vec![Cella::testo(nome.clone())];
            riga.extend(m.iter().map(|&x| Cella::Intero(x)));
            riga.push(Cella::Intero(*c));
            riga.push(Cella::Intero(m.iter().sum()));
            riga
        })
        .collect();
    let mut tot = [0i64; 4];
    let mut tot_c = 0;
    for (_, m, c) in &gruppi {
        for i in 0..4 {
            tot[i] += m[i];
        }
        tot_c += c;
    }
    let mut riga_tot = vec![Cella::testo("Totale")];
    riga_tot.extend(tot.iter().map(|&x| Cella::Intero(x)));
    riga_tot.push(Cella::Intero(tot_c));
    riga_tot.push(Cella::Intero(tot.iter().sum()));
    righe_regioni.push(riga_tot);
    let mut intestazione = vec!["Regione di prenotazione / somministrazione".to_owned()];
    intestazione.extend(MISURE.iter().map(|m| m.2.to_owned()));
    intestazione.push("di cui cancellazioni".into());
    intestazione.push("Totale".into());
    let sezione_regioni = Sezione {
        id: "regioni",
        titolo: "Trasmissioni per regione nel periodo".into(),
        grafico: Some(Grafico {
            tipo: TipoGrafico::Barre,
            titolo: format!("Record trasmessi per regione, {}", r.periodo_testo()),
            asse_x: "Regione".into(),
            asse_y: "Record trasmessi".into(),
            etichette: gruppi.iter().map(|g| g.0.clone()).collect(),
            serie: vec![
                Serie {
                    nome: "Prenotazioni".into(),
                    valori: gruppi.iter().map(|g| (g.1[0] + g.1[1]) as f64).collect(),
                },
                Serie {
                    nome: "Somministrazioni".into(),
                    valori: gruppi.iter().map(|g| (g.1[2] + g.1[3]) as f64).collect(),
                },
            ],
            soglia: None,
        }),
        tabella: Tabella {
            intestazione,
            righe: righe_regioni,
        },
    };
    let mut note = vec![
        "Ogni inserimento, variazione o cancellazione registrata è un record trasmesso, contato \
         nel giorno in cui è stato registrato (ora italiana); i reinvii idempotenti non sono contati."
            .to_owned(),
    ];
    if let Some(reg) = &r.filtro.regione {
        note.push(format!(
            "Filtri: regione {}.",
            regioni.get(reg).map_or(reg.as_str(), String::as_str)
        ));
    }
    Ok(Report {
        tipo: "vaccinazioni",
        titolo,
        da: r.da.format("%Y-%m-%d").to_string(),
        a: r.a.format("%Y-%m-%d").to_string(),
        periodo: r.periodo_testo(),
        note,
        sezioni: vec![sezione_serie, sezione_regioni],
    })
}
