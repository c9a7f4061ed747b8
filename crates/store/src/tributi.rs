//! Local taxes (issue 7, migration 0032): the tax objects of the IMU — the
//! cadastral units (unità immobiliari, with their rendite over time), who
//! holds them and with which share and situations (titolarità) — and the
//! rates each comune sets for a year with their delibera.
//!
//! The domain's own types are stored as JSON (`Oggetto`, `Possesso`,
//! `Periodo`, `Aliquote`): the calculators read exactly what was written,
//! and the columns beside them (the cadastral coordinates, the codice
//! fiscale, the year) are what the office searches by.
//!
//! No ledger state is defined here yet: the use cases that will write these
//! records (import, the tributi office, the rates page) define an explicit
//! state per record — not the JSON of the domain types, which would change
//! with their fields — and add the subjects to `palazzo verify`.

use jiff::Timestamp;
use palazzo_domain::tributi::imu::{Aliquote, Oggetto, Periodo, Possesso};
use serde::{Deserialize, Serialize};

use crate::{CodiceFiscale, TenantId};

/// Identifies a cadastral unit within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnitaId(pub i64);

/// A cadastral unit (or a piece of land), as loaded from the cadastre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUnita {
    /// A stable code, unique per comune: the cadastre's identifier of the
    /// unit (e.g. `F12-P345-S6`); imports match on it.
    pub codice: String,
    /// Foglio.
    pub foglio: String,
    /// Particella (mappale).
    pub particella: String,
    /// Subalterno (empty for land).
    pub subalterno: String,
    /// Where it is, as the citizen recognises it.
    pub indirizzo: String,
    /// What is taxed: the category with its rendite, or the land's values.
    pub oggetto: Oggetto,
}

/// A stored cadastral unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unita {
    /// Identifier.
    pub id: UnitaId,
    /// Owner.
    pub tenant: TenantId,
    /// Fields.
    #[serde(flatten)]
    pub data: NewUnita,
}

impl Unita {
    /// "Foglio 12 particella 345 sub 6, via Roma 1".
    pub fn descrizione(&self) -> String {
        let d = &self.data;
        let mut s = format!("Foglio {} particella {}", d.foglio, d.particella);
        if !d.subalterno.is_empty() {
            s.push_str(&format!(" sub {}", d.subalterno));
        }
        if !d.indirizzo.is_empty() {
            s.push_str(&format!(", {}", d.indirizzo));
        }
        s
    }
}

/// Identifies a titolarità within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TitolaritaId(pub i64);

/// One taxpayer's right over a unit for a period, with its share, and the
/// situations of the unit for that taxpayer (abitazione principale,
/// pertinenza, inagibile…) over time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTitolarita {
    /// The unit.
    pub unita: UnitaId,
    /// The taxpayer (stored in its canonical, non-omocodic form).
    pub codice_fiscale: CodiceFiscale,
    /// From, to (both included) and share.
    pub possesso: Possesso,
    /// The situations, each for a period.
    pub periodi: Vec<Periodo>,
}

/// A stored titolarità.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Titolarita {
    /// Identifier.
    pub id: TitolaritaId,
    /// Owner.
    pub tenant: TenantId,
    /// Fields.
    #[serde(flatten)]
    pub data: NewTitolarita,
}

/// The IMU rates of a comune for a year (with their delibera), as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliquoteImuRecord {
    /// The rates; `aliquote.anno` is the year.
    pub aliquote: Aliquote,
    /// Last change.
    pub updated_at: Timestamp,
    /// Who changed them last (`user:<id>`, `admin:<id>` or `cli`).
    pub updated_by: String,
}

/// Calls `$cb!` with the local-tax reads of [`crate::Store`].
#[macro_export]
macro_rules! tributi_reads {
    ($cb:ident) => {
        $cb! {
            /// A cadastral unit by id.
            fn tributi_unita(&self, tenant: TenantId, id: UnitaId) -> Option<Unita>;
            /// A cadastral unit by its code.
            fn tributi_unita_by_codice(&self, tenant: TenantId, codice: &str) -> Option<Unita>;
            /// The titolarità of a taxpayer (any form of the codice fiscale),
            /// by unit then first day.
            fn titolarita_of(&self, tenant: TenantId, cf: &CodiceFiscale) -> Vec<Titolarita>;
            /// The IMU rates of a year, if the comune entered them.
            fn aliquote_imu(&self, tenant: TenantId, anno: i16) -> Option<AliquoteImuRecord>;
        }
    };
}

/// Calls `$cb!` with the local-tax writes of [`crate::StoreTx`].
#[macro_export]
macro_rules! tributi_writes {
    ($cb:ident) => {
        $cb! {
            /// Inserts a unit, or replaces the unit with the same code.
            fn upsert_tributi_unita(&mut self, tenant: TenantId, u: &NewUnita) -> Unita;
            /// Inserts a titolarità, or replaces the one of the same unit,
            /// taxpayer and first day (the same id); `None` when the unit is
            /// not the tenant's.
            fn upsert_titolarita(&mut self, tenant: TenantId, t: &NewTitolarita) -> Option<Titolarita>;
            /// Sets (inserts or replaces) the IMU rates of a year.
            fn set_aliquote_imu(&mut self, tenant: TenantId, r: &AliquoteImuRecord) -> ();
        }
    };
}
