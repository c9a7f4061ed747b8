//! Palazzo's identity layer: SPID/CIE OpenID Connect Federation relying party, generic OpenID
//! Connect for staff, and the pure-Rust JOSE both need (no OpenSSL).
//!
//! - [`jose`]: JWK, JWS, JWE, JWT claims.
//! - [`acr`]: SPID/CIE authentication levels.
//! - [`federation`]: entity statements, our Entity Configuration, trust chain resolution.
//! - [`rp`]: the SPID/CIE relying party flow (request object, token, ID token, userinfo).
//! - [`oidc`]: generic OpenID Connect for staff (Keycloak, Entra ID, …).
//! - [`oauth`]: what both login flows share (errors, PKCE, token responses).
//! - [`http`]: the HTTP client settings shared by all of them.

pub mod acr;
pub mod federation;
pub mod http;
pub mod jose;
pub mod oauth;
pub mod oidc;
pub mod rp;

#[cfg(test)]
mod testutil;
