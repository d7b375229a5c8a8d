//! Why `pki::der` walks the CMS of a bulk file on disk: peak memory (`VmHWM`) and time of
//! verifying one signed file (SignedData, content attached, one signer with signed attributes,
//! as the gateway receives them) two ways:
//!
//! - `flusso`: `flussi::firma::verifica`, the gateway's own path: the DER walked on disk by
//!   `pki::der`, the content hashed streaming, OpenSSL verifying the signed attributes on a
//!   copy of the CMS without the content;
//! - `intero`: what the openssl crate offers instead: the file read, `CmsContentInfo::from_der`
//!   (OpenSSL copies the eContent into its own OCTET STRING), the file's bytes dropped, then
//!   `verify` (the crate always hands `CMS_verify` a memory BIO, which receives the content
//!   again).
//!
//! Each step runs in a child process of its own, so each peak is that step's alone; the file is
//! made by a first child (`genera`, through `firma::firma`, which holds the content twice).
//!
//! `cargo bench --bench cms_memory` (sizes 256 and 1024 MiB; `TSGATE_BENCH_MB=64,512` for
//! others). Needs about three times the largest size in free memory, for `genera` and `intero`.

#[path = "misure.rs"]
mod misure;

use anyhow::{ensure, Context};
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use tsgate::flussi::firma;

/// Set in the children: which step to run.
const ROLE: &str = "TSGATE_CMS_MEMORY_STEP";
const MIB: usize = 1024 * 1024;

fn main() -> anyhow::Result<()> {
    if let Ok(role) = std::env::var(ROLE) {
        let args: Vec<String> = std::env::args().skip(1).collect();
        return step(&role, &args);
    }
    let sizes: Vec<usize> = std::env::var("TSGATE_BENCH_MB")
        .unwrap_or_else(|_| "256,1024".to_owned())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .context("TSGATE_BENCH_MB: sizes in MiB, comma-separated")
        })
        .collect::<anyhow::Result<_>>()?;
    println!(
        "cms_memory: {sizes:?} MiB; load average before: {}",
        misure::loadavg()
    );
    let work = std::env::temp_dir().join(format!("tsgate-bench-cms-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = run(&work, &sizes);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn run(work: &Path, sizes: &[usize]) -> anyhow::Result<()> {
    let pki = tsgate::pki::Pki::open_or_create(&work.join("pki"), &["localhost"])?;
    let cert = pki.issue_client("bench-cms", "bench", tsgate::pki::CERT_DAYS)?;
    let ca = pki.ca_pem_path();
    let crl = pki.crl_pem_path();
    let p7m = work.join("flusso.p7m");
    let path = |p: &PathBuf| p.display().to_string();
    for &mb in sizes {
        let gen = child(
            "genera",
            &[
                path(&p7m),
                mb.to_string(),
                path(&cert.cert_path),
                path(&cert.key_path),
            ],
        )?;
        let size = std::fs::metadata(&p7m)?.len();
        println!("{mb} MiB content: signed file of {size} bytes, made in {gen}");
        for role in ["flusso", "intero"] {
            let out = child(role, &[path(&p7m), path(&ca), path(&crl)])?;
            println!("  {role:<6} {out}");
        }
        std::fs::remove_file(&p7m)?;
    }
    println!("load average after: {}", misure::loadavg());
    Ok(())
}

/// Runs this program again as `role` and returns the line it printed.
fn child(role: &str, args: &[String]) -> anyhow::Result<String> {
    let out = Command::new(std::env::current_exe()?)
        .env(ROLE, role)
        .args(args)
        .output()?;
    ensure!(
        out.status.success(),
        "{role}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `VmHWM` in MiB (`misure::memory` reads kB and divides by 1024).
fn peak_mib() -> f64 {
    misure::memory().1
}

fn step(role: &str, args: &[String]) -> anyhow::Result<()> {
    let arg = |i: usize| args.get(i).map(String::as_str).context("missing argument");
    let p7m = Path::new(arg(0)?);
    let start_peak = peak_mib();
    let t = Instant::now();
    let mut stages = Vec::new();
    match role {
        "genera" => {
            let mb: usize = arg(1)?.parse()?;
            let xml = document(mb * MIB);
            let signed = firma::firma(&xml, &std::fs::read(arg(2)?)?, &std::fs::read(arg(3)?)?)?;
            drop(xml);
            std::fs::write(p7m, &signed)?;
        }
        "flusso" => {
            let fiducia = firma::TrustAnchors {
                ca_file: arg(1)?.into(),
                crl_file: Some(arg(2)?.into()),
            };
            let verified = firma::verifica(p7m, &fiducia, &|_| true)?;
            ensure!(verified.is_ok(), "refused: {verified:?}");
        }
        "intero" => {
            let bytes = std::fs::read(p7m)?;
            stages.push(("read", peak_mib()));
            let mut cms = CmsContentInfo::from_der(&bytes)?;
            stages.push(("from_der", peak_mib()));
            drop(bytes);
            let mut store = X509StoreBuilder::new()?;
            for ca in X509::stack_from_pem(&std::fs::read(arg(1)?)?)? {
                store.add_cert(ca)?;
            }
            let store = store.build();
            // The signer's chain is checked by the gateway with clientAuth, not smimesign.
            let flags = CMSOptions::BINARY | CMSOptions::NO_SIGNER_CERT_VERIFY;
            cms.verify(None, Some(&store), None, None, flags)?;
            stages.push(("verify", peak_mib()));
        }
        other => anyhow::bail!("unknown step `{other}`"),
    }
    let stages: Vec<String> = stages.iter().map(|(s, p)| format!("{s} {p:.0}")).collect();
    let stages = if stages.is_empty() {
        String::new()
    } else {
        format!(" (peak after {})", stages.join(", "))
    };
    println!(
        "{:.2} s, peak RSS {:.0} MiB (at start {:.0}){stages}",
        t.elapsed().as_secs_f64(),
        peak_mib(),
        start_peak
    );
    Ok(())
}

/// An XML document of about `size` bytes (the signature does not look inside).
fn document(size: usize) -> Vec<u8> {
    let mut xml = Vec::with_capacity(size + 128);
    xml.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<flusso>\n");
    let mut i = 0u64;
    while xml.len() < size {
        xml.extend_from_slice(
            format!("<r n=\"{i:09}\">RSSMRA80A01H501U 2025-03-01</r>\n").as_bytes(),
        );
        i += 1;
    }
    xml.extend_from_slice(b"</flusso>\n");
    xml
}
