//! Streaming parse of a first-load file with quick-xml, one record at a time (memory flat
//! whatever the file size). Records (`attivazione`, `revoca`, in any order) get no schema check
//! of their own: their fields go through `regole::parse_*` (CNS-0001..0007, 0101, 0108, 0109).
//! The structure is strict: what cannot be read, another root, an element that is neither a
//! record nor one of its fields, a field given twice or holding elements refuse the whole file
//! (AVN-0511/0512), before anything of it is applied (`carica` reads the file twice).

use super::NS;
use crate::flussi::xml::{self, blank, push_capped_to, xml_error, Budget};
use crate::flussi::{MotivoRifiuto, Rifiuto};
use crate::services::tscns::errore::Errore;
use crate::services::tscns::regole::{self, Attivazione, AttivazioneIn, Revoca, RevocaIn};
use chrono::NaiveDate;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use std::io::Read;

const ROOT: &str = "flussoTSCNS";
const CAMPI_ATTIVAZIONE: &[&str] = &[
    "codiceFiscale",
    "numeroTessera",
    "serialeCertificato",
    "emittenteCertificato",
    "dataInizioValidita",
    "dataFineValidita",
    "dataAttivazione",
];
const CAMPI_REVOCA: &[&str] = &["numeroTessera", "motivo", "dataRevoca"];
/// Characters of `numeroTessera` kept for the outcome (a valid one has 20).
pub const MAX_NUMERO: usize = 32;
/// Bytes of a field value kept: 255 characters of 4 bytes fit, and every field's rule refuses
/// more than 255 characters (the issuer's, CNS-0007, is the longest), so a value cut here is
/// always refused, never stored cut short.
pub const MAX_CAMPO: usize = 1024;

/// The two kinds of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TipoRecord {
    Attivazione,
    Revoca,
}

impl TipoRecord {
    /// The element name, also stored in `flusso_tscns_record.tipo_record`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attivazione => "attivazione",
            Self::Revoca => "revoca",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Attivazione, Self::Revoca]
            .into_iter()
            .find(|t| t.as_str() == s)
    }

    fn campi(self) -> &'static [&'static str] {
        match self {
            Self::Attivazione => CAMPI_ATTIVAZIONE,
            Self::Revoca => CAMPI_REVOCA,
        }
    }
}

/// A record that passed the rules needing no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operazione {
    Attivazione(Attivazione),
    Revoca(Revoca),
}

impl Operazione {
    pub fn numero_tessera(&self) -> &str {
        match self {
            Self::Attivazione(a) => a.numero_tessera.as_str(),
            Self::Revoca(r) => r.numero_tessera.as_str(),
        }
    }
}

/// One record of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based, in document order.
    pub posizione: u64,
    pub tipo: TipoRecord,
    /// `numeroTessera` as sent (trimmed, at most `MAX_NUMERO` characters), for the outcome.
    pub numero_tessera: Option<String>,
    pub esito: Result<Operazione, Vec<Errore>>,
}

pub struct Lettore<R: Read> {
    reader: xml::Reader<R>,
    budget: Budget,
    buf: Vec<u8>,
    fields: [Option<String>; 7],
    posizione: u64,
    oggi: NaiveDate,
    state: State,
}

#[derive(PartialEq, Eq)]
enum State {
    Prolog,
    Records,
    Done,
}

fn nostro(ns: &ResolveResult<'_>) -> bool {
    matches!(ns, ResolveResult::Bound(n) if n.as_ref() == NS)
}

fn fuori_posto(at: u64, posizione: u64, what: String) -> Rifiuto {
    xml_error(at, format!("{what} non previsto (record {posizione})"))
}

fn nome(e: &BytesStart<'_>) -> String {
    e.name().as_ref().to_owned()
}

impl<R: Read> Lettore<R> {
    /// A reader of `input`; `oggi` (Italian time) for the dates that may not be in the future.
    pub fn new(input: R, oggi: NaiveDate) -> Self {
        let (reader, budget) = xml::reader(input);
        Self {
            reader,
            budget,
            buf: Vec::with_capacity(4096),
            fields: Default::default(),
            posizione: 0,
            oggi,
            state: State::Prolog,
        }
    }

    /// Records met so far (the position of the last one).
    pub fn posizione(&self) -> u64 {
        self.posizione
    }

    /// Bytes of the content read so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        self.reader.buffer_position()
    }

    /// The next record, `None` at the end of the document, or the reason to refuse the file.
    pub fn next_record(&mut self) -> Result<Option<Record>, Rifiuto> {
        loop {
            let at = self.reader.buffer_position();
            self.buf.clear();
            let (ns, event) = self
                .reader
                .read_resolved_event_into(&mut self.buf)
                .map_err(|e| xml_error(at, e))?;
            self.budget.reset();
            let empty = matches!(event, Event::Empty(_));
            match (&self.state, event) {
                (_, Event::DocType(_)) => return Err(xml_error(at, "DOCTYPE non ammesso")),
                (_, Event::PI(_)) => {
                    return Err(xml_error(at, "istruzione di elaborazione non ammessa"))
                }
                (State::Prolog, Event::Decl(_)) | (_, Event::Comment(_)) => {}
                (_, Event::Text(t)) if blank(&t) => {}
                (State::Prolog, Event::Start(e)) | (State::Prolog, Event::Empty(e))
                    if !(nostro(&ns) && e.local_name().as_ref() == ROOT) =>
                {
                    return Err(Rifiuto::con(
                        MotivoRifiuto::RadiceNonValida,
                        format!("trovato {}", nome(&e)),
                    ));
                }
                (State::Prolog, Event::Start(_)) => self.state = State::Records,
                (State::Prolog, Event::Empty(_)) => self.state = State::Done,
                (State::Records, Event::Start(e)) | (State::Records, Event::Empty(e)) => {
                    let tipo = TipoRecord::parse(e.local_name().as_ref()).filter(|_| nostro(&ns));
                    self.posizione += 1;
                    let Some(tipo) = tipo else {
                        return Err(fuori_posto(
                            at,
                            self.posizione,
                            format!("elemento {}", nome(&e)),
                        ));
                    };
                    for f in &mut self.fields {
                        *f = None;
                    }
                    if !empty {
                        self.record(tipo)?;
                    }
                    return Ok(Some(self.check(tipo)));
                }
                (State::Records, Event::End(_)) => self.state = State::Done,
                (_, Event::Eof) if self.state == State::Done => return Ok(None),
                (_, Event::Eof) => return Err(xml_error(at, "documento troncato")),
                (_, _) => return Err(xml_error(at, "contenuto non previsto")),
            }
        }
    }

    /// The fields of one record, up to its end tag.
    fn record(&mut self, tipo: TipoRecord) -> Result<(), Rifiuto> {
        loop {
            let at = self.reader.buffer_position();
            self.buf.clear();
            let (ns, event) = self
                .reader
                .read_resolved_event_into(&mut self.buf)
                .map_err(|e| xml_error(at, e))?;
            self.budget.reset();
            let empty = matches!(event, Event::Empty(_));
            match event {
                Event::End(_) => return Ok(()),
                Event::Comment(_) => {}
                Event::Text(t) if blank(&t) => {}
                Event::Start(e) | Event::Empty(e) => {
                    let i = tipo
                        .campi()
                        .iter()
                        .position(|c| *c == e.local_name().as_ref())
                        .filter(|_| nostro(&ns));
                    let what = nome(&e);
                    let Some(i) = i else {
                        return Err(fuori_posto(at, self.posizione, format!("elemento {what}")));
                    };
                    if self.fields[i].is_some() {
                        return Err(fuori_posto(at, self.posizione, format!("{what} ripetuto,")));
                    }
                    let mut value = String::new();
                    if !empty {
                        self.field(&mut value)?;
                    }
                    self.fields[i] = Some(value);
                }
                Event::Eof => return Err(xml_error(at, "record troncato")),
                _ => return Err(xml_error(at, "contenuto non previsto nel record")),
            }
        }
    }

    /// The text of a field up to its end tag.
    fn field(&mut self, value: &mut String) -> Result<(), Rifiuto> {
        loop {
            let at = self.reader.buffer_position();
            self.buf.clear();
            let event = self
                .reader
                .read_event_into(&mut self.buf)
                .map_err(|e| xml_error(at, e))?;
            self.budget.reset();
            match event {
                Event::End(_) => return Ok(()),
                Event::Text(t) => push_capped_to(value, &t, MAX_CAMPO),
                Event::CData(t) => push_capped_to(value, &t, MAX_CAMPO),
                Event::GeneralRef(r) => {
                    let c = xml::char_reference(&r, at)?;
                    push_capped_to(value, c.encode_utf8(&mut [0; 4]), MAX_CAMPO);
                }
                Event::Comment(_) => {}
                Event::Eof => return Err(xml_error(at, "record troncato")),
                _ => return Err(xml_error(at, "elemento non previsto in un campo")),
            }
        }
    }

    /// The rules of the web service over the fields read.
    fn check(&self, tipo: TipoRecord) -> Record {
        let f = |i: usize| self.fields[i].as_deref();
        let (numero, esito) = match tipo {
            TipoRecord::Attivazione => {
                let input = AttivazioneIn {
                    codice_fiscale: f(0),
                    numero_tessera: f(1),
                    seriale: f(2),
                    emittente: f(3),
                    valido_dal: f(4),
                    valido_al: f(5),
                    data_attivazione: f(6),
                };
                let esito = regole::parse_attivazione(&input, self.oggi);
                (f(1), esito.map(Operazione::Attivazione))
            }
            TipoRecord::Revoca => {
                let input = RevocaIn {
                    numero_tessera: f(0),
                    motivo: f(1),
                    data_revoca: f(2),
                };
                let esito = regole::parse_revoca(&input, self.oggi);
                (f(0), esito.map(Operazione::Revoca))
            }
        };
        Record {
            posizione: self.posizione,
            tipo,
            numero_tessera: numero.map(str::trim).filter(|s| !s.is_empty()).map(|s| {
                crate::flussi::xml::printable(crate::flussi::documenti::troncato(s, MAX_NUMERO))
            }),
            esito,
        }
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
