//! The receiver side (Allegato 6 §3.1, PR-8): the anomaly codes of the
//! AgID WSDL and the check of the impronte of the files received with a
//! segnatura. Parsing an incoming segnatura and verifying its signature
//! (`001_ValidazioneFirma`) are the next step.

use base64::Engine as _;
use palazzo_domain::protocollo::Impronta;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(name: &str, bytes: &[u8]) -> DeclaredDocument {
        DeclaredDocument {
            nome_file: name.into(),
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
