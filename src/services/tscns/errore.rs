//! The reasons for esito 01 of the TS-CNS services, each with a stable code (listed in
//! docs/integrators.md, "Errors of the TS-CNS services"). Codes marked *file* only occur in a first-load
//! file, whose records get no schema check of their own.

/// One reason a TS-CNS record or request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Errore {
    CampoMancante,
    NumeroTesseraNonValido,
    DataNonValida,
    SerialeNonValido,
    MotivoNonValido,
    RecordDuplicato,
    EmittenteNonValido,
    CodiceFiscaleNonValido,
    TesseraSconosciuta,
    TesseraAltraRegione,
    TesseraNonIntestata,
    TesseraRevocata,
    TesseraScaduta,
    GiaAttivaAltroCertificato,
    DataNelFuturo,
    ValiditaNonCoerente,
    AttivazioneDatiDiversi,
    CertificatoAltraTessera,
    RevocaDatiDiversi,
    CertificatoNonAttivo,
    NonRinnovabile,
    GiaRinnovato,
    ScadenzaNonCoerente,
    SerialeNonNuovo,
    ComunicazioneSconosciuta,
}

impl Errore {
    pub const ALL: [Errore; 25] = [
        Self::CampoMancante,
        Self::NumeroTesseraNonValido,
        Self::DataNonValida,
        Self::SerialeNonValido,
        Self::MotivoNonValido,
        Self::RecordDuplicato,
        Self::EmittenteNonValido,
        Self::CodiceFiscaleNonValido,
        Self::TesseraSconosciuta,
        Self::TesseraAltraRegione,
        Self::TesseraNonIntestata,
        Self::TesseraRevocata,
        Self::TesseraScaduta,
        Self::GiaAttivaAltroCertificato,
        Self::DataNelFuturo,
        Self::ValiditaNonCoerente,
        Self::AttivazioneDatiDiversi,
        Self::CertificatoAltraTessera,
        Self::RevocaDatiDiversi,
        Self::CertificatoNonAttivo,
        Self::NonRinnovabile,
        Self::GiaRinnovato,
        Self::ScadenzaNonCoerente,
        Self::SerialeNonNuovo,
        Self::ComunicazioneSconosciuta,
    ];

    pub fn codice(self) -> &'static str {
        match self {
            Self::CampoMancante => "CNS-0001",
            Self::NumeroTesseraNonValido => "CNS-0002",
            Self::DataNonValida => "CNS-0003",
            Self::SerialeNonValido => "CNS-0004",
            Self::MotivoNonValido => "CNS-0005",
            Self::RecordDuplicato => "CNS-0006",
            Self::EmittenteNonValido => "CNS-0007",
            Self::CodiceFiscaleNonValido => "CNS-0101",
            Self::TesseraSconosciuta => "CNS-0102",
            Self::TesseraAltraRegione => "CNS-0103",
            Self::TesseraNonIntestata => "CNS-0104",
            Self::TesseraRevocata => "CNS-0105",
            Self::TesseraScaduta => "CNS-0106",
            Self::GiaAttivaAltroCertificato => "CNS-0107",
            Self::DataNelFuturo => "CNS-0108",
            Self::ValiditaNonCoerente => "CNS-0109",
            Self::AttivazioneDatiDiversi => "CNS-0110",
            Self::CertificatoAltraTessera => "CNS-0111",
            Self::RevocaDatiDiversi => "CNS-0201",
            Self::CertificatoNonAttivo => "CNS-0301",
            Self::NonRinnovabile => "CNS-0302",
            Self::GiaRinnovato => "CNS-0303",
            Self::ScadenzaNonCoerente => "CNS-0304",
            Self::SerialeNonNuovo => "CNS-0305",
            Self::ComunicazioneSconosciuta => "CNS-0401",
        }
    }

    /// The error of a stable code (outcome files are generated from stored codes).
    pub fn from_codice(codice: &str) -> Option<Errore> {
        Self::ALL.into_iter().find(|e| e.codice() == codice)
    }

    pub fn descrizione(self) -> &'static str {
        match self {
            Self::CampoMancante => "Campo obbligatorio assente o vuoto",
            Self::NumeroTesseraNonValido => "Numero di tessera non valido: sono richieste 20 cifre",
            Self::DataNonValida => "Data non valida: formato AAAA-MM-GG",
            Self::SerialeNonValido => {
                "Numero di serie del certificato non valido: da 1 a 40 cifre esadecimali"
            }
            Self::MotivoNonValido => {
                "Motivo di revoca non valido: ammessi furto, smarrimento, deterioramento, decesso, sostituzione, altro"
            }
            Self::RecordDuplicato => {
                "Record duplicato nel flusso: la stessa tessera ha già un record dello stesso tipo"
            }
            Self::EmittenteNonValido => {
                "Emittente del certificato non valido: da 1 a 255 caratteri, senza caratteri di controllo"
            }
            Self::CodiceFiscaleNonValido => {
                "Codice fiscale non valido: formato o carattere di controllo errato"
            }
            Self::TesseraSconosciuta => "Tessera non presente nella banca dati del Sistema TS",
            Self::TesseraAltraRegione => "Tessera emessa per una regione diversa da quella del chiamante",
            Self::TesseraNonIntestata => "Tessera non intestata al codice fiscale indicato",
            Self::TesseraRevocata => "Tessera revocata: la funzione CNS non può essere attivata né rinnovata",
            Self::TesseraScaduta => "Tessera scaduta alla data di attivazione",
            Self::GiaAttivaAltroCertificato => "Tessera già attiva con un altro certificato",
            Self::DataNelFuturo => "Data successiva alla data odierna",
            Self::ValiditaNonCoerente => {
                "Periodo di validità del certificato non coerente: inizio dopo la fine o data di attivazione fuori dal periodo"
            }
            Self::AttivazioneDatiDiversi => {
                "Attivazione già registrata per lo stesso certificato con dati diversi"
            }
            Self::CertificatoAltraTessera => {
                "Certificato (emittente e numero di serie) già attivo su un'altra tessera"
            }
            Self::RevocaDatiDiversi => "Tessera già revocata con motivo o data diversi",
            Self::CertificatoNonAttivo => {
                "Certificato non attivo sulla tessera: numero di serie diverso o funzione CNS non attivata"
            }
            Self::NonRinnovabile => "Nessun certificato rinnovabile presente nella carta",
            Self::GiaRinnovato => "Certificato già rinnovato con un altro numero di serie",
            Self::ScadenzaNonCoerente => {
                "Scadenza del nuovo certificato non coerente: deve seguire quella del certificato precedente e non superare la scadenza prorogata"
            }
            Self::SerialeNonNuovo => "Il nuovo certificato ha lo stesso numero di serie del precedente",
            Self::ComunicazioneSconosciuta => {
                "Comunicazione di revoca non presente tra quelle della regione del chiamante"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_round_trip_and_are_listed_in_the_integrators_guide() {
        let readme = include_str!("../../../docs/integrators.md");
        let mut seen = std::collections::HashSet::new();
        for e in Errore::ALL {
            assert!(seen.insert(e.codice()), "{} twice", e.codice());
            assert_eq!(Errore::from_codice(e.codice()), Some(e));
            assert!(e.codice().len() <= 10);
            assert!(e.descrizione().chars().count() <= 255);
            assert!(
                readme.contains(e.codice()),
                "{} not in docs/integrators.md",
                e.codice()
            );
        }
    }
}
