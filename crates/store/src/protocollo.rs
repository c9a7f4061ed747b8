//! Records of the protocollo informatico (issue 4).

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::cbor::Value;
use palazzo_domain::protocollo::{Correspondent, Flow, Impronta, ProtocolNumber, RegisterCode};
use serde::{Deserialize, Serialize};

use crate::{Binding, OfficeId, Recorded, TenantId};

/// Identifies a registration within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RegistrationId(pub i64);

/// A document registered with an entry: the primary document or an
/// attachment, by its fingerprint (the bytes live in the document store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRef {
    /// Original file name.
    pub name: String,
    /// Media type detected from the content.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub sha256: Impronta,
}

/// The emergency register entry an ordinary registration recovers (DPR
/// 445/2000 art. 63): the correlation is kept for ever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyRef {
    /// The emergency register's code.
    pub register: String,
    /// The number in the emergency register.
    pub number: u64,
    /// When it was recorded in the emergency register.
    pub recorded_at: Timestamp,
}

/// The fixed and modifiable fields of a registration, as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRegistration {
    /// The register (`CodiceRegistro`).
    pub register: RegisterCode,
    /// In entrata, in uscita, interno.
    pub flow: Flow,
    /// Oggetto.
    pub subject: String,
    /// Mittente (incoming) or destinatari.
    pub correspondents: Vec<Correspondent>,
    /// Number of the received document, if any (art. 53 c.1 e).
    pub received_number: Option<String>,
    /// Date of the received document, if any.
    pub received_date: Option<Date>,
    /// The primary document.
    pub primary: DocumentRef,
    /// Attachments.
    pub attachments: Vec<DocumentRef>,
    /// Who registered it (display name and id of the operator).
    pub registered_by: String,
    /// The emergency registration it recovers, if any.
    pub emergency: Option<EmergencyRef>,
    /// Classification (titolario code), modifiable.
    pub classification: Option<String>,
    /// The office it is assigned to, modifiable.
    pub office: Option<OfficeId>,
}

/// The annulment of a registration (art. 54).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annulment {
    /// When.
    pub at: Timestamp,
    /// By whom.
    pub by: String,
    /// Why.
    pub reason: String,
    /// The act that authorises it (provvedimento).
    pub act: String,
}

/// A stored registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// Id.
    pub id: RegistrationId,
    /// Owner.
    pub tenant: TenantId,
    /// Register year (Europe/Rome civil year of the registration).
    pub year: i16,
    /// Number within register and year.
    pub number: ProtocolNumber,
    /// Registration time (UTC).
    pub registered_at: Timestamp,
    /// Data.
    pub data: NewRegistration,
    /// The annulment, if annulled.
    pub annulment: Option<Annulment>,
    /// The last change of the modifiable fields, if any (its author is part
    /// of the state the ledger binds).
    pub changed: Option<LastChange>,
    /// The SHA-256 of the canonical state of the registration's segnatura
    /// record (sealed outgoing or received with an interoperable message),
    /// so that the registration's one ledger event also binds the segnatura
    /// stored in the same transaction (LOG-6: one event per API call).
    /// `None` for entries without a segnatura and for segnature stored
    /// before migration 0023, which have a `protocollo.segnatura` event of
    /// their own.
    pub segnatura_state: Option<[u8; 32]>,
    /// The records filed with the registration in the same call and bound
    /// by its one ledger event (migration 0029): for an online istanza or
    /// a step of a pratica, the step of the pratica's history. Empty for
    /// every other entry.
    #[serde(default)]
    pub bindings: Vec<Binding>,
}

/// Who last changed the classification or office of a registration, and
/// when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastChange {
    /// When.
    pub at: Timestamp,
    /// By whom (as written in the register).
    pub by: String,
}

/// A change of the modifiable fields of a registration (art. 53, PR-3): the
/// new values, its time and its author.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentChange {
    /// New classification (`None` clears it).
    pub classification: Option<String>,
    /// New competent office (`None` clears it).
    pub office: Option<OfficeId>,
    /// When.
    pub at: Timestamp,
    /// By whom.
    pub by: String,
}

/// One entry of a registration's change history (append-only): the values
/// before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolChange {
    /// The registration.
    pub registration: RegistrationId,
    /// 1, 2, … per registration.
    pub seq: u32,
    /// When.
    pub at: Timestamp,
    /// By whom.
    pub by: String,
    /// Classification before.
    pub old_classification: Option<String>,
    /// Classification after.
    pub new_classification: Option<String>,
    /// Office before.
    pub old_office: Option<OfficeId>,
    /// Office after.
    pub new_office: Option<OfficeId>,
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn opt(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}

fn doc(d: &DocumentRef) -> Value {
    Value::Map(vec![
        (text("name"), text(&d.name)),
        (text("media_type"), text(&d.media_type)),
        (text("size"), Value::Unsigned(d.size)),
        (text("sha256"), text(&d.sha256.hex())),
    ])
}

impl Recorded for Registration {
    fn subject(&self) -> String {
        format!("protocollo:{}", self.id.0)
    }

    /// Every field, fixed and modifiable, so that `palazzo verify` catches a
    /// change to any of them made behind Palazzo's back.
    fn state(&self) -> Value {
        let d = &self.data;
        let correspondents = d
            .correspondents
            .iter()
            .map(|c| {
                Value::Map(vec![
                    (text("kind"), text(&format!("{:?}", c.kind))),
                    (text("name"), text(&c.name)),
                    (text("fiscal_code"), opt(c.fiscal_code.as_deref())),
                    (text("ipa"), opt(c.ipa.as_deref())),
                    (text("email"), opt(c.email.as_ref().map(|e| e.as_str()))),
                    (text("address"), opt(c.address.as_deref())),
                    (text("per_conoscenza"), Value::Bool(c.per_conoscenza)),
                ])
            })
            .collect();
        let mut state = Value::Map(vec![
            (text("register"), text(d.register.as_str())),
            (text("year"), Value::int(i64::from(self.year))),
            (text("number"), Value::Unsigned(self.number.get())),
            (text("registered_at"), text(&self.registered_at.to_string())),
            (text("flow"), text(d.flow.code())),
            (text("subject"), text(&d.subject)),
            (text("correspondents"), Value::Array(correspondents)),
            (text("received_number"), opt(d.received_number.as_deref())),
            (
                text("received_date"),
                opt(d.received_date.map(|x| x.to_string()).as_deref()),
            ),
            (text("primary"), doc(&d.primary)),
            (
                text("attachments"),
                Value::Array(d.attachments.iter().map(doc).collect()),
            ),
            (text("registered_by"), text(&d.registered_by)),
            (
                text("emergency"),
                d.emergency.as_ref().map_or(Value::Null, |e| {
                    Value::Map(vec![
                        (text("register"), text(&e.register)),
                        (text("number"), Value::Unsigned(e.number)),
                        (text("recorded_at"), text(&e.recorded_at.to_string())),
                    ])
                }),
            ),
            (text("classification"), opt(d.classification.as_deref())),
            (
                text("office"),
                d.office.map_or(Value::Null, |o| Value::int(o.0)),
            ),
            (
                text("annulment"),
                self.annulment.as_ref().map_or(Value::Null, |a| {
                    Value::Map(vec![
                        (text("at"), text(&a.at.to_string())),
                        (text("by"), text(&a.by)),
                        (text("reason"), text(&a.reason)),
                        (text("act"), text(&a.act)),
                    ])
                }),
            ),
        ]);
        // The author and time of the last change of classification or
        // office; absent for an entry never changed, so the state of such an
        // entry hashes as it did before changes were recorded.
        if let (Some(c), Value::Map(fields)) = (&self.changed, &mut state) {
            fields.push((
                text("changed"),
                Value::Map(vec![
                    (text("at"), text(&c.at.to_string())),
                    (text("by"), text(&c.by)),
                ]),
            ));
        }
        // Present only when the segnatura is bound here (migration 0023),
        // so earlier entries hash as they did.
        if let (Some(h), Value::Map(fields)) = (&self.segnatura_state, &mut state) {
            fields.push((text("segnatura"), Value::Bytes(h.to_vec())));
        }
        // Present only when records are bound here (migration 0029).
        if let (false, Value::Map(fields)) = (self.bindings.is_empty(), &mut state) {
            fields.push((text("bindings"), Binding::state_of(&self.bindings)));
        }
        state
    }
}

/// Identifies a hand-off within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HandoffId(pub i64);

impl HandoffId {
    /// The ledger subject of this hand-off.
    pub fn subject(self) -> String {
        format!("handoff:{}", self.0)
    }
}

/// Why a document goes to an office (LG §3, TI-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HandoffKind {
    /// Per competenza: the office must deal with it.
    Competenza,
    /// Per conoscenza: for information.
    Conoscenza,
}

impl HandoffKind {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            HandoffKind::Competenza => "competenza",
            HandoffKind::Conoscenza => "conoscenza",
        }
    }

    /// Parses a stored code.
    pub fn from_code(s: &str) -> Option<Self> {
        match s {
            "competenza" => Some(HandoffKind::Competenza),
            "conoscenza" => Some(HandoffKind::Conoscenza),
            _ => None,
        }
    }
}

/// Where a hand-off stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HandoffState {
    /// Waiting in the office's inbox.
    Assegnato,
    /// Taken in charge.
    Accettato,
    /// Refused with a reason (back to the sender).
    Rifiutato,
    /// Passed on to another office (a new hand-off follows).
    Inoltrato,
    /// Done.
    Chiuso,
}

impl HandoffState {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            HandoffState::Assegnato => "assegnato",
            HandoffState::Accettato => "accettato",
            HandoffState::Rifiutato => "rifiutato",
            HandoffState::Inoltrato => "inoltrato",
            HandoffState::Chiuso => "chiuso",
        }
    }

    /// Parses a stored code.
    pub fn from_code(s: &str) -> Option<Self> {
        [
            HandoffState::Assegnato,
            HandoffState::Accettato,
            HandoffState::Rifiutato,
            HandoffState::Inoltrato,
            HandoffState::Chiuso,
        ]
        .into_iter()
        .find(|x| x.code() == s)
    }

    /// No further step is possible.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            HandoffState::Rifiutato | HandoffState::Inoltrato | HandoffState::Chiuso
        )
    }
}

/// What a hand-off hands over (TI-5: "a document or fascicolo is assigned
/// to an office"): one state machine serves both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HandoffSubject {
    /// A registered document.
    Registration(RegistrationId),
    /// A whole fascicolo.
    Fascicolo(crate::FascicoloRowId),
}

impl HandoffSubject {
    /// The registration, if the subject is one.
    pub fn registration(self) -> Option<RegistrationId> {
        match self {
            HandoffSubject::Registration(r) => Some(r),
            HandoffSubject::Fascicolo(_) => None,
        }
    }

    /// The fascicolo, if the subject is one.
    pub fn fascicolo(self) -> Option<crate::FascicoloRowId> {
        match self {
            HandoffSubject::Fascicolo(f) => Some(f),
            HandoffSubject::Registration(_) => None,
        }
    }
}

/// The desk a hand-off was assigned from: where it comes back, flagged
/// "Rifiutata", when it is refused (docs/fascicoli.md, "Refused
/// hand-offs"). A first assignment comes from the person who made it; a
/// forwarded hand-off from the hand-off it continues (its person when that
/// one was assigned by name, else its office); a re-assignment after a
/// refusal keeps the desk of the refused one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HandoffDesk {
    /// An office.
    Office(OfficeId),
    /// A person (a staff user).
    User(crate::UserId),
}

/// A new hand-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewHandoff {
    /// The document (registration) or fascicolo handed over.
    pub subject: HandoffSubject,
    /// Per competenza or per conoscenza.
    pub kind: HandoffKind,
    /// The receiving office.
    pub office: OfficeId,
    /// A person of that office, if assigned by name.
    pub user: Option<crate::UserId>,
    /// The hand-off it continues (forwarding, or re-assigning a refused one).
    pub parent: Option<HandoffId>,
    /// The desk it was assigned from (`None` for hand-offs stored before
    /// migration 0018, and for those a break-glass administrator made).
    pub desk: Option<HandoffDesk>,
}

/// A stored hand-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    /// Id.
    pub id: HandoffId,
    /// Owner.
    pub tenant: TenantId,
    /// What was handed off, to whom.
    pub data: NewHandoff,
    /// Current state.
    pub state: HandoffState,
    /// When it was assigned.
    pub assigned_at: Timestamp,
    /// Last change of state.
    pub updated_at: Timestamp,
    /// For a forwarded hand-off: its continuation (the hand-off it was
    /// forwarded to) and the SHA-256 of the canonical state that one had
    /// when it was created, so that the one `handoff.inoltrato` event binds
    /// both records (LOG-6). `None` otherwise, and for forwards made before
    /// migration 0023, whose continuation has a `handoff.assigned` event of
    /// its own.
    pub continuation: Option<(HandoffId, [u8; 32])>,
}

impl Handoff {
    /// The people the hand-offs name: assignees and desks that are persons.
    pub fn people(handoffs: &[Handoff]) -> Vec<crate::UserId> {
        let mut out = Vec::new();
        for h in handoffs {
            out.extend(h.data.user);
            if let Some(HandoffDesk::User(u)) = h.data.desk {
                out.push(u);
            }
        }
        out
    }
}

/// One step of a hand-off (append-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffStep {
    /// The hand-off.
    pub handoff: HandoffId,
    /// 1, 2, 3… within the hand-off.
    pub step: u32,
    /// `assegnato`, `accettato`, `rifiutato`, `inoltrato`, `chiuso`.
    pub action: String,
    /// Who.
    pub actor: String,
    /// When.
    pub at: Timestamp,
    /// Reason or note.
    pub note: Option<String>,
}

impl Recorded for Handoff {
    fn subject(&self) -> String {
        self.id.subject()
    }
    fn state(&self) -> Value {
        let d = &self.data;
        // A registration's hand-off keeps the key it was recorded with
        // before fascicoli could be handed off (its ledger states still match).
        let subject = match d.subject {
            HandoffSubject::Registration(r) => (text("registration"), Value::int(r.0)),
            HandoffSubject::Fascicolo(f) => (text("fascicolo"), Value::int(f.0)),
        };
        let mut state = Value::Map(vec![
            subject,
            (text("kind"), text(d.kind.code())),
            (text("office"), Value::int(d.office.0)),
            (
                text("user"),
                d.user.map_or(Value::Null, |u| Value::int(u.0)),
            ),
            (
                text("parent"),
                d.parent.map_or(Value::Null, |p| Value::int(p.0)),
            ),
            (text("state"), text(self.state.code())),
            (text("assigned_at"), text(&self.assigned_at.to_string())),
            (text("updated_at"), text(&self.updated_at.to_string())),
        ]);
        // The desk is recorded only when there is one, so hand-offs stored
        // before migration 0018 hash as they did when they were ledgered.
        if let (Some(desk), Value::Map(fields)) = (d.desk, &mut state) {
            let (key, id) = match desk {
                HandoffDesk::Office(o) => ("office", o.0),
                HandoffDesk::User(u) => ("user", u.0),
            };
            fields.push((text("desk"), Value::Map(vec![(text(key), Value::int(id))])));
        }
        // Likewise the continuation of a forward (migration 0023).
        if let (Some((id, h)), Value::Map(fields)) = (&self.continuation, &mut state) {
            fields.push((
                text("continuation"),
                Value::Map(vec![
                    (text("id"), Value::int(id.0)),
                    (text("state"), Value::Bytes(h.to_vec())),
                ]),
            ));
        }
        state
    }
}

/// What to look for in the register (issue 4, part 8: "search by
/// number/year, date range, correspondent, subject words and class").
/// Every criterion given must match; results come newest first (oldest
/// first for [`RegistrationSearch::unclassified`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationSearch {
    /// The register (`CodiceRegistro`).
    pub register: String,
    /// Register year.
    pub year: Option<i16>,
    /// Registered at or after.
    pub from: Option<Timestamp>,
    /// Registered before.
    pub until: Option<Timestamp>,
    /// Text in a correspondent (name, codice fiscale, IPA code or e-mail),
    /// case-insensitive.
    pub correspondent: Option<String>,
    /// Words that must all appear in the oggetto, case-insensitive.
    pub words: Vec<String>,
    /// Classification, with its subdivisions (`VI` finds `VI.3`).
    pub classification: Option<String>,
    /// In entrata, in uscita, interno.
    pub flow: Option<Flow>,
    /// Paging: only entries with a smaller id.
    pub before: Option<RegistrationId>,
    /// Only entries still "da classificare" (TI-2): no classification and
    /// not annulled. These come oldest first (the longest waiting).
    pub unclassified: bool,
}

/// The comune's classification policy for its register (TI-2: "registration
/// without a classification is rejected, or allowed only as a
/// policy-controlled 'da classificare' state with a deadline").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolPolicy {
    /// A registration without a classification is refused.
    pub classification_mandatory: bool,
    /// Otherwise: working days, from the registration date, within which an
    /// entry must be classified (1–60).
    pub classify_within_days: u16,
    /// When the policy was last set (`None`: the default, never set).
    pub updated_at: Option<Timestamp>,
    /// Who set it.
    pub updated_by: Option<String>,
}

impl ProtocolPolicy {
    /// Working days to classify an entry when the comune set nothing.
    pub const DEFAULT_DAYS: u16 = 5;
    /// The longest term a comune may set.
    pub const MAX_DAYS: u16 = 60;
}

impl Recorded for ProtocolPolicy {
    fn subject(&self) -> String {
        "protocollo:politica".to_owned()
    }

    fn state(&self) -> Value {
        Value::Map(vec![
            (
                text("classification_mandatory"),
                Value::Bool(self.classification_mandatory),
            ),
            (
                text("classify_within_days"),
                Value::Unsigned(u64::from(self.classify_within_days)),
            ),
            (
                text("updated_at"),
                opt(self.updated_at.map(|t| t.to_string()).as_deref()),
            ),
            (text("updated_by"), opt(self.updated_by.as_deref())),
        ])
    }
}

impl Default for ProtocolPolicy {
    /// "Da classificare" allowed, within [`ProtocolPolicy::DEFAULT_DAYS`]
    /// working days.
    fn default() -> Self {
        Self {
            classification_mandatory: false,
            classify_within_days: Self::DEFAULT_DAYS,
            updated_at: None,
            updated_by: None,
        }
    }
}

/// A registration with the number and time it is to be stored under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberedRegistration {
    /// The fields.
    pub data: NewRegistration,
    /// Register year.
    pub year: i16,
    /// Number.
    pub number: u64,
    /// Registration time.
    pub at: Timestamp,
}
