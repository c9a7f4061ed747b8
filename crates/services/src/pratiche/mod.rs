//! Online istanze, dichiarazioni and segnalazioni worked as digital
//! procedures (issue 6; DL 90/2014 art. 24 c.3-bis, the "piano di
//! informatizzazione").
//!
//! * [`ServiceDefinition`]: what an online service is — its form
//!   (`palazzo_domain::moduli`), its procedure
//!   (`palazzo_domain::procedimento`), the titolario class its fascicoli
//!   take and the protocol subject. Versioned, never edited in place,
//!   import/exportable as TOML or JSON ([`definizioni`]).
//! * Drafts ([`bozze`]): started from a service, saved at every step
//!   (C.SE.1.6), prefilled with what the comune knows (C.SE.1.5), with
//!   their attachments, checked by content.
//! * Submission ([`presentazione`]): one transaction that files the
//!   pratica, registers it in the protocollo with its attachments, opens its
//!   fascicolo, assigns it to the competent office and ledgers every step
//!   (art. 18-bis L. 241/1990: the receipt, with the deadline, at once).
//! * The procedure ([`procedura`]): each action of the office or of the
//!   applicant is a transition of the service's procedure, with the legal
//!   clock recomputed from the pratica's dated history.
//! * TEMPI-01 ([`tempi`]): the actual times per service and quarter, from
//!   the stored pratiche and their history, for publication.
//! * The office's work ([`ufficio`]): the responsabile named, the transfer
//!   to another office, internal opinions, messages with the applicant.

mod avvisi;
pub mod bozze;
pub mod definizioni;
pub mod documento;
pub mod presentazione;
pub mod procedura;
pub mod tempi;
pub mod ufficio;

pub use bozze::{BozzaView, StepOutcome, Upload};
pub use definizioni::{SHIPPED, ServiceDefinition, ShippedService};
pub use presentazione::Submitted;
pub use procedura::{ActInput, PraticaView};
pub use ufficio::{EsitoParere, MessageInput, ParereAnswer, ParereInterno, ParereRequest};

use palazzo_domain::moduli::FieldErrors;

use crate::ServiceError;

/// The errors of a form step or a submission, as a [`ServiceError`]: the
/// first one's code and every message, one per line (the web layer shows
/// each next to its field from the [`FieldErrors`] it keeps).
pub fn form_error(errors: &FieldErrors) -> ServiceError {
    let code = errors
        .errors
        .first()
        .map_or("modulo_non_valido", |e| e.code);
    let message = errors
        .errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    ServiceError::Invalid { code, message }
}
