//! The portal search (`/cerca?q=`): a simple scan of the cached snapshot —
//! service titles and summaries, FAQ questions and answers — with accents
//! folded and every query word required. A catalogue of a comune holds a few
//! hundred entries, so this is fast; full-text search with Italian stemming
//! (DECISIONS 28) belongs to the store when documents arrive.

use palazzo_services::PortalSnapshot;

use super::pages::{SearchHit, service_href};
use super::shell::fold_accent;

/// Most results shown.
pub const MAX_HITS: usize = 50;

/// Lower case, accents folded, punctuation → space.
pub fn normalize(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(fold_accent)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect()
}

/// Words of a query (at most 8, each at least 2 characters).
fn words(query: &str) -> Vec<String> {
    normalize(query).split_whitespace().filter(|w| w.chars().count() >= 2).take(8).map(str::to_owned).collect()
}

fn excerpt(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= 200 {
        text
    } else {
        let mut s: String = text.chars().take(200).collect();
        s.push('…');
        s
    }
}

/// Services then FAQ entries matching every word; title matches first.
pub fn search(snap: &PortalSnapshot, query: &str) -> Vec<SearchHit> {
    let words = words(query);
    if words.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(u8, SearchHit)> = Vec::new();
    for s in &snap.services {
        let title = normalize(&s.data.title);
        let body = normalize(&format!("{} {} {}", s.data.summary, s.data.topics.join(" "), s.data.category.label()));
        if words.iter().all(|w| title.contains(w.as_str()) || body.contains(w.as_str())) {
            let rank = if words.iter().all(|w| title.contains(w.as_str())) { 0 } else { 1 };
            scored.push((
                rank,
                SearchHit {
                    href: service_href(s),
                    title: s.data.title.clone(),
                    text: excerpt(&s.data.summary),
                    kind: "Servizio",
                },
            ));
        }
    }
    for f in &snap.faqs {
        let q = normalize(&f.data.question);
        let a = normalize(&f.data.answer);
        if words.iter().all(|w| q.contains(w.as_str()) || a.contains(w.as_str())) {
            let rank = if words.iter().all(|w| q.contains(w.as_str())) { 2 } else { 3 };
            scored.push((
                rank,
                SearchHit {
                    href: format!("/domande-frequenti#faq-{}", f.id),
                    title: f.data.question.clone(),
                    text: excerpt(&f.data.answer),
                    kind: "Domanda frequente",
                },
            ));
        }
    }
    scored.sort_by_key(|(rank, _)| *rank);
    scored.into_iter().map(|(_, hit)| hit).take(MAX_HITS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_folds_accents_and_case() {
        assert_eq!(normalize("Carta d'Identità"), "carta d identita");
        assert_eq!(words("  a  IMU, tàri "), vec!["imu".to_owned(), "tari".to_owned()]);
    }
}
