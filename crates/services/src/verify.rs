//! `palazzo verify`: recomputes every tenant's Merkle tree, checks every
//! checkpoint against the trusted public keys kept *outside* the database,
//! checks that the database has not been rolled back behind the newest
//! checkpoint copy kept next to the keys, and checks that every current
//! record still matches the state its last ledger event recorded.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use palazzo_domain::checkpoint;
use palazzo_domain::merkle::{CompactRange, Hash};
use palazzo_store::{LedgerEvent, Recorded, Store, Tenant};

use crate::db::Db;
use crate::keys::{KeyStore, Signer};
use crate::ledger::{LEDGER_KEY, leaf_of, state_hash};
use crate::{ServiceError, ServiceResult};

/// How old unsigned events may be before they count as a problem (the
/// checkpointer signs within about a second; a stopped server signs at exit).
pub const UNSIGNED_GRACE: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Problem {
    /// An event's stored fields no longer produce its leaf hash.
    EventAltered {
        tenant: String,
        seq: u64,
        subject: String,
    },
    /// The events are not numbered 0..n without gaps, or the head disagrees.
    EventsMissing { tenant: String, detail: String },
    /// An event is registered before the event that precedes it.
    TimeOrder { tenant: String, seq: u64 },
    /// Events older than [`UNSIGNED_GRACE`] are covered by no checkpoint.
    UnsignedEvents { tenant: String, from: u64, to: u64 },
    /// A checkpoint's signature does not verify with a trusted key.
    CheckpointSignature {
        tenant: String,
        size: u64,
        detail: String,
    },
    /// A checkpoint's root differs from the root recomputed from the events.
    CheckpointRoot { tenant: String, size: u64 },
    /// A checkpoint names a size larger than the log.
    CheckpointBeyondLog {
        tenant: String,
        size: u64,
        log_size: u64,
    },
    /// The newest checkpoint copy kept with the keys is not matched by the database.
    RolledBack {
        tenant: String,
        size: u64,
        detail: String,
    },
    /// A record's current state differs from the state its last event recorded.
    RecordAltered {
        tenant: String,
        subject: String,
        last_seq: u64,
    },
    /// A record exists with no event recording it.
    RecordWithoutEvent { tenant: String, subject: String },
    /// An event records a subject that no longer exists.
    RecordMissing {
        tenant: String,
        subject: String,
        last_seq: u64,
    },
    /// The XML of a segnatura (Allegato 6) is missing from the document
    /// store or no longer matches the fingerprint its record binds.
    SegnaturaDocument {
        tenant: String,
        subject: String,
        detail: String,
    },
    /// The key file on disk is not among the trusted public keys.
    KeyMismatch { tenant: String },
    /// The database registers a ledger key that is not trusted.
    UntrustedKey { tenant: String, name: String },
    /// No trusted public key exists for the tenant.
    NoTrustedKey { tenant: String },
    /// A registro giornaliero's stored file or row no longer matches its
    /// frozen fingerprint or its ledger record (PR-9).
    RegistroAltered {
        tenant: String,
        code: String,
        detail: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::EventAltered {
                tenant,
                seq,
                subject,
            } => write!(
                f,
                "{tenant}: ledger event #{seq} ({subject}) was altered: its stored fields no longer hash to its leaf"
            ),
            Problem::EventsMissing { tenant, detail } => {
                write!(f, "{tenant}: ledger events missing: {detail}")
            }
            Problem::TimeOrder { tenant, seq } => {
                write!(
                    f,
                    "{tenant}: ledger event #{seq} is registered before the event preceding it"
                )
            }
            Problem::UnsignedEvents { tenant, from, to } => write!(
                f,
                "{tenant}: ledger events #{from}..#{to} are covered by no checkpoint (checkpoints deleted?)"
            ),
            Problem::CheckpointSignature {
                tenant,
                size,
                detail,
            } => {
                write!(
                    f,
                    "{tenant}: checkpoint at size {size} has an invalid signature: {detail}"
                )
            }
            Problem::CheckpointRoot { tenant, size } => write!(
                f,
                "{tenant}: checkpoint at size {size} does not match the events: a stored event was altered"
            ),
            Problem::CheckpointBeyondLog {
                tenant,
                size,
                log_size,
            } => write!(
                f,
                "{tenant}: checkpoint at size {size} but the log holds {log_size} events: events were deleted"
            ),
            Problem::RolledBack {
                tenant,
                size,
                detail,
            } => write!(
                f,
                "{tenant}: the database does not contain the signed checkpoint at size {size} kept with the keys: {detail}"
            ),
            Problem::RecordAltered {
                tenant,
                subject,
                last_seq,
            } => write!(
                f,
                "{tenant}: record {subject} does not match the state recorded by ledger event #{last_seq}"
            ),
            Problem::RecordWithoutEvent { tenant, subject } => {
                write!(
                    f,
                    "{tenant}: record {subject} has no ledger event (written outside Palazzo)"
                )
            }
            Problem::RecordMissing {
                tenant,
                subject,
                last_seq,
            } => write!(
                f,
                "{tenant}: record {subject} (last ledger event #{last_seq}) no longer exists"
            ),
            Problem::SegnaturaDocument {
                tenant,
                subject,
                detail,
            } => write!(f, "{tenant}: record {subject}: {detail}"),
            Problem::KeyMismatch { tenant } => {
                write!(
                    f,
                    "{tenant}: the ledger key file is not among the trusted public keys"
                )
            }
            Problem::UntrustedKey { tenant, name } => {
                write!(
                    f,
                    "{tenant}: the database registers a ledger key ({name}) that is not trusted"
                )
            }
            Problem::NoTrustedKey { tenant } => {
                write!(
                    f,
                    "{tenant}: no trusted ledger public key (.vkey file) exists"
                )
            }
            Problem::RegistroAltered {
                tenant,
                code,
                detail,
            } => write!(f, "{tenant}: registro giornaliero {code}: {detail}"),
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

/// Verifies every tenant of `db` against the trust material in `keys`.
///
/// On a running installation a check can race with a commit (a record read
/// before its new event, say). So when a pass finds problems, a second pass
/// runs a moment later and only problems found by both are reported:
/// tampering persists, races do not.
pub async fn verify(db: &Db, keys: &KeyStore) -> ServiceResult<Report> {
    verify_with_grace(db, keys, UNSIGNED_GRACE).await
}

/// [`verify`] with another grace period for unsigned events.
pub async fn verify_with_grace(
    db: &Db,
    keys: &KeyStore,
    grace: jiff::SignedDuration,
) -> ServiceResult<Report> {
    let first = verify_once(db, keys, grace).await?;
    if first.ok() {
        return Ok(first);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut second = verify_once(db, keys, grace).await?;
    second.problems.retain(|p| first.problems.contains(p));
    Ok(second)
}

/// One verification pass.
pub async fn verify_once(
    db: &Db,
    keys: &KeyStore,
    grace: jiff::SignedDuration,
) -> ServiceResult<Report> {
    let tenants = db.tenants().await?;
    if tenants.is_empty() {
        return Err(ServiceError::Invalid {
            code: "verify_no_tenants",
            message: "Il database non contiene alcun ente da verificare.".into(),
        });
    }
    let mut report = Report::default();
    for tenant in tenants {
        report.tenants += 1;
        verify_tenant(db, keys, &tenant, grace, &mut report).await?;
    }
    Ok(report)
}

async fn verify_tenant(
    db: &Db,
    keys: &KeyStore,
    tenant: &Tenant,
    grace: jiff::SignedDuration,
    report: &mut Report,
) -> ServiceResult<()> {
    let slug = tenant.data.slug.clone();
    // Checkpoints before events, events before the head: on a running
    // installation the log only grows between these reads.
    let checkpoints = db.checkpoints(tenant.id).await?;
    let mut events = db.ledger_events(tenant.id, 0, u64::MAX >> 1).await?;
    let head = db.ledger_size(tenant.id).await?;
    if head > events.len() as u64 {
        events.extend(
            db.ledger_events(tenant.id, events.len() as u64, head)
                .await?,
        );
    }
    report.events += events.len() as u64;
    let leaves = check_events(&slug, &events, head, report)?;
    let trusted = check_keys(db, keys, tenant, report).await?;

    // Checkpoints: signed by a trusted key, root recomputed from the leaves.
    let mut range = CompactRange::new();
    let mut roots: BTreeMap<u64, Hash> = BTreeMap::new();
    let mut signed_size = 0;
    for cp in &checkpoints {
        report.checkpoints += 1;
        match verify_note(&cp.note, &trusted) {
            Err(detail) => report.problems.push(Problem::CheckpointSignature {
                tenant: slug.clone(),
                size: cp.size,
                detail,
            }),
            Ok(c) if c.size != cp.size || c.root != cp.root => {
                report.problems.push(Problem::CheckpointSignature {
                    tenant: slug.clone(),
                    size: cp.size,
                    detail: format!("the signed note says size {} and a different root", c.size),
                })
            }
            Ok(_) => signed_size = signed_size.max(cp.size),
        }
        if cp.size > leaves.len() as u64 {
            report.problems.push(Problem::CheckpointBeyondLog {
                tenant: slug.clone(),
                size: cp.size,
                log_size: leaves.len() as u64,
            });
            continue;
        }
        let root = root_at(&mut range, &leaves, cp.size);
        roots.insert(cp.size, root);
        if root != cp.root {
            report.problems.push(Problem::CheckpointRoot {
                tenant: slug.clone(),
                size: cp.size,
            });
        }
    }

    // The copy of the newest checkpoint kept with the keys: the database must
    // still hold the tree it signed (no rollback, no truncation).
    if let Some(note) = keys.latest_checkpoint(&slug)? {
        match verify_note(&note, &trusted) {
            Err(detail) => report.problems.push(Problem::CheckpointSignature {
                tenant: slug.clone(),
                size: 0,
                detail: format!("the checkpoint copy kept with the keys: {detail}"),
            }),
            Ok(c) if c.size > leaves.len() as u64 => report.problems.push(Problem::RolledBack {
                tenant: slug.clone(),
                size: c.size,
                detail: format!("the log holds only {} events", leaves.len()),
            }),
            Ok(c) => {
                let root = match roots.get(&c.size) {
                    Some(r) => *r,
                    None => root_at(&mut CompactRange::new(), &leaves, c.size),
                };
                let stored = checkpoints.iter().map(|cp| cp.size).max().unwrap_or(0);
                if root != c.root {
                    report.problems.push(Problem::RolledBack {
                        tenant: slug.clone(),
                        size: c.size,
                        detail: "the events up to it were rewritten".into(),
                    });
                } else if stored < c.size {
                    report.problems.push(Problem::RolledBack {
                        tenant: slug.clone(),
                        size: c.size,
                        detail: format!(
                            "the newest checkpoint in the database is at size {stored}"
                        ),
                    });
                }
                signed_size = signed_size.max(c.size);
            }
        }
    }

    // Events that no checkpoint covers, past the grace period.
    if let Some(first_unsigned) = events.get(usize::try_from(signed_size).unwrap_or(usize::MAX))
        && jiff::Timestamp::now().duration_since(first_unsigned.time) >= grace
    {
        report.problems.push(Problem::UnsignedEvents {
            tenant: slug.clone(),
            from: signed_size,
            to: leaves.len() as u64 - 1,
        });
    }

    let bound = check_records(db, tenant, &events, report).await?;
    // Segnature: rows against their events (or the registration's event that
    // binds them), stored XML against its fingerprint.
    crate::segnatura::controllo::check_segnature(db, keys, tenant, &events, &bound, report).await?;
    crate::registro_giornaliero::verify_registri(db, keys, tenant, &events, report).await
}

/// Numbering, leaf hashes and time order of the events; returns the leaves.
fn check_events(
    slug: &str,
    events: &[LedgerEvent],
    head: u64,
    report: &mut Report,
) -> ServiceResult<Vec<Hash>> {
    let mut leaves = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        if e.seq != i as u64 {
            report.problems.push(Problem::EventsMissing {
                tenant: slug.to_owned(),
                detail: format!("expected event #{i}, found #{}", e.seq),
            });
            break;
        }
        let leaf = leaf_of(e)?;
        if leaf != e.leaf_hash {
            report.problems.push(Problem::EventAltered {
                tenant: slug.to_owned(),
                seq: e.seq,
                subject: e.subject.clone(),
            });
        }
        if i > 0 && events.get(i - 1).is_some_and(|prev| prev.time >= e.time) {
            report.problems.push(Problem::TimeOrder {
                tenant: slug.to_owned(),
                seq: e.seq,
            });
        }
        leaves.push(leaf);
    }
    if head != events.len() as u64 {
        report.problems.push(Problem::EventsMissing {
            tenant: slug.to_owned(),
            detail: format!(
                "the ledger head says {head} events, {} are stored",
                events.len()
            ),
        });
    }
    Ok(leaves)
}

/// The trusted keys of the tenant (from the key directory), with the key
/// file and the database's registered keys checked against them.
async fn check_keys(
    db: &Db,
    keys: &KeyStore,
    tenant: &Tenant,
    report: &mut Report,
) -> ServiceResult<Vec<(String, VerifyingKey)>> {
    let slug = &tenant.data.slug;
    let trusted = keys.trusted(slug, LEDGER_KEY)?;
    if trusted.is_empty() {
        report.problems.push(Problem::NoTrustedKey {
            tenant: slug.clone(),
        });
    }
    if let Some(file) = keys.load(slug, LEDGER_KEY)?
        && !trusted.iter().any(|(_, k)| *k == file.verifying_key())
    {
        report.problems.push(Problem::KeyMismatch {
            tenant: slug.clone(),
        });
    }
    for k in db.signing_keys(tenant.id).await? {
        if k.purpose == LEDGER_KEY
            && !trusted
                .iter()
                .any(|(n, t)| *n == k.key_name && t.as_bytes()[..] == k.public_key[..])
        {
            report.problems.push(Problem::UntrustedKey {
                tenant: slug.clone(),
                name: k.key_name,
            });
        }
    }
    Ok(trusted)
}

/// Verifies a signed note with one of the trusted keys, whose name must also
/// be the checkpoint's origin.
fn verify_note(
    note: &str,
    trusted: &[(String, VerifyingKey)],
) -> Result<checkpoint::Checkpoint, String> {
    let mut last = "no trusted key".to_owned();
    for (name, key) in trusted {
        match checkpoint::verify(note, name, key) {
            Ok(c) if c.origin == *name => return Ok(c),
            Ok(c) => last = format!("origin {} is not the key name {name}", c.origin),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

/// Extends `range` (built incrementally, sizes in increasing order) to `size`; its root.
fn root_at(range: &mut CompactRange, leaves: &[Hash], size: u64) -> Hash {
    if range.size() > size {
        *range = CompactRange::new();
    }
    while range.size() < size {
        let Some(leaf) = usize::try_from(range.size())
            .ok()
            .and_then(|i| leaves.get(i))
        else {
            break;
        };
        if range.append(*leaf).is_err() {
            break;
        }
    }
    range.root()
}

/// The subjects whose whole state is a stored record that can be hashed
/// again. Other events (sign-ins of administrators, profile changes, role
/// grants) bind what happened, not a record to compare with: they are
/// covered by the ledger's own hashes and checkpoints.
const RECORD_SUBJECTS: [&str; 17] = [
    "tenant:",
    "office:",
    "service:",
    "faq:",
    "protocollo:",
    "handoff:",
    "titolario:",
    "fascicolo:",
    "emergenza:",
    "versione:",
    "annullamento-ricevuto:",
    "certificato:",
    "pratica:",
    "aliquote-imu:",
    "tariffe-tari:",
    "tariffe-canone:",
    "avviso:",
];

/// A record whose state is bound by another record's event rather than by
/// an event of its own (LOG-6, migration 0023): `subject` must hash as
/// `state`, as recorded by event `seq` of the record that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bound {
    /// The bound record's subject.
    pub subject: String,
    /// The event of the binding record.
    pub seq: u64,
    /// The bound record's state hash.
    pub state: [u8; 32],
}

/// Adds to `last` (subject → last event) the records bound by another's
/// event: such a binding holds until the bound record has an event of its
/// own after it.
pub(crate) fn apply_bound<'a>(
    last: &mut BTreeMap<&'a str, (u64, [u8; 32], &'a str)>,
    bound: &'a [Bound],
    kind: &'a str,
) {
    for b in bound {
        if last
            .get(b.subject.as_str())
            .is_none_or(|(seq, _, _)| *seq < b.seq)
        {
            last.insert(b.subject.as_str(), (b.seq, b.state, kind));
        }
    }
}

/// Adds to `out` the records bound by `bindings`, recorded by event `seq`.
fn bound_by(out: &mut Vec<Bound>, bindings: &[palazzo_store::Binding], seq: u64) {
    out.extend(bindings.iter().map(|b| Bound {
        subject: b.subject.clone(),
        seq,
        state: b.state,
    }));
}

/// Records against the state recorded by their last event. Returns the
/// segnature bound by their registration's event, for
/// [`crate::segnatura::controllo::check_segnature`].
async fn check_records(
    db: &Db,
    tenant: &Tenant,
    events: &[LedgerEvent],
    report: &mut Report,
) -> ServiceResult<Vec<Bound>> {
    let slug = &tenant.data.slug;
    let mut last: BTreeMap<&str, (u64, [u8; 32], &str)> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| RECORD_SUBJECTS.iter().any(|p| e.subject.starts_with(p)))
    {
        last.insert(e.subject.as_str(), (e.seq, e.state_hash, e.kind.as_str()));
    }
    // The event that binds a second record is the binding record's last
    // one: a registration's later events carry the same segnatura hash, and
    // a forwarded hand-off changes no more.
    let last_seq = |last: &BTreeMap<&str, (u64, [u8; 32], &str)>, subject: &str| {
        last.get(subject).map(|(seq, _, _)| *seq)
    };
    // The first event of each subject: a registration's bindings (migration
    // 0029) are written before its first event and recorded by it.
    let mut first: HashMap<&str, u64> = HashMap::new();
    for e in events.iter().rev() {
        first.insert(e.subject.as_str(), e.seq);
    }
    let mut segnature = Vec::new();
    let mut continuations = Vec::new();
    let mut filed = Vec::new();
    let mut steps = Vec::new();
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
    for r in db.aliquote_imu_all(tenant.id).await? {
        current.insert(r.subject(), state_hash(&r)?);
    }
    for r in db.tariffe_tari_all(tenant.id).await? {
        current.insert(r.subject(), state_hash(&r)?);
    }
    for r in db.tariffe_canone_all(tenant.id).await? {
        current.insert(r.subject(), state_hash(&r)?);
    }
    let mut after = palazzo_store::AvvisoId(0);
    loop {
        let page = db.avvisi_page(tenant.id, after, 1000).await?;
        let Some(tail) = page.last() else { break };
        after = tail.id;
        for a in &page {
            current.insert(a.subject(), state_hash(a)?);
        }
    }
    let mut after = palazzo_store::RegistrationId(0);
    loop {
        let page = db.registrations_by_id(tenant.id, after, 1000).await?;
        let Some(tail) = page.last() else { break };
        after = tail.id;
        for r in &page {
            let subject = r.subject();
            if let (Some(state), Some(seq)) = (r.segnatura_state, last_seq(&last, &subject)) {
                segnature.push(Bound {
                    subject: palazzo_store::SegnaturaRecord::subject_of(r.id),
                    seq,
                    state,
                });
            }
            if let Some(seq) = first.get(subject.as_str()) {
                bound_by(&mut filed, &r.bindings, *seq);
            }
            current.insert(subject, state_hash(r)?);
        }
    }
    let mut after = palazzo_store::HandoffId(0);
    loop {
        let page = db.handoffs_by_id(tenant.id, after, 1000).await?;
        let Some(tail) = page.last() else { break };
        after = tail.id;
        for h in &page {
            let subject = h.subject();
            if let (Some((next, state)), Some(seq)) = (h.continuation, last_seq(&last, &subject)) {
                continuations.push(Bound {
                    subject: next.subject(),
                    seq,
                    state,
                });
            }
            current.insert(subject, state_hash(h)?);
        }
    }
    apply_bound(&mut last, &continuations, "handoff.inoltrato");
    // The steps of pratiche filed with a registration (LOG-6, migration 0029).
    apply_bound(&mut last, &filed, "protocollo.registered");
    // New versions of registered documents (SYS-3).
    let mut after = palazzo_store::DocumentVersionId(0);
    loop {
        let page = db.document_versions_by_id(tenant.id, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for v in &page {
            current.insert(v.subject(), state_hash(v)?);
        }
    }
    // Emergency register sessions (DPR 445/2000 art. 63), with their
    // authorisations and closure.
    for s in db.emergency_sessions(tenant.id).await? {
        current.insert(s.subject(), state_hash(&s)?);
    }
    // Received notices of annulment (Allegato 6, AnnullamentoProtocollazione).
    let mut after = palazzo_store::RegistrationId(0);
    loop {
        let page = db.annulment_notices(tenant.id, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.data.registration;
        for n in &page {
            current.insert(n.subject(), state_hash(n)?);
        }
    }
    // Issued certificates, with their bollo and revocation (issue 5).
    let mut after = palazzo_store::CertificateId(0);
    loop {
        let page = db.certificates_by_id(tenant.id, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for c in &page {
            current.insert(c.subject(), state_hash(c)?);
        }
    }
    // Pratiche of the online services and every step of their history
    // (issue 6): `pratica:<id>` and `pratica:<id>:<seq>`.
    let mut after = palazzo_store::PraticaId(0);
    loop {
        let page = db.pratiche_by_id(tenant.id, after, 500).await?;
        let Some(tail) = page.last() else { break };
        after = tail.id;
        for p in &page {
            current.insert(p.subject(), state_hash(p)?);
            for e in db.pratica_eventi(tenant.id, p.id).await? {
                let subject = e.subject();
                // A step binds the pratica, fascicolo and hand-off it wrote,
                // as recorded by its own event or its registration's.
                if let Some(seq) = last_seq(&last, &subject) {
                    bound_by(&mut steps, &e.data.bindings, seq);
                }
                current.insert(subject, state_hash(&e)?);
            }
        }
    }
    apply_bound(&mut last, &steps, "pratica.evento");
    // The classification policy (TI-2), once set.
    if let Some(p) = db.protocol_policy(tenant.id).await? {
        current.insert(p.subject(), state_hash(&p)?);
    }
    check_filing(db, tenant, &mut current).await?;
    report.records += current.len();
    let mut subjects: Vec<(&String, &[u8; 32])> = current.iter().collect();
    subjects.sort();
    for (subject, hash) in subjects {
        match last.get(subject.as_str()) {
            None => report.problems.push(Problem::RecordWithoutEvent {
                tenant: slug.clone(),
                subject: subject.clone(),
            }),
            Some((seq, recorded, _)) if recorded != hash => {
                report.problems.push(Problem::RecordAltered {
                    tenant: slug.clone(),
                    subject: subject.clone(),
                    last_seq: *seq,
                })
            }
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
    Ok(segnature)
}

/// The titolario versions and the fascicoli with their index (issue 4,
/// part 3), into `current`.
async fn check_filing(
    db: &Db,
    tenant: &Tenant,
    current: &mut HashMap<String, [u8; 32]>,
) -> ServiceResult<()> {
    for info in db.titolario_versions(tenant.id).await? {
        if let Some(v) = db.titolario_version(tenant.id, Some(info.version)).await? {
            current.insert(v.subject(), state_hash(&v)?);
        }
    }
    let mut q = palazzo_store::FascicoloQuery {
        limit: 500,
        ..Default::default()
    };
    loop {
        let page = db.search_fascicoli(tenant.id, &q).await?;
        let (Some(first), Some(last)) = (page.first(), page.last()) else {
            break;
        };
        let mut links = db.fascicolo_links(tenant.id, first.id, last.id).await?;
        q.after = Some(last.id);
        for f in page {
            let documents = links
                .iter()
                .filter(|(id, _)| *id == f.id)
                .map(|(_, d)| d.clone())
                .collect();
            links.retain(|(id, _)| *id != f.id);
            let state = palazzo_store::FascicoloState {
                fascicolo: f,
                documents,
            };
            current.insert(state.subject(), state_hash(&state)?);
        }
    }
    Ok(())
}
