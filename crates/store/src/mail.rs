//! The e-mail outbox (issue 6; migration 0026): one row per message to a
//! citizen, written in the transaction of the business action that causes
//! it (the transactional outbox pattern), sent later by the mail worker.
//! A rolled-back action leaves no mail; a committed one always has its mail.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::TenantId;

/// Identifies an outbox row within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MailId(pub i64);

/// Where a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailState {
    /// Waiting for its first or next attempt (`next_attempt_at`).
    Queued,
    /// Accepted by the SMTP server (or written by the file transport).
    Sent,
    /// Given up after the last retry, or refused permanently; an operator
    /// may queue it again (`palazzo mail retry`).
    Failed,
}

impl MailState {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            MailState::Queued => "queued",
            MailState::Sent => "sent",
            MailState::Failed => "failed",
        }
    }

    /// Parses a stored code.
    pub fn from_code(s: &str) -> Option<MailState> {
        match s {
            "queued" => Some(MailState::Queued),
            "sent" => Some(MailState::Sent),
            "failed" => Some(MailState::Failed),
            _ => None,
        }
    }
}

/// What a message is about, so that the personal area can show "we
/// e-mailed you" next to it: e.g. (`pratica`, 42) or (`appuntamento`, 7).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MailRelated {
    /// The kind of record (`pratica`, `appuntamento`, `certificato`…).
    pub kind: String,
    /// Its id within the tenant.
    pub id: i64,
}

/// A message to queue. The sender (`From`) is the comune's, chosen when it
/// is sent; `Message-ID`, `Date` and the MIME structure are made then too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMail {
    /// The recipient's address (`addr-spec`, e.g. `mario.rossi@example.it`).
    pub recipient: String,
    /// The subject, plain UTF-8 (encoded as RFC 2047 words when sent).
    pub subject: String,
    /// The plain-text body, UTF-8.
    pub text_body: String,
    /// An HTML alternative of the same content, if any.
    pub html_body: Option<String>,
    /// A `Reply-To` address (e.g. the office that handles the pratica).
    pub reply_to: Option<String>,
    /// What the message is about, if anything.
    pub related: Option<MailRelated>,
}

/// An outbox row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// Id within the tenant.
    pub id: MailId,
    /// The comune that sends it.
    pub tenant: TenantId,
    /// The message.
    pub data: NewMail,
    /// Where it is.
    pub state: MailState,
    /// Attempts so far (a claim by a worker counts as one).
    pub attempts: u32,
    /// When it is due (queued), or when the last attempt was planned.
    pub next_attempt_at: Timestamp,
    /// Why the last attempt failed (the server's answer; never a secret).
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: Timestamp,
    /// When the server accepted it.
    pub sent_at: Option<Timestamp>,
    /// The `Message-ID` it was sent with (without angle brackets).
    pub message_id: Option<String>,
}

/// Calls `$cb!` with the outbox reads of [`crate::Store`].
#[macro_export]
macro_rules! mail_reads {
    ($cb:ident) => {
        $cb! {
            /// An outbox row by id.
            fn mail(&self, tenant: TenantId, id: MailId) -> Option<Mail>;
            /// The outbox of a tenant, newest first, at most `limit`; only
            /// the rows in `state` when given.
            fn mails(&self, tenant: TenantId, state: Option<MailState>, limit: u32) -> Vec<Mail>;
            /// The messages about one record (`kind`, `id`), newest first.
            fn mails_related(&self, tenant: TenantId, kind: &str, id: i64) -> Vec<Mail>;
        }
    };
}

/// Calls `$cb!` with the outbox writes of [`crate::StoreTx`].
#[macro_export]
macro_rules! mail_writes {
    ($cb:ident) => {
        $cb! {
            /// Queues a message, due at `now`, in this transaction: it is
            /// sent only if the transaction commits.
            fn insert_mail(&mut self, tenant: TenantId, m: &NewMail, now: Timestamp) -> MailId;
            /// Claims up to `limit` queued messages of any tenant due at
            /// `now` (oldest due first): each gets one more attempt and its
            /// `next_attempt_at` moves to `lease_until`, so that no other
            /// worker takes it until then (if this one dies, it is taken
            /// again after the lease). Concurrent claimers never receive the
            /// same row (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's
            /// single writer). Commit at once: the committed row is the claim.
            fn claim_due_mails(&mut self, now: Timestamp, limit: u32, lease_until: Timestamp) -> Vec<Mail>;
            /// Records that a queued message was accepted, with the
            /// `Message-ID` used; false when it is not queued.
            fn mark_mail_sent(&mut self, tenant: TenantId, id: MailId, message_id: &str, at: Timestamp) -> bool;
            /// Records a failed attempt of a queued message: with
            /// `retry_at` it stays queued until then, without it becomes
            /// `failed`; false when it is not queued.
            fn mark_mail_failed(&mut self, tenant: TenantId, id: MailId, error: &str, retry_at: Option<Timestamp>) -> bool;
            /// Queues a failed message again, due at `now`, with its
            /// attempts reset; false when it is not failed.
            fn requeue_mail(&mut self, tenant: TenantId, id: MailId, now: Timestamp) -> bool;
            /// Queues every failed message of a tenant again; how many.
            fn requeue_failed_mails(&mut self, tenant: TenantId, now: Timestamp) -> u64;
        }
    };
}
