//! Local taxes (issue 7, migration 0032): the tax objects of the IMU — the
//! cadastral units (unità immobiliari, with their rendite over time), who
//! holds them and with which share and situations (titolarità) — and the
//! rates each comune sets for a year with their delibera.
//!
//! The domain's own types are stored as JSON (`Oggetto`, `Possesso`,
//! `Periodo`, `Aliquote`): the calculators read exactly what was written,
//! and the columns beside them (the cadastral coordinates, the codice
//! fiscale, the year) are what the office searches by.

use jiff::Timestamp;
use palazzo_domain::cbor::Value;
use palazzo_domain::tributi::imu::{Aliquote, Oggetto, Periodo, Possesso};
use serde::{Deserialize, Serialize};

use crate::model::{Recorded, map, text};
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
    /// The taxpayer.
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

fn json(v: &impl Serialize) -> Value {
    // The domain types serialise infallibly (no maps with non-string keys).
    text(&serde_json::to_string(v).unwrap_or_default())
}

impl Recorded for Unita {
    fn subject(&self) -> String {
        format!("tributi_unita:{}", self.id.0)
    }
    fn state(&self) -> Value {
        let d = &self.data;
        map(vec![
            ("codice", text(&d.codice)),
            ("foglio", text(&d.foglio)),
            ("particella", text(&d.particella)),
            ("subalterno", text(&d.subalterno)),
            ("indirizzo", text(&d.indirizzo)),
            ("oggetto", json(&d.oggetto)),
        ])
    }
}

impl Recorded for Titolarita {
    fn subject(&self) -> String {
        format!("tributi_titolarita:{}", self.id.0)
    }
    fn state(&self) -> Value {
        let d = &self.data;
        map(vec![
            ("unita", Value::int(d.unita.0)),
            ("codice_fiscale", text(d.codice_fiscale.as_str())),
            ("possesso", json(&d.possesso)),
            ("periodi", json(&d.periodi)),
        ])
    }
}

impl Recorded for AliquoteImuRecord {
    fn subject(&self) -> String {
        format!("aliquote_imu:{}", self.aliquote.anno)
    }
    fn state(&self) -> Value {
        map(vec![
            ("aliquote", json(&self.aliquote)),
            ("updated_at", text(&self.updated_at.to_string())),
            ("updated_by", text(&self.updated_by)),
        ])
    }
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
            /// The titolarità of a taxpayer, by unit then start.
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
            /// Inserts a titolarità; `None` when the unit is not the tenant's.
            fn insert_titolarita(&mut self, tenant: TenantId, t: &NewTitolarita) -> Option<Titolarita>;
            /// Sets (inserts or replaces) the IMU rates of a year.
            fn set_aliquote_imu(&mut self, tenant: TenantId, r: &AliquoteImuRecord) -> ();
        }
    };
}
