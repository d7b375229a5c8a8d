//! The single table of gateway fault codes, and the SOAP 1.1 Fault they render to.
//!
//! Business outcomes (esito 00/01/02) are answers, not faults: a fault means the request was not
//! or could not be processed. Codes are stable and listed in docs/integrators.md; `faultstring` is Italian;
//! the detail carries the code, an Italian description and the transaction id, in our namespace.

use http::StatusCode;
use quick_xml::escape::escape;

pub use super::envelope::SOAP11_ENV as SOAP11_NS;
pub const FAULT_DETAIL_NS: &str = "urn:tsgate:errori";

/// The SOAP 1.1 faultcode class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultClass {
    Client,
    Server,
    VersionMismatch,
    MustUnderstand,
}

impl FaultClass {
    fn as_str(self) -> &'static str {
        match self {
            Self::Client => "Client",
            Self::Server => "Server",
            Self::VersionMismatch => "VersionMismatch",
            Self::MustUnderstand => "MustUnderstand",
        }
    }
}

macro_rules! fault_codes {
    ($( $name:ident = $code:literal, $class:ident, $status:literal, $text:literal; )*) => {
        /// Every fault the gateway can answer.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FaultCode { $( $name, )* }

        impl FaultCode {
            pub const ALL: &'static [FaultCode] = &[ $( FaultCode::$name, )* ];

            /// The stable code, e.g. `TSG-0301`.
            pub fn code(self) -> &'static str {
                match self { $( Self::$name => $code, )* }
            }
            pub fn class(self) -> FaultClass {
                match self { $( Self::$name => FaultClass::$class, )* }
            }
            /// HTTP status: 500 as WS-I Basic Profile asks, except 413, 429 and 503.
            pub fn status(self) -> StatusCode {
                match self { $( Self::$name => StatusCode::from_u16($status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), )* }
            }
            /// The Italian faultstring.
            pub fn message(self) -> &'static str {
                match self { $( Self::$name => $text, )* }
            }
        }
    };
}

fault_codes! {
    HandshakeRefused = "TSG-0101", Client, 500, "Certificato client assente, non valido o revocato";
    UnknownCertificate = "TSG-0102", Client, 500, "Certificato client non associato ad alcun chiamante registrato";
    IpNotAllowed = "TSG-0103", Client, 500, "Indirizzo IP di provenienza non autorizzato per il chiamante";
    OperationNotAllowed = "TSG-0104", Client, 500, "Operazione non consentita al chiamante";
    UnknownOperation = "TSG-0201", Client, 500, "Operazione sconosciuta";
    WrongSoapAction = "TSG-0202", Client, 500, "SOAPAction assente o non corrispondente all'operazione";
    UnsupportedContentType = "TSG-0203", Client, 500, "Content-Type non supportato: è richiesto text/xml";
    MethodNotAllowed = "TSG-0204", Client, 500, "Metodo HTTP non consentito: è richiesto POST";
    Malformed = "TSG-0210", Client, 500, "Messaggio XML non ben formato";
    NotUtf8 = "TSG-0211", Client, 500, "Codifica del messaggio non supportata: sono ammessi UTF-8 e UTF-16";
    Doctype = "TSG-0212", Client, 500, "Dichiarazioni DOCTYPE ed entità non sono ammesse";
    ProcessingInstruction = "TSG-0213", Client, 500, "Istruzioni di elaborazione XML non ammesse";
    EntityReference = "TSG-0214", Client, 500, "Riferimenti a entità non ammessi";
    TooDeep = "TSG-0215", Client, 500, "Annidamento degli elementi oltre il limite consentito";
    TooManyAttributes = "TSG-0216", Client, 500, "Numero di attributi di un elemento oltre il limite consentito";
    TooManyChildren = "TSG-0217", Client, 500, "Numero di elementi figli oltre il limite consentito";
    AttributeTooLong = "TSG-0218", Client, 500, "Valore di attributo oltre la lunghezza consentita";
    NotAnEnvelope = "TSG-0219", Client, 500, "Il messaggio non è una busta SOAP 1.1 valida";
    VersionMismatch = "TSG-0220", VersionMismatch, 500, "Versione SOAP non supportata: è richiesto SOAP 1.1";
    BodyNotSingle = "TSG-0221", Client, 500, "Il Body SOAP deve contenere esattamente un elemento";
    MustUnderstand = "TSG-0222", MustUnderstand, 500, "Intestazione SOAP obbligatoria (mustUnderstand) non gestita";
    TooLarge = "TSG-0230", Client, 413, "Messaggio oltre la dimensione massima consentita";
    RequestTimeout = "TSG-0231", Client, 500, "Tempo massimo di invio della richiesta superato";
    SchemaViolation = "TSG-0301", Client, 500, "Richiesta non conforme allo schema";
    CodiceFiscaleInvalid = "TSG-0302", Client, 500, "Codice fiscale formalmente non valido";
    RegioneChiamanteNotAllowed = "TSG-0303", Client, 500, "Il campo regioneChiamante è ammesso solo per la Piattaforma Nazionale";
    RegioneChiamanteRequired = "TSG-0304", Client, 500, "Il campo regioneChiamante è obbligatorio per la Piattaforma Nazionale";
    RegioneChiamanteUnknown = "TSG-0305", Client, 500, "Regione chiamante sconosciuta";
    NumeroTesseraRequired = "TSG-0306", Client, 500, "Numero di tessera sanitaria obbligatorio per la regione chiamante";
    FlussoNonTrovato = "TSG-0601", Client, 500, "Flusso non trovato: protocollo sconosciuto o inviato da un altro chiamante";
    FlussoContentType = "TSG-0602", Client, 500, "Content-Type non supportato: è richiesto application/pkcs7-mime o application/octet-stream";
    RateLimited = "TSG-0429", Client, 429, "Limite di richieste superato: riprovare più tardi";
    Internal = "TSG-0500", Server, 500, "Errore interno del servizio";
    Overloaded = "TSG-0503", Server, 503, "Servizio momentaneamente sovraccarico: riprovare più tardi";
    Unavailable = "TSG-0504", Server, 503, "Servizio momentaneamente non disponibile: riprovare più tardi";
}

/// A fault to answer: its code and, optionally, an Italian detail (never internals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: FaultCode,
    pub detail: Option<String>,
}

impl Fault {
    pub fn new(code: FaultCode) -> Self {
        Self { code, detail: None }
    }

    pub fn with_detail(code: FaultCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: Some(detail.into()),
        }
    }

    /// The whole SOAP 1.1 envelope carrying this fault.
    pub fn to_envelope(&self, transaction_id: &str) -> String {
        let descrizione = match &self.detail {
            Some(d) => format!("{}: {}", self.code.message(), d),
            None => self.code.message().to_owned(),
        };
        format!(
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?>"#,
                r#"<soapenv:Envelope xmlns:soapenv="{soap}"><soapenv:Body><soapenv:Fault>"#,
                "<faultcode>soapenv:{class}</faultcode>",
                "<faultstring xml:lang=\"it\">{string}</faultstring>",
                r#"<detail><tsg:erroreGateway xmlns:tsg="{ns}">"#,
                "<tsg:codice>{code}</tsg:codice>",
                "<tsg:descrizione>{descrizione}</tsg:descrizione>",
                "<tsg:identificativoTransazione>{tx}</tsg:identificativoTransazione>",
                "</tsg:erroreGateway></detail>",
                "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
            ),
            soap = SOAP11_NS,
            class = self.code.class().as_str(),
            string = escape(self.code.message()),
            ns = FAULT_DETAIL_NS,
            code = self.code.code(),
            descrizione = escape(descrizione.as_str()),
            tx = escape(transaction_id),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for f in FaultCode::ALL {
            assert!(seen.insert(f.code()), "duplicate {}", f.code());
            assert!(
                f.code().starts_with("TSG-0") && f.code().len() == 8,
                "{}",
                f.code()
            );
        }
    }

    #[test]
    fn statuses_follow_ws_i_with_three_exceptions() {
        for f in FaultCode::ALL {
            let s = f.status().as_u16();
            assert!(matches!(s, 500 | 413 | 429 | 503), "{f:?} -> {s}");
        }
        assert_eq!(FaultCode::TooLarge.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            FaultCode::RateLimited.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            FaultCode::Overloaded.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn every_code_is_listed_in_the_integrators_guide() {
        let readme = include_str!("../../docs/integrators.md");
        for f in FaultCode::ALL {
            assert!(
                readme.contains(f.code()),
                "{} missing from docs/integrators.md",
                f.code()
            );
        }
    }

    #[test]
    fn envelope_escapes_the_detail() {
        let xml =
            Fault::with_detail(FaultCode::SchemaViolation, "campo <a> & \"b\"").to_envelope("tx");
        assert!(xml.contains("campo &lt;a&gt; &amp; &quot;b&quot;"), "{xml}");
        assert!(xml.contains("<faultcode>soapenv:Client</faultcode>"));
        assert!(xml.contains("<tsg:codice>TSG-0301</tsg:codice>"));
    }
}
