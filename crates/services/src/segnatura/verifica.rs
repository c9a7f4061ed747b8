//! Verification of the enveloped XAdES signature of a received segnatura
//! (Allegato 6 §3.1: the receiver MUST verify it, else
//! `001_ValidazioneFirma`; XML-DSig core validation, XML-DSig §3.2).
//!
//! 1. every `ds:Reference` of `ds:SignedInfo` is dereferenced (`URI=""`
//!    with the enveloped-signature transform: the document without its
//!    signature; `URI="#id"`: the element with that `Id`), canonicalised
//!    (`c14n.rs`) and digested (SHA-224/256/384/512), and must match its
//!    `DigestValue`; one of them must cover the whole document;
//! 2. the XAdES signed properties must be among the references, and their
//!    `SigningCertificateV2` (or v1) `CertDigest` must be the digest of the
//!    certificate in `ds:KeyInfo`;
//! 3. `ds:SignatureValue` must verify over the canonical `ds:SignedInfo`
//!    with that certificate's key: ECDSA P-256 + SHA-256 (r‖s, or DER as
//!    some senders write) or RSA PKCS#1 v1.5 + SHA-256/384/512.
//!
//! [`check_trust`] then checks the signing certificate against the ente's
//! trust anchors at the `SigningTime` (chain, validity, `keyUsage`;
//! `crate::signatures::validate_chain`, docs/segnatura.md "Trust").

use base64::Engine as _;
use p256::pkcs8::DecodePublicKey as _;
use roxmltree::{Document, Node};
use sha2::Digest as _;

use super::c14n::{self, Method};
use super::{NS_DS, der};

const NS_XADES: &str = super::NS_XADES;
const NS_XADES_141: &str = "http://uri.etsi.org/01903/v1.4.1#";
const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// What a verified signature tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signing certificate, DER.
    pub certificate_der: Vec<u8>,
    /// `xades:SigningTime`, as written.
    pub signing_time: Option<String>,
    /// The other certificates of `ds:KeyInfo` (the chain the signer sent).
    pub chain: Vec<Vec<u8>>,
}

/// The signer of a segnatura whose certificate is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedSigner {
    /// The certificate's subject.
    pub signer: String,
    /// The trust anchor reached.
    pub anchor: String,
    /// `xades:SigningTime`.
    pub signing_time: jiff::Timestamp,
}

/// Tolerance for a `SigningTime` ahead of our clock.
const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);

/// Parses an `xs:dateTime`; without a zone it is Rome civil time.
fn parse_xs_date_time(s: &str) -> Option<jiff::Timestamp> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    let dt: jiff::civil::DateTime = s.parse().ok()?;
    dt.in_tz("Europe/Rome").ok().map(|z| z.timestamp())
}

/// Checks the certificate of a verified segnatura signature against the
/// ente's `anchors` (Allegato 6 §3.1, PR-8: a failure is
/// `001_ValidazioneFirma`): the `SigningTime` is present and not in the
/// future, the certificate chains to an anchor through the certificates of
/// `ds:KeyInfo`, every certificate of the path was valid at the
/// `SigningTime`, and the certificate allows signing (`keyUsage`
/// digitalSignature or nonRepudiation). That `SigningCertificateV2` is
/// this certificate's digest is checked by [`verify`]. `Err` is an
/// Italian detail.
pub fn check_trust(
    v: &Verified,
    anchors: &crate::signatures::TrustAnchors,
    now: jiff::Timestamp,
) -> Result<TrustedSigner, String> {
    use crate::signatures::{Certificate, Usage, validate_chain};
    let raw = v
        .signing_time
        .as_deref()
        .ok_or("l'ora di firma (xades:SigningTime) manca")?;
    let at = parse_xs_date_time(raw)
        .ok_or_else(|| format!("l'ora di firma (xades:SigningTime) «{raw}» non è valida"))?;
    if at > now + CLOCK_SKEW {
        return Err(format!(
            "l'ora di firma (xades:SigningTime) {} è nel futuro",
            crate::signatures::show_time(at)
        ));
    }
    let leaf = Certificate::parse(&v.certificate_der)?;
    let pool: Vec<Certificate> = v
        .chain
        .iter()
        .filter_map(|d| Certificate::parse(d).ok())
        .collect();
    let anchor = validate_chain(&leaf, &pool, anchors, at, Usage::Signing)?;
    Ok(TrustedSigner {
        signer: leaf.subject_name(),
        anchor: anchor.subject_name(),
        signing_time: at,
    })
}

type Check<T> = Result<T, String>;

fn ds<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.has_tag_name((NS_DS, name)))
}

fn text_b64(n: Node<'_, '_>) -> Check<Vec<u8>> {
    let t: String = n
        .text()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(t)
        .map_err(|_| format!("{} non è base64", n.tag_name().name()))
}

fn digest(alg: &str, data: &[u8]) -> Check<Vec<u8>> {
    Ok(match alg {
        "http://www.w3.org/2001/04/xmlenc#sha256" => sha2::Sha256::digest(data).to_vec(),
        "http://www.w3.org/2001/04/xmldsig-more#sha224" => sha2::Sha224::digest(data).to_vec(),
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => sha2::Sha384::digest(data).to_vec(),
        "http://www.w3.org/2001/04/xmlenc#sha512" => sha2::Sha512::digest(data).to_vec(),
        other => return Err(format!("algoritmo di digest non ammesso: {other}")),
    })
}

/// `DigestMethod` + `DigestValue` children of `n`.
fn digest_of(n: Node<'_, '_>) -> Check<(String, Vec<u8>)> {
    let method = ds(n, "DigestMethod")
        .and_then(|m| m.attribute("Algorithm"))
        .ok_or("DigestMethod mancante")?;
    let value = ds(n, "DigestValue").ok_or("DigestValue mancante")?;
    Ok((method.to_owned(), text_b64(value)?))
}

/// The element whose `Id` (or `ID`, `id`) is `id`; it must be unique.
fn by_id<'a, 'i>(doc: &'a Document<'i>, id: &str) -> Check<Node<'a, 'i>> {
    let mut found = doc.descendants().filter(|n| {
        n.is_element()
            && ["Id", "ID", "id"]
                .iter()
                .any(|a| n.attribute(*a) == Some(id))
    });
    let first = found
        .next()
        .ok_or_else(|| format!("riferimento a un Id inesistente: {id}"))?;
    if found.next().is_some() {
        return Err(format!("Id duplicato: {id}"));
    }
    Ok(first)
}

/// Verifies the signature of a parsed segnatura. `Err` carries an Italian
/// detail for the `Motivo` of the `NotificaEccezione`.
pub fn verify(doc: &Document<'_>) -> Result<Verified, String> {
    let root = doc.root_element();
    let signatures: Vec<Node<'_, '_>> = root
        .children()
        .filter(|c| c.is_element() && c.has_tag_name((NS_DS, "Signature")))
        .collect();
    let [signature] = signatures[..] else {
        return Err("la segnatura deve contenere una e una sola ds:Signature".into());
    };
    let signed_info = ds(signature, "SignedInfo").ok_or("ds:SignedInfo mancante")?;
    let canon_uri = ds(signed_info, "CanonicalizationMethod")
        .and_then(|m| m.attribute("Algorithm"))
        .ok_or("CanonicalizationMethod mancante")?;
    let canon = method_of(ds(signed_info, "CanonicalizationMethod"), canon_uri)?;
    let sig_method = ds(signed_info, "SignatureMethod")
        .and_then(|m| m.attribute("Algorithm"))
        .ok_or("SignatureMethod mancante")?;

    // 1. References.
    let mut covers_document = false;
    let mut covered_ids: Vec<String> = Vec::new();
    for reference in signed_info
        .children()
        .filter(|c| c.is_element() && c.has_tag_name((NS_DS, "Reference")))
    {
        let uri = reference.attribute("URI").unwrap_or("");
        let mut method = Method::default_for_node_set();
        let mut enveloped = false;
        if let Some(transforms) = ds(reference, "Transforms") {
            for t in transforms.children().filter(|c| c.is_element()) {
                let alg = t.attribute("Algorithm").unwrap_or("");
                if alg == ALG_ENVELOPED {
                    enveloped = true;
                } else {
                    method = method_of(Some(t), alg)?;
                }
            }
        }
        let (node, exclude) = if uri.is_empty() {
            if !enveloped {
                return Err("il riferimento al documento non esclude la firma".into());
            }
            covers_document = true;
            (doc.root(), Some(signature.id()))
        } else if let Some(id) = uri.strip_prefix('#') {
            let n = by_id(doc, id)?;
            if n == root {
                covers_document = true;
            }
            covered_ids.push(id.to_owned());
            (n, enveloped.then(|| signature.id()))
        } else {
            return Err(format!("riferimento esterno non ammesso: {uri}"));
        };
        let canonical = c14n::canonicalize(doc, node, exclude, &method);
        let (alg, want) = digest_of(reference)?;
        if digest(&alg, canonical.as_bytes())? != want {
            return Err(format!(
                "l'impronta del riferimento \"{uri}\" non corrisponde: il contenuto firmato è stato modificato"
            ));
        }
    }
    if !covers_document {
        return Err("la firma non copre la segnatura".into());
    }

    // 2. The certificate and the XAdES signed properties.
    let cert_nodes: Vec<Node<'_, '_>> = ds(signature, "KeyInfo")
        .into_iter()
        .flat_map(|k| k.children())
        .filter(|x| x.is_element() && x.has_tag_name((NS_DS, "X509Data")))
        .flat_map(|x| x.children())
        .filter(|c| c.is_element() && c.has_tag_name((NS_DS, "X509Certificate")))
        .collect();
    let cert_node = *cert_nodes
        .first()
        .ok_or("certificato mancante in ds:KeyInfo")?;
    let certificate_der = text_b64(cert_node)?;
    let chain = cert_nodes[1..]
        .iter()
        .map(|n| text_b64(*n))
        .collect::<Check<Vec<_>>>()?;
    let fields = der::cert_fields(&certificate_der).ok_or("certificato X.509 illeggibile")?;
    let props = signature
        .descendants()
        .find(|n| {
            n.is_element()
                && (n.has_tag_name((NS_XADES, "SignedProperties"))
                    || n.has_tag_name((NS_XADES_141, "SignedProperties")))
        })
        .ok_or("proprietà firmate XAdES mancanti")?;
    let props_id = ["Id", "ID", "id"]
        .iter()
        .find_map(|a| props.attribute(*a))
        .unwrap_or("");
    if props_id.is_empty() || !covered_ids.iter().any(|i| i == props_id) {
        return Err("le proprietà firmate XAdES non sono coperte dalla firma".into());
    }
    let cert_digest = props
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "CertDigest")
        .ok_or("SigningCertificate mancante nelle proprietà firmate")?;
    let (alg, want) = digest_of(cert_digest)?;
    if digest(&alg, &certificate_der)? != want {
        return Err("il certificato di firma non è quello indicato nelle proprietà firmate".into());
    }
    let signing_time = props
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "SigningTime")
        .and_then(|n| n.text())
        .map(|t| t.trim().to_owned());

    // 3. The signature over the canonical SignedInfo.
    let value = text_b64(ds(signature, "SignatureValue").ok_or("SignatureValue mancante")?)?;
    let info = c14n::canonicalize(doc, signed_info, None, &canon);
    check_signature(sig_method, &fields.spki, info.as_bytes(), &value)?;
    Ok(Verified {
        certificate_der,
        signing_time,
        chain,
    })
}

/// A canonicalisation method from its element (for the exclusive
/// `InclusiveNamespaces PrefixList`) and URI.
fn method_of(el: Option<Node<'_, '_>>, uri: &str) -> Check<Method> {
    let mut m =
        Method::from_uri(uri).ok_or_else(|| format!("trasformazione non ammessa: {uri}"))?;
    if m.exclusive
        && let Some(list) = el
            .and_then(|e| {
                e.children()
                    .find(|c| c.is_element() && c.tag_name().name() == "InclusiveNamespaces")
            })
            .and_then(|i| i.attribute("PrefixList"))
    {
        m.inclusive_prefixes = list.split_whitespace().map(str::to_owned).collect();
    }
    Ok(m)
}

fn check_signature(method: &str, spki: &[u8], msg: &[u8], value: &[u8]) -> Check<()> {
    use rsa::signature::Verifier as _;
    let bad = || "il valore della firma non è valido".to_owned();
    match method {
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" => {
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(spki)
                .map_err(|_| "la chiave del certificato non è EC P-256".to_owned())?;
            let sig = if value.len() == 64 {
                p256::ecdsa::Signature::from_slice(value)
            } else {
                p256::ecdsa::Signature::from_der(value)
            }
            .map_err(|_| bad())?;
            key.verify(msg, &sig).map_err(|_| bad())
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        | "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
        | "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => {
            let key = rsa::RsaPublicKey::from_public_key_der(spki)
                .map_err(|_| "la chiave del certificato non è RSA".to_owned())?;
            let sig = rsa::pkcs1v15::Signature::try_from(value).map_err(|_| bad())?;
            let ok = if method.ends_with("sha256") {
                rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key).verify(msg, &sig)
            } else if method.ends_with("sha384") {
                rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(key).verify(msg, &sig)
            } else {
                rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(key).verify(msg, &sig)
            };
            ok.map_err(|_| bad())
        }
        other => Err(format!("algoritmo di firma non ammesso: {other}")),
    }
}
