//! Anonymous page ratings (criteria C.SI.2.5, C.SI.2.6, C.SE.1.7).
//!
//! No personal data is stored: only the page, the stars, the chosen answer,
//! an optional short comment and the civil day. Flooding is limited per
//! client key (an opaque value the web layer derives from the connection; it
//! is kept in memory only, for at most two windows) and per page, over an
//! approximate sliding window with a hard cap on the keys it tracks.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use palazzo_domain::calendar;
use palazzo_store::{NewRating, Store, StoreTx, TenantId};

use crate::{App, ServiceError, ServiceResult};

/// Longest comment accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 200;
/// Ratings one client may send in any [`WINDOW`] (sliding, approximated).
pub const PER_CLIENT: u32 = 10;
/// Ratings one page of one tenant may receive in [`WINDOW`] from everyone.
pub const PER_PAGE: u32 = 600;
/// Length of the rate window.
pub const WINDOW: Duration = Duration::from_secs(600);

/// A rating as submitted.
#[derive(Debug, Clone)]
pub struct RatingInput {
    /// Path of the rated page.
    pub page: String,
    /// Stars, 1–5.
    pub stars: u8,
    /// Follow-up answer index, 1–5.
    pub answer: Option<u8>,
    /// Free text.
    pub comment: Option<String>,
}

/// Most client keys tracked per generation of the limiter (see [`Limiter`]).
pub const MAX_CLIENT_KEYS: usize = 100_000;
/// Most page keys tracked per generation of the limiter.
pub const MAX_PAGE_KEYS: usize = 20_000;

/// Flood protection: a per-client and a per-page [`Window`].
pub(crate) struct Limiter {
    clients: Window,
    pages: Window,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter::with_caps(MAX_CLIENT_KEYS, MAX_PAGE_KEYS)
    }
}

impl Limiter {
    fn with_caps(clients: usize, pages: usize) -> Self {
        Limiter {
            clients: Window::new(clients),
            pages: Window::new(pages),
        }
    }
}

/// Approximate sliding-window counter over two generations of counts.
///
/// Counts of the current [`WINDOW`] go to `current`; when it ends,
/// `current` becomes `previous` (and the older generation is dropped in
/// one go, outside the lock). A key is allowed while
/// `previous × (unexpired share of the window) + current < limit`, which
/// follows a true sliding window closely without storing timestamps.
///
/// Every call does O(1) work under the mutex: nothing is ever rescanned.
/// At most `cap` keys are tracked per generation; when the current one is
/// full, hits of keys not yet in it are refused until the window turns
/// (degrading to "try later" for new clients under a flood instead of
/// burning CPU or memory).
pub(crate) struct Window {
    cap: usize,
    gens: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    /// Start of the current generation (`None` before the first hit).
    start: Option<Instant>,
    current: HashMap<String, u32>,
    previous: HashMap<String, u32>,
}

impl Window {
    pub(crate) fn new(cap: usize) -> Self {
        Window {
            cap,
            gens: Mutex::new(Generations::default()),
        }
    }

    /// Counts one hit on `key`; false when the key is at `limit` in the
    /// (sliding) window or when the window is full. Refused hits are not
    /// counted.
    pub(crate) fn hit(&self, key: String, limit: u32, now: Instant) -> bool {
        let Ok(mut g) = self.gens.lock() else {
            return false;
        };
        let start = *g.start.get_or_insert(now);
        let elapsed = now.saturating_duration_since(start);
        // Generations dropped by a rotation, freed after the lock.
        let mut expired = (HashMap::new(), HashMap::new());
        if elapsed >= WINDOW {
            let current = std::mem::take(&mut g.current);
            if elapsed < WINDOW * 2 {
                expired.0 = std::mem::replace(&mut g.previous, current);
                g.start = Some(start + WINDOW);
            } else {
                // A whole window without hits: both generations are stale.
                expired = (current, std::mem::take(&mut g.previous));
                g.start = Some(now);
            }
        }
        let into_window = now.saturating_duration_since(g.start.unwrap_or(now));
        let weight = 1.0 - (into_window.as_secs_f64() / WINDOW.as_secs_f64()).min(1.0);
        let before = f64::from(g.previous.get(&key).copied().unwrap_or(0)) * weight;
        let allowed = if let Some(count) = g.current.get_mut(&key) {
            let ok = before + f64::from(*count) < f64::from(limit);
            if ok {
                *count = count.saturating_add(1);
            }
            ok
        } else if g.current.len() >= self.cap {
            false
        } else {
            let ok = before < f64::from(limit);
            if ok {
                g.current.insert(key, 1);
            }
            ok
        };
        drop(g);
        drop(expired);
        allowed
    }
}

fn invalid(code: &'static str, message: &str) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.to_owned(),
    }
}

/// Parses a submitted rating into what is stored. Every check of the
/// values lives here (the web layer only adds what is specific to its
/// forms: ticket, honeypot, the page being a real page of the tenant).
/// Control characters other than line breaks and tabs are refused in the
/// comment: they have no business in a short text, and PostgreSQL refuses
/// NUL in `text` outright.
pub fn parse(input: RatingInput, today: jiff::civil::Date) -> ServiceResult<NewRating> {
    let page = input.page.trim();
    if !page.starts_with('/') || page.len() > 200 || page.chars().any(char::is_control) {
        return Err(invalid("rating_page", "La pagina valutata non è valida."));
    }
    if !(1..=5).contains(&input.stars) {
        return Err(invalid(
            "rating_stars",
            "Scegli un punteggio da 1 a 5 stelle.",
        ));
    }
    if input.answer.is_some_and(|a| !(1..=5).contains(&a)) {
        return Err(invalid("rating_answer", "La risposta scelta non è valida."));
    }
    let comment = input
        .comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS)
    {
        return Err(invalid(
            "rating_comment_length",
            "Il commento può contenere al massimo 200 caratteri.",
        ));
    }
    if comment.as_ref().is_some_and(|c| {
        c.chars()
            .any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))
    }) {
        return Err(invalid(
            "rating_comment_characters",
            "Il commento contiene caratteri non ammessi: usa solo testo, a capo e tabulazioni.",
        ));
    }
    Ok(NewRating {
        page: page.to_owned(),
        stars: input.stars,
        answer: input.answer,
        comment,
        day: today,
    })
}

impl App {
    /// Stores an anonymous rating, unless the client or the page is flooding.
    ///
    /// `input.page` must be the canonical path of a page of this tenant
    /// that carries the rating component: the portal's address space
    /// belongs to the web layer, which resolves it (with the tenant's
    /// snapshot) before calling this. The per-page limit relies on it to
    /// keep its keys to real pages.
    #[tracing::instrument(skip_all, fields(tenant = tenant.0))]
    pub async fn submit_rating(
        &self,
        tenant: TenantId,
        client_key: &str,
        input: RatingInput,
    ) -> ServiceResult<()> {
        let rating = parse(input, calendar::rome_date(jiff::Timestamp::now()))?;
        let now = Instant::now();
        let limiter = &self.inner.ratings;
        if !limiter
            .clients
            .hit(format!("{}:{client_key}", tenant.0), PER_CLIENT, now)
            || !limiter
                .pages
                .hit(format!("{}:{}", tenant.0, rating.page), PER_PAGE, now)
        {
            tracing::warn!(code = "rate_limited", "rating refused");
            return Err(ServiceError::RateLimited);
        }
        let mut tx = self.db().begin().await?;
        tx.insert_rating(tenant, &rating).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// The reported failure: a NUL in the comment reached PostgreSQL, which
    /// refuses it in `text` ("invalid byte sequence 0x00") and the request
    /// ended in a 500. It is now a coded refusal before any SQL.
    #[tokio::test]
    async fn control_characters_never_reach_postgres() {
        let pg = palazzo_testkit::PgDatabase::create().await;
        let dir = palazzo_testkit::TempDir::new("ratings");
        let db = crate::db::Db::open(&pg.url).await.unwrap();
        let app = App::new(db, crate::keys::KeyStore::new(dir.path().join("keys")))
            .await
            .unwrap();
        crate::demo::seed(&app, 0).await.unwrap();
        let tenant = app.tenants()[0].id;
        let with = |c: &str| RatingInput {
            page: "/servizi".into(),
            stars: 3,
            answer: None,
            comment: Some(c.into()),
        };
        let err = app
            .submit_rating(tenant, "k", with("ciao\0mondo"))
            .await
            .err();
        assert_eq!(err.map(|e| e.code()), Some("rating_comment_characters"));
        app.submit_rating(tenant, "k", with("Più chiaro, grazie 👍\nsecondo rigo"))
            .await
            .unwrap();
        let summaries = app.db().rating_summaries(tenant).await.unwrap();
        assert_eq!(summaries.iter().map(|s| s.by_stars[2]).sum::<u64>(), 1);
        app.db().close().await;
        pg.drop_now().await;
    }

    fn input(stars: u8) -> RatingInput {
        RatingInput {
            page: "/servizi".into(),
            stars,
            answer: Some(2),
            comment: None,
        }
    }

    #[test]
    fn rejects_out_of_range_stars_and_long_comments() {
        let today = jiff::civil::date(2026, 11, 26);
        assert!(parse(input(0), today).is_err());
        assert!(parse(input(6), today).is_err());
        assert_eq!(parse(input(5), today).map(|r| r.stars).ok(), Some(5));
        let mut long = input(3);
        long.comment = Some("a".repeat(201));
        assert_eq!(
            parse(long, today).map_err(|e| e.code()).err(),
            Some("rating_comment_length")
        );
        let mut page = input(3);
        page.page = "http://evil".into();
        assert!(parse(page, today).is_err());
    }

    #[test]
    fn comments_with_control_characters_are_refused() {
        let today = jiff::civil::date(2026, 11, 26);
        let with = |c: &str| {
            let mut i = input(4);
            i.comment = Some(c.to_owned());
            parse(i, today)
        };
        for bad in [
            "a\0b",
            "nul alla fine\0",
            "\u{1b}[31mrosso",
            "bell\u{7}",
            "del\u{7f}",
            "c1\u{85}c1",
            "\u{1}",
        ] {
            assert_eq!(
                with(bad).map_err(|e| e.code()).err(),
                Some("rating_comment_characters"),
                "{bad:?}"
            );
        }
        let ok = with("  Riga uno\r\nriga due\tcon tab  ")
            .ok()
            .and_then(|r| r.comment);
        assert_eq!(ok.as_deref(), Some("Riga uno\r\nriga due\tcon tab"));
        // Accents and emoji are text, not control characters.
        assert!(with("Più chiarezza, grazie 👍").is_ok());
        let err = with("\0").err().map(|e| e.message_it()).unwrap_or_default();
        assert!(err.contains("caratteri non ammessi"), "{err}");
    }

    #[test]
    fn window_counts_per_key_and_slides() {
        let w = Window::new(1000);
        let t0 = Instant::now();
        for _ in 0..PER_CLIENT {
            assert!(w.hit("k".into(), PER_CLIENT, t0));
        }
        assert!(!w.hit("k".into(), PER_CLIENT, t0));
        assert!(w.hit("other".into(), PER_CLIENT, t0));
        // Right after the window turns the previous hits still weigh in
        // full; half a window later half of them are forgotten.
        assert!(!w.hit("k".into(), PER_CLIENT, t0 + WINDOW));
        let half = t0 + WINDOW + WINDOW / 2;
        for _ in 0..PER_CLIENT / 2 {
            assert!(w.hit("k".into(), PER_CLIENT, half));
        }
        assert!(!w.hit("k".into(), PER_CLIENT, half));
        // Two quiet windows later everything is forgotten.
        let later = t0 + WINDOW * 4;
        for _ in 0..PER_CLIENT {
            assert!(w.hit("k".into(), PER_CLIENT, later));
        }
        assert!(!w.hit("k".into(), PER_CLIENT, later));
    }

    #[test]
    fn full_window_refuses_new_keys_without_rescanning_and_recovers() {
        let w = Window::new(3);
        let t0 = Instant::now();
        for k in ["a", "b", "c"] {
            assert!(w.hit(k.into(), 5, t0));
        }
        // Full of fresh keys: a new key is refused (no sweep), known keys
        // keep their own budget.
        assert!(!w.hit("d".into(), 5, t0));
        assert!(w.hit("a".into(), 5, t0));
        assert_eq!(w.gens.lock().map(|g| g.current.len()).unwrap_or(0), 3);
        // Next window: a fresh generation has room again, and the old one
        // still throttles the keys that used it.
        let t1 = t0 + WINDOW;
        assert!(w.hit("d".into(), 5, t1));
        assert!(w.hit("a".into(), 5, t1 + WINDOW / 2));
        // After two windows both generations are gone.
        let t3 = t0 + WINDOW * 4;
        assert!(w.hit("e".into(), 5, t3));
        let (cur, prev) = w
            .gens
            .lock()
            .map(|g| (g.current.len(), g.previous.len()))
            .unwrap_or((9, 9));
        assert_eq!((cur, prev), (1, 0));
    }

    #[test]
    fn limiter_keeps_clients_and_pages_apart() {
        let l = Limiter::with_caps(1, 1);
        let t0 = Instant::now();
        assert!(l.clients.hit("1:c".into(), PER_CLIENT, t0));
        // Clients filling their window do not stop pages.
        assert!(!l.clients.hit("1:d".into(), PER_CLIENT, t0));
        assert!(l.pages.hit("1:/servizi".into(), PER_PAGE, t0));
    }
}
