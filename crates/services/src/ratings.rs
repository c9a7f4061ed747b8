//! Anonymous page ratings (criteria C.SI.2.5, C.SI.2.6, C.SE.1.7).
//!
//! No personal data is stored: only the page, the stars, the chosen answer,
//! an optional short comment and the civil day. Flooding is limited per
//! client key (an opaque value the web layer derives from the connection; it
//! is kept in memory only, for the length of the window) and per page.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use palazzo_domain::calendar;
use palazzo_store::{NewRating, Store, StoreTx, TenantId};

use crate::{App, ServiceError, ServiceResult};

/// Longest comment accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 200;
/// Ratings one client may send in [`WINDOW`].
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

#[derive(Default)]
pub(crate) struct Limiter {
    buckets: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Limiter {
    /// Counts one hit on `key`; false when the key is over `limit` in the window.
    fn hit(&self, key: String, limit: u32, now: Instant) -> bool {
        let Ok(mut map) = self.buckets.lock() else { return false };
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = map.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= limit
    }
}

fn invalid(code: &'static str, message: &str) -> ServiceError {
    ServiceError::Invalid { code, message: message.to_owned() }
}

/// Parses a submitted rating into what is stored.
pub fn parse(input: RatingInput, today: jiff::civil::Date) -> ServiceResult<NewRating> {
    let page = input.page.trim();
    if !page.starts_with('/') || page.len() > 200 || page.chars().any(char::is_control) {
        return Err(invalid("rating_page", "La pagina valutata non è valida."));
    }
    if !(1..=5).contains(&input.stars) {
        return Err(invalid("rating_stars", "Scegli un punteggio da 1 a 5 stelle."));
    }
    if input.answer.is_some_and(|a| !(1..=5).contains(&a)) {
        return Err(invalid("rating_answer", "La risposta scelta non è valida."));
    }
    let comment = input.comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    if comment.as_ref().is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
        return Err(invalid(
            "rating_comment_length",
            "Il commento può contenere al massimo 200 caratteri.",
        ));
    }
    Ok(NewRating { page: page.to_owned(), stars: input.stars, answer: input.answer, comment, day: today })
}

impl App {
    /// Stores an anonymous rating, unless the client or the page is flooding.
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
        if !limiter.hit(format!("c:{}:{client_key}", tenant.0), PER_CLIENT, now)
            || !limiter.hit(format!("p:{}:{}", tenant.0, rating.page), PER_PAGE, now)
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
mod tests {
    use super::*;

    fn input(stars: u8) -> RatingInput {
        RatingInput { page: "/servizi".into(), stars, answer: Some(2), comment: None }
    }

    #[test]
    fn rejects_out_of_range_stars_and_long_comments() {
        let today = jiff::civil::date(2026, 11, 26);
        assert!(parse(input(0), today).is_err());
        assert!(parse(input(6), today).is_err());
        assert_eq!(parse(input(5), today).map(|r| r.stars).ok(), Some(5));
        let mut long = input(3);
        long.comment = Some("a".repeat(201));
        assert_eq!(parse(long, today).map_err(|e| e.code()).err(), Some("rating_comment_length"));
        let mut page = input(3);
        page.page = "http://evil".into();
        assert!(parse(page, today).is_err());
    }

    #[test]
    fn limiter_counts_per_key_and_resets_after_window() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for _ in 0..PER_CLIENT {
            assert!(l.hit("k".into(), PER_CLIENT, t0));
        }
        assert!(!l.hit("k".into(), PER_CLIENT, t0));
        assert!(l.hit("other".into(), PER_CLIENT, t0));
        assert!(l.hit("k".into(), PER_CLIENT, t0 + WINDOW));
    }
}
