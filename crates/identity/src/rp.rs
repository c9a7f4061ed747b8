//! The SPID/CIE relying party flow: signed request object with PKCE, token request with
//! `private_key_jwt`, ID token validation (`acr`, `at_hash`), encrypted userinfo, revocation.
//!
//! The OP's endpoints and keys come from a resolved [`crate::federation::TrustChain`]
//! ([`crate::federation::ProviderInfo`]). Checking `state` and the `iss` of the authorization
//! response is the web layer's job (compare with the values kept in the session).
//!
//! What the spid-cie-oidc test OP does (and `identity-test-federation.md` documents) wins over
//! the general specification: userinfo comes as `application/jwt`, and its inner JWS carries
//! only `sub` and the requested claims (no `iss`/`aud`), so those are checked only if present.

use std::fmt;

use jiff::Timestamp;
use rsa::RsaPrivateKey;
use serde_json::{Map, Value, json};

use crate::acr::AcrLevel;
use crate::http;
use crate::jose::{self, Claims, JoseError, JwkSet, RsaKeyPair};
use crate::oauth::{LEEWAY_SECS, Result, TOKEN_ALGS, check_id_token, send_json, token_response};
pub use crate::oauth::{LoginError, Pkce, TokenResponse, at_hash};

/// `client_assertion_type` for `private_key_jwt`.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Claim name of the fiscal code in SPID/CIE.
pub const FISCAL_NUMBER_CLAIM: &str = "https://attributes.eid.gov.it/fiscal_number";
/// Lifetime of request objects, in seconds (the OP re-reads it when the login form is posted).
pub const REQUEST_OBJECT_LIFETIME_SECS: i64 = 600;
/// Lifetime of client assertions, in seconds.
pub const CLIENT_ASSERTION_LIFETIME_SECS: i64 = 180;

/// The claims we ask SPID/CIE providers for: names, fiscal code, contacts, birth data. Names
/// as used by spid-cie-oidc and the SPID/CIE attribute table.
pub fn default_claims() -> Value {
    json!({
        "id_token": {
            "given_name": {"essential": true},
            "family_name": {"essential": true},
        },
        "userinfo": {
            "given_name": null,
            "family_name": null,
            FISCAL_NUMBER_CLAIM: null,
            "email": null,
            "phone_number": null,
            "birthdate": null,
            "place_of_birth": null,
        },
    })
}

/// Inputs of an authorization request.
#[derive(Clone, Debug)]
pub struct AuthRequestParams<'a> {
    /// Our entity id.
    pub client_id: &'a str,
    /// Our callback URL.
    pub redirect_uri: &'a str,
    /// `aud` of the request object: the OP's entity id (or authorization endpoint).
    pub audience: &'a str,
    /// Levels to request; sent weakest first, strongest last. Empty means SpidL2.
    pub acr: &'a [AcrLevel],
    /// Ask for `offline_access` (a refresh token also needs SpidL1 among the levels).
    pub offline_access: bool,
    /// The `claims` parameter; [`default_claims`] when `None`.
    pub claims: Option<Value>,
}

/// A prepared authorization request. Keep `state`, `nonce` and `pkce.verifier` in the session.
#[derive(Clone)]
pub struct AuthRequest {
    /// Our entity id.
    pub client_id: String,
    /// Random `state` (43 URL-safe characters).
    pub state: String,
    /// Random `nonce` (43 URL-safe characters).
    pub nonce: String,
    /// PKCE pair.
    pub pkce: Pkce,
    /// The signed request object.
    pub request_object: String,
}

impl fmt::Debug for AuthRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRequest")
            .field("client_id", &self.client_id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl AuthRequest {
    /// Builds the request: fresh `state`, `nonce` and PKCE, and the request object signed
    /// (RS256) with our core `sig` key.
    pub fn new(p: &AuthRequestParams<'_>, sig_key: &RsaKeyPair, now: Timestamp) -> Result<Self> {
        let state = jose::random_token(32);
        let nonce = jose::random_token(32);
        let pkce = Pkce::generate();
        let acr: &[AcrLevel] = if p.acr.is_empty() {
            &[AcrLevel::SpidL2]
        } else {
            p.acr
        };
        let scope = if p.offline_access {
            "openid offline_access"
        } else {
            "openid"
        };
        let iat = now.as_second();
        let claims = json!({
            "client_id": p.client_id,
            "iss": p.client_id,
            "aud": p.audience,
            "iat": iat,
            "exp": iat + REQUEST_OBJECT_LIFETIME_SECS,
            "jti": jose::random_token(16),
            "response_type": "code",
            "scope": scope,
            "redirect_uri": p.redirect_uri,
            "code_challenge": pkce.challenge,
            "code_challenge_method": "S256",
            "nonce": nonce,
            "state": state,
            "acr_values": AcrLevel::acr_values(acr),
            "prompt": "consent login",
            "claims": p.claims.clone().unwrap_or_else(default_claims),
            // A list: the spid-cie-oidc OP validates `ui_locales` as a JSON array
            // and refuses the space-separated string of plain OIDC.
            "ui_locales": ["it"],
        });
        let Value::Object(claims) = claims else {
            return Err(LoginError::Config("request object"));
        };
        let request_object = jose::sign_claims(None, &claims, sig_key)?;
        Ok(Self {
            client_id: p.client_id.to_owned(),
            state,
            nonce,
            pkce,
            request_object,
        })
    }

    /// The URL to redirect the browser to.
    pub fn authorization_url(&self, authorization_endpoint: &str) -> Result<String> {
        let mut url = reqwest::Url::parse(authorization_endpoint)
            .map_err(|_| LoginError::Config("authorization endpoint is not a URL"))?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("response_type", "code")
            .append_pair("scope", "openid")
            .append_pair("code_challenge", &self.pkce.challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("request", &self.request_object);
        Ok(url.into())
    }
}

/// A `private_key_jwt` client assertion: `iss = sub = client_id`, `aud` = the exact endpoint
/// URL, short lifetime, random `jti`.
pub fn client_assertion(
    client_id: &str,
    audience: &str,
    key: &RsaKeyPair,
    now: Timestamp,
) -> Result<String> {
    let iat = now.as_second();
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": iat,
        "exp": iat + CLIENT_ASSERTION_LIFETIME_SECS,
        "jti": jose::random_token(16),
    });
    let Value::Object(claims) = claims else {
        return Err(LoginError::Config("client assertion"));
    };
    Ok(jose::sign_claims(None, &claims, key)?)
}

/// Exchanges the authorization code at the token endpoint (`private_key_jwt` + PKCE).
pub async fn exchange_code(
    http: &reqwest::Client,
    token_endpoint: &str,
    client_id: &str,
    code: &str,
    code_verifier: &str,
    sig_key: &RsaKeyPair,
    now: Timestamp,
) -> Result<TokenResponse> {
    let assertion = client_assertion(client_id, token_endpoint, sig_key, now)?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("code_verifier", code_verifier),
        ("client_id", client_id),
        ("client_assertion", &assertion),
        ("client_assertion_type", CLIENT_ASSERTION_TYPE),
    ];
    token_response(send_json(http.post(token_endpoint).form(&form)).await?)
}

/// What the ID token must match.
#[derive(Clone, Copy, Debug)]
pub struct IdTokenExpectations<'a> {
    /// The OP's issuer.
    pub issuer: &'a str,
    /// Our client id.
    pub client_id: &'a str,
    /// The nonce we sent.
    pub nonce: &'a str,
    /// The weakest acceptable level.
    pub acr_min: AcrLevel,
}

/// A validated ID token.
#[derive(Clone, Debug)]
pub struct IdToken {
    /// Subject (pairwise per client).
    pub sub: String,
    /// Level of the authentication that took place.
    pub acr: AcrLevel,
    /// All claims.
    pub claims: Claims,
}

/// Validates a SPID/CIE ID token: signature with the OP's keys (RS*/PS256/ES256), `iss`, `aud`,
/// `exp`/`iat` (60 s leeway), `nonce`, `acr` ≥ `acr_min`, and `at_hash` against the access token.
pub fn validate_id_token(
    token: &str,
    op_jwks: &JwkSet,
    expected: &IdTokenExpectations<'_>,
    access_token: &str,
    now: Timestamp,
) -> Result<IdToken> {
    let (alg, claims) = check_id_token(
        token,
        op_jwks,
        expected.issuer,
        expected.client_id,
        expected.nonce,
        now,
    )?;
    let acr: AcrLevel = claims
        .str("acr")
        .ok_or(LoginError::MissingAcr)?
        .parse()
        .map_err(|_| LoginError::AcrTooWeak)?;
    if acr < expected.acr_min {
        return Err(LoginError::AcrTooWeak);
    }
    let got = claims.str("at_hash").ok_or(LoginError::MissingAtHash)?;
    if got != at_hash(alg, access_token) {
        return Err(LoginError::WrongAtHash);
    }
    Ok(IdToken {
        sub: claims
            .req_str("sub")
            .map_err(|source| LoginError::Token {
                what: "id_token",
                source,
            })?
            .to_owned(),
        acr,
        claims,
    })
}

/// GETs the userinfo endpoint with the access token; returns `(media type, body)` for
/// [`read_userinfo`].
pub async fn fetch_userinfo(
    http: &reqwest::Client,
    userinfo_endpoint: &str,
    access_token: &str,
) -> Result<(String, String)> {
    let resp = http
        .get(userinfo_endpoint)
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(http::HttpError::from)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(LoginError::OpError {
            status: status.as_u16(),
            error: None,
        });
    }
    let media = http::media_type(&resp);
    Ok((media, http::read_text(resp).await?))
}

/// What the userinfo must match.
#[derive(Clone, Copy, Debug)]
pub struct UserinfoExpectations<'a> {
    /// The ID token's `sub`.
    pub sub: &'a str,
    /// The OP's issuer (checked only if the userinfo has `iss`).
    pub issuer: &'a str,
    /// Our client id (checked only if the userinfo has `aud`).
    pub client_id: &'a str,
}

/// The citizen's attributes from userinfo. `Debug` shows only `sub`.
#[derive(Clone, PartialEq)]
pub struct Citizen {
    /// Subject, equal to the ID token's.
    pub sub: String,
    /// First name(s).
    pub given_name: Option<String>,
    /// Family name(s).
    pub family_name: Option<String>,
    /// Fiscal code, normalised: `TINIT-` prefix removed, upper case.
    pub fiscal_number: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Mobile phone.
    pub phone_number: Option<String>,
    /// Date of birth (`YYYY-MM-DD`, claim `birthdate`).
    pub date_of_birth: Option<String>,
    /// Place of birth (`{"locality": <Belfiore code>, "region": <province>}`).
    pub place_of_birth: Option<Value>,
    /// Every claim as received.
    pub raw: Map<String, Value>,
}

impl fmt::Debug for Citizen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Citizen")
            .field("sub", &self.sub)
            .finish_non_exhaustive()
    }
}

/// Normalises a SPID/CIE fiscal number: trims, removes a `TINIT-` prefix, upper-cases.
pub fn normalize_fiscal_number(raw: &str) -> String {
    let s = raw.trim();
    let s = match s.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("TINIT-") => &s[6..],
        _ => s,
    };
    s.to_ascii_uppercase()
}

/// Reads a userinfo response: `application/jwt` or `application/jose`, a JWE decrypted with
/// our `enc` key, containing a JWS signed by the OP. Requires `sub` to equal the ID token's;
/// `iss`/`aud`/`exp` are checked only when present.
pub fn read_userinfo(
    body: &str,
    content_type: &str,
    rp_enc_key: &RsaPrivateKey,
    op_jwks: &JwkSet,
    expected: &UserinfoExpectations<'_>,
    now: Timestamp,
) -> Result<Citizen> {
    let media = http::base_media_type(content_type);
    if media != "application/jwt" && media != "application/jose" {
        return Err(LoginError::InvalidResponse("userinfo content type"));
    }
    let body = body.trim();
    if body.split('.').count() != 5 {
        return Err(LoginError::InvalidResponse("userinfo is not encrypted"));
    }
    let bad = |source| LoginError::Token {
        what: "userinfo",
        source,
    };
    let inner = jose::decrypt(body, rp_enc_key).map_err(bad)?;
    let inner = std::str::from_utf8(&inner).map_err(|_| bad(JoseError::Malformed("utf-8")))?;
    let claims = jose::verify(inner.trim(), op_jwks, TOKEN_ALGS)
        .and_then(|v| v.claims())
        .map_err(bad)?;
    if claims.str("sub") != Some(expected.sub) {
        return Err(LoginError::SubMismatch);
    }
    if claims.get("iss").is_some() && claims.str("iss") != Some(expected.issuer) {
        return Err(LoginError::WrongIssuer);
    }
    if claims.get("aud").is_some() && !claims.aud().contains(&expected.client_id) {
        return Err(LoginError::WrongAudience);
    }
    if claims.get("exp").is_some() {
        claims.check_time(now, LEEWAY_SECS).map_err(bad)?;
    }
    let s = |k: &str| claims.str(k).map(str::to_owned);
    Ok(Citizen {
        sub: expected.sub.to_owned(),
        given_name: s("given_name"),
        family_name: s("family_name"),
        fiscal_number: claims
            .str(FISCAL_NUMBER_CLAIM)
            .or_else(|| claims.str("fiscal_number"))
            .map(normalize_fiscal_number),
        email: s("email"),
        phone_number: s("phone_number"),
        date_of_birth: s("birthdate").or_else(|| s("date_of_birth")),
        place_of_birth: claims.get("place_of_birth").cloned(),
        raw: claims.into_inner(),
    })
}

/// Revokes a token at the OP (RFC 7009) with `private_key_jwt` (`aud` = revocation endpoint).
pub async fn revoke(
    http: &reqwest::Client,
    revocation_endpoint: &str,
    token: &str,
    client_id: &str,
    sig_key: &RsaKeyPair,
    now: Timestamp,
) -> Result<()> {
    let assertion = client_assertion(client_id, revocation_endpoint, sig_key, now)?;
    let form = [
        ("token", token),
        ("client_id", client_id),
        ("client_assertion", &assertion),
        ("client_assertion_type", CLIENT_ASSERTION_TYPE),
    ];
    let resp = http
        .post(revocation_endpoint)
        .form(&form)
        .send()
        .await
        .map_err(http::HttpError::from)?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(LoginError::OpError {
            status: resp.status().as_u16(),
            error: None,
        })
    }
}

#[cfg(test)]
#[path = "rp_tests.rs"]
mod tests;
