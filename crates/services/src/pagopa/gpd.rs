//! A typed client of pagoPA GPD, the debt-position archive (DECISIONS 31;
//! `taxes-pagopa.md` §4.5; `docs/pagopa.md`).
//!
//! The contract is `openapi_external_v1.json` of pagopa-debt-position 1.1.37
//! (`shared/schemas/pagopa-gpd/`). The types below mirror its models with
//! the contract's JSON names; amounts are integer cents ([`Cents`]) and
//! date-times are [`Timestamp`]s, always sent in RFC 3339 with the `Z`
//! offset (the contract's `format: date-time`, which the real GPD also
//! accepts).
//!
//! [`GpdClient`] covers what Palazzo needs: create (optionally publishing),
//! get, list (paged), update, publish, invalidate and delete a position,
//! and mark a payment option as already paid (`paymentoptions/paids/{nav}`).
//! Before a create or an update it checks the position locally
//! ([`check_position`]: the transfers add up to the option amount, the due
//! date is not before the validity date, …) so that a wrong position is
//! refused with a precise Italian message before anything is sent.
//!
//! [`LocalTaxPosition`] builds the position of a local tax: one option for
//! the single payment (`isPartialPayment` false) and one per instalment
//! (`isPartialPayment` true), each with one transfer per beneficiary (TARI
//! to the comune, TEFA to the province).
//!
//! The API key goes only in the `Ocp-Apim-Subscription-Key` header, marked
//! sensitive; it is never in an error, a log line or a `Debug` output.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::Coded;
use palazzo_domain::money::Cents;
use palazzo_domain::pagopa::CodiceAvviso;
use serde::{Deserialize, Serialize};

use crate::ServiceError;

/// The contract's API key header (its `ApiKey` security scheme).
pub const API_KEY_HEADER: &str = "Ocp-Apim-Subscription-Key";

/// The largest page of `GET …/debtpositions` (the contract's `maximum` of
/// `limit`).
pub const MAX_PAGE_LIMIT: u32 = 50;

/// Default seconds to wait for GPD.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

// ------------------------------------------------------------- configuration

/// `[gpd]` in `palazzo.toml`: where GPD is and the key of the comune's
/// (or its intermediary's) subscription. Without `base_url` nothing is
/// sent to pagoPA. The key is never printed: see the hand-written `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GpdConfig {
    /// The contract's server, e.g.
    /// `https://api.uat.platform.pagopa.it/gpd/debt-positions-service/v1`.
    pub base_url: Option<String>,
    /// The subscription key (prefer `api_key_file`).
    pub api_key: Option<String>,
    /// A file whose first line is the subscription key.
    pub api_key_file: Option<PathBuf>,
    /// Seconds to wait for an answer, connection included (default 30).
    pub timeout_secs: Option<u64>,
}

/// The API key is never printed.
impl std::fmt::Debug for GpdConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpdConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("api_key_file", &self.api_key_file)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

// ------------------------------------------------------------------ models

/// `type` of a position: the debtor is a person (`F`) or a legal entity
/// (`G`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DebtorType {
    /// Persona fisica.
    F,
    /// Persona giuridica.
    G,
}

/// The status of a debt position (read-only; the contract's enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DebtPositionStatus {
    /// Created, not yet published.
    Draft,
    /// Published, waiting for its validity date.
    Published,
    /// Payable.
    Valid,
    /// Invalidated (a logical cancel).
    Invalid,
    /// Its last due date passed (`switchToExpired`).
    Expired,
    /// Some instalments paid.
    PartiallyPaid,
    /// Paid.
    Paid,
    /// Paid and reported.
    Reported,
}

impl DebtPositionStatus {
    /// The contract's spelling, e.g. `PARTIALLY_PAID`.
    pub fn as_str(self) -> &'static str {
        match self {
            DebtPositionStatus::Draft => "DRAFT",
            DebtPositionStatus::Published => "PUBLISHED",
            DebtPositionStatus::Valid => "VALID",
            DebtPositionStatus::Invalid => "INVALID",
            DebtPositionStatus::Expired => "EXPIRED",
            DebtPositionStatus::PartiallyPaid => "PARTIALLY_PAID",
            DebtPositionStatus::Paid => "PAID",
            DebtPositionStatus::Reported => "REPORTED",
        }
    }
}

/// The status of a payment option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaymentOptionStatus {
    /// Not paid.
    #[serde(rename = "PO_UNPAID")]
    Unpaid,
    /// Paid.
    #[serde(rename = "PO_PAID")]
    Paid,
    /// Paid, some transfers reported.
    #[serde(rename = "PO_PARTIALLY_REPORTED")]
    PartiallyReported,
    /// Paid and every transfer reported.
    #[serde(rename = "PO_REPORTED")]
    Reported,
}

/// The status of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TransferStatus {
    /// Not yet in a reporting flow.
    #[serde(rename = "T_UNREPORTED")]
    Unreported,
    /// Reported.
    #[serde(rename = "T_REPORTED")]
    Reported,
}

/// A metadata pair (`PaymentOptionMetadataModel`, `TransferMetadataModel`
/// and their `…Response` forms have the same shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataModel {
    /// Key, unique within its option or transfer (≤ 140 characters).
    pub key: String,
    /// Value (≤ 140 characters).
    pub value: String,
}

/// `Stamp`: a marca da bollo digitale, instead of an IBAN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stamp {
    /// The document's hash (base64, ≤ 72 characters).
    pub hash_document: String,
    /// The stamp type (2 characters).
    pub stamp_type: String,
    /// The province of residence (2 capital letters).
    pub provincial_residence: String,
}

/// `TransferModel`: one beneficiary's share of a payment option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferModel {
    /// `"1"` … `"5"`, unique within the option.
    pub id_transfer: String,
    /// The share, in cents (≥ 1).
    pub amount: Cents,
    /// The beneficiary when not the position's organization (e.g. the
    /// province for TEFA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_fiscal_code: Option<String>,
    /// Causale (≤ 140 characters).
    pub remittance_information: String,
    /// The pagoPA taxonomy code.
    pub category: String,
    /// The beneficiary's IBAN (exclusive with `stamp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    /// The beneficiary's postal IBAN (with or without `iban`, never with
    /// `stamp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_iban: Option<String>,
    /// A marca da bollo digitale instead of an IBAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<Stamp>,
    /// The beneficiary's name (≤ 140 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// Up to 10 metadata pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transfer_metadata: Vec<MetadataModel>,
}

/// `PaymentOptionModel`: one payable notice (IUV/NAV) of a position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentOptionModel {
    /// The codice avviso (18 digits); GPD computes `3` + IUV when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nav: Option<String>,
    /// The IUV.
    pub iuv: String,
    /// The amount, in cents (≥ 1).
    pub amount: Cents,
    /// What is paid (≤ 140 characters).
    pub description: String,
    /// `false` for the single payment, `true` for an instalment (§4.5).
    pub is_partial_payment: bool,
    /// The due date.
    #[serde(with = "datetime")]
    pub due_date: Timestamp,
    /// Until when GPD keeps the option payable after the due date.
    #[serde(
        default,
        with = "opt_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub retention_date: Option<Timestamp>,
    /// Read-only: the PSP fee, never sent.
    #[serde(default, skip_serializing)]
    pub fee: Option<Cents>,
    /// Read-only: the SEND notification fee, never sent (§4.5).
    #[serde(default, skip_serializing)]
    pub notification_fee: Option<Cents>,
    /// The transfers (1 to 5).
    #[serde(default)]
    pub transfer: Vec<TransferModel>,
    /// Up to 10 metadata pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payment_option_metadata: Vec<MetadataModel>,
}

/// `PaymentPositionModel`: a debt position as created or updated, and as
/// the create, update, publish and invalidate operations answer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPositionModel {
    /// The position's identifier, unique for the organization.
    pub iupd: String,
    /// Person or legal entity.
    #[serde(rename = "type")]
    pub debtor_type: DebtorType,
    /// Stand-in mode (GPD's default: true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_stand_in: Option<bool>,
    /// The debtor's codice fiscale or partita IVA.
    pub fiscal_code: String,
    /// The debtor's name.
    pub full_name: String,
    /// Street.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_name: Option<String>,
    /// Civic number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civic_number: Option<String>,
    /// CAP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Province (sigla).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Country, 2 capital letters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The debtor's e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The debtor's phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Whether the position expires after its last due date.
    pub switch_to_expired: bool,
    /// The creditor's name (≤ 140 characters).
    pub company_name: String,
    /// The creditor's office (≤ 140 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_name: Option<String>,
    /// From when the position is payable; none = at publication.
    #[serde(
        default,
        with = "opt_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub validity_date: Option<Timestamp>,
    /// Read-only: when it was paid; never sent.
    #[serde(default, with = "opt_datetime", skip_serializing)]
    pub payment_date: Option<Timestamp>,
    /// Read-only: its status; never sent.
    #[serde(default, skip_serializing)]
    pub status: Option<DebtPositionStatus>,
    /// The payment options.
    #[serde(default)]
    pub payment_option: Vec<PaymentOptionModel>,
}

/// `TransferModelResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct TransferModelResponse {
    pub organization_fiscal_code: Option<String>,
    pub company_name: Option<String>,
    pub id_transfer: Option<String>,
    pub amount: Option<Cents>,
    pub remittance_information: Option<String>,
    pub category: Option<String>,
    pub iban: Option<String>,
    pub postal_iban: Option<String>,
    pub stamp: Option<Stamp>,
    #[serde(default, with = "opt_datetime")]
    pub inserted_date: Option<Timestamp>,
    pub status: Option<TransferStatus>,
    #[serde(default, with = "opt_datetime")]
    pub last_updated_date: Option<Timestamp>,
    #[serde(default)]
    pub transfer_metadata: Vec<MetadataModel>,
}

/// `PaymentOptionModelResponse`: an option as `GET …/{iupd}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct PaymentOptionModelResponse {
    pub nav: Option<String>,
    pub iuv: Option<String>,
    pub organization_fiscal_code: Option<String>,
    pub amount: Option<Cents>,
    pub description: Option<String>,
    pub is_partial_payment: Option<bool>,
    #[serde(default, with = "opt_datetime")]
    pub due_date: Option<Timestamp>,
    #[serde(default, with = "opt_datetime")]
    pub retention_date: Option<Timestamp>,
    #[serde(default, with = "opt_datetime")]
    pub payment_date: Option<Timestamp>,
    #[serde(default, with = "opt_datetime")]
    pub reporting_date: Option<Timestamp>,
    #[serde(default, with = "opt_datetime")]
    pub inserted_date: Option<Timestamp>,
    pub payment_method: Option<String>,
    pub fee: Option<Cents>,
    pub notification_fee: Option<Cents>,
    pub psp_company: Option<String>,
    pub id_receipt: Option<String>,
    pub id_flow_reporting: Option<String>,
    pub status: Option<PaymentOptionStatus>,
    #[serde(default, with = "opt_datetime")]
    pub last_updated_date: Option<Timestamp>,
    #[serde(default)]
    pub payment_option_metadata: Vec<MetadataModel>,
    #[serde(default)]
    pub transfer: Vec<TransferModelResponse>,
}

/// `PaymentsModelResponse`: an option as the already-paid operation
/// answers it (the fields of [`PaymentOptionModelResponse`] plus two).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentsModelResponse {
    /// The option's fields.
    #[serde(flatten)]
    pub option: PaymentOptionModelResponse,
    /// When the notification fee was last updated.
    #[serde(default, with = "opt_datetime")]
    pub last_updated_date_notification_fee: Option<Timestamp>,
    /// The service type (e.g. `GPD`).
    pub service_type: Option<String>,
}

/// `PaymentPositionModelBaseResponse`: a position as `GET` shows it (no
/// debtor fields; option and transfer statuses and dates).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct PaymentPositionModelBaseResponse {
    pub iupd: Option<String>,
    pub organization_fiscal_code: Option<String>,
    #[serde(rename = "type")]
    pub debtor_type: Option<DebtorType>,
    pub company_name: Option<String>,
    pub office_name: Option<String>,
    #[serde(default, with = "opt_datetime")]
    pub inserted_date: Option<Timestamp>,
    #[serde(default, with = "opt_datetime")]
    pub publish_date: Option<Timestamp>,
    #[serde(default, with = "opt_datetime")]
    pub validity_date: Option<Timestamp>,
    #[serde(default, with = "opt_datetime")]
    pub payment_date: Option<Timestamp>,
    pub status: Option<DebtPositionStatus>,
    #[serde(default, with = "opt_datetime")]
    pub last_updated_date: Option<Timestamp>,
    #[serde(default)]
    pub payment_option: Vec<PaymentOptionModelResponse>,
}

/// `PageInfo` of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct PageInfo {
    /// The page number, from 0.
    pub page: u32,
    /// The requested page size.
    pub limit: u32,
    /// The number of items on this page.
    pub items_found: u32,
    /// The number of pages.
    pub total_pages: u32,
}

/// `PaymentPositionsInfo`: a page of positions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentPositionsInfo {
    /// The positions on this page.
    pub payment_position_list: Vec<PaymentPositionModelBaseResponse>,
    /// Where the page is.
    pub page_info: PageInfo,
}

/// `ProblemJson`: GPD's error body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemJson {
    /// A short English summary.
    pub title: Option<String>,
    /// The HTTP status.
    pub status: Option<u16>,
    /// The English details (e.g. each schema error).
    pub detail: Option<String>,
}

impl std::fmt::Display for ProblemJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let title = self.title.as_deref().unwrap_or("");
        match self.detail.as_deref() {
            Some(d) if !d.is_empty() => write!(f, "{title}: {d}"),
            _ => f.write_str(title),
        }
    }
}

/// `AppInfo` of `GET /info`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[allow(missing_docs)]
pub struct AppInfo {
    pub name: Option<String>,
    pub version: Option<String>,
    pub environment: Option<String>,
}

/// `orderby` of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum OrderBy {
    InsertedDate,
    Iupd,
    Status,
    CompanyName,
}

impl OrderBy {
    fn as_str(self) -> &'static str {
        match self {
            OrderBy::InsertedDate => "INSERTED_DATE",
            OrderBy::Iupd => "IUPD",
            OrderBy::Status => "STATUS",
            OrderBy::CompanyName => "COMPANY_NAME",
        }
    }
}

/// The query of `GET …/debtpositions`: paging, filters and order (the
/// contract's parameters). `Default` is GPD's default: page 0 of 10,
/// newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Page size, 1 to [`MAX_PAGE_LIMIT`] (GPD's default 10).
    pub limit: Option<u32>,
    /// Page number, from 0.
    pub page: Option<u32>,
    /// Positions with an option due on or after this day.
    pub due_date_from: Option<Date>,
    /// Positions with an option due on or before this day.
    pub due_date_to: Option<Date>,
    /// Positions paid on or after this day (not with due dates).
    pub payment_date_from: Option<Date>,
    /// Positions paid on or before this day.
    pub payment_date_to: Option<Date>,
    /// Only this status.
    pub status: Option<DebtPositionStatus>,
    /// The order.
    pub order_by: Option<OrderBy>,
    /// Ascending (`true`) or descending (GPD's default).
    pub ascending: Option<bool>,
}

impl ListQuery {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(l) = self.limit {
            q.push(("limit", l.to_string()));
        }
        if let Some(p) = self.page {
            q.push(("page", p.to_string()));
        }
        let dates = [
            ("due_date_from", self.due_date_from),
            ("due_date_to", self.due_date_to),
            ("payment_date_from", self.payment_date_from),
            ("payment_date_to", self.payment_date_to),
        ];
        for (name, d) in dates {
            if let Some(d) = d {
                q.push((name, d.to_string()));
            }
        }
        if let Some(s) = self.status {
            q.push(("status", s.as_str().to_owned()));
        }
        if let Some(o) = self.order_by {
            q.push(("orderby", o.as_str().to_owned()));
        }
        if let Some(a) = self.ascending {
            q.push(("ordering", if a { "ASC" } else { "DESC" }.to_owned()));
        }
        q
    }
}

// ------------------------------------------------------------ date-times

/// Date-times: sent as RFC 3339 with `Z`; read with an offset, or without
/// one (the real GPD serialises Java `LocalDateTime`), then taken as UTC.
mod datetime {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn parse(s: &str) -> Result<Timestamp, String> {
        if let Ok(t) = s.parse::<Timestamp>() {
            return Ok(t);
        }
        s.parse::<jiff::civil::DateTime>()
            .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC))
            .map(|z| z.timestamp())
            .map_err(|e| format!("not a date-time: {s:?}: {e}"))
    }

    pub(super) fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(t)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }
}

mod opt_datetime {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::ref_option)]
    pub(super) fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.collect_str(t),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => super::datetime::parse(&s)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

// ------------------------------------------------------------- local checks

/// Why a position was refused before being sent: GPD's rules checked
/// locally (`taxes-pagopa.md` §4.5; `docs/pagopa-gpd-simulator.md`,
/// "Business rules enforced").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PositionCheckError {
    /// An identifier (organization, IUPD, IUV, NAV) is empty or has
    /// characters GPD's paths do not allow.
    #[error("invalid {what}: {value:?}")]
    Identifier {
        /// Which identifier.
        what: &'static str,
        /// Its value.
        value: String,
    },
    /// A position without payment options.
    #[error("no payment option")]
    NoPaymentOption,
    /// An option or transfer amount below 1 cent.
    #[error("option {iuv}: amount not positive")]
    AmountNotPositive {
        /// The option's IUV.
        iuv: String,
    },
    /// An option's transfers do not add up to its amount.
    #[error("option {iuv}: transfers add up to {transfers:?}, the option is {amount}")]
    TransfersSum {
        /// The option's IUV.
        iuv: String,
        /// The option's amount.
        amount: Cents,
        /// The transfers' sum (`None` on overflow).
        transfers: Option<Cents>,
    },
    /// Not 1 to 5 transfers, or an `idTransfer` outside "1"…"5" or
    /// repeated.
    #[error("option {iuv}: transfers must be 1 to 5 with distinct idTransfer 1-5")]
    Transfers {
        /// The option's IUV.
        iuv: String,
    },
    /// A transfer with neither IBAN nor stamp, or a stamp with an IBAN.
    #[error("option {iuv}: transfer {id_transfer} needs an IBAN or a stamp, not both")]
    TransferAccount {
        /// The option's IUV.
        iuv: String,
        /// The transfer.
        id_transfer: String,
    },
    /// A due date before the validity date, or a retention date before
    /// the due date.
    #[error("option {iuv}: due date before validity date, or retention before due date")]
    Dates {
        /// The option's IUV.
        iuv: String,
    },
    /// The same IUV or NAV twice in the position.
    #[error("IUV or NAV {value} repeated in the position")]
    DuplicateIuv {
        /// The repeated IUV or NAV.
        value: String,
    },
    /// A text over GPD's 140 characters.
    #[error("{what} longer than 140 characters")]
    TooLong {
        /// Which field.
        what: &'static str,
    },
    /// The instalments of a local tax do not add up to the single payment.
    #[error("instalments add up to {instalments:?}, the single payment is {single}")]
    InstalmentsSum {
        /// The single payment.
        single: Cents,
        /// The instalments' sum (`None` on overflow).
        instalments: Option<Cents>,
    },
    /// An update whose body's IUPD is not the path's.
    #[error("the body's IUPD {body} differs from the path's {path}")]
    IupdMismatch {
        /// The IUPD of the path.
        path: String,
        /// The IUPD of the body.
        body: String,
    },
    /// A local tax option whose shares do not match the beneficiaries.
    #[error("an option has {shares} shares for {beneficiaries} beneficiaries")]
    Shares {
        /// Shares given.
        shares: usize,
        /// Beneficiaries.
        beneficiaries: usize,
    },
}

impl Coded for PositionCheckError {
    fn code(&self) -> &'static str {
        match self {
            PositionCheckError::Identifier { .. } => "gpd_identifier_invalid",
            PositionCheckError::NoPaymentOption => "gpd_no_payment_option",
            PositionCheckError::AmountNotPositive { .. } => "gpd_amount_not_positive",
            PositionCheckError::TransfersSum { .. } => "gpd_transfers_sum",
            PositionCheckError::Transfers { .. } => "gpd_transfers_invalid",
            PositionCheckError::TransferAccount { .. } => "gpd_transfer_account",
            PositionCheckError::Dates { .. } => "gpd_dates_order",
            PositionCheckError::DuplicateIuv { .. } => "gpd_duplicate_iuv",
            PositionCheckError::TooLong { .. } => "gpd_text_too_long",
            PositionCheckError::InstalmentsSum { .. } => "gpd_instalments_sum",
            PositionCheckError::IupdMismatch { .. } => "gpd_iupd_mismatch",
            PositionCheckError::Shares { .. } => "gpd_shares_beneficiaries",
        }
    }

    fn message_it(&self) -> String {
        match self {
            PositionCheckError::Identifier { what, value } => {
                format!("Il codice {what} «{value}» non è valido per pagoPA.")
            }
            PositionCheckError::NoPaymentOption => {
                "La posizione debitoria non ha alcuna opzione di pagamento.".to_owned()
            }
            PositionCheckError::AmountNotPositive { iuv } => {
                format!("L'importo dell'avviso con IUV {iuv} deve essere di almeno 1 centesimo.")
            }
            PositionCheckError::TransfersSum {
                iuv,
                amount,
                transfers,
            } => match transfers {
                Some(t) => format!(
                    "Gli importi dei beneficiari dell'avviso con IUV {iuv} sommano a {t}, ma l'importo dell'avviso è {amount}."
                ),
                None => format!(
                    "Gli importi dei beneficiari dell'avviso con IUV {iuv} sono troppo grandi."
                ),
            },
            PositionCheckError::Transfers { iuv } => format!(
                "L'avviso con IUV {iuv} deve avere da 1 a 5 beneficiari, numerati da 1 a 5 senza ripetizioni."
            ),
            PositionCheckError::TransferAccount { iuv, id_transfer } => format!(
                "Il beneficiario {id_transfer} dell'avviso con IUV {iuv} deve avere un IBAN oppure una marca da bollo, non entrambi."
            ),
            PositionCheckError::Dates { iuv } => format!(
                "Le date dell'avviso con IUV {iuv} non sono coerenti: la scadenza non può precedere la data di validità, né la data di conservazione la scadenza."
            ),
            PositionCheckError::DuplicateIuv { value } => {
                format!("Il codice {value} è ripetuto in più avvisi della stessa posizione.")
            }
            PositionCheckError::TooLong { what } => {
                format!("Il campo {what} supera i 140 caratteri ammessi da pagoPA.")
            }
            PositionCheckError::InstalmentsSum {
                single,
                instalments,
            } => match instalments {
                Some(i) => {
                    format!("Le rate sommano a {i}, ma il pagamento in unica soluzione è {single}.")
                }
                None => "Gli importi delle rate sono troppo grandi.".to_owned(),
            },
            PositionCheckError::IupdMismatch { path, body } => format!(
                "La posizione da aggiornare è {path}, ma i dati inviati sono della posizione {body}."
            ),
            PositionCheckError::Shares {
                shares,
                beneficiaries,
            } => format!("Un avviso ha {shares} quote ma i beneficiari sono {beneficiaries}."),
        }
    }
}

/// GPD's path parameters match `[\w*\h-]+`; Palazzo keeps its identifiers
/// to letters, digits, `-` and `_`, which also need no escaping.
fn check_identifier(what: &'static str, value: &str) -> Result<(), PositionCheckError> {
    let ok = !value.is_empty()
        && value.len() <= 140
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(PositionCheckError::Identifier {
            what,
            value: value.chars().take(64).collect(),
        })
    }
}

fn check_len(what: &'static str, value: &str) -> Result<(), PositionCheckError> {
    if value.chars().count() > 140 {
        Err(PositionCheckError::TooLong { what })
    } else {
        Ok(())
    }
}

/// Checks a position as GPD would before it is sent (`taxes-pagopa.md`
/// §4.5: "the transfers must add up to the option amount", "due_date ≥
/// validity_date"; the contract's limits: 1–5 transfers, 140-character
/// texts; IUV/NAV unique within the position). What only GPD knows (IUPD
/// or IUV already used by another position, the taxonomy, the IBAN
/// registry, dates against GPD's clock) is left to GPD.
pub fn check_position(p: &PaymentPositionModel) -> Result<(), PositionCheckError> {
    check_identifier("IUPD", &p.iupd)?;
    check_len("companyName", &p.company_name)?;
    if let Some(o) = &p.office_name {
        check_len("officeName", o)?;
    }
    if p.payment_option.is_empty() {
        return Err(PositionCheckError::NoPaymentOption);
    }
    let mut codes = HashSet::new();
    for o in &p.payment_option {
        check_identifier("IUV", &o.iuv)?;
        let nav = o.nav.clone().unwrap_or_else(|| format!("3{}", o.iuv));
        check_identifier("NAV", &nav)?;
        for code in [o.iuv.clone(), nav] {
            if !codes.insert(code.clone()) {
                return Err(PositionCheckError::DuplicateIuv { value: code });
            }
        }
        check_len("description", &o.description)?;
        let iuv = || o.iuv.clone();
        if o.amount.cents() < 1 || o.transfer.iter().any(|t| t.amount.cents() < 1) {
            return Err(PositionCheckError::AmountNotPositive { iuv: iuv() });
        }
        let mut ids = HashSet::new();
        let ids_ok = (1..=5).contains(&o.transfer.len())
            && o.transfer.iter().all(|t| {
                ["1", "2", "3", "4", "5"].contains(&t.id_transfer.as_str())
                    && ids.insert(t.id_transfer.as_str())
            });
        if !ids_ok {
            return Err(PositionCheckError::Transfers { iuv: iuv() });
        }
        for t in &o.transfer {
            check_len("remittanceInformation", &t.remittance_information)?;
            let has_iban = t.iban.is_some() || t.postal_iban.is_some();
            if has_iban == t.stamp.is_some() {
                return Err(PositionCheckError::TransferAccount {
                    iuv: iuv(),
                    id_transfer: t.id_transfer.clone(),
                });
            }
        }
        let transfers = Cents::checked_sum(o.transfer.iter().map(|t| t.amount));
        if transfers != Some(o.amount) {
            return Err(PositionCheckError::TransfersSum {
                iuv: iuv(),
                amount: o.amount,
                transfers,
            });
        }
        let due_ok = p.validity_date.is_none_or(|v| o.due_date >= v);
        let retention_ok = o.retention_date.is_none_or(|r| r >= o.due_date);
        if !due_ok || !retention_ok {
            return Err(PositionCheckError::Dates { iuv: iuv() });
        }
    }
    Ok(())
}

// --------------------------------------------------------- local-tax helper

/// A beneficiary of a local tax's notices: the comune (no
/// `organization_fiscal_code`) or another body, e.g. the province for TEFA
/// (`taxes-pagopa.md` §2.2: "transfer[1] for the comune (TARI) and
/// transfer[2] for the province (TEFA, organizationFiscalCode = the
/// province's CF)").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beneficiary {
    /// `None` for the position's organization (the comune).
    pub organization_fiscal_code: Option<String>,
    /// The beneficiary's name, if given.
    pub company_name: Option<String>,
    /// The IBAN to credit.
    pub iban: String,
    /// The pagoPA taxonomy code of the tax.
    pub category: String,
    /// Causale, e.g. `TARI 2027`.
    pub remittance_information: String,
}

/// One notice of a local tax: the single payment or an instalment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The codice avviso (NAV) Palazzo allocated: its IUV and NAV go to
    /// GPD as they are (aux digit 3, the comune's segregation code).
    pub codice: CodiceAvviso,
    /// What is paid, e.g. `TARI 2027 - rata 1 di 3`.
    pub description: String,
    /// The due date.
    pub due_date: Timestamp,
    /// Each beneficiary's share, in the order of
    /// [`LocalTaxPosition::beneficiaries`].
    pub shares: Vec<Cents>,
}

/// The debt position of a local tax for one debtor (`taxes-pagopa.md`
/// §4.5, "Modelling": a single payment is one option with
/// `isPartialPayment=false`; instalments are further options with
/// `isPartialPayment=true`, one IUV/NAV each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTaxPosition {
    /// The position's IUPD.
    pub iupd: String,
    /// Person or legal entity.
    pub debtor_type: DebtorType,
    /// The debtor's codice fiscale or partita IVA.
    pub fiscal_code: String,
    /// The debtor's name.
    pub full_name: String,
    /// The debtor's e-mail, if known.
    pub email: Option<String>,
    /// The comune's name.
    pub company_name: String,
    /// The office (e.g. `Ufficio Tributi`).
    pub office_name: Option<String>,
    /// From when it is payable; none = at publication.
    pub validity_date: Option<Timestamp>,
    /// Whether it expires after its last due date.
    pub switch_to_expired: bool,
    /// Who receives the money: the comune first, then e.g. the province.
    pub beneficiaries: Vec<Beneficiary>,
    /// The single payment (rata unica).
    pub single: Notice,
    /// The instalments; empty when only the single payment is offered.
    pub instalments: Vec<Notice>,
}

impl LocalTaxPosition {
    /// The GPD position: the single payment first, then the instalments,
    /// each with one transfer per beneficiary (`idTransfer` "1", "2", …).
    /// Refused when the instalments do not add up to the single payment,
    /// a notice's shares do not match the beneficiaries, or
    /// [`check_position`] fails.
    pub fn to_position(&self) -> Result<PaymentPositionModel, PositionCheckError> {
        if !self.instalments.is_empty() {
            let instalments = self
                .instalments
                .iter()
                .map(|n| Cents::checked_sum(n.shares.iter().copied()))
                .try_fold(Cents::ZERO, |acc, a| a.and_then(|a| acc.checked_add(a)));
            let single = Cents::checked_sum(self.single.shares.iter().copied());
            if instalments != single {
                return Err(PositionCheckError::InstalmentsSum {
                    single: single.unwrap_or_default(),
                    instalments,
                });
            }
        }
        let mut options = Vec::with_capacity(1 + self.instalments.len());
        for (notice, partial) in
            std::iter::once((&self.single, false)).chain(self.instalments.iter().map(|n| (n, true)))
        {
            options.push(self.option(notice, partial)?);
        }
        let position = PaymentPositionModel {
            iupd: self.iupd.clone(),
            debtor_type: self.debtor_type,
            pay_stand_in: None,
            fiscal_code: self.fiscal_code.clone(),
            full_name: self.full_name.clone(),
            street_name: None,
            civic_number: None,
            postal_code: None,
            city: None,
            province: None,
            region: None,
            country: None,
            email: self.email.clone(),
            phone: None,
            switch_to_expired: self.switch_to_expired,
            company_name: self.company_name.clone(),
            office_name: self.office_name.clone(),
            validity_date: self.validity_date,
            payment_date: None,
            status: None,
            payment_option: options,
        };
        check_position(&position)?;
        Ok(position)
    }

    fn option(
        &self,
        notice: &Notice,
        is_partial_payment: bool,
    ) -> Result<PaymentOptionModel, PositionCheckError> {
        if notice.shares.len() != self.beneficiaries.len() || self.beneficiaries.len() > 5 {
            return Err(PositionCheckError::Shares {
                shares: notice.shares.len(),
                beneficiaries: self.beneficiaries.len(),
            });
        }
        let amount = Cents::checked_sum(notice.shares.iter().copied()).ok_or_else(|| {
            PositionCheckError::TransfersSum {
                iuv: notice.codice.iuv(),
                amount: Cents::ZERO,
                transfers: None,
            }
        })?;
        let transfer = self
            .beneficiaries
            .iter()
            .zip(&notice.shares)
            .enumerate()
            .map(|(i, (b, share))| TransferModel {
                id_transfer: (i + 1).to_string(),
                amount: *share,
                organization_fiscal_code: b.organization_fiscal_code.clone(),
                remittance_information: b.remittance_information.clone(),
                category: b.category.clone(),
                iban: Some(b.iban.clone()),
                postal_iban: None,
                stamp: None,
                company_name: b.company_name.clone(),
                transfer_metadata: Vec::new(),
            })
            .collect();
        Ok(PaymentOptionModel {
            nav: Some(notice.codice.to_string()),
            iuv: notice.codice.iuv(),
            amount,
            description: notice.description.clone(),
            is_partial_payment,
            due_date: notice.due_date,
            retention_date: None,
            fee: None,
            notification_fee: None,
            transfer,
            payment_option_metadata: Vec::new(),
        })
    }
}

// ------------------------------------------------------------------ errors

/// What went wrong speaking to GPD. Each variant has a stable code and an
/// Italian message ([`Coded`]); none carries the API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GpdError {
    /// Refused locally, nothing sent.
    #[error("refused before sending: {0}")]
    Check(#[from] PositionCheckError),
    /// 400: GPD found the request invalid; its details.
    #[error("GPD validation (400): {0}")]
    Validation(ProblemJson),
    /// 401: the subscription key was refused.
    #[error("GPD refused the API key (401)")]
    Unauthorized,
    /// 403: the key is not enabled for this organization.
    #[error("GPD forbade the operation (403)")]
    Forbidden,
    /// 404: no such position or option.
    #[error("GPD: not found (404): {0}")]
    NotFound(ProblemJson),
    /// 409: a duplicate IUPD/IUV/NAV, or the position's state forbids the
    /// operation (update or delete once paid, publish if not DRAFT, …).
    #[error("GPD conflict (409): {0}")]
    Conflict(ProblemJson),
    /// 422: the option is not payable in the position's state.
    #[error("GPD: not payable (422): {0}")]
    NotPayable(ProblemJson),
    /// 429: too many requests.
    #[error("GPD rate limit (429)")]
    RateLimited,
    /// 5xx, a timeout or no connection: try again later.
    #[error("GPD unavailable: {0}")]
    Unavailable(String),
    /// An answer the contract does not define, or a body that does not
    /// parse.
    #[error("unexpected GPD answer: {0}")]
    UnexpectedResponse(String),
    /// The client is not configured correctly.
    #[error("GPD configuration: {0}")]
    Config(String),
}

impl Coded for GpdError {
    fn code(&self) -> &'static str {
        match self {
            GpdError::Check(e) => e.code(),
            GpdError::Validation(_) => "gpd_validation",
            GpdError::Unauthorized => "gpd_unauthorized",
            GpdError::Forbidden => "gpd_forbidden",
            GpdError::NotFound(_) => "gpd_not_found",
            GpdError::Conflict(_) => "gpd_conflict",
            GpdError::NotPayable(_) => "gpd_not_payable",
            GpdError::RateLimited => "gpd_rate_limited",
            GpdError::Unavailable(_) => "gpd_unavailable",
            GpdError::UnexpectedResponse(_) => "gpd_unexpected_response",
            GpdError::Config(_) => "gpd_config",
        }
    }

    fn message_it(&self) -> String {
        match self {
            GpdError::Check(e) => e.message_it(),
            GpdError::Validation(p) => {
                let mut m = "pagoPA ha rifiutato la posizione debitoria perché contiene dati non validi.".to_owned();
                if let Some(d) = p.detail.as_deref().filter(|d| !d.is_empty()) {
                    m.push_str(" Dettaglio (in inglese): ");
                    m.push_str(d);
                }
                m
            }
            GpdError::Unauthorized => {
                "pagoPA ha rifiutato la chiave di accesso dell'ente: verificare la configurazione del collegamento a GPD.".to_owned()
            }
            GpdError::Forbidden => {
                "La chiave di accesso a pagoPA non è abilitata per questo ente.".to_owned()
            }
            GpdError::NotFound(_) => {
                "La posizione debitoria o l'avviso non esiste su pagoPA.".to_owned()
            }
            GpdError::Conflict(_) => {
                "pagoPA non consente l'operazione: la posizione o il codice dell'avviso esiste già, oppure lo stato della posizione non lo permette (ad esempio è già pagata).".to_owned()
            }
            GpdError::NotPayable(_) => {
                "L'avviso non è pagabile nello stato attuale della posizione debitoria.".to_owned()
            }
            GpdError::RateLimited => {
                "pagoPA ha ricevuto troppe richieste: riprovare tra qualche minuto.".to_owned()
            }
            GpdError::Unavailable(_) => {
                "Il servizio pagoPA non è raggiungibile in questo momento: riprovare più tardi.".to_owned()
            }
            GpdError::UnexpectedResponse(_) => {
                "pagoPA ha dato una risposta inattesa: riprovare più tardi.".to_owned()
            }
            GpdError::Config(_) => {
                "Il collegamento a pagoPA non è configurato correttamente.".to_owned()
            }
        }
    }
}

impl From<GpdError> for ServiceError {
    /// What the user can act on (a refused position, a conflict, a state
    /// that forbids the operation) is a 422 with GPD's code and Italian
    /// message; GPD down, silent or rate-limiting is a 503 to retry later;
    /// a refused key, a forbidden organization, an answer outside the
    /// contract or a bad configuration is the operator's problem: an
    /// internal error whose details go to the log only.
    fn from(e: GpdError) -> Self {
        match &e {
            GpdError::Unavailable(_) | GpdError::RateLimited => ServiceError::Unavailable {
                code: e.code(),
                message: e.message_it(),
                detail: e.to_string(),
            },
            GpdError::Unauthorized
            | GpdError::Forbidden
            | GpdError::UnexpectedResponse(_)
            | GpdError::Config(_) => ServiceError::Internal(e.to_string()),
            GpdError::Check(_)
            | GpdError::Validation(_)
            | GpdError::NotFound(_)
            | GpdError::Conflict(_)
            | GpdError::NotPayable(_) => ServiceError::invalid(&e),
        }
    }
}

// ------------------------------------------------------------------ client

/// The subscription key: never printed.
#[derive(Clone)]
struct ApiKey(reqwest::header::HeaderValue);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// A GPD client for one base URL and key. Cheap to clone.
#[derive(Debug, Clone)]
pub struct GpdClient {
    http: reqwest::Client,
    base_url: String,
    api_key: ApiKey,
    local_checks: bool,
}

impl GpdClient {
    /// A client of the contract's server at `base_url` (e.g.
    /// `https://api.uat.platform.pagopa.it/gpd/debt-positions-service/v1`)
    /// with the subscription key `api_key`, waiting at most `timeout` for
    /// each answer (connection included).
    pub fn new(base_url: &str, api_key: &str, timeout: Duration) -> Result<GpdClient, GpdError> {
        let base = base_url.trim_end_matches('/');
        let url = reqwest::Url::parse(base)
            .map_err(|_| GpdError::Config(format!("base_url is not a URL: {base:?}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(GpdError::Config(format!(
                "base_url must be an http(s) URL without query: {base:?}"
            )));
        }
        let key = api_key.trim();
        let mut value = reqwest::header::HeaderValue::from_str(key)
            .ok()
            .filter(|_| !key.is_empty())
            .ok_or_else(|| {
                GpdError::Config("api_key is empty or not a valid header value".into())
            })?;
        value.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("palazzo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GpdError::Config(format!("HTTP client: {e}")))?;
        Ok(GpdClient {
            http,
            base_url: base.to_owned(),
            api_key: ApiKey(value),
            local_checks: true,
        })
    }

    /// The client of `[gpd]`, or `None` when no `base_url` is configured.
    /// The key comes from `api_key` or the first line of `api_key_file`
    /// (one of the two).
    pub fn from_config(config: &GpdConfig) -> Result<Option<GpdClient>, GpdError> {
        let Some(base_url) = config.base_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let key = match (&config.api_key, &config.api_key_file) {
            (Some(k), None) => k.clone(),
            (None, Some(file)) => std::fs::read_to_string(file)
                .map_err(|e| {
                    GpdError::Config(format!("api_key_file {} unreadable: {e}", file.display()))
                })?
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
            (Some(_), Some(_)) => {
                return Err(GpdError::Config(
                    "give api_key or api_key_file, not both".into(),
                ));
            }
            (None, None) => {
                return Err(GpdError::Config(
                    "base_url is set but neither api_key nor api_key_file".into(),
                ));
            }
        };
        let timeout = Duration::from_secs(config.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS));
        GpdClient::new(base_url, &key, timeout).map(Some)
    }

    /// The same client without the local checks of create and update, so
    /// that a test can prove GPD's own refusals. Never in production: the
    /// checks give the user a precise message.
    #[must_use]
    pub fn without_local_checks(mut self) -> GpdClient {
        self.local_checks = false;
        self
    }

    /// The base URL (no key in it).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn positions_url(&self, org: &str) -> Result<String, GpdError> {
        check_identifier("ente creditore", org)?;
        Ok(format!(
            "{}/organizations/{org}/debtpositions",
            self.base_url
        ))
    }

    fn position_url(&self, org: &str, iupd: &str) -> Result<String, GpdError> {
        check_identifier("IUPD", iupd)?;
        Ok(format!("{}/{iupd}", self.positions_url(org)?))
    }

    fn checked(&self, p: &PaymentPositionModel) -> Result<(), GpdError> {
        if self.local_checks {
            check_position(p)?;
        }
        Ok(())
    }

    /// `POST …/debtpositions?toPublish=`: creates a position (201), DRAFT,
    /// or published at once with `to_publish` (VALID when it has no
    /// validity date). 409 on a duplicate IUPD, IUV or NAV.
    pub async fn create_position(
        &self,
        org: &str,
        position: &PaymentPositionModel,
        to_publish: bool,
    ) -> Result<PaymentPositionModel, GpdError> {
        self.checked(position)?;
        let url = self.positions_url(org)?;
        let req = self
            .http
            .post(url)
            .query(&[("toPublish", to_publish)])
            .json(position);
        self.send(req, &[201]).await
    }

    /// `GET …/debtpositions/{iupd}`: a position with its options' and
    /// transfers' statuses. 404 when unknown.
    pub async fn get_position(
        &self,
        org: &str,
        iupd: &str,
    ) -> Result<PaymentPositionModelBaseResponse, GpdError> {
        let url = self.position_url(org, iupd)?;
        self.send(self.http.get(url), &[200]).await
    }

    /// `GET …/debtpositions`: a page of the organization's positions.
    pub async fn list_positions(
        &self,
        org: &str,
        query: &ListQuery,
    ) -> Result<PaymentPositionsInfo, GpdError> {
        if query.limit.is_some_and(|l| l == 0 || l > MAX_PAGE_LIMIT) {
            return Err(GpdError::Config(format!(
                "list limit must be 1 to {MAX_PAGE_LIMIT}"
            )));
        }
        let url = self.positions_url(org)?;
        let req = self.http.get(url).query(&query.pairs());
        self.send(req, &[200]).await
    }

    /// `PUT …/debtpositions/{iupd}?toPublish=`: replaces a position (only
    /// in DRAFT, PUBLISHED or VALID; 409 once paid, invalid or expired).
    /// The body's IUPD must be `iupd`.
    pub async fn update_position(
        &self,
        org: &str,
        iupd: &str,
        position: &PaymentPositionModel,
        to_publish: bool,
    ) -> Result<PaymentPositionModel, GpdError> {
        self.checked(position)?;
        // The contract's PUT replaces the position of the path: the body
        // must name the same IUPD (GPD answers 400 otherwise).
        if self.local_checks && position.iupd != iupd {
            return Err(PositionCheckError::IupdMismatch {
                path: iupd.to_owned(),
                body: position.iupd.clone(),
            }
            .into());
        }
        let url = self.position_url(org, iupd)?;
        let req = self
            .http
            .put(url)
            .query(&[("toPublish", to_publish)])
            .json(position);
        self.send(req, &[200]).await
    }

    /// `POST …/{iupd}/publish`: DRAFT → PUBLISHED (or VALID without a
    /// validity date); 409 from any other state.
    pub async fn publish_position(
        &self,
        org: &str,
        iupd: &str,
    ) -> Result<PaymentPositionModel, GpdError> {
        let url = format!("{}/publish", self.position_url(org, iupd)?);
        self.send(self.http.post(url), &[200]).await
    }

    /// `POST …/{iupd}/invalidate`: a logical cancel, from PUBLISHED or VALID
    /// only (else 409).
    pub async fn invalidate_position(
        &self,
        org: &str,
        iupd: &str,
    ) -> Result<PaymentPositionModel, GpdError> {
        let url = format!("{}/invalidate", self.position_url(org, iupd)?);
        self.send(self.http.post(url), &[200]).await
    }

    /// `DELETE …/{iupd}`: removes a position; 409 once (partially) paid or
    /// reported.
    pub async fn delete_position(&self, org: &str, iupd: &str) -> Result<(), GpdError> {
        let url = self.position_url(org, iupd)?;
        let _: serde_json::Value = self.send(self.http.delete(url), &[200]).await?;
        Ok(())
    }

    /// `POST …/paymentoptions/paids/{nav}`: records that the option was
    /// paid outside pagoPA (e.g. at the counter), on `payment_date` or now.
    /// 404 for an unknown NAV, 409 when already paid, 422 when the position
    /// is not payable. Answers the option as paid.
    pub async fn set_payment_option_as_already_paid(
        &self,
        org: &str,
        nav: CodiceAvviso,
        payment_date: Option<Timestamp>,
    ) -> Result<PaymentsModelResponse, GpdError> {
        check_identifier("ente creditore", org)?;
        let url = format!(
            "{}/organizations/{org}/paymentoptions/paids/{nav}",
            self.base_url
        );
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct AlreadyPaidPaymentOptionModel {
            #[serde(with = "opt_datetime", skip_serializing_if = "Option::is_none")]
            payment_date: Option<Timestamp>,
        }
        let req = self
            .http
            .post(url)
            .json(&AlreadyPaidPaymentOptionModel { payment_date });
        self.send(req, &[200]).await
    }

    /// `GET /info`: GPD's name and version (a connectivity check).
    pub async fn info(&self) -> Result<AppInfo, GpdError> {
        let url = format!("{}/info", self.base_url);
        self.send(self.http.get(url), &[200]).await
    }

    /// Sends with the key and maps the contract's answers: a status in
    /// `ok` parses as `T`; 400, 401, 403, 404, 409, 422, 429 and 5xx
    /// become their [`GpdError`]; transport failures and timeouts are
    /// [`GpdError::Unavailable`].
    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
        ok: &[u16],
    ) -> Result<T, GpdError> {
        let resp = req
            .header(API_KEY_HEADER, self.api_key.0.clone())
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(transport_error)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(transport_error)?;
        if ok.contains(&status) {
            return serde_json::from_slice(&body).map_err(|e| {
                GpdError::UnexpectedResponse(format!("status {status}, body does not parse: {e}"))
            });
        }
        let problem = || serde_json::from_slice::<ProblemJson>(&body).unwrap_or_default();
        Err(match status {
            400 => GpdError::Validation(problem()),
            401 => GpdError::Unauthorized,
            403 => GpdError::Forbidden,
            404 => GpdError::NotFound(problem()),
            409 => GpdError::Conflict(problem()),
            422 => GpdError::NotPayable(problem()),
            429 => GpdError::RateLimited,
            500..=599 => GpdError::Unavailable(format!("status {status}: {}", problem())),
            _ => GpdError::UnexpectedResponse(format!("status {status}")),
        })
    }
}

/// A transport failure, without the URL's query (none carries secrets,
/// but the message stays short) and never the headers.
fn transport_error(e: reqwest::Error) -> GpdError {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "transport error"
    };
    GpdError::Unavailable(format!("{kind}: {}", e.without_url()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn gpd_errors_reach_the_user_by_whose_problem_they_are() {
        let problem = ProblemJson {
            title: Some("Conflict".into()),
            status: Some(409),
            detail: Some("IUPD already exists".into()),
        };
        // The user can act on it: 422 with GPD's code.
        let e = ServiceError::from(GpdError::Conflict(problem));
        assert!(
            matches!(
                e,
                ServiceError::Invalid {
                    code: "gpd_conflict",
                    ..
                }
            ),
            "{e:?}"
        );
        // Try again later: 503, the details for the log only.
        for (g, code) in [
            (GpdError::Unavailable("timeout".into()), "gpd_unavailable"),
            (GpdError::RateLimited, "gpd_rate_limited"),
        ] {
            let e = ServiceError::from(g);
            assert!(matches!(e, ServiceError::Unavailable { .. }), "{e:?}");
            assert_eq!(e.code(), code);
            assert!(!e.message_it().contains("timeout"));
        }
        // The operator's problem: an internal error, nothing shown but the
        // generic message.
        for g in [
            GpdError::Unauthorized,
            GpdError::Forbidden,
            GpdError::UnexpectedResponse("<html>".into()),
            GpdError::Config("no base_url".into()),
        ] {
            let e = ServiceError::from(g);
            assert!(matches!(e, ServiceError::Internal(_)), "{e:?}");
            assert_eq!(e.code(), "internal_error");
        }
    }

    #[test]
    fn config_debug_hides_the_key() {
        let c = GpdConfig {
            base_url: Some("https://gpd.example".into()),
            api_key: Some("chiave-segreta-123".into()),
            ..GpdConfig::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("chiave-segreta-123"), "{shown}");
        let client = GpdClient::new(
            "https://gpd.example/v1/",
            "chiave-segreta-123",
            Duration::from_secs(1),
        )
        .unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("chiave-segreta-123"), "{shown}");
        assert_eq!(client.base_url(), "https://gpd.example/v1");
    }

    #[test]
    fn datetimes_are_sent_with_z_and_read_with_or_without_offset() {
        let t: Timestamp = "2027-07-31T23:59:59Z".parse().unwrap();
        let j = serde_json::to_value(PaymentOptionModel {
            nav: None,
            iuv: "01000000000000144".into(),
            amount: Cents::from_cents(100),
            description: "x".into(),
            is_partial_payment: false,
            due_date: t,
            retention_date: None,
            fee: Some(Cents::from_cents(1)),
            notification_fee: None,
            transfer: vec![],
            payment_option_metadata: vec![],
        })
        .unwrap();
        assert_eq!(j["dueDate"], "2027-07-31T23:59:59Z");
        assert!(
            j.get("fee").is_none(),
            "read-only fields are never sent: {j}"
        );
        assert_eq!(datetime::parse("2027-07-31T23:59:59.000Z").unwrap(), t);
        assert_eq!(datetime::parse("2027-08-01T01:59:59+02:00").unwrap(), t);
        assert_eq!(datetime::parse("2027-07-31T23:59:59").unwrap(), t);
        assert!(datetime::parse("31/07/2027").is_err());
    }
}
