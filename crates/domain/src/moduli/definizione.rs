//! The form definition: what a comune admin writes in TOML or JSON.
//!
//! Keys are Italian (the admin's language, see `docs/moduli.md`); the Rust
//! names are English. Unknown keys are refused everywhere, so a typo such
//! as `obbligatoria = true` is an error, not a silently optional field.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::Coded;
use crate::money::Cents;

/// Default `lunghezza_max` of a `testo` field.
pub(crate) const DEFAULT_TEXT_MAX: u32 = 200;
/// Default `lunghezza_max` of a `testo_lungo` field.
pub(crate) const DEFAULT_LONG_TEXT_MAX: u32 = 4000;
/// Default maximum number of parcels of a `particella_catastale` field.
pub(crate) const DEFAULT_MAX_ROWS: u32 = 20;

/// A versioned, declarative form of an online service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDefinition {
    /// Stable code of the form (a slug: `scia`, `accesso-civico-semplice`).
    #[serde(rename = "codice")]
    pub code: String,
    /// Version, from 1; a filed pratica records the version it was filed with.
    #[serde(rename = "versione")]
    pub version: u32,
    /// Title shown to the user.
    #[serde(rename = "titolo")]
    pub title: String,
    /// What the service is for, shown before the first step.
    #[serde(rename = "descrizione", default)]
    pub description: String,
    /// The steps, in order (C.SE.1.8: always visible, the user can go back).
    #[serde(rename = "passi")]
    pub steps: Vec<Step>,
    /// Files to attach.
    #[serde(rename = "allegati", default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentSpec>,
    /// Declarations the user must tick before filing.
    #[serde(
        rename = "dichiarazioni",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub declarations: Vec<Declaration>,
}

/// One step (page) of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Identifier, unique in the form.
    pub id: String,
    /// Title shown in the step bar and the summary.
    #[serde(rename = "titolo")]
    pub title: String,
    /// Help text shown above the fields.
    #[serde(rename = "aiuto", default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// When the step is shown at all (only fields of earlier steps).
    #[serde(
        rename = "condizione",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub condition: Option<Condition>,
    /// The fields, in order.
    #[serde(rename = "campi")]
    pub fields: Vec<Field>,
}

/// One field of a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FieldRepr", into = "FieldRepr")]
pub struct Field {
    /// Identifier, unique in the form; the name of the posted key (compound
    /// fields post `id.sub`, e.g. `particella.foglio`).
    pub id: String,
    /// Label shown to the user and in error messages.
    pub label: String,
    /// Help text shown under the field.
    pub help: Option<String>,
    /// The kind of value.
    pub kind: FieldKind,
    /// Must a visible field be filled?
    pub required: bool,
    /// When the field is shown (fields of earlier steps or earlier in this step).
    pub condition: Option<Condition>,
    /// Where its value can be pre-filled from (once-only, C.SE.1.5).
    pub prefill: Option<Prefill>,
    /// Validation rules.
    pub rules: Rules,
}

/// The kind of value a field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// One line of text (`lunghezza_max`, default 200).
    Testo,
    /// Free text over several lines (`lunghezza_max`, default 4000).
    TestoLungo,
    /// A codice fiscale (16 characters with omocodia, or 11 digits).
    CodiceFiscale,
    /// A partita IVA (11 digits).
    PartitaIva,
    /// A date (`AAAA-MM-GG` from `<input type=date>` or `GG/MM/AAAA`).
    Data,
    /// An amount in euro, never negative (`1.020,99`).
    Importo,
    /// An integer.
    Numero,
    /// An e-mail or PEC address.
    Email,
    /// A telephone number.
    Telefono,
    /// One (or, with `multipla`, several) of the listed options.
    Scelta {
        /// The options, in display order.
        options: Vec<ChoiceOption>,
        /// May several options be chosen?
        multiple: bool,
    },
    /// Yes or no (`si` / `no`).
    SiNo,
    /// One or more cadastral parcels (codice catastale, foglio, particella,
    /// optional subalterno), as a CDU application needs (CDU-01).
    ParticellaCatastale,
    /// A postal address (via, civico, CAP, comune).
    Indirizzo,
    /// A place: an address (civico and CAP optional) and optional
    /// coordinates picked on a map (segnalazione disservizio, C.SI.2.4).
    Posizione,
}

impl FieldKind {
    /// The key used in definitions (`tipo = "…"`).
    #[must_use]
    pub fn key(&self) -> &'static str {
        self.tag().key()
    }

    fn tag(&self) -> KindTag {
        match self {
            FieldKind::Testo => KindTag::Testo,
            FieldKind::TestoLungo => KindTag::TestoLungo,
            FieldKind::CodiceFiscale => KindTag::CodiceFiscale,
            FieldKind::PartitaIva => KindTag::PartitaIva,
            FieldKind::Data => KindTag::Data,
            FieldKind::Importo => KindTag::Importo,
            FieldKind::Numero => KindTag::Numero,
            FieldKind::Email => KindTag::Email,
            FieldKind::Telefono => KindTag::Telefono,
            FieldKind::Scelta { .. } => KindTag::Scelta,
            FieldKind::SiNo => KindTag::SiNo,
            FieldKind::ParticellaCatastale => KindTag::ParticellaCatastale,
            FieldKind::Indirizzo => KindTag::Indirizzo,
            FieldKind::Posizione => KindTag::Posizione,
        }
    }

    /// The sub-keys a compound field posts (`id.sub`); empty for simple fields.
    #[must_use]
    pub fn sub_keys(&self) -> &'static [&'static str] {
        match self {
            FieldKind::ParticellaCatastale => {
                &["codice_catastale", "foglio", "particella", "subalterno"]
            }
            FieldKind::Indirizzo => &["via", "civico", "cap", "comune"],
            FieldKind::Posizione => &["via", "civico", "cap", "comune", "lat", "lon"],
            _ => &[],
        }
    }
}

/// One option of a `scelta` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// The value posted and stored (stable).
    #[serde(rename = "valore")]
    pub value: String,
    /// The label shown to the user and in the summary.
    #[serde(rename = "etichetta")]
    pub label: String,
}

/// Validation rules of a field. Each applies to some kinds only
/// ([`FormDefinition::validate`] refuses the others).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// Minimum number of characters (`testo`, `testo_lungo`).
    pub min_length: Option<u32>,
    /// Maximum number of characters (`testo`, `testo_lungo`; defaults 200 / 4000).
    pub max_length: Option<u32>,
    /// Minimum value (`numero`).
    pub min_value: Option<i64>,
    /// Maximum value (`numero`).
    pub max_value: Option<i64>,
    /// Minimum amount (`importo`).
    pub min_amount: Option<Cents>,
    /// Maximum amount (`importo`).
    pub max_amount: Option<Cents>,
    /// The date may not be after today (`data`).
    pub not_future: bool,
    /// The date may not be before today (`data`).
    pub not_past: bool,
    /// The date may be at most this many days before today (`data`).
    pub max_days_past: Option<u32>,
    /// The date may be at most this many days after today (`data`).
    pub max_days_future: Option<u32>,
    /// Minimum number of options chosen (`scelta` with `multipla`).
    pub min_choices: Option<u32>,
    /// Maximum number of options chosen (`scelta` with `multipla`).
    pub max_choices: Option<u32>,
    /// Maximum number of parcels (`particella_catastale`, default 20).
    pub max_rows: Option<u32>,
}

/// When a step, field, attachment or declaration applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ConditionRepr", into = "ConditionRepr")]
pub enum Condition {
    /// `{ campo, uguale }`: the field's value is (or, for a multiple
    /// choice, contains) `value`. Yes/no fields compare with `si` / `no`.
    Equals {
        /// The field.
        field: String,
        /// The value.
        value: String,
    },
    /// `{ campo, in = [...] }`: the field's value is one of `values`.
    In {
        /// The field.
        field: String,
        /// The accepted values.
        values: Vec<String>,
    },
    /// `{ campo, compilato = true|false }`: the field has (or has not) a value.
    Filled {
        /// The field.
        field: String,
        /// `true`: must be filled; `false`: must be empty.
        filled: bool,
    },
    /// `{ tutte = [...] }`: every condition holds.
    All(Vec<Condition>),
    /// `{ almeno_una = [...] }`: at least one condition holds.
    Any(Vec<Condition>),
}

impl Condition {
    /// Every field the condition reads.
    #[must_use]
    pub fn fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_fields(&mut out);
        out
    }

    fn collect_fields<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Condition::Equals { field, .. }
            | Condition::In { field, .. }
            | Condition::Filled { field, .. } => out.push(field),
            Condition::All(list) | Condition::Any(list) => {
                for c in list {
                    c.collect_fields(out);
                }
            }
        }
    }
}

/// Where a field's value can be pre-filled from (once-only, modello Comuni
/// C.SE.1.5: what the comune already knows is not asked again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Prefill {
    /// First name from the digital identity (SPID/CIE).
    #[serde(rename = "profilo.nome")]
    ProfiloNome,
    /// Surname from the digital identity.
    #[serde(rename = "profilo.cognome")]
    ProfiloCognome,
    /// Codice fiscale from the digital identity.
    #[serde(rename = "profilo.codice_fiscale")]
    ProfiloCodiceFiscale,
    /// E-mail from the user's profile.
    #[serde(rename = "profilo.email")]
    ProfiloEmail,
    /// Telephone from the user's profile.
    #[serde(rename = "profilo.telefono")]
    ProfiloTelefono,
    /// Residence address from the anagrafe.
    #[serde(rename = "anagrafe.indirizzo_residenza")]
    AnagrafeIndirizzoResidenza,
    /// Birth date from the anagrafe.
    #[serde(rename = "anagrafe.data_nascita")]
    AnagrafeDataNascita,
    /// Birthplace from the anagrafe.
    #[serde(rename = "anagrafe.luogo_nascita")]
    AnagrafeLuogoNascita,
}

impl Prefill {
    /// Can a field of `kind` take a value from this source?
    #[must_use]
    pub fn fits(self, kind: &FieldKind) -> bool {
        use FieldKind as K;
        match self {
            Prefill::ProfiloNome | Prefill::ProfiloCognome | Prefill::AnagrafeLuogoNascita => {
                matches!(kind, K::Testo)
            }
            Prefill::ProfiloCodiceFiscale => matches!(kind, K::CodiceFiscale | K::Testo),
            Prefill::ProfiloEmail => matches!(kind, K::Email),
            Prefill::ProfiloTelefono => matches!(kind, K::Telefono),
            Prefill::AnagrafeIndirizzoResidenza => {
                matches!(kind, K::Indirizzo | K::Posizione | K::Testo | K::TestoLungo)
            }
            Prefill::AnagrafeDataNascita => matches!(kind, K::Data),
        }
    }
}

/// A kind of file accepted as an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    /// PDF (`application/pdf`), also PDF/A and PAdES-signed PDF.
    Pdf,
    /// CAdES-signed file (`application/pkcs7-mime`, `.p7m`).
    P7m,
    /// JPEG image.
    Jpeg,
    /// PNG image.
    Png,
    /// XML document (e.g. a FatturaPA or a signed XAdES file).
    Xml,
    /// TIFF image (scanned drawings).
    Tiff,
}

impl MediaType {
    /// The MIME type.
    #[must_use]
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::P7m => "application/pkcs7-mime",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Xml => "application/xml",
            MediaType::Tiff => "image/tiff",
        }
    }

    /// File name extensions (lower case, without dot).
    #[must_use]
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            MediaType::Pdf => &["pdf"],
            MediaType::P7m => &["p7m"],
            MediaType::Jpeg => &["jpg", "jpeg"],
            MediaType::Png => &["png"],
            MediaType::Xml => &["xml"],
            MediaType::Tiff => &["tif", "tiff"],
        }
    }

    /// The media type of a file name, by its extension (case-insensitive).
    #[must_use]
    pub fn from_file_name(name: &str) -> Option<MediaType> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        [
            MediaType::Pdf,
            MediaType::P7m,
            MediaType::Jpeg,
            MediaType::Png,
            MediaType::Xml,
            MediaType::Tiff,
        ]
        .into_iter()
        .find(|m| m.extensions().contains(&ext.as_str()))
    }

    /// Short upper-case name for help texts (`PDF`, `P7M`, …).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            MediaType::Pdf => "PDF",
            MediaType::P7m => "P7M",
            MediaType::Jpeg => "JPEG",
            MediaType::Png => "PNG",
            MediaType::Xml => "XML",
            MediaType::Tiff => "TIFF",
        }
    }
}

fn default_max_bytes() -> u64 {
    20 * 1024 * 1024
}

fn default_max_files() -> u32 {
    1
}

/// A kind of attachment the form asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentSpec {
    /// Identifier, unique in the form.
    pub id: String,
    /// Label shown to the user.
    #[serde(rename = "etichetta")]
    pub label: String,
    /// Help text.
    #[serde(rename = "aiuto", default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Must at least one file be attached (when the condition holds)?
    #[serde(rename = "obbligatorio", default)]
    pub required: bool,
    /// Accepted kinds of file.
    #[serde(rename = "tipi")]
    pub media_types: Vec<MediaType>,
    /// Maximum size of each file in bytes (default 20 MiB).
    #[serde(rename = "dimensione_max", default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Maximum number of files (default 1).
    #[serde(rename = "file_max", default = "default_max_files")]
    pub max_files: u32,
    /// When the attachment is asked for.
    #[serde(
        rename = "condizione",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub condition: Option<Condition>,
}

impl AttachmentSpec {
    /// Is a file of this media type accepted?
    #[must_use]
    pub fn accepts(&self, media_type: MediaType) -> bool {
        self.media_types.contains(&media_type)
    }

    /// Checks one uploaded file by its name's extension and its size, and
    /// returns its media type. (The upload layer still checks the content:
    /// this is the rule the user is told.)
    ///
    /// # Errors
    /// `modulo_allegato_tipo_non_ammesso` or `modulo_allegato_troppo_grande`,
    /// as `(code, Italian message)`.
    pub fn check_file(
        &self,
        file_name: &str,
        size: u64,
    ) -> Result<MediaType, (&'static str, String)> {
        let accepted = || {
            self.media_types
                .iter()
                .map(|m| m.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some(media_type) = MediaType::from_file_name(file_name).filter(|m| self.accepts(*m))
        else {
            return Err((
                "modulo_allegato_tipo_non_ammesso",
                format!(
                    "Il file «{file_name}» non è ammesso per «{}»: formati accettati {}.",
                    self.label,
                    accepted()
                ),
            ));
        };
        if size > self.max_bytes {
            return Err((
                "modulo_allegato_troppo_grande",
                format!(
                    "Il file «{file_name}» supera la dimensione massima di {} MB ammessa per «{}».",
                    self.max_bytes.div_ceil(1024 * 1024),
                    self.label
                ),
            ));
        }
        Ok(media_type)
    }
}

/// A declaration the user ticks before filing, e.g. DPR 445/2000 art. 76.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// Identifier, unique in the form (posted as a checkbox named so).
    pub id: String,
    /// The text the user declares.
    #[serde(rename = "testo")]
    pub text: String,
    /// Legal reference shown with the text (e.g. "DPR 445/2000, art. 76").
    #[serde(
        rename = "riferimento",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub reference: Option<String>,
    /// When the declaration is asked for.
    #[serde(
        rename = "condizione",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub condition: Option<Condition>,
}

// ---------------------------------------------------------------------------
// Errors in a definition
// ---------------------------------------------------------------------------

/// What is wrong with a form definition.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DefinitionError {
    /// The text is not valid TOML/JSON or does not match the format.
    #[error("{format} syntax: {detail}")]
    Syntax {
        /// `TOML` or `JSON`.
        format: &'static str,
        /// The parser's message.
        detail: String,
    },
    /// The definition could not be written out.
    #[error("cannot serialise the definition: {0}")]
    Serialise(String),
    /// `versione` is 0.
    #[error("version must be at least 1")]
    Version,
    /// `codice` is not a slug of lower-case letters, digits and hyphens.
    #[error("invalid form code {0:?}")]
    Code(String),
    /// The form has no steps.
    #[error("the form has no steps")]
    NoSteps,
    /// A step has no fields.
    #[error("step {0:?} has no fields")]
    EmptyStep(String),
    /// An id is not lower-case letters, digits and `_`, starting with a letter.
    #[error("invalid id {0:?}")]
    InvalidId(String),
    /// An id is used twice (ids are unique across steps, fields, attachments, declarations).
    #[error("duplicate id {0:?}")]
    DuplicateId(String),
    /// A title, label or text is empty.
    #[error("{0:?} has an empty title, label or text")]
    EmptyText(String),
    /// A condition reads a field that does not exist.
    #[error("the condition of {owner:?} reads unknown field {field:?}")]
    ConditionUnknownField {
        /// The step, field, attachment or declaration with the condition.
        owner: String,
        /// The field read.
        field: String,
    },
    /// A condition reads a field that comes later (or the owner itself).
    #[error("the condition of {owner:?} reads field {field:?}, which does not come before it")]
    ConditionLaterField {
        /// The step or field with the condition.
        owner: String,
        /// The field read.
        field: String,
    },
    /// A condition compares with a value the field can never have.
    #[error("the condition of {owner:?} compares {field:?} with impossible value {value:?}")]
    ConditionValue {
        /// The owner of the condition.
        owner: String,
        /// The field read.
        field: String,
        /// The impossible value.
        value: String,
    },
    /// `tutte = []`, `almeno_una = []` or `in = []`.
    #[error("the condition of {0:?} has an empty list")]
    EmptyCondition(String),
    /// A `scelta` field has no options.
    #[error("choice field {0:?} has no options")]
    NoChoices(String),
    /// Two options of a `scelta` field share a value.
    #[error("choice field {field:?} repeats option {value:?}")]
    DuplicateChoice {
        /// The field.
        field: String,
        /// The repeated value.
        value: String,
    },
    /// A minimum above its maximum, or a maximum of zero.
    #[error("field {field:?} has incoherent bounds ({rule})")]
    IncoherentBounds {
        /// The field.
        field: String,
        /// The rule key (`lunghezza_min`/`lunghezza_max`…).
        rule: &'static str,
    },
    /// A rule that does not apply to the field's kind (e.g. `valore_max` on `testo`).
    #[error("rule {rule} does not apply to field {field:?}")]
    RuleNotApplicable {
        /// The field.
        field: String,
        /// The rule key.
        rule: &'static str,
    },
    /// A pre-fill source that does not fit the field's kind.
    #[error("prefill source does not fit field {0:?}")]
    PrefillNotApplicable(String),
    /// An attachment accepts no media type, or allows 0 files or 0 bytes.
    #[error("attachment {0:?} has no media types or zero limits")]
    AttachmentLimits(String),
}

impl Coded for DefinitionError {
    fn code(&self) -> &'static str {
        match self {
            DefinitionError::Syntax { .. } => "modulo_definizione_sintassi",
            DefinitionError::Serialise(_) => "modulo_definizione_serializzazione",
            DefinitionError::Version => "modulo_versione_non_valida",
            DefinitionError::Code(_) => "modulo_codice_non_valido",
            DefinitionError::NoSteps => "modulo_senza_passi",
            DefinitionError::EmptyStep(_) => "modulo_passo_vuoto",
            DefinitionError::InvalidId(_) => "modulo_id_non_valido",
            DefinitionError::DuplicateId(_) => "modulo_id_duplicato",
            DefinitionError::EmptyText(_) => "modulo_testo_vuoto",
            DefinitionError::ConditionUnknownField { .. } => "modulo_condizione_campo_sconosciuto",
            DefinitionError::ConditionLaterField { .. } => "modulo_condizione_campo_successivo",
            DefinitionError::ConditionValue { .. } => "modulo_condizione_valore_non_ammesso",
            DefinitionError::EmptyCondition(_) => "modulo_condizione_vuota",
            DefinitionError::NoChoices(_) => "modulo_scelte_vuote",
            DefinitionError::DuplicateChoice { .. } => "modulo_scelta_duplicata",
            DefinitionError::IncoherentBounds { .. } => "modulo_limiti_incoerenti",
            DefinitionError::RuleNotApplicable { .. } => "modulo_regola_non_applicabile",
            DefinitionError::PrefillNotApplicable(_) => "modulo_precompilazione_non_applicabile",
            DefinitionError::AttachmentLimits(_) => "modulo_allegato_limiti_non_validi",
        }
    }

    fn message_it(&self) -> String {
        match self {
            DefinitionError::Syntax { format, detail } => {
                format!("La definizione del modulo non è un {format} valido: {detail}")
            }
            DefinitionError::Serialise(detail) => {
                format!("Impossibile scrivere la definizione del modulo: {detail}")
            }
            DefinitionError::Version => "La versione del modulo deve essere almeno 1.".to_owned(),
            DefinitionError::Code(code) => format!(
                "Il codice del modulo «{code}» non è valido: usare lettere minuscole, cifre e trattini."
            ),
            DefinitionError::NoSteps => "Il modulo non ha alcun passo.".to_owned(),
            DefinitionError::EmptyStep(id) => format!("Il passo «{id}» non ha alcun campo."),
            DefinitionError::InvalidId(id) => format!(
                "L'identificativo «{id}» non è valido: usare lettere minuscole, cifre e _, iniziando con una lettera."
            ),
            DefinitionError::DuplicateId(id) => {
                format!("L'identificativo «{id}» è usato più di una volta.")
            }
            DefinitionError::EmptyText(id) => {
                format!("«{id}» ha un titolo, un'etichetta o un testo vuoto.")
            }
            DefinitionError::ConditionUnknownField { owner, field } => {
                format!("La condizione di «{owner}» usa il campo «{field}», che non esiste.")
            }
            DefinitionError::ConditionLaterField { owner, field } => format!(
                "La condizione di «{owner}» usa il campo «{field}», che non lo precede nel modulo."
            ),
            DefinitionError::ConditionValue {
                owner,
                field,
                value,
            } => format!(
                "La condizione di «{owner}» confronta il campo «{field}» con «{value}», che non è un valore ammesso."
            ),
            DefinitionError::EmptyCondition(owner) => {
                format!("La condizione di «{owner}» contiene un elenco vuoto.")
            }
            DefinitionError::NoChoices(id) => {
                format!("Il campo a scelta «{id}» non ha alcuna opzione.")
            }
            DefinitionError::DuplicateChoice { field, value } => {
                format!("Il campo a scelta «{field}» ripete l'opzione «{value}».")
            }
            DefinitionError::IncoherentBounds { field, rule } => {
                format!("Il campo «{field}» ha limiti incoerenti ({rule}).")
            }
            DefinitionError::RuleNotApplicable { field, rule } => {
                format!("La regola «{rule}» non si applica al tipo del campo «{field}».")
            }
            DefinitionError::PrefillNotApplicable(id) => {
                format!("La fonte di precompilazione del campo «{id}» non è adatta al suo tipo.")
            }
            DefinitionError::AttachmentLimits(id) => format!(
                "L'allegato «{id}» deve indicare almeno un tipo di file e limiti maggiori di zero."
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// Loading, writing and validating
// ---------------------------------------------------------------------------

/// Is `id` lower-case ASCII letters, digits and `_`, starting with a letter,
/// at most 64 characters? (So `id.sub` keys and control keys such as
/// `_step` can never clash with a field.)
pub(crate) fn valid_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && id.len() <= 64
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && !code.starts_with('-')
        && !code.ends_with('-')
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl FormDefinition {
    /// Reads a definition from TOML and validates it.
    ///
    /// # Errors
    /// [`DefinitionError::Syntax`] for bad TOML or unknown keys, otherwise
    /// the first error of [`FormDefinition::validate`].
    pub fn from_toml(text: &str) -> Result<FormDefinition, DefinitionError> {
        let def: FormDefinition = toml::from_str(text).map_err(|e| DefinitionError::Syntax {
            format: "TOML",
            detail: e.message().to_owned(),
        })?;
        def.validate().map_err(first_error)?;
        Ok(def)
    }

    /// Reads a definition from JSON and validates it.
    ///
    /// # Errors
    /// As [`FormDefinition::from_toml`].
    pub fn from_json(text: &str) -> Result<FormDefinition, DefinitionError> {
        let def: FormDefinition =
            serde_json::from_str(text).map_err(|e| DefinitionError::Syntax {
                format: "JSON",
                detail: e.to_string(),
            })?;
        def.validate().map_err(first_error)?;
        Ok(def)
    }

    /// The definition as TOML.
    ///
    /// # Errors
    /// [`DefinitionError::Serialise`] if TOML cannot represent it.
    pub fn to_toml(&self) -> Result<String, DefinitionError> {
        toml::to_string(self).map_err(|e| DefinitionError::Serialise(e.to_string()))
    }

    /// The definition as pretty-printed JSON.
    ///
    /// # Errors
    /// [`DefinitionError::Serialise`] (not expected in practice).
    pub fn to_json(&self) -> Result<String, DefinitionError> {
        serde_json::to_string_pretty(self).map_err(|e| DefinitionError::Serialise(e.to_string()))
    }

    /// All fields of all steps, in order.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.steps.iter().flat_map(|s| s.fields.iter())
    }

    /// The field with this id.
    #[must_use]
    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields().find(|f| f.id == id)
    }

    /// The step with this id.
    #[must_use]
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The step that holds the field `field_id`.
    #[must_use]
    pub fn step_of_field(&self, field_id: &str) -> Option<&Step> {
        self.steps
            .iter()
            .find(|s| s.fields.iter().any(|f| f.id == field_id))
    }

    /// Checks the definition itself: version ≥ 1, code and ids well formed
    /// and unique across steps, fields, attachments and declarations,
    /// non-empty texts, conditions that read existing fields placed before
    /// their owner (a step's condition: fields of earlier steps) with
    /// possible values, options non-empty and unique, rules that fit the
    /// field's kind with coherent bounds, attachments with media types and
    /// non-zero limits.
    ///
    /// # Errors
    /// Every problem found, in order.
    pub fn validate(&self) -> Result<(), Vec<DefinitionError>> {
        let mut errors = Vec::new();
        if self.version == 0 {
            errors.push(DefinitionError::Version);
        }
        if !valid_code(&self.code) {
            errors.push(DefinitionError::Code(self.code.clone()));
        }
        if self.title.trim().is_empty() {
            errors.push(DefinitionError::EmptyText(self.code.clone()));
        }
        if self.steps.is_empty() {
            errors.push(DefinitionError::NoSteps);
        }

        let mut seen = BTreeSet::new();
        let mut check_id = |id: &str, errors: &mut Vec<DefinitionError>| {
            if !valid_id(id) {
                errors.push(DefinitionError::InvalidId(id.to_owned()));
            } else if !seen.insert(id.to_owned()) {
                errors.push(DefinitionError::DuplicateId(id.to_owned()));
            }
        };

        // Fields known so far, in document order: conditions may read only these.
        let mut before: BTreeMap<&str, &Field> = BTreeMap::new();
        let all: BTreeMap<&str, &Field> = self.fields().map(|f| (f.id.as_str(), f)).collect();

        for step in &self.steps {
            check_id(&step.id, &mut errors);
            if step.title.trim().is_empty() {
                errors.push(DefinitionError::EmptyText(step.id.clone()));
            }
            if step.fields.is_empty() {
                errors.push(DefinitionError::EmptyStep(step.id.clone()));
            }
            if let Some(cond) = &step.condition {
                check_condition(&step.id, cond, &before, &all, &mut errors);
            }
            for field in &step.fields {
                check_id(&field.id, &mut errors);
                if field.label.trim().is_empty() {
                    errors.push(DefinitionError::EmptyText(field.id.clone()));
                }
                if let Some(cond) = &field.condition {
                    check_condition(&field.id, cond, &before, &all, &mut errors);
                }
                check_field(field, &mut errors);
                before.insert(&field.id, field);
            }
        }
        for att in &self.attachments {
            check_id(&att.id, &mut errors);
            if att.label.trim().is_empty() {
                errors.push(DefinitionError::EmptyText(att.id.clone()));
            }
            if att.media_types.is_empty() || att.max_files == 0 || att.max_bytes == 0 {
                errors.push(DefinitionError::AttachmentLimits(att.id.clone()));
            }
            if let Some(cond) = &att.condition {
                check_condition(&att.id, cond, &all, &all, &mut errors);
            }
        }
        for decl in &self.declarations {
            check_id(&decl.id, &mut errors);
            if decl.text.trim().is_empty() {
                errors.push(DefinitionError::EmptyText(decl.id.clone()));
            }
            if let Some(cond) = &decl.condition {
                check_condition(&decl.id, cond, &all, &all, &mut errors);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn first_error(mut errors: Vec<DefinitionError>) -> DefinitionError {
    if errors.is_empty() {
        DefinitionError::NoSteps
    } else {
        errors.swap_remove(0)
    }
}

fn check_condition(
    owner: &str,
    cond: &Condition,
    allowed: &BTreeMap<&str, &Field>,
    all: &BTreeMap<&str, &Field>,
    errors: &mut Vec<DefinitionError>,
) {
    let field_ref = |field: &str, errors: &mut Vec<DefinitionError>| -> Option<&Field> {
        if let Some(f) = allowed.get(field) {
            Some(*f)
        } else {
            errors.push(if all.contains_key(field) {
                DefinitionError::ConditionLaterField {
                    owner: owner.to_owned(),
                    field: field.to_owned(),
                }
            } else {
                DefinitionError::ConditionUnknownField {
                    owner: owner.to_owned(),
                    field: field.to_owned(),
                }
            });
            None
        }
    };
    let check_value = |f: &Field, value: &str, errors: &mut Vec<DefinitionError>| {
        let possible = match &f.kind {
            FieldKind::Scelta { options, .. } => options.iter().any(|o| o.value == value),
            FieldKind::SiNo => value == "si" || value == "no",
            _ => true,
        };
        if !possible {
            errors.push(DefinitionError::ConditionValue {
                owner: owner.to_owned(),
                field: f.id.clone(),
                value: value.to_owned(),
            });
        }
    };
    match cond {
        Condition::Equals { field, value } => {
            if let Some(f) = field_ref(field, errors) {
                check_value(f, value, errors);
            }
        }
        Condition::In { field, values } => {
            if values.is_empty() {
                errors.push(DefinitionError::EmptyCondition(owner.to_owned()));
            }
            if let Some(f) = field_ref(field, errors) {
                for v in values {
                    check_value(f, v, errors);
                }
            }
        }
        Condition::Filled { field, .. } => {
            field_ref(field, errors);
        }
        Condition::All(list) | Condition::Any(list) => {
            if list.is_empty() {
                errors.push(DefinitionError::EmptyCondition(owner.to_owned()));
            }
            for c in list {
                check_condition(owner, c, allowed, all, errors);
            }
        }
    }
}

fn check_field(field: &Field, errors: &mut Vec<DefinitionError>) {
    let r = &field.rules;
    let kind = &field.kind;
    let id = &field.id;
    let not_applicable = |rule: &'static str, errors: &mut Vec<DefinitionError>| {
        errors.push(DefinitionError::RuleNotApplicable {
            field: id.clone(),
            rule,
        });
    };
    let incoherent = |rule: &'static str, errors: &mut Vec<DefinitionError>| {
        errors.push(DefinitionError::IncoherentBounds {
            field: id.clone(),
            rule,
        });
    };

    let is_text = matches!(kind, FieldKind::Testo | FieldKind::TestoLungo);
    if !is_text && (r.min_length.is_some() || r.max_length.is_some()) {
        not_applicable("lunghezza_min/lunghezza_max", errors);
    }
    if r.max_length == Some(0)
        || matches!((r.min_length, r.max_length), (Some(a), Some(b)) if a > b)
    {
        incoherent("lunghezza_min/lunghezza_max", errors);
    }
    if !matches!(kind, FieldKind::Numero) && (r.min_value.is_some() || r.max_value.is_some()) {
        not_applicable("valore_min/valore_max", errors);
    }
    if matches!((r.min_value, r.max_value), (Some(a), Some(b)) if a > b) {
        incoherent("valore_min/valore_max", errors);
    }
    if !matches!(kind, FieldKind::Importo) && (r.min_amount.is_some() || r.max_amount.is_some()) {
        not_applicable("importo_min/importo_max", errors);
    }
    if matches!((r.min_amount, r.max_amount), (Some(a), Some(b)) if a > b)
        || r.min_amount.is_some_and(Cents::is_negative)
        || r.max_amount.is_some_and(Cents::is_negative)
    {
        incoherent("importo_min/importo_max", errors);
    }
    let date_rules =
        r.not_future || r.not_past || r.max_days_past.is_some() || r.max_days_future.is_some();
    if !matches!(kind, FieldKind::Data) && date_rules {
        not_applicable(
            "data_non_futura/data_non_passata/giorni_max_passato/giorni_max_futuro",
            errors,
        );
    }
    if (r.not_future && (r.not_past || r.max_days_future.is_some()))
        || (r.not_past && r.max_days_past.is_some())
    {
        incoherent("data_non_futura/data_non_passata", errors);
    }
    let multiple_choice = matches!(kind, FieldKind::Scelta { multiple: true, .. });
    if !multiple_choice && (r.min_choices.is_some() || r.max_choices.is_some()) {
        not_applicable("scelte_min/scelte_max", errors);
    }
    if let FieldKind::Scelta { options, .. } = kind {
        if options.is_empty() {
            errors.push(DefinitionError::NoChoices(id.clone()));
        }
        let mut values = BTreeSet::new();
        for o in options {
            if !values.insert(o.value.as_str()) {
                errors.push(DefinitionError::DuplicateChoice {
                    field: id.clone(),
                    value: o.value.clone(),
                });
            }
            if o.value.trim().is_empty() || o.label.trim().is_empty() {
                errors.push(DefinitionError::EmptyText(id.clone()));
            }
        }
        let n = u32::try_from(options.len()).unwrap_or(u32::MAX);
        if r.max_choices == Some(0)
            || matches!((r.min_choices, r.max_choices), (Some(a), Some(b)) if a > b)
            || r.min_choices.is_some_and(|m| m > n)
        {
            incoherent("scelte_min/scelte_max", errors);
        }
    }
    if !matches!(kind, FieldKind::ParticellaCatastale) && r.max_rows.is_some() {
        not_applicable("righe_max", errors);
    }
    if r.max_rows == Some(0) {
        incoherent("righe_max", errors);
    }
    if let Some(p) = field.prefill
        && !p.fits(kind)
    {
        errors.push(DefinitionError::PrefillNotApplicable(id.clone()));
    }
}

// ---------------------------------------------------------------------------
// Serde representations (flat, human-editable keys)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindTag {
    Testo,
    TestoLungo,
    CodiceFiscale,
    PartitaIva,
    Data,
    Importo,
    Numero,
    Email,
    Telefono,
    Scelta,
    SiNo,
    ParticellaCatastale,
    Indirizzo,
    Posizione,
}

impl KindTag {
    fn key(self) -> &'static str {
        match self {
            KindTag::Testo => "testo",
            KindTag::TestoLungo => "testo_lungo",
            KindTag::CodiceFiscale => "codice_fiscale",
            KindTag::PartitaIva => "partita_iva",
            KindTag::Data => "data",
            KindTag::Importo => "importo",
            KindTag::Numero => "numero",
            KindTag::Email => "email",
            KindTag::Telefono => "telefono",
            KindTag::Scelta => "scelta",
            KindTag::SiNo => "si_no",
            KindTag::ParticellaCatastale => "particella_catastale",
            KindTag::Indirizzo => "indirizzo",
            KindTag::Posizione => "posizione",
        }
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(b: &bool) -> bool {
    !*b
}

/// An amount in a definition, written the Italian way (`"1.000,00"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
struct AmountText(Cents);

impl TryFrom<String> for AmountText {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Cents::parse_it(&s)
            .map(AmountText)
            .map_err(|e| format!("importo «{s}» non valido: {}", e.message_it()))
    }
}

impl From<AmountText> for String {
    fn from(a: AmountText) -> String {
        // Without the euro sign, as an admin would write it.
        a.0.to_string().trim_end_matches(" €").to_owned()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldRepr {
    id: String,
    etichetta: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aiuto: Option<String>,
    tipo: KindTag,
    #[serde(default, skip_serializing_if = "is_false")]
    obbligatorio: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    precompila: Option<Prefill>,
    #[serde(default, skip_serializing_if = "is_false")]
    multipla: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lunghezza_min: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lunghezza_max: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valore_min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valore_max: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    importo_min: Option<AmountText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    importo_max: Option<AmountText>,
    #[serde(default, skip_serializing_if = "is_false")]
    data_non_futura: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    data_non_passata: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    giorni_max_passato: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    giorni_max_futuro: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scelte_min: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scelte_max: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    righe_max: Option<u32>,
    // Tables last (TOML writes plain values before tables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    condizione: Option<Condition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    opzioni: Vec<ChoiceOption>,
}

impl TryFrom<FieldRepr> for Field {
    type Error = String;
    fn try_from(r: FieldRepr) -> Result<Self, Self::Error> {
        let kind = match r.tipo {
            KindTag::Testo => FieldKind::Testo,
            KindTag::TestoLungo => FieldKind::TestoLungo,
            KindTag::CodiceFiscale => FieldKind::CodiceFiscale,
            KindTag::PartitaIva => FieldKind::PartitaIva,
            KindTag::Data => FieldKind::Data,
            KindTag::Importo => FieldKind::Importo,
            KindTag::Numero => FieldKind::Numero,
            KindTag::Email => FieldKind::Email,
            KindTag::Telefono => FieldKind::Telefono,
            KindTag::Scelta => FieldKind::Scelta {
                options: r.opzioni.clone(),
                multiple: r.multipla,
            },
            KindTag::SiNo => FieldKind::SiNo,
            KindTag::ParticellaCatastale => FieldKind::ParticellaCatastale,
            KindTag::Indirizzo => FieldKind::Indirizzo,
            KindTag::Posizione => FieldKind::Posizione,
        };
        if r.tipo != KindTag::Scelta && (!r.opzioni.is_empty() || r.multipla) {
            return Err(format!(
                "il campo «{}» non è di tipo scelta: «opzioni» e «multipla» non sono ammessi",
                r.id
            ));
        }
        Ok(Field {
            id: r.id,
            label: r.etichetta,
            help: r.aiuto,
            kind,
            required: r.obbligatorio,
            condition: r.condizione,
            prefill: r.precompila,
            rules: Rules {
                min_length: r.lunghezza_min,
                max_length: r.lunghezza_max,
                min_value: r.valore_min,
                max_value: r.valore_max,
                min_amount: r.importo_min.map(|a| a.0),
                max_amount: r.importo_max.map(|a| a.0),
                not_future: r.data_non_futura,
                not_past: r.data_non_passata,
                max_days_past: r.giorni_max_passato,
                max_days_future: r.giorni_max_futuro,
                min_choices: r.scelte_min,
                max_choices: r.scelte_max,
                max_rows: r.righe_max,
            },
        })
    }
}

impl From<Field> for FieldRepr {
    fn from(f: Field) -> FieldRepr {
        let tipo = f.kind.tag();
        let (opzioni, multipla) = match f.kind {
            FieldKind::Scelta { options, multiple } => (options, multiple),
            _ => (Vec::new(), false),
        };
        let r = f.rules;
        FieldRepr {
            id: f.id,
            etichetta: f.label,
            aiuto: f.help,
            tipo,
            obbligatorio: f.required,
            precompila: f.prefill,
            multipla,
            lunghezza_min: r.min_length,
            lunghezza_max: r.max_length,
            valore_min: r.min_value,
            valore_max: r.max_value,
            importo_min: r.min_amount.map(AmountText),
            importo_max: r.max_amount.map(AmountText),
            data_non_futura: r.not_future,
            data_non_passata: r.not_past,
            giorni_max_passato: r.max_days_past,
            giorni_max_futuro: r.max_days_future,
            scelte_min: r.min_choices,
            scelte_max: r.max_choices,
            righe_max: r.max_rows,
            condizione: f.condition,
            opzioni,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    campo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uguale: Option<String>,
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    in_: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    compilato: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tutte: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    almeno_una: Option<Vec<Condition>>,
}

impl TryFrom<ConditionRepr> for Condition {
    type Error = String;
    fn try_from(r: ConditionRepr) -> Result<Self, Self::Error> {
        let bad = || {
            "una condizione è { campo, uguale }, { campo, in }, { campo, compilato }, { tutte } oppure { almeno_una }"
                .to_owned()
        };
        match r {
            ConditionRepr {
                campo: Some(field),
                uguale: Some(value),
                in_: None,
                compilato: None,
                tutte: None,
                almeno_una: None,
            } => Ok(Condition::Equals { field, value }),
            ConditionRepr {
                campo: Some(field),
                uguale: None,
                in_: Some(values),
                compilato: None,
                tutte: None,
                almeno_una: None,
            } => Ok(Condition::In { field, values }),
            ConditionRepr {
                campo: Some(field),
                uguale: None,
                in_: None,
                compilato: Some(filled),
                tutte: None,
                almeno_una: None,
            } => Ok(Condition::Filled { field, filled }),
            ConditionRepr {
                campo: None,
                uguale: None,
                in_: None,
                compilato: None,
                tutte: Some(list),
                almeno_una: None,
            } => Ok(Condition::All(list)),
            ConditionRepr {
                campo: None,
                uguale: None,
                in_: None,
                compilato: None,
                tutte: None,
                almeno_una: Some(list),
            } => Ok(Condition::Any(list)),
            _ => Err(bad()),
        }
    }
}

impl From<Condition> for ConditionRepr {
    fn from(c: Condition) -> ConditionRepr {
        match c {
            Condition::Equals { field, value } => ConditionRepr {
                campo: Some(field),
                uguale: Some(value),
                ..ConditionRepr::default()
            },
            Condition::In { field, values } => ConditionRepr {
                campo: Some(field),
                in_: Some(values),
                ..ConditionRepr::default()
            },
            Condition::Filled { field, filled } => ConditionRepr {
                campo: Some(field),
                compilato: Some(filled),
                ..ConditionRepr::default()
            },
            Condition::All(list) => ConditionRepr {
                tutte: Some(list),
                ..ConditionRepr::default()
            },
            Condition::Any(list) => ConditionRepr {
                almeno_una: Some(list),
                ..ConditionRepr::default()
            },
        }
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
