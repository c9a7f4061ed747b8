//! Canone unico patrimoniale for the occupation of public land (L.
//! 160/2019 cc.816-836, from 2021; it replaced TOSAP and COSAP):
//! permanent occupations by the year, temporary ones by the day, each as
//! `standard tariff × zone coefficient × category coefficient × m²`
//! (× days), the standard tariff set by the law for the comune's size
//! (cc.826-827) and the coefficients by the comune's regolamento
//! (`taxes-pagopa.md` §3).
//!
//! Surfaces are rounded up to the half square metre, and below one square
//! metre count as one (the usual regolamento rule, e.g. Ancona art. 26).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{Exact, TributiError, it_date};
use crate::money::Cents;

/// The standard tariffs of cc.826-827 for a comune of `abitanti`
/// inhabitants: (annual €/m², daily €/m²), in cents.
#[must_use]
pub fn tariffe_standard(abitanti: u32) -> (Cents, Cents) {
    let (annua, giornaliera) = match abitanti {
        0..=10_000 => (3_000, 60),
        10_001..=30_000 => (4_000, 70),
        30_001..=100_000 => (5_000, 120),
        100_001..=500_000 => (6_000, 130),
        _ => (7_000, 200),
    };
    (Cents::from_cents(annua), Cents::from_cents(giornaliera))
}

/// A coefficient in thousandths (`Coefficiente(323)` is 0,323).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Coefficiente(pub u32);

impl Coefficiente {
    /// 1,000.
    pub const UNO: Coefficiente = Coefficiente(1_000);

    fn it(self) -> String {
        format!("{},{:03}", self.0 / 1_000, self.0 % 1_000)
    }
}

/// An occupation of public land.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occupazione {
    /// What it is: "passo carrabile", "ponteggio", "dehors".
    pub descrizione: String,
    /// Surface in hundredths of a square metre (as measured).
    pub superficie_cm2: u32,
    /// The road's class coefficient.
    pub zona: Coefficiente,
    /// The category's coefficient (permanent or temporary, as the
    /// regolamento sets).
    pub categoria: Coefficiente,
    /// Permanent (by the year) or temporary (by the day).
    pub permanente: bool,
    /// First day.
    pub dal: Date,
    /// Last day (`None`: a permanent one still running).
    pub al: Option<Date>,
}

/// The canone of one occupation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalcoloCanone {
    /// The surface charged, in hundredths of m² (rounded up to 0,5 m²).
    pub superficie_cm2: u32,
    /// Days charged (temporary) or days of the year (permanent).
    pub giorni: u32,
    /// The canone, to the cent.
    pub importo: Cents,
    /// The working, in Italian.
    pub passaggi: Vec<String>,
}

/// Rounds a surface up to the half square metre, at least one.
#[must_use]
pub fn superficie_tassabile(cm2: u32) -> u32 {
    cm2.max(100).div_ceil(50) * 50
}

fn m2_it(cm2: u32) -> String {
    if cm2.is_multiple_of(100) {
        format!("{} m²", cm2 / 100)
    } else {
        format!("{},{} m²", cm2 / 100, (cm2 % 100) / 10)
    }
}

/// The canone of `o` for year `anno` in a comune of `abitanti`.
///
/// # Errors
/// [`TributiError::Periodo`] for a reversed period.
pub fn calcola(o: &Occupazione, anno: i16, abitanti: u32) -> Result<CalcoloCanone, TributiError> {
    if let Some(e) = o.al
        && e < o.dal
    {
        return Err(TributiError::Periodo {
            start: o.dal,
            end: e,
        });
    }
    let (annua, giornaliera) = tariffe_standard(abitanti);
    let cm2 = superficie_tassabile(o.superficie_cm2);
    let first = Date::new(anno, 1, 1).map_err(|_| TributiError::Anno(anno))?;
    let last = Date::new(anno, 12, 31).map_err(|_| TributiError::Anno(anno))?;
    let from = o.dal.max(first);
    let to = o.al.map_or(last, |a| a.min(last));
    let days = if to < from {
        0
    } else {
        from.until(to).map_or(0, |s| s.get_days()) + 1
    };
    let days = u32::try_from(days).unwrap_or(0);
    let year_days = if Date::new(anno, 2, 29).is_ok() {
        366
    } else {
        365
    };
    let coeff = Exact::new(i128::from(o.zona.0) * i128::from(o.categoria.0), 1_000_000);
    let m2 = Exact::new(i128::from(cm2), 100);
    let mut passaggi = vec![format!(
        "{}: superficie {} (arrotondata al mezzo metro quadro superiore, minimo 1 m²)",
        o.descrizione,
        m2_it(cm2)
    )];
    let importo = if o.permanente {
        let full = Exact::cents(annua) * coeff * m2;
        passaggi.push(format!(
            "Occupazione permanente: tariffa standard annua {annua}/m² (L. 160/2019 c. 826) × coefficiente di zona {} × coefficiente di categoria {} × {} = {}",
            o.zona.it(),
            o.categoria.it(),
            m2_it(cm2),
            full.round_cents()
        ));
        if days == year_days {
            full
        } else {
            let part = full.scale(i128::from(days), i128::from(year_days));
            passaggi.push(format!(
                "Dal {} al {}: {days} giorni su {year_days} = {}",
                it_date(from),
                it_date(to),
                part.round_cents()
            ));
            part
        }
    } else {
        let v = Exact::cents(giornaliera) * coeff * m2 * Exact::new(i128::from(days), 1);
        passaggi.push(format!(
            "Occupazione temporanea dal {} al {}: tariffa standard giornaliera {giornaliera}/m² (c. 827) × coefficiente di zona {} × coefficiente di categoria {} × {} × {days} giorni = {}",
            it_date(from),
            it_date(to),
            o.zona.it(),
            o.categoria.it(),
            m2_it(cm2),
            v.round_cents()
        ));
        v
    };
    Ok(CalcoloCanone {
        superficie_cm2: cm2,
        giorni: days,
        importo: importo.round_cents(),
        passaggi,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn example_c1_scaffolding() {
        // C-1: class 30,001-100,000 (daily €1.20), scaffolding 0.323, zone
        // 1.0, 20 m², 30 days: 232.56.
        let o = Occupazione {
            descrizione: "Ponteggio".into(),
            superficie_cm2: 2_000,
            zona: Coefficiente::UNO,
            categoria: Coefficiente(323),
            permanente: false,
            dal: date(2026, 3, 1),
            al: Some(date(2026, 3, 30)),
        };
        let c = calcola(&o, 2026, 100_000).unwrap();
        assert_eq!((c.giorni, c.importo), (30, Cents::from_cents(23_256)));
    }

    #[test]
    fn example_c2_passo_carrabile() {
        // C-2: permanent, 0.420, 5 m², zone 1.0: 50 × 0.420 × 5 = 105.00.
        let o = Occupazione {
            descrizione: "Passo carrabile".into(),
            superficie_cm2: 500,
            zona: Coefficiente::UNO,
            categoria: Coefficiente(420),
            permanente: true,
            dal: date(2020, 1, 1),
            al: None,
        };
        let c = calcola(&o, 2026, 50_000).unwrap();
        assert_eq!(c.importo, Cents::from_cents(10_500));
        // Casamassima's class (19,200 inhabitants): €40/year.
        let c = calcola(&o, 2026, 19_200).unwrap();
        assert_eq!(c.importo, Cents::from_cents(8_400));
        // From 1 July: 184/365 of it.
        let o = Occupazione {
            dal: date(2026, 7, 1),
            ..o
        };
        let c = calcola(&o, 2026, 50_000).unwrap();
        assert_eq!(c.importo, Cents::from_cents(5_293)); // 52.931…
    }

    #[test]
    fn surfaces_round_up_to_half_a_metre() {
        assert_eq!(superficie_tassabile(30), 100);
        assert_eq!(superficie_tassabile(100), 100);
        assert_eq!(superficie_tassabile(101), 150);
        assert_eq!(superficie_tassabile(1_250), 1_250);
        assert_eq!(superficie_tassabile(1_251), 1_300);
        assert_eq!(tariffe_standard(10_000).1, Cents::from_cents(60));
        assert_eq!(tariffe_standard(10_001).1, Cents::from_cents(70));
        assert_eq!(tariffe_standard(600_000).0, Cents::from_cents(7_000));
    }
}
