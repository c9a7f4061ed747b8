//! The enveloped XAdES Baseline B signature of the segnatura (ETSI EN 319
//! 132-1; Allegato 6 §2): one reference to the document (`URI=""`,
//! enveloped-signature + exc-c14n, SHA-256) and one to the signed
//! properties (`SigningTime`, `SigningCertificateV2`), the certificate in
//! `ds:KeyInfo`.
//!
//! Every signed part is written in its exclusive canonical form directly
//! (see `xml.rs`), so the digests are taken over the writer's bytes; where
//! a subtree's canonical form needs namespace declarations that the
//! document inherits from an ancestor (`ds:SignedInfo`,
//! `xades:SignedProperties`) it is written twice: with the declarations for
//! the digest, without them in the document.

use std::path::Path;

use base64::Engine as _;
use jiff::Timestamp;
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _};
use sha2::{Digest as _, Sha256};

use super::xml::Writer;
use super::{NS_DS, NS_XADES, Unsigned, der, invalid, xs_date_time};
use crate::ServiceResult;
use crate::keys::{X509Algorithm, X509Signer};

const ALG_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const ALG_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const ALG_ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
const ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const TYPE_SIGNED_PROPERTIES: &str = "http://uri.etsi.org/01903#SignedProperties";

/// `Id` of `ds:Signature`.
const SIGNATURE_ID: &str = "segnatura-firma";
/// `Id` of `xades:SignedProperties`.
const SIGNED_PROPERTIES_ID: &str = "segnatura-firma-proprieta";

enum Key {
    P256(p256::ecdsa::SigningKey),
    Rsa(Box<rsa::pkcs1v15::SigningKey<Sha256>>),
}

/// The AOO seal from files (the file backend of [`X509Signer`],
/// DECISIONS 14): a private key (PKCS#8, EC P-256 or RSA) and its X.509
/// certificate, followed by the chain up to the CA. The certificate must
/// carry the key's public half.
pub struct SealKey {
    key: Key,
    chain: Vec<Vec<u8>>,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealKey").finish_non_exhaustive()
    }
}

fn bad_key() -> crate::ServiceError {
    invalid(
        "segnatura_chiave",
        "La chiave del sigillo dell'AOO non è una chiave privata PKCS#8 EC P-256 o RSA leggibile.",
    )
}

fn bad_cert() -> crate::ServiceError {
    invalid(
        "segnatura_certificato",
        "Il certificato del sigillo dell'AOO non è un certificato X.509 PEM leggibile.",
    )
}

/// The DER bytes of every `CERTIFICATE` block of a PEM text, in order.
pub(crate) fn pem_certificates(pem: &str) -> Option<Vec<Vec<u8>>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(i) = rest.find(BEGIN) {
        let start = i + BEGIN.len();
        let end = start + rest[start..].find(END)?;
        let b64: String = rest[start..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        out.push(base64::engine::general_purpose::STANDARD.decode(b64).ok()?);
        rest = &rest[end + END.len()..];
    }
    (!out.is_empty()).then_some(out)
}

impl SealKey {
    /// From the PEM texts of the PKCS#8 private key and of the certificate
    /// (the seal's own first, then the chain).
    ///
    /// Errors: `segnatura_chiave`, `segnatura_certificato`,
    /// `segnatura_chiave_certificato` (the certificate is for another key).
    pub fn from_pem(key_pem: &str, cert_pem: &str) -> ServiceResult<SealKey> {
        let chain = pem_certificates(cert_pem).ok_or_else(bad_cert)?;
        let fields = chain
            .first()
            .and_then(|c| der::cert_fields(c))
            .ok_or_else(bad_cert)?;
        let (key, spki) = if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(key_pem) {
            let spki = k
                .verifying_key()
                .to_public_key_der()
                .map_err(|_| bad_key())?;
            (Key::P256(k), spki.as_bytes().to_vec())
        } else if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_pem(key_pem) {
            let spki = k
                .to_public_key()
                .to_public_key_der()
                .map_err(|_| bad_key())?;
            (
                Key::Rsa(Box::new(rsa::pkcs1v15::SigningKey::<Sha256>::new(k))),
                spki.as_bytes().to_vec(),
            )
        } else {
            return Err(bad_key());
        };
        if spki != fields.spki {
            return Err(invalid(
                "segnatura_chiave_certificato",
                "Il certificato del sigillo dell'AOO non corrisponde alla sua chiave privata.",
            ));
        }
        Ok(SealKey { key, chain })
    }

    /// From a PKCS#8 PEM key file and a PEM certificate (chain) file.
    pub fn from_files(key: &Path, cert: &Path) -> ServiceResult<SealKey> {
        let key_pem = std::fs::read_to_string(key).map_err(|_| bad_key())?;
        let cert_pem = std::fs::read_to_string(cert).map_err(|_| bad_cert())?;
        SealKey::from_pem(&key_pem, &cert_pem)
    }

    /// The certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        self.chain.first().map_or(&[], Vec::as_slice)
    }
}

impl X509Signer for SealKey {
    fn algorithm(&self) -> X509Algorithm {
        match self.key {
            Key::P256(_) => X509Algorithm::EcdsaP256Sha256,
            Key::Rsa(_) => X509Algorithm::RsaPkcs1Sha256,
        }
    }

    fn certificate_chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// ECDSA as r‖s (XML-DSig 1.1), RSA PKCS#1 v1.5.
    fn sign(&self, msg: &[u8]) -> ServiceResult<Vec<u8>> {
        Ok(match &self.key {
            Key::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_bytes().to_vec()
            }
            Key::Rsa(k) => {
                use rsa::signature::SignatureEncoding as _;
                k.sign(msg).to_vec()
            }
        })
    }
}

fn method(alg: X509Algorithm) -> &'static str {
    match alg {
        X509Algorithm::EcdsaP256Sha256 => ALG_ECDSA_SHA256,
        X509Algorithm::RsaPkcs1Sha256 => ALG_RSA_SHA256,
    }
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn sha256_b64(b: &[u8]) -> String {
    b64(&Sha256::digest(b))
}

/// `ds:DigestMethod` + `ds:DigestValue`; `declare` adds `xmlns:ds` on each
/// (their canonical form inside a non-`ds` apex).
fn digest(w: &mut Writer, value: &str, declare: bool) {
    let ns: &[(&str, &str)] = if declare { &[("xmlns:ds", NS_DS)] } else { &[] };
    let mut attrs = ns.to_vec();
    attrs.push(("Algorithm", ALG_SHA256));
    w.leaf("ds:DigestMethod", &attrs, "");
    w.leaf("ds:DigestValue", ns, value);
}

/// `xades:SignedProperties`, canonical (apex) form when `canonical`.
fn signed_properties(
    cert_der: &[u8],
    issuer_serial: &[u8],
    at: Timestamp,
    canonical: bool,
) -> String {
    let mut w = Writer::new();
    let mut attrs = vec![("Id", SIGNED_PROPERTIES_ID)];
    if canonical {
        attrs.push(("xmlns:xades", NS_XADES));
    }
    w.open("xades:SignedProperties", &attrs);
    w.open("xades:SignedSignatureProperties", &[]);
    w.leaf("xades:SigningTime", &[], &xs_date_time(at));
    w.open("xades:SigningCertificateV2", &[]);
    w.open("xades:Cert", &[]);
    w.open("xades:CertDigest", &[]);
    digest(&mut w, &sha256_b64(cert_der), canonical);
    w.close("xades:CertDigest");
    w.leaf("xades:IssuerSerialV2", &[], &b64(issuer_serial));
    w.close("xades:Cert");
    w.close("xades:SigningCertificateV2");
    w.close("xades:SignedSignatureProperties");
    w.close("xades:SignedProperties");
    // Only fixed ASCII and base64 are written here.
    w.finish().unwrap_or_default()
}

/// `ds:SignedInfo`, canonical (apex) form when `canonical`.
fn signed_info(method: &str, doc_digest: &str, props_digest: &str, canonical: bool) -> String {
    let mut w = Writer::new();
    let ns: &[(&str, &str)] = if canonical {
        &[("xmlns:ds", NS_DS)]
    } else {
        &[]
    };
    w.open("ds:SignedInfo", ns);
    w.leaf(
        "ds:CanonicalizationMethod",
        &[("Algorithm", ALG_EXC_C14N)],
        "",
    );
    w.leaf("ds:SignatureMethod", &[("Algorithm", method)], "");
    w.open("ds:Reference", &[("URI", "")]);
    w.open("ds:Transforms", &[]);
    w.leaf("ds:Transform", &[("Algorithm", ALG_ENVELOPED)], "");
    w.leaf("ds:Transform", &[("Algorithm", ALG_EXC_C14N)], "");
    w.close("ds:Transforms");
    digest(&mut w, doc_digest, false);
    w.close("ds:Reference");
    let target = format!("#{SIGNED_PROPERTIES_ID}");
    w.open(
        "ds:Reference",
        &[("Type", TYPE_SIGNED_PROPERTIES), ("URI", &target)],
    );
    w.open("ds:Transforms", &[]);
    w.leaf("ds:Transform", &[("Algorithm", ALG_EXC_C14N)], "");
    w.close("ds:Transforms");
    digest(&mut w, props_digest, false);
    w.close("ds:Reference");
    w.close("ds:SignedInfo");
    w.finish().unwrap_or_default()
}

/// Signs a segnatura with the AOO seal at `signing_time` and returns the
/// complete document (XML declaration + root with `ds:Signature` as its
/// last child). With the file backend it is deterministic: the same inputs
/// give the same bytes (ECDSA nonces per RFC 6979).
///
/// Errors: `segnatura_certificato` (no readable certificate), or what the
/// signer reports.
pub fn sign(
    unsigned: &Unsigned,
    key: &dyn X509Signer,
    signing_time: Timestamp,
) -> ServiceResult<String> {
    let chain = key.certificate_chain();
    let cert_der = chain.first().ok_or_else(bad_cert)?;
    let fields = der::cert_fields(cert_der).ok_or_else(bad_cert)?;
    let issuer_serial = der::issuer_serial(&fields);
    let method = method(key.algorithm());
    let doc_digest = sha256_b64(unsigned.canonical().as_bytes());
    let props_digest =
        sha256_b64(signed_properties(cert_der, &issuer_serial, signing_time, true).as_bytes());
    let canonical_info = signed_info(method, &doc_digest, &props_digest, true);
    let value = b64(&key.sign(canonical_info.as_bytes())?);

    let mut w = Writer::new();
    w.open("ds:Signature", &[("xmlns:ds", NS_DS), ("Id", SIGNATURE_ID)]);
    w.raw(&signed_info(method, &doc_digest, &props_digest, false));
    w.leaf("ds:SignatureValue", &[], &value);
    w.open("ds:KeyInfo", &[]);
    w.open("ds:X509Data", &[]);
    for cert in chain {
        w.leaf("ds:X509Certificate", &[], &b64(cert));
    }
    w.close("ds:X509Data");
    w.close("ds:KeyInfo");
    w.open("ds:Object", &[]);
    let target = format!("#{SIGNATURE_ID}");
    w.open(
        "xades:QualifyingProperties",
        &[("xmlns:xades", NS_XADES), ("Target", &target)],
    );
    w.raw(&signed_properties(
        cert_der,
        &issuer_serial,
        signing_time,
        false,
    ));
    w.close("xades:QualifyingProperties");
    w.close("ds:Object");
    w.close("ds:Signature");
    Ok(unsigned.with_signature(&w.finish().unwrap_or_default()))
}
