use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_are_the_last_seven_days_by_day() {
    let r = Richiesta::da_coppie(TipoReport::Traffico, &q(&[]), d("2026-12-07")).unwrap();
    assert_eq!((r.da, r.a), (d("2026-12-01"), d("2026-12-07")));
    assert_eq!(r.granularita, Granularita::Giorno);
    assert_eq!(r.per, Dimensione::Operazione);
}

#[test]
fn weeks_and_months_are_whole() {
    let f = Filtro::default();
    let r = Richiesta::new(
        TipoReport::Traffico,
        d("2026-12-02"),
        d("2026-12-09"),
        Granularita::Settimana,
        Dimensione::Regione,
        f.clone(),
    )
    .unwrap();
    assert_eq!((r.da, r.a), (d("2026-11-30"), d("2026-12-13")));
    let r = Richiesta::new(
        TipoReport::Traffico,
        d("2026-01-15"),
        d("2026-02-03"),
        Granularita::Mese,
        Dimensione::Regione,
        f,
    )
    .unwrap();
    assert_eq!((r.da, r.a), (d("2026-01-01"), d("2026-02-28")));
    let p = r.spostata(-1);
    assert_eq!((p.da, p.a), (d("2025-11-01"), d("2025-12-31")));
    let n = r.spostata(1);
    assert_eq!((n.da, n.a), (d("2026-03-01"), d("2026-04-30")));
}

#[test]
fn bad_input_is_refused_in_italian() {
    let oggi = d("2026-12-07");
    for (pairs, words) in [
        (vec![("da", "07/12/2026")], "AAAA-MM-GG"),
        (
            vec![("da", "2026-12-08"), ("a", "2026-12-01")],
            "periodo è vuoto",
        ),
        (vec![("granularita", "anno")], "granularita"),
        (vec![("per", "colore")], "per:"),
        (vec![("ip", "1.2.3")], "indirizzo IP"),
        (vec![("esito", "x'; drop")], "esito"),
        (vec![("regione", "12")], "codice regione"),
        (vec![("da", "+262143-12-31")], "AAAA-MM-GG"),
        (vec![("a", "9999-12-31")], "anni consultabili"),
        (
            vec![("da", "2026-12-01"), ("granularita", "ora"), ("per", "ip")],
            "per IP client",
        ),
        (
            vec![("da", "2026-01-01"), ("granularita", "ora")],
            "troppo lungo",
        ),
    ] {
        let e = Richiesta::da_coppie(TipoReport::Traffico, &q(&pairs), oggi).unwrap_err();
        assert!(e.contains(words), "{pairs:?}: {e}");
    }
    let e = Richiesta::da_coppie(
        TipoReport::Vaccinazioni,
        &q(&[("granularita", "ora")]),
        oggi,
    )
    .unwrap_err();
    assert!(e.contains("per giorno"), "{e}");
}

#[test]
fn a_region_sees_only_its_own_figures() {
    let oggi = d("2026-12-07");
    let lazio = Ambito::regione("120");
    let r = Richiesta::da_coppie(TipoReport::Traffico, &q(&[]), oggi).unwrap();
    assert_eq!(
        lazio.applica(&r).unwrap().filtro.regione.as_deref(),
        Some("120")
    );
    let r = Richiesta::da_coppie(TipoReport::Traffico, &q(&[("regione", "030")]), oggi).unwrap();
    assert!(lazio.applica(&r).unwrap_err().contains("030"));
    assert_eq!(Ambito::nazionale().applica(&r).unwrap(), r);
}

#[test]
fn the_query_round_trips() {
    let oggi = d("2026-12-07");
    let pairs = q(&[
        ("da", "2026-11-01"),
        ("a", "2026-11-14"),
        ("per", "ip"),
        ("chiamante", "regione lazio&co"),
        ("ip", "10.0.0.1"),
    ]);
    let r = Richiesta::da_coppie(TipoReport::Traffico, &pairs, oggi).unwrap();
    let again: HashMap<String, String> = r
        .query()
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (
                k.to_owned(),
                percent_encoding::percent_decode_str(&v.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned(),
            )
        })
        .collect();
    assert_eq!(
        Richiesta::da_coppie(TipoReport::Traffico, &again, oggi).unwrap(),
        r
    );
}
