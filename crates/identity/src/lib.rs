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
//!
//! Keys: the relying party needs three distinct RSA keys (2048 bits or more): the federation
//! key (signs our Entity Configuration; its public part is registered at the trust anchor), the
//! core `sig` key (request objects, client assertions) and the core `enc` key (userinfo JWE).
//! They live in PKCS#8 files (PEM `-----BEGIN PRIVATE KEY-----`, or DER) outside the database,
//! mode 0600: [`jose::RsaKeyPair::read_pkcs8_file`] / [`jose::RsaKeyPair::write_pkcs8_pem_file`].
//! The `kid` of every key is its RFC 7638 thumbprint, so it is stable across restarts.
//!
//! Errors carry a stable `code()` (e.g. `identity.login.wrong_at_hash`) for logs and
//! translations, and a `message_it()` safe to show to citizens.

#![warn(missing_docs)]

pub mod acr;
pub mod federation;
pub mod http;
pub mod jose;
pub mod oauth;
pub mod oidc;
pub mod rp;

#[cfg(test)]
mod testutil;
