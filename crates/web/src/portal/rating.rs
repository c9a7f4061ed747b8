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
//! `App::submit_rating` (the client key is an HMAC of the peer address, kept
//! in memory only by the service).

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use palazzo_services::ServiceError;
use palazzo_services::ratings::{MAX_COMMENT_CHARS, RatingInput};
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
    /// The question (exact text of C.SI.2.5).
    pub fn title(&self) -> &'static str {
        RATING_TITLE
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
        [5, 4, 3, 2, 1].map(|value| Choice { value, label: "", checked: stars == Some(value) })
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

/// Checks the form (honeypot, ticket, values) and builds the service input.
/// `page` must already be known to carry the component.
pub fn parse_form(
    form: &RatingForm,
    secret: &[u8; 32],
    tenant: TenantId,
    now_unix: u64,
) -> Result<RatingInput, Refusal> {
    if form.sito_web.as_deref().is_some_and(|v| !v.trim().is_empty()) {
        return Err(refusal("rating_rejected", "La valutazione non è stata accettata."));
    }
    match ticket::verify(secret, tenant, &form.page, &form.ticket, now_unix) {
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
    let stars = match small_int(form.stars.as_deref()) {
        Ok(Some(s)) if (1..=5).contains(&s) => s,
        _ => return Err(refusal("rating_stars", "Scegli un punteggio da 1 a 5 stelle.")),
    };
    let answer_field = if stars <= 3 { &form.answer_negative } else { &form.answer_positive };
    let answer = match small_int(answer_field.as_deref()) {
        Ok(a) if a.is_none_or(|a| (1..=5).contains(&a)) => a,
        _ => return Err(refusal("rating_answer", "La risposta scelta non è valida.")),
    };
    let comment = form.comment.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned);
    if comment.as_ref().is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
        return Err(refusal(
            "rating_comment_length",
            "Il commento può contenere al massimo 200 caratteri.",
        ));
    }
    Ok(RatingInput { page: form.page.clone(), stars, answer, comment })
}

/// The opaque rate-limit key of a client: HMAC of its address with the
/// server secret, so the service never sees (or stores) the address.
pub fn client_key(secret: &[u8; 32], ip: Option<IpAddr>) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return "unknown".to_owned() };
    mac.update(b"palazzo-client-v1\0");
    match ip {
        Some(ip) => mac.update(ip.to_string().as_bytes()),
        None => mac.update(b"unknown"),
    }
    let tag = mac.finalize().into_bytes();
    tag.iter().take(16).fold(String::with_capacity(32), |mut s, b| {
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
        Ok(PeerAddr(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
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
            return Err(WebError::body_rejected(rejection.status(), "rating_form", "Il modulo inviato non è valido."));
        }
    };
    let page = Page::parse(&form.page).filter(Page::has_rating).ok_or_else(|| {
        WebError::unprocessable("rating_page", "La pagina valutata non è valida.")
    })?;
    let cfg = state.config();
    let refused = |status: StatusCode, message: String| {
        let stars = small_int(form.stars.as_deref()).ok().flatten().filter(|s| (1..=5).contains(s));
        let answer_field = if stars.is_some_and(|s| s >= 4) { &form.answer_positive } else { &form.answer_negative };
        let answer = small_int(answer_field.as_deref()).ok().flatten();
        let comment: String = form.comment.clone().unwrap_or_default().chars().take(MAX_COMMENT_CHARS).collect();
        let state = RatingState::Refused { message, stars, answer, comment };
        ctx.render_response(&page, RenderOptions { rating: Some(state), ..RenderOptions::default() }, status)
    };
    let input = match parse_form(&form, &cfg.secret, ctx.tenant.id, ticket::now_unix()) {
        Ok(input) => input,
        Err(r) => {
            tracing::info!(code = r.code, "rating refused");
            return refused(StatusCode::UNPROCESSABLE_ENTITY, r.message.to_owned());
        }
    };
    let key = client_key(&cfg.secret, client_ip(peer, &headers, cfg.behind_tls));
    match state.app().submit_rating(ctx.tenant.id, &key, input).await {
        Ok(()) => {
            let location = format!("{}?valutazione=grazie#feedback", page.path());
            let mut res = StatusCode::SEE_OTHER.into_response();
            res.headers_mut().insert(
                header::LOCATION,
                HeaderValue::from_str(&location).map_err(|e| WebError::Internal(e.to_string()))?,
            );
            Ok(res)
        }
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::RateLimited)) => {
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
    use super::*;

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

    #[test]
    fn good_form_picks_the_answer_of_its_side() {
        let low = parse_form(&form("2"), &KEY, T, NOW).unwrap();
        assert_eq!((low.stars, low.answer, low.comment.as_deref()), (2, Some(2), Some("ok")));
        let high = parse_form(&form("5"), &KEY, T, NOW).unwrap();
        assert_eq!((high.stars, high.answer), (5, Some(4)));
    }

    #[test]
    fn honeypot_ticket_and_values_are_checked() {
        let mut f = form("4");
        f.sito_web = Some("http://spam.example".into());
        assert_eq!(parse_form(&f, &KEY, T, NOW).unwrap_err().code, "rating_rejected");

        let mut f = form("4");
        f.ticket = ticket::issue(&KEY, T, "/novita", NOW);
        assert_eq!(parse_form(&f, &KEY, T, NOW).unwrap_err().code, "rating_ticket_invalid");
        assert_eq!(
            parse_form(&form("4"), &KEY, T, NOW + 3 * ticket::BUCKET_SECS).unwrap_err().code,
            "rating_ticket_expired"
        );

        for bad in ["0", "6", "", "tre"] {
            assert_eq!(parse_form(&form(bad), &KEY, T, NOW).unwrap_err().code, "rating_stars", "{bad}");
        }
        let mut f = form("1");
        f.answer_negative = Some("9".into());
        assert_eq!(parse_form(&f, &KEY, T, NOW).unwrap_err().code, "rating_answer");
        let mut f = form("1");
        f.comment = Some("x".repeat(201));
        assert_eq!(parse_form(&f, &KEY, T, NOW).unwrap_err().code, "rating_comment_length");
    }

    #[test]
    fn client_keys_hide_the_address() {
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let k = client_key(&KEY, Some(ip));
        assert_eq!(k.len(), 32);
        assert!(!k.contains("203"));
        assert_eq!(k, client_key(&KEY, Some(ip)));
        assert_ne!(k, client_key(&[4; 32], Some(ip)));
    }

    #[test]
    fn forwarded_for_is_trusted_only_from_a_local_proxy_behind_tls() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("1.1.1.1, 198.51.100.4"));
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let public: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(client_ip(Some(proxy), &h, true), "198.51.100.4".parse().ok());
        assert_eq!(client_ip(Some(proxy), &h, false), Some(proxy));
        assert_eq!(client_ip(Some(public), &h, true), Some(public));
    }
}
