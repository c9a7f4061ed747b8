//! The L. 241/1990 procedure engine (issue 6): procedure definitions, the
//! clock of a pratica and its state machine. Pure: no IO, no store.
//!
//! * [`ProcedureDefinition`]: one kind of procedure, serialisable in a
//!   service-definition file (TOML/JSON), with its term, matter,
//!   silenzio-assenso / SCIA flags, integration rule, optional landscape
//!   [`Phases`], states and [`TransitionDef`]s. [`ProcedureDefinition::validate`]
//!   checks it (PROC-01, PROC-05).
//! * [`ProcedureDefinition::clock`]: a pure function from the pratica's dated
//!   [`ClockEvent`]s to its [`Clock`] (PROC-03…08, PAE-01/02; `clock.rs`).
//! * [`ProcedureDefinition::transition`]: which action a role may take in a
//!   state, with the legal guards (PROC-04, PROC-06, PROC-08, PAE).
//! * Presets: [`ProcedureDefinition::ordinario`], [`ProcedureDefinition::scia`],
//!   [`ProcedureDefinition::silenzio_assenso`],
//!   [`ProcedureDefinition::autorizzazione_paesaggistica_semplificata`],
//!   [`ProcedureDefinition::autorizzazione_paesaggistica_ordinaria`],
//!   [`ProcedureDefinition::accesso_civico_generalizzato`],
//!   [`ProcedureDefinition::accesso_civico_semplice`].
//! * [`tempi`]: the TEMPI-01 quarterly aggregation.
//!
//! Every term is an administrative term ([`TermRule::Administrative`],
//! DECISIONS 9): calendar days, the start day not counted, a final day on
//! a festivo moved to the next non-festivo day. See `docs/procedimenti.md`.

mod clock;
mod error;
pub mod tempi;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, TermRule, add_calendar_months};

pub use clock::{Clock, PhaseClock, PreavvisoStatus, late_measure_sentence};
pub use error::ProcedureError;

/// The rule every term of this module uses (DECISIONS 9).
pub const TERM_RULE: TermRule = TermRule::Administrative;

/// Default term when no law or regulation sets another (art. 2 c.2 L. 241/1990).
pub const DEFAULT_TERM_DAYS: u32 = 30;

/// Longest term a regulation may set without a special law (art. 2 c.4).
pub const MAX_TERM_DAYS: u32 = 180;

/// Days the applicant has for observations after a 10-bis notice
/// (art. 10-bis L. 241/1990), and after which the term resumes.
pub const PREAVVISO_DAYS: u32 = 10;

/// The body name of the Soprintendenza in [`ClockEvent::PareriRequested`] /
/// [`ClockEvent::ParereReceived`]; the landscape [`Phases`] read it.
pub const SOPRINTENDENZA: &str = "soprintendenza";

/// The roles that may act on a pratica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ruolo {
    /// Back-office clerk.
    Operatore,
    /// Responsabile del procedimento (art. 4-6 L. 241/1990).
    Responsabile,
    /// Head of the unit adopting the final measure.
    Dirigente,
    /// The applicant (or a controinteressato).
    Cittadino,
    /// Palazzo itself, for transitions that happen by the passing of time.
    Sistema,
}

impl Ruolo {
    /// Stable code (as serialised).
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Ruolo::Operatore => "operatore",
            Ruolo::Responsabile => "responsabile",
            Ruolo::Dirigente => "dirigente",
            Ruolo::Cittadino => "cittadino",
            Ruolo::Sistema => "sistema",
        }
    }
}

/// The matter of a procedure, for the art. 20 c.4 L. 241/1990 exclusions
/// from silenzio-assenso (PROC-05).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Materia {
    /// Landscape heritage (excluded).
    Paesaggio,
    /// Cultural heritage (excluded).
    BeniCulturali,
    /// Environment (excluded).
    Ambiente,
    /// Hydrogeological risk (excluded).
    AssettoIdrogeologico,
    /// Defence (excluded).
    Difesa,
    /// Public security and public order (excluded).
    SicurezzaPubblica,
    /// Immigration, asylum and citizenship (excluded).
    Immigrazione,
    /// Health and public safety (excluded).
    Salute,
    /// Public safety / pubblica incolumità (excluded).
    PubblicaIncolumita,
    /// Cases where EU law requires a formal measure (excluded).
    ObbligoComunitario,
    /// Cases where the law treats silence as refusal (excluded).
    SilenzioRigetto,
    /// Building (not excluded: e.g. permesso di costruire, art. 20 DPR 380/2001).
    Edilizia,
    /// Access to data and documents (not excluded).
    Accesso,
    /// Anything else (not excluded).
    Altro,
}

impl Materia {
    /// Is silenzio-assenso excluded for this matter (art. 20 c.4 L. 241/1990)?
    #[must_use]
    pub fn excluded_from_silenzio_assenso(self) -> bool {
        !matches!(self, Materia::Edilizia | Materia::Accesso | Materia::Altro)
    }

    /// Italian label.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Materia::Paesaggio => "patrimonio paesaggistico",
            Materia::BeniCulturali => "patrimonio culturale",
            Materia::Ambiente => "ambiente",
            Materia::AssettoIdrogeologico => "tutela dal rischio idrogeologico",
            Materia::Difesa => "difesa nazionale",
            Materia::SicurezzaPubblica => "pubblica sicurezza",
            Materia::Immigrazione => "immigrazione, asilo e cittadinanza",
            Materia::Salute => "salute",
            Materia::PubblicaIncolumita => "pubblica incolumità",
            Materia::ObbligoComunitario => {
                "atti per cui il diritto UE impone un provvedimento formale"
            }
            Materia::SilenzioRigetto => "casi in cui il silenzio vale rigetto",
            Materia::Edilizia => "edilizia",
            Materia::Accesso => "accesso",
            Materia::Altro => "altro",
        }
    }
}

/// Who starts the procedure (art. 2 c.1, c.6 L. 241/1990).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Iniziativa {
    /// On request of a party: 10-bis and silenzio-assenso may apply.
    #[default]
    Istanza,
    /// Ex officio.
    Ufficio,
}

/// What happens when a requested integration never arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMissing {
    /// The term resumes by itself after `max_days` (art. 2 c.7; DECISIONS 24).
    #[default]
    Resume,
    /// The application cannot proceed (DPR 31/2017 art. 11 c.5).
    Improcedibile,
}

/// The art. 2 c.7 suspension for missing information or documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationRule {
    /// The longest pause (art. 2 c.7: at most 30 days).
    #[serde(default = "default_integration_days")]
    pub max_days: u32,
    /// The request must come within this many days of receipt (DPR 31/2017
    /// art. 11 c.5: 10), if set.
    #[serde(default)]
    pub within_days_of_receipt: Option<u32>,
    /// What a missing answer causes.
    #[serde(default)]
    pub on_missing: OnMissing,
}

fn default_integration_days() -> u32 {
    30
}

impl Default for IntegrationRule {
    fn default() -> Self {
        IntegrationRule {
            max_days: 30,
            within_days_of_receipt: None,
            on_missing: OnMissing::Resume,
        }
    }
}

/// SCIA (art. 19 L. 241/1990): effective on filing; the PA may forbid
/// the activity within the control window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scia {
    /// 60 days, or 30 for building SCIA (art. 19 c.3 and c.6-bis).
    pub control_days: u32,
}

/// What happens when the Soprintendenza does not give its opinion in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum OnSilence {
    /// Silenzio-assenso of the Soprintendenza once the opinion term has
    /// passed (DPR 31/2017 art. 11 c.9).
    SilenzioAssenso,
    /// The administration decides anyway after `after_days` from sending
    /// the file (art. 146 c.9 d.lgs. 42/2004: 60 in the 2008 text, 45 per
    /// some comuni; PAE-01 keeps it configurable).
    ProvvedeComunque {
        /// Days from sending after which the administration may decide.
        after_days: u32,
    },
}

/// Sub-clocks of the landscape authorisations (PAE-01, PAE-02).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phases {
    /// Days from receipt (net of suspensions) to send the file to the
    /// Soprintendenza: 40 (art. 146 c.7), 20 (DPR 31/2017 art. 11 c.5).
    pub send_within_days: u32,
    /// Days from sending for the binding opinion: 45 (art. 146 c.8), 20
    /// (DPR 31/2017 art. 11 c.9).
    pub opinion_within_days: u32,
    /// Days from the opinion (or the end of its term) to decide: 20
    /// (art. 146 c.8), 10 (DPR 31/2017 art. 11 c.9).
    pub decision_within_days: u32,
    /// What the Soprintendenza's silence causes.
    pub on_silence: OnSilence,
    /// The legal reference of these clocks.
    pub legal_ref: String,
}

/// Counter-interested parties (accesso civico generalizzato, art. 5 c.5
/// d.lgs. 33/2013): they are told of the request and may oppose within
/// `opposition_days` of receiving the notice; the term is suspended
/// meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controinteressati {
    /// Days to oppose (art. 5 c.5: 10).
    pub opposition_days: u32,
    /// Minimum days between the controinteressato's receipt of the
    /// acceptance and the release of the data (art. 5 c.6: 15).
    pub release_after_days: u32,
}

impl Controinteressati {
    /// Art. 5 c.6 d.lgs. 33/2013: when access is granted over an
    /// opposition, the data are sent no earlier than `release_after_days`
    /// (15) after the controinteressato received the acceptance. A
    /// "not before" date, not a term: it is never moved off a festivo.
    ///
    /// # Errors
    /// [`ProcedureError::Calendar`] past year 9999.
    pub fn release_not_before(&self, acceptance_received: Date) -> Result<Date, ProcedureError> {
        let span = jiff::Span::new()
            .try_days(i64::from(self.release_after_days))
            .map_err(|_| crate::calendar::CalendarError::OutOfRange)?;
        Ok(acceptance_received
            .checked_add(span)
            .map_err(|_| crate::calendar::CalendarError::OutOfRange)?)
    }
}

/// The actions on a pratica. Each produces at most one [`ClockEvent`]
/// ([`ProcedureDefinition::transition`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Azione {
    /// The office takes the application in charge.
    PresaInCarico,
    /// Request for integration (art. 2 c.7): pauses the clock.
    RichiestaIntegrazione,
    /// The applicant sends the integration: the clock resumes.
    Integrazione,
    /// The integration window lapsed without an answer (system).
    DecorrenzaIntegrazione,
    /// Preavviso di rigetto (art. 10-bis): pauses the clock.
    PreavvisoRigetto,
    /// The applicant files observations.
    Osservazioni,
    /// The inquiry resumes after a pause has ended.
    RipresaIstruttoria,
    /// Request for an opinion from another body.
    RichiestaParere,
    /// A favourable opinion is registered.
    ParereFavorevole,
    /// A negative opinion is registered.
    ParereContrario,
    /// The opinion term lapsed: silence of the Soprintendenza, or
    /// "provvede comunque" (PAE-01/02).
    SilenzioParere,
    /// Notice to controinteressati (art. 5 c.5 d.lgs. 33/2013).
    NotificaControinteressati,
    /// A controinteressato opposes.
    Opposizione,
    /// Express acceptance.
    Accoglimento,
    /// Express refusal (PROC-04 guards).
    Rigetto,
    /// Silenzio-assenso is recorded (art. 20, PROC-05).
    SilenzioAssenso,
    /// SCIA: order to stop the activity within the control window (art. 19 c.3).
    DivietoProsecuzione,
    /// SCIA: intervention after the window, art. 21-nonies (≤ 12 months).
    Autotutela,
    /// The application cannot proceed.
    Improcedibilita,
    /// The applicant withdraws.
    Ritiro,
    /// The closed file is archived.
    Archiviazione,
    /// The applicant asks the holder of the substitute power (art. 2 c.9-ter).
    RichiestaPotereSostitutivo,
}

impl Azione {
    /// Stable code (as serialised).
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Azione::PresaInCarico => "presa_in_carico",
            Azione::RichiestaIntegrazione => "richiesta_integrazione",
            Azione::Integrazione => "integrazione",
            Azione::DecorrenzaIntegrazione => "decorrenza_integrazione",
            Azione::PreavvisoRigetto => "preavviso_rigetto",
            Azione::Osservazioni => "osservazioni",
            Azione::RipresaIstruttoria => "ripresa_istruttoria",
            Azione::RichiestaParere => "richiesta_parere",
            Azione::ParereFavorevole => "parere_favorevole",
            Azione::ParereContrario => "parere_contrario",
            Azione::SilenzioParere => "silenzio_parere",
            Azione::NotificaControinteressati => "notifica_controinteressati",
            Azione::Opposizione => "opposizione",
            Azione::Accoglimento => "accoglimento",
            Azione::Rigetto => "rigetto",
            Azione::SilenzioAssenso => "silenzio_assenso",
            Azione::DivietoProsecuzione => "divieto_prosecuzione",
            Azione::Autotutela => "autotutela",
            Azione::Improcedibilita => "improcedibilita",
            Azione::Ritiro => "ritiro",
            Azione::Archiviazione => "archiviazione",
            Azione::RichiestaPotereSostitutivo => "richiesta_potere_sostitutivo",
        }
    }
}

/// The outcome recorded by [`ClockEvent::Decided`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Esito {
    /// Express acceptance.
    Accolta,
    /// Express refusal.
    Respinta,
    /// Accepted by silenzio-assenso.
    SilenzioAssenso,
    /// SCIA activity forbidden.
    Divieto,
    /// Cannot proceed.
    Improcedibile,
}

/// A dated fact of a pratica that matters to its clock. Dates are
/// Europe/Rome civil dates (DECISIONS 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum ClockEvent {
    /// Protocol date of the application; the term starts here (art. 2 c.6).
    Received {
        /// Date.
        date: Date,
    },
    /// Integration requested (art. 2 c.7).
    IntegrationRequested {
        /// Date.
        date: Date,
    },
    /// Integration received.
    IntegrationAnswered {
        /// Date.
        date: Date,
    },
    /// Preavviso di rigetto sent on `date`, received by the applicant on
    /// `received` (the pause starts then, PROC-03).
    PreavvisoRigetto {
        /// Date sent.
        date: Date,
        /// Date received by the applicant.
        received: Date,
    },
    /// Observations filed after a 10-bis notice.
    Osservazioni {
        /// Date.
        date: Date,
    },
    /// An opinion requested from `body` (e.g. [`SOPRINTENDENZA`]).
    PareriRequested {
        /// Date.
        date: Date,
        /// The body asked.
        body: String,
    },
    /// An opinion received.
    ParereReceived {
        /// Date.
        date: Date,
        /// The body.
        body: String,
        /// Favourable?
        favourable: bool,
    },
    /// Notice sent to controinteressati on `date`, received on `received`.
    ControinteressatiNotified {
        /// Date sent.
        date: Date,
        /// Date received.
        received: Date,
    },
    /// A controinteressato's opposition.
    Opposizione {
        /// Date.
        date: Date,
    },
    /// Final measure (or SCIA divieto).
    Decided {
        /// Date.
        date: Date,
        /// Outcome.
        esito: Esito,
    },
    /// Withdrawn by the applicant.
    Withdrawn {
        /// Date.
        date: Date,
    },
    /// Potere sostitutivo requested (art. 2 c.9-ter).
    SostitutivoRequested {
        /// Date.
        date: Date,
    },
}

impl ClockEvent {
    /// The event's date.
    #[must_use]
    pub fn date(&self) -> Date {
        match self {
            ClockEvent::Received { date }
            | ClockEvent::IntegrationRequested { date }
            | ClockEvent::IntegrationAnswered { date }
            | ClockEvent::PreavvisoRigetto { date, .. }
            | ClockEvent::Osservazioni { date }
            | ClockEvent::PareriRequested { date, .. }
            | ClockEvent::ParereReceived { date, .. }
            | ClockEvent::ControinteressatiNotified { date, .. }
            | ClockEvent::Opposizione { date }
            | ClockEvent::Decided { date, .. }
            | ClockEvent::Withdrawn { date }
            | ClockEvent::SostitutivoRequested { date } => *date,
        }
    }
}

/// Names of the default states ([`default_states`]).
pub mod stati {
    /// Filed, not yet taken in charge.
    pub const PRESENTATA: &str = "presentata";
    /// Under inquiry.
    pub const IN_ISTRUTTORIA: &str = "in_istruttoria";
    /// Suspended for integration (art. 2 c.7).
    pub const SOSPESA_INTEGRAZIONE: &str = "sospesa_integrazione";
    /// 10-bis notice sent.
    pub const PREAVVISO_RIGETTO: &str = "preavviso_rigetto";
    /// Waiting for an opinion.
    pub const IN_ATTESA_PARERE: &str = "in_attesa_parere";
    /// Waiting for controinteressati (accesso civico generalizzato).
    pub const IN_ATTESA_CONTROINTERESSATI: &str = "in_attesa_controinteressati";
    /// Accepted.
    pub const ACCOLTA: &str = "accolta";
    /// Refused.
    pub const RESPINTA: &str = "respinta";
    /// Accepted by silenzio-assenso.
    pub const ACCOLTA_SILENZIO_ASSENSO: &str = "accolta_silenzio_assenso";
    /// SCIA effective.
    pub const EFFICACE: &str = "efficace";
    /// SCIA activity forbidden.
    pub const DIVIETO_PROSECUZIONE: &str = "divieto_prosecuzione";
    /// Cannot proceed.
    pub const IMPROCEDIBILE: &str = "improcedibile";
    /// Withdrawn.
    pub const RITIRATA: &str = "ritirata";
    /// Archived.
    pub const ARCHIVIATA: &str = "archiviata";
}

/// Every default state name.
#[must_use]
pub fn default_states() -> Vec<String> {
    use stati::*;
    [
        PRESENTATA,
        IN_ISTRUTTORIA,
        SOSPESA_INTEGRAZIONE,
        PREAVVISO_RIGETTO,
        IN_ATTESA_PARERE,
        IN_ATTESA_CONTROINTERESSATI,
        ACCOLTA,
        RESPINTA,
        ACCOLTA_SILENZIO_ASSENSO,
        EFFICACE,
        DIVIETO_PROSECUZIONE,
        IMPROCEDIBILE,
        RITIRATA,
        ARCHIVIATA,
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// One allowed transition of the state machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionDef {
    /// Source state.
    pub from: String,
    /// Target state.
    pub to: String,
    /// The action (its [`Azione::code`] in files).
    pub action: Azione,
    /// Who may perform it.
    pub roles: Vec<Ruolo>,
}

/// A transition accepted by [`ProcedureDefinition::transition`]: the new
/// state and the clock event to store with the pratica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// State before.
    pub from: String,
    /// State after.
    pub to: String,
    /// The action.
    pub action: Azione,
    /// Who acted.
    pub role: Ruolo,
    /// The event to append (dated `today`; for a 10-bis notice or a notice
    /// to controinteressati the caller replaces `received` with the
    /// delivery date once known).
    pub event: Option<ClockEvent>,
}

/// One kind of procedure (PROC-01), as stored in a service-definition file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcedureDefinition {
    /// Stable code, e.g. `autorizzazione_paesaggistica_semplificata`.
    pub code: String,
    /// Title shown to citizens.
    pub title: String,
    /// Legal reference of the procedure and its term.
    pub legal_ref: String,
    /// Term in calendar days (art. 2 c.2: 30 by default).
    #[serde(default = "default_term_days")]
    pub term_days: u32,
    /// A special law allows a term above 180 days (art. 2 c.4).
    #[serde(default)]
    pub term_by_special_law: bool,
    /// Who starts the procedure.
    #[serde(default)]
    pub iniziativa: Iniziativa,
    /// The matter (art. 20 c.4 exclusions).
    pub materia: Materia,
    /// Silence means acceptance (art. 20).
    #[serde(default)]
    pub silenzio_assenso: bool,
    /// SCIA (art. 19), if it is one.
    #[serde(default)]
    pub scia: Option<Scia>,
    /// Art. 10-bis applies (false for competitions and social security).
    #[serde(default = "yes")]
    pub preavviso_rigetto_applies: bool,
    /// The art. 2 c.7 integration rule.
    #[serde(default)]
    pub integration: IntegrationRule,
    /// A special law makes the integration *interrupt* the term: a fresh
    /// full term from the answer (DECISIONS 24).
    #[serde(default)]
    pub interruption: bool,
    /// Opinions suspend the term for at most this many days (art. 17: up
    /// to 90), if set; otherwise they do not suspend it.
    #[serde(default)]
    pub parere_suspends_days: Option<u32>,
    /// The body asked by [`Azione::RichiestaParere`].
    #[serde(default)]
    pub parere_body: Option<String>,
    /// Landscape sub-clocks (PAE-01/02).
    #[serde(default)]
    pub phases: Option<Phases>,
    /// Controinteressati (accesso civico generalizzato).
    #[serde(default)]
    pub controinteressati: Option<Controinteressati>,
    /// The state of a new pratica.
    pub initial_state: String,
    /// Every state.
    pub states: Vec<String>,
    /// Every allowed transition.
    pub transitions: Vec<TransitionDef>,
}

fn default_term_days() -> u32 {
    DEFAULT_TERM_DAYS
}

fn yes() -> bool {
    true
}

fn push_unique(out: &mut Vec<ProcedureError>, error: ProcedureError) {
    if !out.contains(&error) {
        out.push(error);
    }
}

impl ProcedureDefinition {
    /// A definition with the given basics, no flags and the default machine.
    fn base(code: &str, title: &str, legal_ref: &str, term_days: u32, materia: Materia) -> Self {
        ProcedureDefinition {
            code: code.to_owned(),
            title: title.to_owned(),
            legal_ref: legal_ref.to_owned(),
            term_days,
            term_by_special_law: false,
            iniziativa: Iniziativa::Istanza,
            materia,
            silenzio_assenso: false,
            scia: None,
            preavviso_rigetto_applies: true,
            integration: IntegrationRule::default(),
            interruption: false,
            parere_suspends_days: None,
            parere_body: None,
            phases: None,
            controinteressati: None,
            initial_state: stati::PRESENTATA.to_owned(),
            states: default_states(),
            transitions: Vec::new(),
        }
    }

    /// Ordinary procedure on request with an express measure, `term_days`
    /// (art. 2 L. 241/1990).
    #[must_use]
    pub fn ordinario(term_days: u32) -> Self {
        Self::base(
            "ordinario",
            "Procedimento a istanza di parte",
            "L. 241/1990, art. 2",
            term_days,
            Materia::Altro,
        )
        .with_default_machine()
    }

    /// Silenzio-assenso procedure (art. 20 L. 241/1990), `term_days`.
    #[must_use]
    pub fn silenzio_assenso(term_days: u32) -> Self {
        let mut def = Self::base(
            "silenzio_assenso",
            "Procedimento a silenzio-assenso",
            "L. 241/1990, art. 20",
            term_days,
            Materia::Altro,
        );
        def.silenzio_assenso = true;
        def.with_default_machine()
    }

    /// SCIA (art. 19 L. 241/1990): effective on filing, control window of
    /// `control_days` (60, or 30 for building SCIA, art. 19 c.6-bis).
    #[must_use]
    pub fn scia(control_days: u32) -> Self {
        let mut def = Self::base(
            "scia",
            "Segnalazione certificata di inizio attività",
            "L. 241/1990, art. 19",
            control_days,
            if control_days == 30 {
                Materia::Edilizia
            } else {
                Materia::Altro
            },
        );
        def.scia = Some(Scia { control_days });
        def.initial_state = stati::EFFICACE.to_owned();
        def.with_default_machine()
    }

    /// Simplified landscape authorisation (DPR 31/2017, PAE-02): 60
    /// binding days (art. 10), one request for documents within 10 days
    /// whose missing answer makes the application improcedibile (art. 11
    /// c.5), sending within 20, Soprintendenza opinion within 20 with
    /// silenzio-assenso, decision within 10 (art. 11 c.9).
    #[must_use]
    pub fn autorizzazione_paesaggistica_semplificata() -> Self {
        let mut def = Self::base(
            "autorizzazione_paesaggistica_semplificata",
            "Autorizzazione paesaggistica semplificata",
            "D.P.R. 13 febbraio 2017, n. 31, artt. 10-11",
            60,
            Materia::Paesaggio,
        );
        def.integration = IntegrationRule {
            max_days: 30,
            within_days_of_receipt: Some(10),
            on_missing: OnMissing::Improcedibile,
        };
        def.parere_body = Some(SOPRINTENDENZA.to_owned());
        def.phases = Some(Phases {
            send_within_days: 20,
            opinion_within_days: 20,
            decision_within_days: 10,
            on_silence: OnSilence::SilenzioAssenso,
            legal_ref: "D.P.R. 31/2017, art. 11, c. 5 e 9".to_owned(),
        });
        def.with_default_machine()
    }

    /// Ordinary landscape authorisation (art. 146 d.lgs. 42/2004, PAE-01):
    /// sending within 40 days, binding opinion within 45, decision within
    /// 20 of the opinion (nominal total 105 days); with no opinion the
    /// administration decides after `fallback_days` from sending (45 or
    /// 60: the sources disagree, see `procedures.md` §3.2).
    #[must_use]
    pub fn autorizzazione_paesaggistica_ordinaria(fallback_days: u32) -> Self {
        let mut def = Self::base(
            "autorizzazione_paesaggistica",
            "Autorizzazione paesaggistica",
            "D.Lgs. 22 gennaio 2004, n. 42, art. 146",
            105,
            Materia::Paesaggio,
        );
        def.parere_body = Some(SOPRINTENDENZA.to_owned());
        def.phases = Some(Phases {
            send_within_days: 40,
            opinion_within_days: 45,
            decision_within_days: 20,
            on_silence: OnSilence::ProvvedeComunque {
                after_days: fallback_days,
            },
            legal_ref: "D.Lgs. 42/2004, art. 146, c. 7-9".to_owned(),
        });
        def.with_default_machine()
    }

    /// Accesso civico generalizzato (art. 5 c.2 d.lgs. 33/2013): 30 days,
    /// express measure (c.6); controinteressati are notified and may
    /// oppose within 10 days of receiving the notice, the term being
    /// suspended meanwhile (c.5); data released over an opposition no
    /// earlier than 15 days after the acceptance reaches them (c.6). The
    /// FOIA has its own motivated-refusal and riesame regime (art. 5 c.6-7,
    /// 5-bis), so art. 10-bis is not applied.
    #[must_use]
    pub fn accesso_civico_generalizzato() -> Self {
        let mut def = Self::base(
            "accesso_civico_generalizzato",
            "Accesso civico generalizzato",
            "D.Lgs. 14 marzo 2013, n. 33, art. 5, c. 2, 5 e 6",
            30,
            Materia::Accesso,
        );
        def.preavviso_rigetto_applies = false;
        def.controinteressati = Some(Controinteressati {
            opposition_days: 10,
            release_after_days: 15,
        });
        def.with_default_machine()
    }

    /// Accesso civico semplice (art. 5 c.1 d.lgs. 33/2013): 30 days, no
    /// controinteressati; addressed to the RPCT.
    #[must_use]
    pub fn accesso_civico_semplice() -> Self {
        let mut def = Self::base(
            "accesso_civico_semplice",
            "Accesso civico semplice",
            "D.Lgs. 14 marzo 2013, n. 33, art. 5, c. 1 e 6",
            30,
            Materia::Accesso,
        );
        def.preavviso_rigetto_applies = false;
        def.with_default_machine()
    }

    /// Replaces states and transitions with the default machine for this
    /// definition's flags (SCIA, silenzio-assenso, 10-bis, opinions,
    /// controinteressati, integration rule).
    #[must_use]
    pub fn with_default_machine(mut self) -> Self {
        self.states = default_states();
        self.transitions = default_transitions(&self);
        self
    }

    /// Checks the definition and returns every problem found (PROC-01,
    /// PROC-05).
    ///
    /// # Errors
    /// The list of [`ProcedureError`]s, e.g.
    /// `procedura_silenzio_assenso_materia_esclusa` (art. 20 c.4).
    pub fn validate(&self) -> Result<(), Vec<ProcedureError>> {
        let mut errors = Vec::new();
        if self.code.is_empty() {
            errors.push(ProcedureError::CodiceMancante);
        } else if !self
            .code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            errors.push(ProcedureError::CodiceNonValido {
                code: self.code.clone(),
            });
        }
        if self.term_days == 0 {
            errors.push(ProcedureError::TermineNullo);
        } else if self.term_days > MAX_TERM_DAYS && !self.term_by_special_law {
            errors.push(ProcedureError::TermineOltre180 {
                days: self.term_days,
            });
        }
        if self.silenzio_assenso {
            // Art. 20 c.4 L. 241/1990 (PROC-05).
            if self.materia.excluded_from_silenzio_assenso() {
                errors.push(ProcedureError::SilenzioAssensoMateriaEsclusa {
                    materia: self.materia,
                });
            }
            if self.iniziativa == Iniziativa::Ufficio {
                errors.push(ProcedureError::SilenzioAssensoDUfficio);
            }
            if self.scia.is_some() {
                errors.push(ProcedureError::SciaConSilenzioAssenso);
            }
        }
        if let Some(scia) = self.scia
            && scia.control_days != 60
            && scia.control_days != 30
        {
            errors.push(ProcedureError::SciaTermineControllo {
                days: scia.control_days,
            });
        }
        if self.integration.max_days == 0 || self.integration.max_days > 30 {
            errors.push(ProcedureError::IntegrazioneDurataNonValida {
                days: self.integration.max_days,
            });
        }
        let mut seen: Vec<&str> = Vec::new();
        for state in &self.states {
            if seen.contains(&state.as_str()) {
                push_unique(
                    &mut errors,
                    ProcedureError::StatoDuplicato {
                        state: state.clone(),
                    },
                );
            }
            seen.push(state);
        }
        let known = |s: &str| self.states.iter().any(|k| k == s);
        if !known(&self.initial_state) {
            push_unique(
                &mut errors,
                ProcedureError::StatoSconosciuto {
                    state: self.initial_state.clone(),
                },
            );
        }
        for (i, t) in self.transitions.iter().enumerate() {
            for name in [&t.from, &t.to] {
                if !known(name) {
                    push_unique(
                        &mut errors,
                        ProcedureError::StatoSconosciuto {
                            state: name.clone(),
                        },
                    );
                }
            }
            if t.roles.is_empty() {
                errors.push(ProcedureError::TransizioneSenzaRuoli {
                    state: t.from.clone(),
                    action: t.action,
                });
            }
            let duplicate = self
                .transitions
                .iter()
                .take(i)
                .any(|o| o.from == t.from && o.action == t.action);
            if duplicate {
                push_unique(
                    &mut errors,
                    ProcedureError::TransizioneDuplicata {
                        state: t.from.clone(),
                        action: t.action,
                    },
                );
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The clock of a pratica of this kind at `today`, from its events
    /// (see [`Clock`] for every rule applied).
    ///
    /// # Errors
    /// Coded errors for inconsistent events: no receipt, a second
    /// integration request, observations without a notice, …
    pub fn clock(
        &self,
        calendar: &Calendar,
        events: &[ClockEvent],
        today: Date,
    ) -> Result<Clock, ProcedureError> {
        clock::compute(self, calendar, events, today)
    }

    /// May `role` perform `action` on a pratica in `state`, given its
    /// `events`, on `today`? On success returns the new state and the
    /// event to append.
    ///
    /// Guards, besides the machine and the roles:
    /// * a second integration request, or one outside the DPR 31/2017
    ///   window (art. 2 c.7; art. 11 c.5 DPR 31/2017);
    /// * a refusal without a completed 10-bis (PROC-04, [`Clock::may_refuse`]);
    /// * a decision before the binding opinion or its fallback term, and
    ///   an acceptance against a negative one (PAE-01/02);
    /// * silenzio-assenso before it is reached (PROC-05);
    /// * a SCIA divieto after the control window, autotutela after 12
    ///   months (PROC-06);
    /// * the potere sostitutivo before the deadline, or twice (PROC-08);
    /// * resuming while a pause is still running.
    ///
    /// # Errors
    /// [`ProcedureError::TransizioneNonAmmessa`],
    /// [`ProcedureError::RuoloNonAmmesso`] and the guard errors above.
    pub fn transition(
        &self,
        calendar: &Calendar,
        state: &str,
        action: Azione,
        role: Ruolo,
        today: Date,
        events: &[ClockEvent],
    ) -> Result<Transition, ProcedureError> {
        let def = self
            .transitions
            .iter()
            .find(|t| t.from == state && t.action == action)
            .ok_or_else(|| ProcedureError::TransizioneNonAmmessa {
                state: state.to_owned(),
                action,
            })?;
        if !def.roles.contains(&role) {
            return Err(ProcedureError::RuoloNonAmmesso { action, role });
        }
        let clock = self.clock(calendar, events, today)?;
        self.check_guards(calendar, &clock, action, today)?;
        Ok(Transition {
            from: def.from.clone(),
            to: def.to.clone(),
            action,
            role,
            event: self.event_for(action, today),
        })
    }

    fn check_guards(
        &self,
        calendar: &Calendar,
        clock: &Clock,
        action: Azione,
        today: Date,
    ) -> Result<(), ProcedureError> {
        match action {
            Azione::RichiestaIntegrazione => {
                if clock.integration_requested.is_some() {
                    return Err(ProcedureError::IntegrazioneGiaRichiesta);
                }
                if let Some(days) = self.integration.within_days_of_receipt {
                    let limit = calendar.add_days(clock.received, days, TERM_RULE)?;
                    if today > limit {
                        return Err(ProcedureError::IntegrazioneFuoriTermine { limit });
                    }
                }
            }
            Azione::DecorrenzaIntegrazione | Azione::RipresaIstruttoria => {
                if let Some(until) = clock.paused_until {
                    return Err(ProcedureError::SospensioneInCorso { until });
                }
            }
            Azione::PreavvisoRigetto if !self.preavviso_rigetto_applies => {
                return Err(ProcedureError::PreavvisoNonPrevisto);
            }
            Azione::NotificaControinteressati if self.controinteressati.is_none() => {
                return Err(ProcedureError::ControinteressatiNonPrevisti);
            }
            Azione::Rigetto => {
                clock.may_refuse(today)?;
                self.check_opinion(clock, false)?;
            }
            Azione::Accoglimento => self.check_opinion(clock, true)?,
            Azione::SilenzioParere => {
                let phases = clock.phases.as_ref();
                if !phases.is_some_and(|p| p.soprintendenza_silence_reached) {
                    return Err(ProcedureError::ParereMancante {
                        available_from: phases.and_then(|p| p.soprintendenza_silence_from),
                    });
                }
            }
            Azione::SilenzioAssenso if !clock.silenzio_assenso_reached => {
                return Err(ProcedureError::SilenzioAssensoNonMaturato {
                    from: clock.silenzio_assenso_date,
                });
            }
            Azione::DivietoProsecuzione => {
                // Art. 19 c.3: within the control window only.
                if let Some(limit) = clock.scia_control_end
                    && today > limit
                {
                    return Err(ProcedureError::SciaControlloScaduto { limit });
                }
            }
            Azione::Autotutela => {
                // Art. 19 c.4 and art. 21-nonies: within 12 months.
                if let Some(limit) = clock.autotutela_limit
                    && today > limit
                {
                    return Err(ProcedureError::AutotutelaScaduta { limit });
                }
            }
            Azione::RichiestaPotereSostitutivo => {
                // Art. 2 c.9-ter: once the term has passed.
                if clock.sostitutivo_requested.is_some() {
                    return Err(ProcedureError::SostitutivoGiaRichiesto);
                }
                if today <= clock.deadline {
                    return Err(ProcedureError::SostitutivoPrimaDellaScadenza {
                        deadline: clock.deadline,
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// PAE-01/02: the decision follows the binding opinion, or the end of
    /// its fallback term; an acceptance cannot go against a negative one.
    fn check_opinion(&self, clock: &Clock, accepting: bool) -> Result<(), ProcedureError> {
        let Some(phases) = clock.phases.as_ref() else {
            return Ok(());
        };
        match phases.opinion_favourable {
            Some(false) if accepting => Err(ProcedureError::DecisioneDifformeDalParere),
            Some(_) => Ok(()),
            None if phases.soprintendenza_silence_reached => Ok(()),
            None => Err(ProcedureError::ParereMancante {
                available_from: phases.soprintendenza_silence_from,
            }),
        }
    }

    fn event_for(&self, action: Azione, today: Date) -> Option<ClockEvent> {
        let date = today;
        match action {
            Azione::RichiestaIntegrazione => Some(ClockEvent::IntegrationRequested { date }),
            Azione::Integrazione => Some(ClockEvent::IntegrationAnswered { date }),
            Azione::DecorrenzaIntegrazione => match self.integration.on_missing {
                OnMissing::Resume => None,
                OnMissing::Improcedibile => Some(ClockEvent::Decided {
                    date,
                    esito: Esito::Improcedibile,
                }),
            },
            Azione::PreavvisoRigetto => Some(ClockEvent::PreavvisoRigetto {
                date,
                received: date,
            }),
            Azione::Osservazioni => Some(ClockEvent::Osservazioni { date }),
            Azione::RichiestaParere => Some(ClockEvent::PareriRequested {
                date,
                body: self
                    .parere_body
                    .clone()
                    .unwrap_or_else(|| "ente_terzo".to_owned()),
            }),
            Azione::ParereFavorevole | Azione::ParereContrario => {
                Some(ClockEvent::ParereReceived {
                    date,
                    body: self
                        .parere_body
                        .clone()
                        .unwrap_or_else(|| "ente_terzo".to_owned()),
                    favourable: action == Azione::ParereFavorevole,
                })
            }
            Azione::NotificaControinteressati => Some(ClockEvent::ControinteressatiNotified {
                date,
                received: date,
            }),
            Azione::Opposizione => Some(ClockEvent::Opposizione { date }),
            Azione::Accoglimento => Some(ClockEvent::Decided {
                date,
                esito: Esito::Accolta,
            }),
            Azione::Rigetto => Some(ClockEvent::Decided {
                date,
                esito: Esito::Respinta,
            }),
            Azione::SilenzioAssenso => Some(ClockEvent::Decided {
                date,
                esito: Esito::SilenzioAssenso,
            }),
            Azione::DivietoProsecuzione | Azione::Autotutela => Some(ClockEvent::Decided {
                date,
                esito: Esito::Divieto,
            }),
            Azione::Improcedibilita => Some(ClockEvent::Decided {
                date,
                esito: Esito::Improcedibile,
            }),
            Azione::Ritiro => Some(ClockEvent::Withdrawn { date }),
            Azione::RichiestaPotereSostitutivo => Some(ClockEvent::SostitutivoRequested { date }),
            Azione::PresaInCarico
            | Azione::RipresaIstruttoria
            | Azione::SilenzioParere
            | Azione::Archiviazione => None,
        }
    }
}

/// The default transitions for a definition's flags. Service definitions
/// may start from it and edit the list.
#[must_use]
pub fn default_transitions(def: &ProcedureDefinition) -> Vec<TransitionDef> {
    use Ruolo::*;
    use stati::*;
    let mut out = Vec::new();
    let mut add = |from: &str, to: &str, action: Azione, roles: &[Ruolo]| {
        out.push(TransitionDef {
            from: from.to_owned(),
            to: to.to_owned(),
            action,
            roles: roles.to_vec(),
        });
    };
    let deciders = [Responsabile, Dirigente];
    let office = [Operatore, Responsabile, Dirigente];

    if def.scia.is_some() {
        // Art. 19: effective on filing; divieto within the window, then
        // autotutela (PROC-06).
        add(
            EFFICACE,
            DIVIETO_PROSECUZIONE,
            Azione::DivietoProsecuzione,
            &deciders,
        );
        add(
            EFFICACE,
            DIVIETO_PROSECUZIONE,
            Azione::Autotutela,
            &deciders,
        );
        add(EFFICACE, RITIRATA, Azione::Ritiro, &[Cittadino]);
        for closed in [DIVIETO_PROSECUZIONE, RITIRATA] {
            add(closed, ARCHIVIATA, Azione::Archiviazione, &office);
        }
        return out;
    }

    let open = [
        PRESENTATA,
        IN_ISTRUTTORIA,
        SOSPESA_INTEGRAZIONE,
        PREAVVISO_RIGETTO,
        IN_ATTESA_PARERE,
        IN_ATTESA_CONTROINTERESSATI,
    ];
    add(PRESENTATA, IN_ISTRUTTORIA, Azione::PresaInCarico, &office);
    // Art. 2 c.7 integration, from either state.
    for from in [PRESENTATA, IN_ISTRUTTORIA] {
        add(
            from,
            SOSPESA_INTEGRAZIONE,
            Azione::RichiestaIntegrazione,
            &[Operatore, Responsabile],
        );
    }
    add(
        SOSPESA_INTEGRAZIONE,
        IN_ISTRUTTORIA,
        Azione::Integrazione,
        &[Cittadino, Operatore],
    );
    let lapse_to = match def.integration.on_missing {
        OnMissing::Resume => IN_ISTRUTTORIA,
        OnMissing::Improcedibile => IMPROCEDIBILE,
    };
    add(
        SOSPESA_INTEGRAZIONE,
        lapse_to,
        Azione::DecorrenzaIntegrazione,
        &[Sistema, Responsabile],
    );

    if def.preavviso_rigetto_applies && def.iniziativa == Iniziativa::Istanza {
        add(
            IN_ISTRUTTORIA,
            PREAVVISO_RIGETTO,
            Azione::PreavvisoRigetto,
            &deciders,
        );
        add(
            PREAVVISO_RIGETTO,
            IN_ISTRUTTORIA,
            Azione::Osservazioni,
            &[Cittadino, Operatore],
        );
        add(
            PREAVVISO_RIGETTO,
            IN_ISTRUTTORIA,
            Azione::RipresaIstruttoria,
            &[Sistema, Responsabile],
        );
        add(PREAVVISO_RIGETTO, RESPINTA, Azione::Rigetto, &deciders);
        add(PREAVVISO_RIGETTO, ACCOLTA, Azione::Accoglimento, &deciders);
    }
    if def.parere_body.is_some() || def.phases.is_some() || def.parere_suspends_days.is_some() {
        add(
            IN_ISTRUTTORIA,
            IN_ATTESA_PARERE,
            Azione::RichiestaParere,
            &[Responsabile],
        );
        add(
            IN_ATTESA_PARERE,
            IN_ISTRUTTORIA,
            Azione::ParereFavorevole,
            &office,
        );
        add(
            IN_ATTESA_PARERE,
            IN_ISTRUTTORIA,
            Azione::ParereContrario,
            &office,
        );
        if def.phases.is_some() {
            add(
                IN_ATTESA_PARERE,
                IN_ISTRUTTORIA,
                Azione::SilenzioParere,
                &[Sistema, Responsabile],
            );
        }
    }
    if def.controinteressati.is_some() {
        add(
            IN_ISTRUTTORIA,
            IN_ATTESA_CONTROINTERESSATI,
            Azione::NotificaControinteressati,
            &[Operatore, Responsabile],
        );
        add(
            IN_ATTESA_CONTROINTERESSATI,
            IN_ISTRUTTORIA,
            Azione::Opposizione,
            &[Cittadino, Operatore],
        );
        add(
            IN_ATTESA_CONTROINTERESSATI,
            IN_ISTRUTTORIA,
            Azione::RipresaIstruttoria,
            &[Sistema, Responsabile],
        );
    }
    add(IN_ISTRUTTORIA, ACCOLTA, Azione::Accoglimento, &deciders);
    add(IN_ISTRUTTORIA, RESPINTA, Azione::Rigetto, &deciders);
    add(
        IN_ISTRUTTORIA,
        IMPROCEDIBILE,
        Azione::Improcedibilita,
        &deciders,
    );
    if def.silenzio_assenso {
        for from in [PRESENTATA, IN_ISTRUTTORIA, PREAVVISO_RIGETTO] {
            add(
                from,
                ACCOLTA_SILENZIO_ASSENSO,
                Azione::SilenzioAssenso,
                &[Sistema, Responsabile],
            );
        }
    }
    for from in open {
        add(from, RITIRATA, Azione::Ritiro, &[Cittadino]);
        // Art. 2 c.9-ter: the request leaves the state unchanged.
        add(from, from, Azione::RichiestaPotereSostitutivo, &[Cittadino]);
    }
    for closed in [
        ACCOLTA,
        RESPINTA,
        ACCOLTA_SILENZIO_ASSENSO,
        IMPROCEDIBILE,
        RITIRATA,
    ] {
        add(closed, ARCHIVIATA, Azione::Archiviazione, &office);
    }
    out
}

/// Validity of a landscape authorisation (art. 146 c.4 d.lgs. 42/2004,
/// PAE-03).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValiditaPaesaggistica {
    /// Five calendar years from the day the building title takes effect.
    pub valid_until: Date,
    /// Works started in time may be finished within the following year.
    pub works_completion_limit: Date,
}

/// PAE-03: `valid_until = effective_date + 5 years`, `works_completion_limit
/// = valid_until + 1 year`, calendar months ([`add_calendar_months`];
/// 29 February clamps to 28 February).
///
/// # Errors
/// [`ProcedureError::Calendar`] past year 9999.
pub fn validita_paesaggistica(
    effective_date: Date,
) -> Result<ValiditaPaesaggistica, ProcedureError> {
    let valid_until = add_calendar_months(effective_date, 60)?;
    let works_completion_limit = add_calendar_months(valid_until, 12)?;
    Ok(ValiditaPaesaggistica {
        valid_until,
        works_completion_limit,
    })
}
