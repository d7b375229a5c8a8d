//! The TS-CNS rules that need no database: a card's state as loaded by `repo`, and the
//! decisions on an activation, a revocation and a certificate renewal. Shared by the web
//! services (one record a call) and the first-load files (many records).

use super::errore::Errore;
use crate::domain::{CodiceFiscale, NumeroTessera};
use chrono::NaiveDate;

/// `motivo` of a revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motivo {
    Furto,
    Smarrimento,
    Deterioramento,
    Decesso,
    Sostituzione,
    Altro,
}

impl Motivo {
    pub const ALL: [Motivo; 6] = [
        Self::Furto,
        Self::Smarrimento,
        Self::Deterioramento,
        Self::Decesso,
        Self::Sostituzione,
        Self::Altro,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Furto => "furto",
            Self::Smarrimento => "smarrimento",
            Self::Deterioramento => "deterioramento",
            Self::Decesso => "decesso",
            Self::Sostituzione => "sostituzione",
            Self::Altro => "altro",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// A certificate serial number in its canonical form: upper-case hex without leading zeros
/// (`00ab12` and `AB12` are the same certificate).
pub fn seriale_canonico(s: &str) -> Result<String, Errore> {
    let s = s.trim();
    if s.is_empty() || s.len() > 40 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Errore::SerialeNonValido);
    }
    let t = s.trim_start_matches('0');
    Ok(if t.is_empty() {
        "0".to_owned()
    } else {
        t.to_ascii_uppercase()
    })
}

pub fn data(s: &str) -> Result<NaiveDate, Errore> {
    let s = s.trim();
    if s.len() != 10 {
        return Err(Errore::DataNonValida);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| Errore::DataNonValida)
}

/// A certificate issuer as the CMS writes it: 1-255 characters, no control characters (it is
/// copied into answers, revocation notices and fixed-layout files).
pub fn emittente(s: &str) -> Result<String, Errore> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 255 || s.chars().any(char::is_control) {
        return Err(Errore::EmittenteNonValido);
    }
    Ok(s.to_owned())
}

pub fn numero_tessera(s: &str) -> Result<NumeroTessera, Errore> {
    NumeroTessera::parse(s.trim()).map_err(|_| Errore::NumeroTesseraNonValido)
}

pub fn codice_fiscale(s: &str) -> Result<CodiceFiscale, Errore> {
    CodiceFiscale::parse(s.trim()).map_err(|_| Errore::CodiceFiscaleNonValido)
}

/// AttivazioneTSCNS: the CMS reports that a card's CNS function is active with a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attivazione {
    pub codice_fiscale: CodiceFiscale,
    pub numero_tessera: NumeroTessera,
    pub certificato: Certificato,
}

/// A card's authentication certificate as the CMS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificato {
    /// Canonical serial (`seriale_canonico`).
    pub seriale: String,
    pub emittente: String,
    pub valido_dal: NaiveDate,
    pub valido_al: NaiveDate,
    pub data_attivazione: NaiveDate,
}

/// RevocaTSCNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoca {
    pub numero_tessera: NumeroTessera,
    pub motivo: Motivo,
    pub data_revoca: NaiveDate,
}

/// The text fields of an activation, as a request or a file record carries them.
pub struct AttivazioneIn<'a> {
    pub codice_fiscale: Option<&'a str>,
    pub numero_tessera: Option<&'a str>,
    pub seriale: Option<&'a str>,
    pub emittente: Option<&'a str>,
    pub valido_dal: Option<&'a str>,
    pub valido_al: Option<&'a str>,
    pub data_attivazione: Option<&'a str>,
}

pub struct RevocaIn<'a> {
    pub numero_tessera: Option<&'a str>,
    pub motivo: Option<&'a str>,
    pub data_revoca: Option<&'a str>,
}

/// Every error of one field list, in field order, each once.
#[derive(Default)]
struct Raccolta(Vec<Errore>);

impl Raccolta {
    fn campo<T>(
        &mut self,
        v: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, Errore>,
    ) -> Option<T> {
        match v.map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                self.push(Errore::CampoMancante);
                None
            }
            Some(s) => parse(s).map_err(|e| self.push(e)).ok(),
        }
    }

    fn push(&mut self, e: Errore) {
        if !self.0.contains(&e) {
            self.0.push(e);
        }
    }
}

/// The rules of an activation that need no database: every field well formed, the validity
/// period coherent with the activation date, which is not in the future (`oggi`, Italian time).
pub fn parse_attivazione(r: &AttivazioneIn, oggi: NaiveDate) -> Result<Attivazione, Vec<Errore>> {
    let mut e = Raccolta::default();
    let cf = e.campo(r.codice_fiscale, codice_fiscale);
    let numero = e.campo(r.numero_tessera, numero_tessera);
    let seriale = e.campo(r.seriale, seriale_canonico);
    let emittente = e.campo(r.emittente, emittente);
    let dal = e.campo(r.valido_dal, data);
    let al = e.campo(r.valido_al, data);
    let attivazione = e.campo(r.data_attivazione, data);
    if attivazione.is_some_and(|a| a > oggi) {
        e.push(Errore::DataNelFuturo);
    }
    if let (Some(dal), Some(al), Some(a)) = (dal, al, attivazione) {
        if dal > al || a < dal || a > al {
            e.push(Errore::ValiditaNonCoerente);
        }
    }
    match (cf, numero, seriale, emittente, dal, al, attivazione) {
        (Some(cf), Some(n), Some(s), Some(em), Some(dal), Some(al), Some(a)) if e.0.is_empty() => {
            Ok(Attivazione {
                codice_fiscale: cf,
                numero_tessera: n,
                certificato: Certificato {
                    seriale: s,
                    emittente: em,
                    valido_dal: dal,
                    valido_al: al,
                    data_attivazione: a,
                },
            })
        }
        _ => Err(e.0),
    }
}

pub fn parse_revoca(r: &RevocaIn, oggi: NaiveDate) -> Result<Revoca, Vec<Errore>> {
    let mut e = Raccolta::default();
    let numero = e.campo(r.numero_tessera, numero_tessera);
    let motivo = e.campo(r.motivo, |s| {
        Motivo::parse(s).ok_or(Errore::MotivoNonValido)
    });
    let data_revoca = e.campo(r.data_revoca, data);
    if data_revoca.is_some_and(|d| d > oggi) {
        e.push(Errore::DataNelFuturo);
    }
    match (numero, motivo, data_revoca) {
        (Some(n), Some(m), Some(d)) if e.0.is_empty() => Ok(Revoca {
            numero_tessera: n,
            motivo: m,
            data_revoca: d,
        }),
        _ => Err(e.0),
    }
}

/// An expiry extension rule in force that covers a card (`proroga_scadenza`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proroga {
    pub codice: String,
    pub prorogata_al: NaiveDate,
}

/// The revocation recorded for a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocaRegistrata {
    pub motivo: String,
    pub data_revoca: NaiveDate,
}

/// The renewal recorded for a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RinnovoRegistrato {
    pub seriale_precedente: String,
    pub seriale_nuovo: String,
    pub scadenza_nuova: NaiveDate,
}

/// Everything the rules need to know about one card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatoTessera {
    pub numero: String,
    pub codice_fiscale: String,
    pub codice_regione: String,
    pub data_scadenza: NaiveDate,
    pub sigla_serie: Option<String>,
    pub puk_per_rinnovo: bool,
    pub certificato: Option<Certificato>,
    pub revoca: Option<RevocaRegistrata>,
    pub rinnovo: Option<RinnovoRegistrato>,
    /// The rule in force covering the printed expiry (the latest, when several do).
    pub proroga: Option<Proroga>,
}

impl StatoTessera {
    /// The expiry that counts: the printed one, or the extended one.
    pub fn scadenza_effettiva(&self) -> NaiveDate {
        match &self.proroga {
            Some(p) if p.prorogata_al > self.data_scadenza => p.prorogata_al,
            _ => self.data_scadenza,
        }
    }
}

/// What an accepted request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applicata {
    Registrata,
    /// The same data were already recorded: nothing written.
    GiaPresente,
}

/// The card exists and belongs to the caller's region: checked first, alone, so that a CMS
/// learns nothing about other regions' cards.
pub fn tessera_della_regione<'a>(
    stato: Option<&'a StatoTessera>,
    regione: &str,
) -> Result<&'a StatoTessera, Vec<Errore>> {
    match stato {
        None => Err(vec![Errore::TesseraSconosciuta]),
        Some(s) if s.codice_regione != regione => Err(vec![Errore::TesseraAltraRegione]),
        Some(s) => Ok(s),
    }
}

/// An activation against the card's state: every reason at once.
pub fn decidi_attivazione(
    stato: Option<&StatoTessera>,
    regione: &str,
    a: &Attivazione,
) -> Result<Applicata, Vec<Errore>> {
    let s = tessera_della_regione(stato, regione)?;
    let mut e = Vec::new();
    if s.codice_fiscale != a.codice_fiscale.as_str() {
        e.push(Errore::TesseraNonIntestata);
    }
    if s.revoca.is_some() {
        e.push(Errore::TesseraRevocata);
    }
    if a.certificato.data_attivazione > s.scadenza_effettiva() {
        e.push(Errore::TesseraScaduta);
    }
    let mut gia = false;
    match &s.certificato {
        Some(c) if c.seriale != a.certificato.seriale => e.push(Errore::GiaAttivaAltroCertificato),
        Some(c) if *c != a.certificato => e.push(Errore::AttivazioneDatiDiversi),
        Some(_) => gia = true,
        None => {}
    }
    if !e.is_empty() {
        Err(e)
    } else if gia {
        Ok(Applicata::GiaPresente)
    } else {
        Ok(Applicata::Registrata)
    }
}

pub fn decidi_revoca(
    stato: Option<&StatoTessera>,
    regione: &str,
    r: &Revoca,
) -> Result<Applicata, Vec<Errore>> {
    let s = tessera_della_regione(stato, regione)?;
    match &s.revoca {
        None => Ok(Applicata::Registrata),
        Some(g) if g.motivo == r.motivo.as_str() && g.data_revoca == r.data_revoca => {
            Ok(Applicata::GiaPresente)
        }
        Some(_) => Err(vec![Errore::RevocaDatiDiversi]),
    }
}

/// VerificaRinnovoCertificato's answer (seed 001: the three scenarios of the tool).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatoRinnovo {
    Rinnovabile,
    NonRinnovabile,
    GiaRinnovato,
}

impl StatoRinnovo {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rinnovabile => "RINNOVABILE",
            Self::NonRinnovabile => "NON_RINNOVABILE",
            Self::GiaRinnovato => "GIA_RINNOVATO",
        }
    }
}

/// Whether the certificate `seriale` of a card may be renewed: RINNOVABILE when a rule in force
/// extended the card and its certificate ends before the extended expiry; GIA_RINNOVATO when
/// renewed under that rule. Refused (esito 01) when the
/// card is unknown, of another region, revoked, or `seriale` is neither its active certificate
/// nor the one a renewal replaced.
pub fn verifica_rinnovo<'a>(
    stato: Option<&'a StatoTessera>,
    regione: &str,
    seriale: &str,
) -> Result<(StatoRinnovo, &'a StatoTessera), Vec<Errore>> {
    let s = tessera_della_regione(stato, regione)?;
    if s.revoca.is_some() {
        return Err(vec![Errore::TesseraRevocata]);
    }
    let attivo = s.certificato.as_ref().is_some_and(|c| c.seriale == seriale);
    let sostituito = s
        .rinnovo
        .as_ref()
        .is_some_and(|r| r.seriale_precedente == seriale);
    if !attivo && !sostituito {
        return Err(vec![Errore::CertificatoNonAttivo]);
    }
    // A certificate already valid up to the extended expiry has nothing to renew.
    let da_rinnovare = s
        .certificato
        .as_ref()
        .is_some_and(|c| c.valido_al < s.scadenza_effettiva());
    let r = if s.rinnovo.is_some() {
        StatoRinnovo::GiaRinnovato
    } else if s.proroga.is_some() && da_rinnovare {
        StatoRinnovo::Rinnovabile
    } else {
        StatoRinnovo::NonRinnovabile
    };
    Ok((r, s))
}

/// RegistraRinnovoCertificato: the new certificate of a renewable card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rinnovo {
    pub seriale: String,
    pub seriale_nuovo: String,
    pub scadenza_nuova: NaiveDate,
}

/// The text fields of a renewal.
pub struct RinnovoIn<'a> {
    pub numero_tessera: Option<&'a str>,
    pub seriale: Option<&'a str>,
    pub seriale_nuovo: Option<&'a str>,
    pub scadenza_nuova: Option<&'a str>,
}

/// The card number and the renewal, every malformed field at once.
pub fn parse_rinnovo(r: &RinnovoIn) -> Result<(NumeroTessera, Rinnovo), Vec<Errore>> {
    let mut e = Raccolta::default();
    let numero = e.campo(r.numero_tessera, numero_tessera);
    let seriale = e.campo(r.seriale, seriale_canonico);
    let nuovo = e.campo(r.seriale_nuovo, seriale_canonico);
    let scadenza = e.campo(r.scadenza_nuova, data);
    match (numero, seriale, nuovo, scadenza) {
        (Some(n), Some(seriale), Some(seriale_nuovo), Some(scadenza_nuova)) if e.0.is_empty() => {
            Ok((
                n,
                Rinnovo {
                    seriale,
                    seriale_nuovo,
                    scadenza_nuova,
                },
            ))
        }
        _ => Err(e.0),
    }
}

pub fn decidi_rinnovo(
    stato: Option<&StatoTessera>,
    regione: &str,
    r: &Rinnovo,
) -> Result<Applicata, Vec<Errore>> {
    let (stato_rinnovo, s) = verifica_rinnovo(stato, regione, &r.seriale)?;
    match stato_rinnovo {
        StatoRinnovo::NonRinnovabile => Err(vec![Errore::NonRinnovabile]),
        StatoRinnovo::GiaRinnovato => match &s.rinnovo {
            Some(g)
                if g.seriale_precedente == r.seriale
                    && g.seriale_nuovo == r.seriale_nuovo
                    && g.scadenza_nuova == r.scadenza_nuova =>
            {
                Ok(Applicata::GiaPresente)
            }
            _ => Err(vec![Errore::GiaRinnovato]),
        },
        StatoRinnovo::Rinnovabile => {
            let mut e = Vec::new();
            if r.seriale_nuovo == r.seriale {
                e.push(Errore::SerialeNonNuovo);
            }
            let vecchia = s.certificato.as_ref().map(|c| c.valido_al);
            if vecchia.is_some_and(|v| r.scadenza_nuova <= v)
                || r.scadenza_nuova > s.scadenza_effettiva()
            {
                e.push(Errore::ScadenzaNonCoerente);
            }
            if e.is_empty() {
                Ok(Applicata::Registrata)
            } else {
                Err(e)
            }
        }
    }
}

#[cfg(test)]
#[path = "regole_tests.rs"]
mod tests;
