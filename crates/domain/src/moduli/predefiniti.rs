//! The form definitions shipped with Palazzo (`crates/domain/moduli/*.toml`).
//!
//! A comune can start from these and edit its own copy; each is checked by
//! [`FormDefinition::validate`] in the tests.

use super::definizione::FormDefinition;

/// The shipped TOML sources, by file name.
const SOURCES: &[(&str, &str)] = &[
    (
        "autorizzazione-paesaggistica-semplificata.toml",
        include_str!("../../moduli/autorizzazione-paesaggistica-semplificata.toml"),
    ),
    ("scia.toml", include_str!("../../moduli/scia.toml")),
    (
        "dichiarazione-tari.toml",
        include_str!("../../moduli/dichiarazione-tari.toml"),
    ),
    (
        "accesso-civico-semplice.toml",
        include_str!("../../moduli/accesso-civico-semplice.toml"),
    ),
    (
        "accesso-civico-generalizzato.toml",
        include_str!("../../moduli/accesso-civico-generalizzato.toml"),
    ),
    (
        "segnalazione-disservizio.toml",
        include_str!("../../moduli/segnalazione-disservizio.toml"),
    ),
    (
        "richiesta-assistenza.toml",
        include_str!("../../moduli/richiesta-assistenza.toml"),
    ),
    (
        "istanza-generica.toml",
        include_str!("../../moduli/istanza-generica.toml"),
    ),
];

/// The shipped definitions, in a fixed order. A source that fails to load
/// (impossible once the tests pass) is left out rather than panicking.
#[must_use]
pub fn predefiniti() -> Vec<FormDefinition> {
    SOURCES
        .iter()
        .filter_map(|(_, text)| FormDefinition::from_toml(text).ok())
        .collect()
}

/// The shipped definition with this code.
#[must_use]
pub fn predefinito(code: &str) -> Option<FormDefinition> {
    predefiniti().into_iter().find(|d| d.code == code)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::Coded;

    #[test]
    fn every_shipped_definition_loads_and_validates() {
        for (name, text) in SOURCES {
            let def = match FormDefinition::from_toml(text) {
                Ok(d) => d,
                Err(e) => panic!("{name}: {} {}", e.code(), e.message_it()),
            };
            assert_eq!(def.validate(), Ok(()), "{name}");
            assert_eq!(format!("{}.toml", def.code), *name);
        }
        assert_eq!(predefiniti().len(), SOURCES.len());
        let codes: Vec<String> = predefiniti().into_iter().map(|d| d.code).collect();
        for code in [
            "autorizzazione-paesaggistica-semplificata",
            "scia",
            "dichiarazione-tari",
            "accesso-civico-semplice",
            "accesso-civico-generalizzato",
            "segnalazione-disservizio",
            "richiesta-assistenza",
            "istanza-generica",
        ] {
            assert!(codes.iter().any(|c| c == code), "{code}");
        }
    }
}
