//! Verification of signatures received from outside: the trust anchors of
//! an ente (the CA certificates it trusts), the chain of a signer's
//! certificate to one of them at the time of signing, and CAdES `.p7m`
//! envelopes with their RFC 3161 signature time-stamps ([`cades`]), and
//! the PAdES seals of the PDFs Palazzo issues ([`pades`]).
//!
//! The segnatura's XAdES (Allegato 6 §3.1, PR-8: `001_ValidazioneFirma`)
//! and the signed documents of a received protocol message (`004`, `005`,
//! `006`) are both checked against the same [`TrustAnchors`]: the
//! per-ente trust list in the key store (`palazzo protocollo fiducia`,
//! docs/segnatura.md "Trust"). An EU trusted list (ETSI TS 119 612) would
//! be one more source of anchors; it is not implemented, and the test
//! suite runs offline against local test CAs (OQ-3, SG-6).
//!
//! What is checked for a signer's certificate ([`validate_chain`]):
//! * it chains, through the certificates the signature carries, to a
//!   trust anchor: each link's signature verifies with the issuer's key,
//!   and every intermediate is a CA (`basicConstraints`) allowed to sign
//!   certificates (`keyUsage`);
//! * every certificate of the path, the anchor included, was valid at the
//!   signing time (the "shell model");
//! * the signer's `keyUsage` allows signing (`digitalSignature` or
//!   `nonRepudiation`; a signer certificate without `keyUsage` is refused,
//!   as qualified certificates always carry it), or for a TSA its
//!   `extKeyUsage` is `timeStamping`;
//! * no certificate has a critical extension Palazzo does not know.
//!
//! Not checked (offline suite, no network at verification time):
//! revocation (CRL, OCSP).

mod asn1;
pub mod cades;
mod crypto;
pub mod pades;
mod report;
mod trust_list;
pub mod x509;

use jiff::Timestamp;

pub use report::{DocumentSignatures, RegistrationSignatures, SegnaturaSignature};
pub use trust_list::{AnchorSummary, TRUST_ANCHORS_FILE};
pub use x509::Certificate;

/// How long the path may be (anchor excluded).
const MAX_CHAIN: usize = 8;

/// The CA certificates an ente trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustAnchors {
    anchors: Vec<Certificate>,
}

impl TrustAnchors {
    /// No anchor: nothing is trusted.
    pub fn empty() -> TrustAnchors {
        TrustAnchors::default()
    }

    /// The anchors of a PEM text (`CERTIFICATE` blocks); an unreadable
    /// block is an error (Italian detail).
    pub fn from_pem(pem: &str) -> Result<TrustAnchors, String> {
        let mut anchors = Vec::new();
        for der in x509::pem_certificates(pem) {
            anchors.push(Certificate::parse(&der)?);
        }
        Ok(TrustAnchors { anchors })
    }

    /// From parsed certificates.
    pub fn new(anchors: Vec<Certificate>) -> TrustAnchors {
        TrustAnchors { anchors }
    }

    /// The anchors.
    pub fn certificates(&self) -> &[Certificate] {
        &self.anchors
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}

/// What a signer's certificate must allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// Signatures and seals: `keyUsage` digitalSignature or nonRepudiation.
    Signing,
    /// An RFC 3161 time-stamp: `extKeyUsage` timeStamping.
    TimeStamping,
}

/// A time as shown in the Italian details: Rome civil time.
pub fn show_time(t: Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::get("Europe/Rome").unwrap_or(jiff::tz::TimeZone::UTC))
        .strftime("%d/%m/%Y %H:%M:%S")
        .to_string()
}

fn validity_problem(c: &Certificate, at: Timestamp, role: &str) -> String {
    let state = if at < c.not_before() {
        "non era ancora valido"
    } else {
        "era scaduto"
    };
    format!(
        "il certificato {role} «{}» {state} all'ora della firma ({}): è valido dal {} al {}",
        c.subject_name(),
        show_time(at),
        show_time(c.not_before()),
        show_time(c.not_after())
    )
}

/// Checks that `leaf` chains to one of `anchors`, using the certificates
/// of `pool` as intermediates, with every certificate valid at `at`, and
/// that `leaf` may be used for `usage`. Returns the anchor reached. `Err`
/// is an Italian detail for the exception message.
pub fn validate_chain<'a>(
    leaf: &Certificate,
    pool: &[Certificate],
    anchors: &'a TrustAnchors,
    at: Timestamp,
    usage: Usage,
) -> Result<&'a Certificate, String> {
    let who = leaf.subject_name();
    match usage {
        Usage::Signing => {
            let ku = leaf.key_usage.unwrap_or(0);
            if ku & (x509::KU_DIGITAL_SIGNATURE | x509::KU_NON_REPUDIATION) == 0 {
                return Err(format!(
                    "il certificato del firmatario «{who}» non consente la firma (keyUsage senza digitalSignature né nonRepudiation)"
                ));
            }
        }
        Usage::TimeStamping => {
            if !leaf
                .ext_key_usage
                .iter()
                .any(|o| o == x509::OID_KP_TIME_STAMPING)
            {
                return Err(format!(
                    "il certificato «{who}» non è di un servizio di marcatura temporale (extKeyUsage timeStamping mancante)"
                ));
            }
        }
    }
    if anchors.is_empty() {
        return Err(
            "nessuna autorità di certificazione attendibile è configurata per questo ente (elenco di fiducia vuoto)"
                .into(),
        );
    }
    let mut current = leaf;
    for depth in 0..=MAX_CHAIN {
        let role = if depth == 0 {
            "del firmatario"
        } else {
            "della CA"
        };
        if current.has_unknown_critical() {
            return Err(format!(
                "il certificato «{}» ha un'estensione critica non riconosciuta",
                current.subject_name()
            ));
        }
        if !current.valid_at(at) {
            return Err(validity_problem(current, at, role));
        }
        if let Some(a) = anchors.anchors.iter().find(|a| a.der() == current.der()) {
            return Ok(a);
        }
        if let Some(a) = anchors
            .anchors
            .iter()
            .find(|a| a.subject == current.issuer && current.signed_by(a))
        {
            if !a.valid_at(at) {
                return Err(validity_problem(a, at, "dell'autorità di certificazione"));
            }
            return Ok(a);
        }
        let next = pool.iter().find(|c| {
            c.der() != current.der()
                && c.subject == current.issuer
                && c.is_ca()
                && c.key_usage
                    .is_none_or(|ku| ku & x509::KU_KEY_CERT_SIGN != 0)
                && current.signed_by(c)
        });
        match next {
            Some(c) => current = c,
            None => {
                return Err(format!(
                    "il certificato «{}» non è rilasciato da un'autorità di certificazione attendibile per questo ente (emittente: «{}»)",
                    current.subject_name(),
                    current.issuer_name()
                ));
            }
        }
    }
    Err("catena di certificati troppo lunga".into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::segnatura::demo_ca::DemoCa;
    use jiff::ToSpan as _;

    fn parse_chain(pem: &str) -> Vec<Certificate> {
        x509::pem_certificates(pem)
            .iter()
            .map(|d| Certificate::parse(d).unwrap())
            .collect()
    }

    #[test]
    fn a_demo_seal_chains_to_its_ca_and_only_to_it() {
        let now = Timestamp::now();
        let ca = DemoCa::generate(now).unwrap();
        let seal = ca.issue_seal("Comune di Prova", "AOO_PROVA", now).unwrap();
        let chain = parse_chain(&seal.cert_pem);
        let anchors = TrustAnchors::from_pem(&ca.certificate_pem()).unwrap();
        assert!(anchors.certificates()[0].is_ca());
        let got = validate_chain(&chain[0], &chain[1..], &anchors, now, Usage::Signing).unwrap();
        assert_eq!(got.der(), chain[1].der());
        assert!(chain[0].subject_name().contains("Sigillo AOO AOO_PROVA"));
        // Another CA: not trusted, even with the right chain presented.
        let other = DemoCa::generate(now).unwrap();
        let other = TrustAnchors::from_pem(&other.certificate_pem()).unwrap();
        let e = validate_chain(&chain[0], &chain[1..], &other, now, Usage::Signing).unwrap_err();
        assert!(e.contains("non è rilasciato"), "{e}");
        // No anchors at all.
        let e = validate_chain(
            &chain[0],
            &chain[1..],
            &TrustAnchors::empty(),
            now,
            Usage::Signing,
        )
        .unwrap_err();
        assert!(e.contains("elenco di fiducia vuoto"), "{e}");
        // Outside the validity period.
        let later = now + (24 * 800).hours();
        let e =
            validate_chain(&chain[0], &chain[1..], &anchors, later, Usage::Signing).unwrap_err();
        assert!(e.contains("era scaduto"), "{e}");
        // A seal is not a TSA.
        let e =
            validate_chain(&chain[0], &chain[1..], &anchors, now, Usage::TimeStamping).unwrap_err();
        assert!(e.contains("timeStamping"), "{e}");
    }
}
