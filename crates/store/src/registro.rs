//! Records of the registro giornaliero di protocollo (DPR 445/2000 art. 53
//! c.2; PR-9), of the RFC 3161 tokens over checkpoints (DECISIONS 12) and of
//! the job table (DESIGN "Jobs"); migration 0010.

use jiff::Timestamp;
use palazzo_domain::cbor::Value;
use serde::{Deserialize, Serialize};

use crate::{DocumentRef, Recorded, TenantId};

/// A Europe/Rome civil date (the day of a registro, of a job).
pub type CivilDate = jiff::civil::Date;

/// Calls `$cb!` with the registro giornaliero and job reads of [`crate::Store`].
#[macro_export]
macro_rules! registro_reads {
    ($cb:ident) => {
        $cb! {
            /// A job by (kind, day).
            fn job(&self, tenant: TenantId, kind: &str, day: CivilDate) -> Option<JobRecord>;
            /// Ledger events with `from <= time < to`, by sequence number.
            fn ledger_events_between(&self, tenant: TenantId, from: Timestamp, to: Timestamp) -> Vec<LedgerEvent>;
            /// The number of ledger events with `time < at` (time order is
            /// sequence order, DECISIONS 8).
            fn ledger_size_before(&self, tenant: TenantId, at: Timestamp) -> u64;
            /// The smallest checkpoint whose tree size is at least `size`.
            fn checkpoint_covering(&self, tenant: TenantId, size: u64) -> Option<CheckpointRecord>;
            /// The RFC 3161 token over the checkpoint of tree size `size`, if any.
            fn checkpoint_timestamp(&self, tenant: TenantId, size: u64) -> Option<CheckpointTimestamp>;
            /// Registrations with `from <= registered_at < to`, by register and number.
            fn registrations_between(&self, tenant: TenantId, from: Timestamp, to: Timestamp) -> Vec<Registration>;
            /// The changes of classification and office (migration 0016) with
            /// `at >= from`, by time: the day's modifications, and the later
            /// ones that tell how a registration stood at the end of the day.
            fn protocol_changes_since(&self, tenant: TenantId, from: Timestamp) -> Vec<ProtocolChange>;
            /// The new document versions (SYS-3) with `from <= at < to`, by time.
            fn document_versions_between(&self, tenant: TenantId, from: Timestamp, to: Timestamp) -> Vec<DocumentVersion>;
            /// The received notices of annulment with `from <= received_at < to`, by time.
            fn annulment_notices_between(&self, tenant: TenantId, from: Timestamp, to: Timestamp) -> Vec<AnnulmentNotice>;
            /// The registration time of the tenant's first registration, if any.
            fn first_registration_time(&self, tenant: TenantId) -> Option<Timestamp>;
            /// The registri giornalieri of a tenant, newest day first, at most `limit`.
            fn registri_giornalieri(&self, tenant: TenantId, limit: u32) -> Vec<RegistroGiornaliero>;
            /// The registri giornalieri of one day, by register.
            fn registri_of_day(&self, tenant: TenantId, day: CivilDate) -> Vec<RegistroGiornaliero>;
            /// A registro giornaliero by its identifier (`<IPA><AOO>-YYYYMMDD-NNN`).
            fn registro_giornaliero(&self, tenant: TenantId, code: &str) -> Option<RegistroGiornaliero>;
        }
    };
}

/// Calls `$cb!` with the registro giornaliero and job writes of [`crate::StoreTx`].
#[macro_export]
macro_rules! registro_writes {
    ($cb:ident) => {
        $cb! {
            /// Claims the job (kind, day) for `owner`: true when this call
            /// inserted its row, or took over a failed claim or one claimed
            /// before `stale_before` (its owner died). Commit at once: the
            /// committed row is the claim.
            fn claim_job(&mut self, tenant: TenantId, kind: &str, day: CivilDate, owner: &str, now: Timestamp, stale_before: Timestamp) -> bool;
            /// Ends a job claimed by `owner`: `done`, or `failed` with `error`.
            fn finish_job(&mut self, tenant: TenantId, kind: &str, day: CivilDate, owner: &str, error: Option<&str>, now: Timestamp) -> ();
            /// Stores an RFC 3161 token over a checkpoint; false when the
            /// checkpoint already had one (the stored one stays).
            fn insert_checkpoint_timestamp(&mut self, tenant: TenantId, t: &CheckpointTimestamp) -> bool;
            /// Stores a registro; an existing (register, day) or code is a
            /// [`StoreError::Conflict`].
            fn insert_registro_giornaliero(&mut self, tenant: TenantId, r: &NewRegistroGiornaliero) -> RegistroGiornaliero;
        }
    };
}

/// The state of a job row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Claimed, not finished.
    Running,
    /// Finished.
    Done,
    /// Failed; the next run takes it over.
    Failed,
}

impl JobState {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    /// Parses a stored code.
    pub fn from_code(s: &str) -> Option<JobState> {
        match s {
            "running" => Some(JobState::Running),
            "done" => Some(JobState::Done),
            "failed" => Some(JobState::Failed),
            _ => None,
        }
    }
}

/// A row of the job table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// Owner tenant.
    pub tenant: TenantId,
    /// Kind, e.g. `registro_giornaliero`.
    pub kind: String,
    /// The day the job is about.
    pub day: CivilDate,
    /// State.
    pub state: JobState,
    /// Who claimed it last (host and process).
    pub owner: String,
    /// How many times it was claimed.
    pub attempts: u32,
    /// When it was claimed last.
    pub claimed_at: Timestamp,
    /// When it finished.
    pub finished_at: Option<Timestamp>,
    /// Why it failed.
    pub error: Option<String>,
}

/// An RFC 3161 time-stamp token over a signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointTimestamp {
    /// Tree size of the checkpoint.
    pub size: u64,
    /// The message imprint: SHA-256 of the checkpoint's signed note (UTF-8).
    pub imprint: [u8; 32],
    /// The token: DER `ContentInfo` (CMS SignedData over a `TSTInfo`).
    pub token: Vec<u8>,
    /// `genTime` of the token.
    pub gen_time: Timestamp,
    /// The TSA that issued it.
    pub tsa_url: String,
    /// When it was stored.
    pub created_at: Timestamp,
}

/// Where a registro is in the conservation process (LG §4; PR-9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConservationState {
    /// Produced and ready to be sent (pronto per la conservazione).
    Pronto,
    /// Sent to the conservatore, no rapporto di versamento yet.
    Inviato,
    /// The conservatore accepted it (rapporto di versamento stored).
    Conservato,
}

impl ConservationState {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            ConservationState::Pronto => "pronto",
            ConservationState::Inviato => "inviato",
            ConservationState::Conservato => "conservato",
        }
    }

    /// Parses a stored code.
    pub fn from_code(s: &str) -> Option<ConservationState> {
        match s {
            "pronto" => Some(ConservationState::Pronto),
            "inviato" => Some(ConservationState::Inviato),
            "conservato" => Some(ConservationState::Conservato),
            _ => None,
        }
    }

    /// Italian label.
    pub fn label_it(self) -> &'static str {
        match self {
            ConservationState::Pronto => "Pronto per la conservazione",
            ConservationState::Inviato => "Inviato al conservatore",
            ConservationState::Conservato => "Conservato",
        }
    }
}

/// A registro giornaliero as produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRegistroGiornaliero {
    /// The Europe/Rome civil day it covers.
    pub day: CivilDate,
    /// The protocol register (`CodiceRegistro`).
    pub register: String,
    /// Identifier `<IPA><AOO>-YYYYMMDD-NNN`.
    pub code: String,
    /// Its number in the repertorio of registri giornalieri of the year
    /// (the day of the year: one registro per day, so no gaps).
    pub repertorio_number: u32,
    /// First protocol number of the day, if any registration.
    pub first_number: Option<u64>,
    /// Last protocol number of the day.
    pub last_number: Option<u64>,
    /// Registrations of the day.
    pub registrations: u32,
    /// The entries of *Modifiche*: the changes of classification and office
    /// made that day and the annulments of earlier registrations.
    pub modifications: u32,
    /// The new versions of documents made that day (SYS-3; migration 0021).
    pub document_versions: u32,
    /// The notices of annulment received from senders that day (migration 0021).
    pub annulment_notices: u32,
    /// The PDF/A in the document store.
    pub pdf: DocumentRef,
    /// The XML in the document store.
    pub xml: DocumentRef,
    /// Tree size of the checkpoint printed in it (none when the ledger was empty).
    pub checkpoint_size: Option<u64>,
    /// Root of that checkpoint.
    pub checkpoint_root: Option<[u8; 32]>,
    /// Whether the checkpoint carries an RFC 3161 token.
    pub timestamped: bool,
    /// When it was produced.
    pub produced_at: Timestamp,
    /// Who produced it (the job, or an operator).
    pub produced_by: String,
    /// Conservation state.
    pub conservation_state: ConservationState,
    /// By when it must reach conservation: the next office working day.
    pub conservation_deadline: CivilDate,
}

/// Identifies a registro giornaliero within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RegistroId(pub i64);

/// A stored registro giornaliero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistroGiornaliero {
    /// Id.
    pub id: RegistroId,
    /// Owner.
    pub tenant: TenantId,
    /// Data.
    pub data: NewRegistroGiornaliero,
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn doc(d: &DocumentRef) -> Value {
    Value::Map(vec![
        (text("name"), text(&d.name)),
        (text("media_type"), text(&d.media_type)),
        (text("size"), Value::Unsigned(d.size)),
        (text("sha256"), text(&d.sha256.hex())),
    ])
}

fn opt_u64(v: Option<u64>) -> Value {
    v.map_or(Value::Null, Value::Unsigned)
}

impl Recorded for RegistroGiornaliero {
    fn subject(&self) -> String {
        format!("registro-giornaliero:{}", self.data.code)
    }

    /// Every field: the frozen hashes of both files (PR-9) and the
    /// conservation state. The counts added by migration 0021 are left out
    /// when 0, so that a registro produced before (which had neither) keeps
    /// its recorded state hash.
    fn state(&self) -> Value {
        let d = &self.data;
        let mut fields = vec![
            (text("day"), text(&d.day.to_string())),
            (text("register"), text(&d.register)),
            (text("code"), text(&d.code)),
            (
                text("repertorio_number"),
                Value::Unsigned(u64::from(d.repertorio_number)),
            ),
            (text("first_number"), opt_u64(d.first_number)),
            (text("last_number"), opt_u64(d.last_number)),
            (
                text("registrations"),
                Value::Unsigned(u64::from(d.registrations)),
            ),
            (
                text("modifications"),
                Value::Unsigned(u64::from(d.modifications)),
            ),
            (text("pdf"), doc(&d.pdf)),
            (text("xml"), doc(&d.xml)),
            (text("checkpoint_size"), opt_u64(d.checkpoint_size)),
            (
                text("checkpoint_root"),
                d.checkpoint_root
                    .map_or(Value::Null, |r| Value::Bytes(r.to_vec())),
            ),
            (text("timestamped"), Value::Bool(d.timestamped)),
            (text("produced_at"), text(&d.produced_at.to_string())),
            (text("produced_by"), text(&d.produced_by)),
            (
                text("conservation_state"),
                text(d.conservation_state.code()),
            ),
            (
                text("conservation_deadline"),
                text(&d.conservation_deadline.to_string()),
            ),
        ];
        for (key, n) in [
            ("document_versions", d.document_versions),
            ("annulment_notices", d.annulment_notices),
        ] {
            if n > 0 {
                fields.push((text(key), Value::Unsigned(u64::from(n))));
            }
        }
        Value::Map(fields)
    }
}
