use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const CF: &str = "RSSMRA60C15F205L";
const NUMERO: &str = "80380030000000000001";

fn certificato(seriale: &str) -> Certificato {
    Certificato {
        seriale: seriale.to_owned(),
        emittente: "CN=Regione Lombardia CA".to_owned(),
        valido_dal: d("2024-01-01"),
        valido_al: d("2027-06-30"),
        data_attivazione: d("2024-02-01"),
    }
}

fn stato() -> StatoTessera {
    StatoTessera {
        numero: NUMERO.to_owned(),
        codice_fiscale: CF.to_owned(),
        codice_regione: "030".to_owned(),
        data_scadenza: d("2027-06-30"),
        sigla_serie: Some("AC2014".to_owned()),
        puk_per_rinnovo: true,
        certificato: None,
        revoca: None,
        rinnovo: None,
        proroga: None,
    }
}

fn attivazione(seriale: &str) -> Attivazione {
    Attivazione {
        codice_fiscale: CodiceFiscale::parse(CF).unwrap(),
        numero_tessera: NumeroTessera::parse(NUMERO).unwrap(),
        certificato: certificato(seriale),
    }
}

fn input<'a>(cf: &'a str, dal: &'a str, al: &'a str, att: &'a str) -> AttivazioneIn<'a> {
    AttivazioneIn {
        codice_fiscale: Some(cf),
        numero_tessera: Some(NUMERO),
        seriale: Some("00ab12"),
        emittente: Some("CN=CA"),
        valido_dal: Some(dal),
        valido_al: Some(al),
        data_attivazione: Some(att),
    }
}

#[test]
fn serials_are_canonical_hex() {
    assert_eq!(seriale_canonico("00ab12").unwrap(), "AB12");
    assert_eq!(seriale_canonico("000").unwrap(), "0");
    assert_eq!(seriale_canonico("xyz"), Err(Errore::SerialeNonValido));
    assert_eq!(
        seriale_canonico(&"1".repeat(41)),
        Err(Errore::SerialeNonValido)
    );
}

#[test]
fn an_activation_needs_a_coherent_validity_and_a_past_date() {
    let oggi = d("2026-11-28");
    let ok = parse_attivazione(&input(CF, "2024-01-01", "2027-01-01", "2026-11-28"), oggi).unwrap();
    assert_eq!(ok.certificato.seriale, "AB12");
    let e = parse_attivazione(&input(CF, "2024-01-01", "2027-01-01", "2026-11-29"), oggi);
    assert_eq!(e, Err(vec![Errore::DataNelFuturo]));
    let e = parse_attivazione(&input(CF, "2027-01-01", "2024-01-01", "2025-01-01"), oggi);
    assert_eq!(e, Err(vec![Errore::ValiditaNonCoerente]));
    let e = parse_attivazione(&input(CF, "2025-01-01", "2027-01-01", "2024-12-31"), oggi);
    assert_eq!(e, Err(vec![Errore::ValiditaNonCoerente]));
    // Every reason at once, each once, in field order.
    let e = parse_attivazione(&input("RSSMRA60C15F205X", "2024-13-01", "", "x"), oggi);
    assert_eq!(
        e,
        Err(vec![
            Errore::CodiceFiscaleNonValido,
            Errore::DataNonValida,
            Errore::CampoMancante
        ])
    );
}

#[test]
fn a_revocation_names_a_known_reason() {
    let oggi = d("2026-11-28");
    let r = |m, data| RevocaIn {
        numero_tessera: Some(NUMERO),
        motivo: Some(m),
        data_revoca: Some(data),
    };
    assert_eq!(
        parse_revoca(&r("furto", "2026-11-28"), oggi)
            .unwrap()
            .motivo,
        Motivo::Furto
    );
    assert_eq!(
        parse_revoca(&r("rubata", "2026-11-29"), oggi),
        Err(vec![Errore::MotivoNonValido, Errore::DataNelFuturo])
    );
}

#[test]
fn another_regions_card_reveals_nothing_else() {
    let mut s = stato();
    s.codice_regione = "120".to_owned();
    s.revoca = Some(RevocaRegistrata {
        motivo: "furto".to_owned(),
        data_revoca: d("2025-01-01"),
    });
    let mut a = attivazione("AB12");
    a.codice_fiscale = CodiceFiscale::parse("BNCGLI85L42H501P").unwrap();
    assert_eq!(
        decidi_attivazione(Some(&s), "030", &a),
        Err(vec![Errore::TesseraAltraRegione])
    );
    assert_eq!(
        decidi_attivazione(None, "030", &a),
        Err(vec![Errore::TesseraSconosciuta])
    );
}

#[test]
fn activation_rules() {
    let a = attivazione("AB12");
    assert_eq!(
        decidi_attivazione(Some(&stato()), "030", &a),
        Ok(Applicata::Registrata)
    );

    let mut attiva = stato();
    attiva.certificato = Some(certificato("AB12"));
    assert_eq!(
        decidi_attivazione(Some(&attiva), "030", &a),
        Ok(Applicata::GiaPresente)
    );
    let mut altra = a.clone();
    altra.certificato.emittente = "CN=Altra CA".to_owned();
    assert_eq!(
        decidi_attivazione(Some(&attiva), "030", &altra),
        Err(vec![Errore::AttivazioneDatiDiversi])
    );
    assert_eq!(
        decidi_attivazione(Some(&attiva), "030", &attivazione("CD34")),
        Err(vec![Errore::GiaAttivaAltroCertificato])
    );

    let mut revocata = stato();
    revocata.revoca = Some(RevocaRegistrata {
        motivo: "smarrimento".to_owned(),
        data_revoca: d("2025-01-01"),
    });
    revocata.data_scadenza = d("2024-01-31");
    let mut a2 = a.clone();
    a2.codice_fiscale = CodiceFiscale::parse("BNCGLI85L42H501P").unwrap();
    assert_eq!(
        decidi_attivazione(Some(&revocata), "030", &a2),
        Err(vec![
            Errore::TesseraNonIntestata,
            Errore::TesseraRevocata,
            Errore::TesseraScaduta
        ])
    );
}

#[test]
fn an_extended_card_is_not_expired_until_its_new_expiry() {
    let mut s = stato();
    s.data_scadenza = d("2020-03-31");
    let mut a = attivazione("AB12");
    a.certificato.data_attivazione = d("2020-06-30");
    assert_eq!(
        decidi_attivazione(Some(&s), "030", &a),
        Err(vec![Errore::TesseraScaduta])
    );
    s.proroga = Some(Proroga {
        codice: "DL9-2020".to_owned(),
        prorogata_al: d("2020-06-30"),
    });
    assert_eq!(
        decidi_attivazione(Some(&s), "030", &a),
        Ok(Applicata::Registrata)
    );
    a.certificato.data_attivazione = d("2020-07-01");
    assert_eq!(
        decidi_attivazione(Some(&s), "030", &a),
        Err(vec![Errore::TesseraScaduta])
    );
}

#[test]
fn revocation_is_idempotent_only_with_the_same_data() {
    let r = Revoca {
        numero_tessera: NumeroTessera::parse(NUMERO).unwrap(),
        motivo: Motivo::Furto,
        data_revoca: d("2026-01-01"),
    };
    let mut s = stato();
    assert_eq!(
        decidi_revoca(Some(&s), "030", &r),
        Ok(Applicata::Registrata)
    );
    s.revoca = Some(RevocaRegistrata {
        motivo: "furto".to_owned(),
        data_revoca: d("2026-01-01"),
    });
    assert_eq!(
        decidi_revoca(Some(&s), "030", &r),
        Ok(Applicata::GiaPresente)
    );
    let altra = Revoca {
        motivo: Motivo::Smarrimento,
        ..r.clone()
    };
    assert_eq!(
        decidi_revoca(Some(&s), "030", &altra),
        Err(vec![Errore::RevocaDatiDiversi])
    );
    assert_eq!(
        decidi_revoca(Some(&s), "120", &r),
        Err(vec![Errore::TesseraAltraRegione])
    );
}

fn prorogata() -> StatoTessera {
    let mut s = stato();
    s.data_scadenza = d("2020-03-31");
    s.proroga = Some(Proroga {
        codice: "DL9-2020".to_owned(),
        prorogata_al: d("2020-06-30"),
    });
    let mut c = certificato("AB12");
    c.valido_dal = d("2017-03-31");
    c.valido_al = d("2020-03-31");
    c.data_attivazione = d("2017-04-01");
    s.certificato = Some(c);
    s
}

#[test]
fn renewal_states() {
    let s = prorogata();
    assert_eq!(
        verifica_rinnovo(Some(&s), "030", "AB12").map(|r| r.0),
        Ok(StatoRinnovo::Rinnovabile)
    );
    assert_eq!(
        verifica_rinnovo(Some(&s), "030", "FFFF"),
        Err(vec![Errore::CertificatoNonAttivo])
    );
    assert_eq!(
        verifica_rinnovo(Some(&stato()), "030", "AB12"),
        Err(vec![Errore::CertificatoNonAttivo])
    );
    let mut non = s.clone();
    non.proroga = None;
    assert_eq!(
        verifica_rinnovo(Some(&non), "030", "AB12").map(|r| r.0),
        Ok(StatoRinnovo::NonRinnovabile)
    );
    let mut rinnovata = s.clone();
    rinnovata.rinnovo = Some(RinnovoRegistrato {
        seriale_precedente: "AB12".to_owned(),
        seriale_nuovo: "CD34".to_owned(),
        scadenza_nuova: d("2020-06-30"),
    });
    if let Some(c) = rinnovata.certificato.as_mut() {
        c.seriale = "CD34".to_owned();
    }
    assert_eq!(
        verifica_rinnovo(Some(&rinnovata), "030", "AB12").map(|r| r.0),
        Ok(StatoRinnovo::GiaRinnovato)
    );
    assert_eq!(
        verifica_rinnovo(Some(&rinnovata), "030", "CD34").map(|r| r.0),
        Ok(StatoRinnovo::GiaRinnovato)
    );
    let mut revocata = s;
    revocata.revoca = Some(RevocaRegistrata {
        motivo: "decesso".to_owned(),
        data_revoca: d("2020-05-01"),
    });
    assert_eq!(
        verifica_rinnovo(Some(&revocata), "030", "AB12"),
        Err(vec![Errore::TesseraRevocata])
    );
}

#[test]
fn renewal_registration() {
    let s = prorogata();
    let r = |nuovo: &str, scadenza: &str| Rinnovo {
        seriale: "AB12".to_owned(),
        seriale_nuovo: nuovo.to_owned(),
        scadenza_nuova: d(scadenza),
    };
    assert_eq!(
        decidi_rinnovo(Some(&s), "030", &r("CD34", "2020-06-30")),
        Ok(Applicata::Registrata)
    );
    // Not after the old certificate, not beyond the extended expiry, a new serial.
    assert_eq!(
        decidi_rinnovo(Some(&s), "030", &r("CD34", "2020-03-31")),
        Err(vec![Errore::ScadenzaNonCoerente])
    );
    assert_eq!(
        decidi_rinnovo(Some(&s), "030", &r("AB12", "2020-07-01")),
        Err(vec![Errore::SerialeNonNuovo, Errore::ScadenzaNonCoerente])
    );
    let mut non = s.clone();
    non.proroga = None;
    assert_eq!(
        decidi_rinnovo(Some(&non), "030", &r("CD34", "2020-06-30")),
        Err(vec![Errore::NonRinnovabile])
    );
    let mut fatta = s;
    fatta.rinnovo = Some(RinnovoRegistrato {
        seriale_precedente: "AB12".to_owned(),
        seriale_nuovo: "CD34".to_owned(),
        scadenza_nuova: d("2020-06-30"),
    });
    assert_eq!(
        decidi_rinnovo(Some(&fatta), "030", &r("CD34", "2020-06-30")),
        Ok(Applicata::GiaPresente)
    );
    assert_eq!(
        decidi_rinnovo(Some(&fatta), "030", &r("EF56", "2020-06-30")),
        Err(vec![Errore::GiaRinnovato])
    );
}

#[test]
fn a_certificate_already_valid_to_the_extended_expiry_has_nothing_to_renew() {
    let mut s = prorogata();
    if let Some(c) = s.certificato.as_mut() {
        c.valido_al = d("2020-06-30");
    }
    assert_eq!(
        verifica_rinnovo(Some(&s), "030", "AB12").map(|r| r.0),
        Ok(StatoRinnovo::NonRinnovabile)
    );
    if let Some(c) = s.certificato.as_mut() {
        c.valido_al = d("2020-06-29");
    }
    assert_eq!(
        verifica_rinnovo(Some(&s), "030", "AB12").map(|r| r.0),
        Ok(StatoRinnovo::Rinnovabile)
    );
}

#[test]
fn a_renewal_reports_every_malformed_field() {
    let ok = parse_rinnovo(&RinnovoIn {
        numero_tessera: Some(NUMERO),
        seriale: Some("0ab12"),
        seriale_nuovo: Some("cd34"),
        scadenza_nuova: Some("2020-06-30"),
    })
    .unwrap();
    assert_eq!(
        (ok.1.seriale.as_str(), ok.1.seriale_nuovo.as_str()),
        ("AB12", "CD34")
    );
    let e = parse_rinnovo(&RinnovoIn {
        numero_tessera: Some("123"),
        seriale: Some("zz"),
        seriale_nuovo: None,
        scadenza_nuova: Some("2020-02-30"),
    });
    assert_eq!(
        e.map(|_| ()),
        Err(vec![
            Errore::NumeroTesseraNonValido,
            Errore::SerialeNonValido,
            Errore::CampoMancante,
            Errore::DataNonValida
        ])
    );
}

#[test]
fn an_issuer_fits_answers_notices_and_files() {
    assert_eq!(emittente(" CN=CA,O=X ").unwrap(), "CN=CA,O=X");
    for bad in ["", "CN=CA\tO=X", "CN=CA\nO=X", &"x".repeat(256)] {
        assert_eq!(emittente(bad), Err(Errore::EmittenteNonValido), "{bad:?}");
    }
    assert!(emittente(&"è".repeat(255)).is_ok());
}
