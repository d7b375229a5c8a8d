//! The TS-CNS first load ("primo caricamento"): a regional CMS sends its cards' activations and
//! revocations in one signed file (`xsd/flussi/FlussoTSCNS.xsd`), received, queued and imported
//! by the shared bulk-file machinery (`crate::flussi`); here are its streaming parse, its
//! record-by-record import with the rules of the web services, and its outcome records.

pub mod carica;
pub mod esito;
pub mod parse;

use crate::access::TipoChiamante;
use crate::flussi::Genere;

/// Namespace of the file and of the receipt.
pub const NS: &str = "urn:tsgate:tscns:flussoTSCNS";
/// Namespace of the outcome document (`xsd/flussi/EsitoFlussoTSCNS.xsd`).
pub const NS_ESITO: &str = "urn:tsgate:tscns:esitoFlussoTSCNS";
/// Operation names, as in entitlements (`chiamante.operazioni`) and the access log.
pub const INVIO: &str = "InvioFlussoTSCNS";
pub const ESITO: &str = "EsitoFlussoTSCNS";

/// The kind, for the shared machinery (registered in `crate::catalogo`): a file is applied for
/// its sender's region.
pub static GENERE: Genere = Genere {
    codice: "TSCNS",
    path: "/ws/flussi/tscns",
    invio: INVIO,
    esito: ESITO,
    mittente: TipoChiamante::Cms,
    per_regione: true,
    ns: NS,
    ns_esito: NS_ESITO,
    radice: "flussoTSCNS",
    elabora: carica::elabora,
    records: esito::records,
};
