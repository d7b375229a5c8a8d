//! The catalogue: every SOAP operation and every bulk-file kind the gateway serves, gathered
//! from the service folders. The one place above the services that names them for the
//! machinery: `app` puts these tables in the shared state, the CLI reads them; the SOAP layer
//! and `flussi/` know only the `Operation` and `Genere` types.

use crate::flussi::{Generi, Tipo};
use crate::services::{tscns, vaccini};
use crate::soap::Operation;
use std::sync::LazyLock;

/// Every operation, family by family.
pub fn operazioni() -> &'static [&'static Operation] {
    static ALL: LazyLock<Vec<&'static Operation>> =
        LazyLock::new(|| [&vaccini::OPERAZIONI[..], &tscns::OPERAZIONI[..]].concat());
    &ALL
}

/// Every kind of bulk file.
pub const GENERI: Generi = Generi(&[&vaccini::flusso::GENERE, &tscns::flusso::GENERE]);

/// The AVN bookings file.
pub const PRENOTAZIONI: Tipo = &vaccini::flusso::GENERE;
/// The TS-CNS first-load file of a regional CMS.
pub const TSCNS: Tipo = &tscns::flusso::GENERE;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn operations_have_distinct_names_paths_and_elements() {
        let mut seen = HashSet::new();
        for op in operazioni() {
            for s in [op.name, op.path, op.soap_action, op.request_element] {
                assert!(seen.insert(s), "{s} twice");
            }
        }
        assert_eq!(operazioni().len(), 11);
    }

    #[test]
    fn kinds_round_trip_and_have_distinct_paths_and_operations() {
        let mut seen = HashSet::new();
        for t in GENERI.iter() {
            assert_eq!(GENERI.parse(t.codice), Some(t));
            assert_eq!(GENERI.per_nome(t.nome()), Some(t));
            assert!(t.path.starts_with(crate::flussi::http::PREFIX));
            for s in [
                t.path, t.invio, t.esito, t.ns, t.ns_esito, t.radice, t.codice,
            ] {
                assert!(seen.insert(s), "{s} twice");
            }
        }
        // No bulk-file operation is also a SOAP operation.
        for op in operazioni() {
            assert!(!seen.contains(op.name), "{} is both", op.name);
        }
    }
}
