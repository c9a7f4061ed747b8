//! The protocollo informatico: the values of a registration and their rules
//! (DPR 445/2000 artt. 53–57, AgID Linee Guida 2021, Allegato 6).
//!
//! * [`ProtocolNumber`]: at least seven digits, progressive, restarting every
//!   calendar year (art. 57; PR-1). The year is the Europe/Rome civil year of
//!   the registration time (DECISIONS 8).
//! * [`RegisterCode`]: `CodiceRegistro` of the segnatura, `[A-Za-z0-9_.-]{1,16}`.
//! * [`Flow`]: incoming (E), outgoing (U) or internal (I) (Allegato 5
//!   `TipologiaDiFlusso`).
//! * [`Correspondent`]: the mittente or a destinatario (art. 53 c.1 c).
//! * [`Impronta`]: SHA-256 of a document's bytes, hex inside Palazzo and
//!   base64 in the segnatura (PR-5).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Coded;
use crate::ids::{CodiceFiscale, Email};

/// Longest accepted oggetto, in characters (the segnatura has no limit; a
/// register line must stay readable).
pub const MAX_SUBJECT_CHARS: usize = 1000;
/// Most correspondents of one registration.
pub const MAX_CORRESPONDENTS: usize = 500;

/// What is wrong with a registration's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The register code does not match `[A-Za-z0-9_.-]{1,16}`.
    #[error("invalid register code")]
    RegisterCode,
    /// A protocol number is not 7 or more digits, or is zero.
    #[error("invalid protocol number")]
    Number,
    /// The flow is not E, U or I.
    #[error("invalid flow")]
    Flow,
    /// The oggetto is empty.
    #[error("empty subject")]
    SubjectEmpty,
    /// The oggetto is too long or has control characters.
    #[error("invalid subject")]
    Subject,
    /// No mittente (incoming) or no destinatario (outgoing, internal).
    #[error("no correspondent")]
    NoCorrespondent,
    /// An incoming registration has more than one mittente.
    #[error("more than one sender")]
    TooManySenders,
    /// Too many correspondents.
    #[error("too many correspondents")]
    TooManyCorrespondents,
    /// A correspondent without a name.
    #[error("correspondent without a name")]
    CorrespondentName,
    /// The fingerprint is not 64 hex digits.
    #[error("invalid fingerprint")]
    Impronta,
    /// The received document's number is empty or too long.
    #[error("invalid received document number")]
    ReceivedNumber,
}

impl Coded for ProtocolError {
    fn code(&self) -> &'static str {
        match self {
            ProtocolError::RegisterCode => "protocollo_registro",
            ProtocolError::Number => "protocollo_numero",
            ProtocolError::Flow => "protocollo_flusso",
            ProtocolError::SubjectEmpty => "protocollo_oggetto_mancante",
            ProtocolError::Subject => "protocollo_oggetto",
            ProtocolError::NoCorrespondent => "protocollo_corrispondente_mancante",
            ProtocolError::TooManySenders => "protocollo_troppi_mittenti",
            ProtocolError::TooManyCorrespondents => "protocollo_troppi_corrispondenti",
            ProtocolError::CorrespondentName => "protocollo_corrispondente_nome",
            ProtocolError::Impronta => "protocollo_impronta",
            ProtocolError::ReceivedNumber => "protocollo_numero_ricevuto",
        }
    }

    fn message_it(&self) -> String {
        match self {
            ProtocolError::RegisterCode => {
                "Il codice del registro può contenere da 1 a 16 caratteri tra lettere, cifre, punto, trattino e trattino basso.".into()
            }
            ProtocolError::Number => {
                "Il numero di protocollo è formato da almeno sette cifre e non può essere zero.".into()
            }
            ProtocolError::Flow => {
                "Il verso della registrazione deve essere in entrata, in uscita o interno.".into()
            }
            ProtocolError::SubjectEmpty => "L'oggetto è obbligatorio.".into(),
            ProtocolError::Subject => format!(
                "L'oggetto non può superare {MAX_SUBJECT_CHARS} caratteri né contenere caratteri di controllo."
            ),
            ProtocolError::NoCorrespondent => {
                "Indica il mittente (in entrata) o almeno un destinatario (in uscita o interno).".into()
            }
            ProtocolError::TooManySenders => {
                "Una registrazione in entrata ha un solo mittente.".into()
            }
            ProtocolError::TooManyCorrespondents => {
                format!("Una registrazione può avere al massimo {MAX_CORRESPONDENTS} corrispondenti.")
            }
            ProtocolError::CorrespondentName => {
                "Ogni corrispondente deve avere un nome o una denominazione.".into()
            }
            ProtocolError::Impronta => {
                "L'impronta del documento deve essere uno SHA-256 di 64 cifre esadecimali.".into()
            }
            ProtocolError::ReceivedNumber => {
                "Il numero del documento ricevuto non può superare 100 caratteri.".into()
            }
        }
    }
}

/// A protocol number within its register and year (art. 57: at least seven
/// digits, renewed every calendar year). Displayed zero-padded: `0000042`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProtocolNumber(u64);

impl ProtocolNumber {
    /// A number from the counter (≥ 1).
    pub fn new(n: u64) -> Result<Self, ProtocolError> {
        if n == 0 {
            Err(ProtocolError::Number)
        } else {
            Ok(ProtocolNumber(n))
        }
    }

    /// The value.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ProtocolNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:07}", self.0)
    }
}

impl FromStr for ProtocolNumber {
    type Err = ProtocolError;
    /// Accepts the segnatura form (`0000042`, seven digits or more).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() < 7 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ProtocolError::Number);
        }
        let n: u64 = s.parse().map_err(|_| ProtocolError::Number)?;
        ProtocolNumber::new(n)
    }
}

/// `CodiceRegistro` of the segnatura: `[A-Za-z0-9_.-]{1,16}` (Allegato 6 XSD).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegisterCode(String);

impl RegisterCode {
    /// The general register of an AOO (Palazzo's default).
    pub fn general() -> RegisterCode {
        RegisterCode("REG_PROT".to_owned())
    }

    /// Parses a code.
    pub fn parse(s: &str) -> Result<Self, ProtocolError> {
        let ok = (1..=16).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if ok {
            Ok(RegisterCode(s.to_owned()))
        } else {
            Err(ProtocolError::RegisterCode)
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RegisterCode {
    type Error = ProtocolError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        RegisterCode::parse(&s)
    }
}

impl From<RegisterCode> for String {
    fn from(c: RegisterCode) -> String {
        c.0
    }
}

impl fmt::Display for RegisterCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The direction of a registration (Allegato 5 `TipologiaDiFlusso`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Flow {
    /// In entrata (E): received.
    Entrata,
    /// In uscita (U): sent.
    Uscita,
    /// Interno (I): between offices of the AOO.
    Interno,
}

impl Flow {
    /// `E`, `U` or `I`.
    pub fn code(self) -> &'static str {
        match self {
            Flow::Entrata => "E",
            Flow::Uscita => "U",
            Flow::Interno => "I",
        }
    }

    /// Italian label.
    pub fn label_it(self) -> &'static str {
        match self {
            Flow::Entrata => "In entrata",
            Flow::Uscita => "In uscita",
            Flow::Interno => "Interno",
        }
    }

    /// Parses `E`, `U` or `I`.
    pub fn parse(s: &str) -> Result<Self, ProtocolError> {
        match s {
            "E" => Ok(Flow::Entrata),
            "U" => Ok(Flow::Uscita),
            "I" => Ok(Flow::Interno),
            _ => Err(ProtocolError::Flow),
        }
    }
}

/// The kind of a correspondent (segnatura `SoggettoType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrespondentKind {
    /// Persona fisica.
    PersonaFisica,
    /// Persona giuridica (company, association).
    PersonaGiuridica,
    /// Italian public administration (with its IPA code).
    Amministrazione,
}

/// The mittente or a destinatario of a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correspondent {
    /// What kind of subject.
    pub kind: CorrespondentKind,
    /// Full name or denominazione.
    pub name: String,
    /// Codice fiscale or partita IVA, when known (as typed, validated by kind).
    pub fiscal_code: Option<String>,
    /// IPA code of an administration.
    pub ipa: Option<String>,
    /// E-mail or PEC address.
    pub email: Option<Email>,
    /// Postal address, free text.
    pub address: Option<String>,
    /// Per conoscenza (carbon copy), for destinatari.
    pub per_conoscenza: bool,
}

impl Correspondent {
    /// A person, with a codice fiscale.
    pub fn person(name: &str, cf: &CodiceFiscale) -> Correspondent {
        Correspondent {
            kind: CorrespondentKind::PersonaFisica,
            name: name.to_owned(),
            fiscal_code: Some(cf.as_str().to_owned()),
            ipa: None,
            email: None,
            address: None,
            per_conoscenza: false,
        }
    }
}

/// SHA-256 of a document's bytes (the impronta of art. 53 c.1 f).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Impronta([u8; 32]);

impl Impronta {
    /// The fingerprint of `bytes`.
    pub fn of(bytes: &[u8]) -> Impronta {
        Impronta(Sha256::digest(bytes).into())
    }

    /// From a digest computed elsewhere (streaming upload).
    pub fn from_digest(d: [u8; 32]) -> Impronta {
        Impronta(d)
    }

    /// Parses 64 hex digits (either case; stored lower-case).
    pub fn parse_hex(s: &str) -> Result<Impronta, ProtocolError> {
        if s.len() != 64 {
            return Err(ProtocolError::Impronta);
        }
        let mut out = [0u8; 32];
        for (i, pair) in s.as_bytes().chunks(2).enumerate() {
            let hex = |b: u8| match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'a'..=b'f' => Some(b - b'a' + 10),
                b'A'..=b'F' => Some(b - b'A' + 10),
                _ => None,
            };
            match (hex(pair[0]), hex(pair[1])) {
                (Some(h), Some(l)) => out[i] = h << 4 | l,
                _ => return Err(ProtocolError::Impronta),
            }
        }
        Ok(Impronta(out))
    }

    /// Lower-case hex (internal metadata, `.hash` sidecars).
    pub fn hex(&self) -> String {
        self.0.iter().fold(String::with_capacity(64), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
    }

    /// Base64 (the segnatura's `Impronta`).
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// The digest bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Impronta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Impronta({})", self.hex())
    }
}

impl TryFrom<String> for Impronta {
    type Error = ProtocolError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Impronta::parse_hex(&s)
    }
}

impl From<Impronta> for String {
    fn from(i: Impronta) -> String {
        i.hex()
    }
}

/// Checks and normalises an oggetto: trimmed, not empty, at most
/// [`MAX_SUBJECT_CHARS`], no control characters except none at all (a
/// register line is one line).
pub fn check_subject(s: &str) -> Result<String, ProtocolError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ProtocolError::SubjectEmpty);
    }
    if s.chars().count() > MAX_SUBJECT_CHARS || s.chars().any(char::is_control) {
        return Err(ProtocolError::Subject);
    }
    Ok(s.to_owned())
}

/// Checks the correspondents of a registration: an incoming one has exactly
/// one mittente; outgoing and internal ones at least one destinatario; each
/// has a name.
pub fn check_correspondents(flow: Flow, list: &[Correspondent]) -> Result<(), ProtocolError> {
    if list.is_empty() {
        return Err(ProtocolError::NoCorrespondent);
    }
    if list.len() > MAX_CORRESPONDENTS {
        return Err(ProtocolError::TooManyCorrespondents);
    }
    if flow == Flow::Entrata && list.len() > 1 {
        return Err(ProtocolError::TooManySenders);
    }
    if list.iter().any(|c| c.name.trim().is_empty()) {
        return Err(ProtocolError::CorrespondentName);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_have_seven_digits_at_least() {
        assert_eq!(ProtocolNumber::new(42).unwrap().to_string(), "0000042");
        assert_eq!(ProtocolNumber::new(1).unwrap().to_string(), "0000001");
        assert_eq!(
            ProtocolNumber::new(12_345_678).unwrap().to_string(),
            "12345678"
        );
        assert!(ProtocolNumber::new(0).is_err());
        assert_eq!("0000042".parse::<ProtocolNumber>().unwrap().get(), 42);
        for bad in ["42", "000004a", "0000000", "", " 0000042"] {
            assert!(bad.parse::<ProtocolNumber>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn numbers_round_trip(n in 1u64..100_000_000_000) {
            let p = ProtocolNumber::new(n).unwrap();
            let s = p.to_string();
            prop_assert!(s.len() >= 7);
            prop_assert_eq!(s.parse::<ProtocolNumber>().unwrap(), p);
        }

        #[test]
        fn impronta_hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let i = Impronta::of(&bytes);
            prop_assert_eq!(Impronta::parse_hex(&i.hex()).unwrap(), i);
            prop_assert_eq!(Impronta::parse_hex(&i.hex().to_uppercase()).unwrap(), i);
        }
    }

    #[test]
    fn register_codes_follow_the_xsd_pattern() {
        assert!(RegisterCode::parse("REG_PROT").is_ok());
        assert!(RegisterCode::parse("a.b-c_1").is_ok());
        assert!(RegisterCode::parse("1234567890123456").is_ok());
        assert!(RegisterCode::parse("12345678901234567").is_err());
        assert!(RegisterCode::parse("").is_err());
        assert!(RegisterCode::parse("REG PROT").is_err());
        assert!(RegisterCode::parse("REGÈ").is_err());
    }

    #[test]
    fn impronta_encodings() {
        // SHA-256("abc"), FIPS 180-2 example.
        let i = Impronta::of(b"abc");
        assert_eq!(
            i.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(i.base64(), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
        assert!(Impronta::parse_hex("xyz").is_err());
        assert!(Impronta::parse_hex(&"g".repeat(64)).is_err());
    }

    #[test]
    fn subjects_and_correspondents() {
        assert_eq!(check_subject("  Richiesta  ").unwrap(), "Richiesta");
        assert_eq!(check_subject("   "), Err(ProtocolError::SubjectEmpty));
        assert_eq!(check_subject("a\nb"), Err(ProtocolError::Subject));
        assert_eq!(
            check_subject(&"x".repeat(1001)),
            Err(ProtocolError::Subject)
        );
        let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
        let p = Correspondent::person("Mario Rossi", &cf);
        assert!(check_correspondents(Flow::Entrata, std::slice::from_ref(&p)).is_ok());
        assert_eq!(
            check_correspondents(Flow::Entrata, &[p.clone(), p.clone()]),
            Err(ProtocolError::TooManySenders)
        );
        assert!(check_correspondents(Flow::Uscita, &[p.clone(), p.clone()]).is_ok());
        assert_eq!(
            check_correspondents(Flow::Uscita, &[]),
            Err(ProtocolError::NoCorrespondent)
        );
        let nameless = Correspondent {
            name: " ".into(),
            ..p
        };
        assert_eq!(
            check_correspondents(Flow::Interno, &[nameless]),
            Err(ProtocolError::CorrespondentName)
        );
        for f in [Flow::Entrata, Flow::Uscita, Flow::Interno] {
            assert_eq!(Flow::parse(f.code()).unwrap(), f);
        }
    }
}
