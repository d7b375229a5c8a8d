//! DER by hand, for three small jobs: walking the CMS SignedData of a bulk file where it lies on
//! disk, without loading it ([`DerFile`]: TLV headers read from a seekable reader, each length
//! checked against the file's size; used by `flussi::firma`); splitting TLVs out of the small
//! parts read into memory ([`split`], [`children`]: the signer info and certificates there, the
//! certificate extensions in `pki::cns`); and encoding a TLV ([`encode`]: the CMS without its
//! content in `flussi::firma`, the certificatePolicies extension in `pki::ca`).
//!
//! Why no crate does the walk (issue 16, point 4d): a bulk file is several GB, and every
//! maintained parser we looked at holds the encapsulated content (eContent) in memory.
//! - OpenSSL: `CmsContentInfo::from_der` takes a slice, and `d2i_CMS_bio` (not bound by the
//!   crate) reads the whole DER into a buffer before decoding; the eContent becomes an
//!   `ASN1_OCTET_STRING`, whose length is a C `int`, so no content above 2 GiB − 1 at all.
//!   Streaming (`CMS_STREAM`, `BIO_new_CMS`) is for writing, not reading, and the crate's
//!   `verify` also copies the content into a memory BIO.
//! - RustCrypto `der` + `cms`: `Reader` is implemented for slices (and for PEM held in memory),
//!   `EncapsulatedContentInfo::econtent` is an owned `Any`, and `Length` is a `u32` (4 GiB).
//! - `x509-parser` / `asn1-rs`: slices.
//!
//! Measured by `cargo bench --bench cms_memory` (each step in a process of its own, peak RSS
//! read from `VmHWM`; 2 shared cores, load about 8, the file in the page cache, 2026-12):
//!
//! | content | walk here (`firma::verifica`) | `from_der` + `verify` (file bytes dropped between) |
//! |---------|-------------------------------|----------------------------------------------------|
//! | 256 MiB | 7 MiB, 0.20 s                 | 773 MiB, 1.90 s                                    |
//! | 1 GiB   | 7 MiB, 1.11 s                 | 2644 MiB, 8.60 s (2055 MiB once parsed)            |
//!
//! The walk stays flat and is about eight times faster; OpenSSL needs two to three times the
//! file (and, by its `int` lengths, cannot hold 2 GiB of content at all: not measured here).
//!
//! The slice helpers could be `der`'s `SliceReader`; they stay next to the walker, which needs
//! the same length rules, rather than adding `der` for sixty lines.

use std::io::{Read, Seek, SeekFrom};

/// A TLV header found at `start`; its content is `len` bytes after `header_len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub tag: u8,
    pub start: u64,
    pub header_len: u64,
    pub len: u64,
}

impl Header {
    pub fn content_start(&self) -> u64 {
        self.start + self.header_len
    }

    pub fn end(&self) -> u64 {
        self.content_start() + self.len
    }
}

/// Why the bytes are not the DER we expect (never an I/O problem: those are `std::io::Error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DerError(pub String);

fn bad(msg: impl Into<String>) -> DerError {
    DerError(msg.into())
}

/// Reads TLV headers from a file of known size, checking every length against it.
pub struct DerFile<R> {
    inner: R,
    pos: u64,
    size: u64,
}

/// Either the file failed to read, or its bytes are not the expected DER.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Der(#[from] DerError),
}

impl<R: Read + Seek> DerFile<R> {
    pub fn new(inner: R, size: u64) -> Self {
        Self {
            inner,
            pos: 0,
            size,
        }
    }

    pub fn inner_reader(self) -> R {
        self.inner
    }

    pub fn position(&self) -> u64 {
        self.pos
    }

    pub fn seek(&mut self, pos: u64) -> Result<(), ReadError> {
        if pos > self.size {
            return Err(bad("posizione oltre la fine del file").into());
        }
        self.inner.seek(SeekFrom::Start(pos))?;
        self.pos = pos;
        Ok(())
    }

    fn byte(&mut self) -> Result<u8, ReadError> {
        if self.pos >= self.size {
            return Err(bad("fine del file inattesa").into());
        }
        let mut b = [0u8; 1];
        self.inner.read_exact(&mut b)?;
        self.pos += 1;
        Ok(b[0])
    }

    /// The header at the current position; the position moves to its content.
    pub fn header(&mut self) -> Result<Header, ReadError> {
        let start = self.pos;
        let tag = self.byte()?;
        if tag & 0x1f == 0x1f {
            return Err(bad("tag su più byte non supportati").into());
        }
        let first = self.byte()?;
        let len = if first < 0x80 {
            u64::from(first)
        } else if first == 0x80 {
            return Err(bad("lunghezze indefinite (BER) non supportate: è richiesto DER").into());
        } else {
            let n = first & 0x7f;
            if n > 8 {
                return Err(bad("lunghezza non valida").into());
            }
            let mut len = 0u64;
            for _ in 0..n {
                len = (len << 8) | u64::from(self.byte()?);
            }
            len
        };
        let h = Header {
            tag,
            start,
            header_len: self.pos - start,
            len,
        };
        if self.pos.checked_add(len).is_none_or(|end| end > self.size) {
            return Err(bad("un elemento supera la fine del file").into());
        }
        Ok(h)
    }

    /// The header at the current position, which must carry `tag` and end within `parent`.
    pub fn expect(&mut self, tag: u8, what: &str, parent: u64) -> Result<Header, ReadError> {
        let h = self.header()?;
        if h.tag != tag {
            return Err(bad(format!("{what}: trovato il tag {:#04x}", h.tag)).into());
        }
        if h.end() > parent {
            return Err(bad(format!("{what}: supera l'elemento che lo contiene")).into());
        }
        Ok(h)
    }

    /// `len` bytes from `pos` into memory (only for the small parts: at most `max`).
    pub fn read_at(&mut self, pos: u64, len: u64, max: u64) -> Result<Vec<u8>, ReadError> {
        if len > max {
            return Err(bad(format!("una parte di {len} byte supera il limite di {max}")).into());
        }
        self.seek(pos)?;
        let mut v = vec![0u8; len as usize];
        self.inner.read_exact(&mut v)?;
        self.pos += len;
        Ok(v)
    }
}

/// One TLV split from a slice: (tag, content, the whole TLV, what follows).
pub type Split<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// Splits the first TLV of `buf` (definite lengths only).
pub fn split(buf: &[u8]) -> Result<Split<'_>, DerError> {
    let tag = *buf.first().ok_or_else(|| bad("elemento vuoto"))?;
    let first = *buf.get(1).ok_or_else(|| bad("elemento troncato"))?;
    let (len, hl) = if first < 0x80 {
        (first as usize, 2usize)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return Err(bad("lunghezza non supportata"));
        }
        let bytes = buf.get(2..2 + n).ok_or_else(|| bad("lunghezza troncata"))?;
        let len = bytes.iter().fold(0usize, |a, &b| (a << 8) | b as usize);
        (len, 2 + n)
    };
    let end = hl
        .checked_add(len)
        .ok_or_else(|| bad("lunghezza non valida"))?;
    if end > buf.len() {
        return Err(bad("elemento troncato"));
    }
    Ok((tag, &buf[hl..end], &buf[..end], &buf[end..]))
}

/// Most TLVs `children` lists: a SET of certificates or signer infos holds a handful; a crafted
/// one of millions of empty TLVs would otherwise cost far more memory than its bytes.
pub const MAX_CHILDREN: usize = 256;

/// Every TLV of `buf`, in order (at most `MAX_CHILDREN`).
pub fn children(mut buf: &[u8]) -> Result<Vec<Split<'_>>, DerError> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        if out.len() == MAX_CHILDREN {
            return Err(DerError(format!("more than {MAX_CHILDREN} elements")));
        }
        let s = split(buf)?;
        buf = s.3;
        out.push(s);
    }
    Ok(out)
}

/// A DER TLV with `content`.
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = Vec::with_capacity(len + 6);
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_set_of_millions_of_empty_elements_is_refused() {
        let many = [0xa1u8, 0x00].repeat(super::MAX_CHILDREN + 1);
        assert!(super::children(&many).is_err());
        let fine = [0xa1u8, 0x00].repeat(super::MAX_CHILDREN);
        assert_eq!(
            super::children(&fine).map(|c| c.len()).ok(),
            Some(super::MAX_CHILDREN)
        );
    }

    use super::*;

    #[test]
    fn encode_and_split_round_trip() {
        for n in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let content = vec![7u8; n];
            let tlv = encode(0x04, &content);
            let (tag, c, whole, rest) = split(&tlv).unwrap();
            assert_eq!(
                (tag, c.len(), whole.len(), rest.len()),
                (4, n, tlv.len(), 0)
            );
            let mut f = DerFile::new(std::io::Cursor::new(&tlv), tlv.len() as u64);
            let h = f.header().unwrap();
            assert_eq!((h.tag, h.len, h.end()), (4, n as u64, tlv.len() as u64));
        }
    }

    #[test]
    fn lengths_beyond_the_file_and_ber_are_refused() {
        let mut f = DerFile::new(std::io::Cursor::new([0x30u8, 0x05, 1]), 3);
        assert!(matches!(f.header(), Err(ReadError::Der(_))));
        let mut f = DerFile::new(std::io::Cursor::new([0x30u8, 0x80, 0, 0]), 4);
        assert!(matches!(f.header(), Err(ReadError::Der(_))));
        assert!(split(&[0x04, 0x82, 0x01]).is_err());
    }
}
