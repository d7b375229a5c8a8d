use super::DomainError;

/// Codice regione: 3 digits (Ministry of Health list; 300 and above are the virtual regions of
/// the Piattaforma Nazionale). Whether the code exists is a question for the `regione` table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodiceRegione(String);

impl CodiceRegione {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::CodiceRegione)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_digits() {
        assert!(CodiceRegione::parse("030").is_ok());
        assert!(CodiceRegione::parse("30").is_err());
        assert!(CodiceRegione::parse("A30").is_err());
    }
}
