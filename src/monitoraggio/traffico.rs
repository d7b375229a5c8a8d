//! The traffic report: calls per period, grouped and filtered by operation, calling region,
//! caller, client IP, esito or error code, with their latency — read from the aggregate of the
//! granularity asked (`mon_traffico`, or `mon_traffico_ip` when the IP is involved).

use super::modello::{Cella, Grafico, Report, Serie, Sezione, Tabella, TipoGrafico};
use super::richiesta::{Dimensione, Granularita, Richiesta};
use super::{nomi_regioni, periodi, primi, quota, sezione_serie, SerieTemporale, ALTRI};
use crate::config::MonitoraggioConfig;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Inet, Integer, Nullable, Text, Timestamptz};
use ipnetwork::IpNetwork;
use std::collections::HashMap;

/// One aggregate row as the report reads it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Riga {
    #[diesel(sql_type = Timestamptz)]
    pub periodo: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub gruppo: String,
    #[diesel(sql_type = BigInt)]
    pub chiamate: i64,
    #[diesel(sql_type = BigInt)]
    pub durata: i64,
    #[diesel(sql_type = Integer)]
    pub durata_max: i32,
    #[diesel(sql_type = BigInt)]
    pub rifiutate: i64,
    #[diesel(sql_type = BigInt)]
    pub negative: i64,
}

/// The column an aggregate is grouped by (from a closed list: never caller input).
fn colonna(d: Dimensione) -> &'static str {
    match d {
        Dimensione::Operazione => "operazione",
        Dimensione::Regione => "regione",
        Dimensione::Chiamante => "chiamante",
        Dimensione::Ip => "host(ip_client)",
        Dimensione::Esito => "esito",
        Dimensione::CodiceErrore => "codice_errore",
    }
}

/// The aggregate rows of `r`: per period of its granularity and group.
pub fn righe(conn: &mut PgConnection, r: &Richiesta) -> QueryResult<Vec<Riga>> {
    let con_ip = r.per == Dimensione::Ip || r.filtro.ip.is_some();
    let tabella = super::traffico_sql(con_ip, "$1");
    let ip_filtro = if con_ip {
        "($7::inet IS NULL OR ip_client = $7)"
    } else {
        "$7::inet IS NULL"
    };
    let sql = format!(
        "SELECT periodo, {g} AS gruppo, sum(chiamate)::int8 AS chiamate, \
                sum(durata_ms_somma)::int8 AS durata, max(durata_ms_max) AS durata_max, \
                coalesce(sum(chiamate) FILTER (WHERE esito = ''), 0)::int8 AS rifiutate, \
                coalesce(sum(chiamate) FILTER (WHERE esito NOT IN ('', '00')), 0)::int8 AS negative \
         FROM {tabella} t \
         WHERE periodo >= ($2::date::timestamp AT TIME ZONE 'Europe/Rome') \
           AND periodo < (($3::date + 1)::timestamp AT TIME ZONE 'Europe/Rome') \
           AND ($4::text IS NULL OR operazione = $4) \
           AND ($5::text IS NULL OR regione = $5) \
           AND ($6::text IS NULL OR chiamante = $6) \
           AND {ip_filtro} \
           AND ($8::text IS NULL OR esito = $8) \
         GROUP BY 1, 2",
        g = colonna(r.per),
    );
    let f = &r.filtro;
    let esito = f
        .esito
        .as_deref()
        .map(|e| if e == "rifiutata" { "" } else { e });
    diesel::sql_query(sql)
        .bind::<Text, _>(r.granularita.as_str())
        .bind::<Date, _>(r.da)
        .bind::<Date, _>(r.a)
        .bind::<Nullable<Text>, _>(f.operazione.as_deref())
        .bind::<Nullable<Text>, _>(f.regione.as_deref())
        .bind::<Nullable<Text>, _>(f.chiamante.as_deref())
        .bind::<Nullable<Inet>, _>(f.ip.map(IpNetwork::from))
        .bind::<Nullable<Text>, _>(esito)
        .load(conn)
}

/// How a group is shown: the region's name, a readable text for the empty value.
pub fn etichetta(d: Dimensione, gruppo: &str, regioni: &HashMap<String, String>) -> String {
    match (d, gruppo) {
        (Dimensione::Regione, "") => "Nazionale".into(),
        (Dimensione::Regione, r) => regioni.get(r).cloned().unwrap_or_else(|| r.to_owned()),
        (Dimensione::Operazione, "") => "(non determinata)".into(),
        (Dimensione::Chiamante, "") => "(non identificato)".into(),
        (Dimensione::Esito, "") => "rifiutata".into(),
        (Dimensione::CodiceErrore, "") => "(nessuno)".into(),
        (_, g) => g.to_owned(),
    }
}

/// Totals of a group.
#[derive(Debug, Clone, Copy, Default)]
struct Somma {
    chiamate: i64,
    durata: i64,
    durata_max: i32,
    rifiutate: i64,
    negative: i64,
}

impl Somma {
    fn aggiungi(&mut self, r: &Riga) {
        self.chiamate += r.chiamate;
        self.durata += r.durata;
        self.durata_max = self.durata_max.max(r.durata_max);
        self.rifiutate += r.rifiutate;
        self.negative += r.negative;
    }

    fn media(&self) -> f64 {
        if self.chiamate == 0 {
            0.0
        } else {
            self.durata as f64 / self.chiamate as f64
        }
    }
}

pub fn report(
    conn: &mut PgConnection,
    cfg: &MonitoraggioConfig,
    r: &Richiesta,
) -> QueryResult<Report> {
    let righe = righe(conn, r)?;
    let periodi = periodi(conn, r.granularita, r.da, r.a)?;
    let regioni = nomi_regioni(conn)?;

    let mut totali: HashMap<String, i64> = HashMap::new();
    for riga in &righe {
        *totali.entry(riga.gruppo.clone()).or_default() += riga.chiamate;
    }
    let (primi, resto) = primi(&totali, cfg.top);
    let altri = !resto.is_empty();
    // Column of each group in the series: the first `top`, then "Altri".
    let mut colonna_di: HashMap<&str, usize> = HashMap::new();
    for (i, g) in primi.iter().enumerate() {
        colonna_di.insert(g.as_str(), i);
    }
    let n_col = primi.len() + usize::from(altri);
    let indice: HashMap<DateTime<Utc>, usize> = periodi
        .iter()
        .enumerate()
        .map(|(i, p)| (p.inizio, i))
        .collect();
    let mut serie = vec![vec![0i64; periodi.len()]; n_col];
    let mut somme: Vec<Somma> = vec![Somma::default(); n_col];
    let mut totale = Somma::default();
    for riga in &righe {
        let c = colonna_di
            .get(riga.gruppo.as_str())
            .copied()
            .unwrap_or(primi.len());
        if let Some(&p) = indice.get(&riga.periodo) {
            serie[c][p] += riga.chiamate;
        }
        somme[c].aggiungi(riga);
        totale.aggiungi(riga);
    }
    let mut nomi: Vec<String> = primi
        .iter()
        .map(|g| etichetta(r.per, g, &regioni))
        .collect();
    if altri {
        nomi.push(format!("{ALTRI} ({})", resto.len()));
    }
    let nomi_serie: Vec<String> = nomi
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if i == primi.len() {
                ALTRI.to_owned()
            } else {
                n.clone()
            }
        })
        .collect();

    let unita = match r.granularita {
        Granularita::Ora => "ora",
        Granularita::Giorno => "giorno",
        Granularita::Settimana => "settimana (dal lunedì)",
        Granularita::Mese => "mese",
    };
    let cosa = format!("Chiamate {}", r.per.per());
    let titolo = format!(
        "{cosa}, granularità {}, {}",
        r.granularita.aggettivo(),
        r.periodo_testo()
    );

    // The time series: one line per group, a table of periods × groups.
    let sezione_serie = sezione_serie(
        format!("{cosa} per {unita}"),
        titolo.clone(),
        unita,
        "Chiamate",
        SerieTemporale {
            periodi: &periodi,
            colonne: &nomi,
            linee: &nomi_serie,
            valori: &serie,
        },
    );

    // The distribution over the whole period: counts, outcomes and mean latency per group.
    let mut righe_distr: Vec<Vec<Cella>> = nomi
        .iter()
        .zip(&somme)
        .map(|(n, s)| {
            vec![
                Cella::testo(n.clone()),
                Cella::Intero(s.chiamate),
                Cella::decimale(quota(s.chiamate, totale.chiamate), 1),
                Cella::Intero(s.negative),
                Cella::Intero(s.rifiutate),
                Cella::decimale(s.media(), 1),
                Cella::Intero(i64::from(s.durata_max)),
            ]
        })
        .collect();
    righe_distr.push(vec![
        Cella::testo("Totale"),
        Cella::Intero(totale.chiamate),
        Cella::decimale(if totale.chiamate > 0 { 100.0 } else { 0.0 }, 1),
        Cella::Intero(totale.negative),
        Cella::Intero(totale.rifiutate),
        Cella::decimale(totale.media(), 1),
        Cella::Intero(i64::from(totale.durata_max)),
    ]);
    let sezione_distr = Sezione {
        id: "distribuzione",
        titolo: format!("Distribuzione {} nel periodo", r.per.per()),
        grafico: Some(Grafico {
            tipo: TipoGrafico::Barre,
            titolo: format!("{cosa}, {}", r.periodo_testo()),
            asse_x: r.per.intestazione().into(),
            asse_y: "Chiamate".into(),
            etichette: nomi.clone(),
            serie: vec![
                Serie {
                    nome: "Chiamate".into(),
                    valori: somme.iter().map(|s| s.chiamate as f64).collect(),
                },
                Serie {
                    nome: "di cui rifiutate o con esito negativo".into(),
                    valori: somme
                        .iter()
                        .map(|s| (s.rifiutate + s.negative) as f64)
                        .collect(),
                },
            ],
            soglia: None,
        }),
        tabella: Tabella {
            intestazione: vec![
                r.per.intestazione().into(),
                "Chiamate".into(),
                "Quota %".into(),
                "Esito negativo".into(),
                "Rifiutate".into(),
                "Latenza media ms".into(),
                "Latenza massima ms".into(),
            ],
            righe: righe_distr,
        },
    };

    // Per period over every group: outcomes and latency (the on-call engineer's view).
    let mut per_periodo = vec![Somma::default(); periodi.len()];
    for riga in &righe {
        if let Some(&p) = indice.get(&riga.periodo) {
            per_periodo[p].aggiungi(riga);
        }
    }
    let sezione_andamento = Sezione {
        id: "andamento",
        titolo: format!("Esiti e latenza per {unita}"),
        grafico: Some(Grafico {
            tipo: TipoGrafico::Linee,
            titolo: format!("Latenza media e massima (ms), {}", r.periodo_testo()),
            asse_x: format!("Periodo ({unita})"),
            asse_y: "Millisecondi".into(),
            etichette: periodi.iter().map(|p| p.etichetta.clone()).collect(),
            serie: vec![
                Serie {
                    nome: "Latenza media".into(),
                    valori: per_periodo
                        .iter()
                        .map(|s| if s.chiamate > 0 { s.media() } else { f64::NAN })
                        .collect(),
                },
                Serie {
                    nome: "Latenza massima".into(),
                    valori: per_periodo
                        .iter()
                        .map(|s| {
                            if s.chiamate > 0 {
                                f64::from(s.durata_max)
                            } else {
                                f64::NAN
                            }
                        })
                        .collect(),
                },
            ],
            soglia: None,
        }),
        tabella: Tabella {
            intestazione: vec![
                "Periodo".into(),
                "Chiamate".into(),
                "Esito negativo".into(),
                "Rifiutate".into(),
                "Rifiutate %".into(),
                "Latenza media ms".into(),
                "Latenza massima ms".into(),
            ],
            righe: periodi
                .iter()
                .zip(&per_periodo)
                .map(|(p, s)| {
                    vec![
                        Cella::testo(p.etichetta.clone()),
                        Cella::Intero(s.chiamate),
                        Cella::Intero(s.negative),
                        Cella::Intero(s.rifiutate),
                        Cella::decimale(quota(s.rifiutate, s.chiamate), 1),
                        Cella::decimale(s.media(), 1),
                        Cella::Intero(i64::from(s.durata_max)),
                    ]
                })
                .collect(),
        },
    };

    let mut note = vec![format!(
        "Dati aggregati {} (tabella {}), ora italiana.",
        r.granularita.aggettivo(),
        if r.per == Dimensione::Ip || r.filtro.ip.is_some() {
            "per IP client"
        } else {
            "per chiamante"
        }
    )];
    let f = &r.filtro;
    let mut filtri = Vec::new();
    if let Some(v) = &f.operazione {
        filtri.push(format!("operazione {v}"));
    }
    if let Some(v) = &f.regione {
        filtri.push(format!(
            "regione {}",
            etichetta(Dimensione::Regione, v, &regioni)
        ));
    }
    if let Some(v) = &f.chiamante {
        filtri.push(format!("chiamante {v}"));
    }
    if let Some(v) = &f.ip {
        filtri.push(format!("IP {v}"));
    }
    if let Some(v) = &f.esito {
        filtri.push(format!("esito {v}"));
    }
    if !filtri.is_empty() {
        note.push(format!("Filtri: {}.", filtri.join(", ")));
    }
    if altri {
        note.push(format!(
            "Sono mostrati i {} gruppi con più chiamate; gli altri {} sono sommati in «{ALTRI}».",
            primi.len(),
            resto.len()
        ));
    }
    Ok(Report {
        tipo: "traffico",
        titolo,
        da: r.da.format("%Y-%m-%d").to_string(),
        a: r.a.format("%Y-%m-%d").to_string(),
        periodo: r.periodo_testo(),
        note,
        sezioni: vec![sezione_serie, sezione_distr, sezione_andamento],
    })
}
