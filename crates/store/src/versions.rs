//! New versions of the documents of a registration (protocol-documents.md
//! SYS-3, Allegato 5 `TracciatureModificheDocumento`).
//!
//! A version is a new object in the document store, referenced by its
//! fingerprint: the previous version is never overwritten and stays
//! retrievable by id and hash. The registration's own documents (version 1)
//! and their impronta are fixed fields (PR-3) and never change; the rows
//! here only add to them, append-only (migration 0015).

use jiff::Timestamp;
use palazzo_domain::cbor::Value;
use palazzo_domain::protocollo::Impronta;
use serde::{Deserialize, Serialize};

use crate::{DocumentRef, Recorded, RegistrationId, TenantId};

/// Identifies a document version within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DocumentVersionId(pub i64);

/// Why a new version was made (Allegato 5 `TipoModifica`). The fourth
/// value, `Annullamento`, is the annulment of the whole registration (DPR
/// 445/2000 art. 54), not a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TipoModifica {
    /// A correction of the content.
    Rettifica,
    /// An addition to the content.
    Integrazione,
    /// An annotation on the document.
    Annotazione,
}

impl TipoModifica {
    /// Every kind, in display order.
    pub const ALL: [TipoModifica; 3] = [
        TipoModifica::Rettifica,
        TipoModifica::Integrazione,
        TipoModifica::Annotazione,
    ];

    /// The stored code (lower case).
    pub fn code(self) -> &'static str {
        match self {
            TipoModifica::Rettifica => "rettifica",
            TipoModifica::Integrazione => "integrazione",
            TipoModifica::Annotazione => "annotazione",
        }
    }

    /// The Allegato 5 value (`Rettifica`, `Integrazione`, `Annotazione`).
    pub fn allegato5(self) -> &'static str {
        match self {
            TipoModifica::Rettifica => "Rettifica",
            TipoModifica::Integrazione => "Integrazione",
            TipoModifica::Annotazione => "Annotazione",
        }
    }

    /// Parses a stored code or the Allegato 5 value (case-insensitive).
    pub fn from_code(s: &str) -> Option<TipoModifica> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.code().eq_ignore_ascii_case(s))
    }
}

/// A new version of a document of a registration, as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDocumentVersion {
    /// The registration.
    pub registration: RegistrationId,
    /// Which document: 0 the primary, `n` the n-th attachment.
    pub document: u32,
    /// Its version number: 2 for the first new version, then 3, 4…
    pub version: u32,
    /// Why (`TipoModifica`).
    pub kind: TipoModifica,
    /// The new object in the document store.
    pub file: DocumentRef,
    /// The fingerprint of the version it follows
    /// (`IdDocVersionePrecedente`).
    pub previous: Impronta,
    /// The reason, as written by the author.
    pub reason: String,
    /// Who made it (`SoggettoAutoreDellaModifica`).
    pub author: String,
}

/// A stored version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentVersion {
    /// Id.
    pub id: DocumentVersionId,
    /// Owner.
    pub tenant: TenantId,
    /// When it was stored (`DataModifica`).
    pub at: Timestamp,
    /// Data.
    pub data: NewDocumentVersion,
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

impl Recorded for DocumentVersion {
    fn subject(&self) -> String {
        format!("versione:{}", self.id.0)
    }

    fn state(&self) -> Value {
        let d = &self.data;
        let f = &d.file;
        Value::Map(vec![
            (text("registration"), Value::int(d.registration.0)),
            (text("document"), Value::Unsigned(u64::from(d.document))),
            (text("version"), Value::Unsigned(u64::from(d.version))),
            (text("kind"), text(d.kind.code())),
            (text("name"), text(&f.name)),
            (text("media_type"), text(&f.media_type)),
            (text("size"), Value::Unsigned(f.size)),
            (text("sha256"), text(&f.sha256.hex())),
            (text("previous"), text(&d.previous.hex())),
            (text("reason"), text(&d.reason)),
            (text("author"), text(&d.author)),
            (text("at"), text(&self.at.to_string())),
        ])
    }
}
