//! Password hashing for the break-glass administrator (DECISIONS 23):
//! Argon2id with m = 19456 KiB, t = 2, p = 1 (the OWASP minimum), a random
//! salt per hash, stored in the PHC string format.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::{ServiceError, ServiceResult};

/// Memory cost in KiB.
pub const M_COST: u32 = 19_456;
/// Iterations.
pub const T_COST: u32 = 2;
/// Parallelism.
pub const P_COST: u32 = 1;
/// Shortest password accepted.
pub const MIN_LENGTH: usize = 12;

fn argon2() -> ServiceResult<Argon2<'static>> {
    let params = Params::new(M_COST, T_COST, P_COST, None)
        .map_err(|e| ServiceError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks the password policy: at least [`MIN_LENGTH`] characters, not all the same.
pub fn check_policy(password: &str) -> ServiceResult<()> {
    let chars: Vec<char> = password.chars().collect();
    if chars.len() < MIN_LENGTH || chars.iter().all(|c| Some(c) == chars.first()) {
        return Err(ServiceError::Invalid {
            code: "password_too_weak",
            message: format!(
                "La password deve contenere almeno {MIN_LENGTH} caratteri non tutti uguali."
            ),
        });
    }
    Ok(())
}

/// Hashes a password (PHC string: `$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash(password: &str) -> ServiceResult<String> {
    check_policy(password)?;
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Internal(format!("argon2: {e}")))
}

/// Whether `password` matches the stored PHC hash. A malformed hash never matches.
pub fn verify(stored: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    argon2().is_ok_and(|a| a.verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hashes_with_the_owasp_parameters_and_verifies() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(&h, "correct horse battery"));
        assert!(!verify(&h, "correct horse batterY"));
        assert!(!verify("not a hash", "correct horse battery"));
        assert_ne!(
            h,
            hash("correct horse battery").unwrap(),
            "a fresh salt every time"
        );
    }

    #[test]
    fn weak_passwords_are_refused() {
        for weak in ["short", "aaaaaaaaaaaaaaaa", ""] {
            assert_eq!(
                hash(weak).err().map(|e| e.code()),
                Some("password_too_weak"),
                "{weak}"
            );
        }
    }
}
