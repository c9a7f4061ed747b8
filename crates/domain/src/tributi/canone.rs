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
//!
//! The coefficients are the comune's: [`TariffeCanone`] holds, for a year
//! and with its delibera, the zones (road classes) and the categories of
//! occupation with their permanent and temporary coefficients, and the
//! due dates of the permanent occupations' yearly canone.

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

    /// The largest coefficient a regolamento may set here: 20,000 (beyond
    /// any real one; it keeps the products far inside the cents' range).
    pub const MASSIMO: Coefficiente = Coefficiente(20_000);

    /// `0,420` in Italian.
    #[must_use]
    pub fn it(self) -> String {
        format!("{},{:03}", self.0 / 1_000, self.0 % 1_000)
    }
}

/// A zone of the comune's roads (the regolamento's classification of the
/// territory by importance, c.817) with its coefficient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZonaCanone {
    /// The code the occupations file uses, e.g. `1` or `centro`.
    pub codice: String,
    /// What it is, e.g. "Centro storico".
    pub descrizione: String,
    /// Its coefficient.
    pub coefficiente: Coefficiente,
}

/// A category of occupation of the regolamento with its coefficients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoriaCanone {
    /// The code the occupations file uses, e.g. `passo_carrabile`.
    pub codice: String,
    /// What it is, e.g. "Passi carrabili".
    pub descrizione: String,
    /// The coefficient of a permanent occupation (by the year).
    pub permanente: Coefficiente,
    /// The coefficient of a temporary occupation (by the day).
    pub temporanea: Coefficiente,
}

/// The canone's coefficients a comune approves for a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffeCanone {
    /// The year.
    pub anno: i16,
    /// The delibera that approved them.
    pub delibera: String,
    /// The zones.
    pub zone: Vec<ZonaCanone>,
    /// The categories of occupation.
    pub categorie: Vec<CategoriaCanone>,
    /// The due dates of the permanent occupations' yearly canone (one:
    /// rata unica). A temporary occupation is due on its first day.
    pub scadenze: Vec<Date>,
}

/// Whether `codice` can name a zone or a category: lower-case letters,
/// digits, `_` and `-`, 1 to 40.
#[must_use]
pub fn codice_valido(codice: &str) -> bool {
    super::tari::codice_riduzione_valido(codice)
}

impl TariffeCanone {
    /// Checks what a delibera can hold: at least one zone and one
    /// category, codes valid and each once, coefficients from 0,001 to
    /// 20,000, one to twelve due dates in order, none before the year.
    ///
    /// # Errors
    /// [`TributiError::TariffeCanone`] naming the problem, in Italian.
    pub fn valida(&self) -> Result<(), TributiError> {
        let bad = |s: String| Err(TributiError::TariffeCanone(s));
        if self.zone.is_empty() {
            return bad("indica almeno una zona con il suo coefficiente".into());
        }
        if self.categorie.is_empty() {
            return bad("indica almeno una categoria di occupazione".into());
        }
        let coefficiente = |c: Coefficiente| (1..=Coefficiente::MASSIMO.0).contains(&c.0);
        let mut seen = std::collections::BTreeSet::new();
        for z in &self.zone {
            if !codice_valido(&z.codice) {
                return bad(format!(
                    "il codice di zona «{}» non è valido (lettere minuscole, cifre, _ e -)",
                    z.codice
                ));
            }
            if !seen.insert(z.codice.as_str()) {
                return bad(format!("la zona «{}» è indicata due volte", z.codice));
            }
            if z.descrizione.trim().is_empty() {
                return bad(format!("manca la descrizione della zona «{}»", z.codice));
            }
            if !coefficiente(z.coefficiente) {
                return bad(format!(
                    "il coefficiente della zona «{}» va da 0,001 a 20,000",
                    z.codice
                ));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.categorie {
            if !codice_valido(&c.codice) {
                return bad(format!(
                    "il codice di categoria «{}» non è valido (lettere minuscole, cifre, _ e -)",
                    c.codice
                ));
            }
            if !seen.insert(c.codice.as_str()) {
                return bad(format!("la categoria «{}» è indicata due volte", c.codice));
            }
            if c.descrizione.trim().is_empty() {
                return bad(format!(
                    "manca la descrizione della categoria «{}»",
                    c.codice
                ));
            }
            if !coefficiente(c.permanente) || !coefficiente(c.temporanea) {
                return bad(format!(
                    "i coefficienti della categoria «{}» vanno da 0,001 a 20,000",
                    c.codice
                ));
            }
        }
        if self.scadenze.is_empty() || self.scadenze.len() > 12 {
            return bad("indica da una a dodici scadenze".into());
        }
        if self.scadenze.windows(2).any(|w| w[0] >= w[1]) {
            return bad("le scadenze vanno indicate in ordine, senza ripetizioni".into());
        }
        if self.scadenze.first().is_some_and(|d| d.year() < self.anno) {
            return bad(format!("una scadenza precede l'anno {}", self.anno));
        }
        Ok(())
    }

    /// The zone of code `codice`.
    #[must_use]
    pub fn zona(&self, codice: &str) -> Option<&ZonaCanone> {
        self.zone.iter().find(|z| z.codice == codice)
    }

    /// The category of code `codice`.
    #[must_use]
    pub fn categoria(&self, codice: &str) -> Option<&CategoriaCanone> {
        self.categorie.iter().find(|c| c.codice == codice)
    }

    /// The occupation to compute for a zone and a category of these
    /// coefficients (the category's permanent or temporary one).
    ///
    /// # Errors
    /// What the coefficients lack, in Italian, for the taxpayer to read.
    #[allow(clippy::too_many_arguments)]
    pub fn occupazione(
        &self,
        descrizione: &str,
        zona: &str,
        categoria: &str,
        permanente: bool,
        superficie_cm2: u32,
        dal: Date,
        al: Option<Date>,
    ) -> Result<Occupazione, String> {
        let missing = |what: &str, code: &str| {
            format!(
                "{descrizione}: {what} «{code}» non è prevista dai coefficienti del canone del {}: \
                 canone non calcolato (rivolgiti all'ufficio tributi)",
                self.anno
            )
        };
        let z = self.zona(zona).ok_or_else(|| missing("la zona", zona))?;
        let c = self
            .categoria(categoria)
            .ok_or_else(|| missing("la categoria", categoria))?;
        Ok(Occupazione {
            descrizione: format!("{descrizione} ({}, {})", c.descrizione, z.descrizione),
            superficie_cm2,
            zona: z.coefficiente,
            categoria: if permanente {
                c.permanente
            } else {
                c.temporanea
            },
            permanente,
            dal,
            al,
        })
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

/// The canone of `o` for year `anno` in a comune of `abitanti`: a
/// permanent occupation's for its days in the year, a temporary one's for
/// all its days (it is charged in the year it begins).
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
    // A permanent occupation pays for its days of the year; a temporary
    // one (less than a year) pays once for all its days, in the year it
    // begins, at the coefficients of that year.
    let (from, to) = if o.permanente {
        (o.dal.max(first), o.al.map_or(last, |a| a.min(last)))
    } else {
        (o.dal, o.al.unwrap_or(o.dal))
    };
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
        // Across the new year: all 30 days at once.
        let o = Occupazione {
            dal: date(2026, 12, 15),
            al: Some(date(2027, 1, 13)),
            ..o
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

    fn tariffe() -> TariffeCanone {
        TariffeCanone {
            anno: 2026,
            delibera: "Delibera C.C. n. 5 del 30/03/2026".into(),
            zone: vec![ZonaCanone {
                codice: "1".into(),
                descrizione: "Centro".into(),
                coefficiente: Coefficiente::UNO,
            }],
            categorie: vec![CategoriaCanone {
                codice: "passo_carrabile".into(),
                descrizione: "Passi carrabili".into(),
                permanente: Coefficiente(420),
                temporanea: Coefficiente(485),
            }],
            scadenze: vec![date(2026, 3, 31)],
        }
    }

    #[test]
    fn tariffs_are_checked() {
        let ok = tariffe();
        assert_eq!(ok.valida(), Ok(()));
        assert_eq!(
            ok.zona("1").map(|z| z.coefficiente),
            Some(Coefficiente::UNO)
        );
        assert!(ok.categoria("dehors").is_none());
        let problem = |t: TariffeCanone| match t.valida() {
            Err(TributiError::TariffeCanone(s)) => s,
            other => format!("not a coefficients problem: {other:?}"),
        };
        let o = ok
            .occupazione(
                "Accesso",
                "1",
                "passo_carrabile",
                true,
                500,
                date(2020, 1, 1),
                None,
            )
            .unwrap();
        assert_eq!(
            (o.zona, o.categoria),
            (Coefficiente::UNO, Coefficiente(420))
        );
        assert_eq!(
            calcola(&o, 2026, 50_000).unwrap().importo,
            Cents::from_cents(10_500)
        );
        let o = ok
            .occupazione(
                "Accesso",
                "1",
                "passo_carrabile",
                false,
                500,
                date(2026, 5, 1),
                Some(date(2026, 5, 2)),
            )
            .unwrap();
        assert_eq!(o.categoria, Coefficiente(485));
        let e = ok
            .occupazione("Tavolini", "1", "dehors", true, 500, date(2026, 1, 1), None)
            .unwrap_err();
        assert!(e.contains("la categoria «dehors»"), "{e}");
        let mut t = ok.clone();
        t.zone.push(t.zone[0].clone());
        assert!(problem(t).contains("due volte"));
        let mut t = ok.clone();
        t.categorie[0].temporanea = Coefficiente(0);
        assert!(problem(t).contains("0,001 a 20,000"));
        let mut t = ok.clone();
        t.categorie[0].permanente = Coefficiente(20_001);
        assert!(problem(t).contains("0,001 a 20,000"));
        let mut t = ok.clone();
        t.zone[0].codice = "Centro Storico".into();
        assert!(problem(t).contains("non è valido"));
        let mut t = ok.clone();
        t.scadenze = vec![date(2026, 7, 31), date(2026, 3, 31)];
        assert!(problem(t).contains("in ordine"));
        let mut t = ok.clone();
        t.scadenze = vec![date(2025, 12, 31)];
        assert!(problem(t).contains("precede"));
        let mut t = ok.clone();
        t.zone.clear();
        assert!(problem(t).contains("zona"));
        let mut t = ok;
        t.categorie[0].descrizione = " ".into();
        assert!(problem(t).contains("descrizione"));
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
