//! Pure-Rust JOSE: JWK (RFC 7517/7638), JWS compact (RFC 7515), JWE compact (RFC 7516/7518) and
//! JWT claim helpers (RFC 7519), just what the SPID/CIE federation and generic OIDC need.
//!
//! Algorithms: JWS `RS256`, `RS384`, `RS512`, `PS256`, `ES256` (verify; sign with `RS256` and
//! `ES256`); JWE `RSA-OAEP` and `RSA-OAEP-256` with `A128CBC-HS256` or `A256CBC-HS512`.
//! `alg: none` is always refused and every verification takes an explicit allow-list.
//!
//! Security note: RSA decryption uses the `rsa` crate, which is not constant-time
//! (RUSTSEC-2023-0071, the "Marvin" timing attack). This is acceptable here because the only
//! ciphertexts we decrypt are userinfo responses that we fetched ourselves over TLS from a
//! provider resolved through the federation trust chain: no decryption oracle is exposed to
//! third parties. In addition a failed key unwrap continues with a random content key
//! (RFC 7516 §11.5), so padding failures and tag failures look the same. Revisit when `rsa`
//! 0.10 (constant-time) is released.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use rand::rngs::OsRng;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};
use rsa::{BigUint, Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256, Sha384, Sha512};

/// Errors of the JOSE layer. Each has a stable [`JoseError::code`] and an Italian
/// [`JoseError::message_it`] that can be shown to users.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JoseError {
    /// The token or key is not well-formed (segments, base64url, JSON).
    #[error("malformed JOSE object: {0}")]
    Malformed(&'static str),
    /// The header says `alg: none`.
    #[error("unsecured JWS (alg none) refused")]
    AlgNone,
    /// The algorithm is known but not in the caller's allow-list.
    #[error("algorithm {0} not allowed here")]
    AlgNotAllowed(String),
    /// The algorithm is not implemented.
    #[error("unsupported algorithm {0}")]
    UnsupportedAlg(String),
    /// The header carries `crit` or `zip`, which we do not implement.
    #[error("unsupported critical header parameter")]
    UnsupportedCrit,
    /// No key in the set fits the token (kid, key type, `use`).
    #[error("no suitable key found")]
    NoKey,
    /// No `kid` in the header and more than one key could fit.
    #[error("no kid and several candidate keys")]
    AmbiguousKey,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// The JWE could not be decrypted (wrong key, bad tag, bad padding).
    #[error("decryption failed")]
    DecryptFailed,
    /// Key material is invalid or of the wrong type.
    #[error("invalid key: {0}")]
    BadKey(&'static str),
    /// A cryptographic primitive failed while producing output.
    #[error("cryptographic operation failed")]
    Crypto,
    /// The token has expired.
    #[error("token expired")]
    Expired,
    /// The token is issued in the future.
    #[error("token issued in the future")]
    NotYetValid,
    /// A required claim is missing or has the wrong type.
    #[error("missing or invalid claim {0}")]
    MissingClaim(&'static str),
    /// Reading or writing a key file failed.
    #[error("key file: {0}")]
    Io(#[from] std::io::Error),
}

impl JoseError {
    /// Stable machine-readable code, e.g. `identity.jws.bad_signature`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "identity.jose.malformed",
            Self::AlgNone => "identity.jws.alg_none",
            Self::AlgNotAllowed(_) => "identity.jose.alg_not_allowed",
            Self::UnsupportedAlg(_) => "identity.jose.unsupported_alg",
            Self::UnsupportedCrit => "identity.jose.unsupported_crit",
            Self::NoKey => "identity.jws.no_key",
            Self::AmbiguousKey => "identity.jws.ambiguous_key",
            Self::BadSignature => "identity.jws.bad_signature",
            Self::DecryptFailed => "identity.jwe.decrypt_failed",
            Self::BadKey(_) => "identity.jose.bad_key",
            Self::Crypto => "identity.jose.crypto",
            Self::Expired => "identity.jwt.expired",
            Self::NotYetValid => "identity.jwt.not_yet_valid",
            Self::MissingClaim(_) => "identity.jwt.missing_claim",
            Self::Io(_) => "identity.key.io",
        }
    }

    /// Italian message for users (no technical detail).
    pub fn message_it(&self) -> &'static str {
        match self {
            Self::Expired => "La sessione di autenticazione è scaduta. Riprova l'accesso.",
            Self::NotYetValid => {
                "Il gestore dell'identità ha risposto con un orario non valido. Riprova più tardi."
            }
            Self::Io(_) | Self::BadKey(_) | Self::Crypto => {
                "Errore interno di configurazione dell'accesso. Contatta l'assistenza."
            }
            _ => "La risposta del gestore dell'identità non è valida. Riprova l'accesso.",
        }
    }
}

type Result<T, E = JoseError> = std::result::Result<T, E>;

/// Base64url without padding.
pub fn b64(data: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Decodes base64url without padding.
pub fn unb64(s: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| JoseError::Malformed("base64url"))
}

fn b64_biguint(n: &BigUint) -> String {
    b64(n.to_bytes_be())
}

fn biguint(field: Option<&String>) -> Result<BigUint> {
    let s = field.ok_or(JoseError::BadKey("missing RSA parameter"))?;
    Ok(BigUint::from_bytes_be(&unb64(s)?))
}

fn json_obj(bytes: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(JoseError::Malformed("JSON object expected")),
    }
}

// ---------------------------------------------------------------------------------------------
// JWK
// ---------------------------------------------------------------------------------------------

/// Intended use of a key (`use` parameter of RFC 7517).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyUse {
    /// `sig`: signatures.
    Sig,
    /// `enc`: encryption.
    Enc,
}

impl KeyUse {
    /// The JWK `use` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sig => "sig",
            Self::Enc => "enc",
        }
    }
}

/// A JSON Web Key (RFC 7517): RSA or EC P-256, public or private.
///
/// `Debug` never prints private parameters.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `RSA` or `EC`.
    pub kty: String,
    /// Key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Intended use: `sig` or `enc`.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Intended algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// RSA modulus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// EC curve (`P-256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC x coordinate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y coordinate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Private exponent (RSA) or private scalar (EC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    /// RSA first prime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<String>,
    /// RSA second prime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// RSA first CRT exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dp: Option<String>,
    /// RSA second CRT exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dq: Option<String>,
    /// RSA CRT coefficient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qi: Option<String>,
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.kty)
            .field("kid", &self.kid)
            .field("use", &self.use_)
            .field("alg", &self.alg)
            .field("private", &self.d.is_some())
            .finish_non_exhaustive()
    }
}

impl Jwk {
    /// Public JWK of an RSA key, without `kid` or `use`.
    pub fn from_rsa_public(key: &RsaPublicKey) -> Self {
        Self {
            kty: "RSA".into(),
            n: Some(b64_biguint(key.n())),
            e: Some(b64_biguint(key.e())),
            ..Self::default()
        }
    }

    /// Private JWK of an RSA key (with CRT parameters), without `kid` or `use`.
    pub fn from_rsa_private(key: &RsaPrivateKey) -> Self {
        let primes = key.primes();
        let (p, q) = (primes.first(), primes.get(1));
        Self {
            d: Some(b64_biguint(key.d())),
            p: p.map(b64_biguint),
            q: q.map(b64_biguint),
            dp: key.dp().map(b64_biguint),
            dq: key.dq().map(b64_biguint),
            qi: key.crt_coefficient().map(|c| b64_biguint(&c)),
            ..Self::from_rsa_public(&key.to_public_key())
        }
    }

    /// Public JWK of a P-256 key.
    pub fn from_p256_public(key: &p256::ecdsa::VerifyingKey) -> Self {
        let point = key.to_encoded_point(false);
        Self {
            kty: "EC".into(),
            crv: Some("P-256".into()),
            x: point.x().map(b64),
            y: point.y().map(b64),
            ..Self::default()
        }
    }

    /// RSA public key of this JWK.
    pub fn to_rsa_public(&self) -> Result<RsaPublicKey> {
        if self.kty != "RSA" {
            return Err(JoseError::BadKey("not an RSA key"));
        }
        RsaPublicKey::new(biguint(self.n.as_ref())?, biguint(self.e.as_ref())?)
            .map_err(|_| JoseError::BadKey("RSA public key"))
    }

    /// RSA private key of this JWK (needs `d`, `p`, `q`).
    pub fn to_rsa_private(&self) -> Result<RsaPrivateKey> {
        if self.kty != "RSA" {
            return Err(JoseError::BadKey("not an RSA key"));
        }
        let primes = vec![biguint(self.p.as_ref())?, biguint(self.q.as_ref())?];
        let mut key = RsaPrivateKey::from_components(
            biguint(self.n.as_ref())?,
            biguint(self.e.as_ref())?,
            biguint(self.d.as_ref())?,
            primes,
        )
        .map_err(|_| JoseError::BadKey("RSA private key"))?;
        key.validate()
            .map_err(|_| JoseError::BadKey("RSA private key"))?;
        key.precompute()
            .map_err(|_| JoseError::BadKey("RSA private key"))?;
        Ok(key)
    }

    /// P-256 verifying key of this JWK.
    pub fn to_p256_public(&self) -> Result<p256::ecdsa::VerifyingKey> {
        if self.kty != "EC" || self.crv.as_deref() != Some("P-256") {
            return Err(JoseError::BadKey("not a P-256 key"));
        }
        let coord = |c: Option<&String>| -> Result<p256::FieldBytes> {
            let bytes = unb64(c.ok_or(JoseError::BadKey("missing EC coordinate"))?)?;
            if bytes.len() != 32 {
                return Err(JoseError::BadKey("EC coordinate length"));
            }
            Ok(*p256::FieldBytes::from_slice(&bytes))
        };
        let point = p256::EncodedPoint::from_affine_coordinates(
            &coord(self.x.as_ref())?,
            &coord(self.y.as_ref())?,
            false,
        );
        p256::ecdsa::VerifyingKey::from_encoded_point(&point)
            .map_err(|_| JoseError::BadKey("EC point"))
    }

    /// This key without private parameters.
    pub fn public(&self) -> Self {
        Self {
            d: None,
            p: None,
            q: None,
            dp: None,
            dq: None,
            qi: None,
            ..self.clone()
        }
    }

    /// Whether the key carries private parameters.
    pub fn is_private(&self) -> bool {
        self.d.is_some()
    }

    /// RFC 7638 JWK thumbprint (SHA-256, base64url), our default `kid`.
    pub fn thumbprint(&self) -> Result<String> {
        fn s<'a>(v: &'a Option<String>, what: &'static str) -> Result<&'a str> {
            v.as_deref().ok_or(JoseError::BadKey(what))
        }
        let q = |v: &str| Value::String(v.to_owned()).to_string();
        let canonical = match self.kty.as_str() {
            "RSA" => format!(
                r#"{{"e":{},"kty":"RSA","n":{}}}"#,
                q(s(&self.e, "missing e")?),
                q(s(&self.n, "missing n")?)
            ),
            "EC" => format!(
                r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
                q(s(&self.crv, "missing crv")?),
                q(s(&self.x, "missing x")?),
                q(s(&self.y, "missing y")?)
            ),
            _ => return Err(JoseError::BadKey("unsupported kty")),
        };
        Ok(b64(Sha256::digest(canonical.as_bytes())))
    }

    /// Sets `kid` (to the thumbprint when `None`) and `use`; returns the key.
    pub fn with_kid_and_use(mut self, kid: Option<String>, use_: Option<KeyUse>) -> Result<Self> {
        self.kid = Some(match kid {
            Some(k) => k,
            None => self.thumbprint()?,
        });
        self.use_ = use_.map(|u| u.as_str().to_owned());
        Ok(self)
    }
}

/// A JWK Set (RFC 7517 §5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// The key with this `kid`, if any.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid.as_deref() == Some(kid))
    }

    /// The same set with every private parameter removed.
    pub fn public(&self) -> Self {
        Self {
            keys: self.keys.iter().map(Jwk::public).collect(),
        }
    }

    /// Parses a JWK Set from a JSON value (e.g. a `jwks` claim).
    pub fn from_value(v: &Value) -> Result<Self> {
        serde_json::from_value(v.clone()).map_err(|_| JoseError::Malformed("jwks"))
    }

    /// Whether any key in `self` has the same public part as a key in `other`.
    pub fn shares_key_with(&self, other: &Self) -> bool {
        self.keys.iter().any(|a| {
            other
                .keys
                .iter()
                .any(|b| match (a.thumbprint(), b.thumbprint()) {
                    (Ok(x), Ok(y)) => x == y,
                    _ => false,
                })
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Key pairs
// ---------------------------------------------------------------------------------------------

/// Something that can produce JWS signatures.
pub trait SigningKey {
    /// The JWS `alg` this key signs with.
    fn alg(&self) -> Alg;
    /// The `kid` put in JWS headers.
    fn kid(&self) -> &str;
    /// Signs the JWS signing input.
    fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>>;
}

/// An RSA private key with its `kid` (RFC 7638 thumbprint of the public key). Signs with RS256.
///
/// Files: PKCS#8, PEM (`-----BEGIN PRIVATE KEY-----`) or DER; keep them outside the database
/// with permissions 0600 ([`RsaKeyPair::write_pkcs8_pem_file`] does that on Unix).
#[derive(Clone)]
pub struct RsaKeyPair {
    key: RsaPrivateKey,
    kid: String,
}

impl fmt::Debug for RsaKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaKeyPair")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl RsaKeyPair {
    /// Wraps a private key; the `kid` is its thumbprint.
    pub fn new(key: RsaPrivateKey) -> Result<Self> {
        let kid = Jwk::from_rsa_public(&key.to_public_key()).thumbprint()?;
        Ok(Self { key, kid })
    }

    /// Generates a new RSA key of `bits` bits (use 2048 or more).
    pub fn generate(bits: usize) -> Result<Self> {
        Self::new(RsaPrivateKey::new(&mut OsRng, bits).map_err(|_| JoseError::Crypto)?)
    }

    /// Loads a private RSA JWK (the `kid` is recomputed as the thumbprint).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self> {
        Self::new(jwk.to_rsa_private()?)
    }

    /// Private JWK with `kid` and the given `use` (for exchanging keys with test tools only).
    pub fn to_private_jwk(&self, use_: KeyUse) -> Jwk {
        Jwk {
            kid: Some(self.kid.clone()),
            use_: Some(use_.as_str().into()),
            ..Jwk::from_rsa_private(&self.key)
        }
    }

    /// Loads a PKCS#8 DER private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        Self::new(RsaPrivateKey::from_pkcs8_der(der).map_err(|_| JoseError::BadKey("PKCS#8 DER"))?)
    }

    /// Loads a PKCS#8 PEM private key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self> {
        Self::new(RsaPrivateKey::from_pkcs8_pem(pem).map_err(|_| JoseError::BadKey("PKCS#8 PEM"))?)
    }

    /// PKCS#8 DER encoding of the private key.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>> {
        Ok(self
            .key
            .to_pkcs8_der()
            .map_err(|_| JoseError::Crypto)?
            .as_bytes()
            .to_vec())
    }

    /// PKCS#8 PEM encoding of the private key.
    pub fn to_pkcs8_pem(&self) -> Result<String> {
        Ok(self
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| JoseError::Crypto)?
            .to_string())
    }

    /// Reads a PKCS#8 key file, PEM or DER.
    pub fn read_pkcs8_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path)?;
        match std::str::from_utf8(&bytes) {
            Ok(pem) if pem.contains("-----BEGIN") => Self::from_pkcs8_pem(pem),
            _ => Self::from_pkcs8_der(&bytes),
        }
    }

    /// Writes the key as PKCS#8 PEM, creating the file with mode 0600 on Unix. Fails if the
    /// file exists.
    pub fn write_pkcs8_pem_file(&self, path: &Path) -> Result<()> {
        use std::io::Write as _;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut file = opts.open(path)?;
        file.write_all(self.to_pkcs8_pem()?.as_bytes())?;
        file.sync_all()?;
        Ok(())
    }

    /// The key id (RFC 7638 thumbprint of the public key).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key.
    pub fn private_key(&self) -> &RsaPrivateKey {
        &self.key
    }

    /// The public key.
    pub fn public_key(&self) -> RsaPublicKey {
        self.key.to_public_key()
    }

    /// Public JWK with `kid` and the given `use`.
    pub fn to_public_jwk(&self, use_: KeyUse) -> Jwk {
        Jwk {
            kid: Some(self.kid.clone()),
            use_: Some(use_.as_str().into()),
            ..Jwk::from_rsa_public(&self.public_key())
        }
    }
}

impl SigningKey for RsaKeyPair {
    fn alg(&self) -> Alg {
        Alg::Rs256
    }
    fn kid(&self) -> &str {
        &self.kid
    }
    fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.key
            .sign_with_rng(
                &mut OsRng,
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(message),
            )
            .map_err(|_| JoseError::Crypto)
    }
}

/// A P-256 private key with its `kid`. Signs with ES256.
#[derive(Clone)]
pub struct EcKeyPair {
    key: p256::ecdsa::SigningKey,
    kid: String,
}

impl fmt::Debug for EcKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcKeyPair")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl EcKeyPair {
    fn new(key: p256::ecdsa::SigningKey) -> Result<Self> {
        let kid = Jwk::from_p256_public(key.verifying_key()).thumbprint()?;
        Ok(Self { key, kid })
    }

    /// Generates a new P-256 key.
    pub fn generate() -> Result<Self> {
        Self::new(p256::ecdsa::SigningKey::random(&mut OsRng))
    }

    /// Loads a private P-256 JWK (`d` plus matching `x`/`y`).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self> {
        let public = jwk.to_p256_public()?;
        let d = unb64(jwk.d.as_deref().ok_or(JoseError::BadKey("missing d"))?)?;
        let key = p256::ecdsa::SigningKey::from_slice(&d).map_err(|_| JoseError::BadKey("EC d"))?;
        if *key.verifying_key() != public {
            return Err(JoseError::BadKey("EC d does not match x/y"));
        }
        Self::new(key)
    }

    /// Private JWK with `kid` and `use`.
    pub fn to_private_jwk(&self, use_: KeyUse) -> Jwk {
        Jwk {
            d: Some(b64(self.key.to_bytes())),
            ..self.to_public_jwk(use_)
        }
    }

    /// Loads a PKCS#8 PEM private key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self> {
        Self::new(
            p256::ecdsa::SigningKey::from_pkcs8_pem(pem)
                .map_err(|_| JoseError::BadKey("PKCS#8 PEM"))?,
        )
    }

    /// PKCS#8 PEM encoding of the private key.
    pub fn to_pkcs8_pem(&self) -> Result<String> {
        Ok(self
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| JoseError::Crypto)?
            .to_string())
    }

    /// The key id (RFC 7638 thumbprint of the public key).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Public JWK with `kid` and `use`.
    pub fn to_public_jwk(&self, use_: KeyUse) -> Jwk {
        Jwk {
            kid: Some(self.kid.clone()),
            use_: Some(use_.as_str().into()),
            ..Jwk::from_p256_public(self.key.verifying_key())
        }
    }
}

impl SigningKey for EcKeyPair {
    fn alg(&self) -> Alg {
        Alg::Es256
    }
    fn kid(&self) -> &str {
        &self.kid
    }
    fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>> {
        use p256::ecdsa::signature::Signer as _;
        let sig: p256::ecdsa::Signature =
            self.key.try_sign(message).map_err(|_| JoseError::Crypto)?;
        Ok(sig.to_bytes().to_vec())
    }
}

// ---------------------------------------------------------------------------------------------
// JWS
// ---------------------------------------------------------------------------------------------

/// JWS algorithms we implement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256 (salt 32 bytes).
    Ps256,
    /// ECDSA P-256 with SHA-256.
    Es256,
}

impl Alg {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Es256 => "ES256",
        }
    }

    /// Parses an `alg` header value.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "RS256" => Self::Rs256,
            "RS384" => Self::Rs384,
            "RS512" => Self::Rs512,
            "PS256" => Self::Ps256,
            "ES256" => Self::Es256,
            _ if s.eq_ignore_ascii_case("none") => return Err(JoseError::AlgNone),
            other => return Err(JoseError::UnsupportedAlg(other.to_owned())),
        })
    }

    fn kty(self) -> &'static str {
        match self {
            Self::Es256 => "EC",
            _ => "RSA",
        }
    }

    fn verify(self, jwk: &Jwk, message: &[u8], sig: &[u8]) -> Result<()> {
        let ok = match self {
            Self::Es256 => {
                use p256::ecdsa::signature::Verifier as _;
                let key = jwk.to_p256_public()?;
                let sig =
                    p256::ecdsa::Signature::from_slice(sig).map_err(|_| JoseError::BadSignature)?;
                key.verify(message, &sig).is_ok()
            }
            rsa_alg => {
                let key = jwk.to_rsa_public()?;
                if key.n().bits() < 2048 {
                    return Err(JoseError::BadKey("RSA key shorter than 2048 bits"));
                }
                match rsa_alg {
                    Self::Rs384 => {
                        key.verify(Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(message), sig)
                    }
                    Self::Rs512 => {
                        key.verify(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(message), sig)
                    }
                    Self::Ps256 => key.verify(Pss::new::<Sha256>(), &Sha256::digest(message), sig),
                    _ => key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message), sig),
                }
                .is_ok()
            }
        };
        if ok {
            Ok(())
        } else {
            Err(JoseError::BadSignature)
        }
    }
}

/// Every JWS algorithm this crate verifies.
pub const ALL_JWS_ALGS: &[Alg] = &[Alg::Rs256, Alg::Rs384, Alg::Rs512, Alg::Ps256, Alg::Es256];

/// A verified JWS: its protected header and payload.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The protected header.
    pub header: Map<String, Value>,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

impl Verified {
    /// The payload as a JSON object (JWT claims).
    pub fn claims(&self) -> Result<Claims> {
        json_obj(&self.payload).map(Claims)
    }

    /// A string header parameter.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }
}

/// Signs `payload` as a compact JWS. The header gets `alg` and `kid` from the key plus
/// `header_extra` (e.g. `typ`); `alg`/`kid` in `header_extra` are overwritten.
pub fn sign(
    header_extra: Map<String, Value>,
    payload: &[u8],
    key: &dyn SigningKey,
) -> Result<String> {
    let mut header = header_extra;
    header.insert("alg".into(), key.alg().as_str().into());
    header.insert("kid".into(), key.kid().into());
    let header = serde_json::to_vec(&header).map_err(|_| JoseError::Malformed("header"))?;
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = key.sign_bytes(input.as_bytes())?;
    Ok(format!("{input}.{}", b64(sig)))
}

/// Signs JWT claims (a JSON object) with an optional `typ`.
pub fn sign_claims(
    typ: Option<&str>,
    claims: &Map<String, Value>,
    key: &dyn SigningKey,
) -> Result<String> {
    let mut header = Map::new();
    if let Some(t) = typ {
        header.insert("typ".into(), t.into());
    }
    let payload = serde_json::to_vec(claims).map_err(|_| JoseError::Malformed("claims"))?;
    sign(header, &payload, key)
}

/// Decodes the protected header of a compact JWS or JWE without verifying anything.
pub fn decode_header(token: &str) -> Result<Map<String, Value>> {
    let first = token
        .split('.')
        .next()
        .ok_or(JoseError::Malformed("token"))?;
    json_obj(&unb64(first)?)
}

/// Decodes the payload of a compact JWS **without verifying it**. Only for reading the keys
/// that will then be used to verify the same token (self-signed entity configurations).
pub fn decode_unverified_payload(token: &str) -> Result<Vec<u8>> {
    let parts: Vec<&str> = token.split('.').collect();
    match parts.as_slice() {
        [_, p, _] => unb64(p),
        _ => Err(JoseError::Malformed("JWS must have 3 parts")),
    }
}

fn check_crit(header: &Map<String, Value>) -> Result<()> {
    if header.contains_key("crit") || header.contains_key("zip") {
        return Err(JoseError::UnsupportedCrit);
    }
    Ok(())
}

/// Verifies a compact JWS against `jwks` with an algorithm allow-list.
///
/// The key is chosen by `kid`; without `kid`, exactly one suitable key must exist. Keys with
/// `use: enc`, of another type, or whose own `alg` differs are never used.
pub fn verify(token: &str, jwks: &JwkSet, allowed: &[Alg]) -> Result<Verified> {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return Err(JoseError::Malformed("JWS must have 3 parts"));
    };
    let header = json_obj(&unb64(h)?)?;
    check_crit(&header)?;
    let alg_name = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(JoseError::Malformed("missing alg"))?;
    let alg = Alg::parse(alg_name)?;
    if !allowed.contains(&alg) {
        return Err(JoseError::AlgNotAllowed(alg_name.to_owned()));
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let candidates: Vec<&Jwk> = jwks
        .keys
        .iter()
        .filter(|k| k.kty == alg.kty())
        .filter(|k| k.use_.as_deref() != Some("enc"))
        .filter(|k| k.alg.as_deref().is_none_or(|a| a == alg.as_str()))
        .filter(|k| kid.is_none_or(|kid| k.kid.as_deref() == Some(kid)))
        .collect();
    let key = match candidates.as_slice() {
        [] => return Err(JoseError::NoKey),
        [one] => *one,
        _ if kid.is_none() => return Err(JoseError::AmbiguousKey),
        [first, ..] => *first,
    };
    let payload = unb64(p)?;
    let sig = unb64(s)?;
    alg.verify(key, format!("{h}.{p}").as_bytes(), &sig)?;
    Ok(Verified { header, payload })
}

// ---------------------------------------------------------------------------------------------
// JWE
// ---------------------------------------------------------------------------------------------

/// JWE key management algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAlg {
    /// RSAES OAEP with SHA-1 and MGF1-SHA-1.
    RsaOaep,
    /// RSAES OAEP with SHA-256 and MGF1-SHA-256.
    RsaOaep256,
}

impl KeyAlg {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RsaOaep => "RSA-OAEP",
            Self::RsaOaep256 => "RSA-OAEP-256",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "RSA-OAEP" => Ok(Self::RsaOaep),
            "RSA-OAEP-256" => Ok(Self::RsaOaep256),
            other => Err(JoseError::UnsupportedAlg(other.to_owned())),
        }
    }

    fn padding(self) -> Oaep {
        match self {
            Self::RsaOaep => Oaep::new::<sha1::Sha1>(),
            Self::RsaOaep256 => Oaep::new::<Sha256>(),
        }
    }
}

/// JWE content encryption algorithms (RFC 7518 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentEnc {
    /// AES-128-CBC + HMAC-SHA-256, 32-byte key.
    A128CbcHs256,
    /// AES-256-CBC + HMAC-SHA-512, 64-byte key.
    A256CbcHs512,
}

impl ContentEnc {
    /// The `enc` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A128CbcHs256 => "A128CBC-HS256",
            Self::A256CbcHs512 => "A256CBC-HS512",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "A128CBC-HS256" => Ok(Self::A128CbcHs256),
            "A256CBC-HS512" => Ok(Self::A256CbcHs512),
            other => Err(JoseError::UnsupportedAlg(other.to_owned())),
        }
    }

    /// Length of the content encryption key in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Self::A128CbcHs256 => 32,
            Self::A256CbcHs512 => 64,
        }
    }

    fn tag(self, mac_key: &[u8], aad: &[u8], iv: &[u8], ct: &[u8]) -> Result<Vec<u8>> {
        let al = ((aad.len() as u64) * 8).to_be_bytes();
        fn mac<M: Mac + hmac::digest::KeyInit>(k: &[u8], parts: [&[u8]; 4]) -> Result<Vec<u8>> {
            let mut m =
                <M as hmac::digest::KeyInit>::new_from_slice(k).map_err(|_| JoseError::Crypto)?;
            for p in parts {
                m.update(p);
            }
            Ok(m.finalize().into_bytes().to_vec())
        }
        let mut full = match self {
            Self::A128CbcHs256 => mac::<Hmac<Sha256>>(mac_key, [aad, iv, ct, &al])?,
            Self::A256CbcHs512 => mac::<Hmac<Sha512>>(mac_key, [aad, iv, ct, &al])?,
        };
        full.truncate(self.key_len() / 2);
        Ok(full)
    }

    /// AES_CBC_HMAC_SHA2 encryption (RFC 7518 §5.2.2.1); returns (ciphertext, tag).
    fn seal(
        self,
        key: &[u8],
        iv: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        use cbc::cipher::{BlockEncryptMut as _, KeyIvInit as _, block_padding::Pkcs7};
        if key.len() != self.key_len() || iv.len() != 16 {
            return Err(JoseError::BadKey("content key or IV length"));
        }
        let (mac_key, enc_key) = key.split_at(key.len() / 2);
        let ct = match self {
            Self::A128CbcHs256 => cbc::Encryptor::<aes::Aes128>::new_from_slices(enc_key, iv)
                .map_err(|_| JoseError::Crypto)?
                .encrypt_padded_vec_mut::<Pkcs7>(plaintext),
            Self::A256CbcHs512 => cbc::Encryptor::<aes::Aes256>::new_from_slices(enc_key, iv)
                .map_err(|_| JoseError::Crypto)?
                .encrypt_padded_vec_mut::<Pkcs7>(plaintext),
        };
        let tag = self.tag(mac_key, aad, iv, &ct)?;
        Ok((ct, tag))
    }

    /// AES_CBC_HMAC_SHA2 decryption (RFC 7518 §5.2.2.2); the tag is compared in constant time
    /// before any decryption.
    fn open(self, key: &[u8], iv: &[u8], aad: &[u8], ct: &[u8], tag: &[u8]) -> Result<Vec<u8>> {
        use cbc::cipher::{BlockDecryptMut as _, KeyIvInit as _, block_padding::Pkcs7};
        use subtle::ConstantTimeEq as _;
        if key.len() != self.key_len() || iv.len() != 16 {
            return Err(JoseError::DecryptFailed);
        }
        let (mac_key, enc_key) = key.split_at(key.len() / 2);
        let expected = self.tag(mac_key, aad, iv, ct)?;
        if !bool::from(expected.ct_eq(tag)) {
            return Err(JoseError::DecryptFailed);
        }
        match self {
            Self::A128CbcHs256 => cbc::Decryptor::<aes::Aes128>::new_from_slices(enc_key, iv)
                .map_err(|_| JoseError::DecryptFailed)?
                .decrypt_padded_vec_mut::<Pkcs7>(ct),
            Self::A256CbcHs512 => cbc::Decryptor::<aes::Aes256>::new_from_slices(enc_key, iv)
                .map_err(|_| JoseError::DecryptFailed)?
                .decrypt_padded_vec_mut::<Pkcs7>(ct),
        }
        .map_err(|_| JoseError::DecryptFailed)
    }
}

/// Encrypts `plaintext` to `recipient` as a compact JWE. The header gets `alg` and `enc` plus
/// `header_extra` (e.g. `kid`, `cty: "JWT"`).
pub fn encrypt(
    header_extra: Map<String, Value>,
    plaintext: &[u8],
    recipient: &RsaPublicKey,
    alg: KeyAlg,
    enc: ContentEnc,
) -> Result<String> {
    let mut header = header_extra;
    header.insert("alg".into(), alg.as_str().into());
    header.insert("enc".into(), enc.as_str().into());
    let header_b64 = b64(serde_json::to_vec(&header).map_err(|_| JoseError::Malformed("header"))?);
    let mut cek = vec![0u8; enc.key_len()];
    OsRng.fill_bytes(&mut cek);
    let mut iv = [0u8; 16];
    OsRng.fill_bytes(&mut iv);
    let ek = recipient
        .encrypt(&mut OsRng, alg.padding(), &cek)
        .map_err(|_| JoseError::Crypto)?;
    let (ct, tag) = enc.seal(&cek, &iv, header_b64.as_bytes(), plaintext)?;
    Ok(format!(
        "{header_b64}.{}.{}.{}.{}",
        b64(ek),
        b64(iv),
        b64(ct),
        b64(tag)
    ))
}

/// Decrypts a compact JWE (`RSA-OAEP`/`RSA-OAEP-256`, `A128CBC-HS256`/`A256CBC-HS512`).
pub fn decrypt(token: &str, key: &RsaPrivateKey) -> Result<Vec<u8>> {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, ek, iv, ct, tag] = parts.as_slice() else {
        return Err(JoseError::Malformed("JWE must have 5 parts"));
    };
    let header = json_obj(&unb64(h)?)?;
    check_crit(&header)?;
    let get = |n| {
        header
            .get(n)
            .and_then(Value::as_str)
            .ok_or(JoseError::Malformed("missing alg/enc"))
    };
    let alg = KeyAlg::parse(get("alg")?)?;
    let enc = ContentEnc::parse(get("enc")?)?;
    let (ek, iv, ct, tag) = (unb64(ek)?, unb64(iv)?, unb64(ct)?, unb64(tag)?);
    // RFC 7516 §11.5: on unwrap failure go on with a random key so every failure looks alike.
    let cek = match key.decrypt(alg.padding(), &ek) {
        Ok(k) if k.len() == enc.key_len() => k,
        _ => {
            let mut k = vec![0u8; enc.key_len()];
            OsRng.fill_bytes(&mut k);
            k
        }
    };
    enc.open(&cek, &iv, h.as_bytes(), &ct, &tag)
}

// ---------------------------------------------------------------------------------------------
// Sealing small secrets at rest
// ---------------------------------------------------------------------------------------------

/// Length of a [`seal`]/[`open`] key: 64 bytes (A256CBC-HS512: 32 MAC + 32 AES bytes).
pub const SEAL_KEY_LEN: usize = 64;

/// Encrypts and authenticates a small secret for storage (e.g. a token kept in a session row):
/// A256CBC-HS512 (RFC 7518 §5.2.5) with a random 16-byte IV per value and `aad` bound in the
/// tag. The result is `v1.<iv>.<ciphertext>.<tag>` (base64url); [`open`] reverses it.
pub fn seal(key: &[u8; SEAL_KEY_LEN], aad: &[u8], plaintext: &[u8]) -> Result<String> {
    let mut iv = [0u8; 16];
    OsRng.fill_bytes(&mut iv);
    let (ct, tag) = ContentEnc::A256CbcHs512.seal(key, &iv, aad, plaintext)?;
    Ok(format!("v1.{}.{}.{}", b64(iv), b64(ct), b64(tag)))
}

/// Decrypts what [`seal`] produced with the same key and `aad`. Any change to the value, the
/// key or `aad` is [`JoseError::DecryptFailed`] (the tag is checked, in constant time, before
/// decrypting).
pub fn open(key: &[u8; SEAL_KEY_LEN], aad: &[u8], sealed: &str) -> Result<Vec<u8>> {
    let parts: Vec<&str> = sealed.split('.').collect();
    let ["v1", iv, ct, tag] = parts.as_slice() else {
        return Err(JoseError::DecryptFailed);
    };
    let part = |p: &str| unb64(p).map_err(|_| JoseError::DecryptFailed);
    let (iv, ct, tag) = (part(iv)?, part(ct)?, part(tag)?);
    ContentEnc::A256CbcHs512.open(key, &iv, aad, &ct, &tag)
}

// ---------------------------------------------------------------------------------------------
// JWT claims
// ---------------------------------------------------------------------------------------------

/// JWT claims: a JSON object with typed getters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Claims(pub Map<String, Value>);

impl Claims {
    /// Parses claims from JSON bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        json_obj(bytes).map(Self)
    }

    /// Raw value of a claim.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// A string claim.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// A required string claim.
    pub fn req_str(&self, name: &'static str) -> Result<&str> {
        self.str(name).ok_or(JoseError::MissingClaim(name))
    }

    /// An integer claim (NumericDate claims are seconds since the epoch).
    pub fn i64(&self, name: &str) -> Option<i64> {
        self.0
            .get(name)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
    }

    /// The audience: a string or an array of strings (other values are ignored).
    pub fn aud(&self) -> Vec<&str> {
        match self.0.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// Checks `iat` and `exp` (required) against `now` with a leeway in seconds.
    pub fn check_time(&self, now: jiff::Timestamp, leeway: i64) -> Result<()> {
        check_time(self.i64("iat"), self.i64("exp"), now, leeway)
    }

    /// The inner map.
    pub fn into_inner(self) -> Map<String, Value> {
        self.0
    }
}

/// Checks that `exp` is present and not past (`now < exp + leeway`) and that `iat`, when
/// present, is not in the future (`iat <= now + leeway`). Times are seconds since the epoch.
pub fn check_time(
    iat: Option<i64>,
    exp: Option<i64>,
    now: jiff::Timestamp,
    leeway: i64,
) -> Result<()> {
    let now = now.as_second();
    let exp = exp.ok_or(JoseError::MissingClaim("exp"))?;
    if now >= exp.saturating_add(leeway) {
        return Err(JoseError::Expired);
    }
    if iat.is_some_and(|iat| iat > now.saturating_add(leeway)) {
        return Err(JoseError::NotYetValid);
    }
    Ok(())
}

/// Random URL-safe string from `bytes` random bytes (32 bytes give 43 characters).
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    b64(buf)
}

#[cfg(test)]
#[path = "jose_tests.rs"]
mod tests;
