//! The tamper-evident ledger (tracciabilità): events appended in the same
//! transaction as the change they record, and signed checkpoints made at
//! most about a second after each commit (DECISIONS 11, 12).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use palazzo_domain::checkpoint::{self, Checkpoint};
use palazzo_domain::merkle::CompactRange;
use palazzo_domain::{cbor, ledger};
use palazzo_store::{
    CheckpointRecord, LedgerEvent, NewEvent, Recorded, SigningKeyRecord, Store, StoreError,
    StoreTx, Tenant, TenantId,
};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::db::DbTx;
use crate::keys::Signer;
use crate::{App, ServiceError, ServiceResult};

/// Purpose name of the ledger checkpoint key.
pub const LEDGER_KEY: &str = "ledger";

/// SHA-256 of the deterministic CBOR encoding of a record's canonical state.
pub fn state_hash(record: &impl Recorded) -> ServiceResult<[u8; 32]> {
    let bytes = cbor::encode(&record.state())
        .map_err(|e| ServiceError::Internal(format!("state encoding: {e}")))?;
    Ok(Sha256::digest(bytes).into())
}

/// The ledger origin (and checkpoint key name) of a tenant:
/// `<host>/palazzo/<tenant>` (DECISIONS 12), host = the first host name.
pub fn origin(tenant: &Tenant) -> String {
    let host = tenant
        .data
        .hostnames
        .first()
        .map_or("localhost", String::as_str);
    format!("{host}/palazzo/{}", tenant.data.slug)
}

/// Appends the event that records `record`'s new state, inside `tx`.
pub async fn record(
    tx: &mut DbTx,
    tenant: &Tenant,
    kind: &str,
    record: &impl Recorded,
) -> ServiceResult<LedgerEvent> {
    let event = new_event(tenant, kind, record)?;
    Ok(tx.append_event(tenant.id, &event).await?)
}

/// Records several changes of the same kind, in order, with one ledger
/// head update (group commit).
pub async fn record_all(
    tx: &mut DbTx,
    tenant: &Tenant,
    kind: &str,
    records: &[impl Recorded],
) -> ServiceResult<Vec<LedgerEvent>> {
    let events = records
        .iter()
        .map(|r| new_event(tenant, kind, r))
        .collect::<ServiceResult<Vec<_>>>()?;
    Ok(tx.append_events(tenant.id, &events).await?)
}

fn new_event(tenant: &Tenant, kind: &str, record: &impl Recorded) -> ServiceResult<NewEvent> {
    Ok(NewEvent {
        tenant_slug: tenant.data.slug.clone(),
        kind: kind.to_owned(),
        subject: record.subject(),
        state_hash: state_hash(record)?,
    })
}

/// Wakes the background checkpointer for the tenants that changed.
#[derive(Default)]
pub(crate) struct Checkpointer {
    dirty: Mutex<HashSet<TenantId>>,
    notify: Notify,
}

impl App {
    /// Tells the checkpointer that `tenant`'s ledger grew (call after commit).
    pub(crate) fn ledger_changed(&self, tenant: TenantId) {
        if let Ok(mut d) = self.inner.checkpointer.dirty.lock() {
            d.insert(tenant);
        }
        self.inner.checkpointer.notify.notify_one();
    }

    /// Makes sure the tenant has a ledger key: creates the key file if
    /// needed, registers its public half in the database under the tenant's
    /// origin (the key name, fixed from then on) and records it as trusted
    /// in the key directory.
    pub(crate) async fn ensure_ledger_key(&self, tenant: &Tenant) -> ServiceResult<()> {
        let signer = self.keys().load_or_create(&tenant.data.slug, LEDGER_KEY)?;
        let public = signer.verifying_key().to_bytes().to_vec();
        let known = self.db().signing_keys(tenant.id).await?;
        let name = match known
            .iter()
            .find(|k| k.purpose == LEDGER_KEY && k.public_key == public)
        {
            Some(k) => k.key_name.clone(),
            None => {
                let name = origin(tenant);
                let mut tx = self.db().begin().await?;
                tx.insert_signing_key(
                    tenant.id,
                    &SigningKeyRecord {
                        purpose: LEDGER_KEY.into(),
                        key_name: name.clone(),
                        public_key: public,
                        created: jiff::Timestamp::now(),
                    },
                )
                .await?;
                tx.commit().await?;
                name
            }
        };
        self.keys().trust(
            &tenant.data.slug,
            LEDGER_KEY,
            &name,
            &signer.verifying_key(),
        )
    }

    /// Signs a checkpoint of the tenant's ledger if it grew since the last
    /// one. Returns the new checkpoint, if any.
    #[tracing::instrument(skip_all, fields(tenant = tenant.id.0))]
    pub async fn checkpoint(&self, tenant: &Tenant) -> ServiceResult<Option<CheckpointRecord>> {
        let db = self.db();
        let size = db.ledger_size(tenant.id).await?;
        let latest = db.latest_checkpoint(tenant.id).await?;
        let (mut range, from) = match &latest {
            Some(c) if c.size == size => return Ok(None),
            Some(c) => {
                let range = CompactRange::from_bytes(&c.frontier)
                    .map_err(|e| ServiceError::Internal(format!("stored frontier: {e}")))?;
                // Extend only a frontier that is the one the checkpoint signed.
                if range.size() != c.size || range.root() != c.root {
                    return Err(ServiceError::Internal(
                        "stored frontier does not match its checkpoint".into(),
                    ));
                }
                (range, c.size)
            }
            None if size == 0 => return Ok(None),
            None => (CompactRange::new(), 0),
        };
        for event in db.ledger_events(tenant.id, from, size).await? {
            // Never sign over an event whose stored fields no longer produce its leaf.
            let leaf = leaf_of(&event)?;
            if leaf != event.leaf_hash {
                tracing::error!(seq = event.seq, "ledger event altered; checkpoint refused");
                return Err(ServiceError::Internal(format!(
                    "ledger event {} altered",
                    event.seq
                )));
            }
            range
                .append(leaf)
                .map_err(|e| ServiceError::Internal(format!("frontier: {e}")))?;
        }
        if range.size() != size {
            return Err(ServiceError::Internal("ledger has gaps".into()));
        }
        // The key must exist: a missing key file is an incident, never a reason
        // to mint a new, unregistered key.
        let signer = self
            .keys()
            .load(&tenant.data.slug, LEDGER_KEY)?
            .ok_or_else(|| {
                ServiceError::Internal(format!("ledger key of {} is missing", tenant.data.slug))
            })?;
        let public = signer.verifying_key().to_bytes();
        let name = db
            .signing_keys(tenant.id)
            .await?
            .into_iter()
            .find(|k| k.purpose == LEDGER_KEY && k.public_key == public)
            .map(|k| k.key_name)
            .ok_or_else(|| ServiceError::Internal("ledger key is not registered".into()))?;
        let time = jiff::Timestamp::now();
        let cp = Checkpoint::new(name.clone(), size, range.root())
            .with_time(time)
            .map_err(|e| ServiceError::Internal(format!("checkpoint time: {e}")))?;
        let note = sign_note(&cp, &name, &signer)?;
        let record = CheckpointRecord {
            size,
            root: range.root(),
            time: cp.time().ok().flatten().unwrap_or(time),
            note,
            frontier: range.to_bytes(),
        };
        let mut tx = db.begin().await?;
        match tx.insert_checkpoint(tenant.id, &record).await {
            Ok(()) => tx.commit().await?,
            // Another instance signed the same size first: nothing to do.
            Err(StoreError::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        self.keys()
            .write_latest_checkpoint(&tenant.data.slug, &record.note)?;
        Ok(Some(record))
    }

    /// Checkpoints every tenant whose ledger grew.
    pub async fn checkpoint_all(&self) -> ServiceResult<usize> {
        let mut made = 0;
        for t in self.tenants() {
            if self.checkpoint(&t).await?.is_some() {
                made += 1;
            }
        }
        Ok(made)
    }

    /// Runs until `shutdown` resolves: signs a checkpoint at most about a
    /// second after each commit that appended events (DECISIONS 12), and
    /// retries every few seconds whatever failed or was missed.
    pub async fn run_checkpointer(&self, shutdown: impl std::future::Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let sweep = tokio::select! {
                () = &mut shutdown => break,
                () = self.inner.checkpointer.notify.notified() => false,
                _ = tick.tick() => true,
            };
            let ids: Vec<TenantId> = if sweep {
                self.tenants().iter().map(|t| t.id).collect()
            } else {
                // Let a burst of commits settle into one checkpoint.
                tokio::time::sleep(Duration::from_millis(200)).await;
                match self.inner.checkpointer.dirty.lock() {
                    Ok(mut d) => d.drain().collect(),
                    Err(_) => continue,
                }
            };
            for id in ids {
                let Some(t) = self.tenants().into_iter().find(|t| t.id == id) else {
                    continue;
                };
                if let Err(e) = self.checkpoint(&t).await {
                    tracing::error!(error = %e, tenant = id.0, "checkpoint failed; will retry");
                }
            }
        }
        // A last checkpoint so that nothing committed stays unsigned.
        if let Err(e) = self.checkpoint_all().await {
            tracing::error!(error = %e, "final checkpoint failed");
        }
    }
}

/// Recomputes the leaf hash of a stored event from its fields.
pub fn leaf_of(e: &LedgerEvent) -> ServiceResult<[u8; 32]> {
    ledger::LedgerEntry::new(
        e.tenant_slug.clone(),
        e.seq,
        e.time,
        e.kind.clone(),
        e.subject.clone(),
        e.state_hash,
    )
    .map(|entry| entry.leaf_hash())
    .map_err(|err| ServiceError::Internal(format!("leaf encoding: {err}")))
}

/// Signs a checkpoint through a [`Signer`] (whatever keeps the key): the
/// C2SP signed note is the body, a blank line and the signature line.
pub fn sign_note(cp: &Checkpoint, key_name: &str, signer: &impl Signer) -> ServiceResult<String> {
    let internal = |e: palazzo_domain::checkpoint::CheckpointError| {
        ServiceError::Internal(format!("checkpoint signing: {e}"))
    };
    let body = cp.body().map_err(internal)?;
    let signature = ed25519_dalek::Signature::from_bytes(&signer.sign(body.as_bytes()));
    let line = checkpoint::signature_line(key_name, &signer.verifying_key(), &signature)
        .map_err(internal)?;
    Ok(format!("{body}\n{line}"))
}
