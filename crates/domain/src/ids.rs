//! Italian identifiers, each parsed once at the boundary into a newtype.
//!
//! Every type here has a private field and a single fallible constructor,
//! `parse(&str)` (STYLE rule 1, "parse, don't validate"): once a value exists
//! it is known to be well formed. `FromStr`, `TryFrom<String>` and serde
//! deserialisation all go through `parse`, so there is no other way in.
//! Each type has its own error enum implementing [`Coded`].
//!
//! | type | what it is |
//! |---|---|
//! | [`CodiceFiscale`] | personal (16 characters, with omocodia) or numeric (11 digits) tax code |
//! | [`PartitaIva`] | VAT number, 11 digits |
//! | [`CodiceCatastale`] | Belfiore code of a comune or foreign state (`B923`, `Z404`) |
//! | [`CodiceIpa`] | code of a public body in the IPA index (`c_b923`) |
//! | [`CodiceIstat`] | 6-digit ISTAT code of a comune (`072017`) |
//! | [`Cap`] | postal code, 5 digits |
//! | [`Email`] | e-mail or PEC address |
//! | [`Sex`] | sex as encoded in the codice fiscale |

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::Coded;

/// Implements the boilerplate shared by every string newtype of this module:
/// `as_str`, `AsRef<str>`, `Display`, `FromStr`, `TryFrom<String>` /
/// `TryFrom<&str>` (both through `parse`) and `From<T> for String` (used by
/// serde's `into = "String"`).
macro_rules! string_newtype {
    ($ty:ident, $err:ty) => {
        impl $ty {
            /// The normalised text of the value.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $ty {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $err;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = $err;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.0
            }
        }
    };
}

// ---------------------------------------------------------------------------
// Sex
// ---------------------------------------------------------------------------

/// Sex as recorded in the anagrafe and encoded in the codice fiscale
/// (DM 23 dicembre 1976: the birth day is increased by 40 for women).
///
/// Parses from `"M"` or `"F"` (case-insensitive, trimmed); serialises as
/// `"M"` / `"F"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Sex {
    /// Maschio.
    M,
    /// Femmina.
    F,
}

/// Why a text is not a [`Sex`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SexError {
    /// Neither `M` nor `F`.
    #[error("sex must be M or F")]
    Format,
}

impl Coded for SexError {
    fn code(&self) -> &'static str {
        match self {
            SexError::Format => "sex_format",
        }
    }

    fn message_it(&self) -> String {
        match self {
            SexError::Format => "Il sesso deve essere M oppure F".to_owned(),
        }
    }
}

impl Sex {
    /// Parses `"M"` or `"F"` (case-insensitive, surrounding spaces ignored).
    ///
    /// # Errors
    /// [`SexError::Format`] for anything else.
    pub fn parse(input: &str) -> Result<Self, SexError> {
        match input.trim() {
            "M" | "m" => Ok(Sex::M),
            "F" | "f" => Ok(Sex::F),
            _ => Err(SexError::Format),
        }
    }

    /// `"M"` or `"F"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::M => "M",
            Sex::F => "F",
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Sex {
    type Err = SexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sex::parse(s)
    }
}

impl TryFrom<String> for Sex {
    type Error = SexError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Sex::parse(&s)
    }
}

impl From<Sex> for String {
    fn from(value: Sex) -> String {
        value.as_str().to_owned()
    }
}

// ---------------------------------------------------------------------------
// Check-digit algorithms
// ---------------------------------------------------------------------------

/// Value of a character in an odd position (1st, 3rd, …, 15th) of the
/// personal codice fiscale, per the table of DM 23 dicembre 1976.
/// Digits take the value of the letter in the same rank (0 = A, 1 = B, …).
const CF_ODD_VALUES: [u8; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

/// Letters replacing the digits 0–9 in an omocodic codice fiscale
/// (DM 23 dicembre 1976 as amended: 0 = L, 1 = M, …, 9 = V).
const OMOCODIA_LETTERS: &[u8; 10] = b"LMNPQRSTUV";

/// 0-based positions of the personal codice fiscale whose digits may be
/// replaced by [`OMOCODIA_LETTERS`] (1-based 7, 8, 10, 11, 13, 14, 15).
const OMOCODIC_POSITIONS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];

/// Month letters of the codice fiscale, January to December.
const MONTH_LETTERS: &[u8; 12] = b"ABCDEHLMPRST";

/// Rank 0–25 of an uppercase ASCII letter or 0–9 of an ASCII digit.
fn rank(c: u8) -> u8 {
    if c.is_ascii_digit() {
        c - b'0'
    } else {
        c.saturating_sub(b'A')
    }
}

/// Check character of the first 15 characters (uppercase ASCII letters and
/// digits) of a personal codice fiscale: sum of odd-position values from
/// [`CF_ODD_VALUES`] and even-position ranks, modulo 26, as a letter.
fn cf_check_char(first15: &[u8]) -> u8 {
    let sum: u32 = first15
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let r = usize::from(rank(c));
            // i is 0-based: index 0 is the 1st (odd) position.
            let v = if i % 2 == 0 {
                CF_ODD_VALUES.get(r).copied().unwrap_or(0)
            } else {
                rank(c)
            };
            u32::from(v)
        })
        .sum();
    // sum % 26 < 26, so the cast cannot truncate.
    b'A' + (sum % 26) as u8
}

/// Check digit of the first 10 digits of a partita IVA or numeric codice
/// fiscale (DM 23 dicembre 1976; a Luhn variant): digits in
/// odd positions are added; digits in even positions are doubled, minus 9
/// when the double exceeds 9; the check digit is `(10 - sum % 10) % 10`.
fn luhn_it_check_digit(first10: &[u8]) -> u8 {
    let sum: u32 = first10
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let d = u32::from(c - b'0');
            if i % 2 == 0 {
                d
            } else {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            }
        })
        .sum();
    // (10 - sum % 10) % 10 < 10.
    b'0' + ((10 - sum % 10) % 10) as u8
}

// ---------------------------------------------------------------------------
// CodiceFiscale
// ---------------------------------------------------------------------------

/// A codice fiscale: either the 16-character code of a natural person
/// (DPR 29 settembre 1973 n. 605, DM 23 dicembre 1976), possibly omocodic,
/// or the 11-digit numeric code of a legal entity or body (and of a
/// partita IVA holder).
///
/// Parsing trims spaces and uppercases; the original (possibly omocodic)
/// form is kept, since it is the code actually assigned to the person.
/// [`CodiceFiscale::canonical`] gives the de-omocodised form.
///
/// Omocodia: when two people would share a code, the Agenzia delle Entrate
/// replaces digits in positions 7, 8, 10, 11, 13, 14, 15 with the letters
/// `L M N P Q R S T U V` (for 0–9), starting from the rightmost, and
/// recomputes the check character. Parsing accepts a letter in any of those
/// positions (whatever the order of replacement) as long as the check
/// character is right.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CodiceFiscale(String);

string_newtype!(CodiceFiscale, CodiceFiscaleError);

/// Why a text is not a [`CodiceFiscale`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodiceFiscaleError {
    /// Neither 16 characters nor 11 digits.
    #[error("codice fiscale must have 16 characters (or 11 digits), found {found}")]
    Length {
        /// Characters found after trimming.
        found: usize,
    },
    /// A character that cannot appear at this position (1-based).
    #[error("invalid character in codice fiscale at position {position}")]
    Format {
        /// 1-based position of the first wrong character.
        position: usize,
    },
    /// The 9th character is not one of the month letters `ABCDEHLMPRST`.
    #[error("invalid birth month letter in codice fiscale")]
    BirthMonth,
    /// Characters 10–11 are not a day 1–31 (men) or 41–71 (women) that
    /// exists in the encoded month.
    #[error("invalid birth day in codice fiscale")]
    BirthDay,
    /// The 16th character does not match the first fifteen.
    #[error("wrong check character in codice fiscale")]
    CheckCharacter,
    /// The 11th digit of a numeric codice fiscale does not match the first ten.
    #[error("wrong check digit in numeric codice fiscale")]
    CheckDigit,
}

impl Coded for CodiceFiscaleError {
    fn code(&self) -> &'static str {
        match self {
            CodiceFiscaleError::Length { .. } => "codice_fiscale_length",
            CodiceFiscaleError::Format { .. } => "codice_fiscale_format",
            CodiceFiscaleError::BirthMonth => "codice_fiscale_birth_month",
            CodiceFiscaleError::BirthDay => "codice_fiscale_birth_day",
            CodiceFiscaleError::CheckCharacter => "codice_fiscale_check_character",
            CodiceFiscaleError::CheckDigit => "codice_fiscale_check_digit",
        }
    }

    fn message_it(&self) -> String {
        match self {
            CodiceFiscaleError::Length { found } => format!(
                "Il codice fiscale deve avere 16 caratteri (11 cifre per le persone giuridiche): ne sono stati inseriti {found}"
            ),
            CodiceFiscaleError::Format { position } => {
                format!(
                    "Il codice fiscale contiene un carattere non valido in posizione {position}"
                )
            }
            CodiceFiscaleError::BirthMonth => {
                "Il codice fiscale contiene una lettera del mese di nascita non valida".to_owned()
            }
            CodiceFiscaleError::BirthDay => {
                "Il codice fiscale contiene un giorno di nascita non valido".to_owned()
            }
            CodiceFiscaleError::CheckCharacter => {
                "Il carattere di controllo del codice fiscale non è corretto".to_owned()
            }
            CodiceFiscaleError::CheckDigit => {
                "La cifra di controllo del codice fiscale numerico non è corretta".to_owned()
            }
        }
    }
}

/// The digit (`b'0'..=b'9'`) behind a character of an omocodic position,
/// or `None` if it is neither a digit nor an omocodia letter.
fn de_omocode(c: u8) -> Option<u8> {
    if c.is_ascii_digit() {
        return Some(c);
    }
    OMOCODIA_LETTERS
        .iter()
        .position(|&l| l == c)
        .and_then(|d| u8::try_from(d).ok())
        .map(|d| b'0' + d)
}

/// Days in a month for any year (February counts 29: the century is not
/// encoded in the codice fiscale).
fn max_days_in_month(month: u8) -> u8 {
    match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Two ASCII digits as a number.
fn two_digits(hi: u8, lo: u8) -> u8 {
    (hi - b'0') * 10 + (lo - b'0')
}

impl CodiceFiscale {
    /// Parses a codice fiscale: 16 characters for a person (omocodic forms
    /// accepted) or 11 digits for a legal entity. Surrounding spaces are
    /// trimmed and letters uppercased.
    ///
    /// # Errors
    /// [`CodiceFiscaleError`]: wrong length, a character out of place, an
    /// invalid month or day, or a wrong check character / digit.
    pub fn parse(input: &str) -> Result<Self, CodiceFiscaleError> {
        // ASCII-only case mapping: `ß`.to_uppercase() would become "SS".
        let code = input.trim().to_ascii_uppercase();
        if let Some(position) = code.chars().position(|c| !c.is_ascii_alphanumeric()) {
            let found = code.chars().count();
            if found != 16 && found != 11 {
                return Err(CodiceFiscaleError::Length { found });
            }
            return Err(CodiceFiscaleError::Format {
                position: position + 1,
            });
        }
        // Only ASCII from here on: bytes are characters.
        let bytes = code.as_bytes();
        match bytes.len() {
            11 => {
                if bytes[0].is_ascii_alphabetic() {
                    // Starts like a personal code: it is too short, not a
                    // malformed numeric one.
                    return Err(CodiceFiscaleError::Length { found: 11 });
                }
                if let Some(position) = bytes.iter().position(|c| !c.is_ascii_digit()) {
                    return Err(CodiceFiscaleError::Format {
                        position: position + 1,
                    });
                }
                if luhn_it_check_digit(&bytes[..10]) != bytes[10] {
                    return Err(CodiceFiscaleError::CheckDigit);
                }
                Ok(CodiceFiscale(code))
            }
            16 => {
                Self::check_personal_structure(bytes)?;
                if cf_check_char(&bytes[..15]) != bytes[15] {
                    return Err(CodiceFiscaleError::CheckCharacter);
                }
                Ok(CodiceFiscale(code))
            }
            found => Err(CodiceFiscaleError::Length { found }),
        }
    }

    /// Checks letters, digits (or omocodia letters), month and day of a
    /// 16-byte uppercase ASCII code; not the check character.
    fn check_personal_structure(bytes: &[u8]) -> Result<(), CodiceFiscaleError> {
        for (i, &c) in bytes.iter().enumerate() {
            let ok = if OMOCODIC_POSITIONS.contains(&i) {
                de_omocode(c).is_some()
            } else {
                // Positions 1–6 (surname, name), 9 (month), 12 (place
                // letter) and 16 (check) are letters.
                c.is_ascii_uppercase()
            };
            if !ok {
                return Err(CodiceFiscaleError::Format { position: i + 1 });
            }
        }
        let month_letter = bytes[8];
        let month = MONTH_LETTERS
            .iter()
            .position(|&m| m == month_letter)
            .ok_or(CodiceFiscaleError::BirthMonth)?;
        let (Some(d1), Some(d2)) = (de_omocode(bytes[9]), de_omocode(bytes[10])) else {
            return Err(CodiceFiscaleError::Format { position: 10 });
        };
        let day = two_digits(d1, d2);
        let day = if day > 40 { day - 40 } else { day };
        // month is 0..12, so month + 1 fits in u8.
        let max = max_days_in_month(month as u8 + 1);
        if day == 0 || day > max {
            return Err(CodiceFiscaleError::BirthDay);
        }
        Ok(())
    }

    /// Computes the codice fiscale of a person from their data, following
    /// the rules of DM 23 dicembre 1976:
    ///
    /// * surname: its consonants, then its vowels, then `X`, first three;
    /// * name: if it has four or more consonants, the 1st, 3rd and 4th;
    ///   otherwise as the surname;
    /// * the last two digits of the birth year;
    /// * the month letter (`A B C D E H L M P R S T`);
    /// * the birth day, plus 40 for women;
    /// * the codice catastale of the birthplace (a `Z` code for people born
    ///   abroad);
    /// * the check character.
    ///
    /// Letters are folded to their unaccented form (`Nicolò` → `NICOLO`,
    /// `Müller` → `MULLER`, `Čok` → `COK`, `ß` → `SS`, `Æ` → `AE`); spaces,
    /// apostrophes, hyphens and any other non-letter are dropped
    /// (`D'Angelo` → `DANGELO`, `De Santis` → `DESANTIS`). `A E I O U` are
    /// vowels; every other letter (including `J K W X Y`) is a consonant.
    ///
    /// The result is the *base* code: where the Agenzia delle Entrate has
    /// assigned an omocodic variant, only it knows which.
    #[must_use]
    pub fn compute(
        surname: &str,
        name: &str,
        birth: Date,
        sex: Sex,
        birthplace: &CodiceCatastale,
    ) -> CodiceFiscale {
        let mut code: Vec<u8> = Vec::with_capacity(16);
        code.extend_from_slice(&surname_code(surname));
        code.extend_from_slice(&name_code(name));
        // rem_euclid(100) is in 0..100.
        let year = birth.year().rem_euclid(100) as u8;
        code.push(b'0' + year / 10);
        code.push(b'0' + year % 10);
        let month_index = usize::try_from(birth.month() - 1).unwrap_or(0);
        code.push(MONTH_LETTERS.get(month_index).copied().unwrap_or(b'A'));
        // Day is 1..=31, so day + 40 <= 71.
        let day = birth.day() as u8 + if sex == Sex::F { 40 } else { 0 };
        code.push(b'0' + day / 10);
        code.push(b'0' + day % 10);
        code.extend_from_slice(birthplace.as_str().as_bytes());
        let check = cf_check_char(&code);
        code.push(check);
        // Every byte pushed above is ASCII.
        CodiceFiscale(code.iter().map(|&b| char::from(b)).collect())
    }

    /// Is this the 16-character code of a natural person (rather than the
    /// 11-digit code of a legal entity)?
    #[must_use]
    pub fn is_person(&self) -> bool {
        self.0.len() == 16
    }

    /// Does this personal code contain omocodia letters?
    #[must_use]
    pub fn is_omocodic(&self) -> bool {
        self.is_person()
            && OMOCODIC_POSITIONS.iter().any(|&i| {
                self.0
                    .as_bytes()
                    .get(i)
                    .is_some_and(|c| !c.is_ascii_digit())
            })
    }

    /// The de-omocodised code: omocodia letters replaced by their digits
    /// and the check character recomputed. Numeric codes and codes without
    /// omocodia are returned unchanged.
    #[must_use]
    pub fn canonical(&self) -> CodiceFiscale {
        if !self.is_omocodic() {
            return self.clone();
        }
        let mut bytes: Vec<u8> = self.0.as_bytes().to_vec();
        for &i in &OMOCODIC_POSITIONS {
            if let Some(c) = bytes.get_mut(i) {
                *c = de_omocode(*c).unwrap_or(*c);
            }
        }
        bytes.truncate(15);
        let check = cf_check_char(&bytes);
        bytes.push(check);
        CodiceFiscale(bytes.iter().map(|&b| char::from(b)).collect())
    }

    /// The digit behind position `i` (0-based) of a personal code.
    fn digit_at(&self, i: usize) -> Option<u8> {
        if !self.is_person() {
            return None;
        }
        self.0.as_bytes().get(i).copied().and_then(de_omocode)
    }

    /// Encoded day number (1–31 for men, 41–71 for women).
    fn encoded_day(&self) -> Option<u8> {
        Some(two_digits(self.digit_at(9)?, self.digit_at(10)?))
    }

    /// Sex encoded in a personal code (`None` for numeric codes).
    #[must_use]
    pub fn sex(&self) -> Option<Sex> {
        self.encoded_day()
            .map(|d| if d > 40 { Sex::F } else { Sex::M })
    }

    /// Last two digits of the birth year (`None` for numeric codes). The
    /// century is not encoded.
    #[must_use]
    pub fn birth_year_2d(&self) -> Option<u8> {
        Some(two_digits(self.digit_at(6)?, self.digit_at(7)?))
    }

    /// Birth month, 1–12 (`None` for numeric codes).
    #[must_use]
    pub fn birth_month(&self) -> Option<i8> {
        if !self.is_person() {
            return None;
        }
        let letter = self.0.as_bytes().get(8)?;
        let index = MONTH_LETTERS.iter().position(|m| m == letter)?;
        i8::try_from(index + 1).ok()
    }

    /// Birth day of the month, 1–31, with the +40 for women removed
    /// (`None` for numeric codes).
    #[must_use]
    pub fn birth_day(&self) -> Option<i8> {
        let d = self.encoded_day()?;
        i8::try_from(if d > 40 { d - 40 } else { d }).ok()
    }

    /// The birth date, given the century the caller knows or assumes:
    /// `birth_date(1900)` for a code with year `85` gives 1985. `None` for
    /// numeric codes, or if the date does not exist in that century
    /// (29 February of a non-leap year).
    #[must_use]
    pub fn birth_date(&self, century: i16) -> Option<Date> {
        let year = century.checked_add(i16::from(self.birth_year_2d()?))?;
        Date::new(year, self.birth_month()?, self.birth_day()?).ok()
    }

    /// Codice catastale of the birthplace, de-omocodised (`None` for
    /// numeric codes).
    #[must_use]
    pub fn birthplace(&self) -> Option<CodiceCatastale> {
        if !self.is_person() {
            return None;
        }
        let letter = char::from(*self.0.as_bytes().get(11)?);
        let mut place = String::with_capacity(4);
        place.push(letter);
        for i in 12..15 {
            place.push(char::from(self.digit_at(i)?));
        }
        CodiceCatastale::parse(&place).ok()
    }
}

impl From<PartitaIva> for CodiceFiscale {
    /// A partita IVA is also a valid numeric codice fiscale (same format
    /// and check digit); for companies the two usually coincide.
    fn from(piva: PartitaIva) -> Self {
        CodiceFiscale(piva.0)
    }
}

/// Appends the unaccented uppercase ASCII letters for `c` (none for a
/// non-letter) — the folding applied to names before computing a codice
/// fiscale.
fn fold_letter(c: char, out: &mut Vec<u8>) {
    if c.is_ascii_alphabetic() {
        out.push(c.to_ascii_uppercase() as u8);
        return;
    }
    let folded: &[u8] = match c {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'Ā' | 'ā' | 'Ă'
        | 'ă' | 'Ą' | 'ą' => b"A",
        'Æ' | 'æ' => b"AE",
        'Ç' | 'ç' | 'Ć' | 'ć' | 'Č' | 'č' | 'Ĉ' | 'ĉ' | 'Ċ' | 'ċ' => b"C",
        'Ď' | 'ď' | 'Đ' | 'đ' | 'Ð' | 'ð' => b"D",
        'È' | 'É' | 'Ê' | 'Ë' | 'è' | 'é' | 'ê' | 'ë' | 'Ē' | 'ē' | 'Ė' | 'ė' | 'Ę' | 'ę' | 'Ě'
        | 'ě' => b"E",
        'Ğ' | 'ğ' | 'Ģ' | 'ģ' => b"G",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'ì' | 'í' | 'î' | 'ï' | 'Ī' | 'ī' | 'Į' | 'į' | 'İ' | 'ı' => {
            b"I"
        }
        'Ķ' | 'ķ' => b"K",
        'Ł' | 'ł' | 'Ľ' | 'ľ' | 'Ĺ' | 'ĺ' | 'Ļ' | 'ļ' => b"L",
        'Ñ' | 'ñ' | 'Ń' | 'ń' | 'Ň' | 'ň' | 'Ņ' | 'ņ' => b"N",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ō' | 'ō' | 'Ő'
        | 'ő' => b"O",
        'Œ' | 'œ' => b"OE",
        'Ŕ' | 'ŕ' | 'Ř' | 'ř' => b"R",
        'Ś' | 'ś' | 'Š' | 'š' | 'Ş' | 'ş' | 'Ș' | 'ș' => b"S",
        'ß' | 'ẞ' => b"SS",
        'Ť' | 'ť' | 'Ţ' | 'ţ' | 'Ț' | 'ț' => b"T",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'ù' | 'ú' | 'û' | 'ü' | 'Ū' | 'ū' | 'Ů' | 'ů' | 'Ű' | 'ű' | 'Ų'
        | 'ų' => b"U",
        'Ý' | 'ý' | 'ÿ' | 'Ÿ' => b"Y",
        'Ź' | 'ź' | 'Ż' | 'ż' | 'Ž' | 'ž' => b"Z",
        _ => b"",
    };
    out.extend_from_slice(folded);
}

/// Consonants and vowels of a name, in order, after folding.
fn consonants_and_vowels(text: &str) -> (Vec<u8>, Vec<u8>) {
    let mut letters = Vec::with_capacity(text.len());
    for c in text.chars() {
        fold_letter(c, &mut letters);
    }
    letters.into_iter().partition(|c| !b"AEIOU".contains(c))
}

/// Three letters: consonants, then vowels, then `X` padding.
fn three_letters(consonants: &[u8], vowels: &[u8]) -> [u8; 3] {
    let mut out = [b'X'; 3];
    for (slot, &c) in out.iter_mut().zip(consonants.iter().chain(vowels.iter())) {
        *slot = c;
    }
    out
}

/// Surname part of the codice fiscale (characters 1–3).
fn surname_code(surname: &str) -> [u8; 3] {
    let (consonants, vowels) = consonants_and_vowels(surname);
    three_letters(&consonants, &vowels)
}

/// Name part of the codice fiscale (characters 4–6): with four or more
/// consonants, the 1st, 3rd and 4th.
fn name_code(name: &str) -> [u8; 3] {
    let (consonants, vowels) = consonants_and_vowels(name);
    match consonants.as_slice() {
        [first, _, third, fourth, ..] => [*first, *third, *fourth],
        _ => three_letters(&consonants, &vowels),
    }
}

// ---------------------------------------------------------------------------
// PartitaIva
// ---------------------------------------------------------------------------

/// A partita IVA (DPR 26 ottobre 1972 n. 633, art. 35): 11 digits, the
/// first seven a progressive number, the 8th–10th the code of the provincial
/// office (001–100, or 120, 121, 888, 999), the 11th a check digit.
///
/// Parsing trims spaces and drops an optional `IT` country prefix (the
/// VIES form `IT01234567897`); the value holds the 11 digits only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PartitaIva(String);

string_newtype!(PartitaIva, PartitaIvaError);

/// Why a text is not a [`PartitaIva`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PartitaIvaError {
    /// Not 11 characters.
    #[error("partita IVA must have 11 digits, found {found} characters")]
    Length {
        /// Characters found after trimming and removing `IT`.
        found: usize,
    },
    /// A character that is not a digit.
    #[error("partita IVA must contain digits only")]
    Format,
    /// The 11th digit does not match the first ten.
    #[error("wrong check digit in partita IVA")]
    CheckDigit,
    /// Digits 8–10 are not a provincial office code.
    #[error("invalid office code in partita IVA")]
    OfficeCode,
}

impl Coded for PartitaIvaError {
    fn code(&self) -> &'static str {
        match self {
            PartitaIvaError::Length { .. } => "partita_iva_length",
            PartitaIvaError::Format => "partita_iva_format",
            PartitaIvaError::CheckDigit => "partita_iva_check_digit",
            PartitaIvaError::OfficeCode => "partita_iva_office_code",
        }
    }

    fn message_it(&self) -> String {
        match self {
            PartitaIvaError::Length { found } => format!(
                "La partita IVA deve avere 11 cifre: ne sono stati inseriti {found} caratteri"
            ),
            PartitaIvaError::Format => "La partita IVA deve contenere solo cifre".to_owned(),
            PartitaIvaError::CheckDigit => {
                "La cifra di controllo della partita IVA non è corretta".to_owned()
            }
            PartitaIvaError::OfficeCode => {
                "Il codice dell'ufficio provinciale nella partita IVA non è valido".to_owned()
            }
        }
    }
}

impl PartitaIva {
    /// Parses a partita IVA: 11 digits after trimming and removing an
    /// optional `IT` prefix.
    ///
    /// # Errors
    /// [`PartitaIvaError`]: wrong length, a non-digit, a wrong check digit,
    /// or an office code outside 001–100, 120, 121, 888, 999.
    pub fn parse(input: &str) -> Result<Self, PartitaIvaError> {
        let trimmed = input.trim();
        let digits = match trimmed.get(..2) {
            Some(prefix) if prefix.eq_ignore_ascii_case("IT") => trimmed[2..].trim_start(),
            _ => trimmed,
        };
        let found = digits.chars().count();
        if found != 11 {
            return Err(PartitaIvaError::Length { found });
        }
        let bytes = digits.as_bytes();
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(PartitaIvaError::Format);
        }
        if luhn_it_check_digit(&bytes[..10]) != bytes[10] {
            return Err(PartitaIvaError::CheckDigit);
        }
        let office = u16::from(bytes[7] - b'0') * 100
            + u16::from(bytes[8] - b'0') * 10
            + u16::from(bytes[9] - b'0');
        if !matches!(office, 1..=100 | 120 | 121 | 888 | 999) {
            return Err(PartitaIvaError::OfficeCode);
        }
        Ok(PartitaIva(digits.to_owned()))
    }

    /// Digits 8–10: the code of the provincial office that issued it.
    #[must_use]
    pub fn office_code(&self) -> &str {
        self.0.get(7..10).unwrap_or("")
    }
}

// ---------------------------------------------------------------------------
// CodiceCatastale
// ---------------------------------------------------------------------------

/// A codice catastale (codice Belfiore): one letter and three digits,
/// identifying a comune (`B923` Casamassima, `H501` Roma) or, with `Z`, a
/// foreign state (`Z404` Stati Uniti). Parsing trims and uppercases.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CodiceCatastale(String);

string_newtype!(CodiceCatastale, CodiceCatastaleError);

/// Why a text is not a [`CodiceCatastale`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodiceCatastaleError {
    /// Not one letter followed by three digits.
    #[error("codice catastale must be one letter and three digits")]
    Format,
}

impl Coded for CodiceCatastaleError {
    fn code(&self) -> &'static str {
        match self {
            CodiceCatastaleError::Format => "codice_catastale_format",
        }
    }

    fn message_it(&self) -> String {
        match self {
            CodiceCatastaleError::Format => {
                "Il codice catastale deve essere composto da una lettera e tre cifre (es. B923)"
                    .to_owned()
            }
        }
    }
}

impl CodiceCatastale {
    /// Parses one letter A–Z and three digits (trimmed, uppercased).
    ///
    /// # Errors
    /// [`CodiceCatastaleError::Format`] otherwise.
    pub fn parse(input: &str) -> Result<Self, CodiceCatastaleError> {
        let code = input.trim().to_ascii_uppercase();
        match code.as_bytes() {
            [letter, d1, d2, d3]
                if letter.is_ascii_uppercase()
                    && d1.is_ascii_digit()
                    && d2.is_ascii_digit()
                    && d3.is_ascii_digit() =>
            {
                Ok(CodiceCatastale(code))
            }
            _ => Err(CodiceCatastaleError::Format),
        }
    }

    /// Is this the code of a foreign state (`Z…`)?
    #[must_use]
    pub fn is_foreign_state(&self) -> bool {
        self.0.starts_with('Z')
    }
}

// ---------------------------------------------------------------------------
// CodiceIpa
// ---------------------------------------------------------------------------

/// The code of a public body in the IPA index (Indice dei domicili digitali
/// della Pubblica Amministrazione, AgID), e.g. `c_b923` for the Comune di
/// Casamassima, `agid`, `r_lazio`, `istsc_baee15800a` for a school.
///
/// Lowercase letters, digits and underscores, 1 to [`CodiceIpa::MAX_LEN`]
/// characters; parsing trims and lowercases.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CodiceIpa(String);

string_newtype!(CodiceIpa, CodiceIpaError);

/// Why a text is not a [`CodiceIpa`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodiceIpaError {
    /// Empty or longer than [`CodiceIpa::MAX_LEN`].
    #[error("IPA code must have 1 to {max} characters, found {found}", max = CodiceIpa::MAX_LEN)]
    Length {
        /// Characters found after trimming.
        found: usize,
    },
    /// A character other than a letter, digit or underscore.
    #[error("IPA code may contain only letters, digits and underscores")]
    Format,
}

impl Coded for CodiceIpaError {
    fn code(&self) -> &'static str {
        match self {
            CodiceIpaError::Length { .. } => "codice_ipa_length",
            CodiceIpaError::Format => "codice_ipa_format",
        }
    }

    fn message_it(&self) -> String {
        match self {
            CodiceIpaError::Length { found } => format!(
                "Il codice IPA deve avere da 1 a {} caratteri: ne sono stati inseriti {found}",
                CodiceIpa::MAX_LEN
            ),
            CodiceIpaError::Format => {
                "Il codice IPA può contenere solo lettere minuscole, cifre e il carattere _"
                    .to_owned()
            }
        }
    }
}

impl CodiceIpa {
    /// Longest accepted code. Codes of comuni are `c_` + codice catastale
    /// (6 characters), but schools have `istsc_` + their 10-character
    /// mechanographic code (16 characters), so the limit leaves room.
    pub const MAX_LEN: usize = 20;

    /// Parses an IPA code (trimmed, lowercased).
    ///
    /// # Errors
    /// [`CodiceIpaError`]: empty, too long, or a character other than
    /// `a–z`, `0–9`, `_`.
    pub fn parse(input: &str) -> Result<Self, CodiceIpaError> {
        // ASCII-only case mapping: the Kelvin sign would otherwise become `k`.
        let code = input.trim().to_ascii_lowercase();
        let found = code.chars().count();
        if found == 0 || found > Self::MAX_LEN {
            return Err(CodiceIpaError::Length { found });
        }
        if !code
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        {
            return Err(CodiceIpaError::Format);
        }
        Ok(CodiceIpa(code))
    }
}

// ---------------------------------------------------------------------------
// CodiceIstat
// ---------------------------------------------------------------------------

/// The ISTAT code of a comune: 6 digits, the first three the province
/// (unità territoriale sovracomunale), the last three a progressive number
/// (e.g. `072017` Casamassima, `058091` Roma). Neither part is `000`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CodiceIstat(String);

string_newtype!(CodiceIstat, CodiceIstatError);

/// Why a text is not a [`CodiceIstat`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodiceIstatError {
    /// Not six digits, or a `000` part.
    #[error("ISTAT code must be 6 digits")]
    Format,
}

impl Coded for CodiceIstatError {
    fn code(&self) -> &'static str {
        match self {
            CodiceIstatError::Format => "codice_istat_format",
        }
    }

    fn message_it(&self) -> String {
        match self {
            CodiceIstatError::Format => {
                "Il codice ISTAT del comune deve essere composto da 6 cifre (es. 072017)".to_owned()
            }
        }
    }
}

impl CodiceIstat {
    /// Parses six digits (trimmed); neither the province nor the
    /// progressive part may be `000`.
    ///
    /// # Errors
    /// [`CodiceIstatError::Format`] otherwise.
    pub fn parse(input: &str) -> Result<Self, CodiceIstatError> {
        let code = input.trim();
        if code.len() != 6
            || !code.bytes().all(|c| c.is_ascii_digit())
            || code.starts_with("000")
            || code.ends_with("000")
        {
            return Err(CodiceIstatError::Format);
        }
        Ok(CodiceIstat(code.to_owned()))
    }

    /// The first three digits: the province code (`072` for Bari).
    #[must_use]
    pub fn province_code(&self) -> &str {
        self.0.get(..3).unwrap_or("")
    }
}

// ---------------------------------------------------------------------------
// Cap
// ---------------------------------------------------------------------------

/// An Italian postal code (codice di avviamento postale): exactly 5 digits,
/// e.g. `70010` for Casamassima. Leading zeros matter (`00184` Roma).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cap(String);

string_newtype!(Cap, CapError);

/// Why a text is not a [`Cap`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CapError {
    /// Not exactly five digits.
    #[error("CAP must be exactly 5 digits")]
    Format,
}

impl Coded for CapError {
    fn code(&self) -> &'static str {
        match self {
            CapError::Format => "cap_format",
        }
    }

    fn message_it(&self) -> String {
        match self {
            CapError::Format => "Il CAP deve essere composto da 5 cifre".to_owned(),
        }
    }
}

impl Cap {
    /// Parses exactly five digits (trimmed).
    ///
    /// # Errors
    /// [`CapError::Format`] otherwise.
    pub fn parse(input: &str) -> Result<Self, CapError> {
        let code = input.trim();
        if code.len() != 5 || !code.bytes().all(|c| c.is_ascii_digit()) {
            return Err(CapError::Format);
        }
        Ok(Cap(code.to_owned()))
    }
}

// ---------------------------------------------------------------------------
// Email
// ---------------------------------------------------------------------------

/// An e-mail address, also used for PEC (posta elettronica certificata)
/// addresses, which have the same syntax.
///
/// A pragmatic subset of RFC 5321/5322 syntax:
///
/// * `local@domain`, at most 254 characters in all, the local part at most
///   64 (RFC 5321 §4.5.3.1);
/// * the local part is a dot-atom: ASCII letters, digits and
///   ``! # $ % & ' * + - / = ? ^ _ ` { | } ~``, separated by single dots
///   (quoted local parts are refused);
/// * the domain has at least two labels separated by dots, each 1–63
///   letters, digits or hyphens, not starting or ending with a hyphen; the
///   last label (TLD) has at least two characters and is not all digits;
///   internationalised (non-ASCII) letters are accepted in the domain;
/// * no spaces or control characters anywhere.
///
/// Parsing trims and lowercases the domain (domains are case-insensitive);
/// the local part keeps its case, as RFC 5321 requires.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

string_newtype!(Email, EmailError);

/// Why a text is not an [`Email`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EmailError {
    /// No `@`, nothing before or after it, or spaces / control characters.
    #[error("e-mail address must have the form name@domain")]
    Format,
    /// Longer than 254 characters, or local part longer than 64.
    #[error("e-mail address is too long")]
    Length,
    /// The part before `@` has characters or dots out of place.
    #[error("invalid local part in e-mail address")]
    LocalPart,
    /// The part after `@` is not a valid domain name.
    #[error("invalid domain in e-mail address")]
    Domain,
}

impl Coded for EmailError {
    fn code(&self) -> &'static str {
        match self {
            EmailError::Format => "email_format",
            EmailError::Length => "email_length",
            EmailError::LocalPart => "email_local_part",
            EmailError::Domain => "email_domain",
        }
    }

    fn message_it(&self) -> String {
        match self {
            EmailError::Format => {
                "L'indirizzo e-mail deve avere la forma nome@dominio, senza spazi".to_owned()
            }
            EmailError::Length => "L'indirizzo e-mail è troppo lungo".to_owned(),
            EmailError::LocalPart => {
                "La parte dell'indirizzo e-mail prima di @ contiene caratteri non ammessi"
                    .to_owned()
            }
            EmailError::Domain => {
                "Il dominio dell'indirizzo e-mail (dopo @) non è valido".to_owned()
            }
        }
    }
}

/// RFC 5322 `atext` characters besides ASCII letters and digits.
const ATEXT_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";

impl Email {
    /// Longest address accepted (RFC 5321 path limit minus the brackets).
    pub const MAX_LEN: usize = 254;
    /// Longest local part (RFC 5321 §4.5.3.1.1).
    pub const MAX_LOCAL_LEN: usize = 64;

    /// Parses an address (trimmed; domain lowercased).
    ///
    /// # Errors
    /// [`EmailError`]: see the type documentation for the accepted syntax.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let text = input.trim();
        if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::Format);
        }
        let Some((local, domain)) = text.rsplit_once('@') else {
            return Err(EmailError::Format);
        };
        if local.is_empty() || domain.is_empty() {
            return Err(EmailError::Format);
        }
        if text.chars().count() > Self::MAX_LEN || local.chars().count() > Self::MAX_LOCAL_LEN {
            return Err(EmailError::Length);
        }
        let local_ok = local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ATEXT_SPECIALS.contains(c))
        });
        if !local_ok {
            return Err(EmailError::LocalPart);
        }
        let domain = domain.to_lowercase();
        let labels: Vec<&str> = domain.split('.').collect();
        let labels_ok = labels.iter().all(|label| {
            let len = label.chars().count();
            (1..=63).contains(&len)
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c == '-' || c.is_alphanumeric())
        });
        let tld_ok = labels.last().is_some_and(|tld| {
            tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit())
        });
        if labels.len() < 2 || !labels_ok || !tld_ok {
            return Err(EmailError::Domain);
        }
        Ok(Email(format!("{local}@{domain}")))
    }

    /// The part before `@`.
    #[must_use]
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(local, _)| local)
    }

    /// The part after `@`, lowercase.
    #[must_use]
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn cf(s: &str) -> CodiceFiscale {
        CodiceFiscale::parse(s).unwrap()
    }

    fn place(s: &str) -> CodiceCatastale {
        CodiceCatastale::parse(s).unwrap()
    }

    // --- Codice fiscale: parsing -------------------------------------------

    #[test]
    fn known_codice_fiscale_parses_and_decodes() {
        // Mario Rossi, born 10 December 1985 in San Giuliano Terme (A562).
        let code = cf("RSSMRA85T10A562S");
        assert_eq!(code.as_str(), "RSSMRA85T10A562S");
        assert!(code.is_person());
        assert!(!code.is_omocodic());
        assert_eq!(code.sex(), Some(Sex::M));
        assert_eq!(code.birth_year_2d(), Some(85));
        assert_eq!(code.birth_month(), Some(12));
        assert_eq!(code.birth_day(), Some(10));
        assert_eq!(code.birthplace(), Some(place("A562")));
        assert_eq!(code.birth_date(1900), Some(date(1985, 12, 10)));
        assert_eq!(code.canonical(), code);
    }

    #[test]
    fn codice_fiscale_is_trimmed_and_uppercased() {
        assert_eq!(cf("  rssmra85t10a562s \n").as_str(), "RSSMRA85T10A562S");
    }

    #[test]
    fn wrong_check_character_is_rejected() {
        for wrong in ["RSSMRA85T10A562A", "RSSMRA85T10A562T", "RSSMRA85T10A562Z"] {
            assert_eq!(
                CodiceFiscale::parse(wrong),
                Err(CodiceFiscaleError::CheckCharacter),
                "{wrong}"
            );
        }
        // A single typo in the body is caught by the check character.
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T10A563S"),
            Err(CodiceFiscaleError::CheckCharacter)
        );
    }

    #[test]
    fn omocodic_variants_are_accepted_and_canonicalised() {
        // Computed by hand: position 15 ('2' -> 'N') changes the odd-position
        // value from 5 to 20, so the sum goes 122 -> 137, 137 % 26 = 7 -> 'H'.
        let one = cf("RSSMRA85T10A56NH");
        // All seven positions replaced: 8->U 5->R 1->M 0->L 5->R 6->S 2->N;
        // odd sum 90 + even sum 77 = 167, 167 % 26 = 11 -> 'L'.
        let all = cf("RSSMRAURTMLARSNL");
        let base = cf("RSSMRA85T10A562S");
        for code in [&one, &all] {
            assert!(code.is_omocodic());
            assert_eq!(code.canonical(), base);
            assert_eq!(code.sex(), Some(Sex::M));
            assert_eq!(code.birth_year_2d(), Some(85));
            assert_eq!(code.birth_month(), Some(12));
            assert_eq!(code.birth_day(), Some(10));
            assert_eq!(code.birthplace(), Some(place("A562")));
        }
        // The omocodic form keeps its own text.
        assert_eq!(one.as_str(), "RSSMRA85T10A56NH");
        // An omocodic form with the base check character is wrong.
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T10A56NS"),
            Err(CodiceFiscaleError::CheckCharacter)
        );
    }

    #[test]
    fn every_single_omocodic_substitution_round_trips() {
        let base = cf("RSSMRA85T10A562S");
        for &i in &OMOCODIC_POSITIONS {
            let mut bytes = base.as_str().as_bytes().to_vec();
            let digit = bytes[i] - b'0';
            bytes[i] = OMOCODIA_LETTERS[usize::from(digit)];
            bytes[15] = cf_check_char(&bytes[..15]);
            let text = String::from_utf8(bytes).unwrap();
            let code = cf(&text);
            assert!(code.is_omocodic(), "{text}");
            assert_eq!(code.canonical(), base, "{text}");
        }
    }

    #[test]
    fn codice_fiscale_length_errors() {
        assert_eq!(
            CodiceFiscale::parse(""),
            Err(CodiceFiscaleError::Length { found: 0 })
        );
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T10A562"),
            Err(CodiceFiscaleError::Length { found: 15 })
        );
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T10A562SS"),
            Err(CodiceFiscaleError::Length { found: 17 })
        );
        let err = CodiceFiscale::parse("RSS").unwrap_err();
        assert_eq!(err.code(), "codice_fiscale_length");
        assert!(err.message_it().contains("16 caratteri"));
    }

    #[test]
    fn codice_fiscale_format_errors() {
        // Digit in the surname part.
        assert_eq!(
            CodiceFiscale::parse("R5SMRA85T10A562S"),
            Err(CodiceFiscaleError::Format { position: 2 })
        );
        // A letter that is not an omocodia letter in a digit position.
        assert_eq!(
            CodiceFiscale::parse("RSSMRA8AT10A562S"),
            Err(CodiceFiscaleError::Format { position: 8 })
        );
        // Digit where the place letter goes.
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T1001562"),
            Err(CodiceFiscaleError::Format { position: 12 })
        );
        // Punctuation inside.
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T10A562-"),
            Err(CodiceFiscaleError::Format { position: 16 })
        );
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T10A562-").unwrap_err().code(),
            "codice_fiscale_format"
        );
        // Non-ASCII letters are not case-folded into ASCII ("ß" -> "SS").
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T10A56ß"),
            Err(CodiceFiscaleError::Length { found: 15 })
        );
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85T10A562ß"),
            Err(CodiceFiscaleError::Format { position: 16 })
        );
    }

    #[test]
    fn codice_fiscale_month_and_day_errors() {
        // 'F' is not a month letter.
        assert_eq!(
            CodiceFiscale::parse("RSSMRA85F10A562S"),
            Err(CodiceFiscaleError::BirthMonth)
        );
        // Day 32, 00, 40 and 72 do not exist; 30 February neither.
        for text in [
            "RSSMRA85T32A562S",
            "RSSMRA85T00A562S",
            "RSSMRA85T40A562S",
            "RSSMRA85T72A562S",
            "RSSMRA85B30A562S",
            "RSSMRA85D31A562S",
        ] {
            assert_eq!(
                CodiceFiscale::parse(text),
                Err(CodiceFiscaleError::BirthDay),
                "{text}"
            );
        }
    }

    #[test]
    fn numeric_codice_fiscale() {
        // Agenzia delle Entrate: 06363391001 (check digit verified by hand:
        // odd digits 0+3+3+9+0 = 15, even doubled 3+3+6+2+0 = 14, 29 -> 1).
        let code = cf(" 06363391001 ");
        assert!(!code.is_person());
        assert!(!code.is_omocodic());
        assert_eq!(code.sex(), None);
        assert_eq!(code.birth_month(), None);
        assert_eq!(code.birthplace(), None);
        assert_eq!(code.canonical(), code);
        assert_eq!(
            CodiceFiscale::parse("06363391002"),
            Err(CodiceFiscaleError::CheckDigit)
        );
        assert_eq!(
            CodiceFiscale::parse("0636339100A"),
            Err(CodiceFiscaleError::Format { position: 11 })
        );
        // A partita IVA converts into the same numeric codice fiscale.
        let piva = PartitaIva::parse("06363391001").unwrap();
        assert_eq!(CodiceFiscale::from(piva), code);
    }

    #[test]
    fn female_code_decodes_sex_and_day() {
        let code = cf("DNGMRA01M55B923U");
        assert_eq!(code.sex(), Some(Sex::F));
        assert_eq!(code.birth_day(), Some(15));
        assert_eq!(code.birth_month(), Some(8));
        assert_eq!(code.birth_date(2000), Some(date(2001, 8, 15)));
    }

    // --- Codice fiscale: computation ----------------------------------------

    #[test]
    fn compute_mario_rossi() {
        let code =
            CodiceFiscale::compute("Rossi", "Mario", date(1985, 12, 10), Sex::M, &place("A562"));
        assert_eq!(code.as_str(), "RSSMRA85T10A562S");
    }

    #[test]
    fn compute_hand_checked_cases() {
        // De Santis -> DSN; Nicolò -> NCL (3 consonants); 1990 -> 90;
        // January -> A; day 02; Casamassima B923.
        // Odd positions D7 N20 C5 9:21 A1 2:5 9:21 3:7 = 87;
        // even S18 N13 L11 0 0 B1 2 = 45; 132 % 26 = 2 -> C.
        assert_eq!(
            CodiceFiscale::compute(
                "De Santis",
                "Nicolò",
                date(1990, 1, 2),
                Sex::M,
                &place("B923")
            )
            .as_str(),
            "DSNNCL90A02B923C"
        );
        // D'Angelo -> DNG; Maria -> MRA; 2001 -> 01; August -> M;
        // 15 + 40 = 55; odd D7 G15 R8 0:1 M18 5:13 9:21 3:7 = 90;
        // even N13 M12 A0 1 5 B1 2 = 34; 124 % 26 = 20 -> U.
        assert_eq!(
            CodiceFiscale::compute(
                "D'Angelo",
                "Maria",
                date(2001, 8, 15),
                Sex::F,
                &place("B923")
            )
            .as_str(),
            "DNGMRA01M55B923U"
        );
        // Fo -> FOX (padding); Gianfranco -> G N F R N C: 1st, 3rd, 4th =
        // GFR; 2000 -> 00; February -> B; 29; USA Z404.
        // odd F13 X25 F13 0:1 B0 9:21 4:9 4:9 = 91;
        // even O14 G6 R17 0 2 Z25 0 = 64; 155 % 26 = 25 -> Z.
        assert_eq!(
            CodiceFiscale::compute(
                "Fo",
                "Gianfranco",
                date(2000, 2, 29),
                Sex::M,
                &place("Z404")
            )
            .as_str(),
            "FOXGFR00B29Z404Z"
        );
    }

    #[test]
    fn surname_and_name_rules() {
        assert_eq!(&surname_code("Rossi"), b"RSS");
        assert_eq!(&surname_code("De Santis"), b"DSN");
        assert_eq!(&surname_code("D'Angelo"), b"DNG");
        assert_eq!(&surname_code("Fo"), b"FOX");
        assert_eq!(&surname_code("Li"), b"LIX");
        assert_eq!(&surname_code("Oe"), b"OEX");
        assert_eq!(&surname_code("Ai"), b"AIX");
        assert_eq!(&surname_code("Bo"), b"BOX");
        assert_eq!(&surname_code(""), b"XXX");
        assert_eq!(&surname_code("Müller"), b"MLL");
        assert_eq!(&surname_code("Čok"), b"CKO");
        assert_eq!(&surname_code("Strauß"), b"STR");
        assert_eq!(&surname_code("Dell'Aquila-Rè"), b"DLL");
        assert_eq!(&surname_code("Aiello"), b"LLA");
        // Names: four or more consonants -> 1st, 3rd, 4th.
        assert_eq!(&name_code("Gianfranco"), b"GFR");
        assert_eq!(&name_code("Francesca"), b"FNC");
        assert_eq!(&name_code("Alberto"), b"LRT");
        assert_eq!(&name_code("Mario"), b"MRA");
        assert_eq!(&name_code("Ugo"), b"GUO");
        assert_eq!(&name_code("Nicolò"), b"NCL");
        assert_eq!(&name_code("Anna Maria"), b"NMR");
        assert_eq!(&name_code("Ida"), b"DIA");
        assert_eq!(&name_code("Eva"), b"VEA");
        assert_eq!(&name_code("Al"), b"LAX");
    }

    #[test]
    fn accents_do_not_change_the_code() {
        let b923 = place("B923");
        let plain = CodiceFiscale::compute("Nicolo", "Niccolo", date(1970, 5, 1), Sex::M, &b923);
        let accented = CodiceFiscale::compute("Nicolò", "Niccolò", date(1970, 5, 1), Sex::M, &b923);
        let upper = CodiceFiscale::compute("NICOLÒ", "NICCOLÒ", date(1970, 5, 1), Sex::M, &b923);
        assert_eq!(plain, accented);
        assert_eq!(plain, upper);
    }

    #[test]
    fn birth_years_use_two_digits() {
        let b923 = place("B923");
        let a = CodiceFiscale::compute("Rossi", "Mario", date(1905, 3, 1), Sex::M, &b923);
        let b = CodiceFiscale::compute("Rossi", "Mario", date(2005, 3, 1), Sex::M, &b923);
        assert_eq!(a, b);
        assert_eq!(a.birth_year_2d(), Some(5));
        assert_eq!(&a.as_str()[6..11], "05C01");
    }

    fn arb_date() -> impl Strategy<Value = Date> {
        (1900i16..=2099, 1i8..=12, 1i8..=31)
            .prop_filter_map("valid date", |(y, m, d)| Date::new(y, m, d).ok())
    }

    proptest! {
        #[test]
        fn computed_codes_parse_and_decode(
            surname in "[A-Za-zàèéìòù' ]{0,20}",
            name in "[A-Za-zàèéìòù' ]{0,20}",
            birth in arb_date(),
            female in any::<bool>(),
            letter in proptest::char::range('A', 'Z'),
            number in 0u16..1000,
        ) {
            let sex = if female { Sex::F } else { Sex::M };
            let bp = place(&format!("{letter}{number:03}"));
            let code = CodiceFiscale::compute(&surname, &name, birth, sex, &bp);
            let parsed = CodiceFiscale::parse(code.as_str()).unwrap();
            prop_assert_eq!(&parsed, &code);
            prop_assert_eq!(parsed.sex(), Some(sex));
            prop_assert_eq!(parsed.birth_month(), Some(birth.month()));
            prop_assert_eq!(parsed.birth_day(), Some(birth.day()));
            let century = birth.year() - birth.year().rem_euclid(100);
            prop_assert_eq!(parsed.birth_date(century), Some(birth));
            prop_assert_eq!(parsed.birthplace(), Some(bp));
        }

        #[test]
        fn any_single_character_change_is_rejected(
            index in 0usize..15,
            replacement in proptest::char::range('A', 'Z'),
        ) {
            let base = "RSSMRA85T10A562S";
            let mut bytes = base.as_bytes().to_vec();
            prop_assume!(bytes[index] != replacement as u8);
            bytes[index] = replacement as u8;
            let text = String::from_utf8(bytes).unwrap();
            // Either the structure or the check character fails: even the
            // omocodia letter of the same digit changes the check character.
            prop_assert!(CodiceFiscale::parse(&text).is_err());
        }

        #[test]
        fn codice_fiscale_parse_never_panics(text in "\\PC{0,20}") {
            let _ = CodiceFiscale::parse(&text);
        }
    }

    // --- Partita IVA --------------------------------------------------------

    #[test]
    fn partita_iva_valid() {
        // Agenzia delle Entrate (office 100, Roma) and TIM (office 001, Torino).
        let p = PartitaIva::parse("06363391001").unwrap();
        assert_eq!(p.as_str(), "06363391001");
        assert_eq!(p.office_code(), "100");
        assert_eq!(
            PartitaIva::parse("00488410010").unwrap().office_code(),
            "001"
        );
        assert_eq!(
            PartitaIva::parse(" IT00488410010 ").unwrap().as_str(),
            "00488410010"
        );
        assert_eq!(
            PartitaIva::parse("it 00488410010").unwrap().as_str(),
            "00488410010"
        );
    }

    #[test]
    fn partita_iva_errors() {
        assert_eq!(
            PartitaIva::parse("0636339100"),
            Err(PartitaIvaError::Length { found: 10 })
        );
        assert_eq!(
            PartitaIva::parse("063633910011"),
            Err(PartitaIvaError::Length { found: 12 })
        );
        assert_eq!(
            PartitaIva::parse("0636339100A"),
            Err(PartitaIvaError::Format)
        );
        assert_eq!(
            PartitaIva::parse("06363391002"),
            Err(PartitaIvaError::CheckDigit)
        );
        // Transposed digits are caught.
        assert_eq!(
            PartitaIva::parse("60363391001"),
            Err(PartitaIvaError::CheckDigit)
        );
        // All zeros passes the check digit but office 000 does not exist.
        assert_eq!(
            PartitaIva::parse("00000000000"),
            Err(PartitaIvaError::OfficeCode)
        );
        assert_eq!(
            PartitaIva::parse("00000000000").unwrap_err().code(),
            "partita_iva_office_code"
        );
        assert_eq!(
            PartitaIva::parse("x").unwrap_err().code(),
            "partita_iva_length"
        );
    }

    #[test]
    fn partita_iva_office_codes() {
        let with_office = |office: u16| {
            let mut digits = format!("1234567{office:03}").into_bytes();
            let check = luhn_it_check_digit(&digits);
            digits.push(check);
            PartitaIva::parse(&String::from_utf8(digits).unwrap())
        };
        for ok in [1, 50, 100, 120, 121, 888, 999] {
            assert!(with_office(ok).is_ok(), "{ok}");
        }
        for bad in [0, 101, 119, 122, 500, 887, 998] {
            assert_eq!(with_office(bad), Err(PartitaIvaError::OfficeCode), "{bad}");
        }
    }

    // --- Other codes --------------------------------------------------------

    #[test]
    fn codice_catastale() {
        assert_eq!(place(" b923 ").as_str(), "B923");
        assert!(!place("B923").is_foreign_state());
        assert!(place("Z404").is_foreign_state());
        for bad in ["", "B92", "B9234", "1923", "BB23", "B92O", "ß923"] {
            assert_eq!(
                CodiceCatastale::parse(bad),
                Err(CodiceCatastaleError::Format),
                "{bad}"
            );
        }
        assert_eq!(
            CodiceCatastale::parse("x").unwrap_err().code(),
            "codice_catastale_format"
        );
    }

    #[test]
    fn codice_ipa() {
        assert_eq!(CodiceIpa::parse(" C_B923 ").unwrap().as_str(), "c_b923");
        assert_eq!(CodiceIpa::parse("agid").unwrap().as_str(), "agid");
        assert_eq!(
            CodiceIpa::parse("istsc_baee15800a").unwrap().as_str(),
            "istsc_baee15800a"
        );
        assert_eq!(
            CodiceIpa::parse(""),
            Err(CodiceIpaError::Length { found: 0 })
        );
        assert_eq!(
            CodiceIpa::parse("a".repeat(21).as_str()),
            Err(CodiceIpaError::Length { found: 21 })
        );
        assert_eq!(CodiceIpa::parse("c-b923"), Err(CodiceIpaError::Format));
        assert_eq!(CodiceIpa::parse("c b923"), Err(CodiceIpaError::Format));
        assert_eq!(CodiceIpa::parse("città"), Err(CodiceIpaError::Format));
        // The Kelvin sign is not folded into "k".
        assert_eq!(CodiceIpa::parse("\u{212A}"), Err(CodiceIpaError::Format));
        assert_eq!(
            CodiceIpa::parse("c.b923").unwrap_err().code(),
            "codice_ipa_format"
        );
    }

    #[test]
    fn codice_istat() {
        let c = CodiceIstat::parse(" 072017 ").unwrap();
        assert_eq!(c.as_str(), "072017");
        assert_eq!(c.province_code(), "072");
        for bad in ["72017", "0720170", "07201a", "000017", "072000", ""] {
            assert_eq!(
                CodiceIstat::parse(bad),
                Err(CodiceIstatError::Format),
                "{bad}"
            );
        }
    }

    #[test]
    fn cap() {
        assert_eq!(Cap::parse("70010").unwrap().as_str(), "70010");
        assert_eq!(Cap::parse(" 00184 ").unwrap().as_str(), "00184");
        for bad in ["7001", "700100", "7001O", "70 10", "", "７００１０"] {
            assert_eq!(Cap::parse(bad), Err(CapError::Format), "{bad}");
        }
        let err = Cap::parse("1").unwrap_err();
        assert_eq!(err.code(), "cap_format");
        assert_eq!(err.message_it(), "Il CAP deve essere composto da 5 cifre");
    }

    #[test]
    fn email_valid_and_normalised() {
        let e = Email::parse("  Mario.Rossi@Comune.Casamassima.BA.it ").unwrap();
        assert_eq!(e.as_str(), "Mario.Rossi@comune.casamassima.ba.it");
        assert_eq!(e.local_part(), "Mario.Rossi");
        assert_eq!(e.domain(), "comune.casamassima.ba.it");
        for ok in [
            "protocollo@pec.comune.casamassima.ba.it",
            "a+b@example.it",
            "o'brien@example.co.uk",
            "x@xn--citt-1na.it",
            "info@città.it",
            "user_1-2@sub-domain.example.com",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn email_invalid() {
        let cases = [
            ("", EmailError::Format),
            ("mario", EmailError::Format),
            ("mario@", EmailError::Format),
            ("@example.it", EmailError::Format),
            ("mario rossi@example.it", EmailError::Format),
            ("mario@exa\tmple.it", EmailError::Format),
            (".mario@example.it", EmailError::LocalPart),
            ("mario.@example.it", EmailError::LocalPart),
            ("ma..rio@example.it", EmailError::LocalPart),
            ("ma(rio)@example.it", EmailError::LocalPart),
            ("a@b@example.it", EmailError::LocalPart),
            ("mario@localhost", EmailError::Domain),
            ("mario@example.", EmailError::Domain),
            ("mario@.example.it", EmailError::Domain),
            ("mario@exa..mple.it", EmailError::Domain),
            ("mario@-example.it", EmailError::Domain),
            ("mario@example-.it", EmailError::Domain),
            ("mario@example.i", EmailError::Domain),
            ("mario@192.168.0.1", EmailError::Domain),
            ("mario@exa_mple.it", EmailError::Domain),
        ];
        for (text, expected) in cases {
            assert_eq!(Email::parse(text), Err(expected.clone()), "{text}");
        }
        let long_local = format!("{}@example.it", "a".repeat(65));
        assert_eq!(Email::parse(&long_local), Err(EmailError::Length));
        let long_total = format!("a@{}.it", "b".repeat(60).repeat(5));
        assert_eq!(Email::parse(&long_total), Err(EmailError::Length));
        assert_eq!(Email::parse("x").unwrap_err().code(), "email_format");
    }

    proptest! {
        #[test]
        fn email_parse_is_idempotent(
            local in "[a-zA-Z0-9_+-]{1,20}(\\.[a-zA-Z0-9]{1,5}){0,2}",
            domain in "[a-zA-Z0-9]{1,10}(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?){0,2}\\.[a-zA-Z]{2,6}",
        ) {
            let email = Email::parse(&format!("{local}@{domain}")).unwrap();
            prop_assert_eq!(email.domain(), domain.to_lowercase());
            prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email.clone());
        }
    }

    #[test]
    fn sex() {
        assert_eq!(Sex::parse(" m "), Ok(Sex::M));
        assert_eq!(Sex::parse("F"), Ok(Sex::F));
        assert_eq!(Sex::parse("X"), Err(SexError::Format));
        assert_eq!(Sex::F.to_string(), "F");
        assert_eq!(Sex::parse("").unwrap_err().code(), "sex_format");
    }

    // --- Traits and serde ---------------------------------------------------

    #[test]
    fn serde_goes_through_parse() {
        let code: CodiceFiscale = serde_json::from_str("\" rssmra85t10a562s\"").unwrap();
        assert_eq!(code.as_str(), "RSSMRA85T10A562S");
        assert_eq!(
            serde_json::to_string(&code).unwrap(),
            "\"RSSMRA85T10A562S\""
        );
        assert!(serde_json::from_str::<CodiceFiscale>("\"RSSMRA85T10A562A\"").is_err());

        let cap: Cap = serde_json::from_str("\"70010\"").unwrap();
        assert_eq!(serde_json::to_string(&cap).unwrap(), "\"70010\"");
        assert!(serde_json::from_str::<Cap>("\"7001\"").is_err());

        let ipa: CodiceIpa = serde_json::from_str("\"C_B923\"").unwrap();
        assert_eq!(serde_json::to_string(&ipa).unwrap(), "\"c_b923\"");
        assert!(serde_json::from_str::<PartitaIva>("\"06363391002\"").is_err());
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
        assert!(serde_json::from_str::<CodiceIstat>("\"72017\"").is_err());
        assert!(serde_json::from_str::<CodiceCatastale>("\"B92\"").is_err());

        let sex: Sex = serde_json::from_str("\"f\"").unwrap();
        assert_eq!(sex, Sex::F);
        assert_eq!(serde_json::to_string(&Sex::M).unwrap(), "\"M\"");
        assert!(serde_json::from_str::<Sex>("\"X\"").is_err());
    }

    #[test]
    fn from_str_display_and_as_ref() {
        let code: CodiceCatastale = "b923".parse().unwrap();
        assert_eq!(code.to_string(), "B923");
        assert_eq!(code.as_ref(), "B923");
        let email: Email = "a@B.it".parse().unwrap();
        assert_eq!(format!("{email}"), "a@b.it");
        assert_eq!(String::from(email), "a@b.it");
        assert!("06363391002".parse::<PartitaIva>().is_err());
    }

    #[test]
    fn every_error_has_an_italian_message_and_snake_case_code() {
        let errors: Vec<Box<dyn Coded>> = vec![
            Box::new(CodiceFiscaleError::Length { found: 3 }),
            Box::new(CodiceFiscaleError::Format { position: 2 }),
            Box::new(CodiceFiscaleError::BirthMonth),
            Box::new(CodiceFiscaleError::BirthDay),
            Box::new(CodiceFiscaleError::CheckCharacter),
            Box::new(CodiceFiscaleError::CheckDigit),
            Box::new(PartitaIvaError::Length { found: 3 }),
            Box::new(PartitaIvaError::Format),
            Box::new(PartitaIvaError::CheckDigit),
            Box::new(PartitaIvaError::OfficeCode),
            Box::new(CodiceCatastaleError::Format),
            Box::new(CodiceIpaError::Length { found: 0 }),
            Box::new(CodiceIpaError::Format),
            Box::new(CodiceIstatError::Format),
            Box::new(CapError::Format),
            Box::new(EmailError::Format),
            Box::new(EmailError::Length),
            Box::new(EmailError::LocalPart),
            Box::new(EmailError::Domain),
            Box::new(SexError::Format),
        ];
        let mut codes: Vec<&str> = errors.iter().map(|e| e.code()).collect();
        for e in &errors {
            assert!(
                e.code()
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c == b'_'),
                "{}",
                e.code()
            );
            assert!(!e.message_it().is_empty());
        }
        let total = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), total, "codes must be distinct");
        assert_eq!(
            CodiceFiscaleError::CheckCharacter.message_it(),
            "Il carattere di controllo del codice fiscale non è corretto"
        );
    }
}
