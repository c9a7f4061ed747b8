//! Records of the emergency register (DPR 445/2000 art. 63; PR-10).
//!
//! An emergency session is one use of a registro di emergenza within the
//! AOO (the tenant): its code (unique within the AOO, so that an emergency
//! number identifies a document uniquely together with it, art. 63 c.4), the
//! cause, when the interruption started and when the service was restored,
//! and every authorisation of the responsabile (art. 63 c.1–2). The entries
//! recorded offline are ordinary registrations carrying an
//! [`crate::EmergencyRef`] to the session's code and their emergency number.

use jiff::Timestamp;
use palazzo_domain::cbor::Value;
use serde::{Deserialize, Serialize};

use crate::{Recorded, TenantId};

/// Identifies an emergency session within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EmergencySessionId(pub i64);

/// The fixed data of an emergency session, given when it is opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEmergencySession {
    /// Code of the emergency register, unique within the AOO (e.g. `EMERG-2026-01`).
    pub code: String,
    /// Cause of the interruption (art. 63 c.1).
    pub cause: String,
    /// When the interruption started (UTC).
    pub started_at: Timestamp,
    /// Who recorded the session in Palazzo.
    pub opened_by: String,
    /// When it was recorded.
    pub opened_at: Timestamp,
}

/// One authorisation of the responsabile to use the emergency register
/// (art. 63 c.1–2): the first covers at most 24 hours from the start, each
/// further one at most one week, each continuing the previous one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyAuthorisation {
    /// 1 for the first, 2, 3… for the extensions.
    pub seq: u32,
    /// The responsabile della gestione documentale who authorised it.
    pub authorised_by: String,
    /// Reference of the act (provvedimento) that authorises it.
    pub act: String,
    /// Start of the authorised period.
    pub valid_from: Timestamp,
    /// End of the authorised period.
    pub valid_until: Timestamp,
    /// Who recorded it in Palazzo.
    pub recorded_by: String,
    /// When it was recorded.
    pub recorded_at: Timestamp,
}

/// The end of an emergency: the service is restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyClosure {
    /// When the service was restored (UTC).
    pub ended_at: Timestamp,
    /// Who recorded it.
    pub closed_by: String,
    /// When it was recorded.
    pub closed_at: Timestamp,
}

/// A stored emergency session with its authorisations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencySession {
    /// Id.
    pub id: EmergencySessionId,
    /// Owner (the AOO).
    pub tenant: TenantId,
    /// Fixed data.
    pub data: NewEmergencySession,
    /// The authorisations, in order.
    pub authorisations: Vec<EmergencyAuthorisation>,
    /// The closure, once the service is restored.
    pub closure: Option<EmergencyClosure>,
}

impl EmergencySession {
    /// The end of the last authorised period: the register may be used from
    /// the start until then.
    pub fn authorised_until(&self) -> Timestamp {
        self.authorisations
            .iter()
            .map(|a| a.valid_until)
            .max()
            .unwrap_or(self.data.started_at)
    }

    /// Is the service still interrupted (not yet closed)?
    pub fn is_open(&self) -> bool {
        self.closure.is_none()
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn time(t: Timestamp) -> Value {
    text(&t.to_string())
}

impl Recorded for EmergencySession {
    fn subject(&self) -> String {
        format!("emergenza:{}", self.id.0)
    }

    /// Every field, the authorisations and the closure included, so that
    /// `palazzo verify` catches a change to any of them.
    fn state(&self) -> Value {
        let d = &self.data;
        let auths = self
            .authorisations
            .iter()
            .map(|a| {
                Value::Map(vec![
                    (text("seq"), Value::Unsigned(u64::from(a.seq))),
                    (text("authorised_by"), text(&a.authorised_by)),
                    (text("act"), text(&a.act)),
                    (text("valid_from"), time(a.valid_from)),
                    (text("valid_until"), time(a.valid_until)),
                    (text("recorded_by"), text(&a.recorded_by)),
                    (text("recorded_at"), time(a.recorded_at)),
                ])
            })
            .collect();
        Value::Map(vec![
            (text("code"), text(&d.code)),
            (text("cause"), text(&d.cause)),
            (text("started_at"), time(d.started_at)),
            (text("opened_by"), text(&d.opened_by)),
            (text("opened_at"), time(d.opened_at)),
            (text("authorisations"), Value::Array(auths)),
            (
                text("closure"),
                self.closure.as_ref().map_or(Value::Null, |c| {
                    Value::Map(vec![
                        (text("ended_at"), time(c.ended_at)),
                        (text("closed_by"), text(&c.closed_by)),
                        (text("closed_at"), time(c.closed_at)),
                    ])
                }),
            ),
        ])
    }
}
