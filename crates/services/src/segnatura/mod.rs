//! The segnatura di protocollo (AgID Linee Guida 2021, Allegato 6): the
//! `prot:SegnaturaInformatica` v3.0.0 XML of a registration, signed with
//! the AOO seal as an enveloped XAdES Baseline B signature.
//!
//! * [`build`] writes the segnatura of a registration without its
//!   signature ([`Unsigned`]); the form is the one `segnatura_protocollo.xsd`
//!   v3.0 asks for, including the qualified attributes (`prot:versione`,
//!   `prot:nomeFile`, …) and `NumeroRegistrazione` as seven digits.
//! * [`SealKey`] is the AOO seal: a PKCS#8 private key (EC P-256 or RSA)
//!   and its X.509 certificate, chained to a CA (DECISIONS 14).
//! * [`sign`] adds the mandatory `ds:Signature` (XAdES-B-B, enveloped,
//!   SHA-256, `SigningTime` and `SigningCertificateV2`): without it the
//!   document is schema-invalid (PR-6, PR-7).
//!
//! Choices the schema leaves to us (documented in `docs/segnatura.md`):
//! no `IndirizzoPostale` (its `CAPType` wants six digits, real CAPs have
//! five); a persona fisica's single name is split at the first space into
//! `Nome` and `Cognome`; an administration without an IPA code is written
//! as a `PersonaGiuridica`; the time is the Europe/Rome civil time.

mod annullamento;
mod c14n;
pub(crate) mod controllo;
pub mod demo_ca;
pub(crate) mod der;
pub mod messaggi;
pub mod ricezione;
mod schema;
pub(crate) mod servizio;
pub mod verifica;
mod xades;
mod xml;

use jiff::Timestamp;
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow};
use palazzo_domain::titolario::ClassKey;
use palazzo_store::{DocumentRef, Registration, Tenant};

pub use servizio::{AooSeal, Esito, FileRicevuto};
pub(crate) use xades::pem_certificates;
pub use xades::{SealKey, sign};

use crate::{ServiceError, ServiceResult};
use xml::Writer;

/// Namespace of the segnatura (`prot:`).
pub const NS_PROT: &str = "http://www.agid.gov.it/protocollo/";
/// Namespace of the PEC-channel messages (`pec:`, `pec_message.xsd`):
/// `ConfermaRicezione`, `NotificaEccezione`, `AnnullamentoProtocollazione`.
pub const NS_PEC: &str = "http://www.agid.gov.it/protocollo/pec/";
/// Namespace of XML-DSig (`ds:`).
pub const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Namespace of XAdES 1.3.2 (`xades:`, ETSI EN 319 132-1).
pub const NS_XADES: &str = "http://uri.etsi.org/01903/v1.3.2#";

/// The XML declaration written before the root element.
pub const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

const ROOT: &str = "prot:SegnaturaInformatica";

fn invalid(code: &'static str, message: &str) -> ServiceError {
    ServiceError::Invalid {
        code,
        message: message.to_owned(),
    }
}

/// A segnatura without its signature. Its text is the exclusive
/// canonical form (exc-c14n) of the document the signature covers, so
/// [`sign`] digests these exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsigned {
    body: String,
}

impl Unsigned {
    /// The canonical root element, without XML declaration.
    pub fn canonical(&self) -> &str {
        &self.body
    }

    /// The document as a file (declaration + root). Not schema-valid: the
    /// schema requires `ds:Signature`.
    pub fn to_xml(&self) -> String {
        format!("{XML_DECLARATION}{}", self.body)
    }

    /// The body with the signature inserted as the root's last child.
    pub(crate) fn with_signature(&self, signature: &str) -> String {
        let close = format!("</{ROOT}>");
        let head = self.body.strip_suffix(&close).unwrap_or(&self.body);
        format!("{XML_DECLARATION}{head}{signature}{close}")
    }
}

/// Writes the segnatura of `registration` for the AOO `aoo_code` of
/// `tenant`. The primary document and the attachments, with their SHA-256
/// impronte, come from the registration.
///
/// Outgoing and internal registrations have the comune as `Mittente` and
/// the correspondents as `Destinatario`; incoming ones have the
/// correspondent as `Mittente` and the comune as `Destinatario`.
///
/// Errors (`ServiceError::Invalid`): `segnatura_annullata` (an annulled
/// entry), `segnatura_classifica_mancante` / `segnatura_classifica` (the
/// schema requires a valid `Classifica`), `segnatura_codice_aoo`,
/// `segnatura_corrispondente_mancante`, `segnatura_carattere_non_valido`.
///
/// The classification is named after the 2005 titolario (version 1 of every
/// ente's titolario); [`build_with_titolario`] names it after the ente's own.
pub fn build(
    tenant: &Tenant,
    aoo_code: &str,
    registration: &Registration,
) -> ServiceResult<Unsigned> {
    let seed = crate::fascicoli::seed_version(tenant.id, registration.registered_at);
    build_with_titolario(tenant, aoo_code, registration, &seed)
}

/// [`build`] with the classification checked against, and named after, the
/// version `titolario` of the ente's titolario (the current one when an
/// entry is registered), so that a voice the administrator added (e.g.
/// `VI.11`) is a valid `Classifica`. A closed voice still names an entry
/// classified under it before it closed.
pub fn build_with_titolario(
    tenant: &Tenant,
    aoo_code: &str,
    registration: &Registration,
    titolario: &palazzo_store::TitolarioVersion,
) -> ServiceResult<Unsigned> {
    let d = &registration.data;
    if registration.annulment.is_some() {
        return Err(invalid(
            "segnatura_annullata",
            "Una registrazione annullata non può essere trasmessa con la segnatura.",
        ));
    }
    if aoo_code.trim().is_empty() || aoo_code.chars().any(char::is_control) {
        return Err(invalid(
            "segnatura_codice_aoo",
            "Il codice IPA dell'area organizzativa omogenea (AOO) è obbligatorio.",
        ));
    }
    let class = match d.classification.as_deref().map(str::trim) {
        None | Some("") => {
            return Err(invalid(
                "segnatura_classifica_mancante",
                "La segnatura richiede la classificazione: classifica la registrazione prima di trasmetterla.",
            ));
        }
        Some(c) => ClassKey::parse(c)
            .ok()
            .and_then(|k| {
                let code = k.to_string();
                crate::fascicoli::denominazione(titolario, &code).map(|name| (code, name))
            })
            .ok_or_else(|| {
                invalid(
                    "segnatura_classifica",
                    "La classificazione della registrazione non è una voce del titolario.",
                )
            })?,
    };
    if d.correspondents.is_empty() {
        return Err(invalid(
            "segnatura_corrispondente_mancante",
            "La segnatura richiede il mittente e almeno un destinatario.",
        ));
    }

    let zoned = registration
        .registered_at
        .to_zoned(palazzo_domain::calendar::rome_time_zone());
    let mut w = Writer::new();
    w.open(
        ROOT,
        &[
            ("xmlns:prot", NS_PROT),
            ("prot:versione", "3.0.0"),
            ("prot:lang", "it"),
        ],
    );

    w.open("prot:Intestazione", &[]);
    w.open("prot:Identificatore", &[]);
    w.leaf(
        "prot:CodiceAmministrazione",
        &[],
        tenant.data.codice_ipa.as_str(),
    );
    w.leaf("prot:CodiceAOO", &[], aoo_code.trim());
    w.leaf("prot:CodiceRegistro", &[], d.register.as_str());
    w.leaf(
        "prot:NumeroRegistrazione",
        &[],
        &registration.number.to_string(),
    );
    w.leaf(
        "prot:DataRegistrazione",
        &[],
        &zoned.strftime("%Y-%m-%d").to_string(),
    );
    w.leaf(
        "prot:OraRegistrazione",
        &[],
        &zoned.strftime("%H:%M:%S").to_string(),
    );
    w.close("prot:Identificatore");
    w.leaf("prot:Oggetto", &[], &d.subject);
    w.open("prot:Classifica", &[]);
    w.leaf("prot:Denominazione", &[], &class.1);
    w.leaf("prot:CodiceFlat", &[], &class.0);
    w.close("prot:Classifica");
    w.close("prot:Intestazione");

    w.open("prot:Descrizione", &[]);
    match d.flow {
        Flow::Entrata => {
            w.open("prot:Mittente", &[]);
            correspondent(&mut w, &d.correspondents[0]);
            w.close("prot:Mittente");
            w.open("prot:Destinatario", &[]);
            comune(&mut w, tenant, aoo_code.trim());
            w.close("prot:Destinatario");
        }
        Flow::Uscita | Flow::Interno => {
            w.open("prot:Mittente", &[]);
            comune(&mut w, tenant, aoo_code.trim());
            w.close("prot:Mittente");
            for c in &d.correspondents {
                let attrs: &[(&str, &str)] = if c.per_conoscenza {
                    &[("prot:perConoscenza", "true")]
                } else {
                    &[]
                };
                w.open("prot:Destinatario", attrs);
                correspondent(&mut w, c);
                w.close("prot:Destinatario");
            }
        }
    }
    document(&mut w, "prot:DocumentoPrimario", &d.primary);
    for a in &d.attachments {
        document(&mut w, "prot:Allegato", a);
    }
    w.close("prot:Descrizione");
    w.close(ROOT);

    let body = w.finish().ok_or_else(|| {
        invalid(
            "segnatura_carattere_non_valido",
            "Un dato della registrazione contiene un carattere che non può essere trasmesso in XML.",
        )
    })?;
    Ok(Unsigned { body })
}

/// The comune as `Amministrazione`, with its AOO.
fn comune(w: &mut Writer, tenant: &Tenant, aoo: &str) {
    let t = &tenant.data;
    w.open("prot:Amministrazione", &[]);
    w.leaf("prot:DenominazioneAmministrazione", &[], &t.name);
    if is_partita_iva(t.codice_fiscale.as_str()) {
        w.leaf("prot:CFAmministrazione", &[], t.codice_fiscale.as_str());
    }
    w.leaf("prot:CodiceIPAAmministrazione", &[], t.codice_ipa.as_str());
    w.open("prot:ContattiAmministrazione", &[]);
    w.leaf("prot:IndirizzoTelematico", &[], t.pec.as_str());
    w.close("prot:ContattiAmministrazione");
    w.leaf("prot:CodiceIPAAOO", &[], aoo);
    w.close("prot:Amministrazione");
}

/// A correspondent by kind (`SoggettoType`).
fn correspondent(w: &mut Writer, c: &Correspondent) {
    let name = c.name.trim();
    let email = c.email.as_ref().map(|e| e.as_str().to_owned());
    let contacts = |w: &mut Writer, element: &str| {
        if let Some(e) = &email {
            w.open(element, &[]);
            w.leaf("prot:IndirizzoTelematico", &[], e);
            w.close(element);
        }
    };
    let fiscal = c.fiscal_code.as_deref().map(str::trim);
    match (c.kind, c.ipa.as_deref().map(str::trim)) {
        (CorrespondentKind::Amministrazione, Some(ipa)) if !ipa.is_empty() => {
            w.open("prot:Amministrazione", &[]);
            w.leaf("prot:DenominazioneAmministrazione", &[], name);
            if let Some(cf) = fiscal.filter(|f| is_partita_iva(f)) {
                w.leaf("prot:CFAmministrazione", &[], cf);
            }
            w.leaf("prot:CodiceIPAAmministrazione", &[], ipa);
            contacts(w, "prot:ContattiAmministrazione");
            w.close("prot:Amministrazione");
        }
        (CorrespondentKind::PersonaFisica, _) => {
            let (nome, cognome) = split_name(name);
            w.open("prot:PersonaFisica", &[]);
            w.leaf("prot:Nome", &[], nome);
            w.leaf("prot:Cognome", &[], cognome);
            if let Some(cf) = fiscal.filter(|f| is_personal_cf(f)) {
                w.leaf("prot:CodiceFiscale", &[], cf);
            }
            contacts(w, "prot:Contatti");
            w.close("prot:PersonaFisica");
        }
        // A persona giuridica, or an administration whose IPA code is unknown.
        _ => {
            w.open("prot:PersonaGiuridica", &[]);
            w.leaf("prot:Denominazione", &[], name);
            if let Some(cf) = fiscal.filter(|f| is_partita_iva(f)) {
                w.leaf("prot:PIVAoCF", &[], cf);
            }
            contacts(w, "prot:ContattiPersonaGiuridica");
            w.close("prot:PersonaGiuridica");
        }
    }
}

/// `DocumentoPrimario` or `Allegato` with its base64 SHA-256 impronta.
fn document(w: &mut Writer, element: &str, doc: &DocumentRef) {
    w.open(
        element,
        &[
            ("prot:nomeFile", &doc.name),
            ("prot:mimeType", &doc.media_type),
        ],
    );
    w.leaf(
        "prot:Impronta",
        &[("prot:algoritmo", "SHA-256")],
        &doc.sha256.base64(),
    );
    w.close(element);
}

/// "Mario Rossi" → ("Mario", "Rossi"); "Maria Grazia Rossi" → ("Maria",
/// "Grazia Rossi"); one word is the surname with an empty first name.
fn split_name(name: &str) -> (&str, &str) {
    match name.split_once(char::is_whitespace) {
        Some((n, c)) => (n, c.trim()),
        None => ("", name),
    }
}

/// `PartitaIVA` of the schema: eleven digits.
fn is_partita_iva(s: &str) -> bool {
    s.len() == 11 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `CodiceFiscaleType` of the schema (the personal 16-character form).
fn is_personal_cf(s: &str) -> bool {
    let b = s.as_bytes();
    let omo = |c: u8| c.is_ascii_digit() || b"LMNPQRSTUV".contains(&c);
    let up = |c: u8| c.is_ascii_uppercase();
    b.len() == 16
        && b[..6].iter().all(|&c| up(c))
        && b[6..8].iter().all(|&c| omo(c))
        && b"ABCDEHLMPRST".contains(&b[8])
        && b[9..11].iter().all(|&c| omo(c))
        && up(b[11])
        && b[12..15].iter().all(|&c| omo(c))
        && up(b[15])
}

/// Formats an instant as `xs:dateTime` in UTC (`2025-03-04T10:15:00Z`).
pub(crate) fn xs_date_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_at_the_first_space() {
        assert_eq!(split_name("Mario Rossi"), ("Mario", "Rossi"));
        assert_eq!(
            split_name("Maria Grazia  Rossi"),
            ("Maria", "Grazia  Rossi")
        );
        assert_eq!(split_name("Rossi"), ("", "Rossi"));
    }

    #[test]
    fn fiscal_code_patterns_follow_the_schema() {
        assert!(is_personal_cf("RSSMRA80A01H501U"));
        assert!(!is_personal_cf("rssmra80a01h501u"));
        assert!(!is_personal_cf("80001870726"));
        assert!(is_partita_iva("80001870726"));
        assert!(!is_partita_iva("8000187072"));
    }
}
