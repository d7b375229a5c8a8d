//! The captcha as a PNG file (8-bit RGB), written by the `png` crate.

use super::Immagine;

/// The image as a PNG file. Fails only if the image's size and pixels disagree.
pub(super) fn codifica(img: &Immagine) -> Result<Vec<u8>, ::png::EncodingError> {
    let mut out = Vec::with_capacity(img.rgb.len() / 2 + 128);
    {
        let mut encoder = ::png::Encoder::new(&mut out, img.larghezza, img.altezza);
        encoder.set_color(::png::ColorType::Rgb);
        encoder.set_depth(::png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&img.rgb)?;
        writer.finish()?;
    }
    Ok(out)
}
