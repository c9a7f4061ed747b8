//! An RFC 3161 time-stamp client (DECISIONS 12: the day's last checkpoint is
//! timestamped; docs/registro-giornaliero.md).
//!
//! [`TimestampRequest::new`] writes the DER `TimeStampReq` (version 1, a
//! SHA-256 `MessageImprint`, a random 64-bit nonce, `certReq` TRUE so the
//! token carries the TSA certificate); [`TsaClient::timestamp`] posts it as
//! `application/timestamp-query` (RFC 3161 §3.4) and [`parse_response`]
//! checks the answer: `PKIStatus` granted (0) or grantedWithMods (1), a
//! `ContentInfo` of `id-signedData` whose encapsulated content is an
//! `id-ct-TSTInfo`, and in the `TSTInfo` the same imprint (algorithm and
//! digest) and the same nonce. The token is kept byte for byte as the TSA
//! returned it, so that anyone can check it later (`openssl ts -verify
//! -token_in …`).
//!
//! The CMS signature over the `TSTInfo` and the TSA's certificate chain are
//! not verified here: they are verified by whoever relies on the token
//! against the TSA's trust anchors (the conservatore, an auditor, or the
//! tests with `openssl ts -verify`), which Palazzo does not pin.

use std::time::Duration;

use jiff::Timestamp;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{ServiceError, ServiceResult};

/// `[tsa]` in `palazzo.toml`: the time-stamp authority. Without `url` the
/// registro giornaliero is still produced, with its checkpoint left
/// un-timestamped and a warning in the log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TsaConfig {
    /// The TSA's HTTP(S) URL, e.g. `https://tsa.example.it/tsa`.
    pub url: Option<String>,
    /// Seconds to wait for an answer (default 30).
    pub timeout_secs: Option<u64>,
}

/// OID 2.16.840.1.101.3.4.2.1 (id-sha256), DER content octets.
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
/// OID 1.2.840.113549.1.7.2 (id-signedData).
const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
/// OID 1.2.840.113549.1.9.16.1.4 (id-ct-TSTInfo).
const OID_TST_INFO: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const BOOLEAN: u8 = 0x01;
const OCTET_STRING: u8 = 0x04;
const NULL: u8 = 0x05;
const OID: u8 = 0x06;
const GENERALIZED_TIME: u8 = 0x18;
const CONTEXT_0: u8 = 0xa0;

/// Why a time stamp could not be obtained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TsaError {
    /// The TSA could not be reached or answered with an HTTP error.
    #[error("TSA transport: {0}")]
    Transport(String),
    /// The TSA refused (`PKIStatus` 2..5), with its status text if any.
    #[error("TSA refused the request (status {status}): {text}")]
    Refused {
        /// `PKIStatus`.
        status: u64,
        /// `statusString`, joined.
        text: String,
    },
    /// The answer is not a well-formed `TimeStampResp`.
    #[error("malformed TimeStampResp: {0}")]
    Malformed(String),
    /// The token time-stamps another digest or algorithm.
    #[error("the token's message imprint differs from the request's")]
    ImprintMismatch,
    /// The token's nonce differs from the request's.
    #[error("the token's nonce differs from the request's")]
    NonceMismatch,
}

impl From<TsaError> for ServiceError {
    fn from(e: TsaError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

fn malformed(what: &str) -> TsaError {
    TsaError::Malformed(what.to_owned())
}

// ------------------------------------------------------------------ DER out

fn der_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    der_len(content.len(), &mut out);
    out.extend_from_slice(content);
    out
}

/// A non-negative INTEGER from big-endian bytes (minimal, with a leading
/// zero when the high bit is set).
fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let skip = bytes
        .iter()
        .take_while(|b| **b == 0)
        .count()
        .min(bytes.len().saturating_sub(1));
    let mut content = Vec::new();
    let rest = bytes.get(skip..).unwrap_or(&[0]);
    if rest.first().is_some_and(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(if rest.is_empty() { &[0] } else { rest });
    tlv(INTEGER, &content)
}

fn sha256_algorithm() -> Vec<u8> {
    let mut alg = tlv(OID, OID_SHA256);
    alg.extend(tlv(NULL, &[]));
    tlv(SEQUENCE, &alg)
}

/// A `TimeStampReq` and what its answer must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampRequest {
    /// SHA-256 of the time-stamped data.
    pub digest: [u8; 32],
    /// The nonce, big-endian (as encoded, without the sign byte).
    pub nonce: [u8; 8],
    /// The DER request.
    pub der: Vec<u8>,
}

impl TimestampRequest {
    /// A request over `data` (hashed with SHA-256) with a random nonce.
    pub fn new(data: &[u8]) -> Self {
        let mut nonce = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        Self::with_nonce(Sha256::digest(data).into(), nonce)
    }

    /// A request over a SHA-256 `digest` with a given nonce.
    pub fn with_nonce(digest: [u8; 32], nonce: [u8; 8]) -> Self {
        let mut imprint = sha256_algorithm();
        imprint.extend(tlv(OCTET_STRING, &digest));
        let mut body = der_uint(&[1]);
        body.extend(tlv(SEQUENCE, &imprint));
        body.extend(der_uint(&nonce));
        body.extend(tlv(BOOLEAN, &[0xff]));
        TimestampRequest {
            digest,
            nonce,
            der: tlv(SEQUENCE, &body),
        }
    }
}

// ------------------------------------------------------------------- DER in

#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    /// The whole element, header included.
    raw: &'a [u8],
}

/// Reads one DER element (definite lengths, single-byte tags) from the
/// front of `input`; returns it and the rest.
fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), TsaError> {
    let (&tag, rest) = input.split_first().ok_or_else(|| malformed("truncated"))?;
    if tag & 0x1f == 0x1f {
        return Err(malformed("multi-byte tag"));
    }
    let (&first, rest) = rest.split_first().ok_or_else(|| malformed("truncated"))?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(malformed("bad length"));
        }
        let (bytes, rest) = rest.split_at(n);
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    if rest.len() < len {
        return Err(malformed("length beyond the data"));
    }
    let (content, after) = rest.split_at(len);
    let header = input.len() - rest.len();
    Ok((
        Tlv {
            tag,
            content,
            raw: input.get(..header + len).unwrap_or(input),
        },
        after,
    ))
}

fn children(content: &[u8]) -> Result<Vec<Tlv<'_>>, TsaError> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (t, r) = read(rest)?;
        out.push(t);
        rest = r;
    }
    Ok(out)
}

fn expect<'a>(t: Option<&Tlv<'a>>, tag: u8, what: &str) -> Result<Tlv<'a>, TsaError> {
    match t {
        Some(t) if t.tag == tag => Ok(*t),
        _ => Err(malformed(what)),
    }
}

fn uint(t: &Tlv<'_>) -> Result<u64, TsaError> {
    if t.tag != INTEGER || t.content.is_empty() || t.content.len() > 9 {
        return Err(malformed("integer"));
    }
    if t.content.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(malformed("negative integer"));
    }
    Ok(t.content
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// The content of a non-negative INTEGER without its sign byte.
fn uint_bytes<'a>(t: &Tlv<'a>) -> &'a [u8] {
    let c = t.content;
    let skip = c.iter().take_while(|b| **b == 0).count();
    c.get(skip..).unwrap_or(&[])
}

/// A verified time-stamp token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// DER `ContentInfo`, exactly as the TSA returned it.
    pub der: Vec<u8>,
    /// `TSTInfo.genTime`.
    pub gen_time: Timestamp,
    /// `TSTInfo.serialNumber`, hex.
    pub serial_hex: String,
    /// `TSTInfo.policy`, dotted.
    pub policy: String,
}

fn oid_text(content: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut acc = 0u64;
    for (i, b) in content.iter().enumerate() {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() && i < content.len() {
                let first = if acc < 40 {
                    0
                } else if acc < 80 {
                    1
                } else {
                    2
                };
                parts.push(first);
                parts.push(acc - first * 40);
            } else {
                parts.push(acc);
            }
            acc = 0;
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

fn generalized_time(t: &Tlv<'_>) -> Result<Timestamp, TsaError> {
    if t.tag != GENERALIZED_TIME {
        return Err(malformed("genTime"));
    }
    let s = std::str::from_utf8(t.content).map_err(|_| malformed("genTime"))?;
    let s = s
        .strip_suffix('Z')
        .ok_or_else(|| malformed("genTime not UTC"))?;
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed("genTime"));
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}{}{}Z",
        &whole[0..4],
        &whole[4..6],
        &whole[6..8],
        &whole[8..10],
        &whole[10..12],
        &whole[12..14],
        if frac.is_empty() { "" } else { "." },
        frac
    );
    iso.parse().map_err(|_| malformed("genTime"))
}

/// Checks a DER `TimeStampResp` against `req` and returns its token.
pub fn parse_response(der: &[u8], req: &TimestampRequest) -> Result<Token, TsaError> {
    let (resp, _) = read(der)?;
    if resp.tag != SEQUENCE {
        return Err(malformed("TimeStampResp"));
    }
    let parts = children(resp.content)?;
    let status_info = expect(parts.first(), SEQUENCE, "PKIStatusInfo")?;
    let status_parts = children(status_info.content)?;
    let status = uint(&expect(status_parts.first(), INTEGER, "PKIStatus")?)?;
    if status > 1 {
        let text = status_parts
            .get(1)
            .filter(|t| t.tag == SEQUENCE)
            .and_then(|t| children(t.content).ok())
            .map(|s| {
                s.iter()
                    .map(|x| String::from_utf8_lossy(x.content).into_owned())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        return Err(TsaError::Refused { status, text });
    }
    let token = expect(parts.get(1), SEQUENCE, "timeStampToken")?;
    let info = tst_info(&token)?;
    check_tst_info(info, req).map(|(gen_time, serial_hex, policy)| Token {
        der: token.raw.to_vec(),
        gen_time,
        serial_hex,
        policy,
    })
}

/// The DER `TSTInfo` inside a token (`ContentInfo`).
fn tst_info<'a>(token: &Tlv<'a>) -> Result<&'a [u8], TsaError> {
    let ci = children(token.content)?;
    let ct = expect(ci.first(), OID, "contentType")?;
    if ct.content != OID_SIGNED_DATA {
        return Err(malformed("token is not SignedData"));
    }
    let explicit = expect(ci.get(1), CONTEXT_0, "content")?;
    let (signed, _) = read(explicit.content)?;
    if signed.tag != SEQUENCE {
        return Err(malformed("SignedData"));
    }
    let sd = children(signed.content)?;
    expect(sd.first(), INTEGER, "SignedData.version")?;
    expect(sd.get(1), SET, "digestAlgorithms")?;
    let encap = expect(sd.get(2), SEQUENCE, "encapContentInfo")?;
    let ec = children(encap.content)?;
    let ect = expect(ec.first(), OID, "eContentType")?;
    if ect.content != OID_TST_INFO {
        return Err(malformed("eContentType is not TSTInfo"));
    }
    let econtent = expect(ec.get(1), CONTEXT_0, "eContent")?;
    let (octets, _) = read(econtent.content)?;
    if octets.tag != OCTET_STRING {
        return Err(malformed("eContent"));
    }
    Ok(octets.content)
}

type TstSummary = (Timestamp, String, String);

fn check_tst_info(der: &[u8], req: &TimestampRequest) -> Result<TstSummary, TsaError> {
    let (info, _) = read(der)?;
    if info.tag != SEQUENCE {
        return Err(malformed("TSTInfo"));
    }
    let f = children(info.content)?;
    expect(f.first(), INTEGER, "TSTInfo.version")?;
    let policy = expect(f.get(1), OID, "policy")?;
    let imprint = expect(f.get(2), SEQUENCE, "messageImprint")?;
    let mi = children(imprint.content)?;
    let alg = expect(mi.first(), SEQUENCE, "hashAlgorithm")?;
    let alg_oid = children(alg.content)?;
    let oid = expect(alg_oid.first(), OID, "hashAlgorithm")?;
    let digest = expect(mi.get(1), OCTET_STRING, "hashedMessage")?;
    if oid.content != OID_SHA256 || digest.content != req.digest {
        return Err(TsaError::ImprintMismatch);
    }
    let serial = expect(f.get(3), INTEGER, "serialNumber")?;
    let gen_time = generalized_time(&expect(f.get(4), GENERALIZED_TIME, "genTime")?)?;
    // accuracy (SEQUENCE) and ordering (BOOLEAN) are optional; the nonce is
    // the first INTEGER after genTime.
    let nonce = f.iter().skip(5).find(|t| t.tag == INTEGER);
    match nonce {
        Some(n) if uint_bytes(n) == uint_bytes(&read(&der_uint(&req.nonce))?.0) => {}
        _ => return Err(TsaError::NonceMismatch),
    }
    let serial_hex = serial.content.iter().map(|b| format!("{b:02x}")).collect();
    Ok((gen_time, serial_hex, oid_text(policy.content)))
}

/// Reads `genTime` again from a stored token (for display).
pub fn token_gen_time(token_der: &[u8]) -> Result<Timestamp, TsaError> {
    let (token, _) = read(token_der)?;
    let der = tst_info(&token)?;
    let (info, _) = read(der)?;
    let f = children(info.content)?;
    generalized_time(&expect(f.get(4), GENERALIZED_TIME, "genTime")?)
}

/// A client of one TSA.
#[derive(Debug, Clone)]
pub struct TsaClient {
    url: String,
    http: reqwest::Client,
}

impl TsaClient {
    /// A client for `config`, or `None` when no URL is configured.
    pub fn from_config(config: &TsaConfig) -> ServiceResult<Option<TsaClient>> {
        let Some(url) = config
            .url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        else {
            return Ok(None);
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ServiceError::Invalid {
                code: "tsa_url_invalid",
                message: "L'indirizzo dell'autorità di marcatura temporale deve iniziare con http:// o https://.".into(),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs.unwrap_or(30)))
            .build()
            .map_err(|e| ServiceError::Internal(format!("TSA client: {e}")))?;
        Ok(Some(TsaClient {
            url: url.to_owned(),
            http,
        }))
    }

    /// The TSA's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Time-stamps `data`: sends the request, checks the answer.
    pub async fn timestamp(&self, data: &[u8]) -> Result<Token, TsaError> {
        let req = TimestampRequest::new(data);
        let resp = self
            .http
            .post(&self.url)
            .header("Content-Type", "application/timestamp-query")
            .body(req.der.clone())
            .send()
            .await
            .map_err(|e| TsaError::Transport(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(TsaError::Transport(format!("HTTP {}", resp.status())));
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| TsaError::Transport(e.to_string()))?;
        parse_response(&body, &req)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn request_is_der_with_imprint_nonce_and_cert_req() {
        let r = TimestampRequest::with_nonce([0xab; 32], [0x80, 0, 0, 0, 0, 0, 0, 1]);
        // SEQUENCE { INTEGER 1, SEQUENCE { SEQUENCE { OID sha256, NULL }, OCTET STRING 32 },
        //            INTEGER 0x00 80..01 (sign byte), BOOLEAN TRUE }
        let (outer, rest) = read(&r.der).unwrap();
        assert!(rest.is_empty());
        let f = children(outer.content).unwrap();
        assert_eq!(f.len(), 4);
        assert_eq!(f[0].content, [1]);
        assert_eq!(f[2].content, [0, 0x80, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(f[3].raw, [BOOLEAN, 1, 0xff]);
        let mi = children(f[1].content).unwrap();
        assert_eq!(mi[1].content, [0xab; 32]);
    }

    #[test]
    fn refused_status_is_reported() {
        // SEQUENCE { SEQUENCE { INTEGER 2, SEQUENCE { UTF8String "no" } } }
        let der = [
            0x30, 0x0b, 0x30, 0x09, 0x02, 0x01, 0x02, 0x30, 0x04, 0x0c, 0x02, b'n', b'o',
        ];
        let req = TimestampRequest::with_nonce([0; 32], [1; 8]);
        assert_eq!(
            parse_response(&der, &req),
            Err(TsaError::Refused {
                status: 2,
                text: "no".into()
            })
        );
    }

    #[test]
    fn garbage_is_malformed_never_a_panic() {
        let req = TimestampRequest::with_nonce([0; 32], [1; 8]);
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x02, 0x30, 0x00],
        ] {
            assert!(matches!(
                parse_response(bad, &req),
                Err(TsaError::Malformed(_))
            ));
        }
    }

    #[test]
    fn generalized_time_with_fraction() {
        let t = Tlv {
            tag: GENERALIZED_TIME,
            content: b"20260102030405.5Z",
            raw: &[],
        };
        assert_eq!(
            generalized_time(&t).unwrap().to_string(),
            "2026-01-02T03:04:05.5Z"
        );
    }
}
