use super::*;

/// Valid codes from immuni-backend-common's tests (`test_otp_code_success`), and one from
/// immuni-backend-otp's API tests.
const IMMUNI_VALIDI: &[&str] = &[
    "XSZ4RAQ3KY",
    "X65FS597US",
    "S8SJ6UZRHQ",
    "8UZLUU8UW5",
    "Z86JQXHAW8",
    "HEQHQ7FYQZ",
    "JAS62UHE58",
    "FQ2YQE43LR",
    "87S8QWH1EE",
    "527AZ66UHX",
    "KJ23IWY5UJ",
];

/// Valid codes whose check character was replaced by their first one (same source).
const IMMUNI_CONTROLLO_ERRATO: &[&str] = &[
    "UFKLYIZXLU",
    "3QW6EYRU53",
    "47F2JAKRF4",
    "F5YEH3128F",
    "QK7W33UU8Q",
    "8L4FQZ8UX8",
    "6EQSE6KW56",
    "XZ2LR2245X",
    "A6F3XQQ1YA",
    "HL2S4U3A6H",
];

#[test]
fn immuni_valid_codes_are_accepted() {
    for code in IMMUNI_VALIDI {
        let otp = Otp::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(otp.as_str(), *code);
    }
}

#[test]
fn immuni_wrong_check_characters_are_refused() {
    for code in IMMUNI_CONTROLLO_ERRATO {
        assert_eq!(Otp::parse(code), Err(ErroreOtp::Controllo), "{code}");
    }
    // immuni: 10 allowed characters but a wrong check character.
    assert_eq!(Otp::parse("AEFHIJ1234"), Err(ErroreOtp::Controllo));
}

#[test]
fn a_check_character_computed_by_hand() {
    // A E F H I J K L Q: odd map on A F I K Q = 1+13+19+2+6 = 41,
    // even map on E H J L = 4+7+9+11 = 31; 72 mod 25 = 22 -> ALFABETO[22] = '7'.
    assert_eq!(Otp::carattere_di_controllo(b"AEFHIJKLQ"), Some(b'7'));
    assert!(Otp::parse("AEFHIJKLQ7").is_ok());
    assert_eq!(Otp::carattere_di_controllo(b"AEFHIJKL"), None);
    assert_eq!(Otp::carattere_di_controllo(b"AEFHIJKLB"), None);
}

#[test]
fn lengths_are_refused_with_the_count() {
    assert_eq!(Otp::parse(""), Err(ErroreOtp::Lunghezza(0)));
    assert_eq!(Otp::parse("XSZ4RAQ3K"), Err(ErroreOtp::Lunghezza(9)));
    assert_eq!(Otp::parse("XSZ4RAQ3KYA"), Err(ErroreOtp::Lunghezza(11)));
    // Characters, not bytes.
    assert_eq!(
        Otp::parse("XSZ4RAQ3KÈ"),
        Err(ErroreOtp::Alfabeto {
            carattere: 'È',
            posizione: 10
        })
    );
}

#[test]
fn the_first_character_outside_the_alphabet_is_named() {
    assert_eq!(
        Otp::parse("NEFHIJ1234"),
        Err(ErroreOtp::Alfabeto {
            carattere: 'N',
            posizione: 1
        })
    );
    assert_eq!(
        Otp::parse("AEFHIJ123N"),
        Err(ErroreOtp::Alfabeto {
            carattere: 'N',
            posizione: 10
        })
    );
    assert_eq!(
        Otp::parse("XSZ0RAQ3KY"),
        Err(ErroreOtp::Alfabeto {
            carattere: '0',
            posizione: 4
        })
    );
    assert_eq!(
        Otp::parse("XSZ4R Q3KY"),
        Err(ErroreOtp::Alfabeto {
            carattere: ' ',
            posizione: 6
        })
    );
    let e = Otp::parse("XSZ4RAQ3KB").unwrap_err();
    assert!(e.to_string().contains("«B» in posizione 10"), "{e}");
}

#[test]
fn typed_input_is_trimmed_and_upper_cased() {
    let otp = Otp::parse("  xsz4raq3ky\n").unwrap();
    assert_eq!(otp.as_str(), "XSZ4RAQ3KY");
    assert_eq!(otp, Otp::parse("XSZ4RAQ3KY").unwrap());
}

/// The substitutions the check character cannot see: symbols with the same value modulo 25 in
/// the map of their position. In both maps E/4, F/5, H/7, I/8, J/9 are equal; in the odd map
/// (0-based even index) also 1/X (0 and 25), in the even map A/Z (0 and 25). A substitution of
/// the check character itself is always caught.
fn eccezione_documentata(i: usize, a: u8, b: u8) -> bool {
    let coppia = |x: u8, y: u8| (a == x && b == y) || (a == y && b == x);
    let ovunque = [
        (b'E', b'4'),
        (b'F', b'5'),
        (b'H', b'7'),
        (b'I', b'8'),
        (b'J', b'9'),
    ];
    i < LUNGHEZZA - 1
        && (ovunque.iter().any(|&(x, y)| coppia(x, y))
            || (i % 2 == 0 && coppia(b'1', b'X'))
            || (i % 2 == 1 && coppia(b'A', b'Z')))
}

#[test]
fn every_single_substitution_fails_except_the_documented_ones() {
    let mut codes: Vec<String> = IMMUNI_VALIDI.iter().map(|s| (*s).to_owned()).collect();
    codes.push("AEFHIJKLQ7".into());
    let mut undetected = 0;
    for code in &codes {
        for i in 0..LUNGHEZZA {
            for &c in ALFABETO {
                let mut b = code.as_bytes().to_vec();
                if b[i] == c {
                    continue;
                }
                let original = b[i];
                b[i] = c;
                let changed = String::from_utf8(b).unwrap();
                let result = Otp::parse(&changed);
                if eccezione_documentata(i, original, c) {
                    assert!(result.is_ok(), "{changed}: expected undetected");
                    undetected += 1;
                } else {
                    assert_eq!(result, Err(ErroreOtp::Controllo), "{changed}");
                }
            }
        }
    }
    assert!(undetected > 0);
}

#[test]
fn random_codes_are_valid_and_differ() {
    let a = Otp::casuale().unwrap();
    let b = Otp::casuale().unwrap();
    assert!(Otp::parse(a.as_str()).is_ok());
    assert_ne!(a, b);
}

#[test]
fn debug_and_display_hide_the_code() {
    let otp = Otp::parse("KJ23IWY5UJ").unwrap();
    let hash = otp.sha256_hex();
    assert_eq!(hash.len(), 64);
    // `printf KJ23IWY5UJ | sha256sum`
    assert_eq!(
        hash,
        "4ec50b1f75ef4ad97521f5b3610cee605595266b7e2c42e6ce72eadff067c108"
    );
    for shown in [
        format!("{otp}"),
        format!("{otp:?}"),
        format!("{:?}", Some(&otp)),
    ] {
        assert!(!shown.contains("KJ23IWY5UJ"), "{shown}");
        assert!(shown.contains("Otp(sha256:4ec50b1f…)"), "{shown}");
    }
}

#[test]
fn symptom_onset_window() {
    let oggi = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    assert_eq!(verifica_inizio_sintomi(oggi, oggi), Ok(()));
    assert_eq!(
        verifica_inizio_sintomi(oggi - Duration::days(180), oggi),
        Ok(())
    );
    assert_eq!(
        verifica_inizio_sintomi(oggi - Duration::days(181), oggi),
        Err(ErroreInizioSintomi::TroppoLontana)
    );
    assert_eq!(
        verifica_inizio_sintomi(oggi + Duration::days(1), oggi),
        Err(ErroreInizioSintomi::Futura)
    );
}
