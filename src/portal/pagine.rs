//! The pages: one askama template per screen, all inside `templates/base.html` (header
//! "Progetto Tessera Sanitaria", "Ti trovi in" breadcrumb, "Messaggi", "Esci").

use super::repo::{Servizio, Utente};
use askama::Template;
use chrono::{DateTime, Utc};

/// What every page shows around its content.
#[derive(Debug, Default)]
pub struct Cornice {
    pub titolo: String,
    /// Breadcrumb after "Home": label and link (none for the current page).
    pub briciole: Vec<(String, Option<String>)>,
    /// ("errore" | "conferma" | "info", text).
    pub messaggi: Vec<(&'static str, String)>,
    pub csrf: String,
    pub connesso: bool,
}

impl Cornice {
    /// A page titled `titolo` under Home and the given `(label, link)` ancestors.
    pub fn new(titolo: &str, antenati: &[(&str, &str)]) -> Self {
        let mut briciole = vec![("Home".to_owned(), Some("/".to_owned()))];
        briciole.extend(
            antenati
                .iter()
                .map(|(l, h)| ((*l).to_owned(), Some((*h).to_owned()))),
        );
        briciole.push((titolo.to_owned(), None));
        Cornice {
            titolo: titolo.to_owned(),
            briciole,
            ..Cornice::default()
        }
    }

    pub fn errore(mut self, m: impl Into<String>) -> Self {
        self.messaggi.push(("errore", m.into()));
        self
    }

    pub fn info(mut self, m: impl Into<String>) -> Self {
        self.messaggi.push(("info", m.into()));
        self
    }
}

/// `dd/mm/yyyy HH:MM` in Italian time, or "Non Presente".
pub fn data_ora(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| {
        crate::domain::tempo::ora_roma(t)
            .format("%d/%m/%Y %H:%M")
            .to_string()
    })
    .unwrap_or_else(|| "Non Presente".to_owned())
}

/// `HH:MM` in Italian time.
pub fn ora(t: DateTime<Utc>) -> String {
    crate::domain::tempo::ora_roma(t)
        .format("%H:%M")
        .to_string()
}

pub fn o_non_presente(v: &Option<String>) -> String {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or("Non Presente")
        .to_owned()
}

#[derive(Template)]
#[template(path = "accesso.html")]
pub struct Accesso {
    pub c: Cornice,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct Login {
    pub c: Cornice,
    pub codice: String,
    /// Wrong credentials, lockout: shown beside the fields too.
    pub errore: Option<String>,
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct Password {
    pub c: Cornice,
    pub motivo: String,
    pub errore_attuale: Option<String>,
    pub errore_nuova: Option<String>,
    pub errore_conferma: Option<String>,
    pub regole: &'static [&'static str],
}

/// The operator's data in the header of the services page (seed 004).
#[derive(Debug)]
pub struct DatiUtente {
    pub codice_fiscale: String,
    pub nominativo: String,
    pub telefono: String,
    pub email: String,
    pub regione: Option<String>,
    pub asl: Option<String>,
    pub ultimo_accesso: String,
    pub ultimo_cambio_password: String,
}

impl DatiUtente {
    pub fn new(u: &Utente, regione: Option<String>, asl: Option<String>) -> Self {
        DatiUtente {
            codice_fiscale: u.codice_fiscale.clone(),
            nominativo: u.nominativo(),
            telefono: o_non_presente(&u.telefono),
            email: o_non_presente(&u.email),
            regione,
            asl,
            ultimo_accesso: data_ora(u.accesso_precedente),
            ultimo_cambio_password: data_ora(u.password_cambiata_il),
        }
    }
}

#[derive(Template)]
#[template(path = "servizi.html")]
pub struct Servizi {
    pub c: Cornice,
    pub u: DatiUtente,
    pub servizi: Vec<Servizio>,
}

/// A page that explains a refusal or a failure, with a way back.
#[derive(Template)]
#[template(path = "errore.html")]
pub struct Errore {
    pub c: Cornice,
    pub paragrafi: Vec<String>,
    pub ritorno: (String, String),
}
