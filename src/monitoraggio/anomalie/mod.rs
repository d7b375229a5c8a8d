//! Misuse analysis (decree annex A 7.4: calls "proportionate to the number of patients of the
//! calling region", checked per calling region and per source IP). For each calling region, its
//! calls per day and per week per 1,000 of its patients, against a threshold and against the
//! region's own trailing median (a sudden jump is flagged even under the threshold); for each
//! client IP, its share of its caller's calls and whether the caller had ever used it before.

use super::modello::Cella;
use super::richiesta::{codifica, Granularita, Richiesta};
use super::{mediana, nomi_regioni, quota};
use crate::config::MonitoraggioConfig;
use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text};
use std::collections::{BTreeMap, HashMap};

mod report;
pub use report::report;

/// The kinds of flag, as the metrics and the exports name them.
pub const SOGLIA_GIORNALIERA: &str = "soglia_giornaliera";
pub const SOGLIA_SETTIMANALE: &str = "soglia_settimanale";
pub const MEDIANA: &str = "mediana";
pub const IP_NUOVO: &str = "ip_nuovo";

/// One flag and the numbers behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Segnalazione {
    pub tipo: &'static str,
    /// The region (code) or the caller it is about.
    pub regione: String,
    pub chiamante: Option<String>,
    pub ip: Option<String>,
    /// The day, or the first day of the week.
    pub da: NaiveDate,
    pub a: NaiveDate,
    pub chiamate: i64,
    pub assistiti: Option<i64>,
    /// Calls per 1,000 patients (regions) — or the IP's share of its caller's calls (%).
    pub valore: Option<f64>,
    pub soglia: Option<f64>,
    pub mediana: Option<f64>,
    /// What the numbers say, in Italian.
    pub motivo: String,
}

impl Segnalazione {
    /// The traffic view behind the flag: the region's callers by hour that day (by day that
    /// week), or the caller's IPs.
    pub fn href(&self) -> String {
        let g = if self.da == self.a { "ora" } else { "giorno" };
        let base = format!(
            "/servizi/monitoraggio/traffico?da={}&a={}&granularita={g}",
            self.da.format("%Y-%m-%d"),
            self.a.format("%Y-%m-%d")
        );
        match (&self.chiamante, &self.ip) {
            (Some(c), Some(ip)) => format!(
                "{base}&per=operazione&chiamante={}&ip={}",
                codifica(c),
                codifica(ip)
            ),
            _ => format!("{base}&per=chiamante&regione={}", codifica(&self.regione)),
        }
    }
}

#[derive(QueryableByName)]
struct Conteggio {
    #[diesel(sql_type = Text)]
    regione: String,
    #[diesel(sql_type = Date)]
    giorno: NaiveDate,
    #[diesel(sql_type = BigInt)]
    chiamate: i64,
}

#[derive(QueryableByName)]
struct Assistiti {
    #[diesel(sql_type = Text)]
    regione: String,
    #[diesel(sql_type = BigInt)]
    assistiti: i64,
}

#[derive(QueryableByName)]
struct UsoIp {
    #[diesel(sql_type = Text)]
    chiamante: String,
    #[diesel(sql_type = Text)]
    regione: String,
    #[diesel(sql_type = Text)]
    ip: String,
    #[diesel(sql_type = BigInt)]
    nel_periodo: i64,
    /// The first call from this IP (of this caller) ever recorded.
    #[diesel(sql_type = Nullable<Date>)]
    primo: Option<NaiveDate>,
    /// Whether the caller had called (from any IP) before the period.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    chiamante_noto: bool,
}

impl UsoIp {
    /// First used in the period by a caller known before it (a caller's very first IPs, or
    /// every IP when the aggregates have just started, are not news).
    fn nuovo(&self, da: NaiveDate) -> bool {
        self.chiamante_noto && self.primo.is_some_and(|p| p >= da)
    }
}

/// Calls per region and period start of `grana` in [da, a] (regions only: national callers
/// have no patients to be proportionate to).
fn conteggi(
    conn: &mut PgConnection,
    grana: Granularita,
    da: NaiveDate,
    a: NaiveDate,
    regione: Option<&str>,
    operazione: Option<&str>,
) -> QueryResult<HashMap<String, BTreeMap<NaiveDate, i64>>> {
    let righe: Vec<Conteggio> = diesel::sql_query(format!(
        "SELECT regione, (periodo AT TIME ZONE 'Europe/Rome')::date AS giorno, \
                sum(chiamate)::int8 AS chiamate \
         FROM {} t \
         WHERE periodo >= ($2::date::timestamp AT TIME ZONE 'Europe/Rome') \
           AND periodo < (($3::date + 1)::timestamp AT TIME ZONE 'Europe/Rome') \
           AND regione <> '' AND ($4::text IS NULL OR regione = $4) \
           AND ($5::text IS NULL OR operazione = $5) \
         GROUP BY 1, 2",
        super::traffico_sql(false, "$1")
    ))
    .bind::<Text, _>(grana.as_str())
    .bind::<Date, _>(da)
    .bind::<Date, _>(a)
    .bind::<Nullable<Text>, _>(regione)
    .bind::<Nullable<Text>, _>(operazione)
    .load(conn)?;
    let mut out: HashMap<String, BTreeMap<NaiveDate, i64>> = HashMap::new();
    for r in righe {
        *out.entry(r.regione)
            .or_default()
            .entry(r.giorno)
            .or_default() += r.chiamate;
    }
    Ok(out)
}

/// Patients per region: the snapshot the monitoring job keeps (`mon_assistiti`), counted now
/// when there is none yet.
pub fn assistiti(conn: &mut PgConnection) -> QueryResult<HashMap<String, i64>> {
    let mut righe: Vec<Assistiti> =
        diesel::sql_query("SELECT regione, assistiti FROM mon_assistiti").load(conn)?;
    if righe.is_empty() {
        righe = diesel::sql_query(
            "SELECT regione_assistenza AS regione, count(*)::int8 AS assistiti \
             FROM assistito GROUP BY 1",
        )
        .load(conn)?;
    }
    Ok(righe
        .into_iter()
        .map(|r| (r.regione, r.assistiti))
        .collect())
}

/// `12.5` → `12,5`, as the flags' texts write numbers.
fn dec1(v: f64) -> String {
    Cella::decimale(v, 1).italiano()
}

fn per_mille(chiamate: i64, assistiti: i64) -> Option<f64> {
    (assistiti > 0).then(|| chiamate as f64 * 1000.0 / assistiti as f64)
}

/// The days (or weeks, `passo` 7) from `da` to `a`.
fn giorni(da: NaiveDate, a: NaiveDate, passo: i64) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut d = da;
    while d <= a {
        out.push(d);
        d += Duration::days(passo);
    }
    out
}

/// The analysis of one series (days or weeks) of every region.
struct Analisi<'a> {
    cfg: &'a MonitoraggioConfig,
    assistiti: &'a HashMap<String, i64>,
    regioni: &'a HashMap<String, String>,
}

impl Analisi<'_> {
    fn nome(&self, r: &str) -> String {
        self.regioni.get(r).cloned().unwrap_or_else(|| r.to_owned())
    }

    /// Flags of `serie` (calls per period start) for the periods of `periodi`, against
    /// `soglia` per mille and the median of the `finestra` periods before each.
    #[allow(clippy::too_many_arguments)]
    fn segnala(
        &self,
        regione: &str,
        serie: &BTreeMap<NaiveDate, i64>,
        periodi: &[NaiveDate],
        passo: i64,
        finestra: i64,
        soglia: f64,
        tipo_soglia: &'static str,
        out: &mut Vec<Segnalazione>,
    ) {
        let assistiti = self.assistiti.get(regione).copied().unwrap_or(0);
        let unita = if passo == 1 { "giorno" } else { "settimana" };
        for &p in periodi {
            let c = serie.get(&p).copied().unwrap_or(0);
            if c == 0 {
                continue;
            }
            let fine = p + Duration::days(passo - 1);
            let base = Segnalazione {
                tipo: tipo_soglia,
                regione: regione.to_owned(),
                chiamante: None,
                ip: None,
                da: p,
                a: fine,
                chiamate: c,
                assistiti: Some(assistiti),
                valore: per_mille(c, assistiti),
                soglia: Some(soglia),
                mediana: None,
                motivo: String::new(),
            };
            match base.valore {
                Some(v) if v > soglia => out.push(Segnalazione {
                    motivo: format!(
                        "{}: {} chiamate nel {unita} per {} assistiti = {} ogni 1.000, oltre la soglia di {}.",
                        self.nome(regione),
                        super::modello::migliaia(c),
                        super::modello::migliaia(assistiti),
                        dec1(v),
                        dec1(soglia)
                    ),
                    ..base.clone()
                }),
                None if c >= self.cfg.minimo_chiamate => out.push(Segnalazione {
                    motivo: format!(
                        "{}: {} chiamate nel {unita} e nessun assistito registrato per la regione.",
                        self.nome(regione),
                        super::modello::migliaia(c)
                    ),
                    ..base.clone()
                }),
                _ => {}
            }
            let precedenti: Vec<i64> = (1..=finestra)
                .map(|k| {
                    serie
                        .get(&(p - Duration::days(k * passo)))
                        .copied()
                        .unwrap_or(0)
                })
                .collect();
            let m = mediana(&precedenti);
            // A median needs a history: a region calling on fewer than half of the preceding
            // periods (new, or aggregates just started) is judged by the threshold only.
            let storia = precedenti.iter().filter(|&&n| n > 0).count() * 2 >= precedenti.len();
            if storia && c >= self.cfg.minimo_chiamate && c as f64 > self.cfg.fattore_mediana * m {
                out.push(Segnalazione {
                    tipo: MEDIANA,
                    mediana: Some(m),
                    soglia: Some(self.cfg.fattore_mediana),
                    valore: Some(if m > 0.0 { c as f64 / m } else { f64::INFINITY }),
                    motivo: format!(
                        "{}: {} chiamate nel {unita}, {} la mediana dei {finestra} periodi precedenti ({}).",
                        self.nome(regione),
                        super::modello::migliaia(c),
                        if m > 0.0 {
                            format!("{} volte", dec1(c as f64 / m))
                        } else {
                            "a fronte di zero come".to_owned()
                        },
                        dec1(m)
                    ),
                    ..base
                });
            }
        }
    }
}

/// The IPs used in the period by the callers in scope, with their first use ever.
fn usi_ip(conn: &mut PgConnection, r: &Richiesta) -> QueryResult<Vec<UsoIp>> {
    let inizio = "($1::date::timestamp AT TIME ZONE 'Europe/Rome')";
    diesel::sql_query(format!(
        "WITH uso AS ( \
            SELECT t.chiamante, t.regione, t.ip_client, sum(t.chiamate)::int8 AS nel_periodo \
            FROM {fonte} t \
            WHERE t.periodo >= {inizio} \
              AND t.periodo < (($2::date + 1)::timestamp AT TIME ZONE 'Europe/Rome') \
              AND t.chiamante <> '' AND t.chiamante NOT LIKE 'sha256:%' \
              AND ($3::text IS NULL OR t.regione = $3) \
              AND ($4::text IS NULL OR t.operazione = $4) \
            GROUP BY 1, 2, 3), \
         in_attesa AS (SELECT chiamante, ip_client, min(ora) AS primo FROM mon_delta GROUP BY 1, 2), \
         noti AS (SELECT chiamante FROM mon_ip WHERE primo_uso < {inizio} \
                  UNION SELECT chiamante FROM mon_delta WHERE ora < {inizio}) \
         SELECT u.chiamante, u.regione, host(u.ip_client) AS ip, u.nel_periodo, \
                (least(m.primo_uso, d.primo) AT TIME ZONE 'Europe/Rome')::date AS primo, \
                EXISTS (SELECT 1 FROM noti n WHERE n.chiamante = u.chiamante) AS chiamante_noto \
         FROM uso u \
         LEFT JOIN mon_ip m ON m.chiamante = u.chiamante AND m.ip_client = u.ip_client \
         LEFT JOIN in_attesa d ON d.chiamante = u.chiamante AND d.ip_client = u.ip_client",
        fonte = super::traffico_sql(true, "'giorno'")
    ))
    .bind::<Date, _>(r.da)
    .bind::<Date, _>(r.a)
    .bind::<Nullable<Text>, _>(r.filtro.regione.as_deref())
    .bind::<Nullable<Text>, _>(r.filtro.operazione.as_deref())
    .load(conn)
}

/// Everything `analizza` finds, for the report and for the metrics.
pub struct Esame {
    pub segnalazioni: Vec<Segnalazione>,
    giornaliere: HashMap<String, BTreeMap<NaiveDate, i64>>,
    settimanali: HashMap<String, BTreeMap<NaiveDate, i64>>,
    assistiti: HashMap<String, i64>,
    ip: Vec<UsoIp>,
    regioni: HashMap<String, String>,
}

/// The flags of the days and weeks of `r` (the request within its scope).
pub fn analizza(
    conn: &mut PgConnection,
    cfg: &MonitoraggioConfig,
    r: &Richiesta,
) -> QueryResult<Esame> {
    let regione = r.filtro.regione.as_deref();
    let operazione = r.filtro.operazione.as_deref();
    let finestra_g = i64::from(cfg.finestra_mediana_giorni);
    let finestra_s = (finestra_g / 7).max(4);
    let giornaliere = conteggi(
        conn,
        Granularita::Giorno,
        r.da - Duration::days(finestra_g),
        r.a,
        regione,
        operazione,
    )?;
    let lunedi = Granularita::Settimana.inizio(r.da);
    let settimanali = conteggi(
        conn,
        Granularita::Settimana,
        lunedi - Duration::days(7 * finestra_s),
        Granularita::Settimana.fine(r.a),
        regione,
        operazione,
    )?;
    let assistiti = assistiti(conn)?;
    let regioni = nomi_regioni(conn)?;
    let ip = usi_ip(conn, r)?;

    let mut segnalazioni = Vec::new();
    {
        let analisi = Analisi {
            cfg,
            assistiti: &assistiti,
            regioni: &regioni,
        };
        let mut codici: Vec<&String> = giornaliere.keys().chain(settimanali.keys()).collect();
        codici.sort();
        codici.dedup();
        let giorni_periodo = giorni(r.da, r.a, 1);
        let settimane = giorni(lunedi, r.a, 7);
        let vuota = BTreeMap::new();
        for reg in codici {
            analisi.segnala(
                reg,
                giornaliere.get(reg).unwrap_or(&vuota),
                &giorni_periodo,
                1,
                finestra_g,
                cfg.soglia_giornaliera_per_mille,
                SOGLIA_GIORNALIERA,
                &mut segnalazioni,
            );
            analisi.segnala(
                reg,
                settimanali.get(reg).unwrap_or(&vuota),
                &settimane,
                7,
                finestra_s,
                cfg.soglia_settimanale_per_mille,
                SOGLIA_SETTIMANALE,
                &mut segnalazioni,
            );
        }
    }
    let mut per_chiamante: HashMap<&str, i64> = HashMap::new();
    for u in &ip {
        *per_chiamante.entry(u.chiamante.as_str()).or_default() += u.nel_periodo;
    }
    for u in &ip {
        if u.nel_periodo > 0 && u.nuovo(r.da) {
            let primo = u.primo.unwrap_or(r.da);
            let totale = per_chiamante
                .get(u.chiamante.as_str())
                .copied()
                .unwrap_or(0);
            segnalazioni.push(Segnalazione {
                tipo: IP_NUOVO,
                regione: u.regione.clone(),
                chiamante: Some(u.chiamante.clone()),
                ip: Some(u.ip.clone()),
                da: primo,
                a: r.a,
                chiamate: u.nel_periodo,
                assistiti: None,
                valore: Some(quota(u.nel_periodo, totale)),
                soglia: None,
                mediana: None,
                motivo: format!(
                    "{}: IP {} mai usato prima del periodo; primo uso il {}, {} chiamate ({}% di quelle del chiamante).",
                    u.chiamante,
                    u.ip,
                    primo.format("%d/%m/%Y"),
                    super::modello::migliaia(u.nel_periodo),
                    dec1(quota(u.nel_periodo, totale))
                ),
            });
        }
    }
    segnalazioni.sort_by(|a, b| {
        (a.da, a.tipo, &a.regione, &a.chiamante, &a.ip).cmp(&(
            b.da,
            b.tipo,
            &b.regione,
            &b.chiamante,
            &b.ip,
        ))
    });
    Ok(Esame {
        segnalazioni,
        giornaliere,
        settimanali,
        assistiti,
        ip,
        regioni,
    })
}
