//! Break-glass administrators (issue 3 part 3, DECISIONS 23): a local
//! account with an Argon2id password and a mandatory TOTP second factor,
//! created on the command line with `palazzo admin create`.
//!
//! Sign-in attempts are limited three ways: per client (20) and per login name
//! (10) in a sliding window of 10 minutes, and by a lock-out of the account
//! for [`LOCKOUT`] after [`MAX_FAILURES`] consecutive failures. Every attempt,
//! failed or not, is appended to the comune's ledger.

use jiff::{SignedDuration, Timestamp};
use palazzo_domain::cbor::Value;
use palazzo_domain::totp::{self, TotpSecret};
use palazzo_store::*;
use rand::RngCore as _;

use crate::ledger::record;
use crate::{App, ServiceError, ServiceResult};

/// Consecutive failures that lock the account.
pub const MAX_FAILURES: u32 = 5;
/// How long the account stays locked.
pub const LOCKOUT: SignedDuration = SignedDuration::from_mins(15);
/// Attempts per client address in the sliding window (a town hall's staff
/// may share one address).
pub const ATTEMPTS_PER_CLIENT: u32 = 20;
/// Attempts per login name in the sliding window.
pub const ATTEMPTS_PER_NAME: u32 = 10;

/// An Argon2id hash of a random password nobody knows, checked for unknown
/// names so that every attempt costs the same time.
const DUMMY_PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$cGFsYXp6by1kdW1teQ$2tJYuhgUfRfZ5mB1gKQ0nHj4DZcJkXvcQ3cTq1X1zWQ";

/// A created administrator and what to hand over to them, once.
#[derive(Debug)]
pub struct CreatedAdmin {
    /// The stored account.
    pub admin: LocalAdmin,
    /// The TOTP secret in base32, to type into an authenticator app.
    pub totp_base32: String,
    /// The `otpauth://` URI (for a QR code).
    pub otpauth_uri: String,
}

/// One sign-in attempt, as the ledger records it: who, and the outcome.
struct Attempt<'a> {
    username: &'a str,
    outcome: &'static str,
    at: Timestamp,
}

impl Recorded for Attempt<'_> {
    fn subject(&self) -> String {
        format!("admin:{}", self.username)
    }
    fn state(&self) -> Value {
        Value::Map(vec![
            (
                Value::Text("outcome".into()),
                Value::Text(self.outcome.into()),
            ),
            (Value::Text("at".into()), Value::Text(self.at.to_string())),
        ])
    }
}

fn check_username(u: &str) -> ServiceResult<()> {
    let ok = (3..=64).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::Invalid {
            code: "admin_username_invalid",
            message: "Il nome utente deve avere da 3 a 64 caratteri tra lettere minuscole, cifre, punto, trattino e trattino basso.".into(),
        })
    }
}

/// Why an attempt failed (the user sees one message for all of them).
fn failed() -> ServiceError {
    ServiceError::Invalid {
        code: "admin_login_failed",
        message: "Nome utente, password o codice di verifica non corretti.".into(),
    }
}

impl App {
    /// Creates a break-glass administrator: of the comune `tenant_slug`, or
    /// of the platform when `None`. Returns the TOTP secret to enrol.
    pub async fn create_local_admin(
        &self,
        tenant_slug: Option<&str>,
        username: &str,
        display_name: &str,
        password: &str,
    ) -> ServiceResult<CreatedAdmin> {
        check_username(username)?;
        if display_name.trim().is_empty() {
            return Err(ServiceError::Invalid {
                code: "admin_name_missing",
                message: "Indica il nome dell'amministratore.".into(),
            });
        }
        let tenant = match tenant_slug {
            Some(slug) => Some(
                self.tenants()
                    .into_iter()
                    .find(|t| t.data.slug == slug)
                    .ok_or(ServiceError::Invalid {
                        code: "tenant_unknown",
                        message: format!("L'ente «{slug}» non esiste."),
                    })?
                    .id,
            ),
            None => None,
        };
        let password = password.to_owned();
        let phc = tokio::task::spawn_blocking(move || crate::passwords::hash(&password))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))??;
        let mut secret = [0u8; 20];
        rand::thread_rng().fill_bytes(&mut secret);
        let totp = TotpSecret::from_bytes(&secret).map_err(|e| ServiceError::invalid(&e))?;
        let new = NewLocalAdmin {
            tenant,
            username: username.to_owned(),
            display_name: display_name.trim().to_owned(),
            password_phc: phc,
            totp_secret: secret.to_vec(),
        };
        let mut tx = self.db().begin().await?;
        let admin = tx
            .insert_local_admin(&new, Timestamp::now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => ServiceError::Invalid {
                    code: "admin_username_taken",
                    message: format!("Esiste già un amministratore «{username}»."),
                },
                e => e.into(),
            })?;
        tx.commit().await?;
        tracing::info!(
            username,
            platform = tenant.is_none(),
            "break-glass administrator created"
        );
        Ok(CreatedAdmin {
            admin,
            totp_base32: totp.to_base32(),
            otpauth_uri: totp.otpauth_uri("Palazzo", username),
        })
    }

    /// Checks a break-glass sign-in at comune `tenant` from `client` (a
    /// keyed hash of the client address). On success returns the
    /// administrator; the caller opens the session.
    #[tracing::instrument(skip_all, fields(tenant = tenant.0))]
    pub async fn admin_login(
        &self,
        tenant: TenantId,
        client: &str,
        username: &str,
        password: &str,
        code: &str,
    ) -> ServiceResult<LocalAdmin> {
        let now_i = std::time::Instant::now();
        let username = username.trim().to_ascii_lowercase();
        if !self
            .inner
            .sign_in_limiter
            .hit(format!("admin-c:{client}"), ATTEMPTS_PER_CLIENT, now_i)
        {
            tracing::warn!("break-glass sign-in rate limited (client)");
            return Err(ServiceError::RateLimited);
        }
        // A name that cannot be an account (perhaps a password typed in the
        // wrong field) goes nowhere: not to the ledger, the log or the limiter.
        if check_username(&username).is_err() {
            tracing::warn!(reason = "invalid_username", "break-glass sign-in refused");
            // Same work as a real check, so timing tells nothing.
            let pw = password.to_owned();
            let _ =
                tokio::task::spawn_blocking(move || crate::passwords::verify(DUMMY_PHC, &pw)).await;
            return Err(failed());
        }
        if !self
            .inner
            .sign_in_limiter
            .hit(format!("admin-u:{username}"), ATTEMPTS_PER_NAME, now_i)
        {
            tracing::warn!(username = %username, "break-glass sign-in rate limited (name)");
            return Err(ServiceError::RateLimited);
        }
        let t = self.tenant(tenant)?;
        let now = Timestamp::now();
        let admin = self.db().local_admin_by_username(&username).await?;
        // Unknown, locked and foreign accounts cost the same Argon2 work as
        // a real check: response times do not reveal which names exist.
        let phc = admin
            .as_ref()
            .map_or_else(|| DUMMY_PHC.to_owned(), |a| a.data.password_phc.clone());
        let pw = password.to_owned();
        let pw_ok = tokio::task::spawn_blocking(move || crate::passwords::verify(&phc, &pw))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let outcome = match &admin {
            None => Err("unknown_user"),
            Some(a) if a.locked_until.is_some_and(|l| l > now) => Err("locked"),
            Some(a) if a.data.tenant.is_some_and(|at| at != tenant) => Err("wrong_comune"),
            Some(a) => {
                let secret = TotpSecret::from_bytes(&a.data.totp_secret)
                    .map_err(|e| ServiceError::invalid(&e))?;
                let last = (a.totp_last_step > 0).then_some(a.totp_last_step);
                let unix = u64::try_from(now.as_second()).unwrap_or(0);
                match (pw_ok, totp::verify(&secret, code, unix, last)) {
                    (true, Ok(Some(step))) => Ok(step),
                    (false, _) => Err("bad_password"),
                    (true, _) => Err("bad_code"),
                }
            }
        };
        let mut tx = self.db().begin().await?;
        let result = match (&admin, outcome) {
            // Conditional on no code of this step having been accepted
            // meanwhile: two concurrent requests with one code, one wins.
            (Some(a), Ok(step)) => {
                if tx.admin_sign_in_succeeded(a.id, step).await? {
                    Ok(a.clone())
                } else {
                    Err("replayed_code")
                }
            }
            (Some(a), Err(why)) if why != "locked" => {
                tx.admin_sign_in_failed(a.id, MAX_FAILURES, now + LOCKOUT)
                    .await?;
                Err(why)
            }
            (_, Err(why)) => Err(why),
            (None, Ok(_)) => Err("unknown_user"),
        };
        let outcome = match &result {
            Ok(_) => "succeeded",
            Err(why) => why,
        };
        record(
            &mut tx,
            &t,
            "admin.sign_in",
            &Attempt {
                username: &username,
                outcome,
                at: now,
            },
        )
        .await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        match result {
            Ok(a) => {
                tracing::info!(username = %username, "break-glass sign-in");
                Ok(a)
            }
            Err(why) => {
                tracing::warn!(username = %username, reason = why, "break-glass sign-in refused");
                Err(failed())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        // If it did not parse, unknown names would skip the Argon2 work.
        let h = argon2::password_hash::PasswordHash::new(DUMMY_PHC).unwrap();
        assert_eq!(h.algorithm.as_str(), "argon2id");
        assert!(!crate::passwords::verify(
            DUMMY_PHC,
            "una password qualsiasi"
        ));
    }

    #[test]
    fn usernames() {
        assert!(check_username("admin").is_ok());
        assert!(check_username("mario.rossi-2").is_ok());
        assert!(check_username("ab").is_err());
        assert!(check_username("Admin").is_err());
        assert!(check_username("a b c").is_err());
    }
}
