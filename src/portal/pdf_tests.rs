use super::*;
use std::path::PathBuf;
use std::process::Command;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn trova(hay: &[u8], ago: &[u8]) -> Option<usize> {
    hay.windows(ago.len()).position(|w| w == ago)
}

fn dati(credenziali: Option<Credenziali>) -> DatiPincode {
    DatiPincode {
        codice_fiscale: CodiceFiscale::parse("RSSMRA60C15F205L").unwrap(),
        cognome: "D'ANNUNZIO (DETTO GABRIELE)".into(),
        nome: "NICCOLÒ".into(),
        credenziali,
        pincode: Pincode::genera().unwrap(),
        generato: at("2026-11-28T14:05:00Z"),
    }
}

fn credenziali() -> Option<Credenziali> {
    Some(Credenziali {
        codice_identificativo: "MED0000001".into(),
        parola_chiave: "Tmp-9x!Qa(1)\\".into(),
    })
}

/// `pdf` in a fresh temporary file named after `nome`.
fn file_temporaneo(pdf: &[u8], nome: &str) -> PathBuf {
    let file = std::env::temp_dir().join(format!("tsgate-{nome}-{}.pdf", std::process::id()));
    std::fs::write(&file, pdf).unwrap();
    file
}

/// Runs a poppler-utils program (a test dependency, installed in CI) and returns its standard
/// output; poppler reports a damaged file on standard error even when it goes on, so that must
/// stay empty.
fn poppler(programma: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(programma)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{programma} non eseguibile ({e}): installare poppler-utils"));
    let errori = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && errori.is_empty(),
        "{programma}: {errori}"
    );
    out.stdout
}

/// The page text as `pdftotext -layout` reads it (like the browser tests do).
fn pdftotext(pdf: &[u8], nome: &str) -> String {
    let file = file_temporaneo(pdf, nome);
    let testo = poppler(
        "pdftotext",
        &["-layout", "-enc", "UTF-8", file.to_str().unwrap(), "-"],
    );
    let _ = std::fs::remove_file(&file);
    String::from_utf8(testo).unwrap()
}

/// `pdfinfo -isodates` of `pdf`.
fn pdfinfo(pdf: &[u8], nome: &str) -> String {
    let file = file_temporaneo(pdf, nome);
    let info = poppler("pdfinfo", &["-isodates", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    String::from_utf8(info).unwrap()
}

#[test]
fn structure_and_info() {
    let mut d = Documento::new("Prova è", at("2026-07-01T10:00:00Z"));
    d.testo(56.0, 700.0, 12.0, false, "Ciao");
    d.linea(0.0, 0.0, 100.5, 100.0, 1.0);
    d.rettangolo(10.0, 10.0, 20.0, 30.0, 0.5);
    d.rettangolo_pieno(10.0, 10.0, 20.0, 30.0, 0.9);
    let pdf = d.pdf();
    assert!(pdf.starts_with(b"%PDF-1.4\n"));
    assert!(pdf.ends_with(b"%%EOF"), "{}", String::from_utf8_lossy(&pdf));
    let flusso = b"BT\n/F1 12 Tf\n56 700 Td\n(Ciao) Tj\nET\n1 w\n0 0 m\n100.5 100 l\nS\n\
                   0.5 w\n10 10 20 30 re\nS\nq\n0.9 g\n10 10 20 30 re\nf\nQ";
    assert!(
        trova(&pdf, flusso).is_some(),
        "{}",
        String::from_utf8_lossy(&pdf)
    );
    // Summer time in Rome: UTC+2.
    assert!(trova(&pdf, b"/CreationDate (D:20260701120000+02'00)").is_some());
    assert!(trova(
        &pdf,
        b"/BaseFont /Helvetica-Bold\n  /Encoding /WinAnsiEncoding"
    )
    .is_some());
    let info = pdfinfo(&pdf, "struttura");
    for riga in [
        "Title:           Prova è",
        "Producer:        tsgate",
        "CreationDate:    2026-07-01T12:00:00+02",
        "Pages:           1",
        "Page size:       595.28 x 841.89 pts (A4)",
        "PDF version:     1.4",
    ] {
        assert!(info.lines().any(|l| l == riga), "{riga}\n{info}");
    }
}

#[test]
fn output_is_deterministic() {
    let d = dati(credenziali());
    assert_eq!(pdf_pincode(&d), pdf_pincode(&d));
}

#[test]
fn an_empty_page_is_still_a_valid_file() {
    let info = pdfinfo(
        &Documento::new("", at("2026-01-01T00:00:00Z")).pdf(),
        "vuoto",
    );
    assert!(info.contains("Pages:           1"), "{info}");
}

#[test]
fn parentheses_and_backslash_survive() {
    let mut d = Documento::new("x", Utc::now());
    d.testo(56.0, 700.0, 10.0, true, r"f(x) = \y) ((");
    assert_eq!(pdftotext(&d.pdf(), "parentesi").trim(), r"f(x) = \y) ((");
}

#[test]
fn winansi_mapping() {
    assert_eq!(winansi("àèéìòù"), [0xE0, 0xE8, 0xE9, 0xEC, 0xF2, 0xF9]);
    assert_eq!(winansi("ÀÈÉÌÒÙ"), [0xC0, 0xC8, 0xC9, 0xCC, 0xD2, 0xD9]);
    assert_eq!(
        winansi("€ – — ’ “ ” …"),
        b"\x80 \x96 \x97 \x92 \x93 \x94 \x85"
    );
    assert_eq!(winansi("a\u{2192}b\u{1F600}c\td"), b"a?b?c?d");
    assert_eq!(winansi("Œ\u{81}"), b"\x8C?");
}

#[test]
fn creation_date_in_italian_civil_time() {
    let mut d = Documento::new("x", at("2026-11-28T23:30:00Z"));
    d.testo(0.0, 0.0, 1.0, false, "");
    assert!(trova(&d.pdf(), b"/CreationDate (D:20261129003000+01'00)").is_some());
}

#[test]
fn the_letter_keeps_secrets_out_of_info() {
    let d = dati(credenziali());
    let pdf = pdf_pincode(&d);
    let info = &pdf[trova(&pdf, b"7 0 obj").unwrap()..];
    let info = &info[..trova(info, b"endobj").unwrap()];
    assert!(trova(info, b"/Producer (tsgate)").is_some());
    assert!(trova(info, d.pincode.cifre().as_bytes()).is_none());
    assert!(trova(info, b"Tmp-9x").is_none());
    let dbg = format!("{d:?}");
    assert!(
        !dbg.contains(d.pincode.cifre()) && !dbg.contains("Tmp-9x"),
        "{dbg}"
    );
}

#[test]
fn pdftotext_reads_the_letter_back() {
    let d = dati(None);
    let testo = pdftotext(&pdf_pincode(&d), "pincode");
    assert!(testo.contains("Progetto Tessera Sanitaria"), "{testo}");
    assert!(
        testo.contains("Sistema Tessera Sanitaria – Stampa pincode"),
        "{testo}"
    );
    assert!(testo.contains("RSSMRA60C15F205L"), "{testo}");
    assert!(
        testo.contains("D'ANNUNZIO (DETTO GABRIELE) NICCOLÒ"),
        "{testo}"
    );
    let riga = testo.lines().find(|l| l.contains("Pincode:")).unwrap();
    assert_eq!(
        riga.split_whitespace().collect::<Vec<_>>(),
        ["Pincode:", d.pincode.cifre()]
    );
    assert!(
        testo.contains("Generato il 28/11/2026 alle 15:05 (ora italiana)."),
        "{testo}"
    );
    assert!(
        testo.contains("Il pincode è personale: non comunicarlo a nessuno."),
        "{testo}"
    );
    assert!(
        testo.contains(
            "È richiesto come ulteriore fattore di autenticazione per l'invio del codice OTP."
        ),
        "{testo}"
    );
    assert!(!testo.contains("Parola chiave"), "{testo}");
}

#[test]
fn pdftotext_reads_the_credentials_back() {
    let d = dati(credenziali());
    let testo = pdftotext(&pdf_pincode(&d), "credenziali");
    let campo = |etichetta: &str| {
        let r = testo.lines().find(|l| l.contains(etichetta)).unwrap();
        r.split_once(etichetta).unwrap().1.trim().to_owned()
    };
    assert_eq!(campo("Codice identificativo:"), "MED0000001");
    assert_eq!(campo("Parola chiave temporanea:"), "Tmp-9x!Qa(1)\\");
    assert_eq!(campo("Pincode:"), d.pincode.cifre());
    assert!(testo.contains("sarà richiesto di cambiarla"), "{testo}");
}

/// The letter rendered by `pdftoppm` at 50 dpi: width, height and the gray level of each pixel.
fn rendi(pdf: &[u8], nome: &str) -> (usize, usize, Vec<u8>) {
    let file = file_temporaneo(pdf, nome);
    let base = file.with_extension("");
    let (f, b) = (file.to_str().unwrap(), base.to_str().unwrap());
    poppler("pdftoppm", &["-png", "-r", "50", "-singlefile", f, b]);
    let png = base.with_extension("png");
    let mut lettore = png::Decoder::new(std::fs::File::open(&png).unwrap())
        .read_info()
        .unwrap();
    let mut pixel = vec![0; lettore.output_buffer_size()];
    let quadro = lettore.next_frame(&mut pixel).unwrap();
    let _ = (std::fs::remove_file(&file), std::fs::remove_file(&png));
    assert_eq!(quadro.bit_depth, png::BitDepth::Eight);
    let campioni = quadro.color_type.samples();
    pixel.truncate(quadro.buffer_size());
    let grigi = pixel
        .chunks(campioni)
        .map(|p| {
            (p.iter().take(3).map(|&c| u32::from(c)).sum::<u32>() / 3.min(campioni as u32)) as u8
        })
        .collect();
    (quadro.width as usize, quadro.height as usize, grigi)
}

#[test]
fn pdftoppm_renders_the_letter() {
    let (w, h, pixel) = rendi(&pdf_pincode(&dati(credenziali())), "rendering");
    // A4 at 50 dpi: 413 x 585 pixels, height / width = √2.
    assert!(
        (412..=414).contains(&w) && (584..=586).contains(&h),
        "{w}x{h}"
    );
    assert!((h as f32 / w as f32 - std::f32::consts::SQRT_2).abs() < 0.01);
    // Dark pixels in the rectangle of PDF points (x0, y0)-(x1, y1), `y` from the bottom.
    let scuri = |x0: f32, y0: f32, x1: f32, y1: f32| {
        let px = |v: f32| (v * 50.0 / 72.0) as usize;
        let righe = px(ALTEZZA_A4 - y1)..px(ALTEZZA_A4 - y0);
        righe
            .flat_map(|r| (px(x0)..px(x1)).map(move |c| (r, c)))
            .filter(|&(r, c)| pixel[r * w + c] < 128)
            .count()
    };
    // The title (on its gray band), the codice fiscale, the accented line on the temporary
    // password and the pincode with its label (the letter with credentials puts it at y 468).
    assert!(scuri(56.0, 770.0, 320.0, 790.0) > 300, "titolo");
    assert!(scuri(230.0, 654.0, 340.0, 664.0) > 80, "codice fiscale");
    assert!(scuri(56.0, 534.0, 480.0, 544.0) > 120, "avviso");
    assert!(scuri(74.0, 470.0, 140.0, 482.0) > 50, "Pincode:");
    assert!(scuri(230.0, 467.0, 370.0, 486.0) > 300, "cifre del pincode");
    // The gray band is light, the page between the last line and the footer empty.
    assert_eq!(scuri(340.0, 760.0, 540.0, 795.0), 0, "fascia");
    assert_eq!(scuri(56.0, 100.0, 540.0, 300.0), 0, "spazio vuoto");
}
