use super::DomainError;
use std::fmt;

/// Codice fiscale of a person (16 characters), omocodia allowed, with a verified check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodiceFiscale(String);

/// Values of the characters in odd (1-based) positions, for A..Z; digits map like A..J.
const ODD: [u32; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];
const MONTHS: &[u8] = b"ABCDEHLMPRST";
const OMOCODIA: &[u8] = b"LMNPQRSTUV";

impl CodiceFiscale {
    /// Parses a codice fiscale: the pattern of the XSD and the check character.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let b = s.as_bytes();
        if b.len() != 16 || !Self::shape_ok(b) {
            return Err(DomainError::CodiceFiscaleFormato);
        }
        if Self::check_char(&b[..15]) != b[15] {
            return Err(DomainError::CodiceFiscaleControllo);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The check character over the first 15 characters (which must be A-Z or 0-9).
    pub fn check_char(first15: &[u8]) -> u8 {
        let sum: u32 = first15
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let v = if c.is_ascii_digit() {
                    u32::from(c - b'0')
                } else {
                    u32::from(c.saturating_sub(b'A'))
                };
                if i % 2 == 0 {
                    ODD.get(v as usize).copied().unwrap_or(0)
                } else {
                    v
                }
            })
            .sum();
        b'A' + (sum % 26) as u8
    }

    fn shape_ok(b: &[u8]) -> bool {
        let letter = |c: &u8| c.is_ascii_uppercase();
        let digit = |c: &u8| c.is_ascii_digit() || OMOCODIA.contains(c);
        b[..6].iter().all(letter)
            && b[6..8].iter().all(digit)
            && MONTHS.contains(&b[8])
            && b[9..11].iter().all(digit)
            && letter(&b[11])
            && b[12..15].iter().all(digit)
            && letter(&b[15])
    }
}

impl fmt::Display for CodiceFiscale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_check_characters() {
        assert_eq!(CodiceFiscale::check_char(b"RCCMNL83S18D969"), b'H');
        assert!(CodiceFiscale::parse("RCCMNL83S18D969H").is_ok());
        assert!(CodiceFiscale::parse("RSSMRA60C15F205L").is_ok());
    }

    #[test]
    fn wrong_check_character_is_refused() {
        assert_eq!(
            CodiceFiscale::parse("RCCMNL83S18D969A"),
            Err(DomainError::CodiceFiscaleControllo)
        );
    }

    #[test]
    fn omocodia_is_accepted() {
        // 18 -> 1M (M = 8), check character recomputed.
        let first = b"RCCMNL83S1MD969";
        let cc = CodiceFiscale::check_char(first) as char;
        let cf = format!("{}{}", std::str::from_utf8(first).unwrap(), cc);
        assert!(CodiceFiscale::parse(&cf).is_ok());
    }

    #[test]
    fn bad_shapes_are_refused() {
        for bad in [
            "",
            "RCCMNL83S18D969",
            "rccmnl83s18d969h",
            "RCCMNL83Z18D969H",
            "RCCMNL83S18D96ÈH",
        ] {
            assert_eq!(
                CodiceFiscale::parse(bad),
                Err(DomainError::CodiceFiscaleFormato),
                "{bad}"
            );
        }
    }
}
