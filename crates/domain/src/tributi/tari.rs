//! TARI by the metodo normalizzato (L. 147/2013 cc.639-705, DPR 158/1999)
//! with the provincial TEFA (D.Lgs. 504/1992 art. 19), per utenza and
//! year, from the tariffs the comune approved (`taxes-pagopa.md` §2.2).
//!
//! - Domestic: fixed part = tariff per m² for the household size × m²
//!   (pertinenze included); variable part = a flat amount for the
//!   household size, not charged again on pertinenze.
//! - Non-domestic: (fixed + variable tariff per m² of the category) × m².
//! - The year's tariff is due for the days of occupation (art. 1 c.650:
//!   "commisurata ad anno solare"), days/365 (366 in a leap year).
//! - Reductions of the regolamento (c.659-660: composting, a single
//!   occupant far away…) are percentages off the parts they name.
//! - TEFA: the province's percentage (5% by default from 2020) of the
//!   TARI, paid apart with code TEFA from 2021 (Ris. AdE 5/E/2021), on the
//!   same pagoPA notice as a second beneficiary.
//! - Instalments: the year's total split in the regolamento's number of
//!   rate, the cents that do not divide going on the first.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{Exact, TributiError, it_date};
use crate::money::Cents;

/// A tariff in ten-thousandths of a euro (€/m² tariffs have four
/// decimals: `Tariffa(4460)` is 0,4460 €).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tariffa(pub u64);

impl Tariffa {
    /// Reads `0,4460`, `75,03`, `1.2` (euro, up to four decimals).
    ///
    /// # Errors
    /// [`TributiError::Tariffa`] otherwise.
    pub fn parse(s: &str) -> Result<Tariffa, TributiError> {
        let bad = || TributiError::Tariffa(s.to_owned());
        let t = s.trim().trim_end_matches('€').trim().replace(',', ".");
        let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
        if frac.len() > 4
            || int.is_empty()
            || int.len() > 9
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        format!("{int}{frac:0<4}")
            .parse()
            .map(Tariffa)
            .map_err(|_| bad())
    }

    /// As exact cents.
    #[must_use]
    pub fn exact(self) -> Exact {
        Exact::new(i128::from(self.0), 100)
    }

    /// `0,4460 €`.
    #[must_use]
    pub fn it(self) -> String {
        format!("{},{:04} €", self.0 / 10_000, self.0 % 10_000)
    }
}

/// The tariffs of a comune for a year (the delibera approving the PEF and
/// the tariffs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffeTari {
    /// The year.
    pub anno: i16,
    /// The delibera.
    pub delibera: String,
    /// Domestic, by household size 1..=6 (the last for 6 or more): fixed
    /// €/m² and variable € per utenza.
    pub domestiche: Vec<(Tariffa, Tariffa)>,
    /// Non-domestic, by category number: fixed and variable €/m².
    pub non_domestiche: Vec<(u8, String, Tariffa, Tariffa)>,
    /// TEFA, in hundredths of a percent (500 = 5%).
    pub tefa: u32,
    /// Instalments: their due dates (one date: rata unica).
    pub scadenze: Vec<Date>,
    /// The reductions of the regolamento (c.659-660) the utenze may have,
    /// by code.
    #[serde(default)]
    pub riduzioni: Vec<RiduzioneTari>,
}

/// A reduction of the comune's regolamento with its code, as the tariffs
/// of a year define it and the utenze name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiduzioneTari {
    /// The code the utenze file uses, e.g. `compostaggio`.
    pub codice: String,
    /// The reduction.
    #[serde(flatten)]
    pub riduzione: Riduzione,
}

/// The most a province may set the TEFA at: 5% (D.Lgs. 504/1992 art. 19
/// c.3, "non inferiore all'1 per cento né superiore al 5 per cento").
pub const TEFA_MASSIMA: u32 = 500;

/// Whether `codice` can name a reduction: lower-case letters, digits,
/// `_` and `-`, 1 to 40.
#[must_use]
pub fn codice_riduzione_valido(codice: &str) -> bool {
    (1..=40).contains(&codice.len())
        && codice
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl TariffeTari {
    /// Checks what the delibera can hold: six domestic tariffs (1 to 6 or
    /// more occupants, Tab. 1a/2 of DPR 158/1999), categories 1-30 each
    /// once with a name, TEFA within 0-5%, one to twelve due dates in
    /// order and none before the year, reductions with valid distinct
    /// codes of at most 100%.
    ///
    /// # Errors
    /// [`TributiError::TariffeTari`] naming the first problem.
    pub fn valida(&self) -> Result<(), TributiError> {
        let bad = |s: String| Err(TributiError::TariffeTari(s));
        if self.domestiche.len() != 6 {
            return bad(format!(
                "servono le tariffe domestiche per 1, 2, 3, 4, 5 e 6 o più occupanti ({} indicate)",
                self.domestiche.len()
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (c, label, ..) in &self.non_domestiche {
            if !(1..=30).contains(c) {
                return bad(format!("la categoria {c} non esiste (da 1 a 30)"));
            }
            if !seen.insert(*c) {
                return bad(format!("la categoria {c} è indicata due volte"));
            }
            if label.trim().is_empty() {
                return bad(format!("manca la descrizione della categoria {c}"));
            }
        }
        // 10.000 € per m² (or per household): beyond any tariff, and the
        // products stay far inside the cents' range.
        let max = Tariffa(100_000_000);
        if self
            .domestiche
            .iter()
            .map(|(f, v)| (f, v))
            .chain(self.non_domestiche.iter().map(|(_, _, f, v)| (f, v)))
            .any(|(f, v)| *f > max || *v > max)
        {
            return bad("una tariffa supera 10.000 €".into());
        }
        if self.tefa > TEFA_MASSIMA {
            return bad("la TEFA va dall'1 al 5% della TARI".into());
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
        let mut codes = std::collections::BTreeSet::new();
        for r in &self.riduzioni {
            if !codice_riduzione_valido(&r.codice) {
                return bad(format!(
                    "il codice di riduzione «{}» non è valido (lettere minuscole, cifre, _ e -)",
                    r.codice
                ));
            }
            if !codes.insert(r.codice.as_str()) {
                return bad(format!("la riduzione «{}» è indicata due volte", r.codice));
            }
            if r.riduzione.fissa > 10_000 || r.riduzione.variabile > 10_000 {
                return bad(format!("la riduzione «{}» supera il 100%", r.codice));
            }
            if r.riduzione.descrizione.trim().is_empty() {
                return bad(format!(
                    "manca la descrizione della riduzione «{}»",
                    r.codice
                ));
            }
        }
        Ok(())
    }

    /// The reduction of code `codice`, if the tariffs define it.
    #[must_use]
    pub fn riduzione(&self, codice: &str) -> Option<&Riduzione> {
        self.riduzioni
            .iter()
            .find(|r| r.codice == codice)
            .map(|r| &r.riduzione)
    }
}

/// What is occupied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "tipo")]
pub enum Utenza {
    /// A home.
    Domestica {
        /// Occupants (at least 1).
        occupanti: u8,
        /// The home's surface, m² (whole).
        superficie: u32,
        /// The pertinenze's surface, m² (garage, cellar).
        pertinenze: u32,
    },
    /// Business premises.
    NonDomestica {
        /// The category (1-30, or 1-21 in comuni up to 5,000
        /// inhabitants).
        categoria: u8,
        /// The surface, m².
        superficie: u32,
    },
}

/// A reduction of the regolamento: a percentage (hundredths) off the
/// fixed and/or variable part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Riduzione {
    /// What it is, with its article of the regolamento.
    pub descrizione: String,
    /// Off the fixed part, hundredths of a percent.
    pub fissa: u32,
    /// Off the variable part, hundredths of a percent.
    pub variabile: u32,
}

/// One instalment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RataTari {
    /// Number, from 1.
    pub numero: u8,
    /// Due date.
    pub scadenza: Date,
    /// TARI of the instalment.
    pub tari: Cents,
    /// TEFA of the instalment.
    pub tefa: Cents,
}

/// The TARI of one utenza for a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalcoloTari {
    /// Fixed part, to the cent.
    pub quota_fissa: Cents,
    /// Variable part, to the cent.
    pub quota_variabile: Cents,
    /// Reductions, to the cent (positive: subtracted).
    pub riduzioni: Cents,
    /// TARI = fixed + variable − reductions.
    pub tari: Cents,
    /// TEFA on it.
    pub tefa: Cents,
    /// TARI + TEFA.
    pub totale: Cents,
    /// The instalments.
    pub rate: Vec<RataTari>,
    /// The working, in Italian.
    pub passaggi: Vec<String>,
}

fn days_in_year(anno: i16) -> i128 {
    if Date::new(anno, 2, 29).is_ok() {
        366
    } else {
        365
    }
}

/// Splits `total` in `n` parts, the remainder cents on the first.
#[must_use]
pub fn split(total: Cents, n: usize) -> Vec<Cents> {
    let n_i = i64::try_from(n.max(1)).unwrap_or(1);
    let each = total.cents() / n_i;
    let rest = total.cents() - each * n_i;
    (0..n.max(1))
        .map(|i| Cents::from_cents(if i == 0 { each + rest } else { each }))
        .collect()
}

/// The TARI of `utenza`, occupied from `dal` to `al` (included; `None`:
/// still), for the year of `tariffe`, with the `riduzioni` that apply.
///
/// # Errors
/// [`TributiError::Periodo`] for a reversed period,
/// [`TributiError::CategoriaTari`] for a category without a tariff,
/// [`TributiError::ScadenzeTari`] when the tariffs have no due date.
pub fn calcola(
    utenza: &Utenza,
    dal: Date,
    al: Option<Date>,
    tariffe: &TariffeTari,
    riduzioni: &[Riduzione],
) -> Result<CalcoloTari, TributiError> {
    if let Some(e) = al
        && e < dal
    {
        return Err(TributiError::Periodo { start: dal, end: e });
    }
    // A bill without a due date cannot be paid (c.688: at least one).
    if tariffe.scadenze.is_empty() {
        return Err(TributiError::ScadenzeTari(tariffe.anno));
    }
    let anno = tariffe.anno;
    let first = Date::new(anno, 1, 1).map_err(|_| TributiError::Anno(anno))?;
    let last = Date::new(anno, 12, 31).map_err(|_| TributiError::Anno(anno))?;
    let from = dal.max(first);
    let to = al.map_or(last, |a| a.min(last));
    let days = if to < from {
        0
    } else {
        i128::from(from.until(to).map_or(0, |s| s.get_days())) + 1
    };
    let year_days = days_in_year(anno);
    let mut passaggi = Vec::new();
    let (fissa, variabile) = match utenza {
        Utenza::Domestica {
            occupanti,
            superficie,
            pertinenze,
        } => {
            let i = usize::from((*occupanti).clamp(1, 6)) - 1;
            let (qf, qv) = tariffe
                .domestiche
                .get(i)
                .or(tariffe.domestiche.last())
                .copied()
                .ok_or(TributiError::CategoriaTari(0))?;
            let m2 = superficie + pertinenze;
            let f = qf.exact().scale(i128::from(m2), 1);
            passaggi.push(format!(
                "Quota fissa: {} al m² per {} occupant{} × {m2} m² ({superficie} m² abitazione + {pertinenze} m² pertinenze) = {}",
                qf.it(),
                occupanti,
                if *occupanti == 1 { "e" } else { "i" },
                f.round_cents()
            ));
            passaggi.push(format!(
                "Quota variabile per {} occupant{}: {} (non dovuta sulle pertinenze)",
                occupanti,
                if *occupanti == 1 { "e" } else { "i" },
                qv.it()
            ));
            (f, qv.exact())
        }
        Utenza::NonDomestica {
            categoria,
            superficie,
        } => {
            let (_, label, qf, qv) = tariffe
                .non_domestiche
                .iter()
                .find(|(c, ..)| c == categoria)
                .ok_or(TributiError::CategoriaTari(*categoria))?;
            let m2 = i128::from(*superficie);
            let f = qf.exact().scale(m2, 1);
            let v = qv.exact().scale(m2, 1);
            passaggi.push(format!(
                "Categoria {categoria} ({label}): quota fissa {} × {superficie} m² = {}",
                qf.it(),
                f.round_cents()
            ));
            passaggi.push(format!(
                "Quota variabile {} × {superficie} m² = {}",
                qv.it(),
                v.round_cents()
            ));
            (f, v)
        }
    };
    let (fissa, variabile) = if days == year_days {
        (fissa, variabile)
    } else {
        passaggi.push(format!(
            "Occupazione dal {} al {}: {days} giorni su {year_days}",
            it_date(from.max(dal)),
            it_date(to)
        ));
        (
            fissa.scale(days, year_days),
            variabile.scale(days, year_days),
        )
    };
    let mut rid = Exact::ZERO;
    for r in riduzioni {
        let off = fissa.scale(i128::from(r.fissa), 10_000)
            + variabile.scale(i128::from(r.variabile), 10_000);
        passaggi.push(format!(
            "Riduzione: {} = −{}",
            r.descrizione,
            off.round_cents()
        ));
        rid = rid + off;
    }
    let quota_fissa = fissa.round_cents();
    let quota_variabile = variabile.round_cents();
    let riduzioni_c = rid.round_cents();
    let tari = Cents::from_cents(
        (quota_fissa.cents() + quota_variabile.cents() - riduzioni_c.cents()).max(0),
    );
    // TEFA: the province's percentage of the TARI.
    let tefa = Exact::cents(tari)
        .scale(i128::from(tariffe.tefa), 10_000)
        .round_cents();
    let totale = Cents::from_cents(tari.cents() + tefa.cents());
    passaggi.push(format!("TARI: {tari}"));
    passaggi.push(format!(
        "TEFA (tributo provinciale, {},{:02}% della TARI): {tefa}",
        tariffe.tefa / 100,
        tariffe.tefa % 100
    ));
    passaggi.push(format!("Totale: {totale}"));
    let n = tariffe.scadenze.len().max(1);
    let rate = split(tari, n)
        .into_iter()
        .zip(split(tefa, n))
        .zip(tariffe.scadenze.iter())
        .enumerate()
        .map(|(i, ((t, e), d))| RataTari {
            numero: u8::try_from(i + 1).unwrap_or(u8::MAX),
            scadenza: *d,
            tari: t,
            tefa: e,
        })
        .collect();
    Ok(CalcoloTari {
        quota_fissa,
        quota_variabile,
        riduzioni: riduzioni_c,
        tari,
        tefa,
        totale,
        rate,
        passaggi,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn t(s: &str) -> Tariffa {
        Tariffa::parse(s).unwrap()
    }

    fn tribiano() -> TariffeTari {
        TariffeTari {
            anno: 2026,
            delibera: "Delibera C.C. n. 10/2026".into(),
            domestiche: vec![
                (t("0,3650"), t("40,12")),
                (t("0,4200"), t("62,50")),
                (t("0,4460"), t("75,03")),
                (t("0,4700"), t("90,00")),
                (t("0,4900"), t("110,00")),
                (t("0,5100"), t("125,00")),
            ],
            non_domestiche: vec![(13, "Negozi".into(), t("1,2000"), t("1,0500"))],
            tefa: 500,
            scadenze: vec![date(2026, 5, 31), date(2026, 9, 30), date(2026, 12, 2)],
            riduzioni: vec![RiduzioneTari {
                codice: "compostaggio".into(),
                riduzione: Riduzione {
                    descrizione: "Compostaggio domestico (art. 22 reg.)".into(),
                    fissa: 0,
                    variabile: 2_000,
                },
            }],
        }
    }

    #[test]
    fn tariffs_are_checked() {
        assert_eq!(tribiano().valida(), Ok(()));
        assert!(tribiano().riduzione("compostaggio").is_some());
        assert!(tribiano().riduzione("altro").is_none());
        type Break = Box<dyn Fn(&mut TariffeTari)>;
        let broken: Vec<(&str, Break)> = vec![
            (
                "domestiche",
                Box::new(|t| {
                    t.domestiche.pop();
                }),
            ),
            (
                "categoria 31",
                Box::new(|t| t.non_domestiche.push((31, "x".into(), t_(1), t_(1)))),
            ),
            (
                "due volte",
                Box::new(|t| t.non_domestiche.push((13, "x".into(), t_(1), t_(1)))),
            ),
            ("TEFA", Box::new(|t| t.tefa = 501)),
            (
                "10.000",
                Box::new(|t| t.domestiche[0].1 = Tariffa(100_000_001)),
            ),
            ("scadenze", Box::new(|t| t.scadenze.clear())),
            ("ordine", Box::new(|t| t.scadenze.swap(0, 1))),
            ("precede", Box::new(|t| t.scadenze[0] = date(2025, 12, 31))),
            (
                "100%",
                Box::new(|t| t.riduzioni[0].riduzione.variabile = 10_001),
            ),
            (
                "codice",
                Box::new(|t| t.riduzioni[0].codice = "Compost".into()),
            ),
        ];
        for (what, f) in broken {
            let mut t = tribiano();
            f(&mut t);
            let err = crate::Coded::message_it(&t.valida().unwrap_err());
            assert!(
                err.to_lowercase().contains(&what.to_lowercase()),
                "{what}: {err}"
            );
        }
    }

    fn t_(n: u64) -> Tariffa {
        Tariffa(n)
    }

    #[test]
    fn example_t6() {
        // T-6: 3 occupants, QF 0.4460, QV 75.03, 100 m², TEFA 5%:
        // 44.60 + 75.03 = 119.63; TEFA 5.98; 125.61.
        let calc = calcola(
            &Utenza::Domestica {
                occupanti: 3,
                superficie: 100,
                pertinenze: 0,
            },
            date(2015, 1, 1),
            None,
            &tribiano(),
            &[],
        )
        .unwrap();
        assert_eq!(calc.quota_fissa, Cents::from_cents(4_460));
        assert_eq!(calc.quota_variabile, Cents::from_cents(7_503));
        assert_eq!(calc.tari, Cents::from_cents(11_963));
        assert_eq!(calc.tefa, Cents::from_cents(598));
        assert_eq!(calc.totale, Cents::from_cents(12_561));
        // Three instalments: 39.89 + 39.87 + 39.87 TARI; 2.00 + 1.99 + 1.99 TEFA.
        let tari: Vec<i64> = calc.rate.iter().map(|r| r.tari.cents()).collect();
        assert_eq!(tari, vec![3_989, 3_987, 3_987]);
        let tefa: Vec<i64> = calc.rate.iter().map(|r| r.tefa.cents()).collect();
        assert_eq!(tefa, vec![200, 199, 199]);
    }

    #[test]
    fn pertinenze_pay_the_fixed_part_only() {
        // 100 m² + 20 m² garage: fixed on 120 m² = 53.52, variable once.
        let calc = calcola(
            &Utenza::Domestica {
                occupanti: 3,
                superficie: 100,
                pertinenze: 20,
            },
            date(2015, 1, 1),
            None,
            &tribiano(),
            &[],
        )
        .unwrap();
        assert_eq!(calc.quota_fissa, Cents::from_cents(5_352));
        assert_eq!(calc.quota_variabile, Cents::from_cents(7_503));
        // Seven occupants use the 6+ tariff.
        let calc = calcola(
            &Utenza::Domestica {
                occupanti: 7,
                superficie: 100,
                pertinenze: 0,
            },
            date(2015, 1, 1),
            None,
            &tribiano(),
            &[],
        )
        .unwrap();
        assert_eq!(calc.quota_variabile, Cents::from_cents(12_500));
    }

    #[test]
    fn non_domestic_part_year_and_reductions() {
        // A shop (cat. 13) of 50 m² from 1 July 2026 (184 of 365 days):
        // (60.00 + 52.50) × 184/365 = 30.2466 + 26.4658.
        let calc = calcola(
            &Utenza::NonDomestica {
                categoria: 13,
                superficie: 50,
            },
            date(2026, 7, 1),
            None,
            &tribiano(),
            &[Riduzione {
                descrizione: "Avvio al riciclo (art. 20 reg.)".into(),
                fissa: 0,
                variabile: 3_000,
            }],
        )
        .unwrap();
        assert_eq!(calc.quota_fissa, Cents::from_cents(3_025));
        assert_eq!(calc.quota_variabile, Cents::from_cents(2_647));
        // 30% off the variable part: 7.9397 → 7.94.
        assert_eq!(calc.riduzioni, Cents::from_cents(794));
        assert_eq!(calc.tari, Cents::from_cents(3_025 + 2_647 - 794));
        assert!(calc.passaggi.join("\n").contains("184 giorni su 365"));
        // A category without a tariff is an error, not zero.
        assert!(matches!(
            calcola(
                &Utenza::NonDomestica {
                    categoria: 22,
                    superficie: 50
                },
                date(2026, 1, 1),
                None,
                &tribiano(),
                &[]
            ),
            Err(TributiError::CategoriaTari(22))
        ));
        // Tariffs without due dates: an error, not a bill without rate.
        let mut none = tribiano();
        none.scadenze.clear();
        assert!(matches!(
            calcola(
                &Utenza::NonDomestica {
                    categoria: 13,
                    superficie: 50
                },
                date(2026, 1, 1),
                None,
                &none,
                &[]
            ),
            Err(TributiError::ScadenzeTari(2026))
        ));
    }

    #[test]
    fn tariffs_parse() {
        assert_eq!(t("0,4460"), Tariffa(4_460));
        assert_eq!(t("75,03"), Tariffa(750_300));
        assert_eq!(t("1"), Tariffa(10_000));
        assert_eq!(Tariffa(4_460).it(), "0,4460 €");
        for bad in ["", "0,44601", "x", "-1"] {
            assert!(Tariffa::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            split(Cents::from_cents(100), 3),
            vec![
                Cents::from_cents(34),
                Cents::from_cents(33),
                Cents::from_cents(33)
            ]
        );
    }
}
