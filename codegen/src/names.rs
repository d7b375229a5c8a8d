//! Rust names for XML names: snake_case for modules, fields and functions, CamelCase for
//! structs, and a short namespace prefix per schema.

/// Splits an XML name into words: at `_`, `-`, `.`, and at case changes, keeping acronyms
/// together (`codiceAIC` -> `codice`, `AIC`; `URLBase` -> `URL`, `Base`).
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(|n| n.is_lowercase()))
            });
        if boundary && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Words of the Rust 2021 edition that cannot be field or module names.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
    "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true",
    "try", "type", "unsafe", "use", "where", "while", "yield",
];

/// `codiceFiscale` -> `codice_fiscale`, `TipiDati` -> `tipi_dati`, `type` -> `type_`.
pub fn snake(name: &str) -> String {
    let mut out = words(name)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// `messaggioType` -> `MessaggioType`, `lista-voci` -> `ListaVoci`.
pub fn camel(name: &str) -> String {
    let mut out: String = words(name)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// A namespace prefix made of the initials of a file stem (`TipiDati` -> `td`,
/// `VerificaAssistitoFuoriRegione` -> `vafr`), made unique among `taken` with a number.
/// Prefixes only need to be unique within one message; deriving them from the file name keeps
/// them stable when schemas are added.
pub fn prefix(stem: &str, taken: &[String]) -> String {
    let mut base: String = words(stem)
        .iter()
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_lowercase)
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if base.is_empty() || !base.starts_with(|c: char| c.is_ascii_lowercase()) {
        base.insert(0, 'n');
    }
    if base.starts_with("xml") {
        base.insert(0, 'n');
    }
    let mut candidate = base.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{base}{n}");
        n += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(snake("codiceFiscale"), "codice_fiscale");
        assert_eq!(
            snake("VerificaAssistitoFuoriRegione"),
            "verifica_assistito_fuori_regione"
        );
        assert_eq!(snake("codiceAIC"), "codice_aic");
        assert_eq!(snake("URLBase"), "url_base");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("lista-voci.2"), "lista_voci_2");
        assert_eq!(camel("messaggioType"), "MessaggioType");
        assert_eq!(camel("lista-voci"), "ListaVoci");
        assert_eq!(prefix("TipiDati", &[]), "td");
        assert_eq!(prefix("VerificaAssistitoFuoriRegione", &[]), "vafr");
        assert_eq!(prefix("TipiDati", &["td".into()]), "td2");
        assert_eq!(prefix("x-m-l", &[]), "nxml");
    }
}
