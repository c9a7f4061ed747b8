//! The clock of a pratica: a pure function from its dated events.
//!
//! # Day-counting convention
//!
//! * A term of N days from D ends on D + N (dies a quo non computatur,
//!   art. 2963 c.c., art. 155 c.p.c.): received Monday 2 March 2026 + 30
//!   days = Wednesday 1 April 2026. A **final** day that is festivo moves to
//!   the next non-festivo day ([`TermRule::Administrative`], DECISIONS 9);
//!   intermediate festivi count.
//! * A pause **from S to R** (S = the day the suspension starts, R = the
//!   day the clock runs again) lasts **R − S days**: S is a suspended day,
//!   R is a running day. A 12-day integration (requested 10 March, answered
//!   22 March) moves the deadline by exactly 12 days.
//! * Overlapping pauses are merged, so no day is suspended twice.
//! * `deadline = shift(start + term + Σ suspended days)` (PROC-03,
//!   DECISIONS 24), where `start` is the receipt (art. 2 c.6) or, with the
//!   interruption flag, the day the integration arrived.
//!
//! [`TermRule::Administrative`]: crate::calendar::TermRule::Administrative

use jiff::Span;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError};

use super::{
    ClockEvent, Esito, OnMissing, OnSilence, PREAVVISO_DAYS, ProcedureDefinition, ProcedureError,
    SOPRINTENDENZA, TERM_RULE,
};

/// State of one 10-bis notice (art. 10-bis L. 241/1990).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreavvisoStatus {
    /// Day the applicant received the notice: the pause starts here.
    pub received: Date,
    /// Observations, if filed within the window.
    pub observations: Option<Date>,
    /// Last day for observations: `received + 10`, moved off a festivo.
    pub window_end: Date,
    /// Day the term resumes: `observations + 10` if observations were
    /// filed in time, else `received + 10` (PROC-03).
    pub resume: Date,
}

/// Sub-clocks of a landscape authorisation (PAE-01, PAE-02).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseClock {
    /// Last day to send the file to the Soprintendenza: receipt + send
    /// days + the suspended days before sending ("net of suspension").
    pub send_by: Date,
    /// Day the file was sent.
    pub sent: Option<Date>,
    /// Last day for the Soprintendenza's opinion: sent + opinion days.
    pub opinion_by: Option<Date>,
    /// Day the opinion was received (for silenzio-assenso only if in time:
    /// a late opinion is ineffective, art. 2 c.8-bis L. 241/1990).
    pub opinion: Option<Date>,
    /// Was the opinion favourable?
    pub opinion_favourable: Option<bool>,
    /// First day on which the administration may proceed without the
    /// opinion: the day after the opinion term (silenzio-assenso, DPR
    /// 31/2017 art. 11 c.9) or after `sent + fallback` (art. 146 c.9).
    pub soprintendenza_silence_from: Option<Date>,
    /// Has that day come with no opinion (`today > opinion term`)?
    pub soprintendenza_silence_reached: bool,
    /// Last day for the decision: `opinion + decision days`, or, with no
    /// opinion, the end of the opinion (fallback) term + decision days
    /// (projected while waiting).
    pub decision_by: Option<Date>,
    /// The overall deadline (the clock's deadline).
    pub total_by: Date,
    /// A phase deadline falls after the overall deadline.
    pub alarm: bool,
}

/// The clock of a pratica at a given day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// Receipt (protocol) date: the term starts here (art. 2 c.6).
    pub received: Date,
    /// The day the term counts from: the receipt, or with the
    /// interruption flag the day the integration arrived.
    pub term_start: Date,
    /// The legal term in days.
    pub term_days: u32,
    /// `term_start + term + Σ suspended days`, moved off a festivo. While
    /// a pause runs it assumes the pause ends on `paused_until`.
    pub deadline: Date,
    /// Suspended days counted in `deadline` (including the projected rest
    /// of a running pause).
    pub suspended_days: i64,
    /// Net days elapsed from `term_start` to the decision, or to `today`
    /// while open: gross days minus the suspended ones up to then.
    pub days_elapsed_net: i64,
    /// `deadline − today` while open (negative when overdue).
    pub days_left: Option<i64>,
    /// The expected resume date if the clock is paused today.
    pub paused_until: Option<Date>,
    /// The decision (or SCIA divieto) came, or today is, after the
    /// deadline. Never set for a SCIA without a divieto.
    pub overdue: bool,
    /// The date of the final measure and its outcome, if any.
    pub decided: Option<(Date, Esito)>,
    /// The date of withdrawal, if any.
    pub withdrawn: Option<Date>,
    /// Date of the integration request, if any.
    pub integration_requested: Option<Date>,
    /// The integration never arrived within its window and the rule says
    /// improcedibile (DPR 31/2017 art. 11 c.5).
    pub improcedibile: bool,
    /// 10-bis notices.
    pub preavvisi: Vec<PreavvisoStatus>,
    /// Does art. 10-bis apply (PROC-04)?
    pub preavviso_required: bool,
    /// For a silenzio-assenso procedure: `deadline + 1`, the day silence
    /// means acceptance (PROC-05).
    pub silenzio_assenso_date: Option<Date>,
    /// Silence has become acceptance: today ≥ `silenzio_assenso_date` and
    /// no measure or withdrawal came by the deadline.
    pub silenzio_assenso_reached: bool,
    /// SCIA: last day to forbid the activity (filing + 60/30, PROC-06).
    pub scia_control_end: Option<Date>,
    /// SCIA: last day for autotutela, 12 months after the control window
    /// (art. 21-nonies L. 241/1990).
    pub autotutela_limit: Option<Date>,
    /// Day the potere sostitutivo was requested.
    pub sostitutivo_requested: Option<Date>,
    /// Its deadline: `request + ceil(term / 2)` (art. 2 c.9-ter, PROC-08).
    pub sostitutivo_deadline: Option<Date>,
    /// For a late measure: "termine previsto: N giorni; termine impiegato:
    /// M giorni" (art. 2 c.9-quinquies, PROC-07).
    pub late_statement: Option<String>,
    /// Landscape sub-clocks.
    pub phases: Option<PhaseClock>,
}

impl Clock {
    /// PROC-04: may the PA refuse on `today`? Only after a 10-bis notice
    /// and once its window has passed: `today > observations + 10` if
    /// observations were filed, else `today > window_end` (the
    /// applicant's last day, received + 10 moved off a festivo). Always
    /// allowed where art. 10-bis does not apply.
    ///
    /// # Errors
    /// [`ProcedureError::RigettoSenzaPreavviso`] or
    /// [`ProcedureError::RigettoPrimaDelTermine`].
    pub fn may_refuse(&self, today: Date) -> Result<(), ProcedureError> {
        if !self.preavviso_required {
            return Ok(());
        }
        let last = self
            .preavvisi
            .last()
            .ok_or(ProcedureError::RigettoSenzaPreavviso)?;
        let limit = match last.observations {
            Some(_) => last.resume,
            None => last.window_end,
        };
        if today > limit {
            Ok(())
        } else {
            Err(ProcedureError::RigettoPrimaDelTermine {
                from: plus_days(limit, 1)?,
            })
        }
    }
}

/// PROC-07 / art. 2 c.9-quinquies: the sentence a late measure carries.
#[must_use]
pub fn late_measure_sentence(term_days: u32, days_taken: i64) -> String {
    format!("termine previsto: {term_days} giorni; termine impiegato: {days_taken} giorni")
}

fn plus_days(date: Date, days: i64) -> Result<Date, ProcedureError> {
    let span = Span::new()
        .try_days(days)
        .map_err(|_| CalendarError::OutOfRange)?;
    Ok(date
        .checked_add(span)
        .map_err(|_| CalendarError::OutOfRange)?)
}

/// `to − from` in days (negative when `to` is earlier).
fn days_between(from: Date, to: Date) -> i64 {
    from.until(to).map_or(0, |span| i64::from(span.get_days()))
}

fn add_days(calendar: &Calendar, start: Date, days: i64) -> Result<Date, ProcedureError> {
    let days = u32::try_from(days.max(0)).map_err(|_| CalendarError::OutOfRange)?;
    Ok(calendar.add_days(start, days, TERM_RULE)?)
}

/// An opinion request: body, date requested, (date received, favourable).
type ParereRecord = (String, Date, Option<(Date, bool)>);

/// A pause `[start, end)`: `end − start` suspended days.
#[derive(Debug, Clone, Copy)]
struct Pause {
    start: Date,
    end: Date,
}

fn merge(mut pauses: Vec<Pause>) -> Vec<Pause> {
    pauses.retain(|p| p.end > p.start);
    pauses.sort_by_key(|p| p.start);
    let mut merged: Vec<Pause> = Vec::new();
    for p in pauses {
        match merged.last_mut() {
            Some(last) if p.start <= last.end => {
                if p.end > last.end {
                    last.end = p.end;
                }
            }
            _ => merged.push(p),
        }
    }
    merged
}

/// Suspended days of `pauses` inside `[from, until)`.
fn suspended_within(pauses: &[Pause], from: Date, until: Date) -> i64 {
    pauses
        .iter()
        .map(|p| {
            let s = p.start.max(from);
            let e = p.end.min(until);
            days_between(s, e).max(0)
        })
        .sum()
}

pub(super) fn compute(
    def: &ProcedureDefinition,
    calendar: &Calendar,
    events: &[ClockEvent],
    today: Date,
) -> Result<Clock, ProcedureError> {
    let mut sorted: Vec<&ClockEvent> = events.iter().collect();
    sorted.sort_by_key(|e| e.date());

    let mut received = None;
    for event in &sorted {
        if let ClockEvent::Received { date } = event {
            if received.is_some() {
                return Err(ProcedureError::RicezioneDuplicata);
            }
            received = Some(*date);
        }
    }
    let received = received.ok_or(ProcedureError::RicezioneMancante)?;

    let mut integration_requested: Option<Date> = None;
    let mut integration_answered: Option<Date> = None;
    let mut preavvisi: Vec<(Date, Option<Date>)> = Vec::new();
    let mut controinteressati: Vec<(Date, Date, Option<Date>)> = Vec::new();
    let mut pareri: Vec<ParereRecord> = Vec::new();
    let mut decided: Option<(Date, Esito)> = None;
    let mut withdrawn: Option<Date> = None;
    let mut sostitutivo_requested: Option<Date> = None;

    for event in &sorted {
        if event.date() < received {
            return Err(ProcedureError::EventoAnterioreRicezione { date: event.date() });
        }
        match event {
            ClockEvent::Received { .. } => {}
            ClockEvent::IntegrationRequested { date } => {
                // Art. 2 c.7: once only.
                if integration_requested.is_some() {
                    return Err(ProcedureError::IntegrazioneGiaRichiesta);
                }
                if let Some(days) = def.integration.within_days_of_receipt {
                    let limit = calendar.add_days(received, days, TERM_RULE)?;
                    if *date > limit {
                        return Err(ProcedureError::IntegrazioneFuoriTermine { limit });
                    }
                }
                integration_requested = Some(*date);
            }
            ClockEvent::IntegrationAnswered { date } => {
                if integration_requested.is_none() {
                    return Err(ProcedureError::IntegrazioneNonRichiesta);
                }
                integration_answered.get_or_insert(*date);
            }
            ClockEvent::PreavvisoRigetto { received: got, .. } => preavvisi.push((*got, None)),
            ClockEvent::Osservazioni { date } => {
                let open = preavvisi
                    .iter_mut()
                    .rev()
                    .find(|(notice, obs)| obs.is_none() && *notice <= *date)
                    .ok_or(ProcedureError::OsservazioniSenzaPreavviso)?;
                open.1 = Some(*date);
            }
            ClockEvent::ControinteressatiNotified {
                date,
                received: got,
            } => {
                if def.controinteressati.is_none() {
                    return Err(ProcedureError::ControinteressatiNonPrevisti);
                }
                controinteressati.push((*date, *got, None));
            }
            ClockEvent::Opposizione { date } => {
                let open = controinteressati
                    .iter_mut()
                    .rev()
                    .find(|(_, _, opp)| opp.is_none())
                    .ok_or(ProcedureError::OpposizioneSenzaNotifica)?;
                open.2 = Some(*date);
            }
            ClockEvent::PareriRequested { date, body } => pareri.push((body.clone(), *date, None)),
            ClockEvent::ParereReceived {
                date,
                body,
                favourable,
            } => {
                let open = pareri
                    .iter_mut()
                    .rev()
                    .find(|(b, _, got)| b == body && got.is_none())
                    .ok_or_else(|| ProcedureError::ParereNonRichiesto { body: body.clone() })?;
                open.2 = Some((*date, *favourable));
            }
            ClockEvent::Decided { date, esito } => {
                decided.get_or_insert((*date, *esito));
            }
            ClockEvent::Withdrawn { date } => {
                withdrawn.get_or_insert(*date);
            }
            ClockEvent::SostitutivoRequested { date } => {
                sostitutivo_requested.get_or_insert(*date);
            }
        }
    }

    let mut pauses = Vec::new();
    let mut term_start = received;
    let mut improcedibile = false;

    // Art. 2 c.7 / DECISIONS 24: the integration pause runs from the
    // request to the answer, and ends by itself after `max_days`.
    if let Some(requested) = integration_requested {
        let cap = plus_days(requested, i64::from(def.integration.max_days))?;
        let end = integration_answered.map_or(cap, |answer| answer.min(cap));
        let lapsed = integration_answered.is_none_or(|answer| answer > cap);
        if lapsed && today >= cap && def.integration.on_missing == OnMissing::Improcedibile {
            // DPR 31/2017 art. 11 c.5: the application cannot proceed.
            improcedibile = true;
        }
        if def.interruption {
            // Special law (DECISIONS 24): a fresh full term from the answer
            // (or from the end of the window); until then the clock waits.
            term_start = end;
            if today < end {
                pauses.push(Pause {
                    start: requested,
                    end,
                });
            }
        } else {
            pauses.push(Pause {
                start: requested,
                end,
            });
        }
    }

    // Art. 10-bis (PROC-03): from the notice's receipt to observations +
    // 10, or to the end of the 10-day window.
    let mut preavviso_status = Vec::new();
    for (notice, observations) in preavvisi {
        let window_end = calendar.add_days(notice, PREAVVISO_DAYS, TERM_RULE)?;
        let observations = observations.filter(|obs| *obs <= window_end);
        let resume = match observations {
            Some(obs) => plus_days(obs, i64::from(PREAVVISO_DAYS))?,
            None => plus_days(notice, i64::from(PREAVVISO_DAYS))?,
        };
        pauses.push(Pause {
            start: notice,
            end: resume,
        });
        preavviso_status.push(PreavvisoStatus {
            received: notice,
            observations,
            window_end,
            resume,
        });
    }

    // Art. 5 c.5 d.lgs. 33/2013: from the notice to controinteressati to
    // their opposition, at most `opposition_days` after they received it.
    if let Some(rule) = def.controinteressati {
        for (sent, got, opposition) in controinteressati {
            let window_end = plus_days(got, i64::from(rule.opposition_days))?;
            let end = opposition.map_or(window_end, |opp| opp.min(window_end));
            pauses.push(Pause { start: sent, end });
        }
    }

    // Art. 17 (where configured): opinions suspend for at most N days.
    if let Some(max) = def.parere_suspends_days {
        for (_, requested, got) in &pareri {
            let cap = plus_days(*requested, i64::from(max))?;
            let end = got.map_or(cap, |(date, _)| date.min(cap));
            pauses.push(Pause {
                start: *requested,
                end,
            });
        }
    }

    let all_pauses = merge(pauses);
    // With interruption the earlier pauses do not count: the term restarts.
    let pauses: Vec<Pause> = all_pauses
        .iter()
        .filter(|p| p.end > term_start)
        .map(|p| Pause {
            start: p.start.max(term_start),
            end: p.end,
        })
        .collect();
    let suspended_days = suspended_within(&pauses, term_start, Date::MAX);
    let deadline = add_days(
        calendar,
        term_start,
        i64::from(def.term_days) + suspended_days,
    )?;

    let closed = decided.map(|(d, _)| d).or(withdrawn);
    let as_of = closed.unwrap_or(today);
    let gross = days_between(term_start, as_of).max(0);
    let days_elapsed_net = gross - suspended_within(&pauses, term_start, as_of);
    let paused_until = if closed.is_none() {
        all_pauses
            .iter()
            .find(|p| p.start <= today && today < p.end)
            .map(|p| p.end)
    } else {
        None
    };
    let days_left = closed.is_none().then(|| days_between(today, deadline));

    let is_scia = def.scia.is_some();
    let overdue = if is_scia {
        decided.is_some_and(|(d, _)| d > deadline)
    } else {
        as_of > deadline && withdrawn.is_none()
    };

    // PROC-07 / art. 2 c.9-quinquies.
    let late_statement = decided
        .filter(|(d, _)| *d > deadline && !is_scia)
        .map(|_| late_measure_sentence(def.term_days, days_elapsed_net));

    // PROC-05 / art. 20: silence at deadline + 1 with no measure notified
    // by the deadline (a later refusal is ineffective, art. 2 c.8-bis).
    let (silenzio_assenso_date, silenzio_assenso_reached) = if def.silenzio_assenso && !is_scia {
        let date = plus_days(deadline, 1)?;
        let blocked = closed.is_some_and(|c| c <= deadline);
        (Some(date), today >= date && !blocked)
    } else {
        (None, false)
    };

    // PROC-06: SCIA control window and autotutela (12 months).
    let (scia_control_end, autotutela_limit) = if is_scia {
        (
            Some(deadline),
            Some(calendar.add_months(deadline, 12, TERM_RULE)?),
        )
    } else {
        (None, None)
    };

    // PROC-08 / art. 2 c.9-ter: half the original term, rounded up.
    let sostitutivo_deadline = match sostitutivo_requested {
        Some(request) => Some(calendar.add_days(request, def.term_days.div_ceil(2), TERM_RULE)?),
        None => None,
    };

    let phases = match &def.phases {
        Some(phases) => Some(phase_clock(
            phases, calendar, term_start, &pauses, &pareri, deadline, today,
        )?),
        None => None,
    };

    Ok(Clock {
        received,
        term_start,
        term_days: def.term_days,
        deadline,
        suspended_days,
        days_elapsed_net,
        days_left,
        paused_until,
        overdue,
        decided,
        withdrawn,
        integration_requested,
        improcedibile,
        preavvisi: preavviso_status,
        preavviso_required: def.preavviso_rigetto_applies
            && def.iniziativa == super::Iniziativa::Istanza,
        silenzio_assenso_date,
        silenzio_assenso_reached,
        scia_control_end,
        autotutela_limit,
        sostitutivo_requested,
        sostitutivo_deadline,
        late_statement,
        phases,
    })
}

/// PAE-01 / PAE-02 sub-clocks.
fn phase_clock(
    phases: &super::Phases,
    calendar: &Calendar,
    start: Date,
    pauses: &[Pause],
    pareri: &[ParereRecord],
    total_by: Date,
    today: Date,
) -> Result<PhaseClock, ProcedureError> {
    let soprintendenza = pareri.iter().find(|(body, _, _)| body == SOPRINTENDENZA);
    let sent = soprintendenza.map(|(_, date, _)| *date);
    // "Net of suspension": the pauses before sending (all of them while
    // the file has not been sent).
    let before_send = suspended_within(pauses, start, sent.unwrap_or(Date::MAX));
    let send_by = add_days(
        calendar,
        start,
        i64::from(phases.send_within_days) + before_send,
    )?;
    let opinion_by = match sent {
        Some(sent) => Some(calendar.add_days(sent, phases.opinion_within_days, TERM_RULE)?),
        None => None,
    };
    // The end of the term after which the administration proceeds alone.
    let silence_term_end = match (sent, phases.on_silence) {
        (Some(_), OnSilence::SilenzioAssenso) => opinion_by,
        (Some(sent), OnSilence::ProvvedeComunque { after_days }) => {
            Some(calendar.add_days(sent, after_days, TERM_RULE)?)
        }
        (None, _) => None,
    };
    let mut opinion = soprintendenza.and_then(|(_, _, got)| *got);
    // Art. 2 c.8-bis: an opinion after the silenzio-assenso is ineffective.
    if let (OnSilence::SilenzioAssenso, Some((date, _)), Some(end)) =
        (phases.on_silence, opinion, silence_term_end)
        && date > end
    {
        opinion = None;
    }
    let soprintendenza_silence_from = match silence_term_end {
        Some(end) => Some(plus_days(end, 1)?),
        None => None,
    };
    let soprintendenza_silence_reached =
        opinion.is_none() && soprintendenza_silence_from.is_some_and(|from| today >= from);
    let decision_base = opinion.map(|(date, _)| date).or(silence_term_end);
    let decision_by = match decision_base {
        Some(base) => Some(calendar.add_days(base, phases.decision_within_days, TERM_RULE)?),
        None => None,
    };
    let alarm = send_by > total_by
        || opinion_by.is_some_and(|d| d > total_by)
        || decision_by.is_some_and(|d| d > total_by);
    Ok(PhaseClock {
        send_by,
        sent,
        opinion_by,
        opinion: opinion.map(|(date, _)| date),
        opinion_favourable: opinion.map(|(_, fav)| fav),
        soprintendenza_silence_from,
        soprintendenza_silence_reached,
        decision_by,
        total_by,
        alarm,
    })
}
