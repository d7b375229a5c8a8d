use super::*;
use std::path::Path;
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

/// Parses the trailer back: every xref entry must point at "N 0 obj".
fn verifica_xref(pdf: &[u8]) {
    assert!(pdf.starts_with(b"%PDF-1.4\n"));
    assert!(pdf.ends_with(b"%%EOF\n"));
    let coda = std::str::from_utf8(&pdf[pdf.len() - 40..]).unwrap_or_default();
    let sx = coda.rfind("startxref\n").unwrap();
    let xref: usize = coda[sx + 10..].lines().next().unwrap().parse().unwrap();
    assert!(pdf[xref..].starts_with(b"xref\n0 8\n"), "startxref {xref}");
    let tabella = std::str::from_utf8(&pdf[xref..]).unwrap();
    let righe: Vec<&str> = tabella.split('\n').skip(2).take(8).collect();
    assert_eq!(righe[0], "0000000000 65535 f ");
    for (n, r) in righe.iter().enumerate().skip(1) {
        assert_eq!(r.len(), 19, "entry {n}: `{r}`");
        assert!(r.ends_with(" 00000 n "), "entry {n}: `{r}`");
        let off: usize = r[..10].parse().unwrap();
        let atteso = format!("{n} 0 obj\n");
        assert!(
            pdf[off..].starts_with(atteso.as_bytes()),
            "entry {n} at {off}"
        );
    }
    assert!(trova(pdf, b"trailer\n<< /Size 8 /Root 1 0 R /Info 7 0 R >>").is_some());
}

#[test]
fn structure_and_cross_reference_table() {
    let mut d = Documento::new("Prova", at("2026-07-01T10:00:00Z"));
    d.testo(56.0, 700.0, 12.0, false, "Ciao");
    d.linea(0.0, 0.0, 100.5, 100.0, 1.0);
    d.rettangolo(10.0, 10.0, 20.0, 30.0, 0.5);
    d.rettangolo_pieno(10.0, 10.0, 20.0, 30.0, 0.9);
    let pdf = d.pdf();
    verifica_xref(&pdf);
    assert!(trova(&pdf, b"BT /F1 12 Tf 56 700 Td (Ciao) Tj ET").is_some());
    assert!(trova(&pdf, b"1 w 0 0 m 100.5 100 l S").is_some());
    assert!(trova(&pdf, b"q 0.9 g 10 10 20 30 re f Q").is_some());
    // The stream length is the exact byte count between "stream\n" and "\nendstream".
    let s = trova(&pdf, b"stream\n").unwrap() + 7;
    let e = trova(&pdf, b"\nendstream").unwrap();
    let l = format!("<< /Length {} >>", e - s);
    assert!(trova(&pdf, l.as_bytes()).is_some(), "{l}");
    // Summer time in Rome: UTC+2; Producer "tsgate" as UTF-16BE.
    assert!(trova(&pdf, b"/CreationDate (D:20260701120000+02'00')").is_some());
    assert!(trova(&pdf, b"/Producer <FEFF007400730067006100740065>").is_some());
    assert!(trova(
        &pdf,
        b"/BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding"
    )
    .is_some());
}

#[test]
fn an_empty_page_is_still_a_valid_file() {
    verifica_xref(&Documento::new("", at("2026-01-01T00:00:00Z")).pdf());
}

#[test]
fn parentheses_and_backslash_are_escaped() {
    assert_eq!(stringa_letterale(br"a(b)c\d"), r"(a\(b\)c\\d)");
    let mut d = Documento::new("x", Utc::now());
    d.testo(0.0, 0.0, 10.0, true, r"f(x) = \y");
    assert!(trova(&d.pdf(), br"BT /F2 10 Tf 0 0 Td (f\(x\) = \\y) Tj ET").is_some());
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
    assert_eq!(stringa_letterale(&winansi("è")), r"(\350)");
}

#[test]
fn numbers_and_dates() {
    assert_eq!(num(12.0), "12");
    assert_eq!(num(595.28), "595.28");
    assert_eq!(num(0.5), "0.5");
    assert_eq!(num(-0.001), "0");
    assert_eq!(num(f32::NAN), "0");
    assert_eq!(
        data_pdf(at("2026-11-28T23:30:00Z")),
        "D:20261129003000+01'00'"
    );
    assert_eq!(stringa_testo("è"), "<FEFF00E8>");
}

#[test]
fn the_letter_is_well_formed_and_keeps_secrets_out_of_info() {
    let d = dati(Some(Credenziali {
        codice_identificativo: "MED0000001".into(),
        parola_chiave: "Tmp-9x!Qa".into(),
    }));
    let pdf = pdf_pincode(&d);
    verifica_xref(&pdf);
    let info = &pdf[trova(&pdf, b"7 0 obj").unwrap()..];
    let info = &info[..trova(info, b"endobj").unwrap()];
    assert!(trova(info, d.pincode.cifre().as_bytes()).is_none());
    let dbg = format!("{d:?}");
    assert!(
        !dbg.contains(d.pincode.cifre()) && !dbg.contains("Tmp-9x"),
        "{dbg}"
    );
}

/// The page text as `pdftotext -layout` reads it, or `None` when poppler is not installed.
fn pdftotext(pdf: &[u8], nome: &str) -> Option<String> {
    if !Path::new("/usr/bin/pdftotext").exists() {
        println!("NOTA: /usr/bin/pdftotext assente, verifica del testo saltata");
        return None;
    }
    let file = std::env::temp_dir().join(format!("tsgate-{nome}-{}.pdf", std::process::id()));
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("/usr/bin/pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn pdftotext_reads_the_letter_back() {
    let d = dati(None);
    let Some(testo) = pdftotext(&pdf_pincode(&d), "pincode") else {
        return;
    };
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
    let d = dati(Some(Credenziali {
        codice_identificativo: "MED0000001".into(),
        parola_chiave: "Tmp-9x!Qa(1)\\".into(),
    }));
    let Some(testo) = pdftotext(&pdf_pincode(&d), "credenziali") else {
        return;
    };
    let campo = |etichetta: &str| {
        let r = testo.lines().find(|l| l.contains(etichetta)).unwrap();
        r.split_once(etichetta).unwrap().1.trim().to_owned()
    };
    assert_eq!(campo("Codice identificativo:"), "MED0000001");
    assert_eq!(campo("Parola chiave temporanea:"), "Tmp-9x!Qa(1)\\");
    assert_eq!(campo("Pincode:"), d.pincode.cifre());
    assert!(testo.contains("sarà richiesto di cambiarla"), "{testo}");
}
