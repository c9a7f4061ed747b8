//! The comune's own identity provider for staff (identity-stack §A.4 (b)):
//! its configuration, the mapping of its groups to Palazzo roles, and the
//! sign-in use case that applies the mapping (issue 3, part 2).
//!
//! The protocol (discovery, PKCE, token exchange, ID token checks) lives in
//! `palazzo_identity::oidc` and is driven by the web layer; this module only
//! decides who gets which roles. Roles always live in Palazzo: the provider
//! says which groups a person is in, the configuration says what each group
//! means here, and [`App::sync_idp_roles`] keeps the provider-sourced grants
//! equal to that (ledgered).

use std::collections::BTreeMap;
use std::fmt;

use palazzo_domain::access::Role;
use palazzo_store::{GrantSource, OfficeId, Store, TenantId, User};
use serde::{Deserialize, Serialize};

use crate::access::VerifiedIdentity;
use crate::{App, ServiceResult};

/// How Palazzo authenticates at the provider's token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    /// HTTP Basic (`client_secret_basic`, the OpenID default).
    #[default]
    ClientSecretBasic,
    /// Id and secret in the form body (`client_secret_post`).
    ClientSecretPost,
}

/// What a provider group means in Palazzo: a staff role, with the office
/// (by slug) for the roles that are scoped to an office. Written
/// `"admin_comune"` or `"operatore:protocollo"` in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleTarget {
    /// The role.
    pub role: Role,
    /// The office slug (office-scoped roles only).
    pub office: Option<String>,
}

impl TryFrom<String> for RoleTarget {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        let (role, office) = match s.split_once(':') {
            Some((r, o)) => (r.trim(), Some(o.trim().to_owned())),
            None => (s.trim(), None),
        };
        let role: Role = role
            .parse()
            .map_err(|e: palazzo_domain::access::UnknownRole| format!("unknown role {:?}", e.0))?;
        if !role.is_staff() || role == Role::AdminPiattaforma {
            return Err(format!(
                "role {role} cannot come from a comune's provider (staff roles only, not the platform administrator)"
            ));
        }
        match (&office, role.is_office_scoped()) {
            (None, true) => Err(format!(
                "role {role} is scoped to an office: write \"{role}:<office-slug>\""
            )),
            (Some(_), false) => Err(format!(
                "role {role} applies to the whole comune: write \"{role}\" without an office"
            )),
            (Some(o), true) if o.is_empty() => Err(format!("empty office slug in \"{s}\"")),
            _ => Ok(RoleTarget { role, office }),
        }
    }
}

impl From<RoleTarget> for String {
    fn from(t: RoleTarget) -> String {
        match t.office {
            Some(o) => format!("{}:{o}", t.role.code()),
            None => t.role.code().to_owned(),
        }
    }
}

/// The staff provider of one ente (`[staff_oidc.<ente-slug>]` in
/// `palazzo.toml`). `Debug` never shows the client secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffOidcConfig {
    /// Issuer URL, exactly as the provider's discovery document states it
    /// (e.g. `https://sso.comune.example.it/realms/staff`).
    pub issuer: String,
    /// Client id registered at the provider.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Token endpoint authentication.
    #[serde(default)]
    pub auth_method: TokenAuthMethod,
    /// Scopes besides `openid profile email` (e.g. `groups`).
    #[serde(default)]
    pub extra_scopes: Vec<String>,
    /// The claim carrying the groups or roles (a string or an array of
    /// strings); `groups` by default, `roles` for Entra ID app roles.
    #[serde(default = "default_role_claim")]
    pub role_claim: String,
    /// Group (claim value) → Palazzo role. Groups not listed are ignored.
    #[serde(default)]
    pub roles: BTreeMap<String, RoleTarget>,
    /// Label of the sign-in button on `/accedi`.
    #[serde(default = "default_button_label")]
    pub button_label: String,
    /// A claim holding the person's codice fiscale (plain, or `TINIT-…`),
    /// if the provider releases a verified one. Unset: staff profiles carry
    /// no codice fiscale.
    #[serde(default)]
    pub fiscal_code_claim: Option<String>,
}

fn default_role_claim() -> String {
    "groups".into()
}

fn default_button_label() -> String {
    "Accedi come personale del Comune".into()
}

impl fmt::Debug for StaffOidcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffOidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("auth_method", &self.auth_method)
            .field("extra_scopes", &self.extra_scopes)
            .field("role_claim", &self.role_claim)
            .field("roles", &self.roles)
            .field("button_label", &self.button_label)
            .field("fiscal_code_claim", &self.fiscal_code_claim)
            .finish()
    }
}

impl StaffOidcConfig {
    /// Checks what serde cannot: an `http(s)` issuer without a trailing
    /// slash or query, a client id and secret.
    pub fn check(&self) -> Result<(), String> {
        let i = &self.issuer;
        if !(i.starts_with("https://") || i.starts_with("http://")) || i.contains(['?', '#', ' ']) {
            return Err(format!("issuer {i:?} must be an http(s) URL"));
        }
        if self.client_id.trim().is_empty() {
            return Err("client_id is empty".into());
        }
        if self.client_secret.is_empty() {
            return Err("client_secret is empty".into());
        }
        if self.role_claim.trim().is_empty() {
            return Err("role_claim is empty".into());
        }
        Ok(())
    }
}

/// Checks every `[staff_oidc.<slug>]` of a configuration
/// ([`StaffOidcConfig::check`]); `palazzo serve` refuses to start on an
/// error. Returns the slugs that name no ente among `ente_slugs` (a warning:
/// the ente may be imported later).
pub fn check_all(
    providers: &BTreeMap<String, StaffOidcConfig>,
    ente_slugs: &[&str],
) -> Result<Vec<String>, String> {
    let mut unknown = Vec::new();
    for (slug, c) in providers {
        c.check().map_err(|e| format!("staff_oidc.{slug}: {e}"))?;
        if !ente_slugs.contains(&slug.as_str()) {
            unknown.push(slug.clone());
        }
    }
    Ok(unknown)
}

/// What a staff sign-in led to.
#[derive(Debug, Clone)]
pub enum StaffSignIn {
    /// Signed in with these roles (provider-sourced and assigned in Palazzo).
    SignedIn(User),
    /// The account has no role in this comune: no profile was created and no
    /// session must be opened.
    NoRoles,
}

impl App {
    /// One attempt at the staff sign-in routes from `client` (a keyed hash
    /// of the client address): false when the client is over
    /// [`STAFF_ATTEMPTS_PER_WINDOW`] (counted apart from the break-glass
    /// sign-in, in the same limiter).
    pub fn staff_sign_in_allowed(&self, client: &str) -> bool {
        self.inner.sign_in_limiter.hit(
            format!("staff-oidc:{client}"),
            STAFF_ATTEMPTS_PER_WINDOW,
            std::time::Instant::now(),
        )
    }

    /// The roles that `groups` give in `tenant` under `table`. Unknown
    /// groups and offices that do not exist in the comune are skipped with
    /// a log line.
    pub async fn staff_roles_for_groups(
        &self,
        tenant: TenantId,
        groups: &[String],
        table: &BTreeMap<String, RoleTarget>,
    ) -> ServiceResult<Vec<(Role, OfficeId)>> {
        let snap = self.portal(tenant).await?;
        let mut out = Vec::new();
        for g in groups {
            let Some(target) = table.get(g) else {
                tracing::info!(group = %g, "staff provider group without a role mapping ignored");
                continue;
            };
            let office = match &target.office {
                None => OfficeId(0),
                Some(slug) => match snap.office_by_slug(slug) {
                    Some(o) => o.id,
                    None => {
                        tracing::warn!(
                            group = %g,
                            office = %slug,
                            "role mapping names an office this comune does not have; ignored"
                        );
                        continue;
                    }
                },
            };
            if !out.contains(&(target.role, office)) {
                out.push((target.role, office));
            }
        }
        Ok(out)
    }

    /// Signs a staff member in after the provider vouched for them: when
    /// their groups give roles, records the sign-in (creating the profile at
    /// the first one) and replaces their provider-sourced grants with
    /// `roles`. Without mapped roles, any grants the provider gave earlier
    /// are revoked; the person is signed in only if roles assigned in
    /// Palazzo remain, otherwise nothing is recorded and
    /// [`StaffSignIn::NoRoles`] comes back.
    #[tracing::instrument(skip_all, fields(tenant = tenant.0))]
    pub async fn staff_sign_in(
        &self,
        tenant: TenantId,
        id: &VerifiedIdentity,
        roles: &[(Role, OfficeId)],
    ) -> ServiceResult<StaffSignIn> {
        if roles.is_empty() {
            let Some(user) = self
                .db()
                .user_by_link(tenant, &id.issuer, &id.subject)
                .await?
            else {
                return Ok(StaffSignIn::NoRoles);
            };
            self.sync_idp_roles(tenant, user.id, &[]).await?;
            let kept = self
                .db()
                .role_grants(tenant, Some(user.id))
                .await?
                .into_iter()
                .any(|g| g.source == GrantSource::Admin && g.role.is_staff());
            if !kept {
                return Ok(StaffSignIn::NoRoles);
            }
        }
        let user = self.record_sign_in(tenant, id).await?;
        self.sync_idp_roles(tenant, user.id, roles).await?;
        Ok(StaffSignIn::SignedIn(user))
    }
}

/// Requests to the staff sign-in routes one client may make per window
/// (start and callback count alike: a sign-in takes two).
pub const STAFF_ATTEMPTS_PER_WINDOW: u32 = 60;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn target(s: &str) -> Result<RoleTarget, String> {
        RoleTarget::try_from(s.to_owned())
    }

    #[test]
    fn role_targets_parse() {
        assert_eq!(
            target("operatore:protocollo").unwrap(),
            RoleTarget {
                role: Role::Operatore,
                office: Some("protocollo".into())
            }
        );
        assert_eq!(target("admin_comune").unwrap().office, None);
        assert_eq!(target("dirigente").unwrap().role, Role::Dirigente);
        for bad in [
            "operatore",
            "dirigente:tecnico",
            "cittadino",
            "admin_piattaforma",
            "sindaco",
            "operatore:",
        ] {
            assert!(target(bad).is_err(), "{bad}");
        }
        assert_eq!(
            String::from(target("responsabile:tributi").unwrap()),
            "responsabile:tributi"
        );
    }

    #[test]
    fn config_from_toml_and_debug_hides_the_secret() {
        let c: StaffOidcConfig = serde_json::from_value(serde_json::json!({
            "issuer": "https://sso.example.it/realms/staff",
            "client_id": "palazzo",
            "client_secret": "s3cret-value",
            "roles": {"palazzo:admin": "admin_comune", "palazzo:operatore:protocollo": "operatore:protocollo"}
        }))
        .unwrap();
        assert_eq!(c.role_claim, "groups");
        assert_eq!(c.auth_method, TokenAuthMethod::ClientSecretBasic);
        assert_eq!(c.roles["palazzo:admin"].role, Role::AdminComune);
        assert!(c.check().is_ok());
        assert!(!format!("{c:?}").contains("s3cret"));
        let bad = serde_json::from_value::<StaffOidcConfig>(serde_json::json!({
            "issuer": "https://x", "client_id": "a", "client_secret": "b",
            "roles": {"g": "operatore"}
        }));
        assert!(bad.is_err());
        let c2 = StaffOidcConfig {
            issuer: "sso.example.it".into(),
            ..c
        };
        assert!(c2.check().is_err());
        let mut all = BTreeMap::new();
        all.insert("casamassima".to_owned(), c2.clone());
        assert!(check_all(&all, &["casamassima"]).is_err());
        all.insert(
            "casamassima".to_owned(),
            StaffOidcConfig {
                issuer: "https://sso.example.it".into(),
                ..c2
            },
        );
        assert_eq!(check_all(&all, &["casamassima"]), Ok(vec![]));
        assert_eq!(
            check_all(&all, &["acquaviva"]),
            Ok(vec!["casamassima".to_owned()])
        );
    }
}
