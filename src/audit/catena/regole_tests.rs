//! The chain rules without a database: encoding, and each anomaly on a chain built in memory.

use super::*;

/// A chain of `n` rows as `registra` would write it, and its head.
fn catena(n: i64) -> (Vec<RigaAudit>, Testa) {
    let mut righe = Vec::new();
    let mut precedente = HASH_ZERO.to_vec();
    for id in 1..=n {
        let mut r = RigaAudit {
            id,
            istante: DateTime::from_timestamp_millis(1_795_000_000_000 + id * 1_001).expect("time"),
            attore: "RSSMRA80A01H501U".into(),
            azione: if id % 2 == 0 {
                "LOGIN"
            } else {
                "ABILITA_PROFILO"
            }
            .into(),
            oggetto: (id % 3 != 0).then(|| format!("VRDLGU7{id}B02F205Z")),
            dettaglio: Some(format!("profilo {id}")),
            esito: Some("OK".into()),
            hash_precedente: precedente.clone(),
            hash: Vec::new(),
        };
        r.hash = r.contenuto().hash(&r.hash_precedente).to_vec();
        precedente.clone_from(&r.hash);
        righe.push(r);
    }
    (
        righe,
        Testa {
            ultimo_id: n,
            ultimo_hash: precedente,
        },
    )
}

fn verifica(righe: &[RigaAudit], testa: Option<Testa>) -> Verifica {
    Verificatore::verifica(testa, righe)
}

fn anomalia(righe: &[RigaAudit], testa: Testa) -> Anomalia {
    match verifica(righe, Some(testa)) {
        Verifica::Compromessa(a) => a,
        Verifica::Integra(i) => panic!("expected an anomaly, chain intact: {i:?}"),
    }
}

/// Rewrites a row's hash as an attacker who knows the scheme would.
fn ricalcola(r: &mut RigaAudit) {
    r.hash = r.contenuto().hash(&r.hash_precedente).to_vec();
}

#[test]
fn an_intact_chain_verifies_with_its_rows_and_head() {
    let (righe, testa) = catena(5);
    let hash_testa = testa.ultimo_hash.clone();
    assert_eq!(
        verifica(&righe, Some(testa)),
        Verifica::Integra(Integra {
            righe: 5,
            ultimo_id: 5,
            hash_testa
        })
    );
}

#[test]
fn the_empty_chain_verifies_against_the_initial_head() {
    let testa = Testa {
        ultimo_id: 0,
        ultimo_hash: HASH_ZERO.to_vec(),
    };
    assert_eq!(
        verifica(&[], Some(testa)),
        Verifica::Integra(Integra {
            righe: 0,
            ultimo_id: 0,
            hash_testa: HASH_ZERO.to_vec()
        })
    );
    assert_eq!(
        verifica(&[], None),
        Verifica::Compromessa(Anomalia::TestaMancante)
    );
}

#[test]
fn a_changed_field_names_its_row() {
    for campo in 0..7 {
        let (mut righe, testa) = catena(5);
        let r = &mut righe[2];
        match campo {
            0 => r.dettaglio = Some("profilo 99".into()),
            1 => r.dettaglio = None,
            2 => r.oggetto = Some(String::new()),
            3 => r.attore.push('X'),
            4 => r.istante += chrono::TimeDelta::milliseconds(1),
            5 => r.esito = Some("KO".into()),
            _ => r.azione = "SBLOCCA_UTENTE".into(),
        }
        assert_eq!(
            anomalia(&righe, testa),
            Anomalia::RigaModificata { id: 3 },
            "field {campo}"
        );
    }
}

#[test]
fn a_changed_id_is_a_change_or_a_gap() {
    let (mut righe, testa) = catena(5);
    righe.remove(2);
    for r in &mut righe[2..] {
        r.id -= 1; // renumbered to hide the gap
    }
    assert_eq!(anomalia(&righe, testa), Anomalia::RigaModificata { id: 3 });
}

#[test]
fn a_deleted_middle_row_is_reported_before_the_row_after_the_gap() {
    let (mut righe, testa) = catena(6);
    righe.drain(2..4);
    let a = anomalia(&righe, testa);
    assert_eq!(a, Anomalia::RigheCancellate { da: 3, a: 4 });
    assert_eq!(a.riga(), Some(5));
    assert!(a.to_string().contains("prima della riga 5"), "{a}");
}

#[test]
fn a_rewritten_row_with_a_recomputed_hash_breaks_the_next_link() {
    let (mut righe, testa) = catena(5);
    righe[1].dettaglio = Some("mai successo".into());
    ricalcola(&mut righe[1]);
    assert_eq!(
        anomalia(&righe, testa),
        Anomalia::RigaNonConcatenata { id: 3 }
    );
}

#[test]
fn a_forged_row_at_the_end_is_inserted_even_with_a_correct_hash() {
    let (mut righe, testa) = catena(3);
    let mut falsa = righe[2].clone();
    falsa.id = 4;
    falsa.hash_precedente.clone_from(&righe[2].hash);
    ricalcola(&mut falsa);
    righe.push(falsa);
    assert_eq!(anomalia(&righe, testa), Anomalia::RigaInserita { id: 4 });
}

#[test]
fn a_forged_row_before_the_first_is_inserted() {
    let (mut righe, testa) = catena(3);
    let mut falsa = righe[0].clone();
    falsa.id = 0;
    ricalcola(&mut falsa);
    righe.insert(0, falsa);
    assert_eq!(anomalia(&righe, testa), Anomalia::RigaInserita { id: 0 });
}

#[test]
fn a_replaced_row_with_its_own_consistent_hash_does_not_chain() {
    let (mut righe, testa) = catena(4);
    righe[2].hash_precedente = vec![7; 32];
    ricalcola(&mut righe[2]);
    assert_eq!(
        anomalia(&righe, testa),
        Anomalia::RigaNonConcatenata { id: 3 }
    );
}

#[test]
fn a_deleted_tail_is_reported_by_the_head() {
    let (mut righe, testa) = catena(5);
    righe.truncate(3);
    let a = anomalia(&righe, testa.clone());
    assert_eq!(a, Anomalia::CodaCancellata { da: 4, a: 5 });
    assert!(
        a.to_string().contains("righe 4-5 cancellata/e in coda"),
        "{a}"
    );
    assert_eq!(
        anomalia(&[], testa),
        Anomalia::CodaCancellata { da: 1, a: 5 }
    );
}

#[test]
fn a_head_not_matching_the_last_row_is_reported() {
    let (mut righe, testa) = catena(4);
    // The last row rewritten with a recomputed hash, the head left alone.
    righe[3].esito = Some("KO".into());
    ricalcola(&mut righe[3]);
    assert_eq!(
        anomalia(&righe, testa.clone()),
        Anomalia::TestaNonCorrispondente { ultimo_id: 4 }
    );
    let (righe, _) = catena(4);
    let falsa = Testa {
        ultimo_hash: vec![1; 32],
        ..testa
    };
    assert_eq!(
        anomalia(&righe, falsa),
        Anomalia::TestaNonCorrispondente { ultimo_id: 4 }
    );
}

#[test]
fn a_missing_head_is_reported_after_the_rows() {
    let (mut righe, _) = catena(3);
    assert_eq!(
        verifica(&righe, None),
        Verifica::Compromessa(Anomalia::TestaMancante)
    );
    righe[1].attore = "altro".into();
    assert_eq!(
        verifica(&righe, None),
        Verifica::Compromessa(Anomalia::RigaModificata { id: 2 })
    );
}

#[test]
fn the_first_anomaly_in_id_order_wins() {
    let (mut righe, testa) = catena(6);
    righe[4].dettaglio = None;
    righe[1].dettaglio = None;
    righe.truncate(5);
    assert_eq!(anomalia(&righe, testa), Anomalia::RigaModificata { id: 2 });
}

#[test]
fn the_encoding_is_injective_on_field_boundaries_and_nulls() {
    let base = Contenuto {
        id: 1,
        istante_ms: 0,
        attore: "ab",
        azione: "c",
        oggetto: None,
        dettaglio: Some(""),
        esito: None,
    };
    let varianti = [
        Contenuto {
            attore: "a",
            azione: "bc",
            ..base
        },
        Contenuto {
            dettaglio: None,
            ..base
        },
        Contenuto {
            oggetto: Some(""),
            dettaglio: None,
            ..base
        },
        Contenuto {
            dettaglio: None,
            esito: Some(""),
            ..base
        },
        Contenuto { id: 2, ..base },
        Contenuto {
            istante_ms: 1,
            ..base
        },
    ];
    for v in varianti {
        assert_ne!(v.codifica(), base.codifica(), "{v:?}");
        assert_ne!(v.hash(&HASH_ZERO), base.hash(&HASH_ZERO), "{v:?}");
    }
    assert_ne!(base.hash(&HASH_ZERO), base.hash(&[1; 32]));
}

#[test]
fn the_encoding_is_the_documented_layout() {
    let c = Contenuto {
        id: 258,
        istante_ms: 1,
        attore: "A",
        azione: "LOGIN",
        oggetto: None,
        dettaglio: Some("d"),
        esito: None,
    };
    let mut atteso = vec![1u8];
    atteso.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 2]);
    atteso.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1]);
    atteso.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, b'A']);
    atteso.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 5]);
    atteso.extend_from_slice(b"LOGIN");
    atteso.push(0);
    atteso.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 1, b'd']);
    atteso.push(0);
    assert_eq!(c.codifica(), atteso);
    // SHA-256 of the 32 zero bytes followed by the encoding, computed independently.
    let mut tutto = HASH_ZERO.to_vec();
    tutto.extend_from_slice(&atteso);
    assert_eq!(c.hash(&HASH_ZERO), openssl::sha::sha256(&tutto));
}

#[test]
fn hashes_print_as_lower_case_hex() {
    assert_eq!(esadecimale(&[0x00, 0xab, 0x0f]), "00ab0f");
}
