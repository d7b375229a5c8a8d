use super::*;
use std::path::Path;
use std::process::Command;

/// Decodes a PNG (with the `png` crate's decoder): width, height and RGB pixels; asserts the
/// format is 8-bit RGB.
fn decodifica(dati: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut lettore = ::png::Decoder::new(std::io::Cursor::new(dati))
        .read_info()
        .expect("a PNG");
    let mut pixel = vec![0; lettore.output_buffer_size()];
    let info = lettore.next_frame(&mut pixel).expect("one frame");
    assert_eq!(
        (info.color_type, info.bit_depth),
        (::png::ColorType::Rgb, ::png::BitDepth::Eight)
    );
    pixel.truncate(info.buffer_size());
    (info.width, info.height, pixel)
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
fn a_large_image_round_trips() {
    let mut img = Immagine::nuova(300, 100, [1, 2, 3]);
    for (i, p) in img.rgb.iter_mut().enumerate() {
        *p = (i % 253) as u8;
    }
    let (w, h, pixel) = decodifica(&png::codifica(&img).unwrap());
    assert_eq!((w, h), (300, 100));
    assert_eq!(pixel, img.rgb);
}

#[test]
fn captcha_png_is_valid_and_shows_text() {
    let c = genera().unwrap();
    let (w, h, pixel) = decodifica(&c.png);
    assert_eq!((w, h), (LARGHEZZA_PX, ALTEZZA_PX));
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
