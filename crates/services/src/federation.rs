//! Configuration of the SPID/CIE OpenID Connect Federation relying party
//! (issue 3, part 1; `docs/identity.md` for operators).
//!
//! Every comune of the installation is its own relying party: its entity id
//! is `<scheme>://<first hostname of the comune>` (no trailing slash), except
//! for the default comune when [`FederationConfig::public_base_url`] is set
//! (an installation reached through one public URL, and the tests, which run
//! on `http://127.0.0.1:<port>`). The web layer serves the Entity
//! Configuration and runs the sign-in; this module only holds the settings
//! and the per-client rate limit of the sign-in routes.

use std::path::PathBuf;
use std::time::Instant;

use palazzo_store::Tenant;
use serde::{Deserialize, Serialize};

use crate::App;

/// Sign-in starts and callbacks one client may make per rate-limit window
/// (10 minutes): a dozen complete sign-ins.
pub const ATTEMPTS_PER_WINDOW: u32 = 120;

/// The `[federation]` section of the configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FederationConfig {
    /// Entity id of the **default** comune, e.g. `https://servizi.comune.example.it`
    /// (no trailing slash). Empty: `<scheme>://<first hostname>` like every other comune.
    pub public_base_url: String,
    /// The identity providers offered on the sign-in page. None: no SPID/CIE.
    pub providers: Vec<ProviderConfig>,
    /// The trust anchors whose chains we accept (for SPID and CIE in production:
    /// the AgID/Ministry trust anchors), with their federation public keys.
    pub trust_anchors: Vec<TrustAnchorConfig>,
    /// `authority_hints` of our Entity Configuration. Empty: the trust anchors'
    /// entity ids (a comune registered directly at the anchor); an aggregator
    /// ("Soggetto Aggregatore") goes here.
    pub authority_hints: Vec<String>,
    /// Trust marks issued to us, published in our Entity Configuration.
    pub trust_marks: Vec<TrustMarkConfig>,
    /// Contact addresses in the metadata. Empty: the comune's e-mail.
    pub contacts: Vec<String>,
    /// Trust marks an identity provider must hold, per kind. Empty: none required.
    pub required_trust_marks: RequiredTrustMarks,
}

/// `[federation.required_trust_marks]`: for each kind, the trust mark ids of
/// which a provider must hold at least one valid mark (issued by the trust
/// anchor or an issuer it allows, about the provider, unexpired). A provider
/// without one is refused before any redirect (`oidc_trust_mark_missing`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RequiredTrustMarks {
    /// For SPID providers, e.g. `["https://registry.agid.gov.it/openid_provider/public"]`.
    pub spid: Vec<String>,
    /// For CIE providers.
    pub cie: Vec<String>,
}

impl RequiredTrustMarks {
    /// The ids required of a provider of `kind` (empty: none).
    pub fn of(&self, kind: ProviderKind) -> &[String] {
        match kind {
            ProviderKind::Spid => &self.spid,
            ProviderKind::Cie => &self.cie,
        }
    }

    /// Is a provider of `kind` holding valid trust marks `held` acceptable?
    pub fn satisfied_by<'a>(
        &self,
        kind: ProviderKind,
        mut held: impl Iterator<Item = &'a str>,
    ) -> bool {
        let required = self.of(kind);
        required.is_empty() || held.any(|h| required.iter().any(|r| r == h))
    }
}

/// Which federation an identity provider belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// SPID (Sistema Pubblico di Identità Digitale).
    Spid,
    /// CIE (Carta d'Identità Elettronica).
    Cie,
}

impl ProviderKind {
    /// `spid` or `cie` (the provider name of sessions and sign-ins).
    pub fn code(self) -> &'static str {
        match self {
            ProviderKind::Spid => "spid",
            ProviderKind::Cie => "cie",
        }
    }
}

/// One OpenID Provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// `spid` or `cie`.
    pub kind: ProviderKind,
    /// Entity id of the OP, e.g. `https://id.eidas.gov.it/oidc/op` (no trailing slash).
    pub entity_id: String,
    /// Name shown to citizens, e.g. `CIE id`.
    #[serde(default)]
    pub label: String,
}

/// A trust anchor and the federation keys we trust it with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustAnchorConfig {
    /// Entity id of the trust anchor.
    pub entity_id: String,
    /// Its public JWK Set as inline JSON (`{"keys": [...]}`); or use `jwks_file`.
    #[serde(default)]
    pub jwks: String,
    /// A file holding that JWK Set.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
}

impl TrustAnchorConfig {
    /// The JWK Set JSON, from `jwks` or `jwks_file`.
    pub fn jwks_json(&self) -> Result<String, String> {
        match (&self.jwks_file, self.jwks.trim()) {
            (Some(p), "") => std::fs::read_to_string(p).map_err(|e| {
                format!(
                    "trust anchor {}: cannot read {}: {e}",
                    self.entity_id,
                    p.display()
                )
            }),
            (None, "") => Err(format!(
                "trust anchor {}: set jwks or jwks_file",
                self.entity_id
            )),
            (Some(_), _) => Err(format!(
                "trust anchor {}: set jwks or jwks_file, not both",
                self.entity_id
            )),
            (None, inline) => Ok(inline.to_owned()),
        }
    }
}

/// A trust mark issued to our relying party.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustMarkConfig {
    /// Trust mark type (`id`), e.g. `https://registry.agid.gov.it/openid_relying_party/public`.
    pub id: String,
    /// The signed trust mark (a JWS) as received from the issuer.
    pub trust_mark: String,
}

fn is_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://")) && !s.ends_with('/') && s.len() > 8
}

impl FederationConfig {
    /// Is SPID/CIE sign-in offered at all?
    pub fn enabled(&self) -> bool {
        !self.providers.is_empty()
    }

    /// Checks the settings (at start-up): URLs without trailing slash, at
    /// least one trust anchor with a readable JWK Set when providers are
    /// configured.
    pub fn validate(&self) -> Result<(), String> {
        if !self.public_base_url.is_empty() && !is_url(&self.public_base_url) {
            return Err(
                "federation.public_base_url must be an http(s) URL without trailing slash".into(),
            );
        }
        if !self.enabled() {
            return Ok(());
        }
        if self.trust_anchors.is_empty() {
            return Err("federation: providers are configured but no trust_anchors".into());
        }
        for p in &self.providers {
            if !is_url(&p.entity_id) {
                return Err(format!(
                    "federation provider {:?}: entity_id must be an http(s) URL without trailing slash",
                    p.entity_id
                ));
            }
        }
        for a in &self.trust_anchors {
            if !is_url(&a.entity_id) {
                return Err(format!(
                    "trust anchor {:?}: entity_id must be an http(s) URL without trailing slash",
                    a.entity_id
                ));
            }
            let json = a.jwks_json()?;
            let v: serde_json::Value = serde_json::from_str(&json)
                .map_err(|e| format!("trust anchor {}: jwks is not JSON: {e}", a.entity_id))?;
            if !v.get("keys").is_some_and(serde_json::Value::is_array) {
                return Err(format!(
                    "trust anchor {}: jwks must be a JWK Set {{\"keys\": [...]}}",
                    a.entity_id
                ));
            }
        }
        let marks = &self.required_trust_marks;
        if marks
            .spid
            .iter()
            .chain(&marks.cie)
            .any(|m| m.trim().is_empty())
        {
            return Err("federation.required_trust_marks: empty trust mark id".into());
        }
        for h in &self.authority_hints {
            if !is_url(h) {
                return Err(format!(
                    "federation authority hint {h:?} must be an http(s) URL without trailing slash"
                ));
            }
        }
        Ok(())
    }

    /// The providers of one kind, in configuration order.
    pub fn providers_of(&self, kind: ProviderKind) -> impl Iterator<Item = &ProviderConfig> {
        self.providers.iter().filter(move |p| p.kind == kind)
    }

    /// `authority_hints` to publish.
    pub fn authority_hints(&self) -> Vec<String> {
        if self.authority_hints.is_empty() {
            self.trust_anchors
                .iter()
                .map(|a| a.entity_id.clone())
                .collect()
        } else {
            self.authority_hints.clone()
        }
    }

    /// The entity id (= OAuth `client_id`) of a comune: `public_base_url` for
    /// the default comune when set, else `<scheme>://<first hostname>`.
    pub fn entity_id(&self, tenant: &Tenant, scheme: &str) -> Option<String> {
        if tenant.data.is_default && !self.public_base_url.is_empty() {
            return Some(self.public_base_url.trim_end_matches('/').to_owned());
        }
        let host = tenant.data.hostnames.first()?;
        Some(format!("{scheme}://{host}"))
    }
}

impl App {
    /// Counts one SPID/CIE sign-in request (start or callback) of a client
    /// (a keyed hash of its address); false when it is over
    /// [`ATTEMPTS_PER_WINDOW`].
    pub fn federation_attempt_allowed(&self, client: &str) -> bool {
        self.inner.sign_in_limiter.hit(
            format!("federation:{client}"),
            ATTEMPTS_PER_WINDOW,
            Instant::now(),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cfg() -> FederationConfig {
        FederationConfig {
            providers: vec![ProviderConfig {
                kind: ProviderKind::Spid,
                entity_id: "https://op.example.it/oidc/op".into(),
                label: String::new(),
            }],
            trust_anchors: vec![TrustAnchorConfig {
                entity_id: "https://ta.example.it".into(),
                jwks: r#"{"keys": []}"#.into(),
                jwks_file: None,
            }],
            ..FederationConfig::default()
        }
    }

    #[test]
    fn validates_urls_and_anchor_keys() {
        assert!(FederationConfig::default().validate().is_ok());
        assert!(cfg().validate().is_ok());
        let mut c = cfg();
        c.trust_anchors.clear();
        assert!(c.validate().is_err());
        let mut c = cfg();
        c.providers[0].entity_id.push('/');
        assert!(c.validate().is_err());
        let mut c = cfg();
        c.trust_anchors[0].jwks = "[]".into();
        assert!(c.validate().is_err());
        let mut c = cfg();
        c.public_base_url = "http://127.0.0.1:8080/".into();
        assert!(c.validate().is_err());
        assert_eq!(cfg().authority_hints(), vec!["https://ta.example.it"]);
        let mut c = cfg();
        c.required_trust_marks.cie = vec![" ".into()];
        assert!(c.validate().is_err());
    }

    #[test]
    fn required_trust_marks_per_kind() {
        let c =
            toml_like(r#"{"required_trust_marks": {"spid": ["https://a/op", "https://b/op"]}}"#);
        let r = &c.required_trust_marks;
        assert!(r.satisfied_by(ProviderKind::Spid, ["x", "https://b/op"].into_iter()));
        assert!(!r.satisfied_by(ProviderKind::Spid, ["x"].into_iter()));
        assert!(!r.satisfied_by(ProviderKind::Spid, std::iter::empty()));
        assert!(r.satisfied_by(ProviderKind::Cie, std::iter::empty()));
    }

    #[test]
    fn parses_provider_kinds() {
        let c: FederationConfig = toml_like(
            r#"{"providers": [{"kind": "cie", "entity_id": "https://x.it/oidc/op"}],
                "trust_anchors": [{"entity_id": "https://ta.it", "jwks": "{\"keys\":[]}"}]}"#,
        );
        assert_eq!(c.providers[0].kind, ProviderKind::Cie);
        assert_eq!(c.providers_of(ProviderKind::Spid).count(), 0);
        assert!(c.validate().is_ok());
    }

    fn toml_like(json: &str) -> FederationConfig {
        serde_json::from_str(json).unwrap()
    }
}
