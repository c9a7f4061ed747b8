//! The emergency register (DPR 445/2000 art. 63; PR-10; issue 4 part 1).
//!
//! When the protocollo cannot be used, the responsabile della gestione
//! documentale authorises registration on a registro di emergenza (c.1).
//! Palazzo keeps each use of it as an emergency *session*:
//!
//! - **open** records the code (unique within the AOO, c.4), the cause, the
//!   start of the interruption and the first authorisation, which covers at
//!   most 24 hours from the start (c.2);
//! - **authorise** records each further authorisation: it continues the
//!   previous period and lasts at most one week (c.2: "periodi successivi di
//!   non più di una settimana"), with the act that grants it;
//! - **close** records when the service was restored; the register may not
//!   have been used beyond what was authorised, so the end must fall within
//!   the authorised periods;
//! - **import** recovers the entries written offline (c.5): each row of the
//!   recovery file is registered through [`App::register_protocol`] with a
//!   new ordinary number, in emergency-number order, carrying its emergency
//!   code, number and time for ever; rows outside the session, duplicated or
//!   already recovered are refused row by row, so re-importing a file
//!   registers nothing twice. The format is in `docs/emergency-register.md`.
//!
//! The daily count of emergency registrations (c.3) is computed from the
//! recovered entries per Europe/Rome civil day. Opening, authorising and
//! closing are ledgered (`emergenza.opened`, `emergenza.authorised`,
//! `emergenza.closed`) with the session's whole state, so `palazzo verify`
//! catches a changed session row.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::civil::{Date, DateTime};
use jiff::{SignedDuration, Timestamp, ToSpan};
use palazzo_domain::access::Permission;
use palazzo_domain::calendar::{rome_date, rome_time_zone};
use palazzo_store::*;
use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::ledger::record;
use crate::protocollo::operator;
use crate::protocollo_import::{HEADER, ImportDocuments, UnbalancedQuotes, bad, split_line};
use crate::{App, ServiceError, ServiceResult};

/// The first authorisation covers at most this long from the start (art. 63
/// c.2: "oltre ventiquattro ore" needs a further authorisation).
pub const FIRST_PERIOD: SignedDuration = SignedDuration::from_hours(24);

/// The longest code of an emergency register.
pub const MAX_CODE: usize = 40;

/// The longest cause or act reference.
pub const MAX_TEXT: usize = 1000;

/// The longest name of whoever authorised.
pub const MAX_NAME: usize = 200;

/// A clock of the operator's machine may run a little ahead: a start or end
/// up to this far in the future is accepted.
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// The columns that precede the ones of `docs/protocollo-import.md` in a
/// recovery file.
pub const EMERGENCY_COLUMNS: [&str; 2] = ["numero_emergenza", "data_ora_emergenza"];

/// The header of a recovery file: [`EMERGENCY_COLUMNS`] then
/// [`HEADER`] of the ordinary import.
pub fn recovery_header() -> Vec<&'static str> {
    EMERGENCY_COLUMNS
        .iter()
        .chain(HEADER.iter())
        .copied()
        .collect()
}

/// Opening an emergency session (art. 63 c.1), with its first authorisation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OpenEmergency {
    /// Code of the register; `EMERG-<year>-<nn>` (the next free one of the
    /// start's year) when empty.
    pub code: Option<String>,
    /// Cause of the interruption.
    pub cause: String,
    /// When the interruption started.
    pub started_at: Timestamp,
    /// The responsabile who authorised the emergency register.
    pub authorised_by: String,
    /// Reference of the act that authorises it.
    pub act: String,
    /// End of the first authorised period; at most 24 hours after the start,
    /// which is also the default.
    pub until: Option<Timestamp>,
}

/// A further authorisation (art. 63 c.2): from the end of the previous
/// period for at most one week.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthoriseEmergency {
    /// The responsabile who authorised it.
    pub authorised_by: String,
    /// Reference of the act that authorises it.
    pub act: String,
    /// End of the authorised period.
    pub until: Timestamp,
}

/// The registrations of one Europe/Rome day on the emergency register (art.
/// 63 c.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCount {
    /// The civil day.
    pub date: Date,
    /// How many entries were registered on the emergency register that day.
    pub registrations: u32,
}

/// One recovered entry: its emergency number and its ordinary registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveredEntry {
    /// Number on the emergency register.
    pub emergency_number: u64,
    /// When it was recorded on the emergency register.
    pub recorded_at: Timestamp,
    /// The ordinary registration.
    pub registration: RegistrationId,
    /// Its register year.
    pub year: i16,
    /// Its ordinary number, seven digits.
    pub number: String,
    /// When it was registered in the ordinary register.
    pub registered_at: Timestamp,
    /// Oggetto.
    pub subject: String,
    /// Annulled since (art. 54)?
    pub annulled: bool,
}

/// A session with what the register keeps about it (PR-10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyReport {
    /// The session, its authorisations and closure.
    pub session: EmergencySession,
    /// End of the authorised periods.
    pub authorised_until: Timestamp,
    /// Registrations per day, every day of the session.
    pub daily_counts: Vec<DailyCount>,
    /// The recovered entries, by emergency number.
    pub entries: Vec<RecoveredEntry>,
}

/// What happened to one row of a recovery file.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RecoveryOutcome {
    /// Registered with a new ordinary number.
    Recovered {
        /// 1-based line in the file.
        line: usize,
        /// Emergency number.
        emergency_number: u64,
        /// The new registration.
        registration: Box<Registration>,
    },
    /// Recovered by an earlier import (same number, time and subject):
    /// nothing registered again.
    AlreadyRecovered {
        /// 1-based line in the file.
        line: usize,
        /// Emergency number.
        emergency_number: u64,
        /// The registration that recovered it.
        registration: Box<Registration>,
    },
    /// Refused: nothing stored.
    Refused {
        /// 1-based line in the file.
        line: usize,
        /// Emergency number, when it could be read.
        emergency_number: Option<u64>,
        /// Stable code.
        code: &'static str,
        /// Italian message.
        message: String,
    },
}

impl RecoveryOutcome {
    /// The line of the file.
    pub fn line(&self) -> usize {
        match self {
            RecoveryOutcome::Recovered { line, .. }
            | RecoveryOutcome::AlreadyRecovered { line, .. }
            | RecoveryOutcome::Refused { line, .. } => *line,
        }
    }
}

/// How many rows of a recovery were registered, skipped as already
/// recovered, and refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RecoverySummary {
    /// Registered now with a new ordinary number.
    pub recovered: usize,
    /// Recovered by an earlier import: nothing registered again.
    pub already_recovered: usize,
    /// Refused: nothing stored.
    pub refused: usize,
}

impl RecoverySummary {
    /// The counts of `outcomes`.
    pub fn of(outcomes: &[RecoveryOutcome]) -> RecoverySummary {
        let mut s = RecoverySummary::default();
        for o in outcomes {
            match o {
                RecoveryOutcome::Recovered { .. } => s.recovered += 1,
                RecoveryOutcome::AlreadyRecovered { .. } => s.already_recovered += 1,
                RecoveryOutcome::Refused { .. } => s.refused += 1,
            }
        }
        s
    }
}

fn invalid(code: &'static str, message: impl Into<String>) -> ServiceError {
    bad(code, message)
}

/// Parses a date and time as written on an emergency register or in a
/// form: `AAAA-MM-GG HH:MM[:SS]` (or with `T`, as `datetime-local` sends
/// it) and `GG/MM/AAAA HH:MM` in Europe/Rome civil time, or RFC 3339 with an
/// offset. A civil time that the change to or from summer time makes
/// ambiguous or non-existent is refused: write it with its offset.
pub fn parse_rome_datetime(s: &str) -> ServiceResult<Timestamp> {
    let s = s.trim();
    let civil = || -> Option<DateTime> {
        s.parse::<DateTime>()
            .ok()
            .or_else(|| DateTime::strptime("%d/%m/%Y %H:%M:%S", s).ok())
            .or_else(|| DateTime::strptime("%d/%m/%Y %H:%M", s).ok())
    };
    let t = match s.parse::<Timestamp>() {
        Ok(t) => t,
        Err(_) => {
            let dt = civil().ok_or_else(|| {
                invalid(
                    "emergenza_data_ora",
                    format!(
                        "«{s}» non è una data e ora: scrivi AAAA-MM-GG HH:MM o GG/MM/AAAA HH:MM (ora di Roma)."
                    ),
                )
            })?;
            rome_time_zone()
                .to_ambiguous_zoned(dt)
                .unambiguous()
                .map_err(|_| {
                    invalid(
                        "emergenza_ora_ambigua",
                        format!(
                            "L'ora «{s}» è ambigua o non esiste per il cambio dell'ora legale: indicala con lo scarto da UTC (es. 2026-10-25T02:30+01:00)."
                        ),
                    )
                })?
                .timestamp()
        }
    };
    Ok(micros(t))
}

/// Microseconds, as both backends store them (the ledger state must hash the
/// same after a round trip).
fn micros(t: Timestamp) -> Timestamp {
    palazzo_domain::ledger::canonical_time(t).unwrap_or(t)
}

/// A required one-line (or, with `multiline`, multi-line) text field.
fn text_field(
    value: &str,
    max: usize,
    code: &'static str,
    what: &str,
    multiline: bool,
) -> ServiceResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(invalid(code, format!("Indica {what}.")));
    }
    let bad_char = |c: char| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'));
    if v.chars().count() > max || v.chars().any(bad_char) {
        return Err(invalid(
            code,
            format!("{what} non può superare {max} caratteri né contenere caratteri di controllo."),
        ));
    }
    Ok(v.to_owned())
}

/// Checks (and upper-cases) the code of an emergency register: letters,
/// digits, `-`, `_`, `.`, starting with a letter or digit.
pub fn check_code(code: &str) -> ServiceResult<String> {
    let c = code.trim().to_uppercase();
    let ok = !c.is_empty()
        && c.chars().count() <= MAX_CODE
        && c.starts_with(|x: char| x.is_ascii_alphanumeric())
        && c.chars()
            .all(|x| x.is_ascii_uppercase() || x.is_ascii_digit() || matches!(x, '-' | '_' | '.'));
    if ok {
        Ok(c)
    } else {
        Err(invalid(
            "emergenza_codice",
            format!(
                "Il codice del registro di emergenza è fatto di lettere, cifre, «-», «_» o «.» (al massimo {MAX_CODE}), ad esempio EMERG-2026-01."
            ),
        ))
    }
}

fn in_future(t: Timestamp) -> bool {
    Timestamp::now()
        .checked_add(CLOCK_SKEW)
        .is_ok_and(|limit| t > limit)
}

/// The end of a period of one week from `from` in Europe/Rome calendar days
/// (art. 63 c.2: "non più di una settimana").
pub fn one_week_after(from: Timestamp) -> ServiceResult<Timestamp> {
    from.to_zoned(rome_time_zone())
        .checked_add(7.days())
        .map(|z| z.timestamp())
        .map_err(|_| invalid("emergenza_data_ora", "Data fuori dall'intervallo ammesso."))
}

impl App {
    /// Emergency sessions of the comune, newest first (staff who may read
    /// the register).
    pub async fn emergency_sessions(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<EmergencySession>> {
        actor.require(Permission::ReadProtocol)?;
        Ok(self.db().emergency_sessions(tenant).await?)
    }

    async fn session_by_code(
        &self,
        tenant: TenantId,
        code: &str,
    ) -> ServiceResult<EmergencySession> {
        let code = check_code(code).map_err(|_| ServiceError::NotFound)?;
        self.db()
            .emergency_session_by_code(tenant, &code)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// An emergency session by code, for staff who may read the register.
    pub async fn emergency_session(
        &self,
        tenant: TenantId,
        actor: &Actor,
        code: &str,
    ) -> ServiceResult<EmergencySession> {
        actor.require(Permission::ReadProtocol)?;
        self.session_by_code(tenant, code).await
    }

    /// The next free `EMERG-<year>-<nn>` of the Rome year of `start`.
    async fn next_code(&self, tenant: TenantId, start: Timestamp) -> ServiceResult<String> {
        let year = rome_date(start).year();
        let taken: Vec<String> = self
            .db()
            .emergency_sessions(tenant)
            .await?
            .into_iter()
            .map(|s| s.data.code)
            .collect();
        let mut n = 1;
        loop {
            let code = format!("EMERG-{year}-{n:02}");
            if !taken.contains(&code) {
                return Ok(code);
            }
            n += 1;
        }
    }

    /// Opens an emergency session with its first authorisation (art. 63
    /// c.1–2): at most 24 hours from the start. Only the responsabile della
    /// gestione documentale's roles may. Ledgered as `emergenza.opened`.
    #[tracing::instrument(skip_all, fields(tenant = tenant.0))]
    pub async fn open_emergency(
        &self,
        tenant: TenantId,
        actor: &Actor,
        input: OpenEmergency,
    ) -> ServiceResult<EmergencySession> {
        actor.require(Permission::ManageEmergencyRegister)?;
        let cause = text_field(
            &input.cause,
            MAX_TEXT,
            "emergenza_causa",
            "la causa dell'interruzione",
            true,
        )?;
        let authorised_by = text_field(
            &input.authorised_by,
            MAX_NAME,
            "emergenza_autorizzazione_incompleta",
            "chi autorizza il registro di emergenza",
            false,
        )?;
        let act = text_field(
            &input.act,
            MAX_TEXT,
            "emergenza_autorizzazione_incompleta",
            "il provvedimento di autorizzazione",
            false,
        )?;
        let started_at = micros(input.started_at);
        if in_future(started_at) {
            return Err(invalid(
                "emergenza_inizio_futuro",
                "L'inizio dell'interruzione non può essere nel futuro.",
            ));
        }
        let max_until = started_at
            .checked_add(FIRST_PERIOD)
            .map_err(|_| invalid("emergenza_data_ora", "Data fuori dall'intervallo ammesso."))?;
        let until = micros(input.until.unwrap_or(max_until));
        if until <= started_at || until > max_until {
            return Err(invalid(
                "emergenza_autorizzazione_24h",
                "La prima autorizzazione copre al massimo 24 ore dall'inizio dell'interruzione (DPR 445/2000 art. 63 c.2); per un periodo più lungo registra un'ulteriore autorizzazione.",
            ));
        }
        let code = match input
            .code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(c) => check_code(c)?,
            None => self.next_code(tenant, started_at).await?,
        };
        let t = self.tenant(tenant)?;
        let now = palazzo_store::rows::registration_time();
        let who = operator(actor);
        let mut tx = self.db().begin().await?;
        let mut session = match tx
            .insert_emergency_session(
                tenant,
                &NewEmergencySession {
                    code: code.clone(),
                    cause,
                    started_at,
                    opened_by: who.clone(),
                    opened_at: now,
                },
            )
            .await
        {
            Ok(s) => s,
            Err(StoreError::Conflict(_)) => return Err(code_taken(&code)),
            Err(e) => return Err(e.into()),
        };
        let first = EmergencyAuthorisation {
            seq: 1,
            authorised_by,
            act,
            valid_from: started_at,
            valid_until: until,
            recorded_by: who,
            recorded_at: now,
        };
        if !tx
            .insert_emergency_authorisation(tenant, session.id, &first)
            .await?
        {
            return Err(ServiceError::Internal("new session not open".into()));
        }
        session.authorisations.push(first);
        record(&mut tx, &t, "emergenza.opened", &session).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(code = %session.data.code, "emergency register opened");
        Ok(session)
    }

    /// Records a further authorisation (art. 63 c.2): it starts where the
    /// previous one ends and lasts at most one week. The session must still
    /// be open. Ledgered as `emergenza.authorised`.
    #[tracing::instrument(skip_all, fields(tenant = tenant.0))]
    pub async fn authorise_emergency(
        &self,
        tenant: TenantId,
        actor: &Actor,
        code: &str,
        input: AuthoriseEmergency,
    ) -> ServiceResult<EmergencySession> {
        actor.require(Permission::ManageEmergencyRegister)?;
        let mut session = self.session_by_code(tenant, code).await?;
        if !session.is_open() {
            return Err(closed());
        }
        let authorised_by = text_field(
            &input.authorised_by,
            MAX_NAME,
            "emergenza_autorizzazione_incompleta",
            "chi autorizza il periodo successivo",
            false,
        )?;
        let act = text_field(
            &input.act,
            MAX_TEXT,
            "emergenza_autorizzazione_incompleta",
            "il provvedimento di autorizzazione",
            false,
        )?;
        let from = session.authorised_until();
        let until = micros(input.until);
        if until <= from || until > one_week_after(from)? {
            return Err(invalid(
                "emergenza_autorizzazione_settimana",
                format!(
                    "Ogni ulteriore autorizzazione decorre dalla fine della precedente ({}) e copre al massimo una settimana (DPR 445/2000 art. 63 c.2).",
                    rome_display(from)
                ),
            ));
        }
        let seq = u32::try_from(session.authorisations.len() + 1)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let a = EmergencyAuthorisation {
            seq,
            authorised_by,
            act,
            valid_from: from,
            valid_until: until,
            recorded_by: operator(actor),
            recorded_at: palazzo_store::rows::registration_time(),
        };
        let t = self.tenant(tenant)?;
        let mut tx = self.db().begin().await?;
        match tx
            .insert_emergency_authorisation(tenant, session.id, &a)
            .await
        {
            Ok(true) => {}
            Ok(false) => return Err(closed()),
            // Another authorisation was recorded meanwhile: its period
            // changed where this one starts.
            Err(StoreError::Conflict(_)) => return Err(concurrent()),
            Err(e) => return Err(e.into()),
        }
        session.authorisations.push(a);
        record(&mut tx, &t, "emergenza.authorised", &session).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        Ok(session)
    }

    /// Closes a session: the service was restored at `ended_at` (art. 63
    /// c.1), within the authorised periods. Ledgered as `emergenza.closed`.
    #[tracing::instrument(skip_all, fields(tenant = tenant.0))]
    pub async fn close_emergency(
        &self,
        tenant: TenantId,
        actor: &Actor,
        code: &str,
        ended_at: Timestamp,
    ) -> ServiceResult<EmergencySession> {
        actor.require(Permission::ManageEmergencyRegister)?;
        let mut session = self.session_by_code(tenant, code).await?;
        if !session.is_open() {
            return Err(closed());
        }
        let ended_at = micros(ended_at);
        if ended_at <= session.data.started_at || in_future(ended_at) {
            return Err(invalid(
                "emergenza_fine",
                "Il ripristino del servizio va indicato dopo l'inizio dell'interruzione e non nel futuro.",
            ));
        }
        let until = session.authorised_until();
        if ended_at > until {
            return Err(invalid(
                "emergenza_fine_non_autorizzata",
                format!(
                    "L'uso del registro di emergenza è autorizzato fino al {}: registra prima un'ulteriore autorizzazione (DPR 445/2000 art. 63 c.2).",
                    rome_display(until)
                ),
            ));
        }
        let closure = EmergencyClosure {
            ended_at,
            closed_by: operator(actor),
            closed_at: palazzo_store::rows::registration_time(),
        };
        let t = self.tenant(tenant)?;
        let mut tx = self.db().begin().await?;
        if !tx
            .close_emergency_session(tenant, session.id, &closure)
            .await?
        {
            return Err(closed());
        }
        session.closure = Some(closure);
        record(&mut tx, &t, "emergenza.closed", &session).await?;
        tx.commit().await?;
        self.ledger_changed(tenant);
        tracing::info!(code = %session.data.code, "emergency register closed");
        Ok(session)
    }

    /// A session with its daily counts (art. 63 c.3) and the recovered
    /// entries with both numbers, for staff who may read the register.
    pub async fn emergency_report(
        &self,
        tenant: TenantId,
        actor: &Actor,
        code: &str,
    ) -> ServiceResult<EmergencyReport> {
        actor.require(Permission::ReadProtocol)?;
        let session = self.session_by_code(tenant, code).await?;
        let regs = self
            .db()
            .emergency_recoveries(tenant, &session.data.code)
            .await?;
        let entries: Vec<RecoveredEntry> = regs
            .iter()
            .filter_map(|r| {
                let e = r.data.emergency.as_ref()?;
                Some(RecoveredEntry {
                    emergency_number: e.number,
                    recorded_at: e.recorded_at,
                    registration: r.id,
                    year: r.year,
                    number: r.number.to_string(),
                    registered_at: r.registered_at,
                    subject: r.data.subject.clone(),
                    annulled: r.annulment.is_some(),
                })
            })
            .collect();
        let authorised_until = session.authorised_until();
        let last = match &session.closure {
            Some(c) => c.ended_at,
            None => authorised_until.min(Timestamp::now()),
        };
        let mut per_day: BTreeMap<Date, u32> = BTreeMap::new();
        let (first_day, last_day) = (rome_date(session.data.started_at), rome_date(last));
        let mut day = first_day;
        // Every day of the session, also those without registrations; a
        // session is authorised a week at a time, so this stays short.
        while day <= last_day && per_day.len() < 366 {
            per_day.insert(day, 0);
            match day.tomorrow() {
                Ok(d) => day = d,
                Err(_) => break,
            }
        }
        for e in &entries {
            *per_day.entry(rome_date(e.recorded_at)).or_default() += 1;
        }
        Ok(EmergencyReport {
            session,
            authorised_until,
            daily_counts: per_day
                .into_iter()
                .map(|(date, registrations)| DailyCount {
                    date,
                    registrations,
                })
                .collect(),
            entries,
        })
    }

    /// Emergency → ordinary: the registration that recovered emergency
    /// number `number` of register `code` (PR-10).
    pub async fn emergency_lookup(
        &self,
        tenant: TenantId,
        actor: &Actor,
        code: &str,
        number: u64,
    ) -> ServiceResult<Registration> {
        actor.require(Permission::ReadProtocol)?;
        let code = check_code(code).map_err(|_| ServiceError::NotFound)?;
        self.db()
            .registration_by_emergency(tenant, &code, number)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Ordinary → emergency: the session and emergency number a
    /// registration recovered, if any (PR-10).
    pub async fn emergency_origin(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: RegistrationId,
    ) -> ServiceResult<Option<(EmergencySession, EmergencyRef)>> {
        let r = self.protocol_entry(tenant, actor, id).await?;
        let Some(e) = r.data.emergency else {
            return Ok(None);
        };
        let s = self
            .db()
            .emergency_session_by_code(tenant, &e.register)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("no session {}", e.register)))?;
        Ok(Some((s, e)))
    }

    /// Recovers the entries of emergency register `code` from the CSV file
    /// `path` (art. 63 c.5; format in `docs/emergency-register.md`), as
    /// `actor`, who must be able to register; the documents are read
    /// relative to the file's folder. See [`App::recover_emergency`].
    #[tracing::instrument(skip_all, fields(tenant = tenant.0))]
    pub async fn import_emergency(
        &self,
        tenant: TenantId,
        actor: &Actor,
        code: &str,
        path: &Path,
        progress: impl FnMut(usize, usize),
    ) -> ServiceResult<Vec<RecoveryOutcome>> {
        actor.require(Permission::RegisterProtocol)?;
        self.recovery_session(tenant, code).await?;
        let text = tokio::fs::read_to_string(path).await.map_err(|e| {
            invalid(
                "import_file_unreadable",
                format!("Il file {} non si può leggere: {e}.", path.display()),
            )
        })?;
        let base = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
        self.recover_emergency(
            tenant,
            actor,
            code,
            &text,
            ImportDocuments::Folder(&base),
            progress,
        )
        .await
    }

    /// The session that a recovery targets: it must exist
    /// (`emergenza_sconosciuta`) and be closed (`emergenza_aperta`).
    async fn recovery_session(
        &self,
        tenant: TenantId,
        code: &str,
    ) -> ServiceResult<(EmergencySession, EmergencyClosure)> {
        let session = self
            .session_by_code(tenant, code)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound => invalid(
                    "emergenza_sconosciuta",
                    format!("Il registro di emergenza «{}» non esiste.", code.trim()),
                ),
                e => e,
            })?;
        let Some(closure) = session.closure.clone() else {
            return Err(invalid(
                "emergenza_aperta",
                "Il recupero si fa al ripristino del servizio: chiudi prima il registro di emergenza indicando quando il servizio è stato ripristinato.",
            ));
        };
        Ok((session, closure))
    }

    /// Recovers the entries of emergency register `code` from the text of a
    /// recovery file (art. 63 c.5; format in `docs/emergency-register.md`),
    /// as `actor`, who must be able to register; `docs` says where the
    /// documents its rows name come from (a folder, or files uploaded with
    /// it). The session must be closed (the service restored). Rows are
    /// registered in emergency-number order, each in its own transaction
    /// through [`App::register_protocol`]; `progress(done, total)` is called
    /// after each. A refused row stores nothing and does not stop the
    /// others; a row already recovered is skipped, so the same file can be
    /// sent again. Outcomes are returned in file order.
    #[tracing::instrument(skip_all, fields(tenant = tenant.0))]
    pub async fn recover_emergency(
        &self,
        tenant: TenantId,
        actor: &Actor,
        code: &str,
        text: &str,
        docs: ImportDocuments<'_>,
        mut progress: impl FnMut(usize, usize),
    ) -> ServiceResult<Vec<RecoveryOutcome>> {
        actor.require(Permission::RegisterProtocol)?;
        let (session, closure) = self.recovery_session(tenant, code).await?;
        let mut lines = text.lines().enumerate();
        let header = lines
            .next()
            .map(|(_, h)| split_line(h.trim_start_matches('\u{feff}')))
            .transpose()
            .ok()
            .flatten()
            .unwrap_or_default();
        let expected = recovery_header();
        if header.iter().map(String::as_str).collect::<Vec<_>>() != expected {
            return Err(invalid(
                "import_header",
                format!(
                    "La prima riga deve essere l'intestazione: {}",
                    expected.join(";")
                ),
            ));
        }
        // Read every row first: the numbers decide the order.
        let mut out: Vec<RecoveryOutcome> = Vec::new();
        let mut rows: Vec<(usize, u64, Timestamp, Vec<String>)> = Vec::new();
        for (i, l) in lines.filter(|(_, l)| !l.trim().is_empty()) {
            let line = i + 1;
            match parse_recovery_row(l, expected.len()) {
                Ok((n, at, fields)) => rows.push((line, n, at, fields)),
                Err((n, e)) => out.push(refused(line, n, &e)),
            }
        }
        let mut seen: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for (line, n, _, _) in &rows {
            seen.entry(*n).or_default().push(*line);
        }
        let (dups, mut rows): (Vec<_>, Vec<_>) =
            rows.into_iter().partition(|r| seen[&r.1].len() > 1);
        for (line, n, _, _) in dups {
            let others: Vec<String> = seen[&n]
                .iter()
                .filter(|l| **l != line)
                .map(ToString::to_string)
                .collect();
            out.push(refused(
                line,
                Some(n),
                &invalid(
                    "emergenza_numero_duplicato",
                    format!(
                        "Il numero di emergenza {n} compare anche alla riga {}: correggi il file, nessuna delle righe è stata registrata.",
                        others.join(", ")
                    ),
                ),
            ));
        }
        rows.sort_by_key(|r| r.1);
        let total = rows.len();
        let snap = self.portal(tenant).await?;
        let until = closure.ended_at.min(session.authorised_until());
        for (done, (line, n, at, fields)) in rows.into_iter().enumerate() {
            let outcome = match self
                .recover_row(tenant, actor, &session, until, docs, &snap, n, at, &fields)
                .await
            {
                Ok((reg, true)) => RecoveryOutcome::Recovered {
                    line,
                    emergency_number: n,
                    registration: Box::new(reg),
                },
                Ok((reg, false)) => RecoveryOutcome::AlreadyRecovered {
                    line,
                    emergency_number: n,
                    registration: Box::new(reg),
                },
                Err(e) => refused(line, Some(n), &e),
            };
            out.push(outcome);
            progress(done + 1, total);
        }
        out.sort_by_key(RecoveryOutcome::line);
        Ok(out)
    }

    /// One row: `Ok((registration, true))` when registered now, `false` when
    /// an earlier import had registered it.
    #[allow(clippy::too_many_arguments)]
    async fn recover_row(
        &self,
        tenant: TenantId,
        actor: &Actor,
        session: &EmergencySession,
        until: Timestamp,
        docs: ImportDocuments<'_>,
        snap: &crate::PortalSnapshot,
        number: u64,
        at: Timestamp,
        fields: &[String],
    ) -> ServiceResult<(Registration, bool)> {
        let code = &session.data.code;
        if let Some(reg) = self
            .db()
            .registration_by_emergency(tenant, code, number)
            .await?
        {
            return already(reg, number, at, fields.get(1).map(String::as_str));
        }
        if at < session.data.started_at || at > until {
            return Err(invalid(
                "emergenza_fuori_periodo",
                format!(
                    "La registrazione di emergenza n. {number} ({}) è fuori dal periodo del registro {code}, dal {} al {}.",
                    rome_display(at),
                    rome_display(session.data.started_at),
                    rome_display(until)
                ),
            ));
        }
        let mut input = self.row_input(actor, docs, snap, fields).await?;
        input.emergency = Some(EmergencyRef {
            register: code.clone(),
            number,
            recorded_at: at,
        });
        match self.register_protocol(tenant, actor, input).await {
            Ok(reg) => Ok((reg, true)),
            // A concurrent import recovered it first (the unique index).
            Err(ServiceError::Store(StoreError::Conflict(_))) => {
                match self
                    .db()
                    .registration_by_emergency(tenant, code, number)
                    .await?
                {
                    Some(reg) => already(reg, number, at, fields.get(1).map(String::as_str)),
                    None => Err(concurrent()),
                }
            }
            Err(e) => Err(e),
        }
    }
}

/// An emergency number already recovered: the same entry again (same time
/// and subject) is skipped; a different one is refused.
fn already(
    reg: Registration,
    number: u64,
    at: Timestamp,
    subject: Option<&str>,
) -> ServiceResult<(Registration, bool)> {
    let same_time = reg.data.emergency.as_ref().map(|e| e.recorded_at) == Some(at);
    let same_subject = subject.map(str::trim) == Some(reg.data.subject.as_str());
    if same_time && same_subject {
        Ok((reg, false))
    } else {
        Err(invalid(
            "emergenza_numero_gia_recuperato",
            format!(
                "Il numero di emergenza {number} è già stato recuperato con il protocollo n. {}/{} («{}»), con dati diversi da questa riga.",
                reg.number, reg.year, reg.data.subject
            ),
        ))
    }
}

/// A recovery row: emergency number, emergency time, the ordinary fields.
type RecoveryRow = (u64, Timestamp, Vec<String>);

/// Why a recovery row is refused, with its number when it could be read.
type RowRefusal = (Option<u64>, ServiceError);

/// Splits a recovery row into its emergency number, time and the fields of
/// the ordinary import; on error, the number if it could be read.
fn parse_recovery_row(l: &str, columns: usize) -> Result<RecoveryRow, RowRefusal> {
    let f = split_line(l).map_err(|UnbalancedQuotes| {
        (
            None,
            invalid("import_csv", "Virgolette non bilanciate nella riga."),
        )
    })?;
    if f.len() != columns {
        return Err((
            None,
            invalid(
                "import_columns",
                format!("La riga ha {} colonne invece di {columns}.", f.len()),
            ),
        ));
    }
    let raw = f[0].trim();
    let n = raw
        .parse::<u64>()
        .ok()
        .filter(|n| *n >= 1 && i64::try_from(*n).is_ok())
        .ok_or_else(|| {
            (
                None,
                invalid(
                    "emergenza_numero",
                    format!("«{raw}» non è un numero di emergenza (un intero da 1 in su)."),
                ),
            )
        })?;
    let at = parse_rome_datetime(&f[1]).map_err(|e| (Some(n), e))?;
    Ok((n, at, f[2..].to_vec()))
}

fn refused(line: usize, emergency_number: Option<u64>, e: &ServiceError) -> RecoveryOutcome {
    RecoveryOutcome::Refused {
        line,
        emergency_number,
        code: e.code(),
        message: e.message_it(),
    }
}

fn closed() -> ServiceError {
    invalid(
        "emergenza_chiusa",
        "Il registro di emergenza è chiuso: il servizio è già stato ripristinato.",
    )
}

fn concurrent() -> ServiceError {
    invalid(
        "emergenza_modificata",
        "Il registro di emergenza è stato modificato nel frattempo: ricarica e riprova.",
    )
}

fn code_taken(code: &str) -> ServiceError {
    invalid(
        "emergenza_codice_esistente",
        format!("Esiste già un registro di emergenza con codice {code}."),
    )
}

/// `dd/mm/yyyy HH:MM` in Europe/Rome.
pub fn rome_display(t: Timestamp) -> String {
    t.to_zoned(rome_time_zone())
        .strftime("%d/%m/%Y %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rome_times() {
        // Winter: UTC+1; summer: UTC+2.
        assert_eq!(
            parse_rome_datetime("2026-01-15 10:30").unwrap().to_string(),
            "2026-01-15T09:30:00Z"
        );
        assert_eq!(
            parse_rome_datetime("15/07/2026 10:30").unwrap().to_string(),
            "2026-07-15T08:30:00Z"
        );
        assert_eq!(
            parse_rome_datetime("2026-07-15T10:30").unwrap().to_string(),
            "2026-07-15T08:30:00Z"
        );
        assert_eq!(
            parse_rome_datetime("2026-07-15T10:30:00+02:00")
                .unwrap()
                .to_string(),
            "2026-07-15T08:30:00Z"
        );
        // 25 October 2026, 02:30 happens twice in Rome; 29 March 02:30 never.
        assert_eq!(
            parse_rome_datetime("2026-10-25 02:30").unwrap_err().code(),
            "emergenza_ora_ambigua"
        );
        assert_eq!(
            parse_rome_datetime("2026-03-29 02:30").unwrap_err().code(),
            "emergenza_ora_ambigua"
        );
        assert_eq!(
            parse_rome_datetime("ieri").unwrap_err().code(),
            "emergenza_data_ora"
        );
    }

    #[test]
    fn codes() {
        assert_eq!(check_code(" emerg-2026-01 ").unwrap(), "EMERG-2026-01");
        assert!(check_code("").is_err());
        assert!(check_code("-X").is_err());
        assert!(check_code("A B").is_err());
        assert!(check_code("A/B").is_err());
        assert!(check_code(&"A".repeat(41)).is_err());
    }

    #[test]
    fn a_week_is_seven_calendar_days_in_rome() {
        // Across the change to summer time a week is 167 hours.
        let from = parse_rome_datetime("2026-03-25 12:00").unwrap();
        let to = one_week_after(from).unwrap();
        assert_eq!(rome_display(to), "01/04/2026 12:00");
        assert_eq!(to.duration_since(from), SignedDuration::from_hours(167));
    }

    #[test]
    fn recovery_rows() {
        let cols = recovery_header().len();
        let row = "12;2026-03-02 10:15;E;Oggetto;Mario Rossi;;;;;;;a.pdf;";
        let (n, at, f) = parse_recovery_row(row, cols).unwrap();
        assert_eq!((n, f.len()), (12, HEADER.len()));
        assert_eq!(at.to_string(), "2026-03-02T09:15:00Z");
        let (n, e) = parse_recovery_row("0;2026-03-02 10:15;E;O;M;;;;;;;a.pdf;", cols).unwrap_err();
        assert_eq!((n, e.code()), (None, "emergenza_numero"));
        let (n, e) = parse_recovery_row("3;domani;E;O;M;;;;;;;a.pdf;", cols).unwrap_err();
        assert_eq!((n, e.code()), (Some(3), "emergenza_data_ora"));
        assert_eq!(
            parse_recovery_row("3;x", cols).unwrap_err().1.code(),
            "import_columns"
        );
    }
}
