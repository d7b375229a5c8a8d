//! A minimal PNG writer for the captcha: 8-bit RGB, no interlace, filter 0 on every scanline,
//! the image data in a zlib stream of stored (uncompressed) deflate blocks.

use super::Immagine;

/// The eight bytes every PNG starts with.
pub(super) const FIRMA: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
/// The largest payload of one stored deflate block.
pub(super) const BLOCCO_MAX: usize = 65_535;

/// The CRC-32 table (polynomial 0xEDB88320, reflected), built at compile time.
const TABELLA_CRC: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[n] = c;
        n += 1;
    }
    t
};

/// CRC-32 as PNG (and zlib's `crc32`) define it.
pub(super) fn crc32(parti: &[&[u8]]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for b in parti.iter().flat_map(|p| p.iter()) {
        c = TABELLA_CRC[((c ^ u32::from(*b)) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

/// Adler-32 as zlib defines it.
pub(super) fn adler32(dati: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that can be summed before the 32-bit `b` could overflow.
    for pezzo in dati.chunks(5552) {
        for &x in pezzo {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// `dati` as a zlib stream (RFC 1950) of stored deflate blocks (RFC 1951, BTYPE 00).
pub(super) fn zlib_stored(dati: &[u8]) -> Vec<u8> {
    let blocchi = dati.len().div_ceil(BLOCCO_MAX).max(1);
    let mut out = Vec::with_capacity(dati.len() + blocchi * 5 + 6);
    // CMF 0x78: deflate, 32 KiB window; FLG 0x01 makes CMF*256+FLG a multiple of 31.
    out.extend_from_slice(&[0x78, 0x01]);
    let mut pezzi = dati.chunks(BLOCCO_MAX).peekable();
    if pezzi.peek().is_none() {
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]);
    }
    while let Some(pezzo) = pezzi.next() {
        out.push(u8::from(pezzi.peek().is_none())); // BFINAL on the last block, BTYPE 00
                                                    // A chunk is at most BLOCCO_MAX (65535) bytes long, so it fits in 16 bits.
        let len = pezzo.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(pezzo);
    }
    out.extend_from_slice(&adler32(dati).to_be_bytes());
    out
}

/// Appends one chunk: length, type, data, CRC-32 of type and data.
fn chunk(out: &mut Vec<u8>, tipo: &[u8; 4], dati: &[u8]) {
    // Chunks here are far below 2^31 bytes (the image is 200×70).
    out.extend_from_slice(&(dati.len() as u32).to_be_bytes());
    out.extend_from_slice(tipo);
    out.extend_from_slice(dati);
    out.extend_from_slice(&crc32(&[tipo, dati]).to_be_bytes());
}

/// The image as a PNG file.
pub(super) fn codifica(img: &Immagine) -> Vec<u8> {
    let riga = img.larghezza as usize * 3;
    let mut grezzi = Vec::with_capacity((riga + 1) * img.altezza as usize);
    for scanline in img.rgb.chunks_exact(riga.max(1)) {
        grezzi.push(0); // filter type 0: None
        grezzi.extend_from_slice(scanline);
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&img.larghezza.to_be_bytes());
    ihdr.extend_from_slice(&img.altezza.to_be_bytes());
    // Bit depth 8, colour type 2 (RGB), compression 0, filter method 0, no interlace.
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let idat = zlib_stored(&grezzi);
    let mut out = Vec::with_capacity(idat.len() + 64);
    out.extend_from_slice(&FIRMA);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}
