//! Answers: from what the browser posts to typed values, and back.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use jiff::Span;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::definizione::{
    Condition, DEFAULT_LONG_TEXT_MAX, DEFAULT_MAX_ROWS, DEFAULT_TEXT_MAX, Field, FieldKind,
    FormDefinition, Prefill, Step,
};
use super::navigazione::{
    effective_values, field_visible, step_visible, visible_fields, visible_steps,
};
use crate::Coded;
use crate::ids::{Cap, CodiceCatastale, CodiceFiscale, Email, PartitaIva};
use crate::money::Cents;

/// What an HTML form posts: each key with all its values, in order.
/// Compound fields post one key per part, `id.sub` (e.g.
/// `particelle.foglio`); a multiple choice posts its key once per option.
pub type RawAnswers = BTreeMap<String, Vec<String>>;

/// Posted keys that are not answers and are ignored: the CSRF token and the
/// navigation controls of the step pages.
pub const CONTROL_KEYS: &[&str] = &["csrf", "_csrf", "_step", "_passo", "_azione"];

/// Longest text accepted in a part of a compound field (via, comune…).
const PART_MAX: usize = 200;

/// A cadastral parcel (catasto): the comune censuario by its codice
/// catastale, foglio, particella (mappale) and optional subalterno.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Particella {
    /// Comune censuario (codice catastale, e.g. `B923`).
    pub codice_catastale: CodiceCatastale,
    /// Foglio (sheet) number.
    pub foglio: String,
    /// Particella / mappale.
    pub particella: String,
    /// Subalterno, for a unit of a building.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subalterno: Option<String>,
}

/// A postal address. For an `indirizzo` field civico and CAP are required;
/// within a `posizione` they are optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indirizzo {
    /// Street (`Via Roma`).
    pub via: String,
    /// House number (`12/A`, `snc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civico: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Cap>,
    /// Comune.
    pub comune: String,
}

impl fmt::Display for Indirizzo {
    /// `Via Roma 12, 70010 Casamassima`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.via)?;
        if let Some(civico) = &self.civico {
            write!(f, " {civico}")?;
        }
        f.write_str(", ")?;
        if let Some(cap) = &self.cap {
            write!(f, "{cap} ")?;
        }
        f.write_str(&self.comune)
    }
}

/// A place: an address, a point on the map, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Posizione {
    /// The address, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indirizzo: Option<Indirizzo>,
    /// Latitude (WGS 84), if a point was picked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude (WGS 84), if a point was picked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

/// A typed answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "tipo", content = "valore", rename_all = "snake_case")]
pub enum Value {
    /// `testo`, `testo_lungo`.
    Text(String),
    /// `codice_fiscale`.
    CodiceFiscale(CodiceFiscale),
    /// `partita_iva`.
    PartitaIva(PartitaIva),
    /// `email`.
    Email(Email),
    /// `telefono`, normalised to `+` and digits.
    Telefono(String),
    /// `data`.
    Date(Date),
    /// `importo`.
    Cents(Cents),
    /// `numero`.
    Integer(i64),
    /// `scelta`: the chosen option values, in the definition's order.
    Choice(Vec<String>),
    /// `si_no`.
    Bool(bool),
    /// `particella_catastale`: one or more parcels.
    Particelle(Vec<Particella>),
    /// `indirizzo`.
    Indirizzo(Indirizzo),
    /// `posizione`.
    Posizione(Posizione),
}

impl Value {
    /// Could a field of `kind` hold this value? (A stored draft may predate
    /// a change of the definition: another kind, an option removed.)
    #[must_use]
    pub fn fits(&self, kind: &FieldKind) -> bool {
        match (self, kind) {
            (Value::Text(_), FieldKind::Testo | FieldKind::TestoLungo)
            | (Value::CodiceFiscale(_), FieldKind::CodiceFiscale)
            | (Value::PartitaIva(_), FieldKind::PartitaIva)
            | (Value::Email(_), FieldKind::Email)
            | (Value::Telefono(_), FieldKind::Telefono)
            | (Value::Date(_), FieldKind::Data)
            | (Value::Cents(_), FieldKind::Importo)
            | (Value::Integer(_), FieldKind::Numero)
            | (Value::Bool(_), FieldKind::SiNo)
            | (Value::Particelle(_), FieldKind::ParticellaCatastale)
            | (Value::Indirizzo(_), FieldKind::Indirizzo)
            | (Value::Posizione(_), FieldKind::Posizione) => true,
            (Value::Choice(values), FieldKind::Scelta { options, multiple }) => {
                (*multiple || values.len() <= 1)
                    && values.iter().all(|v| options.iter().any(|o| &o.value == v))
            }
            _ => false,
        }
    }

    /// Does the value equal `text` as written in a condition? A multiple
    /// choice matches any of its options, yes/no matches `si` / `no`.
    #[must_use]
    pub fn matches(&self, text: &str) -> bool {
        match self {
            Value::Text(s) | Value::Telefono(s) => s == text,
            Value::CodiceFiscale(cf) => cf.as_str() == text,
            Value::PartitaIva(p) => p.as_str() == text,
            Value::Email(e) => e.as_str() == text,
            Value::Date(d) => d.to_string() == text,
            Value::Cents(c) => amount_plain(*c) == text,
            Value::Integer(n) => n.to_string() == text,
            Value::Choice(values) => values.iter().any(|v| v == text),
            Value::Bool(b) => text == if *b { "si" } else { "no" },
            Value::Particelle(_) | Value::Indirizzo(_) | Value::Posizione(_) => false,
        }
    }
}

/// The typed answers of a form so far (stored as JSON in a draft).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Answers {
    /// Field id (or declaration id) → value. Empty fields have no entry.
    #[serde(rename = "valori")]
    pub values: BTreeMap<String, Value>,
    /// Steps the user has completed (posted without errors).
    #[serde(rename = "passi_completati", default)]
    pub completed_steps: BTreeSet<String>,
}

impl Answers {
    /// No answers.
    #[must_use]
    pub fn new() -> Answers {
        Answers::default()
    }

    /// The value of a field.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&Value> {
        self.values.get(id)
    }

    /// The answers without values of hidden steps and fields (an answer
    /// changed later can hide a field answered before). Declarations are kept.
    #[must_use]
    pub fn visible_only(&self, def: &FormDefinition) -> Answers {
        let mut out = Answers {
            values: effective_values(def, &self.values),
            completed_steps: self.completed_steps.clone(),
        };
        for decl in &def.declarations {
            if let Some(v) = self.values.get(&decl.id) {
                out.values.insert(decl.id.clone(), v.clone());
            }
        }
        out
    }
}

impl Condition {
    /// Does the condition hold for these values?
    #[must_use]
    pub fn holds(&self, values: &BTreeMap<String, Value>) -> bool {
        match self {
            Condition::Equals { field, value } => {
                values.get(field).is_some_and(|v| v.matches(value))
            }
            Condition::In {
                field,
                values: accepted,
            } => values
                .get(field)
                .is_some_and(|v| accepted.iter().any(|a| v.matches(a))),
            Condition::Filled { field, filled } => values.contains_key(field) == *filled,
            Condition::All(list) => list.iter().all(|c| c.holds(values)),
            Condition::Any(list) => list.iter().any(|c| c.holds(values)),
        }
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// One error in the answers: which field (or attachment, declaration, posted
/// key), a stable code and an Italian message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field id (or attachment / declaration id, or the unknown posted key).
    pub field: String,
    /// The step the field belongs to, if any (to send the user back there).
    pub step: Option<String>,
    /// Stable machine code (`modulo_campo_obbligatorio`…).
    pub code: &'static str,
    /// Italian message naming the field by its label.
    pub message: String,
}

impl Coded for FieldError {
    fn code(&self) -> &'static str {
        self.code
    }

    fn message_it(&self) -> String {
        self.message.clone()
    }
}

/// All the errors found in a step or a submission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors {
    /// The errors, in the order of the fields.
    pub errors: Vec<FieldError>,
}

/// The errors of a whole submission ([`validate_all`]).
pub type FormErrors = FieldErrors;

impl FieldErrors {
    /// The errors of one field.
    pub fn for_field<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a FieldError> + 'a {
        self.errors.iter().filter(move |e| e.field == id)
    }

    /// The codes, in order (handy in tests and logs).
    #[must_use]
    pub fn codes(&self) -> Vec<&'static str> {
        self.errors.iter().map(|e| e.code).collect()
    }

    /// Is there no error?
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    fn push(&mut self, field: &str, step: Option<&str>, code: &'static str, message: String) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            step: step.map(str::to_owned),
            code,
            message,
        });
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {} ({})", e.field, e.message, e.code)?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

/// An error of one field while parsing (before it is tied to a step).
struct Bad {
    code: &'static str,
    message: String,
}

fn bad(code: &'static str, message: String) -> Bad {
    Bad { code, message }
}

// ---------------------------------------------------------------------------
// Parsing a step
// ---------------------------------------------------------------------------

/// Parses the answers posted for one step.
///
/// Conditions are evaluated against the previous answers merged with the
/// fields of this step parsed so far (a field's condition reads only fields
/// before it). Hidden fields are dropped even when a value was posted, and
/// their old answers removed. A posted key that is not a field of this step
/// (or a part of one) and not a [`CONTROL_KEYS`] entry is refused with
/// `modulo_campo_sconosciuto`, so a tampered or injected field cannot slip
/// through. `today` is the civil date (Europe/Rome) used by the date rules.
///
/// On success returns `previous` with this step's answers replaced and the
/// step marked completed.
///
/// # Errors
/// Every field error of the step (`modulo_campo_obbligatorio`,
/// `modulo_data_non_valida`, …), or `modulo_passo_sconosciuto` /
/// `modulo_passo_non_disponibile` for a step that does not exist or is hidden.
pub fn parse_step(
    def: &FormDefinition,
    step_id: &str,
    raw: &RawAnswers,
    previous: &Answers,
    today: Date,
) -> Result<Answers, FieldErrors> {
    let mut errors = FieldErrors::default();
    let Some(step) = def.step(step_id) else {
        errors.push(
            step_id,
            None,
            "modulo_passo_sconosciuto",
            "Il passo richiesto non esiste in questo modulo.".to_owned(),
        );
        return Err(errors);
    };
    // Conditions read the answers that count (not values left in fields
    // hidden since), plus this step's fields parsed so far.
    let mut effective = effective_values(def, &previous.values);
    if !step_visible(step, &effective) {
        errors.push(
            step_id,
            Some(step_id),
            "modulo_passo_non_disponibile",
            format!(
                "Il passo «{}» non è previsto con le risposte date.",
                step.title
            ),
        );
        return Err(errors);
    }
    check_unknown_keys(step, raw, &mut errors);

    let mut values = previous.values.clone();
    for field in &step.fields {
        values.remove(&field.id);
    }
    for (field, parsed) in walk_step(step, &mut effective, raw, today) {
        match parsed {
            Ok(Some(value)) => {
                values.insert(field.id.clone(), value);
            }
            Ok(None) if field.required => errors.push(
                &field.id,
                Some(&step.id),
                "modulo_campo_obbligatorio",
                format!("Il campo «{}» è obbligatorio.", field.label),
            ),
            Ok(None) => {}
            Err(b) => errors.push(&field.id, Some(&step.id), b.code, b.message),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut completed_steps = previous.completed_steps.clone();
    completed_steps.insert(step.id.clone());
    Ok(Answers {
        values,
        completed_steps,
    })
}

/// The visible fields of `step` in order, each with its typed value parsed
/// from `raw`: a field's condition reads `effective` (the answers that
/// count from earlier steps) plus the fields before it in this step that
/// parsed, which are added to `effective` as the walk goes.
fn walk_step<'a>(
    step: &'a Step,
    effective: &mut BTreeMap<String, Value>,
    raw: &RawAnswers,
    today: Date,
) -> Vec<(&'a Field, Result<Option<Value>, Bad>)> {
    for field in &step.fields {
        effective.remove(&field.id);
    }
    let mut out = Vec::new();
    for field in &step.fields {
        if !field_visible(field, effective) {
            continue;
        }
        let parsed = parse_field(field, raw, today);
        if let Ok(Some(value)) = &parsed {
            effective.insert(field.id.clone(), value.clone());
        }
        out.push((field, parsed));
    }
    out
}

/// The fields of a step shown while it is being filled with the values
/// `raw` (typed, or as saved): exactly the fields [`parse_step`] would ask
/// for with them, so a step sent back with errors shows every field it
/// requires (a condition on a field of the same step reads what was typed
/// there, not only what was saved before). Empty if the step is hidden.
#[must_use]
pub fn fields_to_fill<'a>(
    def: &FormDefinition,
    step: &'a Step,
    previous: &Answers,
    raw: &RawAnswers,
    today: Date,
) -> Vec<&'a Field> {
    let mut effective = effective_values(def, &previous.values);
    if !step_visible(step, &effective) {
        return Vec::new();
    }
    walk_step(step, &mut effective, raw, today)
        .into_iter()
        .map(|(f, _)| f)
        .collect()
}

fn check_unknown_keys(step: &Step, raw: &RawAnswers, errors: &mut FieldErrors) {
    for key in raw.keys() {
        if CONTROL_KEYS.contains(&key.as_str()) {
            continue;
        }
        let (base, sub) = match key.split_once('.') {
            Some((b, s)) => (b, Some(s)),
            None => (key.as_str(), None),
        };
        let known = step.fields.iter().any(|f| {
            f.id == base
                && match sub {
                    None => f.kind.sub_keys().is_empty(),
                    Some(s) => f.kind.sub_keys().contains(&s),
                }
        });
        if !known {
            errors.push(
                key,
                Some(&step.id),
                "modulo_campo_sconosciuto",
                "Il modulo inviato contiene un campo non previsto: ricaricare la pagina e riprovare."
                    .to_owned(),
            );
        }
    }
}

/// The non-empty (trimmed) values posted under `key`.
fn posted<'a>(raw: &'a RawAnswers, key: &str) -> Vec<&'a str> {
    raw.get(key)
        .map(|vs| {
            vs.iter()
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The single value posted under `key`, `None` if empty.
fn single<'a>(raw: &'a RawAnswers, key: &str, label: &str) -> Result<Option<&'a str>, Bad> {
    match posted(raw, key).as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(bad(
            "modulo_valori_multipli",
            format!("Il campo «{label}» ammette un solo valore."),
        )),
    }
}

fn invalid(code: &'static str, label: &str, detail: &str) -> Bad {
    bad(code, format!("Il campo «{label}» non è valido: {detail}"))
}

/// Parses one visible field. `Ok(None)` means empty.
fn parse_field(field: &Field, raw: &RawAnswers, today: Date) -> Result<Option<Value>, Bad> {
    let label = field.label.as_str();
    let id = field.id.as_str();
    match &field.kind {
        FieldKind::ParticellaCatastale => return parse_particelle(field, raw),
        FieldKind::Indirizzo => {
            return parse_indirizzo(field, raw, true).map(|o| o.map(Value::Indirizzo));
        }
        FieldKind::Posizione => return parse_posizione(field, raw),
        FieldKind::Scelta { options, multiple } => {
            let chosen = posted(raw, id);
            if chosen.is_empty() {
                return Ok(None);
            }
            if !multiple && chosen.len() > 1 {
                return Err(bad(
                    "modulo_valori_multipli",
                    format!("Il campo «{label}» ammette una sola scelta."),
                ));
            }
            if chosen
                .iter()
                .any(|c| !options.iter().any(|o| o.value == *c))
            {
                return Err(bad(
                    "modulo_scelta_non_ammessa",
                    format!("Il valore scelto per il campo «{label}» non è tra quelli ammessi."),
                ));
            }
            let values: Vec<String> = options
                .iter()
                .filter(|o| chosen.contains(&o.value.as_str()))
                .map(|o| o.value.clone())
                .collect();
            let n = u32::try_from(values.len()).unwrap_or(u32::MAX);
            if field.rules.min_choices.is_some_and(|m| n < m) {
                return Err(bad(
                    "modulo_scelte_troppo_poche",
                    format!(
                        "Per il campo «{label}» scegliere almeno {} opzioni.",
                        field.rules.min_choices.unwrap_or(0)
                    ),
                ));
            }
            if field.rules.max_choices.is_some_and(|m| n > m) {
                return Err(bad(
                    "modulo_scelte_troppe",
                    format!(
                        "Per il campo «{label}» scegliere al massimo {} opzioni.",
                        field.rules.max_choices.unwrap_or(0)
                    ),
                ));
            }
            return Ok(Some(Value::Choice(values)));
        }
        _ => {}
    }

    let Some(text) = single(raw, id, label)? else {
        return Ok(None);
    };
    let value = match &field.kind {
        FieldKind::Testo | FieldKind::TestoLungo => {
            let long = matches!(field.kind, FieldKind::TestoLungo);
            let text = text.replace("\r\n", "\n");
            if text
                .chars()
                .any(|c| c.is_control() && !(long && (c == '\n' || c == '\t')))
            {
                return Err(invalid(
                    "modulo_testo_non_valido",
                    label,
                    "contiene caratteri non ammessi.",
                ));
            }
            let len = text.chars().count();
            let max = field.rules.max_length.unwrap_or(if long {
                DEFAULT_LONG_TEXT_MAX
            } else {
                DEFAULT_TEXT_MAX
            });
            if len > usize::try_from(max).unwrap_or(usize::MAX) {
                return Err(bad(
                    "modulo_testo_troppo_lungo",
                    format!("Il campo «{label}» può contenere al massimo {max} caratteri."),
                ));
            }
            if let Some(min) = field.rules.min_length
                && len < usize::try_from(min).unwrap_or(usize::MAX)
            {
                return Err(bad(
                    "modulo_testo_troppo_corto",
                    format!("Il campo «{label}» deve contenere almeno {min} caratteri."),
                ));
            }
            Value::Text(text)
        }
        FieldKind::CodiceFiscale => Value::CodiceFiscale(
            CodiceFiscale::parse(text)
                .map_err(|e| invalid("modulo_codice_fiscale_non_valido", label, &e.message_it()))?,
        ),
        FieldKind::PartitaIva => Value::PartitaIva(
            PartitaIva::parse(text)
                .map_err(|e| invalid("modulo_partita_iva_non_valida", label, &e.message_it()))?,
        ),
        FieldKind::Email => Value::Email(
            Email::parse(text)
                .map_err(|e| invalid("modulo_email_non_valida", label, &e.message_it()))?,
        ),
        FieldKind::Telefono => Value::Telefono(parse_phone(text).ok_or_else(|| {
            invalid(
                "modulo_telefono_non_valido",
                label,
                "indicare da 6 a 15 cifre, eventualmente precedute da +.",
            )
        })?),
        FieldKind::Data => Value::Date(parse_date_field(field, text, today)?),
        FieldKind::Importo => {
            let amount = Cents::parse_it(text)
                .map_err(|e| invalid("modulo_importo_non_valido", label, &e.message_it()))?;
            if amount.is_negative() {
                return Err(bad(
                    "modulo_importo_negativo",
                    format!("Il campo «{label}» non può essere negativo."),
                ));
            }
            let r = &field.rules;
            if r.min_amount.is_some_and(|m| amount < m) || r.max_amount.is_some_and(|m| amount > m)
            {
                return Err(bad(
                    "modulo_importo_fuori_intervallo",
                    format!(
                        "Il campo «{label}» deve essere {}.",
                        range_text(r.min_amount, r.max_amount)
                    ),
                ));
            }
            Value::Cents(amount)
        }
        FieldKind::Numero => {
            let ok = text.len() <= 20 && {
                let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
            };
            let n: i64 = if ok { text.parse().ok() } else { None }.ok_or_else(|| {
                invalid(
                    "modulo_numero_non_valido",
                    label,
                    "indicare un numero intero, senza separatori.",
                )
            })?;
            let r = &field.rules;
            if r.min_value.is_some_and(|m| n < m) || r.max_value.is_some_and(|m| n > m) {
                return Err(bad(
                    "modulo_numero_fuori_intervallo",
                    format!(
                        "Il campo «{label}» deve essere {}.",
                        range_text(r.min_value, r.max_value)
                    ),
                ));
            }
            Value::Integer(n)
        }
        FieldKind::SiNo => match text.to_lowercase().as_str() {
            "si" | "sì" => Value::Bool(true),
            "no" => Value::Bool(false),
            _ => {
                return Err(invalid(
                    "modulo_si_no_non_valido",
                    label,
                    "rispondere Sì o No.",
                ));
            }
        },
        // Handled above.
        FieldKind::Scelta { .. }
        | FieldKind::ParticellaCatastale
        | FieldKind::Indirizzo
        | FieldKind::Posizione => return Ok(None),
    };
    Ok(Some(value))
}

fn range_text<T: fmt::Display>(min: Option<T>, max: Option<T>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("compreso tra {a} e {b}"),
        (Some(a), None) => format!("almeno {a}"),
        (None, Some(b)) => format!("al massimo {b}"),
        (None, None) => "valido".to_owned(),
    }
}

/// Normalises a telephone number to an optional `+` and 6–15 digits
/// (ITU-T E.164 caps a number at 15 digits); spaces, `-`, `.`, `/` and
/// brackets are dropped.
fn parse_phone(text: &str) -> Option<String> {
    let (plus, rest) = match text.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '/' | '(' | ')' => {}
            _ => return None,
        }
    }
    if !(6..=15).contains(&digits.len()) {
        return None;
    }
    Some(if plus { format!("+{digits}") } else { digits })
}

/// Parses `AAAA-MM-GG` (what `<input type=date>` posts) or `GG/MM/AAAA`
/// (also `G/M/AAAA`); the year has four digits. Invalid days such as
/// 29/02 in a non-leap year are refused.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let number = |s: &str, min: usize, max: usize| -> Option<i16> {
        if (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d) = if let [y, m, d] = text.split('-').collect::<Vec<_>>().as_slice() {
        (number(y, 4, 4)?, number(m, 2, 2)?, number(d, 2, 2)?)
    } else if let [d, m, y] = text.split('/').collect::<Vec<_>>().as_slice() {
        (number(y, 4, 4)?, number(m, 1, 2)?, number(d, 1, 2)?)
    } else {
        return None;
    };
    Date::new(y, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()
}

fn parse_date_field(field: &Field, text: &str, today: Date) -> Result<Date, Bad> {
    let label = &field.label;
    let date = parse_date(text).ok_or_else(|| {
        invalid(
            "modulo_data_non_valida",
            label,
            "indicare una data esistente nel formato GG/MM/AAAA.",
        )
    })?;
    let r = &field.rules;
    if r.not_future && date > today {
        return Err(bad(
            "modulo_data_futura",
            format!("La data del campo «{label}» non può essere successiva a oggi."),
        ));
    }
    if r.not_past && date < today {
        return Err(bad(
            "modulo_data_passata",
            format!("La data del campo «{label}» non può essere precedente a oggi."),
        ));
    }
    let shifted = |days: u32, forward: bool| -> Option<Date> {
        let span = Span::new().try_days(i64::from(days)).ok()?;
        if forward {
            today.checked_add(span).ok()
        } else {
            today.checked_sub(span).ok()
        }
    };
    if let Some(days) = r.max_days_past
        && let Some(limit) = shifted(days, false)
        && date < limit
    {
        return Err(bad(
            "modulo_data_troppo_lontana",
            format!(
                "La data del campo «{label}» non può essere anteriore di più di {days} giorni a oggi."
            ),
        ));
    }
    if let Some(days) = r.max_days_future
        && let Some(limit) = shifted(days, true)
        && date > limit
    {
        return Err(bad(
            "modulo_data_troppo_lontana",
            format!(
                "La data del campo «{label}» non può essere successiva di più di {days} giorni a oggi."
            ),
        ));
    }
    Ok(date)
}

/// A foglio, particella or subalterno: 1–8 ASCII letters or digits.
fn cadastral_part(s: &str) -> bool {
    (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn parse_particelle(field: &Field, raw: &RawAnswers) -> Result<Option<Value>, Bad> {
    let label = &field.label;
    let id = &field.id;
    let column = |sub: &str| -> Vec<String> {
        raw.get(&format!("{id}.{sub}"))
            .map(|vs| vs.iter().map(|v| v.trim().to_owned()).collect())
            .unwrap_or_default()
    };
    let cc = column("codice_catastale");
    let fogli = column("foglio");
    let particelle = column("particella");
    let subs = column("subalterno");
    let rows = cc
        .len()
        .max(fogli.len())
        .max(particelle.len())
        .max(subs.len());
    let cell = |col: &Vec<String>, i: usize| col.get(i).cloned().unwrap_or_default();
    let mut out = Vec::new();
    for i in 0..rows {
        let (c, f, p, s) = (
            cell(&cc, i),
            cell(&fogli, i),
            cell(&particelle, i),
            cell(&subs, i),
        );
        if c.is_empty() && f.is_empty() && p.is_empty() && s.is_empty() {
            continue;
        }
        let n = i + 1;
        let codice_catastale = CodiceCatastale::parse(&c).map_err(|_| {
            bad(
                "modulo_codice_catastale_non_valido",
                format!(
                    "Il campo «{label}», particella n. {n}: il codice catastale del comune deve essere una lettera e tre cifre (es. B923)."
                ),
            )
        })?;
        if !cadastral_part(&f) || !cadastral_part(&p) || !(s.is_empty() || cadastral_part(&s)) {
            return Err(bad(
                "modulo_particella_non_valida",
                format!(
                    "Il campo «{label}», particella n. {n}: indicare foglio e particella (e l'eventuale subalterno) con lettere e cifre."
                ),
            ));
        }
        out.push(Particella {
            codice_catastale,
            foglio: f.to_ascii_uppercase(),
            particella: p.to_ascii_uppercase(),
            subalterno: if s.is_empty() {
                None
            } else {
                Some(s.to_ascii_uppercase())
            },
        });
    }
    let max = field.rules.max_rows.unwrap_or(DEFAULT_MAX_ROWS);
    if out.len() > usize::try_from(max).unwrap_or(usize::MAX) {
        return Err(bad(
            "modulo_particelle_troppe",
            format!("Il campo «{label}» ammette al massimo {max} particelle."),
        ));
    }
    Ok(if out.is_empty() {
        None
    } else {
        Some(Value::Particelle(out))
    })
}

/// Parses the address parts of `field`. `strict`: civico and CAP required
/// (an `indirizzo` field); otherwise only via and comune (a `posizione`).
fn parse_indirizzo(
    field: &Field,
    raw: &RawAnswers,
    strict: bool,
) -> Result<Option<Indirizzo>, Bad> {
    let label = &field.label;
    let id = &field.id;
    let part = |sub: &str| single(raw, &format!("{id}.{sub}"), label);
    let (via, civico, cap, comune) = (part("via")?, part("civico")?, part("cap")?, part("comune")?);
    if via.is_none() && civico.is_none() && cap.is_none() && comune.is_none() {
        return Ok(None);
    }
    let too_long_or_control = [via, civico, cap, comune]
        .into_iter()
        .flatten()
        .any(|s| s.chars().count() > PART_MAX || s.chars().any(char::is_control));
    if too_long_or_control {
        return Err(invalid(
            "modulo_indirizzo_non_valido",
            label,
            "ogni parte dell'indirizzo può contenere al massimo 200 caratteri.",
        ));
    }
    let (Some(via), Some(comune)) = (via, comune) else {
        return Err(incomplete_address(label, strict));
    };
    if strict && (civico.is_none() || cap.is_none()) {
        return Err(incomplete_address(label, strict));
    }
    let cap = cap
        .map(Cap::parse)
        .transpose()
        .map_err(|e| invalid("modulo_cap_non_valido", label, &e.message_it()))?;
    Ok(Some(Indirizzo {
        via: via.to_owned(),
        civico: civico.map(str::to_owned),
        cap,
        comune: comune.to_owned(),
    }))
}

fn incomplete_address(label: &str, strict: bool) -> Bad {
    bad(
        "modulo_indirizzo_incompleto",
        if strict {
            format!("Il campo «{label}»: indicare via, numero civico, CAP e comune.")
        } else {
            format!("Il campo «{label}»: indicare almeno via e comune.")
        },
    )
}

/// A coordinate in decimal degrees (`41.0123` or `41,0123`) within ±`limit`.
fn coordinate(text: &str, limit: f64) -> Option<f64> {
    let text = text.replace(',', ".");
    if text.is_empty()
        || text.len() > 20
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+')
    {
        return None;
    }
    let v: f64 = text.parse().ok()?;
    (v.is_finite() && v.abs() <= limit).then_some(v)
}

fn parse_posizione(field: &Field, raw: &RawAnswers) -> Result<Option<Value>, Bad> {
    let label = &field.label;
    let id = &field.id;
    let indirizzo = parse_indirizzo(field, raw, false)?;
    let lat = single(raw, &format!("{id}.lat"), label)?;
    let lon = single(raw, &format!("{id}.lon"), label)?;
    let (lat, lon) = match (lat, lon) {
        (None, None) => (None, None),
        (Some(a), Some(o)) => {
            let (Some(a), Some(o)) = (coordinate(a, 90.0), coordinate(o, 180.0)) else {
                return Err(invalid(
                    "modulo_coordinate_non_valide",
                    label,
                    "le coordinate del punto sulla mappa non sono valide.",
                ));
            };
            (Some(a), Some(o))
        }
        _ => {
            return Err(invalid(
                "modulo_coordinate_non_valide",
                label,
                "indicare sia la latitudine sia la longitudine.",
            ));
        }
    };
    if indirizzo.is_none() && lat.is_none() {
        return Ok(None);
    }
    Ok(Some(Value::Posizione(Posizione {
        indirizzo,
        lat,
        lon,
    })))
}

// ---------------------------------------------------------------------------
// Back to raw answers, pre-filling, declarations, final validation
// ---------------------------------------------------------------------------

/// An amount as typed in a form, without the euro sign (`1.020,99`).
pub(crate) fn amount_plain(c: Cents) -> String {
    c.to_string().trim_end_matches(" €").to_owned()
}

fn push(raw: &mut RawAnswers, key: String, value: String) {
    raw.entry(key).or_default().push(value);
}

fn indirizzo_to_raw(raw: &mut RawAnswers, id: &str, i: &Indirizzo) {
    push(raw, format!("{id}.via"), i.via.clone());
    push(
        raw,
        format!("{id}.civico"),
        i.civico.clone().unwrap_or_default(),
    );
    push(
        raw,
        format!("{id}.cap"),
        i.cap
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
    );
    push(raw, format!("{id}.comune"), i.comune.clone());
}

/// The raw form of a value, as the field's inputs would post it
/// (`parse_step` reads it back to the same value).
fn value_to_raw(raw: &mut RawAnswers, id: &str, value: &Value) {
    match value {
        Value::Text(s) | Value::Telefono(s) => push(raw, id.to_owned(), s.clone()),
        Value::CodiceFiscale(cf) => push(raw, id.to_owned(), cf.as_str().to_owned()),
        Value::PartitaIva(p) => push(raw, id.to_owned(), p.as_str().to_owned()),
        Value::Email(e) => push(raw, id.to_owned(), e.as_str().to_owned()),
        Value::Date(d) => push(raw, id.to_owned(), d.to_string()),
        Value::Cents(c) => push(raw, id.to_owned(), amount_plain(*c)),
        Value::Integer(n) => push(raw, id.to_owned(), n.to_string()),
        Value::Choice(values) => {
            for v in values {
                push(raw, id.to_owned(), v.clone());
            }
        }
        Value::Bool(b) => push(raw, id.to_owned(), if *b { "si" } else { "no" }.to_owned()),
        Value::Particelle(list) => {
            for p in list {
                push(
                    raw,
                    format!("{id}.codice_catastale"),
                    p.codice_catastale.as_str().to_owned(),
                );
                push(raw, format!("{id}.foglio"), p.foglio.clone());
                push(raw, format!("{id}.particella"), p.particella.clone());
                push(
                    raw,
                    format!("{id}.subalterno"),
                    p.subalterno.clone().unwrap_or_default(),
                );
            }
        }
        Value::Indirizzo(i) => indirizzo_to_raw(raw, id, i),
        Value::Posizione(p) => {
            if let Some(i) = &p.indirizzo {
                indirizzo_to_raw(raw, id, i);
            }
            if let (Some(lat), Some(lon)) = (p.lat, p.lon) {
                push(raw, format!("{id}.lat"), lat.to_string());
                push(raw, format!("{id}.lon"), lon.to_string());
            }
        }
    }
}

/// The saved answers of a step in raw form, to fill its inputs again when
/// the user goes back (C.SE.1.8) or resumes a draft (C.SE.1.6).
#[must_use]
pub fn answers_to_raw(def: &FormDefinition, step_id: &str, answers: &Answers) -> RawAnswers {
    let mut raw = RawAnswers::new();
    if let Some(step) = def.step(step_id) {
        for field in &step.fields {
            if let Some(v) = answers.values.get(&field.id) {
                value_to_raw(&mut raw, &field.id, v);
            }
        }
    }
    raw
}

/// What the comune already knows about the user, for once-only pre-filling
/// (C.SE.1.5): each source as the text an input would hold (dates as
/// `AAAA-MM-GG`), and the residence address in parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefillContext {
    /// Source → value.
    pub values: BTreeMap<Prefill, String>,
    /// The residence address (`anagrafe.indirizzo_residenza`).
    pub residenza: Option<Indirizzo>,
}

impl PrefillContext {
    /// An empty context (nothing known).
    #[must_use]
    pub fn new() -> PrefillContext {
        PrefillContext::default()
    }

    /// Adds a source's value.
    #[must_use]
    pub fn with(mut self, source: Prefill, value: impl Into<String>) -> PrefillContext {
        self.values.insert(source, value.into());
        self
    }

    /// Sets the residence address.
    #[must_use]
    pub fn with_residenza(mut self, indirizzo: Indirizzo) -> PrefillContext {
        self.residenza = Some(indirizzo);
        self
    }
}

/// Raw values for the fields of a step that have a pre-fill source known
/// in `ctx` and no answer yet in `answers` (what the user typed wins).
#[must_use]
pub fn prefill_step(
    def: &FormDefinition,
    step_id: &str,
    ctx: &PrefillContext,
    answers: &Answers,
) -> RawAnswers {
    let mut raw = RawAnswers::new();
    let Some(step) = def.step(step_id) else {
        return raw;
    };
    for field in &step.fields {
        let Some(source) = field.prefill else {
            continue;
        };
        if answers.values.contains_key(&field.id) {
            continue;
        }
        if source == Prefill::AnagrafeIndirizzoResidenza {
            let Some(res) = &ctx.residenza else {
                continue;
            };
            match field.kind {
                FieldKind::Indirizzo | FieldKind::Posizione => {
                    indirizzo_to_raw(&mut raw, &field.id, res);
                }
                _ => push(&mut raw, field.id.clone(), res.to_string()),
            }
        } else if let Some(v) = ctx.values.get(&source) {
            push(&mut raw, field.id.clone(), v.clone());
        }
    }
    raw
}

/// Reads the declarations ticked on the confirmation page (checkboxes
/// named by the declaration id, value `si` or `on`) into the answers.
///
/// # Errors
/// `modulo_dichiarazione_mancante` for each applicable declaration not
/// ticked, `modulo_campo_sconosciuto` for any other posted key.
pub fn parse_declarations(
    def: &FormDefinition,
    raw: &RawAnswers,
    answers: &Answers,
) -> Result<Answers, FieldErrors> {
    let mut errors = FieldErrors::default();
    for key in raw.keys() {
        if !CONTROL_KEYS.contains(&key.as_str()) && !def.declarations.iter().any(|d| &d.id == key) {
            errors.push(
                key,
                None,
                "modulo_campo_sconosciuto",
                "Il modulo inviato contiene un campo non previsto: ricaricare la pagina e riprovare."
                    .to_owned(),
            );
        }
    }
    let mut out = answers.clone();
    let effective = effective_values(def, &answers.values);
    for decl in &def.declarations {
        out.values.remove(&decl.id);
        if decl
            .condition
            .as_ref()
            .is_some_and(|c| !c.holds(&effective))
        {
            continue;
        }
        let ticked = posted(raw, &decl.id)
            .iter()
            .any(|v| matches!(v.to_lowercase().as_str(), "si" | "sì" | "on"));
        if ticked {
            out.values.insert(decl.id.clone(), Value::Bool(true));
        } else {
            errors.push(
                &decl.id,
                None,
                "modulo_dichiarazione_mancante",
                declaration_message(&decl.text),
            );
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn declaration_message(text: &str) -> String {
    let short: String = text.chars().take(80).collect();
    let ellipsis = if text.chars().count() > 80 { "…" } else { "" };
    format!("È necessario confermare la dichiarazione «{short}{ellipsis}».")
}

/// Checks a whole submission before it is filed: every required field of
/// the visible steps is answered, each required attachment whose condition
/// holds has at least one file and none has more than its `file_max`, and
/// every applicable declaration is ticked. `attachments_present` gives,
/// per attachment id, how many files were uploaded.
///
/// # Errors
/// Every problem: `modulo_campo_obbligatorio`, `modulo_allegato_obbligatorio`,
/// `modulo_allegati_troppi`, `modulo_allegato_sconosciuto`,
/// `modulo_dichiarazione_mancante`, and `modulo_campo_da_aggiornare` for
/// a stored value that no longer fits its field.
pub fn validate_all(
    def: &FormDefinition,
    answers: &Answers,
    attachments_present: &[(&str, u32)],
) -> Result<(), FormErrors> {
    let mut errors = FieldErrors::default();
    let effective = effective_values(def, &answers.values);
    for step in visible_steps(def, answers) {
        for field in visible_fields(def, step, answers) {
            match effective.get(&field.id) {
                None if field.required => errors.push(
                    &field.id,
                    Some(&step.id),
                    "modulo_campo_obbligatorio",
                    format!("Il campo «{}» è obbligatorio.", field.label),
                ),
                // A draft saved under an older version of the form: the
                // field changed kind or lost the option chosen.
                Some(value) if !value.fits(&field.kind) => errors.push(
                    &field.id,
                    Some(&step.id),
                    "modulo_campo_da_aggiornare",
                    format!(
                        "Il modulo è stato aggiornato: compilare di nuovo il campo «{}».",
                        field.label
                    ),
                ),
                _ => {}
            }
        }
    }
    for (id, _) in attachments_present {
        if !def.attachments.iter().any(|a| a.id == *id) {
            errors.push(
                id,
                None,
                "modulo_allegato_sconosciuto",
                "È stato caricato un allegato non previsto dal modulo.".to_owned(),
            );
        }
    }
    for spec in &def.attachments {
        if spec
            .condition
            .as_ref()
            .is_some_and(|c| !c.holds(&effective))
        {
            continue;
        }
        let count: u32 = attachments_present
            .iter()
            .filter(|(id, _)| *id == spec.id)
            .map(|(_, n)| *n)
            .sum();
        if spec.required && count == 0 {
            errors.push(
                &spec.id,
                None,
                "modulo_allegato_obbligatorio",
                format!("L'allegato «{}» è obbligatorio.", spec.label),
            );
        }
        if count > spec.max_files {
            errors.push(
                &spec.id,
                None,
                "modulo_allegati_troppi",
                format!(
                    "Per l'allegato «{}» si possono caricare al massimo {} file.",
                    spec.label, spec.max_files
                ),
            );
        }
    }
    for decl in &def.declarations {
        if decl
            .condition
            .as_ref()
            .is_some_and(|c| !c.holds(&effective))
        {
            continue;
        }
        if answers.values.get(&decl.id) != Some(&Value::Bool(true)) {
            errors.push(
                &decl.id,
                None,
                "modulo_dichiarazione_mancante",
                declaration_message(&decl.text),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
