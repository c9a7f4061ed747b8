//! Signing keys, one per tenant and purpose, behind the [`Signer`] trait
//! (DECISIONS 14), and the trust material `palazzo verify` relies on.
//!
//! The file backend keeps, in `<dir>/<tenant>/`:
//! - `<purpose>.ed25519.pk8`: the private key, PKCS#8 DER, mode 0600;
//! - `<purpose>-<key id>.vkey`: each public key ever used, as a C2SP
//!   verifier key string (`name+id+key`), the trust anchors of `verify`
//!   (give an auditor just these files);
//! - `ledger.checkpoint`: the newest signed checkpoint, a copy kept outside
//!   the database, so that rolling the database back is detected.
//!
//! An HSM (PKCS#11) or a remote signer can implement [`Signer`] later.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use palazzo_domain::checkpoint;

use crate::{ServiceError, ServiceResult};

/// Lower-case hex of `bytes` (key ids, digests in reports).
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// `der` as a PEM block labelled `label` (RFC 7468: Base64 in lines of 64
/// characters), e.g. `CERTIFICATE` or `PUBLIC KEY`.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER body of the first `label` block of a PEM text ([`pem`]'s
/// inverse); `None` when there is none or its base64 is not valid.
pub fn pem_decode(label: &str, text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = text.split_once(&begin)?.1.split_once(&end)?.0;
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Something that signs with an Ed25519 key it keeps.
pub trait Signer: Send + Sync {
    /// The public key.
    fn verifying_key(&self) -> VerifyingKey;
    /// Signs a message.
    fn sign(&self, message: &[u8]) -> [u8; 64];
}

/// The signature algorithm of an [`X509Signer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum X509Algorithm {
    /// ECDSA on P-256 with SHA-256 (signature as r‖s).
    EcdsaP256Sha256,
    /// RSA PKCS#1 v1.5 with SHA-256.
    RsaPkcs1Sha256,
}

/// Something that signs with a key certified by an X.509 certificate
/// chained to a CA (DECISIONS 14: XAdES on the segnatura; later PAdES and
/// CAdES). The file backend is `segnatura::SealKey`; an HSM (PKCS#11) or a
/// remote qualified-seal service can implement it too.
pub trait X509Signer: Send + Sync {
    /// The algorithm of [`X509Signer::sign`].
    fn algorithm(&self) -> X509Algorithm;
    /// The signer's certificate (DER) first, then the chain towards the CA.
    fn certificate_chain(&self) -> &[Vec<u8>];
    /// Signs a message (the signer hashes it).
    fn sign(&self, message: &[u8]) -> ServiceResult<Vec<u8>>;
}

/// File names of the AOO seal in `<dir>/<tenant>/` (Allegato 6 §3.1,
/// DECISIONS 14): the PKCS#8 key, the certificate chain (PEM, the seal's
/// certificate first), and the IPA code of the AOO. Installed by an
/// operator (`palazzo protocollo sigillo`), never generated.
pub const SEAL_KEY_FILE: &str = "segnatura-key.pem";
/// See [`SEAL_KEY_FILE`].
pub const SEAL_CERT_FILE: &str = "segnatura-cert.pem";
/// See [`SEAL_KEY_FILE`].
pub const SEAL_AOO_FILE: &str = "segnatura-aoo.txt";
/// The seal certificates an installation replaced (PEM, oldest first): the
/// PDFs they sealed are still recognised as the comune's.
pub const SEAL_CERT_HISTORY_FILE: &str = "segnatura-cert-storico.pem";

/// An Ed25519 key loaded from a file.
pub struct FileSigner {
    key: SigningKey,
}

impl FileSigner {
    /// The secret seed, for signers of another crate's interface (the PZ1
    /// trust list key, `sigillo`).
    pub(crate) fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
}

impl Signer for FileSigner {
    fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }
    fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
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
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
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

    fn tenant_dir(&self, tenant_slug: &str) -> ServiceResult<PathBuf> {
        if !valid_component(tenant_slug) {
            return Err(io("invalid tenant name"));
        }
        Ok(self.dir.join(tenant_slug))
    }

    fn path(&self, tenant_slug: &str, purpose: &str) -> ServiceResult<PathBuf> {
        if !valid_component(purpose) {
            return Err(io("invalid purpose name"));
        }
        Ok(self
            .tenant_dir(tenant_slug)?
            .join(format!("{purpose}.ed25519.pk8")))
    }

    /// Loads the key, if its file exists.
    pub fn load(&self, tenant_slug: &str, purpose: &str) -> ServiceResult<Option<FileSigner>> {
        let path = self.path(tenant_slug, purpose)?;
        let der = match fs::read(&path) {
            Ok(der) => der,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let key = SigningKey::from_pkcs8_der(&der).map_err(io)?;
        Ok(Some(FileSigner { key }))
    }

    /// Loads the key, generating and saving a new one (mode 0600) if absent.
    /// Two processes racing here end up with the same key: the file is
    /// published atomically and never replaced.
    pub fn load_or_create(&self, tenant_slug: &str, purpose: &str) -> ServiceResult<FileSigner> {
        if let Some(k) = self.load(tenant_slug, purpose)? {
            return Ok(k);
        }
        let path = self.path(tenant_slug, purpose)?;
        self.prepare_dir(tenant_slug)?;
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let der = key.to_pkcs8_der().map_err(io)?;
        if publish_new(&path, der.as_bytes())? {
            tracing::info!(tenant = tenant_slug, purpose, "generated a new signing key");
            Ok(FileSigner { key })
        } else {
            self.load(tenant_slug, purpose)?
                .ok_or_else(|| io("key file vanished"))
        }
    }

    /// Reads the key file `<dir>/<tenant>/<file_name>`, first creating it
    /// with the bytes `create` returns (mode 0600, published atomically,
    /// never replaced) when it does not exist. Returns what is on disk: when
    /// two processes race, both get the winner's key. `create` may be slow
    /// (RSA generation): call this from a blocking thread.
    pub fn load_or_create_file(
        &self,
        tenant_slug: &str,
        file_name: &str,
        create: impl FnOnce() -> ServiceResult<Vec<u8>>,
    ) -> ServiceResult<Vec<u8>> {
        let valid_name = file_name
            .split_once('.')
            .is_some_and(|(stem, ext)| valid_component(stem) && valid_component(ext));
        if !valid_name {
            return Err(io("invalid key file name"));
        }
        let path = self.tenant_dir(tenant_slug)?.join(file_name);
        match fs::read(&path) {
            Ok(bytes) => return Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        self.prepare_dir(tenant_slug)?;
        let bytes = create()?;
        if publish_new(&path, &bytes)? {
            tracing::info!(
                tenant = tenant_slug,
                file = file_name,
                "generated a new key"
            );
            Ok(bytes)
        } else {
            fs::read(&path).map_err(io)
        }
    }

    /// Reads the file `<dir>/<tenant>/<file_name>`, if it exists.
    pub fn read_file(&self, tenant_slug: &str, file_name: &str) -> ServiceResult<Option<Vec<u8>>> {
        let path = self
            .tenant_dir(tenant_slug)?
            .join(checked_file_name(file_name)?);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    /// Writes (or replaces, atomically) the file `<dir>/<tenant>/<file_name>`
    /// with mode 0600: an operator installing key material.
    pub fn install_file(
        &self,
        tenant_slug: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> ServiceResult<()> {
        let name = checked_file_name(file_name)?;
        let dir = self.prepare_dir(tenant_slug)?;
        replace_atomically(&dir.join(name), bytes)
    }

    fn prepare_dir(&self, tenant_slug: &str) -> ServiceResult<PathBuf> {
        let dir = self.tenant_dir(tenant_slug)?;
        fs::create_dir_all(&dir).map_err(io)?;
        restrict_dir(&self.dir)?;
        restrict_dir(&dir)?;
        Ok(dir)
    }

    /// Records `key` under `name` as a trusted public key of the tenant
    /// (a `<purpose>-<key id>.vkey` file), if not already there.
    pub fn trust(
        &self,
        tenant_slug: &str,
        purpose: &str,
        name: &str,
        key: &VerifyingKey,
    ) -> ServiceResult<()> {
        let dir = self.prepare_dir(tenant_slug)?;
        let id = checkpoint::key_id(name, key);
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let line = checkpoint::verifier_key_string(name, key).map_err(io)?;
        let path = dir.join(format!("{purpose}-{hex}.vkey"));
        publish_new(&path, format!("{line}\n").as_bytes())?;
        Ok(())
    }

    /// The trusted public keys of a tenant for a purpose: (name, key).
    pub fn trusted(
        &self,
        tenant_slug: &str,
        purpose: &str,
    ) -> ServiceResult<Vec<(String, VerifyingKey)>> {
        let dir = self.tenant_dir(tenant_slug)?;
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(e)),
        };
        let prefix = format!("{purpose}-");
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&prefix) && name.ends_with(".vkey") {
                let text = fs::read_to_string(entry.path()).map_err(io)?;
                let parsed = checkpoint::parse_verifier_key(text.trim())
                    .map_err(|e| io(format!("{name}: {e}")))?;
                out.push(parsed);
            }
        }
        Ok(out)
    }

    /// Keeps a copy of the newest signed checkpoint outside the database.
    pub fn write_latest_checkpoint(&self, tenant_slug: &str, note: &str) -> ServiceResult<()> {
        let dir = self.prepare_dir(tenant_slug)?;
        replace_atomically(&dir.join("ledger.checkpoint"), note.as_bytes())
    }

    /// The copy of the newest signed checkpoint, if any.
    pub fn latest_checkpoint(&self, tenant_slug: &str) -> ServiceResult<Option<String>> {
        let path = self.tenant_dir(tenant_slug)?.join("ledger.checkpoint");
        match fs::read_to_string(path) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }
}

/// A key file name: `<stem>.<ext>`, each lower-case letters, digits, `-`, `_`.
fn checked_file_name(file_name: &str) -> ServiceResult<&str> {
    let valid = file_name
        .split_once('.')
        .is_some_and(|(stem, ext)| valid_component(stem) && valid_component(ext));
    if valid {
        Ok(file_name)
    } else {
        Err(io("invalid key file name"))
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

/// Writes `bytes` to a fresh temporary file (mode 0600) in the same directory
/// and syncs it; returns its path.
fn write_temp(path: &Path, bytes: &[u8]) -> ServiceResult<PathBuf> {
    let tmp = path.with_extension(format!("tmp{}", rand::random::<u32>()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    Ok(tmp)
}

/// Publishes a complete file at `path` unless one exists (never a partial
/// file, never a replacement). Returns whether this call created it.
fn publish_new(path: &Path, bytes: &[u8]) -> ServiceResult<bool> {
    let tmp = write_temp(path, bytes)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io(e)),
    }
}

/// Replaces `path` with a complete new content atomically.
fn replace_atomically(path: &Path, bytes: &[u8]) -> ServiceResult<()> {
    let tmp = write_temp(path, bytes)?;
    fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pem_decodes_what_it_encodes() {
        let der: Vec<u8> = (0..=200).collect();
        let text = pem("PUBLIC KEY", &der);
        assert_eq!(pem_decode("PUBLIC KEY", &text), Some(der.clone()));
        // CRLF line ends and text around the block.
        let crlf = format!("chiave:\r\n{}\r\nfine", text.replace('\n', "\r\n"));
        assert_eq!(pem_decode("PUBLIC KEY", &crlf), Some(der));
        assert_eq!(pem_decode("PRIVATE KEY", &text), None);
        assert_eq!(
            pem_decode("PUBLIC KEY", "-----BEGIN PUBLIC KEY-----\n"),
            None
        );
        assert_eq!(
            pem_decode(
                "PUBLIC KEY",
                "-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----\n"
            ),
            None
        );
    }

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
            let d = dir.join("casamassima");
            assert_eq!(fs::metadata(d).unwrap().permissions().mode() & 0o777, 0o700);
        }
        assert!(ks.load_or_create("../etc", "ledger").is_err());
        let sig = a.sign(b"msg");
        assert!(
            a.verifying_key()
                .verify_strict(b"msg", &ed25519_dalek::Signature::from_bytes(&sig))
                .is_ok()
        );
        // No temporary files are left behind.
        let names: Vec<_> = fs::read_dir(dir.join("casamassima"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn key_files_are_created_once_with_owner_only_mode() {
        let dir = std::env::temp_dir().join(format!("palazzo-keyfile-{}", std::process::id()));
        let ks = KeyStore::new(&dir);
        let a = ks
            .load_or_create_file("alfa", "oidc-sig.pem", || Ok(b"one".to_vec()))
            .unwrap();
        let b = ks
            .load_or_create_file("alfa", "oidc-sig.pem", || Ok(b"two".to_vec()))
            .unwrap();
        assert_eq!((a.as_slice(), b.as_slice()), (&b"one"[..], &b"one"[..]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = dir.join("alfa/oidc-sig.pem");
            assert_eq!(fs::metadata(p).unwrap().permissions().mode() & 0o777, 0o600);
        }
        for bad in ["../x.pem", "x", "a/b.pem", ".pem"] {
            assert!(ks.load_or_create_file("alfa", bad, || Ok(vec![])).is_err());
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn trusted_keys_and_checkpoint_copy_round_trip() {
        let dir = std::env::temp_dir().join(format!("palazzo-trust-{}", std::process::id()));
        let ks = KeyStore::new(&dir);
        assert!(ks.trusted("alfa", "ledger").unwrap().is_empty());
        let k = ks.load_or_create("alfa", "ledger").unwrap();
        ks.trust(
            "alfa",
            "ledger",
            "alfa.example/palazzo/alfa",
            &k.verifying_key(),
        )
        .unwrap();
        ks.trust(
            "alfa",
            "ledger",
            "alfa.example/palazzo/alfa",
            &k.verifying_key(),
        )
        .unwrap();
        let trusted = ks.trusted("alfa", "ledger").unwrap();
        assert_eq!(
            trusted,
            vec![("alfa.example/palazzo/alfa".to_owned(), k.verifying_key())]
        );
        assert_eq!(ks.latest_checkpoint("alfa").unwrap(), None);
        ks.write_latest_checkpoint("alfa", "one\n").unwrap();
        ks.write_latest_checkpoint("alfa", "two\n").unwrap();
        assert_eq!(
            ks.latest_checkpoint("alfa").unwrap().as_deref(),
            Some("two\n")
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
