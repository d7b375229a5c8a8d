//! One access-log row (decree 31 May 2021, annex A, 3.5) and the fields a handler contributes.

use crate::db::schema::access_log;
use chrono::{DateTime, NaiveDate, Utc};
use ipnetwork::IpNetwork;
use std::net::IpAddr;
use uuid::Uuid;

/// What a handler adds to the row. Which of these are kept depends on the operation's rules
/// (e.g. numero tessera only when the esito is negative): the handler decides, not the writer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFields {
    pub codice_fiscale: Option<String>,
    pub numero_tessera: Option<String>,
    pub data_scadenza_tessera: Option<NaiveDate>,
    /// Keep the esito only when negative (decree section 6.5): a positive outcome leaves
    /// both `esito` and `codice_errore` empty.
    pub esito_solo_se_negativo: bool,
}

/// A complete row. At most one of `esito` (answered) and `codice_errore` (refused) is set;
/// neither, for a positive outcome of an operation that keeps only negative ones.
#[derive(Debug, Clone, PartialEq, Eq, diesel::Insertable)]
#[diesel(table_name = access_log)]
pub struct AccessRecord {
    pub ts_richiesta: DateTime<Utc>,
    pub identificativo_transazione: Uuid,
    pub operazione: Option<String>,
    pub chiamante: Option<String>,
    pub ip_client: IpNetwork,
    pub esito: Option<String>,
    pub codice_errore: Option<String>,
    pub codice_fiscale: Option<String>,
    pub numero_tessera: Option<String>,
    pub data_scadenza_tessera: Option<NaiveDate>,
    /// How long the request took until its answer was ready, in ms (the monitoring's latency;
    /// not one of the decree's fields, and no personal data).
    pub durata_ms: Option<i32>,
}

/// Inserts `record` on `conn`, inside the caller's transaction: for handlers whose business
/// writes and access-log row must commit together.
pub fn insert_in(
    conn: &mut diesel::PgConnection,
    record: &AccessRecord,
) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    diesel::insert_into(access_log::table)
        .values(record)
        .execute(conn)
        .map(|_| ())
}

/// Inserts `rows` in one multi-row INSERT, in the caller's transaction if it has one: the
/// group-commit writer's and a batch's (`soap::batch`).
pub fn insert_many(
    conn: &mut diesel::PgConnection,
    rows: &[AccessRecord],
) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    diesel::insert_into(access_log::table)
        .values(rows)
        .execute(conn)
        .map(|_| ())
}

impl AccessRecord {
    /// A row for a request that was answered with `esito` or refused with `fault_code`.
    pub fn new(
        ts: DateTime<Utc>,
        transaction_id: Uuid,
        operation: Option<&str>,
        caller: Option<String>,
        ip: IpAddr,
        outcome: Result<&str, &str>,
        fields: LogFields,
    ) -> Self {
        let (esito, codice_errore) = match outcome {
            Ok("00") if fields.esito_solo_se_negativo => (None, None),
            Ok(esito) => (Some(esito.to_owned()), None),
            Err(code) => (None, Some(code.to_owned())),
        };
        Self {
            ts_richiesta: ts,
            identificativo_transazione: transaction_id,
            operazione: operation.map(str::to_owned),
            chiamante: caller,
            ip_client: IpNetwork::from(ip),
            esito,
            codice_errore,
            codice_fiscale: fields.codice_fiscale,
            numero_tessera: fields.numero_tessera,
            data_scadenza_tessera: fields.data_scadenza_tessera,
            durata_ms: None,
        }
    }

    /// The row with the request's duration until now (`started`: when it arrived).
    pub fn durata_da(mut self, started: std::time::Instant) -> Self {
        self.durata_ms = Some(i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX));
        self
    }
}
