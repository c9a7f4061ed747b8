//! Pieces shared by the SPID/CIE relying party ([`crate::rp`]) and the generic OIDC client
//! ([`crate::oidc`]): the login error type, PKCE, token responses, `at_hash`.

use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use crate::http::{self, HttpError};
use crate::jose::{self, Alg, JoseError};

/// Login failures (both SPID/CIE and staff OIDC). Each has a stable [`LoginError::code`] and an
/// Italian [`LoginError::message_it`]. Never carries tokens.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// HTTP failure talking to the provider.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The provider answered with an OAuth error (or a bare error status).
    #[error("provider error (HTTP {status}): {error:?}")]
    OpError {
        /// HTTP status.
        status: u16,
        /// The OAuth `error` code, when the body had one.
        error: Option<String>,
    },
    /// The provider's answer is not what the protocol requires.
    #[error("invalid provider response: {0}")]
    InvalidResponse(&'static str),
    /// A token (`what`: `id_token`, `userinfo`) failed JOSE checks.
    #[error("{what} rejected: {source}")]
    Token {
        /// Which token.
        what: &'static str,
        /// Why.
        #[source]
        source: JoseError,
    },
    /// `iss` is not the provider's issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` does not contain our client id (or `azp` is wrong).
    #[error("wrong audience")]
    WrongAudience,
    /// `nonce` differs from the one we sent.
    #[error("wrong nonce")]
    WrongNonce,
    /// The ID token has no `acr`.
    #[error("missing acr")]
    MissingAcr,
    /// The ID token `acr` is weaker than requested (or unknown).
    #[error("acr too weak")]
    AcrTooWeak,
    /// The ID token has no `at_hash`.
    #[error("missing at_hash")]
    MissingAtHash,
    /// `at_hash` does not match the access token.
    #[error("at_hash mismatch")]
    WrongAtHash,
    /// The userinfo `sub` differs from the ID token `sub`.
    #[error("userinfo sub differs from the ID token sub")]
    SubMismatch,
    /// Our own configuration is unusable.
    #[error("invalid login configuration: {0}")]
    Config(&'static str),
    /// A JOSE operation on our side (signing) failed.
    #[error(transparent)]
    Jose(#[from] JoseError),
}

impl LoginError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Http(e) => e.code(),
            Self::OpError { .. } => "identity.login.op_error",
            Self::InvalidResponse(_) => "identity.login.invalid_response",
            Self::Token { source, .. } => match source {
                JoseError::Expired | JoseError::NotYetValid => "identity.login.token_expired",
                JoseError::DecryptFailed => "identity.login.decrypt_failed",
                JoseError::BadSignature
                | JoseError::NoKey
                | JoseError::AmbiguousKey
                | JoseError::AlgNone
                | JoseError::AlgNotAllowed(_)
                | JoseError::UnsupportedAlg(_) => "identity.login.bad_signature",
                _ => "identity.login.malformed_token",
            },
            Self::WrongIssuer => "identity.login.wrong_issuer",
            Self::WrongAudience => "identity.login.wrong_audience",
            Self::WrongNonce => "identity.login.wrong_nonce",
            Self::MissingAcr => "identity.login.missing_acr",
            Self::AcrTooWeak => "identity.login.acr_too_weak",
            Self::MissingAtHash => "identity.login.missing_at_hash",
            Self::WrongAtHash => "identity.login.wrong_at_hash",
            Self::SubMismatch => "identity.login.sub_mismatch",
            Self::Config(_) => "identity.login.config",
            Self::Jose(e) => e.code(),
        }
    }

    /// Italian message for users.
    pub fn message_it(&self) -> &'static str {
        match self {
            Self::Http(e) => e.message_it(),
            Self::OpError { .. } => {
                "Il gestore dell'identità ha rifiutato la richiesta. Riprova l'accesso."
            }
            Self::AcrTooWeak | Self::MissingAcr => {
                "Il livello di sicurezza dell'accesso non è sufficiente per questo servizio. \
                 Accedi di nuovo con un livello più alto (ad esempio SPID di livello 2)."
            }
            Self::Token {
                source: JoseError::Expired | JoseError::NotYetValid,
                ..
            } => "La sessione di autenticazione è scaduta. Riprova l'accesso.",
            Self::Config(_) | Self::Jose(_) => {
                "Errore interno di configurazione dell'accesso. Contatta l'assistenza."
            }
            _ => "Non è stato possibile verificare l'accesso. Riprova l'accesso.",
        }
    }
}

pub(crate) type Result<T, E = LoginError> = std::result::Result<T, E>;

/// Algorithms accepted on ID tokens and signed userinfo.
pub const TOKEN_ALGS: &[Alg] = &[Alg::Rs256, Alg::Rs384, Alg::Rs512, Alg::Ps256, Alg::Es256];
/// Clock leeway on token times, in seconds.
pub const LEEWAY_SECS: i64 = 60;

/// A PKCE pair (RFC 7636, S256).
#[derive(Clone)]
pub struct Pkce {
    /// The verifier (64 URL-safe characters); keep it in the session, send it to the token
    /// endpoint.
    pub verifier: String,
    /// `BASE64URL(SHA256(verifier))`.
    pub challenge: String,
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

impl Pkce {
    /// A fresh random pair.
    pub fn generate() -> Self {
        Self::from_verifier(jose::random_token(48))
    }

    /// The pair for a given verifier.
    pub fn from_verifier(verifier: String) -> Self {
        let challenge = jose::b64(Sha256::digest(verifier.as_bytes()));
        Self {
            verifier,
            challenge,
        }
    }
}

/// A token endpoint response. `Debug` hides the tokens.
#[derive(Clone, Deserialize)]
pub struct TokenResponse {
    /// Access token.
    pub access_token: String,
    /// ID token.
    pub id_token: String,
    /// `Bearer`.
    #[serde(default)]
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// Refresh token (SPID/CIE: only with `offline_access`).
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Granted scope.
    #[serde(default)]
    pub scope: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "…"))
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Sends a request expecting a JSON object; maps error statuses (with or without an OAuth
/// error body) to [`LoginError::OpError`].
pub(crate) async fn send_json(req: reqwest::RequestBuilder) -> Result<Map<String, Value>> {
    let resp = req.send().await.map_err(HttpError::from)?;
    let status = resp.status();
    let body = http::read_limited(resp).await?;
    if !status.is_success() {
        let error = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned));
        return Err(LoginError::OpError {
            status: status.as_u16(),
            error,
        });
    }
    match serde_json::from_slice(&body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(LoginError::InvalidResponse("JSON object expected")),
    }
}

/// Parses a token response.
pub(crate) fn token_response(map: Map<String, Value>) -> Result<TokenResponse> {
    let resp: TokenResponse = serde_json::from_value(Value::Object(map))
        .map_err(|_| LoginError::InvalidResponse("token response without access_token/id_token"))?;
    if !resp.token_type.is_empty() && !resp.token_type.eq_ignore_ascii_case("bearer") {
        return Err(LoginError::InvalidResponse("token_type is not Bearer"));
    }
    Ok(resp)
}

/// `at_hash` for an access token under the ID token's `alg` (OIDC Core 3.1.3.6): the left half
/// of the hash, base64url.
pub fn at_hash(alg: Alg, access_token: &str) -> String {
    let digest: Vec<u8> = match alg {
        Alg::Rs384 => Sha384::digest(access_token.as_bytes()).to_vec(),
        Alg::Rs512 => Sha512::digest(access_token.as_bytes()).to_vec(),
        Alg::Rs256 | Alg::Ps256 | Alg::Es256 => Sha256::digest(access_token.as_bytes()).to_vec(),
    };
    jose::b64(&digest[..digest.len() / 2])
}

/// The common ID token checks: signature, `iss`, `aud`/`azp`, `exp`/`iat`, `nonce`, `sub`.
pub(crate) fn check_id_token(
    token: &str,
    jwks: &jose::JwkSet,
    issuer: &str,
    client_id: &str,
    nonce: &str,
    now: jiff::Timestamp,
) -> Result<(Alg, jose::Claims)> {
    let bad = |source| LoginError::Token {
        what: "id_token",
        source,
    };
    let verified = jose::verify(token, jwks, TOKEN_ALGS).map_err(bad)?;
    let alg = Alg::parse(verified.header_str("alg").unwrap_or_default()).map_err(bad)?;
    let claims = verified.claims().map_err(bad)?;
    if claims.str("iss") != Some(issuer) {
        return Err(LoginError::WrongIssuer);
    }
    let aud = claims.aud();
    if !aud.contains(&client_id) {
        return Err(LoginError::WrongAudience);
    }
    match claims.str("azp") {
        Some(azp) if azp != client_id => return Err(LoginError::WrongAudience),
        None if aud.len() > 1 => return Err(LoginError::WrongAudience),
        _ => {}
    }
    if claims.i64("iat").is_none() {
        return Err(bad(JoseError::MissingClaim("iat")));
    }
    claims.check_time(now, LEEWAY_SECS).map_err(bad)?;
    if claims.str("nonce") != Some(nonce) {
        return Err(LoginError::WrongNonce);
    }
    claims.req_str("sub").map_err(bad)?;
    Ok((alg, claims))
}

/// `application/x-www-form-urlencoded` encoding of one value (RFC 6749 §2.3.1 for HTTP Basic).
pub(crate) fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
