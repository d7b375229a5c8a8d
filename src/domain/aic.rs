use super::DomainError;

/// Codice AIC of a medicine: 9 digits, the first `0`, the last a check digit (weights 1,2,1,2...
/// over the first 8 digits, the digits of each product added, check = sum mod 10).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodiceAic(String);

impl CodiceAic {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let b = s.as_bytes();
        if b.len() != 9 || b[0] != b'0' || !b.iter().all(u8::is_ascii_digit) {
            return Err(DomainError::CodiceAicFormato);
        }
        if Self::check_digit(&b[..8]) != b[8] {
            return Err(DomainError::CodiceAicControllo);
        }
        Ok(Self(s.to_owned()))
    }

    /// The check digit over the first 8 digits.
    pub fn check_digit(first8: &[u8]) -> u8 {
        let sum: u32 = first8
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let v = u32::from(c - b'0') * if i % 2 == 1 { 2 } else { 1 };
                v / 10 + v % 10
            })
            .sum();
        b'0' + (sum % 10) as u8
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covid_vaccines_are_valid() {
        for aic in ["049269018", "049283017", "049314026"] {
            assert!(CodiceAic::parse(aic).is_ok(), "{aic}");
        }
    }

    #[test]
    fn wrong_check_digit_and_shape_are_refused() {
        assert_eq!(
            CodiceAic::parse("049269019"),
            Err(DomainError::CodiceAicControllo)
        );
        assert_eq!(
            CodiceAic::parse("149269018"),
            Err(DomainError::CodiceAicFormato)
        );
        assert_eq!(
            CodiceAic::parse("04926901"),
            Err(DomainError::CodiceAicFormato)
        );
        assert_eq!(
            CodiceAic::parse("04926901A"),
            Err(DomainError::CodiceAicFormato)
        );
    }
}
