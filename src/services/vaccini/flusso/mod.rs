//! Bulk booking files of the AVN (decree 31 May 2021, annex A, 4.1, the "flusso massivo"): the
//! streaming parse, the staged set-based import and the outcome document. Transport, signature,
//! states, worker and CLI are shared with the other kinds of file (`crate::flussi`).

pub mod carica;
pub mod esito;
pub mod parse;

use crate::access::TipoChiamante;
use crate::flussi::Genere;

/// Namespace of the file, of the receipt and of the outcome document (`xsd/flussi/`).
pub const NS: &str = "urn:tsgate:vaccini:flussoPrenotazioni";
/// Operation names, as in entitlements (`chiamante.operazioni`) and the access log.
pub const INVIO: &str = "InvioFlussoPrenotazioni";
pub const ESITO: &str = "EsitoFlussoPrenotazioni";

/// The kind, for the shared machinery (registered in `crate::catalogo`).
pub static GENERE: Genere = Genere {
    codice: "PRENOTAZIONI",
    path: "/ws/flussi/prenotazioni",
    invio: INVIO,
    esito: ESITO,
    mittente: TipoChiamante::Avn,
    per_regione: false,
    ns: NS,
    ns_esito: esito::NS_ESITO,
    radice: "flussoPrenotazioni",
    elabora: carica::elabora,
    records: esito::records,
};

#[cfg(test)]
mod tests {
    #[test]
    fn record_shape_codes_are_listed_in_the_integrators_guide() {
        let readme = include_str!("../../../../docs/integrators.md");
        for e in [
            crate::services::vaccini::avn::Errore::ElementoNonPrevisto,
            crate::services::vaccini::avn::Errore::ElementoRipetuto,
        ] {
            assert!(
                readme.contains(e.codice()),
                "{} not in docs/integrators.md",
                e.codice()
            );
        }
    }
}
