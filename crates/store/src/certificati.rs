//! Issued anagrafe certificates (issue 5, part 3; migration 0025): one row
//! per sealed certificate, with what the status service, the retrieval of
//! the original and `palazzo verify` need. The PDF itself is kept in the
//! document store under its SHA-256 (DECISIONS 20: exactly those bytes are
//! released).

use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::cbor::Value;
use palazzo_domain::ids::CodiceFiscale;
use serde::{Deserialize, Serialize};

use crate::{Recorded, TenantId};

/// Identifies a certificate within its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CertificateId(pub i64);

/// How a certificate was asked for (DECISIONS 19).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Channel {
    /// By a signed-in resident, for themself or their family, online.
    Online,
    /// At the anagrafe desk, by the ufficiale d'anagrafe.
    Sportello,
}

impl Channel {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Sportello => "sportello",
        }
    }

    /// The channel of a stored code.
    pub fn from_code(code: &str) -> Option<Channel> {
        match code {
            "online" => Some(Channel::Online),
            "sportello" => Some(Channel::Sportello),
            _ => None,
        }
    }
}

/// The fixed data of a certificate, sealed once (DECISIONS 20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCertificate {
    /// The seal's `cti`: 16 random bytes, the certificate's public id.
    pub cti: [u8; 16],
    /// The document type code (`palazzo_domain::certificati::TipoCertificato`).
    pub doc_type: String,
    /// The holder.
    pub holder_cf: CodiceFiscale,
    /// The holder's surname as printed (the second factor for retrieving
    /// the original, `domain/sealed-certificates.md` §5.1).
    pub holder_surname: String,
    /// The use: `bollo` or an exemption code.
    pub uso: String,
    /// The bollo due, in cents (0 when exempt).
    pub bollo_cents: i64,
    /// The sealing time (`iat`).
    pub issued_at: Timestamp,
    /// The last day of validity (`None` for facts that cannot change).
    pub valid_until: Option<Date>,
    /// SHA-256 of the PDF released.
    pub pdf_sha256: [u8; 32],
    /// Size of the PDF in bytes.
    pub pdf_size: u64,
    /// The kid of the seal key, in hex.
    pub kid: String,
    /// The status list (the year of issue) and the certificate's bit in it.
    pub status_list: i64,
    /// See [`NewCertificate::status_list`].
    pub status_idx: i64,
    /// Who asked: `user:<id>` or `admin:<id>`.
    pub requested_by: String,
    /// How it was asked for.
    pub channel: Channel,
}

/// The settlement of the bollo of a certificate in bollo (ANA-03).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BolloPayment {
    /// `contrassegno` (a paper marca da bollo, its 14-digit id) or
    /// `pagopa` (an @e.bollo receipt).
    pub method: String,
    /// The id of the marca or of the receipt.
    pub reference: String,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// Who recorded it.
    pub recorded_by: String,
}

/// The revocation of a certificate (final; R13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// Why (kept, never printed publicly).
    pub reason: String,
}

/// A certificate as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// Id within the tenant.
    pub id: CertificateId,
    /// The comune.
    pub tenant: TenantId,
    /// The sealed data.
    pub data: NewCertificate,
    /// The bollo's settlement, once recorded.
    pub bollo_paid: Option<BolloPayment>,
    /// The revocation, if any.
    pub revocation: Option<Revocation>,
}

impl Certificate {
    /// Whether its bytes may be released: exempt, or its bollo settled
    /// (ANA-03).
    pub fn releasable(&self) -> bool {
        self.data.bollo_cents == 0 || self.bollo_paid.is_some()
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn time(t: Timestamp) -> Value {
    text(&t.to_string())
}

impl Recorded for Certificate {
    fn subject(&self) -> String {
        format!("certificato:{}", self.id.0)
    }

    /// Every field, settlement and revocation included.
    fn state(&self) -> Value {
        let d = &self.data;
        Value::Map(vec![
            (text("cti"), Value::Bytes(d.cti.to_vec())),
            (text("doc_type"), text(&d.doc_type)),
            (text("holder_cf"), text(d.holder_cf.as_str())),
            (text("holder_surname"), text(&d.holder_surname)),
            (text("uso"), text(&d.uso)),
            (text("bollo_cents"), Value::int(d.bollo_cents)),
            (text("issued_at"), time(d.issued_at)),
            (
                text("valid_until"),
                d.valid_until.map_or(Value::Null, |v| text(&v.to_string())),
            ),
            (text("pdf_sha256"), Value::Bytes(d.pdf_sha256.to_vec())),
            (text("pdf_size"), Value::Unsigned(d.pdf_size)),
            (text("kid"), text(&d.kid)),
            (text("status_list"), Value::int(d.status_list)),
            (text("status_idx"), Value::int(d.status_idx)),
            (text("requested_by"), text(&d.requested_by)),
            (text("channel"), text(d.channel.code())),
            (
                text("bollo_paid"),
                self.bollo_paid.as_ref().map_or(Value::Null, |p| {
                    Value::Map(vec![
                        (text("method"), text(&p.method)),
                        (text("reference"), text(&p.reference)),
                        (text("recorded_at"), time(p.recorded_at)),
                        (text("recorded_by"), text(&p.recorded_by)),
                    ])
                }),
            ),
            (
                text("revocation"),
                self.revocation.as_ref().map_or(Value::Null, |r| {
                    Value::Map(vec![
                        (text("at"), time(r.at)),
                        (text("by"), text(&r.by)),
                        (text("reason"), text(&r.reason)),
                    ])
                }),
            ),
        ])
    }
}

/// Calls `$cb!` with the certificate reads of [`crate::Store`].
#[macro_export]
macro_rules! certificate_reads {
    ($cb:ident) => {
        $cb! {
            /// A certificate by its `cti`.
            fn certificate_by_cti(&self, tenant: TenantId, cti: &[u8]) -> Option<Certificate>;
            /// The certificates of a holder, newest first.
            fn certificates_of(&self, tenant: TenantId, holder: &CodiceFiscale) -> Vec<Certificate>;
            /// Certificates with an id above `after`, by id, at most `limit`
            /// (for `palazzo verify`).
            fn certificates_by_id(&self, tenant: TenantId, after: CertificateId, limit: i64) -> Vec<Certificate>;
            /// The revoked bits of status list `list`.
            fn revoked_indices(&self, tenant: TenantId, list: i64) -> Vec<i64>;
        }
    };
}

/// Calls `$cb!` with the certificate writes of [`crate::StoreTx`].
#[macro_export]
macro_rules! certificate_writes {
    ($cb:ident) => {
        $cb! {
            /// Inserts a certificate. A `cti` or a status bit already taken
            /// is a [`StoreError::Conflict`].
            fn insert_certificate(&mut self, tenant: TenantId, c: &NewCertificate) -> Certificate;
            /// Records the settlement of the bollo; false when it was
            /// already settled or the certificate is missing.
            fn settle_certificate_bollo(&mut self, tenant: TenantId, id: CertificateId, p: &BolloPayment) -> bool;
            /// Revokes a certificate; false when it was already revoked or
            /// is missing.
            fn revoke_certificate(&mut self, tenant: TenantId, id: CertificateId, r: &Revocation) -> bool;
        }
    };
}
