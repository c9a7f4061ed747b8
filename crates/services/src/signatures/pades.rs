//! PAdES seals on the PDFs Palazzo issues, and their verification
//! (DECISIONS 14; procedures.md ANA-04; sealed-certificates.md R11).
//!
//! The seal is PAdES baseline B-B (ETSI EN 319 142-1 §6.3): a CMS
//! `SignedData` (RFC 5652) without the content (`/SubFilter
//! /ETSI.CAdES.detached`) whose signed attributes are exactly
//! `contentType` (id-data), `messageDigest` (SHA-256 of the PDF's byte
//! ranges) and `signingCertificateV2` (ESS, RFC 5035: the SHA-256 of the
//! seal's certificate and its issuer and serial). There is **no**
//! `signingTime`: PAdES takes the time from the signature dictionary's
//! `/M` (domain doc protocol-documents.md §9.3). The certificates carried
//! are the signer's chain ([`X509Signer::certificate_chain`]), so that a
//! verifier needs only the root.
//!
//! The PDF side (the incremental update, the placeholder, the byte
//! ranges) is `palazzo_pdf::signature`; the signing key is any
//! [`X509Signer`] (the comune's seal in the key store, an HSM, a remote
//! qualified-seal service). Independent check: pyHanko validates the
//! result against the CA (`testbeds/seal/chain-check.py`).

use jiff::Timestamp;
use palazzo_pdf::PreparedPdf;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::TrustAnchors;
use super::cades::{
    self, EnvelopeReport, OID_CONTENT_TYPE, OID_MESSAGE_DIGEST, OID_SIGNED_DATA,
    OID_SIGNING_CERTIFICATE_V2,
};
use crate::keys::{X509Algorithm, X509Signer};
use crate::segnatura::der::{self, encode};
use crate::{ServiceError, ServiceResult};

/// 1.2.840.113549.1.7.1 id-data.
const OID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
/// 2.16.840.1.101.3.4.2.1 id-sha256.
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
/// 1.2.840.10045.4.3.2 ecdsa-with-SHA256.
const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
/// 1.2.840.113549.1.1.11 sha256WithRSAEncryption.
const OID_RSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];

fn internal(what: &str) -> ServiceError {
    ServiceError::Internal(format!("PAdES: {what}"))
}

fn oid(content: &[u8]) -> Vec<u8> {
    encode(0x06, content)
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    encode(0x30, &parts.concat())
}

/// A DER `SET OF`: the elements sorted by their encodings (X.690 §11.6).
fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    encode(0x31, &elements.concat())
}

/// A DER `INTEGER` of an unsigned big-endian number.
fn unsigned_integer(bytes: &[u8]) -> Vec<u8> {
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let mut content = Vec::with_capacity(bytes.len() + 1);
    let rest = &bytes[skip.min(bytes.len().saturating_sub(1))..];
    if rest.first().is_some_and(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(rest);
    encode(0x02, &content)
}

/// An ECDSA signature r‖s as the DER `Ecdsa-Sig-Value` CMS carries
/// (RFC 5753 §7.2).
fn ecdsa_der(raw: &[u8]) -> ServiceResult<Vec<u8>> {
    if raw.len() != 64 {
        return Err(internal("an ECDSA P-256 signature is 64 bytes"));
    }
    Ok(seq(&[
        &unsigned_integer(&raw[..32]),
        &unsigned_integer(&raw[32..]),
    ]))
}

/// Bytes to reserve in the PDF for the CMS made by `signer`: its
/// certificates, the signature and the attributes, with room to spare.
pub fn capacity(signer: &dyn X509Signer) -> usize {
    signer
        .certificate_chain()
        .iter()
        .map(Vec::len)
        .sum::<usize>()
        + 2048
}

/// The detached CMS `SignedData` of a PAdES B-B signature over content
/// whose SHA-256 is `digest`.
///
/// # Errors
/// `Internal` when the signer has no certificate, its certificate cannot
/// be read, or it fails to sign.
pub fn cms_detached(signer: &dyn X509Signer, digest: &[u8; 32]) -> ServiceResult<Vec<u8>> {
    let chain = signer.certificate_chain();
    let cert = chain
        .first()
        .ok_or_else(|| internal("the seal has no certificate"))?;
    let fields =
        der::cert_fields(cert).ok_or_else(|| internal("the seal's certificate is unreadable"))?;
    // SHA-256 without parameters (RFC 5754 §2).
    let sha256 = seq(&[&oid(OID_SHA256)]);
    let attribute = |o: &[u8], value: &[u8]| seq(&[&oid(o), &encode(0x31, value)]);
    // ESSCertIDv2 with the default hash (SHA-256, so omitted) and the
    // issuer and serial (RFC 5035 §3).
    let cert_id = seq(&[
        &encode(0x04, &Sha256::digest(cert)),
        &der::issuer_serial(&fields),
    ]);
    let signed_attrs = set_of(vec![
        attribute(OID_CONTENT_TYPE, &oid(OID_DATA)),
        attribute(OID_MESSAGE_DIGEST, &encode(0x04, digest)),
        attribute(OID_SIGNING_CERTIFICATE_V2, &seq(&[&seq(&[&cert_id])])),
    ]);
    // The signature is over the DER SET OF; the SignerInfo carries it
    // with the [0] IMPLICIT tag (RFC 5652 §5.4).
    let raw = signer.sign(&signed_attrs)?;
    let (algorithm, signature) = match signer.algorithm() {
        X509Algorithm::EcdsaP256Sha256 => (seq(&[&oid(OID_ECDSA_SHA256)]), ecdsa_der(&raw)?),
        X509Algorithm::RsaPkcs1Sha256 => (seq(&[&oid(OID_RSA_SHA256), &[0x05, 0x00]]), raw),
    };
    let mut implicit = signed_attrs;
    implicit[0] = 0xa0;
    let signer_info = seq(&[
        &[0x02, 0x01, 0x01],
        &seq(&[&fields.issuer, &fields.serial]),
        &sha256,
        &implicit,
        &algorithm,
        &encode(0x04, &signature),
    ]);
    let mut certificates = chain.to_vec();
    certificates.sort();
    let signed_data = seq(&[
        &[0x02, 0x01, 0x01],
        &encode(0x31, &sha256),
        &seq(&[&oid(OID_DATA)]),
        &encode(0xa0, &certificates.concat()),
        &encode(0x31, &signer_info),
    ]);
    Ok(seq(&[&oid(OID_SIGNED_DATA), &encode(0xa0, &signed_data)]))
}

/// Signs a prepared PDF: the SHA-256 of its byte ranges, the CMS, the
/// placeholder filled.
///
/// # Errors
/// As [`cms_detached`]; `Internal` when the CMS does not fit.
pub fn seal_pdf(prepared: PreparedPdf, signer: &dyn X509Signer) -> ServiceResult<Vec<u8>> {
    let mut h = Sha256::new();
    for part in prepared.signed_bytes() {
        h.update(part);
    }
    let cms = cms_detached(signer, &h.finalize().into())?;
    prepared.finish(&cms).map_err(|e| internal(&e.to_string()))
}

/// The verification of a PDF's PAdES signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PadesReport {
    /// The CMS verified over the signed byte ranges.
    pub signature: EnvelopeReport,
    /// The signature covers the whole file: nothing was added after it.
    pub covers_whole_file: bool,
    /// `/SubFilter` is `ETSI.CAdES.detached` (PAdES) or
    /// `adbe.pkcs7.detached`.
    pub detached_cms: bool,
}

impl PadesReport {
    /// Valid, trusted, and covering the whole file.
    pub fn valid(&self) -> bool {
        self.covers_whole_file && self.detached_cms && self.signature.valid()
    }

    /// Who sealed it (the certificate's subject), when found.
    pub fn signer(&self) -> Option<&str> {
        self.signature
            .signatures
            .first()
            .and_then(|s| s.signer.as_deref())
    }

    /// The first problem, in Italian; `None` when [`PadesReport::valid`].
    pub fn problem(&self) -> Option<String> {
        if !self.detached_cms {
            return Some("la firma del file non è una firma PAdES".into());
        }
        if let Some(p) = self.signature.problem() {
            return Some(p.detail);
        }
        if !self.covers_whole_file {
            return Some(
                "il file è stato modificato dopo la firma: la firma non copre tutto il file".into(),
            );
        }
        if self.signature.signatures.is_empty() {
            return Some("nessuna firma".into());
        }
        None
    }
}

/// Verifies the last signature of `pdf` against `anchors`, at the signing
/// time the signature dictionary states (`/M`, inside the signed bytes:
/// PAdES B-B carries no other), else at `now`. `Ok(None)` when the PDF has
/// no signature.
///
/// # Errors
/// An Italian description when the file claims a signature that cannot be
/// read (a `/ByteRange` outside the file, `/Contents` not a DER CMS).
pub fn verify_pdf(
    pdf: &[u8],
    anchors: &TrustAnchors,
    now: Timestamp,
) -> Result<Option<PadesReport>, String> {
    let parts = match palazzo_pdf::signature_parts(pdf) {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(None),
        Err(e) => return Err(format!("la firma del file non è leggibile ({e})")),
    };
    let at = parts
        .signing_time
        .as_deref()
        .and_then(pdf_date)
        .unwrap_or(now);
    Ok(Some(PadesReport {
        signature: cades::verify_detached(&parts.cms, &parts.signed, anchors, at),
        covers_whole_file: parts.covers_whole_file,
        detached_cms: matches!(
            parts.sub_filter.as_deref(),
            Some("ETSI.CAdES.detached" | "adbe.pkcs7.detached")
        ),
    }))
}

/// A PDF date (ISO 32000-1 §7.9.4) `D:YYYYMMDDHHmmSS` followed by `Z` or
/// an offset `+HH'mm'` / `-HH'mm'` (none: UTC).
fn pdf_date(text: &str) -> Option<Timestamp> {
    let t = text.strip_prefix("D:")?;
    let digits = |r: std::ops::Range<usize>| t.get(r)?.parse::<i16>().ok();
    // Checked constructors: the text comes from an uploaded file.
    let date = jiff::civil::Date::new(
        digits(0..4)?,
        i8::try_from(digits(4..6)?).ok()?,
        i8::try_from(digits(6..8)?).ok()?,
    )
    .ok()?;
    let time = jiff::civil::Time::new(
        i8::try_from(digits(8..10)?).ok()?,
        i8::try_from(digits(10..12)?).ok()?,
        i8::try_from(digits(12..14)?).ok()?,
        0,
    )
    .ok()?;
    let civil = jiff::civil::DateTime::from_parts(date, time);
    let offset_secs = match t.get(14..15) {
        None | Some("Z") => 0,
        Some(sign @ ("+" | "-")) => {
            let hh = i32::from(digits(15..17)?);
            let mm = t
                .get(18..20)
                .and_then(|m| m.parse::<i32>().ok())
                .unwrap_or(0);
            let v = hh * 3600 + mm * 60;
            if sign == "-" { -v } else { v }
        }
        Some(_) => return None,
    };
    let offset = jiff::tz::Offset::from_seconds(offset_secs).ok()?;
    offset.to_timestamp(civil).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pdf_dates() {
        let t = |s: &str| pdf_date(s).map(|t| t.to_string());
        assert_eq!(
            t("D:20261127093000Z").as_deref(),
            Some("2026-11-27T09:30:00Z")
        );
        assert_eq!(
            t("D:20261127103000+01'00'").as_deref(),
            Some("2026-11-27T09:30:00Z")
        );
        assert_eq!(
            t("D:20261127093000").as_deref(),
            Some("2026-11-27T09:30:00Z")
        );
        assert_eq!(t("D:2026"), None);
        assert_eq!(t("20261127093000Z"), None);
        assert_eq!(t("D:20261327093000Z"), None);
        assert_eq!(t("D:20260230256199Z"), None);
        assert_eq!(t("D:20261127093000+99'99'"), None);
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(unsigned_integer(&[0, 0, 0x7f]), vec![0x02, 0x01, 0x7f]);
        assert_eq!(unsigned_integer(&[0, 0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(unsigned_integer(&[0, 0]), vec![0x02, 0x01, 0x00]);
        assert!(ecdsa_der(&[1; 63]).is_err());
        let sig = ecdsa_der(&[0xff; 64]).unwrap();
        assert_eq!(&sig[..4], &[0x30, 0x46, 0x02, 0x21]);
    }
}
