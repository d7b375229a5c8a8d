//! The published contracts and the gateway agree on every simple value: a generated test, not a
//! list. `tests/lessico/genera.py` takes each operation's sample request and, for every simple
//! element of the request (absent optional ones inserted), a set of lexical forms for its type
//! (dates with and without time zones, signed and zero-padded integers, the four booleans,
//! padded and cut strings, whitespace of every kind); xmlschema and xmllint judge each against
//! the published XSD. The gateway must accept exactly the forms they accept (no TSG-0301) and
//! refuse the others with TSG-0301 naming the element. Then the normalisation rule: a date
//! with a time zone is stored as its calendar date as written.

mod common;
use common::stack::OPERAZIONI;
use common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn python() -> PathBuf {
    std::env::var_os("TSGATE_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"))
}

fn casi() -> Vec<Value> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(python())
        .arg(root.join("tests/lessico/genera.py"))
        .arg(root.join("xsd"))
        .arg(root.join("fixtures/requests"))
        .output()
        .expect("run tests/lessico/genera.py (the venv of scripts/test)");
    assert!(
        out.status.success(),
        "genera.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("cases")
}

fn op(name: &str) -> (Op, &'static str) {
    let (n, area, chiamante) = OPERAZIONI
        .iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("{name} not in OPERAZIONI"));
    let mut lower = n.to_string();
    lower[..1].make_ascii_lowercase();
    let lower: &'static str = Box::leak(lower.into_boxed_str());
    let op = if *area == "tscns" {
        Op::tscns(n, lower)
    } else {
        Op::new(n, lower)
    };
    (op, chiamante)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_simple_value_is_judged_as_the_schema_judges_it() {
    let casi = casi();
    assert!(casi.len() > 500, "{} cases", casi.len());
    let valid = casi.iter().filter(|c| c["valid"] == true).count();
    assert!(valid > 150 && casi.len() - valid > 300, "{valid} valid");
    let s = TestServer::start().await;
    let mut disaccordi = Vec::new();
    for c in &casi {
        let (o, chiamante) = op(c["op"].as_str().unwrap_or_default());
        let envelope = c["envelope"].as_str().unwrap_or_default().to_owned();
        let r = s
            .client(chiamante)
            .soap(&o.path(), &o.action(), envelope)
            .await
            .expect("reply");
        let codice = xml_text(&r.body, "codice");
        let refused = codice.as_deref() == Some("TSG-0301");
        let field = c["field"].as_str().unwrap_or_default();
        let leaf = field.rsplit('/').next().unwrap_or_default();
        let named =
            xml_text(&r.body, "descrizione").is_some_and(|d| d.contains(&format!("campo {leaf}")));
        let expected_valid = c["valid"] == true;
        if expected_valid == refused || (refused && !named) || r.status == 500 && codice.is_none() {
            disaccordi.push(format!(
                "{} {field} = {:?}: schema {}, gateway {} {}",
                c["op"],
                c["value"],
                if expected_valid { "accepts" } else { "refuses" },
                r.status,
                xml_text(&r.body, "descrizione")
                    .or_else(|| xml_text(&r.body, "esito"))
                    .unwrap_or_default()
            ));
        }
    }
    assert!(
        disaccordi.is_empty(),
        "{} of {} cases disagree:\n{}",
        disaccordi.len(),
        casi.len(),
        disaccordi.join("\n")
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_date_with_a_time_zone_is_stored_as_the_calendar_date_written() {
    let s = TestServer::start().await;
    let fixture = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/requests/TrasmissioneSomministrazione.xml"),
    )
    .expect("fixture");
    // Late evening in Rome on 10 January is already the 11th in UTC, and early on the 10th
    // in New York: the date is the one written either way.
    let body = fixture.replace("2026-01-10<", "2026-01-10+01:00<");
    assert_ne!(body, fixture);
    let r = s
        .client("avn")
        .soap(&SOMMINISTRAZIONE.path(), &SOMMINISTRAZIONE.action(), body)
        .await
        .expect("reply");
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("00"),
        "{}",
        r.body
    );
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) AS n FROM somministrazione WHERE data_somministrazione = DATE '2026-01-10'"
        ),
        1
    );
    // And read back as a plain xs:date.
    let r = s
        .client("regione-lombardia")
        .soap(
            &VERIFICA_SOMMINISTRAZIONI.path(),
            &VERIFICA_SOMMINISTRAZIONI.action(),
            std::fs::read(
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("fixtures/requests/VerificaSomministrazioni.xml"),
            )
            .expect("fixture"),
        )
        .await
        .expect("reply");
    assert_eq!(
        xml_text(&r.body, "dataSomministrazione").as_deref(),
        Some("2026-01-10"),
        "{}",
        r.body
    );
    s.stop().await;
}
