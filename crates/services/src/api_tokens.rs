//! API keys for the JSON API (issue 4, part 8: "JSON API for every
//! operation").
//!
//! A staff member creates a personal key in the back office (or an operator
//! with `palazzo api-token create`); the token is shown once and only its
//! SHA-256 is stored. A call with `Authorization: Bearer <token>` acts as
//! that user with the roles the user holds *at the time of the call*
//! ([`App::grants_of`]), in the comune the key belongs to only. Keys
//! expire (at most [`MAX_DAYS`] days) and can be revoked; creation and
//! revocation are ledgered, and the token never appears in the ledger or
//! the logs.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use palazzo_domain::access::{Permission, Principal};
use palazzo_store::*;
use rand::RngCore as _;

use crate::access::{Actor, token_hash};
use crate::ledger::record;
use crate::{App, ServiceError, ServiceResult};

/// Prefix of every token, so that leaked keys are recognisable by secret
/// scanners and never confused with session cookies.
pub const TOKEN_PREFIX: &str = "pzk_";

/// Default validity of a new key.
pub const DEFAULT_DAYS: u32 = 90;

/// Longest validity of a key.
pub const MAX_DAYS: u32 = 365;

/// Longest label.
pub const MAX_LABEL: usize = 80;

/// `last_used_at` is written at most this often per key (a busy client
/// must not turn every read into a write).
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(300);

/// A new key: the token, shown once, and the stored record.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    /// The bearer token (`pzk_…`); never stored.
    pub token: String,
    /// The stored record.
    pub record: ApiToken,
}

fn invalid(code: &'static str, message: &str) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.to_owned(),
    }
}

fn check_label(label: &str) -> ServiceResult<String> {
    let label = label.trim();
    if label.is_empty() {
        return Err(invalid(
            "api_token_label",
            "Indicare un nome per la chiave (per esempio il programma che la userà).",
        ));
    }
    if label.chars().count() > MAX_LABEL || label.chars().any(char::is_control) {
        return Err(invalid(
            "api_token_label",
            "Il nome della chiave è troppo lungo o contiene caratteri non ammessi.",
        ));
    }
    Ok(label.to_owned())
}

fn check_days(days: Option<u32>) -> ServiceResult<u32> {
    match days.unwrap_or(DEFAULT_DAYS) {
        d @ 1..=MAX_DAYS => Ok(d),
        _ => Err(invalid(
            "api_token_days",
            "La validità della chiave va da 1 a 365 giorni.",
        )),
    }
}

/// The user a key belongs to: break-glass administrators have no user and
/// hence no keys (their access is for emergencies at the desk, not for
/// programs).
fn key_owner(actor: &Actor) -> ServiceResult<UserId> {
    match actor.user {
        Some(u) => Ok(u),
        None if actor.admin.is_some() => Err(invalid(
            "api_token_admin",
            "Le chiavi per l'API sono personali: un amministratore di emergenza non ne ha. \
             Accedi con il tuo account dell'ente.",
        )),
        None => Err(ServiceError::Unauthenticated),
    }
}

fn new_token() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw))
}

impl App {
    /// Creates a key for the signed-in staff member. Only staff (back-office
    /// permission) may: a citizen's data are reached through the personal
    /// area, not through keys.
    pub async fn create_api_token(
        &self,
        tenant: TenantId,
        actor: &Actor,
        label: &str,
        days: Option<u32>,
    ) -> ServiceResult<CreatedToken> {
        actor.require(Permission::BackOffice)?;
        let user = key_owner(actor)?;
        self.issue_api_token(tenant, user, label, days).await
    }

    /// Creates a key for user `user` on the operator's authority (the CLI).
    /// The user must exist; the key carries whatever roles the user holds.
    pub async fn issue_api_token(
        &self,
        tenant: TenantId,
        user: UserId,
        label: &str,
        days: Option<u32>,
    ) -> ServiceResult<CreatedToken> {
        let label = check_label(label)?;
        let days = check_days(days)?;
        if self.db().user(tenant, user).await?.is_none() {
            return Err(ServiceError::NotFound);
        }
        let t = self.tenant(tenant)?;
        let token = new_token();
        let now = Timestamp::now();
        let new = NewApiToken {
            tenant,
            user,
            token_hash: token_hash(&token),
            label,
            created_at: now,
            expires_at: now + SignedDuration::from_hours(24 * i64::from(days)),
        };
        let mut tx = self.db().begin().await?;
        let record_ = tx.insert_api_token(&new).await?;
        record(&mut tx, &t, "api_token.created", &record_).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(user = user.0, key = record_.id.0, days, "API key created");
        Ok(CreatedToken {
            token,
            record: record_,
        })
    }

    /// The signed-in user's keys, newest first.
    pub async fn my_api_tokens(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<ApiToken>> {
        actor.require(Permission::BackOffice)?;
        match actor.user {
            Some(user) => Ok(self.db().api_tokens(tenant, user).await?),
            None => Ok(Vec::new()),
        }
    }

    /// Revokes one of the signed-in user's keys.
    pub async fn revoke_my_api_token(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: ApiTokenId,
    ) -> ServiceResult<()> {
        actor.require(Permission::BackOffice)?;
        let user = key_owner(actor)?;
        self.revoke_api_token(tenant, user, id).await
    }

    /// Revokes key `id` of user `user` (the CLI, or the owner). Unknown or
    /// already revoked keys are [`ServiceError::NotFound`].
    pub async fn revoke_api_token(
        &self,
        tenant: TenantId,
        user: UserId,
        id: ApiTokenId,
    ) -> ServiceResult<()> {
        let t = self.tenant(tenant)?;
        let Some(mut key) = self
            .db()
            .api_tokens(tenant, user)
            .await?
            .into_iter()
            .find(|k| k.id == id)
        else {
            return Err(ServiceError::NotFound);
        };
        let now = Timestamp::now();
        let mut tx = self.db().begin().await?;
        if !tx.revoke_api_token(tenant, user, id, now).await? {
            return Err(ServiceError::NotFound);
        }
        key.revoked_at = Some(now);
        record(&mut tx, &t, "api_token.revoked", &key).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(user = user.0, key = id.0, "API key revoked");
        Ok(())
    }

    /// The actor of an API call carrying `Authorization: Bearer <token>` in
    /// `tenant`. A malformed, unknown, expired or revoked token, a key of
    /// another comune, or a user who no longer exists are all
    /// [`ServiceError::Unauthenticated`] (one answer, so that a caller
    /// learns nothing about other comuni's keys).
    pub async fn api_actor(&self, tenant: TenantId, token: &str) -> ServiceResult<Actor> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() != TOKEN_PREFIX.len() + 43 {
            return Err(ServiceError::Unauthenticated);
        }
        let now = Timestamp::now();
        let Some(key) = self.db().api_token(&token_hash(token)).await? else {
            return Err(ServiceError::Unauthenticated);
        };
        if key.data.tenant != tenant || !key.is_live(now) {
            return Err(ServiceError::Unauthenticated);
        }
        let user = key.data.user;
        // One read of the user serves both the grants and the name.
        let Some(profile) = self.db().user(tenant, user).await? else {
            return Err(ServiceError::Unauthenticated);
        };
        let grants = self.grants_of(tenant, &profile).await?;
        let name = format!("{} {}", profile.data.given_name, profile.data.family_name);
        if key
            .last_used_at
            .is_none_or(|t| now.duration_since(t) > TOUCH_EVERY)
        {
            let mut tx = self.db().begin().await?;
            tx.touch_api_token(key.id, now).await?;
            tx.commit().await?;
        }
        Ok(Actor {
            user: Some(user),
            admin: None,
            principal: Principal { grants },
            name: Some(format!("{name} (API: {})", key.data.label)),
            acr: None,
        })
    }
}
