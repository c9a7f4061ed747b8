//! The Allegato 5 metadata of a protocolled document (protocol-documents.md
//! §5.1, PR-11): a `DocumentoAmministrativoInformatico` XML for the primary
//! document or an attachment of a registration, in any of its versions
//! (SYS-3).
//!
//! No official final XSD of Allegato 5 is public (OQ-1): the output follows
//! Palazzo's own schema `docs/documento-amministrativo-informatico.xsd`
//! (namespace [`NAMESPACE`]) with the final element names; the tests
//! validate every export against it with xmlschema. Format and the choices
//! made (what is taken from where, which personal data) are in
//! `docs/metadati-allegato5.md`.

use jiff::Timestamp;
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow, Impronta};
use palazzo_store::*;

use crate::access::Actor;
use crate::documents::{Detected, detect};
use crate::fascicoli::{denominazione, piano_di_classificazione};
use crate::keys::SEAL_AOO_FILE;
use crate::versioni::DocumentHistory;
use crate::{App, ServiceError, ServiceResult};

/// The namespace of the export.
pub const NAMESPACE: &str = "urn:palazzo:documento-amministrativo-informatico:1";

/// `TempoDiConservazione` until a piano di conservazione maps classes to
/// retention periods: nothing protocolled is discarded without one.
pub const TEMPO_DI_CONSERVAZIONE: &str = "permanente";

/// An export: the XML and the names to download it under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadatiDocumento {
    /// The XML (UTF-8).
    pub xml: String,
    /// `metadati-<registro>-<anno>-<numero>-<documento>-v<versione>.xml`.
    pub file_name: String,
    /// The document version described.
    pub file: DocumentRef,
    /// Its version number.
    pub version: u32,
}

/// Everything the XML is made of, gathered by [`App::documento_amministrativo`].
#[derive(Debug, Clone)]
pub struct Sources<'a> {
    /// The ente.
    pub tenant: &'a Tenant,
    /// The AOO code installed with the AOO seal, if any.
    pub aoo: Option<&'a str>,
    /// The registration.
    pub registration: &'a Registration,
    /// Every document with its versions.
    pub histories: &'a [DocumentHistory],
    /// Which document (0 the primary).
    pub document: u32,
    /// Which version.
    pub version: u32,
    /// What the described version's content is.
    pub detected: &'a Detected,
    /// The classification's name in the current titolario and the
    /// titolario's `PianoDiClassificazione`.
    pub classification: Option<(String, String)>,
    /// The assigned office's name.
    pub office: Option<String>,
    /// The identifiers of the fascicoli the registration is in (those the
    /// reader may see: TI-6).
    pub fascicoli: Vec<String>,
    /// Whether the registration is in a riservato fascicolo (TI-6).
    pub riservato: bool,
}

// ------------------------------------------------------------------ XML

#[derive(Default)]
struct Xml {
    out: String,
    depth: usize,
    bad: bool,
}

fn xml_ok(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

impl Xml {
    fn escape(&mut self, s: &str) {
        for c in s.chars() {
            match c {
                '&' => self.out.push_str("&amp;"),
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                '"' => self.out.push_str("&quot;"),
                '\r' => self.out.push_str("&#xD;"),
                c if xml_ok(c) => self.out.push(c),
                _ => self.bad = true,
            }
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, name: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self.escape(text);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }
}

/// `<CodiceRegistro>-<anno>-<numero>`: the registration, as in the
/// fascicolo index.
pub fn segnatura_id(r: &Registration) -> String {
    format!("{}-{}-{}", r.data.register, r.year, r.number)
}

fn id_doc(w: &mut Xml, name: &str, sha: &Impronta, segnatura: &str) {
    w.open(name);
    w.open("ImprontaCrittograficaDelDocumento");
    w.leaf("Impronta", &sha.base64());
    w.leaf("Algoritmo", "SHA-256");
    w.close("ImprontaCrittograficaDelDocumento");
    w.leaf("Identificativo", &format!("sha256:{}", sha.hex()));
    w.leaf("Segnatura", segnatura);
    w.close(name);
}

fn rome_date_time(t: Timestamp) -> (String, String) {
    let z = t.to_zoned(palazzo_domain::calendar::rome_time_zone());
    (
        z.date().to_string(),
        z.time().strftime("%H:%M:%S").to_string(),
    )
}

fn digital(w: &mut Xml, c: &Correspondent) {
    if let Some(e) = &c.email {
        w.open("IndirizziDigitaliDiRiferimento");
        w.leaf("IndirizzoDigitale", e.as_str());
        w.close("IndirizziDigitaliDiRiferimento");
    }
}

/// A mittente or destinatario. Only what Allegato 5 asks for: the name,
/// the codice fiscale / partita IVA or IPA code, the digital address; the
/// postal address is left out.
fn correspondent(w: &mut Xml, role: &str, c: &Correspondent) {
    w.open("Ruolo");
    w.leaf("TipoRuolo", role);
    match c.kind {
        CorrespondentKind::PersonaFisica => {
            w.open("PF");
            w.leaf("Denominazione", &c.name);
            if let Some(cf) = &c.fiscal_code {
                w.leaf("CodiceFiscale", cf);
            }
            digital(w, c);
            w.close("PF");
        }
        CorrespondentKind::PersonaGiuridica => {
            w.open("PG");
            w.leaf("DenominazioneOrganizzazione", &c.name);
            if let Some(cf) = &c.fiscal_code {
                w.leaf("CodiceFiscale_PartitaIva", cf);
            }
            digital(w, c);
            w.close("PG");
        }
        CorrespondentKind::Amministrazione => {
            w.open("PAI");
            w.open("IPAAmm");
            w.leaf("Denominazione", &c.name);
            if let Some(ipa) = &c.ipa {
                w.leaf("CodiceIPA", ipa);
            }
            w.close("IPAAmm");
            digital(w, c);
            w.close("PAI");
        }
    }
    w.close("Ruolo");
}

/// The ente as a PAI, with the AOO and, when given, an office.
fn ente(w: &mut Xml, role: &str, s: &Sources<'_>, office: Option<&str>) {
    let t = &s.tenant.data;
    w.open("Ruolo");
    w.leaf("TipoRuolo", role);
    w.open("PAI");
    w.open("IPAAmm");
    w.leaf("Denominazione", &t.name);
    w.leaf("CodiceIPA", t.codice_ipa.as_str());
    w.close("IPAAmm");
    if let Some(aoo) = s.aoo {
        w.open("IPAAOO");
        w.leaf("CodiceIPA", aoo);
        w.close("IPAAOO");
    }
    if let Some(o) = office {
        w.open("IPAUOR");
        w.leaf("Denominazione", o);
        w.close("IPAUOR");
    }
    if role == "AmministrazioneCheEffettuaLaRegistrazione" {
        w.open("IndirizziDigitaliDiRiferimento");
        w.leaf("IndirizzoDigitale", t.pec.as_str());
        w.close("IndirizziDigitaliDiRiferimento");
    }
    w.close("PAI");
    w.close("Ruolo");
}

fn person(w: &mut Xml, role: &str, name: &str) {
    w.open("Ruolo");
    w.leaf("TipoRuolo", role);
    w.open("PF");
    w.leaf("Denominazione", name);
    w.close("PF");
    w.close("Ruolo");
}

#[allow(clippy::too_many_arguments)]
fn traccia(
    w: &mut Xml,
    kind: &str,
    author: &str,
    at: Timestamp,
    previous: &Impronta,
    segnatura: &str,
    reason: &str,
) {
    let (date, time) = rome_date_time(at);
    w.open("TracciatureModificheDocumento");
    w.leaf("TipoModifica", kind);
    w.open("SoggettoAutoreDellaModifica");
    w.leaf("Denominazione", author);
    w.close("SoggettoAutoreDellaModifica");
    w.leaf("DataModifica", &date);
    w.leaf("OraModifica", &time);
    id_doc(w, "IdDocVersionePrecedente", previous, segnatura);
    if !reason.trim().is_empty() {
        w.leaf("Motivo", reason);
    }
    w.close("TracciatureModificheDocumento");
}

/// The `DocumentoAmministrativoInformatico` XML (see the module docs).
/// `None` when the document or version does not exist; an error when a
/// stored text cannot be written as XML 1.0.
pub fn xml(s: &Sources<'_>) -> ServiceResult<Option<String>> {
    let r = s.registration;
    let d = &r.data;
    let Some(history) = s.histories.iter().find(|h| h.index == s.document) else {
        return Ok(None);
    };
    let Some(this) = history.version(s.version) else {
        return Ok(None);
    };
    let seg = segnatura_id(r);
    let mut w = Xml::default();
    w.out.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DocumentoAmministrativoInformatico xmlns=\"",
    );
    w.out.push_str(NAMESPACE);
    w.out.push_str("\" versione=\"1\">\n");
    w.depth = 1;
    id_doc(&mut w, "IdDoc", &this.file.sha256, &seg);
    // LG §2.1.1: what came in was acquired (b); what the comune sends or
    // keeps internally was formed with software (a).
    w.leaf(
        "ModalitaDiFormazione",
        if d.flow == Flow::Entrata { "b" } else { "a" },
    );
    w.leaf(
        "TipologiaDocumentale",
        if s.document == 0 {
            "Documento protocollato"
        } else {
            "Allegato"
        },
    );
    // DatiDiRegistrazione: a protocol registration (ordinary, or the
    // recovery of an emergency one: same branch).
    let (date, time) = rome_date_time(r.registered_at);
    w.open("DatiDiRegistrazione");
    w.leaf("TipologiaDiFlusso", d.flow.code());
    w.open("TipoRegistro");
    w.open("ProtocolloOrdinario_ProtocolloEmergenza");
    w.leaf("DataProtocollazioneDocumento", &date);
    w.leaf("OraProtocollazioneDocumento", &time);
    w.leaf("NumeroProtocolloDocumento", &r.number.to_string());
    w.leaf("CodiceRegistro", d.register.as_str());
    w.close("ProtocolloOrdinario_ProtocolloEmergenza");
    w.close("TipoRegistro");
    w.close("DatiDiRegistrazione");
    // Soggetti.
    w.open("Soggetti");
    ente(&mut w, "AmministrazioneCheEffettuaLaRegistrazione", s, None);
    match d.flow {
        Flow::Entrata => {
            for c in &d.correspondents {
                correspondent(&mut w, "Mittente", c);
            }
        }
        Flow::Uscita | Flow::Interno => {
            ente(&mut w, "Mittente", s, s.office.as_deref());
            for c in &d.correspondents {
                correspondent(&mut w, "Destinatario", c);
            }
        }
    }
    if let Some(o) = &s.office {
        ente(&mut w, "Assegnatario", s, Some(o.as_str()));
    }
    person(&mut w, "Operatore", &d.registered_by);
    w.close("Soggetti");
    w.open("ChiaveDescrittiva");
    w.leaf("Oggetto", &d.subject);
    w.close("ChiaveDescrittiva");
    // Allegati: the registered attachments (their impronte are those of the
    // segnatura); an attachment has none of its own.
    w.open("Allegati");
    if s.document == 0 {
        w.leaf("NumeroAllegati", &d.attachments.len().to_string());
        for a in &d.attachments {
            w.open("IndiceAllegati");
            id_doc(&mut w, "IdDoc", &a.sha256, &seg);
            w.leaf("Descrizione", &a.name);
            w.close("IndiceAllegati");
        }
    } else {
        w.leaf("NumeroAllegati", "0");
    }
    w.close("Allegati");
    if let (Some(code), Some((name, piano))) = (&d.classification, &s.classification) {
        w.open("Classificazione");
        w.leaf("IndiceDiClassificazione", code);
        w.leaf("Descrizione", name);
        w.leaf("PianoDiClassificazione", piano);
        w.close("Classificazione");
    }
    w.leaf("Riservato", if s.riservato { "true" } else { "false" });
    w.open("IdentificativoDelFormato");
    w.leaf("Formato", &s.detected.formato);
    if let Some(inner) = &s.detected.contenuto_firmato {
        w.leaf("FormatoContenuto", &inner.formato);
    }
    w.close("IdentificativoDelFormato");
    w.open("Verifica");
    w.leaf(
        "FirmatoDigitalmente",
        if s.detected.firmato() {
            "true"
        } else {
            "false"
        },
    );
    w.leaf("SigillatoElettronicamente", "false");
    w.leaf("MarcaturaTemporale", "false");
    w.leaf("ConformitaCopieImmagineSuSupportoInformatico", "false");
    w.close("Verifica");
    if !s.fascicoli.is_empty() {
        w.open("Agg");
        for f in &s.fascicoli {
            w.open("TipoAgg");
            w.leaf("TipoAggregazione", "Fascicolo");
            w.leaf("IdAggregazione", f);
            w.close("TipoAgg");
        }
        w.close("Agg");
    }
    if s.document != 0 {
        id_doc(
            &mut w,
            "IdIdentificativoDocumentoPrimario",
            &d.primary.sha256,
            &seg,
        );
    }
    w.leaf("NomeDelDocumento", &this.file.name);
    w.leaf("VersioneDelDocumento", &s.version.to_string());
    // SYS-3: every modification up to this version, then the annulment of
    // the registration (it concerns every version).
    for v in history.versions.iter().filter(|v| v.version <= s.version) {
        if let Some(row) = &v.row {
            traccia(
                &mut w,
                row.data.kind.allegato5(),
                &row.data.author,
                row.at,
                &row.data.previous,
                &seg,
                &row.data.reason,
            );
        }
    }
    if let Some(a) = &r.annulment {
        traccia(
            &mut w,
            "Annullamento",
            &a.by,
            a.at,
            &this.file.sha256,
            &seg,
            &format!("{} (provvedimento: {})", a.reason, a.act),
        );
    }
    w.leaf("TempoDiConservazione", TEMPO_DI_CONSERVAZIONE);
    w.depth = 0;
    w.out.push_str("</DocumentoAmministrativoInformatico>\n");
    if w.bad {
        return Err(ServiceError::Internal(
            "metadati: a stored text holds characters XML 1.0 cannot carry".into(),
        ));
    }
    Ok(Some(w.out))
}

impl App {
    /// The Allegato 5 metadata (PR-11) of document `document` (0 the
    /// primary, `n` the n-th attachment) of a registration, in version
    /// `version` (the current one when `None`), for staff who may read the
    /// register.
    pub async fn documento_amministrativo(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: RegistrationId,
        document: u32,
        version: Option<u32>,
    ) -> ServiceResult<MetadatiDocumento> {
        let (reg, hist) = self.document_histories(tenant, actor, id).await?;
        let history = hist
            .iter()
            .find(|h| h.index == document)
            .ok_or(ServiceError::NotFound)?;
        let version = version.unwrap_or_else(|| history.current().version);
        let file = history
            .version(version)
            .ok_or(ServiceError::NotFound)?
            .file
            .clone();
        // The format from the content (Allegato 2), as at the upload.
        let (_, bytes) = self
            .document_version_file(tenant, actor, id, document, version)
            .await?;
        let detected = detect(&bytes)?;
        drop(bytes);
        let t = self.tenant(tenant)?;
        let aoo = self
            .keys()
            .read_file(&t.data.slug, SEAL_AOO_FILE)?
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .filter(|s| !s.is_empty());
        let classification = match &reg.data.classification {
            Some(code) => {
                let current = self.current_titolario(tenant).await?;
                let name = denominazione(&current, code).unwrap_or_else(|| code.clone());
                Some((name, piano_di_classificazione(&t, current.info.version)))
            }
            None => None,
        };
        let office = match reg.data.office {
            Some(o) => self
                .portal(tenant)
                .await?
                .office(o)
                .map(|x| x.data.name.clone()),
            None => None,
        };
        // Riservato when any fascicolo holding it is riservato (TI-6); the
        // aggregations listed are those the reader may see.
        let riservato = self
            .db()
            .fascicoli_of_registration(tenant, id)
            .await?
            .iter()
            .any(|f| f.restriction.is_some());
        let fascicoli = self
            .registration_fascicoli(tenant, actor, id)
            .await?
            .into_iter()
            .map(|f| f.code)
            .collect();
        let sources = Sources {
            tenant: &t,
            aoo: aoo.as_deref(),
            registration: &reg,
            histories: &hist,
            document,
            version,
            detected: &detected,
            classification,
            office,
            fascicoli,
            riservato,
        };
        let xml = xml(&sources)?.ok_or(ServiceError::NotFound)?;
        Ok(MetadatiDocumento {
            xml,
            file_name: format!(
                "metadati-{}-{}-{}-{document}-v{version}.xml",
                reg.data.register, reg.year, reg.number
            ),
            file,
            version,
        })
    }
}
