//! The segnatura di protocollo stored with a registration (AgID Linee
//! Guida 2021, Allegato 6): the signed `SegnaturaInformatica` XML Palazzo
//! wrote for an outgoing entry, or the one received with an incoming
//! protocol message. The XML itself lives in the document store, by
//! fingerprint; the row binds it to the registration (PR-2: written in the
//! registration's own transaction).

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::cbor::Value;
use serde::{Deserialize, Serialize};

use crate::{DocumentRef, Recorded, RegistrationId, TenantId};

/// Whether Palazzo wrote the segnatura or received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SegnaturaKind {
    /// Written and sealed by Palazzo for an outgoing entry.
    Emessa,
    /// Received with an incoming protocol message.
    Ricevuta,
}

impl SegnaturaKind {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            SegnaturaKind::Emessa => "emessa",
            SegnaturaKind::Ricevuta => "ricevuta",
        }
    }

    /// From a stored code.
    pub fn from_code(s: &str) -> Option<SegnaturaKind> {
        match s {
            "emessa" => Some(SegnaturaKind::Emessa),
            "ricevuta" => Some(SegnaturaKind::Ricevuta),
            _ => None,
        }
    }
}

/// The `Identificatore` of a registration of another AOO (Allegato 6:
/// `CodiceAmministrazione`, `CodiceAOO`, `CodiceRegistro`,
/// `NumeroRegistrazione`, `DataRegistrazione`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SenderIdentifier {
    /// IPA code of the administration.
    pub amministrazione: String,
    /// IPA code of the AOO.
    pub aoo: String,
    /// Register code.
    pub registro: String,
    /// Number as written (seven digits or more).
    pub numero: String,
    /// Registration date.
    pub data: Date,
}

/// A segnatura to store with a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSegnatura {
    /// The registration.
    pub registration: RegistrationId,
    /// Written or received.
    pub kind: SegnaturaKind,
    /// The XML in the document store.
    pub document: DocumentRef,
    /// For a received one: the sender's identifier (unique per tenant, so
    /// a message sent twice is registered once).
    pub sender: Option<SenderIdentifier>,
}

/// A stored segnatura.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegnaturaRecord {
    /// Owner.
    pub tenant: TenantId,
    /// When it was stored (the registration time for an outgoing entry).
    pub at: Timestamp,
    /// Data.
    pub data: NewSegnatura,
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

impl SegnaturaRecord {
    /// The ledger subject of the segnatura of `registration`.
    pub fn subject_of(registration: RegistrationId) -> String {
        format!("segnatura:{}", registration.0)
    }
}

impl Recorded for SegnaturaRecord {
    fn subject(&self) -> String {
        Self::subject_of(self.data.registration)
    }

    fn state(&self) -> Value {
        let d = &self.data;
        let doc = &d.document;
        Value::Map(vec![
            (text("registration"), Value::int(d.registration.0)),
            (text("kind"), text(d.kind.code())),
            (text("at"), text(&self.at.to_string())),
            (text("name"), text(&doc.name)),
            (text("media_type"), text(&doc.media_type)),
            (text("size"), Value::Unsigned(doc.size)),
            (text("sha256"), text(&doc.sha256.hex())),
            (
                text("sender"),
                d.sender.as_ref().map_or(Value::Null, |s| {
                    Value::Map(vec![
                        (text("amministrazione"), text(&s.amministrazione)),
                        (text("aoo"), text(&s.aoo)),
                        (text("registro"), text(&s.registro)),
                        (text("numero"), text(&s.numero)),
                        (text("data"), text(&s.data.to_string())),
                    ])
                }),
            ),
        ])
    }
}

/// A received `AnnullamentoProtocollazione` (Allegato 6 §3.1): the sender
/// told us it annulled its registration, which we had received and
/// registered as `registration`. The receiving AOO is informed and decides
/// (our own annulment, if any, is a separate act, art. 54); the notice is
/// kept with our registration, at most one per registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAnnulmentNotice {
    /// Our registration of the annulled message.
    pub registration: RegistrationId,
    /// The sender's reason (`Motivo`).
    pub reason: String,
    /// The sender's authorising act (`Provvedimento`).
    pub act: String,
    /// The received XML in the document store.
    pub document: DocumentRef,
    /// Who received it (the staff member, or the transport).
    pub recorded_by: String,
}

/// A stored notice of annulment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnulmentNotice {
    /// Owner.
    pub tenant: TenantId,
    /// When it was received.
    pub received_at: Timestamp,
    /// Data.
    pub data: NewAnnulmentNotice,
}

impl Recorded for AnnulmentNotice {
    fn subject(&self) -> String {
        format!("annullamento-ricevuto:{}", self.data.registration.0)
    }

    fn state(&self) -> Value {
        let d = &self.data;
        Value::Map(vec![
            (text("registration"), Value::int(d.registration.0)),
            (text("received_at"), text(&self.received_at.to_string())),
            (text("reason"), text(&d.reason)),
            (text("act"), text(&d.act)),
            (text("sha256"), text(&d.document.sha256.hex())),
            (text("recorded_by"), text(&d.recorded_by)),
        ])
    }
}
