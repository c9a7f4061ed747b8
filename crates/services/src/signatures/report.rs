//! The validation report of a registration (§11 lesson 5: users want a
//! report, not a widget): who signed the received segnatura and its signed
//! documents, when, and whether the ente trusts them, verified again when
//! asked against the ente's current trust list.

use jiff::Timestamp;
use palazzo_domain::access::Permission;
use palazzo_store::{RegistrationId, SegnaturaKind, Store as _, TenantId};
use serde::{Deserialize, Serialize};

use super::cades::{self, EnvelopeReport};
use super::{Certificate, TrustAnchors};
use crate::access::Actor;
use crate::segnatura::verifica;
use crate::{App, ServiceResult};

/// The signature of a segnatura received from another AOO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegnaturaSignature {
    /// The signer (certificate subject), if readable.
    pub signer: Option<String>,
    /// The certificate's issuer.
    pub issuer: Option<String>,
    /// `xades:SigningTime`.
    pub signing_time: Option<Timestamp>,
    /// Whether the XAdES signature itself verifies.
    pub signature_valid: bool,
    /// Whether its certificate is trusted now (valid at the SigningTime).
    pub trusted: bool,
    /// What is wrong, in Italian; `None`: valid.
    pub problem: Option<String>,
}

/// The signatures of one signed document of a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentSignatures {
    /// The file name.
    pub name: String,
    /// SHA-256 of the stored bytes (hex).
    pub sha256: String,
    /// Whether it is the primary document (else an attachment).
    pub primary: bool,
    /// The verification.
    pub report: EnvelopeReport,
}

/// The validation report of a registration's signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationSignatures {
    /// When the verification ran (with the trust list of that moment).
    pub verified_at: Timestamp,
    /// The received segnatura's signature (incoming entries from another
    /// AOO only).
    pub segnatura: Option<SegnaturaSignature>,
    /// The signed documents (`.p7m`); unsigned documents are not listed.
    pub documents: Vec<DocumentSignatures>,
}

fn segnatura_signature(xml: &[u8], anchors: &TrustAnchors, now: Timestamp) -> SegnaturaSignature {
    let mut out = SegnaturaSignature {
        signer: None,
        issuer: None,
        signing_time: None,
        signature_valid: false,
        trusted: false,
        problem: None,
    };
    let parsed = std::str::from_utf8(xml).ok().and_then(|t| {
        roxmltree::Document::parse_with_options(
            t,
            roxmltree::ParsingOptions {
                allow_dtd: false,
                nodes_limit: 200_000,
            },
        )
        .ok()
    });
    let Some(doc) = parsed else {
        out.problem = Some("la segnatura conservata non è leggibile".into());
        return out;
    };
    let verified = match verifica::verify(&doc) {
        Ok(v) => v,
        Err(e) => {
            out.problem = Some(e);
            return out;
        }
    };
    out.signature_valid = true;
    if let Ok(c) = Certificate::parse(&verified.certificate_der) {
        out.signer = Some(c.subject_name());
        out.issuer = Some(c.issuer_name());
    }
    match verifica::check_trust(&verified, anchors, now) {
        Ok(t) => {
            out.signing_time = Some(t.signing_time);
            out.trusted = true;
        }
        Err(e) => out.problem = Some(e),
    }
    out
}

impl App {
    /// The validation report of a registration's signatures, for staff who
    /// may read the register: the received segnatura's XAdES and every
    /// signed (`.p7m`) document, verified now against the ente's trust list.
    pub async fn protocol_signatures(
        &self,
        tenant: TenantId,
        actor: &Actor,
        registration: RegistrationId,
    ) -> ServiceResult<RegistrationSignatures> {
        let reg = self.protocol_entry(tenant, actor, registration).await?;
        let t = self.tenant(tenant)?;
        let anchors = self.trust_anchors(&t.data.slug)?;
        let now = Timestamp::now();
        actor.require(Permission::ReadProtocol)?;
        let segnatura = match self.db().segnatura(tenant, registration).await? {
            Some(rec) if rec.data.kind == SegnaturaKind::Ricevuta => {
                let xml = self.documents().get(&rec.data.document.sha256).await?;
                Some(segnatura_signature(&xml, &anchors, now))
            }
            _ => None,
        };
        let mut documents = Vec::new();
        let docs = std::iter::once((&reg.data.primary, true))
            .chain(reg.data.attachments.iter().map(|d| (d, false)));
        for (d, primary) in docs {
            // Only envelopes are read (a document can be large).
            let envelope = d.media_type == "application/pkcs7-mime"
                || d.name.to_ascii_lowercase().ends_with(".p7m");
            if !envelope {
                continue;
            }
            let bytes = self.documents().get(&d.sha256).await?;
            if let Some(report) = cades::verify(&bytes, &anchors, now) {
                documents.push(DocumentSignatures {
                    name: d.name.clone(),
                    sha256: d.sha256.hex(),
                    primary,
                    report,
                });
            }
        }
        Ok(RegistrationSignatures {
            verified_at: now,
            segnatura,
            documents,
        })
    }
}
