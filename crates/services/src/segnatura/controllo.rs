//! `palazzo verify` for the segnature (Allegato 6; PR-2): every
//! `protocol_segnature` row against the state its registration's
//! `protocollo.registered` event binds (LOG-6, migration 0023), or for rows
//! stored before, against its own `protocollo.segnatura` event (subject
//! `segnatura:<registration>`); and the XML in the document store against
//! the fingerprint in the row (a changed or missing file is named).

use std::collections::BTreeMap;

use palazzo_domain::protocollo::Impronta;
use palazzo_store::{LedgerEvent, Recorded, RegistrationId, Store, Tenant};

use crate::ServiceResult;
use crate::db::Db;
use crate::documents::DocumentStore;
use crate::keys::KeyStore;
use crate::ledger::state_hash;
use crate::verify::{Bound, Problem, Report, apply_bound};

/// The document store of the installation whose key store is `keys`: the
/// same place `App::new` uses, `<data_dir>/documents`.
fn documents_of(keys: &KeyStore) -> DocumentStore {
    let data_dir = keys
        .dir()
        .parent()
        .map_or_else(|| keys.dir().to_path_buf(), std::path::Path::to_path_buf);
    DocumentStore::new(data_dir.join("documents"))
}

/// Checks the segnature of `tenant`, adding what is wrong to `report`.
pub(crate) async fn check_segnature(
    db: &Db,
    keys: &KeyStore,
    tenant: &Tenant,
    events: &[LedgerEvent],
    bound: &[Bound],
    report: &mut Report,
) -> ServiceResult<()> {
    let slug = &tenant.data.slug;
    let mut last: BTreeMap<&str, (u64, [u8; 32], &str)> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e.subject.starts_with("segnatura:"))
    {
        last.insert(e.subject.as_str(), (e.seq, e.state_hash, e.kind.as_str()));
    }
    apply_bound(&mut last, bound, "protocollo.registered");
    let documents = documents_of(keys);
    let mut seen = std::collections::HashSet::new();
    let mut after = RegistrationId(0);
    loop {
        let page = db.segnature_by_registration(tenant.id, after, 1000).await?;
        let Some(tail) = page.last() else { break };
        after = tail.data.registration;
        for s in &page {
            report.records += 1;
            let subject = s.subject();
            match last.get(subject.as_str()) {
                None => report.problems.push(Problem::RecordWithoutEvent {
                    tenant: slug.clone(),
                    subject: subject.clone(),
                }),
                Some((seq, recorded, _)) if *recorded != state_hash(s)? => {
                    report.problems.push(Problem::RecordAltered {
                        tenant: slug.clone(),
                        subject: subject.clone(),
                        last_seq: *seq,
                    })
                }
                Some(_) => {}
            }
            let want = &s.data.document.sha256;
            let detail = match documents.get(want).await {
                Ok(bytes) if Impronta::of(&bytes) == *want => None,
                Ok(_) => Some("the stored XML no longer matches its fingerprint".to_owned()),
                Err(crate::ServiceError::NotFound) => {
                    Some("the stored XML is missing from the document store".to_owned())
                }
                Err(e) => Some(format!("the stored XML cannot be read: {e}")),
            };
            if let Some(detail) = detail {
                report.problems.push(Problem::SegnaturaDocument {
                    tenant: slug.clone(),
                    subject: subject.clone(),
                    detail,
                });
            }
            seen.insert(subject);
        }
    }
    for (subject, (seq, _, _)) in last {
        if !seen.contains(subject) {
            report.problems.push(Problem::RecordMissing {
                tenant: slug.clone(),
                subject: subject.to_owned(),
                last_seq: seq,
            });
        }
    }
    Ok(())
}
