//! Operator SSO, the CPU side of one login: building and signing a Response (Assertion and
//! Response signatures, libxmlsec1) with the demo's RSA-3072 key or an RSA-2048 one, verifying
//! it, and reading plus verifying an incoming signed AuthnRequest (HTTP-Redirect binding).
//! `TSGATE_BENCH_RECORDS` sets the iterations (default 300). No database.

use chrono::Utc;
use std::time::Instant;
use tsgate::sso::risposta::{self, Destinatario, Operatore};
use tsgate::sso::{autofirmato, firma, richiesta, Idp};

fn idp(bit: u32) -> anyhow::Result<Idp> {
    let (pkey, x) = autofirmato("bench idp", bit, 30)?;
    let chiave = firma::ChiaveFirma::da_pem(&pkey.private_key_to_pem_pkcs8()?, &x.to_pem()?)?;
    Ok(Idp {
        cfg: tsgate::config::SsoConfig::default(),
        entity_id: "https://ts.example/sso".into(),
        chiave,
        successivo: None,
    })
}

fn misura(nome: &str, n: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<()> {
    f()?; // warm-up
    let t = Instant::now();
    for _ in 0..n {
        f()?;
    }
    let d = t.elapsed();
    println!(
        "{nome:<48} {:>8.3} ms/op {:>9.0} op/s",
        d.as_secs_f64() * 1e3 / n as f64,
        n as f64 / d.as_secs_f64()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let n = std::env::var("TSGATE_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    println!("sso: {n} iterations each, one thread");
    let dest = Destinatario {
        sp_entity_id: "https://lazio.example/sp".into(),
        acs_url: "https://lazio.example/acs".into(),
        in_response_to: Some("_bench".into()),
    };
    let op = Operatore {
        codice_fiscale: "BNCNNA78D52H501J".into(),
        nome: "ANNA".into(),
        cognome: "BIANCHI".into(),
        tipo_operatore: "MEDICO".into(),
        codice_regione: "120".into(),
        codice_asl: Some("003".into()),
        livello: 1,
        autenticato_il: Utc::now(),
    };
    for bit in [2048, 3072] {
        let idp = idp(bit)?;
        let pem = vec![String::from_utf8(idp.chiave.certificato_pem.clone())?];
        misura(
            &format!("Response built and signed twice (RSA-{bit})"),
            n,
            || {
                risposta::successo(&idp, &dest, &op, Utc::now())?;
                Ok(())
            },
        )?;
        let (_, xml) = risposta::successo(&idp, &dest, &op, Utc::now())?;
        misura(
            &format!("Response signature verified (RSA-{bit})"),
            n,
            || {
                firma::verifica(xml.as_bytes(), &pem)?;
                Ok(())
            },
        )?;
    }

    // An SP's AuthnRequest, HTTP-Redirect binding, signed with RSA-2048 SHA-256.
    let (sp_key, sp_cert) = autofirmato("bench sp", 2048, 30)?;
    let sp_pem = vec![String::from_utf8(sp_cert.to_pem()?)?];
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
         xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_bench\" Version=\"2.0\" \
         IssueInstant=\"{}\" AssertionConsumerServiceURL=\"https://lazio.example/acs\" \
         ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\">\
         <saml:Issuer>https://lazio.example/sp</saml:Issuer>\
         <samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:transient\"/>\
         </samlp:AuthnRequest>",
        Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    );
    let deflated = miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6);
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let b64 = openssl::base64::encode_block(&deflated);
    let mut q = format!(
        "SAMLRequest={}&SigAlg={}",
        enc(&b64),
        enc("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    );
    let mut s = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &sp_key)?;
    s.update(q.as_bytes())?;
    q.push_str(&format!(
        "&Signature={}",
        enc(&openssl::base64::encode_block(&s.sign_to_vec()?))
    ));
    misura(
        "AuthnRequest decoded, parsed, Redirect signature",
        n,
        || {
            let xml = richiesta::decodifica(&b64, true)?;
            richiesta::leggi(&xml)?;
            anyhow::ensure!(richiesta::verifica_redirect(&q, &sp_pem)?, "not verified");
            Ok(())
        },
    )?;
    Ok(())
}
