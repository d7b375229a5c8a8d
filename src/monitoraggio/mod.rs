//! Monitoring of the services and misuse analysis (decree annex A 7.4, 7.7).
//!
//! The access log and the vaccination writes are counted by PostgreSQL triggers into aggregate
//! tables in the same transaction as the rows they count (migration `monitoraggio`); this module
//! keeps those tables (merging deltas, retention, rebuilding from the log) and reads them into
//! reports: the traffic, the vaccination data transmitted and the misuse flags. A report is a
//! `modello::Report` — sections of a chart and a table — shown by the portal and the CLI and
//! exported as CSV and JSON.

pub mod aggregati;
pub mod anomalie;
pub mod cli;
pub mod esporta;
pub mod grafico;
pub mod modello;
pub mod richiesta;
pub mod traffico;
pub mod vaccinazioni;

pub use modello::{Cella, Grafico, Report, Serie, Sezione, Tabella, TipoGrafico};
pub use richiesta::{Ambito, Dimensione, Filtro, Granularita, Richiesta, TipoReport};

use crate::config::MonitoraggioConfig;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Date, Text, Timestamptz};
use std::collections::HashMap;

/// The name of a group that sums every group after the first `top`.
pub const ALTRI: &str = "Altri";

/// The report `r` asks for, within `ambito` (see `Ambito::applica`: the caller refuses a
/// request for another region's figures before calling this).
pub fn report(
    conn: &mut PgConnection,
    cfg: &MonitoraggioConfig,
    ambito: &Ambito,
    r: &Richiesta,
) -> QueryResult<Report> {
    // The scope narrows whatever the caller checked before (a safety net: callers refuse a
    // request for another region rather than narrowing it silently).
    let mut r = r.clone();
    if let Some(regione) = &ambito.regione {
        r.filtro.regione = Some(regione.clone());
    }
    let r = &r;
    conn.transaction(|conn| {
        // A year of daily aggregates grouped by caller hashes in memory rather than sorting.
        diesel::sql_query("SET LOCAL work_mem = '32MB'").execute(conn)?;
        match r.tipo {
            TipoReport::Traffico => traffico::report(conn, cfg, r),
            TipoReport::Vaccinazioni => vaccinazioni::report(conn, cfg, r),
            TipoReport::Anomalie => anomalie::report(conn, cfg, r),
        }
    })
}

/// The open misuse flags, per kind, after a run of the periodic job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatoSegnalazioni {
    pub per_tipo: Vec<(&'static str, i64)>,
}

impl StatoSegnalazioni {
    pub fn totale(&self) -> i64 {
        self.per_tipo.iter().map(|(_, n)| n).sum()
    }
}

/// The monitoring job (every `monitoraggio.intervallo_secs`): merges the aggregates' deltas,
/// refreshes the patients per region, and counts the misuse flags open today and this week
/// (every region; for the metrics and the alerts).
pub fn lavoro_periodico(
    conn: &mut PgConnection,
    cfg: &MonitoraggioConfig,
) -> Result<StatoSegnalazioni, aggregati::ErroreAggregati> {
    let rimosse = aggregati::compatta(conn)?;
    if rimosse > 0 {
        tracing::debug!(rows = rimosse, "monitoring deltas merged");
    }
    aggregati::aggiorna_assistiti(conn)?;
    let oggi = crate::domain::tempo::oggi_roma();
    let r = Richiesta::new(
        TipoReport::Anomalie,
        oggi,
        oggi,
        Granularita::Giorno,
        Dimensione::Regione,
        Filtro::default(),
    )
    .map_err(aggregati::ErroreAggregati::Periodo)?;
    let esame = anomalie::analizza(conn, cfg, &r)?;
    let per_tipo = [
        anomalie::SOGLIA_GIORNALIERA,
        anomalie::SOGLIA_SETTIMANALE,
        anomalie::MEDIANA,
        anomalie::IP_NUOVO,
    ]
    .into_iter()
    .map(|t| {
        let n = esame.segnalazioni.iter().filter(|s| s.tipo == t).count();
        (t, i64::try_from(n).unwrap_or(i64::MAX))
    })
    .collect();
    Ok(StatoSegnalazioni { per_tipo })
}

/// The traffic aggregate of grain `grana` (an SQL expression: a bind such as `$1`, or a
/// literal from a closed list), with or without the client IP: its rows and the trigger's delta
/// rows not moved yet (`mon_delta`), projected on that grain — what every report reads, so that a
/// report is exact at any moment.
pub fn traffico_sql(con_ip: bool, grana: &str) -> String {
    let (ip, tabella) = if con_ip {
        ("ip_client, ", "mon_traffico_ip")
    } else {
        ("", "mon_traffico")
    };
    format!(
        "(SELECT periodo, operazione, chiamante, regione, {ip}esito, codice_errore, chiamate, \
                 durata_ms_somma, durata_ms_max FROM {tabella} WHERE grana = {grana} \
          UNION ALL \
          SELECT mon_periodo({grana}, ora), operazione, chiamante, regione, {ip}esito, codice_errore, \
                 chiamate, durata_ms_somma, durata_ms_max FROM mon_delta)"
    )
}

/// One period of a time series: where it starts and how it is labelled.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Periodo {
    #[diesel(sql_type = Timestamptz)]
    pub inizio: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub etichetta: String,
}

/// Every period of `g` from `da` to `a` (Italian days, both included), in order, so that a
/// series has its empty periods too.
pub fn periodi(
    conn: &mut PgConnection,
    g: Granularita,
    da: NaiveDate,
    a: NaiveDate,
) -> QueryResult<Vec<Periodo>> {
    let formato = match g {
        Granularita::Ora => "DD/MM HH24:00",
        Granularita::Giorno | Granularita::Settimana => "DD/MM/YYYY",
        Granularita::Mese => "MM/YYYY",
    };
    let sql = if g == Granularita::Ora {
        "SELECT p AS inizio, to_char(p AT TIME ZONE 'Europe/Rome', $4) AS etichetta \
         FROM generate_series(($2::date::timestamp AT TIME ZONE 'Europe/Rome'), \
              (($3::date + 1)::timestamp AT TIME ZONE 'Europe/Rome') - interval '1 hour', \
              interval '1 hour') p WHERE $1 = 'ora' ORDER BY 1"
    } else {
        "SELECT inizio, to_char(inizio AT TIME ZONE 'Europe/Rome', $4) AS etichetta FROM ( \
           SELECT DISTINCT mon_periodo($1, d::timestamp AT TIME ZONE 'Europe/Rome') AS inizio \
           FROM generate_series($2::date::timestamp, $3::date::timestamp, interval '1 day') d \
         ) p ORDER BY 1"
    };
    let mut periodi: Vec<Periodo> = diesel::sql_query(sql)
        .bind::<Text, _>(g.as_str())
        .bind::<Date, _>(da)
        .bind::<Date, _>(a)
        .bind::<Text, _>(formato)
        .load(conn)?;
    // The hour repeated when summer time ends reads the same on the clock: say which it is.
    for i in 1..periodi.len() {
        if periodi[i].etichetta == periodi[i - 1].etichetta {
            periodi[i].etichetta.push_str(" (2ª)");
        }
    }
    Ok(periodi)
}

#[derive(QueryableByName)]
struct RegioneNome {
    #[diesel(sql_type = Text)]
    codice: String,
    #[diesel(sql_type = Text)]
    denominazione: String,
}

/// A time series: the numbers of one line per series over the periods.
pub struct SerieTemporale<'a> {
    pub periodi: &'a [Periodo],
    /// The table's column of each series, and its line's name in the chart (the same, except
    /// that the table says how many groups «Altri» sums).
    pub colonne: &'a [String],
    pub linee: &'a [String],
    pub valori: &'a [Vec<i64>],
}

/// The section of a time series (`id` `serie`): a line chart, and a table of periods × series
/// with a total column.
pub fn sezione_serie(
    titolo: String,
    grafico_titolo: String,
    unita: &str,
    asse_y: &str,
    s: SerieTemporale<'_>,
) -> Sezione {
    let mut intestazione = vec!["Periodo".to_owned()];
    intestazione.extend(s.colonne.iter().cloned());
    intestazione.push("Totale".into());
    let righe = s
        .periodi
        .iter()
        .enumerate()
        .map(|(p, periodo)| {
            let mut riga = vec![Cella::testo(periodo.etichetta.clone())];
            let valori = s.valori.iter().map(|v| v.get(p).copied().unwrap_or(0));
            riga.extend(valori.clone().map(Cella::Intero));
            riga.push(Cella::Intero(valori.sum()));
            riga
        })
        .collect();
    Sezione {
        id: "serie",
        titolo,
        grafico: Some(Grafico {
            tipo: TipoGrafico::Linee,
            titolo: grafico_titolo,
            asse_x: format!("Periodo ({unita})"),
            asse_y: asse_y.into(),
            etichette: s.periodi.iter().map(|p| p.etichetta.clone()).collect(),
            serie: s
                .linee
                .iter()
                .zip(s.valori)
                .map(|(n, v)| Serie {
                    nome: n.clone(),
                    valori: v.iter().map(|&x| x as f64).collect(),
                })
                .collect(),
            soglia: None,
        }),
        tabella: Tabella {
            intestazione,
            righe,
        },
    }
}

/// Region codes to "120 - Lazio".
pub fn nomi_regioni(conn: &mut PgConnection) -> QueryResult<HashMap<String, String>> {
    let righe: Vec<RegioneNome> =
        diesel::sql_query("SELECT codice, denominazione FROM regione").load(conn)?;
    Ok(righe
        .into_iter()
        .map(|r| {
            let nome = format!("{} - {}", r.codice, r.denominazione);
            (r.codice, nome)
        })
        .collect())
}

/// The groups by total, largest first (ties by name), the first `top` kept and the rest
/// returned apart: what a chart and a table show, the rest summed as "Altri".
pub fn primi<K: Clone + Ord>(totali: &HashMap<K, i64>, top: usize) -> (Vec<K>, Vec<K>) {
    let mut v: Vec<(&K, &i64)> = totali.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    // "Altri" of a single group would only rename it: show it.
    let top = if v.len() == top + 1 { top + 1 } else { top };
    let (primi, resto) = v.split_at(top.min(v.len()));
    (
        primi.iter().map(|(k, _)| (*k).clone()).collect(),
        resto.iter().map(|(k, _)| (*k).clone()).collect(),
    )
}

/// `n` of `totale` as a percentage (0 when the total is 0).
pub fn quota(n: i64, totale: i64) -> f64 {
    if totale == 0 {
        0.0
    } else {
        n as f64 * 100.0 / totale as f64
    }
}

/// The median of `v` (0 for none).
pub fn mediana(v: &[i64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_unstable();
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m] as f64
    } else {
        (s[m - 1] + s[m]) as f64 / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_groups_and_the_rest() {
        let t: HashMap<&str, i64> = [("a", 5), ("b", 9), ("c", 1), ("d", 9)].into();
        let (p, r) = primi(&t, 2);
        assert_eq!(p, vec!["b", "d"]);
        assert_eq!(r, vec!["a", "c"]);
        // One left over is shown rather than called "Altri".
        let (p, r) = primi(&t, 3);
        assert_eq!((p.len(), r.len()), (4, 0));
    }

    #[test]
    fn medians() {
        assert_eq!(mediana(&[]), 0.0);
        assert_eq!(mediana(&[5, 1, 3]), 3.0);
        assert_eq!(mediana(&[4, 1, 3, 2]), 2.5);
        assert_eq!(quota(1, 4), 25.0);
        assert_eq!(quota(1, 0), 0.0);
    }
}
