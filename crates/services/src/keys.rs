//! Signing keys, one per tenant and purpose, behind the [`Signer`] trait
//! (DECISIONS 14). The file backend keeps each private key as PKCS#8 DER in
//! `<dir>/<tenant>/<purpose>.ed25519.pk8`, mode 0600; an HSM (PKCS#11) or a
//! remote signer can implement the same trait later.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

use crate::{ServiceError, ServiceResult};

/// Something that signs with an Ed25519 key it keeps.
pub trait Signer: Send + Sync {
    /// The public key.
    fn verifying_key(&self) -> VerifyingKey;
    /// Signs a message.
    fn sign(&self, message: &[u8]) -> [u8; 64];
}

/// An Ed25519 key loaded from a file.
pub struct FileSigner {
    key: SigningKey,
}

impl Signer for FileSigner {
    fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }
    fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl FileSigner {
    /// The underlying key, for domain functions that sign with it directly.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }
}

/// The directory of key files.
#[derive(Debug, Clone)]
pub struct KeyStore {
    dir: PathBuf,
}

fn io(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("key store: {e}"))
}

fn valid_component(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl KeyStore {
    /// A key store rooted at `dir` (created on first use).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        KeyStore { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, tenant_slug: &str, purpose: &str) -> ServiceResult<PathBuf> {
        if !valid_component(tenant_slug) || !valid_component(purpose) {
            return Err(io("invalid tenant or purpose name"));
        }
        Ok(self.dir.join(tenant_slug).join(format!("{purpose}.ed25519.pk8")))
    }

    /// Loads the key, if its file exists.
    pub fn load(&self, tenant_slug: &str, purpose: &str) -> ServiceResult<Option<FileSigner>> {
        let path = self.path(tenant_slug, purpose)?;
        if !path.exists() {
            return Ok(None);
        }
        let der = fs::read(&path).map_err(io)?;
        let key = SigningKey::from_pkcs8_der(&der).map_err(io)?;
        Ok(Some(FileSigner { key }))
    }

    /// Loads the key, generating and saving a new one (mode 0600) if absent.
    pub fn load_or_create(&self, tenant_slug: &str, purpose: &str) -> ServiceResult<FileSigner> {
        if let Some(k) = self.load(tenant_slug, purpose)? {
            return Ok(k);
        }
        let path = self.path(tenant_slug, purpose)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io)?;
            restrict_dir(parent)?;
        }
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let der = key.to_pkcs8_der().map_err(io)?;
        write_private(&path, der.as_bytes())?;
        tracing::info!(tenant = tenant_slug, purpose, "generated a new signing key");
        Ok(FileSigner { key })
    }
}

#[cfg(unix)]
fn restrict_dir(dir: &Path) -> ServiceResult<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)
}

#[cfg(not(unix))]
fn restrict_dir(_dir: &Path) -> ServiceResult<()> {
    Ok(())
}

/// Writes a private key file readable by the owner only, never replacing an existing one.
fn write_private(path: &Path, bytes: &[u8]) -> ServiceResult<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_then_reloads_the_same_key_with_owner_only_mode() {
        let dir = std::env::temp_dir().join(format!("palazzo-keys-{}", std::process::id()));
        let ks = KeyStore::new(&dir);
        let a = ks.load_or_create("casamassima", "ledger").unwrap();
        let b = ks.load_or_create("casamassima", "ledger").unwrap();
        assert_eq!(a.verifying_key(), b.verifying_key());
        let other = ks.load_or_create("acquaviva", "ledger").unwrap();
        assert_ne!(a.verifying_key(), other.verifying_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = dir.join("casamassima/ledger.ed25519.pk8");
            assert_eq!(fs::metadata(p).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(ks.load_or_create("../etc", "ledger").is_err());
        let sig = a.sign(b"msg");
        assert!(a.verifying_key().verify_strict(b"msg", &ed25519_dalek::Signature::from_bytes(&sig)).is_ok());
        fs::remove_dir_all(dir).unwrap();
    }
}
