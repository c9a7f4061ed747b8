//! X.509 certificates (RFC 5280) as far as signature verification needs
//! them: the signed part and its signature, names, validity, public key
//! and the extensions that decide what a certificate may do
//! (`basicConstraints`, `keyUsage`, `extKeyUsage`, the ETSI
//! `qcStatements` and `certificatePolicies`). A certificate with a
//! critical extension not listed here is refused (RFC 5280 §4.2).

use jiff::Timestamp;
use sha2::Digest as _;

use super::asn1::{self, Asn1, Malformed, Tlv, tag};
use super::crypto;

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_SURNAME: &[u8] = &[0x55, 0x04, 0x04];
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
const OID_GIVEN_NAME: &[u8] = &[0x55, 0x04, 0x2a];
/// 2.5.4.97 organizationIdentifier (ETSI EN 319 412-1 §5.1.4: the legal
/// person's identifier, e.g. `VATIT-…`).
const OID_ORGANIZATION_IDENTIFIER: &[u8] = &[0x55, 0x04, 0x61];

const OID_SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
const OID_ISSUER_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x12];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const OID_CRL_DP: &[u8] = &[0x55, 0x1d, 0x1f];
const OID_CERT_POLICIES: &[u8] = &[0x55, 0x1d, 0x20];
const OID_AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
const OID_EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
const OID_AIA: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01];
const OID_QC_STATEMENTS: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x03];
/// 1.3.6.1.5.5.7.3.8 id-kp-timeStamping.
pub(crate) const OID_KP_TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];
/// 0.4.0.1862.1.6 id-etsi-qcs-QcType.
const OID_QC_TYPE: &[u8] = &[0x04, 0x00, 0x8e, 0x46, 0x01, 0x06];
/// 0.4.0.1862.1.6.2 id-etsi-qct-eseal.
const OID_QCT_ESEAL: &[u8] = &[0x04, 0x00, 0x8e, 0x46, 0x01, 0x06, 0x02];
/// 0.4.0.194112.1.1 QCP-l and 0.4.0.194112.1.3 QCP-l-qscd (ETSI EN 319
/// 411-2: qualified certificates issued to legal persons, i.e. seals).
const OID_QCP_L: &[u8] = &[0x04, 0x00, 0x8b, 0xec, 0x40, 0x01, 0x01];
const OID_QCP_L_QSCD: &[u8] = &[0x04, 0x00, 0x8b, 0xec, 0x40, 0x01, 0x03];

/// `keyUsage` bits (first octet of the BIT STRING).
pub(crate) const KU_DIGITAL_SIGNATURE: u8 = 0x80;
pub(crate) const KU_NON_REPUDIATION: u8 = 0x40;
pub(crate) const KU_KEY_CERT_SIGN: u8 = 0x04;

/// A parsed certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: std::ops::Range<usize>,
    signature_algorithm: Vec<u8>,
    signature: Vec<u8>,
    pub(crate) serial: Vec<u8>,
    pub(crate) issuer: Vec<u8>,
    pub(crate) subject: Vec<u8>,
    not_before: Timestamp,
    not_after: Timestamp,
    pub(crate) spki: Vec<u8>,
    pub(crate) key_usage: Option<u8>,
    pub(crate) ca: bool,
    pub(crate) ext_key_usage: Vec<Vec<u8>>,
    pub(crate) subject_key_id: Option<Vec<u8>>,
    policies: Vec<Vec<u8>>,
    qc_types: Vec<Vec<u8>>,
    unknown_critical: bool,
}

fn range_of(outer: &[u8], inner: &[u8]) -> std::ops::Range<usize> {
    let start = inner.as_ptr() as usize - outer.as_ptr() as usize;
    start..start + inner.len()
}

impl Certificate {
    /// Parses a DER certificate. `Err` is an Italian detail.
    pub fn parse(der: &[u8]) -> Result<Certificate, String> {
        Self::parse_inner(der).map_err(|_| "certificato X.509 illeggibile".to_owned())
    }

    fn parse_inner(der: &[u8]) -> Asn1<Certificate> {
        let cert = asn1::single(der, tag::SEQUENCE)?;
        let parts = cert.items()?;
        let [tbs, alg, sig] = parts.as_slice() else {
            return Err(Malformed);
        };
        if tbs.tag != tag::SEQUENCE || alg.tag != tag::SEQUENCE {
            return Err(Malformed);
        }
        let signature_algorithm = alg.items()?.first().ok_or(Malformed)?.content.to_vec();
        let signature = asn1::bit_string(sig)?.to_vec();
        let mut fields = tbs.items()?.into_iter().peekable();
        if fields.peek().is_some_and(|f| f.tag == 0xa0) {
            fields.next();
        }
        let mut next = || fields.next().ok_or(Malformed);
        let serial = next()?;
        let _sig_alg = next()?;
        let issuer = next()?;
        let validity = next()?;
        let subject = next()?;
        let spki = next()?;
        if serial.tag != tag::INTEGER
            || issuer.tag != tag::SEQUENCE
            || subject.tag != tag::SEQUENCE
            || spki.tag != tag::SEQUENCE
        {
            return Err(Malformed);
        }
        let times = validity.items()?;
        let [nb, na] = times.as_slice() else {
            return Err(Malformed);
        };
        let mut c = Certificate {
            der: der.to_vec(),
            tbs: range_of(der, tbs.whole),
            signature_algorithm,
            signature,
            serial: serial.whole.to_vec(),
            issuer: issuer.whole.to_vec(),
            subject: subject.whole.to_vec(),
            not_before: asn1::time(nb)?,
            not_after: asn1::time(na)?,
            spki: spki.whole.to_vec(),
            key_usage: None,
            ca: false,
            ext_key_usage: Vec::new(),
            subject_key_id: None,
            policies: Vec::new(),
            qc_types: Vec::new(),
            unknown_critical: false,
        };
        while let Ok(f) = next() {
            if f.tag == 0xa3 {
                let list = asn1::single(f.content, tag::SEQUENCE)?;
                for ext in list.items()? {
                    c.extension(&ext)?;
                }
            }
        }
        Ok(c)
    }

    fn extension(&mut self, ext: &Tlv<'_>) -> Asn1<()> {
        let parts = ext.items()?;
        let (id, critical, value) = match parts.as_slice() {
            [id, value] => (id, false, value),
            [id, b, value] if b.tag == tag::BOOLEAN => {
                (id, b.content.iter().any(|x| *x != 0), value)
            }
            _ => return Err(Malformed),
        };
        if id.tag != tag::OID || value.tag != tag::OCTET_STRING {
            return Err(Malformed);
        }
        let v = value.content;
        match id.content {
            OID_KEY_USAGE => {
                let bits = asn1::bit_string(&asn1::single(v, tag::BIT_STRING)?)?;
                self.key_usage = Some(bits.first().copied().unwrap_or(0));
            }
            OID_BASIC_CONSTRAINTS => {
                let bc = asn1::single(v, tag::SEQUENCE)?;
                self.ca = bc
                    .items()?
                    .first()
                    .is_some_and(|b| b.tag == tag::BOOLEAN && b.content.iter().any(|x| *x != 0));
            }
            OID_EXT_KEY_USAGE => {
                let list = asn1::single(v, tag::SEQUENCE)?;
                self.ext_key_usage = list
                    .items()?
                    .iter()
                    .filter(|o| o.tag == tag::OID)
                    .map(|o| o.content.to_vec())
                    .collect();
            }
            OID_SUBJECT_KEY_ID => {
                self.subject_key_id = Some(asn1::single(v, tag::OCTET_STRING)?.content.to_vec());
            }
            OID_CERT_POLICIES => {
                let list = asn1::single(v, tag::SEQUENCE)?;
                for p in list.items()? {
                    if let Some(oid) = p.items()?.first().filter(|o| o.tag == tag::OID) {
                        self.policies.push(oid.content.to_vec());
                    }
                }
            }
            OID_QC_STATEMENTS => {
                let list = asn1::single(v, tag::SEQUENCE)?;
                for st in list.items()? {
                    let items = st.items()?;
                    if items.first().is_some_and(|o| o.is_oid(OID_QC_TYPE))
                        && let Some(types) = items.get(1).filter(|t| t.tag == tag::SEQUENCE)
                    {
                        for t in types.items()? {
                            self.qc_types.push(t.content.to_vec());
                        }
                    }
                }
            }
            OID_AUTHORITY_KEY_ID | OID_SUBJECT_ALT_NAME | OID_ISSUER_ALT_NAME | OID_CRL_DP
            | OID_AIA => {}
            _ => self.unknown_critical |= critical,
        }
        Ok(())
    }

    /// The certificate, DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// SHA-256 of the DER, lower-case hex (the certificate's fingerprint).
    pub fn fingerprint(&self) -> String {
        sha2::Sha256::digest(&self.der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Start of validity.
    pub fn not_before(&self) -> Timestamp {
        self.not_before
    }

    /// End of validity.
    pub fn not_after(&self) -> Timestamp {
        self.not_after
    }

    /// Whether `basicConstraints` says it is a CA.
    pub fn is_ca(&self) -> bool {
        self.ca
    }

    /// Whether it was valid at `at`.
    pub fn valid_at(&self, at: Timestamp) -> bool {
        self.not_before <= at && at <= self.not_after
    }

    /// The subject, readable (`CN`, then `O`).
    pub fn subject_name(&self) -> String {
        name_text(&self.subject)
    }

    /// The issuer, readable.
    pub fn issuer_name(&self) -> String {
        name_text(&self.issuer)
    }

    /// Whether the subject is self-issued.
    pub fn self_issued(&self) -> bool {
        self.issuer == self.subject
    }

    /// Whether a critical extension Palazzo does not understand is present.
    pub(crate) fn has_unknown_critical(&self) -> bool {
        self.unknown_critical
    }

    /// Whether this is the certificate of an **electronic seal** (a legal
    /// person's, not a natural person's signature): the ETSI
    /// `QcType` statement says `eseal` (EN 319 412-5), or a policy for
    /// legal persons is declared (QCP-l, QCP-l-qscd, EN 319 411-2), or the
    /// subject carries an `organizationIdentifier` and no given name or
    /// surname (EN 319 412-3, the profile of certificates for legal
    /// persons).
    pub fn is_seal(&self) -> bool {
        if self.qc_types.iter().any(|t| t == OID_QCT_ESEAL)
            || self
                .policies
                .iter()
                .any(|p| p == OID_QCP_L || p == OID_QCP_L_QSCD)
        {
            return true;
        }
        let attrs = name_attributes(&self.subject);
        attrs.iter().any(|(o, _)| o == OID_ORGANIZATION_IDENTIFIER)
            && !attrs
                .iter()
                .any(|(o, _)| o == OID_GIVEN_NAME || o == OID_SURNAME)
    }

    /// Whether `issuer`'s key made this certificate's signature.
    pub(crate) fn signed_by(&self, issuer: &Certificate) -> bool {
        let Ok(alg) = crypto::SignatureAlgorithm::from_oid(&self.signature_algorithm, None) else {
            return false;
        };
        crypto::verify(
            &issuer.spki,
            alg,
            &self.der[self.tbs.clone()],
            &self.signature,
        )
        .is_ok()
    }
}

/// The attributes of a `Name`: (OID, text).
fn name_attributes(name: &[u8]) -> Vec<(Vec<u8>, String)> {
    let mut out = Vec::new();
    let Ok(seq) = asn1::single(name, tag::SEQUENCE) else {
        return out;
    };
    for rdn in seq.items().unwrap_or_default() {
        for atv in rdn.items().unwrap_or_default() {
            if let Ok(parts) = atv.items()
                && let [oid, value] = parts.as_slice()
            {
                let text = match value.tag {
                    0x1e => {
                        let units: Vec<u16> = value
                            .content
                            .chunks_exact(2)
                            .map(|c| u16::from_be_bytes([c[0], c[1]]))
                            .collect();
                        String::from_utf16_lossy(&units)
                    }
                    _ => String::from_utf8_lossy(value.content).into_owned(),
                };
                out.push((oid.content.to_vec(), text));
            }
        }
    }
    out
}

/// A readable form of a `Name`: its `CN`, with the `O` in brackets when
/// there is one; or every attribute value.
pub(crate) fn name_text(name: &[u8]) -> String {
    let attrs = name_attributes(name);
    let get = |oid: &[u8]| attrs.iter().find(|(o, _)| o == oid).map(|(_, v)| v.clone());
    match (get(OID_CN), get(OID_O)) {
        (Some(cn), Some(o)) if cn != o => format!("{cn} ({o})"),
        (Some(cn), _) => cn,
        (None, Some(o)) => o,
        (None, None) => attrs
            .into_iter()
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The DER certificates of a PEM text (`CERTIFICATE` blocks).
pub fn pem_certificates(pem: &str) -> Vec<Vec<u8>> {
    crate::segnatura::pem_certificates(pem).unwrap_or_default()
}
