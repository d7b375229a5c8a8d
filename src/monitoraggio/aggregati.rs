//! Keeping the aggregates: merging the triggers' delta rows, retention, the patients per
//! region, rebuilding a period from the access log, and comparing the aggregates with the log.

use super::richiesta::Granularita;
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Text};

/// The session advisory lock held while aggregates are merged or rebuilt (one at a time, on
/// any node): "tsmo".
const LOCK: i64 = 0x7473_6d6f;

#[derive(Debug, thiserror::Error)]
pub enum ErroreAggregati {
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("{0}")]
    Periodo(String),
}

#[derive(QueryableByName)]
struct Numero {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs `f` holding the monitoring lock; waits for it when `attendi`, otherwise returns `None`
/// when another session holds it.
fn con_lock<T>(
    conn: &mut PgConnection,
    attendi: bool,
    f: impl FnOnce(&mut PgConnection) -> Result<T, ErroreAggregati>,
) -> Result<Option<T>, ErroreAggregati> {
    #[derive(QueryableByName)]
    struct Preso {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        preso: bool,
    }
    let sql = if attendi {
        "SELECT pg_advisory_lock($1) IS NOT NULL AS preso"
    } else {
        "SELECT pg_try_advisory_lock($1) AS preso"
    };
    let preso: Preso = diesel::sql_query(sql)
        .bind::<BigInt, _>(LOCK)
        .get_result(conn)?;
    if !preso.preso {
        return Ok(None);
    }
    let result = f(conn);
    let unlock = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(LOCK)
        .execute(conn);
    let value = result?;
    unlock?;
    Ok(Some(value))
}

/// Merges the delta rows of every key that has some with that key's other rows into one
/// (one statement per table: a delta committed meanwhile stays for the next run). Returns the
/// rows removed; 0 when a merge or rebuild is already running elsewhere.
pub fn compatta(conn: &mut PgConnection) -> Result<i64, ErroreAggregati> {
    let fatto = con_lock(conn, false, |conn| {
        sposta_delta(conn)?;
        let mut rimosse = 0;
        for (tabella, chiavi, misure) in [
            (
                "mon_traffico",
                "grana, periodo, operazione, chiamante, regione, esito, codice_errore",
                "sum(chiamate), sum(durata_ms_somma), max(durata_ms_max)",
            ),
            (
                "mon_traffico_ip",
                "grana, periodo, operazione, chiamante, regione, ip_client, esito, codice_errore",
                "sum(chiamate), sum(durata_ms_somma), max(durata_ms_max)",
            ),
            (
                "mon_vaccinazioni",
                "giorno, tipo, regione, canale, operazione",
                "sum(numero)",
            ),
        ] {
            rimosse += compatta_tabella(conn, tabella, chiavi, misure)?;
        }
        Ok(rimosse)
    })?;
    Ok(fatto.unwrap_or(0))
}

/// Moves the trigger's delta rows into every grain and into `mon_ip` (one statement).
fn sposta_delta(conn: &mut PgConnection) -> Result<i64, ErroreAggregati> {
    let n: Numero = diesel::sql_query("SELECT mon_sposta_delta() AS n").get_result(conn)?;
    Ok(n.n)
}

fn compatta_tabella(
    conn: &mut PgConnection,
    tabella: &str,
    chiavi: &str,
    misure: &str,
) -> Result<i64, ErroreAggregati> {
    let join: Vec<String> = chiavi
        .split(", ")
        .map(|c| format!("t.{c} = k.{c}"))
        .collect();
    let sql = format!(
        "WITH toccate AS (SELECT DISTINCT {chiavi} FROM {tabella} WHERE NOT compattata), \
              via AS (DELETE FROM {tabella} t USING toccate k WHERE {join} RETURNING t.*), \
              nuove AS (INSERT INTO {tabella} SELECT {chiavi}, {misure}, TRUE FROM via GROUP BY {chiavi} RETURNING 1) \
         SELECT ((SELECT count(*) FROM via) - (SELECT count(*) FROM nuove))::int8 AS n",
        join = join.join(" AND ")
    );
    let n: Numero = diesel::sql_query(sql).get_result(conn)?;
    Ok(n.n)
}

/// Deletes the aggregates older than `months` (whole periods before the cutoff month).
pub fn purge(conn: &mut PgConnection, months: u32) -> Result<i64, ErroreAggregati> {
    let months = i32::try_from(months).unwrap_or(i32::MAX);
    con_lock(conn, true, |conn| purge_in(conn, months)).map(Option::unwrap_or_default)
}

fn purge_in(conn: &mut PgConnection, months: i32) -> Result<i64, ErroreAggregati> {
    let mut n = 0;
    for sql in [
        "DELETE FROM mon_traffico WHERE periodo < date_trunc('month', now(), 'Europe/Rome') - make_interval(months => $1)",
        "DELETE FROM mon_traffico_ip WHERE periodo < date_trunc('month', now(), 'Europe/Rome') - make_interval(months => $1)",
        "DELETE FROM mon_vaccinazioni WHERE giorno < (date_trunc('month', now(), 'Europe/Rome') - make_interval(months => $1))::date",
        // An IP no aggregate remembers any more is forgotten too.
        "DELETE FROM mon_ip m WHERE primo_uso < date_trunc('month', now(), 'Europe/Rome') - make_interval(months => $1) \
         AND NOT EXISTS (SELECT 1 FROM mon_traffico_ip t WHERE t.grana = 'mese' \
                         AND t.chiamante = m.chiamante AND t.ip_client = m.ip_client)",
    ] {
        n += diesel::sql_query(sql).bind::<Integer, _>(months).execute(conn)? as i64;
    }
    Ok(n)
}

/// Refreshes the patients per region (`mon_assistiti`, the denominator of the misuse ratios)
/// when the snapshot is missing or a day old: counting the registry is a scan of it.
pub fn aggiorna_assistiti(conn: &mut PgConnection) -> Result<(), ErroreAggregati> {
    let recente: Numero = diesel::sql_query(
        "SELECT count(*)::int8 AS n FROM mon_assistiti WHERE aggiornato_il > now() - interval '1 day'",
    )
    .get_result(conn)?;
    if recente.n > 0 {
        return Ok(());
    }
    conn.transaction(|conn| {
        diesel::sql_query(
            "INSERT INTO mon_assistiti (regione, assistiti, aggiornato_il) \
             SELECT regione_assistenza, count(*), now() FROM assistito GROUP BY 1 \
             ON CONFLICT (regione) DO UPDATE SET assistiti = excluded.assistiti, aggiornato_il = now()",
        )
        .execute(conn)?;
        diesel::sql_query(
            "DELETE FROM mon_assistiti m WHERE NOT EXISTS \
             (SELECT 1 FROM assistito a WHERE a.regione_assistenza = m.regione)",
        )
        .execute(conn)?;
        Ok(())
    })
}

/// What a rebuild found and wrote, per grain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ricostruzione {
    pub granularita: Granularita,
    /// Calls the aggregates held for those periods before, and the calls of the log.
    pub prima: i64,
    pub dopo: i64,
}

/// The first day of the access log's oldest monthly partition (UTC).
pub fn inizio_log(conn: &mut PgConnection) -> QueryResult<Option<NaiveDate>> {
    #[derive(QueryableByName)]
    struct Nome {
        #[diesel(sql_type = Text)]
        nome: String,
    }
    let nomi: Vec<Nome> = diesel::sql_query(
        "SELECT c.relname::text AS nome FROM pg_inherits i \
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent \
         WHERE p.relname = 'access_log' AND c.relname ~ '^access_log_[0-9]{6}$' \
         ORDER BY 1 LIMIT 1",
    )
    .load(conn)?;
    Ok(nomi.first().and_then(|n| {
        NaiveDate::parse_from_str(&format!("{}01", &n.nome["access_log_".len()..]), "%Y%m%d").ok()
    }))
}

/// Rebuilds every grain's aggregates of the periods holding the days `da` to `a` from the
/// access log (whole hours, days, weeks and months: a week or month that reaches outside the
/// days is rebuilt whole). Refused when the log no longer covers those periods (its rows are
/// kept 12 months, the aggregates longer: rebuilding would lose them).
pub fn ricostruisci(
    conn: &mut PgConnection,
    da: NaiveDate,
    a: NaiveDate,
) -> Result<Vec<Ricostruzione>, ErroreAggregati> {
    if da > a {
        return Err(ErroreAggregati::Periodo(format!(
            "--da {da} is after --a {a}"
        )));
    }
    let inizio = inizio_log(conn)?;
    let primo = [Granularita::Settimana, Granularita::Mese]
        .into_iter()
        .map(|g| g.inizio(da))
        .min()
        .unwrap_or(da);
    match inizio {
        // The log's partitions start at UTC midnight, Italian days an hour or two before it:
        // the first day the log holds whole is the day after its oldest partition starts.
        Some(i) if primo > i => {}
        _ => {
            return Err(ErroreAggregati::Periodo(format!(
            "the access log does not cover {primo} (the first day of the week and month of --da; \
                 log kept from {}): rebuilding would delete aggregates it cannot recount",
            inizio.map_or("nowhere".to_owned(), |d| d.to_string())
        )))
        }
    }
    let fatte = con_lock(conn, true, |conn| {
        conn.build_transaction()
            .repeatable_read()
            .run(|conn| {
                // In this snapshot: the deltas it sees go into the grains (and are recounted
                // below), the ones committed later stay deltas and are not in the log it reads.
                diesel::sql_query("SELECT mon_sposta_delta()").execute(conn)?;
                let mut out = Vec::new();
                for g in Granularita::TUTTE {
                    let prima: Numero = diesel::sql_query(
                        "SELECT coalesce(sum(chiamate), 0)::int8 AS n FROM mon_traffico \
                         WHERE grana = $1 \
                           AND periodo >= mon_periodo($1, $2::timestamp AT TIME ZONE 'Europe/Rome') \
                           AND periodo <= mon_periodo($1, ($3 + 1)::timestamp AT TIME ZONE 'Europe/Rome' - interval '1 millisecond')",
                    )
                    .bind::<Text, _>(g.as_str())
                    .bind::<Date, _>(da)
                    .bind::<Date, _>(a)
                    .get_result(conn)?;
                    let dopo: Numero =
                        diesel::sql_query("SELECT mon_ricostruisci($1, $2, $3) AS n")
                            .bind::<Text, _>(g.as_str())
                            .bind::<Date, _>(da)
                            .bind::<Date, _>(a)
                            .get_result(conn)?;
                    out.push(Ricostruzione {
                        granularita: g,
                        prima: prima.n,
                        dopo: dopo.n,
                    });
                }
                Ok::<_, diesel::result::Error>(out)
            })
            .map_err(ErroreAggregati::from)
    })?;
    Ok(fatte.unwrap_or_default())
}

/// One key whose aggregate differs from the count of the log.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Differenza {
    #[diesel(sql_type = Text)]
    pub tabella: String,
    #[diesel(sql_type = Text)]
    pub grana: String,
    #[diesel(sql_type = Text)]
    pub chiave: String,
    #[diesel(sql_type = BigInt)]
    pub aggregato: i64,
    #[diesel(sql_type = BigInt)]
    pub log: i64,
}

/// Every key (grain, period, operation, caller, region, IP, esito, error code) in either table
/// (with the deltas not moved yet)
/// whose calls differ from `count(*)` over the access log — empty when they agree. Reads the
/// whole log: for tests and checks, not for reports.
pub fn confronta(conn: &mut PgConnection) -> QueryResult<Vec<Differenza>> {
    diesel::sql_query(
        "WITH log AS ( \
            SELECT g.grana, mon_periodo(g.grana, l.ts_richiesta) AS periodo, \
                   coalesce(l.operazione, '') AS operazione, coalesce(l.chiamante, '') AS chiamante, \
                   coalesce(c.codice_regione, '') AS regione, l.ip_client, \
                   coalesce(l.esito, CASE WHEN l.codice_errore IS NULL THEN '00' ELSE '' END) AS esito, \
                   coalesce(l.codice_errore, '') AS codice_errore, count(*) AS n \
            FROM access_log l \
            CROSS JOIN (VALUES ('ora'), ('giorno'), ('settimana'), ('mese')) AS g (grana) \
            LEFT JOIN chiamante c ON c.nome = l.chiamante \
            GROUP BY 1, 2, 3, 4, 5, 6, 7, 8), \
         delta AS (SELECT g.grana, mon_periodo(g.grana, d.ora) AS periodo, d.operazione, d.chiamante, \
                          d.regione, d.ip_client, d.esito, d.codice_errore, d.chiamate \
                   FROM mon_delta d CROSS JOIN (VALUES ('ora'), ('giorno'), ('settimana'), ('mese')) AS g (grana)), \
         ip AS (SELECT grana, periodo, operazione, chiamante, regione, ip_client, esito, codice_errore, \
                       sum(chiamate) AS n FROM (SELECT grana, periodo, operazione, chiamante, regione, \
                       ip_client, esito, codice_errore, chiamate FROM mon_traffico_ip \
                       UNION ALL SELECT * FROM delta) x GROUP BY 1, 2, 3, 4, 5, 6, 7, 8), \
         senza AS (SELECT grana, periodo, operazione, chiamante, regione, esito, codice_errore, \
                          sum(chiamate) AS n FROM (SELECT grana, periodo, operazione, chiamante, regione, \
                          esito, codice_errore, chiamate FROM mon_traffico \
                          UNION ALL SELECT grana, periodo, operazione, chiamante, regione, esito, \
                          codice_errore, chiamate FROM delta) x GROUP BY 1, 2, 3, 4, 5, 6, 7), \
         log_senza AS (SELECT grana, periodo, operazione, chiamante, regione, esito, codice_errore, \
                              sum(n) AS n FROM log GROUP BY 1, 2, 3, 4, 5, 6, 7) \
         SELECT 'mon_traffico_ip' AS tabella, coalesce(a.grana, b.grana) AS grana, \
                concat_ws(' | ', coalesce(a.periodo, b.periodo), coalesce(a.operazione, b.operazione), \
                          coalesce(a.chiamante, b.chiamante), coalesce(a.ip_client, b.ip_client), \
                          coalesce(a.esito, b.esito), coalesce(a.codice_errore, b.codice_errore)) AS chiave, \
                coalesce(a.n, 0)::int8 AS aggregato, coalesce(b.n, 0)::int8 AS log \
         FROM ip a FULL JOIN log b USING (grana, periodo, operazione, chiamante, regione, ip_client, esito, codice_errore) \
         WHERE a.n IS DISTINCT FROM b.n \
         UNION ALL \
         SELECT 'mon_traffico', coalesce(a.grana, b.grana), \
                concat_ws(' | ', coalesce(a.periodo, b.periodo), coalesce(a.operazione, b.operazione), \
                          coalesce(a.chiamante, b.chiamante), coalesce(a.esito, b.esito), \
                          coalesce(a.codice_errore, b.codice_errore)), \
                coalesce(a.n, 0)::int8, coalesce(b.n, 0)::int8 \
         FROM senza a FULL JOIN log_senza b USING (grana, periodo, operazione, chiamante, regione, esito, codice_errore) \
         WHERE a.n IS DISTINCT FROM b.n",
    )
    .load(conn)
}
