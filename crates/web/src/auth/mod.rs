//! Sign-in, sessions and CSRF (issue 3).
//!
//! * [`sessions`] (middleware) reads the session cookie, loads the
//!   server-side session and the acting principal, and puts an [`Auth`] in
//!   the request extensions. It wraps the sign-in, personal-area and
//!   back-office routes only (portal pages, the open API and static files
//!   read no session). Handlers take `Extension<Auth>`; permissions are
//!   checked in `services`, never only in templates.
//! * The same middleware enforces the CSRF token on every state-changing
//!   request outside `/api/` (whose JSON bodies need a CORS preflight we never
//!   grant) and `/valutazioni` (anonymous, cached pages; protected by its
//!   signed ticket and the Origin check). The token is the session's
//!   synchronizer token, or for visitors without a session a random value in
//!   a `SameSite=Strict` cookie that the form must echo (double submit). It
//!   is read from the `csrf` field of a urlencoded form or the
//!   `X-CSRF-Token` header.
//! * Cookies: `__Host-palazzo` (`Secure`, `HttpOnly`, `SameSite=Lax`,
//!   `Path=/`, host-only) when the service is reached over HTTPS; plain HTTP
//!   (development and tests) drops the `__Host-` prefix and `Secure`, which
//!   browsers would refuse there.

pub mod federation;
pub mod pages;
pub mod staff;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use palazzo_services::access::{Actor, Session, SessionData};
use rand::RngCore as _;

use crate::AppState;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;

/// Name of the anonymous CSRF cookie.
pub const ANON_CSRF_COOKIE: &str = "palazzo_csrf";

/// The authentication state of a request.
#[derive(Clone)]
pub struct Auth {
    /// The live session, if the cookie named one.
    pub session: Option<Session>,
    /// Who is acting.
    pub actor: Actor,
    csrf: String,
    anon_csrf_used: Arc<AtomicBool>,
    anon_csrf_present: bool,
}

impl Auth {
    /// The CSRF token to put in a form's hidden `csrf` field.
    pub fn csrf(&self) -> &str {
        if self.session.is_none() && !self.anon_csrf_present {
            self.anon_csrf_used.store(true, Ordering::Relaxed);
        }
        &self.csrf
    }

    /// Is someone signed in?
    pub fn signed_in(&self) -> bool {
        self.actor.user.is_some() || self.actor.admin.is_some()
    }
}

/// The session cookie name for this installation.
pub fn session_cookie_name(state: &AppState) -> &'static str {
    if state.config().behind_tls {
        "__Host-palazzo"
    } else {
        "palazzo"
    }
}

/// `Set-Cookie` for a new session token.
pub fn session_cookie(state: &AppState, token: &str) -> HeaderValue {
    let secure = if state.config().behind_tls {
        "; Secure"
    } else {
        ""
    };
    let v = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{secure}",
        session_cookie_name(state)
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that deletes the session cookie.
pub fn clear_session_cookie(state: &AppState) -> HeaderValue {
    let secure = if state.config().behind_tls {
        "; Secure"
    } else {
        ""
    };
    let v = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        session_cookie_name(state)
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The value of cookie `name` in the request headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn random_token() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

/// The SPID/CIE sign-in buttons this installation offers (one per kind,
/// with each configured provider). Empty until the federation is configured.
pub fn providers(state: &AppState) -> Vec<federation::Button> {
    federation::buttons(state)
}

/// Sets (or removes) one key of the session's `pending` object: each flow
/// (SPID/CIE sign-in, staff sign-in, what logout needs) keeps its own key.
pub(crate) fn set_pending(data: &mut SessionData, key: &str, value: Option<serde_json::Value>) {
    let mut map = match data.pending.take() {
        Some(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    match value {
        Some(v) => {
            map.insert(key.to_owned(), v);
        }
        None => {
            map.remove(key);
        }
    }
    data.pending = (!map.is_empty()).then_some(serde_json::Value::Object(map));
}

/// Reads one key of the session's `pending` object.
pub(crate) fn get_pending<T: for<'de> serde::Deserialize<'de>>(
    data: &SessionData,
    key: &str,
) -> Option<T> {
    let v = data.pending.as_ref()?.get(key)?;
    serde_json::from_value(v.clone()).ok()
}

/// Paths whose writes do not carry our CSRF token (see the module docs).
fn csrf_exempt(path: &str) -> bool {
    path.starts_with("/api/") || path == "/valutazioni"
}

/// Constant-time string equality.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The middleware (see the module docs).
pub async fn sessions(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match run(state, req, next).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run(state: AppState, mut req: Request, next: Next) -> Result<Response, WebError> {
    let tenant = req.extensions().get::<CurrentTenant>().cloned();
    let headers = req.headers();
    let mut session = None;
    if let (Some(CurrentTenant(t)), Some(token)) =
        (&tenant, cookie(headers, session_cookie_name(&state)))
    {
        session = state.app().load_session(t.id, token).await?;
    }
    let actor = state.app().actor(session.as_ref()).await?;
    let anon = cookie(headers, ANON_CSRF_COOKIE)
        .filter(|v| v.len() == 43)
        .map(str::to_owned);
    let anon_present = anon.is_some();
    let csrf = match &session {
        Some(s) => s.record.csrf.clone(),
        None => anon.unwrap_or_else(random_token),
    };

    // Pages change state only through POST (the route table test proves no
    // page route accepts PUT, PATCH or DELETE: those get a plain 405).
    if *req.method() == Method::POST && !csrf_exempt(req.uri().path()) {
        let expected = match &session {
            Some(s) => Some(s.record.csrf.as_str()),
            None if anon_present => Some(csrf.as_str()),
            None => None,
        };
        let (given, rebuilt) = csrf_of(req, state.config().max_body_bytes).await?;
        req = rebuilt;
        let ok = matches!((expected, given.as_deref()), (Some(e), Some(g)) if same(e, g));
        if !ok {
            tracing::warn!(
                code = "csrf_invalid",
                has_session = session.is_some(),
                "state-changing request without a valid CSRF token refused"
            );
            return Err(WebError::forbidden(
                "csrf_invalid",
                "Il modulo è scaduto o non proviene da questo sito. Ricarica la pagina e riprova.",
            ));
        }
    }

    let used = Arc::new(AtomicBool::new(false));
    let auth = Auth {
        session,
        actor,
        csrf: csrf.clone(),
        anon_csrf_used: used.clone(),
        anon_csrf_present: anon_present,
    };
    req.extensions_mut().insert(auth);
    let mut res = next.run(req).await;
    if used.load(Ordering::Relaxed) {
        let secure = if state.config().behind_tls {
            "; Secure"
        } else {
            ""
        };
        let v = format!("{ANON_CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict{secure}");
        if let Ok(v) = HeaderValue::from_str(&v) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(res)
}

/// Reads the CSRF token of a request: the `X-CSRF-Token` header, else the
/// `csrf` field of a urlencoded body (buffered, then put back), else for a
/// multipart upload the `csrf` query parameter.
async fn csrf_of(req: Request, limit: usize) -> Result<(Option<String>, Request), WebError> {
    if let Some(h) = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        let h = h.to_owned();
        return Ok((Some(h), req));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("multipart/form-data") {
        // An upload form cannot be buffered here (its body may be far larger
        // than `max_body_bytes`), so it carries the token in its action URL
        // (`?csrf=…`). Query strings are never logged.
        let token = req.uri().query().and_then(|q| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                .ok()?
                .into_iter()
                .find(|(k, _)| k == "csrf")
                .map(|(_, v)| v)
        });
        return Ok((token, req));
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Ok((None, req));
    }
    let (parts, body) = req.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| WebError::PayloadTooLarge)?;
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v));
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("palazzo_csrf=abc; palazzo=tok; x=1"),
        );
        assert_eq!(cookie(&h, "palazzo"), Some("tok"));
        assert_eq!(cookie(&h, "palazzo_csrf"), Some("abc"));
        assert_eq!(cookie(&h, "pal"), None);
    }

    #[test]
    fn constant_time_equality() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }

    #[test]
    fn api_and_ratings_are_exempt() {
        assert!(csrf_exempt("/api/v1/valutazioni"));
        assert!(csrf_exempt("/valutazioni"));
        assert!(!csrf_exempt("/esci"));
        assert!(!csrf_exempt("/area-personale/contatti"));
    }
}
