//! Appointment booking (issue 6, part 7; C.SI.2.1, C.SE.2.2).
//!
//! Offices publish a booking calendar ([`palazzo_domain::appuntamenti`]);
//! anyone books a free seat of a slot, from the "Servizi" page or from a
//! service card (then only the offices competent for that service are
//! offered); a signed-in citizen's name and contacts come from the profile.
//! The booking gets a random public code (only its SHA-256 is stored) that
//! lets its holder see and cancel it without signing in; the citizen also
//! sees and cancels it in the personal area. The office works its agenda of
//! a day (presentato, assente, annulla) and its managers edit the calendar.
//!
//! No double booking: the store's unique index over active bookings decides
//! (see [`palazzo_store::appuntamenti`]); [`App::book_appointment`] tries
//! each seat of the slot in turn and answers `appuntamento_non_disponibile`
//! when none is left.
//!
//! E-mail: the confirmation is queued in the booking's transaction; the
//! reminder at [`reminder_moment`] (09:00 Europe/Rome of the day before) by
//! [`App::queue_booking_reminders`], which `palazzo serve` runs every
//! [`REMINDER_POLL`] ([`App::run_booking_reminders`]) and an operator runs
//! once with `palazzo appuntamenti promemoria`. Once per booking, also when
//! two runs overlap: the store's compare-and-swap on `reminder_sent_at`
//! decides, in the transaction that queues the message. A booking made at or
//! after its reminder moment, or no longer `prenotato`, gets none.
//!
//! Bookings are not legally relevant records: they are not in the ledger.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_domain::appuntamenti::{
    BookingCalendar, BookingDetails, CalendarSpec, RawDetails, Slot,
};
use palazzo_domain::calendar::{Calendar, rome_date};
use palazzo_store::*;
use rand::Rng as _;
use sha2::{Digest, Sha256};

use crate::access::Actor;
use crate::db::DbTx;
use crate::registro_giornaliero::tenant_calendar;
use crate::{App, ServiceError, ServiceResult};

/// The alphabet of public booking codes: no 0/O, 1/I/L.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Characters of a public code (about 79 bits).
const CODE_CHARS: usize = 16;

/// An office that takes bookings, with its calendar.
#[derive(Debug, Clone)]
pub struct BookingOffice {
    /// The office.
    pub office: Office,
    /// Its parsed calendar.
    pub calendar: BookingCalendar,
}

/// A slot with the seats still free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeSlot {
    /// The slot.
    pub slot: Slot,
    /// Seats not booked yet.
    pub free: u32,
}

/// What a citizen asks for.
#[derive(Debug, Clone, Default)]
pub struct BookingRequest {
    /// The office's slug.
    pub office: String,
    /// The slot's start.
    pub start: Option<Timestamp>,
    /// The service the citizen came from, if any.
    pub service: Option<String>,
    /// Topic, reason, name and contacts as typed.
    pub details: RawDetails,
}

/// A stored booking with its public code (shown once, and e-mailed).
#[derive(Debug, Clone)]
pub struct Booked {
    /// The booking.
    pub booking: Booking,
    /// The public code, `XXXX-XXXX-XXXX-XXXX`.
    pub code: String,
}

/// One day of an office's agenda.
#[derive(Debug, Clone)]
pub struct Agenda {
    /// The office.
    pub office: Office,
    /// The day.
    pub day: Date,
    /// Its slots (empty when the office is closed).
    pub slots: Vec<Slot>,
    /// Its bookings, every state, by slot and seat.
    pub bookings: Vec<Booking>,
}

/// What the booking form pre-fills for a signed-in citizen (C.SI.2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefill {
    /// Given name.
    pub name: String,
    /// Surname.
    pub surname: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: String,
}

fn refused(code: &'static str, message: &str) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.to_owned(),
    }
}

fn not_available() -> ServiceError {
    refused(
        "appuntamento_non_disponibile",
        "L'orario scelto non è più disponibile: qualcun altro lo ha appena prenotato. Scegli un altro orario.",
    )
}

fn who(actor: &Actor) -> String {
    match (actor.user, actor.admin) {
        (Some(u), _) => format!("user:{}", u.0),
        (None, Some(a)) => format!("admin:{}", a.0),
        (None, None) => "anonimo".to_owned(),
    }
}

/// A new random public code, `XXXX-XXXX-XXXX-XXXX`.
fn new_code() -> String {
    let mut rng = rand::thread_rng();
    let mut out = String::with_capacity(CODE_CHARS + 3);
    for i in 0..CODE_CHARS {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let c = CODE_ALPHABET
            .get(rng.gen_range(0..CODE_ALPHABET.len()))
            .copied()
            .unwrap_or(b'A');
        out.push(char::from(c));
    }
    out
}

/// The SHA-256 stored for a public code: of its characters without dashes
/// or spaces, upper-cased. `None` when it cannot be a code.
pub fn code_hash(code: &str) -> Option<[u8; 32]> {
    let norm: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if norm.len() != CODE_CHARS || !norm.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
        return None;
    }
    Some(Sha256::digest(norm.as_bytes()).into())
}

fn parse_calendar(spec: &CalendarSpec) -> ServiceResult<BookingCalendar> {
    BookingCalendar::from_spec(spec).map_err(|e| ServiceError::invalid(&e))
}

/// Where the holder of `code` sees and cancels the booking: the page of
/// the booking on the comune's first hostname.
pub fn booking_link(tenant: &Tenant, code: &str) -> String {
    match tenant.data.hostnames.first() {
        Some(h) => format!("https://{h}/appuntamenti/{code}"),
        None => format!("la pagina «Appuntamenti» del sito, con il codice {code}"),
    }
}

/// The hour (Europe/Rome) of the day before an appointment at which its
/// reminder becomes due.
pub const REMINDER_HOUR: i8 = 9;

/// How often `palazzo serve` looks for reminders that became due.
pub const REMINDER_POLL: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// The reminder moment of an appointment on Rome civil date `day`:
/// [`REMINDER_HOUR`]:00 Europe/Rome of the day before. `None` only at the
/// edge of the calendar.
pub fn reminder_moment(day: Date) -> Option<Timestamp> {
    let before = day.yesterday().ok()?;
    before
        .at(REMINDER_HOUR, 0, 0, 0)
        .to_zoned(palazzo_domain::calendar::rome_time_zone())
        .ok()
        .map(|z| z.timestamp())
}

/// One reminder queued by [`App::queue_booking_reminders`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedReminder {
    /// The comune.
    pub tenant: TenantId,
    /// The booking.
    pub booking: BookingId,
    /// The office's name.
    pub office: String,
    /// The appointment's start.
    pub slot_start: Timestamp,
    /// The recipient.
    pub recipient: String,
    /// The outbox message.
    pub mail: MailId,
}

/// `gg/mm/aaaa alle HH:MM`, Europe/Rome.
fn rome_day_time(ts: Timestamp) -> String {
    ts.to_zoned(palazzo_domain::calendar::rome_time_zone())
        .strftime("%d/%m/%Y alle %H:%M")
        .to_string()
}

/// The text of the reminder e-mail of `booking` (Italian): office,
/// address when known, day and time in Rome, topic, and the code with the
/// link to cancel — or, for a booking whose code was not kept, where to
/// use the code of the confirmation.
pub fn reminder_text(tenant: &Tenant, office: &Office, booking: &Booking) -> String {
    let d = &booking.data;
    let a = &office.data.address;
    let address = if a.street.trim().is_empty() {
        String::new()
    } else {
        format!(
            "Indirizzo: {}, {} {} ({})\n",
            a.street,
            a.cap.as_str(),
            a.locality,
            a.province
        )
    };
    let code = match &d.reminder_code {
        Some(code) => format!(
            "Codice della prenotazione: {code}\n\
             Se non puoi venire, annulla l'appuntamento: {}\n",
            booking_link(tenant, code)
        ),
        None => format!(
            "Se non puoi venire, annulla l'appuntamento con il codice della conferma: {}\n",
            match tenant.data.hostnames.first() {
                Some(h) => format!("https://{h}/appuntamenti"),
                None => "la pagina «Appuntamenti» del sito".to_owned(),
            }
        ),
    };
    format!(
        "Gentile {} {},\n\nti ricordiamo l'appuntamento presso «{}» del {} il giorno {}.\n\
         {address}Argomento: {}\n\n{code}\nPorta con te un documento d'identità.\n",
        d.name,
        d.surname,
        office.data.name,
        tenant.data.name,
        rome_day_time(d.slot_start),
        d.topic
    )
}

/// Queues the confirmation e-mail of a booking in the booking's own
/// transaction (C.SI.2.1): what, when, where, the code to see or cancel it.
async fn queue_booking_confirmation(
    app: &App,
    tx: &mut DbTx,
    tenant: &Tenant,
    office: &str,
    booking: &Booking,
    code: &str,
) -> ServiceResult<()> {
    let link = booking_link(tenant, code);
    let mail = NewMail {
        recipient: booking.data.email.clone(),
        subject: format!("Appuntamento confermato – {office}"),
        text_body: confirmation_text(tenant, office, booking, code, &link),
        html_body: None,
        reply_to: None,
        related: Some(MailRelated {
            kind: "appuntamento".into(),
            id: booking.id.0,
        }),
    };
    app.queue_mail(tx, tenant.id, &mail).await?;
    Ok(())
}

/// The text of the confirmation e-mail of `booking` (Italian).
pub fn confirmation_text(
    tenant: &Tenant,
    office: &str,
    booking: &Booking,
    code: &str,
    link: &str,
) -> String {
    let start = booking
        .data
        .slot_start
        .to_zoned(palazzo_domain::calendar::rome_time_zone())
        .strftime("%d/%m/%Y alle %H:%M")
        .to_string();
    format!(
        "Gentile {} {},\n\nil tuo appuntamento presso «{}» del {} è confermato per il giorno {start}.\n\
         Argomento: {}\n\nCodice della prenotazione: {code}\n\
         Per vederla o annullarla: {link}\n\nPorta con te un documento d'identità.\n",
        booking.data.name, booking.data.surname, office, tenant.data.name, booking.data.topic
    )
}

impl App {
    /// The comune's calendar of holidays and closures.
    fn comune_calendar(&self, tenant: TenantId) -> ServiceResult<(Tenant, Calendar)> {
        let t = self.tenant(tenant)?;
        let cal = tenant_calendar(&t);
        Ok((t, cal))
    }

    /// The offices that take bookings, by name; with `service`, only those
    /// competent for it (C.SI.2.1): the service's responsible office and the
    /// offices whose calendar lists the service. An unknown service slug is
    /// `servizio_non_valido`.
    ///
    /// # Errors
    /// `servizio_non_valido`; storage failures.
    pub async fn booking_offices(
        &self,
        tenant: TenantId,
        service: Option<&str>,
    ) -> ServiceResult<Vec<BookingOffice>> {
        let snap = self.portal(tenant).await?;
        let service = match service.map(str::trim).filter(|s| !s.is_empty()) {
            Some(slug) => Some(snap.service(slug).ok_or_else(|| {
                refused(
                    "servizio_non_valido",
                    "Il servizio indicato non esiste: scegli l'ufficio dall'elenco.",
                )
            })?),
            None => None,
        };
        let calendars: HashMap<OfficeId, BookingCalendarRecord> = self
            .db()
            .booking_calendars(tenant)
            .await?
            .into_iter()
            .map(|c| (c.office, c))
            .collect();
        let mut out = Vec::new();
        for office in &snap.offices {
            let Some(record) = calendars.get(&office.id) else {
                continue;
            };
            let Ok(calendar) = BookingCalendar::from_spec(&record.spec) else {
                tracing::warn!(office = %office.data.slug, "stored booking calendar does not parse");
                continue;
            };
            if let Some(s) = service
                && s.data.office != office.id
                && !calendar.services().contains(&s.data.slug)
            {
                continue;
            }
            out.push(BookingOffice {
                office: office.clone(),
                calendar,
            });
        }
        Ok(out)
    }

    /// The office `slug` with its calendar; `ufficio_non_prenotabile` when
    /// it does not exist or takes no bookings.
    ///
    /// # Errors
    /// `ufficio_non_prenotabile`; storage failures.
    pub async fn booking_office(
        &self,
        tenant: TenantId,
        slug: &str,
    ) -> ServiceResult<BookingOffice> {
        let unknown = || {
            refused(
                "ufficio_non_prenotabile",
                "L'ufficio scelto non esiste o non riceve su appuntamento: sceglilo dall'elenco.",
            )
        };
        let snap = self.portal(tenant).await?;
        let office = snap
            .office_by_slug(slug.trim())
            .ok_or_else(unknown)?
            .clone();
        let record = self
            .db()
            .booking_calendar(tenant, office.id)
            .await?
            .ok_or_else(unknown)?;
        let calendar = BookingCalendar::from_spec(&record.spec).map_err(|_| unknown())?;
        Ok(BookingOffice { office, calendar })
    }

    /// The slots of office `slug` from `from` to `to` that can be booked
    /// now and have a free seat, in order.
    ///
    /// # Errors
    /// As [`App::booking_office`].
    pub async fn free_slots(
        &self,
        tenant: TenantId,
        slug: &str,
        from: Date,
        to: Date,
    ) -> ServiceResult<Vec<FreeSlot>> {
        let office = self.booking_office(tenant, slug).await?;
        self.free_slots_of(tenant, &office, from, to, Timestamp::now())
            .await
    }

    async fn free_slots_of(
        &self,
        tenant: TenantId,
        office: &BookingOffice,
        from: Date,
        to: Date,
        now: Timestamp,
    ) -> ServiceResult<Vec<FreeSlot>> {
        let (_, comune) = self.comune_calendar(tenant)?;
        let slots = office.calendar.available(&comune, from, to, now);
        let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
            return Ok(Vec::new());
        };
        let mut taken: HashMap<Timestamp, u32> = HashMap::new();
        for b in self
            .db()
            .office_bookings(tenant, office.office.id, first.date, last.date)
            .await?
        {
            if b.state != BookingState::Annullato {
                *taken.entry(b.data.slot_start).or_default() += 1;
            }
        }
        Ok(slots
            .into_iter()
            .map(|slot| FreeSlot {
                free: slot
                    .seats
                    .saturating_sub(taken.get(&slot.start).copied().unwrap_or(0)),
                slot,
            })
            .filter(|f| f.free > 0)
            .collect())
    }

    /// The slot of `office` that starts at `start`, if it can be booked
    /// now and has a free seat (the booking form's second step).
    ///
    /// # Errors
    /// `appuntamento_orario_non_valido`, `appuntamento_troppo_vicino`,
    /// `appuntamento_troppo_lontano`, `appuntamento_non_disponibile`.
    pub async fn check_booking_slot(
        &self,
        tenant: TenantId,
        office: &BookingOffice,
        start: Timestamp,
    ) -> ServiceResult<FreeSlot> {
        let (_, comune) = self.comune_calendar(tenant)?;
        let now = Timestamp::now();
        let slot = office
            .calendar
            .slot_at(&comune, start, now)
            .map_err(|e| ServiceError::invalid(&e))?;
        self.free_slots_of(tenant, office, slot.date, slot.date, now)
            .await?
            .into_iter()
            .find(|f| f.slot.start == start)
            .ok_or_else(not_available)
    }

    /// The name and contacts of the signed-in citizen (C.SI.2.1: the form
    /// is pre-filled from the profile); empty for visitors.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn booking_prefill(&self, tenant: TenantId, actor: &Actor) -> ServiceResult<Prefill> {
        let Some(user) = actor.user else {
            return Ok(Prefill::default());
        };
        let Some(u) = self.db().user(tenant, user).await? else {
            return Ok(Prefill::default());
        };
        Ok(Prefill {
            name: u.data.given_name,
            surname: u.data.family_name,
            email: u
                .data
                .email
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
            phone: u.data.phone.unwrap_or_default(),
        })
    }

    /// Books a seat of a slot (C.SI.2.1). Checks the office takes bookings
    /// (and, with a service, is competent for it), that the slot is one of
    /// its calendar and far enough ahead, the topic, the reason (at most
    /// 500 characters) and the contacts; then stores the booking on the
    /// first free seat and queues the confirmation, in one transaction.
    ///
    /// # Errors
    /// `ufficio_non_prenotabile`, `servizio_non_valido`,
    /// `appuntamento_orario_non_valido`, `appuntamento_troppo_vicino`,
    /// `appuntamento_troppo_lontano`, the details' codes
    /// ([`BookingDetails::parse`]), `appuntamento_non_disponibile` when every
    /// seat is taken; storage failures.
    pub async fn book_appointment(
        &self,
        tenant: TenantId,
        actor: &Actor,
        req: &BookingRequest,
    ) -> ServiceResult<Booked> {
        let office = self.booking_office(tenant, &req.office).await?;
        let service = match req
            .service
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(slug) => {
                let competent = self.booking_offices(tenant, Some(slug)).await?;
                if !competent.iter().any(|o| o.office.id == office.office.id) {
                    return Err(refused(
                        "ufficio_non_competente",
                        "L'ufficio scelto non tratta il servizio indicato: scegli uno degli uffici proposti.",
                    ));
                }
                Some(slug.to_owned())
            }
            None => None,
        };
        let (t, comune) = self.comune_calendar(tenant)?;
        let start = req.start.ok_or_else(|| {
            ServiceError::invalid(&palazzo_domain::appuntamenti::BookingError::NotASlot)
        })?;
        let now = Timestamp::now();
        let slot = office
            .calendar
            .slot_at(&comune, start, now)
            .map_err(|e| ServiceError::invalid(&e))?;
        let details = BookingDetails::parse(&req.details, &office.calendar)
            .map_err(|e| ServiceError::invalid(&e))?;
        let code = new_code();
        let hash = code_hash(&code)
            .ok_or_else(|| ServiceError::Internal("booking code does not hash".into()))?;
        let new = NewBooking {
            office: office.office.id,
            slot_start: slot.start,
            slot_end: slot.end,
            slot_date: slot.date,
            seat: 0,
            service,
            topic: details.topic,
            reason: details.reason,
            name: details.name,
            surname: details.surname,
            email: details.email.as_str().to_owned(),
            phone: details.phone,
            user: actor.user,
            code_sha256: hash,
            created_at: now,
            // Kept for the reminder only if one will be sent.
            reminder_code: reminder_moment(slot.date)
                .filter(|at| now < *at)
                .map(|_| code.clone()),
        };
        let mut tx = self.db().begin().await?;
        for seat in 1..=i64::from(slot.seats) {
            let attempt = NewBooking {
                seat,
                ..new.clone()
            };
            if let Some(booking) = tx.insert_booking(tenant, &attempt).await? {
                queue_booking_confirmation(
                    self,
                    &mut tx,
                    &t,
                    &office.office.data.name,
                    &booking,
                    &code,
                )
                .await?;
                tx.commit().await?;
                self.wake_mail_worker();
                tracing::info!(
                    tenant = %t.data.slug,
                    office = %office.office.data.slug,
                    booking = booking.id.0,
                    seat,
                    "appointment booked"
                );
                return Ok(Booked { booking, code });
            }
        }
        Err(not_available())
    }

    /// The booking with public code `code`; not found for a wrong code.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`]; storage failures.
    pub async fn booking_by_code(&self, tenant: TenantId, code: &str) -> ServiceResult<Booking> {
        let hash = code_hash(code).ok_or(ServiceError::NotFound)?;
        self.db()
            .booking_by_code(tenant, &hash)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    async fn cancel(&self, tenant: TenantId, b: &Booking, by: &str) -> ServiceResult<Booking> {
        if b.state != BookingState::Prenotato {
            return Err(refused(
                "appuntamento_non_annullabile",
                "L'appuntamento non si può annullare: è già annullato o concluso.",
            ));
        }
        let now = Timestamp::now();
        let mut tx = self.db().begin().await?;
        if !tx
            .set_booking_state(
                tenant,
                b.id,
                BookingState::Prenotato,
                BookingState::Annullato,
                now,
                by,
            )
            .await?
        {
            return Err(refused(
                "appuntamento_non_annullabile",
                "L'appuntamento non si può annullare: è già annullato o concluso.",
            ));
        }
        tx.commit().await?;
        self.db()
            .booking(tenant, b.id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Cancels the booking with public code `code` (its holder, without
    /// signing in).
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] for a wrong code;
    /// `appuntamento_non_annullabile` when it is not `prenotato`.
    pub async fn cancel_booking_by_code(
        &self,
        tenant: TenantId,
        code: &str,
    ) -> ServiceResult<Booking> {
        let b = self.booking_by_code(tenant, code).await?;
        self.cancel(tenant, &b, "codice").await
    }

    /// The bookings the signed-in citizen made, newest slot first.
    ///
    /// # Errors
    /// As [`Actor::require`].
    pub async fn my_bookings(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<Booking>> {
        actor.require(Permission::OwnProfile)?;
        let user = actor.require_user()?;
        Ok(self.db().user_bookings(tenant, user).await?)
    }

    /// Cancels one of the signed-in citizen's bookings.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] for another person's booking;
    /// `appuntamento_non_annullabile`.
    pub async fn cancel_my_booking(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: BookingId,
    ) -> ServiceResult<Booking> {
        actor.require(Permission::OwnProfile)?;
        let user = actor.require_user()?;
        let b = self
            .db()
            .booking(tenant, id)
            .await?
            .filter(|b| b.data.user == Some(user))
            .ok_or(ServiceError::NotFound)?;
        self.cancel(tenant, &b, &who(actor)).await
    }

    /// The offices whose agenda `actor` works, by name: office-scoped staff
    /// their offices, the roles that see every office all that take
    /// bookings.
    ///
    /// # Errors
    /// As [`Actor::require`] ([`Permission::WorkOfficeCases`]).
    pub async fn agenda_offices(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<BookingOffice>> {
        actor.require(Permission::WorkOfficeCases)?;
        Ok(self
            .booking_offices(tenant, None)
            .await?
            .into_iter()
            .filter(|o| actor.principal.can_work_office(o.office.id.0))
            .collect())
    }

    /// The offices whose calendar `actor` may edit (with or without a
    /// calendar), by name: the office's responsabile, the dirigente.
    ///
    /// # Errors
    /// As [`Actor::require`] ([`Permission::DecideCases`]).
    pub async fn calendar_offices(
        &self,
        tenant: TenantId,
        actor: &Actor,
    ) -> ServiceResult<Vec<Office>> {
        actor.require(Permission::DecideCases)?;
        let snap = self.portal(tenant).await?;
        Ok(snap
            .offices
            .iter()
            .filter(|o| may_edit_calendar(actor, o.id))
            .cloned()
            .collect())
    }

    /// One day of the agenda of office `slug` (staff of that office).
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for staff of other offices;
    /// `ufficio_non_prenotabile`.
    pub async fn office_agenda(
        &self,
        tenant: TenantId,
        actor: &Actor,
        slug: &str,
        day: Date,
    ) -> ServiceResult<Agenda> {
        actor.require(Permission::WorkOfficeCases)?;
        let office = self.booking_office(tenant, slug).await?;
        if !actor.principal.can_work_office(office.office.id.0) {
            return Err(ServiceError::Forbidden);
        }
        let (_, comune) = self.comune_calendar(tenant)?;
        let bookings = self
            .db()
            .office_bookings(tenant, office.office.id, day, day)
            .await?;
        Ok(Agenda {
            slots: office.calendar.slots_on(&comune, day),
            office: office.office,
            day,
            bookings,
        })
    }

    /// The office marks a booking: `presentato`, `assente` (from
    /// `prenotato`, or correcting one another) or `annullato` (from
    /// `prenotato`).
    ///
    /// # Errors
    /// [`ServiceError::NotFound`]; [`ServiceError::Forbidden`] for staff of
    /// other offices; `stato_non_valido`.
    pub async fn mark_booking(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: BookingId,
        to: BookingState,
    ) -> ServiceResult<Booking> {
        actor.require(Permission::WorkOfficeCases)?;
        let b = self
            .db()
            .booking(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if !actor.principal.can_work_office(b.data.office.0) {
            return Err(ServiceError::Forbidden);
        }
        let allowed = match (b.state, to) {
            (BookingState::Prenotato, BookingState::Presentato | BookingState::Assente)
            | (BookingState::Presentato, BookingState::Assente)
            | (BookingState::Assente, BookingState::Presentato) => true,
            (BookingState::Prenotato, BookingState::Annullato) => {
                return self.cancel(tenant, &b, &who(actor)).await;
            }
            _ => false,
        };
        if !allowed {
            return Err(refused(
                "stato_non_valido",
                "Questo cambio di stato non è possibile per l'appuntamento.",
            ));
        }
        let mut tx = self.db().begin().await?;
        if !tx
            .set_booking_state(tenant, id, b.state, to, Timestamp::now(), &who(actor))
            .await?
        {
            return Err(refused(
                "stato_non_valido",
                "L'appuntamento è stato modificato nel frattempo: ricarica la pagina.",
            ));
        }
        tx.commit().await?;
        self.db()
            .booking(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// The booking calendar of office `slug`, if it has one (for its
    /// editor).
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] unless `actor` may edit it;
    /// [`ServiceError::NotFound`] for an unknown office.
    pub async fn office_calendar(
        &self,
        tenant: TenantId,
        actor: &Actor,
        slug: &str,
    ) -> ServiceResult<(Office, Option<BookingCalendarRecord>)> {
        actor.require(Permission::DecideCases)?;
        let snap = self.portal(tenant).await?;
        let office = snap
            .office_by_slug(slug)
            .ok_or(ServiceError::NotFound)?
            .clone();
        if !may_edit_calendar(actor, office.id) {
            return Err(ServiceError::Forbidden);
        }
        let record = self.db().booking_calendar(tenant, office.id).await?;
        Ok((office, record))
    }

    /// Sets the booking calendar of office `slug` (its responsabile, the
    /// dirigente; `None` actor = the command
    /// line, run by the operator of the installation). Existing bookings
    /// stay as they are.
    ///
    /// # Errors
    /// The calendar's coded errors; [`ServiceError::Forbidden`];
    /// [`ServiceError::NotFound`] for an unknown office.
    pub async fn set_office_calendar(
        &self,
        tenant: TenantId,
        actor: Option<&Actor>,
        slug: &str,
        spec: &CalendarSpec,
    ) -> ServiceResult<BookingCalendarRecord> {
        let snap = self.portal(tenant).await?;
        let office = snap
            .office_by_slug(slug.trim())
            .ok_or(ServiceError::NotFound)?
            .clone();
        let by = match actor {
            Some(a) => {
                a.require(Permission::DecideCases)?;
                if !may_edit_calendar(a, office.id) {
                    return Err(ServiceError::Forbidden);
                }
                who(a)
            }
            None => "cli".to_owned(),
        };
        let calendar = parse_calendar(spec)?;
        for s in calendar.services() {
            if snap.service(s).is_none() {
                return Err(ServiceError::Invalid {
                    code: "servizio_non_valido",
                    message: format!("Il servizio «{s}» non è nel catalogo del Comune."),
                });
            }
        }
        let record = BookingCalendarRecord {
            office: office.id,
            spec: calendar.to_spec(),
            updated_at: Timestamp::now(),
            updated_by: by,
        };
        let mut tx = self.db().begin().await?;
        tx.set_booking_calendar(tenant, &record).await?;
        tx.commit().await?;
        tracing::info!(office = %office.data.slug, "booking calendar set");
        Ok(record)
    }

    /// Queues the reminder e-mail of every booking, of every comune,
    /// whose [`reminder_moment`] has come at `now` and whose appointment has
    /// not started yet: see [`App::queue_booking_reminders_of`].
    ///
    /// # Errors
    /// Storage failures.
    pub async fn queue_booking_reminders(
        &self,
        now: Timestamp,
    ) -> ServiceResult<Vec<QueuedReminder>> {
        let mut out = Vec::new();
        for t in self.tenants() {
            out.extend(self.queue_booking_reminders_of(t.id, now).await?);
        }
        Ok(out)
    }

    /// Queues the reminder e-mail of each booking of comune `tenant` due at
    /// `now`: `prenotato`, on today's or tomorrow's Rome date, its
    /// [`reminder_moment`] passed, booked before that moment, not started
    /// yet, not reminded yet. Each booking is reminded at most once, also
    /// when several runs overlap (in one process or several): the store's
    /// compare-and-swap on `reminder_sent_at`
    /// ([`StoreTx::mark_booking_reminded`]) and the message are in one
    /// transaction, so the run that loses queues nothing. Returns what was
    /// queued.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn queue_booking_reminders_of(
        &self,
        tenant: TenantId,
        now: Timestamp,
    ) -> ServiceResult<Vec<QueuedReminder>> {
        let t = self.tenant(tenant)?;
        let today = rome_date(now);
        let tomorrow = today
            .tomorrow()
            .map_err(|e| ServiceError::Internal(format!("reminder day: {e}")))?;
        let mut out = Vec::new();
        let mut snap = None;
        for day in [today, tomorrow] {
            let Some(moment) = reminder_moment(day) else {
                continue;
            };
            if now < moment {
                continue;
            }
            for b in self.db().bookings_to_remind(tenant, day).await? {
                if b.data.created_at >= moment || b.data.slot_start <= now {
                    continue;
                }
                let snap = match &snap {
                    Some(s) => std::sync::Arc::clone(s),
                    None => {
                        let s = self.portal(tenant).await?;
                        snap = Some(std::sync::Arc::clone(&s));
                        s
                    }
                };
                let Some(office) = snap.office(b.data.office) else {
                    tracing::warn!(booking = b.id.0, "reminder: the office no longer exists");
                    continue;
                };
                let mail = NewMail {
                    recipient: b.data.email.clone(),
                    subject: format!(
                        "Promemoria: appuntamento del {} – {}",
                        b.data
                            .slot_start
                            .to_zoned(palazzo_domain::calendar::rome_time_zone())
                            .strftime("%d/%m/%Y"),
                        office.data.name
                    ),
                    text_body: reminder_text(&t, office, &b),
                    html_body: None,
                    reply_to: None,
                    related: Some(MailRelated {
                        kind: "appuntamento".into(),
                        id: b.id.0,
                    }),
                };
                let mut tx = self.db().begin().await?;
                if !tx.mark_booking_reminded(tenant, b.id, now).await? {
                    // Another run reminded it, or it was cancelled meanwhile.
                    continue;
                }
                let id = self.queue_mail(&mut tx, tenant, &mail).await?;
                tx.commit().await?;
                out.push(QueuedReminder {
                    tenant,
                    booking: b.id,
                    office: office.data.name.clone(),
                    slot_start: b.data.slot_start,
                    recipient: b.data.email.clone(),
                    mail: id,
                });
            }
        }
        if !out.is_empty() {
            self.wake_mail_worker();
            tracing::info!(tenant = %t.data.slug, queued = out.len(), "appointment reminders queued");
        }
        Ok(out)
    }

    /// Runs until `shutdown` resolves: queues the due reminders every
    /// [`REMINDER_POLL`] (and once at start), like the procedure clock.
    pub async fn run_booking_reminders(&self, shutdown: impl std::future::Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut tick = tokio::time::interval(REMINDER_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = tick.tick() => {}
            }
            if let Err(e) = self.queue_booking_reminders(Timestamp::now()).await {
                tracing::warn!(error = %e, "appointment reminders: will retry");
            }
        }
    }
}

/// May `actor` edit the booking calendar of `office`?
fn may_edit_calendar(actor: &Actor, office: OfficeId) -> bool {
    actor.principal.can(Permission::DecideCases) && actor.principal.can_manage_office(office.0)
}
