//! CAdES envelopes (`.p7m`, CMS `SignedData` with attached content,
//! RFC 5652 / ETSI EN 319 122-1) received with a protocol message or
//! uploaded: every signature of every nested envelope is verified.
//!
//! For each `SignerInfo`:
//! 1. the signer's certificate is the one `sid` names among the envelope's
//!    certificates, and the signed `signingCertificateV2` (or the older
//!    `signingCertificate`) attribute is its digest;
//! 2. the signed `messageDigest` attribute is the digest of the content
//!    and `contentType` is the content's type;
//! 3. the signature verifies over the DER of the signed attributes with
//!    the certificate's key (RSA PKCS#1 v1.5, ECDSA P-256; SHA-256/384/512);
//! 4. an RFC 3161 signature time-stamp (unsigned attribute
//!    `id-aa-signatureTimeStampToken`), if present, time-stamps the
//!    signature value, and is itself a valid CMS signature of a TSA whose
//!    certificate chains to the trust anchors with `extKeyUsage`
//!    timeStamping;
//! 5. the signer's certificate chains to the trust anchors and was valid at
//!    the signature's time: the time-stamp's `genTime` if there is one,
//!    else the signed `signingTime`, else now (`super::validate_chain`).
//!
//! A failure of 1–3 or 5 is a signature problem (a seal problem when the
//! signer's certificate is a seal's, [`Certificate::is_seal`]); a
//! failure of 4 is a time-stamp problem. Allegato 6 §3.1 maps them to
//! `004`, `006` and `005`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::asn1::{self, Tlv, tag};
use super::crypto::{self, Hash, SignatureAlgorithm};
use super::{Certificate, TrustAnchors, Usage, validate_chain};
use crate::documents::p7m::{looks_like_der_p7m, unwrap_base64};

pub(super) const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
pub(super) const OID_CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
pub(super) const OID_MESSAGE_DIGEST: &[u8] =
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
const OID_SIGNING_TIME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];
const OID_SIGNING_CERTIFICATE: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0c,
];
pub(super) const OID_SIGNING_CERTIFICATE_V2: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f,
];
/// 1.2.840.113549.1.9.16.2.14 id-aa-signatureTimeStampToken.
pub(crate) const OID_SIGNATURE_TIME_STAMP: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0e,
];
const OID_TST_INFO: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];

/// How deeply envelopes may nest (a `.p7m.p7m` …).
const MAX_NESTING: usize = 4;

/// What went wrong with a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The signature, or its signer's certificate (Allegato 6: `004`).
    Firma,
    /// The signature time-stamp (`005`).
    MarcaTemporale,
    /// The signature of a seal, or its certificate (`006`).
    Sigillo,
}

/// A problem found, with an Italian detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Which kind.
    pub kind: ProblemKind,
    /// What was found, in Italian.
    pub detail: String,
}

/// One verified signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerReport {
    /// The signer (certificate subject), if the certificate was found.
    pub signer: Option<String>,
    /// The certificate's issuer.
    pub issuer: Option<String>,
    /// Whether the certificate is an electronic seal's.
    pub seal: bool,
    /// The signed `signingTime`, as claimed by the signer.
    pub signing_time: Option<Timestamp>,
    /// The `genTime` of a verified signature time-stamp.
    pub time_stamp: Option<Timestamp>,
    /// The time-stamping authority.
    pub time_stamp_authority: Option<String>,
    /// Whether the signature itself verifies (certificate found,
    /// `messageDigest`, signature value), whatever the trust in its signer.
    pub signature_valid: bool,
    /// Whether the certificate chains to a trust anchor of the ente.
    pub trusted: bool,
    /// How deep the envelope is (0: the outer one).
    pub nesting: usize,
    /// The first problem found; `None`: valid.
    pub problem: Option<Problem>,
    /// SHA-256 (hex) of the signer's certificate, if it was found: to
    /// recognise a signer by its certificate, not only by its chain.
    #[serde(default)]
    pub certificate_sha256: Option<String>,
}

/// The verification of a `.p7m`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeReport {
    /// Every signature, outer envelope first.
    pub signatures: Vec<SignerReport>,
    /// A problem of the envelope itself (unreadable, no signature).
    pub envelope_problem: Option<String>,
    /// A detached signature (`.p7s`): the content is not in the envelope,
    /// nothing could be verified.
    pub detached: bool,
    /// When the verification ran.
    pub verified_at: Timestamp,
}

impl EnvelopeReport {
    /// The first problem: the envelope's, or a signature's. The kind of an
    /// envelope problem is `Firma`.
    pub fn problem(&self) -> Option<Problem> {
        if let Some(d) = &self.envelope_problem {
            return Some(Problem {
                kind: ProblemKind::Firma,
                detail: d.clone(),
            });
        }
        self.signatures.iter().find_map(|s| s.problem.clone())
    }

    /// Whether every signature verified and is trusted.
    pub fn valid(&self) -> bool {
        !self.detached && self.problem().is_none() && !self.signatures.is_empty()
    }
}

/// The DER envelope, if `bytes` are a CMS `SignedData` (DER/BER, or
/// base64/PEM-wrapped).
pub fn envelope(bytes: &[u8]) -> Option<Vec<u8>> {
    if looks_like_der_p7m(bytes) {
        Some(bytes.to_vec())
    } else {
        unwrap_base64(bytes)
    }
}

/// Verifies a `.p7m` against `anchors` at `now`. `None` when `bytes` are
/// not a CMS envelope.
pub fn verify(bytes: &[u8], anchors: &TrustAnchors, now: Timestamp) -> Option<EnvelopeReport> {
    let der = envelope(bytes)?;
    let mut report = EnvelopeReport {
        signatures: Vec::new(),
        envelope_problem: None,
        detached: false,
        verified_at: now,
    };
    let mut current = der;
    for nesting in 0..MAX_NESTING {
        match verify_layer(&current, anchors, now, nesting, &mut report) {
            Ok(Some(content)) => match envelope(&content) {
                Some(inner) => current = inner,
                None => return Some(report),
            },
            Ok(None) => {
                report.detached = true;
                return Some(report);
            }
            Err(detail) => {
                report.envelope_problem = Some(detail);
                return Some(report);
            }
        }
    }
    report.envelope_problem = Some("troppe buste annidate".into());
    Some(report)
}

/// Verifies a detached CMS `SignedData` (a `.p7s`, or the `/Contents` of
/// a PAdES signature) over `content` against `anchors` at `now`.
pub fn verify_detached(
    der: &[u8],
    content: &[u8],
    anchors: &TrustAnchors,
    now: Timestamp,
) -> EnvelopeReport {
    let mut report = EnvelopeReport {
        signatures: Vec::new(),
        envelope_problem: None,
        detached: false,
        verified_at: now,
    };
    match signed_data(der) {
        Err(detail) => report.envelope_problem = Some(detail),
        Ok(sd) if sd.content.is_some() => {
            report.envelope_problem =
                Some("la busta contiene il documento: non è una firma separata".into());
        }
        Ok(sd) if sd.signer_infos.is_empty() => {
            report.envelope_problem = Some("la busta non contiene firme".into());
        }
        Ok(sd) => {
            for si in &sd.signer_infos {
                report
                    .signatures
                    .push(verify_signer(si, &sd, content, anchors, now, 0));
            }
        }
    }
    report
}

/// A parsed `SignedData`.
struct SignedData<'a> {
    content_type: &'a [u8],
    content: Option<Vec<u8>>,
    certificates: Vec<Certificate>,
    signer_infos: Vec<Tlv<'a>>,
}

fn unreadable<T>(_: T) -> String {
    "la busta firmata non è leggibile (struttura CMS non valida)".to_owned()
}

fn signed_data(der: &[u8]) -> Result<SignedData<'_>, String> {
    let info = asn1::single(der, tag::SEQUENCE).map_err(unreadable)?;
    let parts = info.items().map_err(unreadable)?;
    let [oid, explicit, ..] = parts.as_slice() else {
        return Err(unreadable(()));
    };
    if !oid.is_oid(OID_SIGNED_DATA) || explicit.tag != 0xa0 {
        return Err("non è una busta CMS SignedData".into());
    }
    let sd = explicit
        .items()
        .map_err(unreadable)?
        .into_iter()
        .next()
        .filter(|t| t.tag == tag::SEQUENCE)
        .ok_or_else(|| unreadable(()))?;
    let fields = sd.items().map_err(unreadable)?;
    let mut it = fields.into_iter();
    let (Some(_version), Some(_algs), Some(encap)) = (it.next(), it.next(), it.next()) else {
        return Err(unreadable(()));
    };
    let encap_items = encap.items().map_err(unreadable)?;
    let content_type = encap_items
        .first()
        .filter(|o| o.tag == tag::OID)
        .ok_or_else(|| unreadable(()))?
        .content;
    let content = match encap_items.get(1) {
        Some(w) if w.tag == 0xa0 => {
            let os = w
                .items()
                .map_err(unreadable)?
                .into_iter()
                .next()
                .ok_or_else(|| unreadable(()))?;
            Some(asn1::octets(&os).map_err(unreadable)?)
        }
        Some(_) => return Err(unreadable(())),
        None => None,
    };
    let mut certificates = Vec::new();
    let mut signer_infos = Vec::new();
    for f in it {
        match f.tag {
            0xa0 => {
                for c in f.items().map_err(unreadable)? {
                    if c.tag == tag::SEQUENCE
                        && let Ok(cert) = Certificate::parse(c.whole)
                    {
                        certificates.push(cert);
                    }
                }
            }
            tag::SET => signer_infos = f.items().map_err(unreadable)?,
            _ => {}
        }
    }
    Ok(SignedData {
        content_type,
        content,
        certificates,
        signer_infos,
    })
}

/// Verifies one envelope's signatures into `report`; returns its content
/// (`None`: detached).
fn verify_layer(
    der: &[u8],
    anchors: &TrustAnchors,
    now: Timestamp,
    nesting: usize,
    report: &mut EnvelopeReport,
) -> Result<Option<Vec<u8>>, String> {
    let sd = signed_data(der)?;
    let Some(content) = sd.content.clone() else {
        return Ok(None);
    };
    if sd.signer_infos.is_empty() {
        return Err("la busta non contiene firme".into());
    }
    for si in &sd.signer_infos {
        report
            .signatures
            .push(verify_signer(si, &sd, &content, anchors, now, nesting));
    }
    Ok(Some(content))
}

/// A `SignerInfo` whose signature verified.
struct CheckedSigner<'a> {
    certificate: &'a Certificate,
    signing_time: Option<Timestamp>,
    signature: Vec<u8>,
    unsigned: Option<Tlv<'a>>,
}

/// One attribute: its OID (content octets) and its values.
type Attribute<'a> = (&'a [u8], Vec<Tlv<'a>>);

/// The attributes of a `[0]`/`[1]` attribute set.
fn attributes<'a>(set: &Tlv<'a>) -> Result<Vec<Attribute<'a>>, String> {
    let mut out = Vec::new();
    for a in set.items().map_err(unreadable)? {
        let parts = a.items().map_err(unreadable)?;
        let [oid, values] = parts.as_slice() else {
            return Err(unreadable(()));
        };
        if oid.tag != tag::OID || values.tag != tag::SET {
            return Err(unreadable(()));
        }
        out.push((oid.content, values.items().map_err(unreadable)?));
    }
    Ok(out)
}

/// Steps 1–3 for one `SignerInfo` over `content`. `Err`: (certificate
/// found, Italian detail).
fn check_signer<'a>(
    si: &Tlv<'a>,
    certificates: &'a [Certificate],
    content_type: &[u8],
    content: &[u8],
) -> Result<CheckedSigner<'a>, (Option<&'a Certificate>, String)> {
    let bad = |d: &str| -> (Option<&'a Certificate>, String) { (None, d.to_owned()) };
    let fields = si.items().map_err(|_| bad("SignerInfo illeggibile"))?;
    let mut it = fields.into_iter().peekable();
    let (Some(_version), Some(sid), Some(digest_alg)) = (it.next(), it.next(), it.next()) else {
        return Err(bad("SignerInfo incompleto"));
    };
    let signed_attrs = it.next_if(|t| t.tag == 0xa0);
    let (Some(sig_alg), Some(signature)) = (it.next(), it.next()) else {
        return Err(bad("SignerInfo incompleto"));
    };
    let unsigned = it.next_if(|t| t.tag == 0xa1);

    // 1. The certificate.
    let certificate = match sid.tag {
        tag::SEQUENCE => {
            let parts = sid.items().map_err(|_| bad("SignerInfo illeggibile"))?;
            let [issuer, serial] = parts.as_slice() else {
                return Err(bad("SignerInfo illeggibile"));
            };
            certificates
                .iter()
                .find(|c| c.issuer == issuer.whole && c.serial == serial.whole)
        }
        0x80 => certificates
            .iter()
            .find(|c| c.subject_key_id.as_deref() == Some(sid.content)),
        _ => None,
    }
    .ok_or_else(|| bad("il certificato del firmatario non è nella busta"))?;
    let with = |d: &str| (Some(certificate), d.to_owned());
    let oid_of = |t: &Tlv<'_>| {
        t.items().ok().and_then(|i| {
            i.first()
                .filter(|o| o.tag == tag::OID)
                .map(|o| o.content.to_vec())
        })
    };
    let hash = oid_of(&digest_alg)
        .and_then(|o| Hash::from_oid(&o))
        .filter(|h| *h != Hash::Sha1)
        .ok_or_else(|| with("algoritmo di impronta non supportato o non più ammesso (SHA-1)"))?;

    // 2. Signed attributes.
    let signed_attrs =
        signed_attrs.ok_or_else(|| with("attributi firmati mancanti: non è una firma CAdES"))?;
    let attrs = attributes(&signed_attrs).map_err(|d| (Some(certificate), d))?;
    let first = |oid: &[u8]| {
        attrs
            .iter()
            .find(|(o, _)| *o == oid)
            .and_then(|(_, v)| v.first().copied())
    };
    match first(OID_CONTENT_TYPE) {
        Some(ct) if ct.is_oid(content_type) => {}
        _ => return Err(with("l'attributo contentType non corrisponde al contenuto")),
    }
    let digest = first(OID_MESSAGE_DIGEST)
        .filter(|d| d.tag == tag::OCTET_STRING)
        .ok_or_else(|| with("attributo messageDigest mancante"))?;
    if digest.content != hash.digest(content).as_slice() {
        return Err(with(
            "il contenuto firmato è stato modificato: la sua impronta non corrisponde a quella firmata (messageDigest)",
        ));
    }
    let signing_time = match first(OID_SIGNING_TIME) {
        Some(t) => Some(asn1::time(&t).map_err(|_| with("attributo signingTime non valido"))?),
        None => None,
    };
    check_signing_certificate(
        certificate,
        first(OID_SIGNING_CERTIFICATE_V2),
        first(OID_SIGNING_CERTIFICATE),
    )
    .map_err(|d| (Some(certificate), d))?;

    // 3. The signature over the DER SET OF the signed attributes.
    let alg = oid_of(&sig_alg)
        .ok_or_else(|| with("algoritmo di firma illeggibile"))
        .and_then(|o| {
            SignatureAlgorithm::from_oid(&o, Some(hash)).map_err(|d| (Some(certificate), d))
        })?;
    let signature = asn1::octets(&signature).map_err(|_| with("valore della firma illeggibile"))?;
    let mut signed = signed_attrs.whole.to_vec();
    signed[0] = tag::SET;
    crypto::verify(&certificate.spki, alg, &signed, &signature)
        .map_err(|d| (Some(certificate), format!("la firma non è valida: {d}")))?;
    Ok(CheckedSigner {
        certificate,
        signing_time,
        signature,
        unsigned,
    })
}

/// `signingCertificateV2` (`ESSCertIDv2`, any SHA-2, default SHA-256) or
/// `signingCertificate` (`ESSCertID`, SHA-1): the first certificate
/// identified must be the signer's.
fn check_signing_certificate(
    cert: &Certificate,
    v2: Option<Tlv<'_>>,
    v1: Option<Tlv<'_>>,
) -> Result<(), String> {
    let mismatch = || {
        "il certificato del firmatario non è quello indicato negli attributi firmati (signingCertificate)"
            .to_owned()
    };
    /// The fields of the first `ESSCertID(v2)` of a `SigningCertificate(V2)`.
    fn first_id<'a>(t: &Tlv<'a>) -> Option<Vec<Tlv<'a>>> {
        let certs = t.items().ok()?.into_iter().next()?;
        certs.items().ok()?.into_iter().next()?.items().ok()
    }
    if let Some(v2) = &v2 {
        let id = first_id(v2).ok_or_else(mismatch)?;
        let (hash, cert_hash) = match id.as_slice() {
            [alg, h, ..] if alg.tag == tag::SEQUENCE => {
                let oid = alg
                    .items()
                    .ok()
                    .and_then(|i| i.first().map(|o| o.content.to_vec()));
                (
                    oid.and_then(|o| Hash::from_oid(&o)).ok_or_else(mismatch)?,
                    h,
                )
            }
            [h, ..] => (Hash::Sha256, h),
            [] => return Err(mismatch()),
        };
        if cert_hash.tag != tag::OCTET_STRING
            || cert_hash.content != hash.digest(cert.der()).as_slice()
        {
            return Err(mismatch());
        }
        return Ok(());
    }
    if let Some(v1) = &v1 {
        let id = first_id(v1).ok_or_else(mismatch)?;
        let h = id.first().ok_or_else(mismatch)?;
        if h.tag != tag::OCTET_STRING || h.content != Hash::Sha1.digest(cert.der()).as_slice() {
            return Err(mismatch());
        }
        return Ok(());
    }
    Err("attributo signingCertificateV2 mancante: non è una firma CAdES-BES".into())
}

fn verify_signer(
    si: &Tlv<'_>,
    sd: &SignedData<'_>,
    content: &[u8],
    anchors: &TrustAnchors,
    now: Timestamp,
    nesting: usize,
) -> SignerReport {
    let mut r = SignerReport {
        signer: None,
        issuer: None,
        seal: false,
        signing_time: None,
        time_stamp: None,
        time_stamp_authority: None,
        signature_valid: false,
        trusted: false,
        nesting,
        problem: None,
        certificate_sha256: None,
    };
    let checked = check_signer(si, &sd.certificates, sd.content_type, content);
    let cert = match &checked {
        Ok(c) => Some(c.certificate),
        Err((c, _)) => *c,
    };
    if let Some(c) = cert {
        r.certificate_sha256 = Some(c.fingerprint());
        r.signer = Some(c.subject_name());
        r.issuer = Some(c.issuer_name());
        r.seal = c.is_seal();
    }
    let kind = if r.seal {
        ProblemKind::Sigillo
    } else {
        ProblemKind::Firma
    };
    let checked = match checked {
        Ok(c) => c,
        Err((_, detail)) => {
            r.problem = Some(Problem { kind, detail });
            return r;
        }
    };
    r.signing_time = checked.signing_time;
    r.signature_valid = true;
    // 4. The signature time-stamp.
    if let Some(unsigned) = &checked.unsigned {
        let token = attributes(unsigned).ok().and_then(|a| {
            a.into_iter()
                .find(|(o, _)| *o == OID_SIGNATURE_TIME_STAMP)
                .and_then(|(_, v)| v.into_iter().next())
        });
        if let Some(token) = token {
            match verify_time_stamp(token.whole, &checked.signature, anchors, now) {
                Ok((at, tsa)) => {
                    r.time_stamp = Some(at);
                    r.time_stamp_authority = Some(tsa);
                }
                Err(detail) => {
                    r.problem = Some(Problem {
                        kind: ProblemKind::MarcaTemporale,
                        detail: format!("la marca temporale della firma non è valida: {detail}"),
                    });
                    return r;
                }
            }
        }
    }
    // 5. Trust at the signature's time.
    let at = r.time_stamp.or(r.signing_time).unwrap_or(now);
    match validate_chain(
        checked.certificate,
        &sd.certificates,
        anchors,
        at,
        Usage::Signing,
    ) {
        Ok(_) => r.trusted = true,
        Err(detail) => {
            r.problem = Some(Problem {
                kind,
                detail: format!("firmatario non attendibile: {detail}"),
            });
        }
    }
    r
}

/// Verifies an RFC 3161 time-stamp token over `signature`: the imprint,
/// the TSA's CMS signature and its certificate. Returns `genTime` and the
/// TSA's name.
pub(crate) fn verify_time_stamp(
    token: &[u8],
    signature: &[u8],
    anchors: &TrustAnchors,
    now: Timestamp,
) -> Result<(Timestamp, String), String> {
    let sd = signed_data(token)?;
    if sd.content_type != OID_TST_INFO {
        return Err("il token non contiene un TSTInfo".into());
    }
    let tst = sd
        .content
        .as_deref()
        .ok_or("il token non contiene un TSTInfo")?;
    let bad = || "TSTInfo illeggibile".to_owned();
    let info = asn1::single(tst, tag::SEQUENCE).map_err(|_| bad())?;
    let fields = info.items().map_err(|_| bad())?;
    let [_version, _policy, imprint, _serial, gen_time, ..] = fields.as_slice() else {
        return Err(bad());
    };
    let imprint = imprint.items().map_err(|_| bad())?;
    let [alg, hashed] = imprint.as_slice() else {
        return Err(bad());
    };
    let hash = alg
        .items()
        .ok()
        .and_then(|i| i.first().and_then(|o| Hash::from_oid(o.content)))
        .filter(|h| *h != Hash::Sha1)
        .ok_or("algoritmo dell'impronta marcata non supportato")?;
    if hashed.content != hash.digest(signature).as_slice() {
        return Err("la marca temporale non si riferisce a questa firma (impronta diversa)".into());
    }
    let gen_time = asn1::time(gen_time).map_err(|_| bad())?;
    if gen_time > now + jiff::SignedDuration::from_mins(10) {
        return Err("l'ora della marca temporale è nel futuro".into());
    }
    let si = sd.signer_infos.first().ok_or("il token non è firmato")?;
    let checked = check_signer(si, &sd.certificates, OID_TST_INFO, tst).map_err(|(_, d)| d)?;
    validate_chain(
        checked.certificate,
        &sd.certificates,
        anchors,
        gen_time,
        Usage::TimeStamping,
    )?;
    Ok((gen_time, checked.certificate.subject_name()))
}
