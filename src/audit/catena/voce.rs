//! What a caller records: the action and the event it describes (the chain fields are added by
//! `registra`).

/// The administrative actions and login events the portal records. The stored text is
/// `as_str()`; the column has no CHECK, so a new variant needs no migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Azione {
    Login,
    LoginFallito,
    Logout,
    AbilitaProfilo,
    DisabilitaProfilo,
    SbloccaUtente,
    RegistraCns,
    RigeneraPincode,
    /// An account locked after too many wrong passwords.
    BloccoUtente,
    /// A password chosen by the operator.
    CambioPassword,
    /// Credentials (a temporary password) issued to the operator.
    RilascioCredenziali,
    /// A region or the PN enrolled for operator SSO, or its enrolment changed (§2.4).
    IscrizionePiattaforma,
    /// An operator type accepted by a platform, or no longer accepted.
    AggiuntaTipoOperatore,
    RimozioneTipoOperatore,
    /// A SAML service provider registered or changed.
    RegistrazioneFornitoreSso,
}

impl Azione {
    /// The text stored in `audit_amministrativo.azione`.
    pub fn as_str(self) -> &'static str {
        match self {
            Azione::Login => "LOGIN",
            Azione::LoginFallito => "LOGIN_FALLITO",
            Azione::Logout => "LOGOUT",
            Azione::AbilitaProfilo => "ABILITA_PROFILO",
            Azione::DisabilitaProfilo => "DISABILITA_PROFILO",
            Azione::SbloccaUtente => "SBLOCCA_UTENTE",
            Azione::RegistraCns => "REGISTRA_CNS",
            Azione::RigeneraPincode => "RIGENERA_PINCODE",
            Azione::BloccoUtente => "BLOCCO_UTENTE",
            Azione::CambioPassword => "CAMBIO_PASSWORD",
            Azione::RilascioCredenziali => "RILASCIO_CREDENZIALI",
            Azione::IscrizionePiattaforma => "ISCRIZIONE_PIATTAFORMA",
            Azione::AggiuntaTipoOperatore => "AGGIUNTA_TIPO_OPERATORE",
            Azione::RimozioneTipoOperatore => "RIMOZIONE_TIPO_OPERATORE",
            Azione::RegistrazioneFornitoreSso => "REGISTRAZIONE_FORNITORE_SSO",
        }
    }
}

/// The actor used by the command line.
pub const ATTORE_CLI: &str = "tsgate-cli";

/// One event to record: who (`attore`, the codice fiscale of the operator acting, or
/// [`ATTORE_CLI`]), what (`azione`), on whom (`oggetto`, the codice fiscale of the operator
/// affected), free `dettaglio` (e.g. the profile enabled) and `esito` (e.g. `OK`, or the reason
/// of a refused login). Never put a secret (password, pincode, OTP) in any field: rows are kept
/// for ever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoceAudit {
    pub attore: String,
    pub azione: Azione,
    pub oggetto: Option<String>,
    pub dettaglio: Option<String>,
    pub esito: Option<String>,
}

impl VoceAudit {
    pub fn new(attore: impl Into<String>, azione: Azione) -> Self {
        Self {
            attore: attore.into(),
            azione,
            oggetto: None,
            dettaglio: None,
            esito: None,
        }
    }

    pub fn oggetto(mut self, codice_fiscale: impl Into<String>) -> Self {
        self.oggetto = Some(codice_fiscale.into());
        self
    }

    pub fn dettaglio(mut self, dettaglio: impl Into<String>) -> Self {
        self.dettaglio = Some(dettaglio.into());
        self
    }

    pub fn esito(mut self, esito: impl Into<String>) -> Self {
        self.esito = Some(esito.into());
        self
    }
}
