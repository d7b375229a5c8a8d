//! The TS-CNS first load ("primo caricamento"): a regional CMS sends its cards' activations and
//! revocations in one signed file (`xsd/flussi/FlussoTSCNS.xsd`), received, queued and imported
//! by the shared bulk-file machinery (`crate::flussi`); here are its streaming parse, its
//! record-by-record import with the rules of the web services, and its outcome records.

pub mod carica;
pub mod esito;
pub mod parse;

/// Namespace of the file and of the receipt.
pub const NS: &str = "urn:tsgate:tscns:flussoTSCNS";
/// Namespace of the outcome document (`xsd/flussi/EsitoFlussoTSCNS.xsd`).
pub const NS_ESITO: &str = "urn:tsgate:tscns:esitoFlussoTSCNS";
/// Operation names, as in entitlements (`chiamante.operazioni`) and the access log.
pub const INVIO: &str = "InvioFlussoTSCNS";
pub const ESITO: &str = "EsitoFlussoTSCNS";
