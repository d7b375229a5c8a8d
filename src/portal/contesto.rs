//! What a page handler works with: the database connection (inside the request's
//! transaction), the session, the parsed request, the presented client certificate, and the
//! helpers every page uses (render, the section 2.5 row, the login guard).

use super::http::{self, Request, Response};
use super::pagine::Cornice;
use super::repo::{self, Sessione, Utente};
use super::{ErrorePortale, Portale};
use ::http::StatusCode;
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use std::net::IpAddr;

/// The client certificate presented at the TLS handshake (not verified by TLS: the CNS pages
/// verify it against the trusted CNS CAs).
#[derive(Debug, Clone)]
pub struct CertificatoPresentato {
    pub foglia: openssl::x509::X509,
    pub catena: Vec<openssl::x509::X509>,
}

pub struct Contesto<'a> {
    pub conn: &'a mut PgConnection,
    pub portale: &'a Portale,
    pub ip: IpAddr,
    pub ora: DateTime<Utc>,
    pub req: &'a Request,
    pub sessione: Option<Sessione>,
    /// The session expired on this request (the page says so).
    pub scaduta: bool,
    pub certificato: Option<&'a CertificatoPresentato>,
    /// The cookie to set on the response (a new or rotated session), or `Some(None)` to clear.
    pub nuovo_cookie: Option<Option<String>>,
}

/// A logged-in operator and their session.
pub struct Operatore {
    pub utente: Utente,
    pub sessione: Sessione,
}

impl Contesto<'_> {
    /// Renders `pagina` with `stato`.
    pub fn pagina(
        &self,
        stato: StatusCode,
        pagina: &impl Template,
    ) -> Result<Response, ErrorePortale> {
        Ok(http::html(stato, pagina.render()?))
    }

    /// Fills the frame's session parts (CSRF token, "Esci") and the pending message.
    pub fn cornice(&mut self, mut c: Cornice) -> Result<Cornice, ErrorePortale> {
        if let Some(s) = &mut self.sessione {
            c.csrf = s.csrf.clone();
            c.connesso = s.utente_id.is_some();
            if let Some(m) = s.messaggio.take() {
                repo::messaggio_sessione(self.conn, &s.token_hash, None)?;
                c.messaggi.insert(0, ("conferma", m));
            }
        }
        if self.scaduta {
            c.messaggi.insert(
                0,
                (
                    "errore",
                    "La sessione è scaduta per inattività: accedere di nuovo.".to_owned(),
                ),
            );
        }
        Ok(c)
    }

    /// The session, created (anonymous) when there is none, so that forms carry a CSRF token.
    pub fn sessione_o_nuova(&mut self) -> Result<(), ErrorePortale> {
        if self.sessione.is_none() {
            let (token, s) = super::sessione::crea(self.conn, None, None, false, None, self.ora)?;
            self.sessione = Some(s);
            self.nuovo_cookie = Some(Some(token));
        }
        Ok(())
    }

    /// Writes the section 2.5 row of this operation (committed with the request's transaction,
    /// before the answer leaves).
    pub fn registra(
        &mut self,
        codice_fiscale: Option<&str>,
        operazione: &str,
        esito: &str,
        dettaglio: Option<&str>,
    ) -> Result<(), ErrorePortale> {
        repo::registra_accesso(
            self.conn,
            codice_fiscale,
            self.ora,
            operazione,
            esito,
            self.ip,
            dettaglio,
        )?;
        Ok(())
    }

    /// The logged-in operator, or the answer for a visitor who is not one: back to the access
    /// page (saying when the session expired), or to the password change when it is due.
    pub fn operatore(&mut self) -> Result<Result<Operatore, Response>, ErrorePortale> {
        let Some(s) = self.sessione.clone() else {
            return Ok(Err(self.non_connesso()));
        };
        let Some(id) = s.utente_id else {
            return Ok(Err(self.non_connesso()));
        };
        let Some(u) = repo::utente(self.conn, id)? else {
            return Ok(Err(self.non_connesso()));
        };
        if !u.abilitato {
            repo::elimina_sessione(self.conn, &s.token_hash)?;
            self.nuovo_cookie = Some(None);
            return Ok(Err(http::redirect("/?esito=disabilitato")));
        }
        if s.cambio_password && self.req.path != "/password" {
            return Ok(Err(http::redirect("/password")));
        }
        Ok(Ok(Operatore {
            utente: u,
            sessione: s,
        }))
    }

    fn non_connesso(&self) -> Response {
        if self.scaduta {
            http::redirect("/?esito=scaduta")
        } else {
            http::redirect("/")
        }
    }

    /// The refusal of a service the operator's profiles do not include: its section 2.5 row
    /// (`NON_ABILITATO`) and a 403 page.
    pub fn non_abilitato(
        &mut self,
        cf: &str,
        operazione: &str,
        dettaglio: Option<&str>,
    ) -> Result<Response, ErrorePortale> {
        self.registra(Some(cf), operazione, "NON_ABILITATO", dettaglio)?;
        self.rifiuto(
            StatusCode::FORBIDDEN,
            "Servizio non abilitato",
            vec!["Servizio non abilitato per l'utenza: rivolgersi all'amministratore di sicurezza della propria ASL.".into()],
        )
    }

    /// A readable refusal page with `stato`.
    pub fn rifiuto(
        &mut self,
        stato: StatusCode,
        titolo: &str,
        paragrafi: Vec<String>,
    ) -> Result<Response, ErrorePortale> {
        let ritorno = ("Torna alla Home".to_owned(), "/".to_owned());
        self.rifiuto_in(stato, titolo, &[], paragrafi, ritorno)
    }

    /// A refusal page inside a service: its breadcrumbs and the link back (text, path).
    pub fn rifiuto_in(
        &mut self,
        stato: StatusCode,
        titolo: &str,
        briciole: &[(&str, &str)],
        paragrafi: Vec<String>,
        ritorno: (String, String),
    ) -> Result<Response, ErrorePortale> {
        let c = self.cornice(Cornice::new(titolo, briciole))?;
        self.pagina(
            stato,
            &super::pagine::Errore {
                c,
                paragrafi,
                ritorno,
            },
        )
    }
}
