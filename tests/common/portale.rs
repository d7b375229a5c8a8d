//! What the portal tests share: the section 2.5 rows, counts, and running a browser scenario.

use super::{browser, TestServer};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

/// A row of `accesso_operatore` (decree section 2.5).
#[derive(QueryableByName, Debug)]
pub struct Accesso {
    #[diesel(sql_type = Nullable<Text>)]
    pub codice_fiscale: Option<String>,
    #[diesel(sql_type = Text)]
    pub operazione: String,
    #[diesel(sql_type = Text)]
    pub esito: String,
    /// UTC, `YYYY-MM-DDTHH:MM:SS.mmm`.
    #[diesel(sql_type = Text)]
    pub istante: String,
}

/// Every section 2.5 row, oldest first.
pub fn accessi(s: &TestServer) -> Vec<Accesso> {
    diesel::sql_query(
        "SELECT codice_fiscale, operazione, esito, \
         to_char(istante AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS') AS istante \
         FROM accesso_operatore ORDER BY id",
    )
    .load(&mut s.db.connection())
    .expect("accesso_operatore")
}

/// (operazione, esito) of `cf`'s rows, oldest first.
pub fn esiti(s: &TestServer, cf: &str) -> Vec<(String, String)> {
    accessi(s)
        .into_iter()
        .filter(|r| r.codice_fiscale.as_deref() == Some(cf))
        .map(|r| (r.operazione, r.esito))
        .collect()
}

pub fn pair(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The `n` column of a one-row query.
pub fn count(s: &TestServer, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<N>(&mut s.db.connection())
        .expect("count")
        .n
}

/// Runs `tests/browser/<name>.mjs` against the server's portal (see [`browser::run`]).
pub async fn scenario(
    s: &TestServer,
    name: &'static str,
    env: Vec<(&'static str, String)>,
) -> serde_json::Value {
    let url = s.portal_url();
    tokio::task::spawn_blocking(move || browser::run(&url, name, &env))
        .await
        .expect("scenario task")
}
