//! Records moved by the store. Fields hold parsed domain types: a row that
//! no longer parses is reported as [`crate::StoreError::Corrupt`].

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::anagrafe::{Cittadinanza, StatoCivile};
use palazzo_domain::cbor::Value;
use palazzo_domain::ids::{
    Cap, CodiceCatastale, CodiceFiscale, CodiceIpa, CodiceIstat, Email, Sex,
};
use palazzo_domain::portal::{ServiceCategory, ServiceStatus};
use serde::{Deserialize, Serialize};

/// Identifies an ente (tenant). Every row of every table carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TenantId(pub i64);

/// Identifies an office (ufficio) within its tenant. `OfficeId(0)` (the
/// default) names no office: files that refer to offices by slug leave it unset.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct OfficeId(pub i64);

impl OfficeId {
    /// True for the unset id 0.
    pub fn is_unset(&self) -> bool {
        self.0 == 0
    }
}

/// Identifies a service card within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ServiceId(pub i64);

/// A postal address in Italy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Street and civic number, e.g. "Piazza Aldo Moro, 2".
    pub street: String,
    /// CAP.
    pub cap: Cap,
    /// Locality, e.g. "Casamassima".
    pub locality: String,
    /// Province abbreviation, e.g. "BA".
    pub province: String,
}

/// The fields of a new ente.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTenant {
    /// Short stable identifier used in URLs, key paths and the ledger origin, e.g. "casamassima".
    pub slug: String,
    /// Official name, e.g. "Comune di Casamassima".
    pub name: String,
    /// Name without "Comune di", e.g. "Casamassima" (used in "Vivere Casamassima").
    pub short_name: String,
    /// Codice catastale (Belfiore), e.g. B923.
    pub codice_catastale: CodiceCatastale,
    /// ISTAT code, e.g. 072017.
    pub codice_istat: CodiceIstat,
    /// IPA code, e.g. c_b923.
    pub codice_ipa: CodiceIpa,
    /// Codice fiscale of the ente (11 digits).
    pub codice_fiscale: CodiceFiscale,
    /// Certified e-mail (PEC) — mandatory in the footer.
    pub pec: Email,
    /// Ordinary e-mail for information.
    pub email: Email,
    /// Switchboard phone number.
    pub phone: String,
    /// Seat of the town hall.
    pub address: Address,
    /// Region, e.g. "Puglia" (slim header).
    pub region: String,
    /// Resident population (DECISIONS 10: every size threshold reads it).
    pub population: u32,
    /// Patron-saint rule in the calendar module's syntax, if any.
    pub patron_saint: Option<String>,
    /// Host names served for this ente, lower case, no port.
    pub hostnames: Vec<String>,
    /// The stemma as an SVG document, if any.
    pub logo_svg: Option<String>,
    /// The AgID accessibility declaration URL (form.agid.gov.it).
    pub accessibility_url: String,
    /// Whether this tenant answers hosts that match no other tenant.
    pub is_default: bool,
}

/// A stored ente.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Identifier.
    pub id: TenantId,
    /// Every field of the ente.
    #[serde(flatten)]
    pub data: NewTenant,
}

/// The fields of a new office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOffice {
    /// URL slug, unique per tenant.
    pub slug: String,
    /// Name, e.g. "Ufficio Anagrafe".
    pub name: String,
    /// What the office does.
    pub description: String,
    /// Contact e-mail.
    pub email: Option<Email>,
    /// Contact PEC.
    pub pec: Option<Email>,
    /// Contact phone.
    pub phone: String,
    /// Where the office receives the public.
    pub address: Address,
    /// Opening hours, as shown to the public.
    pub opening_hours: String,
}

/// A stored office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Office {
    /// Identifier.
    pub id: OfficeId,
    /// Owner.
    pub tenant: TenantId,
    /// Fields.
    #[serde(flatten)]
    pub data: NewOffice,
}

/// The fields of a service card (scheda servizio, criterion C.SI.1.3), in
/// the order the card shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewService {
    /// URL slug, unique per tenant.
    pub slug: String,
    /// Category (breadcrumb).
    pub category: ServiceCategory,
    /// Titolo.
    pub title: String,
    /// Stato (and reason when inactive).
    pub status: ServiceStatus,
    /// Descrizione breve.
    pub summary: String,
    /// A chi è rivolto.
    pub audience: String,
    /// Come fare.
    pub how_to: String,
    /// Cosa serve.
    pub needed: String,
    /// Cosa si ottiene.
    pub achieved: String,
    /// Tempi e scadenze.
    pub times: String,
    /// Costs in text (C.SI.1.3: mandatory when the service is paid).
    pub costs: Option<String>,
    /// Accedi al servizio: how to access (channel description).
    pub access: String,
    /// Online access URL, if the service is online.
    pub online_url: Option<String>,
    /// Condizioni di servizio.
    pub conditions: String,
    /// Responsible office (Contatti, with the responsible UO).
    #[serde(default, skip_serializing_if = "OfficeId::is_unset")]
    pub office: OfficeId,
    /// Argomenti, from the model's controlled vocabulary.
    pub topics: Vec<String>,
    /// JSON-LD `serviceType` (R.SI.1.1).
    pub service_type: String,
    /// JSON-LD `audience.audienceType` (R.SI.1.1), e.g. "cittadini".
    pub audience_type: String,
}

/// A stored service card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Identifier.
    pub id: ServiceId,
    /// Owner.
    pub tenant: TenantId,
    /// Fields.
    #[serde(flatten)]
    pub data: NewService,
}

/// A new FAQ entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewFaq {
    /// Display order.
    pub position: i64,
    /// Question.
    pub question: String,
    /// Answer (plain text, paragraphs separated by blank lines).
    pub answer: String,
}

/// A stored FAQ entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faq {
    /// Identifier.
    pub id: i64,
    /// Fields.
    #[serde(flatten)]
    pub data: NewFaq,
}

/// One anonymous page rating (C.SI.2.5). No personal data: no IP, no user, no time of day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRating {
    /// Path of the rated page, e.g. `/servizi`.
    pub page: String,
    /// 1–5 stars.
    pub stars: u8,
    /// Index (1–5) of the follow-up answer chosen, if any.
    pub answer: Option<u8>,
    /// Free-text comment, if any (length-limited by the service).
    pub comment: Option<String>,
    /// Civil day (Europe/Rome) the rating was given.
    pub day: Date,
}

/// Aggregate ratings of one page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingSummary {
    /// Page path.
    pub page: String,
    /// Count of ratings per star value, index 0 = one star.
    pub by_stars: [u64; 5],
}

/// A synthetic or imported address of the population register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopAddress {
    /// Identifier within the tenant.
    pub id: i64,
    /// Street name, e.g. "Via Roma".
    pub street: String,
    /// Civic number.
    pub civic: String,
    /// CAP.
    pub cap: Cap,
}

/// A famiglia anagrafica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopFamily {
    /// Identifier within the tenant.
    pub id: i64,
    /// Where the family lives.
    pub address: i64,
    /// The family's code in the comune's register (the import's
    /// `famiglia`); `None` for families stored before migration 0024.
    pub code: Option<String>,
}

/// A resident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopPerson {
    /// Identifier within the tenant.
    pub id: i64,
    /// The family the person belongs to.
    pub family: i64,
    /// Codice fiscale.
    pub codice_fiscale: CodiceFiscale,
    /// Surname.
    pub surname: String,
    /// Given name(s).
    pub name: String,
    /// Sex.
    pub sex: Sex,
    /// Date of birth.
    pub birth_date: Date,
    /// Birthplace (comune or foreign state code).
    pub birthplace: CodiceCatastale,
    /// Relation to the head of the family ("intestatario", "coniuge", "figlio", …).
    pub relation: String,
    /// Citizenship.
    pub citizenship: Cittadinanza,
    /// Marital status.
    pub marital_status: StatoCivile,
    /// Living at the family's address since (`None` before migration 0024).
    pub resident_since: Option<Date>,
    /// The comune of previous residence, for a registration by immigration.
    pub provenance: Option<CodiceCatastale>,
}

/// An earlier residence of a resident in the comune (certificato storico
/// di residenza).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopResidence {
    /// The resident.
    pub person: i64,
    /// Street, as on the stradario.
    pub street: String,
    /// Civic number.
    pub civic: String,
    /// CAP.
    pub cap: Cap,
    /// From.
    pub from: Date,
    /// To.
    pub to: Date,
}

/// A street of the comune's stradario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Street {
    /// The comune's code of the street.
    pub code: String,
    /// The denomination, as printed.
    pub name: String,
}

/// The keys of the population register already stored, to merge an import
/// into it: (id, codice fiscale) of the residents, (id, code) of the
/// families with a code, (id, street, civic, CAP) of the addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PopulationKeys {
    /// Residents.
    pub persons: Vec<(i64, CodiceFiscale)>,
    /// Families with a register code.
    pub families: Vec<(i64, String)>,
    /// Addresses.
    pub addresses: Vec<(i64, String, String, String)>,
    /// The highest family id (also of families without a code).
    pub max_family: i64,
}

/// One batch of population rows, inserted in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopulationBatch {
    /// Addresses.
    pub addresses: Vec<PopAddress>,
    /// Families.
    pub families: Vec<PopFamily>,
    /// Persons.
    pub persons: Vec<PopPerson>,
    /// Earlier residences of the persons of this batch: saving the batch
    /// replaces every earlier residence of each of its persons.
    pub residences: Vec<PopResidence>,
}

/// How many population rows a tenant has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopulationCounts {
    /// Residents.
    pub persons: u64,
    /// Families.
    pub families: u64,
    /// Addresses.
    pub addresses: u64,
}

/// An event to append to the tenant's ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Tenant slug, as written in the leaf.
    pub tenant_slug: String,
    /// Event kind, e.g. `service.created`.
    pub kind: String,
    /// Subject id, e.g. `service:12`.
    pub subject: String,
    /// SHA-256 of the subject's canonical state after the change.
    pub state_hash: [u8; 32],
}

/// A stored ledger event (one leaf of the tenant's Merkle tree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEvent {
    /// Owner.
    pub tenant: TenantId,
    /// Tenant slug, as written in the leaf.
    pub tenant_slug: String,
    /// Leaf index, from 0, gap-free.
    pub seq: u64,
    /// Registration time (UTC, microsecond precision).
    pub time: Timestamp,
    /// Event kind.
    pub kind: String,
    /// Subject id.
    pub subject: String,
    /// SHA-256 of the subject's canonical state after the change.
    pub state_hash: [u8; 32],
    /// RFC 6962 leaf hash as computed when the event was appended.
    pub leaf_hash: [u8; 32],
}

/// A stored signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRecord {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: [u8; 32],
    /// When it was signed.
    pub time: Timestamp,
    /// The whole C2SP signed note.
    pub note: String,
    /// The serialised compact range (frontier) at `size`, to extend the tree incrementally.
    pub frontier: Vec<u8>,
}

/// A public key registered for a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// Purpose, e.g. `ledger`.
    pub purpose: String,
    /// Key name / identifier as used in signatures.
    pub key_name: String,
    /// Raw public key bytes.
    pub public_key: Vec<u8>,
    /// When the key was registered.
    pub created: Timestamp,
}

/// A record whose state is bound to the ledger: its last event carries the
/// SHA-256 of [`Recorded::state`] encoded in deterministic CBOR.
pub trait Recorded {
    /// Subject id used in ledger events, e.g. `service:12`.
    fn subject(&self) -> String;
    /// Canonical fields of the record.
    fn state(&self) -> Value;
}

/// Another record's state, bound by the record that names it (LOG-6: one
/// API call appends one ledger event, so when a call writes several
/// records, the one whose event is appended carries the state hashes of the
/// others, and `palazzo verify` checks them through it; migrations 0023 and
/// 0029).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The bound record's ledger subject, e.g. `pratica:7`.
    pub subject: String,
    /// SHA-256 of the bound record's canonical state, as written.
    pub state: [u8; 32],
}

impl Binding {
    /// The canonical form of a list of bindings, part of the binding
    /// record's state.
    pub fn state_of(bindings: &[Binding]) -> Value {
        Value::Array(
            bindings
                .iter()
                .map(|b| {
                    Value::Map(vec![
                        (text("subject"), text(&b.subject)),
                        (text("state"), Value::Bytes(b.state.to_vec())),
                    ])
                })
                .collect(),
        )
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn opt(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}

fn int(i: i64) -> Value {
    Value::int(i)
}

fn map(fields: Vec<(&str, Value)>) -> Value {
    Value::Map(fields.into_iter().map(|(k, v)| (text(k), v)).collect())
}

fn address(a: &Address) -> Value {
    map(vec![
        ("street", text(&a.street)),
        ("cap", text(a.cap.as_str())),
        ("locality", text(&a.locality)),
        ("province", text(&a.province)),
    ])
}

impl Recorded for Tenant {
    fn subject(&self) -> String {
        format!("tenant:{}", self.id.0)
    }
    fn state(&self) -> Value {
        let d = &self.data;
        map(vec![
            ("slug", text(&d.slug)),
            ("name", text(&d.name)),
            ("short_name", text(&d.short_name)),
            ("codice_catastale", text(d.codice_catastale.as_str())),
            ("codice_istat", text(d.codice_istat.as_str())),
            ("codice_ipa", text(d.codice_ipa.as_str())),
            ("codice_fiscale", text(d.codice_fiscale.as_str())),
            ("pec", text(d.pec.as_str())),
            ("email", text(d.email.as_str())),
            ("phone", text(&d.phone)),
            ("address", address(&d.address)),
            ("region", text(&d.region)),
            ("population", int(i64::from(d.population))),
            ("patron_saint", opt(d.patron_saint.as_deref())),
            (
                "hostnames",
                Value::Array(d.hostnames.iter().map(|h| text(h)).collect()),
            ),
            ("logo_svg", opt(d.logo_svg.as_deref())),
            ("accessibility_url", text(&d.accessibility_url)),
            ("is_default", Value::Bool(d.is_default)),
        ])
    }
}

impl Recorded for Office {
    fn subject(&self) -> String {
        format!("office:{}", self.id.0)
    }
    fn state(&self) -> Value {
        let d = &self.data;
        map(vec![
            ("slug", text(&d.slug)),
            ("name", text(&d.name)),
            ("description", text(&d.description)),
            ("email", opt(d.email.as_ref().map(Email::as_str))),
            ("pec", opt(d.pec.as_ref().map(Email::as_str))),
            ("phone", text(&d.phone)),
            ("address", address(&d.address)),
            ("opening_hours", text(&d.opening_hours)),
        ])
    }
}

impl Recorded for Service {
    fn subject(&self) -> String {
        format!("service:{}", self.id.0)
    }
    fn state(&self) -> Value {
        let d = &self.data;
        let (status, reason) = match &d.status {
            ServiceStatus::Active => ("active", None),
            ServiceStatus::Inactive { reason } => ("inactive", Some(reason.as_str())),
        };
        map(vec![
            ("slug", text(&d.slug)),
            ("category", text(d.category.slug())),
            ("title", text(&d.title)),
            ("status", text(status)),
            ("status_reason", opt(reason)),
            ("summary", text(&d.summary)),
            ("audience", text(&d.audience)),
            ("how_to", text(&d.how_to)),
            ("needed", text(&d.needed)),
            ("achieved", text(&d.achieved)),
            ("times", text(&d.times)),
            ("costs", opt(d.costs.as_deref())),
            ("access", text(&d.access)),
            ("online_url", opt(d.online_url.as_deref())),
            ("conditions", text(&d.conditions)),
            ("office", int(d.office.0)),
            (
                "topics",
                Value::Array(d.topics.iter().map(|t| text(t)).collect()),
            ),
            ("service_type", text(&d.service_type)),
            ("audience_type", text(&d.audience_type)),
        ])
    }
}

impl Recorded for Faq {
    fn subject(&self) -> String {
        format!("faq:{}", self.id)
    }
    fn state(&self) -> Value {
        map(vec![
            ("position", int(self.data.position)),
            ("question", text(&self.data.question)),
            ("answer", text(&self.data.answer)),
        ])
    }
}
