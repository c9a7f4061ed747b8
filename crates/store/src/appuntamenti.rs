//! Appointment booking (issue 6, part 7; migration 0027): the booking
//! calendar of each office and the bookings.
//!
//! No double booking: the database holds a unique index over the active
//! bookings (tenant, office, slot start, seat) — every state but
//! `annullato` — so two concurrent bookings of the same seat cannot both be
//! stored; [`StoreTx`](crate::StoreTx)`::insert_booking` answers `None`
//! for a seat already taken instead of failing the transaction.

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::appuntamenti::CalendarSpec;
use serde::{Deserialize, Serialize};

use crate::{OfficeId, TenantId, UserId};

/// Identifies a booking within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BookingId(pub i64);

/// The booking calendar of an office, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingCalendarRecord {
    /// The office.
    pub office: OfficeId,
    /// The calendar (canonical form, checked by the services).
    pub spec: CalendarSpec,
    /// Last change.
    pub updated_at: Timestamp,
    /// Who changed it last (`user:<id>`, `admin:<id>` or `cli`).
    pub updated_by: String,
}

/// The state of a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BookingState {
    /// Booked, to come.
    Prenotato,
    /// Cancelled (by the citizen or the office): the seat is free again.
    Annullato,
    /// The citizen came.
    Presentato,
    /// The citizen did not come.
    Assente,
}

impl BookingState {
    /// Every state.
    pub const ALL: [BookingState; 4] = [
        BookingState::Prenotato,
        BookingState::Annullato,
        BookingState::Presentato,
        BookingState::Assente,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            BookingState::Prenotato => "prenotato",
            BookingState::Annullato => "annullato",
            BookingState::Presentato => "presentato",
            BookingState::Assente => "assente",
        }
    }

    /// The state of a stored code.
    pub fn from_code(code: &str) -> Option<BookingState> {
        BookingState::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The Italian label.
    pub fn label_it(self) -> &'static str {
        match self {
            BookingState::Prenotato => "Prenotato",
            BookingState::Annullato => "Annullato",
            BookingState::Presentato => "Presentato",
            BookingState::Assente => "Assente",
        }
    }
}

/// A new booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBooking {
    /// The office.
    pub office: OfficeId,
    /// Slot start (UTC).
    pub slot_start: Timestamp,
    /// Slot end (UTC).
    pub slot_end: Timestamp,
    /// The slot's civil date in Rome (the agenda's day).
    pub slot_date: Date,
    /// Seat (counter) number, from 1.
    pub seat: i64,
    /// The service the citizen came from, if any.
    pub service: Option<String>,
    /// Topic.
    pub topic: String,
    /// Reason (at most 500 characters).
    pub reason: String,
    /// Given name.
    pub name: String,
    /// Surname.
    pub surname: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
    /// The signed-in citizen who booked, if any.
    pub user: Option<UserId>,
    /// SHA-256 of the public code.
    pub code_sha256: [u8; 32],
    /// When it was booked.
    pub created_at: Timestamp,
    /// The public code itself, kept only for the reminder e-mail: from the
    /// booking until the reminder is queued or the booking leaves
    /// `prenotato` (then `None`); `None` from the start for a booking that
    /// gets no reminder (migration 0031).
    pub reminder_code: Option<String>,
}

/// A booking as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// Id within the tenant.
    pub id: BookingId,
    /// The comune.
    pub tenant: TenantId,
    /// What was booked.
    pub data: NewBooking,
    /// Current state.
    pub state: BookingState,
    /// When it left `prenotato` (cancelled or marked), if it did.
    pub changed_at: Option<Timestamp>,
    /// Who changed the state (`codice`, `user:<id>`, `admin:<id>`).
    pub changed_by: Option<String>,
    /// When the reminder e-mail was queued, if it was.
    pub reminder_sent_at: Option<Timestamp>,
}

/// Calls `$cb!` with the booking reads of [`crate::Store`].
#[macro_export]
macro_rules! booking_reads {
    ($cb:ident) => {
        $cb! {
            /// The booking calendar of an office, if it has one.
            fn booking_calendar(&self, tenant: TenantId, office: OfficeId) -> Option<BookingCalendarRecord>;
            /// Every booking calendar of a tenant, by office id.
            fn booking_calendars(&self, tenant: TenantId) -> Vec<BookingCalendarRecord>;
            /// A booking by id.
            fn booking(&self, tenant: TenantId, id: BookingId) -> Option<Booking>;
            /// A booking by the SHA-256 of its public code.
            fn booking_by_code(&self, tenant: TenantId, code_sha256: &[u8]) -> Option<Booking>;
            /// The bookings of an office on the Rome civil dates `from..=to`,
            /// every state, by slot start then seat.
            fn office_bookings(&self, tenant: TenantId, office: OfficeId, from: CivilDate, to: CivilDate) -> Vec<Booking>;
            /// The bookings made by a signed-in citizen, newest slot first.
            fn user_bookings(&self, tenant: TenantId, user: UserId) -> Vec<Booking>;
            /// The `prenotato` bookings on Rome civil date `day` whose
            /// reminder was not sent yet, by id.
            fn bookings_to_remind(&self, tenant: TenantId, day: CivilDate) -> Vec<Booking>;
        }
    };
}

/// Calls `$cb!` with the booking writes of [`crate::StoreTx`].
#[macro_export]
macro_rules! booking_writes {
    ($cb:ident) => {
        $cb! {
            /// Sets (inserts or replaces) the booking calendar of an office.
            fn set_booking_calendar(&mut self, tenant: TenantId, c: &BookingCalendarRecord) -> ();
            /// Stores a booking of a seat; `None` (nothing written) when an
            /// active booking already holds that seat of that slot — also
            /// one committed concurrently (the unique index decides).
            fn insert_booking(&mut self, tenant: TenantId, b: &NewBooking) -> Option<Booking>;
            /// Moves a booking from state `from` to `to`, recording when and
            /// who, and forgets its [`NewBooking::reminder_code`]; false when
            /// it is not in `from` (or missing).
            fn set_booking_state(&mut self, tenant: TenantId, id: BookingId, from: BookingState, to: BookingState, at: Timestamp, by: &str) -> bool;
            /// Records that the reminder was queued and forgets the
            /// [`NewBooking::reminder_code`]; false when it already was, or
            /// the booking is no longer `prenotato` (or missing). Two
            /// concurrent calls: exactly one gets true.
            fn mark_booking_reminded(&mut self, tenant: TenantId, id: BookingId, at: Timestamp) -> bool;
        }
    };
}
