//! Portal taxonomies of the modello Comuni (Designers Italia, PNRR misura 1.4.1).

use serde::{Deserialize, Serialize};

/// The 15 service categories of criterion C.SI.1.7 ("Servizi" second-level
/// titles), in the order of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceCategory {
    /// Educazione e formazione
    EducazioneFormazione,
    /// Salute, benessere e assistenza
    SaluteBenessereAssistenza,
    /// Vita lavorativa
    VitaLavorativa,
    /// Mobilità e trasporti
    MobilitaTrasporti,
    /// Catasto e urbanistica
    CatastoUrbanistica,
    /// Anagrafe e stato civile
    AnagrafeStatoCivile,
    /// Turismo
    Turismo,
    /// Giustizia e sicurezza pubblica
    GiustiziaSicurezza,
    /// Tributi, finanze e contravvenzioni
    TributiFinanze,
    /// Cultura e tempo libero
    CulturaTempoLibero,
    /// Ambiente
    Ambiente,
    /// Imprese e commercio
    ImpreseCommercio,
    /// Autorizzazioni
    Autorizzazioni,
    /// Appalti pubblici
    AppaltiPubblici,
    /// Agricoltura e pesca
    AgricolturaPesca,
}

impl ServiceCategory {
    /// Every category, in the model's order.
    pub const ALL: [ServiceCategory; 15] = [
        Self::EducazioneFormazione,
        Self::SaluteBenessereAssistenza,
        Self::VitaLavorativa,
        Self::MobilitaTrasporti,
        Self::CatastoUrbanistica,
        Self::AnagrafeStatoCivile,
        Self::Turismo,
        Self::GiustiziaSicurezza,
        Self::TributiFinanze,
        Self::CulturaTempoLibero,
        Self::Ambiente,
        Self::ImpreseCommercio,
        Self::Autorizzazioni,
        Self::AppaltiPubblici,
        Self::AgricolturaPesca,
    ];

    /// The exact title required by C.SI.1.7.
    pub fn label(self) -> &'static str {
        match self {
            Self::EducazioneFormazione => "Educazione e formazione",
            Self::SaluteBenessereAssistenza => "Salute, benessere e assistenza",
            Self::VitaLavorativa => "Vita lavorativa",
            Self::MobilitaTrasporti => "Mobilità e trasporti",
            Self::CatastoUrbanistica => "Catasto e urbanistica",
            Self::AnagrafeStatoCivile => "Anagrafe e stato civile",
            Self::Turismo => "Turismo",
            Self::GiustiziaSicurezza => "Giustizia e sicurezza pubblica",
            Self::TributiFinanze => "Tributi, finanze e contravvenzioni",
            Self::CulturaTempoLibero => "Cultura e tempo libero",
            Self::Ambiente => "Ambiente",
            Self::ImpreseCommercio => "Imprese e commercio",
            Self::Autorizzazioni => "Autorizzazioni",
            Self::AppaltiPubblici => "Appalti pubblici",
            Self::AgricolturaPesca => "Agricoltura e pesca",
        }
    }

    /// URL slug, stable: used in `/servizi/<slug>` and stored in the database.
    pub fn slug(self) -> &'static str {
        match self {
            Self::EducazioneFormazione => "educazione-e-formazione",
            Self::SaluteBenessereAssistenza => "salute-benessere-e-assistenza",
            Self::VitaLavorativa => "vita-lavorativa",
            Self::MobilitaTrasporti => "mobilita-e-trasporti",
            Self::CatastoUrbanistica => "catasto-e-urbanistica",
            Self::AnagrafeStatoCivile => "anagrafe-e-stato-civile",
            Self::Turismo => "turismo",
            Self::GiustiziaSicurezza => "giustizia-e-sicurezza-pubblica",
            Self::TributiFinanze => "tributi-finanze-e-contravvenzioni",
            Self::CulturaTempoLibero => "cultura-e-tempo-libero",
            Self::Ambiente => "ambiente",
            Self::ImpreseCommercio => "imprese-e-commercio",
            Self::Autorizzazioni => "autorizzazioni",
            Self::AppaltiPubblici => "appalti-pubblici",
            Self::AgricolturaPesca => "agricoltura-e-pesca",
        }
    }

    /// Parses a slug.
    pub fn from_slug(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.slug() == s)
    }
}

/// Whether a service can be used now (C.SI.1.3 "Stato", with the reason when inactive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ServiceStatus {
    /// The service is available.
    Active,
    /// The service is not available, with the reason shown on the card.
    Inactive {
        /// Why it is not available, shown to citizens.
        reason: String,
    },
}

/// The 64 "argomenti" of the modello Comuni taxonomy (criterion C.SI.1.5),
/// the only terms the national conformity tool accepts as fully conformant.
/// Source: `municipalityModelVocabulary` in italia/pa-website-validator,
/// `src/storage/municipality/controlledVocabulary.ts` — a list of facts (the
/// terms), written here in the same order, with the model's exact spelling
/// and case ("Spazio Verde", "PNRR", "ZTL").
pub const TOPICS: [&str; 64] = [
    "Accesso all'informazione",
    "Acqua",
    "Agricoltura",
    "Anagrafe",
    "Animale domestico",
    "Aria",
    "Assistenza agli invalidi",
    "Assistenza sociale",
    "Associazioni",
    "Bilancio",
    "Commercio al minuto",
    "Commercio all'ingrosso",
    "Commercio ambulante",
    "Comunicazione istituzionale",
    "Comunicazione politica",
    "Concorsi",
    "Covid-19",
    "Elezioni",
    "Energie rinnovabili",
    "Estero",
    "Foreste",
    "Formazione professionale",
    "Gemellaggi",
    "Gestione rifiuti",
    "Giustizia",
    "Igiene pubblica",
    "Immigrazione",
    "Imposte",
    "Imprese",
    "Inquinamento",
    "Integrazione sociale",
    "Isolamento termico",
    "Istruzione",
    "Lavoro",
    "Matrimonio",
    "Mercato",
    "Mobilità sostenibile",
    "Morte",
    "Nascita",
    "Parcheggi",
    "Patrimonio culturale",
    "Pesca",
    "Piano di sviluppo",
    "Pista ciclabile",
    "PNRR",
    "Politica commerciale",
    "Polizia",
    "Prodotti alimentari",
    "Protezione civile",
    "Residenza",
    "Risposta alle emergenze",
    "Sistema giuridico",
    "Spazio Verde",
    "Sport",
    "Sviluppo sostenibile",
    "Tassa sui servizi",
    "Tempo libero",
    "Trasparenza amministrativa",
    "Trasporto pubblico",
    "Turismo",
    "Urbanizzazione",
    "Viaggi",
    "Zone pedonali",
    "ZTL",
];

/// A link that stored content may carry to a citizen's browser: a path of
/// this site (one leading `/`, no backslash, which browsers read as `/`) or
/// an absolute `http(s)://` address — never `javascript:`, `data:`, a
/// protocol-relative `//host` or control characters.
pub fn is_safe_link(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let ok = lower.starts_with("https://")
        || lower.starts_with("http://")
        || (url.starts_with('/') && !url.starts_with("//") && !url.contains('\\'));
    ok && !url.chars().any(char::is_control)
}

/// The model term equal to `name` ignoring case and surrounding spaces, if any.
pub fn topic(name: &str) -> Option<&'static str> {
    let name = name.trim().to_lowercase();
    TOPICS.iter().copied().find(|t| t.to_lowercase() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_links() {
        for ok in [
            "/area-personale/x",
            "https://a.it/b",
            "HTTPS://A.IT",
            "http://a.it",
        ] {
            assert!(is_safe_link(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "//evil.example",
            "/\\evil.example",
            "/x\u{7}",
            "relative/path",
            "",
        ] {
            assert!(!is_safe_link(bad), "{bad}");
        }
    }

    #[test]
    fn slugs_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in ServiceCategory::ALL {
            assert!(seen.insert(c.slug()));
            assert_eq!(ServiceCategory::from_slug(c.slug()), Some(c));
        }
        assert_eq!(ServiceCategory::from_slug("nope"), None);
    }

    #[test]
    fn topics_are_64_unique_terms_found_ignoring_case() {
        let unique: std::collections::HashSet<_> = TOPICS.iter().collect();
        assert_eq!(unique.len(), 64);
        assert_eq!(topic("  anagrafe "), Some("Anagrafe"));
        assert_eq!(topic("Calcio"), None);
    }
}
