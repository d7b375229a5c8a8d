//! The signature of a bulk file: CMS SignedData (DER) with the XML encapsulated, one signer with
//! signed attributes, the signer's certificate issued by the gateway CA and bound to the caller.
//!
//! Memory stays flat whatever the file size: the DER is walked on disk, the content is hashed
//! streaming and compared with the signed `messageDigest`, and OpenSSL verifies the signature
//! over the signed attributes on a detached copy of the CMS that holds everything but the content.

use super::{MotivoRifiuto, Rifiuto};
use crate::pki::der::{self, DerFile, ReadError};
use anyhow::Context;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::hash::{Hasher, MessageDigest};
use openssl::pkey::PKey;
use openssl::ssl::SslFiletype;
use openssl::stack::Stack;
use openssl::x509::store::{X509Lookup, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509StoreContext, X509};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const OID_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const OID_SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
const OID_SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
/// Certificates, CRLs and signer infos together: far more than any real signature needs.
const MAX_SIGNATURE_PART: u64 = 4 * 1024 * 1024;

/// What a signer's certificate is checked against: the gateway CA and, when given, its CRL
/// (the one the TLS layer checks, so a certificate revoked there cannot sign either).
#[derive(Debug, Clone)]
pub struct TrustAnchors {
    pub ca_file: PathBuf,
    pub crl_file: Option<PathBuf>,
}

impl TrustAnchors {
    pub fn from_tls(tls: &crate::config::TlsConfig) -> Self {
        Self {
            ca_file: tls.client_ca_file.clone(),
            crl_file: Some(tls.crl_file.clone()),
        }
    }
}

/// A verified file: where the signed XML lies and who signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verificato {
    pub contenuto_inizio: u64,
    pub contenuto_lunghezza: u64,
    /// SHA-256 fingerprint of the signer's certificate.
    pub firmatario: String,
}

/// The parts of the SignedData, located in the file.
struct Busta {
    content_start: u64,
    content_len: u64,
    /// The CMS again, with everything but the encapsulated content.
    detached: Vec<u8>,
    certs: Vec<X509>,
    /// The content of the signerInfos SET.
    signer_infos: Vec<u8>,
}

struct SignerInfo {
    /// issuer Name (DER) and serial (INTEGER content), or a subject key identifier.
    issuer_serial: Option<(Vec<u8>, Vec<u8>)>,
    ski: Option<Vec<u8>>,
    digest: MessageDigest,
    message_digest: Vec<u8>,
}

fn refuse(m: MotivoRifiuto, detail: impl Into<String>) -> Rifiuto {
    Rifiuto::con(m, detail)
}

/// Verifies the file at `path` against `fiducia`; `bound` says whether a certificate
/// fingerprint belongs to the sending caller. `Err` is an I/O or setup failure (the
/// file is not at fault); `Ok(Err(_))` is a refused file.
pub fn verifica(
    path: &Path,
    fiducia: &TrustAnchors,
    bound: &dyn Fn(&str) -> bool,
) -> anyhow::Result<Result<Verificato, Rifiuto>> {
    let file = File::open(path).with_context(|| format!("{}", path.display()))?;
    let size = file.metadata()?.len();
    let mut der = DerFile::new(BufReader::with_capacity(64 * 1024, file), size);
    let busta = match busta(&mut der, size) {
        Ok(b) => b,
        Err(ReadError::Io(e)) => return Err(e.into()),
        Err(ReadError::Der(e)) => return Ok(Err(refuse(MotivoRifiuto::NonCms, e.0))),
    };
    let info = match signer_info(&busta.signer_infos) {
        Ok(i) => i,
        Err(e) => return Ok(Err(refuse(MotivoRifiuto::FirmaNonSupportata, e.0))),
    };
    let Some(signer) = busta.certs.iter().find(|c| is_signer(c, &info)) else {
        return Ok(Err(refuse(
            MotivoRifiuto::CertificatoNonDellaCa,
            "certificato del firmatario non incluso nella busta",
        )));
    };
    if !issued_by_ca(signer, fiducia)? {
        return Ok(Err(Rifiuto::new(MotivoRifiuto::CertificatoNonDellaCa)));
    }
    let firmatario = crate::pki::fingerprint_sha256(signer);
    if !bound(&firmatario) {
        return Ok(Err(Rifiuto::new(MotivoRifiuto::FirmatarioNonAssociato)));
    }
    let mut reader = der.inner_reader();
    let digest = digest_range(
        &mut reader,
        busta.content_start,
        busta.content_len,
        info.digest,
    )?;
    if digest != info.message_digest {
        return Ok(Err(Rifiuto::new(MotivoRifiuto::ContenutoAlterato)));
    }
    if let Err(e) = signature_ok(&busta.detached, signer) {
        return Ok(Err(refuse(MotivoRifiuto::FirmaNonValida, e)));
    }
    Ok(Ok(Verificato {
        contenuto_inizio: busta.content_start,
        contenuto_lunghezza: busta.content_len,
        firmatario,
    }))
}

/// ContentInfo { signedData, [0] SignedData { version, digestAlgorithms, encapContentInfo
/// { id-data, [0] OCTET STRING }, [0] certificates, [1] crls, signerInfos } }.
fn busta<R: Read + Seek>(d: &mut DerFile<R>, size: u64) -> Result<Busta, ReadError> {
    let bad = |m: &str| ReadError::Der(der::DerError(m.to_owned()));
    let ci = d.expect(0x30, "ContentInfo", size)?;
    if ci.end() != size {
        return Err(bad("byte in eccesso dopo il ContentInfo"));
    }
    let oid = d.expect(0x06, "contentType", ci.end())?;
    if d.read_at(oid.content_start(), oid.len, 64)? != OID_SIGNED_DATA {
        return Err(bad("contentType diverso da signedData"));
    }
    let content = d.expect(0xa0, "content", ci.end())?;
    let sd = d.expect(0x30, "SignedData", content.end())?;
    let version = d.expect(0x02, "version", sd.end())?;
    d.seek(version.end())?;
    let algs = d.expect(0x31, "digestAlgorithms", sd.end())?;
    d.seek(algs.end())?;
    let encap = d.expect(0x30, "encapContentInfo", sd.end())?;
    let prefix = d.read_at(sd.content_start(), encap.start - sd.content_start(), 4096)?;
    d.seek(encap.content_start())?;
    let etype = d.expect(0x06, "eContentType", encap.end())?;
    if d.read_at(etype.content_start(), etype.len, 64)? != OID_DATA {
        return Err(bad("eContentType diverso da id-data"));
    }
    if d.position() >= encap.end() {
        return Err(bad(
            "firma separata: il flusso deve essere incluso nel .p7m",
        ));
    }
    let econtent = d.expect(0xa0, "eContent", encap.end())?;
    let octets = d.header()?;
    if octets.tag != 0x04 {
        return Err(bad("eContent non è un OCTET STRING primitivo (DER)"));
    }
    if octets.end() != econtent.end() || econtent.end() != encap.end() {
        return Err(bad("byte in eccesso in encapContentInfo"));
    }
    let rest = d.read_at(encap.end(), sd.end() - encap.end(), MAX_SIGNATURE_PART)?;
    let mut certs = Vec::new();
    let mut signer_infos = None;
    for (tag, content, _, _) in der::children(&rest)? {
        match tag {
            0xa0 => {
                for (t, _, whole, _) in der::children(content)? {
                    if t == 0x30 {
                        certs.push(
                            X509::from_der(whole).map_err(|_| bad("certificato non leggibile"))?,
                        );
                    }
                }
            }
            0xa1 => {}
            0x31 => signer_infos = Some(content),
            _ => return Err(bad("elemento non previsto in SignedData")),
        }
    }
    let signer_infos = signer_infos
        .ok_or_else(|| bad("signerInfos assente"))?
        .to_vec();
    let mut sd_content = prefix;
    sd_content.extend(der::encode(0x30, &der::encode(0x06, OID_DATA)));
    sd_content.extend_from_slice(&rest);
    let mut ci_content = der::encode(0x06, OID_SIGNED_DATA);
    ci_content.extend(der::encode(0xa0, &der::encode(0x30, &sd_content)));
    Ok(Busta {
        content_start: octets.content_start(),
        content_len: octets.len,
        detached: der::encode(0x30, &ci_content),
        certs,
        signer_infos,
    })
}

/// The only SignerInfo { version, sid, digestAlgorithm, [0] signedAttrs, ... }.
fn signer_info(infos: &[u8]) -> Result<SignerInfo, der::DerError> {
    let bad = |m: &str| der::DerError(m.to_owned());
    let infos = der::children(infos)?;
    let [(0x30, info, _, _)] = infos.as_slice() else {
        return Err(bad("è richiesto esattamente un firmatario"));
    };
    let parts = der::children(info)?;
    let (sid_tag, sid, _, _) = *parts.get(1).ok_or_else(|| bad("SignerInfo incompleto"))?;
    let (issuer_serial, ski) = match sid_tag {
        0x30 => {
            let (_, _, issuer, rest) = der::split(sid)?;
            let (_, serial, _, _) = der::split(rest)?;
            let serial: Vec<u8> = serial.iter().copied().skip_while(|&b| b == 0).collect();
            (Some((issuer.to_vec(), serial)), None)
        }
        0x80 => (None, Some(sid.to_vec())),
        _ => return Err(bad("identificativo del firmatario non riconosciuto")),
    };
    let (_, alg, _, _) = *parts.get(2).ok_or_else(|| bad("digestAlgorithm assente"))?;
    let (_, oid, _, _) = der::split(alg)?;
    let digest = match oid {
        OID_SHA256 => MessageDigest::sha256(),
        OID_SHA384 => MessageDigest::sha384(),
        OID_SHA512 => MessageDigest::sha512(),
        _ => return Err(bad("algoritmo di impronta diverso da SHA-256/384/512")),
    };
    let attrs = match parts.get(3) {
        Some((0xa0, attrs, _, _)) => *attrs,
        _ => return Err(bad("attributi firmati assenti")),
    };
    let mut message_digest = None;
    for (_, attr, _, _) in der::children(attrs)? {
        let (_, oid, _, rest) = der::split(attr)?;
        if oid == OID_MESSAGE_DIGEST {
            let (_, values, _, _) = der::split(rest)?;
            let (tag, value, _, _) = der::split(values)?;
            if tag == 0x04 {
                message_digest = Some(value.to_vec());
            }
        }
    }
    Ok(SignerInfo {
        issuer_serial,
        ski,
        digest,
        message_digest: message_digest.ok_or_else(|| bad("attributo messageDigest assente"))?,
    })
}

fn is_signer(cert: &X509, s: &SignerInfo) -> bool {
    if let Some((issuer, serial)) = &s.issuer_serial {
        let same_issuer = cert.issuer_name().to_der().is_ok_and(|d| &d == issuer);
        let same_serial = cert
            .serial_number()
            .to_bn()
            .is_ok_and(|bn| &bn.to_vec() == serial);
        return same_issuer && same_serial;
    }
    match (&s.ski, cert.subject_key_id()) {
        (Some(ski), Some(id)) => id.as_slice() == ski.as_slice(),
        _ => false,
    }
}

/// The chain up to a CA of `fiducia`, valid now and not revoked (any key usage: these are
/// client certificates).
fn issued_by_ca(cert: &X509, fiducia: &TrustAnchors) -> anyhow::Result<bool> {
    let ca_file = &fiducia.ca_file;
    let pem = std::fs::read(ca_file).with_context(|| format!("{}", ca_file.display()))?;
    let mut store = X509StoreBuilder::new()?;
    for ca in X509::stack_from_pem(&pem)? {
        store.add_cert(ca)?;
    }
    if let Some(crl) = &fiducia.crl_file {
        store
            .add_lookup(X509Lookup::file())?
            .load_crl_file(crl, SslFiletype::PEM)
            .with_context(|| format!("{}", crl.display()))?;
        store.set_flags(X509VerifyFlags::CRL_CHECK)?;
    }
    let store = store.build();
    let chain = Stack::new()?;
    let mut ctx = X509StoreContext::new()?;
    Ok(ctx.init(&store, cert, &chain, |c| c.verify_cert())?)
}

fn digest_range<R: Read + Seek>(
    r: &mut R,
    start: u64,
    len: u64,
    md: MessageDigest,
) -> anyhow::Result<Vec<u8>> {
    r.seek(SeekFrom::Start(start))?;
    let mut h = Hasher::new(md)?;
    let mut left = len;
    let mut buf = vec![0u8; 256 * 1024];
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        let n = r.read(&mut buf[..want])?;
        if n == 0 {
            anyhow::bail!("spool file shorter than expected");
        }
        h.update(&buf[..n])?;
        left -= n as u64;
    }
    Ok(h.finish()?.to_vec())
}

/// OpenSSL checks the signature over the signed attributes (the content digest is ours).
fn signature_ok(detached: &[u8], signer: &X509) -> Result<(), String> {
    let mut cms = CmsContentInfo::from_der(detached).map_err(|e| e.to_string())?;
    let mut certs = Stack::new().map_err(|e| e.to_string())?;
    certs.push(signer.clone()).map_err(|e| e.to_string())?;
    let flags = CMSOptions::NOINTERN
        | CMSOptions::NO_SIGNER_CERT_VERIFY
        | CMSOptions::NO_CONTENT_VERIFY
        | CMSOptions::BINARY;
    cms.verify(Some(&certs), None, Some(&[]), None, flags)
        .map_err(|_| "la firma non corrisponde agli attributi firmati".to_owned())
}

/// Signs `xml` as CMS SignedData (DER, content included, signed attributes): for the CLI, the
/// tests and the benchmark. The content is held in memory twice, which is fine for a tool.
pub fn firma(xml: &[u8], cert_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<Vec<u8>> {
    let cert = X509::from_pem(cert_pem).context("certificate (PEM)")?;
    let key = PKey::private_key_from_pem(key_pem).context("private key (PEM)")?;
    let cms = CmsContentInfo::sign(Some(&cert), Some(&key), None, Some(xml), CMSOptions::BINARY)
        .context("CMS signature")?;
    Ok(cms.to_der()?)
}
