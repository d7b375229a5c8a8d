//! Streaming parse of the bulk file with quick-xml: one record at a time, memory flat whatever
//! the file size. Each `prenotazione` is checked field by field (unknown or repeated elements
//! reject that record) and then by `avn::parse_prenotazione`, as the web service does.
//! What cannot be read at all (not well formed, DOCTYPE, entities, wrong root) refuses the file.

use super::NS;
use crate::flussi::xml::{self, blank, push_capped, xml_error, Budget};
use crate::flussi::{MotivoRifiuto, Rifiuto};
use crate::services::vaccini::avn::{self, Errore, Prenotazione, PrenotazioneIn};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use std::io::Read;

const ROOT: &str = "flussoPrenotazioni";
const RECORD: &str = "prenotazione";
const FIELDS: [&str; 7] = [
    "tipoOperazione",
    "codiceRegione",
    "identificativoAssistito",
    "regionePrenotazione",
    "codiceAIC",
    "dataPrenotazione",
    "dose",
];

/// One record: its position (1-based, in document order) and its checked content.
pub type Record = (u64, Result<Prenotazione, Vec<Errore>>);

pub struct Lettore<R: Read> {
    reader: xml::Reader<R>,
    since_event: Budget,
    buf: Vec<u8>,
    skip: Vec<u8>,
    fields: [String; 7],
    posizione: u64,
    state: State,
}

#[derive(PartialEq, Eq)]
enum State {
    Prolog,
    Records,
    Done,
}

/// What a `Start`/`Empty` element is, once its namespace is resolved.
enum Kind {
    Root,
    Record,
    Field(usize),
    Other,
}

fn kind(ns: &ResolveResult<'_>, e: &BytesStart<'_>) -> Kind {
    if !matches!(ns, ResolveResult::Bound(n) if n.as_ref() == NS) {
        return Kind::Other;
    }
    let local = e.local_name();
    match local.as_ref() {
        ROOT => Kind::Root,
        RECORD => Kind::Record,
        l => FIELDS
            .iter()
            .position(|f| *f == l)
            .map_or(Kind::Other, Kind::Field),
    }
}

impl<R: Read> Lettore<R> {
    pub fn new(input: R) -> Self {
        let (reader, since_event) = xml::reader(input);
        Self {
            reader,
            since_event,
            buf: Vec::with_capacity(4096),
            skip: Vec::new(),
            fields: Default::default(),
            posizione: 0,
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

    /// Skips an element up to its end tag `end` (its content counted against the byte budget),
    /// then starts the budget again.
    fn skip_to(&mut self, end: &quick_xml::events::BytesEnd<'_>, at: u64) -> Result<(), Rifiuto> {
        self.skip.clear();
        self.reader
            .read_to_end_into(end.name(), &mut self.skip)
            .map_err(|e| xml_error(at, e))?;
        self.since_event.reset();
        Ok(())
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
            self.since_event.reset();
            match (&self.state, event) {
                (_, Event::DocType(_)) => return Err(xml_error(at, "DOCTYPE non ammesso")),
                (_, Event::PI(_)) => {
                    return Err(xml_error(at, "istruzione di elaborazione non ammessa"))
                }
                (State::Prolog, Event::Decl(_)) | (_, Event::Comment(_)) => {}
                (_, Event::Text(t)) if blank(&t) => {}
                (State::Prolog, Event::Start(e)) | (State::Prolog, Event::Empty(e))
                    if !matches!(kind(&ns, &e), Kind::Root) =>
                {
                    let name = e.name().as_ref().to_owned();
                    return Err(Rifiuto::con(
                        MotivoRifiuto::RadiceNonValida,
                        format!("trovato {name}"),
                    ));
                }
                (State::Prolog, Event::Start(_)) => self.state = State::Records,
                (State::Prolog, Event::Empty(_)) => self.state = State::Done,
                (State::Records, Event::Start(e)) => {
                    self.posizione += 1;
                    let is_record = matches!(kind(&ns, &e), Kind::Record);
                    let end = e.to_end().into_owned();
                    let result = if is_record {
                        self.record(at)?
                    } else {
                        self.skip_to(&end, at)?;
                        Err(vec![Errore::ElementoNonPrevisto])
                    };
                    return Ok(Some((self.posizione, result)));
                }
                (State::Records, Event::Empty(e)) => {
                    self.posizione += 1;
                    let result = match kind(&ns, &e) {
                        Kind::Record => self.check(Vec::new()),
                        _ => Err(vec![Errore::ElementoNonPrevisto]),
                    };
                    return Ok(Some((self.posizione, result)));
                }
                (State::Records, Event::End(_)) => self.state = State::Done,
                (_, Event::Eof) if self.state == State::Done => return Ok(None),
                (_, Event::Eof) => return Err(xml_error(at, "documento troncato")),
                (_, _) => return Err(xml_error(at, "contenuto non previsto")),
            }
        }
    }

    /// The fields of one `prenotazione`, up to its end tag.
    fn record(&mut self, start: u64) -> Result<Result<Prenotazione, Vec<Errore>>, Rifiuto> {
        for f in &mut self.fields {
            f.clear();
        }
        let mut seen = [false; 7];
        let mut shape = Vec::new();
        let flag = |shape: &mut Vec<Errore>, e: Errore| {
            if !shape.contains(&e) {
                shape.push(e);
            }
        };
        loop {
            let at = self.reader.buffer_position();
            self.buf.clear();
            let (ns, event) = self
                .reader
                .read_resolved_event_into(&mut self.buf)
                .map_err(|e| xml_error(at, e))?;
            self.since_event.reset();
            match event {
                Event::End(_) => break,
                Event::Comment(_) => {}
                Event::Text(t) if blank(&t) => {}
                Event::Empty(e) => match kind(&ns, &e) {
                    Kind::Field(i) => {
                        if std::mem::replace(&mut seen[i], true) {
                            flag(&mut shape, Errore::ElementoRipetuto);
                        }
                    }
                    _ => flag(&mut shape, Errore::ElementoNonPrevisto),
                },
                Event::Start(e) => {
                    let k = kind(&ns, &e);
                    let end = e.to_end().into_owned();
                    match k {
                        Kind::Field(i) => {
                            let repeated = std::mem::replace(&mut seen[i], true);
                            if repeated {
                                flag(&mut shape, Errore::ElementoRipetuto);
                            }
                            if !self.field(i, repeated)? {
                                flag(&mut shape, Errore::ElementoNonPrevisto);
                            }
                        }
                        _ => {
                            self.skip_to(&end, at)?;
                            flag(&mut shape, Errore::ElementoNonPrevisto);
                        }
                    }
                }
                Event::Eof => return Err(xml_error(start, "record troncato")),
                Event::DocType(_) | Event::PI(_) => {
                    return Err(xml_error(at, "costrutto non ammesso"))
                }
                _ => flag(&mut shape, Errore::ElementoNonPrevisto),
            }
        }
        Ok(self.check(shape))
    }

    /// The text of field `i` up to its end tag; false when it held elements.
    fn field(&mut self, i: usize, repeated: bool) -> Result<bool, Rifiuto> {
        let mut only_text = true;
        loop {
            let at = self.reader.buffer_position();
            self.buf.clear();
            let event = self
                .reader
                .read_event_into(&mut self.buf)
                .map_err(|e| xml_error(at, e))?;
            self.since_event.reset();
            match event {
                Event::End(_) => return Ok(only_text),
                Event::Text(t) if !repeated => push_capped(&mut self.fields[i], &t),
                Event::CData(t) if !repeated => push_capped(&mut self.fields[i], &t),
                Event::GeneralRef(r) => {
                    let c = xml::char_reference(&r, at)?;
                    if !repeated {
                        push_capped(&mut self.fields[i], c.encode_utf8(&mut [0; 4]));
                    }
                }
                Event::Start(e) => {
                    let end = e.to_end().into_owned();
                    self.skip_to(&end, at)?;
                    only_text = false;
                }
                Event::Empty(_) => only_text = false,
                Event::Eof => return Err(xml_error(at, "record troncato")),
                Event::DocType(_) | Event::PI(_) => {
                    return Err(xml_error(at, "costrutto non ammesso"))
                }
                _ => {}
            }
        }
    }

    /// Shape errors first, then the record rules of the web service.
    fn check(&self, mut shape: Vec<Errore>) -> Result<Prenotazione, Vec<Errore>> {
        let f = |i: usize| self.fields[i].trim();
        let input = PrenotazioneIn {
            tipo_operazione: f(0),
            codice_regione: f(1),
            identificativo_assistito: f(2),
            regione_prenotazione: f(3),
            codice_aic: Some(f(4)).filter(|s| !s.is_empty()),
            data_prenotazione: f(5),
            dose: f(6),
        };
        match avn::parse_prenotazione(&input) {
            Ok(p) if shape.is_empty() => Ok(p),
            Ok(_) => Err(shape),
            Err(errors) => {
                for e in errors {
                    if !shape.contains(&e) {
                        shape.push(e);
                    }
                }
                Err(shape)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flussi::xml::{MAX_EVENT, MAX_FIELD, READ_AHEAD};

    fn doc(records: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><f:flussoPrenotazioni xmlns:f="{NS}">{records}</f:flussoPrenotazioni>"#
        )
    }

    const GOOD: &str = "<f:prenotazione><f:tipoOperazione>I</f:tipoOperazione><f:codiceRegione>030</f:codiceRegione><f:identificativoAssistito>RSSMRA60C15F205L</f:identificativoAssistito><f:regionePrenotazione>030</f:regionePrenotazione><f:dataPrenotazione>2026-12-01</f:dataPrenotazione><f:dose>1</f:dose></f:prenotazione>";

    fn all(xml: &str) -> Result<Vec<Record>, Rifiuto> {
        let mut l = Lettore::new(xml.as_bytes());
        let mut out = Vec::new();
        while let Some(r) = l.next_record()? {
            out.push(r);
        }
        Ok(out)
    }

    #[test]
    fn good_records_and_positions() {
        let r = all(&doc(&format!("{GOOD}\n{GOOD}"))).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].0, 2);
        assert!(r[0].1.is_ok());
    }

    #[test]
    fn unknown_and_repeated_elements_reject_the_record_only() {
        let unknown = GOOD.replace(
            "<f:dose>1</f:dose>",
            "<f:dose>1</f:dose><f:altro>x</f:altro>",
        );
        let repeated = GOOD.replace("<f:dose>1</f:dose>", "<f:dose>1</f:dose><f:dose>2</f:dose>");
        let r = all(&doc(&format!("{unknown}{repeated}<f:altro/>{GOOD}"))).unwrap();
        assert_eq!(r[0].1, Err(vec![Errore::ElementoNonPrevisto]));
        assert_eq!(r[1].1, Err(vec![Errore::ElementoRipetuto]));
        assert_eq!(r[2].1, Err(vec![Errore::ElementoNonPrevisto]));
        assert!(r[3].1.is_ok());
    }

    #[test]
    fn structure_errors_refuse_the_file() {
        let doctype = format!("<!DOCTYPE x>{}", doc(GOOD));
        assert_eq!(
            all(&doctype).unwrap_err().motivo,
            MotivoRifiuto::XmlNonValido
        );
        let wrong = GOOD.to_owned();
        assert_eq!(
            all(&format!("<x xmlns:f=\"{NS}\">{wrong}</x>"))
                .unwrap_err()
                .motivo,
            MotivoRifiuto::RadiceNonValida
        );
        let truncated = doc(GOOD);
        let truncated = &truncated[..truncated.len() - 10];
        assert_eq!(
            all(truncated).unwrap_err().motivo,
            MotivoRifiuto::XmlNonValido
        );
        let entity = doc(&GOOD.replace(">I<", ">&foo;<"));
        assert_eq!(
            all(&entity).unwrap_err().motivo,
            MotivoRifiuto::XmlNonValido
        );
    }

    #[test]
    fn a_giant_construct_refuses_the_file_without_being_buffered() {
        let big = 2 * MAX_EVENT as usize;
        let cases = [
            GOOD.replace(">I<", &format!(">{}<", "I".repeat(big))),
            // A comment, a CDATA section and an unknown element hold `<` and `>` inside.
            format!("<!--{}-->{GOOD}", "a > b < c ".repeat(big / 10)),
            GOOD.replace(">I<", &format!("><![CDATA[{}]]><", "<>".repeat(big / 2))),
            format!("<f:altro>{}</f:altro>{GOOD}", "<x/>".repeat(big / 4)),
        ];
        for case in cases {
            let xml = doc(&case);
            let mut l = Lettore::new(xml.as_bytes());
            let refused = loop {
                match l.next_record() {
                    Ok(Some(_)) => continue,
                    Ok(None) => break None,
                    Err(e) => break Some(e.motivo),
                }
            };
            assert_eq!(
                refused,
                Some(MotivoRifiuto::XmlNonValido),
                "{}",
                &case[..40]
            );
            // Bounded by the budget (times two: a vector doubles as it grows).
            let bound = 2 * (MAX_EVENT + READ_AHEAD as u64);
            assert!(l.buf.capacity() as u64 <= bound, "{}", l.buf.capacity());
            assert!(l.skip.capacity() as u64 <= bound, "{}", l.skip.capacity());
        }
        let fine = doc(&format!("{GOOD}{GOOD}"));
        assert_eq!(all(&fine).unwrap().len(), 2);
    }

    #[test]
    fn a_large_valid_document_is_read_whole() {
        // Many times the per-event budget in total, each event small.
        let records = GOOD.repeat(4 * (MAX_EVENT as usize) / GOOD.len());
        let n = all(&doc(&records)).unwrap().len();
        assert!(n * GOOD.len() > 3 * MAX_EVENT as usize, "{n} records");
        // An unknown element under the budget rejects its record only, and the budget starts
        // again after it.
        let skipped = format!("<f:altro>{}</f:altro>", "<x/>".repeat(250_000));
        let r = all(&doc(&format!("{skipped}{skipped}{GOOD}"))).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[2].1.as_ref().map(|p| p.dose), Ok(1));
    }

    #[test]
    fn a_field_split_by_comments_is_capped_and_refused() {
        let split = format!("0<!---->{}", "4<!---->".repeat(10_000));
        let r = all(&doc(&GOOD.replace(
            ">030</f:codiceRegione>",
            &format!(">{split}</f:codiceRegione>"),
        )))
        .unwrap();
        assert_eq!(r[0].1, Err(vec![Errore::CodiceRegioneSconosciuto]));
        let xml = doc(&GOOD.replace(
            ">030</f:codiceRegione>",
            &format!(">{split}</f:codiceRegione>"),
        ));
        let mut l = Lettore::new(xml.as_bytes());
        assert!(l.next_record().unwrap().is_some());
        assert!(l.fields[1].len() <= MAX_FIELD + 4, "{}", l.fields[1].len());
    }

    #[test]
    fn field_rules_are_those_of_the_web_service() {
        let bad = GOOD.replace(">1</f:dose>", ">0</f:dose>");
        let r = all(&doc(&bad)).unwrap();
        assert_eq!(r[0].1, Err(vec![Errore::DoseNonValida]));
    }
}
