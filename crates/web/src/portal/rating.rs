//! The page rating component (criteria C.SI.2.5, C.SI.2.6; DECISIONS 30)
//! and its form handler.
//!
//! Without JavaScript the component is a plain form posted to
//! `/valutazioni`; CSS `:has()` shows the negative follow-up for 1–3 stars
//! and the positive one for 4–5. A good submission answers 303 back to the
//! page with `?valutazione=grazie#feedback`; a refused one re-renders the
//! page with an Italian message and the user's input (422, or 429 when
//! rate-limited). Anti-flood: a signed ticket (see [`super::ticket`]), a
//! honeypot field that people never see, and the per-client rate limit of
//! `App::submit_rating` (the client key is an HMAC of the peer address —
//! of its /64 prefix for IPv6 — kept in memory only by the service).
//!
//! Both this form and `POST /api/v1/valutazioni` accept a rating only for a
//! page of the tenant that exists and carries the component, and store it
//! under the page's canonical path ([`rated_page`]). The values (stars,
//! answer, comment) are checked by the service alone.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use palazzo_services::ratings::{MAX_COMMENT_CHARS, RatingInput};
use palazzo_services::{PortalSnapshot, ServiceError};
use palazzo_store::TenantId;
use serde::Deserialize;
use sha2::Sha256;

use super::pages::Page;
use super::ticket::{self, TicketError};
use super::vocabulary::{
    RATING_NEGATIVE_ANSWERS, RATING_NEGATIVE_QUESTION, RATING_POSITIVE_ANSWERS,
    RATING_POSITIVE_QUESTION, RATING_TITLE,
};
use super::{PortalCtx, RenderOptions};
use crate::AppState;
use crate::error::WebError;

/// What the rating component shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatingState {
    /// The empty form.
    Form,
    /// The thank-you message after a rating was stored.
    Thanks,
    /// The form again, with an error and what the user had chosen.
    Refused {
        /// Italian message.
        message: String,
        /// Stars chosen.
        stars: Option<u8>,
        /// Follow-up answer chosen (1-based, in the fieldset of `stars`).
        answer: Option<u8>,
        /// Comment typed.
        comment: String,
    },
}

/// The view model of the component.
#[derive(Debug, Clone)]
pub struct RatingBox {
    /// Path of the rated page.
    pub page: String,
    /// Signed form ticket.
    pub ticket: String,
    /// What to show.
    pub state: RatingState,
    /// The end-of-service variant (C.SE.1.7) instead of the page one
    /// (C.SI.2.5): same mechanics, its own question.
    pub service: bool,
}

/// One radio of the component.
#[derive(Debug, Clone)]
pub struct Choice {
    /// Submitted value.
    pub value: u8,
    /// Label (answers only).
    pub label: &'static str,
    /// Pre-checked (after a refused submission).
    pub checked: bool,
}

impl RatingBox {
    /// The question: the exact text of C.SI.2.5, or of C.SE.1.7 at the end
    /// of an online service.
    pub fn title(&self) -> &'static str {
        if self.service {
            "Quanto è stato facile usare questo servizio?"
        } else {
            RATING_TITLE
        }
    }

    /// The visually hidden legend of the stars.
    pub fn stars_legend(&self) -> &'static str {
        if self.service {
            "Valuta da 1 a 5 stelle quanto è stato facile usare questo servizio"
        } else {
            "Valuta da 1 a 5 stelle la chiarezza delle informazioni"
        }
    }

    /// The negative follow-up question.
    pub fn negative_question(&self) -> &'static str {
        RATING_NEGATIVE_QUESTION
    }

    /// The positive follow-up question.
    pub fn positive_question(&self) -> &'static str {
        RATING_POSITIVE_QUESTION
    }

    /// Whether to show the thank-you message.
    pub fn is_thanks(&self) -> bool {
        self.state == RatingState::Thanks
    }

    /// The error message, if the last submission was refused.
    pub fn error(&self) -> Option<&str> {
        match &self.state {
            RatingState::Refused { message, .. } => Some(message),
            _ => None,
        }
    }

    fn chosen(&self) -> (Option<u8>, Option<u8>) {
        match &self.state {
            RatingState::Refused { stars, answer, .. } => (*stars, *answer),
            _ => (None, None),
        }
    }

    /// The five stars in document order (5 → 1: Bootstrap Italia floats
    /// them right, so they read 1 → 5 on screen and the CSS `~` selector
    /// fills the stars below the chosen one).
    pub fn stars(&self) -> [Choice; 5] {
        let (stars, _) = self.chosen();
        [5, 4, 3, 2, 1].map(|value| Choice {
            value,
            label: "",
            checked: stars == Some(value),
        })
    }

    fn answers(&self, labels: [&'static str; 5], negative: bool) -> Vec<Choice> {
        let (stars, answer) = self.chosen();
        let side = stars.map(|s| s <= 3);
        labels
            .iter()
            .zip(1u8..)
            .map(|(label, value)| Choice {
                value,
                label,
                checked: side == Some(negative) && answer == Some(value),
            })
            .collect()
    }

    /// Answers of the negative fieldset.
    pub fn negative_answers(&self) -> Vec<Choice> {
        self.answers(RATING_NEGATIVE_ANSWERS, true)
    }

    /// Answers of the positive fieldset.
    pub fn positive_answers(&self) -> Vec<Choice> {
        self.answers(RATING_POSITIVE_ANSWERS, false)
    }

    /// The comment to put back in the field.
    pub fn comment(&self) -> &str {
        match &self.state {
            RatingState::Refused { comment, .. } => comment,
            _ => "",
        }
    }
}

/// The posted form. Every field is text so that a malformed value becomes a
/// clear Italian message instead of a generic rejection.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RatingForm {
    /// Rated page path.
    #[serde(default)]
    pub page: String,
    /// Signed ticket.
    #[serde(default)]
    pub ticket: String,
    /// 1–5.
    #[serde(default)]
    pub stars: Option<String>,
    /// Answer to the negative question, 1–5.
    #[serde(default)]
    pub answer_negative: Option<String>,
    /// Answer to the positive question, 1–5.
    #[serde(default)]
    pub answer_positive: Option<String>,
    /// Free text.
    #[serde(default)]
    pub comment: Option<String>,
    /// Honeypot: hidden from people, filled in by naive bots.
    #[serde(default)]
    pub sito_web: Option<String>,
}

/// Why a submitted form is refused before reaching the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Stable code.
    pub code: &'static str,
    /// Italian message.
    pub message: &'static str,
}

const fn refusal(code: &'static str, message: &'static str) -> Refusal {
    Refusal { code, message }
}

fn small_int(v: Option<&str>) -> Result<Option<u8>, ()> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse::<u8>().map(Some).map_err(|_| ()),
    }
}

/// The page a rating is for: a page of this tenant that exists and carries
/// the rating component (DECISIONS 30), under any spelling that
/// [`Page::parse`] accepts. Store [`Page::path`], its canonical path.
pub fn rated_page(snap: &PortalSnapshot, path: &str) -> Option<Page> {
    Page::parse(path).filter(|p| p.has_rating() && p.exists_in(snap))
}

/// The error for a rating of a page that [`rated_page`] does not know.
pub fn unknown_page() -> WebError {
    WebError::unprocessable(
        "rating_page_unknown",
        "La pagina valutata non esiste su questo sito o non prevede la valutazione.",
    )
}

/// Checks what is specific to the form (honeypot, ticket) and turns its
/// text fields into the service input. The values themselves (stars,
/// answer, comment) are checked by the service
/// (`palazzo_services::ratings::parse`) and only there: a field that is not
/// a number becomes 0, which the service refuses with its own message.
/// `page` is the canonical path of a page that carries the component.
pub fn parse_form(
    form: &RatingForm,
    page: &str,
    secret: &[u8; 32],
    tenant: TenantId,
    now_unix: u64,
) -> Result<RatingInput, Refusal> {
    if form
        .sito_web
        .as_deref()
        .is_some_and(|v| !v.trim().is_empty())
    {
        return Err(refusal(
            "rating_rejected",
            "La valutazione non è stata accettata.",
        ));
    }
    match ticket::verify(secret, tenant, page, &form.ticket, now_unix) {
        Ok(()) => {}
        Err(TicketError::Expired) => {
            return Err(refusal(
                "rating_ticket_expired",
                "Il modulo è scaduto perché la pagina è aperta da troppo tempo: ricarica la pagina e invia di nuovo la valutazione.",
            ));
        }
        Err(TicketError::Malformed | TicketError::BadSignature) => {
            return Err(refusal(
                "rating_ticket_invalid",
                "Il modulo non è valido: ricarica la pagina e invia di nuovo la valutazione.",
            ));
        }
    }
    let stars = small_int(form.stars.as_deref()).ok().flatten().unwrap_or(0);
    // The follow-up question shown depends on the stars (CSS `:has()`):
    // each side has its own radio group.
    let answer_field = if stars <= 3 {
        &form.answer_negative
    } else {
        &form.answer_positive
    };
    let answer = small_int(answer_field.as_deref()).unwrap_or(Some(0));
    Ok(RatingInput {
        page: page.to_owned(),
        stars,
        answer,
        comment: form.comment.clone(),
    })
}

/// The opaque rate-limit key of a client: HMAC of its address with the
/// server secret, so the service never sees (or stores) the address.
///
/// An IPv6 client is keyed by its /64 prefix: that is what one subscriber
/// (one home, one phone) gets, and the interface half is free for it to
/// change at will (privacy addresses), so keying the full address would let
/// one client count as 2⁶⁴. IPv4-mapped IPv6 addresses (a dual-stack
/// listener) count as the IPv4 address they carry.
pub fn client_key(secret: &[u8; 32], ip: Option<IpAddr>) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return "unknown".to_owned();
    };
    mac.update(b"palazzo-client-v2\0");
    match ip.as_ref().map(IpAddr::to_canonical) {
        Some(IpAddr::V4(v4)) => {
            mac.update(b"v4\0");
            mac.update(&v4.octets());
        }
        Some(IpAddr::V6(v6)) => {
            mac.update(b"v6/64\0");
            mac.update(&v6.octets()[..8]);
        }
        None => mac.update(b"unknown"),
    }
    let tag = mac.finalize().into_bytes();
    tag.iter()
        .take(16)
        .fold(String::with_capacity(32), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The client address for rate limiting: the peer, or — behind a TLS
/// proxy on a loopback/private address — the last `X-Forwarded-For` hop,
/// which the proxy itself appended.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, behind_tls: bool) -> Option<IpAddr> {
    let from_proxy = peer.is_some_and(|ip| match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    });
    if behind_tls && from_proxy {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
            .next_back();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer
}

/// The peer address, when the server was started with connect info.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Handles `POST /valutazioni` (the no-JavaScript form).
pub async fn submit(
    State(state): State<AppState>,
    ctx: PortalCtx,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    form: Result<Form<RatingForm>, FormRejection>,
) -> Result<Response, WebError> {
    let form = match form {
        Ok(Form(f)) => f,
        Err(rejection) => {
            tracing::debug!(%rejection, "rating form rejected");
            return Err(WebError::body_rejected(
                rejection.status(),
                "rating_form",
                "Il modulo inviato non è valido.",
            ));
        }
    };
    // Only pages of this tenant that carry the component, stored under
    // their canonical path (so `/servizi/` and `/servizi` are one page).
    let Some(page) = rated_page(&ctx.snap, &form.page) else {
        tracing::info!(code = "rating_page_unknown", "rating refused");
        return Err(unknown_page());
    };
    let path = page.path();
    let cfg = state.config();
    let refused = |status: StatusCode, message: String| {
        // What the user chose, to put back in the form (display only).
        let stars = small_int(form.stars.as_deref())
            .ok()
            .flatten()
            .filter(|s| (1..=5).contains(s));
        let answer_field = if stars.is_some_and(|s| s >= 4) {
            &form.answer_positive
        } else {
            &form.answer_negative
        };
        let answer = small_int(answer_field.as_deref()).ok().flatten();
        let comment: String = form
            .comment
            .as_deref()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
            .take(MAX_COMMENT_CHARS)
            .collect();
        let state = RatingState::Refused {
            message,
            stars,
            answer,
            comment,
        };
        ctx.render_response(
            &page,
            RenderOptions {
                rating: Some(state),
                ..RenderOptions::default()
            },
            status,
        )
    };
    let input = match parse_form(&form, &path, &cfg.secret, ctx.tenant.id, ticket::now_unix()) {
        Ok(input) => input,
        Err(r) => {
            tracing::info!(code = r.code, "rating refused");
            return refused(StatusCode::UNPROCESSABLE_ENTITY, r.message.to_owned());
        }
    };
    let key = client_key(&cfg.secret, client_ip(peer, &headers, cfg.behind_tls));
    match state.app().submit_rating(ctx.tenant.id, &key, input).await {
        Ok(()) => {
            let location = format!("{path}?valutazione=grazie#feedback");
            let mut res = StatusCode::SEE_OTHER.into_response();
            res.headers_mut().insert(
                header::LOCATION,
                HeaderValue::from_str(&location).map_err(|e| WebError::Internal(e.to_string()))?,
            );
            Ok(res)
        }
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::RateLimited)) => {
            tracing::info!(code = e.code(), "rating refused");
            let status = if matches!(e, ServiceError::RateLimited) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            refused(status, e.message_it())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use palazzo_services::ratings;

    use super::*;
    use crate::tests::fixture;

    const KEY: [u8; 32] = [3; 32];
    const T: TenantId = TenantId(9);
    const NOW: u64 = 1_790_000_000;

    fn form(stars: &str) -> RatingForm {
        RatingForm {
            page: "/servizi".into(),
            ticket: ticket::issue(&KEY, T, "/servizi", NOW),
            stars: Some(stars.into()),
            answer_negative: Some("2".into()),
            answer_positive: Some("4".into()),
            comment: Some("  ok  ".into()),
            sito_web: Some(String::new()),
        }
    }

    /// The form through the web checks and then the service's.
    fn code_of(f: &RatingForm, now: u64) -> &'static str {
        match parse_form(f, "/servizi", &KEY, T, now) {
            Err(r) => r.code,
            Ok(input) => ratings::parse(input, jiff::civil::date(2026, 11, 26))
                .map_or_else(|e| e.code(), |_| "ok"),
        }
    }

    #[test]
    fn good_form_picks_the_answer_of_its_side() {
        let low = parse_form(&form("2"), "/servizi", &KEY, T, NOW).unwrap();
        assert_eq!(
            (low.page.as_str(), low.stars, low.answer),
            ("/servizi", 2, Some(2))
        );
        let high = parse_form(&form("5"), "/servizi", &KEY, T, NOW).unwrap();
        assert_eq!((high.stars, high.answer), (5, Some(4)));
        let stored = ratings::parse(low, jiff::civil::date(2026, 11, 26)).unwrap();
        assert_eq!(stored.comment.as_deref(), Some("ok"));
    }

    #[test]
    fn honeypot_and_ticket_are_checked_here_values_by_the_service() {
        let mut f = form("4");
        f.sito_web = Some("http://spam.example".into());
        assert_eq!(code_of(&f, NOW), "rating_rejected");

        let mut f = form("4");
        f.ticket = ticket::issue(&KEY, T, "/novita", NOW);
        assert_eq!(code_of(&f, NOW), "rating_ticket_invalid");
        assert_eq!(
            code_of(&form("4"), NOW + 3 * ticket::BUCKET_SECS),
            "rating_ticket_expired"
        );

        for bad in ["0", "6", "", "tre", "300"] {
            assert_eq!(code_of(&form(bad), NOW), "rating_stars", "{bad}");
        }
        for bad in ["9", "0", "uno"] {
            let mut f = form("1");
            f.answer_negative = Some(bad.into());
            assert_eq!(code_of(&f, NOW), "rating_answer", "{bad}");
        }
        let mut f = form("1");
        f.comment = Some("x".repeat(201));
        assert_eq!(code_of(&f, NOW), "rating_comment_length");
        let mut f = form("1");
        f.comment = Some("ciao\0".into());
        assert_eq!(code_of(&f, NOW), "rating_comment_characters");
        assert_eq!(code_of(&form("3"), NOW), "ok");
    }

    #[test]
    fn only_existing_pages_with_the_component_are_rated_by_canonical_path() {
        let snap = fixture::snapshot();
        let s = &snap.services[0];
        let card = format!("/servizi/{}/{}", s.data.category.slug(), s.data.slug);
        let office = format!("/amministrazione/uffici/{}", snap.offices[0].data.slug);
        for (path, canonical) in [
            ("/", "/"),
            ("/servizi", "/servizi"),
            ("/servizi/", "/servizi"),
            ("/servizi/ambiente", "/servizi/ambiente"),
            ("/novita/avvisi/", "/novita/avvisi"),
            ("/amministrazione", "/amministrazione"),
            ("/domande-frequenti", "/domande-frequenti"),
            (&card, &card),
            (&format!("{card}/"), &card),
        ] {
            assert_eq!(
                rated_page(&snap, path).map(|p| p.path()).as_deref(),
                Some(canonical),
                "{path}"
            );
        }
        let wrong_category = format!(
            "/servizi/{}/{}",
            if s.data.category.slug() == "ambiente" {
                "turismo"
            } else {
                "ambiente"
            },
            s.data.slug
        );
        for path in [
            "/servizi/ambiente/zzz-non-esiste",
            wrong_category.as_str(),
            "/novita/non-esiste",
            "/servizi/non-esiste",
            "/privacy",
            "/cerca",
            "/area-personale",
            "/amministrazione-trasparente",
            office.as_str(),
            "/argomenti/anagrafe",
            "//evil.example",
            "servizi",
            "/servizi?x=1",
            "",
        ] {
            assert!(rated_page(&snap, path).is_none(), "{path}");
        }
    }

    #[test]
    fn client_keys_hide_the_address() {
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let k = client_key(&KEY, Some(ip));
        assert_eq!(k.len(), 32);
        assert!(!k.contains("203"));
        assert_eq!(k, client_key(&KEY, Some(ip)));
        assert_ne!(k, client_key(&[4; 32], Some(ip)));
        assert_ne!(k, client_key(&KEY, "203.0.113.8".parse().ok()));
        assert_ne!(k, client_key(&KEY, None));
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_prefix() {
        let key = |s: &str| client_key(&KEY, Some(s.parse().unwrap()));
        // One /64, any interface identifier: one client.
        assert_eq!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:2:a1b2:c3d4:e5f6:7788")
        );
        assert_eq!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        // Neighbouring /64s are different clients.
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        // IPv4-mapped addresses are the IPv4 client, not one big /64.
        assert_eq!(key("::ffff:203.0.113.7"), key("203.0.113.7"));
        assert_ne!(key("::ffff:203.0.113.7"), key("::ffff:198.51.100.1"));
    }

    #[test]
    fn forwarded_for_is_trusted_only_from_a_local_proxy_behind_tls() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 198.51.100.4"),
        );
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let public: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(
            client_ip(Some(proxy), &h, true),
            "198.51.100.4".parse().ok()
        );
        assert_eq!(client_ip(Some(proxy), &h, false), Some(proxy));
        assert_eq!(client_ip(Some(public), &h, true), Some(public));
    }
}
