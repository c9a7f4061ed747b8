//! Ravvedimento operoso (D.Lgs. 472/1997 art. 13; sanction of D.Lgs.
//! 471/1997 art. 13 as amended by D.Lgs. 87/2024 for violations from
//! 1 September 2024) and legal interest day by day (art. 1284 c.c.), for
//! a local tax paid late of one's own accord (`taxes-pagopa.md` §5.2-5.3).
//!
//! The reduced sanction is stored as a fraction of the tax — the base
//! sanction times the reduction, e.g. 25% × 1/8 — never as a rounded
//! percentage (DECISIONS 34). Interest is the legal rate of each calendar
//! year on the days late that fall in it, over 365 ("ratione temporis").
//! Sanction and interest go on the tax's own F24 line with "Ravv." ticked,
//! and the line is then rounded to the euro (L. 296/2006 c.166).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{Exact, it_date};
use crate::calendar::{Calendar, TermRule};
use crate::money::Cents;

/// The legal interest rate of a year, in hundredths of a percent
/// (`Some(160)` = 1,60%), as set by the decree of the Minister of the
/// Economy each December (art. 1284 c.c.). Years 2019-2026 from the
/// reference table (§5.3); 2014-2018 from the same decrees.
#[must_use]
pub fn tasso_legale(anno: i16) -> Option<u32> {
    Some(match anno {
        2014 => 100,
        2015 => 50,
        2016 => 20,
        2017 => 10,
        2018 => 30,
        2019 => 80,
        2020 => 5,
        2021 => 1,
        2022 => 125,
        2023 => 500,
        2024 => 250,
        2025 => 200,
        2026 => 160,
        _ => return None,
    })
}

/// The first day of violations under D.Lgs. 87/2024 (base sanction 25%
/// instead of 30%).
#[must_use]
pub fn inizio_nuovo_regime() -> Date {
    Date::constant(2024, 9, 1)
}

/// The band of lateness and its reduced sanction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fascia {
    /// Within 14 days: 1/15 of the halved sanction per day, reduced to
    /// 1/10 ("ravvedimento sprint").
    Sprint,
    /// 15-30 days: the halved sanction reduced to 1/10 (breve).
    Breve,
    /// 31-90 days: the halved sanction reduced to 1/9 (intermedio).
    Intermedio,
    /// Within one year of the deadline: 1/8 (lungo).
    EntroUnAnno,
    /// Within two years: 1/7.
    EntroDueAnni,
    /// Beyond two years: 1/7 for violations from 1/9/2024, 1/6 before.
    OltreDueAnni,
}

/// The computed ravvedimento of one late payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ravvedimento {
    /// The tax paid late.
    pub imposta: Cents,
    /// Its deadline.
    pub scadenza: Date,
    /// The day of payment.
    pub pagamento: Date,
    /// Days late.
    pub giorni: u32,
    /// The band.
    pub fascia: Fascia,
    /// The reduced sanction, to the cent.
    pub sanzione: Cents,
    /// The legal interest, to the cent.
    pub interessi: Cents,
    /// Tax + sanction + interest, to the cent (the F24 line before
    /// rounding to the euro).
    pub totale: Cents,
    /// The working, in Italian.
    pub passaggi: Vec<String>,
}

/// Why a ravvedimento cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RavvedimentoError {
    /// Paid on time: nothing to add.
    #[error("paid on time")]
    NonTardivo,
    /// The legal interest rate of a year is not known yet.
    #[error("no legal interest rate for {0}")]
    TassoMancante(i16),
}

impl crate::Coded for RavvedimentoError {
    fn code(&self) -> &'static str {
        match self {
            RavvedimentoError::NonTardivo => "ravvedimento_non_tardivo",
            RavvedimentoError::TassoMancante(_) => "ravvedimento_tasso_mancante",
        }
    }

    fn message_it(&self) -> String {
        match self {
            RavvedimentoError::NonTardivo => {
                "Il versamento è nei termini: non sono dovuti sanzioni né interessi".to_owned()
            }
            RavvedimentoError::TassoMancante(y) => format!(
                "Il tasso di interesse legale del {y} non è ancora disponibile: il ravvedimento non può essere calcolato"
            ),
        }
    }
}

fn days_between(a: Date, b: Date) -> i64 {
    a.until(b).map_or(0, |s| i64::from(s.get_days()))
}

/// The band and the sanction as a fraction of the tax, with its formula
/// in words.
fn sanction_fraction(scadenza: Date, pagamento: Date, giorni: i64) -> (Fascia, Exact, String) {
    let new = scadenza >= inizio_nuovo_regime();
    // Base sanction: 25% (from 1/9/2024) or 30% of the unpaid tax.
    let base = if new { 25 } else { 30 };
    let within = |years: i16| {
        scadenza
            .checked_add(jiff::Span::new().years(years))
            .is_ok_and(|limit| pagamento <= limit)
    };
    if giorni <= 14 {
        // Art. 13 c.1 D.Lgs. 471/1997: halved within 90 days, and 1/15
        // of that per day within 14; reduced to 1/10 (art. 13 c.1 lett. a
        // D.Lgs. 472/1997).
        let f = Exact::new(i128::from(base) * i128::from(giorni), 100 * 2 * 15 * 10);
        let text = format!("{base}% × 1/2 × {giorni}/15 × 1/10");
        (Fascia::Sprint, f, text)
    } else if giorni <= 30 {
        (
            Fascia::Breve,
            Exact::new(i128::from(base), 100 * 2 * 10),
            format!("{base}% × 1/2 × 1/10"),
        )
    } else if giorni <= 90 {
        (
            Fascia::Intermedio,
            Exact::new(i128::from(base), 100 * 2 * 9),
            format!("{base}% × 1/2 × 1/9"),
        )
    } else if within(1) {
        (
            Fascia::EntroUnAnno,
            Exact::new(i128::from(base), 100 * 8),
            format!("{base}% × 1/8"),
        )
    } else if within(2) || new {
        // From 1/9/2024 one band beyond the year: 1/7 (lett. b-bis as
        // amended); before, 1/7 within two years.
        let fascia = if within(2) {
            Fascia::EntroDueAnni
        } else {
            Fascia::OltreDueAnni
        };
        (
            fascia,
            Exact::new(i128::from(base), 100 * 7),
            format!("{base}% × 1/7"),
        )
    } else {
        (
            Fascia::OltreDueAnni,
            Exact::new(i128::from(base), 100 * 6),
            format!("{base}% × 1/6"),
        )
    }
}

/// The ravvedimento of `imposta` due on `scadenza` and paid on
/// `pagamento`. The deadline is first moved, as every tax payment
/// deadline, off a Saturday or a festivo of `calendar` to the next working
/// day (art. 7 c.1 lett. h D.L. 70/2011, DECISIONS 9): a payment on Monday
/// 17 June 2024 for Sunday 16 June is on time.
///
/// The 1/8 band runs for one year from the deadline: IMU has no periodic
/// declaration (one is due only when something changes, by 30 June of the
/// next year), so art. 13 c.1 lett. b D.Lgs. 472/1997 gives "entro un anno
/// dall'omissione".
///
/// # Errors
/// [`RavvedimentoError::NonTardivo`] when paid by the deadline;
/// [`RavvedimentoError::TassoMancante`] for a year without a legal rate.
pub fn calcola(
    imposta: Cents,
    scadenza: Date,
    pagamento: Date,
    calendar: &Calendar,
) -> Result<Ravvedimento, RavvedimentoError> {
    let scadenza = calendar
        .shift_term_end(scadenza, TermRule::TaxPayment)
        .unwrap_or(scadenza);
    let giorni = days_between(scadenza, pagamento);
    if giorni <= 0 {
        return Err(RavvedimentoError::NonTardivo);
    }
    let tax = Exact::cents(imposta);
    let (fascia, fraction, formula) = sanction_fraction(scadenza, pagamento, giorni);
    let sanzione = (tax * fraction).round_cents();
    let mut passaggi = vec![format!(
        "Imposta {imposta} con scadenza {}, versata il {}: {giorni} giorni di ritardo.",
        it_date(scadenza),
        it_date(pagamento)
    )];
    passaggi.push(format!(
        "Sanzione ridotta: {imposta} × {formula} = {sanzione} (art. 13 D.Lgs. 472/1997)."
    ));
    // Interest: the days after the deadline up to the payment, each at
    // the rate of its year, over 365.
    let mut interest = Exact::ZERO;
    let mut from = scadenza;
    while from < pagamento {
        // The days (from, to]: the year of the first of them.
        let year = from.tomorrow().map_or(from.year(), |d| d.year());
        let year_end = Date::new(year, 12, 31).unwrap_or(pagamento);
        let to = pagamento.min(year_end);
        let days = days_between(from, to);
        if days > 0 {
            let rate = tasso_legale(year).ok_or(RavvedimentoError::TassoMancante(year))?;
            let part = tax.scale(i128::from(rate) * i128::from(days), 10_000 * 365);
            passaggi.push(format!(
                "Interessi {year}: {imposta} × {},{:02}% × {days}/365 = {}.",
                rate / 100,
                rate % 100,
                part.round_cents()
            ));
            interest = interest + part;
        }
        from = to;
    }
    let interessi = interest.round_cents();
    let totale = Cents::from_cents(imposta.cents() + sanzione.cents() + interessi.cents());
    passaggi.push(format!(
        "Totale da versare sul codice tributo dell'imposta, barrando «Ravv.»: {totale}."
    ));
    Ok(Ravvedimento {
        imposta,
        scadenza,
        pagamento,
        giorni: u32::try_from(giorni).unwrap_or(u32::MAX),
        fascia,
        sanzione,
        interessi,
        totale,
        passaggi,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::tributi::round_euro;

    fn c(x: i64) -> Cents {
        Cents::from_cents(x)
    }

    #[test]
    fn example_i16() {
        // €500 due 16/06/2025, paid 16/07/2025: 30 days, 1.25% = 6.25;
        // interest 500 × 2% × 30/365 = 0.82; total 507.07, F24 507.
        let r = calcola(
            c(50_000),
            date(2025, 6, 16),
            date(2025, 7, 16),
            &Calendar::new(),
        )
        .unwrap();
        assert_eq!(r.giorni, 30);
        assert_eq!(r.fascia, Fascia::Breve);
        assert_eq!(r.sanzione, c(625));
        assert_eq!(r.interessi, c(82));
        assert_eq!(r.totale, c(50_707));
        assert_eq!(round_euro(r.totale), c(50_700));
        assert!(r.passaggi.join("\n").contains("25% × 1/2 × 1/10"));
    }

    #[test]
    fn bands_of_the_new_regime() {
        let due = date(2025, 12, 16);
        let tax = c(120_000); // €1,200
        let at = |d: Date| calcola(tax, due, d, &Calendar::new()).unwrap();
        // 10 days: 1,200 × 25% × 1/2 × 10/15 × 1/10 = 10.00.
        let r = at(date(2025, 12, 26));
        assert_eq!((r.fascia, r.sanzione), (Fascia::Sprint, c(1_000)));
        // 1 day: 1.00.
        assert_eq!(at(date(2025, 12, 17)).sanzione, c(100));
        // 14 days: 14.00; 15 days: the breve band, 1.25% = 15.00.
        assert_eq!(at(date(2025, 12, 30)).sanzione, c(1_400));
        assert_eq!(at(date(2025, 12, 31)).sanzione, c(1_500));
        // 31 days: 12.5% × 1/9 = 16.666… → 16.67.
        let r = at(date(2026, 1, 16));
        assert_eq!((r.fascia, r.sanzione), (Fascia::Intermedio, c(1_667)));
        // 91 days: 3.125% = 37.50.
        let r = at(date(2026, 3, 17));
        assert_eq!((r.fascia, r.sanzione), (Fascia::EntroUnAnno, c(3_750)));
        // A year to the day still is; one day more is 1/7 = 42.857… → 42.86.
        assert_eq!(at(date(2026, 12, 16)).fascia, Fascia::EntroUnAnno);
        let r = at(date(2026, 12, 17));
        assert_eq!((r.fascia, r.sanzione), (Fascia::EntroDueAnni, c(4_286)));
        // Beyond two years: still 1/7 in the new regime (1/6 before).
        let r = calcola(tax, date(2024, 9, 16), date(2026, 10, 1), &Calendar::new()).unwrap();
        assert_eq!((r.fascia, r.sanzione), (Fascia::OltreDueAnni, c(4_286)));
        // A year whose legal rate is not known yet: a clear error.
        let r = calcola(tax, due, date(2027, 1, 10), &Calendar::new());
        assert_eq!(r.err(), Some(RavvedimentoError::TassoMancante(2027)));
    }

    #[test]
    fn bands_of_the_old_regime() {
        // Due 16/06/2023 (before 1/9/2024): base 30%.
        let due = date(2023, 6, 16);
        let tax = c(100_000);
        let at = |d: Date| calcola(tax, due, d, &Calendar::new()).unwrap();
        // 5 days: 0.1% per day = 5.00.
        assert_eq!(at(date(2023, 6, 21)).sanzione, c(500));
        // 20 days: 1.5% = 15.00; 60 days: 1.666…% = 16.67.
        assert_eq!(at(date(2023, 7, 6)).sanzione, c(1_500));
        assert_eq!(at(date(2023, 8, 15)).sanzione, c(1_667));
        // 6 months: 3.75% = 37.50; 18 months: 1/7 of 30% = 42.86;
        // 30 months: 1/6 = 50.00.
        assert_eq!(at(date(2023, 12, 16)).sanzione, c(3_750));
        let r = at(date(2024, 12, 16));
        assert_eq!((r.fascia, r.sanzione), (Fascia::EntroDueAnni, c(4_286)));
        let r = at(date(2025, 12, 16));
        assert_eq!((r.fascia, r.sanzione), (Fascia::OltreDueAnni, c(5_000)));
    }

    #[test]
    fn interest_across_legal_rate_years() {
        // €1,000 due 16/12/2022, paid 16/02/2023: 15 days in 2022 at
        // 1.25% (0.5137) and 47 days in 2023 at 5% (6.4384): 6.95.
        let r = calcola(
            c(100_000),
            date(2022, 12, 16),
            date(2023, 2, 16),
            &Calendar::new(),
        )
        .unwrap();
        assert_eq!(r.giorni, 62);
        assert_eq!(r.interessi, c(695));
        let w = r.passaggi.join("\n");
        assert!(w.contains("Interessi 2022") && w.contains("15/365"), "{w}");
        assert!(w.contains("Interessi 2023") && w.contains("47/365"), "{w}");
        // On time: nothing.
        assert_eq!(
            calcola(
                c(100_000),
                date(2025, 6, 16),
                date(2025, 6, 16),
                &Calendar::new()
            ),
            Err(RavvedimentoError::NonTardivo)
        );
        // Sunday 16 June 2024: the deadline is Monday 17 June; paid then,
        // on time; paid on Tuesday, one day late.
        let cal = Calendar::new();
        assert_eq!(
            calcola(c(100_000), date(2024, 6, 16), date(2024, 6, 17), &cal),
            Err(RavvedimentoError::NonTardivo)
        );
        let r = calcola(c(100_000), date(2024, 6, 16), date(2024, 6, 18), &cal).unwrap();
        assert_eq!((r.giorni, r.scadenza), (1, date(2024, 6, 17)));
        // Saturday 16 December 2023 → Monday 18 December.
        let r = calcola(c(100_000), date(2023, 12, 16), date(2023, 12, 19), &cal).unwrap();
        assert_eq!(r.giorni, 1);
    }
}
