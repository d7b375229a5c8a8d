use super::*;
use std::path::PathBuf;

fn dir(nome: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tsgate-pincode-{nome}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn chiave(nome: &str) -> ChiavePincode {
    ChiavePincode::crea_se_manca(&dir(nome).join("pincode.key")).unwrap()
}

#[test]
fn a_pincode_is_ten_ascii_digits() {
    for _ in 0..100 {
        let p = Pincode::genera().unwrap();
        assert_eq!(p.cifre().len(), 10);
        assert!(
            p.cifre().bytes().all(|b| b.is_ascii_digit()),
            "{}",
            p.cifre()
        );
    }
}

#[test]
fn rejection_sampling_has_no_bias() {
    let mut conta = [0u32; 10];
    for b in 0..=255u8 {
        match cifra_da_byte(b) {
            Some(c) => conta[usize::from(c - b'0')] += 1,
            None => assert!(b >= 250, "{b}"),
        }
    }
    assert_eq!(conta, [25; 10]);
}

#[test]
fn every_digit_appears_in_every_position() {
    let mut conta = [[0u32; 10]; CIFRE];
    for _ in 0..10_000 {
        let p = Pincode::genera().unwrap();
        for (pos, b) in p.cifre().bytes().enumerate() {
            conta[pos][usize::from(b - b'0')] += 1;
        }
    }
    // Expected 1000 per cell; a uniform draw falls outside 800..1200 with probability ~1e-10.
    for (pos, riga) in conta.iter().enumerate() {
        for (cifra, &n) in riga.iter().enumerate() {
            assert!(
                (800..1200).contains(&n),
                "posizione {pos}, cifra {cifra}: {n}"
            );
        }
    }
}

#[test]
fn debug_and_display_do_not_show_the_digits() {
    let p = Pincode::genera().unwrap();
    for s in [format!("{p:?}"), format!("{p}"), format!("{:?}", Some(&p))] {
        assert!(s.contains("Pincode(**********)"), "{s}");
        assert!(!s.contains(p.cifre()), "{s}");
        assert!(!s.bytes().any(|b| b.is_ascii_digit()), "{s}");
    }
    let k = chiave("debug");
    assert_eq!(format!("{k:?}"), "ChiavePincode(..)");
}

#[test]
fn round_trip() {
    let k = chiave("roundtrip");
    let p = Pincode::genera().unwrap();
    let blob = k.cifra(&p, 42).unwrap();
    assert_eq!(blob.len(), LUNGHEZZA_CIFRATO);
    assert!(!blob.windows(10).any(|w| w == p.cifre().as_bytes()));
    assert_eq!(k.decifra(&blob, 42).unwrap().cifre(), p.cifre());
    assert!(k.verifica(&blob, 42, p.cifre()));
    // A fresh nonce each time: the same pincode never gives the same blob.
    assert_ne!(k.cifra(&p, 42).unwrap(), blob);
}

#[test]
fn the_blob_of_another_user_does_not_decrypt() {
    let k = chiave("aad");
    let (p, blob) = k.nuovo_pincode(7).unwrap();
    assert!(matches!(
        k.decifra(&blob, 8),
        Err(PincodeError::Decifratura)
    ));
    assert!(matches!(
        k.decifra(&blob, -7),
        Err(PincodeError::Decifratura)
    ));
    assert!(!k.verifica(&blob, 8, p.cifre()));
}

#[test]
fn any_altered_byte_fails() {
    let k = chiave("tamper");
    let (p, blob) = k.nuovo_pincode(1).unwrap();
    for i in 0..blob.len() {
        let mut b = blob.clone();
        b[i] ^= 0x01;
        assert!(k.decifra(&b, 1).is_err(), "byte {i}");
        assert!(!k.verifica(&b, 1, p.cifre()), "byte {i}");
    }
    assert!(k.decifra(&blob[..blob.len() - 1], 1).is_err());
    assert!(k.decifra(&[], 1).is_err());
    let mut lungo = blob.clone();
    lungo.push(0);
    assert!(k.decifra(&lungo, 1).is_err());
}

#[test]
fn another_key_fails() {
    let (k1, k2) = (chiave("k1"), chiave("k2"));
    let (p, blob) = k1.nuovo_pincode(3).unwrap();
    assert!(matches!(
        k2.decifra(&blob, 3),
        Err(PincodeError::Decifratura)
    ));
    assert!(!k2.verifica(&blob, 3, p.cifre()));
}

#[test]
fn verify_wants_exactly_the_digits() {
    let k = chiave("verify");
    let (p, blob) = k.nuovo_pincode(5).unwrap();
    let c = p.cifre();
    assert!(k.verifica(&blob, 5, c));
    assert!(!k.verifica(&blob, 5, &format!(" {c}")));
    assert!(!k.verifica(&blob, 5, &c[..9]));
    assert!(!k.verifica(&blob, 5, ""));
    let altro = format!("{}{}", &c[..9], (c.as_bytes()[9] - b'0' + 1) % 10);
    assert!(!k.verifica(&blob, 5, &altro));
}

#[test]
fn regenerating_invalidates_the_old_pincode() {
    let k = chiave("regen");
    let (vecchio, _) = k.nuovo_pincode(9).unwrap();
    let (nuovo, blob) = k.nuovo_pincode(9).unwrap();
    // The stored blob is the new one; the old digits verify only by a 1e-10 coincidence.
    if vecchio.cifre() != nuovo.cifre() {
        assert!(!k.verifica(&blob, 9, vecchio.cifre()));
    }
    assert!(k.verifica(&blob, 9, nuovo.cifre()));
}

#[test]
fn the_key_file_is_created_once_with_mode_0600() {
    let d = dir("create");
    let path = d.join("pincode.key");
    let k1 = ChiavePincode::crea_se_manca(&path).unwrap();
    let modo = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(modo, 0o600);
    let testo = std::fs::read_to_string(&path).unwrap();
    assert_eq!(testo.trim().len(), 64);
    assert!(testo.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    // A second call loads the same key: what the first encrypted, the second decrypts.
    let (p, blob) = k1.nuovo_pincode(11).unwrap();
    let k2 = ChiavePincode::crea_se_manca(&path).unwrap();
    assert_eq!(k2.decifra(&blob, 11).unwrap().cifre(), p.cifre());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), testo);
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
}

#[test]
fn concurrent_creations_agree_on_one_key() {
    let d = dir("concurrent");
    let path = d.join("pincode.key");
    let chiavi: Vec<ChiavePincode> = std::thread::scope(|s| {
        let h: Vec<_> = (0..8)
            .map(|_| s.spawn(|| ChiavePincode::crea_se_manca(&path).unwrap()))
            .collect();
        h.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let (p, blob) = chiavi[0].nuovo_pincode(1).unwrap();
    for k in &chiavi {
        assert!(k.verifica(&blob, 1, p.cifre()));
    }
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
}

#[test]
fn a_key_file_readable_by_others_is_refused() {
    let d = dir("perm");
    let path = d.join("pincode.key");
    ChiavePincode::crea_se_manca(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let e = ChiavePincode::carica(&path).unwrap_err();
    assert!(
        matches!(e, PincodeError::ChiavePermessi { modo: 0o640, .. }),
        "{e}"
    );
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
    assert!(ChiavePincode::carica(&path).is_ok());
}

#[test]
fn malformed_or_missing_key_files_name_the_file() {
    let d = dir("format");
    let scrivi = |nome: &str, dati: &[u8]| {
        let p = d.join(nome);
        std::fs::write(&p, dati).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    };
    let buoni = "0123456789abcdefABCDEF0123456789abcdef0123456789abcdef0123456789";
    assert!(ChiavePincode::carica(&scrivi("ok", format!("{buoni}\n").as_bytes())).is_ok());
    for (nome, dati) in [
        ("corta", &buoni.as_bytes()[..62]),
        ("lunga", format!("{buoni}00").as_bytes()),
        ("non-hex", buoni.replace('a', "g").as_bytes()),
        ("grezza", &[7u8; 32][..]),
    ] {
        let p = scrivi(nome, dati);
        let e = ChiavePincode::carica(&p).unwrap_err();
        assert!(
            matches!(e, PincodeError::ChiaveFormato { .. }),
            "{nome}: {e}"
        );
        assert!(e.to_string().contains(&p.display().to_string()), "{e}");
    }
    let assente = d.join("assente");
    let e = ChiavePincode::carica(&assente).unwrap_err();
    assert!(matches!(e, PincodeError::ChiaveLettura { .. }), "{e}");
    assert!(
        e.to_string().contains(&assente.display().to_string()),
        "{e}"
    );
}

#[test]
fn hex_round_trip() {
    let k: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37)).collect();
    let h = codifica_hex(&k);
    assert_eq!(decodifica_hex(h.as_bytes()).unwrap().to_vec(), k);
}
