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
//! The rates are a decision of the comune (a delibera): each change is a
//! ledger event with an explicit state ([`AliquoteImuRecord`]'s
//! [`Recorded`] impl, not the JSON of the domain type, which would change
//! with its fields), checked by `palazzo verify`. Units and titolarità are
//! copies of the cadastre's data, loaded in bulk like the anagrafe.

use jiff::Timestamp;
use palazzo_domain::cbor::Value;
use palazzo_domain::tributi::imu::{Aliquote, Oggetto, Periodo, Possesso};
use serde::{Deserialize, Serialize};

use crate::{CodiceFiscale, Recorded, TenantId};

pub use palazzo_domain::pagopa::CodiceAvviso;

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
    /// The taxpayer, as given: an omocodic code is another person than the
    /// code it was derived from, so codes are matched exactly.
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

impl AliquoteImuRecord {
    /// The ledger subject of the rates of `anno`.
    pub fn subject_of(anno: i16) -> String {
        format!("aliquote-imu:{anno}")
    }
}

impl Recorded for AliquoteImuRecord {
    fn subject(&self) -> String {
        Self::subject_of(self.aliquote.anno)
    }

    /// Every rate as hundredths of per mille, amounts in cents: what the
    /// delibera decided (who entered it and when are in the event).
    fn state(&self) -> Value {
        let a = &self.aliquote;
        let text = |s: &str| Value::Text(s.to_owned());
        let rate = |r: palazzo_domain::tributi::Aliquota| Value::Unsigned(u64::from(r.0));
        Value::Map(vec![
            (text("anno"), Value::int(i64::from(a.anno))),
            (text("delibera"), text(&a.delibera)),
            (text("abitazione_principale"), rate(a.abitazione_principale)),
            (text("detrazione"), Value::int(a.detrazione.cents())),
            (text("rurali_strumentali"), rate(a.rurali_strumentali)),
            (text("beni_merce"), rate(a.beni_merce)),
            (text("terreni"), rate(a.terreni)),
            (text("gruppo_d"), rate(a.gruppo_d)),
            (text("altri_fabbricati"), rate(a.altri_fabbricati)),
            (text("aree_fabbricabili"), rate(a.aree_fabbricabili)),
            (
                text("maggiorazione_ex_tasi"),
                Value::Bool(a.maggiorazione_ex_tasi),
            ),
            (
                text("versamento_minimo"),
                Value::int(a.versamento_minimo.cents()),
            ),
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
            /// The titolarità of a taxpayer (the code exactly: an omocodic
            /// code is another person), by unit then first day.
            fn titolarita_of(&self, tenant: TenantId, cf: &CodiceFiscale) -> Vec<Titolarita>;
            /// The IMU rates of a year, if the comune entered them.
            fn aliquote_imu(&self, tenant: TenantId, anno: i16) -> Option<AliquoteImuRecord>;
            /// The IMU rates of every year the comune entered, newest first.
            fn aliquote_imu_all(&self, tenant: TenantId) -> Vec<AliquoteImuRecord>;
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

/// The comune's pagoPA data (migration 0033).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagopaEnte {
    /// The segregation code, 0–99: the two digits after the aux digit 3
    /// of every codice avviso of the comune.
    pub segregazione: u16,
    /// The CBILL code (5 characters) for home banking.
    pub cbill: String,
    /// The IBAN the payments are credited to (registered on pagoPA).
    pub iban: String,
    /// The postal current account, when the comune has one.
    pub conto_postale: Option<String>,
    /// Its holder as printed on the bollettino.
    pub intestatario: Option<String>,
    /// The province that receives the TEFA, a second beneficiary of the
    /// TARI notices (migration 0034; Decreto MEF 21/10/2020).
    #[serde(default)]
    pub tefa: Option<BeneficiarioTefa>,
}

/// The province receiving the TEFA (D.Lgs. 504/1992 art. 19).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeneficiarioTefa {
    /// Its codice fiscale (11 digits): `organizationFiscalCode` of the
    /// second transfer on GPD.
    pub codice_fiscale: String,
    /// The IBAN the TEFA is credited to.
    pub iban: String,
    /// Its name, e.g. `Città metropolitana di Bari`.
    pub nome: String,
}

/// Identifies a pagoPA notice within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AvvisoId(pub i64);

/// Where a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatoAvviso {
    /// Issued: payable.
    Emesso,
    /// Paid (a receipt recorded).
    Pagato,
    /// Replaced by another (the amount changed) or withdrawn.
    Annullato,
}

impl StatoAvviso {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            StatoAvviso::Emesso => "emesso",
            StatoAvviso::Pagato => "pagato",
            StatoAvviso::Annullato => "annullato",
        }
    }

    /// From the stored code.
    pub fn from_code(s: &str) -> Option<StatoAvviso> {
        match s {
            "emesso" => Some(StatoAvviso::Emesso),
            "pagato" => Some(StatoAvviso::Pagato),
            "annullato" => Some(StatoAvviso::Annullato),
            _ => None,
        }
    }
}

/// A notice to store; its IUV is taken from the comune's counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAvviso {
    /// The taxpayer.
    pub codice_fiscale: CodiceFiscale,
    /// `IMU`, `TARI`…
    pub tributo: String,
    /// The tax year.
    pub anno: i16,
    /// `acconto`, `saldo`, `unica`, `rata-1`…
    pub versamento: String,
    /// The amount, cents.
    pub importo: palazzo_domain::money::Cents,
    /// The part of `importo` that goes to the province as TEFA (TARI
    /// notices; zero for the other taxes).
    #[serde(default)]
    pub tefa: palazzo_domain::money::Cents,
    /// The due date.
    pub scadenza: jiff::civil::Date,
    /// Who issued it.
    pub created_by: String,
}

/// A stored notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Avviso {
    /// Identifier.
    pub id: AvvisoId,
    /// Owner.
    pub tenant: TenantId,
    /// The 13-digit IUV number it was given (unique per comune forever).
    pub iuv_base: u64,
    /// Its codice avviso (18 digits).
    pub codice_avviso: CodiceAvviso,
    /// What it is for.
    #[serde(flatten)]
    pub data: NewAvviso,
    /// Where it is.
    pub stato: StatoAvviso,
    /// Its debt position on GPD, when published there.
    pub iupd: Option<String>,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it was paid.
    pub pagato_il: Option<Timestamp>,
    /// The payment's receipt id.
    pub ricevuta: Option<String>,
}

impl Recorded for Avviso {
    fn subject(&self) -> String {
        format!("avviso:{}", self.codice_avviso)
    }

    /// What the notice asks and whether it was paid: the codice, the
    /// taxpayer, tax, year, payment, amount, due date, state and receipt,
    /// and the TEFA share when there is one.
    fn state(&self) -> Value {
        let text = |s: &str| Value::Text(s.to_owned());
        let d = &self.data;
        let mut fields = vec![
            (text("codice_avviso"), text(&self.codice_avviso.to_string())),
            (text("codice_fiscale"), text(d.codice_fiscale.as_str())),
            (text("tributo"), text(&d.tributo)),
            (text("anno"), Value::int(i64::from(d.anno))),
            (text("versamento"), text(&d.versamento)),
            (text("importo"), Value::int(d.importo.cents())),
            (text("scadenza"), text(&d.scadenza.to_string())),
            (text("stato"), text(self.stato.code())),
            (
                text("pagato_il"),
                self.pagato_il.map_or(Value::Null, |t| text(&t.to_string())),
            ),
            (
                text("ricevuta"),
                self.ricevuta.as_deref().map_or(Value::Null, text),
            ),
        ];
        // Only when there is one: the notices recorded before migration
        // 0034 had none and keep their recorded state.
        if d.tefa != palazzo_domain::money::Cents::ZERO {
            fields.push((text("tefa"), Value::int(d.tefa.cents())));
        }
        Value::Map(fields)
    }
}

/// Calls `$cb!` with the pagoPA notice reads of [`crate::Store`].
#[macro_export]
macro_rules! avvisi_reads {
    ($cb:ident) => {
        $cb! {
            /// The comune's pagoPA data, if entered.
            fn pagopa_ente(&self, tenant: TenantId) -> Option<PagopaEnte>;
            /// The notices of a taxpayer, oldest first.
            fn avvisi_of(&self, tenant: TenantId, cf: &CodiceFiscale) -> Vec<Avviso>;
            /// A notice by its codice avviso.
            fn avviso_by_codice(&self, tenant: TenantId, codice: &str) -> Option<Avviso>;
            /// Up to `limit` notices with an id above `after`, by id.
            fn avvisi_page(&self, tenant: TenantId, after: AvvisoId, limit: u32) -> Vec<Avviso>;
        }
    };
}

/// Calls `$cb!` with the pagoPA notice writes of [`crate::StoreTx`].
#[macro_export]
macro_rules! avvisi_writes {
    ($cb:ident) => {
        $cb! {
            /// Sets the comune's pagoPA data.
            fn set_pagopa_ente(&mut self, tenant: TenantId, e: &PagopaEnte) -> ();
            /// Takes the comune's next IUV number (0 the first) and moves the counter on.
            fn next_iuv(&mut self, tenant: TenantId) -> u64;
            /// Stores a notice with the IUV number and codice it was given.
            fn insert_avviso(&mut self, tenant: TenantId, iuv_base: u64, codice: &CodiceAvviso, a: &NewAvviso, at: Timestamp) -> Avviso;
            /// Changes a notice's state and payment, only if it is still in
            /// state `from`: false (nothing written) otherwise.
            fn update_avviso(&mut self, tenant: TenantId, a: &Avviso, from: StatoAvviso) -> bool;
            /// Records the notice's debt position on GPD.
            fn set_avviso_iupd(&mut self, tenant: TenantId, id: AvvisoId, iupd: &str) -> ();
        }
    };
}
