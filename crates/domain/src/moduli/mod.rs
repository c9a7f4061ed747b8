//! The declarative form engine of the online services (moduli online).
//!
//! Every istanza, dichiarazione and segnalazione is filed through a guided
//! form (DL 90/2014 art. 24 c.3-bis: "compilazione on line con procedure
//! guidate"). Each online service has a versioned [`FormDefinition`],
//! written by the comune's admin in TOML (or JSON) and documented in
//! `docs/moduli.md`. This module is pure: no IO, no clock (the caller
//! passes today's date), no HTML.
//!
//! The flow a web handler follows:
//!
//! 1. [`FormDefinition::from_toml`] + [`FormDefinition::validate`] when the
//!    definition is loaded;
//! 2. [`prefill_step`] fills the fields whose data the comune already has
//!    (once-only, modello Comuni C.SE.1.5) and [`answers_to_raw`] the ones
//!    the user already gave (going back to edit, C.SE.1.8; resuming a draft,
//!    C.SE.1.6);
//! 3. [`parse_step`] turns what the browser posted ([`RawAnswers`]) into
//!    typed [`Answers`], or into [`FieldErrors`] to show next to the fields;
//! 4. [`visible_steps`], [`next_step`], [`previous_step`],
//!    [`step_position`] and [`first_incomplete_step`] drive the step bar;
//! 5. [`summary`] gives the single textual summary shown before the final
//!    confirmation (C.SE.1.4), where [`parse_declarations`] reads the
//!    ticked declarations;
//! 6. [`validate_all`] checks the whole submission once more before it is
//!    filed.

mod definizione;
mod navigazione;
mod predefiniti;
mod risposte;

pub use definizione::{
    AttachmentSpec, ChoiceOption, Condition, Declaration, DefinitionError, Field, FieldKind,
    FormDefinition, MediaType, Prefill, Rules, Step,
};
pub use navigazione::{
    SummarySection, applicable_attachments, applicable_declarations, display_value,
    first_incomplete_step, next_step, previous_step, step_position, summary, visible_fields,
    visible_steps,
};
pub use predefiniti::{predefiniti, predefinito};
pub use risposte::{
    Answers, CONTROL_KEYS, FieldError, FieldErrors, FormErrors, Indirizzo, Particella, Posizione,
    PrefillContext, RawAnswers, Value, answers_to_raw, fields_to_fill, parse_declarations,
    parse_step, prefill_step, validate_all,
};

#[cfg(test)]
mod tests;
