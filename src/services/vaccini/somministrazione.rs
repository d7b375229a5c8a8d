//! TrasmissioneSomministrazione (decree 31 May 2021, annex A, section 4.2.3): the Anagrafe
//! Nazionale Vaccini inserts (I), changes (V) or cancels (C) one administration, one per
//! patient and dose. Rules: no date in the future; dose n after dose n-1 (unless the region
//! sends `derogaSequenzaDosi`), dates in dose order (not before the nearest recorded lower dose
//! nor after the nearest recorded higher one); a different second insert of a dose is a
//! duplicate; a cancel removes the record, and not below a later dose.

use super::avn::{self, Errore, Somministrazione, SomministrazioneIn, TipoOperazione};
use super::repo::{Applicata, Dose};
use super::{repo, trasmissione};
use crate::access::TipoChiamante;
use crate::audit::LogFields;
use crate::contracts::trasmissione_somministrazione::{
    TrasmissioneSomministrazioneRicevuta as Ricevuta,
    TrasmissioneSomministrazioneRichiesta as Richiesta, NAMESPACE,
};
use crate::db::DbError;
use crate::soap::operation::TIPI_DATI_XSD;
use crate::soap::{typed, Handler, Operation, Outcome, RequestCtx};
use diesel::{PgConnection, QueryResult};
use uuid::Uuid;

pub static TRASMISSIONE_SOMMINISTRAZIONE: Operation = Operation {
    name: "TrasmissioneSomministrazione",
    path: "/ws/TrasmissioneSomministrazione",
    soap_action: "urn:tsgate:vaccini:trasmissioneSomministrazione#TrasmissioneSomministrazione",
    request_ns: NAMESPACE,
    request_element: "TrasmissioneSomministrazioneRichiesta",
    wsdl: include_str!("../../../wsdl/TrasmissioneSomministrazione.wsdl"),
    schemas: &[
        (
            "TrasmissioneSomministrazione.xsd",
            include_str!("../../../xsd/TrasmissioneSomministrazione.xsd"),
        ),
        TIPI_DATI_XSD,
    ],
    callers: &[TipoChiamante::Avn],
    handler: Handler::Write(handle),
};

fn handle(conn: &mut PgConnection, ctx: &RequestCtx, body: &str) -> Result<Outcome, DbError> {
    let req: Richiesta = match typed::decode(body) {
        Ok(r) => r,
        Err(fault) => return Ok(Outcome::fault(fault, LogFields::default())),
    };
    // xs:boolean: "true" or "1".
    let deroga = matches!(req.deroga_sequenza_dosi.as_deref(), Some("true" | "1"));
    let record = avn::parse_somministrazione(
        &SomministrazioneIn {
            tipo_operazione: &req.tipo_operazione,
            codice_regione: &req.codice_regione,
            identificativo_assistito: &req.identificativo_assistito,
            regione_somministrazione: &req.regione_somministrazione,
            codice_aic: &req.codice_aic,
            data_somministrazione: &req.data_somministrazione,
            dose: &req.dose,
            deroga_sequenza_dosi: deroga,
        },
        crate::domain::tempo::oggi_roma(),
    );
    trasmissione::trasmetti(conn, ctx, "Somministrazione", record, applica, |e| {
        typed::encode(&Ricevuta {
            identificativo_transazione: ctx.transaction_id.to_string(),
            esito: e.esito.to_owned(),
            descrizione_esito: e.descrizione,
            lista_errori: e.errori,
        })
    })
}

/// Applies one administration (section 4.2.3): what is recorded, from the repository; the
/// rules, here; then the write. Call inside a transaction.
pub fn applica(
    conn: &mut PgConnection,
    s: &Somministrazione,
    transazione: Uuid,
) -> QueryResult<Result<Applicata, Vec<Errore>>> {
    let doses = match repo::dosi_per_somministrazione(conn, s)? {
        Ok(d) => d,
        Err(errors) => return Ok(Err(errors)),
    };
    let this = doses.iter().find(|d| d.dose == s.dose);
    if let Err(e) = sequenza(s, this, &doses) {
        return Ok(Err(vec![e]));
    }
    repo::scrivi_somministrazione(conn, s, this, &doses, transazione)
}

/// The rules of an administration against the patient's recorded doses (`this`: the record of
/// the same dose, if any): duplicates, dose n after dose n-1 unless the region asks for the
/// exception, dates in dose order, no cancel below a later dose.
pub fn sequenza(s: &Somministrazione, this: Option<&Dose>, doses: &[Dose]) -> Result<(), Errore> {
    // The nearest recorded doses below and above this one.
    let lower = doses
        .iter()
        .filter(|d| d.dose < s.dose)
        .max_by_key(|d| d.dose);
    let higher = doses
        .iter()
        .filter(|d| d.dose > s.dose)
        .min_by_key(|d| d.dose);
    let dates_in_order = || {
        let after_lower = lower.is_none_or(|d| d.data_somministrazione <= s.data_somministrazione);
        let before_higher =
            higher.is_none_or(|d| s.data_somministrazione <= d.data_somministrazione);
        if after_lower && before_higher {
            Ok(())
        } else {
            Err(Errore::DataFuoriSequenza)
        }
    };
    match (s.tipo_operazione, this) {
        (TipoOperazione::Inserimento, Some(d)) => {
            let same = d.codice_regione == s.codice_regione.as_str()
                && d.regione_somministrazione == s.regione_somministrazione.as_str()
                && d.codice_aic == s.codice_aic.as_str()
                && d.data_somministrazione == s.data_somministrazione;
            if same {
                Ok(())
            } else {
                Err(Errore::SomministrazioneGiaPresente)
            }
        }
        (TipoOperazione::Inserimento, None) => {
            let previous = lower.is_some_and(|d| d.dose == s.dose - 1);
            if s.dose > 1 && !previous && !s.deroga_sequenza_dosi {
                return Err(Errore::DosePrecedenteAssente);
            }
            dates_in_order()
        }
        (_, None) => Err(Errore::SomministrazioneNonPresente),
        (TipoOperazione::Variazione, Some(_)) => dates_in_order(),
        (TipoOperazione::Cancellazione, Some(_)) => match higher {
            Some(_) => Err(Errore::DoseSuccessivaPresente),
            None => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CodiceAic, CodiceFiscale, CodiceRegione};
    use chrono::NaiveDate;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    fn recorded(dose: i16, date: NaiveDate) -> Dose {
        Dose {
            id: i64::from(dose),
            dose,
            codice_regione: "030".into(),
            regione_somministrazione: "030".into(),
            codice_aic: "049269018".into(),
            data_somministrazione: date,
        }
    }

    fn request(tipo: TipoOperazione, dose: i16, date: NaiveDate, deroga: bool) -> Somministrazione {
        Somministrazione {
            tipo_operazione: tipo,
            codice_regione: CodiceRegione::parse("030").unwrap(),
            codice_fiscale: CodiceFiscale::parse("RSSMRA60C15F205L").unwrap(),
            regione_somministrazione: CodiceRegione::parse("030").unwrap(),
            codice_aic: CodiceAic::parse("049269018").unwrap(),
            data_somministrazione: date,
            dose,
            deroga_sequenza_dosi: deroga,
        }
    }

    fn check(s: &Somministrazione, doses: &[Dose]) -> Result<(), Errore> {
        sequenza(s, doses.iter().find(|d| d.dose == s.dose), doses)
    }

    use TipoOperazione::{Cancellazione as C, Inserimento as I, Variazione as V};

    #[test]
    fn dose_n_needs_dose_n_minus_1_unless_excepted() {
        let doses = [recorded(1, day(1, 10))];
        assert_eq!(check(&request(I, 2, day(2, 10), false), &doses), Ok(()));
        assert_eq!(
            check(&request(I, 3, day(3, 10), false), &doses),
            Err(Errore::DosePrecedenteAssente)
        );
        assert_eq!(check(&request(I, 3, day(3, 10), true), &doses), Ok(()));
        assert_eq!(
            check(&request(I, 1, day(1, 10), false), &[]),
            Ok(()),
            "dose 1 needs nothing"
        );
    }

    #[test]
    fn dates_follow_the_nearest_recorded_doses_on_both_sides() {
        // Dose 3 recorded by exception; dose 2 arrives to fill the gap.
        let doses = [recorded(1, day(1, 10)), recorded(3, day(3, 10))];
        assert_eq!(check(&request(I, 2, day(2, 10), false), &doses), Ok(()));
        assert_eq!(
            check(&request(I, 2, day(4, 1), false), &doses),
            Err(Errore::DataFuoriSequenza),
            "after the next dose"
        );
        assert_eq!(
            check(&request(I, 2, day(1, 9), false), &doses),
            Err(Errore::DataFuoriSequenza),
            "before the previous dose"
        );
        // With the exception, the nearest lower dose still bounds the date.
        assert_eq!(
            check(
                &request(I, 4, day(3, 1), true),
                &[recorded(1, day(1, 10)), recorded(3, day(3, 10))]
            ),
            Err(Errore::DataFuoriSequenza)
        );
        assert_eq!(
            check(&request(I, 5, day(3, 1), true), &[recorded(3, day(3, 10))]),
            Err(Errore::DataFuoriSequenza)
        );
    }

    #[test]
    fn a_change_keeps_the_order_with_both_neighbours() {
        let doses = [recorded(1, day(1, 10)), recorded(2, day(2, 10))];
        assert_eq!(
            check(&request(V, 1, day(3, 1), false), &doses),
            Err(Errore::DataFuoriSequenza)
        );
        assert_eq!(check(&request(V, 1, day(1, 20), false), &doses), Ok(()));
        assert_eq!(
            check(&request(V, 2, day(1, 1), false), &doses),
            Err(Errore::DataFuoriSequenza)
        );
        assert_eq!(
            check(&request(V, 3, day(3, 1), false), &doses),
            Err(Errore::SomministrazioneNonPresente)
        );
    }

    #[test]
    fn duplicates_and_cancels() {
        let doses = [recorded(1, day(1, 10)), recorded(2, day(2, 10))];
        assert_eq!(
            check(&request(I, 2, day(2, 10), false), &doses),
            Ok(()),
            "same data"
        );
        assert_eq!(
            check(&request(I, 2, day(2, 11), false), &doses),
            Err(Errore::SomministrazioneGiaPresente)
        );
        assert_eq!(
            check(&request(C, 1, day(1, 10), false), &doses),
            Err(Errore::DoseSuccessivaPresente)
        );
        assert_eq!(check(&request(C, 2, day(2, 10), false), &doses), Ok(()));
        assert_eq!(
            check(&request(C, 3, day(3, 10), false), &doses),
            Err(Errore::SomministrazioneNonPresente)
        );
    }
}
