use super::DomainError;

/// Numero della Tessera Sanitaria: 20 digits (no public check-digit rule exists).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NumeroTessera(String);

impl NumeroTessera {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::NumeroTessera)
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
    fn twenty_digits_only() {
        assert!(NumeroTessera::parse("80380030000000000001").is_ok());
        assert!(NumeroTessera::parse("8038003000000000000").is_err());
        assert!(NumeroTessera::parse("8038003000000000000X").is_err());
    }
}
