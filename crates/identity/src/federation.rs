//! OpenID Connect Federation 1.0 as profiled by SPID/CIE: entity statements, our relying
//! party's Entity Configuration, and trust chain resolution with `metadata_policy`.
//!
//! A trust chain for an OP is, from the bottom up: the OP's Entity Configuration (self-signed),
//! the subordinate statement about the OP issued by its superior (fetched from the superior's
//! `federation_fetch_endpoint?sub=<OP>`), the superior's Entity Configuration, and so on up to a
//! configured trust anchor, whose Entity Configuration must verify with the keys configured
//! for it. Every statement must be signed, unexpired and carry `typ: entity-statement+jwt`; each
//! subordinate statement pins the keys of its subject.
//!
//! The trust marks in the leaf's Entity Configuration are verified against the chain
//! ([`TrustChain::trust_marks`]): a mark counts only when it is signed by the trust anchor or
//! by an issuer the anchor lists for that id in `trust_mark_issuers`, with that issuer's keys
//! as the chain pins them, is about the leaf, and has not expired. Any other mark is ignored
//! (kept with its reason in [`TrustChain::rejected_trust_marks`]), never trusted.

use std::future::Future;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::http::{self, HttpError};
use crate::jose::{self, ALL_JWS_ALGS, Alg, JoseError, JwkSet, KeyUse, RsaKeyPair};

/// JWS `typ` of trust marks (checked when present).
pub const TRUST_MARK_TYP: &str = "trust-mark+jwt";
/// Most trust marks of one Entity Configuration that are examined.
pub const MAX_TRUST_MARKS: usize = 16;
/// JWS `typ` of entity statements.
pub const ENTITY_STATEMENT_TYP: &str = "entity-statement+jwt";
/// HTTP `Content-Type` of entity statements.
pub const ENTITY_STATEMENT_CONTENT_TYPE: &str = "application/entity-statement+jwt";
/// Path of the Entity Configuration under an entity id.
pub const WELL_KNOWN_PATH: &str = "/.well-known/openid-federation";
/// Signature algorithms accepted on entity statements.
pub const FEDERATION_ALGS: &[Alg] = ALL_JWS_ALGS;
/// Most subordinate statements a chain may have, whatever the anchors' constraints say.
pub const MAX_CHAIN_DEPTH: usize = 5;
/// Most `authority_hints` followed per entity.
pub const MAX_AUTHORITY_HINTS: usize = 4;
/// Most superiors visited while resolving one chain (each costs two fetches).
pub const MAX_SUPERIOR_VISITS: usize = 12;
/// Clock leeway on statement times, in seconds.
pub const LEEWAY_SECS: i64 = 60;

/// Federation failures. Each has a stable [`FederationError::code`] and an Italian
/// [`FederationError::message_it`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FederationError {
    /// A statement from `entity` failed verification (signature, time, format).
    #[error("statement from {entity} rejected: {source}")]
    Invalid {
        /// Entity whose statement was rejected.
        entity: String,
        /// Why.
        #[source]
        source: JoseError,
    },
    /// A statement is well signed but its content is wrong.
    #[error("bad entity statement from {entity}: {reason}")]
    BadStatement {
        /// Entity whose statement is wrong.
        entity: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Fetching a statement failed.
    #[error("fetching {url}: {source}")]
    Fetch {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: HttpError,
    },
    /// No chain reaches a configured trust anchor.
    #[error("no trust chain reaches a configured trust anchor")]
    NoTrustAnchor,
    /// The chain is longer than the anchor's `max_path_length` allows.
    #[error("trust chain longer than allowed by the constraints")]
    PathTooLong,
    /// Two `metadata_policy` levels conflict.
    #[error("conflicting metadata policies on {0}")]
    PolicyConflict(String),
    /// The leaf metadata violates the `metadata_policy`.
    #[error("metadata violates policy on {0}")]
    PolicyViolation(String),
    /// Required metadata is missing.
    #[error("missing metadata {0}")]
    MissingMetadata(&'static str),
    /// Our own configuration is unusable.
    #[error("invalid federation configuration: {0}")]
    Config(&'static str),
    /// A JOSE operation on our side failed.
    #[error(transparent)]
    Jose(#[from] JoseError),
}

impl FederationError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { source, .. } => match source {
                JoseError::Expired | JoseError::NotYetValid => "identity.federation.expired",
                JoseError::BadSignature | JoseError::NoKey | JoseError::AmbiguousKey => {
                    "identity.federation.bad_signature"
                }
                _ => "identity.federation.invalid_statement",
            },
            Self::BadStatement { .. } => "identity.federation.bad_statement",
            Self::Fetch { .. } => "identity.federation.fetch",
            Self::NoTrustAnchor => "identity.federation.no_trust_anchor",
            Self::PathTooLong => "identity.federation.path_too_long",
            Self::PolicyConflict(_) => "identity.federation.policy_conflict",
            Self::PolicyViolation(_) => "identity.federation.policy_violation",
            Self::MissingMetadata(_) => "identity.federation.missing_metadata",
            Self::Config(_) => "identity.federation.config",
            Self::Jose(e) => e.code(),
        }
    }

    /// Italian message for users.
    pub fn message_it(&self) -> &'static str {
        match self {
            Self::Fetch { .. } => {
                "Il gestore dell'identità non è raggiungibile in questo momento. Riprova più tardi."
            }
            Self::Config(_) | Self::Jose(_) => {
                "Errore interno di configurazione dell'accesso. Contatta l'assistenza."
            }
            _ => {
                "Il gestore dell'identità scelto non risulta affidabile nella federazione SPID/CIE. \
                 Scegli un altro gestore o riprova più tardi."
            }
        }
    }
}

type Result<T, E = FederationError> = std::result::Result<T, E>;

/// Constraints of a statement (`constraints` claim).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Constraints {
    /// Most intermediates allowed between the issuer and the leaf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_path_length: Option<u32>,
    /// Other constraints, kept as they are.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The decoded claims of an entity statement (an Entity Configuration when `iss == sub`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntityStatement {
    /// Issuer entity id.
    pub iss: String,
    /// Subject entity id.
    pub sub: String,
    /// Issued at (seconds).
    pub iat: i64,
    /// Expires at (seconds).
    pub exp: i64,
    /// Federation keys of the subject.
    pub jwks: JwkSet,
    /// Superiors of the subject (Entity Configurations only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authority_hints: Vec<String>,
    /// Metadata by entity type.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// Metadata policy by entity type (subordinate statements).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata_policy: Map<String, Value>,
    /// Trust marks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust_marks: Vec<Value>,
    /// Trust mark id → entity ids allowed to issue it (trust anchors' configurations).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub trust_mark_issuers: Map<String, Value>,
    /// Constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<Constraints>,
    /// Where the statement can be fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_endpoint: Option<String>,
    /// Any other claim.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl EntityStatement {
    fn parse(entity: &str, payload: &[u8]) -> Result<Self> {
        serde_json::from_slice(payload).map_err(|_| FederationError::Invalid {
            entity: entity.to_owned(),
            source: JoseError::Malformed("entity statement claims"),
        })
    }

    /// Verifies a statement with the given keys: signature, `typ`, `iat`/`exp`.
    pub fn verify_with(token: &str, jwks: &JwkSet, now: Timestamp) -> Result<Self> {
        let entity = jose::decode_unverified_payload(token)
            .ok()
            .and_then(|p| serde_json::from_slice::<Value>(&p).ok())
            .and_then(|v| v.get("iss").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| "?".to_owned());
        let invalid = |source| FederationError::Invalid {
            entity: entity.clone(),
            source,
        };
        let verified = jose::verify(token, jwks, FEDERATION_ALGS).map_err(invalid)?;
        if verified.header_str("typ") != Some(ENTITY_STATEMENT_TYP) {
            return Err(FederationError::BadStatement {
                entity,
                reason: "typ is not entity-statement+jwt",
            });
        }
        let st = Self::parse(&entity, &verified.payload)?;
        jose::check_time(Some(st.iat), Some(st.exp), now, LEEWAY_SECS).map_err(invalid)?;
        Ok(st)
    }

    /// Verifies an Entity Configuration with the keys it carries; requires `iss == sub`.
    pub fn verify_self_signed(token: &str, now: Timestamp) -> Result<Self> {
        let unverified =
            jose::decode_unverified_payload(token).map_err(|source| FederationError::Invalid {
                entity: "?".into(),
                source,
            })?;
        let claimed = Self::parse("?", &unverified)?;
        let st = Self::verify_with(token, &claimed.jwks, now)?;
        if st.iss != st.sub {
            return Err(FederationError::BadStatement {
                entity: st.iss,
                reason: "entity configuration with iss != sub",
            });
        }
        Ok(st)
    }

    /// `metadata.federation_entity.federation_fetch_endpoint`.
    pub fn federation_fetch_endpoint(&self) -> Option<&str> {
        self.metadata
            .get("federation_entity")?
            .get("federation_fetch_endpoint")?
            .as_str()
    }
}

/// URL of the Entity Configuration of `entity_id`.
pub fn entity_configuration_url(entity_id: &str) -> String {
    format!("{}{WELL_KNOWN_PATH}", entity_id.trim_end_matches('/'))
}

// ---------------------------------------------------------------------------------------------
// Our Entity Configuration
// ---------------------------------------------------------------------------------------------

/// The keys of our relying party: three distinct RSA keys.
#[derive(Clone, Copy, Debug)]
pub struct RpKeys<'a> {
    /// Federation key: signs the Entity Configuration; its public part is registered at the TA.
    pub federation: &'a RsaKeyPair,
    /// Core signing key (`use: sig`): request objects and client assertions.
    pub sig: &'a RsaKeyPair,
    /// Core encryption key (`use: enc`): the OP encrypts userinfo to it.
    pub enc: &'a RsaKeyPair,
}

/// What goes into our relying party's Entity Configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpEntityConfig {
    /// Entity id = `client_id`, an https URL without trailing slash.
    pub entity_id: String,
    /// Superiors: the trust anchor or an aggregator.
    pub authority_hints: Vec<String>,
    /// Trust marks issued to us (as received from the TA: objects with `id` and `trust_mark`).
    pub trust_marks: Vec<Value>,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Name of the service shown to citizens.
    pub client_name: String,
    /// Name of the organisation (the comune).
    pub organization_name: String,
    /// Contact e-mail addresses.
    pub contacts: Vec<String>,
    /// Home page of the organisation.
    pub homepage_uri: String,
    /// Privacy policy page.
    pub policy_uri: String,
    /// Lifetime of the signed configuration, in seconds.
    pub lifetime_secs: i64,
}

impl RpEntityConfig {
    /// The claims of the Entity Configuration at `now`.
    pub fn claims(&self, keys: RpKeys<'_>, now: Timestamp) -> Result<Map<String, Value>> {
        if self.entity_id.is_empty() || self.entity_id.ends_with('/') {
            return Err(FederationError::Config(
                "entity id must be non-empty without trailing slash",
            ));
        }
        if self.authority_hints.is_empty() {
            return Err(FederationError::Config(
                "at least one authority hint is needed",
            ));
        }
        if self.redirect_uris.is_empty() {
            return Err(FederationError::Config(
                "at least one redirect URI is needed",
            ));
        }
        let kids = [keys.federation.kid(), keys.sig.kid(), keys.enc.kid()];
        if kids[0] == kids[1] || kids[0] == kids[2] || kids[1] == kids[2] {
            return Err(FederationError::Config(
                "federation, sig and enc keys must be distinct",
            ));
        }
        let iat = now.as_second();
        let mut claims = json!({
            "iss": self.entity_id,
            "sub": self.entity_id,
            "iat": iat,
            "exp": iat + self.lifetime_secs,
            "jwks": { "keys": [keys.federation.to_public_jwk(KeyUse::Sig)] },
            "authority_hints": self.authority_hints,
            "metadata": {
                "openid_relying_party": {
                    "client_id": self.entity_id,
                    "client_registration_types": ["automatic"],
                    "jwks": { "keys": [keys.sig.to_public_jwk(KeyUse::Sig), keys.enc.to_public_jwk(KeyUse::Enc)] },
                    "redirect_uris": self.redirect_uris,
                    "response_types": ["code"],
                    "grant_types": ["authorization_code", "refresh_token"],
                    "token_endpoint_auth_method": "private_key_jwt",
                    "id_token_signed_response_alg": "RS256",
                    "userinfo_signed_response_alg": "RS256",
                    "userinfo_encrypted_response_alg": "RSA-OAEP",
                    "userinfo_encrypted_response_enc": "A256CBC-HS512",
                    "client_name": self.client_name,
                    "organization_name": self.organization_name,
                    "contacts": self.contacts,
                },
                "federation_entity": {
                    "organization_name": self.organization_name,
                    "homepage_uri": self.homepage_uri,
                    "policy_uri": self.policy_uri,
                    "contacts": self.contacts,
                },
            },
        });
        if !self.trust_marks.is_empty()
            && let Some(obj) = claims.as_object_mut()
        {
            obj.insert("trust_marks".into(), Value::Array(self.trust_marks.clone()));
        }
        match claims {
            Value::Object(m) => Ok(m),
            _ => Err(FederationError::Config("claims")),
        }
    }

    /// The signed Entity Configuration (RS256 with the federation key, `typ:
    /// entity-statement+jwt`, `kid`), to serve at [`WELL_KNOWN_PATH`] with
    /// [`ENTITY_STATEMENT_CONTENT_TYPE`].
    pub fn sign(&self, keys: RpKeys<'_>, now: Timestamp) -> Result<String> {
        let claims = self.claims(keys, now)?;
        Ok(jose::sign_claims(
            Some(ENTITY_STATEMENT_TYP),
            &claims,
            keys.federation,
        )?)
    }
}

// ---------------------------------------------------------------------------------------------
// Fetching
// ---------------------------------------------------------------------------------------------

/// Fetches federation documents. The production implementation is [`HttpFetcher`]; tests use
/// an in-memory map.
pub trait Fetcher {
    /// GETs `url` and returns `(media type, body)`; non-200 answers are errors.
    fn get(&self, url: &str) -> impl Future<Output = Result<(String, String), HttpError>> + Send;
}

/// [`Fetcher`] over HTTP(S) with the limits of [`crate::http`].
#[derive(Clone, Debug)]
pub struct HttpFetcher {
    client: reqwest::Client,
}

impl HttpFetcher {
    /// A fetcher with the default client of [`http::client`].
    pub fn new() -> Result<Self, HttpError> {
        Ok(Self {
            client: http::client()?,
        })
    }

    /// A fetcher over an existing client (keep its timeouts).
    pub fn with_client(client: reqwest::Client) -> Self {
        Self { client }
    }
}

impl Fetcher for HttpFetcher {
    async fn get(&self, url: &str) -> Result<(String, String), HttpError> {
        let resp = self.client.get(url).send().await?;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(HttpError::Status(resp.status().as_u16()));
        }
        let media = http::media_type(&resp);
        if media != ENTITY_STATEMENT_CONTENT_TYPE {
            return Err(HttpError::ContentType(media));
        }
        Ok((media, http::read_text(resp).await?))
    }
}

async fn fetch_statement<F: Fetcher + Sync>(fetcher: &F, url: &str) -> Result<String> {
    let fetch_err = |source| FederationError::Fetch {
        url: url.to_owned(),
        source,
    };
    let (media, body) = fetcher.get(url).await.map_err(fetch_err)?;
    if http::base_media_type(&media) != ENTITY_STATEMENT_CONTENT_TYPE {
        return Err(fetch_err(HttpError::ContentType(media)));
    }
    Ok(body.trim().to_owned())
}

async fn fetch_entity_configuration<F: Fetcher + Sync>(
    fetcher: &F,
    entity_id: &str,
    now: Timestamp,
) -> Result<(String, EntityStatement)> {
    let token = fetch_statement(fetcher, &entity_configuration_url(entity_id)).await?;
    let ec = EntityStatement::verify_self_signed(&token, now)?;
    if ec.sub != entity_id.trim_end_matches('/') {
        return Err(FederationError::BadStatement {
            entity: entity_id.to_owned(),
            reason: "entity configuration is about another entity",
        });
    }
    Ok((token, ec))
}

// ---------------------------------------------------------------------------------------------
// Trust chain
// ---------------------------------------------------------------------------------------------

/// A configured trust anchor: its entity id and the federation keys we trust it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustAnchor {
    /// Entity id of the trust anchor.
    pub entity_id: String,
    /// Its federation public keys, from configuration (not from the network).
    pub jwks: JwkSet,
}

/// A resolved and verified trust chain for an entity.
#[derive(Clone, Debug)]
pub struct TrustChain {
    /// The leaf's Entity Configuration.
    pub leaf: EntityStatement,
    /// The raw statements: leaf Entity Configuration, each subordinate statement upwards, and
    /// the trust anchor's Entity Configuration.
    pub statements: Vec<String>,
    /// The trust anchor the chain ends at.
    pub trust_anchor: String,
    /// When the chain expires (the smallest `exp`); cache it until then.
    pub expires_at: Timestamp,
    /// The leaf metadata after the superiors' `metadata` and `metadata_policy` were applied.
    pub resolved_metadata: Map<String, Value>,
    /// The valid trust marks of the leaf (see the module docs).
    pub trust_marks: Vec<TrustMark>,
    /// The leaf's trust marks that were ignored, with why.
    pub rejected_trust_marks: Vec<RejectedTrustMark>,
}

/// A verified trust mark of the leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustMark {
    /// Trust mark id (`id`, `trust_mark_type` or `trust_mark_id`), e.g.
    /// `https://registry.agid.gov.it/openid_provider/public`.
    pub id: String,
    /// Who issued it: the trust anchor or an issuer it allows.
    pub iss: String,
    /// Issued at (seconds).
    pub iat: i64,
    /// Expires at (seconds), if it expires.
    pub exp: Option<i64>,
}

/// A trust mark of the leaf that is not trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedTrustMark {
    /// The id it claims, when it has one.
    pub id: Option<String>,
    /// Why it is ignored (a short English phrase, safe to log).
    pub reason: &'static str,
}

/// What an RP needs to know about an OpenID Provider, from the resolved metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderInfo {
    /// Entity id of the OP.
    pub entity_id: String,
    /// `issuer` (the OP's entity id when absent).
    pub issuer: String,
    /// Authorization endpoint.
    pub authorization_endpoint: String,
    /// Token endpoint.
    pub token_endpoint: String,
    /// Userinfo endpoint.
    pub userinfo_endpoint: String,
    /// Revocation endpoint, if any.
    pub revocation_endpoint: Option<String>,
    /// Core keys of the OP (ID tokens, userinfo), inline in the metadata.
    pub jwks: JwkSet,
}

impl TrustChain {
    /// The ids of the leaf's valid trust marks.
    pub fn trust_mark_ids(&self) -> impl Iterator<Item = &str> {
        self.trust_marks.iter().map(|m| m.id.as_str())
    }

    /// Does the leaf hold a valid trust mark with this id?
    pub fn has_trust_mark(&self, id: &str) -> bool {
        self.trust_mark_ids().any(|m| m == id)
    }

    /// The resolved `openid_provider` metadata.
    pub fn openid_provider(&self) -> Result<ProviderInfo> {
        let md = self
            .resolved_metadata
            .get("openid_provider")
            .and_then(Value::as_object)
            .ok_or(FederationError::MissingMetadata("openid_provider"))?;
        let s = |k: &'static str| md.get(k).and_then(Value::as_str).map(str::to_owned);
        let req = |k: &'static str| s(k).ok_or(FederationError::MissingMetadata(k));
        let jwks = md
            .get("jwks")
            .ok_or(FederationError::MissingMetadata("jwks"))
            .and_then(|v| {
                JwkSet::from_value(v).map_err(|_| FederationError::MissingMetadata("jwks"))
            })?;
        Ok(ProviderInfo {
            entity_id: self.leaf.sub.clone(),
            issuer: s("issuer").unwrap_or_else(|| self.leaf.sub.clone()),
            authorization_endpoint: req("authorization_endpoint")?,
            token_endpoint: req("token_endpoint")?,
            userinfo_endpoint: req("userinfo_endpoint")?,
            revocation_endpoint: s("revocation_endpoint"),
            jwks,
        })
    }
}

#[derive(Clone)]
struct Path {
    /// Entity Configurations from the leaf up: (token, claims).
    ecs: Vec<(String, EntityStatement)>,
    /// Subordinate statements from the leaf's superior up: (token, claims).
    subs: Vec<(String, EntityStatement)>,
}

/// Resolves and verifies the trust chain of `entity_id` up to one of `anchors`.
///
/// Refuses bad signatures, expired statements, subordinate statements that do not pin the
/// subject's keys, anchors whose configuration does not verify with the configured keys,
/// chains longer than allowed, and chains that reach no configured anchor.
pub async fn resolve<F: Fetcher + Sync>(
    entity_id: &str,
    anchors: &[TrustAnchor],
    fetcher: &F,
    now: Timestamp,
) -> Result<TrustChain> {
    let leaf = fetch_entity_configuration(fetcher, entity_id, now).await?;
    let mut stack = vec![Path {
        ecs: vec![leaf],
        subs: Vec::new(),
    }];
    let mut last_err = FederationError::NoTrustAnchor;
    let mut visits = 0;
    while let Some(path) = stack.pop() {
        let Some((top_token, top)) = path.ecs.last() else {
            continue;
        };
        if !path.subs.is_empty()
            && let Some(anchor) = anchors
                .iter()
                .find(|a| a.entity_id.trim_end_matches('/') == top.sub)
        {
            match finish(path.clone(), anchor, now) {
                Ok(chain) => return Ok(chain),
                Err(e) => {
                    last_err = e;
                    continue;
                }
            }
        }
        if path.subs.len() >= MAX_CHAIN_DEPTH {
            continue;
        }
        for hint in top.authority_hints.iter().take(MAX_AUTHORITY_HINTS).rev() {
            if path.ecs.iter().any(|(_, ec)| &ec.sub == hint) {
                continue;
            }
            if visits >= MAX_SUPERIOR_VISITS {
                break;
            }
            visits += 1;
            match climb(fetcher, top_token, top, hint, now).await {
                Ok((sup, sub)) => {
                    let mut next = path.clone();
                    next.subs.push(sub);
                    next.ecs.push(sup);
                    stack.push(next);
                }
                Err(e) => last_err = e,
            }
        }
    }
    Err(last_err)
}

/// One step up: the superior's Entity Configuration and its statement about `subject`.
async fn climb<F: Fetcher + Sync>(
    fetcher: &F,
    subject_token: &str,
    subject: &EntityStatement,
    superior_id: &str,
    now: Timestamp,
) -> Result<((String, EntityStatement), (String, EntityStatement))> {
    let (sup_token, sup) = fetch_entity_configuration(fetcher, superior_id, now).await?;
    let endpoint = sup
        .federation_fetch_endpoint()
        .ok_or(FederationError::MissingMetadata(
            "federation_fetch_endpoint",
        ))?;
    let mut url = reqwest::Url::parse(endpoint).map_err(|_| FederationError::Fetch {
        url: endpoint.to_owned(),
        source: HttpError::BadUrl,
    })?;
    url.query_pairs_mut().append_pair("sub", &subject.sub);
    let token = fetch_statement(fetcher, url.as_str()).await?;
    let statement = EntityStatement::verify_with(&token, &sup.jwks, now)?;
    let bad = |reason| FederationError::BadStatement {
        entity: sup.sub.clone(),
        reason,
    };
    if statement.iss != sup.sub {
        return Err(bad("subordinate statement issued by another entity"));
    }
    if statement.sub != subject.sub {
        return Err(bad("subordinate statement about another entity"));
    }
    // The superior pins the subject's keys: the subject's configuration must verify with them.
    jose::verify(subject_token, &statement.jwks, FEDERATION_ALGS).map_err(|source| {
        FederationError::Invalid {
            entity: subject.sub.clone(),
            source,
        }
    })?;
    Ok(((sup_token, sup), (token, statement)))
}

fn finish(path: Path, anchor: &TrustAnchor, now: Timestamp) -> Result<TrustChain> {
    let (ta_token, ta) = path.ecs.last().ok_or(FederationError::NoTrustAnchor)?;
    EntityStatement::verify_with(ta_token, &anchor.jwks, now)?;
    // Intermediates between the issuer of subs[i] and the leaf: i. The anchor's own
    // configuration constrains the whole chain.
    let too_long = |c: &Option<Constraints>, intermediates: usize| {
        c.as_ref()
            .and_then(|c| c.max_path_length)
            .is_some_and(|max| intermediates > max as usize)
    };
    if too_long(&ta.constraints, path.subs.len().saturating_sub(1))
        || path
            .subs
            .iter()
            .enumerate()
            .any(|(i, (_, s))| too_long(&s.constraints, i))
    {
        return Err(FederationError::PathTooLong);
    }
    let all = path.ecs.iter().chain(path.subs.iter());
    let expires = all.map(|(_, s)| s.exp).min().unwrap_or(0);
    let expires_at = Timestamp::from_second(expires)
        .map_err(|_| FederationError::Config("expiry out of range"))?;

    let (_, leaf) = path.ecs.first().ok_or(FederationError::NoTrustAnchor)?;
    let mut metadata = leaf.metadata.clone();
    if let Some((_, first)) = path.subs.first() {
        overlay_metadata(&mut metadata, &first.metadata);
    }
    let mut policy = Map::new();
    for (_, s) in path.subs.iter().rev() {
        policy = combine_policies(&policy, &s.metadata_policy)?;
    }
    apply_policies(&mut metadata, &policy)?;

    let (trust_marks, rejected_trust_marks) = verify_trust_marks(&path, ta, now);

    let mut statements = vec![path.ecs[0].0.clone()];
    statements.extend(path.subs.iter().map(|(t, _)| t.clone()));
    statements.push(ta_token.clone());
    Ok(TrustChain {
        leaf: leaf.clone(),
        statements,
        trust_anchor: anchor.entity_id.clone(),
        expires_at,
        resolved_metadata: metadata,
        trust_marks,
        rejected_trust_marks,
    })
}

// ---------------------------------------------------------------------------------------------
// Trust marks
// ---------------------------------------------------------------------------------------------

/// The id of a trust mark entry or of its claims: `id`, else `trust_mark_type` (draft 48 and
/// later), else `trust_mark_id` (what spid-cie-oidc also writes).
fn trust_mark_id(v: &Map<String, Value>) -> Option<&str> {
    ["id", "trust_mark_type", "trust_mark_id"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

/// Verifies the trust marks of the leaf of a verified path; returns (valid, ignored).
///
/// A mark is valid when: its entry is an object with a JWS `trust_mark`; the JWS `typ`, when
/// present, is `trust-mark+jwt`; its `iss` is the trust anchor, or an entity that the anchor's
/// `trust_mark_issuers` lists for the mark's id; that issuer is in the chain, and the
/// signature verifies with its keys as pinned by the chain (the anchor's own `jwks`, or the
/// keys its superior's statement gives it); `sub` is the leaf; the id in the claims is the
/// entry's id; `iat` is present and not in the future; `exp`, when present, is not past.
/// Issuers outside the chain are not fetched: their marks are ignored.
fn verify_trust_marks(
    path: &Path,
    ta: &EntityStatement,
    now: Timestamp,
) -> (Vec<TrustMark>, Vec<RejectedTrustMark>) {
    let Some((_, leaf)) = path.ecs.first() else {
        return (Vec::new(), Vec::new());
    };
    let mut valid: Vec<TrustMark> = Vec::new();
    let mut rejected = Vec::new();
    for entry in leaf.trust_marks.iter().take(MAX_TRUST_MARKS) {
        let entry_id = entry.as_object().and_then(trust_mark_id).map(str::to_owned);
        match verify_trust_mark(entry, &leaf.sub, path, ta, now) {
            Ok(mark) => {
                if !valid.iter().any(|m| m.id == mark.id) {
                    valid.push(mark);
                }
            }
            Err(reason) => rejected.push(RejectedTrustMark {
                id: entry_id,
                reason,
            }),
        }
    }
    (valid, rejected)
}

fn verify_trust_mark(
    entry: &Value,
    leaf: &str,
    path: &Path,
    ta: &EntityStatement,
    now: Timestamp,
) -> std::result::Result<TrustMark, &'static str> {
    let entry = entry.as_object().ok_or("entry is not an object")?;
    let token = entry
        .get("trust_mark")
        .and_then(Value::as_str)
        .ok_or("entry without a trust_mark JWS")?;
    let unverified: Map<String, Value> = jose::decode_unverified_payload(token)
        .ok()
        .and_then(|p| serde_json::from_slice(&p).ok())
        .ok_or("not a JWS with JSON claims")?;
    let id = trust_mark_id(&unverified).ok_or("no id in the trust mark")?;
    if trust_mark_id(entry).is_some_and(|e| e != id) {
        return Err("the trust mark's id differs from its entry's id");
    }
    let iss = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or("no iss in the trust mark")?;
    let allowed = iss == ta.sub
        || ta
            .trust_mark_issuers
            .get(id)
            .is_some_and(|list| as_list(list).iter().any(|i| i.as_str() == Some(iss)));
    if !allowed {
        return Err("issuer not allowed by the trust anchor for this id");
    }
    // The issuer's keys as the chain pins them: the anchor's own keys (its configuration was
    // verified with the configured ones), or the keys in the statement its superior made.
    let last = path.ecs.len().saturating_sub(1);
    let keys = match path.ecs.iter().position(|(_, ec)| ec.sub == iss) {
        Some(i) if i == last => &ta.jwks,
        Some(i) => match path.subs.get(i) {
            Some((_, about)) => &about.jwks,
            None => return Err("issuer outside the trust chain"),
        },
        None => return Err("issuer outside the trust chain"),
    };
    let verified = jose::verify(token, keys, FEDERATION_ALGS).map_err(|e| match e {
        JoseError::BadSignature | JoseError::NoKey | JoseError::AmbiguousKey => {
            "signature does not verify with the issuer's keys"
        }
        _ => "invalid JWS",
    })?;
    if verified
        .header_str("typ")
        .is_some_and(|t| t != TRUST_MARK_TYP)
    {
        return Err("typ is not trust-mark+jwt");
    }
    let claims: Map<String, Value> =
        serde_json::from_slice(&verified.payload).map_err(|_| "claims are not JSON")?;
    if claims.get("iss").and_then(Value::as_str) != Some(iss) || trust_mark_id(&claims) != Some(id)
    {
        return Err("claims changed");
    }
    if claims.get("sub").and_then(Value::as_str) != Some(leaf) {
        return Err("trust mark about another entity");
    }
    let time = |k: &str| {
        claims
            .get(k)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
    };
    let iat = time("iat").ok_or("no iat")?;
    let now = now.as_second();
    if iat > now.saturating_add(LEEWAY_SECS) {
        return Err("issued in the future");
    }
    let exp = match claims.get("exp") {
        None | Some(Value::Null) => None,
        Some(_) => Some(time("exp").ok_or("exp is not a number")?),
    };
    if exp.is_some_and(|exp| now >= exp.saturating_add(LEEWAY_SECS)) {
        return Err("expired");
    }
    Ok(TrustMark {
        id: id.to_owned(),
        iss: iss.to_owned(),
        iat,
        exp,
    })
}

/// The immediate superior's `metadata` overrides the leaf's, parameter by parameter.
fn overlay_metadata(metadata: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (etype, params) in over {
        let Some(params) = params.as_object() else {
            continue;
        };
        let target = metadata
            .entry(etype.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(target) = target.as_object_mut() {
            for (k, v) in params {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Metadata policy (OpenID Federation 1.0 §6.1)
// ---------------------------------------------------------------------------------------------

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

fn union(a: &Value, b: &Value) -> Value {
    let mut out = as_list(a);
    for v in as_list(b) {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Value::Array(out)
}

fn intersection(a: &Value, b: &Value) -> Value {
    let b = as_list(b);
    Value::Array(as_list(a).into_iter().filter(|v| b.contains(v)).collect())
}

/// Combines a superior's policy with a subordinate's (both: entity type → parameter →
/// operator → value). Operators: `value`, `add`, `default`, `one_of`, `subset_of`,
/// `superset_of`, `essential`; others are ignored.
pub fn combine_policies(
    superior: &Map<String, Value>,
    subordinate: &Map<String, Value>,
) -> Result<Map<String, Value>> {
    let mut out = superior.clone();
    for (etype, params) in subordinate {
        let Some(params) = params.as_object() else {
            return Err(FederationError::PolicyConflict(etype.clone()));
        };
        let target = out
            .entry(etype.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(target) = target.as_object_mut() else {
            return Err(FederationError::PolicyConflict(etype.clone()));
        };
        for (param, ops) in params {
            let name = format!("{etype}.{param}");
            let Some(ops) = ops.as_object() else {
                return Err(FederationError::PolicyConflict(name));
            };
            let entry = target
                .entry(param.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let Some(existing) = entry.as_object_mut() else {
                return Err(FederationError::PolicyConflict(name));
            };
            for (op, v) in ops {
                let merged = match (op.as_str(), existing.get(op)) {
                    (_, None) => v.clone(),
                    ("value" | "default", Some(old)) if old == v => v.clone(),
                    ("value" | "default", Some(_)) => {
                        return Err(FederationError::PolicyConflict(name));
                    }
                    ("add" | "superset_of", Some(old)) => union(old, v),
                    ("one_of", Some(old)) => {
                        let i = intersection(old, v);
                        if i.as_array().is_some_and(Vec::is_empty) {
                            return Err(FederationError::PolicyConflict(name));
                        }
                        i
                    }
                    ("subset_of", Some(old)) => intersection(old, v),
                    ("essential", Some(old)) => {
                        Value::Bool(old.as_bool().unwrap_or(false) || v.as_bool().unwrap_or(false))
                    }
                    (_, Some(_)) => v.clone(),
                };
                existing.insert(op.clone(), merged);
            }
        }
    }
    Ok(out)
}

/// Applies a combined policy to metadata (entity type → parameters), in the order `value`,
/// `add`, `default`, `one_of`, `subset_of`, `superset_of`, `essential`.
pub fn apply_policies(
    metadata: &mut Map<String, Value>,
    policy: &Map<String, Value>,
) -> Result<()> {
    for (etype, params) in policy {
        let Some(md) = metadata.get_mut(etype).and_then(Value::as_object_mut) else {
            continue;
        };
        let Some(params) = params.as_object() else {
            continue;
        };
        for (param, ops) in params {
            let name = format!("{etype}.{param}");
            let violation = || FederationError::PolicyViolation(name.clone());
            let op = |o: &str| ops.get(o);
            if let Some(v) = op("value") {
                if v.is_null() {
                    md.remove(param);
                } else {
                    md.insert(param.clone(), v.clone());
                }
            }
            if let Some(v) = op("add") {
                let merged = match md.get(param) {
                    Some(old) => union(old, v),
                    None => Value::Array(as_list(v)),
                };
                md.insert(param.clone(), merged);
            }
            if let Some(v) = op("default")
                && !md.contains_key(param)
            {
                md.insert(param.clone(), v.clone());
            }
            if let (Some(allowed), Some(current)) = (op("one_of"), md.get(param))
                && !as_list(allowed).contains(current)
            {
                return Err(violation());
            }
            if let (Some(allowed), Some(current)) = (op("subset_of"), md.get(param)) {
                let i = intersection(current, allowed);
                if i.as_array().is_some_and(Vec::is_empty) {
                    md.remove(param);
                } else {
                    md.insert(param.clone(), i);
                }
            }
            if let (Some(required), Some(current)) = (op("superset_of"), md.get(param)) {
                let have = as_list(current);
                if !as_list(required).iter().all(|r| have.contains(r)) {
                    return Err(violation());
                }
            }
            if op("essential").and_then(Value::as_bool) == Some(true) && !md.contains_key(param) {
                return Err(violation());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "federation_tests.rs"]
mod tests;
