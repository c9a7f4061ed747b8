//! Money as an integer number of euro cents.
//!
//! Amounts are never floating point: [`Cents`] wraps an `i64` count of
//! cents (about ±92 trillion euro), arithmetic is checked, and the Italian
//! text form (`1.020,99 €`) is produced by `Display` and read back by
//! [`Cents::parse_it`]. Serde uses the plain integer number of cents.

use std::fmt;
use std::iter::Sum;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::Coded;

/// An amount of money in euro cents (negative amounts allowed: refunds,
/// credits, adjustments).
///
/// `Display` gives the Italian form: thousands separated by `.`, decimals
/// by `,`, always two decimals, a space and `€`: `1.020,99 €`,
/// `-1.020,99 €`, `0,05 €`. Serialises as the integer number of cents.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(i64);

/// Why a text is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AmountError {
    /// Not a number in the Italian format (`1.020,99`, `1020,99`, `1020`,
    /// optionally with `€` and a sign).
    #[error("amount is not in the format 1.020,99")]
    Format,
    /// More than two decimal digits.
    #[error("amount has more than two decimals")]
    TooManyDecimals,
    /// Too large to be represented.
    #[error("amount is too large")]
    Overflow,
}

impl Coded for AmountError {
    fn code(&self) -> &'static str {
        match self {
            AmountError::Format => "amount_format",
            AmountError::TooManyDecimals => "amount_decimals",
            AmountError::Overflow => "amount_overflow",
        }
    }

    fn message_it(&self) -> String {
        match self {
            AmountError::Format => {
                "L'importo non è valido: usare il formato 1.020,99 (virgola per i decimali)"
                    .to_owned()
            }
            AmountError::TooManyDecimals => {
                "L'importo può avere al massimo due cifre decimali".to_owned()
            }
            AmountError::Overflow => "L'importo è troppo grande".to_owned(),
        }
    }
}

impl Cents {
    /// Zero euro.
    pub const ZERO: Cents = Cents(0);

    /// An amount of `cents` cents (`Cents::from_cents(102_099)` is
    /// 1.020,99 €).
    #[must_use]
    pub const fn from_cents(cents: i64) -> Cents {
        Cents(cents)
    }

    /// The number of cents.
    #[must_use]
    pub const fn cents(self) -> i64 {
        self.0
    }

    /// Is the amount below zero?
    #[must_use]
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// `self + other`, or `None` on overflow.
    #[must_use]
    pub const fn checked_add(self, other: Cents) -> Option<Cents> {
        match self.0.checked_add(other.0) {
            Some(c) => Some(Cents(c)),
            None => None,
        }
    }

    /// `self - other`, or `None` on overflow.
    #[must_use]
    pub const fn checked_sub(self, other: Cents) -> Option<Cents> {
        match self.0.checked_sub(other.0) {
            Some(c) => Some(Cents(c)),
            None => None,
        }
    }

    /// `self × factor` (e.g. a unit price times a quantity), or `None` on
    /// overflow.
    #[must_use]
    pub const fn checked_mul(self, factor: i64) -> Option<Cents> {
        match self.0.checked_mul(factor) {
            Some(c) => Some(Cents(c)),
            None => None,
        }
    }

    /// `-self`, or `None` for the one amount whose negation overflows.
    #[must_use]
    pub const fn checked_neg(self) -> Option<Cents> {
        match self.0.checked_neg() {
            Some(c) => Some(Cents(c)),
            None => None,
        }
    }

    /// The sum of `amounts`, or `None` on overflow. Prefer this to the
    /// [`Sum`] impl when the amounts come from outside.
    pub fn checked_sum<I: IntoIterator<Item = Cents>>(amounts: I) -> Option<Cents> {
        amounts
            .into_iter()
            .try_fold(Cents::ZERO, |total, amount| total.checked_add(amount))
    }

    /// Parses an amount written the Italian way.
    ///
    /// Accepted: an optional sign (`-` or `+`), an optional `€` before or
    /// after the number (with or without spaces, also non-breaking), and a
    /// number whose integer part is either plain digits (`1020`) or groups
    /// of three separated by `.` (`1.020`, `1.000.000`), optionally followed
    /// by `,` and one or two decimals (`1.020,9` is 1.020,90 €).
    ///
    /// Examples: `"1.020,99"`, `"1020,99"`, `"1020"`, `"1.020,99 €"`,
    /// `"€ 5"`, `"-1.020,99 €"`, `"€ -5,50"`.
    ///
    /// # Errors
    /// [`AmountError::TooManyDecimals`] for three or more decimals,
    /// [`AmountError::Overflow`] beyond the `i64` range of cents,
    /// [`AmountError::Format`] for anything else (`1,020.99`, `1.02`,
    /// `12 euro`, empty text, …).
    pub fn parse_it(input: &str) -> Result<Cents, AmountError> {
        let mut text = input.trim();
        let mut negative = false;
        let mut signed = false;
        let mut euro = false;

        // Leading sign, then leading "€", then (if none yet) a sign again:
        // "-5 €", "-€ 5" and "€ -5" are all accepted.
        if let Some((neg, rest)) = strip_sign(text) {
            negative = neg;
            signed = true;
            text = rest.trim_start();
        }
        if let Some(rest) = text.strip_prefix('€') {
            euro = true;
            text = rest.trim_start();
        }
        if !signed && let Some((neg, rest)) = strip_sign(text) {
            negative = neg;
            text = rest;
        }
        if let Some(rest) = text.strip_suffix('€') {
            if euro {
                return Err(AmountError::Format);
            }
            text = rest.trim_end();
        }

        let (integer, decimals) = match text.split_once(',') {
            Some((i, d)) => (i, Some(d)),
            None => (text, None),
        };
        let integer_digits = integer_digits(integer).ok_or(AmountError::Format)?;
        let fraction: u64 = match decimals {
            None => 0,
            Some(d) if d.is_empty() || !d.bytes().all(|c| c.is_ascii_digit()) => {
                return Err(AmountError::Format);
            }
            Some(d) if d.len() > 2 => return Err(AmountError::TooManyDecimals),
            Some(d) => {
                let value = d
                    .bytes()
                    .fold(0u64, |acc, c| acc * 10 + u64::from(c - b'0'));
                if d.len() == 1 { value * 10 } else { value }
            }
        };

        let mut euros: u64 = 0;
        for c in integer_digits.bytes() {
            euros = euros
                .checked_mul(10)
                .and_then(|e| e.checked_add(u64::from(c - b'0')))
                .ok_or(AmountError::Overflow)?;
        }
        let magnitude = euros
            .checked_mul(100)
            .and_then(|c| c.checked_add(fraction))
            .ok_or(AmountError::Overflow)?;
        let cents = if negative {
            0i64.checked_sub_unsigned(magnitude)
        } else {
            i64::try_from(magnitude).ok()
        };
        cents.map(Cents).ok_or(AmountError::Overflow)
    }
}

/// Splits a leading `-` or `+` off `text`: `Some((is_negative, rest))`.
fn strip_sign(text: &str) -> Option<(bool, &str)> {
    if let Some(rest) = text.strip_prefix('-') {
        Some((true, rest))
    } else {
        text.strip_prefix('+').map(|rest| (false, rest))
    }
}

/// The digits of an integer part written as plain digits (`1020`) or in
/// groups of three separated by dots (`1.020`); `None` if malformed.
fn integer_digits(integer: &str) -> Option<String> {
    if integer.is_empty() {
        return None;
    }
    if integer.bytes().all(|c| c.is_ascii_digit()) {
        return Some(integer.to_owned());
    }
    let mut groups = integer.split('.');
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 || !first.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut digits = first.to_owned();
    for group in groups {
        if group.len() != 3 || !group.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        digits.push_str(group);
    }
    Some(digits)
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let magnitude = self.0.unsigned_abs();
        let euros = (magnitude / 100).to_string();
        let fraction = magnitude % 100;
        let mut out = String::with_capacity(euros.len() * 4 / 3 + 8);
        if self.0 < 0 {
            out.push('-');
        }
        for (i, digit) in euros.chars().enumerate() {
            if i > 0 && (euros.len() - i).is_multiple_of(3) {
                out.push('.');
            }
            out.push(digit);
        }
        out.push_str(&format!(",{fraction:02} €"));
        f.pad(&out)
    }
}

impl FromStr for Cents {
    type Err = AmountError;
    /// Same as [`Cents::parse_it`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cents::parse_it(s)
    }
}

impl Sum for Cents {
    /// Adds up amounts, saturating at the `i64` limits instead of
    /// overflowing (unreachable for real amounts: the limit is about 92
    /// trillion euro). Use [`Cents::checked_sum`] to detect overflow.
    fn sum<I: Iterator<Item = Cents>>(iter: I) -> Cents {
        Cents(iter.fold(0i64, |total, c| total.saturating_add(c.0)))
    }
}

impl<'a> Sum<&'a Cents> for Cents {
    /// As `Sum<Cents>`, over references.
    fn sum<I: Iterator<Item = &'a Cents>>(iter: I) -> Cents {
        iter.copied().sum()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Cents {
        Cents::parse_it(s).unwrap()
    }

    #[test]
    fn display_in_italian_format() {
        let cases = [
            (0, "0,00 €"),
            (5, "0,05 €"),
            (99, "0,99 €"),
            (100, "1,00 €"),
            (102_099, "1.020,99 €"),
            (-102_099, "-1.020,99 €"),
            (-5, "-0,05 €"),
            (99_999, "999,99 €"),
            (100_000, "1.000,00 €"),
            (123_456_789, "1.234.567,89 €"),
            (100_000_000_000, "1.000.000.000,00 €"),
            (i64::MAX, "92.233.720.368.547.758,07 €"),
            (i64::MIN, "-92.233.720.368.547.758,08 €"),
        ];
        for (cents, text) in cases {
            assert_eq!(Cents::from_cents(cents).to_string(), text, "{cents}");
        }
        assert_eq!(
            format!("[{:>12}]", Cents::from_cents(500)),
            "[      5,00 €]"
        );
    }

    #[test]
    fn parse_accepted_forms() {
        let cases = [
            ("1.020,99", 102_099),
            ("1020,99", 102_099),
            ("1020", 102_000),
            ("1.020", 102_000),
            ("1.020,99 €", 102_099),
            ("1.020,99€", 102_099),
            ("€ 5", 500),
            ("€5", 500),
            ("5,5", 550),
            ("0,05", 5),
            ("  12,30  ", 1_230),
            ("1.000.000,00", 100_000_000),
            ("-1.020,99 €", -102_099),
            ("-€ 5", -500),
            ("€ -5,50", -550),
            ("+3", 300),
            ("-0", 0),
            ("5\u{a0}€", 500),
            ("007", 700),
        ];
        for (text, cents) in cases {
            assert_eq!(
                Cents::parse_it(text),
                Ok(Cents::from_cents(cents)),
                "{text:?}"
            );
        }
        assert_eq!("2,50".parse::<Cents>(), Ok(Cents::from_cents(250)));
    }

    #[test]
    fn parse_rejects_garbage() {
        for text in [
            "",
            " ",
            "€",
            "-",
            "abc",
            "1,020.99",
            "1.02",
            "1.0200",
            "10.20,5",
            ".020",
            "1.",
            ",50",
            "1,",
            "1,5a",
            "12 euro",
            "EUR 12",
            "€ 5 €",
            "--5",
            "- -5",
            "5-",
            "1 020,99",
            "1e3",
            "0x10",
            "1,2,3",
            "١٢٣",
        ] {
            assert_eq!(Cents::parse_it(text), Err(AmountError::Format), "{text:?}");
        }
        assert_eq!(Cents::parse_it("x").unwrap_err().code(), "amount_format");
    }

    #[test]
    fn parse_rejects_more_than_two_decimals() {
        for text in ["1,999", "1.020,001", "0,000"] {
            assert_eq!(
                Cents::parse_it(text),
                Err(AmountError::TooManyDecimals),
                "{text}"
            );
        }
        let err = Cents::parse_it("1,999").unwrap_err();
        assert_eq!(err.code(), "amount_decimals");
        assert!(err.message_it().contains("due cifre decimali"));
    }

    #[test]
    fn parse_overflow_at_the_exact_limits() {
        assert_eq!(
            parse("92.233.720.368.547.758,07"),
            Cents::from_cents(i64::MAX)
        );
        assert_eq!(
            parse("-92.233.720.368.547.758,08"),
            Cents::from_cents(i64::MIN)
        );
        for text in [
            "92.233.720.368.547.758,08",
            "-92.233.720.368.547.758,09",
            "99999999999999999999999",
            "184467440737095516,16",
        ] {
            assert_eq!(Cents::parse_it(text), Err(AmountError::Overflow), "{text}");
        }
        assert_eq!(
            Cents::parse_it("99999999999999999999999")
                .unwrap_err()
                .code(),
            "amount_overflow"
        );
    }

    #[test]
    fn checked_arithmetic() {
        let a = Cents::from_cents(150);
        let b = Cents::from_cents(75);
        assert_eq!(a.checked_add(b), Some(Cents::from_cents(225)));
        assert_eq!(b.checked_sub(a), Some(Cents::from_cents(-75)));
        assert_eq!(a.checked_mul(3), Some(Cents::from_cents(450)));
        assert_eq!(a.checked_mul(-2), Some(Cents::from_cents(-300)));
        assert_eq!(
            Cents::from_cents(i64::MAX).checked_add(Cents::from_cents(1)),
            None
        );
        assert_eq!(
            Cents::from_cents(i64::MIN).checked_sub(Cents::from_cents(1)),
            None
        );
        assert_eq!(Cents::from_cents(i64::MAX / 2 + 1).checked_mul(2), None);
        assert_eq!(Cents::from_cents(i64::MIN).checked_neg(), None);
        assert_eq!(a.checked_neg(), Some(Cents::from_cents(-150)));
        assert!(Cents::from_cents(-1).is_negative());
        assert!(!Cents::ZERO.is_negative());
    }

    #[test]
    fn sums_and_ordering() {
        let amounts = [
            Cents::from_cents(100),
            Cents::from_cents(250),
            Cents::from_cents(-50),
        ];
        assert_eq!(amounts.iter().sum::<Cents>(), Cents::from_cents(300));
        assert_eq!(amounts.into_iter().sum::<Cents>(), Cents::from_cents(300));
        assert_eq!(Cents::checked_sum(amounts), Some(Cents::from_cents(300)));
        assert_eq!(Cents::checked_sum([]), Some(Cents::ZERO));
        let huge = [Cents::from_cents(i64::MAX), Cents::from_cents(1)];
        assert_eq!(Cents::checked_sum(huge), None);
        assert_eq!(huge.iter().sum::<Cents>(), Cents::from_cents(i64::MAX));
        let mut sorted = amounts;
        sorted.sort();
        assert_eq!(sorted.map(Cents::cents), [-50, 100, 250]);
        assert!(Cents::from_cents(-1) < Cents::ZERO);
    }

    #[test]
    fn serde_as_integer_cents() {
        assert_eq!(
            serde_json::to_string(&Cents::from_cents(102_099)).unwrap(),
            "102099"
        );
        assert_eq!(serde_json::to_string(&Cents::from_cents(-5)).unwrap(), "-5");
        let c: Cents = serde_json::from_str("102099").unwrap();
        assert_eq!(c, Cents::from_cents(102_099));
        assert!(serde_json::from_str::<Cents>("\"1.020,99\"").is_err());
        assert!(serde_json::from_str::<Cents>("10.5").is_err());
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(cents in any::<i64>()) {
            let amount = Cents::from_cents(cents);
            prop_assert_eq!(Cents::parse_it(&amount.to_string()), Ok(amount));
        }

        #[test]
        fn round_trip_without_euro_sign_or_grouping(cents in -10_000_000_000i64..10_000_000_000) {
            let amount = Cents::from_cents(cents);
            let plain = amount.to_string().replace(['.', '€', ' '], "");
            prop_assert_eq!(Cents::parse_it(&plain), Ok(amount));
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,30}") {
            let _ = Cents::parse_it(&text);
        }
    }
}
