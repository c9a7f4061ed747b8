//! Staff sign-in through the comune's own OpenID provider (issue 3, part 2;
//! identity-stack §A.4 (b)): Keycloak, Entra ID, Google Workspace… over
//! generic OpenID Connect, configured per ente in `[staff_oidc.<slug>]`.
//!
//! * `GET /accedi/personale` starts the authorization code flow with PKCE
//!   (S256), `state` and `nonce`. The transaction lives in the server-side
//!   session (`SessionData::pending`), never in the URL or a cookie; a
//!   visitor without a session gets a short-lived anonymous one.
//! * `GET /accedi/personale/callback` consumes the transaction (a second use
//!   of the same callback finds none), checks `state` in constant time and
//!   `iss` (RFC 9207) when present, exchanges the code with the client
//!   secret, validates the ID token (signature with the provider's keys,
//!   `iss`, `aud`/`azp`, `exp`/`iat`, `nonce`), maps the role claim to roles
//!   through the configured table, records the sign-in, replaces the
//!   provider-sourced grants and rotates the session.
//! * Every failure renders an Italian page with a stable code, logs one
//!   `warn` line without tokens, ends the anonymous session and never
//!   answers 5xx (protocol and provider failures are 400, an account without
//!   roles 403, too many attempts 429).
//! * Discovery is cached for an hour; the keys are refetched when a token
//!   names a key we do not know (rotation), at most once a minute.
//! * Signing out of a session opened here goes on to the provider's
//!   `end_session_endpoint` when its discovery document offers one
//!   (DECISIONS 22), see [`provider_logout`].
//!
//! The redirect URI is `<scheme>://<host>/accedi/personale/callback` for the
//! host the visitor used (cookies are host-only, so the callback must come
//! back to the same host): register it at the provider for every host name
//! of the ente.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use palazzo_domain::ids::{CodiceFiscale, Email};
use palazzo_identity::jose::{Claims, JoseError, JwkSet};
use palazzo_identity::oidc::{
    self, ClientAuth, LoginError, OidcClientConfig, ProviderMetadata, StaffAuthRequest,
};
use palazzo_services::access::{SessionData, SignedIn, VerifiedIdentity};
use palazzo_services::staff_oidc::{StaffOidcConfig, StaffSignIn, TokenAuthMethod};
use palazzo_store::Tenant;
use serde::{Deserialize, Serialize};

use super::{Auth, clear_session_cookie, session_cookie};
use crate::AppState;
use crate::error::WebError;
use crate::middleware::request_id::RequestId;
use crate::middleware::tenant::CurrentTenant;
use crate::portal::FullPage;
use crate::portal::rating::{PeerAddr, client_ip, client_key};
use crate::portal::shell::{Crumb, Shell};
use crate::routes::{Access, Routes};

/// Start of the staff sign-in.
pub const START_PATH: &str = "/accedi/personale";
/// The redirect URI path registered at the provider.
pub const CALLBACK_PATH: &str = "/accedi/personale/callback";
/// Key of our sign-in in progress in `SessionData::pending`.
const PENDING_KEY: &str = "staff";

/// The tag of our transaction in `SessionData::pending`.
const FLOW: &str = "staff_oidc";
/// How long a discovery document is trusted.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// Shortest interval between two key refetches of one provider.
const JWKS_MIN_REFRESH: Duration = Duration::from_secs(60);

/// The routes of this module.
pub fn router() -> Routes {
    Routes::new().get(START_PATH, Access::Public, start).get(
        CALLBACK_PATH,
        Access::Public,
        callback,
    )
}

/// The staff providers of the installation, per ente slug, with their cached
/// discovery documents and keys.
pub struct StaffProviders {
    by_slug: BTreeMap<String, Arc<Provider>>,
    http: Option<reqwest::Client>,
}

impl std::fmt::Debug for StaffProviders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffProviders")
            .field("entes", &self.by_slug.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// One ente's provider.
pub struct Provider {
    cfg: StaffOidcConfig,
    cache: Mutex<Option<Discovered>>,
}

#[derive(Clone)]
struct Discovered {
    meta: Arc<ProviderMetadata>,
    jwks: Arc<JwkSet>,
    fetched: Instant,
    jwks_fetched: Instant,
}

impl StaffProviders {
    /// The providers of a configuration.
    pub fn new(cfg: &BTreeMap<String, StaffOidcConfig>) -> Self {
        let http = match palazzo_identity::http::client() {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(
                    code = e.code(),
                    "cannot build the HTTP client of the staff sign-in"
                );
                None
            }
        };
        let by_slug = cfg
            .iter()
            .map(|(slug, c)| {
                let p = Provider {
                    cfg: c.clone(),
                    cache: Mutex::new(None),
                };
                (slug.clone(), Arc::new(p))
            })
            .collect();
        StaffProviders { by_slug, http }
    }

    /// The provider of an ente, if configured.
    pub fn get(&self, tenant: &Tenant) -> Option<&Arc<Provider>> {
        self.by_slug.get(&tenant.data.slug)
    }
}

impl Provider {
    /// Discovery document and keys, from the cache while fresh.
    async fn discovered(&self, http: &reqwest::Client) -> Result<Discovered, LoginError> {
        if let Some(d) = self
            .cached()
            .filter(|d| d.fetched.elapsed() < DISCOVERY_TTL)
        {
            return Ok(d);
        }
        let meta = oidc::discover(http, &self.cfg.issuer).await?;
        let jwks = oidc::fetch_jwks(http, &meta.jwks_uri).await?;
        let now = Instant::now();
        let d = Discovered {
            meta: Arc::new(meta),
            jwks: Arc::new(jwks),
            fetched: now,
            jwks_fetched: now,
        };
        self.store(d.clone());
        Ok(d)
    }

    /// Refetches the keys (a token named a key we do not know), at most once
    /// per [`JWKS_MIN_REFRESH`]; `None` when it is too early.
    async fn refresh_keys(
        &self,
        http: &reqwest::Client,
        d: &Discovered,
    ) -> Result<Option<Discovered>, LoginError> {
        if d.jwks_fetched.elapsed() < JWKS_MIN_REFRESH {
            return Ok(None);
        }
        let jwks = oidc::fetch_jwks(http, &d.meta.jwks_uri).await?;
        let fresh = Discovered {
            jwks: Arc::new(jwks),
            jwks_fetched: Instant::now(),
            ..d.clone()
        };
        self.store(fresh.clone());
        Ok(Some(fresh))
    }

    fn cached(&self) -> Option<Discovered> {
        self.cache.lock().ok().and_then(|c| c.clone())
    }

    fn store(&self, d: Discovered) {
        if let Ok(mut c) = self.cache.lock() {
            *c = Some(d);
        }
    }

    /// The protocol-level client configuration for a redirect URI.
    fn client(&self, redirect_uri: &str) -> OidcClientConfig {
        OidcClientConfig {
            issuer: self.cfg.issuer.clone(),
            client_id: self.cfg.client_id.clone(),
            client_secret: self.cfg.client_secret.clone(),
            redirect_uri: redirect_uri.to_owned(),
            extra_scopes: self.cfg.extra_scopes.clone(),
            auth_method: match self.cfg.auth_method {
                TokenAuthMethod::ClientSecretBasic => ClientAuth::ClientSecretBasic,
                TokenAuthMethod::ClientSecretPost => ClientAuth::ClientSecretPost,
            },
            role_claim: self.cfg.role_claim.clone(),
            role_map: BTreeMap::new(),
        }
    }
}

/// The staff sign-in button of `/accedi` for this ente: (label, URL).
pub fn button(state: &AppState, tenant: &Tenant) -> Option<(String, &'static str)> {
    state
        .staff_providers()
        .get(tenant)
        .map(|p| (p.cfg.button_label.clone(), START_PATH))
}

#[derive(Template)]
#[template(path = "auth/staff_signed_out.html")]
struct SignedOutTemplate<'a> {
    shell: Shell<'a>,
    url: String,
}

/// What `POST /esci` answers a visitor whose session came from the staff
/// provider, once the local session has ended: when the provider offers
/// RP-initiated logout (`end_session_endpoint`, DECISIONS 22), a page that
/// sends the browser on to it (`Refresh` header, plus a button) with
/// `post_logout_redirect_uri` = the home page of this host. A page rather
/// than a 303 because our `form-action 'self'` policy would stop a browser
/// from following a form's redirect to another origin. `None` when the
/// provider offers no logout or cannot be reached: the caller goes home.
pub async fn provider_logout(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
) -> Option<Response> {
    let url = end_session_url(state, tenant, headers).await?;
    let mut shell = Shell::new(tenant, "Uscita");
    shell.breadcrumb = vec![Crumb::link("Home", "/"), Crumb::here("Uscita")];
    let tpl = SignedOutTemplate {
        shell,
        url: url.clone(),
    };
    let html = tpl.render().ok()?;
    let mut res = (StatusCode::OK, axum::response::Html(html)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("0; url={url}")) {
        h.insert(header::REFRESH, v);
    }
    res.extensions_mut().insert(FullPage);
    Some(res)
}

/// The provider's end-session URL for this host, if it offers one.
pub async fn end_session_url(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
) -> Option<String> {
    let p = state.staff_providers().get(tenant)?;
    let http = state.staff_providers().http.as_ref()?;
    let d = match p.discovered(http).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(
                code = e.code(),
                "staff provider unreachable at sign-out; local session ended only"
            );
            return None;
        }
    };
    let home = format!("{}://{}/", state.scheme(), host_of(headers)?);
    oidc::end_session_url(&d.meta, &p.cfg.client_id, None, Some(&home), None)
}

/// The sign-in in progress, as kept in the session.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    flow: String,
    state: String,
    nonce: String,
    verifier: String,
    redirect_uri: String,
    issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    return_to: Option<String>,
}

#[derive(Deserialize, Default)]
struct StartQuery {
    ritorno: Option<String>,
}

#[derive(Deserialize, Default)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// Why a staff sign-in did not happen.
#[derive(Debug)]
enum Failure {
    /// A refused or failed sign-in: a page with a code.
    Login {
        status: StatusCode,
        code: &'static str,
        message: &'static str,
        /// For the log line (never tokens).
        reason: String,
    },
    /// An error of ours (store down…).
    Internal(WebError),
}

impl Failure {
    fn bad(code: &'static str, message: &'static str, reason: impl Into<String>) -> Self {
        Failure::Login {
            status: StatusCode::BAD_REQUEST,
            code,
            message,
            reason: reason.into(),
        }
    }

    fn no_transaction(reason: &str) -> Self {
        Failure::bad(
            "staff_login.no_session",
            "Non c'è un accesso in corso da questo browser, oppure è scaduto o è già stato \
             completato. Ricomincia l'accesso dalla pagina «Accedi».",
            reason,
        )
    }
}

impl From<LoginError> for Failure {
    fn from(e: LoginError) -> Self {
        Failure::bad(e.code(), e.message_it(), e.to_string())
    }
}

impl From<palazzo_services::ServiceError> for Failure {
    fn from(e: palazzo_services::ServiceError) -> Self {
        Failure::Internal(e.into())
    }
}

#[derive(Template)]
#[template(path = "auth/staff_error.html")]
struct StaffErrorTemplate<'a> {
    shell: Shell<'a>,
    heading: &'static str,
    message: &'static str,
    code: &'static str,
    status: u16,
    retry: bool,
}

fn error_page(
    t: &Tenant,
    request_id: Option<&RequestId>,
    status: StatusCode,
    code: &'static str,
    heading: &'static str,
    message: &'static str,
    retry: bool,
) -> Response {
    let mut shell = Shell::new(t, heading);
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Accedi", "/accedi"),
        Crumb::here(heading),
    ];
    shell.request_id = request_id.map(|r| r.as_str().to_owned());
    let tpl = StaffErrorTemplate {
        shell,
        heading,
        message,
        code,
        status: status.as_u16(),
        retry,
    };
    match tpl.render() {
        Ok(html) => {
            let mut res = (status, axum::response::Html(html)).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res.extensions_mut().insert(FullPage);
            res
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

fn rate_limited(t: &Tenant, rid: Option<&RequestId>) -> Response {
    tracing::warn!(code = "rate_limited", "staff sign-in rate limited");
    let mut res = error_page(
        t,
        rid,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "Troppi tentativi di accesso",
        "Hai fatto troppi tentativi di accesso in poco tempo. Riprova tra qualche minuto.",
        false,
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("600"));
    res
}

/// The host the visitor used (with port), if it looks like a host name.
fn host_of(headers: &HeaderMap) -> Option<&str> {
    let h = headers.get(header::HOST)?.to_str().ok()?;
    let ok = !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    ok.then_some(h)
}

fn allowed(state: &AppState, peer: Option<std::net::IpAddr>, headers: &HeaderMap) -> bool {
    let cfg = state.config();
    let client = client_key(&cfg.secret, client_ip(peer, headers, cfg.behind_tls));
    state.app().staff_sign_in_allowed(&client)
}

/// Handles `GET /accedi/personale`: sends the visitor to the provider.
async fn start(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    rid: Option<Extension<RequestId>>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    Query(q): Query<StartQuery>,
) -> Response {
    let rid = rid.map(|Extension(r)| r);
    let Some(provider) = state.staff_providers().get(&t).cloned() else {
        return WebError::NotFound.into_response();
    };
    if !allowed(&state, peer, &headers) {
        return rate_limited(&t, rid.as_ref());
    }
    match begin(&state, &t, &auth, &provider, &headers, q.ritorno.as_deref()).await {
        Ok(res) => res,
        Err(f) => fail(&state, &t, &auth, rid.as_ref(), f).await,
    }
}

async fn begin(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    provider: &Provider,
    headers: &HeaderMap,
    ritorno: Option<&str>,
) -> Result<Response, Failure> {
    let http = state
        .staff_providers()
        .http
        .as_ref()
        .ok_or(LoginError::Config("no HTTP client"))?;
    let host = host_of(headers).ok_or(Failure::bad(
        "staff_login.bad_host",
        "L'indirizzo usato per raggiungere il sito non è valido.",
        "unusable Host header",
    ))?;
    let redirect_uri = format!("{}://{host}{CALLBACK_PATH}", state.scheme());
    let d = provider.discovered(http).await?;
    let req = StaffAuthRequest::new(&d.meta, &provider.client(&redirect_uri))?;
    let pending = Pending {
        flow: FLOW.into(),
        state: req.state.clone(),
        nonce: req.nonce.clone(),
        verifier: req.pkce.verifier.clone(),
        redirect_uri,
        issuer: d.meta.issuer.clone(),
        return_to: super::pages::safe_return(ritorno),
    };
    let pending = serde_json::to_value(&pending)
        .map_err(|e| Failure::Internal(WebError::Internal(e.to_string())))?;
    let mut res = Redirect::to(&req.url).into_response();
    match &auth.session {
        Some(s) => {
            let mut data = s.data.clone();
            super::set_pending(&mut data, PENDING_KEY, Some(pending));
            state.app().save_session_data(s, &data).await?;
        }
        None => {
            let mut data = SessionData::default();
            super::set_pending(&mut data, PENDING_KEY, Some(pending));
            let (token, _) = state.app().start_session(t.id, &data).await?;
            res.headers_mut()
                .append(header::SET_COOKIE, session_cookie(state, &token));
        }
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    tracing::info!("staff sign-in started");
    Ok(res)
}

/// Handles `GET /accedi/personale/callback`: the provider sends the visitor
/// back here with a code (or an error).
async fn callback(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    rid: Option<Extension<RequestId>>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let rid = rid.map(|Extension(r)| r);
    let Some(provider) = state.staff_providers().get(&t).cloned() else {
        return WebError::NotFound.into_response();
    };
    if !allowed(&state, peer, &headers) {
        return rate_limited(&t, rid.as_ref());
    }
    match finish(&state, &t, &auth, &provider, &q).await {
        Ok(Done::SignedIn { token, to }) => {
            tracing::info!("staff signed in");
            let mut res = Redirect::to(&to).into_response();
            res.headers_mut()
                .append(header::SET_COOKIE, session_cookie(&state, &token));
            res
        }
        Ok(Done::NoRoles) => {
            tracing::warn!(
                code = "staff_login.no_roles",
                "staff account without roles in this comune refused"
            );
            let mut res = error_page(
                &t,
                rid.as_ref(),
                StatusCode::FORBIDDEN,
                "staff_login.no_roles",
                "Nessun ruolo in questo Comune",
                "Il tuo account non ha ruoli in questo Comune, quindi non puoi accedere all'area \
                 del personale. Se pensi che sia un errore, chiedi all'amministratore del tuo \
                 ente di assegnarti il gruppo giusto.",
                false,
            );
            end_anonymous(&state, &auth, &mut res).await;
            res
        }
        Err(f) => fail(&state, &t, &auth, rid.as_ref(), f).await,
    }
}

enum Done {
    SignedIn { token: String, to: String },
    NoRoles,
}

async fn finish(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    provider: &Provider,
    q: &CallbackQuery,
) -> Result<Done, Failure> {
    let app = state.app();
    let session = auth
        .session
        .as_ref()
        .ok_or_else(|| Failure::no_transaction("callback without a session"))?;
    let pending: Pending = super::get_pending(&session.data, PENDING_KEY)
        .filter(|p: &Pending| p.flow == FLOW)
        .ok_or_else(|| Failure::no_transaction("callback without a staff sign-in in progress"))?;
    // The transaction is single-use, whatever happens next; other flows'
    // entries (what a SPID sign-out needs) stay.
    let mut data = session.data.clone();
    super::set_pending(&mut data, PENDING_KEY, None);
    app.save_session_data(session, &data).await?;

    let given = q.state.as_deref().unwrap_or_default();
    if !super::same(given, &pending.state) {
        return Err(Failure::bad(
            "staff_login.wrong_state",
            "La risposta del gestore dell'identità non corrisponde all'accesso avviato da \
             questo browser. Ricomincia l'accesso.",
            "state mismatch",
        ));
    }
    if q.iss.as_deref().is_some_and(|iss| iss != pending.issuer) {
        return Err(LoginError::WrongIssuer.into());
    }
    if let Some(err) = &q.error {
        let (code, message) = if err == "access_denied" {
            (
                "staff_login.access_denied",
                "L'accesso è stato annullato o negato presso il gestore dell'identità dell'ente.",
            )
        } else {
            (
                "staff_login.provider_error",
                "Il gestore dell'identità dell'ente ha rifiutato la richiesta di accesso. Riprova; \
                 se il problema continua, contatta l'assistenza.",
            )
        };
        let err: String = err
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return Err(Failure::bad(code, message, format!("provider error {err}")));
    }
    let code = q
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or(Failure::bad(
            "staff_login.missing_code",
            "La risposta del gestore dell'identità è incompleta. Ricomincia l'accesso.",
            "callback without code",
        ))?;

    let http = state
        .staff_providers()
        .http
        .as_ref()
        .ok_or(LoginError::Config("no HTTP client"))?;
    let mut d = provider.discovered(http).await?;
    if d.meta.issuer != pending.issuer {
        return Err(LoginError::WrongIssuer.into());
    }
    let client = provider.client(&pending.redirect_uri);
    let tokens = oidc::exchange_code(http, &d.meta, &client, code, &pending.verifier).await?;
    let now = jiff::Timestamp::now();
    let check = |d: &Discovered| {
        oidc::validate_id_token(
            &tokens.id_token,
            &d.jwks,
            &d.meta,
            &client.client_id,
            &pending.nonce,
            now,
        )
    };
    let claims = match check(&d) {
        Err(LoginError::Token {
            source: JoseError::NoKey,
            ..
        }) => match provider.refresh_keys(http, &d).await? {
            Some(fresh) => {
                d = fresh;
                check(&d)?
            }
            None => check(&d)?,
        },
        other => other?,
    };
    let sub = claims.str("sub").unwrap_or_default().to_owned();
    let mut groups = groups_of(&claims, &provider.cfg.role_claim);
    if groups.is_none() && d.meta.userinfo_endpoint.is_some() {
        let info = oidc::userinfo(http, &d.meta, &tokens.access_token, &sub).await?;
        groups = groups_of(&info, &provider.cfg.role_claim);
    }
    let groups = groups.unwrap_or_default();
    let identity = identity_of(&claims, &d.meta.issuer, &provider.cfg);
    let roles = app
        .staff_roles_for_groups(t.id, &groups, &provider.cfg.roles)
        .await?;
    let user = match app.staff_sign_in(t.id, &identity, &roles).await? {
        StaffSignIn::NoRoles => return Ok(Done::NoRoles),
        StaffSignIn::SignedIn(u) => u,
    };
    let who = SignedIn {
        user: Some(user.id),
        provider: "oidc".into(),
        acr: identity.acr.clone(),
        name: format!("{} {}", user.data.given_name, user.data.family_name)
            .trim()
            .to_owned(),
        ..SignedIn::default()
    };
    let (token, _) = app.rotate_session(Some(session), t.id, who).await?;
    let to = pending
        .return_to
        .as_deref()
        .and_then(|r| super::pages::safe_return(Some(r)))
        .unwrap_or_else(|| "/backoffice".to_owned());
    Ok(Done::SignedIn { token, to })
}

/// The values of the role claim: a string or an array of strings. `None`
/// when the claim is absent.
fn groups_of(claims: &Claims, claim: &str) -> Option<Vec<String>> {
    match claims.get(claim)? {
        serde_json::Value::String(s) => Some(vec![s.clone()]),
        serde_json::Value::Array(a) => Some(
            a.iter()
                .filter_map(serde_json::Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => Some(Vec::new()),
    }
}

/// The verified identity of a staff member from the ID token claims.
fn identity_of(claims: &Claims, issuer: &str, cfg: &StaffOidcConfig) -> VerifiedIdentity {
    let text = |name: &str| {
        claims
            .str(name)
            .map(|s| s.trim().chars().take(100).collect::<String>())
            .filter(|s| !s.is_empty())
    };
    let sub = claims.str("sub").unwrap_or_default().to_owned();
    let (given, family) = match (text("given_name"), text("family_name")) {
        (Some(g), Some(f)) => (g, f),
        (g, f) => match text("name") {
            Some(n) => match n.rsplit_once(' ') {
                Some((a, b)) => (a.to_owned(), b.to_owned()),
                None => (n, String::new()),
            },
            None => (
                g.or_else(|| text("preferred_username"))
                    .unwrap_or_else(|| sub.chars().take(100).collect()),
                f.unwrap_or_default(),
            ),
        },
    };
    let email = (claims.get("email_verified") != Some(&serde_json::Value::Bool(false)))
        .then(|| claims.str("email").and_then(|e| Email::parse(e).ok()))
        .flatten();
    let codice_fiscale = cfg.fiscal_code_claim.as_deref().and_then(|c| {
        let raw = claims.str(c)?;
        let raw = raw.strip_prefix("TINIT-").unwrap_or(raw);
        match CodiceFiscale::parse(raw) {
            Ok(cf) => Some(cf),
            Err(_) => {
                tracing::warn!(
                    claim = c,
                    "staff provider sent an invalid codice fiscale; ignored"
                );
                None
            }
        }
    });
    VerifiedIdentity {
        provider: "oidc".into(),
        issuer: issuer.to_owned(),
        subject: sub,
        acr: claims.str("acr").map(str::to_owned),
        codice_fiscale,
        given_name: given,
        family_name: family,
        birth_date: None,
        birth_place: None,
        email,
        phone: None,
    }
}

/// Ends the visitor's session when it only carried the sign-in (a failed
/// sign-in leaves no session behind); a signed-in session stays.
async fn end_anonymous(state: &AppState, auth: &Auth, res: &mut Response) {
    if let Some(s) = auth.session.as_ref().filter(|s| !s.is_signed_in()) {
        if let Err(e) = state.app().end_session(s).await {
            tracing::error!(code = e.code(), "cannot end the pending session");
        }
        res.headers_mut()
            .append(header::SET_COOKIE, clear_session_cookie(state));
    }
}

async fn fail(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    rid: Option<&RequestId>,
    f: Failure,
) -> Response {
    let mut res = match f {
        Failure::Login {
            status,
            code,
            message,
            reason,
        } => {
            tracing::warn!(code, reason = %reason, "staff sign-in failed");
            error_page(t, rid, status, code, "Accesso non riuscito", message, true)
        }
        Failure::Internal(e) => e.into_response(),
    };
    end_anonymous(state, auth, &mut res).await;
    res
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn groups_come_as_a_string_or_an_array() {
        let c = Claims(
            serde_json::json!({"groups": ["a", 1, "b"], "roles": "x", "n": 3})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(groups_of(&c, "groups"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(groups_of(&c, "roles"), Some(vec!["x".into()]));
        assert_eq!(groups_of(&c, "n"), Some(vec![]));
        assert_eq!(groups_of(&c, "missing"), None);
    }

    #[test]
    fn identity_from_claims() {
        let cfg: StaffOidcConfig = serde_json::from_value(serde_json::json!({
            "issuer": "https://sso.example.it", "client_id": "p", "client_secret": "s",
            "fiscal_code_claim": "fiscal_number"
        }))
        .unwrap();
        let c = Claims(
            serde_json::json!({"sub": "u1", "name": "Lucia Maria Neri", "email": "l@example.it",
                               "email_verified": false, "fiscal_number": "TINIT-NOTAVALIDCF"})
            .as_object()
            .unwrap()
            .clone(),
        );
        let id = identity_of(&c, "https://sso.example.it", &cfg);
        assert_eq!(id.provider, "oidc");
        assert_eq!(id.subject, "u1");
        assert_eq!(
            (id.given_name.as_str(), id.family_name.as_str()),
            ("Lucia Maria", "Neri")
        );
        assert_eq!(id.email, None);
        assert_eq!(id.codice_fiscale, None);
    }

    #[test]
    fn hosts_are_checked() {
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            HeaderValue::from_static("comune.example.it:8443"),
        );
        assert_eq!(host_of(&h), Some("comune.example.it:8443"));
        h.insert(header::HOST, HeaderValue::from_static("evil/x"));
        assert_eq!(host_of(&h), None);
    }
}
