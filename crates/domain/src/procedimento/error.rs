//! The coded errors of the procedure engine.

use jiff::civil::Date;
use thiserror::Error;

use crate::Coded;
use crate::calendar::CalendarError;

use super::{Azione, Materia, Ruolo};

/// Italian date as printed in messages: `02/03/2026`.
pub(crate) fn data_it(date: Date) -> String {
    format!("{:02}/{:02}/{}", date.day(), date.month(), date.year())
}

/// Why a procedure definition is invalid, a clock cannot be computed or a
/// transition is refused. Every variant has a stable code
/// (`procedura_…`) and an Italian message ([`Coded`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProcedureError {
    /// The definition has no code.
    #[error("procedure definition without a code")]
    CodiceMancante,
    /// The code is not snake_case ASCII (`[a-z0-9_]+`).
    #[error("invalid procedure code {code}")]
    CodiceNonValido {
        /// The code given.
        code: String,
    },
    /// `term_days` is 0.
    #[error("the term must be at least one day")]
    TermineNullo,
    /// `term_days` exceeds 180 without `term_by_special_law` (art. 2 c.4).
    #[error("term of {days} days exceeds 180 days")]
    TermineOltre180 {
        /// The configured term.
        days: u32,
    },
    /// Silenzio-assenso configured on a matter excluded by art. 20 c.4
    /// L. 241/1990 (PROC-05).
    #[error("silenzio-assenso is excluded for matter {materia:?} (art. 20 c.4 L. 241/1990)")]
    SilenzioAssensoMateriaEsclusa {
        /// The excluded matter.
        materia: Materia,
    },
    /// Silenzio-assenso only applies to procedures started on request.
    #[error("silenzio-assenso requires a procedure started on request")]
    SilenzioAssensoDUfficio,
    /// A SCIA is not a silenzio-assenso procedure (art. 19 vs art. 20).
    #[error("a SCIA cannot also be a silenzio-assenso procedure")]
    SciaConSilenzioAssenso,
    /// The SCIA control window must be 60 days, or 30 for building SCIA.
    #[error("SCIA control window of {days} days (expected 60 or 30)")]
    SciaTermineControllo {
        /// The configured window.
        days: u32,
    },
    /// The integration suspension exceeds 30 days or is 0 (art. 2 c.7).
    #[error("integration suspension of {days} days (allowed 1..=30)")]
    IntegrazioneDurataNonValida {
        /// The configured maximum.
        days: u32,
    },
    /// A state name used by the machine is not declared.
    #[error("unknown state {state}")]
    StatoSconosciuto {
        /// The unknown name.
        state: String,
    },
    /// A state is declared twice.
    #[error("duplicate state {state}")]
    StatoDuplicato {
        /// The duplicated name.
        state: String,
    },
    /// Two transitions share the same state and action.
    #[error("duplicate transition {action:?} from {state}")]
    TransizioneDuplicata {
        /// The source state.
        state: String,
        /// The action.
        action: Azione,
    },
    /// A transition that no role may perform.
    #[error("transition {action:?} from {state} has no roles")]
    TransizioneSenzaRuoli {
        /// The source state.
        state: String,
        /// The action.
        action: Azione,
    },
    /// The action is not allowed in the current state.
    #[error("action {action:?} not allowed in state {state}")]
    TransizioneNonAmmessa {
        /// The current state.
        state: String,
        /// The refused action.
        action: Azione,
    },
    /// The role may not perform the action.
    #[error("role {role:?} may not perform {action:?}")]
    RuoloNonAmmesso {
        /// The action.
        action: Azione,
        /// The acting role.
        role: Ruolo,
    },
    /// No `Received` event: the term starts from receipt (art. 2 c.6).
    #[error("no receipt event")]
    RicezioneMancante,
    /// More than one `Received` event.
    #[error("more than one receipt event")]
    RicezioneDuplicata,
    /// An event dated before the receipt.
    #[error("event dated {date} before the receipt")]
    EventoAnterioreRicezione {
        /// The event date.
        date: Date,
    },
    /// A second integration request (art. 2 c.7: once only).
    #[error("integration already requested")]
    IntegrazioneGiaRichiesta,
    /// An integration answer without a request.
    #[error("integration answered but never requested")]
    IntegrazioneNonRichiesta,
    /// The integration request came after the allowed window (DPR 31/2017
    /// art. 11: within 10 days of receipt).
    #[error("integration requested after {limit}")]
    IntegrazioneFuoriTermine {
        /// The last day on which it could be requested.
        limit: Date,
    },
    /// Observations without a 10-bis notice.
    #[error("observations without a preavviso di rigetto")]
    OsservazioniSenzaPreavviso,
    /// An opposition without a notice to controinteressati.
    #[error("opposition without a notice to controinteressati")]
    OpposizioneSenzaNotifica,
    /// Controinteressati events in a procedure that does not provide them.
    #[error("controinteressati not provided by this procedure")]
    ControinteressatiNonPrevisti,
    /// An opinion received but never requested from that body.
    #[error("opinion from {body} never requested")]
    ParereNonRichiesto {
        /// The body.
        body: String,
    },
    /// A 10-bis notice in a procedure exempt from art. 10-bis.
    #[error("art. 10-bis does not apply to this procedure")]
    PreavvisoNonPrevisto,
    /// A refusal without a 10-bis notice (PROC-04).
    #[error("refusal without a preavviso di rigetto")]
    RigettoSenzaPreavviso,
    /// A refusal before the 10-bis window (or observations + 10) has passed.
    #[error("refusal not allowed before {from}")]
    RigettoPrimaDelTermine {
        /// The first day on which the refusal is allowed.
        from: Date,
    },
    /// The clock is still suspended.
    #[error("suspension running until {until}")]
    SospensioneInCorso {
        /// The expected resume date.
        until: Date,
    },
    /// Silenzio-assenso not (yet) reached.
    #[error("silenzio-assenso not reached")]
    SilenzioAssensoNonMaturato {
        /// The day it would be reached, if it applies.
        from: Option<Date>,
    },
    /// SCIA divieto after the control window (art. 19 c.3).
    #[error("SCIA control window ended on {limit}")]
    SciaControlloScaduto {
        /// The last day of the window.
        limit: Date,
    },
    /// Autotutela after the 12-month limit (art. 21-nonies).
    #[error("autotutela limit passed on {limit}")]
    AutotutelaScaduta {
        /// The last day.
        limit: Date,
    },
    /// Potere sostitutivo requested before the deadline passed (art. 2 c.9-ter).
    #[error("potere sostitutivo before the deadline {deadline}")]
    SostitutivoPrimaDellaScadenza {
        /// The procedure deadline.
        deadline: Date,
    },
    /// Potere sostitutivo requested twice.
    #[error("potere sostitutivo already requested")]
    SostitutivoGiaRichiesto,
    /// A decision before the binding opinion, and its fallback term has
    /// not passed (art. 146 c.8-9 d.lgs. 42/2004; DPR 31/2017 art. 11).
    #[error("decision before the opinion")]
    ParereMancante {
        /// The first day the administration may decide without it.
        available_from: Option<Date>,
    },
    /// An acceptance against a binding negative opinion.
    #[error("acceptance against a binding negative opinion")]
    DecisioneDifformeDalParere,
    /// A calendar computation failed.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

impl Coded for ProcedureError {
    fn code(&self) -> &'static str {
        use ProcedureError as E;
        match self {
            E::CodiceMancante => "procedura_codice_mancante",
            E::CodiceNonValido { .. } => "procedura_codice_non_valido",
            E::TermineNullo => "procedura_termine_nullo",
            E::TermineOltre180 { .. } => "procedura_termine_oltre_180",
            E::SilenzioAssensoMateriaEsclusa { .. } => "procedura_silenzio_assenso_materia_esclusa",
            E::SilenzioAssensoDUfficio => "procedura_silenzio_assenso_d_ufficio",
            E::SciaConSilenzioAssenso => "procedura_scia_con_silenzio_assenso",
            E::SciaTermineControllo { .. } => "procedura_scia_termine_controllo",
            E::IntegrazioneDurataNonValida { .. } => "procedura_integrazione_durata_non_valida",
            E::StatoSconosciuto { .. } => "procedura_stato_sconosciuto",
            E::StatoDuplicato { .. } => "procedura_stato_duplicato",
            E::TransizioneDuplicata { .. } => "procedura_transizione_duplicata",
            E::TransizioneSenzaRuoli { .. } => "procedura_transizione_senza_ruoli",
            E::TransizioneNonAmmessa { .. } => "procedura_transizione_non_ammessa",
            E::RuoloNonAmmesso { .. } => "procedura_ruolo_non_ammesso",
            E::RicezioneMancante => "procedura_ricezione_mancante",
            E::RicezioneDuplicata => "procedura_ricezione_duplicata",
            E::EventoAnterioreRicezione { .. } => "procedura_evento_anteriore_ricezione",
            E::IntegrazioneGiaRichiesta => "procedura_integrazione_gia_richiesta",
            E::IntegrazioneNonRichiesta => "procedura_integrazione_non_richiesta",
            E::IntegrazioneFuoriTermine { .. } => "procedura_integrazione_fuori_termine",
            E::OsservazioniSenzaPreavviso => "procedura_osservazioni_senza_preavviso",
            E::OpposizioneSenzaNotifica => "procedura_opposizione_senza_notifica",
            E::ControinteressatiNonPrevisti => "procedura_controinteressati_non_previsti",
            E::ParereNonRichiesto { .. } => "procedura_parere_non_richiesto",
            E::PreavvisoNonPrevisto => "procedura_preavviso_non_previsto",
            E::RigettoSenzaPreavviso => "procedura_rigetto_senza_preavviso",
            E::RigettoPrimaDelTermine { .. } => "procedura_rigetto_prima_del_termine",
            E::SospensioneInCorso { .. } => "procedura_sospensione_in_corso",
            E::SilenzioAssensoNonMaturato { .. } => "procedura_silenzio_assenso_non_maturato",
            E::SciaControlloScaduto { .. } => "procedura_scia_controllo_scaduto",
            E::AutotutelaScaduta { .. } => "procedura_autotutela_scaduta",
            E::SostitutivoPrimaDellaScadenza { .. } => "procedura_sostitutivo_prima_della_scadenza",
            E::SostitutivoGiaRichiesto => "procedura_sostitutivo_gia_richiesto",
            E::ParereMancante { .. } => "procedura_parere_mancante",
            E::DecisioneDifformeDalParere => "procedura_decisione_difforme_dal_parere",
            E::Calendar(inner) => inner.code(),
        }
    }

    fn message_it(&self) -> String {
        use ProcedureError as E;
        match self {
            E::CodiceMancante => "Il procedimento deve avere un codice".to_owned(),
            E::CodiceNonValido { code } => format!(
                "Il codice del procedimento «{code}» può contenere solo lettere minuscole, cifre e trattini bassi"
            ),
            E::TermineNullo => "Il termine del procedimento deve essere di almeno un giorno".to_owned(),
            E::TermineOltre180 { days } => format!(
                "Il termine di {days} giorni supera i 180 giorni ammessi dall'art. 2, c. 4, L. 241/1990: serve una legge speciale"
            ),
            E::SilenzioAssensoMateriaEsclusa { materia } => format!(
                "Il silenzio-assenso non si applica alla materia «{}» (art. 20, c. 4, L. 241/1990)",
                materia.label()
            ),
            E::SilenzioAssensoDUfficio => {
                "Il silenzio-assenso si applica solo ai procedimenti a istanza di parte (art. 20 L. 241/1990)".to_owned()
            }
            E::SciaConSilenzioAssenso => {
                "Una SCIA non è un procedimento a silenzio-assenso (artt. 19 e 20 L. 241/1990)".to_owned()
            }
            E::SciaTermineControllo { days } => format!(
                "Il termine di controllo della SCIA è di 60 giorni, 30 in materia edilizia (art. 19, c. 3 e 6-bis, L. 241/1990), non {days}"
            ),
            E::IntegrazioneDurataNonValida { days } => format!(
                "La sospensione per integrazione dura al massimo 30 giorni (art. 2, c. 7, L. 241/1990), non {days}"
            ),
            E::StatoSconosciuto { state } => format!("Lo stato «{state}» non è definito nel procedimento"),
            E::StatoDuplicato { state } => format!("Lo stato «{state}» è definito più volte"),
            E::TransizioneDuplicata { state, action } => format!(
                "L'azione «{}» dallo stato «{state}» è definita più volte",
                action.code()
            ),
            E::TransizioneSenzaRuoli { state, action } => format!(
                "L'azione «{}» dallo stato «{state}» non indica chi può compierla",
                action.code()
            ),
            E::TransizioneNonAmmessa { state, action } => format!(
                "L'azione «{}» non è ammessa nello stato «{state}»",
                action.code()
            ),
            E::RuoloNonAmmesso { action, role } => format!(
                "Il ruolo «{}» non può compiere l'azione «{}»",
                role.code(),
                action.code()
            ),
            E::RicezioneMancante => {
                "Manca la data di ricezione dell'istanza, da cui decorre il termine (art. 2, c. 6, L. 241/1990)".to_owned()
            }
            E::RicezioneDuplicata => "L'istanza risulta ricevuta più volte".to_owned(),
            E::EventoAnterioreRicezione { date } => format!(
                "Un evento del {} precede la ricezione dell'istanza",
                data_it(*date)
            ),
            E::IntegrazioneGiaRichiesta => {
                "L'integrazione documentale può essere richiesta una sola volta (art. 2, c. 7, L. 241/1990)".to_owned()
            }
            E::IntegrazioneNonRichiesta => "Non risulta alcuna richiesta di integrazione".to_owned(),
            E::IntegrazioneFuoriTermine { limit } => format!(
                "L'integrazione documentale doveva essere richiesta entro il {}",
                data_it(*limit)
            ),
            E::OsservazioniSenzaPreavviso => {
                "Osservazioni presentate senza un preavviso di rigetto (art. 10-bis L. 241/1990)".to_owned()
            }
            E::OpposizioneSenzaNotifica => {
                "Opposizione presentata senza una comunicazione ai controinteressati".to_owned()
            }
            E::ControinteressatiNonPrevisti => {
                "Questo procedimento non prevede la comunicazione ai controinteressati".to_owned()
            }
            E::ParereNonRichiesto { body } => format!("Non risulta richiesto un parere a «{body}»"),
            E::PreavvisoNonPrevisto => {
                "Il preavviso di rigetto (art. 10-bis L. 241/1990) non si applica a questo procedimento".to_owned()
            }
            E::RigettoSenzaPreavviso => {
                "Il rigetto richiede prima il preavviso di rigetto (art. 10-bis L. 241/1990)".to_owned()
            }
            E::RigettoPrimaDelTermine { from } => format!(
                "Il rigetto è possibile solo dal {}, trascorso il termine per le osservazioni (art. 10-bis L. 241/1990)",
                data_it(*from)
            ),
            E::SospensioneInCorso { until } => format!(
                "Il termine è sospeso fino al {}",
                data_it(*until)
            ),
            E::SilenzioAssensoNonMaturato { from: Some(from) } => format!(
                "Il silenzio-assenso matura il {} (art. 20 L. 241/1990)",
                data_it(*from)
            ),
            E::SilenzioAssensoNonMaturato { from: None } => {
                "Il silenzio-assenso non si applica a questo procedimento".to_owned()
            }
            E::SciaControlloScaduto { limit } => format!(
                "Il termine per vietare la prosecuzione dell'attività è scaduto il {} (art. 19, c. 3, L. 241/1990): resta solo l'autotutela",
                data_it(*limit)
            ),
            E::AutotutelaScaduta { limit } => format!(
                "Il termine di dodici mesi per l'autotutela è scaduto il {} (art. 21-nonies L. 241/1990)",
                data_it(*limit)
            ),
            E::SostitutivoPrimaDellaScadenza { deadline } => format!(
                "Il potere sostitutivo si attiva dopo la scadenza del termine del {} (art. 2, c. 9-ter, L. 241/1990)",
                data_it(*deadline)
            ),
            E::SostitutivoGiaRichiesto => "Il potere sostitutivo è già stato attivato".to_owned(),
            E::ParereMancante { available_from: Some(from) } => format!(
                "Manca il parere vincolante: senza parere si può provvedere dal {}",
                data_it(*from)
            ),
            E::ParereMancante { available_from: None } => {
                "Manca il parere vincolante: il fascicolo non è ancora stato trasmesso".to_owned()
            }
            E::DecisioneDifformeDalParere => {
                "Il parere vincolante è contrario: non si può accogliere l'istanza".to_owned()
            }
            E::Calendar(inner) => inner.message_it(),
        }
    }
}
