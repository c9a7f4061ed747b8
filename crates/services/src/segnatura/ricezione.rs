//! The receiver side (Allegato 6 §3.1, PR-8): the anomaly codes of the
//! AgID WSDL, the reading of a received protocol message ([`analizza`]:
//! parse with `roxmltree`, structure of `segnatura_protocollo.xsd`,
//! signature) and the check of the impronte of the files received with it
//! ([`check_impronte`]). Registering it and answering are in
//! `servizio.rs`.
//!
//! Why `roxmltree`: a read-only tree with no dependencies and no `unsafe`,
//! namespace-aware, that keeps the source positions (we need the prefixes
//! as written for canonicalisation) and refuses DTDs by default (no
//! entity expansion, no external entities: no XXE). We never modify or
//! write a received document, so a DOM with mutation (or libxml2 through
//! FFI) would only add attack surface.

use base64::Engine as _;
use palazzo_domain::ids::Email;
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Impronta};
use palazzo_store::SenderIdentifier;
use roxmltree::{Document, Node};

use super::verifica::{self, Verified};
use super::{NS_DS, NS_PEC, NS_PROT, schema};

/// An anomaly the receiving AOO reports (`NotificaEccezione`); the codes
/// are the WSDL enumeration strings, typos included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anomalia {
    /// Not receivable (confirmation enum: `000_Irricevibile`).
    Irricevibile,
    /// Not receivable, as spelt in the annulment enum (`000_Irricevibilita`).
    IrricevibilitaAnnullamento,
    /// The segnatura's signature does not verify.
    ValidazioneFirma,
    /// An impronta does not match its file, or a file is missing.
    AnomaliaImpronte,
    /// A document or attachment cannot be read.
    DocumentoAllegatiNonLeggibili,
    /// The signature on a document or attachment fails.
    DocumentoAllegatiErroreValidazioneFirma,
    /// The timestamp on a document or attachment fails ("Vaidazione" is the
    /// WSDL's spelling).
    DocumentoAllegatiErroreValidazioneMarcaTemporale,
    /// The seal on a document or attachment fails.
    DocumentoAllegatiErroreValidazioneSigillo,
    /// An annulment names an unknown identifier.
    ErroreIdentificatoreNonTrovato,
}

/// `000_Irricevibile` (confirmation enum).
pub const IRRICEVIBILE: &str = "000_Irricevibile";
/// `000_Irricevibilita` (annulment enum).
pub const IRRICEVIBILITA: &str = "000_Irricevibilita";
/// `001_ValidazioneFirma`.
pub const VALIDAZIONE_FIRMA: &str = "001_ValidazioneFirma";
/// `002_AnomaliaImpronte` (the draft PDF's "AnomaliaImpronta" is wrong).
pub const ANOMALIA_IMPRONTE: &str = "002_AnomaliaImpronte";
/// `003_DocumentoAllegatiNonLeggibili`.
pub const DOCUMENTO_ALLEGATI_NON_LEGGIBILI: &str = "003_DocumentoAllegatiNonLeggibili";
/// `004_DocumentoAllegatiErroreValidazioneFirma`.
pub const DOCUMENTO_ALLEGATI_ERRORE_VALIDAZIONE_FIRMA: &str =
    "004_DocumentoAllegatiErroreValidazioneFirma";
/// `005_DocumentoAllegatiErroreVaidazioneMarcaTemporale` (sic).
pub const DOCUMENTO_ALLEGATI_ERRORE_VALIDAZIONE_MARCA_TEMPORALE: &str =
    "005_DocumentoAllegatiErroreVaidazioneMarcaTemporale";
/// `006_DocumentoAllegatiErroreValidazioneSigillo`.
pub const DOCUMENTO_ALLEGATI_ERRORE_VALIDAZIONE_SIGILLO: &str =
    "006_DocumentoAllegatiErroreValidazioneSigillo";
/// `007_ErroreIdentificatoreNonTrovato`.
pub const ERRORE_IDENTIFICATORE_NON_TROVATO: &str = "007_ErroreIdentificatoreNonTrovato";

impl Anomalia {
    /// The WSDL code.
    pub fn code(self) -> &'static str {
        match self {
            Anomalia::Irricevibile => IRRICEVIBILE,
            Anomalia::IrricevibilitaAnnullamento => IRRICEVIBILITA,
            Anomalia::ValidazioneFirma => VALIDAZIONE_FIRMA,
            Anomalia::AnomaliaImpronte => ANOMALIA_IMPRONTE,
            Anomalia::DocumentoAllegatiNonLeggibili => DOCUMENTO_ALLEGATI_NON_LEGGIBILI,
            Anomalia::DocumentoAllegatiErroreValidazioneFirma => {
                DOCUMENTO_ALLEGATI_ERRORE_VALIDAZIONE_FIRMA
            }
            Anomalia::DocumentoAllegatiErroreValidazioneMarcaTemporale => {
                DOCUMENTO_ALLEGATI_ERRORE_VALIDAZIONE_MARCA_TEMPORALE
            }
            Anomalia::DocumentoAllegatiErroreValidazioneSigillo => {
                DOCUMENTO_ALLEGATI_ERRORE_VALIDAZIONE_SIGILLO
            }
            Anomalia::ErroreIdentificatoreNonTrovato => ERRORE_IDENTIFICATORE_NON_TROVATO,
        }
    }

    /// Italian text for the `Motivo` of a `NotificaEccezione`.
    pub fn message_it(self) -> &'static str {
        match self {
            Anomalia::Irricevibile | Anomalia::IrricevibilitaAnnullamento => {
                "Il messaggio di protocollo non è ricevibile."
            }
            Anomalia::ValidazioneFirma => "La firma della segnatura di protocollo non è valida.",
            Anomalia::AnomaliaImpronte => {
                "L'impronta di un documento non corrisponde a quella indicata nella segnatura, o un documento manca."
            }
            Anomalia::DocumentoAllegatiNonLeggibili => {
                "Il documento primario o un allegato non è leggibile."
            }
            Anomalia::DocumentoAllegatiErroreValidazioneFirma => {
                "La firma del documento primario o di un allegato non è valida."
            }
            Anomalia::DocumentoAllegatiErroreValidazioneMarcaTemporale => {
                "La marca temporale del documento primario o di un allegato non è valida."
            }
            Anomalia::DocumentoAllegatiErroreValidazioneSigillo => {
                "Il sigillo del documento primario o di un allegato non è valido."
            }
            Anomalia::ErroreIdentificatoreNonTrovato => {
                "L'identificativo di protocollo indicato non è stato trovato."
            }
        }
    }
}

/// A document as declared in a received segnatura (`DocumentoPrimario` or
/// `Allegato`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredDocument {
    /// `@prot:nomeFile`.
    pub nome_file: String,
    /// `@prot:mimeType`.
    pub mime_type: String,
    /// `Impronta/@prot:algoritmo` (absent = the schema default SHA-256).
    pub algoritmo: Option<String>,
    /// `Impronta`, base64 as written.
    pub impronta: String,
}

/// Checks every declared impronta against the received file of the same
/// name: a missing file, an algorithm other than SHA-256, a malformed or a
/// different digest give [`Anomalia::AnomaliaImpronte`].
pub fn check_impronte(
    declared: &[DeclaredDocument],
    received: &[(&str, &[u8])],
) -> Result<(), Anomalia> {
    for d in declared {
        if d.algoritmo
            .as_deref()
            .is_some_and(|a| !a.trim().eq_ignore_ascii_case("SHA-256"))
        {
            return Err(Anomalia::AnomaliaImpronte);
        }
        let compact: String = d.impronta.chars().filter(|c| !c.is_whitespace()).collect();
        let want = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| Anomalia::AnomaliaImpronte)?;
        let file = received
            .iter()
            .find(|(name, _)| *name == d.nome_file)
            .ok_or(Anomalia::AnomaliaImpronte)?;
        if Impronta::of(file.1).bytes()[..] != want[..] {
            return Err(Anomalia::AnomaliaImpronte);
        }
    }
    Ok(())
}

/// The largest segnatura or annulment message read (bytes).
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// A refusal: the anomaly, an Italian detail, and the sender's identifier
/// when it could be read (it goes in the `MessaggioRicevuto`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rifiuto {
    /// The WSDL anomaly.
    pub anomalia: Anomalia,
    /// What was found wrong, in Italian.
    pub dettaglio: String,
    /// The sender's identifier, if readable.
    pub identificatore: Option<SenderIdentifier>,
}

impl Rifiuto {
    fn new(anomalia: Anomalia, dettaglio: impl Into<String>) -> Rifiuto {
        Rifiuto {
            anomalia,
            dettaglio: dettaglio.into(),
            identificatore: None,
        }
    }

    /// The `Motivo` of the `NotificaEccezione`: the exact WSDL code, then
    /// the Italian explanation.
    pub fn motivo(&self) -> String {
        format!(
            "{}: {} {}",
            self.anomalia.code(),
            self.anomalia.message_it(),
            self.dettaglio
        )
    }
}

/// A received segnatura that passed the structure and signature checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegnaturaRicevuta {
    /// The sender's registration.
    pub identificatore: SenderIdentifier,
    /// The first registration, when the message is a re-sending.
    pub prima_registrazione: Option<SenderIdentifier>,
    /// Oggetto.
    pub oggetto: String,
    /// The sender, as a correspondent of our incoming entry.
    pub mittente: Correspondent,
    /// IPA codes of the administrations among the destinatari.
    pub destinatari_ipa: Vec<String>,
    /// The primary document.
    pub primario: DeclaredDocument,
    /// The attachments.
    pub allegati: Vec<DeclaredDocument>,
    /// The verified signature.
    pub firma: Verified,
}

/// A received message: a segnatura, or the sender's notice of annulment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Messaggio {
    /// A protocol message's segnatura (verified).
    Segnatura(Box<SegnaturaRicevuta>),
    /// `AnnullamentoProtocollazione`.
    Annullamento {
        /// The sender's registration it annuls.
        identificatore: SenderIdentifier,
        /// Reason.
        motivo: String,
        /// The authorising act.
        provvedimento: String,
    },
}

fn prot<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.has_tag_name((NS_PROT, name)))
}

fn child_ns<'a, 'i>(n: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.has_tag_name((ns, name)))
}

fn text_of(n: Option<Node<'_, '_>>) -> String {
    n.map(|n| n.children().filter_map(|c| c.text()).collect::<String>())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Reads an `IdentificatoreType` element (already structure-checked, or
/// checked here for the annulment).
fn read_identificatore(n: Node<'_, '_>) -> Option<SenderIdentifier> {
    let get = |name: &str| text_of(prot(n, name));
    let numero = get("NumeroRegistrazione");
    let registro = get("CodiceRegistro");
    let data = get("DataRegistrazione");
    let data: jiff::civil::Date = data.get(..10)?.parse().ok()?;
    let id = SenderIdentifier {
        amministrazione: get("CodiceAmministrazione"),
        aoo: get("CodiceAOO"),
        registro,
        numero,
        data,
    };
    let ok = !id.amministrazione.is_empty()
        && !id.aoo.is_empty()
        && (1..=16).contains(&id.registro.len())
        && id.numero.len() >= 7
        && id.numero.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(id)
}

fn email_in(n: Option<Node<'_, '_>>) -> Option<Email> {
    n?.children()
        .filter(|c| c.is_element() && c.has_tag_name((NS_PROT, "IndirizzoTelematico")))
        .find_map(|c| Email::parse(text_of(Some(c)).as_str()).ok())
}

/// The sender (`SoggettoType`) as a correspondent.
fn read_soggetto(m: Node<'_, '_>) -> Option<Correspondent> {
    let who = m.children().find(|c| c.is_element())?;
    let mut c = Correspondent {
        kind: CorrespondentKind::PersonaGiuridica,
        name: String::new(),
        fiscal_code: None,
        ipa: None,
        email: None,
        address: None,
        per_conoscenza: false,
    };
    match who.tag_name().name() {
        "Amministrazione" => {
            c.kind = CorrespondentKind::Amministrazione;
            c.name = text_of(prot(who, "DenominazioneAmministrazione"));
            c.ipa = Some(text_of(prot(who, "CodiceIPAAmministrazione")));
            c.fiscal_code = prot(who, "CFAmministrazione").map(|n| text_of(Some(n)));
            c.email = email_in(prot(who, "ContattiAOO"))
                .or_else(|| email_in(prot(who, "ContattiAmministrazione")));
        }
        "PersonaGiuridica" => {
            c.name = text_of(prot(who, "Denominazione"));
            c.fiscal_code = prot(who, "PIVAoCF").map(|n| text_of(Some(n)));
            c.email = email_in(prot(who, "ContattiPersonaGiuridica"));
        }
        "PersonaFisica" => {
            c.kind = CorrespondentKind::PersonaFisica;
            c.name = format!(
                "{} {}",
                text_of(prot(who, "Nome")),
                text_of(prot(who, "Cognome"))
            )
            .trim()
            .to_owned();
            c.fiscal_code = prot(who, "CodiceFiscale").map(|n| text_of(Some(n)));
            c.email = email_in(prot(who, "Contatti"));
        }
        _ => {
            c.name = text_of(prot(who, "DenominazioneAmministrazione"));
            c.email = email_in(prot(who, "ContattiAmministrazione"));
        }
    }
    Some(c)
}

fn read_documento(n: Node<'_, '_>) -> DeclaredDocument {
    let impronta = prot(n, "Impronta");
    DeclaredDocument {
        nome_file: n.attribute((NS_PROT, "nomeFile")).unwrap_or("").to_owned(),
        mime_type: n.attribute((NS_PROT, "mimeType")).unwrap_or("").to_owned(),
        algoritmo: impronta
            .and_then(|i| i.attribute((NS_PROT, "algoritmo")))
            .map(str::to_owned),
        impronta: text_of(impronta),
    }
}

/// Reads a received message (a segnatura, or an annulment notice): XML
/// well-formedness, structure of the schema, and for a segnatura its
/// signature. Refusals: `000_Irricevibile` (not XML, not a segnatura v3,
/// structure), `001_ValidazioneFirma` (signature missing or not valid).
// A refusal is an answer of the receiver, built once per message.
#[allow(clippy::result_large_err)]
pub fn analizza(xml: &[u8]) -> Result<Messaggio, Rifiuto> {
    let irricevibile = |d: String| Rifiuto::new(Anomalia::Irricevibile, d);
    if xml.len() > MAX_MESSAGE_BYTES {
        return Err(irricevibile(
            "il messaggio supera la dimensione massima.".into(),
        ));
    }
    let text = std::str::from_utf8(xml)
        .map_err(|_| irricevibile("il messaggio non è un testo UTF-8.".into()))?;
    let doc = Document::parse_with_options(
        text,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: 200_000,
        },
    )
    .map_err(|e| irricevibile(format!("il messaggio non è XML ben formato ({e}).")))?;
    let root = doc.root_element();
    let is_segnatura = root.has_tag_name((NS_PROT, "SegnaturaInformatica"))
        || root.has_tag_name((NS_PEC, "SegnaturaInformatica"));
    if root.has_tag_name((NS_PEC, "AnnullamentoProtocollazione")) {
        return read_annullamento(root);
    }
    if !is_segnatura {
        return Err(irricevibile(format!(
            "l'elemento radice \"{}\" non è una segnatura di protocollo v3.",
            root.tag_name().name()
        )));
    }
    let identificatore = prot(root, "Intestazione")
        .and_then(|i| prot(i, "Identificatore"))
        .and_then(read_identificatore);
    let with_id = |mut r: Rifiuto| {
        r.identificatore = identificatore.clone();
        r
    };
    let has_signature = root
        .children()
        .any(|c| c.is_element() && c.has_tag_name((NS_DS, "Signature")));
    if !has_signature {
        return Err(with_id(Rifiuto::new(
            Anomalia::ValidazioneFirma,
            "la segnatura non è firmata (ds:Signature mancante).",
        )));
    }
    schema::check_segnatura(root).map_err(|e| {
        with_id(irricevibile(format!(
            "la segnatura non è conforme allo schema: {e}."
        )))
    })?;
    let firma = verifica::verify(&doc)
        .map_err(|e| with_id(Rifiuto::new(Anomalia::ValidazioneFirma, format!("{e}."))))?;
    let Some(identificatore) = identificatore.clone() else {
        return Err(irricevibile("Identificatore illeggibile.".into()));
    };
    let intestazione = prot(root, "Intestazione");
    let descrizione = prot(root, "Descrizione");
    let mittente = descrizione
        .and_then(|d| prot(d, "Mittente"))
        .and_then(read_soggetto)
        .filter(|m| !m.name.is_empty())
        .ok_or_else(|| with_id(irricevibile("il mittente non ha un nome.".into())))?;
    let destinatari_ipa = descrizione
        .map(|d| {
            d.children()
                .filter(|c| c.is_element() && c.has_tag_name((NS_PROT, "Destinatario")))
                .filter_map(|c| prot(c, "Amministrazione"))
                .map(|a| text_of(prot(a, "CodiceIPAAmministrazione")))
                .collect()
        })
        .unwrap_or_default();
    let primario = descrizione
        .and_then(|d| prot(d, "DocumentoPrimario"))
        .map(read_documento)
        .ok_or_else(|| with_id(irricevibile("documento primario mancante.".into())))?;
    let allegati = descrizione
        .map(|d| {
            d.children()
                .filter(|c| c.is_element() && c.has_tag_name((NS_PROT, "Allegato")))
                .map(read_documento)
                .collect()
        })
        .unwrap_or_default();
    Ok(Messaggio::Segnatura(Box::new(SegnaturaRicevuta {
        prima_registrazione: intestazione
            .and_then(|i| prot(i, "PrimaRegistrazione"))
            .and_then(read_identificatore),
        oggetto: text_of(intestazione.and_then(|i| prot(i, "Oggetto"))),
        identificatore,
        mittente,
        destinatari_ipa,
        primario,
        allegati,
        firma,
    })))
}

#[allow(clippy::result_large_err)]
fn read_annullamento(root: Node<'_, '_>) -> Result<Messaggio, Rifiuto> {
    let bad = |d: &str| Rifiuto::new(Anomalia::IrricevibilitaAnnullamento, d);
    let versione_ok = root.attribute((NS_PEC, "versione")) == Some("3.0.0")
        && root.attribute((NS_PEC, "lang")) == Some("it");
    if !versione_ok {
        return Err(bad(
            "l'annullamento non è un messaggio v3.0.0 (pec:versione, pec:lang).",
        ));
    }
    let elements: Vec<Node<'_, '_>> = root.children().filter(|c| c.is_element()).collect();
    let names: Vec<(Option<&str>, &str)> = elements
        .iter()
        .map(|e| (e.tag_name().namespace(), e.tag_name().name()))
        .collect();
    let expected = [
        (Some(NS_PEC), "Identificatore"),
        (Some(NS_PEC), "Motivo"),
        (Some(NS_PEC), "Provvedimento"),
    ];
    if names != expected {
        return Err(bad(
            "l'annullamento deve contenere Identificatore, Motivo e Provvedimento.",
        ));
    }
    let identificatore = child_ns(root, NS_PEC, "Identificatore")
        .and_then(read_identificatore)
        .ok_or_else(|| bad("Identificatore dell'annullamento non valido."))?;
    Ok(Messaggio::Annullamento {
        identificatore,
        motivo: text_of(child_ns(root, NS_PEC, "Motivo")),
        provvedimento: text_of(child_ns(root, NS_PEC, "Provvedimento")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(name: &str, bytes: &[u8]) -> DeclaredDocument {
        DeclaredDocument {
            nome_file: name.into(),
            mime_type: "application/octet-stream".into(),
            algoritmo: None,
            impronta: Impronta::of(bytes).base64(),
        }
    }

    #[test]
    fn codes_are_the_wsdl_strings() {
        assert_eq!(Anomalia::ValidazioneFirma.code(), "001_ValidazioneFirma");
        assert_eq!(Anomalia::AnomaliaImpronte.code(), "002_AnomaliaImpronte");
        assert_eq!(
            Anomalia::DocumentoAllegatiErroreValidazioneMarcaTemporale.code(),
            "005_DocumentoAllegatiErroreVaidazioneMarcaTemporale"
        );
        assert_eq!(Anomalia::Irricevibile.code(), "000_Irricevibile");
        assert_eq!(
            Anomalia::IrricevibilitaAnnullamento.code(),
            "000_Irricevibilita"
        );
        assert_eq!(
            Anomalia::ErroreIdentificatoreNonTrovato.code(),
            "007_ErroreIdentificatoreNonTrovato"
        );
    }

    #[test]
    fn impronte_match_or_give_002() {
        let d = [
            declared("a.pdf", b"primario"),
            declared("b.png", b"allegato"),
        ];
        let ok: [(&str, &[u8]); 2] = [("b.png", b"allegato"), ("a.pdf", b"primario")];
        assert_eq!(check_impronte(&d, &ok), Ok(()));
        let tampered: [(&str, &[u8]); 2] = [("a.pdf", b"primario"), ("b.png", b"allegatO")];
        assert_eq!(
            check_impronte(&d, &tampered),
            Err(Anomalia::AnomaliaImpronte)
        );
        let missing: [(&str, &[u8]); 1] = [("a.pdf", b"primario")];
        assert_eq!(
            check_impronte(&d, &missing),
            Err(Anomalia::AnomaliaImpronte)
        );
        let mut other_alg = d.clone();
        other_alg[0].algoritmo = Some("SHA-1".into());
        assert_eq!(
            check_impronte(&other_alg, &ok),
            Err(Anomalia::AnomaliaImpronte)
        );
        let mut bad = d.clone();
        bad[1].impronta = "non base64!".into();
        assert_eq!(check_impronte(&bad, &ok), Err(Anomalia::AnomaliaImpronte));
    }
}
