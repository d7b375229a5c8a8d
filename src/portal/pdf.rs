//! The "Stampa pincode" letter: one A4 page in the built-in Helvetica and Helvetica-Bold
//! (WinAnsiEncoding) with text, lines and rectangles, written with `pdf-writer`.
//!
//! The output is uncompressed and deterministic for given contents and creation time: a catalog,
//! a page tree with one page, two fonts, one content stream and an `/Info` dictionary.

use crate::domain::tempo::offset_roma;
use crate::domain::CodiceFiscale;
use crate::portal::pincode::Pincode;
use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use pdf_writer::{Content, Date, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use std::fmt;

/// A4 width in points.
pub const LARGHEZZA_A4: f32 = 595.28;
/// A4 height in points.
pub const ALTEZZA_A4: f32 = 841.89;

const CATALOGO: Ref = Ref::new(1);
const PAGINE: Ref = Ref::new(2);
const PAGINA: Ref = Ref::new(3);
const HELVETICA: Ref = Ref::new(4);
const HELVETICA_BOLD: Ref = Ref::new(5);
const CONTENUTO: Ref = Ref::new(6);
const INFO: Ref = Ref::new(7);

/// A one-page A4 document under construction. Coordinates are PDF points from the bottom-left
/// corner; `y` of a text is its baseline.
pub struct Documento {
    titolo: String,
    creato: DateTime<Utc>,
    contenuto: Content,
}

impl Documento {
    /// An empty page; `titolo` and `creato` go to the `/Info` dictionary (Title, CreationDate in
    /// Italian civil time), with Producer "tsgate".
    pub fn new(titolo: &str, creato: DateTime<Utc>) -> Self {
        Self {
            titolo: titolo.to_owned(),
            creato,
            contenuto: Content::new(),
        }
    }

    /// Writes `testo` at (`x`, `y`) in Helvetica (or Helvetica-Bold) of size `dimensione`.
    /// Characters outside WinAnsiEncoding print as `?`.
    pub fn testo(&mut self, x: f32, y: f32, dimensione: f32, grassetto: bool, testo: &str) {
        let font = Name(if grassetto { b"F2" } else { b"F1" });
        self.contenuto
            .begin_text()
            .set_font(font, dimensione)
            .next_line(x, y)
            .show(Str(&winansi(testo)))
            .end_text();
    }

    /// A straight black line from (`x1`, `y1`) to (`x2`, `y2`), `spessore` points wide.
    pub fn linea(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, spessore: f32) {
        self.contenuto
            .set_line_width(spessore)
            .move_to(x1, y1)
            .line_to(x2, y2)
            .stroke();
    }

    /// The outline of a rectangle with its bottom-left corner at (`x`, `y`).
    pub fn rettangolo(&mut self, x: f32, y: f32, larghezza: f32, altezza: f32, spessore: f32) {
        self.contenuto
            .set_line_width(spessore)
            .rect(x, y, larghezza, altezza)
            .stroke();
    }

    /// A rectangle filled with gray level `grigio` (0 black, 1 white), without outline; the
    /// fill colour of later text stays black.
    pub fn rettangolo_pieno(&mut self, x: f32, y: f32, larghezza: f32, altezza: f32, grigio: f32) {
        self.contenuto
            .save_state()
            .set_fill_gray(grigio.clamp(0.0, 1.0))
            .rect(x, y, larghezza, altezza)
            .fill_nonzero()
            .restore_state();
    }

    /// The complete PDF file: `%PDF-1.4` ... `%%EOF`.
    pub fn pdf(self) -> Vec<u8> {
        let mut pdf = Pdf::new();
        // Nothing here needs more than PDF 1.4 (base-14 fonts, one uncompressed stream).
        pdf.set_version(1, 4);
        pdf.catalog(CATALOGO).pages(PAGINE);
        pdf.pages(PAGINE).kids([PAGINA]).count(1);
        let mut pagina = pdf.page(PAGINA);
        pagina
            .parent(PAGINE)
            .media_box(Rect::new(0.0, 0.0, LARGHEZZA_A4, ALTEZZA_A4))
            .contents(CONTENUTO);
        pagina
            .resources()
            .fonts()
            .pair(Name(b"F1"), HELVETICA)
            .pair(Name(b"F2"), HELVETICA_BOLD);
        pagina.finish();
        for (id, nome) in [
            (HELVETICA, b"Helvetica".as_slice()),
            (HELVETICA_BOLD, b"Helvetica-Bold"),
        ] {
            pdf.type1_font(id)
                .base_font(Name(nome))
                .encoding_predefined(Name(b"WinAnsiEncoding"));
        }
        pdf.stream(CONTENUTO, &self.contenuto.finish());
        pdf.document_info(INFO)
            .title(TextStr(&self.titolo))
            .producer(TextStr("tsgate"))
            .creation_date(data_pdf(self.creato));
        pdf.finish()
    }
}

/// `testo` in WinAnsiEncoding (Windows-1252): ASCII and Latin-1 as they are, the typographic
/// characters of 0x80-0x9F (€ – — ‘ ’ “ ” … •) mapped, anything else (and control characters)
/// as `?`.
pub fn winansi(testo: &str) -> Vec<u8> {
    testo
        .chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{A0}'..='\u{FF}' => c as u32 as u8,
            _ => WINANSI_80
                .iter()
                .position(|&w| w == c)
                .map_or(b'?', |i| 0x80 + i as u8),
        })
        .collect()
}

/// Characters of WinAnsiEncoding 0x80-0x9F; `\0` where the code is undefined.
const WINANSI_80: [char; 32] = [
    '€', '\0', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\0', 'Ž', '\0', '\0', '‘',
    '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\0', 'ž', 'Ÿ',
];

/// A PDF date in Italian civil time, e.g. `D:20261128153000+01'00`.
fn data_pdf(t: DateTime<Utc>) -> Date {
    let ore = offset_roma(t);
    let l = t + Duration::hours(ore);
    // Every field is in range by construction (a year past 9999 is clamped by `Date`).
    let u8_di = |v: u32| u8::try_from(v).unwrap_or(0);
    Date::new(u16::try_from(l.year()).unwrap_or(0))
        .month(u8_di(l.month()))
        .day(u8_di(l.day()))
        .hour(u8_di(l.hour()))
        .minute(u8_di(l.minute()))
        .second(u8_di(l.second()))
        .utc_offset_hour(i8::try_from(ore).unwrap_or(0))
        .utc_offset_minute(0)
}

/// Credentials for "Accesso con Credenziali", printed for a Medico/Professionista at the end of
/// the CNS registration. `Debug` hides the password.
#[derive(Clone)]
pub struct Credenziali {
    pub codice_identificativo: String,
    /// The temporary password, to be changed at the first login.
    pub parola_chiave: String,
}

impl fmt::Debug for Credenziali {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credenziali")
            .field("codice_identificativo", &self.codice_identificativo)
            .field("parola_chiave", &"********")
            .finish()
    }
}

/// What the pincode letter shows. `Debug` shows neither the pincode nor the password.
#[derive(Debug, Clone)]
pub struct DatiPincode {
    pub codice_fiscale: CodiceFiscale,
    pub cognome: String,
    pub nome: String,
    /// Present for the Medico/Professionista registration case.
    pub credenziali: Option<Credenziali>,
    pub pincode: Pincode,
    /// When the pincode was generated; printed in Italian civil time.
    pub generato: DateTime<Utc>,
}

/// Left margin of the letter.
const SX: f32 = 56.0;
/// Where the values of the labelled fields start.
const VALORE: f32 = 230.0;
/// Text styles of the letter: size in points, bold.
const SEZIONE: (f32, bool) = (12.0, true);
const TESTO: (f32, bool) = (11.0, false);
const AVVISO: (f32, bool) = (11.0, true);
const NOTA: (f32, bool) = (10.0, false);

/// The letter's page with its writing position: `y` is the baseline of the next line.
struct Lettera {
    d: Documento,
    y: f32,
}

impl Lettera {
    /// A line of text at the left margin; the next line goes `dopo` points lower.
    fn riga(&mut self, (dimensione, grassetto): (f32, bool), testo: &str, dopo: f32) {
        self.d.testo(SX, self.y, dimensione, grassetto, testo);
        self.y -= dopo;
    }

    /// "Etichetta:  valore", the value in bold at [`VALORE`].
    fn campo(&mut self, etichetta: &str, valore: &str) {
        self.d.testo(SX, self.y, TESTO.0, false, etichetta);
        self.d.testo(VALORE, self.y, TESTO.0, true, valore);
        self.y -= 20.0;
    }
}

/// The "Progetto Tessera Sanitaria – Stampa pincode" letter: personal data, the credentials if
/// any, the pincode in a frame, the generation time and the advice to keep it secret.
/// The pincode is in the page text only (not in `/Info`): serve it with `Cache-Control: no-store`.
pub fn pdf_pincode(dati: &DatiPincode) -> Vec<u8> {
    let destra = LARGHEZZA_A4 - SX;
    let mut d = Documento::new("Progetto Tessera Sanitaria – Stampa pincode", dati.generato);
    d.rettangolo(40.0, 40.0, LARGHEZZA_A4 - 80.0, ALTEZZA_A4 - 80.0, 0.8);
    d.rettangolo_pieno(40.0, 756.0, LARGHEZZA_A4 - 80.0, 45.89, 0.88);
    d.testo(SX, 772.0, 20.0, true, "Progetto Tessera Sanitaria");
    let servizio = "Sistema Tessera Sanitaria – Stampa pincode";
    d.testo(SX, 722.0, 14.0, true, servizio);
    d.linea(SX, 712.0, destra, 712.0, 0.8);

    let mut l = Lettera { d, y: 682.0 };
    l.riga(SEZIONE, "Riepilogo dati personali", 26.0);
    l.campo("Codice fiscale:", dati.codice_fiscale.as_str());
    let nominativo = format!("{} {}", dati.cognome.trim(), dati.nome.trim());
    l.campo("Cognome e nome:", nominativo.trim());
    if let Some(c) = &dati.credenziali {
        l.y -= 14.0;
        l.riga(SEZIONE, "Credenziali per l'Accesso con Credenziali", 26.0);
        l.campo("Codice identificativo:", &c.codice_identificativo);
        l.campo("Parola chiave temporanea:", &c.parola_chiave);
        let avviso = "La parola chiave è temporanea: al primo accesso sarà richiesto di cambiarla.";
        l.riga(NOTA, avviso, 20.0);
    }

    l.y -= 24.0;
    l.d.rettangolo(SX, l.y - 46.0, destra - SX, 62.0, 1.2);
    l.d.testo(SX + 18.0, l.y - 22.0, 14.0, true, "Pincode:");
    l.d.testo(VALORE, l.y - 24.0, 24.0, true, dati.pincode.cifre());
    l.y -= 78.0;

    let locale = dati.generato + Duration::hours(offset_roma(dati.generato));
    let quando = locale.format("Generato il %d/%m/%Y alle %H:%M (ora italiana).");
    l.riga(NOTA, &quando.to_string(), 16.0);
    let nuovo = "Un nuovo pincode sostituisce il precedente, che non è più valido.";
    l.riga(NOTA, nuovo, 34.0);
    let segreto = "Il pincode è personale: non comunicarlo a nessuno.";
    l.riga(AVVISO, segreto, 17.0);
    let otp = "È richiesto come ulteriore fattore di autenticazione per l'invio del codice OTP.";
    l.riga(TESTO, otp, 0.0);

    l.d.linea(SX, 72.0, destra, 72.0, 0.5);
    let piede = "Sistema Tessera Sanitaria – documento riservato";
    l.d.testo(SX, 58.0, 8.0, false, piede);
    l.d.pdf()
}

#[cfg(test)]
#[path = "pdf_tests.rs"]
mod tests;
