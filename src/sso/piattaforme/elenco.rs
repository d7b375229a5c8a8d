//! [`elenco`] of the enrolled platforms, and the demo's enrolment.

use super::{applica, da_testo, si_no, CODICE_PN, DEMO_SSO};
use crate::db::schema::{
    regione, sso_fornitore, sso_piattaforma, sso_piattaforma_tipo, tipo_operatore,
};
use anyhow::Context;
use diesel::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The enrolment as a table: code, name, enabled, platform (own SP or PN), ACS, accepted
/// types, whether signed requests are required (of the SP operators are sent to).
pub fn elenco(conn: &mut PgConnection) -> anyhow::Result<String> {
    let righe: Vec<(String, bool, Option<String>, Option<String>)> = sso_piattaforma::table
        .left_join(regione::table.on(regione::codice.eq(sso_piattaforma::codice)))
        .select((
            sso_piattaforma::codice,
            sso_piattaforma::abilitata,
            sso_piattaforma::sp_entity_id,
            regione::denominazione.nullable(),
        ))
        .order(sso_piattaforma::codice)
        .load(conn)?;
    if righe.is_empty() {
        return Ok("nessuna piattaforma iscritta (no platform enrolled)\n".into());
    }
    let fornitori: HashMap<String, (String, bool)> = sso_fornitore::table
        .select((
            sso_fornitore::entity_id,
            sso_fornitore::acs_url,
            sso_fornitore::richieste_firmate,
        ))
        .load::<(String, String, bool)>(conn)?
        .into_iter()
        .map(|(e, a, f)| (e, (a, f)))
        .collect();
    let mut tipi: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, t) in sso_piattaforma_tipo::table
        .inner_join(
            tipo_operatore::table
                .on(tipo_operatore::codice.eq(sso_piattaforma_tipo::tipo_operatore)),
        )
        .order((sso_piattaforma_tipo::codice, tipo_operatore::ordine))
        .select((
            sso_piattaforma_tipo::codice,
            sso_piattaforma_tipo::tipo_operatore,
        ))
        .load::<(String, String)>(conn)?
    {
        tipi.entry(k).or_default().push(t);
    }
    let sp_pn = righe
        .iter()
        .find(|r| r.0 == CODICE_PN)
        .and_then(|r| r.2.clone());
    let mut tabella = vec![[
        "codice",
        "nome",
        "abilitata",
        "piattaforma",
        "ACS",
        "tipi",
        "richieste firmate",
    ]
    .map(String::from)];
    // The PN first, then the regions by code.
    let (pn, regioni): (Vec<_>, Vec<_>) = righe.into_iter().partition(|r| r.0 == CODICE_PN);
    for (codice, abilitata, sp, denominazione) in pn.into_iter().chain(regioni) {
        let pn = codice == CODICE_PN;
        let (piattaforma, effettivo) = match &sp {
            Some(s) if !pn => (s.clone(), Some(s)),
            Some(s) => (s.clone(), Some(s)),
            None => ("PN".to_owned(), sp_pn.as_ref()),
        };
        let dati = effettivo.and_then(|s| fornitori.get(s));
        tabella.push([
            codice.clone(),
            if pn {
                "Piattaforma Nazionale".into()
            } else {
                denominazione.unwrap_or_default()
            },
            si_no(abilitata).into(),
            piattaforma,
            dati.map_or("-".into(), |d| d.0.clone()),
            tipi.get(&codice).map_or("-".into(), |t| t.join(", ")),
            dati.map_or("-".into(), |d| si_no(d.1).into()),
        ]);
    }
    let mut larghezze = [0usize; 7];
    for r in &tabella {
        for (l, c) in larghezze.iter_mut().zip(r) {
            *l = (*l).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in &tabella {
        let celle: Vec<String> = r
            .iter()
            .zip(larghezze)
            .map(|(c, l)| format!("{c:<l$}"))
            .collect();
        out.push_str(celle.join("  ").trim_end());
        out.push('\n');
    }
    Ok(out)
}

/// The demo's enrolment ([`DEMO_SSO`]): the two demo SPs' keys and self-signed certificates
/// made under `dir` unless there (`sp-lazio.key/.pem`, `sp-pn.key/.pem`), then applied.
pub fn iscrivi_demo(conn: &mut PgConnection, dir: &Path) -> anyhow::Result<()> {
    for sp in ["sp-lazio", "sp-pn"] {
        crate::sso::crea_chiave_se_manca(
            &dir.join(format!("{sp}.key")),
            &dir.join(format!("{sp}.pem")),
        )
        .with_context(|| format!("demo SP key {sp} in {}", dir.display()))?;
    }
    let isc = da_testo(DEMO_SSO, "fixtures/demo_sso.toml", dir)?;
    applica(conn, &isc, false)?;
    Ok(())
}
