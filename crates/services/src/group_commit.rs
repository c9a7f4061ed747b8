//! Group commit of protocol registrations (issue 4, "Reliability and
//! speed").
//!
//! Every registration of a register takes the same counter row (DECISIONS
//! 7), so registrations of one register are serialised by the database
//! whatever we do; one transaction each means one durable commit each, with
//! the counter row held until the commit is on disk. Here the registrations
//! of one (tenant, register) that arrive while a commit is in progress wait
//! in a queue, and one writer task stores them together: one `UPDATE …
//! RETURNING` reserves as many consecutive numbers as there are waiting
//! registrations, one statement inserts the entries, one the ledger events,
//! and one commit makes them all durable.
//!
//! The legal properties are those of a single registration (DPR 445/2000
//! art. 53 c.3, PR-1, PR-2): each caller is answered only after the commit
//! that holds its entry; a group is all or nothing, so a failure consumes no
//! number; numbers and times grow together (times are read after the
//! counter row is held, one microsecond apart at least). If a group fails,
//! its registrations are retried one by one, so that one bad registration
//! (a segnatura that cannot be sealed, say) fails alone.
//!
//! The writer is a spawned task, not the caller's future: a client that
//! disconnects cancels only its wait, never a transaction that carries
//! other clients' registrations.

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::Timestamp;
use palazzo_store::*;
use tokio::sync::oneshot;

use crate::ledger::record_all;
use crate::protocollo::register_year;
use crate::segnatura::servizio::SegnaturaPlan;
use crate::{App, ServiceError, ServiceResult};

/// The most registrations committed together.
const MAX_GROUP: usize = 256;

/// A registration waiting for its group.
pub(crate) struct Pending {
    new: NewRegistration,
    plan: SegnaturaPlan,
    /// The ente's titolario, for the segnatura's class names.
    titolario: Option<TitolarioVersion>,
    /// The titolario version the classification was checked against.
    checked_with: Option<u32>,
    reply: oneshot::Sender<ServiceResult<Registration>>,
}

type Key = (TenantId, String);

#[derive(Default)]
struct Queue {
    waiting: Vec<Pending>,
    /// A writer task is running for this queue.
    writing: bool,
}

/// The queues, one per (tenant, register).
#[derive(Default)]
pub(crate) struct GroupCommit {
    queues: Mutex<HashMap<Key, Queue>>,
}

/// Frees the queue's writer flag however the writer ends; if registrations
/// are still waiting (the writer stopped abnormally), a new writer takes
/// them.
struct WriterGuard {
    app: App,
    key: Key,
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        let restart = match self.app.inner().group.queues.lock() {
            Ok(mut qs) => match qs.get_mut(&self.key) {
                Some(q) if !q.waiting.is_empty() => true,
                Some(q) => {
                    q.writing = false;
                    false
                }
                None => false,
            },
            Err(_) => false,
        };
        if restart {
            let app = self.app.clone();
            let key = self.key.clone();
            tokio::spawn(async move { app.drain(key).await });
        }
    }
}

impl App {
    /// Stores a checked registration with its segnatura step, grouped with
    /// the others waiting for the same register, and answers once it is
    /// durable.
    pub(crate) async fn commit_registration(
        &self,
        tenant: TenantId,
        new: NewRegistration,
        plan: SegnaturaPlan,
        titolario: Option<TitolarioVersion>,
        checked_with: Option<u32>,
    ) -> ServiceResult<Registration> {
        let key = (tenant, new.register.as_str().to_owned());
        let (reply, answer) = oneshot::channel();
        let start =
            {
                let mut qs =
                    self.inner().group.queues.lock().map_err(|_| {
                        ServiceError::Internal("registration queue poisoned".into())
                    })?;
                let q = qs.entry(key.clone()).or_default();
                q.waiting.push(Pending {
                    new,
                    plan,
                    titolario,
                    checked_with,
                    reply,
                });
                !std::mem::replace(&mut q.writing, true)
            };
        if start {
            let app = self.clone();
            tokio::spawn(async move { app.drain(key).await });
        }
        answer
            .await
            .map_err(|_| ServiceError::Internal("the registration writer stopped".into()))?
    }

    /// The writer: commits the waiting registrations group by group until
    /// none is left.
    async fn drain(&self, key: Key) {
        let _guard = WriterGuard {
            app: self.clone(),
            key: key.clone(),
        };
        loop {
            let group: Vec<Pending> = match self.inner().group.queues.lock() {
                Ok(mut qs) => match qs.get_mut(&key) {
                    Some(q) if !q.waiting.is_empty() => {
                        let n = q.waiting.len().min(MAX_GROUP);
                        q.waiting.drain(..n).collect()
                    }
                    _ => return,
                },
                Err(_) => return,
            };
            self.write_group(key.0, group).await;
        }
    }

    /// TI-3 at commit time: the classifications were checked against the
    /// in-memory titolario; if the ente's newest version is another one
    /// (edited meanwhile, possibly by another process), each is checked
    /// again against it, and a class closed meanwhile fails alone. One small
    /// read per group.
    async fn recheck_classes(&self, tenant: TenantId, group: Vec<Pending>) -> Vec<Pending> {
        if group.iter().all(|p| p.checked_with.is_none()) {
            return group;
        }
        let latest = match self.db().titolario_versions(tenant).await {
            Ok(v) => v.last().map(|i| i.version),
            Err(e) => {
                let e = ServiceError::from(e);
                for p in group {
                    let _ = p.reply.send(Err(ServiceError::Internal(e.to_string())));
                }
                return Vec::new();
            }
        };
        if group
            .iter()
            .all(|p| p.checked_with.is_none() || p.checked_with == latest)
        {
            return group;
        }
        let v = match self.current_titolario_shared(tenant).await {
            Ok(v) => v,
            Err(e) => {
                for p in group {
                    let _ = p.reply.send(Err(ServiceError::Internal(e.to_string())));
                }
                return Vec::new();
            }
        };
        let mut kept = Vec::with_capacity(group.len());
        for mut p in group {
            match p.new.classification.as_deref() {
                Some(code) if p.checked_with != Some(v.info.version) => {
                    match crate::fascicoli::check_open_voice(&v, code) {
                        Ok(c) => {
                            p.new.classification = Some(c);
                            p.checked_with = Some(v.info.version);
                            kept.push(p);
                        }
                        Err(e) => {
                            let _ = p.reply.send(Err(e));
                        }
                    }
                }
                _ => kept.push(p),
            }
        }
        kept
    }

    async fn write_group(&self, tenant: TenantId, group: Vec<Pending>) {
        let group = self.recheck_classes(tenant, group).await;
        if group.len() > 1 {
            match self.store_group(tenant, &group).await {
                Ok(regs) => {
                    self.ledger_changed(tenant);
                    tracing::debug!(size = group.len(), "registrations committed together");
                    for (p, reg) in group.into_iter().zip(regs) {
                        let _ = p.reply.send(Ok(reg));
                    }
                    return;
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    size = group.len(),
                    "group of registrations refused; registering them one by one"
                ),
            }
        }
        for p in group {
            let result = self
                .store_group(tenant, std::slice::from_ref(&p))
                .await
                .and_then(|mut regs| {
                    regs.pop()
                        .ok_or_else(|| ServiceError::Internal("registration not stored".into()))
                });
            if result.is_ok() {
                self.ledger_changed(tenant);
            }
            let _ = p.reply.send(result);
        }
    }

    /// One transaction for a group (PR-2: all or nothing).
    async fn store_group(
        &self,
        tenant: TenantId,
        group: &[Pending],
    ) -> ServiceResult<Vec<Registration>> {
        let Some(first) = group.first() else {
            return Ok(Vec::new());
        };
        let t = self.tenant(tenant)?;
        let count = u32::try_from(group.len())
            .map_err(|_| ServiceError::Internal("group too large".into()))?;
        // PR-1: the number restarts on 1 January of the registration time,
        // which is read only once the counter row is held. The year guessed
        // before may be the old one at midnight on 31 December: then the
        // transaction is dropped (rolled back, no number consumed) and the
        // group is numbered again in the new year.
        let (mut tx, year, numbers) = loop {
            let year = register_year(Timestamp::now());
            let mut tx = self.db().begin().await?;
            let numbers = tx
                .next_protocol_numbers(tenant, first.new.register.as_str(), year, count)
                .await?;
            if numbers.iter().all(|(_, at)| register_year(*at) == year) {
                break (tx, year, numbers);
            }
        };
        let rows: Vec<NumberedRegistration> = group
            .iter()
            .zip(numbers)
            .map(|(p, (number, at))| NumberedRegistration {
                data: p.new.clone(),
                year,
                number,
                at,
            })
            .collect();
        let mut regs = tx.insert_registrations(tenant, &rows).await?;
        // Allegato 6 §3.1 steps C–E, PR-2: each segnatura is built from its
        // number and time and sealed in this transaction, and bound on its
        // registration, so that the registration's one event records both
        // (LOG-6).
        for (p, reg) in group.iter().zip(regs.iter_mut()) {
            self.segnatura_in_tx(&mut tx, &t, reg, &p.plan, p.titolario.as_ref())
                .await?;
        }
        record_all(&mut tx, &t, "protocollo.registered", &regs).await?;
        tx.commit().await?;
        Ok(regs)
    }
}
