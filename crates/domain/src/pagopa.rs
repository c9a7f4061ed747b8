//! pagoPA payment codes: the IUV and the 18-digit codice avviso with its
//! mod-93 check digits, the QR code payload and the Poste Data Matrix of
//! the avviso di pagamento (issue 7; `taxes-pagopa.md` §4.1-4.3).
//!
//! Palazzo generates codes with aux digit 3 (more than one generation
//! point: each comune's installation has its segregation code): the
//! 18 digits are `3 ‖ segregation code (2) ‖ IUV base (13) ‖ check (2)`,
//! the IUV is the last 17 (`segregation ‖ base ‖ check`), and the check
//! is `(3 ‖ segregation ‖ base) mod 93` written on two digits (Allegato A
//! alle Linee guida pagoPA, "Specifiche attuative dei codici
//! identificativi di versamento", §2). The IUV base comes from a
//! per-comune counter in the database, never reused, so a code is unique
//! forever for the creditor.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::Coded;
use crate::money::Cents;

/// Why a text is not a valid codice avviso, or a code cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AvvisoError {
    /// Not 18 digits (spaces between groups are allowed).
    #[error("a codice avviso has 18 digits")]
    Formato,
    /// The aux digit is not 0, 1, 2 or 3.
    #[error("aux digit {0} is not 0-3")]
    AuxDigit(u8),
    /// The check digits do not match.
    #[error("check digits {found:02} instead of {expected:02}")]
    CheckDigit {
        /// Printed.
        found: u8,
        /// Computed.
        expected: u8,
    },
    /// A segregation code outside 00-99.
    #[error("segregation code {0} is not 00-99")]
    Segregazione(u16),
    /// The IUV counter passed 13 digits.
    #[error("IUV base {0} has more than 13 digits")]
    BaseEsaurita(u64),
    /// A postal account number that is not 1 to 12 digits.
    #[error("postal account {0:?} is not 1-12 digits")]
    ContoCorrente(String),
    /// A creditor's codice fiscale that is not 11 digits.
    #[error("creditor tax code {0:?} is not 11 digits")]
    CodiceFiscaleEnte(String),
    /// A debtor's codice fiscale that is neither 16 letters and digits
    /// nor an 11-digit partita IVA.
    #[error("debtor tax code {0:?} is neither 16 characters nor 11 digits")]
    CodiceFiscaleDebitore(String),
    /// An amount that is not 1 cent to 99.999.999,99 euro (10 digits).
    #[error("amount {0} cents outside 1..=9999999999")]
    Importo(i64),
}

impl Coded for AvvisoError {
    fn code(&self) -> &'static str {
        match self {
            AvvisoError::Formato => "avviso_formato",
            AvvisoError::AuxDigit(_) => "avviso_aux_digit",
            AvvisoError::CheckDigit { .. } => "avviso_check_digit",
            AvvisoError::Segregazione(_) => "avviso_segregazione",
            AvvisoError::BaseEsaurita(_) => "avviso_base_esaurita",
            AvvisoError::ContoCorrente(_) => "avviso_conto_corrente",
            AvvisoError::CodiceFiscaleEnte(_) => "avviso_cf_ente",
            AvvisoError::CodiceFiscaleDebitore(_) => "avviso_cf_debitore",
            AvvisoError::Importo(_) => "avviso_importo",
        }
    }

    fn message_it(&self) -> String {
        match self {
            AvvisoError::Formato => {
                "Il codice avviso è composto da 18 cifre (ad esempio 3010 0000 0000 0001 44)"
                    .to_owned()
            }
            AvvisoError::AuxDigit(d) => {
                format!("Il codice avviso non può iniziare con {d}: la prima cifra è 0, 1, 2 o 3")
            }
            AvvisoError::CheckDigit { .. } => {
                "Il codice avviso non è corretto: le ultime due cifre di controllo non corrispondono. Ricontrollare il codice sull'avviso"
                    .to_owned()
            }
            AvvisoError::Segregazione(c) => {
                format!("Il codice di segregazione {c} non è valido (00-99)")
            }
            AvvisoError::BaseEsaurita(_) => {
                "La numerazione dei codici IUV del Comune è esaurita".to_owned()
            }
            AvvisoError::ContoCorrente(c) => {
                format!("Il conto corrente postale «{c}» non è valido: da 1 a 12 cifre")
            }
            AvvisoError::CodiceFiscaleEnte(c) => {
                format!("Il codice fiscale dell'ente «{c}» non è valido: 11 cifre")
            }
            AvvisoError::CodiceFiscaleDebitore(c) => format!(
                "Il codice fiscale del debitore «{c}» non è valido: 16 caratteri, o 11 cifre per una partita IVA"
            ),
            AvvisoError::Importo(_) => {
                "L'importo dell'avviso deve essere tra 0,01 e 99.999.999,99 euro".to_owned()
            }
        }
    }
}

/// The two check digits of a codice avviso: `digits mod 93` (§4.1). The
/// input is the 16 digits before the check, below 10^16, so it fits a
/// `u64`.
#[must_use]
pub fn check_digits(sixteen: u64) -> u8 {
    u8::try_from(sixteen % 93).unwrap_or(0)
}

/// An 18-digit codice avviso (numero avviso).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CodiceAvviso(u64);

impl CodiceAvviso {
    /// The code with aux digit 3 for `segregazione` and IUV `base`
    /// (0 ≤ base < 10^13).
    ///
    /// # Errors
    /// [`AvvisoError::Segregazione`], [`AvvisoError::BaseEsaurita`].
    pub fn aux3(segregazione: u16, base: u64) -> Result<CodiceAvviso, AvvisoError> {
        if segregazione > 99 {
            return Err(AvvisoError::Segregazione(segregazione));
        }
        if base >= 10_000_000_000_000 {
            return Err(AvvisoError::BaseEsaurita(base));
        }
        let sixteen = 3 * 10u64.pow(15) + u64::from(segregazione) * 10u64.pow(13) + base;
        Ok(CodiceAvviso(
            sixteen * 100 + u64::from(check_digits(sixteen)),
        ))
    }

    /// Reads 18 digits, with or without the spaces of the printed groups,
    /// and checks them: aux 0, 2 and 3 carry mod-93 check digits; aux 1
    /// (legacy) has none.
    ///
    /// # Errors
    /// [`AvvisoError::Formato`], [`AvvisoError::AuxDigit`],
    /// [`AvvisoError::CheckDigit`].
    pub fn parse(s: &str) -> Result<CodiceAvviso, AvvisoError> {
        let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AvvisoError::Formato);
        }
        let n: u64 = digits.parse().map_err(|_| AvvisoError::Formato)?;
        let aux = u8::try_from(n / 10u64.pow(17)).unwrap_or(9);
        match aux {
            0 | 2 | 3 => {
                let found = u8::try_from(n % 100).unwrap_or(0);
                let expected = check_digits(n / 100);
                if found != expected {
                    return Err(AvvisoError::CheckDigit { found, expected });
                }
            }
            1 => {}
            other => return Err(AvvisoError::AuxDigit(other)),
        }
        Ok(CodiceAvviso(n))
    }

    /// The aux digit.
    #[must_use]
    pub fn aux_digit(self) -> u8 {
        u8::try_from(self.0 / 10u64.pow(17)).unwrap_or(0)
    }

    /// The segregation code (aux 3) or application code (aux 0).
    #[must_use]
    pub fn segregazione(self) -> Option<u8> {
        matches!(self.aux_digit(), 0 | 3)
            .then(|| u8::try_from((self.0 / 10u64.pow(15)) % 100).unwrap_or(0))
    }

    /// The IUV: the 17 digits after the aux digit (aux 1, 2, 3) or the 15
    /// after aux and application code (aux 0).
    #[must_use]
    pub fn iuv(self) -> String {
        let s = self.to_string();
        if self.aux_digit() == 0 {
            s[3..].to_owned()
        } else {
            s[1..].to_owned()
        }
    }

    /// The 18 digits in groups of four, as printed on the avviso:
    /// `3010 0000 0000 0001 44`.
    #[must_use]
    pub fn printed(self) -> String {
        let s = self.to_string();
        let mut out = String::with_capacity(22);
        for (i, c) in s.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }
}

impl fmt::Display for CodiceAvviso {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:018}", self.0)
    }
}

impl From<CodiceAvviso> for String {
    fn from(c: CodiceAvviso) -> String {
        c.to_string()
    }
}

impl TryFrom<String> for CodiceAvviso {
    type Error = AvvisoError;
    fn try_from(s: String) -> Result<CodiceAvviso, AvvisoError> {
        CodiceAvviso::parse(&s)
    }
}

/// The QR code payload of a notice (§4.2):
/// `PAGOPA|002|<codice avviso>|<CF ente, 11>|<importo in centesimi>`.
#[must_use]
pub fn qr_payload(codice: CodiceAvviso, cf_ente: &str, importo: Cents) -> String {
    format!("PAGOPA|002|{codice}|{cf_ente}|{:02}", importo.cents())
}

/// The 256-character Poste Data Matrix of the Bollettino Postale PA
/// (§4.3, Poste's "Manuale della stampa in proprio"), printed only when the
/// comune has a postal account: `codfase=NBPA;` then 18 + codice avviso,
/// 12 + conto corrente (zero-padded), 10 + importo in cents (zero-padded),
/// `38961P1`, the CF of the ente (11), of the debtor (16, left-aligned), the
/// debtor's name (40) and the causale (110), 12 spaces and `A`. Names and
/// causale are folded to ASCII (accents dropped, other characters → space)
/// and cut to their width.
///
/// # Errors
/// What the layout cannot hold: [`AvvisoError::ContoCorrente`] (not 1-12
/// digits), [`AvvisoError::CodiceFiscaleEnte`] (not 11 digits),
/// [`AvvisoError::CodiceFiscaleDebitore`] (neither 16 letters and digits
/// nor 11 digits), [`AvvisoError::Importo`] (not 1 cent to 10 digits).
pub fn poste_data_matrix(
    codice: CodiceAvviso,
    conto_corrente: &str,
    importo: Cents,
    cf_ente: &str,
    cf_debitore: &str,
    nome_debitore: &str,
    causale: &str,
) -> Result<String, AvvisoError> {
    fn fixed(s: &str, len: usize) -> String {
        let ascii: String = s.chars().map(fold_ascii).take(len).collect();
        format!("{ascii:<len$}")
    }
    let ccp: String = conto_corrente.chars().filter(|c| *c != ' ').collect();
    if ccp.is_empty() || ccp.len() > 12 || !ccp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AvvisoError::ContoCorrente(conto_corrente.to_owned()));
    }
    if cf_ente.len() != 11 || !cf_ente.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AvvisoError::CodiceFiscaleEnte(cf_ente.to_owned()));
    }
    let debitore = cf_debitore.trim().to_ascii_uppercase();
    let persona = debitore.len() == 16 && debitore.bytes().all(|b| b.is_ascii_alphanumeric());
    let impresa = debitore.len() == 11 && debitore.bytes().all(|b| b.is_ascii_digit());
    if !(persona || impresa) {
        return Err(AvvisoError::CodiceFiscaleDebitore(cf_debitore.to_owned()));
    }
    let cents = importo.cents();
    if !(1..=9_999_999_999).contains(&cents) {
        return Err(AvvisoError::Importo(cents));
    }
    let mut out = String::with_capacity(256);
    out.push_str("codfase=NBPA;");
    out.push_str("18");
    out.push_str(&codice.to_string());
    out.push_str("12");
    out.push_str(&format!("{ccp:0>12}"));
    out.push_str("10");
    out.push_str(&format!("{cents:010}"));
    out.push_str("38961P1");
    out.push_str(cf_ente);
    out.push_str(&format!("{debitore:<16}"));
    out.push_str(&fixed(nome_debitore, 40));
    out.push_str(&fixed(causale, 110));
    out.push_str(&" ".repeat(12));
    out.push('A');
    Ok(out)
}

/// One character of a name or causale in the Data Matrix: printable ASCII
/// as it is, an accented Latin letter as its base letter, anything else a
/// space.
fn fold_ascii(c: char) -> char {
    match c {
        ' '..='~' => c,
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'À' | 'Á' | 'Â' | 'Ä' | 'Ã' | 'Å' => 'A',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'È' | 'É' | 'Ê' | 'Ë' => 'E',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
        'Ò' | 'Ó' | 'Ô' | 'Ö' | 'Õ' => 'O',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
        'ç' => 'c',
        'Ç' => 'C',
        'ñ' => 'n',
        'Ñ' => 'N',
        '’' | '‘' => '\'',
        _ => ' ',
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn worked_examples_p2_p5() {
        // P-2: aux 3, seg 00, base 7157000000000 → check 32.
        let c = CodiceAvviso::aux3(0, 7_157_000_000_000).unwrap();
        assert_eq!(c.to_string(), "300715700000000032");
        // P-5: aux 3, seg 01, base 1 → check 44, printed in groups.
        let c = CodiceAvviso::aux3(1, 1).unwrap();
        assert_eq!(c.to_string(), "301000000000000144");
        assert_eq!(c.printed(), "3010 0000 0000 0001 44");
        assert_eq!(c.iuv(), "01000000000000144");
        assert_eq!(c.segregazione(), Some(1));
        assert_eq!(CodiceAvviso::parse("3010 0000 0000 0001 44").unwrap(), c);
    }

    #[test]
    fn worked_example_p6_invalid_check_digits() {
        for (code, expected) in [
            ("344012345678901233", 86),
            ("201234567890123422", 15),
            ("399000012345678900", 90),
        ] {
            assert_eq!(
                CodiceAvviso::parse(code),
                Err(AvvisoError::CheckDigit {
                    found: u8::try_from(code[16..].parse::<u32>().unwrap()).unwrap(),
                    expected
                }),
                "{code}"
            );
        }
        for bad in [
            "",
            "30100000000000014",
            "3010000000000001445",
            "30100000000000014x",
        ] {
            assert_eq!(CodiceAvviso::parse(bad), Err(AvvisoError::Formato), "{bad}");
        }
        assert_eq!(
            CodiceAvviso::parse("401000000000000144"),
            Err(AvvisoError::AuxDigit(4))
        );
        // Aux 1 (legacy) has no check digits.
        assert!(CodiceAvviso::parse("112345678901234567").is_ok());
        assert!(CodiceAvviso::aux3(100, 1).is_err());
        assert!(CodiceAvviso::aux3(1, 10_000_000_000_000).is_err());
    }

    #[test]
    fn every_generated_code_parses_and_a_changed_digit_is_caught() {
        for base in [0u64, 1, 92, 93, 9_999_999_999_999, 4_242_424_242] {
            for seg in [0u16, 1, 47, 99] {
                let c = CodiceAvviso::aux3(seg, base).unwrap();
                assert_eq!(CodiceAvviso::parse(&c.to_string()).unwrap(), c);
                // Change one digit of the base: the check no longer holds
                // (a single-digit change alters the value by k·10^i, and
                // 93 divides no such number for k in 1..=9).
                let s = c.to_string();
                let mut b = s.clone().into_bytes();
                b[10] = if b[10] == b'9' { b'0' } else { b[10] + 1 };
                let changed = String::from_utf8(b).unwrap();
                assert!(CodiceAvviso::parse(&changed).is_err(), "{changed}");
            }
        }
    }

    #[test]
    fn qr_payload_and_data_matrix_p7() {
        let c = CodiceAvviso::parse("300715700000000032").unwrap();
        assert_eq!(
            qr_payload(c, "00085240950", Cents::from_cents(12_345)),
            "PAGOPA|002|300715700000000032|00085240950|12345"
        );
        assert_eq!(
            qr_payload(c, "00085240950", Cents::from_cents(1)),
            "PAGOPA|002|300715700000000032|00085240950|01"
        );
        // P-7: every field at its offset, the whole layout checked.
        let dm = poste_data_matrix(
            c,
            "16302093",
            Cents::from_cents(1),
            "00085240950",
            "bscmtt83a12l719r",
            "Mattia Boschi",
            "TARI 2026 rata unica",
        )
        .unwrap();
        assert_eq!(dm.len(), 256);
        assert!(dm.is_ascii());
        for (from, to, expected) in [
            (0, 13, "codfase=NBPA;"),
            (13, 15, "18"),
            (15, 33, "300715700000000032"),
            (33, 35, "12"),
            (35, 47, "000016302093"),
            (47, 49, "10"),
            (49, 59, "0000000001"),
            (59, 66, "38961P1"),
            (66, 77, "00085240950"),
            (77, 93, "BSCMTT83A12L719R"),
            (243, 255, "            "),
            (255, 256, "A"),
        ] {
            assert_eq!(&dm[from..to], expected, "[{from},{to})");
        }
        assert_eq!(&dm[93..133], format!("{:<40}", "Mattia Boschi"));
        assert_eq!(&dm[133..243], format!("{:<110}", "TARI 2026 rata unica"));
        // A partita IVA as debtor, padded to 16; accents folded; long
        // names cut to their width.
        let dm = poste_data_matrix(
            c,
            "1",
            Cents::from_cents(9_999_999_999),
            "00085240950",
            "01234567890",
            "Niccolò Àlvarez – Società",
            &"é".repeat(200),
        )
        .unwrap();
        assert_eq!(dm.len(), 256);
        assert_eq!(&dm[35..47], "000000000001");
        assert_eq!(&dm[49..59], "9999999999");
        assert_eq!(&dm[77..93], "01234567890     ");
        assert_eq!(dm[93..133].trim_end(), "Niccolo Alvarez   Societa");
        assert_eq!(&dm[133..243], "e".repeat(110));
        // What the layout cannot hold is refused.
        let dm = |conto: &str, cents: i64, ente: &str, debitore: &str| {
            poste_data_matrix(c, conto, Cents::from_cents(cents), ente, debitore, "X", "Y")
                .err()
                .map(|e| e.code())
        };
        assert_eq!(
            dm("1234567890123", 1, "00085240950", "01234567890"),
            Some("avviso_conto_corrente")
        );
        assert_eq!(
            dm("", 1, "00085240950", "01234567890"),
            Some("avviso_conto_corrente")
        );
        assert_eq!(
            dm("12-34", 1, "00085240950", "01234567890"),
            Some("avviso_conto_corrente")
        );
        assert_eq!(
            dm("1", 0, "00085240950", "01234567890"),
            Some("avviso_importo")
        );
        assert_eq!(
            dm("1", 10_000_000_000, "00085240950", "01234567890"),
            Some("avviso_importo")
        );
        assert_eq!(
            dm("1", 1, "0008524095", "01234567890"),
            Some("avviso_cf_ente")
        );
        assert_eq!(
            dm("1", 1, "0008524095A", "01234567890"),
            Some("avviso_cf_ente")
        );
        assert_eq!(dm("1", 1, "00085240950", "X"), Some("avviso_cf_debitore"));
        assert_eq!(
            dm("1", 1, "00085240950", "BSCMTT83A12L719"),
            Some("avviso_cf_debitore")
        );
        assert_eq!(dm("1", 1, "00085240950", "BSCMTT83A12L719R"), None);
        assert_eq!(dm("0001 6302 093", 1, "00085240950", "01234567890"), None);
    }
}
