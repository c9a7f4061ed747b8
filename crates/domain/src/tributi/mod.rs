//! Local taxes (issue 7): the exact arithmetic they share, the whole-euro
//! rounding of an F24 line, the possession months of L. 160/2019 c.761,
//! the F24 lines ([`f24`]) and the calculators: [`imu`], [`tari`] (with TEFA), [`canone`] (canone
//! unico patrimoniale) and [`ravvedimento`] (late payment with sanctions
//! and legal interest).
//!
//! Every amount is computed exactly as a fraction ([`Exact`]) from integer
//! cents and integer rates, and rounded only where the law says: to the
//! cent (half up) to show a figure, and to the whole euro per F24 line to
//! pay it ([`round_euro`], L. 296/2006 art. 1 c.166). No floating point.

pub mod canone;
pub mod f24;
pub mod import;
pub mod imu;
pub mod occupazioni;
pub mod ravvedimento;
pub mod situazione;
pub mod tari;
pub mod utenze;
pub mod versamenti;

use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, Mul, Sub};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::Coded;
use crate::money::Cents;

/// An exact amount of cents: a fraction `num / den` with `den > 0`.
/// Products of rendite, coefficients, rates, shares and months stay well
/// inside `i128`; the fraction is reduced only when its terms pass 2^64
/// (reducing costs a GCD, and the calculators do millions of operations),
/// and equality and order compare values, not terms.
#[derive(Debug, Clone, Copy)]
pub struct Exact {
    num: i128,
    den: i128,
}

/// Binary GCD (Stein's algorithm): no divisions, which on `i128` are
/// slow; never 0 (so it can always divide).
fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    if a == 0 || b == 0 {
        return i128::try_from((a | b).max(1)).unwrap_or(1);
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            break;
        }
    }
    i128::try_from(a << shift).unwrap_or(1)
}

impl Exact {
    /// Zero.
    pub const ZERO: Exact = Exact { num: 0, den: 1 };

    /// `num / den` cents.
    ///
    /// # Panics
    /// If `den` is zero (a programming error: every divisor here is a
    /// constant or a validated share).
    #[must_use]
    pub fn new(num: i128, den: i128) -> Exact {
        assert!(den != 0, "Exact with a zero denominator");
        let (num, den) = if den < 0 { (-num, -den) } else { (num, den) };
        if den == 1 {
            return Exact { num, den };
        }
        let g = gcd(num, den);
        if g == 1 {
            return Exact { num, den };
        }
        Exact {
            num: num / g,
            den: den / g,
        }
    }

    /// A whole number of cents.
    #[must_use]
    pub fn cents(c: Cents) -> Exact {
        Exact::new(i128::from(c.cents()), 1)
    }

    /// `self × num / den`.
    #[must_use]
    pub fn scale(self, num: i128, den: i128) -> Exact {
        self * Exact::new(num, den)
    }

    /// Rounded to the cent, half up (away from zero at exactly half).
    #[must_use]
    pub fn round_cents(self) -> Cents {
        let twice = 2 * self.num.abs() + self.den;
        let r = twice / (2 * self.den);
        let r = if self.num < 0 { -r } else { r };
        Cents::from_cents(i64::try_from(r).unwrap_or(i64::MAX))
    }

    /// Is it zero?
    #[must_use]
    pub fn is_zero(self) -> bool {
        self.num == 0
    }

    /// The larger of the two.
    #[must_use]
    pub fn max(self, other: Exact) -> Exact {
        if self >= other { self } else { other }
    }

    /// The smaller of the two.
    #[must_use]
    pub fn min(self, other: Exact) -> Exact {
        if self <= other { self } else { other }
    }
}

/// Terms above this are reduced after an operation.
const REDUCE_ABOVE: u128 = 1 << 64;

impl Exact {
    /// `num / den` (`den > 0`), reduced only when a term is large.
    fn lazy(num: i128, den: i128) -> Exact {
        if num.unsigned_abs() > REDUCE_ABOVE || den.unsigned_abs() > REDUCE_ABOVE {
            Exact::new(num, den)
        } else {
            Exact { num, den }
        }
    }

    /// The reduced form.
    fn reduced(self) -> Exact {
        Exact::new(self.num, self.den)
    }
}

impl PartialEq for Exact {
    fn eq(&self, other: &Exact) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Exact {}

impl PartialOrd for Exact {
    fn partial_cmp(&self, other: &Exact) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Exact {
    fn cmp(&self, other: &Exact) -> Ordering {
        match (
            self.num.checked_mul(other.den),
            other.num.checked_mul(self.den),
        ) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => {
                let (a, b) = (self.reduced(), other.reduced());
                (a.num * b.den).cmp(&(b.num * a.den))
            }
        }
    }
}

impl Add for Exact {
    type Output = Exact;
    fn add(self, o: Exact) -> Exact {
        if self.den == o.den
            && let Some(n) = self.num.checked_add(o.num)
        {
            return Exact::lazy(n, self.den);
        }
        match (
            self.num.checked_mul(o.den),
            o.num.checked_mul(self.den),
            self.den.checked_mul(o.den),
        ) {
            (Some(a), Some(b), Some(d)) if a.checked_add(b).is_some() => Exact::lazy(a + b, d),
            _ => {
                let (a, b) = (self.reduced(), o.reduced());
                Exact::new(a.num * b.den + b.num * a.den, a.den * b.den)
            }
        }
    }
}

impl Sub for Exact {
    type Output = Exact;
    fn sub(self, o: Exact) -> Exact {
        self + Exact {
            num: -o.num,
            den: o.den,
        }
    }
}

impl Mul for Exact {
    type Output = Exact;
    fn mul(self, o: Exact) -> Exact {
        if let (Some(n), Some(d)) = (self.num.checked_mul(o.num), self.den.checked_mul(o.den)) {
            return Exact::lazy(n, d);
        }
        // Cross-reduce first to keep the numbers small.
        let (a, b) = (self.reduced(), o.reduced());
        let g1 = gcd(a.num, b.den);
        let g2 = gcd(b.num, a.den);
        Exact::new((a.num / g1) * (b.num / g2), (a.den / g2) * (b.den / g1))
    }
}

impl std::iter::Sum for Exact {
    fn sum<I: Iterator<Item = Exact>>(iter: I) -> Exact {
        iter.fold(Exact::ZERO, |a, b| a + b)
    }
}

/// L. 296/2006 art. 1 c.166: a local tax is paid in whole euro, a
/// fraction up to 49 cents rounding down and from 50 cents up. Applied to
/// each F24 line (each codice tributo), never to the total; the line's
/// amount is first rounded to the cent, the figure the taxpayer is shown.
#[must_use]
pub fn round_euro(amount: Cents) -> Cents {
    let c = amount.cents();
    let euros = (c.abs() + 50) / 100;
    Cents::from_cents(if c < 0 { -euros * 100 } else { euros * 100 })
}

/// An ownership share `num/den` (1/1 full ownership, 1/2, 1/3, 50/100…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Quota {
    num: u32,
    den: u32,
}

/// Why a share, a rate or a date range is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TributiError {
    /// Not a share `n/d` or a percentage in (0, 100].
    #[error("invalid ownership share {0:?}")]
    Quota(String),
    /// Not a rate in per mille with at most two decimals.
    #[error("invalid rate {0:?}")]
    Aliquota(String),
    /// A rate outside the range the law lets the comune set.
    #[error("rate {value} for {what} outside {min}–{max} per mille")]
    AliquotaFuoriRange {
        /// The kind of object.
        what: &'static str,
        /// The rate, e.g. "11,50‰".
        value: String,
        /// The lower bound.
        min: String,
        /// The upper bound.
        max: String,
    },
    /// A period that ends before it starts.
    #[error("period ends on {end} before it starts on {start}")]
    Periodo {
        /// First day.
        start: Date,
        /// Last day.
        end: Date,
    },
    /// The rules of that year are not known (IMU exists from 2020).
    #[error("no IMU rules for {0}")]
    Anno(i16),
    /// Not a cadastral category such as `A/2` or `D/10`.
    #[error("invalid cadastral category {0:?}")]
    Categoria(String),
    /// No rates were entered for the year.
    #[error("no rates for {0}")]
    AliquoteMancanti(i16),
    /// Not a tariff in euro with up to four decimals.
    #[error("invalid tariff {0:?}")]
    Tariffa(String),
    /// A TARI category (or household size) without a tariff.
    #[error("no TARI tariff for category {0}")]
    CategoriaTari(u8),
    /// TARI tariffs without any due date.
    #[error("no TARI due dates for {0}")]
    ScadenzeTari(i16),
    /// TARI tariffs the delibera cannot hold (the problem, in Italian).
    #[error("invalid TARI tariffs: {0}")]
    TariffeTari(String),
    /// Canone unico coefficients the delibera cannot hold (the problem, in
    /// Italian).
    #[error("invalid canone unico tariffs: {0}")]
    TariffeCanone(String),
}

impl Coded for TributiError {
    fn code(&self) -> &'static str {
        match self {
            TributiError::Quota(_) => "tributi_quota",
            TributiError::Aliquota(_) => "tributi_aliquota",
            TributiError::AliquotaFuoriRange { .. } => "tributi_aliquota_fuori_range",
            TributiError::Periodo { .. } => "tributi_periodo",
            TributiError::Anno(_) => "tributi_anno",
            TributiError::Categoria(_) => "tributi_categoria",
            TributiError::AliquoteMancanti(_) => "tributi_aliquote_mancanti",
            TributiError::Tariffa(_) => "tributi_tariffa",
            TributiError::CategoriaTari(_) => "tributi_categoria_tari",
            TributiError::ScadenzeTari(_) => "tributi_scadenze_tari",
            TributiError::TariffeTari(_) => "tributi_tariffe_tari",
            TributiError::TariffeCanone(_) => "tributi_tariffe_canone",
        }
    }

    fn message_it(&self) -> String {
        match self {
            TributiError::Quota(s) => format!(
                "La quota di possesso «{s}» non è valida: scrivere una frazione (1/2) o una percentuale fino a 100"
            ),
            TributiError::Aliquota(s) => format!(
                "L'aliquota «{s}» non è valida: scrivere il valore per mille con al massimo due decimali (10,6)"
            ),
            TributiError::AliquotaFuoriRange {
                what,
                value,
                min,
                max,
            } => format!(
                "L'aliquota {value} per {what} è fuori dai limiti di legge ({min}–{max}, L. 160/2019 cc. 748-754)"
            ),
            TributiError::Periodo { start, end } => format!(
                "Il periodo termina il {} prima di iniziare il {}",
                crate::tributi::it_date(*end),
                crate::tributi::it_date(*start)
            ),
            TributiError::Anno(y) => format!(
                "Il calcolo dell'IMU è disponibile dal 2020 (L. 160/2019); l'anno {y} non è gestito"
            ),
            TributiError::Categoria(s) => format!(
                "La categoria catastale «{s}» non è valida: scrivere ad esempio A/2, C/6 o D/10"
            ),
            TributiError::AliquoteMancanti(y) => {
                format!("Le aliquote IMU del {y} non sono ancora state inserite dal Comune")
            }
            TributiError::Tariffa(s) => format!(
                "La tariffa «{s}» non è valida: scrivere l'importo in euro con al massimo quattro decimali (0,4460)"
            ),
            TributiError::CategoriaTari(0) => {
                "Le tariffe TARI delle utenze domestiche non sono state inserite".to_owned()
            }
            TributiError::CategoriaTari(c) => {
                format!("Per la categoria TARI {c} non è stata approvata una tariffa")
            }
            TributiError::ScadenzeTari(y) => {
                format!("Le scadenze delle rate TARI del {y} non sono state inserite")
            }
            TributiError::TariffeTari(s) => format!("Tariffe TARI non valide: {s}"),
            TributiError::TariffeCanone(s) => {
                format!("Coefficienti del canone unico non validi: {s}")
            }
        }
    }
}

impl Quota {
    /// Full ownership.
    pub const INTERA: Quota = Quota { num: 1, den: 1 };

    /// `num/den`, with `0 < num ≤ den`.
    ///
    /// # Errors
    /// [`TributiError::Quota`] otherwise.
    pub fn new(num: u32, den: u32) -> Result<Quota, TributiError> {
        if num == 0 || den == 0 || num > den {
            return Err(TributiError::Quota(format!("{num}/{den}")));
        }
        let g = u32::try_from(gcd(i128::from(num), i128::from(den))).unwrap_or(1);
        Ok(Quota {
            num: num / g,
            den: den / g,
        })
    }

    /// Reads `1/2`, `50`, `50%`, `33,33` (a percentage with up to two
    /// decimals) or `100`.
    ///
    /// # Errors
    /// [`TributiError::Quota`] for anything else.
    pub fn parse(s: &str) -> Result<Quota, TributiError> {
        let bad = || TributiError::Quota(s.to_owned());
        let t = s.trim();
        if let Some((n, d)) = t.split_once('/') {
            let n = n.trim().parse().map_err(|_| bad())?;
            let d = d.trim().parse().map_err(|_| bad())?;
            return Quota::new(n, d).map_err(|_| bad());
        }
        let t = t.trim_end_matches('%').trim().replace(',', ".");
        let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
        if frac.len() > 2
            || int.is_empty()
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let hundredths: u32 = format!("{int}{frac:0<2}").parse().map_err(|_| bad())?;
        Quota::new(hundredths, 10_000).map_err(|_| bad())
    }

    /// The numerator.
    #[must_use]
    pub fn num(self) -> u32 {
        self.num
    }

    /// The denominator.
    #[must_use]
    pub fn den(self) -> u32 {
        self.den
    }

    /// As a percentage for display: `50%`, `33,33%`.
    #[must_use]
    pub fn percent_it(self) -> String {
        let hundredths = Exact::new(i128::from(self.num) * 10_000, i128::from(self.den));
        let c = hundredths.round_cents().cents();
        if c % 100 == 0 {
            format!("{}%", c / 100)
        } else {
            format!("{},{:02}%", c / 100, c % 100)
        }
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

impl From<Quota> for String {
    fn from(q: Quota) -> String {
        q.to_string()
    }
}

impl TryFrom<String> for Quota {
    type Error = TributiError;
    fn try_from(s: String) -> Result<Quota, TributiError> {
        Quota::parse(&s)
    }
}

/// A rate in hundredths of per mille: `Aliquota(1060)` is 10,6‰ (1,06%).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Aliquota(pub u32);

impl Aliquota {
    /// Reads `10,6`, `10.6`, `7,6‰`, `0` (per mille, at most two decimals).
    ///
    /// # Errors
    /// [`TributiError::Aliquota`] otherwise.
    pub fn parse_per_mille(s: &str) -> Result<Aliquota, TributiError> {
        let bad = || TributiError::Aliquota(s.to_owned());
        let t = s.trim().trim_end_matches('‰').trim().replace(',', ".");
        let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
        if frac.len() > 2
            || int.is_empty()
            || int.len() > 3
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        format!("{int}{frac:0<2}")
            .parse()
            .map(Aliquota)
            .map_err(|_| bad())
    }

    /// `amount × rate` exactly.
    #[must_use]
    pub fn apply(self, amount: Exact) -> Exact {
        amount.scale(i128::from(self.0), 100_000)
    }

    /// `10,6‰`.
    #[must_use]
    pub fn it(self) -> String {
        let (i, f) = (self.0 / 100, self.0 % 100);
        match f {
            0 => format!("{i}‰"),
            f if f % 10 == 0 => format!("{i},{}‰", f / 10),
            f => format!("{i},{f:02}‰"),
        }
    }
}

/// `16/06/2026`.
#[must_use]
pub fn it_date(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), d.month(), d.year())
}

/// Italian month names, for the working shown to the citizen.
pub const MESI: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];

/// The months of `year` a possession from `start` to `end` (both
/// included; `None`: still held) counts for, under L. 160/2019 art. 1
/// c.761: a month counts when possession lasted more than half of its
/// days; the day of the transfer is the acquirer's, and when acquirer and
/// transferor held it for the same number of days the month is the
/// acquirer's. So a holder whose possession begins after the 1st of a
/// month gets it at exactly half, one who held it from the 1st does not.
///
/// # Errors
/// [`TributiError::Periodo`] when `end` is before `start`.
pub fn mesi_di_possesso(
    year: i16,
    start: Date,
    end: Option<Date>,
) -> Result<[bool; 12], TributiError> {
    if let Some(e) = end
        && e < start
    {
        return Err(TributiError::Periodo { start, end: e });
    }
    // The common cases first: held all year, or not at all.
    if let (Ok(first), Ok(last)) = (Date::new(year, 1, 1), Date::new(year, 12, 31)) {
        if start <= first && end.is_none_or(|e| e >= last) {
            return Ok([true; 12]);
        }
        if start > last || end.is_some_and(|e| e < first) {
            return Ok([false; 12]);
        }
    }
    let mut out = [false; 12];
    for (i, slot) in out.iter_mut().enumerate() {
        let month = i8::try_from(i + 1).unwrap_or(1);
        let Ok(first) = Date::new(year, month, 1) else {
            continue;
        };
        let dim = i32::from(first.days_in_month());
        let Ok(last) = Date::new(year, month, first.days_in_month()) else {
            continue;
        };
        let from = start.max(first);
        let to = end.map_or(last, |e| e.min(last));
        if to < from {
            continue;
        }
        let days = i32::from(to.day()) - i32::from(from.day()) + 1;
        let acquired_in_month = start > first;
        *slot = 2 * days > dim || (2 * days == dim && acquired_in_month);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn euro_rounding_per_line() {
        // L. 296/2006 c.166, example I-8: 0.49 down, 0.50 up.
        let r = |c| round_euro(Cents::from_cents(c)).cents();
        assert_eq!(r(20_050), 20_100);
        assert_eq!(r(6_050), 6_100);
        assert_eq!(r(12_049), 12_000);
        assert_eq!(r(12_050), 12_100);
        assert_eq!(r(0), 0);
        assert_eq!(r(49), 0);
        assert_eq!(r(-12_050), -12_100);
        // Rounding the two lines of I-8 separately gives 262, their sum
        // 261.
        assert_eq!(r(20_050) + r(6_050), 26_200);
        assert_eq!(r(20_050 + 6_050), 26_100);
    }

    #[test]
    fn exact_arithmetic_rounds_half_up_once() {
        // I-11: 86,625.00 × 10.6‰ = 918.225 → 918.23.
        let base = Exact::cents(Cents::from_cents(8_662_500));
        let tax = Aliquota(1060).apply(base);
        assert_eq!(tax, Exact::new(183_645, 2)); // 91,822.5 cents
        assert_eq!(tax.round_cents(), Cents::from_cents(91_823));
        assert_eq!(round_euro(tax.round_cents()), Cents::from_cents(91_800));
        assert_eq!(Exact::new(-5, 2).round_cents(), Cents::from_cents(-3));
        assert_eq!(Exact::new(1, 3) + Exact::new(2, 3), Exact::new(1, 1));
        assert!(Exact::new(1, 3) < Exact::new(1, 2));
    }

    #[test]
    fn shares_and_rates_parse() {
        assert_eq!(Quota::parse("1/2").unwrap(), Quota::new(1, 2).unwrap());
        assert_eq!(Quota::parse("50").unwrap(), Quota::new(1, 2).unwrap());
        assert_eq!(Quota::parse("50%").unwrap(), Quota::new(1, 2).unwrap());
        assert_eq!(
            Quota::parse("33,33").unwrap(),
            Quota::new(3333, 10_000).unwrap()
        );
        assert_eq!(Quota::parse("100").unwrap(), Quota::INTERA);
        for bad in ["0", "0/3", "3/2", "101", "12,345", "", "abc", "1/0"] {
            assert!(Quota::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Quota::new(1, 3).unwrap().percent_it(), "33,33%");
        assert_eq!(Aliquota::parse_per_mille("10,6").unwrap(), Aliquota(1060));
        assert_eq!(Aliquota::parse_per_mille("7.6‰").unwrap(), Aliquota(760));
        assert_eq!(Aliquota::parse_per_mille("0").unwrap(), Aliquota(0));
        assert_eq!(Aliquota::parse_per_mille("11,45").unwrap(), Aliquota(1145));
        assert_eq!(Aliquota(1060).it(), "10,6‰");
        assert_eq!(Aliquota(1145).it(), "11,45‰");
        assert_eq!(Aliquota(500).it(), "5‰");
        for bad in ["", "1,234", "-1", "x", "1000"] {
            assert!(Aliquota::parse_per_mille(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn months_of_possession_c761() {
        let all = mesi_di_possesso(2026, date(2026, 1, 1), None).unwrap();
        assert_eq!(all, [true; 12]);
        // I-6: a deed on the 16th of a 30-day month (April): seller 1–15,
        // buyer 16–30, 15 days each: the buyer's month.
        let seller = mesi_di_possesso(2026, date(2025, 3, 1), Some(date(2026, 4, 15))).unwrap();
        let buyer = mesi_di_possesso(2026, date(2026, 4, 16), None).unwrap();
        assert_eq!(seller.iter().filter(|m| **m).count(), 3);
        assert!(!seller[3] && buyer[3]);
        assert_eq!(buyer.iter().filter(|m| **m).count(), 9);
        // I-6: a deed on 15 February of a non-leap year: 14 days each, the
        // buyer's; in a leap year (29 days) the buyer has 15 of 29, still
        // the buyer's; a deed on the 16th leaves the buyer 14 of 29: the
        // seller's.
        assert!(mesi_di_possesso(2026, date(2026, 2, 15), None).unwrap()[1]);
        assert!(!mesi_di_possesso(2026, date(2020, 1, 1), Some(date(2026, 2, 14))).unwrap()[1]);
        assert!(mesi_di_possesso(2028, date(2028, 2, 15), None).unwrap()[1]);
        assert!(!mesi_di_possesso(2028, date(2028, 2, 16), None).unwrap()[1]);
        assert!(mesi_di_possesso(2028, date(2020, 1, 1), Some(date(2028, 2, 15))).unwrap()[1]);
        // A 31-day month: 16 days are more than half for either side.
        assert!(mesi_di_possesso(2026, date(2026, 1, 16), None).unwrap()[0]);
        assert!(!mesi_di_possesso(2026, date(2026, 1, 17), None).unwrap()[0]);
        assert!(mesi_di_possesso(2026, date(2020, 1, 1), Some(date(2026, 1, 16))).unwrap()[0]);
        // Outside the year: nothing; a reversed period is an error.
        assert_eq!(
            mesi_di_possesso(2026, date(2027, 1, 1), None).unwrap(),
            [false; 12]
        );
        assert!(mesi_di_possesso(2026, date(2026, 5, 1), Some(date(2026, 4, 1))).is_err());
        // Every day of the year goes to exactly one of seller and buyer.
        for day in 1..=365 {
            let deed = date(2026, 1, 1)
                .checked_add(jiff::Span::new().days(day))
                .unwrap();
            let s =
                mesi_di_possesso(2026, date(2020, 1, 1), Some(deed.yesterday().unwrap())).unwrap();
            let b = mesi_di_possesso(2026, deed, None).unwrap();
            for m in 0..12 {
                assert!(!(s[m] && b[m]), "{deed}: month {m} counted twice");
                assert!(s[m] || b[m], "{deed}: month {m} counted for nobody");
            }
        }
    }
}
