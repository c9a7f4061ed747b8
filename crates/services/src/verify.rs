//! `palazzo verify`: recomputes every tenant's Merkle tree, checks every
//! checkpoint's signature and root, and checks that every current record
//! still matches the state its last ledger event recorded.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use ed25519_dalek::VerifyingKey;
use palazzo_domain::checkpoint;
use palazzo_domain::merkle::CompactRange;
use palazzo_store::{Recorded, Store, Tenant};

use crate::db::Db;
use crate::keys::{KeyStore, Signer};
use crate::ledger::{LEDGER_KEY, leaf_of, state_hash};
use crate::ServiceResult;

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// An event's stored fields no longer produce its leaf hash.
    EventAltered { tenant: String, seq: u64, subject: String },
    /// The events are not numbered 0..n without gaps, or the head disagrees.
    EventsMissing { tenant: String, detail: String },
    /// A checkpoint's signature does not verify with any registered key.
    CheckpointSignature { tenant: String, size: u64, detail: String },
    /// A checkpoint's root differs from the root recomputed from the events.
    CheckpointRoot { tenant: String, size: u64 },
    /// A checkpoint names a size larger than the log.
    CheckpointBeyondLog { tenant: String, size: u64, log_size: u64 },
    /// A record's current state differs from the state its last event recorded.
    RecordAltered { tenant: String, subject: String, last_seq: u64 },
    /// A record exists with no event recording it.
    RecordWithoutEvent { tenant: String, subject: String },
    /// An event records a subject that no longer exists.
    RecordMissing { tenant: String, subject: String, last_seq: u64 },
    /// The key file on disk differs from the key registered in the database.
    KeyMismatch { tenant: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::EventAltered { tenant, seq, subject } => write!(
                f,
                "{tenant}: ledger event #{seq} ({subject}) was altered: its stored fields no longer hash to its leaf"
            ),
            Problem::EventsMissing { tenant, detail } => write!(f, "{tenant}: ledger events missing: {detail}"),
            Problem::CheckpointSignature { tenant, size, detail } => {
                write!(f, "{tenant}: checkpoint at size {size} has an invalid signature: {detail}")
            }
            Problem::CheckpointRoot { tenant, size } => write!(
                f,
                "{tenant}: checkpoint at size {size} does not match the events: a stored event was altered"
            ),
            Problem::CheckpointBeyondLog { tenant, size, log_size } => write!(
                f,
                "{tenant}: checkpoint at size {size} but the log holds {log_size} events: events were deleted"
            ),
            Problem::RecordAltered { tenant, subject, last_seq } => write!(
                f,
                "{tenant}: record {subject} does not match the state recorded by ledger event #{last_seq}"
            ),
            Problem::RecordWithoutEvent { tenant, subject } => {
                write!(f, "{tenant}: record {subject} has no ledger event (written outside Palazzo)")
            }
            Problem::RecordMissing { tenant, subject, last_seq } => write!(
                f,
                "{tenant}: record {subject} (last ledger event #{last_seq}) no longer exists"
            ),
            Problem::KeyMismatch { tenant } => {
                write!(f, "{tenant}: the ledger key file does not match the registered public key")
            }
        }
    }
}

/// What `verify` looked at and what it found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Tenants checked.
    pub tenants: usize,
    /// Ledger events checked.
    pub events: u64,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// Records compared with their events.
    pub records: usize,
    /// Problems found; empty means everything verified.
    pub problems: Vec<Problem>,
}

impl Report {
    /// True when nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verifies every tenant of `db`. With `keys`, also checks that the key
/// files match the registered public keys.
pub async fn verify(db: &Db, keys: Option<&KeyStore>) -> ServiceResult<Report> {
    let mut report = Report::default();
    for tenant in db.tenants().await? {
        report.tenants += 1;
        verify_tenant(db, keys, &tenant, &mut report).await?;
    }
    Ok(report)
}

async fn verify_tenant(
    db: &Db,
    keys: Option<&KeyStore>,
    tenant: &Tenant,
    report: &mut Report,
) -> ServiceResult<()> {
    let slug = tenant.data.slug.clone();
    let head = db.ledger_size(tenant.id).await?;
    let events = db.ledger_events(tenant.id, 0, u64::MAX >> 1).await?;
    report.events += events.len() as u64;

    // 1. Leaves: gap-free numbering and each leaf recomputed from its fields.
    let mut leaves = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        if e.seq != i as u64 {
            report.problems.push(Problem::EventsMissing {
                tenant: slug.clone(),
                detail: format!("expected event #{i}, found #{}", e.seq),
            });
            break;
        }
        let leaf = leaf_of(e)?;
        if leaf != e.leaf_hash {
            report.problems.push(Problem::EventAltered {
                tenant: slug.clone(),
                seq: e.seq,
                subject: e.subject.clone(),
            });
        }
        leaves.push(leaf);
    }
    if head != events.len() as u64 {
        report.problems.push(Problem::EventsMissing {
            tenant: slug.clone(),
            detail: format!("the ledger head says {head} events, {} are stored", events.len()),
        });
    }

    // 2. Checkpoints: signature by a registered key, root recomputed from the leaves.
    let registered: Vec<VerifyingKey> = db
        .signing_keys(tenant.id)
        .await?
        .into_iter()
        .filter(|k| k.purpose == LEDGER_KEY)
        .filter_map(|k| <[u8; 32]>::try_from(k.public_key.as_slice()).ok())
        .filter_map(|b| VerifyingKey::from_bytes(&b).ok())
        .collect();
    if let Some(ks) = keys
        && let Some(file) = ks.load(&slug, LEDGER_KEY)?
        && !registered.contains(&file.verifying_key())
    {
        report.problems.push(Problem::KeyMismatch { tenant: slug.clone() });
    }
    let origin = crate::ledger::origin(tenant);
    let mut range = CompactRange::new();
    for cp in db.checkpoints(tenant.id).await? {
        report.checkpoints += 1;
        let signed = registered
            .iter()
            .find_map(|k| checkpoint::verify(&cp.note, &origin, k).ok());
        match signed {
            None => report.problems.push(Problem::CheckpointSignature {
                tenant: slug.clone(),
                size: cp.size,
                detail: "no registered key verifies it".into(),
            }),
            Some(c) if c.size != cp.size || c.root != cp.root => {
                report.problems.push(Problem::CheckpointSignature {
                    tenant: slug.clone(),
                    size: cp.size,
                    detail: format!("the signed note says size {} and a different root", c.size),
                })
            }
            Some(_) => {}
        }
        if cp.size > leaves.len() as u64 {
            report.problems.push(Problem::CheckpointBeyondLog {
                tenant: slug.clone(),
                size: cp.size,
                log_size: leaves.len() as u64,
            });
            continue;
        }
        while range.size() < cp.size {
            let Some(leaf) = usize::try_from(range.size()).ok().and_then(|i| leaves.get(i)) else {
                break;
            };
            if range.append(*leaf).is_err() {
                break;
            }
        }
        if range.root() != cp.root {
            report.problems.push(Problem::CheckpointRoot { tenant: slug.clone(), size: cp.size });
        }
    }

    // 3. Records: current state against the state recorded by their last event.
    let mut last: BTreeMap<&str, (u64, [u8; 32], &str)> = BTreeMap::new();
    for e in &events {
        last.insert(e.subject.as_str(), (e.seq, e.state_hash, e.kind.as_str()));
    }
    let mut current: HashMap<String, [u8; 32]> = HashMap::new();
    current.insert(tenant.subject(), state_hash(tenant)?);
    for o in db.offices(tenant.id).await? {
        current.insert(o.subject(), state_hash(&o)?);
    }
    for s in db.services(tenant.id).await? {
        current.insert(s.subject(), state_hash(&s)?);
    }
    for f in db.faqs(tenant.id).await? {
        current.insert(f.subject(), state_hash(&f)?);
    }
    report.records += current.len();
    let mut subjects: Vec<&String> = current.keys().collect();
    subjects.sort();
    for subject in subjects {
        let hash = current.get(subject).copied().unwrap_or_default();
        match last.get(subject.as_str()) {
            None => report.problems.push(Problem::RecordWithoutEvent {
                tenant: slug.clone(),
                subject: subject.clone(),
            }),
            Some((seq, recorded, _)) if *recorded != hash => report.problems.push(Problem::RecordAltered {
                tenant: slug.clone(),
                subject: subject.clone(),
                last_seq: *seq,
            }),
            Some(_) => {}
        }
    }
    for (subject, (seq, _, kind)) in &last {
        if !current.contains_key(*subject) && !kind.ends_with(".deleted") {
            report.problems.push(Problem::RecordMissing {
                tenant: slug.clone(),
                subject: (*subject).to_owned(),
                last_seq: *seq,
            });
        }
    }
    Ok(())
}
