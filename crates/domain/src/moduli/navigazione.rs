//! Navigation between steps (C.SE.1.8) and the summary (C.SE.1.4).

use std::collections::BTreeMap;

use serde::Serialize;

use super::definizione::{AttachmentSpec, Declaration, Field, FieldKind, FormDefinition, Step};
use super::risposte::{Answers, Value};

/// Is the step shown for these values?
pub(crate) fn step_visible(step: &Step, values: &BTreeMap<String, Value>) -> bool {
    step.condition.as_ref().is_none_or(|c| c.holds(values))
}

/// Is the field shown for these values (its own condition only)?
pub(crate) fn field_visible(field: &Field, values: &BTreeMap<String, Value>) -> bool {
    field.condition.as_ref().is_none_or(|c| c.holds(values))
}

/// The answers that count: those of visible fields of visible steps,
/// decided in document order so that a value left behind in a field that
/// is now hidden (the user changed an earlier answer) never makes another
/// field or step visible. Conditions read only earlier fields
/// ([`FormDefinition::validate`]), so one pass suffices.
pub(crate) fn effective_values(
    def: &FormDefinition,
    values: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for step in &def.steps {
        if !step_visible(step, &out) {
            continue;
        }
        for field in &step.fields {
            if field_visible(field, &out)
                && let Some(v) = values.get(&field.id)
            {
                out.insert(field.id.clone(), v.clone());
            }
        }
    }
    out
}

/// The steps shown for these answers, in order.
#[must_use]
pub fn visible_steps<'a>(def: &'a FormDefinition, answers: &Answers) -> Vec<&'a Step> {
    let values = effective_values(def, &answers.values);
    def.steps
        .iter()
        .filter(|s| step_visible(s, &values))
        .collect()
}

/// The fields of a step shown for these answers, in order (all of them
/// are hidden if the step is).
#[must_use]
pub fn visible_fields<'a>(
    def: &FormDefinition,
    step: &'a Step,
    answers: &Answers,
) -> Vec<&'a Field> {
    let values = effective_values(def, &answers.values);
    if !step_visible(step, &values) {
        return Vec::new();
    }
    let mut seen = values.clone();
    let mut out = Vec::new();
    for f in &step.fields {
        // Within the step, a field sees the fields before it as answered.
        if field_visible(f, &seen) {
            out.push(f);
        } else {
            seen.remove(&f.id);
        }
    }
    out
}

/// The attachments asked for with these answers.
#[must_use]
pub fn applicable_attachments<'a>(
    def: &'a FormDefinition,
    answers: &Answers,
) -> Vec<&'a AttachmentSpec> {
    let values = effective_values(def, &answers.values);
    def.attachments
        .iter()
        .filter(|a| a.condition.as_ref().is_none_or(|c| c.holds(&values)))
        .collect()
}

/// The declarations asked for with these answers (the others are not
/// shown and need no tick, as [`crate::moduli::parse_declarations`] decides).
#[must_use]
pub fn applicable_declarations<'a>(
    def: &'a FormDefinition,
    answers: &Answers,
) -> Vec<&'a Declaration> {
    let values = effective_values(def, &answers.values);
    def.declarations
        .iter()
        .filter(|d| d.condition.as_ref().is_none_or(|c| c.holds(&values)))
        .collect()
}

/// The first visible step after `current` (`None`: go to the summary).
/// `current` may be hidden (answers changed): the next visible one after
/// its place is returned.
#[must_use]
pub fn next_step<'a>(
    def: &'a FormDefinition,
    current: &str,
    answers: &Answers,
) -> Option<&'a Step> {
    let index = def.steps.iter().position(|s| s.id == current)?;
    let values = effective_values(def, &answers.values);
    def.steps
        .iter()
        .skip(index + 1)
        .find(|s| step_visible(s, &values))
}

/// The last visible step before `current` (`None` on the first step).
#[must_use]
pub fn previous_step<'a>(
    def: &'a FormDefinition,
    current: &str,
    answers: &Answers,
) -> Option<&'a Step> {
    let index = def.steps.iter().position(|s| s.id == current)?;
    let values = effective_values(def, &answers.values);
    def.steps
        .iter()
        .take(index)
        .rev()
        .find(|s| step_visible(s, &values))
}

/// `(n, total)` for the step bar ("2/5"): the 1-based position of `current`
/// among the visible steps and their number. `None` if `current` is not a
/// visible step.
#[must_use]
pub fn step_position(
    def: &FormDefinition,
    current: &str,
    answers: &Answers,
) -> Option<(usize, usize)> {
    let steps = visible_steps(def, answers);
    let n = steps.iter().position(|s| s.id == current)?;
    Some((n + 1, steps.len()))
}

/// Where to resume a draft (C.SE.1.6): the first visible step not yet
/// completed, or with a visible required field unanswered. `None` when
/// every step is complete (go to the summary).
#[must_use]
pub fn first_incomplete_step<'a>(def: &'a FormDefinition, answers: &Answers) -> Option<&'a Step> {
    visible_steps(def, answers).into_iter().find(|step| {
        !answers.completed_steps.contains(&step.id)
            || visible_fields(def, step, answers)
                .into_iter()
                .any(|f| f.required && !answers.values.contains_key(&f.id))
    })
}

/// One step of the summary page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummarySection {
    /// The step id (for the "Modifica" link).
    pub step_id: String,
    /// The step title.
    pub title: String,
    /// `(label, value)` of each answered visible field, in order.
    pub rows: Vec<(String, String)>,
}

/// The single textual summary shown before the final confirmation
/// (modello Comuni C.SE.1.4): per visible step, the label and the Italian
/// display of every answered visible field.
#[must_use]
pub fn summary(def: &FormDefinition, answers: &Answers) -> Vec<SummarySection> {
    visible_steps(def, answers)
        .into_iter()
        .map(|step| SummarySection {
            step_id: step.id.clone(),
            title: step.title.clone(),
            rows: visible_fields(def, step, answers)
                .into_iter()
                .filter_map(|f| {
                    answers
                        .values
                        .get(&f.id)
                        .map(|v| (f.label.clone(), display_value(f, v)))
                })
                .collect(),
        })
        .collect()
}

fn coordinate_it(v: f64) -> String {
    format!("{v:.6}").replace('.', ",")
}

/// The Italian display of a value: dates `02/03/2026`, amounts
/// `1.020,99 €`, choices by their label, `Sì`/`No`, parcels
/// `Foglio 12, particella 345, sub. 6 (B923)`.
#[must_use]
pub fn display_value(field: &Field, value: &Value) -> String {
    match value {
        Value::Text(s) | Value::Telefono(s) => s.clone(),
        Value::CodiceFiscale(cf) => cf.as_str().to_owned(),
        Value::PartitaIva(p) => p.as_str().to_owned(),
        Value::Email(e) => e.as_str().to_owned(),
        Value::Date(d) => format!("{:02}/{:02}/{:04}", d.day(), d.month(), d.year()),
        Value::Cents(c) => c.to_string(),
        Value::Integer(n) => n.to_string(),
        Value::Choice(values) => {
            let labels: Vec<&str> = values
                .iter()
                .map(|v| match &field.kind {
                    FieldKind::Scelta { options, .. } => options
                        .iter()
                        .find(|o| &o.value == v)
                        .map_or(v.as_str(), |o| o.label.as_str()),
                    _ => v.as_str(),
                })
                .collect();
            labels.join(", ")
        }
        Value::Bool(true) => "Sì".to_owned(),
        Value::Bool(false) => "No".to_owned(),
        Value::Particelle(list) => list
            .iter()
            .map(|p| {
                let sub = p
                    .subalterno
                    .as_ref()
                    .map(|s| format!(", sub. {s}"))
                    .unwrap_or_default();
                format!(
                    "Foglio {}, particella {}{sub} ({})",
                    p.foglio, p.particella, p.codice_catastale
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::Indirizzo(i) => i.to_string(),
        Value::Posizione(p) => {
            let mut parts = Vec::new();
            if let Some(i) = &p.indirizzo {
                parts.push(i.to_string());
            }
            if let (Some(lat), Some(lon)) = (p.lat, p.lon) {
                parts.push(format!(
                    "coordinate {} N, {} E",
                    coordinate_it(lat),
                    coordinate_it(lon)
                ));
            }
            parts.join(" — ")
        }
    }
}
