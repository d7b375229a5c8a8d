//! What a report is asked for: the kind, the period (Italian calendar days, both included), the
//! granularity, the grouping and the filters — read from a portal query or from the CLI, written
//! back as a query for links (previous and next period, exports) — and whose figures the asker
//! may see (`Ambito`).

use chrono::{Datelike, Duration, NaiveDate};
use std::collections::HashMap;
use std::net::IpAddr;

/// The three reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TipoReport {
    Traffico,
    Vaccinazioni,
    Anomalie,
}

impl TipoReport {
    pub fn parse(s: &str) -> Option<TipoReport> {
        match s {
            "traffico" => Some(TipoReport::Traffico),
            "vaccinazioni" => Some(TipoReport::Vaccinazioni),
            "anomalie" => Some(TipoReport::Anomalie),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TipoReport::Traffico => "traffico",
            TipoReport::Vaccinazioni => "vaccinazioni",
            TipoReport::Anomalie => "anomalie",
        }
    }

    pub fn titolo(self) -> &'static str {
        match self {
            TipoReport::Traffico => "Traffico",
            TipoReport::Vaccinazioni => "Dati vaccinali trasmessi",
            TipoReport::Anomalie => "Usi impropri",
        }
    }
}

/// The granularity of a time series; also the grain of the aggregate table it is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularita {
    Ora,
    Giorno,
    Settimana,
    Mese,
}

impl Granularita {
    pub const TUTTE: [Granularita; 4] = [
        Granularita::Ora,
        Granularita::Giorno,
        Granularita::Settimana,
        Granularita::Mese,
    ];

    pub fn parse(s: &str) -> Option<Granularita> {
        Self::TUTTE.into_iter().find(|g| g.as_str() == s)
    }

    /// As written in queries, on the CLI and in `mon_traffico.grana`.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularita::Ora => "ora",
            Granularita::Giorno => "giorno",
            Granularita::Settimana => "settimana",
            Granularita::Mese => "mese",
        }
    }

    pub fn aggettivo(self) -> &'static str {
        match self {
            Granularita::Ora => "oraria",
            Granularita::Giorno => "giornaliera",
            Granularita::Settimana => "settimanale",
            Granularita::Mese => "mensile",
        }
    }

    /// The longest period shown at this granularity, in days (a readable chart, a bounded
    /// query).
    pub fn giorni_massimi(self) -> i64 {
        match self {
            Granularita::Ora => 31,
            Granularita::Giorno => 186,
            Granularita::Settimana | Granularita::Mese => 1_900,
        }
    }

    /// The same bound when the figures are read per client IP (ten times the rows).
    pub fn giorni_massimi_ip(self) -> i64 {
        match self {
            Granularita::Ora => 2,
            Granularita::Giorno => 14,
            Granularita::Settimana => 91,
            Granularita::Mese => 731,
        }
    }

    /// The first day of the period of `d` (Monday of its week, first of its month).
    pub fn inizio(self, d: NaiveDate) -> NaiveDate {
        match self {
            Granularita::Ora | Granularita::Giorno => d,
            Granularita::Settimana => {
                d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
            }
            Granularita::Mese => d.with_day(1).unwrap_or(d),
        }
    }

    /// The last day of the period of `d`.
    pub fn fine(self, d: NaiveDate) -> NaiveDate {
        match self {
            Granularita::Ora | Granularita::Giorno => d,
            Granularita::Settimana => self.inizio(d) + Duration::days(6),
            Granularita::Mese => {
                let (y, m) = if d.month() == 12 {
                    (d.year() + 1, 1)
                } else {
                    (d.year(), d.month() + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1).map_or(d, |n| n - Duration::days(1))
            }
        }
    }
}

/// What the figures are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimensione {
    Operazione,
    Regione,
    Chiamante,
    Ip,
    Esito,
    CodiceErrore,
}

impl Dimensione {
    pub const TUTTE: [Dimensione; 6] = [
        Dimensione::Operazione,
        Dimensione::Regione,
        Dimensione::Chiamante,
        Dimensione::Ip,
        Dimensione::Esito,
        Dimensione::CodiceErrore,
    ];

    pub fn parse(s: &str) -> Option<Dimensione> {
        Self::TUTTE.into_iter().find(|d| d.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dimensione::Operazione => "operazione",
            Dimensione::Regione => "regione",
            Dimensione::Chiamante => "chiamante",
            Dimensione::Ip => "ip",
            Dimensione::Esito => "esito",
            Dimensione::CodiceErrore => "errore",
        }
    }

    /// The column heading ("Regione chiamante").
    pub fn intestazione(self) -> &'static str {
        match self {
            Dimensione::Operazione => "Operazione",
            Dimensione::Regione => "Regione chiamante",
            Dimensione::Chiamante => "Chiamante",
            Dimensione::Ip => "IP client",
            Dimensione::Esito => "Esito",
            Dimensione::CodiceErrore => "Codice errore",
        }
    }

    /// "per operazione", for titles.
    pub fn per(self) -> &'static str {
        match self {
            Dimensione::Operazione => "per operazione",
            Dimensione::Regione => "per regione chiamante",
            Dimensione::Chiamante => "per chiamante",
            Dimensione::Ip => "per IP client",
            Dimensione::Esito => "per esito",
            Dimensione::CodiceErrore => "per codice errore",
        }
    }
}

/// The filters of the traffic; each narrows, none widens the asker's scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filtro {
    pub operazione: Option<String>,
    pub regione: Option<String>,
    pub chiamante: Option<String>,
    pub ip: Option<IpAddr>,
    pub esito: Option<String>,
}

/// One report asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Richiesta {
    pub tipo: TipoReport,
    /// First and last day (Europe/Rome), both included, aligned to the granularity.
    pub da: NaiveDate,
    pub a: NaiveDate,
    pub granularita: Granularita,
    pub per: Dimensione,
    pub filtro: Filtro,
}

/// The longest period of the misuse analysis (it reads the daily IP aggregates), in days.
pub const GIORNI_ANOMALIE: i64 = 93;

/// Whose figures the asker may see: every region (MEF staff) or one region's only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ambito {
    pub regione: Option<String>,
}

impl Ambito {
    pub fn nazionale() -> Ambito {
        Ambito { regione: None }
    }

    pub fn regione(codice: &str) -> Ambito {
        Ambito {
            regione: Some(codice.to_owned()),
        }
    }

    /// The request within this scope: a region's staff get their region as the filter; a
    /// filter naming another region is refused (never silently narrowed).
    pub fn applica(&self, r: &Richiesta) -> Result<Richiesta, String> {
        let Some(mia) = &self.regione else {
            return Ok(r.clone());
        };
        match &r.filtro.regione {
            Some(altra) if altra != mia => Err(format!(
                "L'utenza è abilitata ai soli dati della regione {mia}: i dati della regione {altra} non sono consultabili."
            )),
            _ => {
                let mut r = r.clone();
                r.filtro.regione = Some(mia.clone());
                Ok(r)
            }
        }
    }
}

/// The years a report may name: the aggregates cannot be older, and the date arithmetic of
/// periods never leaves the calendar.
const ANNI: std::ops::RangeInclusive<i32> = 2000..=2100;

fn data(s: &str, nome: &str) -> Result<NaiveDate, String> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        format!("{nome}: «{s}» non è una data nel formato AAAA-MM-GG (es. 2026-11-30).")
    })?;
    if !ANNI.contains(&d.year()) {
        return Err(format!(
            "{nome}: «{s}» è fuori dagli anni consultabili ({}–{}).",
            ANNI.start(),
            ANNI.end()
        ));
    }
    Ok(d)
}

fn testo_opzionale(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl Richiesta {
    /// The request of a query (`da`, `a`, `granularita`, `per`, `operazione`, `regione`,
    /// `chiamante`, `ip`, `esito`); missing values take defaults: the last 7 days up to
    /// `oggi`, by day, by operation (by region for the vaccination data). The message of an
    /// error is Italian, for the asker.
    pub fn da_coppie(
        tipo: TipoReport,
        q: &HashMap<String, String>,
        oggi: NaiveDate,
    ) -> Result<Richiesta, String> {
        let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let a = get("a").map(|s| data(s, "a")).transpose()?.unwrap_or(oggi);
        let da = get("da")
            .map(|s| data(s, "da"))
            .transpose()?
            .unwrap_or(a - Duration::days(6));
        let granularita = match get("granularita") {
            None => Granularita::Giorno,
            Some(g) => Granularita::parse(g).ok_or_else(|| {
                format!("granularita: «{g}» non valida (ora, giorno, settimana o mese).")
            })?,
        };
        let per = match get("per") {
            None if tipo == TipoReport::Vaccinazioni => Dimensione::Regione,
            None if tipo == TipoReport::Anomalie => Dimensione::Regione,
            None => Dimensione::Operazione,
            Some(p) => Dimensione::parse(p).ok_or_else(|| {
                format!(
                    "per: «{p}» non valido (operazione, regione, chiamante, ip, esito o errore)."
                )
            })?,
        };
        let ip = match get("ip") {
            None => None,
            Some(s) => Some(
                s.parse::<IpAddr>()
                    .map_err(|_| format!("ip: «{s}» non è un indirizzo IP."))?,
            ),
        };
        let filtro = Filtro {
            operazione: testo_opzionale(q.get("operazione")),
            regione: testo_opzionale(q.get("regione")),
            chiamante: testo_opzionale(q.get("chiamante")),
            ip,
            esito: testo_opzionale(q.get("esito")),
        };
        Richiesta::new(tipo, da, a, granularita, per, filtro)
    }

    /// Checks and aligns a request: `da` ≤ `a`, the period within the granularity's bound,
    /// the days widened to whole weeks or months.
    pub fn new(
        tipo: TipoReport,
        da: NaiveDate,
        a: NaiveDate,
        granularita: Granularita,
        per: Dimensione,
        filtro: Filtro,
    ) -> Result<Richiesta, String> {
        if da > a {
            return Err(format!(
                "Il periodo è vuoto: la data iniziale ({}) segue la finale ({}).",
                da.format("%d/%m/%Y"),
                a.format("%d/%m/%Y")
            ));
        }
        if tipo == TipoReport::Vaccinazioni && granularita == Granularita::Ora {
            return Err(
                "I dati vaccinali sono aggregati per giorno: scegliere giorno, settimana o mese."
                    .into(),
            );
        }
        if tipo == TipoReport::Vaccinazioni && per != Dimensione::Regione {
            return Err("I dati vaccinali si raggruppano solo per regione.".into());
        }
        if let Some(e) = &filtro.esito {
            let ok = e.len() == 2 && e.bytes().all(|b| b.is_ascii_digit()) || e == "rifiutata";
            if !ok {
                return Err(format!(
                    "esito: «{e}» non valido (due cifre, es. 00, o «rifiutata»)."
                ));
            }
        }
        if let Some(r) = &filtro.regione {
            if !(r.len() == 3 && r.bytes().all(|b| b.is_ascii_digit())) {
                return Err(format!("regione: «{r}» non è un codice regione (es. 120)."));
            }
        }
        for (nome, v) in [
            ("operazione", &filtro.operazione),
            ("chiamante", &filtro.chiamante),
        ] {
            if v.as_ref().is_some_and(|s| s.chars().count() > 100) {
                return Err(format!("{nome}: valore troppo lungo."));
            }
        }
        if !(ANNI.contains(&da.year()) && ANNI.contains(&a.year())) {
            return Err(format!(
                "Il periodo deve cadere negli anni {}–{}.",
                ANNI.start(),
                ANNI.end()
            ));
        }
        let da = granularita.inizio(da);
        let a = granularita.fine(a);
        let giorni = (a - da).num_days() + 1;
        if tipo == TipoReport::Anomalie && giorni > GIORNI_ANOMALIE {
            return Err(format!(
                "Periodo troppo lungo per l'analisi degli usi impropri: al massimo {GIORNI_ANOMALIE} giorni (richiesti {giorni})."
            ));
        }
        let per_ip = tipo == TipoReport::Traffico && (per == Dimensione::Ip || filtro.ip.is_some());
        if per_ip && giorni > granularita.giorni_massimi_ip() {
            return Err(format!(
                "Periodo troppo lungo per i dati per IP client con granularità {}: al massimo {} giorni (richiesti {giorni}); scegliere una granularità più ampia o un periodo più breve.",
                granularita.aggettivo(),
                granularita.giorni_massimi_ip()
            ));
        }
        if giorni > granularita.giorni_massimi() {
            return Err(format!(
                "Periodo troppo lungo per la granularità {}: al massimo {} giorni (richiesti {giorni}).",
                granularita.aggettivo(),
                granularita.giorni_massimi()
            ));
        }
        Ok(Richiesta {
            tipo,
            da,
            a,
            granularita,
            per,
            filtro,
        })
    }

    /// The query of this request (without the export format), for links.
    pub fn query(&self) -> String {
        let mut parti = vec![
            format!("da={}", self.da.format("%Y-%m-%d")),
            format!("a={}", self.a.format("%Y-%m-%d")),
            format!("granularita={}", self.granularita.as_str()),
            format!("per={}", self.per.as_str()),
        ];
        let f = &self.filtro;
        let ip = f.ip.map(|i| i.to_string());
        for (k, v) in [
            ("operazione", f.operazione.as_deref()),
            ("regione", f.regione.as_deref()),
            ("chiamante", f.chiamante.as_deref()),
            ("ip", ip.as_deref()),
            ("esito", f.esito.as_deref()),
        ] {
            if let Some(v) = v {
                parti.push(format!("{k}={}", codifica(v)));
            }
        }
        parti.join("&")
    }

    /// The same request over the period of the same length just before (`-1`) or after (`1`).
    pub fn spostata(&self, verso: i64) -> Richiesta {
        let mut r = self.clone();
        match self.granularita {
            Granularita::Mese => {
                let mesi = mesi_tra(self.da, self.a);
                r.da = aggiungi_mesi(self.da, verso * mesi);
                r.a = Granularita::Mese.fine(aggiungi_mesi(self.da, verso * mesi + mesi - 1));
            }
            _ => {
                let giorni = (self.a - self.da).num_days() + 1;
                r.da = self.da + Duration::days(verso * giorni);
                r.a = self.a + Duration::days(verso * giorni);
            }
        }
        r
    }

    /// "dal 01/11/2026 al 30/11/2026" (or "il 01/11/2026").
    pub fn periodo_testo(&self) -> String {
        if self.da == self.a {
            format!("il {}", self.da.format("%d/%m/%Y"))
        } else {
            format!(
                "dal {} al {}",
                self.da.format("%d/%m/%Y"),
                self.a.format("%d/%m/%Y")
            )
        }
    }
}

fn mesi_tra(da: NaiveDate, a: NaiveDate) -> i64 {
    (i64::from(a.year()) * 12 + i64::from(a.month()))
        - (i64::from(da.year()) * 12 + i64::from(da.month()))
        + 1
}

fn aggiungi_mesi(d: NaiveDate, mesi: i64) -> NaiveDate {
    let totale = i64::from(d.year()) * 12 + i64::from(d.month0()) + mesi;
    let (y, m) = (totale.div_euclid(12), totale.rem_euclid(12) + 1);
    i32::try_from(y)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, m as u32, 1))
        .unwrap_or(d)
}

/// Percent-encodes a query value.
pub fn codifica(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
#[path = "richiesta_tests.rs"]
mod tests;
