//! Verifying a PZ1 text offline (R5–R7, DECISIONS 18).
//!
//! [`verify_text`] decides, in this order:
//! 1. `altered`: the text is not `PZ1:` + Base45 of a well-formed COSE_Sign1
//!    with well-formed claims, or no key of the trust list with the seal's
//!    kid verifies the signature;
//! 2. `unknown_key`: no trust list entry has the kid, or the key that
//!    verifies was not valid at the seal's `iat`, may not seal its document
//!    type, or belongs to another issuer (R7);
//! 3. `revoked`: the status list given (same issuer and URI as the seal's
//!    status claim) has the seal's bit set — checked before expiry, since a
//!    revoked certificate may not be used even with the art. 41 c. 2
//!    declaration;
//! 4. `expired`: `exp` ≤ now (DECISIONS 17: "scaduto", never forged);
//! 5. `valid`.
//!
//! `superseded` and `not_found` need the issuer's records (a newer
//! certificate replaced this one; no certificate has this cti): the online
//! status service sets them, offline verification never returns them.

use crate::SealError;
use crate::claims::{self, SealClaims};
use crate::cose::{self, Kid};
use crate::status::StatusListToken;
use crate::trust::{TrustEntry, TrustList};

/// The verdict of a verification: one set everywhere (web, CLI, API, docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Genuine, in force, not revoked.
    Valid,
    /// Genuine but past its `exp` ("scaduto").
    Expired,
    /// Genuine but revoked by its issuer.
    Revoked,
    /// Genuine but replaced by a newer certificate (online only).
    Superseded,
    /// Not genuine: bad structure or signature.
    Altered,
    /// Signed by a key the trust list does not vouch for (at that time, for
    /// that document type).
    UnknownKey,
    /// No certificate with this id (online only).
    NotFound,
}

impl Verdict {
    /// Every verdict.
    pub const ALL: [Verdict; 7] = [
        Verdict::Valid,
        Verdict::Expired,
        Verdict::Revoked,
        Verdict::Superseded,
        Verdict::Altered,
        Verdict::UnknownKey,
        Verdict::NotFound,
    ];

    /// The stable code (DECISIONS 18).
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Expired => "expired",
            Verdict::Revoked => "revoked",
            Verdict::Superseded => "superseded",
            Verdict::Altered => "altered",
            Verdict::UnknownKey => "unknown_key",
            Verdict::NotFound => "not_found",
        }
    }

    /// The verdict of a stable code.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.code() == code)
    }

    /// The Italian label shown to a reader.
    #[must_use]
    pub const fn label_it(self) -> &'static str {
        match self {
            Verdict::Valid => "Valido",
            Verdict::Expired => "Scaduto",
            Verdict::Revoked => "Revocato",
            Verdict::Superseded => "Sostituito da un certificato più recente",
            Verdict::Altered => "Alterato o non autentico",
            Verdict::UnknownKey => "Chiave di firma non riconosciuta",
            Verdict::NotFound => "Certificato non trovato",
        }
    }

    /// Whether the seal's signature was verified (the claims can be shown
    /// as the issuer's).
    #[must_use]
    pub const fn is_genuine(self) -> bool {
        matches!(
            self,
            Verdict::Valid | Verdict::Expired | Verdict::Revoked | Verdict::Superseded
        )
    }
}

/// The outcome of [`verify_text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The verdict.
    pub verdict: Verdict,
    /// The kid of the seal, when its COSE structure could be read.
    pub kid: Option<Kid>,
    /// The claims (printed pairs included), only when the signature
    /// verified with a trust-list key (also for `unknown_key` caused by the
    /// key's validity, type or issuer, so the reader sees what was sealed).
    pub claims: Option<SealClaims>,
    /// The trust-list entry whose key verified the signature.
    pub key: Option<TrustEntry>,
    /// Why, for `altered` and `unknown_key` (for logs, not for readers).
    pub reason: Option<&'static str>,
}

impl Verification {
    fn fail(verdict: Verdict, kid: Option<Kid>, reason: &'static str) -> Self {
        Verification {
            verdict,
            kid,
            claims: None,
            key: None,
            reason: Some(reason),
        }
    }
}

fn reason(e: &SealError) -> &'static str {
    match e {
        SealError::Malformed(r) | SealError::Invalid(r) | SealError::BadKey(r) => r,
        SealError::Base45(_) => "not Base45",
        SealError::Cbor(_) => "not deterministic CBOR",
        _ => "malformed",
    }
}

/// Verifies a PZ1 text against a trust list (already verified with
/// [`TrustList::verify`]), an optional status list token (already verified
/// with [`StatusListToken::verify`]) and the current time (seconds since the
/// Unix epoch). See the module documentation for the order of the checks.
#[must_use]
pub fn verify_text(
    text: &str,
    trust: &TrustList,
    status: Option<&StatusListToken>,
    now: u64,
) -> Verification {
    let msg = match claims::from_text(text).and_then(|b| cose::decode_sign1(&b)) {
        Ok(m) => m,
        Err(e) => return Verification::fail(Verdict::Altered, None, reason(&e)),
    };
    let kid = Some(msg.kid);
    if msg.typ.is_some() {
        return Verification::fail(Verdict::Altered, kid, "a list, not a seal");
    }
    let mut candidates = trust.candidates(msg.kid).peekable();
    if candidates.peek().is_none() {
        return Verification::fail(Verdict::UnknownKey, kid, "kid not in the trust list");
    }
    let verified: Vec<&TrustEntry> = candidates.filter(|e| msg.verify(&e.key)).collect();
    if verified.is_empty() {
        return Verification::fail(Verdict::Altered, kid, "signature does not verify");
    }
    let claims = match SealClaims::from_cbor(&msg.payload) {
        Ok(c) => c,
        // Signed by a trusted key but not our claims: not a PZ1 seal.
        Err(e) => return Verification::fail(Verdict::Altered, kid, reason(&e)),
    };
    let usable = verified.iter().find(|e| {
        e.valid_at(claims.issued_at) && e.allows(&claims.doc_type) && trust.issuer == claims.issuer
    });
    let Some(entry) = usable else {
        let why = if trust.issuer != claims.issuer {
            "issuer is not the trust list's"
        } else if !verified.iter().any(|e| e.valid_at(claims.issued_at)) {
            "key not valid at iat"
        } else {
            "key may not seal this document type"
        };
        return Verification {
            verdict: Verdict::UnknownKey,
            kid,
            key: verified.first().map(|e| (*e).clone()),
            claims: Some(claims),
            reason: Some(why),
        };
    };
    let revoked = match (&claims.status, status) {
        (Some(r), Some(list)) if list.uri == r.uri && list.issuer == claims.issuer => {
            list.list.is_revoked(r.idx) == Some(true)
        }
        _ => false,
    };
    let verdict = if revoked {
        Verdict::Revoked
    } else if claims.expires_at.is_some_and(|exp| exp <= now) {
        Verdict::Expired
    } else {
        Verdict::Valid
    };
    Verification {
        verdict,
        kid,
        key: Some((*entry).clone()),
        claims: Some(claims),
        reason: None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::base45;
    use crate::claims::tests::sample;
    use crate::claims::{Variant, seal};
    use crate::cose::{Ed25519Signer, P256Signer, PublicKey, SealSigner};
    use crate::status::StatusList;

    const NOW: u64 = 1_795_000_000;

    fn es() -> P256Signer {
        P256Signer::from_secret_bytes(&[9; 32]).unwrap()
    }
    fn ed() -> Ed25519Signer {
        Ed25519Signer::from_seed(&[1; 32]).unwrap()
    }
    fn entry(s: &dyn SealSigner, nbf: u64, end: Option<u64>, types: &[&str]) -> TrustEntry {
        TrustEntry {
            key: PublicKey::of_signer(s).unwrap(),
            not_before: nbf,
            not_after: end,
            doc_types: types.iter().map(|t| (*t).to_owned()).collect(),
        }
    }
    fn trust(entries: Vec<TrustEntry>) -> TrustList {
        TrustList {
            issuer: "IT-B923".into(),
            issued_at: NOW,
            entries,
        }
    }
    fn token(revoked: &[u64]) -> StatusListToken {
        let mut list = StatusList::new(128).unwrap();
        for i in revoked {
            list.revoke(*i).unwrap();
        }
        StatusListToken {
            issuer: "IT-B923".into(),
            uri: sample().status.unwrap().uri,
            issued_at: NOW,
            expires_at: None,
            ttl: None,
            list,
        }
    }

    #[test]
    fn codes_are_stable() {
        let codes: Vec<_> = Verdict::ALL.iter().map(|v| v.code()).collect();
        assert_eq!(
            codes,
            [
                "valid",
                "expired",
                "revoked",
                "superseded",
                "altered",
                "unknown_key",
                "not_found"
            ]
        );
        for v in Verdict::ALL {
            assert_eq!(Verdict::from_code(v.code()), Some(v));
        }
        assert_eq!(Verdict::from_code("forged"), None);
    }

    #[test]
    fn valid_expired_revoked() {
        for signer in [&es() as &dyn SealSigner, &ed()] {
            let sealed = seal(&sample(), 3, signer).unwrap();
            let t = trust(vec![entry(signer, 0, None, &["residenza"])]);
            let v = verify_text(&sealed.text, &t, None, NOW);
            assert_eq!(v.verdict, Verdict::Valid, "{:?}", v.reason);
            assert_eq!(v.claims.as_ref().unwrap(), &sealed.claims);
            assert_eq!(v.claims.unwrap().pairs[0].value, "ROSSI");
            assert_eq!(v.kid, Some(signer.kid()));
            // Past exp: expired, never altered.
            let later = sample().expires_at.unwrap();
            assert_eq!(
                verify_text(&sealed.text, &t, None, later).verdict,
                Verdict::Expired
            );
            // Its bit set: revoked (before expired); another bit: valid.
            assert_eq!(
                verify_text(&sealed.text, &t, Some(&token(&[42])), NOW).verdict,
                Verdict::Revoked
            );
            assert_eq!(
                verify_text(&sealed.text, &t, Some(&token(&[42])), later).verdict,
                Verdict::Revoked
            );
            assert_eq!(
                verify_text(&sealed.text, &t, Some(&token(&[41, 43])), NOW).verdict,
                Verdict::Valid
            );
            // A list with another URI does not apply.
            let mut other = token(&[42]);
            other.uri.push('2');
            assert_eq!(
                verify_text(&sealed.text, &t, Some(&other), NOW).verdict,
                Verdict::Valid
            );
        }
    }

    #[test]
    fn no_exp_never_expires() {
        let mut c = sample();
        c.expires_at = None;
        c.doc_type = "nascita".into();
        let sealed = seal(&c, 3, &es()).unwrap();
        let t = trust(vec![entry(&es(), 0, None, &["nascita"])]);
        assert_eq!(
            verify_text(&sealed.text, &t, None, u64::MAX).verdict,
            Verdict::Valid
        );
    }

    /// R7: a flipped byte, an unknown kid, a key outside its validity.
    #[test]
    fn altered_and_unknown_key() {
        let sealed = seal(&sample(), 3, &ed()).unwrap();
        let t = trust(vec![entry(&ed(), 0, None, &["residenza"])]);
        let cose = claims::from_text(&sealed.text).unwrap();
        for i in 0..cose.len() {
            let mut bad = cose.clone();
            bad[i] ^= 0x01;
            let v = verify_text(&claims::to_text(&bad), &t, None, NOW);
            assert!(
                matches!(v.verdict, Verdict::Altered | Verdict::UnknownKey),
                "byte {i}: {:?}",
                v.verdict
            );
            assert!(v.claims.is_none(), "byte {i}");
        }
        // "ROSSI" → "RUSSO" in the payload.
        let pos = cose.windows(5).position(|w| w == b"ROSSI").unwrap();
        let mut russo = cose.clone();
        russo[pos..pos + 5].copy_from_slice(b"RUSSO");
        assert_eq!(
            verify_text(&claims::to_text(&russo), &t, None, NOW).verdict,
            Verdict::Altered
        );
        // Garbage, wrong prefix, lower case.
        for text in [
            "",
            "PZ1:",
            "HC1:ABC",
            "PZ1:abc",
            &sealed.text[..sealed.text.len() - 3],
        ] {
            assert_eq!(
                verify_text(text, &t, None, NOW).verdict,
                Verdict::Altered,
                "{text}"
            );
        }
        // Unknown kid.
        let other = trust(vec![entry(&es(), 0, None, &["residenza"])]);
        let v = verify_text(&sealed.text, &other, None, NOW);
        assert_eq!(v.verdict, Verdict::UnknownKey);
        assert!(v.claims.is_none());
        // Key outside its validity at iat (before, after).
        let iat = sample().issued_at;
        for e in [
            entry(&ed(), iat + 1, None, &["residenza"]),
            entry(&ed(), 0, Some(iat - 1), &["residenza"]),
        ] {
            let v = verify_text(&sealed.text, &trust(vec![e]), None, NOW);
            assert_eq!(v.verdict, Verdict::UnknownKey);
            assert_eq!(v.reason, Some("key not valid at iat"));
        }
        // Key not for this document type; list of another comune.
        let v = verify_text(
            &sealed.text,
            &trust(vec![entry(&ed(), 0, None, &["cdu"])]),
            None,
            NOW,
        );
        assert_eq!(v.verdict, Verdict::UnknownKey);
        let mut elsewhere = t.clone();
        elsewhere.issuer = "IT-F205".into();
        assert_eq!(
            verify_text(&sealed.text, &elsewhere, None, NOW).verdict,
            Verdict::UnknownKey
        );
    }

    /// The DCC rule: every key with a colliding kid is tried.
    #[test]
    fn colliding_kids_are_all_tried() {
        let sealed = seal(&sample(), 3, &ed()).unwrap();
        let right = entry(&ed(), 0, None, &["residenza"]);
        // Another key (of both algorithms) under the same 8-byte kid.
        let impostors: Vec<TrustEntry> = [
            &es() as &dyn SealSigner,
            &Ed25519Signer::from_seed(&[5; 32]).unwrap(),
        ]
        .into_iter()
        .map(|s| {
            let mut e = entry(s, 0, None, &["residenza"]);
            e.key = e.key.with_kid(ed().kid());
            e
        })
        .collect();
        let mut entries = impostors.clone();
        entries.push(right.clone());
        let v = verify_text(&sealed.text, &trust(entries), None, NOW);
        assert_eq!(v.verdict, Verdict::Valid);
        assert_eq!(v.key, Some(right.clone()));
        // Only impostors: the signature does not verify.
        let v = verify_text(&sealed.text, &trust(impostors), None, NOW);
        assert_eq!(v.verdict, Verdict::Altered);
        // The right key twice, the first entry out of its validity: the
        // second one is used.
        let mut old = right.clone();
        old.not_after = Some(1);
        let v = verify_text(&sealed.text, &trust(vec![old, right.clone()]), None, NOW);
        assert_eq!(v.verdict, Verdict::Valid);
        assert_eq!(v.key, Some(right));
    }

    #[test]
    fn hash_only_variant_verifies() {
        let mut c = sample();
        for i in 0..30 {
            c.pairs.push(crate::claims::Pair::new(
                format!("Componente {i}"),
                "BIANCHI MARIA",
            ));
        }
        let sealed = seal(&c, 3, &es()).unwrap();
        assert_eq!(sealed.claims.variant, Variant::HashOnly);
        let t = trust(vec![entry(&es(), 0, None, &["residenza"])]);
        let v = verify_text(&sealed.text, &t, None, NOW);
        assert_eq!(v.verdict, Verdict::Valid);
        assert_eq!(v.claims.unwrap().variant, Variant::HashOnly);
    }

    #[test]
    fn a_signed_list_is_not_a_seal() {
        let t = trust(vec![entry(&ed(), 0, None, &["residenza"])]);
        let list = token(&[]).sign(&ed()).unwrap();
        let text = format!("PZ1:{}", base45::encode(&list));
        assert_eq!(verify_text(&text, &t, None, NOW).verdict, Verdict::Altered);
    }
}
