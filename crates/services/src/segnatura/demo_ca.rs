//! The **demo CA** of `palazzo demo` and of the test harness: a local
//! certification authority, named as such ("Palazzo DEMO CA — non
//! valida"), that issues AOO seal certificates so that outgoing
//! registrations can be sealed in a demonstration installation.
//!
//! DECISIONS 14: a self-signed seal is not an acceptable default, so the
//! demo does what an operator does in production, with a CA nobody trusts:
//! the seal key is certified by a CA (here EC P-256, X.509 v3 written in
//! pure Rust with the DER helpers of `der.rs`, no openssl at runtime).
//! `palazzo serve` never calls this module; a production seal is issued by
//! a qualified trust service provider (Allegato 6 §3.1) and installed with
//! `palazzo protocollo sigillo install`.

use base64::Engine as _;
use jiff::{Timestamp, ToSpan as _};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use sha2::{Digest as _, Sha256};

use super::der::encode;
use crate::{ServiceError, ServiceResult};

/// The common name of the demo CA: says plainly that it is not valid.
pub const DEMO_CA_NAME: &str = "Palazzo DEMO CA — non valida";

/// OID 1.2.840.10045.4.3.2 ecdsa-with-SHA256, as an `AlgorithmIdentifier`
/// (no parameters, RFC 5758 §3.2).
const ECDSA_SHA256: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
const OID_C: &[u8] = &[0x55, 0x04, 0x06];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const OID_SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
const OID_AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("demo CA: {e}"))
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    encode(0x30, &parts.concat())
}

fn oid(bytes: &[u8]) -> Vec<u8> {
    encode(0x06, bytes)
}

/// A `Name`: C (PrintableString), O and CN (UTF8String), one attribute per
/// RDN.
fn name(country: &str, organization: &str, common_name: &str) -> Vec<u8> {
    let rdn = |attr: &[u8], tag: u8, value: &str| {
        encode(0x31, &seq(&[&oid(attr), &encode(tag, value.as_bytes())]))
    };
    seq(&[
        &rdn(OID_C, 0x13, country),
        &rdn(OID_O, 0x0c, organization),
        &rdn(OID_CN, 0x0c, common_name),
    ])
}

/// `UTCTime` (RFC 5280 §4.1.2.5.1: up to 2049).
fn utc_time(t: Timestamp) -> ServiceResult<Vec<u8>> {
    let s = t.strftime("%y%m%d%H%M%SZ").to_string();
    if t.as_second() >= 2_524_608_000 {
        return Err(internal("validity beyond 2049"));
    }
    Ok(encode(0x17, s.as_bytes()))
}

fn extension(id: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let flag: &[u8] = if critical { &[0x01, 0x01, 0xff] } else { &[] };
    seq(&[&oid(id), flag, &encode(0x04, value)])
}

/// A positive random serial number of 16 bytes (RFC 5280 §4.1.2.2).
fn serial() -> Vec<u8> {
    let mut b: [u8; 16] = rand::random();
    b[0] = (b[0] & 0x3f) | 0x40;
    encode(0x02, &b)
}

/// Key identifier: the first 20 bytes of the SHA-256 of the public key
/// (RFC 7093 §2 method 1).
fn key_id(key: &SigningKey) -> Vec<u8> {
    let point = key.verifying_key().to_encoded_point(false);
    Sha256::digest(point.as_bytes())[..20].to_vec()
}

fn spki(key: &SigningKey) -> ServiceResult<Vec<u8>> {
    Ok(key
        .verifying_key()
        .to_public_key_der()
        .map_err(internal)?
        .as_bytes()
        .to_vec())
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A local demonstration CA (EC P-256). Its key lives only in memory.
pub struct DemoCa {
    key: SigningKey,
    name: Vec<u8>,
    key_id: Vec<u8>,
    cert: Vec<u8>,
}

impl std::fmt::Debug for DemoCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoCa").finish_non_exhaustive()
    }
}

/// A seal issued by the [`DemoCa`]: what `App::install_aoo_seal` takes.
#[derive(Clone)]
pub struct DemoSeal {
    /// The PKCS#8 private key, PEM.
    pub key_pem: String,
    /// The seal certificate followed by the demo CA's, PEM.
    pub cert_pem: String,
}

impl std::fmt::Debug for DemoSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoSeal").finish_non_exhaustive()
    }
}

/// Signs a `TBSCertificate` into a `Certificate`.
fn certificate(tbs: &[u8], issuer_key: &SigningKey) -> Vec<u8> {
    let sig: DerSignature = issuer_key.sign(tbs);
    let mut bits = vec![0u8];
    bits.extend_from_slice(sig.as_bytes());
    seq(&[tbs, ECDSA_SHA256, &encode(0x03, &bits)])
}

impl DemoCa {
    /// A new demo CA valid from an hour before `now` for ten years.
    pub fn generate(now: Timestamp) -> ServiceResult<DemoCa> {
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        let name = name("IT", "Palazzo (dimostrazione)", DEMO_CA_NAME);
        let key_id = key_id(&key);
        let validity = seq(&[
            &utc_time(now - 1.hour())?,
            &utc_time(now + (24 * 3653).hours())?,
        ]);
        let extensions = encode(
            0xa3,
            &seq(&[
                &extension(
                    OID_BASIC_CONSTRAINTS,
                    true,
                    &seq(&[&[0x01, 0x01, 0xff], &[0x02, 0x01, 0x00]]),
                ),
                // keyCertSign (5), cRLSign (6).
                &extension(OID_KEY_USAGE, true, &[0x03, 0x02, 0x01, 0x06]),
                &extension(OID_SUBJECT_KEY_ID, false, &encode(0x04, &key_id)),
            ]),
        );
        let tbs = seq(&[
            &[0xa0, 0x03, 0x02, 0x01, 0x02], // version v3
            &serial(),
            ECDSA_SHA256,
            &name,
            &validity,
            &name,
            &spki(&key)?,
            &extensions,
        ]);
        let cert = certificate(&tbs, &key);
        Ok(DemoCa {
            key,
            name,
            key_id,
            cert,
        })
    }

    /// The CA certificate, PEM.
    pub fn certificate_pem(&self) -> String {
        pem("CERTIFICATE", &self.cert)
    }

    /// Issues an AOO seal for `organization` (the comune's name) and the
    /// AOO code `aoo`: a new EC P-256 key and an end-entity certificate
    /// (`keyUsage` digitalSignature + nonRepudiation, as a qualified seal)
    /// valid from an hour before `now` for two years.
    pub fn issue_seal(
        &self,
        organization: &str,
        aoo: &str,
        now: Timestamp,
    ) -> ServiceResult<DemoSeal> {
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        let subject = name(
            "IT",
            organization,
            &format!("Sigillo AOO {aoo} (DEMO, non valido)"),
        );
        let validity = seq(&[
            &utc_time(now - 1.hour())?,
            &utc_time(now + (24 * 731).hours())?,
        ]);
        let extensions = encode(
            0xa3,
            &seq(&[
                &extension(OID_BASIC_CONSTRAINTS, true, &seq(&[])),
                // digitalSignature (0), nonRepudiation (1).
                &extension(OID_KEY_USAGE, true, &[0x03, 0x02, 0x06, 0xc0]),
                &extension(OID_SUBJECT_KEY_ID, false, &encode(0x04, &key_id(&key))),
                &extension(
                    OID_AUTHORITY_KEY_ID,
                    false,
                    &seq(&[&encode(0x80, &self.key_id)]),
                ),
            ]),
        );
        let tbs = seq(&[
            &[0xa0, 0x03, 0x02, 0x01, 0x02],
            &serial(),
            ECDSA_SHA256,
            &self.name,
            &validity,
            &subject,
            &spki(&key)?,
            &extensions,
        ]);
        let cert = certificate(&tbs, &self.key);
        let key_pem = key.to_pkcs8_pem(LineEnding::LF).map_err(internal)?;
        Ok(DemoSeal {
            key_pem: key_pem.to_string(),
            cert_pem: format!("{}{}", pem("CERTIFICATE", &cert), self.certificate_pem()),
        })
    }
}

/// The AOO code the demo gives a comune: `AOO_<SLUG>`.
pub fn demo_aoo_code(tenant_slug: &str) -> String {
    format!("AOO_{}", tenant_slug.to_uppercase().replace('-', "_"))
}

impl crate::App {
    /// **Demo and tests only** (`palazzo demo`, `demo::seed`, the test
    /// harness; never `palazzo serve`): installs, for every tenant that has
    /// no AOO seal, a seal issued by a fresh [`DemoCa`] with the AOO code
    /// [`demo_aoo_code`], so that outgoing registrations can be sealed,
    /// and adds the demo CA to every tenant's trust list. Returns the demo CA certificate (PEM) when one was made, `None`
    /// when every tenant already had a seal.
    pub fn install_demo_seals(&self) -> ServiceResult<Option<String>> {
        let missing: Vec<_> = self
            .tenants()
            .into_iter()
            .filter(|t| {
                matches!(self.aoo_seal(&t.data.slug), Err(e) if e.code() == "segnatura_sigillo_mancante")
            })
            .collect();
        if missing.is_empty() {
            return Ok(None);
        }
        let now = Timestamp::now();
        let ca = DemoCa::generate(now)?;
        // Every ente of the demo trusts the demo CA, so that they can
        // exchange protocol messages (docs/segnatura.md "Trust").
        for t in self.tenants() {
            self.add_trust_anchors(&t.data.slug, &ca.certificate_pem())?;
        }
        for t in missing {
            let aoo = demo_aoo_code(&t.data.slug);
            let seal = ca.issue_seal(&t.data.name, &aoo, now)?;
            self.install_aoo_seal(&t.data.slug, &seal.key_pem, &seal.cert_pem, &aoo)?;
            tracing::warn!(
                tenant = %t.data.slug,
                "installed a DEMO AOO seal issued by {DEMO_CA_NAME}: not valid outside a demonstration"
            );
        }
        Ok(Some(ca.certificate_pem()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::keys::X509Signer as _;
    use crate::segnatura::der::cert_fields;
    use crate::segnatura::{SealKey, xades::pem_certificates};

    #[test]
    fn the_seal_is_issued_by_the_demo_ca_and_loads_as_a_seal_key() {
        let now = Timestamp::now();
        let ca = DemoCa::generate(now).unwrap();
        let seal = ca.issue_seal("Comune di Prova", "AOO_PROVA", now).unwrap();
        let key = SealKey::from_pem(&seal.key_pem, &seal.cert_pem).unwrap();
        assert_eq!(key.certificate_chain().len(), 2);
        let chain = pem_certificates(&seal.cert_pem).unwrap();
        let leaf = cert_fields(&chain[0]).unwrap();
        let root = cert_fields(&chain[1]).unwrap();
        assert_eq!(leaf.issuer, root.subject);
        assert_ne!(leaf.issuer, leaf.subject, "the seal is not self-signed");
        assert_eq!(root.issuer, root.subject);
        assert!(
            String::from_utf8_lossy(&root.subject).contains("DEMO CA"),
            "the CA says it is a demo"
        );
        // The CA's signature on the seal certificate verifies.
        let (tbs, sig) = split_certificate(&chain[0]);
        let vk = p256::ecdsa::VerifyingKey::from(&ca.key);
        let sig = p256::ecdsa::DerSignature::try_from(sig).unwrap();
        use p256::ecdsa::signature::Verifier as _;
        vk.verify(tbs, &sig).unwrap();
    }

    /// The TBS and the signature (without the unused-bits byte) of a
    /// certificate whose lengths fit in two bytes.
    fn split_certificate(cert: &[u8]) -> (&[u8], &[u8]) {
        let hdr = |b: &[u8]| -> (usize, usize) {
            match b[1] {
                l if l < 0x80 => (2, usize::from(l)),
                0x81 => (3, usize::from(b[2])),
                _ => (4, usize::from(b[2]) << 8 | usize::from(b[3])),
            }
        };
        let (h, _) = hdr(cert);
        let body = &cert[h..];
        let (th, tl) = hdr(body);
        let tbs = &body[..th + tl];
        let rest = &body[th + tl + ECDSA_SHA256.len()..];
        let (bh, bl) = hdr(rest);
        (tbs, &rest[bh + 1..bh + bl])
    }
}
