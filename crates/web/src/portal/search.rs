//! The portal search (`/cerca?q=`): a simple scan of the cached snapshot —
//! service titles and summaries, FAQ questions and answers — with accents
//! folded and every query word required. The text is normalised once per
//! snapshot ([`SearchIndex`], cached per tenant by [`IndexCache`]). A catalogue of a comune holds a few
//! hundred entries, so this is fast; full-text search with Italian stemming
//! (DECISIONS 28) belongs to the store when documents arrive.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};

use palazzo_services::PortalSnapshot;
use palazzo_store::TenantId;

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
    normalize(query)
        .split_whitespace()
        .filter(|w| w.chars().count() >= 2)
        .take(8)
        .map(str::to_owned)
        .collect()
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

/// A snapshot's searchable text, normalised once: a search then only
/// compares strings. Build it with [`SearchIndex::build`], or get the
/// current one of a tenant from an [`IndexCache`].
#[derive(Debug)]
pub struct SearchIndex {
    /// Services then FAQ entries, in snapshot order.
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    /// Rank when every word is in the title (services 0, FAQ 2); one more
    /// when some word is only in the body.
    rank: u8,
    title: String,
    body: String,
    hit: SearchHit,
}

impl SearchIndex {
    /// Normalises the titles and texts of `snap`.
    pub fn build(snap: &PortalSnapshot) -> Self {
        let services = snap.services.iter().map(|s| Entry {
            rank: 0,
            title: normalize(&s.data.title),
            body: normalize(&format!(
                "{} {} {}",
                s.data.summary,
                s.data.topics.join(" "),
                s.data.category.label()
            )),
            hit: SearchHit {
                href: service_href(s),
                title: s.data.title.clone(),
                text: excerpt(&s.data.summary),
                kind: "Servizio",
            },
        });
        let faqs = snap.faqs.iter().map(|f| Entry {
            rank: 2,
            title: normalize(&f.data.question),
            body: normalize(&f.data.answer),
            hit: SearchHit {
                href: format!("/domande-frequenti#faq-{}", f.id),
                title: f.data.question.clone(),
                text: excerpt(&f.data.answer),
                kind: "Domanda frequente",
            },
        });
        SearchIndex {
            entries: services.chain(faqs).collect(),
        }
    }

    /// Services then FAQ entries matching every word; title matches first.
    pub fn search(&self, query: &str) -> Vec<SearchHit> {
        let words = words(query);
        if words.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(u8, &SearchHit)> = self
            .entries
            .iter()
            .filter(|e| {
                words
                    .iter()
                    .all(|w| e.title.contains(w.as_str()) || e.body.contains(w.as_str()))
            })
            .map(|e| {
                let in_title = words.iter().all(|w| e.title.contains(w.as_str()));
                (if in_title { e.rank } else { e.rank + 1 }, &e.hit)
            })
            .collect();
        scored.sort_by_key(|(rank, _)| *rank);
        scored
            .into_iter()
            .map(|(_, hit)| hit.clone())
            .take(MAX_HITS)
            .collect()
    }
}

/// Services then FAQ entries of `snap` matching every word; title matches
/// first. Normalises the whole snapshot: on a hot path use an
/// [`IndexCache`].
pub fn search(snap: &PortalSnapshot, query: &str) -> Vec<SearchHit> {
    SearchIndex::build(snap).search(query)
}

/// The current [`SearchIndex`] of each tenant, rebuilt when its snapshot
/// changes. The `Weak` makes the pointer comparison safe (the allocation
/// cannot be reused while it lives) without keeping an old snapshot's data.
#[derive(Default)]
pub struct IndexCache {
    map: RwLock<HashMap<TenantId, Indexed>>,
}

/// An index and the snapshot it was built from.
type Indexed = (Weak<PortalSnapshot>, Arc<SearchIndex>);

impl IndexCache {
    /// The index of `snap`, built on first use.
    pub fn get(&self, snap: &Arc<PortalSnapshot>) -> Arc<SearchIndex> {
        let tenant = snap.tenant.id;
        let current = |(weak, index): &Indexed| {
            std::ptr::eq(weak.as_ptr(), Arc::as_ptr(snap)).then(|| index.clone())
        };
        if let Some(index) = self
            .map
            .read()
            .ok()
            .and_then(|m| m.get(&tenant).and_then(current))
        {
            return index;
        }
        // Built outside the lock; two racing requests may both build it.
        let index = Arc::new(SearchIndex::build(snap));
        if let Ok(mut m) = self.map.write() {
            m.insert(tenant, (Arc::downgrade(snap), index.clone()));
        }
        index
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::tests::fixture;

    #[test]
    fn index_finds_services_then_faq_title_matches_first() {
        let snap = fixture::snapshot();
        let index = SearchIndex::build(&snap);
        let title = &snap.services[3].data.title;
        let hits = index.search(title);
        assert_eq!(hits.first().map(|h| h.title.as_str()), Some(title.as_str()));
        assert_eq!(hits[0].kind, "Servizio");
        let question = &snap.faqs[0].data.question;
        let hits = index.search(&question.to_uppercase());
        assert!(
            hits.iter()
                .any(|h| h.title == *question && h.kind == "Domanda frequente")
        );
        let ranks: Vec<bool> = hits.iter().map(|h| h.kind == "Servizio").collect();
        assert!(
            ranks.windows(2).all(|w| w[0] >= w[1]),
            "services before FAQ"
        );
        assert!(index.search("zzqqxx").is_empty());
        assert!(index.search(" a ").is_empty());
    }

    #[test]
    fn index_cache_builds_once_per_snapshot() {
        let cache = IndexCache::default();
        let a = Arc::new(fixture::snapshot());
        let first = cache.get(&a);
        assert!(Arc::ptr_eq(&first, &cache.get(&a)));
        let mut changed = fixture::snapshot();
        changed.services[3].data.title = "Rilascio pergamene".into();
        let b = Arc::new(changed);
        let second = cache.get(&b);
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(second.search("pergamene").len(), 1);
        assert!(first.search("pergamene").is_empty());
    }

    #[test]
    fn normalization_folds_accents_and_case() {
        assert_eq!(normalize("Carta d'Identità"), "carta d identita");
        assert_eq!(
            words("  a  IMU, tàri "),
            vec!["imu".to_owned(), "tari".to_owned()]
        );
    }
}
