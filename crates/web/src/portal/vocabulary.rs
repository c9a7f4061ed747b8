//! Controlled vocabularies and fixed texts of the modello Comuni.

use crate::portal::shell::slugify;

pub use palazzo_domain::portal::TOPICS;

pub use palazzo_domain::portal::topic;

/// The model term whose slug is `slug`.
pub fn topic_by_slug(slug: &str) -> Option<&'static str> {
    TOPICS.iter().copied().find(|t| slugify(t) == slug)
}

/// The page of a topic.
pub fn topic_href(name: &str) -> String {
    format!("/argomenti/{}", slugify(name))
}

/// Section title of the legal notes page checked by C.SI.3.4.
pub const LICENSE_TITLE: &str = "Licenza dei contenuti";

/// The licence paragraphs checked by C.SI.3.4, verbatim (typographic
/// apostrophe). Source: `legalNotes.body.text` of italia/pa-website-validator
/// (`src/storage/common/legalNotes.ts`); the tool compares the text of all
/// `legal-notes-body` elements joined by one space.
pub const LICENSE_BODY: [&str; 2] = [
    "In applicazione del principio open by default ai sensi dell’articolo 52 del decreto legislativo 7 marzo 2005, n. 82 (CAD) e salvo dove diversamente specificato (compresi i contenuti incorporati di terzi), i dati, i documenti e le informazioni pubblicati sul sito sono rilasciati con licenza CC-BY 4.0.",
    "Gli utenti sono quindi liberi di condividere (riprodurre, distribuire, comunicare al pubblico, esporre in pubblico), rappresentare, eseguire e recitare questo materiale con qualsiasi mezzo e formato e modificare (trasformare il materiale e utilizzarlo per opere derivate) per qualsiasi fine, anche commerciale con il solo onere di attribuzione, senza apporre restrizioni aggiuntive.",
];

/// Rating question of the page-clarity component (C.SI.2.5).
pub const RATING_TITLE: &str = "Quanto sono chiare le informazioni su questa pagina?";
/// Follow-up question for 1–3 stars.
pub const RATING_NEGATIVE_QUESTION: &str = "Dove hai incontrato le maggiori difficoltà?";
/// Follow-up question for 4–5 stars.
pub const RATING_POSITIVE_QUESTION: &str = "Quali sono stati gli aspetti che hai preferito?";
/// Answers for 1–3 stars, in order (stored as their 1-based index).
pub const RATING_NEGATIVE_ANSWERS: [&str; 5] = [
    "A volte le indicazioni non erano chiare",
    "A volte le indicazioni non erano complete",
    "A volte non capivo se stavo procedendo correttamente",
    "Ho avuto problemi tecnici",
    "Altro",
];
/// Answers for 4–5 stars, in order (stored as their 1-based index).
pub const RATING_POSITIVE_ANSWERS: [&str; 5] = [
    "Le indicazioni erano chiare",
    "Le indicazioni erano complete",
    "Capivo sempre che stavo procedendo correttamente",
    "Non ho avuto problemi tecnici",
    "Altro",
];

/// The 22 first-level sections of Amministrazione trasparente for a comune
/// (DECISIONS 26), with their URL slugs.
pub const TRANSPARENCY_SECTIONS: [(&str, &str); 22] = [
    ("Disposizioni generali", "disposizioni-generali"),
    ("Organizzazione", "organizzazione"),
    ("Consulenti e collaboratori", "consulenti-e-collaboratori"),
    ("Personale", "personale"),
    ("Bandi di concorso", "bandi-di-concorso"),
    ("Performance", "performance"),
    ("Enti controllati", "enti-controllati"),
    ("Attività e procedimenti", "attivita-e-procedimenti"),
    ("Provvedimenti", "provvedimenti"),
    ("Controlli sulle imprese", "controlli-sulle-imprese"),
    ("Bandi di gara e contratti", "bandi-di-gara-e-contratti"),
    (
        "Sovvenzioni, contributi, sussidi, vantaggi economici",
        "sovvenzioni-contributi-sussidi-vantaggi-economici",
    ),
    ("Bilanci", "bilanci"),
    (
        "Beni immobili e gestione patrimonio",
        "beni-immobili-e-gestione-patrimonio",
    ),
    (
        "Controlli e rilievi sull'amministrazione",
        "controlli-e-rilievi-sull-amministrazione",
    ),
    ("Servizi erogati", "servizi-erogati"),
    (
        "Pagamenti dell'amministrazione",
        "pagamenti-dell-amministrazione",
    ),
    ("Opere pubbliche", "opere-pubbliche"),
    (
        "Pianificazione e governo del territorio",
        "pianificazione-e-governo-del-territorio",
    ),
    ("Informazioni ambientali", "informazioni-ambientali"),
    (
        "Interventi straordinari e di emergenza",
        "interventi-straordinari-e-di-emergenza",
    ),
    ("Altri contenuti", "altri-contenuti"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_unique_with_unique_slugs() {
        let mut slugs: Vec<String> = TOPICS.iter().map(|t| slugify(t)).collect();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), 64);
        assert_eq!(topic("anagrafe"), Some("Anagrafe"));
        assert_eq!(topic("mobilità sostenibile"), Some("Mobilità sostenibile"));
        assert_eq!(topic_by_slug("gestione-rifiuti"), Some("Gestione rifiuti"));
        assert_eq!(topic("Calcio"), None);
    }

    #[test]
    fn transparency_slugs_follow_the_names() {
        for (name, slug) in TRANSPARENCY_SECTIONS {
            assert_eq!(slugify(name), slug);
        }
    }
}
