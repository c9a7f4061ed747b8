//! The comune's PZ1 seal keys and trust list (issue 5, part 4; DECISIONS
//! 14, 15, 18): one ES256 key at a time per comune, in a PKCS#8 file
//! readable only by the service user (`<keys>/<comune>/pz1-<n>.pk8`, mode
//! 0600), rotated by `palazzo keys rotate`; every key ever used is listed,
//! with the period in which it sealed, in the comune's COSE-signed trust
//! list, signed with a separate Ed25519 list key (`pz1-lista`).
//!
//! A key seals from its creation until the next key's creation: a
//! certificate sealed before a rotation stays verifiable (its `iat` is in
//! its key's period, R7), one dated after it with the old key does not.

use palazzo_seal::cose::{Ed25519Signer, P256Signer, PublicKey, SealSigner};
use palazzo_seal::trust::{TrustEntry, TrustList};
use palazzo_store::{SigningKeyRecord, Store, StoreTx, Tenant, TenantId};

use crate::keys::hex;
use crate::{App, ServiceError, ServiceResult};

/// The purpose of the seal keys in the key store and `signing_keys`.
pub const PZ1_PURPOSE: &str = "pz1";

/// The purpose of the key that signs the trust list.
pub const LIST_PURPOSE: &str = "pz1-lista";

fn internal(what: &str, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("{what}: {e}"))
}

/// The file of the `n`-th seal key of a comune.
fn key_file(n: usize) -> String {
    format!("pz1-{n}.pk8")
}

/// One seal key of a comune, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealKeyInfo {
    /// 1, 2, … in order of creation (the file `pz1-<n>.pk8`).
    pub number: usize,
    /// The kid, in hex (DECISIONS 15).
    pub kid: String,
    /// When it began to seal.
    pub created: jiff::Timestamp,
    /// When it stopped (the next key's creation), `None` for the current one.
    pub retired: Option<jiff::Timestamp>,
}

impl App {
    /// The recorded seal keys of a comune, oldest first.
    async fn seal_key_records(&self, tenant: TenantId) -> ServiceResult<Vec<SigningKeyRecord>> {
        let mut keys: Vec<SigningKeyRecord> = self
            .db()
            .signing_keys(tenant)
            .await?
            .into_iter()
            .filter(|k| k.purpose == PZ1_PURPOSE)
            .collect();
        keys.sort_by_key(|k| (k.created, k.key_name.clone()));
        Ok(keys)
    }

    /// The seal keys of a comune, oldest first, with their periods.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn seal_keys(&self, tenant: TenantId) -> ServiceResult<Vec<SealKeyInfo>> {
        let keys = self.seal_key_records(tenant).await?;
        Ok(keys
            .iter()
            .enumerate()
            .map(|(i, k)| SealKeyInfo {
                number: i + 1,
                kid: hex(&palazzo_seal::cose::kid_of(&k.public_key)),
                created: k.created,
                retired: keys.get(i + 1).map(|next| next.created),
            })
            .collect())
    }

    /// The comune's current seal key, created on first use.
    ///
    /// # Errors
    /// Key store or storage failures.
    pub async fn seal_signer(&self, tenant: &Tenant) -> ServiceResult<P256Signer> {
        let keys = self.seal_key_records(tenant.id).await?;
        match keys.len() {
            0 => self.new_seal_key(tenant, 1).await,
            n => {
                let der = self
                    .keys()
                    .read_file(&tenant.data.slug, &key_file(n))?
                    .ok_or_else(|| internal("seal key", format!("{} is missing", key_file(n))))?;
                let signer =
                    P256Signer::from_pkcs8_der(&der).map_err(|e| internal("seal key", e))?;
                if keys.last().map(|k| k.public_key.as_slice()) != Some(signer.spki_der()) {
                    return Err(internal(
                        "seal key",
                        format!("{} is not the recorded key", key_file(n)),
                    ));
                }
                Ok(signer)
            }
        }
    }

    /// Rotates the comune's seal key (`palazzo keys rotate`): a new key
    /// seals from now on; the old ones stay in the trust list for the
    /// certificates they sealed. Returns the new key.
    ///
    /// # Errors
    /// Key store or storage failures.
    pub async fn rotate_seal_key(&self, tenant: &Tenant) -> ServiceResult<SealKeyInfo> {
        let n = self.seal_key_records(tenant.id).await?.len();
        self.new_seal_key(tenant, n + 1).await?;
        self.seal_keys(tenant.id)
            .await?
            .pop()
            .ok_or_else(|| internal("seal key", "not recorded"))
    }

    /// Creates the `n`-th seal key file (0600, published atomically, never
    /// replaced) and records its public half.
    async fn new_seal_key(&self, tenant: &Tenant, n: usize) -> ServiceResult<P256Signer> {
        use p256::pkcs8::EncodePrivateKey as _;
        let der = self
            .keys()
            .load_or_create_file(&tenant.data.slug, &key_file(n), || {
                let key = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
                Ok(key
                    .to_pkcs8_der()
                    .map_err(|e| internal("seal key", e))?
                    .as_bytes()
                    .to_vec())
            })?;
        let signer = P256Signer::from_pkcs8_der(&der).map_err(|e| internal("seal key", e))?;
        let mut tx = self.db().begin().await?;
        tx.insert_signing_key(
            tenant.id,
            &SigningKeyRecord {
                purpose: PZ1_PURPOSE.into(),
                key_name: format!("pz1-{n}"),
                public_key: signer.spki_der().to_vec(),
                created: palazzo_store::rows::registration_time(),
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(tenant = %tenant.data.slug, n, "new PZ1 seal key");
        Ok(signer)
    }

    /// The key that signs the comune's trust list, created on first use.
    ///
    /// # Errors
    /// Key store failures.
    pub fn trust_list_signer(&self, tenant: &Tenant) -> ServiceResult<Ed25519Signer> {
        let signer = self
            .keys()
            .load_or_create(&tenant.data.slug, LIST_PURPOSE)?;
        Ed25519Signer::from_seed(&signer.seed()).map_err(|e| internal("list key", e))
    }

    /// The public key that signs the trust list, as a PEM
    /// SubjectPublicKeyInfo (`/.well-known/palazzo/trust-list-key`), for
    /// verifiers to pin.
    ///
    /// # Errors
    /// Key store failures.
    pub fn trust_list_key_pem(&self, tenant: &Tenant) -> ServiceResult<String> {
        Ok(crate::keys::pem(
            "PUBLIC KEY",
            self.trust_list_signer(tenant)?.spki_der(),
        ))
    }

    /// The comune's trust list (DECISIONS 18, `/.well-known/palazzo/
    /// trust-list`): every seal key with the period it sealed in and the
    /// certificate types, COSE-signed with the list key.
    ///
    /// # Errors
    /// Key store or storage failures.
    pub async fn trust_list(&self, tenant: &Tenant) -> ServiceResult<Vec<u8>> {
        self.trust_list_entries(tenant)
            .await?
            .sign(&self.trust_list_signer(tenant)?)
            .map_err(|e| internal("trust list", e))
    }

    /// The comune's trust list, unsigned: what [`App::trust_list`] signs
    /// and what the comune's own verification checks against (no
    /// signature to make and check again per request).
    ///
    /// # Errors
    /// Key store or storage failures.
    pub async fn trust_list_entries(&self, tenant: &Tenant) -> ServiceResult<TrustList> {
        let mut records = self.seal_key_records(tenant.id).await?;
        if records.is_empty() {
            // The first key is made on first use, so that the list is
            // never empty.
            self.new_seal_key(tenant, 1).await?;
            records = self.seal_key_records(tenant.id).await?;
        }
        let secs = |t: jiff::Timestamp| u64::try_from(t.as_second()).unwrap_or(0);
        let doc_types: Vec<String> = palazzo_domain::certificati::TipoCertificato::ALL
            .iter()
            .map(|t| t.code().to_owned())
            .collect();
        let entries = records
            .iter()
            .enumerate()
            .map(|(i, k)| {
                Ok(TrustEntry {
                    key: PublicKey::from_spki_der(&k.public_key)
                        .map_err(|e| internal("seal key", e))?,
                    not_before: secs(k.created),
                    // The last second before the next key took over.
                    not_after: records
                        .get(i + 1)
                        .map(|n| secs(n.created).saturating_sub(1)),
                    doc_types: doc_types.clone(),
                })
            })
            .collect::<ServiceResult<Vec<_>>>()?;
        Ok(TrustList {
            issuer: format!("IT-{}", tenant.data.codice_catastale.as_str()),
            issued_at: secs(jiff::Timestamp::now()),
            entries,
        })
    }
}
