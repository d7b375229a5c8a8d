//! TS-CNS services for the regional Card Management Systems (seeds 000 and 001): activation
//! and revocation of a card's CNS function, the card series, and the certificate renewal of
//! cards whose expiry was extended. Only CMS callers, each only for its own region's cards.

pub mod attivazione;
pub mod errore;
pub mod flusso;
pub mod regole;
pub mod repo;
pub mod revoca;
pub mod revoche;
pub mod rinnovo;
pub mod serie;

use crate::access::TipoChiamante;
use crate::audit::LogFields;
use crate::services::scrittura::Motivo;
use crate::soap::{Fault, FaultCode, RequestCtx};
use errore::Errore;

pub use attivazione::ATTIVAZIONE_TSCNS;
pub use revoca::REVOCA_TSCNS;
pub use rinnovo::{REGISTRA_RINNOVO_CERTIFICATO, VERIFICA_RINNOVO_CERTIFICATO};
pub use serie::ELENCO_SERIE_CARTE;

/// The operations of this family, for the catalogue (`crate::catalogo`).
pub static OPERAZIONI: [&crate::soap::Operation; 7] = [
    &ATTIVAZIONE_TSCNS,
    &REVOCA_TSCNS,
    &ELENCO_SERIE_CARTE,
    &VERIFICA_RINNOVO_CERTIFICATO,
    &REGISTRA_RINNOVO_CERTIFICATO,
    &revoche::ELENCO_REVOCHE,
    &revoche::CONFERMA_REVOCHE,
];

/// Every TS-CNS operation is for the regional Card Management Systems only.
pub const CHIAMANTI: &[TipoChiamante] = &[TipoChiamante::Cms];

impl Motivo for Errore {
    fn codice(self) -> &'static str {
        Errore::codice(self)
    }
    fn descrizione(self) -> &'static str {
        Errore::descrizione(self)
    }
}

/// The region of the calling CMS (every CMS is registered with one).
pub fn regione(ctx: &RequestCtx) -> Result<&str, Fault> {
    ctx.caller
        .codice_regione
        .as_deref()
        .ok_or_else(|| Fault::new(FaultCode::OperationNotAllowed))
}

/// The access-log fields of a request about one card: its number, when well formed (also
/// for a request the schema refused).
pub fn log_tessera(numero: Option<&str>) -> LogFields {
    LogFields {
        numero_tessera: numero
            .map(str::trim)
            .filter(|n| regole::numero_tessera(n).is_ok())
            .map(str::to_owned),
        ..LogFields::default()
    }
}

/// A request about one card: decoded (a schema fault keeps the card number in the log when it
/// can be read), its log fields, and the calling CMS's region. `Err` is the answer to give.
pub fn richiesta<R: yaserde::YaDeserialize + crate::contracts::Validate>(
    ctx: &RequestCtx,
    body: &str,
    numero: impl Fn(&R) -> &str,
) -> Result<(R, LogFields, String), crate::soap::Outcome> {
    use crate::soap::Outcome;
    let req: R =
        crate::soap::typed::decode(body).map_err(|f| Outcome::fault(f, log_corpo(body)))?;
    let log = log_tessera(Some(numero(&req)));
    match regione(ctx) {
        Ok(r) => Ok((req, log, r.to_owned())),
        Err(fault) => Err(Outcome::fault(fault, log)),
    }
}

/// `log_tessera` of a request body that may not decode.
pub fn log_corpo(body: &str) -> LogFields {
    log_tessera(crate::soap::typed::field_text(body, "numeroTessera").as_deref())
}

/// The schemas of a TS-CNS operation: its own and the shared types.
#[macro_export]
macro_rules! tscns_schemas {
    ($name:literal) => {
        &[
            (
                concat!($name, ".xsd"),
                include_str!(concat!("../../../xsd/", $name, ".xsd")),
            ),
            $crate::soap::operation::TIPI_DATI_XSD,
        ]
    };
}
