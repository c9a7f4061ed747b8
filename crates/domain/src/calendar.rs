//! The Italian calendar and the arithmetic of legal terms (DECISIONS 9).
//!
//! * National holidays ([`national_holidays`], [`is_national_holiday`]),
//!   Easter by the anonymous Gregorian algorithm ([`easter_sunday`]).
//! * The comune's patron saint ([`PatronSaint`]), fixed or movable.
//! * A [`Calendar`] per comune (patron saint, office opening days, extra
//!   closures) that answers "is this day festivo / working / open?" and
//!   computes term ends under one of three [`TermRule`]s.
//! * [`rome_date`]: the Europe/Rome civil date of an instant (DECISIONS 8).
//!
//! All dates are [`jiff::civil::Date`]s. Terms are computed forwards;
//! operations that could leave jiff's range (year 9999) return
//! [`CalendarError::OutOfRange`] instead of panicking.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use jiff::civil::{Date, Weekday};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::Coded;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Why a calendar computation has no answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// The result would fall outside the supported dates (years up to
    /// 9999; Easter only from 1583, the first full Gregorian year).
    #[error("date out of the supported range")]
    OutOfRange,
    /// A calendar was configured with no office opening day.
    #[error("the office must be open on at least one weekday")]
    NoOpeningDays,
}

impl Coded for CalendarError {
    fn code(&self) -> &'static str {
        match self {
            CalendarError::OutOfRange => "calendar_date_out_of_range",
            CalendarError::NoOpeningDays => "calendar_no_opening_days",
        }
    }

    fn message_it(&self) -> String {
        match self {
            CalendarError::OutOfRange => {
                "La data risultante è fuori dall'intervallo di date gestito".to_owned()
            }
            CalendarError::NoOpeningDays => {
                "L'ufficio deve essere aperto almeno un giorno della settimana".to_owned()
            }
        }
    }
}

fn out_of_range<E>(_: E) -> CalendarError {
    CalendarError::OutOfRange
}

// ---------------------------------------------------------------------------
// Easter and national holidays
// ---------------------------------------------------------------------------

/// Easter Sunday of `year` in the Gregorian calendar, by the anonymous
/// Gregorian algorithm (Meeus/Jones/Butcher).
///
/// # Errors
/// [`CalendarError::OutOfRange`] for years before 1583 (the Gregorian
/// reform took effect in October 1582) or after 9999.
pub fn easter_sunday(year: i16) -> Result<Date, CalendarError> {
    if !(1583..=9999).contains(&year) {
        return Err(CalendarError::OutOfRange);
    }
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let n = h + l - 7 * m + 114;
    let month = i8::try_from(n / 31).map_err(out_of_range)?;
    let day = i8::try_from(n % 31 + 1).map_err(out_of_range)?;
    Date::new(year, month, day).map_err(out_of_range)
}

/// First year in which 4 October is a national holiday again.
///
/// Legge 8 ottobre 2025 n. 151 ("Istituzione della festa nazionale di San
/// Francesco d'Assisi", GU n. 236 of 10 October 2025, in force from
/// 1 January 2026) adds "il 4 ottobre: festa nazionale di San Francesco
/// d'Assisi, patrono d'Italia" to art. 2 of L. 27 maggio 1949 n. 260. It had
/// been a holiday until L. 5 marzo 1977 n. 54; from 1977 to 2025 it is not.
pub const SAN_FRANCESCO_FROM_YEAR: i16 = 2026;

/// A national holiday: its date and Italian name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    /// The day.
    pub date: Date,
    /// Its Italian name, e.g. "Lunedì dell'Angelo".
    pub name: &'static str,
}

/// The holidays on a fixed date: (month, day, name).
///
/// Source: L. 27 maggio 1949 n. 260 (art. 1: 2 giugno; art. 2: the
/// others, with Easter Monday and 26 December) as amended by L. 5 marzo
/// 1977 n. 54, DPR 28 dicembre 1985 n. 792 (Epifania restored) and L. 20
/// novembre 2000 n. 336 (2 giugno back on its date). 4 November has been
/// celebrated on a Sunday since 1977 and is not a day off. The list is the
/// one in force since 2001 (plus 4 October from 2026, see
/// [`SAN_FRANCESCO_FROM_YEAR`]); Palazzo does not compute terms in earlier
/// years.
const FIXED_HOLIDAYS: [(i8, i8, &str); 10] = [
    (1, 1, "Capodanno"),
    (1, 6, "Epifania"),
    (4, 25, "Festa della Liberazione"),
    (5, 1, "Festa del Lavoro"),
    (6, 2, "Festa della Repubblica"),
    (8, 15, "Assunzione di Maria Vergine"),
    (11, 1, "Ognissanti"),
    (12, 8, "Immacolata Concezione"),
    (12, 25, "Natale"),
    (12, 26, "Santo Stefano"),
];

const SAN_FRANCESCO_NAME: &str = "San Francesco d'Assisi, patrono d'Italia";
const EASTER_NAME: &str = "Pasqua";
const EASTER_MONDAY_NAME: &str = "Lunedì dell'Angelo";

/// The national holidays of `year`, in date order: 1 January, 6 January,
/// Easter Sunday, Easter Monday, 25 April, 1 May, 2 June, 15 August,
/// 4 October (from 2026), 1 November, 8 December, 25 and 26 December.
/// Sundays are festivi too, but are not listed.
///
/// # Errors
/// [`CalendarError::OutOfRange`] outside 1583–9999.
pub fn national_holidays(year: i16) -> Result<Vec<Holiday>, CalendarError> {
    let easter = easter_sunday(year)?;
    let mut holidays = Vec::with_capacity(13);
    for (month, day, name) in FIXED_HOLIDAYS {
        holidays.push(Holiday {
            date: Date::new(year, month, day).map_err(out_of_range)?,
            name,
        });
    }
    if year >= SAN_FRANCESCO_FROM_YEAR {
        holidays.push(Holiday {
            date: Date::new(year, 10, 4).map_err(out_of_range)?,
            name: SAN_FRANCESCO_NAME,
        });
    }
    holidays.push(Holiday {
        date: easter,
        name: EASTER_NAME,
    });
    holidays.push(Holiday {
        date: easter.tomorrow().map_err(out_of_range)?,
        name: EASTER_MONDAY_NAME,
    });
    holidays.sort_by_key(|h| h.date);
    Ok(holidays)
}

/// The Italian name of the national holiday on `date`, if it is one
/// (Sundays that are not holidays give `None`).
#[must_use]
pub fn national_holiday_name(date: Date) -> Option<&'static str> {
    let (month, day) = (date.month(), date.day());
    if let Some((_, _, name)) = FIXED_HOLIDAYS
        .iter()
        .find(|(m, d, _)| *m == month && *d == day)
    {
        return Some(*name);
    }
    if month == 10 && day == 4 && date.year() >= SAN_FRANCESCO_FROM_YEAR {
        return Some(SAN_FRANCESCO_NAME);
    }
    // Easter falls between 22 March and 25 April, Easter Monday by 26 April.
    if matches!(month, 3 | 4)
        && let Ok(easter) = easter_sunday(date.year())
    {
        if date == easter {
            return Some(EASTER_NAME);
        }
        if easter.tomorrow().is_ok_and(|monday| monday == date) {
            return Some(EASTER_MONDAY_NAME);
        }
    }
    None
}

/// Is `date` a national holiday (not counting ordinary Sundays)?
#[must_use]
pub fn is_national_holiday(date: Date) -> bool {
    national_holiday_name(date).is_some()
}

// ---------------------------------------------------------------------------
// Europe/Rome civil date
// ---------------------------------------------------------------------------

/// Europe/Rome, from the time zone database bundled in the binary (no
/// file system access). Should the bundle ever lack it, the POSIX rule in
/// force in Italy since 1996 is used, then plain CET.
static ROME: LazyLock<TimeZone> = LazyLock::new(|| {
    TimeZoneDatabase::bundled()
        .get("Europe/Rome")
        .or_else(|_| TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3"))
        .unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(1)))
});

/// The Europe/Rome time zone (CET/CEST), from the bundled database.
#[must_use]
pub fn rome_time_zone() -> TimeZone {
    ROME.clone()
}

/// The civil date in Rome at instant `ts` (DECISIONS 8: register years
/// and days are Europe/Rome dates, so 00:30 on 1 January in Rome — 23:30
/// UTC on 31 December — already belongs to the new year).
#[must_use]
pub fn rome_date(ts: Timestamp) -> Date {
    ts.to_zoned(ROME.clone()).date()
}

// ---------------------------------------------------------------------------
// Patron saint
// ---------------------------------------------------------------------------

/// Which occurrence of a weekday in a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeekdayOrdinal {
    /// The first.
    First,
    /// The second.
    Second,
    /// The third.
    Third,
    /// The fourth.
    Fourth,
    /// The last (the fourth or fifth).
    Last,
}

impl WeekdayOrdinal {
    /// The `nth` argument of jiff's `nth_weekday_of_month` (-1 = last).
    fn nth(self) -> i8 {
        match self {
            WeekdayOrdinal::First => 1,
            WeekdayOrdinal::Second => 2,
            WeekdayOrdinal::Third => 3,
            WeekdayOrdinal::Fourth => 4,
            WeekdayOrdinal::Last => -1,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            WeekdayOrdinal::First => "1st",
            WeekdayOrdinal::Second => "2nd",
            WeekdayOrdinal::Third => "3rd",
            WeekdayOrdinal::Fourth => "4th",
            WeekdayOrdinal::Last => "last",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum PatronRule {
    /// Same month and day every year.
    Fixed { month: i8, day: i8 },
    /// The n-th (or last) weekday of a month.
    NthWeekday {
        ordinal: WeekdayOrdinal,
        weekday: Weekday,
        month: i8,
    },
    /// A number of days after (or before) Easter Sunday.
    Easter { offset: i16 },
}

/// The feast of the comune's patron saint (festività del santo patrono), a
/// local holiday on which the comune's offices are closed and that
/// DECISIONS 9 treats as festivo for terms.
///
/// # Configuration syntax
///
/// Case-insensitive, surrounding spaces ignored; [`Display`](fmt::Display)
/// gives the canonical form shown first:
///
/// | form | meaning | examples |
/// |---|---|---|
/// | `MM-DD` | that day every year (`M-D` also read) | `06-29` (Roma, SS. Pietro e Paolo), `12-07` (Milano, Sant'Ambrogio) |
/// | `<ordinal>-<weekday>-MM` | the n-th or last weekday of month `MM` | `2nd-sun-09` (second Sunday of September), `last-mon-05` |
/// | `easter+N`, `easter-N` | `N` days (0–99) after/before Easter Sunday | `easter+1` (Easter Monday), `easter+60` (Corpus Domini) |
///
/// Ordinals: `1st`, `2nd`, `3rd`, `4th`, `last` (a fifth weekday is not
/// offered: it does not exist every year). Weekdays: `mon tue wed thu fri
/// sat sun`, or in Italian `lun mar mer gio ven sab dom`.
///
/// A fixed `02-29` is a holiday only in leap years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PatronSaint(PatronRule);

/// Why a text is not a [`PatronSaint`] rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PatronSaintError {
    /// The text matches none of the forms.
    #[error("patron saint rule must look like 06-29, 2nd-sun-09 or easter+1")]
    Format,
    /// The month is not 1–12.
    #[error("patron saint month must be 01 to 12")]
    Month,
    /// The day does not exist in the month.
    #[error("patron saint day does not exist in that month")]
    Day,
    /// The ordinal is not 1st, 2nd, 3rd, 4th or last.
    #[error("patron saint ordinal must be 1st, 2nd, 3rd, 4th or last")]
    Ordinal,
    /// Not a weekday abbreviation.
    #[error("patron saint weekday must be one of mon..sun or lun..dom")]
    Weekday,
    /// The Easter offset is not a number from 0 to 99.
    #[error("patron saint Easter offset must be between -99 and +99 days")]
    EasterOffset,
}

impl Coded for PatronSaintError {
    fn code(&self) -> &'static str {
        match self {
            PatronSaintError::Format => "patron_saint_format",
            PatronSaintError::Month => "patron_saint_month",
            PatronSaintError::Day => "patron_saint_day",
            PatronSaintError::Ordinal => "patron_saint_ordinal",
            PatronSaintError::Weekday => "patron_saint_weekday",
            PatronSaintError::EasterOffset => "patron_saint_easter_offset",
        }
    }

    fn message_it(&self) -> String {
        match self {
            PatronSaintError::Format => "La regola del santo patrono non è valida: usare ad esempio 06-29 (data fissa), 2nd-sun-09 (seconda domenica di settembre) o easter+1 (giorni dopo Pasqua)".to_owned(),
            PatronSaintError::Month => "Il mese del santo patrono deve essere compreso tra 01 e 12".to_owned(),
            PatronSaintError::Day => "Il giorno del santo patrono non esiste nel mese indicato".to_owned(),
            PatronSaintError::Ordinal => "L'ordinale del santo patrono deve essere 1st, 2nd, 3rd, 4th o last".to_owned(),
            PatronSaintError::Weekday => "Il giorno della settimana del santo patrono non è valido (mon…sun oppure lun…dom)".to_owned(),
            PatronSaintError::EasterOffset => "Lo scostamento dalla Pasqua deve essere compreso tra -99 e +99 giorni".to_owned(),
        }
    }
}

fn weekday_abbreviation(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

fn parse_weekday(text: &str) -> Result<Weekday, PatronSaintError> {
    Ok(match text {
        "mon" | "lun" => Weekday::Monday,
        "tue" | "mar" => Weekday::Tuesday,
        "wed" | "mer" => Weekday::Wednesday,
        "thu" | "gio" => Weekday::Thursday,
        "fri" | "ven" => Weekday::Friday,
        "sat" | "sab" => Weekday::Saturday,
        "sun" | "dom" => Weekday::Sunday,
        _ => return Err(PatronSaintError::Weekday),
    })
}

/// A month number `01`–`12` (one or two digits).
fn parse_month(text: &str) -> Result<i8, PatronSaintError> {
    if text.is_empty() || text.len() > 2 || !text.bytes().all(|c| c.is_ascii_digit()) {
        return Err(PatronSaintError::Format);
    }
    let month: i8 = text.parse().map_err(|_| PatronSaintError::Format)?;
    if !(1..=12).contains(&month) {
        return Err(PatronSaintError::Month);
    }
    Ok(month)
}

/// Longest a month can be in any year.
fn max_days(month: i8) -> i8 {
    match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl PatronSaint {
    /// The same day every year, e.g. `fixed(6, 29)`.
    ///
    /// # Errors
    /// [`PatronSaintError::Month`] or [`PatronSaintError::Day`] if the day
    /// never exists (29 February is allowed: leap years only).
    pub fn fixed(month: i8, day: i8) -> Result<Self, PatronSaintError> {
        if !(1..=12).contains(&month) {
            return Err(PatronSaintError::Month);
        }
        if day < 1 || day > max_days(month) {
            return Err(PatronSaintError::Day);
        }
        Ok(PatronSaint(PatronRule::Fixed { month, day }))
    }

    /// The n-th or last `weekday` of `month`, e.g. the second Sunday of
    /// September: `nth_weekday(WeekdayOrdinal::Second, Weekday::Sunday, 9)`.
    ///
    /// # Errors
    /// [`PatronSaintError::Month`] if `month` is not 1–12.
    pub fn nth_weekday(
        ordinal: WeekdayOrdinal,
        weekday: Weekday,
        month: i8,
    ) -> Result<Self, PatronSaintError> {
        if !(1..=12).contains(&month) {
            return Err(PatronSaintError::Month);
        }
        Ok(PatronSaint(PatronRule::NthWeekday {
            ordinal,
            weekday,
            month,
        }))
    }

    /// `offset` days after Easter Sunday (negative: before).
    ///
    /// # Errors
    /// [`PatronSaintError::EasterOffset`] outside -99..=99.
    pub fn easter_offset(offset: i16) -> Result<Self, PatronSaintError> {
        if !(-99..=99).contains(&offset) {
            return Err(PatronSaintError::EasterOffset);
        }
        Ok(PatronSaint(PatronRule::Easter { offset }))
    }

    /// Parses the configuration syntax described on [`PatronSaint`].
    ///
    /// # Errors
    /// [`PatronSaintError`] naming the part that is wrong.
    pub fn parse(input: &str) -> Result<Self, PatronSaintError> {
        let text = input.trim().to_ascii_lowercase();
        if let Some(rest) = text.strip_prefix("easter") {
            let (sign, digits) = match rest.as_bytes().first() {
                Some(b'+') => (1, &rest[1..]),
                Some(b'-') => (-1, &rest[1..]),
                _ => return Err(PatronSaintError::Format),
            };
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return Err(PatronSaintError::EasterOffset);
            }
            let days: i16 = digits.parse().map_err(|_| PatronSaintError::EasterOffset)?;
            return Self::easter_offset(sign * days);
        }
        let parts: Vec<&str> = text.split('-').collect();
        match parts.as_slice() {
            [month, day] => {
                let month = parse_month(month)?;
                if day.is_empty() || day.len() > 2 || !day.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(PatronSaintError::Format);
                }
                let day: i8 = day.parse().map_err(|_| PatronSaintError::Format)?;
                Self::fixed(month, day)
            }
            [ordinal, weekday, month] => {
                let ordinal = match *ordinal {
                    "1st" => WeekdayOrdinal::First,
                    "2nd" => WeekdayOrdinal::Second,
                    "3rd" => WeekdayOrdinal::Third,
                    "4th" => WeekdayOrdinal::Fourth,
                    "last" => WeekdayOrdinal::Last,
                    _ => return Err(PatronSaintError::Ordinal),
                };
                let weekday = parse_weekday(weekday)?;
                let month = parse_month(month)?;
                Self::nth_weekday(ordinal, weekday, month)
            }
            _ => Err(PatronSaintError::Format),
        }
    }

    /// The date of the feast in `year`; `None` if it has none that year
    /// (a fixed 29 February in a common year) or the year is out of range.
    #[must_use]
    pub fn date_in(&self, year: i16) -> Option<Date> {
        match self.0 {
            PatronRule::Fixed { month, day } => Date::new(year, month, day).ok(),
            PatronRule::NthWeekday {
                ordinal,
                weekday,
                month,
            } => Date::new(year, month, 1)
                .ok()?
                .nth_weekday_of_month(ordinal.nth(), weekday)
                .ok(),
            PatronRule::Easter { offset } => easter_sunday(year)
                .ok()?
                .checked_add(Span::new().days(offset))
                .ok(),
        }
    }

    /// Is `date` the feast of the patron saint?
    #[must_use]
    pub fn is_on(&self, date: Date) -> bool {
        self.date_in(date.year()) == Some(date)
    }
}

impl fmt::Display for PatronSaint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            PatronRule::Fixed { month, day } => write!(f, "{month:02}-{day:02}"),
            PatronRule::NthWeekday {
                ordinal,
                weekday,
                month,
            } => write!(
                f,
                "{}-{}-{month:02}",
                ordinal.as_str(),
                weekday_abbreviation(weekday)
            ),
            PatronRule::Easter { offset } => write!(f, "easter{offset:+}"),
        }
    }
}

impl FromStr for PatronSaint {
    type Err = PatronSaintError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PatronSaint::parse(s)
    }
}

impl TryFrom<String> for PatronSaint {
    type Error = PatronSaintError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        PatronSaint::parse(&s)
    }
}

impl From<PatronSaint> for String {
    fn from(value: PatronSaint) -> String {
        value.to_string()
    }
}

// ---------------------------------------------------------------------------
// Term rules
// ---------------------------------------------------------------------------

/// How a term is counted and on which days it may end. Every term in
/// Palazzo names its rule (DECISIONS 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermRule {
    /// Administrative terms (L. 7 agosto 1990 n. 241, albo pretorio,
    /// accesso civico): counted in calendar days; a term that ends on a
    /// festivo — a Sunday, a national holiday, the patron saint — moves to
    /// the next non-festivo day. This is the general principle of art. 2963
    /// c. 3 c.c. and art. 155 c. 4 c.p.c., applied to administrative terms.
    /// Saturday is **not** festivo: the Saturday extension of art. 155 c. 5
    /// c.p.c. concerns only judicial procedural acts (DECISIONS 9).
    Administrative,
    /// Tax payment deadlines: an obligation or payment falling on a
    /// Saturday or a festivo moves to the next working day (art. 7 c. 1
    /// lett. h DL 13 maggio 2011 n. 70, converted by L. 12 luglio 2011
    /// n. 106).
    TaxPayment,
    /// Office working days: the days the comune's offices are open
    /// (registro giornaliero di protocollo, sent to conservation by the next
    /// working day under DPCM 3 dicembre 2013 art. 7 c. 5; service levels).
    OfficeWorkingDays,
}

impl TermRule {
    /// The legal basis, for display next to a computed term.
    #[must_use]
    pub fn legal_reference(self) -> &'static str {
        match self {
            TermRule::Administrative => {
                "L. 241/1990; art. 2963 c.c. e art. 155 c.p.c.: il termine che scade in giorno festivo è prorogato al primo giorno seguente non festivo"
            }
            TermRule::TaxPayment => {
                "Art. 7, c. 1, lett. h), D.L. 70/2011: il termine che scade di sabato o in giorno festivo è rinviato al primo giorno lavorativo successivo"
            }
            TermRule::OfficeWorkingDays => "Giorni di apertura degli uffici comunali",
        }
    }
}

// ---------------------------------------------------------------------------
// Calendar
// ---------------------------------------------------------------------------

/// Calendar-month arithmetic with end-of-month clamping: `months` calendar
/// months after `start`, on the same day of the month, or on the last day
/// of the month when that day does not exist (art. 2963 c. 4 c.c.: "se nel
/// mese di scadenza manca tale giorno, il termine si compie con l'ultimo
/// giorno dello stesso mese"). Six months from 10 March is 10 September;
/// one month from 31 January is 28 (or 29) February — never a count of
/// days. No shifting for festivi: see [`Calendar::add_months`].
///
/// # Errors
/// [`CalendarError::OutOfRange`] past year 9999.
pub fn add_calendar_months(start: Date, months: u32) -> Result<Date, CalendarError> {
    let index = i64::from(start.year()) * 12 + i64::from(start.month() - 1) + i64::from(months);
    let year = i16::try_from(index.div_euclid(12)).map_err(out_of_range)?;
    let month = i8::try_from(index.rem_euclid(12) + 1).map_err(out_of_range)?;
    let first = Date::new(year, month, 1).map_err(out_of_range)?;
    Date::new(year, month, start.day().min(first.days_in_month())).map_err(out_of_range)
}

/// The calendar of one comune: national holidays, its patron saint, the
/// weekdays its offices open and extra closure days.
///
/// ```
/// use palazzo_domain::calendar::{Calendar, PatronSaint, TermRule};
/// use jiff::civil::date;
///
/// let calendar = Calendar::new().with_patron_saint(PatronSaint::parse("12-07")?);
/// // Ten days from 27 November 2026 is Monday 7 December, the patron saint;
/// // 8 December is a national holiday, so the term ends on the 9th.
/// assert_eq!(
///     calendar.add_days(date(2026, 11, 27), 10, TermRule::Administrative)?,
///     date(2026, 12, 9),
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    patron_saint: Option<PatronSaint>,
    /// Opening flag per weekday, Monday first.
    opening_days: [bool; 7],
    closures: BTreeSet<Date>,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar::new()
    }
}

fn weekday_index(weekday: Weekday) -> usize {
    // to_monday_zero_offset is 0..=6.
    usize::try_from(weekday.to_monday_zero_offset()).unwrap_or(0)
}

impl Calendar {
    /// National holidays only, offices open Monday to Friday, no extra
    /// closures.
    #[must_use]
    pub fn new() -> Self {
        Calendar {
            patron_saint: None,
            opening_days: [true, true, true, true, true, false, false],
            closures: BTreeSet::new(),
        }
    }

    /// Sets the comune's patron saint.
    #[must_use]
    pub fn with_patron_saint(mut self, patron_saint: PatronSaint) -> Self {
        self.patron_saint = Some(patron_saint);
        self
    }

    /// Sets the weekdays on which the offices open (replacing Monday to
    /// Friday).
    ///
    /// # Errors
    /// [`CalendarError::NoOpeningDays`] if `weekdays` is empty.
    pub fn with_opening_days<I: IntoIterator<Item = Weekday>>(
        mut self,
        weekdays: I,
    ) -> Result<Self, CalendarError> {
        let mut days = [false; 7];
        for weekday in weekdays {
            if let Some(slot) = days.get_mut(weekday_index(weekday)) {
                *slot = true;
            }
        }
        if !days.contains(&true) {
            return Err(CalendarError::NoOpeningDays);
        }
        self.opening_days = days;
        Ok(self)
    }

    /// Adds a day on which the offices are closed (e.g. a bridge day
    /// decided by the giunta). It affects only office working days, not
    /// festivi.
    #[must_use]
    pub fn with_closure(mut self, date: Date) -> Self {
        self.closures.insert(date);
        self
    }

    /// Adds several closure days.
    #[must_use]
    pub fn with_closures<I: IntoIterator<Item = Date>>(mut self, dates: I) -> Self {
        self.closures.extend(dates);
        self
    }

    /// The patron saint, if configured.
    #[must_use]
    pub fn patron_saint(&self) -> Option<&PatronSaint> {
        self.patron_saint.as_ref()
    }

    /// Do the offices open on this weekday (before holidays and closures)?
    #[must_use]
    pub fn opens_on(&self, weekday: Weekday) -> bool {
        self.opening_days
            .get(weekday_index(weekday))
            .copied()
            .unwrap_or(false)
    }

    /// Is `date` a holiday: a national holiday or the patron saint's feast?
    /// (Ordinary Sundays are not holidays but are festivi: see
    /// [`Calendar::is_festivo`].)
    #[must_use]
    pub fn is_holiday(&self, date: Date) -> bool {
        is_national_holiday(date) || self.patron_saint.is_some_and(|p| p.is_on(date))
    }

    /// Is `date` festivo: a Sunday (art. 2 L. 260/1949: "tutte le
    /// domeniche"), a national holiday or the patron saint? Saturday is not
    /// festivo (DECISIONS 9).
    #[must_use]
    pub fn is_festivo(&self, date: Date) -> bool {
        date.weekday() == Weekday::Sunday || self.is_holiday(date)
    }

    /// Is `date` a working day for tax purposes: not Saturday, not festivo?
    #[must_use]
    pub fn is_working_day(&self, date: Date) -> bool {
        date.weekday() != Weekday::Saturday && !self.is_festivo(date)
    }

    /// Are the offices open on `date`: an opening weekday that is neither a
    /// holiday nor a closure day? (An office configured to open on Sunday
    /// is open on ordinary Sundays.)
    #[must_use]
    pub fn is_office_open(&self, date: Date) -> bool {
        self.opens_on(date.weekday()) && !self.is_holiday(date) && !self.closures.contains(&date)
    }

    /// May a term under `rule` end on `date`? Administrative: not festivo;
    /// tax: a working day; office: an office-open day.
    #[must_use]
    pub fn is_valid_term_end(&self, date: Date, rule: TermRule) -> bool {
        match rule {
            TermRule::Administrative => !self.is_festivo(date),
            TermRule::TaxPayment => self.is_working_day(date),
            TermRule::OfficeWorkingDays => self.is_office_open(date),
        }
    }

    /// The first day on or after `date` on which a term under `rule` may
    /// end (`date` itself if it already may).
    ///
    /// # Errors
    /// [`CalendarError::OutOfRange`] past year 9999.
    pub fn shift_term_end(&self, date: Date, rule: TermRule) -> Result<Date, CalendarError> {
        let mut day = date;
        while !self.is_valid_term_end(day, rule) {
            day = day.tomorrow().map_err(out_of_range)?;
        }
        Ok(day)
    }

    /// The first non-festivo day on or after `date`.
    ///
    /// # Errors
    /// [`CalendarError::OutOfRange`] past year 9999.
    pub fn next_non_festivo(&self, date: Date) -> Result<Date, CalendarError> {
        self.shift_term_end(date, TermRule::Administrative)
    }

    /// The first working day (not Saturday, not festivo) on or after `date`.
    ///
    /// # Errors
    /// [`CalendarError::OutOfRange`] past year 9999.
    pub fn next_working_day(&self, date: Date) -> Result<Date, CalendarError> {
        self.shift_term_end(date, TermRule::TaxPayment)
    }

    /// The first office-open day on or after `date`.
    ///
    /// # Errors
    /// [`CalendarError::OutOfRange`] past year 9999.
    pub fn next_office_day(&self, date: Date) -> Result<Date, CalendarError> {
        self.shift_term_end(date, TermRule::OfficeWorkingDays)
    }

    /// A term of `days` calendar days from `start`: the start day is not
    /// counted (dies a quo non computatur, art. 155 c. 1 c.p.c., art. 2963
    /// c. 2 c.c.) and festivi in between are counted (art. 155 c. 3 c.p.c.),
    /// so the plain end is `start + days`; it then moves, if needed, to the
    /// first day on which a term under `rule` may end
    /// ([`Calendar::shift_term_end`]). For [`TermRule::OfficeWorkingDays`]
    /// that is the next office-open day; to *count* office days use
    /// [`Calendar::add_working_days`].
    ///
    /// DECISIONS 25: a delibera published on Monday 2 March 2026 reaches its
    /// tenth day on Thursday 12 March.
    ///
    /// # Errors
    /// [`CalendarError::OutOfRange`] past year 9999.
    pub fn add_days(&self, start: Date, days: u32, rule: TermRule) -> Result<Date, CalendarError> {
        let span = Span::new().try_days(days).map_err(out_of_range)?;
        let end = start.checked_add(span).map_err(out_of_range)?;
        self.shift_term_end(end, rule)
    }

    /// A term of `months` calendar months from `start`
    /// ([`add_calendar_months`]: same day of the month, clamped to the
    /// month's last day), then moved like [`Calendar::add_days`].
    ///
    /// # Errors
    /// [`CalendarError::OutOfRange`] past year 9999.
    pub fn add_months(
        &self,
        start: Date,
        months: u32,
        rule: TermRule,
    ) -> Result<Date, CalendarError> {
        self.shift_term_end(add_calendar_months(start, months)?, rule)
    }

    /// The `days`-th office-open day after `start` (start not counted;
    /// `0` gives `start` itself): the office working-day rule.
    ///
    /// # Errors
    /// [`CalendarError::OutOfRange`] past year 9999.
    pub fn add_working_days(&self, start: Date, days: u32) -> Result<Date, CalendarError> {
        let mut day = start;
        for _ in 0..days {
            day = self.next_office_day(day.tomorrow().map_err(out_of_range)?)?;
        }
        Ok(day)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn patron(s: &str) -> PatronSaint {
        PatronSaint::parse(s).unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    // --- Easter and holidays -------------------------------------------------

    #[test]
    fn easter_known_years() {
        let known = [
            (2000, date(2000, 4, 23)),
            (2019, date(2019, 4, 21)),
            (2024, date(2024, 3, 31)),
            (2025, date(2025, 4, 20)),
            (2026, date(2026, 4, 5)),
            (2027, date(2027, 3, 28)),
            (2038, date(2038, 4, 25)),
            (2285, date(2285, 3, 22)),
            (1818, date(1818, 3, 22)),
            (1943, date(1943, 4, 25)),
            (1583, date(1583, 4, 10)),
        ];
        for (year, easter) in known {
            assert_eq!(easter_sunday(year), Ok(easter), "{year}");
        }
        assert_eq!(easter_sunday(1582), Err(CalendarError::OutOfRange));
        assert_eq!(easter_sunday(10_000), Err(CalendarError::OutOfRange));
    }

    proptest! {
        #[test]
        fn easter_is_a_sunday_between_22_march_and_25_april(year in 1583i16..=9999) {
            let easter = easter_sunday(year).unwrap();
            prop_assert_eq!(easter.weekday(), Weekday::Sunday);
            prop_assert!(easter >= date(year, 3, 22) && easter <= date(year, 4, 25));
        }
    }

    #[test]
    fn national_holidays_2026_include_san_francesco() {
        let holidays = national_holidays(2026).unwrap();
        let dates: Vec<Date> = holidays.iter().map(|h| h.date).collect();
        assert_eq!(
            dates,
            [
                date(2026, 1, 1),
                date(2026, 1, 6),
                date(2026, 4, 5),
                date(2026, 4, 6),
                date(2026, 4, 25),
                date(2026, 5, 1),
                date(2026, 6, 2),
                date(2026, 8, 15),
                date(2026, 10, 4),
                date(2026, 11, 1),
                date(2026, 12, 8),
                date(2026, 12, 25),
                date(2026, 12, 26),
            ]
        );
        assert_eq!(holidays[3].name, "Lunedì dell'Angelo");
        for h in &holidays {
            assert_eq!(national_holiday_name(h.date), Some(h.name), "{}", h.date);
        }
    }

    #[test]
    fn san_francesco_only_from_2026() {
        assert_eq!(national_holidays(2025).unwrap().len(), 12);
        assert!(!is_national_holiday(date(2025, 10, 4)));
        assert!(is_national_holiday(date(2026, 10, 4)));
        // 4 October 2027 is a Monday: a real day off, not a working day.
        let calendar = Calendar::new();
        assert_eq!(date(2027, 10, 4).weekday(), Weekday::Monday);
        assert!(calendar.is_festivo(date(2027, 10, 4)));
        assert!(!calendar.is_working_day(date(2027, 10, 4)));
        assert!(!calendar.is_office_open(date(2027, 10, 4)));
        // Before 2026 a Monday 4 October is an ordinary day (2021).
        assert_eq!(date(2021, 10, 4).weekday(), Weekday::Monday);
        assert!(!calendar.is_festivo(date(2021, 10, 4)));
        assert!(calendar.is_working_day(date(2021, 10, 4)));
    }

    #[test]
    fn ordinary_days_are_not_holidays() {
        for d in [
            date(2026, 3, 12),
            date(2026, 11, 4),
            date(2026, 3, 19),
            date(2026, 6, 29),
        ] {
            assert!(!is_national_holiday(d), "{d}");
        }
        // Easter Monday only right after Easter: 31 March 2024 was Easter,
        // so 1 April 2024 was Easter Monday, and 1 April 2025 was not.
        assert_eq!(
            national_holiday_name(date(2024, 4, 1)),
            Some("Lunedì dell'Angelo")
        );
        assert_eq!(national_holiday_name(date(2025, 4, 1)), None);
        assert_eq!(
            national_holiday_name(date(2025, 4, 21)),
            Some("Lunedì dell'Angelo")
        );
    }

    #[test]
    fn festivo_working_day_and_office() {
        let c = Calendar::new();
        let sat = date(2026, 3, 14);
        let sun = date(2026, 3, 15);
        let mon = date(2026, 3, 16);
        assert_eq!(sat.weekday(), Weekday::Saturday);
        assert!(!c.is_festivo(sat), "Saturday is not festivo");
        assert!(!c.is_working_day(sat), "Saturday is not a working day");
        assert!(!c.is_office_open(sat));
        assert!(c.is_festivo(sun));
        assert!(!c.is_holiday(sun));
        assert!(!c.is_working_day(sun));
        assert!(!c.is_festivo(mon));
        assert!(c.is_working_day(mon));
        assert!(c.is_office_open(mon));
        let christmas = date(2026, 12, 25);
        assert!(c.is_festivo(christmas) && c.is_holiday(christmas));
        assert!(!c.is_working_day(christmas) && !c.is_office_open(christmas));
    }

    // --- Term rules ----------------------------------------------------------

    #[test]
    fn decisions_25_executivity_example() {
        let c = Calendar::new();
        let published = date(2026, 3, 2);
        assert_eq!(published.weekday(), Weekday::Monday);
        let tenth = c.add_days(published, 10, TermRule::Administrative).unwrap();
        assert_eq!(tenth, date(2026, 3, 12));
        assert_eq!(tenth.weekday(), Weekday::Thursday);
        let esecutiva = tenth.tomorrow().unwrap();
        assert_eq!(esecutiva, date(2026, 3, 13));
        assert_eq!(esecutiva.weekday(), Weekday::Friday);
    }

    #[test]
    fn term_ending_on_easter_monday_moves_to_tuesday() {
        let c = Calendar::new();
        // 27 March 2026 + 10 days = Monday 6 April 2026, Easter Monday.
        assert_eq!(
            c.add_days(date(2026, 3, 27), 10, TermRule::Administrative),
            Ok(date(2026, 4, 7))
        );
        assert_eq!(
            c.add_days(date(2026, 3, 27), 10, TermRule::TaxPayment),
            Ok(date(2026, 4, 7))
        );
        // Ending on Easter Sunday: Sunday and Monday are both festivi.
        assert_eq!(
            c.add_days(date(2026, 3, 26), 10, TermRule::Administrative),
            Ok(date(2026, 4, 7))
        );
    }

    #[test]
    fn saturday_moves_for_tax_but_not_for_administrative_terms() {
        let c = Calendar::new();
        // 4 March 2026 + 10 days = Saturday 14 March.
        assert_eq!(
            c.add_days(date(2026, 3, 4), 10, TermRule::Administrative),
            Ok(date(2026, 3, 14))
        );
        assert_eq!(
            c.add_days(date(2026, 3, 4), 10, TermRule::TaxPayment),
            Ok(date(2026, 3, 16))
        );
        // Saturday 4 April 2026, Easter the day after, Easter Monday on the
        // 6th: the tax deadline moves to Tuesday 7 April.
        assert_eq!(
            c.add_days(date(2026, 3, 25), 10, TermRule::TaxPayment),
            Ok(date(2026, 4, 7))
        );
        assert_eq!(
            c.add_days(date(2026, 3, 25), 10, TermRule::Administrative),
            Ok(date(2026, 4, 4))
        );
        // A Sunday end moves to Monday under both rules.
        assert_eq!(
            c.add_days(date(2026, 3, 5), 10, TermRule::Administrative),
            Ok(date(2026, 3, 16))
        );
        // 25 April 2026 is a Saturday and a holiday: festivo, so even the
        // administrative term moves, past Sunday, to Monday 27 April.
        assert_eq!(
            c.add_days(date(2026, 4, 15), 10, TermRule::Administrative),
            Ok(date(2026, 4, 27))
        );
        // Zero days: the start itself, shifted if needed.
        assert_eq!(
            c.add_days(date(2026, 3, 14), 0, TermRule::TaxPayment),
            Ok(date(2026, 3, 16))
        );
    }

    #[test]
    fn office_working_days() {
        let c = Calendar::new().with_closure(date(2026, 3, 13));
        // Thursday 12 March + 1 office day: Friday 13 is closed -> Monday 16.
        assert_eq!(
            c.add_working_days(date(2026, 3, 12), 1),
            Ok(date(2026, 3, 16))
        );
        assert_eq!(
            c.add_working_days(date(2026, 3, 12), 0),
            Ok(date(2026, 3, 12))
        );
        // Five office days from Wednesday 1 April 2026: 2, 3, (Easter
        // Monday 6 skipped) 7, 8, 9.
        assert_eq!(
            Calendar::new().add_working_days(date(2026, 4, 1), 5),
            Ok(date(2026, 4, 9))
        );
        // Calendar days then the next open day.
        assert_eq!(
            c.add_days(date(2026, 3, 3), 10, TermRule::OfficeWorkingDays),
            Ok(date(2026, 3, 16))
        );
        assert!(!c.is_office_open(date(2026, 3, 13)));
        // The closure is not a festivo: terms may end on it.
        assert!(!c.is_festivo(date(2026, 3, 13)));
        assert!(c.is_working_day(date(2026, 3, 13)));

        let six_days = Calendar::new()
            .with_opening_days([
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
                Weekday::Saturday,
            ])
            .unwrap();
        assert!(six_days.is_office_open(date(2026, 3, 14)));
        assert_eq!(
            six_days.add_working_days(date(2026, 3, 13), 1),
            Ok(date(2026, 3, 14))
        );
        // Saturday 25 April is a holiday even for a six-day office.
        assert!(!six_days.is_office_open(date(2026, 4, 25)));
        assert_eq!(
            Calendar::new().with_opening_days([]),
            Err(CalendarError::NoOpeningDays)
        );
        assert_eq!(
            CalendarError::NoOpeningDays.code(),
            "calendar_no_opening_days"
        );
    }

    #[test]
    fn next_helpers_return_the_day_itself_when_allowed() {
        let c = Calendar::new();
        let thu = date(2026, 3, 12);
        assert_eq!(c.next_non_festivo(thu), Ok(thu));
        assert_eq!(c.next_working_day(thu), Ok(thu));
        assert_eq!(c.next_office_day(thu), Ok(thu));
        // Christmas 2026 is a Friday, 26 December a Saturday (and a
        // holiday), 27 a Sunday.
        assert_eq!(
            c.next_non_festivo(date(2026, 12, 25)),
            Ok(date(2026, 12, 28))
        );
        assert_eq!(
            c.next_working_day(date(2026, 12, 25)),
            Ok(date(2026, 12, 28))
        );
        // No open day left before the end of the supported range.
        let closed = Calendar::new().with_closures([date(9999, 12, 30), date(9999, 12, 31)]);
        assert_eq!(
            closed.next_office_day(date(9999, 12, 30)),
            Err(CalendarError::OutOfRange)
        );
    }

    // --- Months ----------------------------------------------------------------

    #[test]
    fn calendar_months_with_end_of_month_clamping() {
        assert_eq!(
            add_calendar_months(date(2026, 3, 10), 6),
            Ok(date(2026, 9, 10))
        );
        assert_eq!(
            add_calendar_months(date(2026, 1, 31), 1),
            Ok(date(2026, 2, 28))
        );
        assert_eq!(
            add_calendar_months(date(2028, 1, 31), 1),
            Ok(date(2028, 2, 29))
        );
        assert_eq!(
            add_calendar_months(date(2026, 3, 31), 1),
            Ok(date(2026, 4, 30))
        );
        assert_eq!(
            add_calendar_months(date(2025, 12, 31), 2),
            Ok(date(2026, 2, 28))
        );
        assert_eq!(
            add_calendar_months(date(2027, 11, 30), 3),
            Ok(date(2028, 2, 29))
        );
        assert_eq!(
            add_calendar_months(date(2026, 8, 31), 6),
            Ok(date(2027, 2, 28))
        );
        assert_eq!(
            add_calendar_months(date(2026, 5, 15), 12),
            Ok(date(2027, 5, 15))
        );
        assert_eq!(
            add_calendar_months(date(2026, 5, 15), 0),
            Ok(date(2026, 5, 15))
        );
        assert_eq!(
            add_calendar_months(date(9999, 6, 1), 7),
            Err(CalendarError::OutOfRange)
        );
        assert_eq!(
            add_calendar_months(date(2026, 1, 1), u32::MAX),
            Err(CalendarError::OutOfRange)
        );
    }

    #[test]
    fn month_terms_shift_like_day_terms() {
        let c = Calendar::new();
        // One month from 25 November 2025 is Christmas; 26 is Santo
        // Stefano; 27 is a Saturday: fine for administrative terms, not for
        // tax payments (Sunday 28 -> Monday 29).
        assert_eq!(
            c.add_months(date(2025, 11, 25), 1, TermRule::Administrative),
            Ok(date(2025, 12, 27))
        );
        assert_eq!(
            c.add_months(date(2025, 11, 25), 1, TermRule::TaxPayment),
            Ok(date(2025, 12, 29))
        );
        // DPR 445/2000 art. 41 validity: six months.
        assert_eq!(
            c.add_months(date(2026, 3, 10), 6, TermRule::Administrative),
            Ok(date(2026, 9, 10))
        );
        // 31 August 2026 + 1 month = 30 September 2026 (Wednesday).
        assert_eq!(
            c.add_months(date(2026, 8, 31), 1, TermRule::Administrative),
            Ok(date(2026, 9, 30))
        );
    }

    // --- Patron saint --------------------------------------------------------------

    #[test]
    fn patron_saint_fixed_date() {
        let milano = Calendar::new().with_patron_saint(patron("12-07"));
        assert!(milano.is_festivo(date(2026, 12, 7)));
        assert!(milano.is_holiday(date(2026, 12, 7)));
        assert!(!milano.is_office_open(date(2026, 12, 7)));
        assert!(!Calendar::new().is_festivo(date(2026, 12, 7)));
        // Ten days from 27 November 2026 = Monday 7 December (patron), then
        // the Immacolata: the term ends on Wednesday 9 December.
        assert_eq!(
            milano.add_days(date(2026, 11, 27), 10, TermRule::Administrative),
            Ok(date(2026, 12, 9))
        );
        assert_eq!(
            Calendar::new().add_days(date(2026, 11, 27), 10, TermRule::Administrative),
            Ok(date(2026, 12, 7))
        );
        assert_eq!(
            milano.patron_saint().map(ToString::to_string),
            Some("12-07".to_owned())
        );
    }

    #[test]
    fn second_sunday_of_september() {
        let p = patron("2nd-sun-09");
        assert_eq!(p.date_in(2025), Some(date(2025, 9, 14)));
        assert_eq!(p.date_in(2026), Some(date(2026, 9, 13)));
        assert_eq!(p.date_in(2027), Some(date(2027, 9, 12)));
        assert_eq!(p.date_in(2030), Some(date(2030, 9, 8)));
        assert!(p.is_on(date(2026, 9, 13)));
        assert!(!p.is_on(date(2026, 9, 6)));
        assert_eq!(p.to_string(), "2nd-sun-09");
        // Italian abbreviations and case are accepted, Display is canonical.
        assert_eq!(patron(" 2ND-Dom-9 "), p);
    }

    #[test]
    fn last_and_other_weekday_rules() {
        let p = patron("last-mon-05");
        assert_eq!(p.date_in(2026), Some(date(2026, 5, 25)));
        assert_eq!(p.date_in(2027), Some(date(2027, 5, 31)));
        let c = Calendar::new().with_patron_saint(p);
        assert_eq!(
            c.add_days(date(2026, 5, 15), 10, TermRule::Administrative),
            Ok(date(2026, 5, 26))
        );
        assert_eq!(patron("1st-tue-03").date_in(2026), Some(date(2026, 3, 3)));
        assert_eq!(patron("3rd-fri-01").date_in(2026), Some(date(2026, 1, 16)));
        assert_eq!(patron("4th-sat-10").date_in(2026), Some(date(2026, 10, 24)));
    }

    #[test]
    fn easter_relative_patron() {
        // Corpus Domini 2026: Easter 5 April + 60 days = Thursday 4 June.
        let p = patron("easter+60");
        assert_eq!(p.date_in(2026), Some(date(2026, 6, 4)));
        assert_eq!(p.to_string(), "easter+60");
        assert_eq!(patron("easter-2").date_in(2026), Some(date(2026, 4, 3)));
        assert_eq!(patron("EASTER-2").to_string(), "easter-2");
        let c = Calendar::new().with_patron_saint(p);
        assert!(!c.is_working_day(date(2026, 6, 4)));
    }

    #[test]
    fn leap_day_patron_only_in_leap_years() {
        let p = patron("02-29");
        assert_eq!(p.date_in(2028), Some(date(2028, 2, 29)));
        assert_eq!(p.date_in(2026), None);
        let c = Calendar::new().with_patron_saint(p);
        assert!(!c.is_holiday(date(2026, 2, 28)));
        assert!(!c.is_holiday(date(2026, 3, 1)));
        assert!(c.is_holiday(date(2028, 2, 29)));
    }

    #[test]
    fn patron_saint_syntax_errors() {
        let cases = [
            ("", PatronSaintError::Format),
            ("29 giugno", PatronSaintError::Format),
            ("06/29", PatronSaintError::Format),
            ("06-29-2026-1", PatronSaintError::Format),
            ("13-01", PatronSaintError::Month),
            ("00-10", PatronSaintError::Month),
            ("06-31", PatronSaintError::Day),
            ("02-30", PatronSaintError::Day),
            ("06-00", PatronSaintError::Day),
            ("6-", PatronSaintError::Format),
            ("006-29", PatronSaintError::Format),
            ("5th-sun-09", PatronSaintError::Ordinal),
            ("second-sun-09", PatronSaintError::Ordinal),
            ("2nd-sunday-09", PatronSaintError::Weekday),
            ("2nd-sun-13", PatronSaintError::Month),
            ("2nd-sun-x", PatronSaintError::Format),
            ("easter", PatronSaintError::Format),
            ("easter1", PatronSaintError::Format),
            ("easter+", PatronSaintError::EasterOffset),
            ("easter+100", PatronSaintError::EasterOffset),
            ("easter+1a", PatronSaintError::EasterOffset),
        ];
        for (text, expected) in cases {
            assert_eq!(PatronSaint::parse(text), Err(expected.clone()), "{text:?}");
        }
        assert_eq!(
            PatronSaint::parse("x").unwrap_err().code(),
            "patron_saint_format"
        );
        assert!(
            PatronSaint::parse("x")
                .unwrap_err()
                .message_it()
                .contains("2nd-sun-09")
        );
        assert_eq!(PatronSaint::fixed(4, 31), Err(PatronSaintError::Day));
        assert_eq!(
            PatronSaint::nth_weekday(WeekdayOrdinal::First, Weekday::Monday, 0),
            Err(PatronSaintError::Month)
        );
        assert_eq!(
            PatronSaint::easter_offset(-100),
            Err(PatronSaintError::EasterOffset)
        );
    }

    #[test]
    fn patron_saint_display_round_trips_and_serde() {
        for text in [
            "06-29",
            "12-07",
            "2nd-sun-09",
            "last-mon-05",
            "easter+1",
            "easter-7",
            "easter+0",
        ] {
            let p = patron(text);
            assert_eq!(p.to_string(), text);
            assert_eq!(patron(&p.to_string()), p);
        }
        assert_eq!(patron("6-9").to_string(), "06-09");
        let json = serde_json::to_string(&patron("2nd-sun-09")).unwrap();
        assert_eq!(json, "\"2nd-sun-09\"");
        let back: PatronSaint = serde_json::from_str("\"2ND-DOM-09\"").unwrap();
        assert_eq!(back, patron("2nd-sun-09"));
        assert!(serde_json::from_str::<PatronSaint>("\"13-01\"").is_err());
    }

    #[test]
    fn term_rule_serde_and_references() {
        assert_eq!(
            serde_json::to_string(&TermRule::TaxPayment).unwrap(),
            "\"tax_payment\""
        );
        assert_eq!(
            serde_json::from_str::<TermRule>("\"office_working_days\"").unwrap(),
            TermRule::OfficeWorkingDays
        );
        assert!(
            TermRule::Administrative
                .legal_reference()
                .contains("155 c.p.c.")
        );
        assert!(TermRule::TaxPayment.legal_reference().contains("70/2011"));
    }

    // --- Rome dates ------------------------------------------------------------

    #[test]
    fn rome_time_zone_is_the_real_one() {
        assert_eq!(rome_time_zone().iana_name(), Some("Europe/Rome"));
    }

    #[test]
    fn rome_date_around_new_year() {
        // 00:30 on 1 January 2026 in Rome is 23:30 UTC on 31 December.
        assert_eq!(rome_date(ts("2025-12-31T23:30:00Z")), date(2026, 1, 1));
        assert_eq!(rome_date(ts("2025-12-31T23:00:00Z")), date(2026, 1, 1));
        assert_eq!(rome_date(ts("2025-12-31T22:59:59Z")), date(2025, 12, 31));
    }

    #[test]
    fn rome_date_around_dst() {
        // Summer time (UTC+2): midnight in Rome is 22:00 UTC.
        assert_eq!(rome_date(ts("2026-06-30T22:30:00Z")), date(2026, 7, 1));
        assert_eq!(rome_date(ts("2026-06-30T21:59:59Z")), date(2026, 6, 30));
        // Day of the spring change (29 March 2026, 02:00 -> 03:00 local).
        assert_eq!(rome_date(ts("2026-03-28T22:59:59Z")), date(2026, 3, 28));
        assert_eq!(rome_date(ts("2026-03-28T23:00:00Z")), date(2026, 3, 29));
        assert_eq!(rome_date(ts("2026-03-29T21:59:59Z")), date(2026, 3, 29));
        assert_eq!(rome_date(ts("2026-03-29T22:00:00Z")), date(2026, 3, 30));
        // Day of the autumn change (25 October 2026, 03:00 -> 02:00 local).
        assert_eq!(rome_date(ts("2026-10-24T21:59:59Z")), date(2026, 10, 24));
        assert_eq!(rome_date(ts("2026-10-24T22:00:00Z")), date(2026, 10, 25));
        assert_eq!(rome_date(ts("2026-10-25T22:59:59Z")), date(2026, 10, 25));
        assert_eq!(rome_date(ts("2026-10-25T23:00:00Z")), date(2026, 10, 26));
    }

    // --- Properties ------------------------------------------------------------

    fn arb_date() -> impl Strategy<Value = Date> {
        (2000i16..=2100, 1i8..=12, 1i8..=31)
            .prop_filter_map("valid date", |(y, m, d)| Date::new(y, m, d).ok())
    }

    fn arb_rule() -> impl Strategy<Value = TermRule> {
        prop_oneof![
            Just(TermRule::Administrative),
            Just(TermRule::TaxPayment),
            Just(TermRule::OfficeWorkingDays),
        ]
    }

    fn arb_calendar() -> impl Strategy<Value = Calendar> {
        let patrons = prop_oneof![
            Just(None),
            Just(Some("12-07")),
            Just(Some("2nd-sun-09")),
            Just(Some("last-mon-05")),
            Just(Some("easter+2")),
        ];
        (patrons, proptest::collection::vec(arb_date(), 0..20)).prop_map(|(p, closures)| {
            let c = Calendar::new().with_closures(closures);
            match p {
                Some(p) => c.with_patron_saint(patron(p)),
                None => c,
            }
        })
    }

    proptest! {
        #[test]
        fn shifted_day_term_is_never_early_and_never_on_a_bad_day(
            calendar in arb_calendar(),
            start in arb_date(),
            days in 0u32..400,
            rule in arb_rule(),
        ) {
            let plain = start.checked_add(Span::new().days(i64::from(days))).unwrap();
            let end = calendar.add_days(start, days, rule).unwrap();
            prop_assert!(end >= plain);
            prop_assert!(calendar.is_valid_term_end(end, rule));
            // Never moved further than needed: every day in between is bad.
            let mut day = plain;
            while day < end {
                prop_assert!(!calendar.is_valid_term_end(day, rule));
                day = day.tomorrow().unwrap();
            }
            if rule != TermRule::OfficeWorkingDays {
                prop_assert!(!calendar.is_festivo(end));
            }
        }

        #[test]
        fn shifted_month_term_is_never_early_and_never_festivo(
            calendar in arb_calendar(),
            start in arb_date(),
            months in 0u32..60,
            rule in arb_rule(),
        ) {
            let plain = add_calendar_months(start, months).unwrap();
            let end = calendar.add_months(start, months, rule).unwrap();
            prop_assert!(end >= plain);
            prop_assert!(calendar.is_valid_term_end(end, rule));
            if rule != TermRule::OfficeWorkingDays {
                prop_assert!(!calendar.is_festivo(end));
            }
            // Same day of the month, or the month's last day if shorter.
            prop_assert!(plain.day() == start.day() || plain.day() == plain.days_in_month());
            prop_assert!(plain.day() <= start.day());
        }

        #[test]
        fn working_days_count_exactly_open_days(
            calendar in arb_calendar(),
            start in arb_date(),
            days in 0u32..60,
        ) {
            let end = calendar.add_working_days(start, days).unwrap();
            let mut open = 0u32;
            let mut day = start;
            while day < end {
                day = day.tomorrow().unwrap();
                if calendar.is_office_open(day) {
                    open += 1;
                }
            }
            prop_assert_eq!(open, days);
            if days > 0 {
                prop_assert!(calendar.is_office_open(end));
            }
        }

        #[test]
        fn patron_saint_parse_never_panics(text in "\\PC{0,16}") {
            let _ = PatronSaint::parse(&text);
        }
    }
}
