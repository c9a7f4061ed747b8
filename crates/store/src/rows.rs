//! Raw rows as both SQL backends read them, and their parsing into records.
//!
//! The SQL lives in `palazzo-store-sql` (shared) and the backend crates;
//! what a column means lives here, once, so that both backends turn the same
//! columns into the same domain types.

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::ids::{
    Cap, CodiceCatastale, CodiceFiscale, CodiceIpa, CodiceIstat, Email, Sex,
};
use palazzo_domain::portal::{ServiceCategory, ServiceStatus};

use crate::model::*;
use crate::{Result, StoreError};

/// A stored value that no longer parses, naming what it was.
pub fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

macro_rules! parse_as {
    ($ty:ty, $value:expr, $what:literal) => {
        <$ty>::parse(&$value).map_err(|e| corrupt($what, e))?
    };
}

/// Converts a stored signed integer to an unsigned one.
pub fn to_u64(v: i64, what: &str) -> Result<u64> {
    u64::try_from(v).map_err(|e| corrupt(what, e))
}

/// Converts an unsigned integer to the signed column type.
pub fn to_i64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|e| corrupt(what, e))
}

/// Converts a stored byte string to a 32-byte hash.
pub fn to_hash(v: &[u8], what: &str) -> Result<[u8; 32]> {
    v.try_into().map_err(|_| corrupt(what, "not 32 bytes"))
}

/// A `tenants` row.
#[allow(missing_docs)]
pub struct TenantRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub short_name: String,
    pub codice_catastale: String,
    pub codice_istat: String,
    pub codice_ipa: String,
    pub codice_fiscale: String,
    pub pec: String,
    pub email: String,
    pub phone: String,
    pub street: String,
    pub cap: String,
    pub locality: String,
    pub province: String,
    pub region: String,
    pub population: i64,
    pub patron_saint: Option<String>,
    pub logo_svg: Option<String>,
    pub accessibility_url: String,
    pub is_default: bool,
}

impl TenantRow {
    /// Parses the row; `hostnames` come from `tenant_hosts` in position order.
    pub fn into_tenant(self, hostnames: Vec<String>) -> Result<Tenant> {
        Ok(Tenant {
            id: TenantId(self.id),
            data: NewTenant {
                slug: self.slug,
                name: self.name,
                short_name: self.short_name,
                codice_catastale: parse_as!(
                    CodiceCatastale,
                    self.codice_catastale,
                    "codice_catastale"
                ),
                codice_istat: parse_as!(CodiceIstat, self.codice_istat, "codice_istat"),
                codice_ipa: parse_as!(CodiceIpa, self.codice_ipa, "codice_ipa"),
                codice_fiscale: parse_as!(CodiceFiscale, self.codice_fiscale, "codice_fiscale"),
                pec: parse_as!(Email, self.pec, "pec"),
                email: parse_as!(Email, self.email, "email"),
                phone: self.phone,
                address: Address {
                    street: self.street,
                    cap: parse_as!(Cap, self.cap, "cap"),
                    locality: self.locality,
                    province: self.province,
                },
                region: self.region,
                population: u32::try_from(self.population).map_err(|e| corrupt("population", e))?,
                patron_saint: self.patron_saint,
                hostnames,
                logo_svg: self.logo_svg,
                accessibility_url: self.accessibility_url,
                is_default: self.is_default,
            },
        })
    }
}

/// An `offices` row.
#[allow(missing_docs)]
pub struct OfficeRow {
    pub id: i64,
    pub tenant_id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub email: Option<String>,
    pub pec: Option<String>,
    pub phone: String,
    pub street: String,
    pub cap: String,
    pub locality: String,
    pub province: String,
    pub opening_hours: String,
}

impl OfficeRow {
    /// Parses the row.
    pub fn into_office(self) -> Result<Office> {
        let email = match self.email {
            Some(e) => Some(parse_as!(Email, e, "office email")),
            None => None,
        };
        let pec = match self.pec {
            Some(e) => Some(parse_as!(Email, e, "office pec")),
            None => None,
        };
        Ok(Office {
            id: OfficeId(self.id),
            tenant: TenantId(self.tenant_id),
            data: NewOffice {
                slug: self.slug,
                name: self.name,
                description: self.description,
                email,
                pec,
                phone: self.phone,
                address: Address {
                    street: self.street,
                    cap: parse_as!(Cap, self.cap, "office cap"),
                    locality: self.locality,
                    province: self.province,
                },
                opening_hours: self.opening_hours,
            },
        })
    }
}

/// A `services` row.
#[allow(missing_docs)]
pub struct ServiceRow {
    pub id: i64,
    pub tenant_id: i64,
    pub slug: String,
    pub category: String,
    pub title: String,
    pub active: bool,
    pub status_reason: Option<String>,
    pub summary: String,
    pub audience: String,
    pub how_to: String,
    pub needed: String,
    pub achieved: String,
    pub times: String,
    pub costs: Option<String>,
    pub access: String,
    pub online_url: Option<String>,
    pub conditions: String,
    pub office_id: i64,
    pub topics: String,
    pub service_type: String,
    pub audience_type: String,
}

/// Topics are stored one per line.
pub fn join_topics(topics: &[String]) -> String {
    topics.join("\n")
}

/// Splits the stored service status into (active, reason).
pub fn status_columns(status: &ServiceStatus) -> (bool, Option<&str>) {
    match status {
        ServiceStatus::Active => (true, None),
        ServiceStatus::Inactive { reason } => (false, Some(reason.as_str())),
    }
}

impl ServiceRow {
    /// Parses the row.
    pub fn into_service(self) -> Result<Service> {
        let category = ServiceCategory::from_slug(&self.category)
            .ok_or_else(|| corrupt("service category", &self.category))?;
        let status = if self.active {
            ServiceStatus::Active
        } else {
            ServiceStatus::Inactive {
                reason: self.status_reason.unwrap_or_default(),
            }
        };
        Ok(Service {
            id: ServiceId(self.id),
            tenant: TenantId(self.tenant_id),
            data: NewService {
                slug: self.slug,
                category,
                title: self.title,
                status,
                summary: self.summary,
                audience: self.audience,
                how_to: self.how_to,
                needed: self.needed,
                achieved: self.achieved,
                times: self.times,
                costs: self.costs,
                access: self.access,
                online_url: self.online_url,
                conditions: self.conditions,
                office: OfficeId(self.office_id),
                topics: self
                    .topics
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect(),
                service_type: self.service_type,
                audience_type: self.audience_type,
            },
        })
    }
}

/// A `pop_persons` row's parsed check, used by the population importers.
pub fn parse_sex(s: &str) -> Result<Sex> {
    match s {
        "M" => Ok(Sex::M),
        "F" => Ok(Sex::F),
        other => Err(corrupt("sex", other)),
    }
}

/// The column value of a [`Sex`].
pub fn sex_column(s: Sex) -> &'static str {
    match s {
        Sex::M => "M",
        Sex::F => "F",
    }
}

/// A `ledger_events` row.
#[allow(missing_docs)]
pub struct EventRow {
    pub tenant_id: i64,
    pub seq: i64,
    pub tenant_slug: String,
    pub time: Timestamp,
    pub kind: String,
    pub subject: String,
    pub state_hash: Vec<u8>,
    pub leaf_hash: Vec<u8>,
}

impl EventRow {
    /// Parses the row.
    pub fn into_event(self) -> Result<LedgerEvent> {
        Ok(LedgerEvent {
            tenant: TenantId(self.tenant_id),
            tenant_slug: self.tenant_slug,
            seq: to_u64(self.seq, "seq")?,
            time: self.time,
            kind: self.kind,
            subject: self.subject,
            state_hash: to_hash(&self.state_hash, "state_hash")?,
            leaf_hash: to_hash(&self.leaf_hash, "leaf_hash")?,
        })
    }
}

/// A `ledger_checkpoints` row.
#[allow(missing_docs)]
pub struct CheckpointRow {
    pub size: i64,
    pub root: Vec<u8>,
    pub time: Timestamp,
    pub note: String,
    pub frontier: Vec<u8>,
}

impl CheckpointRow {
    /// Parses the row.
    pub fn into_record(self) -> Result<CheckpointRecord> {
        Ok(CheckpointRecord {
            size: to_u64(self.size, "checkpoint size")?,
            root: to_hash(&self.root, "checkpoint root")?,
            time: self.time,
            note: self.note,
            frontier: self.frontier,
        })
    }
}

/// The event as it will be stored: sequence number and time already taken.
/// Builds the leaf with the domain's ledger encoding (DECISIONS 11).
pub fn build_event(
    tenant: TenantId,
    seq: u64,
    time: Timestamp,
    e: &NewEvent,
) -> Result<LedgerEvent> {
    let entry = palazzo_domain::ledger::LedgerEntry::new(
        e.tenant_slug.clone(),
        seq,
        time,
        e.kind.clone(),
        e.subject.clone(),
        e.state_hash,
    )
    .map_err(|err| corrupt("ledger entry", err))?;
    let leaf_hash = entry.leaf_hash();
    let time = entry.time();
    Ok(LedgerEvent {
        tenant,
        tenant_slug: e.tenant_slug.clone(),
        seq,
        time,
        kind: e.kind.clone(),
        subject: e.subject.clone(),
        state_hash: e.state_hash,
        leaf_hash,
    })
}

/// The registration time: now, truncated to microseconds so that every
/// backend stores and returns exactly the instant written in the leaf.
pub fn registration_time() -> Timestamp {
    let now = Timestamp::now();
    palazzo_domain::ledger::canonical_time(now).unwrap_or(now)
}

/// The registration time of an event that follows one registered at `last`:
/// now, or one microsecond after `last` if the clock is not past it.
pub fn registration_time_after(last: Timestamp) -> Timestamp {
    let now = registration_time();
    if now > last {
        now
    } else {
        last.checked_add(jiff::SignedDuration::from_micros(1))
            .unwrap_or(now)
    }
}

/// A civil date stored as text (SQLite) back to a date.
pub fn parse_date(s: &str, what: &str) -> Result<Date> {
    s.parse::<Date>().map_err(|e| corrupt(what, e))
}
