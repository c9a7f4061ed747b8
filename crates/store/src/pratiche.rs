//! Online istanze and their procedures (issue 6; migration 0028): the
//! versioned definition of each online service (form + procedure), the
//! citizen's drafts with their attachments, the pratiche filed, and the
//! append-only history of each pratica (every step of its procedure).
//!
//! The form answers and the definitions are stored as JSON text: their
//! types live in `palazzo_domain::moduli` and `palazzo_domain::procedimento`,
//! which this layer does not interpret. What the store does guarantee:
//! a draft is submitted at most once (its key is unique among pratiche), a
//! pratica's state changes only from the state the caller read
//! (compare-and-swap), and its history only grows.

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::cbor::Value;
use serde::{Deserialize, Serialize};

use crate::{
    Binding, DocumentRef, FascicoloRowId, OfficeId, Recorded, RegistrationId, TenantId, UserId,
};

/// Identifies a stored service definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DefinitionId(pub i64);

/// Identifies a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BozzaId(pub i64);

/// Identifies a pratica within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PraticaId(pub i64);

/// Identifies an attachment of a draft or a pratica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AllegatoId(pub i64);

/// One version of an online service's definition: its form and its
/// procedure, as one JSON document. Versions are never edited: a change is
/// a new version, and a pratica keeps the version it was filed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewServiceDefinition {
    /// The service card it belongs to (`services.slug`).
    pub service_slug: String,
    /// 1, 2, … per service.
    pub version: u32,
    /// The definition, JSON.
    pub definition: String,
    /// Who saved it (`user:<id>`, `admin:<id>` or `sistema`).
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

/// A stored service definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDefinitionRecord {
    /// Identifier.
    pub id: DefinitionId,
    /// Owner.
    pub tenant: TenantId,
    /// Fields.
    #[serde(flatten)]
    pub data: NewServiceDefinition,
}

/// A citizen's draft of an istanza (C.SE.1.6: saved at any moment, resumed
/// later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBozza {
    /// Whose draft it is.
    pub user: UserId,
    /// The service.
    pub service_slug: String,
    /// The definition version the answers follow.
    pub definition_version: u32,
    /// The answers so far, JSON (`palazzo_domain::moduli::Answers`).
    pub answers: String,
    /// The step the user was on.
    pub step: String,
    /// A random key, fixed for the draft's life: the idempotency key of its
    /// submission (a double click or a retried request submits once).
    pub key: String,
}

/// A stored draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bozza {
    /// Identifier.
    pub id: BozzaId,
    /// Owner.
    pub tenant: TenantId,
    /// Fields.
    #[serde(flatten)]
    pub data: NewBozza,
    /// Created.
    pub created_at: Timestamp,
    /// Last saved.
    pub updated_at: Timestamp,
}

/// What an attachment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AllegatoOwner {
    /// A draft (moved to the pratica on submission).
    Bozza(BozzaId),
    /// A pratica.
    Pratica(PraticaId),
}

/// A file attached to a draft or to a pratica, kept in the document store
/// by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAllegato {
    /// The owner.
    pub owner: AllegatoOwner,
    /// The attachment slot of the form (`AttachmentSpec::id`), or
    /// `integrazione` / `osservazioni` / `messaggio` for files sent later.
    pub spec_id: String,
    /// The file.
    pub document: DocumentRef,
    /// The pratica event it came with, if any.
    pub event_seq: Option<u32>,
}

/// A stored attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allegato {
    /// Identifier.
    pub id: AllegatoId,
    /// Owner.
    pub tenant: TenantId,
    /// Fields.
    #[serde(flatten)]
    pub data: NewAllegato,
    /// When it was uploaded.
    pub uploaded_at: Timestamp,
}

/// A pratica as filed (art. 18-bis L. 241/1990: receipt at once, with the
/// deadline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPratica {
    /// The service.
    pub service_slug: String,
    /// The definition version it follows for ever.
    pub definition_version: u32,
    /// The applicant's account, when filed online.
    pub applicant_user: Option<UserId>,
    /// The applicant's codice fiscale.
    pub applicant_cf: Option<String>,
    /// The applicant's name as shown.
    pub applicant_name: String,
    /// Where the applicant gets e-mail about it.
    pub applicant_email: Option<String>,
    /// Oggetto (the protocol subject).
    pub subject: String,
    /// The answers as submitted, JSON.
    pub answers: String,
    /// The protocol registration of the istanza.
    pub registration: RegistrationId,
    /// The fascicolo opened for it.
    pub fascicolo: Option<FascicoloRowId>,
    /// The competent office.
    pub office: OfficeId,
    /// The responsabile del procedimento (art. 5), when named.
    pub responsabile: Option<UserId>,
    /// The Europe/Rome date of receipt (art. 2 c.6: the term runs from it).
    pub received_on: Date,
    /// The submission time (the protocol time).
    pub submitted_at: Timestamp,
    /// The procedure state (`palazzo_domain::procedimento`).
    pub state: String,
    /// The legal deadline as last computed.
    pub deadline: Option<Date>,
    /// The idempotency key of the submission (the draft's key).
    pub key: String,
}

/// A stored pratica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pratica {
    /// Identifier.
    pub id: PraticaId,
    /// Owner.
    pub tenant: TenantId,
    /// Fields; `state`, `deadline` and `responsabile` change with the
    /// procedure.
    #[serde(flatten)]
    pub data: NewPratica,
    /// When it was concluded (a final state), if it was.
    pub closed_at: Option<Timestamp>,
}

/// What changes on a pratica with one step of its procedure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PraticaChange {
    /// The state the caller read; the change fails if it moved meanwhile.
    pub from_state: String,
    /// The new state.
    pub to_state: String,
    /// The deadline recomputed.
    pub deadline: Option<Date>,
    /// The responsabile after the step.
    pub responsabile: Option<UserId>,
    /// The office after the step.
    pub office: OfficeId,
    /// Set when the step concludes the pratica.
    pub closed_at: Option<Timestamp>,
}

/// One step in a pratica's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPraticaEvento {
    /// The action code (`presentata`, `richiesta_integrazione`, …).
    pub action: String,
    /// When it was recorded.
    pub at: Timestamp,
    /// The legal date the procedure clock uses (e.g. the day a notice was
    /// received), Europe/Rome.
    pub on_date: Date,
    /// Who (`user:<id>`, `admin:<id>`, `sistema`).
    pub actor: String,
    /// The role they acted in.
    pub role: String,
    /// The state before.
    pub from_state: String,
    /// The state after.
    pub to_state: String,
    /// Free text (the request, the message, the reasons).
    pub note: Option<String>,
    /// Structured data of the step, JSON (e.g. the parere's body and
    /// outcome, the clock event).
    pub payload: String,
    /// The protocol registration of the document that went with it.
    pub registration: Option<RegistrationId>,
    /// Whether the applicant sees it in the personal area.
    pub public: bool,
    /// The other records the step wrote, bound by the step's state (LOG-6,
    /// migration 0029): the pratica after the step, the fascicolo it
    /// filed a document in, the hand-off that assigned it. The step is
    /// then bound by its registration's event, or has the one event of
    /// its own when no document went with it.
    #[serde(default)]
    pub bindings: Vec<Binding>,
}

/// A stored step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PraticaEvento {
    /// The pratica.
    pub pratica: PraticaId,
    /// Owner.
    pub tenant: TenantId,
    /// 1, 2, … within the pratica.
    pub seq: u32,
    /// Fields.
    #[serde(flatten)]
    pub data: NewPraticaEvento,
}

/// Which pratiche an office list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PraticheFilter {
    /// Not concluded.
    Open,
    /// Every one.
    All,
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn opt_text(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}

fn time(t: Timestamp) -> Value {
    text(&t.to_string())
}

impl Recorded for ServiceDefinitionRecord {
    fn subject(&self) -> String {
        format!("definizione_servizio:{}", self.id.0)
    }

    fn state(&self) -> Value {
        let d = &self.data;
        Value::Map(vec![
            (text("service"), text(&d.service_slug)),
            (text("version"), Value::Unsigned(u64::from(d.version))),
            (text("definition"), text(&d.definition)),
            (text("created_by"), text(&d.created_by)),
            (text("created_at"), time(d.created_at)),
        ])
    }
}

impl Recorded for Pratica {
    fn subject(&self) -> String {
        format!("pratica:{}", self.id.0)
    }

    fn state(&self) -> Value {
        let d = &self.data;
        Value::Map(vec![
            (text("service"), text(&d.service_slug)),
            (
                text("definition_version"),
                Value::Unsigned(u64::from(d.definition_version)),
            ),
            (
                text("applicant_user"),
                d.applicant_user.map_or(Value::Null, |u| Value::int(u.0)),
            ),
            (text("applicant_cf"), opt_text(d.applicant_cf.as_deref())),
            (text("applicant_name"), text(&d.applicant_name)),
            (text("subject"), text(&d.subject)),
            (text("answers"), text(&d.answers)),
            (text("registration"), Value::int(d.registration.0)),
            (
                text("fascicolo"),
                d.fascicolo.map_or(Value::Null, |f| Value::int(f.0)),
            ),
            (text("office"), Value::int(d.office.0)),
            (
                text("responsabile"),
                d.responsabile.map_or(Value::Null, |u| Value::int(u.0)),
            ),
            (text("received_on"), text(&d.received_on.to_string())),
            (text("submitted_at"), time(d.submitted_at)),
            (text("state"), text(&d.state)),
            (
                text("deadline"),
                d.deadline.map_or(Value::Null, |x| text(&x.to_string())),
            ),
            (text("key"), text(&d.key)),
            (text("closed_at"), self.closed_at.map_or(Value::Null, time)),
        ])
    }
}

impl Recorded for PraticaEvento {
    fn subject(&self) -> String {
        format!("pratica:{}:{}", self.pratica.0, self.seq)
    }

    fn state(&self) -> Value {
        let d = &self.data;
        let mut state = Value::Map(vec![
            (text("action"), text(&d.action)),
            (text("at"), time(d.at)),
            (text("on_date"), text(&d.on_date.to_string())),
            (text("actor"), text(&d.actor)),
            (text("role"), text(&d.role)),
            (text("from_state"), text(&d.from_state)),
            (text("to_state"), text(&d.to_state)),
            (text("note"), opt_text(d.note.as_deref())),
            (text("payload"), text(&d.payload)),
            (
                text("registration"),
                d.registration.map_or(Value::Null, |r| Value::int(r.0)),
            ),
            (text("public"), Value::Bool(d.public)),
        ]);
        if let (false, Value::Map(fields)) = (d.bindings.is_empty(), &mut state) {
            fields.push((text("bindings"), Binding::state_of(&d.bindings)));
        }
        state
    }
}

/// Calls `$cb!` with the pratiche reads of [`crate::Store`].
#[macro_export]
macro_rules! pratiche_reads {
    ($cb:ident) => {
        $cb! {
            /// A service definition: the given version, or the newest.
            fn service_definition(&self, tenant: TenantId, service: &str, version: Option<u32>) -> Option<ServiceDefinitionRecord>;
            /// The newest definition of every service that has one.
            fn current_service_definitions(&self, tenant: TenantId) -> Vec<ServiceDefinitionRecord>;
            /// A draft of `user` (another user's draft is `None`).
            fn bozza(&self, tenant: TenantId, user: UserId, id: BozzaId) -> Option<Bozza>;
            /// The drafts of a user, last saved first.
            fn bozze_of(&self, tenant: TenantId, user: UserId) -> Vec<Bozza>;
            /// The attachments of a draft or a pratica, by id.
            fn allegati(&self, tenant: TenantId, owner: AllegatoOwner) -> Vec<Allegato>;
            /// A pratica.
            fn pratica(&self, tenant: TenantId, id: PraticaId) -> Option<Pratica>;
            /// The pratica submitted with this idempotency key.
            fn pratica_by_key(&self, tenant: TenantId, key: &str) -> Option<Pratica>;
            /// The pratiche of an applicant, newest first.
            fn pratiche_of(&self, tenant: TenantId, user: UserId) -> Vec<Pratica>;
            /// The pratiche of an office, oldest deadline first.
            fn office_pratiche(&self, tenant: TenantId, office: OfficeId, filter: PraticheFilter) -> Vec<Pratica>;
            /// Pratiche with an id above `after`, by id, at most `limit`.
            fn pratiche_by_id(&self, tenant: TenantId, after: PraticaId, limit: i64) -> Vec<Pratica>;
            /// The history of a pratica, in order.
            fn pratica_eventi(&self, tenant: TenantId, pratica: PraticaId) -> Vec<PraticaEvento>;
            /// The steps of every pratica with action code `action`, by
            /// pratica and step (e.g. the internal opinions requested, for
            /// the offices asked).
            fn pratica_eventi_by_action(&self, tenant: TenantId, action: &str) -> Vec<PraticaEvento>;
        }
    };
}

/// Calls `$cb!` with the pratiche writes of [`crate::StoreTx`].
#[macro_export]
macro_rules! pratiche_writes {
    ($cb:ident) => {
        $cb! {
            /// Saves a new definition version; a version already saved is a
            /// [`StoreError::Conflict`].
            fn insert_service_definition(&mut self, tenant: TenantId, d: &NewServiceDefinition) -> ServiceDefinitionRecord;
            /// Creates a draft.
            fn insert_bozza(&mut self, tenant: TenantId, b: &NewBozza, now: Timestamp) -> Bozza;
            /// Saves a draft's answers and step; false when it is not
            /// `user`'s or no longer exists.
            fn update_bozza(&mut self, tenant: TenantId, user: UserId, id: BozzaId, answers: &str, step: &str, now: Timestamp) -> bool;
            /// Deletes a draft and its attachment rows; false when it is not
            /// `user`'s or no longer exists.
            fn delete_bozza(&mut self, tenant: TenantId, user: UserId, id: BozzaId) -> bool;
            /// Adds an attachment.
            fn insert_allegato(&mut self, tenant: TenantId, a: &NewAllegato, now: Timestamp) -> Allegato;
            /// Removes an attachment of a draft; false when it is not there.
            fn delete_allegato(&mut self, tenant: TenantId, owner: AllegatoOwner, id: AllegatoId) -> bool;
            /// Moves a draft's attachments to the pratica; returns how many.
            fn move_allegati(&mut self, tenant: TenantId, from: BozzaId, to: PraticaId) -> u64;
            /// Files a pratica. A key already used is a
            /// [`StoreError::Conflict`] (the submission happened already).
            fn insert_pratica(&mut self, tenant: TenantId, p: &NewPratica) -> Pratica;
            /// Applies one step if the pratica is still in `c.from_state`;
            /// false otherwise (someone acted meanwhile).
            fn change_pratica(&mut self, tenant: TenantId, id: PraticaId, c: &PraticaChange) -> bool;
            /// Appends a step to the history, numbered after the last one.
            fn insert_pratica_evento(&mut self, tenant: TenantId, pratica: PraticaId, e: &NewPraticaEvento) -> PraticaEvento;
        }
    };
}
