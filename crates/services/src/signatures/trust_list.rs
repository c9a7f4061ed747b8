//! The trust list of an ente: the CA certificates whose signers it trusts
//! when it receives signed material (the segnatura of another AOO, signed
//! documents), kept in the key store as one PEM file
//! (`<keys>/<ente>/`[`TRUST_ANCHORS_FILE`], mode 0600) and managed by an
//! operator with `palazzo protocollo fiducia` (docs/segnatura.md "Trust").
//! Adding or removing an anchor is logged; like the AOO seal it is
//! installation material, not a record of the ente.

use jiff::Timestamp;
use serde::Serialize;

use super::{Certificate, TrustAnchors, x509};
use crate::{App, ServiceError, ServiceResult};

/// The trust list's file name in the tenant's key directory.
pub const TRUST_ANCHORS_FILE: &str = "trust-anchors.pem";

/// One anchor of a trust list, for listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnchorSummary {
    /// Subject (CN and O).
    pub subject: String,
    /// SHA-256 of the DER, hex: how to name it for removal.
    pub fingerprint: String,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
}

impl AnchorSummary {
    fn of(c: &Certificate) -> AnchorSummary {
        AnchorSummary {
            subject: c.subject_name(),
            fingerprint: c.fingerprint(),
            not_before: c.not_before(),
            not_after: c.not_after(),
        }
    }
}

fn invalid(code: &'static str, message: String) -> ServiceError {
    ServiceError::Invalid { code, message }
}

impl App {
    /// The trust anchors of a tenant (none when no list is installed).
    ///
    /// Errors: `fiducia_certificato` when the installed list holds an
    /// unreadable certificate.
    pub fn trust_anchors(&self, tenant_slug: &str) -> ServiceResult<TrustAnchors> {
        let Some(bytes) = self.keys().read_file(tenant_slug, TRUST_ANCHORS_FILE)? else {
            return Ok(TrustAnchors::empty());
        };
        let text = String::from_utf8_lossy(&bytes);
        TrustAnchors::from_pem(&text).map_err(|e| {
            invalid(
                "fiducia_certificato",
                format!("L'elenco di fiducia dell'ente contiene un certificato illeggibile: {e}."),
            )
        })
    }

    /// The anchors of a tenant's trust list, for listing.
    pub fn trust_anchor_list(&self, tenant_slug: &str) -> ServiceResult<Vec<AnchorSummary>> {
        Ok(self
            .trust_anchors(tenant_slug)?
            .certificates()
            .iter()
            .map(AnchorSummary::of)
            .collect())
    }

    fn write_trust_anchors(&self, tenant_slug: &str, anchors: &[Certificate]) -> ServiceResult<()> {
        let mut text = String::from(
            "# Elenco di fiducia dell'ente: certificati delle autorità di certificazione\n# (palazzo protocollo fiducia).\n",
        );
        for c in anchors {
            text.push_str(&format!(
                "# {} (SHA-256 {})\n",
                c.subject_name(),
                c.fingerprint()
            ));
            text.push_str(&crate::keys::pem("CERTIFICATE", c.der()));
        }
        self.keys()
            .install_file(tenant_slug, TRUST_ANCHORS_FILE, text.as_bytes())
    }

    /// Adds the CA certificates of a PEM text to a tenant's trust list
    /// (those already there are skipped). Returns the anchors added.
    ///
    /// Errors: `fiducia_vuota` (no certificate in the text),
    /// `fiducia_certificato` (unreadable), `fiducia_non_ca` (a certificate
    /// that is not a CA's: `basicConstraints` without `cA`).
    pub fn add_trust_anchors(
        &self,
        tenant_slug: &str,
        pem_text: &str,
    ) -> ServiceResult<Vec<AnchorSummary>> {
        let ders = x509::pem_certificates(pem_text);
        if ders.is_empty() {
            return Err(invalid(
                "fiducia_vuota",
                "Il file non contiene certificati PEM (-----BEGIN CERTIFICATE-----).".into(),
            ));
        }
        let mut anchors = self.trust_anchors(tenant_slug)?.certificates().to_vec();
        let mut added = Vec::new();
        for der in ders {
            let c = Certificate::parse(&der).map_err(|e| {
                invalid(
                    "fiducia_certificato",
                    format!("Certificato non valido: {e}."),
                )
            })?;
            if !c.is_ca() {
                return Err(invalid(
                    "fiducia_non_ca",
                    format!(
                        "Il certificato «{}» non è di un'autorità di certificazione (basicConstraints cA): l'elenco di fiducia contiene solo certificati di CA.",
                        c.subject_name()
                    ),
                ));
            }
            if anchors.iter().all(|a| a.der() != c.der()) {
                added.push(AnchorSummary::of(&c));
                anchors.push(c);
            }
        }
        self.write_trust_anchors(tenant_slug, &anchors)?;
        for a in &added {
            tracing::info!(tenant = tenant_slug, subject = %a.subject, fingerprint = %a.fingerprint, "trust anchor added");
        }
        Ok(added)
    }

    /// Removes the anchor with this SHA-256 fingerprint (hex, `:` allowed)
    /// from a tenant's trust list. Returns whether it was there.
    pub fn remove_trust_anchor(&self, tenant_slug: &str, fingerprint: &str) -> ServiceResult<bool> {
        let wanted: String = fingerprint
            .chars()
            .filter(|c| *c != ':')
            .collect::<String>()
            .to_ascii_lowercase();
        let anchors = self.trust_anchors(tenant_slug)?.certificates().to_vec();
        let kept: Vec<Certificate> = anchors
            .iter()
            .filter(|a| a.fingerprint() != wanted)
            .cloned()
            .collect();
        if kept.len() == anchors.len() {
            return Ok(false);
        }
        self.write_trust_anchors(tenant_slug, &kept)?;
        tracing::info!(tenant = tenant_slug, fingerprint = %wanted, "trust anchor removed");
        Ok(true)
    }
}
