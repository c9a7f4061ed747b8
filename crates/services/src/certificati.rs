//! Sealed anagrafe certificates (issue 5, parts 3 and 4): a request
//! composed from the register ([`palazzo_domain::certificati::compose`])
//! is sealed with the comune's PZ1 key ([`palazzo_seal`]; DECISIONS 15–17)
//! and rendered as a PDF/A-3b with the seal's QR and the canonical record
//! attached ([`palazzo_pdf::certificate`]; DECISIONS 20–21).
//!
//! This module is the pipeline, without storage: who may ask, the keys,
//! the certificate records and the status lists are built on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use jiff::Timestamp;
use palazzo_domain::calendar::rome_time_zone;
use palazzo_domain::certificati::{Contenuto, Richiesta, TipoCertificato, compose};
use palazzo_domain::protocollo::Impronta;
use palazzo_pdf::{
    CertificateData, CertificateTemplate, Field, QrMatrix, SignatureSpec, TemplateSpec,
};
use palazzo_seal::claims::{Pair, SealClaims, Sealed, StatusRef, Variant};
use palazzo_seal::cose::SealSigner;
use palazzo_store::{Tenant, TenantId};

use crate::keys::X509Signer;
use crate::signatures::pades;
use crate::{ServiceError, ServiceResult};

/// How many pairs identify the holder (Cognome, Nome, Codice fiscale,
/// Luogo and Data di nascita): what the hash-only variant keeps
/// (DECISIONS 16).
pub const IDENTITY_PAIRS: usize = 5;

/// A sealed, rendered certificate.
#[derive(Debug, Clone)]
pub struct SealedCertificate {
    /// The PDF/A-3b bytes, exactly those released (DECISIONS 20).
    pub pdf: Vec<u8>,
    /// SHA-256 of [`SealedCertificate::pdf`] (the status endpoint's value).
    pub pdf_sha256: Impronta,
    /// The seal: COSE bytes, the QR text and the claims as sealed.
    pub seal: Sealed,
    /// The canonical record, as embedded in the PDF.
    pub record: Vec<u8>,
    /// What was printed.
    pub content: Contenuto,
    /// The verification URL printed under the QR (DECISIONS 18).
    pub url: String,
}

/// The certificate's id as it appears in URLs: the `cti` in base64url
/// without padding (DECISIONS 18: `/verifica/<cti in base64url>`).
pub fn cti_text(cti: &[u8; 16]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(cti)
}

/// The `cti` of a URL id ([`cti_text`]): 22 base64url characters, 16
/// bytes; `None` for anything else.
pub fn parse_cti(text: &str) -> Option<[u8; 16]> {
    if text.len() != 22 {
        return None;
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()?
        .try_into()
        .ok()
}

/// The templates of the certificates, built once per comune and type
/// (DECISIONS 21: fonts, static text and layout prepared once).
#[derive(Default)]
pub struct Templates {
    built: Mutex<TemplateMap>,
}

type TemplateMap = HashMap<(TenantId, TipoCertificato), Arc<CertificateTemplate>>;

impl Templates {
    /// The template of `tipo` for `tenant`, built on first use.
    ///
    /// # Errors
    /// [`ServiceError::Internal`] when the template cannot be built (a
    /// character of the comune's data outside the fonts).
    pub fn get(
        &self,
        tenant: &Tenant,
        tipo: TipoCertificato,
    ) -> ServiceResult<Arc<CertificateTemplate>> {
        let key = (tenant.id, tipo);
        if let Some(t) = self.lock()?.get(&key) {
            return Ok(t.clone());
        }
        let built = Arc::new(
            CertificateTemplate::new(&template_spec(tenant, tipo))
                .map_err(|e| ServiceError::Internal(format!("certificate template: {e}")))?,
        );
        Ok(self.lock()?.entry(key).or_insert(built).clone())
    }

    /// Forgets the templates of a comune (after its data changed).
    ///
    /// # Errors
    /// [`ServiceError::Internal`] on a poisoned lock.
    pub fn forget(&self, tenant: TenantId) -> ServiceResult<()> {
        self.lock()?.retain(|(t, _), _| *t != tenant);
        Ok(())
    }

    fn lock(&self) -> ServiceResult<std::sync::MutexGuard<'_, TemplateMap>> {
        self.built
            .lock()
            .map_err(|_| ServiceError::Internal("certificate templates lock".into()))
    }
}

/// The static part of a certificate of `tipo` issued by `tenant`.
pub fn template_spec(tenant: &Tenant, tipo: TipoCertificato) -> TemplateSpec {
    let d = &tenant.data;
    TemplateSpec {
        comune: d.name.clone(),
        header: vec![
            "Servizi demografici - Ufficio anagrafe".into(),
            format!(
                "{}, {} {} ({})",
                d.address.street,
                d.address.cap.as_str(),
                d.address.locality,
                d.address.province
            ),
            format!("PEC {}", d.pec.as_str()),
        ],
        title: tipo.title().into(),
        preamble: vec![format!(
            "L'Ufficiale d'anagrafe, visti gli atti d'ufficio ({}), certifica che:",
            tipo.legal_basis()
        )],
        closing: Vec::new(),
        verification: "Per verificare il certificato inquadra il codice QR con un'app di \
                       verifica oppure apri l'indirizzo qui sotto: i dati letti devono \
                       coincidere con quelli stampati. Il contrassegno sostituisce la firma \
                       autografa (CAD, art. 23, comma 2-bis)."
            .into(),
        footer: format!(
            "{} - certificato rilasciato in modalità telematica con contrassegno elettronico",
            d.name
        ),
        language: "it-IT".into(),
    }
}

/// The circumstances of one issuance.
#[derive(Clone)]
pub struct Issuance<'a> {
    /// The certificate's id (16 random bytes; the seal's `cti`).
    pub cti: [u8; 16],
    /// The sealing time (`iat`; DECISIONS 20).
    pub at: Timestamp,
    /// Its bit in the comune's status list, when it can be revoked.
    pub status: Option<StatusRef>,
    /// The comune's public address (`https://…`, no trailing slash), for
    /// the verification URL printed under the QR (DECISIONS 18).
    pub base_url: &'a str,
    /// The comune's X.509 seal: the PDF gets a PAdES seal over the whole
    /// file (ANA-04, DECISIONS 14, R11). `None` only where the PDF is not
    /// released (benchmarks of the unsealed rendering, tests).
    pub pades: Option<&'a dyn X509Signer>,
}

/// Seals and renders the certificate of `request` (issue 5, parts 3–4):
/// composes it, seals its pairs and record hash with `signer` (DECISIONS
/// 16, 17, 20), draws the QR, and renders the PDF with the record attached.
///
/// # Errors
/// [`ServiceError::Invalid`] when the type cannot be issued to the holder
/// or its data cannot be printed; [`ServiceError::Internal`] when sealing
/// or rendering fails.
pub fn seal_certificate(
    templates: &Templates,
    tenant: &Tenant,
    request: &Richiesta,
    signer: &dyn SealSigner,
    issuance: &Issuance<'_>,
) -> ServiceResult<SealedCertificate> {
    let Issuance {
        cti,
        at,
        ref status,
        base_url,
        pades,
    } = *issuance;
    let content = compose(request).map_err(|e| ServiceError::invalid(&e))?;
    let record = content
        .record_bytes()
        .map_err(|e| ServiceError::Internal(format!("certificate record: {e}")))?;
    let internal =
        |what: &str, e: &dyn std::fmt::Display| ServiceError::Internal(format!("{what}: {e}"));
    let claims = SealClaims {
        issuer: format!("IT-{}", tenant.data.codice_catastale.as_str()),
        issued_at: unix(at)?,
        expires_at: content
            .scadenza
            .map(|d| {
                // Valid through its last day: `exp` is the start of the
                // next day in Rome (DPR 445/2000 art. 41; DECISIONS 17).
                d.tomorrow()
                    .and_then(|t| t.to_zoned(rome_time_zone()))
                    .map_err(|e| internal("expiry", &e))
                    .and_then(|z| unix(z.timestamp()))
            })
            .transpose()?,
        cti,
        doc_type: request.tipo.code().into(),
        pairs: content
            .pairs
            .iter()
            .map(|(l, v)| Pair::new(l.as_str(), v.as_str()))
            .collect(),
        record_hash: palazzo_seal::claims::record_hash(&content.record)
            .map_err(|e| internal("record hash", &e))?,
        status: status.clone(),
        variant: Variant::Full,
    };
    let seal = palazzo_seal::claims::seal(&claims, IDENTITY_PAIRS, signer)
        .map_err(|e| internal("seal", &e))?;
    let qr = palazzo_seal::qr::encode(&seal.text).map_err(|e| internal("QR", &e))?;
    let url = format!("{base_url}/verifica/{}", cti_text(&cti));
    let fields: Vec<Field> = content
        .pairs
        .iter()
        .map(|(l, v)| Field::new(l.as_str(), v.as_str()))
        .collect();
    let template = templates.get(tenant, request.tipo)?;
    let data = CertificateData {
        issued: at,
        document_id: cti,
        fields: &fields,
        paragraphs: &content.paragraphs,
        qr: QrMatrix::new(qr.size(), qr.modules()).map_err(|e| internal("QR matrix", &e))?,
        url: &url,
        record: &record,
        seal: &seal.text,
    };
    let pdf_error = |e: palazzo_pdf::PdfError| match e {
        palazzo_pdf::PdfError::Unsupported(_) => ServiceError::Invalid {
            code: "carattere_non_stampabile",
            message: "I dati contengono un carattere che il certificato non può stampare: \
                      rivolgersi all'ufficio anagrafe."
                .into(),
        },
        e => internal("certificate PDF", &e),
    };
    let pdf = match pades {
        None => template.render(&data).map_err(pdf_error)?,
        Some(signer) => {
            let prepared = template
                .render_for_signature(
                    &data,
                    &SignatureSpec {
                        field: "SigilloComune",
                        reason: &format!("Sigillo elettronico del {}", tenant.data.name),
                        location: &tenant.data.name,
                        time: at,
                        capacity: pades::capacity(signer),
                    },
                )
                .map_err(pdf_error)?;
            pades::seal_pdf(prepared, signer)?
        }
    };
    Ok(SealedCertificate {
        pdf_sha256: Impronta::of(&pdf),
        pdf,
        seal,
        record,
        content,
        url,
    })
}

fn unix(t: Timestamp) -> ServiceResult<u64> {
    u64::try_from(t.as_second()).map_err(|_| ServiceError::Internal("a time before 1970".into()))
}

/// The request for a certificate of `tipo` about the resident `cf` of
/// `tenant`, from the register (issue 5, part 3): the holder, their
/// famiglia anagrafica in register order, their address, residence start,
/// provenance and earlier residences, with every place printed by its name
/// at the relevant date (`palazzo_domain::luoghi`: a birthplace under the
/// name it had on the day of birth).
///
/// # Errors
/// [`ServiceError::NotFound`] when `cf` is not a resident of the comune;
/// [`ServiceError::Internal`] when the register is inconsistent (a family
/// without its address).
pub async fn request_from_register(
    db: &crate::db::Db,
    tenant: &Tenant,
    cf: &palazzo_domain::ids::CodiceFiscale,
    tipo: TipoCertificato,
    uso: palazzo_domain::certificati::Uso,
    rilascio: jiff::civil::Date,
) -> ServiceResult<Richiesta> {
    use palazzo_domain::certificati::{Periodo, Soggetto};
    use palazzo_domain::luoghi;
    use palazzo_store::{PopPerson, Store};
    let holder = db
        .resident(tenant.id, cf)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let soggetto = |p: &PopPerson| Soggetto {
        codice_fiscale: p.codice_fiscale.as_str().to_owned(),
        cognome: p.surname.clone(),
        nome: p.name.clone(),
        sesso: p.sex,
        nascita: p.birth_date,
        luogo_nascita: luoghi::printed_at(&p.birthplace, p.birth_date),
        cittadinanza: p.citizenship,
        stato_civile: p.marital_status,
        rapporto: p.relation.clone(),
    };
    let famiglia = db
        .family_members(tenant.id, holder.family)
        .await?
        .iter()
        .map(soggetto)
        .collect();
    let address = db
        .family_address(tenant.id, holder.family)
        .await?
        .ok_or_else(|| {
            ServiceError::Internal(format!("family {} has no address", holder.family))
        })?;
    let residenze = db
        .residences_of(tenant.id, holder.id)
        .await?
        .into_iter()
        .map(|r| Periodo {
            dal: r.from,
            al: r.to,
            indirizzo: format!("{} {}", r.street, r.civic),
        })
        .collect();
    let d = &tenant.data;
    Ok(Richiesta {
        tipo,
        uso,
        comune: d.address.locality.clone(),
        codice_catastale: d.codice_catastale.as_str().to_owned(),
        provincia: d.address.province.clone(),
        rilascio,
        intestatario: soggetto(&holder),
        famiglia,
        indirizzo: format!("{} {}", address.street, address.civic),
        cap: address.cap.as_str().to_owned(),
        residente_dal: holder.resident_since,
        provenienza: holder.provenance.as_ref().map(luoghi::printed),
        residenze,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cti_round_trips_and_rejects_garbage() {
        let cti = [0xfb; 16];
        assert_eq!(parse_cti(&cti_text(&cti)), Some(cti));
        assert_eq!(parse_cti("AAAAAAAAAAAAAAAAAAAAAA"), Some([0; 16]));
        assert_eq!(parse_cti("AAAAAAAAAAAAAAAAAAAAA"), None, "too short");
        assert_eq!(parse_cti("AAAAAAAAAAAAAAAAAAAAA+"), None, "not base64url");
        assert_eq!(parse_cti("AAAAAAAAAAAAAAAAAAAAAAAA"), None, "too long");
    }
}
