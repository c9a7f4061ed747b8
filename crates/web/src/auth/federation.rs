//! SPID/CIE sign-in through OpenID Connect Federation (issue 3, part 1).
//!
//! Every comune is a relying party (RP) of its own: entity id from
//! [`FederationConfig::entity_id`], three RSA keys in
//! `keys/<slug>/oidc-{federation,sig,enc}.pem` created on first use.
//!
//! * `GET /.well-known/openid-federation`: our signed Entity Configuration.
//! * `GET /accedi/spid`, `GET /accedi/cie` (`?ritorno=<path>`, `?op=<entity
//!   id>` to pick one of several providers of the kind): resolves the OP's
//!   trust chain up to a configured trust anchor (cached until it expires),
//!   refuses it without a valid trust mark of an id that
//!   `[federation.required_trust_marks]` asks of its kind
//!   (`oidc_trust_mark_missing`),
//!   keeps `state`, `nonce` and the PKCE verifier in the session (an
//!   anonymous one, 15 minutes, when there is none) and redirects to the OP
//!   with a signed request object.
//! * `GET /accedi/oidc/callback`: checks `state` (constant time) and `iss`
//!   (mandatory for CIE), exchanges the code (`private_key_jwt` + PKCE),
//!   validates the ID token (`nonce`, `acr`, `at_hash`), reads the encrypted
//!   userinfo, records the sign-in and rotates the session. The pending
//!   sign-in is taken out of the session before any check, so a callback can
//!   be used once.
//! * Logout ([`revoke_at_op`], called by `POST /esci`): RFC 7009 revocation of
//!   the access token at the OP (DECISIONS 22); a failure never blocks the
//!   local logout. The token waits in the session data sealed
//!   (A256CBC-HS512, key derived from the server secret, bound to the OP).
//!
//! Every failure is an Italian page with a stable `oidc_*` code, a
//! `tracing::warn!` line without tokens, and no session.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Extension;
use axum::extract::{OriginalUri, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use palazzo_identity::acr::AcrLevel;
use palazzo_identity::federation::{
    self as fed, ENTITY_STATEMENT_CONTENT_TYPE, FederationError, HttpFetcher, ProviderInfo,
    RpEntityConfig, RpKeys, TrustAnchor,
};
use palazzo_identity::http::HttpError;
use palazzo_identity::jose::{self, JoseError, JwkSet, KeyUse, RsaKeyPair};
use palazzo_identity::rp::{self, AuthRequest, AuthRequestParams, LoginError};
use palazzo_services::access::{Session, SessionData, SignedIn, VerifiedIdentity};
use palazzo_services::federation::{FederationConfig, ProviderConfig, ProviderKind};
use palazzo_services::{ServiceError, keys::KeyStore};
use palazzo_store::Tenant;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Auth, clear_session_cookie, session_cookie};
use crate::AppState;
use crate::error::WebError;
use crate::middleware::tenant::{CurrentTenant, request_host};
use crate::portal::rating::{PeerAddr, client_ip, client_key};
use crate::routes::{Access, Routes};

/// Path of the callback (our only redirect URI).
pub const CALLBACK_PATH: &str = "/accedi/oidc/callback";
/// Lifetime of our signed Entity Configuration, in seconds (one day).
pub const ENTITY_CONFIGURATION_LIFETIME_SECS: i64 = 86_400;
/// Size of the RSA keys we generate.
pub const RSA_BITS: usize = 2048;
/// A pending sign-in older than this is refused at the callback (seconds).
const PENDING_MAX_AGE_SECS: i64 = 15 * 60;
/// Key of our pending sign-in in [`SessionData::pending`].
const PENDING_KEY: &str = "federation";
/// Key of what logout needs in [`SessionData::pending`] of a signed-in session.
const REVOKE_KEY: &str = "federation_revoke";
/// The key files of a comune: (file, what it is for).
pub const KEY_FILES: [&str; 3] = ["oidc-federation.pem", "oidc-sig.pem", "oidc-enc.pem"];

/// The routes of this module (all public: they are the way in).
pub fn router() -> Routes {
    use Access::Public;
    Routes::new()
        .get(
            "/.well-known/openid-federation",
            Public,
            entity_configuration,
        )
        .get("/accedi/spid", Public, start_spid)
        .get("/accedi/cie", Public, start_cie)
        .get(CALLBACK_PATH, Public, callback)
}

/// The three RSA keys of one comune's relying party.
pub struct RpKeySet {
    /// Signs the Entity Configuration; registered at the trust anchor.
    pub federation: RsaKeyPair,
    /// Request objects and client assertions.
    pub sig: RsaKeyPair,
    /// Userinfo is encrypted to it.
    pub enc: RsaKeyPair,
}

impl RpKeySet {
    fn as_rp_keys(&self) -> RpKeys<'_> {
        RpKeys {
            federation: &self.federation,
            sig: &self.sig,
            enc: &self.enc,
        }
    }

    /// The public federation JWK Set: what the trust anchor (or aggregator)
    /// must register for this comune.
    pub fn federation_jwks(&self) -> Value {
        json!({ "keys": [self.federation.to_public_jwk(KeyUse::Sig)] })
    }
}

/// Loads (or creates, mode 0600, never overwriting) the three keys of a
/// comune. Slow the first time (RSA generation): call it on a blocking thread.
pub fn load_or_create_keys(store: &KeyStore, slug: &str) -> Result<RpKeySet, ServiceError> {
    let one = |file: &str| -> Result<RsaKeyPair, ServiceError> {
        let pem = store.load_or_create_file(slug, file, || {
            let k = RsaKeyPair::generate(RSA_BITS).map_err(internal)?;
            Ok(k.to_pkcs8_pem().map_err(internal)?.into_bytes())
        })?;
        let pem = String::from_utf8(pem).map_err(internal)?;
        RsaKeyPair::from_pkcs8_pem(&pem).map_err(internal)
    };
    Ok(RpKeySet {
        federation: one(KEY_FILES[0])?,
        sig: one(KEY_FILES[1])?,
        enc: one(KEY_FILES[2])?,
    })
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("federation keys: {e}"))
}

struct CachedProvider {
    info: Arc<ProviderInfo>,
    /// Ids of the provider's valid trust marks.
    trust_marks: Arc<[String]>,
    expires_at: Timestamp,
}

/// The run-time state of the relying party: settings, trust anchors, the
/// HTTP client, and the caches of keys (per comune) and of resolved
/// providers (per OP, until the trust chain expires).
pub struct Federation {
    cfg: FederationConfig,
    anchors: Vec<TrustAnchor>,
    http: Option<reqwest::Client>,
    keys: RwLock<HashMap<String, Arc<RpKeySet>>>,
    key_gen: tokio::sync::Mutex<()>,
    providers: RwLock<HashMap<String, CachedProvider>>,
}

impl Federation {
    /// Builds the state. Trust anchors whose keys do not parse are left out
    /// (and logged); `palazzo serve` refuses such a configuration before
    /// getting here ([`FederationConfig::validate`]).
    pub fn new(cfg: FederationConfig) -> Self {
        let anchors = cfg
            .trust_anchors
            .iter()
            .filter_map(|a| {
                let parsed = a.jwks_json().and_then(|j| {
                    serde_json::from_str::<JwkSet>(&j).map_err(|e| format!("jwks: {e}"))
                });
                match parsed {
                    Ok(jwks) => Some(TrustAnchor {
                        entity_id: a.entity_id.trim_end_matches('/').to_owned(),
                        jwks: jwks.public(),
                    }),
                    Err(e) => {
                        tracing::error!(anchor = %a.entity_id, error = %e, "trust anchor ignored");
                        None
                    }
                }
            })
            .collect();
        let http = if cfg.enabled() {
            palazzo_identity::http::client()
                .map_err(|e| tracing::error!(error = %e, "no HTTP client for SPID/CIE"))
                .ok()
        } else {
            None
        };
        Federation {
            cfg,
            anchors,
            http,
            keys: RwLock::new(HashMap::new()),
            key_gen: tokio::sync::Mutex::new(()),
            providers: RwLock::new(HashMap::new()),
        }
    }

    /// The settings.
    pub fn config(&self) -> &FederationConfig {
        &self.cfg
    }

    /// The keys of a comune, loaded once.
    pub async fn keys(&self, store: &KeyStore, slug: &str) -> Result<Arc<RpKeySet>, WebError> {
        if let Some(k) = self.cached_keys(slug) {
            return Ok(k);
        }
        let _guard = self.key_gen.lock().await;
        if let Some(k) = self.cached_keys(slug) {
            return Ok(k);
        }
        let (store, owned) = (store.clone(), slug.to_owned());
        let keys = tokio::task::spawn_blocking(move || load_or_create_keys(&store, &owned))
            .await
            .map_err(|e| WebError::Internal(format!("key generation: {e}")))??;
        let keys = Arc::new(keys);
        if let Ok(mut m) = self.keys.write() {
            m.insert(slug.to_owned(), keys.clone());
        }
        Ok(keys)
    }

    fn cached_keys(&self, slug: &str) -> Option<Arc<RpKeySet>> {
        self.keys.read().ok()?.get(slug).cloned()
    }

    /// The OP's endpoints and keys from its trust chain (cached until the
    /// chain expires), for a provider of `kind` that must also hold the
    /// trust marks `[federation.required_trust_marks]` asks of its kind.
    async fn trusted_provider(
        &self,
        kind: ProviderKind,
        entity_id: &str,
    ) -> Result<Arc<ProviderInfo>, WebError> {
        let (info, marks) = self.resolved(entity_id).await?;
        let required = &self.cfg.required_trust_marks;
        if required.satisfied_by(kind, marks.iter().map(String::as_str)) {
            return Ok(info);
        }
        tracing::warn!(
            code = "oidc_trust_mark_missing",
            provider = kind.code(),
            op = entity_id,
            required = ?required.of(kind),
            held = ?marks,
            "identity provider refused: no valid required trust mark"
        );
        Err(WebError::forbidden(
            "oidc_trust_mark_missing",
            "Il gestore dell'identità scelto non ha il marchio di fiducia (trust mark) richiesto \
             dalla federazione SPID/CIE per questo sito. Scegli un altro gestore o riprova più tardi.",
        ))
    }

    /// The OP's endpoints and keys from its trust chain, whatever its trust
    /// marks (for revocation at logout).
    async fn provider(&self, entity_id: &str) -> Result<Arc<ProviderInfo>, WebError> {
        Ok(self.resolved(entity_id).await?.0)
    }

    /// The resolved provider and the ids of its valid trust marks, cached
    /// until the chain expires.
    async fn resolved(
        &self,
        entity_id: &str,
    ) -> Result<(Arc<ProviderInfo>, Arc<[String]>), WebError> {
        let now = Timestamp::now();
        if let Some(p) = self.providers.read().ok().and_then(|m| {
            m.get(entity_id)
                .filter(|c| c.expires_at > now)
                .map(|c| (c.info.clone(), c.trust_marks.clone()))
        }) {
            return Ok(p);
        }
        let http = self.http()?;
        let fetcher = HttpFetcher::with_client(http.clone());
        let resolved = fed::resolve(entity_id, &self.anchors, &fetcher, now)
            .await
            .and_then(|chain| Ok((chain.openid_provider()?, chain)));
        let (info, chain) = match resolved {
            Ok(v) => v,
            Err(e) => return Err(untrusted(entity_id, &e)),
        };
        for r in &chain.rejected_trust_marks {
            tracing::warn!(
                op = entity_id,
                trust_mark = r.id.as_deref().unwrap_or("-"),
                reason = r.reason,
                "trust mark of the identity provider ignored"
            );
        }
        let info = Arc::new(info);
        let marks: Arc<[String]> = chain.trust_mark_ids().map(str::to_owned).collect();
        if let Ok(mut m) = self.providers.write() {
            m.retain(|_, c| c.expires_at > now);
            m.insert(
                entity_id.to_owned(),
                CachedProvider {
                    info: info.clone(),
                    trust_marks: marks.clone(),
                    expires_at: chain.expires_at,
                },
            );
        }
        Ok((info, marks))
    }

    fn http(&self) -> Result<&reqwest::Client, WebError> {
        self.http
            .as_ref()
            .ok_or_else(|| WebError::Internal("no HTTP client for SPID/CIE".into()))
    }

    fn find(&self, kind: ProviderKind, op: Option<&str>) -> Option<&ProviderConfig> {
        let mut of_kind = self.cfg.providers_of(kind);
        match op {
            Some(op) => of_kind.find(|p| p.entity_id == op),
            None => of_kind.next(),
        }
    }
}

fn untrusted(entity_id: &str, e: &FederationError) -> WebError {
    let unreachable = matches!(
        e,
        FederationError::Fetch {
            source: HttpError::Transport(_),
            ..
        }
    );
    tracing::warn!(
        code = if unreachable { "oidc_provider_unreachable" } else { "oidc_untrusted_provider" },
        cause = e.code(),
        op = entity_id,
        error = %e,
        "identity provider refused: no valid trust chain"
    );
    if unreachable {
        WebError::Unavailable(format!("identity provider {entity_id} unreachable"))
    } else {
        WebError::forbidden("oidc_untrusted_provider", e.message_it())
    }
}

/// One SPID/CIE button of the sign-in page.
pub struct Button {
    /// `spid` or `cie`.
    pub kind: &'static str,
    /// Start URL of the kind's first provider (`/accedi/<kind>`).
    pub href: String,
    /// Every configured provider of the kind, in configuration order:
    /// (label, start URL `/accedi/<kind>?op=<entity id>`). The label is the
    /// configured one, else the entity id's host.
    pub providers: Vec<(String, String)>,
}

/// The SPID/CIE buttons of the sign-in page: one per configured kind.
pub fn buttons(state: &AppState) -> Vec<Button> {
    let cfg = state.federation().config();
    [ProviderKind::Spid, ProviderKind::Cie]
        .into_iter()
        .filter(|k| cfg.providers_of(*k).next().is_some())
        .map(|k| Button {
            kind: k.code(),
            href: format!("/accedi/{}", k.code()),
            providers: cfg
                .providers_of(k)
                .map(|p| {
                    let label = if p.label.trim().is_empty() {
                        reqwest::Url::parse(&p.entity_id)
                            .ok()
                            .and_then(|u| u.host_str().map(str::to_owned))
                            .unwrap_or_else(|| p.entity_id.clone())
                    } else {
                        p.label.trim().to_owned()
                    };
                    let op =
                        serde_urlencoded::to_string([("op", &p.entity_id)]).unwrap_or_default();
                    (label, format!("/accedi/{}?{op}", k.code()))
                })
                .collect(),
        })
        .collect()
}

fn entity_id(state: &AppState, t: &Tenant) -> Result<String, WebError> {
    state
        .federation()
        .config()
        .entity_id(t, state.scheme())
        .ok_or(WebError::NotFound)
}

fn entity_config(state: &AppState, t: &Tenant, entity_id: &str) -> RpEntityConfig {
    let cfg = state.federation().config();
    RpEntityConfig {
        entity_id: entity_id.to_owned(),
        authority_hints: cfg.authority_hints(),
        trust_marks: cfg
            .trust_marks
            .iter()
            .map(|m| json!({"id": m.id, "trust_mark_type": m.id, "trust_mark": m.trust_mark}))
            .collect(),
        redirect_uris: vec![format!("{entity_id}{CALLBACK_PATH}")],
        client_name: t.data.name.clone(),
        organization_name: t.data.name.clone(),
        contacts: if cfg.contacts.is_empty() {
            vec![t.data.email.as_str().to_owned()]
        } else {
            cfg.contacts.clone()
        },
        homepage_uri: format!("{entity_id}/"),
        policy_uri: format!("{entity_id}/privacy"),
        lifetime_secs: ENTITY_CONFIGURATION_LIFETIME_SECS,
    }
}

/// Handles `GET /.well-known/openid-federation`: the signed Entity
/// Configuration of this comune's relying party (404 without providers).
async fn entity_configuration(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
) -> Result<Response, WebError> {
    if !state.federation().config().enabled() {
        return Err(WebError::NotFound);
    }
    let id = entity_id(&state, &t)?;
    let keys = state
        .federation()
        .keys(state.app().keys(), &t.data.slug)
        .await?;
    let jwt = entity_config(&state, &t, &id)
        .sign(keys.as_rp_keys(), Timestamp::now())
        .map_err(|e| WebError::Internal(format!("entity configuration: {e}")))?;
    let mut res = (StatusCode::OK, jwt).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ENTITY_STATEMENT_CONTENT_TYPE),
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(res)
}

/// The public federation JWK Set of a comune (what `palazzo federation
/// entity-configuration` prints), creating the keys if needed.
pub fn federation_jwks(store: &KeyStore, slug: &str) -> Result<Value, ServiceError> {
    Ok(load_or_create_keys(store, slug)?.federation_jwks())
}

#[derive(Deserialize, Default)]
struct StartQuery {
    ritorno: Option<String>,
    op: Option<String>,
}

/// The sign-in in progress, kept in the session between start and callback.
#[derive(Serialize, Deserialize)]
struct Pending {
    kind: ProviderKind,
    op: String,
    state: String,
    nonce: String,
    verifier: String,
    acr: String,
    created: i64,
}

/// What logout needs to revoke the access token at the OP. The token is
/// sealed ([`seal_access_token`]): the session row never holds it in clear.
#[derive(Serialize, Deserialize)]
struct RevokeInfo {
    op: String,
    /// `jose::seal` of the access token, bound to `op`.
    token_sealed: String,
}

/// Label of the key that seals the OP access token in the session data.
const ACCESS_TOKEN_KEY_LABEL: &str = "palazzo/federation/access-token/v1";

/// The key that seals OP access tokens: derived from the server secret,
/// for this purpose only (HMAC-SHA-256 over the label, once for the MAC
/// half and once for the AES half of A256CBC-HS512).
fn access_token_key(secret: &[u8; 32]) -> [u8; jose::SEAL_KEY_LEN] {
    use hmac::{Hmac, Mac as _};
    let mut key = [0u8; jose::SEAL_KEY_LEN];
    for (half, part) in key.chunks_mut(32).zip(["mac", "enc"]) {
        // HMAC accepts keys of any length: this cannot fail.
        if let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret) {
            mac.update(format!("{ACCESS_TOKEN_KEY_LABEL}/{part}").as_bytes());
            half.copy_from_slice(&mac.finalize().into_bytes());
        }
    }
    key
}

/// Seals the access token of `op` for the session data.
fn seal_access_token(secret: &[u8; 32], op: &str, token: &str) -> Result<String, WebError> {
    jose::seal(&access_token_key(secret), op.as_bytes(), token.as_bytes())
        .map_err(|e| WebError::Internal(format!("sealing the access token: {e}")))
}

/// The OP access token kept for logout in a session's data, decrypted:
/// (OP entity id, token). None when there is none or it does not open
/// (another server secret, tampering).
pub fn stored_access_token(secret: &[u8; 32], data: &SessionData) -> Option<(String, String)> {
    let info = super::get_pending::<RevokeInfo>(data, REVOKE_KEY)?;
    let token = open_access_token(secret, &info).ok()?;
    Some((info.op, token))
}

fn open_access_token(secret: &[u8; 32], info: &RevokeInfo) -> Result<String, JoseError> {
    let raw = jose::open(
        &access_token_key(secret),
        info.op.as_bytes(),
        &info.token_sealed,
    )?;
    String::from_utf8(raw).map_err(|_| JoseError::DecryptFailed)
}

/// The claims asked of CIE (plain names, `fiscal_number`; see
/// `testbeds/spid-cie/README.md`).
fn cie_claims() -> Value {
    json!({
        "id_token": {
            "given_name": {"essential": true},
            "family_name": {"essential": true},
        },
        "userinfo": {
            "given_name": null,
            "family_name": null,
            "fiscal_number": null,
            "email": null,
            "phone_number": null,
            "birthdate": null,
            "place_of_birth": null,
        },
    })
}

fn rate_limited(state: &AppState, peer: PeerAddr, headers: &HeaderMap) -> Result<(), WebError> {
    let cfg = state.config();
    let client = client_key(&cfg.secret, client_ip(peer.0, headers, cfg.behind_tls));
    if state.app().federation_attempt_allowed(&client) {
        Ok(())
    } else {
        tracing::warn!(code = "rate_limited", "SPID/CIE sign-in rate limited");
        Err(WebError::RateLimited)
    }
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Handles `GET /accedi/spid`.
async fn start_spid(
    state: State<AppState>,
    tenant: CurrentTenant,
    auth: Extension<Auth>,
    peer: PeerAddr,
    uri: OriginalUri,
    headers: HeaderMap,
    q: Query<StartQuery>,
) -> Result<Response, WebError> {
    start(
        ProviderKind::Spid,
        state,
        tenant,
        auth,
        peer,
        uri,
        headers,
        q,
    )
    .await
}

/// Handles `GET /accedi/cie`.
async fn start_cie(
    state: State<AppState>,
    tenant: CurrentTenant,
    auth: Extension<Auth>,
    peer: PeerAddr,
    uri: OriginalUri,
    headers: HeaderMap,
    q: Query<StartQuery>,
) -> Result<Response, WebError> {
    start(
        ProviderKind::Cie,
        state,
        tenant,
        auth,
        peer,
        uri,
        headers,
        q,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn start(
    kind: ProviderKind,
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    peer: PeerAddr,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(q): Query<StartQuery>,
) -> Result<Response, WebError> {
    rate_limited(&state, peer, &headers)?;
    let fed = state.federation();
    let Some(provider) = fed.find(kind, q.op.as_deref()) else {
        return Err(WebError::NotFound);
    };
    let client_id = entity_id(&state, &t)?;
    // The session cookie must be set on the host the OP sends the citizen
    // back to: start again there if this request came through another one.
    let here = request_host(&uri, &headers).unwrap_or_default();
    let ours = client_id.split_once("://").map_or("", |(_, h)| h);
    if !here.eq_ignore_ascii_case(ours) {
        let pq = uri.path_and_query().map_or("/", |p| p.as_str());
        return Ok(no_store(
            Redirect::to(&format!("{client_id}{pq}")).into_response(),
        ));
    }
    let op = fed.trusted_provider(kind, &provider.entity_id).await?;
    let keys = fed.keys(state.app().keys(), &t.data.slug).await?;
    let acr = [AcrLevel::SpidL2];
    let redirect_uri = format!("{client_id}{CALLBACK_PATH}");
    let params = AuthRequestParams {
        client_id: &client_id,
        redirect_uri: &redirect_uri,
        audience: &op.entity_id,
        acr: &acr,
        offline_access: false,
        claims: match kind {
            ProviderKind::Spid => None,
            ProviderKind::Cie => Some(cie_claims()),
        },
    };
    let now = Timestamp::now();
    let req = AuthRequest::new(&params, &keys.sig, now)
        .map_err(|e| WebError::Internal(format!("request object: {e}")))?;
    let url = req
        .authorization_url(&op.authorization_endpoint)
        .map_err(|_| {
            WebError::forbidden(
                "oidc_untrusted_provider",
                "Il gestore dell'identità ha un indirizzo di accesso non valido.",
            )
        })?;
    let pending = Pending {
        kind,
        op: op.entity_id.clone(),
        state: req.state.clone(),
        nonce: req.nonce.clone(),
        verifier: req.pkce.verifier.clone(),
        acr: AcrLevel::SpidL2.uri().to_owned(),
        created: now.as_second(),
    };
    let pending = serde_json::to_value(&pending).map_err(|e| WebError::Internal(e.to_string()))?;
    let return_to = super::pages::safe_return(q.ritorno.as_deref());
    let mut res = no_store(Redirect::to(&url).into_response());
    match &auth.session {
        Some(s) => {
            let mut data = s.data.clone();
            super::set_pending(&mut data, PENDING_KEY, Some(pending));
            if return_to.is_some() {
                data.return_to = return_to;
            }
            state.app().save_session_data(s, &data).await?;
        }
        None => {
            let mut data = SessionData {
                return_to,
                ..SessionData::default()
            };
            super::set_pending(&mut data, PENDING_KEY, Some(pending));
            let (token, _) = state.app().start_session(t.id, &data).await?;
            res.headers_mut()
                .append(header::SET_COOKIE, session_cookie(&state, &token));
        }
    }
    tracing::info!(provider = kind.code(), op = %op.entity_id, "SPID/CIE sign-in started");
    Ok(res)
}

#[derive(Deserialize, Default)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// Handles `GET /accedi/oidc/callback`.
async fn callback(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    peer: PeerAddr,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    if let Err(e) = rate_limited(&state, peer, &headers) {
        return e.into_response();
    }
    let Some(session) = auth.session.as_ref() else {
        tracing::warn!(
            code = "oidc_no_session",
            "SPID/CIE callback without a session"
        );
        return fail_page(WebError::bad_request(
            "oidc_no_session",
            "Non risulta un accesso in corso da questo browser: la sessione è scaduta o i cookie sono disattivati. Ricomincia l'accesso dalla pagina Accedi.",
        ));
    };
    let pending: Option<Pending> = super::get_pending(&session.data, PENDING_KEY);
    // Single use: whatever happens next, this pending sign-in is spent.
    let mut rest = session.data.clone();
    super::set_pending(&mut rest, PENDING_KEY, None);
    let outcome = match pending {
        None => Err(refuse(
            "oidc_no_pending",
            None,
            "SPID/CIE callback without a sign-in in progress",
            WebError::bad_request(
                "oidc_no_pending",
                "Non risulta un accesso in corso da questo browser, oppure è già stato completato. Ricomincia l'accesso dalla pagina Accedi.",
            ),
        )),
        Some(p) => finish(&state, &t, session, &rest, p, &q).await,
    };
    match outcome {
        Ok(res) => res,
        Err(e) => {
            // No session survives a failed sign-in (a signed-in one keeps
            // its principal, without the spent pending sign-in).
            let mut res = fail_page(e);
            if session.is_signed_in() {
                if let Err(e) = state.app().save_session_data(session, &rest).await {
                    return WebError::from(e).into_response();
                }
            } else {
                if let Err(e) = state.app().end_session(session).await {
                    return WebError::from(e).into_response();
                }
                res.headers_mut()
                    .append(header::SET_COOKIE, clear_session_cookie(&state));
            }
            res
        }
    }
}

fn fail_page(e: WebError) -> Response {
    no_store(e.into_response())
}

/// Logs a refusal (never with tokens) and returns its error.
fn refuse(code: &'static str, provider: Option<&str>, what: &str, e: WebError) -> WebError {
    tracing::warn!(code, provider = provider.unwrap_or("-"), "{what}");
    e
}

fn state_mismatch() -> WebError {
    WebError::forbidden(
        "oidc_state_mismatch",
        "La risposta del gestore dell'identità non corrisponde all'accesso avviato da questo browser. Ricomincia l'accesso.",
    )
}

async fn finish(
    state: &AppState,
    t: &Tenant,
    session: &Session,
    rest: &SessionData,
    p: Pending,
    q: &CallbackQuery,
) -> Result<Response, WebError> {
    let kind = p.kind.code();
    let given_state = q.state.as_deref().unwrap_or_default();
    if !super::same(given_state, &p.state) {
        return Err(refuse(
            "oidc_state_mismatch",
            Some(kind),
            "SPID/CIE callback with a wrong state",
            state_mismatch(),
        ));
    }
    if Timestamp::now().as_second() - p.created > PENDING_MAX_AGE_SECS {
        return Err(refuse(
            "oidc_expired",
            Some(kind),
            "SPID/CIE callback after the sign-in expired",
            WebError::bad_request(
                "oidc_expired",
                "L'accesso è durato troppo a lungo ed è scaduto. Ricomincia l'accesso.",
            ),
        ));
    }
    if let Some(err) = &q.error {
        // `error` is the OP's OAuth code (a short token, safe to log).
        let err: String = err.chars().take(64).collect();
        tracing::warn!(code = "oidc_op_error", provider = kind, op_error = %err, "identity provider returned an error");
        return Err(WebError::forbidden(
            "oidc_op_error",
            "L'accesso non è stato completato: il gestore dell'identità ha annullato o rifiutato la richiesta (ad esempio perché non è stato dato il consenso). Puoi riprovare dalla pagina Accedi.",
        ));
    }
    match (&q.iss, p.kind) {
        (Some(iss), _) if iss.trim_end_matches('/') != p.op => {
            return Err(refuse(
                "oidc_wrong_issuer",
                Some(kind),
                "SPID/CIE callback from another issuer",
                wrong_issuer(),
            ));
        }
        (None, ProviderKind::Cie) => {
            return Err(refuse(
                "oidc_wrong_issuer",
                Some(kind),
                "CIE callback without iss",
                wrong_issuer(),
            ));
        }
        _ => {}
    }
    let Some(code) = q.code.as_deref().filter(|c| !c.is_empty()) else {
        return Err(refuse(
            "oidc_missing_code",
            Some(kind),
            "SPID/CIE callback without a code",
            WebError::bad_request(
                "oidc_missing_code",
                "La risposta del gestore dell'identità è incompleta. Ricomincia l'accesso.",
            ),
        ));
    };
    let fed = state.federation();
    // The provider must still be configured and trusted.
    if !fed.cfg.providers_of(p.kind).any(|c| c.entity_id == p.op) {
        return Err(refuse(
            "oidc_untrusted_provider",
            Some(kind),
            "SPID/CIE callback for a provider no longer configured",
            WebError::forbidden(
                "oidc_untrusted_provider",
                "Il gestore dell'identità non è più abilitato su questo sito.",
            ),
        ));
    }
    let op = fed.trusted_provider(p.kind, &p.op).await?;
    let keys = fed.keys(state.app().keys(), &t.data.slug).await?;
    let client_id = entity_id(state, t)?;
    let http = fed.http()?;
    let login = |e: LoginError| login_error(kind, &e);
    let acr_min: AcrLevel = p.acr.parse().unwrap_or(AcrLevel::SpidL2);
    let tokens = rp::exchange_code(
        http,
        &op.token_endpoint,
        &client_id,
        code,
        &p.verifier,
        &keys.sig,
        Timestamp::now(),
    )
    .await
    .map_err(login)?;
    let id_token = rp::validate_id_token(
        &tokens.id_token,
        &op.jwks,
        &rp::IdTokenExpectations {
            issuer: &op.issuer,
            client_id: &client_id,
            nonce: &p.nonce,
            acr_min,
        },
        &tokens.access_token,
        Timestamp::now(),
    )
    .map_err(login)?;
    let (media, body) = rp::fetch_userinfo(http, &op.userinfo_endpoint, &tokens.access_token)
        .await
        .map_err(login)?;
    let citizen = rp::read_userinfo(
        &body,
        &media,
        keys.enc.private_key(),
        &op.jwks,
        &rp::UserinfoExpectations {
            sub: &id_token.sub,
            issuer: &op.issuer,
            client_id: &client_id,
        },
        Timestamp::now(),
    )
    .map_err(login)?;
    let identity = verified_identity(p.kind, &op.entity_id, &id_token, &citizen).map_err(|e| {
        refuse(
            e.code(),
            Some(kind),
            "SPID/CIE identity without a valid codice fiscale",
            e,
        )
    })?;
    let user = state.app().record_sign_in(t.id, &identity).await?;
    let name = format!("{} {}", identity.given_name, identity.family_name)
        .trim()
        .to_owned();
    let (token, new_session) = state
        .app()
        .rotate_session(
            Some(session),
            t.id,
            SignedIn {
                user: Some(user.id),
                provider: kind.to_owned(),
                acr: identity.acr.clone(),
                name,
                ..SignedIn::default()
            },
        )
        .await?;
    let mut data = new_session.data.clone();
    let revoke = RevokeInfo {
        op: op.entity_id.clone(),
        token_sealed: seal_access_token(
            &state.config().secret,
            &op.entity_id,
            &tokens.access_token,
        )?,
    };
    super::set_pending(&mut data, REVOKE_KEY, serde_json::to_value(&revoke).ok());
    state.app().save_session_data(&new_session, &data).await?;
    tracing::info!(provider = kind, acr = %id_token.acr, user = user.id.0, "signed in with SPID/CIE");
    let to = rest
        .return_to
        .clone()
        .unwrap_or_else(|| "/area-personale".to_owned());
    let mut res = no_store(Redirect::to(&to).into_response());
    res.headers_mut()
        .append(header::SET_COOKIE, session_cookie(state, &token));
    Ok(res)
}

fn wrong_issuer() -> WebError {
    WebError::forbidden(
        "oidc_wrong_issuer",
        "La risposta non proviene dal gestore dell'identità scelto. Ricomincia l'accesso.",
    )
}

/// Maps a failure of the token, ID token or userinfo step.
fn login_error(provider: &str, e: &LoginError) -> WebError {
    let code = match e {
        LoginError::Http(_) => "oidc_provider_unreachable",
        LoginError::OpError { .. } => "oidc_token_refused",
        LoginError::InvalidResponse(_) => "oidc_invalid_response",
        LoginError::Token {
            source: JoseError::Expired | JoseError::NotYetValid,
            ..
        } => "oidc_token_expired",
        LoginError::Token { .. } => "oidc_invalid_token",
        LoginError::WrongIssuer => "oidc_wrong_issuer",
        LoginError::WrongAudience => "oidc_wrong_audience",
        LoginError::WrongNonce => "oidc_wrong_nonce",
        LoginError::MissingAcr | LoginError::AcrTooWeak => "oidc_acr_too_weak",
        LoginError::MissingAtHash | LoginError::WrongAtHash => "oidc_wrong_at_hash",
        LoginError::SubMismatch => "oidc_sub_mismatch",
        _ => "oidc_login_failed",
    };
    tracing::warn!(
        code,
        provider,
        cause = e.code(),
        error = %e,
        "SPID/CIE sign-in refused"
    );
    WebError::forbidden(code, e.message_it())
}

/// The identity established by the provider. A missing or invalid codice
/// fiscale is an error: citizens are keyed on it.
fn verified_identity(
    kind: ProviderKind,
    op: &str,
    id_token: &rp::IdToken,
    c: &rp::Citizen,
) -> Result<VerifiedIdentity, WebError> {
    use palazzo_domain::ids::{CodiceFiscale, Email};
    let from_id_token = |k: &str| id_token.claims.str(k).map(str::to_owned);
    let cf = c
        .fiscal_number
        .as_deref()
        .and_then(|cf| CodiceFiscale::parse(cf).ok())
        .ok_or_else(|| {
            WebError::forbidden(
                "oidc_missing_fiscal_number",
                "Il gestore dell'identità non ha fornito un codice fiscale valido: non è possibile accedere ai servizi del Comune.",
            )
        })?;
    let birth_place = c.place_of_birth.as_ref().and_then(|p| {
        let locality = p.get("locality").and_then(Value::as_str)?;
        Some(match p.get("region").and_then(Value::as_str) {
            Some(r) => format!("{locality} ({r})"),
            None => locality.to_owned(),
        })
    });
    Ok(VerifiedIdentity {
        provider: kind.code().to_owned(),
        issuer: op.to_owned(),
        subject: id_token.sub.clone(),
        acr: Some(id_token.acr.uri().to_owned()),
        codice_fiscale: Some(cf),
        given_name: c
            .given_name
            .clone()
            .or_else(|| from_id_token("given_name"))
            .unwrap_or_default(),
        family_name: c
            .family_name
            .clone()
            .or_else(|| from_id_token("family_name"))
            .unwrap_or_default(),
        birth_date: c
            .date_of_birth
            .as_deref()
            .and_then(|d| d.parse::<jiff::civil::Date>().ok()),
        birth_place,
        email: c.email.as_deref().and_then(|e| Email::parse(e).ok()),
        phone: c.phone_number.clone(),
    })
}

/// The logout hook of `POST /esci`: revokes the session's SPID/CIE access
/// token at the OP (RFC 7009). Never fails: a revocation that does not
/// succeed within 5 seconds is logged and the local logout goes on.
pub async fn revoke_at_op(state: &AppState, session: &Session) {
    let Some(info) = super::get_pending::<RevokeInfo>(&session.data, REVOKE_KEY) else {
        return;
    };
    let token = match open_access_token(&state.config().secret, &info) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(code = "oidc_revocation_failed", op = %info.op, cause = e.code(), "stored access token does not decrypt: revocation skipped");
            return;
        }
    };
    let outcome = tokio::time::timeout(
        Duration::from_secs(5),
        revoke(state, session, &info.op, &token),
    )
    .await;
    match outcome {
        Ok(Ok(())) => {
            tracing::info!(op = %info.op, "access token revoked at the identity provider")
        }
        Ok(Err(e)) => {
            tracing::warn!(code = "oidc_revocation_failed", op = %info.op, error = %e, "revocation at the identity provider failed")
        }
        Err(_) => {
            tracing::warn!(code = "oidc_revocation_failed", op = %info.op, "revocation at the identity provider timed out")
        }
    }
}

async fn revoke(state: &AppState, session: &Session, op: &str, token: &str) -> Result<(), String> {
    let fed = state.federation();
    let t = state
        .app()
        .tenants()
        .into_iter()
        .find(|t| t.id == session.record.tenant)
        .ok_or("tenant gone")?;
    let op = fed.provider(op).await.map_err(|e| e.code().to_owned())?;
    let Some(endpoint) = op.revocation_endpoint.as_deref() else {
        return Err("the provider has no revocation endpoint".into());
    };
    let keys = fed
        .keys(state.app().keys(), &t.data.slug)
        .await
        .map_err(|e| e.code().to_owned())?;
    let client_id = entity_id(state, &t).map_err(|e| e.code().to_owned())?;
    let http = fed.http().map_err(|e| e.code().to_owned())?;
    rp::revoke(
        http,
        endpoint,
        token,
        &client_id,
        &keys.sig,
        Timestamp::now(),
    )
    .await
    .map_err(|e| e.code().to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn access_token_is_sealed_in_the_session_data() {
        let secret = [9u8; 32];
        let op = "https://op.example.it/oidc/op";
        let token = "eyJhbGciOiJSUzI1NiJ9.an-access-token.sig";
        let sealed = seal_access_token(&secret, op, token).unwrap();
        let mut d = SessionData::default();
        let info = RevokeInfo {
            op: op.into(),
            token_sealed: sealed.clone(),
        };
        crate::auth::set_pending(&mut d, REVOKE_KEY, serde_json::to_value(&info).ok());
        let stored = serde_json::to_string(&d).unwrap();
        assert!(!stored.contains("an-access-token"), "{stored}");
        assert_eq!(
            stored_access_token(&secret, &d),
            Some((op.to_owned(), token.to_owned()))
        );
        // Another server secret, another OP, a changed byte: nothing opens.
        assert_eq!(stored_access_token(&[8u8; 32], &d), None);
        let moved = RevokeInfo {
            op: "https://other.example.it/oidc/op".into(),
            token_sealed: sealed.clone(),
        };
        assert!(open_access_token(&secret, &moved).is_err());
        let mut bytes = sealed.into_bytes();
        let i = bytes.len() - 5;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = RevokeInfo {
            op: op.into(),
            token_sealed: String::from_utf8(bytes).unwrap(),
        };
        assert!(open_access_token(&secret, &tampered).is_err());
        // A purpose-specific key: not the secret itself, halves differ.
        let key = access_token_key(&secret);
        assert_ne!(key[..32], secret);
        assert_ne!(key[..32], key[32..]);
    }

    #[test]
    fn pending_keys_are_kept_apart() {
        let mut d = SessionData::default();
        crate::auth::set_pending(&mut d, PENDING_KEY, Some(json!({"a": 1})));
        crate::auth::set_pending(&mut d, "other", Some(json!(2)));
        crate::auth::set_pending(&mut d, PENDING_KEY, None);
        assert_eq!(d.pending, Some(json!({"other": 2})));
        crate::auth::set_pending(&mut d, "other", None);
        assert_eq!(d.pending, None);
    }
}
