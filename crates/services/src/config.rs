//! The typed configuration of an installation. Loading and layering
//! (defaults → `palazzo.toml` → `PALAZZO_*` environment → flags) happen in
//! the binary; this is what the layers produce.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Every setting. `palazzo.example.toml` documents each key.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where Palazzo keeps its files: the SQLite database, keys, the secret.
    pub data_dir: PathBuf,
    /// Database URL; empty means `sqlite:<data_dir>/palazzo.db`.
    pub database_url: String,
    /// Address to listen on.
    pub listen: String,
    /// Set when a TLS-terminating proxy is in front: enables HSTS.
    pub behind_tls: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Log format: `json` or `pretty`.
    pub log_format: String,
    /// Log filter, e.g. `info` or `palazzo=debug,info`.
    pub log_level: String,
    /// The demonstration sign-in page. Only `palazzo demo` may offer it:
    /// `palazzo serve` refuses to start when a configuration sets it.
    pub demo_sign_in: bool,
    /// The comune's own identity provider for staff, per ente slug
    /// (`[staff_oidc.<slug>]`; see [`crate::staff_oidc`]).
    pub staff_oidc: BTreeMap<String, crate::staff_oidc::StaffOidcConfig>,
    /// SPID/CIE OpenID Connect Federation (`[federation]`, see
    /// `docs/identity.md`). Off when no provider is configured.
    pub federation: crate::federation::FederationConfig,
    /// The RFC 3161 time-stamp authority (`[tsa]`) of the registro
    /// giornaliero; see `docs/registro-giornaliero.md`.
    pub tsa: crate::tsa::TsaConfig,
    /// E-mail to citizens (`[mail]`): transport, SMTP server, sender; see
    /// `docs/operations.md`, "Posta elettronica".
    pub mail: crate::mail::MailConfig,
    /// pagoPA GPD (`[gpd]`): base URL, subscription key, timeout; see
    /// `docs/pagopa.md`. Off without `base_url`.
    pub gpd: crate::pagopa::gpd::GpdConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./palazzo-data"),
            database_url: String::new(),
            listen: "127.0.0.1:8080".into(),
            behind_tls: false,
            max_body_bytes: 1024 * 1024,
            log_format: "pretty".into(),
            log_level: "info".into(),
            demo_sign_in: false,
            staff_oidc: BTreeMap::new(),
            federation: crate::federation::FederationConfig::default(),
            tsa: crate::tsa::TsaConfig::default(),
            mail: crate::mail::MailConfig::default(),
            gpd: crate::pagopa::gpd::GpdConfig::default(),
        }
    }
}

/// The password in a database URL is never printed.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("behind_tls", &self.behind_tls)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field("demo_sign_in", &self.demo_sign_in)
            .field("staff_oidc", &self.staff_oidc)
            .field("federation", &self.federation)
            .field("tsa", &self.tsa)
            .field("mail", &self.mail)
            .field("gpd", &self.gpd)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((creds, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match creds.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

impl Config {
    /// The effective database URL.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite:{}", self.data_dir.join("palazzo.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// Directory of the key files.
    pub fn keys_dir(&self) -> PathBuf {
        self.data_dir.join("keys")
    }

    /// File of the server secret (HMAC of form tickets).
    pub fn secret_path(&self) -> PathBuf {
        self.data_dir.join("secret.key")
    }
}

/// Reads the 32-byte server secret, creating it (mode 0600) if absent.
pub fn load_or_create_secret(path: &Path) -> std::io::Result<[u8; 32]> {
    use std::io::Write;
    if let Ok(bytes) = std::fs::read(path) {
        return <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| std::io::Error::other("secret file must hold exactly 32 bytes"));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(&secret)?;
    f.sync_all()?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_database_password() {
        let c = Config {
            database_url: "postgres://palazzo:s3cret@db/palazzo".into(),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://palazzo:***@db/palazzo"));
    }

    #[test]
    fn debug_redacts_mail_password() {
        let mut c = Config::default();
        c.mail.username = Some("comune".into());
        c.mail.password = Some("pw-della-posta".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("pw-della-posta"), "{shown}");
        assert!(shown.contains("MailConfig"), "{shown}");
    }

    #[test]
    fn debug_redacts_gpd_api_key() {
        let mut c = Config::default();
        c.gpd.base_url =
            Some("https://api.uat.platform.pagopa.it/gpd/debt-positions-service/v1".into());
        c.gpd.api_key = Some("chiave-gpd-segreta".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("chiave-gpd-segreta"), "{shown}");
        assert!(shown.contains("GpdConfig"), "{shown}");
    }

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        let c = Config::default();
        assert_eq!(c.database_url(), "sqlite:./palazzo-data/palazzo.db");
    }
}
