//! [`applica`]: the database made equal to an enrolment file, in one audited transaction.

use super::{descrivi_sp, elenco_impronte, impronte, nome, problemi, si_no, Iscrizioni, CODICE_PN};
use crate::audit::catena::{registra, Azione, VoceAudit, ATTORE_CLI};
use crate::db::schema::{
    regione, sso_fornitore, sso_piattaforma, sso_piattaforma_tipo, tipo_operatore,
};
use chrono::Utc;
use diesel::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn valida_db(conn: &mut PgConnection, isc: &Iscrizioni) -> anyhow::Result<()> {
    let regioni: HashMap<String, (String, bool)> = regione::table
        .select((regione::codice, regione::denominazione, regione::virtuale))
        .load::<(String, String, bool)>(conn)?
        .into_iter()
        .map(|(c, d, v)| (c, (d, v)))
        .collect();
    let noti: BTreeSet<String> = tipo_operatore::table
        .select(tipo_operatore::codice)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let mut err = Vec::new();
    for p in &isc.piattaforme {
        if p.codice != CODICE_PN {
            match regioni.get(&p.codice) {
                None => err.push(format!(
                    "{}.codice: no region {} in table regione",
                    p.campo, p.codice
                )),
                Some((d, true)) if p.sp.is_some() => err.push(format!(
                    "{}.piattaforma: region {} ({d}) is virtual and always goes through the PN: \
                     write piattaforma = \"pn\"",
                    p.campo, p.codice
                )),
                Some(_) => {}
            }
        }
        for (i, t) in p.tipi.iter().enumerate() {
            if !noti.contains(t) {
                err.push(format!(
                    "{}.tipi[{}]: unknown operator type {t} (known: {})",
                    p.campo,
                    i + 1,
                    noti.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    if err.is_empty() {
        Ok(())
    } else {
        Err(problemi(&isc.origine, &err))
    }
}

/// Why the transaction ends without committing.
enum Fine {
    Prova(Vec<String>),
    Errore(anyhow::Error),
}

impl From<diesel::result::Error> for Fine {
    fn from(e: diesel::result::Error) -> Self {
        Fine::Errore(e.into())
    }
}

/// Makes the database equal to `isc` in one transaction (rolled back when `dry_run`): SPs,
/// platforms and their types upserted, the ones not in the file removed (their operators are
/// no longer sent there). Returns one line per change (none when already equal); each change
/// is one row of the audit chain, committed with it. Nothing is changed on any error.
pub fn applica(
    conn: &mut PgConnection,
    isc: &Iscrizioni,
    dry_run: bool,
) -> anyhow::Result<Vec<String>> {
    let esito = conn.transaction::<_, Fine, _>(|c| {
        let righe = applica_in(c, isc).map_err(Fine::Errore)?;
        if dry_run {
            Err(Fine::Prova(righe))
        } else {
            Ok(righe)
        }
    });
    match esito {
        Ok(r) | Err(Fine::Prova(r)) => Ok(r),
        Err(Fine::Errore(e)) => Err(e),
    }
}

type RigaFornitore = (String, String, Vec<String>, bool, Option<String>);

fn applica_in(c: &mut PgConnection, isc: &Iscrizioni) -> anyhow::Result<Vec<String>> {
    // One enrolment at a time (the audit head lock comes only at the end).
    diesel::sql_query("SELECT pg_advisory_xact_lock(72430013)").execute(c)?;
    valida_db(c, isc)?;
    let ora = Utc::now();
    let mut righe = Vec::new();
    let mut voci = Vec::new();
    let mut voce = |azione, oggetto: &str, dettaglio: String| {
        voci.push(
            VoceAudit::new(ATTORE_CLI, azione)
                .oggetto(oggetto)
                .dettaglio(dettaglio),
        );
    };
    let esistenti: BTreeMap<String, RigaFornitore> = sso_fornitore::table
        .select((
            sso_fornitore::entity_id,
            sso_fornitore::acs_url,
            sso_fornitore::certificati,
            sso_fornitore::richieste_firmate,
            sso_fornitore::metadata_origine,
        ))
        .load::<RigaFornitore>(c)?
        .into_iter()
        .map(|r| (r.0.clone(), r))
        .collect();
    for f in isc.fornitori.values() {
        let nuove = impronte(&f.certificati);
        let valori = (
            sso_fornitore::acs_url.eq(&f.acs_url),
            sso_fornitore::certificati.eq(&f.certificati),
            sso_fornitore::richieste_firmate.eq(f.richieste_firmate),
            sso_fornitore::metadata_origine.eq(&f.metadata_origine),
            sso_fornitore::aggiornato_il.eq(ora),
        );
        let Some((_, acs, certificati, firmate, origine)) = esistenti.get(&f.entity_id) else {
            diesel::insert_into(sso_fornitore::table)
                .values((sso_fornitore::entity_id.eq(&f.entity_id), valori))
                .execute(c)?;
            righe.push(format!(
                "+ fornitore {}: registrato (ACS {}, {} certificato/i, richieste firmate {})",
                f.entity_id,
                f.acs_url,
                f.certificati.len(),
                si_no(f.richieste_firmate)
            ));
            voce(
                Azione::RegistrazioneFornitoreSso,
                &f.entity_id,
                format!(
                    "registrato: acs_url={} certificati={} richieste_firmate={} metadata={}",
                    f.acs_url,
                    elenco_impronte(&nuove),
                    f.richieste_firmate,
                    f.metadata_origine.as_deref().unwrap_or("-")
                ),
            );
            continue;
        };
        let vecchie = impronte(certificati);
        let mut diff = Vec::new();
        if *acs != f.acs_url {
            diff.push(format!("acs_url {acs} -> {}", f.acs_url));
        }
        if vecchie != nuove {
            diff.push(format!(
                "certificati {} -> {}",
                elenco_impronte(&vecchie),
                elenco_impronte(&nuove)
            ));
        }
        if *firmate != f.richieste_firmate {
            diff.push(format!(
                "richieste firmate {} -> {}",
                si_no(*firmate),
                si_no(f.richieste_firmate)
            ));
        }
        if *origine != f.metadata_origine {
            diff.push(format!(
                "metadata {} -> {}",
                origine.as_deref().unwrap_or("-"),
                f.metadata_origine.as_deref().unwrap_or("-")
            ));
        }
        if !diff.is_empty() {
            diesel::update(sso_fornitore::table.find(&f.entity_id))
                .set(valori)
                .execute(c)?;
            righe.push(format!("~ fornitore {}: {}", f.entity_id, diff.join("; ")));
            voce(
                Azione::RegistrazioneFornitoreSso,
                &f.entity_id,
                diff.join("; "),
            );
        }
    }
    let piattaforme: BTreeMap<String, (bool, Option<String>)> = sso_piattaforma::table
        .select((
            sso_piattaforma::codice,
            sso_piattaforma::abilitata,
            sso_piattaforma::sp_entity_id,
        ))
        .load::<(String, bool, Option<String>)>(c)?
        .into_iter()
        .map(|(k, a, s)| (k, (a, s)))
        .collect();
    let mut tipi_db: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (k, t) in sso_piattaforma_tipo::table
        .select((
            sso_piattaforma_tipo::codice,
            sso_piattaforma_tipo::tipo_operatore,
        ))
        .load::<(String, String)>(c)?
    {
        tipi_db.entry(k).or_default().insert(t);
    }
    let vuoto = BTreeSet::new();
    for p in &isc.piattaforme {
        let voluti: BTreeSet<String> = p.tipi.iter().cloned().collect();
        let chi = nome(&p.codice);
        match piattaforme.get(&p.codice) {
            None => {
                diesel::insert_into(sso_piattaforma::table)
                    .values((
                        sso_piattaforma::codice.eq(&p.codice),
                        sso_piattaforma::abilitata.eq(p.abilitata),
                        sso_piattaforma::sp_entity_id.eq(&p.sp),
                        sso_piattaforma::aggiornato_il.eq(ora),
                    ))
                    .execute(c)?;
                let tipi = voluti.iter().cloned().collect::<Vec<_>>().join(", ");
                righe.push(format!(
                    "+ {chi}: iscritta ({}, {}, tipi {tipi})",
                    descrivi_sp(p.sp.as_deref()),
                    if p.abilitata {
                        "abilitata"
                    } else {
                        "disabilitata"
                    }
                ));
                voce(
                    Azione::IscrizionePiattaforma,
                    &p.codice,
                    format!(
                        "iscritta: sp={} abilitata={} tipi={tipi}",
                        p.sp.as_deref().unwrap_or(CODICE_PN),
                        p.abilitata
                    ),
                );
            }
            Some((abilitata, sp)) => {
                if *abilitata != p.abilitata || *sp != p.sp {
                    diesel::update(sso_piattaforma::table.find(&p.codice))
                        .set((
                            sso_piattaforma::abilitata.eq(p.abilitata),
                            sso_piattaforma::sp_entity_id.eq(&p.sp),
                            sso_piattaforma::aggiornato_il.eq(ora),
                        ))
                        .execute(c)?;
                }
                if *abilitata != p.abilitata {
                    let stato = if p.abilitata {
                        "abilitata"
                    } else {
                        "disabilitata"
                    };
                    righe.push(format!("~ {chi}: {stato}"));
                    voce(
                        Azione::IscrizionePiattaforma,
                        &p.codice,
                        format!("abilitata {abilitata} -> {}", p.abilitata),
                    );
                }
                if *sp != p.sp {
                    righe.push(format!(
                        "~ {chi}: {} (era {})",
                        descrivi_sp(p.sp.as_deref()),
                        descrivi_sp(sp.as_deref())
                    ));
                    voce(
                        Azione::IscrizionePiattaforma,
                        &p.codice,
                        format!(
                            "sp {} -> {}",
                            sp.as_deref().unwrap_or(CODICE_PN),
                            p.sp.as_deref().unwrap_or(CODICE_PN)
                        ),
                    );
                }
            }
        }
        let attuali = tipi_db.get(&p.codice).unwrap_or(&vuoto);
        let nuova = !piattaforme.contains_key(&p.codice);
        for t in voluti.difference(attuali) {
            diesel::insert_into(sso_piattaforma_tipo::table)
                .values((
                    sso_piattaforma_tipo::codice.eq(&p.codice),
                    sso_piattaforma_tipo::tipo_operatore.eq(t),
                ))
                .execute(c)?;
            // A new platform's types are in its enrolment line and row.
            if !nuova {
                righe.push(format!("~ {chi}: tipo {t} aggiunto"));
                voce(Azione::AggiuntaTipoOperatore, &p.codice, t.clone());
            }
        }
        for t in attuali.difference(&voluti) {
            diesel::delete(sso_piattaforma_tipo::table.find((&p.codice, t))).execute(c)?;
            righe.push(format!("~ {chi}: tipo {t} rimosso"));
            voce(Azione::RimozioneTipoOperatore, &p.codice, t.clone());
        }
    }
    let nel_file: BTreeSet<&str> = isc.piattaforme.iter().map(|p| p.codice.as_str()).collect();
    for (codice, (_, sp)) in &piattaforme {
        if nel_file.contains(codice.as_str()) {
            continue;
        }
        diesel::delete(sso_piattaforma::table.find(codice)).execute(c)?;
        righe.push(format!("- {}: rimossa", nome(codice)));
        let tipi = tipi_db.get(codice).unwrap_or(&vuoto);
        voce(
            Azione::IscrizionePiattaforma,
            codice,
            format!(
                "rimossa: era sp={} tipi={}",
                sp.as_deref().unwrap_or(CODICE_PN),
                tipi.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    for eid in esistenti.keys() {
        if !isc.fornitori.contains_key(eid) {
            diesel::delete(sso_fornitore::table.find(eid)).execute(c)?;
            righe.push(format!("- fornitore {eid}: rimosso"));
            voce(Azione::RegistrazioneFornitoreSso, eid, "rimosso".into());
        }
    }
    // Last, just before the commit: the audit head stays locked until then.
    for v in &voci {
        registra(c, v)?;
    }
    Ok(righe)
}
