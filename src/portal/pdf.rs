//! A small PDF 1.4 writer (one A4 page, built-in Helvetica and Helvetica-Bold in
//! WinAnsiEncoding, text, lines and rectangles) and the "Stampa pincode" letter made with it.
//!
//! The output is uncompressed and deterministic for given contents and creation time: a catalog,
//! a page tree with one page, two fonts, one content stream and an `/Info` dictionary, followed
//! by an exact cross-reference table and trailer.

use crate::domain::tempo::offset_roma;
use crate::domain::CodiceFiscale;
use crate::portal::pincode::Pincode;
use chrono::{DateTime, Duration, Utc};
use std::fmt::{self, Write as _};

/// A4 width in points.
pub const LARGHEZZA_A4: f32 = 595.28;
/// A4 height in points.
pub const ALTEZZA_A4: f32 = 841.89;

/// A one-page A4 document under construction. Coordinates are PDF points from the bottom-left
/// corner; `y` of a text is its baseline.
#[derive(Debug, Clone)]
pub struct Documento {
    titolo: String,
    creato: DateTime<Utc>,
    contenuto: String,
}

impl Documento {
    /// An empty page; `titolo` and `creato` go to the `/Info` dictionary (Title, CreationDate in
    /// Italian civil time), with Producer "tsgate".
    pub fn new(titolo: &str, creato: DateTime<Utc>) -> Self {
        Self {
            titolo: titolo.to_owned(),
            creato,
            contenuto: String::new(),
        }
    }

    /// Writes `testo` at (`x`, `y`) in Helvetica (or Helvetica-Bold) of size `dimensione`.
    /// Characters outside WinAnsiEncoding print as `?`; `(`, `)` and `\` are escaped.
    pub fn testo(&mut self, x: f32, y: f32, dimensione: f32, grassetto: bool, testo: &str) {
        let font = if grassetto { "F2" } else { "F1" };
        let _ = writeln!(
            self.contenuto,
            "BT /{font} {} Tf {} {} Td {} Tj ET",
            num(dimensione),
            num(x),
            num(y),
            stringa_letterale(&winansi(testo))
        );
    }

    /// A straight black line from (`x1`, `y1`) to (`x2`, `y2`), `spessore` points wide.
    pub fn linea(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, spessore: f32) {
        let _ = writeln!(
            self.contenuto,
            "{} w {} {} m {} {} l S",
            num(spessore),
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
    }

    /// The outline of a rectangle with its bottom-left corner at (`x`, `y`).
    pub fn rettangolo(&mut self, x: f32, y: f32, larghezza: f32, altezza: f32, spessore: f32) {
        let _ = writeln!(
            self.contenuto,
            "{} w {} {} {} {} re S",
            num(spessore),
            num(x),
            num(y),
            num(larghezza),
            num(altezza)
        );
    }

    /// A rectangle filled with gray level `grigio` (0 black, 1 white), without outline; the
    /// fill colour of later text stays black.
    pub fn rettangolo_pieno(&mut self, x: f32, y: f32, larghezza: f32, altezza: f32, grigio: f32) {
        let _ = writeln!(
            self.contenuto,
            "q {} g {} {} {} {} re f Q",
            num(grigio.clamp(0.0, 1.0)),
            num(x),
            num(y),
            num(larghezza),
            num(altezza)
        );
    }

    /// The complete PDF file: `%PDF-1.4` ... `%%EOF`.
    pub fn pdf(&self) -> Vec<u8> {
        let font = |nome: &str| {
            format!(
                "<< /Type /Font /Subtype /Type1 /BaseFont /{nome} /Encoding /WinAnsiEncoding >>"
            )
        };
        let info = format!(
            "<< /Title {} /Producer {} /CreationDate ({}) >>",
            stringa_testo(&self.titolo),
            stringa_testo("tsgate"),
            data_pdf(self.creato)
        );
        let pagina = format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] \
             /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
            num(LARGHEZZA_A4),
            num(ALTEZZA_A4)
        );
        let mut flusso = format!("<< /Length {} >>\nstream\n", self.contenuto.len()).into_bytes();
        flusso.extend_from_slice(self.contenuto.as_bytes());
        flusso.extend_from_slice(b"\nendstream");
        let oggetti: [Vec<u8>; 7] = [
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            pagina.into_bytes(),
            font("Helvetica").into_bytes(),
            font("Helvetica-Bold").into_bytes(),
            flusso,
            info.into_bytes(),
        ];
        // The comment of high bytes tells transfer tools that the file is binary.
        let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
        let mut posizioni = Vec::with_capacity(oggetti.len());
        for (i, corpo) in oggetti.iter().enumerate() {
            posizioni.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(corpo);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        let mut tabella = format!("xref\n0 {}\n0000000000 65535 f \n", oggetti.len() + 1);
        for p in posizioni {
            let _ = writeln!(tabella, "{p:010} 00000 n ");
        }
        let _ = write!(
            tabella,
            "trailer\n<< /Size {} /Root 1 0 R /Info 7 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            oggetti.len() + 1
        );
        out.extend_from_slice(tabella.as_bytes());
        out
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

/// A PDF literal string of raw bytes, with `(`, `)` and `\` escaped.
fn stringa_letterale(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    s.push('(');
    for &c in b {
        match c {
            b'(' | b')' | b'\\' => {
                s.push('\\');
                s.push(c as char);
            }
            0x20..=0x7E => s.push(c as char),
            // Octal escapes keep the content stream ASCII (and the stream length in bytes exact).
            _ => {
                let _ = write!(s, "\\{c:03o}");
            }
        }
    }
    s.push(')');
    s
}

/// A PDF text string (for `/Info`): UTF-16BE with byte-order mark, in hexadecimal.
fn stringa_testo(testo: &str) -> String {
    let mut s = String::from("<FEFF");
    for u in testo.encode_utf16() {
        let _ = write!(s, "{u:04X}");
    }
    s.push('>');
    s
}

/// A PDF date in Italian civil time, e.g. `D:20261128153000+01'00'`.
fn data_pdf(t: DateTime<Utc>) -> String {
    let ore = offset_roma(t);
    let locale = t + Duration::hours(ore);
    format!("D:{}+{ore:02}'00'", locale.format("%Y%m%d%H%M%S"))
}

/// A number for a content stream: at most two decimals, no exponent, no trailing zeros.
fn num(v: f32) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".to_owned()
    } else {
        s.to_owned()
    }
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

/// The "Progetto Tessera Sanitaria – Stampa pincode" letter: personal data, the credentials if
/// any, the pincode in a frame, the generation time and the advice to keep it secret.
/// The pincode is in the page text only (not in `/Info`): serve it with `Cache-Control: no-store`.
pub fn pdf_pincode(dati: &DatiPincode) -> Vec<u8> {
    const SX: f32 = 56.0;
    const VALORE: f32 = 230.0;
    let destra = LARGHEZZA_A4 - SX;
    let mut d = Documento::new("Progetto Tessera Sanitaria – Stampa pincode", dati.generato);
    d.rettangolo(40.0, 40.0, LARGHEZZA_A4 - 80.0, ALTEZZA_A4 - 80.0, 0.8);
    d.rettangolo_pieno(40.0, 756.0, LARGHEZZA_A4 - 80.0, 45.89, 0.88);
    d.testo(SX, 772.0, 20.0, true, "Progetto Tessera Sanitaria");
    d.testo(
        SX,
        722.0,
        14.0,
        true,
        "Sistema Tessera Sanitaria – Stampa pincode",
    );
    d.linea(SX, 712.0, destra, 712.0, 0.8);

    let mut y = 682.0;
    let riga = |d: &mut Documento, y: &mut f32, etichetta: &str, valore: &str| {
        d.testo(SX, *y, 11.0, false, etichetta);
        d.testo(VALORE, *y, 11.0, true, valore);
        *y -= 20.0;
    };
    d.testo(SX, y, 12.0, true, "Riepilogo dati personali");
    y -= 26.0;
    riga(
        &mut d,
        &mut y,
        "Codice fiscale:",
        dati.codice_fiscale.as_str(),
    );
    let nominativo = format!("{} {}", dati.cognome.trim(), dati.nome.trim());
    riga(&mut d, &mut y, "Cognome e nome:", nominativo.trim());

    if let Some(c) = &dati.credenziali {
        y -= 14.0;
        d.testo(
            SX,
            y,
            12.0,
            true,
            "Credenziali per l'Accesso con Credenziali",
        );
        y -= 26.0;
        riga(
            &mut d,
            &mut y,
            "Codice identificativo:",
            &c.codice_identificativo,
        );
        riga(
            &mut d,
            &mut y,
            "Parola chiave temporanea:",
            &c.parola_chiave,
        );
        d.testo(
            SX,
            y,
            10.0,
            false,
            "La parola chiave è temporanea: al primo accesso sarà richiesto di cambiarla.",
        );
        y -= 20.0;
    }

    y -= 24.0;
    d.rettangolo(SX, y - 46.0, destra - SX, 62.0, 1.2);
    d.testo(SX + 18.0, y - 22.0, 14.0, true, "Pincode:");
    d.testo(VALORE, y - 24.0, 24.0, true, dati.pincode.cifre());
    y -= 78.0;

    let locale = dati.generato + Duration::hours(offset_roma(dati.generato));
    let quando = format!(
        "Generato il {} (ora italiana).",
        locale.format("%d/%m/%Y alle %H:%M")
    );
    d.testo(SX, y, 10.0, false, &quando);
    y -= 16.0;
    d.testo(
        SX,
        y,
        10.0,
        false,
        "Un nuovo pincode sostituisce il precedente, che non è più valido.",
    );
    y -= 34.0;
    d.testo(
        SX,
        y,
        11.0,
        true,
        "Il pincode è personale: non comunicarlo a nessuno.",
    );
    y -= 17.0;
    d.testo(
        SX,
        y,
        11.0,
        false,
        "È richiesto come ulteriore fattore di autenticazione per l'invio del codice OTP.",
    );

    d.linea(SX, 72.0, destra, 72.0, 0.5);
    d.testo(
        SX,
        58.0,
        8.0,
        false,
        "Sistema Tessera Sanitaria – documento riservato",
    );
    d.pdf()
}

#[cfg(test)]
#[path = "pdf_tests.rs"]
mod tests;
