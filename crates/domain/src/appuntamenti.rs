//! Appointment booking (issue 6, part 7; criteria C.SI.2.1 and C.SE.2.2):
//! an office's booking calendar and the slots it offers.
//!
//! A [`BookingCalendar`] is a set of weekly opening windows (weekday, start
//! and end time, slot length, seats per slot = counters at the desk), a
//! validity period, extra closure days, a minimum notice and a booking
//! horizon. [`BookingCalendar::slots_on`] lays out the slots of one day in
//! Europe/Rome civil time; a day on which the comune's [`Calendar`] says the
//! offices are closed (national holidays, the patron saint, its closures)
//! has no slots, and neither has a civil time that does not exist (the hour
//! skipped when summer time starts). [`BookingCalendar::available`] keeps
//! the slots far enough ahead; [`BookingCalendar::slot_at`] checks that a
//! slot asked for by start time really is one.
//!
//! The calendar travels as a [`CalendarSpec`] (Italian field names: the TOML
//! file of `palazzo appuntamenti calendario`, the JSON of the API and the
//! stored form) and is parsed into a [`BookingCalendar`] with coded errors.
//! [`BookingDetails::parse`] checks what the citizen types.

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::AmbiguousOffset;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::Coded;
use crate::calendar::{Calendar, rome_time_zone};
use crate::ids::Email;

/// The longest reason a citizen may write (characters).
pub const MAX_REASON_CHARS: usize = 500;
/// Slot lengths accepted, in minutes.
pub const SLOT_MINUTES: std::ops::RangeInclusive<u32> = 5..=240;
/// Seats (counters) per slot accepted.
pub const SEATS: std::ops::RangeInclusive<u32> = 1..=20;
/// Default minimum notice, in hours.
pub const DEFAULT_NOTICE_HOURS: u32 = 24;
/// Default booking horizon, in days.
pub const DEFAULT_HORIZON_DAYS: u32 = 60;
/// Longest name, surname, topic or service slug (characters).
pub const MAX_FIELD_CHARS: usize = 100;
/// Most topics or services a calendar may list.
pub const MAX_LIST_ITEMS: usize = 50;

/// Why a calendar or a booking is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BookingError {
    /// A weekday name that is not one.
    #[error("unknown weekday {0:?}")]
    Weekday(String),
    /// A time that is not `HH:MM`.
    #[error("bad time {0:?}")]
    Time(String),
    /// A date that is not `YYYY-MM-DD`.
    #[error("bad date {0:?}")]
    Date(String),
    /// A window that ends before its first slot could end.
    #[error("empty window")]
    EmptyWindow,
    /// A slot length outside [`SLOT_MINUTES`].
    #[error("bad slot length")]
    SlotLength,
    /// Seats outside [`SEATS`].
    #[error("bad seats")]
    Seats,
    /// Two windows of the same weekday overlap.
    #[error("overlapping windows")]
    Overlap,
    /// No window at all.
    #[error("no window")]
    NoWindows,
    /// `valido_al` before `valido_dal`.
    #[error("validity ends before it starts")]
    Validity,
    /// Notice above 30 days or horizon outside 1–366 days.
    #[error("bad notice or horizon")]
    Limits,
    /// A topic or service list too long, or an item empty or too long.
    #[error("bad list item")]
    ListItem,
    /// The start time asked for is not a slot of the calendar.
    #[error("not a slot")]
    NotASlot,
    /// The slot is past or closer than the notice.
    #[error("too soon")]
    TooSoon,
    /// The slot is beyond the horizon.
    #[error("too far")]
    TooFar,
    /// The reason is longer than [`MAX_REASON_CHARS`].
    #[error("reason too long")]
    ReasonTooLong,
    /// Name or surname missing or too long.
    #[error("bad name")]
    Name,
    /// A topic the calendar does not offer.
    #[error("unknown topic")]
    Topic,
    /// The e-mail address is missing or invalid.
    #[error("bad email")]
    Email,
    /// The phone number is invalid.
    #[error("bad phone")]
    Phone,
}

impl Coded for BookingError {
    fn code(&self) -> &'static str {
        match self {
            BookingError::Weekday(_) => "appuntamenti_giorno_non_valido",
            BookingError::Time(_) => "appuntamenti_orario_non_valido",
            BookingError::Date(_) => "appuntamenti_data_non_valida",
            BookingError::EmptyWindow => "appuntamenti_fascia_vuota",
            BookingError::SlotLength => "appuntamenti_durata_non_valida",
            BookingError::Seats => "appuntamenti_posti_non_validi",
            BookingError::Overlap => "appuntamenti_fasce_sovrapposte",
            BookingError::NoWindows => "appuntamenti_nessuna_fascia",
            BookingError::Validity => "appuntamenti_validita_non_valida",
            BookingError::Limits => "appuntamenti_limiti_non_validi",
            BookingError::ListItem => "appuntamenti_elenco_non_valido",
            BookingError::NotASlot => "appuntamento_orario_non_valido",
            BookingError::TooSoon => "appuntamento_troppo_vicino",
            BookingError::TooFar => "appuntamento_troppo_lontano",
            BookingError::ReasonTooLong => "motivo_troppo_lungo",
            BookingError::Name => "nome_non_valido",
            BookingError::Topic => "argomento_non_valido",
            BookingError::Email => "email_non_valida",
            BookingError::Phone => "telefono_non_valido",
        }
    }

    fn message_it(&self) -> String {
        match self {
            BookingError::Weekday(d) => format!(
                "«{d}» non è un giorno della settimana (usa lunedi, martedi, mercoledi, giovedi, venerdi, sabato o domenica)."
            ),
            BookingError::Time(t) => format!("«{t}» non è un orario valido (usa HH:MM)."),
            BookingError::Date(d) => format!("«{d}» non è una data valida (usa AAAA-MM-GG)."),
            BookingError::EmptyWindow => {
                "Ogni fascia oraria deve durare almeno quanto un appuntamento.".to_owned()
            }
            BookingError::SlotLength => format!(
                "La durata di un appuntamento va da {} a {} minuti.",
                SLOT_MINUTES.start(),
                SLOT_MINUTES.end()
            ),
            BookingError::Seats => format!(
                "Gli sportelli per fascia vanno da {} a {}.",
                SEATS.start(),
                SEATS.end()
            ),
            BookingError::Overlap => {
                "Due fasce orarie dello stesso giorno si sovrappongono.".to_owned()
            }
            BookingError::NoWindows => "Indica almeno una fascia oraria.".to_owned(),
            BookingError::Validity => {
                "La fine della validità del calendario precede il suo inizio.".to_owned()
            }
            BookingError::Limits => "Il preavviso va da 0 a 720 ore e i giorni prenotabili da 1 a 366."
                .to_owned(),
            BookingError::ListItem => format!(
                "Gli elenchi di servizi e argomenti hanno al massimo {MAX_LIST_ITEMS} voci, non vuote e di al massimo {MAX_FIELD_CHARS} caratteri."
            ),
            BookingError::NotASlot => {
                "L'orario scelto non è tra quelli prenotabili presso questo ufficio.".to_owned()
            }
            BookingError::TooSoon => {
                "L'orario scelto è passato o troppo vicino: scegline uno successivo.".to_owned()
            }
            BookingError::TooFar => {
                "L'orario scelto non è ancora prenotabile: scegline uno più vicino.".to_owned()
            }
            BookingError::ReasonTooLong => format!(
                "Il motivo dell'appuntamento può avere al massimo {MAX_REASON_CHARS} caratteri."
            ),
            BookingError::Name => format!(
                "Indica nome e cognome (al massimo {MAX_FIELD_CHARS} caratteri ciascuno)."
            ),
            BookingError::Topic => "Scegli uno degli argomenti proposti.".to_owned(),
            BookingError::Email => {
                "Indica un indirizzo e-mail valido: lì riceverai la conferma.".to_owned()
            }
            BookingError::Phone => "Il numero di telefono può contenere solo cifre, spazi e un + iniziale (da 6 a 15 cifre).".to_owned(),
        }
    }
}

// ---------------------------------------------------------------------------
// The spec (TOML / JSON / stored)
// ---------------------------------------------------------------------------

/// One weekly window as written in a calendar file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    /// `lunedi` … `domenica` (accents and case ignored).
    pub giorno: String,
    /// First slot start, `HH:MM`.
    pub dalle: String,
    /// End of the window, `HH:MM`: the last slot ends by then.
    pub alle: String,
    /// Slot length in minutes.
    pub durata_minuti: u32,
    /// Seats (counters) per slot.
    #[serde(default = "one")]
    pub posti: u32,
}

fn one() -> u32 {
    1
}

fn default_notice() -> u32 {
    DEFAULT_NOTICE_HOURS
}

fn default_horizon() -> u32 {
    DEFAULT_HORIZON_DAYS
}

/// A calendar as written: the file of `palazzo appuntamenti calendario`,
/// the body of the API and the stored form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// The weekly windows.
    #[serde(default)]
    pub fasce: Vec<WindowSpec>,
    /// First day of validity (`YYYY-MM-DD`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valido_dal: Option<String>,
    /// Last day of validity (`YYYY-MM-DD`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valido_al: Option<String>,
    /// Extra closure days of this office (`YYYY-MM-DD`).
    #[serde(default)]
    pub chiusure: Vec<String>,
    /// Minimum notice in hours.
    #[serde(default = "default_notice")]
    pub preavviso_ore: u32,
    /// How many days ahead one may book.
    #[serde(default = "default_horizon")]
    pub giorni_prenotabili: u32,
    /// Slugs of the services this office takes bookings for besides its
    /// own (the catalogue's responsible office is always competent).
    #[serde(default)]
    pub servizi: Vec<String>,
    /// The topics offered in the booking form (empty: a single generic one).
    #[serde(default)]
    pub argomenti: Vec<String>,
}

/// One weekly opening window, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The weekday.
    pub weekday: Weekday,
    /// Minutes after midnight of the first slot start.
    pub start: u32,
    /// Minutes after midnight of the window's end.
    pub end: u32,
    /// Slot length in minutes.
    pub slot_minutes: u32,
    /// Seats per slot.
    pub seats: u32,
}

impl Window {
    /// The start minutes of its slots.
    fn starts(&self) -> impl Iterator<Item = u32> + '_ {
        let len = self.slot_minutes.max(1);
        (self.start..self.end)
            .step_by(usize::try_from(len).unwrap_or(1))
            .take_while(move |s| s + len <= self.end)
    }
}

/// A parsed, valid booking calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingCalendar {
    windows: Vec<Window>,
    valid_from: Option<Date>,
    valid_until: Option<Date>,
    closures: BTreeSet<Date>,
    notice_hours: u32,
    horizon_days: u32,
    services: Vec<String>,
    topics: Vec<String>,
}

/// One bookable slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    /// Start instant (UTC).
    pub start: Timestamp,
    /// End instant (UTC).
    pub end: Timestamp,
    /// Civil date in Rome.
    pub date: Date,
    /// Civil start time in Rome.
    pub time: Time,
    /// Seats (counters) for this slot.
    pub seats: u32,
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("lunedi", Weekday::Monday),
    ("martedi", Weekday::Tuesday),
    ("mercoledi", Weekday::Wednesday),
    ("giovedi", Weekday::Thursday),
    ("venerdi", Weekday::Friday),
    ("sabato", Weekday::Saturday),
    ("domenica", Weekday::Sunday),
];

/// The Italian name of a weekday as written in calendar files
/// (`lunedi` … `domenica`).
#[must_use]
pub fn weekday_code(w: Weekday) -> &'static str {
    WEEKDAYS
        .iter()
        .find(|(_, d)| *d == w)
        .map_or("lunedi", |(n, _)| n)
}

/// The Italian display name of a weekday (`Lunedì`).
#[must_use]
pub fn weekday_label(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "Lunedì",
        Weekday::Tuesday => "Martedì",
        Weekday::Wednesday => "Mercoledì",
        Weekday::Thursday => "Giovedì",
        Weekday::Friday => "Venerdì",
        Weekday::Saturday => "Sabato",
        Weekday::Sunday => "Domenica",
    }
}

fn parse_weekday(s: &str) -> Result<Weekday, BookingError> {
    let norm: String = s
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == 'ì' { 'i' } else { c })
        .collect();
    WEEKDAYS
        .iter()
        .find(|(n, _)| *n == norm)
        .map(|(_, d)| *d)
        .ok_or_else(|| BookingError::Weekday(s.to_owned()))
}

/// Minutes after midnight of `HH:MM` (`24:00` allowed as an end).
fn parse_minutes(s: &str) -> Result<u32, BookingError> {
    let bad = || BookingError::Time(s.to_owned());
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn minutes_text(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// A `YYYY-MM-DD` date, with a coded error.
///
/// # Errors
/// [`BookingError::Date`].
pub fn parse_date(s: &str) -> Result<Date, BookingError> {
    let t = s.trim();
    if t.len() != 10 {
        return Err(BookingError::Date(s.to_owned()));
    }
    t.parse::<Date>()
        .map_err(|_| BookingError::Date(s.to_owned()))
}

fn check_list(items: &[String]) -> Result<Vec<String>, BookingError> {
    if items.len() > MAX_LIST_ITEMS {
        return Err(BookingError::ListItem);
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for i in items {
        let t = i.trim();
        if t.is_empty() || t.chars().count() > MAX_FIELD_CHARS || t.chars().any(char::is_control) {
            return Err(BookingError::ListItem);
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    Ok(out)
}

impl BookingCalendar {
    /// Parses and checks a spec.
    ///
    /// # Errors
    /// The coded [`BookingError`] of the first problem found.
    pub fn from_spec(spec: &CalendarSpec) -> Result<Self, BookingError> {
        if spec.fasce.is_empty() {
            return Err(BookingError::NoWindows);
        }
        let mut windows = Vec::with_capacity(spec.fasce.len());
        for w in &spec.fasce {
            let weekday = parse_weekday(&w.giorno)?;
            let start = parse_minutes(&w.dalle)?;
            let end = parse_minutes(&w.alle)?;
            if !SLOT_MINUTES.contains(&w.durata_minuti) {
                return Err(BookingError::SlotLength);
            }
            if !SEATS.contains(&w.posti) {
                return Err(BookingError::Seats);
            }
            if start + w.durata_minuti > end {
                return Err(BookingError::EmptyWindow);
            }
            windows.push(Window {
                weekday,
                start,
                end,
                slot_minutes: w.durata_minuti,
                seats: w.posti,
            });
        }
        windows.sort_by_key(|w| (w.weekday.to_monday_zero_offset(), w.start));
        for pair in windows.windows(2) {
            if let [a, b] = pair
                && a.weekday == b.weekday
                && b.start < a.end
            {
                return Err(BookingError::Overlap);
            }
        }
        let valid_from = spec.valido_dal.as_deref().map(parse_date).transpose()?;
        let valid_until = spec.valido_al.as_deref().map(parse_date).transpose()?;
        if let (Some(f), Some(u)) = (valid_from, valid_until)
            && u < f
        {
            return Err(BookingError::Validity);
        }
        let closures = spec
            .chiusure
            .iter()
            .map(|d| parse_date(d))
            .collect::<Result<BTreeSet<_>, _>>()?;
        if spec.preavviso_ore > 720 || !(1..=366).contains(&spec.giorni_prenotabili) {
            return Err(BookingError::Limits);
        }
        Ok(BookingCalendar {
            windows,
            valid_from,
            valid_until,
            closures,
            notice_hours: spec.preavviso_ore,
            horizon_days: spec.giorni_prenotabili,
            services: check_list(&spec.servizi)?,
            topics: check_list(&spec.argomenti)?,
        })
    }

    /// The canonical spec of this calendar (windows by weekday and time).
    #[must_use]
    pub fn to_spec(&self) -> CalendarSpec {
        CalendarSpec {
            fasce: self
                .windows
                .iter()
                .map(|w| WindowSpec {
                    giorno: weekday_code(w.weekday).to_owned(),
                    dalle: minutes_text(w.start),
                    alle: minutes_text(w.end),
                    durata_minuti: w.slot_minutes,
                    posti: w.seats,
                })
                .collect(),
            valido_dal: self.valid_from.map(|d| d.to_string()),
            valido_al: self.valid_until.map(|d| d.to_string()),
            chiusure: self.closures.iter().map(ToString::to_string).collect(),
            preavviso_ore: self.notice_hours,
            giorni_prenotabili: self.horizon_days,
            servizi: self.services.clone(),
            argomenti: self.topics.clone(),
        }
    }

    /// The weekly windows, by weekday and start.
    #[must_use]
    pub fn windows(&self) -> &[Window] {
        &self.windows
    }

    /// The services listed besides the office's own.
    #[must_use]
    pub fn services(&self) -> &[String] {
        &self.services
    }

    /// The topics offered (never empty: a generic one when none is set).
    #[must_use]
    pub fn topics(&self) -> Vec<String> {
        if self.topics.is_empty() {
            vec!["Informazioni e pratiche dell'ufficio".to_owned()]
        } else {
            self.topics.clone()
        }
    }

    /// Minimum notice in hours.
    #[must_use]
    pub fn notice_hours(&self) -> u32 {
        self.notice_hours
    }

    /// Booking horizon in days.
    #[must_use]
    pub fn horizon_days(&self) -> u32 {
        self.horizon_days
    }

    /// Is the office taking bookings on `date` at all: within validity, not
    /// one of its closures, and open by the comune's calendar?
    #[must_use]
    pub fn is_open_on(&self, comune: &Calendar, date: Date) -> bool {
        self.valid_from.is_none_or(|f| date >= f)
            && self.valid_until.is_none_or(|u| date <= u)
            && !self.closures.contains(&date)
            && !comune.is_holiday(date)
            // The comune's closures count on its opening weekdays; the
            // office's windows decide the weekdays (a Saturday window opens
            // on Saturdays: Saturday is not festivo, DECISIONS 9).
            && (!comune.opens_on(date.weekday()) || comune.is_office_open(date))
    }

    /// The slots of `date` (Europe/Rome civil time), in order; none when the
    /// office is closed that day. A civil time that does not exist (the
    /// hour skipped when summer time starts) has no slot; one that occurs
    /// twice (when it ends) is taken at its first occurrence.
    #[must_use]
    pub fn slots_on(&self, comune: &Calendar, date: Date) -> Vec<Slot> {
        if !self.is_open_on(comune, date) {
            return Vec::new();
        }
        let tz = rome_time_zone();
        let mut out = Vec::new();
        for w in self.windows.iter().filter(|w| w.weekday == date.weekday()) {
            for m in w.starts() {
                let Some(slot) = civil_slot(&tz, date, m, w) else {
                    continue;
                };
                out.push(slot);
            }
        }
        out.sort();
        out
    }

    /// The slots from `from` to `to` (inclusive civil dates) that can still
    /// be booked at `now`: at least the notice ahead and within the horizon.
    #[must_use]
    pub fn available(&self, comune: &Calendar, from: Date, to: Date, now: Timestamp) -> Vec<Slot> {
        let (earliest, latest) = self.bookable_range(now);
        let mut out = Vec::new();
        let mut d = from;
        while d <= to && d <= latest {
            out.extend(
                self.slots_on(comune, d)
                    .into_iter()
                    .filter(|s| s.start >= earliest),
            );
            match d.tomorrow() {
                Ok(n) => d = n,
                Err(_) => break,
            }
        }
        out
    }

    /// The earliest instant and the last civil date that can be booked at
    /// `now`.
    #[must_use]
    pub fn bookable_range(&self, now: Timestamp) -> (Timestamp, Date) {
        let earliest = now
            .checked_add(SignedDuration::from_hours(i64::from(self.notice_hours)))
            .unwrap_or(now);
        let today = crate::calendar::rome_date(now);
        let latest = today
            .checked_add(jiff::Span::new().days(i64::from(self.horizon_days)))
            .unwrap_or(today);
        (earliest, latest)
    }

    /// The slot that starts at `start`, if it is one of the calendar's and
    /// can be booked at `now`.
    ///
    /// # Errors
    /// [`BookingError::NotASlot`], [`BookingError::TooSoon`],
    /// [`BookingError::TooFar`].
    pub fn slot_at(
        &self,
        comune: &Calendar,
        start: Timestamp,
        now: Timestamp,
    ) -> Result<Slot, BookingError> {
        let date = crate::calendar::rome_date(start);
        let slot = self
            .slots_on(comune, date)
            .into_iter()
            .find(|s| s.start == start)
            .ok_or(BookingError::NotASlot)?;
        let (earliest, latest) = self.bookable_range(now);
        if slot.start < earliest {
            return Err(BookingError::TooSoon);
        }
        if slot.date > latest {
            return Err(BookingError::TooFar);
        }
        Ok(slot)
    }
}

fn civil_slot(tz: &jiff::tz::TimeZone, date: Date, minutes: u32, w: &Window) -> Option<Slot> {
    let h = i8::try_from(minutes / 60).ok()?;
    let m = i8::try_from(minutes % 60).ok()?;
    let time = Time::new(h, m, 0, 0).ok()?;
    let dt = DateTime::from_parts(date, time);
    let amb = tz.to_ambiguous_zoned(dt);
    if matches!(amb.offset(), AmbiguousOffset::Gap { .. }) {
        return None;
    }
    let start = amb.compatible().ok()?.timestamp();
    let end = start
        .checked_add(SignedDuration::from_mins(i64::from(w.slot_minutes)))
        .ok()?;
    Some(Slot {
        start,
        end,
        date,
        time,
        seats: w.seats,
    })
}

// ---------------------------------------------------------------------------
// What the citizen types
// ---------------------------------------------------------------------------

/// The checked details of a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingDetails {
    /// The topic, one of the calendar's.
    pub topic: String,
    /// The reason (at most [`MAX_REASON_CHARS`]).
    pub reason: String,
    /// Given name.
    pub name: String,
    /// Surname.
    pub surname: String,
    /// E-mail for the confirmation and the reminder.
    pub email: Email,
    /// Phone, if given.
    pub phone: Option<String>,
}

/// What the citizen typed, unchecked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawDetails {
    /// Topic.
    #[serde(default)]
    pub topic: String,
    /// Reason.
    #[serde(default)]
    pub reason: String,
    /// Given name.
    #[serde(default)]
    pub name: String,
    /// Surname.
    #[serde(default)]
    pub surname: String,
    /// E-mail.
    #[serde(default)]
    pub email: String,
    /// Phone.
    #[serde(default)]
    pub phone: String,
}

fn name_field(s: &str) -> Result<String, BookingError> {
    let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() || t.chars().count() > MAX_FIELD_CHARS || t.chars().any(char::is_control) {
        return Err(BookingError::Name);
    }
    Ok(t)
}

/// A phone number: digits, spaces and a leading `+`, 6 to 15 digits;
/// spaces normalised.
///
/// # Errors
/// [`BookingError::Phone`].
pub fn parse_phone(p: &str) -> Result<String, BookingError> {
    let p = p.trim();
    let digits = p.chars().filter(char::is_ascii_digit).count();
    let ok = p
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || c == ' ' || (c == '+' && i == 0));
    if ok && (6..=15).contains(&digits) {
        Ok(p.split_whitespace().collect::<Vec<_>>().join(" "))
    } else {
        Err(BookingError::Phone)
    }
}

impl BookingDetails {
    /// Checks what the citizen typed against the calendar's topics.
    ///
    /// # Errors
    /// The coded [`BookingError`] of the first problem found.
    pub fn parse(raw: &RawDetails, calendar: &BookingCalendar) -> Result<Self, BookingError> {
        let topic = raw.topic.trim();
        if !calendar.topics().iter().any(|t| t == topic) {
            return Err(BookingError::Topic);
        }
        let reason = raw.reason.trim().replace("\r\n", "\n");
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(BookingError::ReasonTooLong);
        }
        let name = name_field(&raw.name)?;
        let surname = name_field(&raw.surname)?;
        let email = Email::parse(raw.email.trim()).map_err(|_| BookingError::Email)?;
        let phone = match raw.phone.trim() {
            "" => None,
            p => Some(parse_phone(p)?),
        };
        Ok(BookingDetails {
            topic: topic.to_owned(),
            reason,
            name,
            surname,
            email,
            phone,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::calendar::PatronSaint;
    use jiff::civil::{date, time};

    fn window(giorno: &str, dalle: &str, alle: &str, durata: u32, posti: u32) -> WindowSpec {
        WindowSpec {
            giorno: giorno.into(),
            dalle: dalle.into(),
            alle: alle.into(),
            durata_minuti: durata,
            posti,
        }
    }

    fn spec(fasce: Vec<WindowSpec>) -> CalendarSpec {
        CalendarSpec {
            fasce,
            valido_dal: None,
            valido_al: None,
            chiusure: vec![],
            preavviso_ore: 24,
            giorni_prenotabili: 366,
            servizi: vec![],
            argomenti: vec![],
        }
    }

    fn anagrafe() -> BookingCalendar {
        let days = ["lunedi", "martedi", "mercoledi", "giovedi", "venerdi"];
        BookingCalendar::from_spec(&spec(
            days.iter()
                .map(|d| window(d, "09:00", "12:30", 20, 2))
                .collect(),
        ))
        .unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_weekday_has_its_slots_in_rome_time() {
        let cal = anagrafe();
        // Tuesday 1 December 2026 (winter time, UTC+1).
        let slots = cal.slots_on(&Calendar::new(), date(2026, 12, 1));
        // 9:00 to 12:30 every 20 minutes: 9:00 … 12:00 (12:20 would end at 12:40).
        assert_eq!(slots.len(), 10);
        assert_eq!(slots[0].start, ts("2026-12-01T08:00:00Z"));
        assert_eq!(slots[0].time, time(9, 0, 0, 0));
        assert_eq!(slots[9].time, time(12, 0, 0, 0));
        assert_eq!(slots[9].end, ts("2026-12-01T11:20:00Z"));
        assert!(slots.iter().all(|s| s.seats == 2));
    }

    #[test]
    fn summer_time_moves_the_utc_start() {
        let cal = anagrafe();
        // Friday 27 March 2026 is winter time; Monday 30 March summer time
        // (the change is on Sunday 29 March).
        let before = cal.slots_on(&Calendar::new(), date(2026, 3, 27));
        let after = cal.slots_on(&Calendar::new(), date(2026, 3, 30));
        assert_eq!(before[0].start, ts("2026-03-27T08:00:00Z"));
        assert_eq!(after[0].start, ts("2026-03-30T07:00:00Z"));
    }

    #[test]
    fn the_skipped_hour_has_no_slots_and_the_repeated_one_is_taken_once() {
        let cal =
            BookingCalendar::from_spec(&spec(vec![window("domenica", "01:00", "04:00", 30, 1)]))
                .unwrap();
        let comune = Calendar::new()
            .with_opening_days([Weekday::Sunday])
            .unwrap();
        // 29 March 2026: 02:00 → 03:00. 02:00 and 02:30 do not exist.
        let spring = cal.slots_on(&comune, date(2026, 3, 29));
        let times: Vec<_> = spring.iter().map(|s| s.time.to_string()).collect();
        assert_eq!(times, ["01:00:00", "01:30:00", "03:00:00", "03:30:00"]);
        // 25 October 2026: 03:00 → 02:00; 02:00 and 02:30 occur twice,
        // each is one slot at its first occurrence (UTC+2).
        let autumn = cal.slots_on(&comune, date(2026, 10, 25));
        assert_eq!(autumn.len(), 6);
        let two = autumn.iter().find(|s| s.time == time(2, 0, 0, 0)).unwrap();
        assert_eq!(two.start, ts("2026-10-25T00:00:00Z"));
        // Every start is distinct and increasing.
        assert!(autumn.windows(2).all(|p| p[0].start < p[1].start));
    }

    #[test]
    fn holidays_patron_saint_and_closures_have_no_slots() {
        let cal = BookingCalendar::from_spec(&CalendarSpec {
            chiusure: vec!["2026-12-11".into()],
            ..anagrafe().to_spec()
        })
        .unwrap();
        let comune = Calendar::new().with_patron_saint(PatronSaint::fixed(12, 7).unwrap());
        // Monday 7 December: patron saint; Tuesday 8 December: Immacolata;
        // Friday 11: the office's own closure; Wednesday 9: open.
        assert!(cal.slots_on(&comune, date(2026, 12, 7)).is_empty());
        assert!(cal.slots_on(&comune, date(2026, 12, 8)).is_empty());
        assert!(cal.slots_on(&comune, date(2026, 12, 11)).is_empty());
        assert_eq!(cal.slots_on(&comune, date(2026, 12, 9)).len(), 10);
        // Easter Monday 2027 (29 March).
        assert!(cal.slots_on(&comune, date(2027, 3, 29)).is_empty());
        // Without the patron saint the 7th is an ordinary Monday.
        assert_eq!(cal.slots_on(&Calendar::new(), date(2026, 12, 7)).len(), 10);
    }

    #[test]
    fn saturday_only_when_the_office_has_a_saturday_window() {
        let cal = anagrafe();
        // Saturday 5 December 2026: not festivo, but no window.
        assert!(cal.slots_on(&Calendar::new(), date(2026, 12, 5)).is_empty());
        let mut s = cal.to_spec();
        s.fasce.push(window("sabato", "09:00", "11:00", 30, 1));
        let with_saturday = BookingCalendar::from_spec(&s).unwrap();
        // The comune's own opening days (Monday–Friday) do not close a
        // Saturday window: Saturday is not festivo (DECISIONS 9).
        assert_eq!(
            with_saturday
                .slots_on(&Calendar::new(), date(2026, 12, 5))
                .len(),
            4
        );
        // A Saturday that is a holiday (26 December 2026) stays closed.
        assert!(
            with_saturday
                .slots_on(&Calendar::new(), date(2026, 12, 26))
                .is_empty()
        );
    }

    #[test]
    fn validity_period_limits_the_days() {
        let mut s = anagrafe().to_spec();
        s.valido_dal = Some("2026-12-02".into());
        s.valido_al = Some("2026-12-03".into());
        let cal = BookingCalendar::from_spec(&s).unwrap();
        let c = Calendar::new();
        assert!(cal.slots_on(&c, date(2026, 12, 1)).is_empty());
        assert!(!cal.slots_on(&c, date(2026, 12, 2)).is_empty());
        assert!(!cal.slots_on(&c, date(2026, 12, 3)).is_empty());
        assert!(cal.slots_on(&c, date(2026, 12, 4)).is_empty());
    }

    #[test]
    fn past_and_short_notice_slots_are_not_offered() {
        let cal = anagrafe();
        let c = Calendar::new();
        // Now: Tuesday 1 December 2026, 10:30 in Rome; 24 hours' notice.
        let now = ts("2026-12-01T09:30:00Z");
        let slots = cal.available(&c, date(2026, 12, 1), date(2026, 12, 2), now);
        // Nothing on the 1st; on the 2nd only from 10:40 (10:30 + 24 h).
        assert!(slots.iter().all(|s| s.date == date(2026, 12, 2)));
        assert_eq!(slots[0].time, time(10, 40, 0, 0));
        assert_eq!(
            cal.slot_at(&c, ts("2026-12-02T09:00:00Z"), now),
            Err(BookingError::TooSoon)
        );
        assert!(cal.slot_at(&c, ts("2026-12-02T09:40:00Z"), now).is_ok());
        // 9:10 is not a slot start; nor is a Sunday.
        assert_eq!(
            cal.slot_at(&c, ts("2026-12-03T08:10:00Z"), now),
            Err(BookingError::NotASlot)
        );
        assert_eq!(
            cal.slot_at(&c, ts("2026-12-06T08:00:00Z"), now),
            Err(BookingError::NotASlot)
        );
    }

    #[test]
    fn the_horizon_limits_how_far_ahead() {
        let mut s = anagrafe().to_spec();
        s.giorni_prenotabili = 7;
        let cal = BookingCalendar::from_spec(&s).unwrap();
        let now = ts("2026-12-01T09:30:00Z");
        let c = Calendar::new();
        let slots = cal.available(&c, date(2026, 12, 1), date(2026, 12, 31), now);
        // Seven days from 1 December is the 8th, a holiday: the 7th is last.
        assert_eq!(slots.last().unwrap().date, date(2026, 12, 7));
        assert_eq!(
            cal.slot_at(&c, ts("2026-12-10T08:00:00Z"), now),
            Err(BookingError::TooFar)
        );
    }

    #[test]
    fn bad_specs_are_refused_with_codes() {
        let code = |s: CalendarSpec| BookingCalendar::from_spec(&s).unwrap_err().code();
        assert_eq!(code(spec(vec![])), "appuntamenti_nessuna_fascia");
        assert_eq!(
            code(spec(vec![window("lunedì", "9:00", "08:00", 20, 1)])),
            "appuntamenti_fascia_vuota"
        );
        assert_eq!(
            code(spec(vec![window("lundi", "09:00", "12:00", 20, 1)])),
            "appuntamenti_giorno_non_valido"
        );
        assert_eq!(
            code(spec(vec![window("lunedi", "9h", "12:00", 20, 1)])),
            "appuntamenti_orario_non_valido"
        );
        assert_eq!(
            code(spec(vec![window("lunedi", "09:00", "12:00", 2, 1)])),
            "appuntamenti_durata_non_valida"
        );
        assert_eq!(
            code(spec(vec![window("lunedi", "09:00", "12:00", 20, 0)])),
            "appuntamenti_posti_non_validi"
        );
        assert_eq!(
            code(spec(vec![
                window("giovedi", "09:00", "12:00", 30, 1),
                window("giovedi", "11:30", "13:00", 30, 1)
            ])),
            "appuntamenti_fasce_sovrapposte"
        );
        let mut s = spec(vec![window("lunedi", "09:00", "12:00", 30, 1)]);
        s.valido_dal = Some("2026-02-30".into());
        assert_eq!(code(s.clone()), "appuntamenti_data_non_valida");
        s.valido_dal = Some("2026-03-01".into());
        s.valido_al = Some("2026-02-01".into());
        assert_eq!(code(s), "appuntamenti_validita_non_valida");
        // Accents and case in weekday names are fine; the spec round-trips.
        let ok = BookingCalendar::from_spec(&spec(vec![
            window("Giovedì", "15:00", "17:00", 30, 1),
            window("MARTEDI", "09:00", "12:00", 30, 1),
        ]))
        .unwrap();
        assert_eq!(ok.to_spec().fasce[0].giorno, "martedi");
        assert_eq!(BookingCalendar::from_spec(&ok.to_spec()).unwrap(), ok);
    }

    #[test]
    fn details_are_checked() {
        let mut s = anagrafe().to_spec();
        s.argomenti = vec!["Carta d'identità".into(), "Residenza".into()];
        let cal = BookingCalendar::from_spec(&s).unwrap();
        let raw = RawDetails {
            topic: "Residenza".into(),
            reason: "Cambio di abitazione".into(),
            name: " Maria ".into(),
            surname: "De  Santis".into(),
            email: "maria@example.org".into(),
            phone: "+39 333 1234567".into(),
        };
        let d = BookingDetails::parse(&raw, &cal).unwrap();
        assert_eq!(d.surname, "De Santis");
        let err = |r: RawDetails| BookingDetails::parse(&r, &cal).unwrap_err().code();
        assert_eq!(
            err(RawDetails {
                reason: "x".repeat(501),
                ..raw.clone()
            }),
            "motivo_troppo_lungo"
        );
        // 500 characters (multi-byte) are fine.
        assert!(
            BookingDetails::parse(
                &RawDetails {
                    reason: "è".repeat(500),
                    ..raw.clone()
                },
                &cal
            )
            .is_ok()
        );
        assert_eq!(
            err(RawDetails {
                topic: "Altro".into(),
                ..raw.clone()
            }),
            "argomento_non_valido"
        );
        assert_eq!(
            err(RawDetails {
                email: "maria".into(),
                ..raw.clone()
            }),
            "email_non_valida"
        );
        assert_eq!(
            err(RawDetails {
                name: " ".into(),
                ..raw.clone()
            }),
            "nome_non_valido"
        );
        assert_eq!(
            err(RawDetails {
                phone: "333-1".into(),
                ..raw
            }),
            "telefono_non_valido"
        );
    }
}
