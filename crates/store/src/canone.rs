//! Canone unico patrimoniale (issue 7, migration 0035): the occupations of
//! public land — who, where, for what, in which zone, on how many square
//! metres, permanently or for a time — and the coefficients each comune
//! approves for a year with their delibera and due dates
//! (`taxes-pagopa.md` §3, L. 160/2019 cc.816-836).
//!
//! The coefficients are a decision of the comune (c.821): each change is a
//! ledger event with an explicit state ([`TariffeCanoneRecord`]'s
//! [`Recorded`] impl), checked by `palazzo verify`. The occupations are
//! copies of the comune's register of concessions, loaded in bulk like the
//! TARI utenze.

use jiff::Timestamp;
use palazzo_domain::cbor::Value;
use palazzo_domain::tributi::canone::TariffeCanone;
use serde::{Deserialize, Serialize};

use crate::{Recorded, TenantId};

/// Identifies a stored occupation within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OccupazioneCanoneId(pub i64);

/// An occupation of public land by a taxpayer, for a period (the
/// domain's, as the occupations file gives it).
pub type NewOccupazioneCanone = palazzo_domain::tributi::occupazioni::DatiOccupazione;

/// A stored occupation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OccupazioneCanone {
    /// Identifier.
    pub id: OccupazioneCanoneId,
    /// Owner.
    pub tenant: TenantId,
    /// Fields.
    #[serde(flatten)]
    pub data: NewOccupazioneCanone,
}

/// The canone unico coefficients of a comune for a year, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffeCanoneRecord {
    /// The coefficients; `tariffe.anno` is the year.
    pub tariffe: TariffeCanone,
    /// Last change.
    pub updated_at: Timestamp,
    /// Who changed them last.
    pub updated_by: String,
}

impl TariffeCanoneRecord {
    /// The ledger subject of the coefficients of `anno`.
    pub fn subject_of(anno: i16) -> String {
        format!("tariffe-canone:{anno}")
    }
}

impl Recorded for TariffeCanoneRecord {
    fn subject(&self) -> String {
        Self::subject_of(self.tariffe.anno)
    }

    /// What the delibera decided: zones and categories with their
    /// coefficients in thousandths, due dates.
    fn state(&self) -> Value {
        let t = &self.tariffe;
        let text = |s: &str| Value::Text(s.to_owned());
        let n = |v: u32| Value::Unsigned(u64::from(v));
        Value::Map(vec![
            (text("anno"), Value::int(i64::from(t.anno))),
            (text("delibera"), text(&t.delibera)),
            (
                text("zone"),
                Value::Array(
                    t.zone
                        .iter()
                        .map(|z| {
                            Value::Array(vec![
                                text(&z.codice),
                                text(&z.descrizione),
                                n(z.coefficiente.0),
                            ])
                        })
                        .collect(),
                ),
            ),
            (
                text("categorie"),
                Value::Array(
                    t.categorie
                        .iter()
                        .map(|c| {
                            Value::Array(vec![
                                text(&c.codice),
                                text(&c.descrizione),
                                n(c.permanente.0),
                                n(c.temporanea.0),
                            ])
                        })
                        .collect(),
                ),
            ),
            (
                text("scadenze"),
                Value::Array(t.scadenze.iter().map(|d| text(&d.to_string())).collect()),
            ),
        ])
    }
}

/// Calls `$cb!` with the canone unico reads of [`crate::Store`].
#[macro_export]
macro_rules! canone_reads {
    ($cb:ident) => {
        $cb! {
            /// The occupations of a taxpayer (the code exactly), by code
            /// then first day.
            fn occupazioni_of(&self, tenant: TenantId, cf: &CodiceFiscale) -> Vec<OccupazioneCanone>;
            /// Up to `limit` taxpayers, by codice fiscale above `after`,
            /// with a permanent occupation in `anno` (begun by its end, not
            /// ended before its start): who the year's bills go to.
            fn contribuenti_canone(&self, tenant: TenantId, anno: i16, after: &str, limit: u32) -> Vec<CodiceFiscale>;
            /// The canone coefficients of a year, if the comune entered
            /// them.
            fn tariffe_canone(&self, tenant: TenantId, anno: i16) -> Option<TariffeCanoneRecord>;
            /// The canone coefficients of every year the comune entered,
            /// newest first.
            fn tariffe_canone_all(&self, tenant: TenantId) -> Vec<TariffeCanoneRecord>;
        }
    };
}

/// Calls `$cb!` with the canone unico writes of [`crate::StoreTx`].
#[macro_export]
macro_rules! canone_writes {
    ($cb:ident) => {
        $cb! {
            /// Inserts an occupation, or replaces the one with the same
            /// code, taxpayer and first day.
            fn upsert_occupazione(&mut self, tenant: TenantId, o: &NewOccupazioneCanone) -> OccupazioneCanone;
            /// Sets (inserts or replaces) the canone coefficients of a
            /// year.
            fn set_tariffe_canone(&mut self, tenant: TenantId, r: &TariffeCanoneRecord) -> ();
        }
    };
}
