//! Queries of the TS-CNS services: a card's whole state in one round trip (locked for the
//! writes), the writes of an activation, a revocation and a renewal, and the card series.

use super::errore::Errore;
use super::regole::{
    self, Applicata, Attivazione, Certificato, Proroga, Revoca, RevocaRegistrata, Rinnovo,
    RinnovoRegistrato, StatoTessera,
};
use crate::db::schema::{
    middleware_carta, produttore_carta, serie_carta, tessera_sanitaria, tscns_certificato,
    tscns_revoca, tscns_rinnovo, tscns_stato_tessera,
};
use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

/// One row of the view `tscns_stato_tessera` (migration 2026-11-28-000001_tscns): a card with its
/// series, certificate, revocation, the rule in force that extends it and its renewal under that
/// rule. A diesel query, so its prepared statement is cached per connection.
#[derive(Queryable)]
struct Riga {
    numero: String,
    codice_fiscale: String,
    codice_regione: String,
    data_scadenza: NaiveDate,
    sigla_serie: Option<String>,
    puk_per_rinnovo: bool,
    seriale: Option<String>,
    emittente: Option<String>,
    valido_dal: Option<NaiveDate>,
    valido_al: Option<NaiveDate>,
    data_attivazione: Option<NaiveDate>,
    motivo: Option<String>,
    data_revoca: Option<NaiveDate>,
    seriale_precedente: Option<String>,
    seriale_nuovo: Option<String>,
    scadenza_nuova: Option<NaiveDate>,
    proroga: Option<String>,
    prorogata_al: Option<NaiveDate>,
}

/// The state of card `numero`; `per_aggiornare` locks the card row until the transaction ends,
/// so concurrent requests about one card are applied one after the other. The lock is taken
/// by its own statement first: the state is then read after the lock is granted, so it sees
/// what the previous holder committed (a locking join would see its starting snapshot).
pub fn stato(
    conn: &mut PgConnection,
    numero: &str,
    per_aggiornare: bool,
) -> QueryResult<Option<StatoTessera>> {
    if per_aggiornare {
        let locked = tessera_sanitaria::table
            .find(numero)
            .select(tessera_sanitaria::numero)
            .for_no_key_update()
            .get_result::<String>(conn)
            .optional()?;
        if locked.is_none() {
            return Ok(None);
        }
    }
    leggi(conn, numero)
}

/// The state of card `numero` for a write by the CMS of `regione`: only a card of that region
/// is locked (another region's card is read, refused with CNS-0103 and never locked, so a CMS
/// cannot hold other regions' cards).
pub fn stato_per_regione(
    conn: &mut PgConnection,
    numero: &str,
    regione: &str,
) -> QueryResult<Option<StatoTessera>> {
    tessera_sanitaria::table
        .find(numero)
        .filter(tessera_sanitaria::codice_regione.eq(regione))
        .select(tessera_sanitaria::numero)
        .for_no_key_update()
        .get_result::<String>(conn)
        .optional()?;
    leggi(conn, numero)
}

/// Locks the cards `numeri` (of `regione`, when given) in card-number order, for a transaction
/// that will write many cards: two such transactions then wait for each other instead of
/// deadlocking.
pub fn blocca_tessere(
    conn: &mut PgConnection,
    numeri: &[&str],
    regione: Option<&str>,
) -> QueryResult<()> {
    let q = tessera_sanitaria::table
        .filter(tessera_sanitaria::numero.eq_any(numeri))
        .select(tessera_sanitaria::numero)
        .order(tessera_sanitaria::numero)
        .for_no_key_update();
    match regione {
        Some(r) => q
            .filter(tessera_sanitaria::codice_regione.eq(r))
            .load::<String>(conn)
            .map(|_| ()),
        None => q.load::<String>(conn).map(|_| ()),
    }
}

fn leggi(conn: &mut PgConnection, numero: &str) -> QueryResult<Option<StatoTessera>> {
    let riga: Option<Riga> = tscns_stato_tessera::table
        .find(numero)
        .get_result(conn)
        .optional()?;
    Ok(riga.map(|r| StatoTessera {
        certificato: match (
            r.seriale,
            r.emittente,
            r.valido_dal,
            r.valido_al,
            r.data_attivazione,
        ) {
            (Some(seriale), Some(emittente), Some(valido_dal), Some(valido_al), Some(a)) => {
                Some(Certificato {
                    seriale,
                    emittente,
                    valido_dal,
                    valido_al,
                    data_attivazione: a,
                })
            }
            _ => None,
        },
        revoca: match (r.motivo, r.data_revoca) {
            (Some(motivo), Some(data_revoca)) => Some(RevocaRegistrata {
                motivo,
                data_revoca,
            }),
            _ => None,
        },
        rinnovo: match (r.seriale_precedente, r.seriale_nuovo, r.scadenza_nuova) {
            (Some(seriale_precedente), Some(seriale_nuovo), Some(scadenza_nuova)) => {
                Some(RinnovoRegistrato {
                    seriale_precedente,
                    seriale_nuovo,
                    scadenza_nuova,
                })
            }
            _ => None,
        },
        proroga: match (r.proroga, r.prorogata_al) {
            (Some(codice), Some(prorogata_al)) => Some(Proroga {
                codice,
                prorogata_al,
            }),
            _ => None,
        },
        numero: r.numero,
        codice_fiscale: r.codice_fiscale,
        codice_regione: r.codice_regione,
        data_scadenza: r.data_scadenza,
        sigla_serie: r.sigla_serie,
        puk_per_rinnovo: r.puk_per_rinnovo,
    }))
}

/// The result of applying one record: what was done, or every reason it was refused.
pub type Esito = Result<Applicata, Vec<Errore>>;

/// Applies an activation for a CMS of region `regione` (call inside a transaction).
pub fn applica_attivazione(
    conn: &mut PgConnection,
    regione: &str,
    a: &Attivazione,
    transazione: Uuid,
) -> QueryResult<Esito> {
    let s = stato_per_regione(conn, a.numero_tessera.as_str(), regione)?;
    let mut esito = regole::decidi_attivazione(s.as_ref(), regione, a);
    let c = &a.certificato;
    if esito == Ok(Applicata::Registrata)
        && certificato_altrove(conn, &c.emittente, &c.seriale, a.numero_tessera.as_str())?
    {
        esito = Err(vec![Errore::CertificatoAltraTessera]);
    }
    if esito == Ok(Applicata::Registrata) {
        diesel::insert_into(tscns_certificato::table)
            .values((
                tscns_certificato::numero_tessera.eq(a.numero_tessera.as_str()),
                tscns_certificato::seriale.eq(&c.seriale),
                tscns_certificato::emittente.eq(&c.emittente),
                tscns_certificato::valido_dal.eq(c.valido_dal),
                tscns_certificato::valido_al.eq(c.valido_al),
                tscns_certificato::data_attivazione.eq(c.data_attivazione),
                tscns_certificato::identificativo_transazione.eq(transazione),
            ))
            .execute(conn)?;
    }
    Ok(esito)
}

/// Whether the certificate (issuer, serial) is active on a card other than `numero`.
fn certificato_altrove(
    conn: &mut PgConnection,
    emittente: &str,
    seriale: &str,
    numero: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        tscns_certificato::table
            .filter(tscns_certificato::emittente.eq(emittente))
            .filter(tscns_certificato::seriale.eq(seriale))
            .filter(tscns_certificato::numero_tessera.ne(numero)),
    ))
    .get_result(conn)
}

/// Applies a revocation for a CMS of region `regione` (call inside a transaction).
pub fn applica_revoca(
    conn: &mut PgConnection,
    regione: &str,
    r: &Revoca,
    transazione: Uuid,
) -> QueryResult<Esito> {
    let s = stato_per_regione(conn, r.numero_tessera.as_str(), regione)?;
    let esito = regole::decidi_revoca(s.as_ref(), regione, r);
    if esito == Ok(Applicata::Registrata) {
        diesel::insert_into(tscns_revoca::table)
            .values((
                tscns_revoca::numero_tessera.eq(r.numero_tessera.as_str()),
                tscns_revoca::motivo.eq(r.motivo.as_str()),
                tscns_revoca::data_revoca.eq(r.data_revoca),
                tscns_revoca::identificativo_transazione.eq(transazione),
            ))
            .execute(conn)?;
    }
    Ok(esito)
}

/// Records the renewal of card `numero`'s certificate: the renewal row, and the new serial and
/// expiry on the active certificate (call inside a transaction).
pub fn applica_rinnovo(
    conn: &mut PgConnection,
    regione: &str,
    numero: &str,
    r: &Rinnovo,
    transazione: Uuid,
) -> QueryResult<Esito> {
    let s = stato_per_regione(conn, numero, regione)?;
    let esito = regole::decidi_rinnovo(s.as_ref(), regione, r);
    if esito != Ok(Applicata::Registrata) {
        return Ok(esito);
    }
    // Renewable means a rule and an active certificate: the decision saw both.
    let (Some(proroga), Some(emittente)) = (
        s.as_ref().and_then(|s| s.proroga.as_ref()),
        s.as_ref()
            .and_then(|s| s.certificato.as_ref())
            .map(|c| c.emittente.as_str()),
    ) else {
        return Ok(Err(vec![Errore::NonRinnovabile]));
    };
    if certificato_altrove(conn, emittente, &r.seriale_nuovo, numero)? {
        return Ok(Err(vec![Errore::CertificatoAltraTessera]));
    }
    {
        diesel::insert_into(tscns_rinnovo::table)
            .values((
                tscns_rinnovo::numero_tessera.eq(numero),
                tscns_rinnovo::proroga.eq(&proroga.codice),
                tscns_rinnovo::seriale_precedente.eq(&r.seriale),
                tscns_rinnovo::seriale_nuovo.eq(&r.seriale_nuovo),
                tscns_rinnovo::scadenza_nuova.eq(r.scadenza_nuova),
                tscns_rinnovo::identificativo_transazione.eq(transazione),
            ))
            .execute(conn)?;
        diesel::update(tscns_certificato::table.find(numero))
            .set((
                tscns_certificato::seriale.eq(&r.seriale_nuovo),
                tscns_certificato::valido_al.eq(r.scadenza_nuova),
                tscns_certificato::identificativo_transazione.eq(transazione),
            ))
            .execute(conn)?;
    }
    Ok(esito)
}

/// A card series with its manufacturer and the manufacturer's software per operating system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serie {
    pub sigla: String,
    pub produttore: String,
    pub puk_per_rinnovo: bool,
    pub middleware: Vec<(String, String)>,
}

/// Every card series, by manufacturer then series.
pub fn serie_carte(conn: &mut PgConnection) -> QueryResult<Vec<Serie>> {
    let serie: Vec<(String, String, String, bool)> = serie_carta::table
        .inner_join(produttore_carta::table)
        .select((
            serie_carta::sigla,
            produttore_carta::codice,
            produttore_carta::denominazione,
            serie_carta::puk_per_rinnovo,
        ))
        .order((produttore_carta::codice, serie_carta::sigla))
        .load(conn)?;
    let software: Vec<(String, String, String)> = middleware_carta::table
        .select((
            middleware_carta::produttore,
            middleware_carta::sistema_operativo,
            middleware_carta::software,
        ))
        .order((middleware_carta::produttore, middleware_carta::ordine))
        .load(conn)?;
    Ok(serie
        .into_iter()
        .map(|(sigla, codice, denominazione, puk)| Serie {
            sigla,
            produttore: denominazione,
            puk_per_rinnovo: puk,
            middleware: software
                .iter()
                .filter(|(p, _, _)| *p == codice)
                .map(|(_, so, sw)| (so.clone(), sw.clone()))
                .collect(),
        })
        .collect())
}
