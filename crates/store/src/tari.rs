//! TARI (issue 7, migration 0034): the utenze — who occupies which
//! premises, from when, as a home or a business — and the tariffs each
//! comune approves for a year with their delibera, TEFA, due dates and
//! reductions (`taxes-pagopa.md` §2.2).
//!
//! The tariffs are a decision of the council (L. 147/2013 c.683): each
//! change is a ledger event with an explicit state ([`TariffeTariRecord`]'s
//! [`Recorded`] impl), checked by `palazzo verify`. The utenze are copies of
//! the comune's register of occupations, loaded in bulk like the cadastre.
//!
//! Also the payments received (F24 lines of the flows, [`VersamentoF24`]),
//! of every local tax: copies of the Agenzia delle Entrate's flows, loaded
//! in bulk, unique by the flow's reference.

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::cbor::Value;
use palazzo_domain::tributi::tari::{TariffeTari, Utenza};
use serde::{Deserialize, Serialize};

use crate::{CodiceFiscale, Recorded, TenantId};

/// Identifies a stored utenza within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UtenzaTariId(pub i64);

/// One occupation of premises by a taxpayer, for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUtenzaTari {
    /// The utenza's code in the comune (the premises).
    pub codice: String,
    /// Who pays, as given: an omocodic code is another person.
    pub codice_fiscale: CodiceFiscale,
    /// Where.
    pub indirizzo: String,
    /// The cadastral data as printed on the bill; may be empty.
    pub catasto: String,
    /// Home or business, with surfaces.
    pub utenza: Utenza,
    /// First day.
    pub dal: Date,
    /// Last day, if it ended.
    pub al: Option<Date>,
    /// The codes of the regolamento's reductions it has.
    pub riduzioni: Vec<String>,
}

/// A stored utenza.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UtenzaTari {
    /// Identifier.
    pub id: UtenzaTariId,
    /// Owner.
    pub tenant: TenantId,
    /// Fields.
    #[serde(flatten)]
    pub data: NewUtenzaTari,
}

/// The TARI tariffs of a comune for a year, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffeTariRecord {
    /// The tariffs; `tariffe.anno` is the year.
    pub tariffe: TariffeTari,
    /// Last change.
    pub updated_at: Timestamp,
    /// Who changed them last.
    pub updated_by: String,
}

impl TariffeTariRecord {
    /// The ledger subject of the tariffs of `anno`.
    pub fn subject_of(anno: i16) -> String {
        format!("tariffe-tari:{anno}")
    }
}

impl Recorded for TariffeTariRecord {
    fn subject(&self) -> String {
        Self::subject_of(self.tariffe.anno)
    }

    /// What the delibera decided: every tariff in ten-thousandths of a
    /// euro, TEFA in hundredths of a percent, due dates, reductions.
    fn state(&self) -> Value {
        let t = &self.tariffe;
        let text = |s: &str| Value::Text(s.to_owned());
        let n = |v: u64| Value::Unsigned(v);
        Value::Map(vec![
            (text("anno"), Value::int(i64::from(t.anno))),
            (text("delibera"), text(&t.delibera)),
            (
                text("domestiche"),
                Value::Array(
                    t.domestiche
                        .iter()
                        .map(|(f, v)| Value::Array(vec![n(f.0), n(v.0)]))
                        .collect(),
                ),
            ),
            (
                text("non_domestiche"),
                Value::Array(
                    t.non_domestiche
                        .iter()
                        .map(|(c, label, f, v)| {
                            Value::Array(vec![n(u64::from(*c)), text(label), n(f.0), n(v.0)])
                        })
                        .collect(),
                ),
            ),
            (text("tefa"), n(u64::from(t.tefa))),
            (
                text("scadenze"),
                Value::Array(t.scadenze.iter().map(|d| text(&d.to_string())).collect()),
            ),
            (
                text("riduzioni"),
                Value::Array(
                    t.riduzioni
                        .iter()
                        .map(|r| {
                            Value::Array(vec![
                                text(&r.codice),
                                text(&r.riduzione.descrizione),
                                n(u64::from(r.riduzione.fissa)),
                                n(u64::from(r.riduzione.variabile)),
                            ])
                        })
                        .collect(),
                ),
            ),
        ])
    }
}

/// A payment received: one F24 line of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersamentoF24 {
    /// Unique in the comune: the flow's identifier of the line.
    pub riferimento: String,
    /// Who paid (as given).
    pub codice_fiscale: CodiceFiscale,
    /// The tax year.
    pub anno: i16,
    /// The F24 codice tributo (`3918`, `3944`, `TEFA`…).
    pub codice_tributo: String,
    /// When.
    pub data: Date,
    /// How much.
    pub importo: palazzo_domain::money::Cents,
    /// "Ravv." ticked.
    pub ravvedimento: bool,
}

/// Calls `$cb!` with the TARI reads of [`crate::Store`].
#[macro_export]
macro_rules! tari_reads {
    ($cb:ident) => {
        $cb! {
            /// The utenze of a taxpayer (the code exactly), by code then
            /// first day.
            fn utenze_tari_of(&self, tenant: TenantId, cf: &CodiceFiscale) -> Vec<UtenzaTari>;
            /// Up to `limit` taxpayers, by codice fiscale above `after`,
            /// with a utenza in `anno` (begun by its end, not ended before
            /// its start).
            fn contribuenti_tari(&self, tenant: TenantId, anno: i16, after: &str, limit: u32) -> Vec<CodiceFiscale>;
            /// The TARI tariffs of a year, if the comune entered them.
            fn tariffe_tari(&self, tenant: TenantId, anno: i16) -> Option<TariffeTariRecord>;
            /// The TARI tariffs of every year the comune entered, newest
            /// first.
            fn tariffe_tari_all(&self, tenant: TenantId) -> Vec<TariffeTariRecord>;
            /// The payments of a taxpayer for a tax year (the code
            /// exactly), by date.
            fn versamenti_of(&self, tenant: TenantId, cf: &CodiceFiscale, anno: i16) -> Vec<VersamentoF24>;
            /// The payments of a taxpayer for the tax years `from` to `to`
            /// (the code exactly), by year then date.
            fn versamenti_anni(&self, tenant: TenantId, cf: &CodiceFiscale, from: i16, to: i16) -> Vec<VersamentoF24>;
        }
    };
}

/// Calls `$cb!` with the TARI writes of [`crate::StoreTx`].
#[macro_export]
macro_rules! tari_writes {
    ($cb:ident) => {
        $cb! {
            /// Inserts a utenza, or replaces the one with the same code,
            /// taxpayer and first day.
            fn upsert_utenza_tari(&mut self, tenant: TenantId, u: &NewUtenzaTari) -> UtenzaTari;
            /// Sets (inserts or replaces) the TARI tariffs of a year.
            fn set_tariffe_tari(&mut self, tenant: TenantId, r: &TariffeTariRecord) -> ();
            /// Stores a payment; `false` (nothing written) when its
            /// reference is already stored.
            fn insert_versamento(&mut self, tenant: TenantId, v: &VersamentoF24) -> bool;
        }
    };
}
