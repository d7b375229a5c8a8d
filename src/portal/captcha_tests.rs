use super::png::{adler32, crc32, zlib_stored, BLOCCO_MAX, FIRMA};
use super::*;
use std::path::Path;
use std::process::Command;

/// CRC-32 bit by bit, independent of the table the encoder uses.
fn crc32_lento(dati: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in dati {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Adler-32 reduced at every byte, independent of the encoder's batching.
fn adler32_lento(dati: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in dati {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().unwrap())
}

/// Inflates a zlib stream made only of stored blocks; returns the data and the block count.
fn inflate_stored(z: &[u8]) -> (Vec<u8>, usize) {
    assert_eq!(z[0] & 0x0F, 8, "CM must be deflate");
    assert_eq!((u16::from(z[0]) * 256 + u16::from(z[1])) % 31, 0, "FCHECK");
    assert_eq!(z[1] & 0x20, 0, "no preset dictionary");
    let (mut i, mut dati, mut blocchi) = (2, Vec::new(), 0);
    loop {
        let testa = z[i];
        assert_eq!((testa >> 1) & 3, 0, "BTYPE must be 00 (stored)");
        let len = u16::from_le_bytes([z[i + 1], z[i + 2]]);
        let nlen = u16::from_le_bytes([z[i + 3], z[i + 4]]);
        assert_eq!(len, !nlen, "NLEN is the complement of LEN");
        dati.extend_from_slice(&z[i + 5..i + 5 + usize::from(len)]);
        i += 5 + usize::from(len);
        blocchi += 1;
        if testa & 1 == 1 {
            break;
        }
    }
    assert_eq!(z.len(), i + 4, "only the Adler-32 after the last block");
    assert_eq!(be32(&z[i..]), adler32_lento(&dati), "Adler-32");
    (dati, blocchi)
}

/// Parses a PNG back, checking every structural rule; returns width, height, RGB pixels and the
/// number of deflate blocks.
fn decodifica(png: &[u8]) -> (u32, u32, Vec<u8>, usize) {
    assert_eq!(png[..8], FIRMA, "signature");
    let (mut i, mut tipi, mut ihdr, mut idat) = (8, Vec::new(), Vec::new(), Vec::new());
    while i < png.len() {
        let len = be32(&png[i..]) as usize;
        let tipo = &png[i + 4..i + 8];
        let dati = &png[i + 8..i + 8 + len];
        let crc = be32(&png[i + 8 + len..]);
        assert_eq!(
            crc,
            crc32_lento(&png[i + 4..i + 8 + len]),
            "CRC of {tipo:?}"
        );
        match tipo {
            b"IHDR" => ihdr = dati.to_vec(),
            b"IDAT" => idat.extend_from_slice(dati),
            _ => {}
        }
        tipi.push(String::from_utf8(tipo.to_vec()).unwrap());
        i += 12 + len;
    }
    assert_eq!(i, png.len(), "nothing after the last chunk");
    assert_eq!(tipi, ["IHDR", "IDAT", "IEND"]);
    assert_eq!(ihdr.len(), 13);
    let (w, h) = (be32(&ihdr[0..]), be32(&ihdr[4..]));
    assert_eq!(ihdr[8..], [8, 2, 0, 0, 0], "8-bit RGB, no interlace");
    let (grezzi, blocchi) = inflate_stored(&idat);
    let riga = w as usize * 3 + 1;
    assert_eq!(
        grezzi.len(),
        riga * h as usize,
        "h scanlines of 1 + 3w bytes"
    );
    let mut pixel = Vec::new();
    for scanline in grezzi.chunks(riga) {
        assert_eq!(scanline[0], 0, "filter type 0");
        pixel.extend_from_slice(&scanline[1..]);
    }
    (w, h, pixel, blocchi)
}

/// Pixels darker than a glyph's lightest colour could be, inside `x0..x1`, `y0..y1`.
fn scuri(w: u32, pixel: &[u8], (x0, x1): (u32, u32), (y0, y1): (u32, u32)) -> usize {
    let mut n = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (y * w + x) as usize * 3;
            let luma = (299 * u32::from(pixel[i])
                + 587 * u32::from(pixel[i + 1])
                + 114 * u32::from(pixel[i + 2]))
                / 1000;
            n += usize::from(luma < 128);
        }
    }
    n
}

#[test]
fn checksum_known_values() {
    assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
    assert_eq!(crc32(&[b"1234", b"56789"]), 0xCBF4_3926);
    assert_eq!(crc32(&[b"IEND"]), 0xAE42_6082);
    assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    assert_eq!(adler32(b""), 1);
    let grande: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + 255) as u8).collect();
    assert_eq!(adler32(&grande), adler32_lento(&grande));
    assert_eq!(crc32(&[&grande]), crc32_lento(&grande));
}

#[test]
fn zlib_stored_splits_blocks_at_65535() {
    for n in [
        0,
        1,
        BLOCCO_MAX - 1,
        BLOCCO_MAX,
        BLOCCO_MAX + 1,
        3 * BLOCCO_MAX + 17,
    ] {
        let dati: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        let (indietro, blocchi) = inflate_stored(&zlib_stored(&dati));
        assert_eq!(indietro, dati, "{n} bytes round trip");
        assert_eq!(blocchi, n.div_ceil(BLOCCO_MAX).max(1), "{n} bytes");
    }
}

#[test]
fn large_image_round_trips_through_several_blocks() {
    let mut img = Immagine::nuova(300, 100, [1, 2, 3]);
    for (i, p) in img.rgb.iter_mut().enumerate() {
        *p = (i % 253) as u8;
    }
    let (w, h, pixel, blocchi) = decodifica(&png::codifica(&img));
    assert_eq!((w, h), (300, 100));
    assert_eq!(pixel, img.rgb);
    assert_eq!(
        blocchi, 2,
        "90100 bytes of scanlines need two stored blocks"
    );
}

#[test]
fn captcha_png_is_valid_and_shows_text() {
    let c = genera().unwrap();
    let (w, h, pixel, blocchi) = decodifica(&c.png);
    assert_eq!((w, h), (LARGHEZZA_PX, ALTEZZA_PX));
    assert_eq!(blocchi, 1);
    let testo = scuri(w, &pixel, (10, 190), (5, 65));
    // Five glyphs cover over 2300 dark pixels (fewest in 300 seeded draws: 2321); the noise
    // alone at most about 1000 (next test).
    assert!(
        testo > 1800,
        "only {testo} dark pixels: the text is missing"
    );
}

#[test]
fn noise_alone_stays_below_the_text_threshold() {
    for seme in 0..50 {
        let img = disegna("", &mut Rumore::new(seme), true);
        let n = scuri(img.larghezza, &img.rgb, (10, 190), (5, 65));
        assert!(n < 1400, "seed {seme}: noise alone gives {n} dark pixels");
    }
}

#[test]
fn png_validates_with_python_zlib() {
    if !Path::new("/usr/bin/python3").exists() {
        return;
    }
    let file = std::env::temp_dir().join(format!("tsgate-captcha-{}.png", std::process::id()));
    std::fs::write(&file, genera().unwrap().png).unwrap();
    let script = r#"
import struct, sys, zlib
b = open(sys.argv[1], 'rb').read()
assert b[:8] == b'\x89PNG\r\n\x1a\n'
i, idat, w, h = 8, b'', 0, 0
while i < len(b):
    n, t = struct.unpack('>I4s', b[i:i+8])
    d = b[i+8:i+8+n]
    assert struct.unpack('>I', b[i+8+n:i+12+n])[0] == zlib.crc32(t + d), t
    if t == b'IHDR': w, h = struct.unpack('>II', d[:8])
    if t == b'IDAT': idat += d
    i += 12 + n
raw = zlib.decompress(idat)
assert len(raw) == h * (1 + 3 * w), len(raw)
print(w, h)
"#;
    let out = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "200 70");
}

#[test]
fn text_has_five_characters_of_the_alphabet() {
    let c = genera().unwrap();
    assert_eq!(c.testo.len(), LUNGHEZZA);
    assert!(
        c.testo.chars().all(|ch| ALFABETO.contains(ch)),
        "{}",
        c.testo
    );
    assert_ne!(genera().unwrap().testo, c.testo, "two captchas, same text");
}

#[test]
fn text_uses_every_character_of_the_alphabet() {
    let mut visti = std::collections::HashSet::new();
    for _ in 0..400 {
        visti.extend(testo_casuale().unwrap().chars());
    }
    assert_eq!(
        visti.len(),
        ALFABETO.len(),
        "2000 draws missed some characters"
    );
    assert!(visti.iter().all(|c| ALFABETO.contains(*c)));
}

#[test]
fn verifica_cases() {
    assert!(verifica("AC3DE", "AC3DE"));
    assert!(verifica("AC3DE", "ac3de"));
    assert!(verifica("AC3DE", "  aC3dE \t\n"));
    assert!(!verifica("AC3DE", "AC3DF"));
    assert!(!verifica("AC3DE", "AC3D"));
    assert!(!verifica("AC3DE", "AC3DEE"));
    assert!(!verifica("AC3DE", "AC 3DE"));
    assert!(!verifica("AC3DE", ""));
    assert!(!verifica("", ""), "an empty expected answer never matches");
    assert!(!verifica("   ", "   "));
    assert!(
        !verifica("AC3DE", "àc3dé"),
        "non-ASCII input is only a mismatch"
    );
}

#[test]
fn data_uri_inlines_the_png() {
    let c = genera().unwrap();
    let uri = data_uri(&c.png);
    let b64 = uri.strip_prefix("data:image/png;base64,").unwrap();
    assert!(!b64.contains(['\n', '\r']), "one line");
    assert_eq!(openssl::base64::decode_block(b64).unwrap(), c.png);
}

#[test]
fn font_has_exactly_the_alphabet_with_distinct_glyphs() {
    let caratteri: String = FONT.iter().map(|(c, _)| *c).collect();
    assert_eq!(caratteri, ALFABETO);
    for (i, (a, ga)) in FONT.iter().enumerate() {
        assert!(ga.iter().all(|r| *r < 0x20), "{a}: rows are 5 bits wide");
        for (b, gb) in &FONT[i + 1..] {
            assert_ne!(ga, gb, "{a} and {b} look the same");
        }
    }
    assert!(glifo('O').is_none() && glifo('0').is_none());
}

#[test]
fn every_glyph_renders_dark_pixels() {
    for c in ALFABETO.chars() {
        let celle: u32 = glifo(c).unwrap().iter().map(|r| r.count_ones()).sum();
        assert!(celle >= 9, "{c}: {celle} cells");
        let img = disegna(&c.to_string(), &mut Rumore::new(u64::from(c)), false);
        let n = scuri(img.larghezza, &img.rgb, (0, LARGHEZZA_PX), (0, ALTEZZA_PX));
        assert!(n > 150, "{c}: only {n} dark pixels");
    }
    let vuota = disegna("", &mut Rumore::new(1), false);
    assert_eq!(scuri(vuota.larghezza, &vuota.rgb, (0, 200), (0, 70)), 0);
}

#[test]
fn debug_hides_the_answer() {
    let c = genera().unwrap();
    let d = format!("{c:?}");
    assert!(!d.contains(&c.testo), "{d}");
    assert!(d.contains("*****"));
}

#[test]
fn writes_an_example_for_people_to_look_at() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots/captcha");
    std::fs::create_dir_all(&dir).unwrap();
    let c = genera().unwrap();
    std::fs::write(dir.join("esempio.png"), &c.png).unwrap();
    std::fs::write(dir.join("esempio.txt"), format!("{}\n", c.testo)).unwrap();
    for i in 1..=5 {
        let c = genera().unwrap();
        std::fs::write(dir.join(format!("esempio-{i}-{}.png", c.testo)), &c.png).unwrap();
    }
}
