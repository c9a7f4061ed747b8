//! Generic OpenID Connect for staff (Keycloak, Entra ID, Google Workspace, npm
//! `oidc-provider`): discovery, JWKS, authorization code flow with PKCE, client secret
//! authentication, ID token validation, optional userinfo, group → role mapping, and
//! RP-initiated logout when the provider offers it.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use crate::jose::{self, Claims, JwkSet};
pub use crate::oauth::{LoginError, Pkce, TokenResponse};
use crate::oauth::{Result, check_id_token, form_encode, send_json, token_response};

/// How we authenticate at the token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// HTTP Basic with the form-encoded id and secret (`client_secret_basic`).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    ClientSecretPost,
}

/// Configuration of the staff identity provider. `Debug` hides the secret.
#[derive(Clone, Deserialize)]
pub struct OidcClientConfig {
    /// Issuer URL (discovery is at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Our callback URL.
    pub redirect_uri: String,
    /// Scopes beyond `openid profile email`.
    #[serde(default)]
    pub extra_scopes: Vec<String>,
    /// Token endpoint authentication.
    #[serde(default)]
    pub auth_method: ClientAuth,
    /// Claim carrying the groups or roles (e.g. `groups`, `roles`).
    pub role_claim: String,
    /// Group (claim value) → Palazzo role name; unknown groups are ignored.
    #[serde(default)]
    pub role_map: BTreeMap<String, String>,
}

impl fmt::Debug for OidcClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClientConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("redirect_uri", &self.redirect_uri)
            .field("extra_scopes", &self.extra_scopes)
            .field("auth_method", &self.auth_method)
            .field("role_claim", &self.role_claim)
            .field("role_map", &self.role_map)
            .finish()
    }
}

/// The parts of the discovery document we use.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ProviderMetadata {
    /// Issuer; must equal the configured one.
    pub issuer: String,
    /// Authorization endpoint.
    pub authorization_endpoint: String,
    /// Token endpoint.
    pub token_endpoint: String,
    /// JWKS URL.
    pub jwks_uri: String,
    /// Userinfo endpoint.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// RP-initiated logout endpoint.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    /// Revocation endpoint.
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
}

/// Fetches and checks the discovery document of `issuer`.
pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<ProviderMetadata> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let map = send_json(http.get(url)).await?;
    let meta: ProviderMetadata = serde_json::from_value(Value::Object(map))
        .map_err(|_| LoginError::InvalidResponse("discovery document"))?;
    if meta.issuer != issuer {
        return Err(LoginError::WrongIssuer);
    }
    Ok(meta)
}

/// Fetches the provider's JWKS (cache it, and refetch when a `kid` is unknown).
pub async fn fetch_jwks(http: &reqwest::Client, jwks_uri: &str) -> Result<JwkSet> {
    let map = send_json(http.get(jwks_uri)).await?;
    JwkSet::from_value(&Value::Object(map)).map_err(|_| LoginError::InvalidResponse("jwks"))
}

/// A prepared staff authorization request. Keep `state`, `nonce` and `pkce.verifier` in the
/// session.
#[derive(Clone)]
pub struct StaffAuthRequest {
    /// Random `state`.
    pub state: String,
    /// Random `nonce`.
    pub nonce: String,
    /// PKCE pair.
    pub pkce: Pkce,
    /// The URL to redirect the browser to.
    pub url: String,
}

impl fmt::Debug for StaffAuthRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffAuthRequest")
            .field("state", &self.state)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl StaffAuthRequest {
    /// Builds the authorization URL with `state`, `nonce`, PKCE S256 and the scopes
    /// `openid profile email` plus the configured extras.
    pub fn new(meta: &ProviderMetadata, cfg: &OidcClientConfig) -> Result<Self> {
        let state = jose::random_token(32);
        let nonce = jose::random_token(32);
        let pkce = Pkce::generate();
        let mut scopes = vec!["openid", "profile", "email"];
        for s in &cfg.extra_scopes {
            if !scopes.contains(&s.as_str()) {
                scopes.push(s);
            }
        }
        let mut url = reqwest::Url::parse(&meta.authorization_endpoint)
            .map_err(|_| LoginError::InvalidResponse("authorization_endpoint"))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &cfg.client_id)
            .append_pair("redirect_uri", &cfg.redirect_uri)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(Self {
            state,
            nonce,
            pkce,
            url: url.into(),
        })
    }
}

/// Exchanges the code at the token endpoint with the configured client authentication.
pub async fn exchange_code(
    http: &reqwest::Client,
    meta: &ProviderMetadata,
    cfg: &OidcClientConfig,
    code: &str,
    code_verifier: &str,
) -> Result<TokenResponse> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("code_verifier", code_verifier),
        ("redirect_uri", cfg.redirect_uri.as_str()),
    ];
    let mut req = http.post(&meta.token_endpoint);
    match cfg.auth_method {
        ClientAuth::ClientSecretBasic => {
            let creds = format!(
                "{}:{}",
                form_encode(&cfg.client_id),
                form_encode(&cfg.client_secret)
            );
            let value = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(creds)
            );
            req = req.header(reqwest::header::AUTHORIZATION, value);
        }
        ClientAuth::ClientSecretPost => {
            form.push(("client_id", cfg.client_id.as_str()));
            form.push(("client_secret", cfg.client_secret.as_str()));
        }
    }
    token_response(send_json(req.form(&form)).await?)
}

/// Validates a staff ID token: signature with the provider's keys (RS256/PS256/ES256 and the
/// RS384/RS512 family), `iss`, `aud` (and `azp` when there are several audiences), `exp`/`iat`,
/// `nonce`. Returns the claims.
pub fn validate_id_token(
    token: &str,
    jwks: &JwkSet,
    meta: &ProviderMetadata,
    client_id: &str,
    nonce: &str,
    now: Timestamp,
) -> Result<Claims> {
    check_id_token(token, jwks, &meta.issuer, client_id, nonce, now).map(|(_, claims)| claims)
}

/// Reads the userinfo endpoint (plain JSON) and checks that `sub` matches the ID token's.
pub async fn userinfo(
    http: &reqwest::Client,
    meta: &ProviderMetadata,
    access_token: &str,
    expected_sub: &str,
) -> Result<Claims> {
    let endpoint = meta
        .userinfo_endpoint
        .as_deref()
        .ok_or(LoginError::Config("the provider has no userinfo endpoint"))?;
    let map = send_json(http.get(endpoint).bearer_auth(access_token)).await?;
    let claims = Claims(map);
    if claims.str("sub") != Some(expected_sub) {
        return Err(LoginError::SubMismatch);
    }
    Ok(claims)
}

/// Maps the groups in claim `claim` (a string or an array of strings) to role names through
/// `table`; unknown groups are ignored, the result is sorted and without duplicates.
pub fn map_roles(claims: &Claims, claim: &str, table: &BTreeMap<String, String>) -> Vec<String> {
    let groups: Vec<&str> = match claims.get(claim) {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut roles: Vec<String> = groups
        .into_iter()
        .filter_map(|g| table.get(g).cloned())
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

/// The RP-initiated logout URL, when the provider advertises `end_session_endpoint`.
pub fn end_session_url(
    meta: &ProviderMetadata,
    client_id: &str,
    id_token_hint: Option<&str>,
    post_logout_redirect_uri: Option<&str>,
    state: Option<&str>,
) -> Option<String> {
    let mut url = reqwest::Url::parse(meta.end_session_endpoint.as_deref()?).ok()?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("client_id", client_id);
        if let Some(h) = id_token_hint {
            q.append_pair("id_token_hint", h);
        }
        if let Some(u) = post_logout_redirect_uri {
            q.append_pair("post_logout_redirect_uri", u);
        }
        if let Some(s) = state {
            q.append_pair("state", s);
        }
    }
    Some(url.into())
}

#[cfg(test)]
#[path = "oidc_tests.rs"]
mod tests;
