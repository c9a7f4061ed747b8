//! Records of the titolario per ente and of the fascicoli (issue 4, part 3;
//! protocol-documents.md §5.3, §7).

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::cbor::Value;
use serde::{Deserialize, Serialize};

use crate::{OfficeId, Recorded, RegistrationId, TenantId, UserId};

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn opt(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}

/// One voice of a titolario version: a titolo (`classe` = `None`) or a class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TitolarioClass {
    /// The flat code, canonical (`VI.3`, `XIV`).
    pub code: String,
    /// Number of the titolo.
    pub titolo: u8,
    /// Number of the class; `None` for a titolo.
    pub classe: Option<u16>,
    /// Name.
    pub name: String,
    /// Closed in this or an earlier version: no new classification under it
    /// (TI-3). Closed voices stay listed so that their codes are never reused.
    pub closed: bool,
}

/// A version of an ente's titolario without its voices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TitolarioVersionInfo {
    /// 1, 2, 3… (1 is the 2005 titolario).
    pub version: u32,
    /// When it was made.
    pub created_at: Timestamp,
    /// By whom.
    pub created_by: String,
    /// What changed, in Italian (shown in the list of versions).
    pub change: String,
}

/// A whole version of an ente's titolario. Versions are immutable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TitolarioVersion {
    /// Owner.
    pub tenant: TenantId,
    /// Version data.
    pub info: TitolarioVersionInfo,
    /// Voices, in titolario order (titolo, then its classes by number).
    pub classes: Vec<TitolarioClass>,
}

impl Recorded for TitolarioVersion {
    fn subject(&self) -> String {
        format!("titolario:v{}", self.info.version)
    }

    fn state(&self) -> Value {
        let classes = self
            .classes
            .iter()
            .map(|c| {
                Value::Map(vec![
                    (text("code"), text(&c.code)),
                    (text("name"), text(&c.name)),
                    (text("closed"), Value::Bool(c.closed)),
                ])
            })
            .collect();
        Value::Map(vec![
            (
                text("version"),
                Value::Unsigned(u64::from(self.info.version)),
            ),
            (text("created_at"), text(&self.info.created_at.to_string())),
            (text("created_by"), text(&self.info.created_by)),
            (text("change"), text(&self.info.change)),
            (text("classes"), Value::Array(classes)),
        ])
    }
}

/// Identifies a fascicolo row within its tenant (the legal identifier is
/// [`Fascicolo::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FascicoloRowId(pub i64);

/// The type of a fascicolo (Allegato 5 `TipologiaFascicolo`, §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FascicoloKind {
    /// Affare: a matter with no final measure, limited duration.
    Affare,
    /// Attività: a simple, usually annual activity.
    Attivita,
    /// Persona fisica: documents about one person.
    PersonaFisica,
    /// Persona giuridica: documents about one organisation.
    PersonaGiuridica,
    /// Procedimento amministrativo: ends with a provvedimento.
    Procedimento,
}

/// Every fascicolo type, in display order.
pub const FASCICOLO_KINDS: [FascicoloKind; 5] = [
    FascicoloKind::Procedimento,
    FascicoloKind::Affare,
    FascicoloKind::Attivita,
    FascicoloKind::PersonaFisica,
    FascicoloKind::PersonaGiuridica,
];

impl FascicoloKind {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            FascicoloKind::Affare => "affare",
            FascicoloKind::Attivita => "attivita",
            FascicoloKind::PersonaFisica => "persona_fisica",
            FascicoloKind::PersonaGiuridica => "persona_giuridica",
            FascicoloKind::Procedimento => "procedimento",
        }
    }

    /// Parses a stored code.
    pub fn from_code(s: &str) -> Option<Self> {
        FASCICOLO_KINDS.into_iter().find(|k| k.code() == s)
    }

    /// The Allegato 5 `TipologiaFascicolo` value (also the Italian label).
    pub fn label_it(self) -> &'static str {
        match self {
            FascicoloKind::Affare => "Affare",
            FascicoloKind::Attivita => "Attività",
            FascicoloKind::PersonaFisica => "Persona Fisica",
            FascicoloKind::PersonaGiuridica => "Persona Giuridica",
            FascicoloKind::Procedimento => "Procedimento Amministrativo",
        }
    }
}

/// The data of a fascicolo given when it is opened (CAD art. 41 c.2-ter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewFascicolo {
    /// Classification, a voice of the ente's titolario (`VI.3`).
    pub classification: String,
    /// The titolario version in force when it was opened.
    pub titolario_version: u32,
    /// Type.
    pub kind: FascicoloKind,
    /// Oggetto (d).
    pub subject: String,
    /// The responsible office.
    pub office: OfficeId,
    /// Responsabile del procedimento (c).
    pub responsible: String,
    /// Other participating administrations (b).
    pub participants: Vec<String>,
    /// The person or organisation a persona fisica / giuridica fascicolo is about.
    pub holder: Option<String>,
    /// The parent, for a sub-fascicolo (`IdAggPrimario`).
    pub parent: Option<FascicoloRowId>,
    /// Opening date (Europe/Rome civil date).
    pub opened_on: Date,
    /// Who opened it.
    pub opened_by: String,
}

/// The closing of a fascicolo (`DataChiusura`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FascicoloClosure {
    /// Closing date (Europe/Rome civil date).
    pub on: Date,
    /// When.
    pub at: Timestamp,
    /// By whom.
    pub by: String,
}

/// The restricted area of a fascicolo (CAD art. 41 c.2-quater; TI-6): only
/// the responsible office and the designated subjects read it, and its
/// sub-fascicoli are inside the area too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FascicoloRestriction {
    /// Offices whose staff may read it (besides the responsible office).
    pub offices: Vec<OfficeId>,
    /// Users who may read it.
    pub users: Vec<UserId>,
    /// When it was set.
    pub at: Timestamp,
    /// By whom.
    pub by: String,
}

/// A stored fascicolo (without its documents: see [`FascicoloDocument`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fascicolo {
    /// Row id.
    pub id: FascicoloRowId,
    /// Owner.
    pub tenant: TenantId,
    /// The identifier `YYYY-<titolo>.<classe>-<n>` (CAD art. 41 e-bis, TI-4).
    pub code: String,
    /// Opening year (Europe/Rome).
    pub year: i16,
    /// Progressive number within class and year (`Progressivo`).
    pub number: u32,
    /// Data.
    pub data: NewFascicolo,
    /// When it was opened (UTC).
    pub opened_at: Timestamp,
    /// The closing, once closed.
    pub closure: Option<FascicoloClosure>,
    /// The restricted area, if the fascicolo is riservato (TI-6).
    pub restriction: Option<FascicoloRestriction>,
}

/// A document filed in a fascicolo: one entry of its `IndiceDocumenti`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FascicoloDocument {
    /// The registration.
    pub registration: RegistrationId,
    /// When it was filed.
    pub added_at: Timestamp,
    /// By whom.
    pub added_by: String,
}

/// A fascicolo with its documents: the recorded state (subject
/// `fascicolo:<id>`), so that `palazzo verify` notices a change to any field
/// or to the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FascicoloState {
    /// The fascicolo.
    pub fascicolo: Fascicolo,
    /// Its documents, by registration id.
    pub documents: Vec<FascicoloDocument>,
}

impl Recorded for FascicoloState {
    fn subject(&self) -> String {
        format!("fascicolo:{}", self.fascicolo.id.0)
    }

    fn state(&self) -> Value {
        let f = &self.fascicolo;
        let d = &f.data;
        let mut docs: Vec<&FascicoloDocument> = self.documents.iter().collect();
        docs.sort_by_key(|x| x.registration);
        let mut map = vec![
            (text("code"), text(&f.code)),
            (text("year"), Value::int(i64::from(f.year))),
            (text("number"), Value::Unsigned(u64::from(f.number))),
            (text("classification"), text(&d.classification)),
            (
                text("titolario_version"),
                Value::Unsigned(u64::from(d.titolario_version)),
            ),
            (text("kind"), text(d.kind.code())),
            (text("subject"), text(&d.subject)),
            (text("office"), Value::int(d.office.0)),
            (text("responsible"), text(&d.responsible)),
            (
                text("participants"),
                Value::Array(d.participants.iter().map(|p| text(p)).collect()),
            ),
            (text("holder"), opt(d.holder.as_deref())),
            (
                text("parent"),
                d.parent.map_or(Value::Null, |p| Value::int(p.0)),
            ),
            (text("opened_on"), text(&d.opened_on.to_string())),
            (text("opened_at"), text(&f.opened_at.to_string())),
            (text("opened_by"), text(&d.opened_by)),
            (
                text("closure"),
                f.closure.as_ref().map_or(Value::Null, |c| {
                    Value::Map(vec![
                        (text("on"), text(&c.on.to_string())),
                        (text("at"), text(&c.at.to_string())),
                        (text("by"), text(&c.by)),
                    ])
                }),
            ),
            (
                text("documents"),
                Value::Array(
                    docs.iter()
                        .map(|x| {
                            Value::Map(vec![
                                (text("registration"), Value::int(x.registration.0)),
                                (text("added_at"), text(&x.added_at.to_string())),
                                (text("added_by"), text(&x.added_by)),
                            ])
                        })
                        .collect(),
                ),
            ),
        ];
        // Only when restricted, so that the states recorded before restricted
        // areas existed still match.
        if let Some(r) = &f.restriction {
            map.push((
                text("restriction"),
                Value::Map(vec![
                    (
                        text("offices"),
                        Value::Array(r.offices.iter().map(|o| Value::int(o.0)).collect()),
                    ),
                    (
                        text("users"),
                        Value::Array(r.users.iter().map(|u| Value::int(u.0)).collect()),
                    ),
                    (text("at"), text(&r.at.to_string())),
                    (text("by"), text(&r.by)),
                ]),
            ));
        }
        Value::Map(map)
    }
}

/// A search of fascicoli; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FascicoloQuery {
    /// Only this classification (canonical code).
    pub classification: Option<String>,
    /// Only opened in this year.
    pub year: Option<i16>,
    /// Words of the oggetto (case-insensitive substring).
    pub subject: Option<String>,
    /// Only of this office.
    pub office: Option<OfficeId>,
    /// Only open ones.
    pub open_only: bool,
    /// Ids greater than this (paging).
    pub after: Option<FascicoloRowId>,
    /// At most this many.
    pub limit: u32,
}
