//! The captcha of the OTP form (issue 6): a random 5-character code drawn as a noisy PNG image,
//! and the comparison of the operator's answer. Pure: no storage, no I/O.
//!
//! The code comes from the OpenSSL CSPRNG (rejection sampling, no bias) over [`ALFABETO`], which
//! has no look-alike characters (no `0/O`, `1/I`, `2/Z`, `5/S`, `8/B`, `G/6`, `Q`). Each glyph of a
//! built-in 5×7 bitmap font is scaled, sheared, rotated, shifted and coloured at random, over a
//! noisy background with dots and a few lines crossing the text. The PNG is written by the `png`
//! crate (`captcha_png.rs`). Storing the answer, its single use and its expiry belong to the caller.

use std::fmt;

#[path = "captcha_png.rs"]
mod png;

/// The characters a code is made of: no two of them are easily mistaken for each other.
pub const ALFABETO: &str = "ACDEFHJKLMNPRTUVWXY34679";
/// Number of characters of a code.
pub const LUNGHEZZA: usize = 5;
/// Width of the image in pixels.
pub const LARGHEZZA_PX: u32 = 200;
/// Height of the image in pixels.
pub const ALTEZZA_PX: u32 = 70;

/// A generated captcha: the expected answer and its image. `Debug` does not print the answer.
#[derive(Clone)]
pub struct Captcha {
    /// The code, [`LUNGHEZZA`] upper-case characters of [`ALFABETO`].
    pub testo: String,
    /// A valid PNG (8-bit RGB, [`LARGHEZZA_PX`]×[`ALTEZZA_PX`]) showing `testo`.
    pub png: Vec<u8>,
}

impl fmt::Debug for Captcha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Captcha")
            .field("testo", &"*****")
            .field("png", &format_args!("{} byte", self.png.len()))
            .finish()
    }
}

/// Why a captcha could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ErroreCaptcha {
    #[error("captcha: generatore casuale non disponibile: {0}")]
    Casuale(#[from] openssl::error::ErrorStack),
    #[error("captcha: immagine non codificata: {0}")]
    Png(#[from] ::png::EncodingError),
}

/// A new captcha: a code uniform over [`ALFABETO`]^[`LUNGHEZZA`] and its image. Fails only when
/// the OpenSSL random generator does.
pub fn genera() -> Result<Captcha, ErroreCaptcha> {
    let testo = testo_casuale()?;
    let mut seme = [0u8; 8];
    openssl::rand::rand_bytes(&mut seme)?;
    let immagine = disegna(&testo, &mut Rumore::new(u64::from_le_bytes(seme)), true);
    Ok(Captcha {
        png: png::codifica(&immagine)?,
        testo,
    })
}

/// Whether the operator's answer `inserito` matches `atteso`: surrounding white space ignored,
/// ASCII letters compared without regard to case, in constant time for answers of the expected
/// length. An empty expected answer never matches.
pub fn verifica(atteso: &str, inserito: &str) -> bool {
    let a = atteso.trim().to_ascii_uppercase();
    let b = inserito.trim().to_ascii_uppercase();
    !a.is_empty() && a.len() == b.len() && openssl::memcmp::eq(a.as_bytes(), b.as_bytes())
}

/// The PNG as a `data:image/png;base64,...` URI, to inline in an `<img src>`.
pub fn data_uri(png: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        openssl::base64::encode_block(png)
    )
}

/// [`LUNGHEZZA`] characters of [`ALFABETO`]: a random byte is used only if below the largest
/// multiple of the alphabet's size, so `byte % size` is uniform.
fn testo_casuale() -> Result<String, ErroreCaptcha> {
    let alfabeto = ALFABETO.as_bytes();
    let limite = 256 - 256 % alfabeto.len();
    let mut testo = String::with_capacity(LUNGHEZZA);
    let mut casuali = [0u8; 16];
    while testo.len() < LUNGHEZZA {
        openssl::rand::rand_bytes(&mut casuali)?;
        for &b in casuali.iter().filter(|&&b| usize::from(b) < limite) {
            if testo.len() < LUNGHEZZA {
                testo.push(char::from(alfabeto[usize::from(b) % alfabeto.len()]));
            }
        }
    }
    Ok(testo)
}

/// Stroke width of the glyphs, in font cells.
const SPESSORE: f32 = 1.1;

/// The 5×7 font: one row per byte, top to bottom, bit 4 is the leftmost column.
const FONT: [(char, [u8; 7]); 24] = [
    ('A', [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11]),
    ('C', [0x0F, 0x10, 0x10, 0x10, 0x10, 0x10, 0x0F]),
    ('D', [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E]),
    ('E', [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F]),
    ('F', [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10]),
    ('H', [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11]),
    ('J', [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C]),
    ('K', [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11]),
    ('L', [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F]),
    ('M', [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11]),
    ('N', [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11]),
    ('P', [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10]),
    ('R', [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11]),
    ('T', [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04]),
    ('U', [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E]),
    ('V', [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04]),
    ('W', [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A]),
    ('X', [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11]),
    ('Y', [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04]),
    ('3', [0x0E, 0x11, 0x01, 0x06, 0x01, 0x11, 0x0E]),
    ('4', [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02]),
    ('6', [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E]),
    ('7', [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08]),
    ('9', [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C]),
];

/// The bitmap of `c`, if the font has it.
fn glifo(c: char) -> Option<&'static [u8; 7]> {
    FONT.iter().find(|(g, _)| *g == c).map(|(_, righe)| righe)
}

/// A glyph as strokes: a segment between the centres of every two set cells that touch (side by
/// side, or corner to corner when no shared neighbour is set), and a dot for every set cell. In
/// font units: the cell (`col`, `riga`) has its centre at (`col + 0.5`, `riga + 0.5`).
fn tratti(righe: &[u8; 7]) -> Vec<[f32; 4]> {
    let acceso = |col: i32, riga: i32| {
        (0..5).contains(&col) && (0..7).contains(&riga) && righe[riga as usize] & (0x10 >> col) != 0
    };
    let mut tratti = Vec::new();
    for riga in 0..7 {
        for col in 0..5 {
            if !acceso(col, riga) {
                continue;
            }
            let centro = |c: i32, r: i32| [c as f32 + 0.5, r as f32 + 0.5];
            let [x, y] = centro(col, riga);
            tratti.push([x, y, x, y]);
            let vicini = [
                (col + 1, riga, true),
                (col, riga + 1, true),
                (
                    col + 1,
                    riga + 1,
                    !acceso(col + 1, riga) && !acceso(col, riga + 1),
                ),
                (
                    col - 1,
                    riga + 1,
                    !acceso(col - 1, riga) && !acceso(col, riga + 1),
                ),
            ];
            for (c, r, unisci) in vicini {
                if unisci && acceso(c, r) {
                    let [x2, y2] = centro(c, r);
                    tratti.push([x, y, x2, y2]);
                }
            }
        }
    }
    tratti
}

/// Whether the point (`u`, `v`) in font units lies within `raggio` of one of the strokes.
fn sul_tratto(tratti: &[[f32; 4]], u: f32, v: f32, raggio: f32) -> bool {
    if !(-raggio..5.0 + raggio).contains(&u) || !(-raggio..7.0 + raggio).contains(&v) {
        return false;
    }
    tratti.iter().any(|&[x1, y1, x2, y2]| {
        let (dx, dy) = (x2 - x1, y2 - y1);
        let l2 = dx * dx + dy * dy;
        let t = if l2 > 0.0 {
            (((u - x1) * dx + (v - y1) * dy) / l2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (ex, ey) = (u - x1 - t * dx, v - y1 - t * dy);
        ex * ex + ey * ey <= raggio * raggio
    })
}

/// An RGB image, 3 bytes per pixel, rows top to bottom; `rgb.len() == larghezza * altezza * 3`.
struct Immagine {
    larghezza: u32,
    altezza: u32,
    rgb: Vec<u8>,
}

impl Immagine {
    fn nuova(larghezza: u32, altezza: u32, colore: [u8; 3]) -> Immagine {
        let n = larghezza as usize * altezza as usize;
        Immagine {
            larghezza,
            altezza,
            rgb: colore.repeat(n),
        }
    }

    /// Mixes `colore` into pixel (`x`, `y`) with weight `peso` (0..=1); outside it does nothing.
    fn fondi(&mut self, x: i64, y: i64, colore: [u8; 3], peso: f32) {
        if x < 0 || y < 0 || x >= i64::from(self.larghezza) || y >= i64::from(self.altezza) {
            return;
        }
        let i = (y as usize * self.larghezza as usize + x as usize) * 3;
        let peso = peso.clamp(0.0, 1.0);
        for (p, c) in self.rgb[i..i + 3].iter_mut().zip(colore) {
            *p = (f32::from(*p) * (1.0 - peso) + f32::from(c) * peso).round() as u8;
        }
    }
}

/// The geometry noise: splitmix64 seeded from the CSPRNG. The code itself never comes from here.
struct Rumore(u64);

impl Rumore {
    fn new(seme: u64) -> Rumore {
        Rumore(seme)
    }

    fn successivo(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[da, a)`.
    fn tra(&mut self, da: f32, a: f32) -> f32 {
        let unita = (self.successivo() >> 40) as f32 / (1u64 << 24) as f32;
        da + (a - da) * unita
    }

    /// Uniform in `da..=a` (bytes).
    fn byte(&mut self, da: u8, a: u8) -> u8 {
        let ampiezza = u64::from(a.saturating_sub(da)) + 1;
        da.saturating_add((self.successivo() % ampiezza) as u8)
    }

    fn colore(&mut self, da: u8, a: u8) -> [u8; 3] {
        [self.byte(da, a), self.byte(da, a), self.byte(da, a)]
    }
}

/// Draws `testo` (characters outside the font are skipped) on a light background; with `disturbo`
/// adds pixel noise, dots and lines crossing the text.
fn disegna(testo: &str, r: &mut Rumore, disturbo: bool) -> Immagine {
    let (w, h) = (LARGHEZZA_PX as f32, ALTEZZA_PX as f32);
    let mut img = Immagine::nuova(LARGHEZZA_PX, ALTEZZA_PX, r.colore(225, 250));
    if disturbo {
        for i in 0..img.rgb.len() {
            img.rgb[i] = img.rgb[i].saturating_sub(r.byte(0, 24));
        }
        punti(&mut img, r, 150);
    }
    let n = testo.chars().count().max(1) as f32;
    let margine = 14.0;
    let passo = (w - 2.0 * margine) / n;
    // One gentle wave bends the whole line of text.
    let (ampiezza, periodo, fase) = (r.tra(1.5, 3.5), r.tra(70.0, 130.0), r.tra(0.0, 6.3));
    for (i, c) in testo.chars().enumerate() {
        let Some(righe) = glifo(c) else { continue };
        let tratti = tratti(righe);
        let (sx, sy) = (r.tra(4.4, 5.4), r.tra(5.4, 6.4));
        let taglio = r.tra(-0.22, 0.22);
        let angolo = r.tra(-0.16, 0.16);
        let cx = margine + passo * (i as f32 + 0.5) + r.tra(-3.0, 3.0);
        let cy = h / 2.0 + r.tra(-4.0, 4.0);
        let colore = r.colore(10, 110);
        let (sin, cos) = angolo.sin_cos();
        let raggio = 3.5 * sy + 2.5 * sx + 4.0;
        let (x0, x1) = ((cx - raggio).floor() as i64, (cx + raggio).ceil() as i64);
        let (y0, y1) = ((cy - raggio).floor() as i64, (cy + raggio).ceil() as i64);
        // Pixel position to font units: undo the wave, the rotation, the shear and the scale.
        let font = |x: f32, y: f32| {
            let onda = ampiezza * (x * std::f32::consts::TAU / periodo + fase).sin();
            let (px, py) = (x - cx, y - cy - onda);
            let (qx, qy) = (px * cos + py * sin, -px * sin + py * cos);
            ((qx - taglio * qy) / sx + 2.5, qy / sy + 3.5)
        };
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (u, v) = font(x as f32 + 0.5, y as f32 + 0.5);
                if !(-1.0..6.0).contains(&u) || !(-1.0..8.0).contains(&v) {
                    continue;
                }
                // 3×3 samples per pixel: the fraction inside the glyph is its coverage.
                let mut dentro = 0u8;
                for sy_i in 0..3 {
                    for sx_i in 0..3 {
                        let (u, v) = font(
                            x as f32 + (sx_i as f32 + 0.5) / 3.0,
                            y as f32 + (sy_i as f32 + 0.5) / 3.0,
                        );
                        dentro += u8::from(sul_tratto(&tratti, u, v, SPESSORE / 2.0));
                    }
                }
                if dentro > 0 {
                    img.fondi(x, y, colore, f32::from(dentro) / 9.0);
                }
            }
        }
    }
    if disturbo {
        for _ in 0..3 {
            linea(&mut img, r);
        }
        punti(&mut img, r, 150);
    }
    img
}

/// `quanti` dots of 1 or 2×2 pixels in random colours.
fn punti(img: &mut Immagine, r: &mut Rumore, quanti: usize) {
    for _ in 0..quanti {
        let x = r.tra(0.0, img.larghezza as f32) as i64;
        let y = r.tra(0.0, img.altezza as f32) as i64;
        let lato = if r.tra(0.0, 1.0) < 0.3 { 2 } else { 1 };
        let colore = r.colore(0, 230);
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)]
            .into_iter()
            .take(lato * lato)
        {
            img.fondi(x + dx, y + dy, colore, 0.85);
        }
    }
}

/// A slightly curved line from the left to the right edge, 1 to 2 pixels thick, anti-aliased.
fn linea(img: &mut Immagine, r: &mut Rumore) {
    let (w, h) = (img.larghezza as f32, img.altezza as f32);
    let (ya, yb) = (r.tra(h * 0.2, h * 0.8), r.tra(h * 0.2, h * 0.8));
    let (curva, periodo, fase) = (r.tra(2.0, 6.0), r.tra(80.0, 200.0), r.tra(0.0, 6.3));
    let spessore = r.tra(1.0, 2.0);
    let colore = r.colore(30, 140);
    for x in 0..img.larghezza {
        let xf = x as f32;
        let yc =
            ya + (yb - ya) * xf / w + curva * (xf * std::f32::consts::TAU / periodo + fase).sin();
        let (da, a) = (
            (yc - spessore).floor() as i64,
            (yc + spessore).ceil() as i64,
        );
        for y in da..=a {
            let distanza = ((y as f32 + 0.5) - yc).abs();
            let peso = (spessore / 2.0 + 0.5 - distanza).clamp(0.0, 1.0);
            if peso > 0.0 {
                img.fondi(i64::from(x), y, colore, peso);
            }
        }
    }
}

#[cfg(test)]
#[path = "captcha_tests.rs"]
mod tests;
