//! IMU from 2020 (L. 27 dicembre 2019 n. 160, art. 1 cc. 738-783): the
//! base of each object, the rate the comune set for its kind, the months
//! and share of possession, the reductions, the €200 detrazione, the F24
//! lines with the State/comune split of group D, and acconto and saldo.
//!
//! [`calcola`] is the one calculator: the citizen's position, the tributi
//! office's view, the anonymous calculator and the notices all call it.
//! It works month by month (c.761): for every month of the year and every
//! possession, the month's tax is `base × aliquota × quota / 12`, with the
//! situation of that month (abitazione principale, inagibile…), and the
//! months with the same figures are shown as one line of the working
//! ("come è calcolato"). Amounts are exact fractions until shown (cents,
//! half up) and paid (whole euro per F24 line, [`super::round_euro`]).
//!
//! Acconto and saldo (c.762): the acconto is the tax of the first
//! half-year (January–June) at the previous year's rates and detrazione;
//! the saldo is the year's tax at the current rates minus the acconto,
//! both per F24 line in whole euro (DECISIONS 33). A saldo below zero is
//! a credit, shown as such and not paid.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{Aliquota, Exact, MESI, Quota, TributiError, mesi_di_possesso, round_euro};
use crate::money::Cents;

/// A cadastral category: group letter and number (`A/2`, `C/6`, `D/10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Categoria {
    gruppo: char,
    numero: u8,
}

impl Categoria {
    /// Reads `A/2`, `A2`, `a/02`, `D/10`, `F/2`.
    ///
    /// # Errors
    /// [`TributiError::Categoria`] for anything else (unknown group, no
    /// number, A/0…).
    pub fn parse(s: &str) -> Result<Categoria, TributiError> {
        let bad = || TributiError::Categoria(s.to_owned());
        let t = s.trim().to_ascii_uppercase();
        let mut chars = t.chars();
        let gruppo = chars.next().ok_or_else(bad)?;
        let rest: String = chars.collect();
        let rest = rest.trim_start_matches('/').trim();
        let numero: u8 = rest.parse().map_err(|_| bad())?;
        let max = match gruppo {
            'A' => 11,
            'B' => 8,
            'C' => 7,
            'D' => 10,
            'E' => 9,
            'F' => 7,
            _ => return Err(bad()),
        };
        if numero == 0 || numero > max || rest.len() > 2 {
            return Err(bad());
        }
        Ok(Categoria { gruppo, numero })
    }

    /// The group letter.
    #[must_use]
    pub fn gruppo(self) -> char {
        self.gruppo
    }

    /// The number within the group.
    #[must_use]
    pub fn numero(self) -> u8 {
        self.numero
    }

    fn is(self, gruppo: char, numero: u8) -> bool {
        self.gruppo == gruppo && self.numero == numero
    }

    /// A/1, A/8, A/9: the "luxury" dwellings that pay IMU as abitazione
    /// principale (c.740, c.748).
    #[must_use]
    pub fn di_lusso(self) -> bool {
        self.gruppo == 'A' && matches!(self.numero, 1 | 8 | 9)
    }

    /// C/2, C/6, C/7: the categories of a pertinenza (c.741 lett. b).
    #[must_use]
    pub fn pertinenziale(self) -> bool {
        self.gruppo == 'C' && matches!(self.numero, 2 | 6 | 7)
    }

    /// The moltiplicatore of c.745 (`None` for groups E and F, which have
    /// no IMU base as buildings).
    #[must_use]
    pub fn moltiplicatore(self) -> Option<u32> {
        Some(match self.gruppo {
            'A' if self.numero == 10 => 80,
            'A' => 160,
            'B' => 140,
            'C' => match self.numero {
                1 => 55,
                2 | 6 | 7 => 160,
                _ => 140, // C/3, C/4, C/5
            },
            'D' if self.numero == 5 => 80,
            'D' => 65,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Categoria {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.gruppo, self.numero)
    }
}

impl From<Categoria> for String {
    fn from(c: Categoria) -> String {
        c.to_string()
    }
}

impl TryFrom<String> for Categoria {
    type Error = TributiError;
    fn try_from(s: String) -> Result<Categoria, TributiError> {
        Categoria::parse(&s)
    }
}

/// A value in force from a date (a rendita after works, c.745: from the
/// day the works ended or the unit was used).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Valore {
    /// In force from this day (a day before the year: from 1 January).
    pub dal: Date,
    /// The amount.
    pub importo: Cents,
}

/// What is taxed (c.741).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "tipo")]
pub enum Oggetto {
    /// A building: base = rendita × 1,05 × moltiplicatore (c.745).
    Fabbricato {
        /// The cadastral category.
        categoria: Categoria,
        /// The rendita catastale, with its changes during the year.
        rendite: Vec<Valore>,
    },
    /// Building land: base = market value on 1 January (c.746).
    AreaFabbricabile {
        /// The value (changes during the year follow the same rule).
        valori: Vec<Valore>,
    },
    /// Agricultural land: base = reddito dominicale × 1,25 × 135 (c.746).
    TerrenoAgricolo {
        /// The reddito dominicale.
        redditi: Vec<Valore>,
    },
}

/// One period of possession by the taxpayer: from `dal` to `al` (both
/// included; the day of a sale is the buyer's, so a seller's `al` is the
/// day before the deed), with the share of the right (c.743).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Possesso {
    /// First day.
    pub dal: Date,
    /// Last day (`None`: still held).
    pub al: Option<Date>,
    /// The share.
    pub quota: Quota,
}

/// A situation of the object that changes its tax, for a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "tipo")]
pub enum Condizione {
    /// The taxpayer's abitazione principale (c.741 lett. b): exempt
    /// unless A/1, A/8, A/9 (c.740), which pay at the rate of c.748 with
    /// the detrazione of c.749, split in equal parts among the
    /// `residenti` holders who live there.
    AbitazionePrincipale {
        /// Holders who have it as abitazione principale (at least 1).
        residenti: u8,
    },
    /// A pertinenza of the abitazione principale: at most one per
    /// category C/2, C/6, C/7 (c.741 lett. b); further ones are taxed as
    /// altri fabbricati.
    Pertinenza,
    /// Inagibile or inabitabile and not used (c.747 lett. b): base × 50%
    /// for the months it lasts.
    Inagibile,
    /// Of historic or artistic interest (c.747 lett. a): base × 50%.
    Storico,
    /// Lent to a parent or child who lives there (c.747 lett. c), with
    /// the contract registered: base × 50%; not for A/1, A/8, A/9.
    Comodato,
    /// Let at a canone concordato (L. 431/1998; c.760): tax × 75%.
    CanoneConcordato,
    /// The one dwelling of a pensioner resident abroad (L. 178/2020
    /// c.48): tax × 50% from 2021 (37,5% in 2022 only).
    PensionatoEstero,
    /// A fabbricato rurale strumentale (c.750; D/10 always is).
    RuraleStrumentale,
    /// A bene merce, built for sale and not let (c.751): exempt from 2022.
    BeneMerce,
    /// Agricultural land exempt under c.758 (farmed by a CD/IAP, mountain
    /// or small-island areas).
    TerrenoEsente,
    /// Any other exemption (c.759; occupied illegally with a complaint
    /// filed, Corte cost. 60/2024).
    Esente,
}

/// A period of a [`Condizione`], dates included like [`Possesso`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Periodo {
    /// First day.
    pub dal: Date,
    /// Last day (`None`: still so).
    pub al: Option<Date>,
    /// The situation.
    pub condizione: Condizione,
}

/// One object of the taxpayer, with their possession of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Immobile {
    /// A stable identifier (the cadastral unit's id).
    pub id: String,
    /// How the citizen recognises it: "Foglio 12 particella 345 sub 6,
    /// via Roma 1".
    pub descrizione: String,
    /// What it is.
    pub oggetto: Oggetto,
    /// The taxpayer's possession periods.
    pub possessi: Vec<Possesso>,
    /// Its situations over time.
    pub periodi: Vec<Periodo>,
}

/// The rates a comune set for a year, with their delibera (cc.748-755).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aliquote {
    /// The year.
    pub anno: i16,
    /// The delibera: "Delibera C.C. n. 57 del 28/11/2024".
    pub delibera: String,
    /// Abitazione principale A/1, A/8, A/9 and pertinenze (c.748, 0–6‰).
    pub abitazione_principale: Aliquota,
    /// The detrazione for it (c.749, €200 or more).
    pub detrazione: Cents,
    /// Fabbricati rurali strumentali (c.750, 0–1‰).
    pub rurali_strumentali: Aliquota,
    /// Beni merce, years before 2022 (c.751, 0–2,5‰).
    pub beni_merce: Aliquota,
    /// Terreni agricoli (c.752, 0–10,6‰).
    pub terreni: Aliquota,
    /// Group D (c.753, 7,6–10,6‰; 7,6‰ to the State).
    pub gruppo_d: Aliquota,
    /// Altri fabbricati (c.754, 0–10,6‰; up to 11,4‰ with c.755).
    pub altri_fabbricati: Aliquota,
    /// Aree fabbricabili (c.754, as altri fabbricati).
    pub aree_fabbricabili: Aliquota,
    /// The comune applied the ex-TASI top-up in 2015-2019 and may go up
    /// to 11,4‰ (c.755).
    pub maggiorazione_ex_tasi: bool,
    /// Below this annual amount nothing is paid (regolamento; €12 by
    /// default, L. 289/2002 art. 25).
    pub versamento_minimo: Cents,
}

/// The State's share of group D: 7,6‰ (c.753, code 3925).
pub const QUOTA_STATO_D: Aliquota = Aliquota(760);

/// The names of the rates of [`Aliquote`], as the CLI, the back office's
/// form and the JSON use them, with their Italian labels.
pub const NOMI_ALIQUOTE: [(&str, &str); 7] = [
    (
        "abitazione_principale",
        "Abitazione principale di lusso (A/1, A/8, A/9) e pertinenze (c. 748)",
    ),
    (
        "rurali_strumentali",
        "Fabbricati rurali strumentali (c. 750)",
    ),
    ("beni_merce", "Beni merce (c. 751, fino al 2021)"),
    ("terreni", "Terreni agricoli (c. 752)"),
    ("gruppo_d", "Immobili del gruppo D (c. 753)"),
    ("altri_fabbricati", "Altri fabbricati (c. 754)"),
    ("aree_fabbricabili", "Aree fabbricabili (c. 754)"),
];

impl Aliquote {
    /// The rate of name `nome` (one of [`NOMI_ALIQUOTE`]), to read or set.
    pub fn per_nome(&mut self, nome: &str) -> Option<&mut Aliquota> {
        Some(match nome {
            "abitazione_principale" => &mut self.abitazione_principale,
            "rurali_strumentali" => &mut self.rurali_strumentali,
            "beni_merce" => &mut self.beni_merce,
            "terreni" => &mut self.terreni,
            "gruppo_d" => &mut self.gruppo_d,
            "altri_fabbricati" => &mut self.altri_fabbricati,
            "aree_fabbricabili" => &mut self.aree_fabbricabili,
            _ => return None,
        })
    }

    /// The base rates of the law for `anno` (cc.748-754), €200
    /// detrazione, €12 minimum: what applies when the comune has not
    /// deliberated, and a starting point for the admin.
    #[must_use]
    pub fn di_base(anno: i16) -> Aliquote {
        Aliquote {
            anno,
            delibera: "Aliquote di base, L. 160/2019 cc. 748-754".to_owned(),
            abitazione_principale: Aliquota(500),
            detrazione: Cents::from_cents(20_000),
            rurali_strumentali: Aliquota(100),
            beni_merce: Aliquota(100),
            terreni: Aliquota(760),
            gruppo_d: Aliquota(860),
            altri_fabbricati: Aliquota(860),
            aree_fabbricabili: Aliquota(860),
            maggiorazione_ex_tasi: false,
            versamento_minimo: Cents::from_cents(1_200),
        }
    }

    /// Checks every rate against the range the law allows (cc.748-755).
    ///
    /// # Errors
    /// [`TributiError::AliquotaFuoriRange`] for the first rate outside
    /// its range.
    pub fn valida(&self) -> Result<(), TributiError> {
        let max_altri = if self.maggiorazione_ex_tasi {
            1140
        } else {
            1060
        };
        let checks: [(&'static str, Aliquota, u32, u32); 7] = [
            (
                "l'abitazione principale di lusso",
                self.abitazione_principale,
                0,
                600,
            ),
            (
                "i fabbricati rurali strumentali",
                self.rurali_strumentali,
                0,
                100,
            ),
            ("i beni merce", self.beni_merce, 0, 250),
            ("i terreni agricoli", self.terreni, 0, 1060),
            ("i fabbricati del gruppo D", self.gruppo_d, 760, 1060),
            ("gli altri fabbricati", self.altri_fabbricati, 0, max_altri),
            ("le aree fabbricabili", self.aree_fabbricabili, 0, max_altri),
        ];
        for (what, value, min, max) in checks {
            if value.0 < min || value.0 > max {
                return Err(TributiError::AliquotaFuoriRange {
                    what,
                    value: value.it(),
                    min: Aliquota(min).it(),
                    max: Aliquota(max).it(),
                });
            }
        }
        Ok(())
    }
}

/// The rules that change with the year, pinned per tax year so a past
/// year is computed with its own law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regole {
    /// The year.
    pub anno: i16,
    /// Beni merce exempt (c.751, from 2022).
    pub beni_merce_esenti: bool,
    /// The share of the tax a pensioner resident abroad pays (L. 178/2020
    /// c.48: 1/2 from 2021; L. 234/2021 c.743: 37,5% in 2022), `None`
    /// before 2021.
    pub pensionati_esteri: Option<(i128, i128)>,
    /// The acconto follows c.762 (2020's was half of 2019 IMU + TASI,
    /// which Palazzo cannot know: no acconto is computed for 2020).
    pub acconto_ordinario: bool,
}

impl Regole {
    /// The rules of `anno`.
    ///
    /// # Errors
    /// [`TributiError::Anno`] before 2020 (the IMU of L. 160/2019 did not
    /// exist; those years are the historical IMU/TASI positions).
    pub fn di(anno: i16) -> Result<Regole, TributiError> {
        if anno < 2020 {
            return Err(TributiError::Anno(anno));
        }
        Ok(Regole {
            anno,
            beni_merce_esenti: anno >= 2022,
            pensionati_esteri: match anno {
                2020 => None,
                2022 => Some((3, 8)),
                _ => Some((1, 2)),
            },
            acconto_ordinario: anno > 2020,
        })
    }
}

/// The due dates of the acconto and the saldo of `anno` (c.762: 16 June
/// and 16 December), each moved to the next working day when it falls on
/// a Saturday or a festivo (DL 70/2011 art. 7 c.1 lett. h; a national
/// date, so the comune's patron saint does not move it).
#[must_use]
pub fn scadenze(anno: i16) -> (Date, Date) {
    let cal = crate::calendar::Calendar::new();
    let due = |month: i8| {
        let d = jiff::civil::date(anno, month, 16);
        cal.next_working_day(d).unwrap_or(d)
    };
    (due(6), due(12))
}

/// An F24 codice tributo of IMU (Ris. AdE 35/E/2020).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CodiceTributo {
    /// Abitazione principale A/1, A/8, A/9 and pertinenze.
    #[serde(rename = "3912")]
    AbitazionePrincipale,
    /// Fabbricati rurali strumentali.
    #[serde(rename = "3913")]
    RuraliStrumentali,
    /// Terreni.
    #[serde(rename = "3914")]
    Terreni,
    /// Aree fabbricabili.
    #[serde(rename = "3916")]
    AreeFabbricabili,
    /// Altri fabbricati.
    #[serde(rename = "3918")]
    AltriFabbricati,
    /// Group D, the State's 7,6‰.
    #[serde(rename = "3925")]
    GruppoDStato,
    /// Group D, the comune's increase above 7,6‰.
    #[serde(rename = "3930")]
    GruppoDComune,
    /// Beni merce (years before 2022).
    #[serde(rename = "3939")]
    BeniMerce,
}

impl CodiceTributo {
    /// The four-digit code.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            CodiceTributo::AbitazionePrincipale => "3912",
            CodiceTributo::RuraliStrumentali => "3913",
            CodiceTributo::Terreni => "3914",
            CodiceTributo::AreeFabbricabili => "3916",
            CodiceTributo::AltriFabbricati => "3918",
            CodiceTributo::GruppoDStato => "3925",
            CodiceTributo::GruppoDComune => "3930",
            CodiceTributo::BeniMerce => "3939",
        }
    }

    /// What it pays, in Italian.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            CodiceTributo::AbitazionePrincipale => {
                "Abitazione principale (A/1, A/8, A/9) e pertinenze"
            }
            CodiceTributo::RuraliStrumentali => "Fabbricati rurali ad uso strumentale",
            CodiceTributo::Terreni => "Terreni",
            CodiceTributo::AreeFabbricabili => "Aree fabbricabili",
            CodiceTributo::AltriFabbricati => "Altri fabbricati",
            CodiceTributo::GruppoDStato => "Fabbricati del gruppo D, quota Stato",
            CodiceTributo::GruppoDComune => "Fabbricati del gruppo D, quota Comune",
            CodiceTributo::BeniMerce => "Fabbricati costruiti e destinati alla vendita",
        }
    }

    /// Is the State the beneficiary (code 3925)?
    #[must_use]
    pub fn allo_stato(self) -> bool {
        self == CodiceTributo::GruppoDStato
    }
}

/// One F24 line of the year (section "IMU e altri tributi locali").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RigaF24 {
    /// The codice tributo.
    pub codice: CodiceTributo,
    /// Objects on the line ("numero immobili").
    pub numero_immobili: u16,
    /// Some object on the line changed during the year ("immobili
    /// variati").
    pub immobili_variati: bool,
    /// The year's tax on the line, to the cent, after the detrazione.
    pub annuo: Cents,
    /// The detrazione used on the line for the year (3912 only).
    pub detrazione: Cents,
    /// The part of it used in the acconto.
    pub detrazione_acconto: Cents,
    /// The first half-year's tax to the cent (previous year's rates).
    pub acconto_calcolato: Cents,
    /// The acconto to pay, whole euro.
    pub acconto: Cents,
    /// The saldo to pay, whole euro (never below zero).
    pub saldo: Cents,
    /// What the acconto exceeded the year's tax by (a credit), whole euro.
    pub credito: Cents,
    /// The whole year in one payment by 16 June, whole euro.
    pub unica_soluzione: Cents,
}

/// The working of one object, line by line, in Italian.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DettaglioImmobile {
    /// The object's id.
    pub id: String,
    /// Its description.
    pub descrizione: String,
    /// The year's tax on it, to the cent (before the detrazione).
    pub imposta: Cents,
    /// Why it pays nothing, when it does not.
    pub esenzione: Option<String>,
    /// The working ("come è calcolato").
    pub passaggi: Vec<String>,
}

/// The IMU of one taxpayer for one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalcoloImu {
    /// The year.
    pub anno: i16,
    /// The delibera of the rates used for the saldo.
    pub delibera: String,
    /// The delibera of the rates used for the acconto.
    pub delibera_acconto: String,
    /// Per object.
    pub immobili: Vec<DettaglioImmobile>,
    /// Per F24 line, in code order.
    pub righe: Vec<RigaF24>,
    /// Σ of the lines' year tax, to the cent.
    pub totale_annuo: Cents,
    /// Σ acconto to pay.
    pub acconto: Cents,
    /// Σ saldo to pay.
    pub saldo: Cents,
    /// Below the minimum: nothing is paid.
    pub sotto_minimo: bool,
    /// Notes for the citizen (the minimum, a credit, 2020's acconto).
    pub note: Vec<String>,
}

/// At most `N` values, inline: a month's lines and reductions, without
/// allocating (100,000 units × 12 months × 2 rate sets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Few<T: Copy, const N: usize>([Option<T>; N]);

impl<T: Copy, const N: usize> Few<T, N> {
    const EMPTY: Self = Few([None; N]);

    fn push(&mut self, v: T) {
        if let Some(slot) = self.0.iter_mut().find(|s| s.is_none()) {
            *slot = Some(v);
        }
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.0.iter().flatten()
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }

    fn first(&self) -> Option<&T> {
        self.iter().next()
    }

    fn of(values: &[T]) -> Self {
        let mut out = Self::EMPTY;
        for v in values {
            out.push(*v);
        }
        out
    }
}

/// How one month of one possession is taxed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mese {
    /// The lines it goes to, with their rate.
    righe: Few<(CodiceTributo, Aliquota), 2>,
    base: Exact,
    quota: Quota,
    /// Multiplier of the base (c.747), as text and value.
    riduzioni_base: Few<&'static str, 3>,
    fattore_base: Exact,
    /// Multiplier of the tax (c.760, pensioners).
    riduzioni_imposta: Few<&'static str, 2>,
    fattore_imposta: Exact,
    /// Counts for the detrazione (abitazione principale A/1, A/8, A/9),
    /// with the holders living there.
    detrazione: Option<u8>,
}

/// A month's situation, before the rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Classe {
    Esente(&'static str),
    AbitazioneLusso { residenti: u8 },
    PertinenzaLusso,
    Rurale,
    BeneMerce,
    GruppoD,
    Terreno,
    Area,
    Altro,
}

fn months_of<T: Copy>(anno: i16, valori: &[(Date, T)]) -> [Option<T>; 12] {
    // Each value holds from its date to the day before the next one; a
    // month takes the value of the c.761 rule (the same as possession).
    let mut sorted: Vec<(Date, T)> = valori.to_vec();
    sorted.sort_by_key(|(d, _)| *d);
    let mut out = [None; 12];
    for (i, (dal, v)) in sorted.iter().enumerate() {
        let al = sorted.get(i + 1).and_then(|(d, _)| d.yesterday().ok());
        if let Ok(mesi) = mesi_di_possesso(anno, *dal, al) {
            for (m, on) in mesi.iter().enumerate() {
                if *on {
                    out[m] = Some(*v);
                }
            }
        }
    }
    out
}

fn conditions_by_month(
    anno: i16,
    periodi: &[Periodo],
) -> Result<[Vec<Condizione>; 12], TributiError> {
    let mut out: [Vec<Condizione>; 12] = Default::default();
    for p in periodi {
        let mesi = mesi_di_possesso(anno, p.dal, p.al)?;
        for (m, on) in mesi.iter().enumerate() {
            if *on {
                out[m].push(p.condizione);
            }
        }
    }
    Ok(out)
}

fn base_of(oggetto: &Oggetto, anno: i16) -> ([Option<Exact>; 12], String) {
    // Each value's base once, then its months (c.761 rule).
    let bases = |v: &[Valore], f: &dyn Fn(Cents) -> Option<Exact>| {
        let pairs: Vec<(Date, Option<Exact>)> = v.iter().map(|x| (x.dal, f(x.importo))).collect();
        months_of(anno, &pairs).map(Option::flatten)
    };
    match oggetto {
        Oggetto::Fabbricato { categoria, rendite } => {
            let m = categoria.moltiplicatore();
            let months = bases(rendite, &|r| {
                m.map(|m| Exact::cents(r).scale(105 * i128::from(m), 100))
            });
            let text = m.map_or_else(
                || format!("Categoria {categoria}: senza base imponibile come fabbricato"),
                |m| format!("base = rendita catastale × 1,05 × {m} (categoria {categoria}, L. 160/2019 c. 745)"),
            );
            (months, text)
        }
        Oggetto::AreaFabbricabile { valori } => (
            bases(valori, &|v| Some(Exact::cents(v))),
            "base = valore venale in comune commercio al 1° gennaio (c. 746)".to_owned(),
        ),
        Oggetto::TerrenoAgricolo { redditi } => (
            bases(redditi, &|r| Some(Exact::cents(r).scale(125 * 135, 100))),
            "base = reddito dominicale × 1,25 × 135 (c. 746)".to_owned(),
        ),
    }
}

fn classify(
    oggetto: &Oggetto,
    conds: &[Condizione],
    regole: Regole,
    lusso_nel_mese: bool,
    pertinenza_ammessa: bool,
) -> Classe {
    use Condizione as C;
    let has = |c: fn(&Condizione) -> bool| conds.iter().any(c);
    if has(|c| matches!(c, C::Esente)) {
        return Classe::Esente("esente (L. 160/2019 c. 759)");
    }
    match oggetto {
        Oggetto::TerrenoAgricolo { .. } => {
            if has(|c| matches!(c, C::TerrenoEsente)) {
                Classe::Esente("terreno esente (c. 758)")
            } else {
                Classe::Terreno
            }
        }
        Oggetto::AreaFabbricabile { .. } => Classe::Area,
        Oggetto::Fabbricato { categoria, .. } => {
            let cat = *categoria;
            if cat.gruppo() == 'E' {
                return Classe::Esente("categoria E, esente (c. 759)");
            }
            if cat.gruppo() == 'F' {
                return Classe::Esente(
                    "categoria F, senza rendita: non imponibile come fabbricato",
                );
            }
            if let Some(C::AbitazionePrincipale { residenti }) = conds
                .iter()
                .find(|c| matches!(c, C::AbitazionePrincipale { .. }))
            {
                return if cat.di_lusso() {
                    Classe::AbitazioneLusso {
                        residenti: (*residenti).max(1),
                    }
                } else {
                    Classe::Esente("abitazione principale, esente (c. 740)")
                };
            }
            if has(|c| matches!(c, C::Pertinenza)) && cat.pertinenziale() && pertinenza_ammessa {
                return if lusso_nel_mese {
                    Classe::PertinenzaLusso
                } else {
                    Classe::Esente("pertinenza dell'abitazione principale, esente (c. 740)")
                };
            }
            if cat.is('D', 10) || has(|c| matches!(c, C::RuraleStrumentale)) {
                return Classe::Rurale;
            }
            if has(|c| matches!(c, C::BeneMerce)) {
                return if regole.beni_merce_esenti {
                    Classe::Esente("bene merce, esente dal 2022 (c. 751)")
                } else {
                    Classe::BeneMerce
                };
            }
            if cat.gruppo() == 'D' {
                return Classe::GruppoD;
            }
            Classe::Altro
        }
    }
}

fn rate_lines(classe: Classe, r: &Aliquote) -> Few<(CodiceTributo, Aliquota), 2> {
    use CodiceTributo as T;
    match classe {
        Classe::Esente(_) => Few::EMPTY,
        Classe::AbitazioneLusso { .. } | Classe::PertinenzaLusso => {
            Few::of(&[(T::AbitazionePrincipale, r.abitazione_principale)])
        }
        Classe::Rurale => Few::of(&[(T::RuraliStrumentali, r.rurali_strumentali)]),
        Classe::BeneMerce => Few::of(&[(T::BeniMerce, r.beni_merce)]),
        // c.753: 7,6‰ to the State, the rest to the comune.
        Classe::GruppoD => Few::of(&[
            (T::GruppoDStato, QUOTA_STATO_D),
            (
                T::GruppoDComune,
                Aliquota(r.gruppo_d.0.saturating_sub(QUOTA_STATO_D.0)),
            ),
        ]),
        Classe::Terreno => Few::of(&[(T::Terreni, r.terreni)]),
        Classe::Area => Few::of(&[(T::AreeFabbricabili, r.aree_fabbricabili)]),
        Classe::Altro => Few::of(&[(T::AltriFabbricati, r.altri_fabbricati)]),
    }
}

/// Per month and object index: is a pertinenza admitted (the first, in
/// the order given, of each category C/2, C/6, C/7 that month), and is an
/// A/1, A/8, A/9 the abitazione principale that month?
fn pertinenze(
    immobili: &[Immobile],
    conds: &[[Vec<Condizione>; 12]],
) -> ([bool; 12], Vec<[bool; 12]>) {
    let mut lusso = [false; 12];
    let mut ammessa = vec![[false; 12]; immobili.len()];
    for m in 0..12 {
        let mut seen: Vec<u8> = Vec::new();
        for (i, im) in immobili.iter().enumerate() {
            let Oggetto::Fabbricato { categoria, .. } = &im.oggetto else {
                continue;
            };
            if conds[i][m]
                .iter()
                .any(|c| matches!(c, Condizione::AbitazionePrincipale { .. }))
                && categoria.di_lusso()
            {
                lusso[m] = true;
            }
            if categoria.pertinenziale()
                && conds[i][m].contains(&Condizione::Pertinenza)
                && !seen.contains(&categoria.numero())
            {
                seen.push(categoria.numero());
                ammessa[i][m] = true;
            }
        }
    }
    (lusso, ammessa)
}

/// The months of each possession, with how each is taxed under `rates`.
fn monthly(
    anno: i16,
    immobili: &[Immobile],
    regole: Regole,
    rates: &Aliquote,
) -> Result<Vec<Vec<[Option<Mese>; 12]>>, TributiError> {
    let conds: Vec<[Vec<Condizione>; 12]> = immobili
        .iter()
        .map(|im| conditions_by_month(anno, &im.periodi))
        .collect::<Result<_, _>>()?;
    let (lusso, ammessa) = pertinenze(immobili, &conds);
    let mut out = Vec::with_capacity(immobili.len());
    for (i, im) in immobili.iter().enumerate() {
        let (bases, _) = base_of(&im.oggetto, anno);
        let mut per_possesso = Vec::with_capacity(im.possessi.len());
        for p in &im.possessi {
            let mesi = mesi_di_possesso(anno, p.dal, p.al)?;
            let mut months: [Option<Mese>; 12] = Default::default();
            for m in 0..12 {
                let (true, Some(base)) = (mesi[m], bases[m]) else {
                    continue;
                };
                let c = &conds[i][m];
                let classe = classify(&im.oggetto, c, regole, lusso[m], ammessa[i][m]);
                let lusso_unit = matches!(classe, Classe::AbitazioneLusso { .. });
                let mut rid_b = Few::EMPTY;
                let mut fb = Exact::new(1, 1);
                let half = Exact::new(1, 2);
                if c.contains(&Condizione::Storico) {
                    rid_b.push("storico-artistico −50% (c. 747 lett. a)");
                    fb = fb * half;
                }
                if c.contains(&Condizione::Inagibile) {
                    rid_b.push("inagibile −50% (c. 747 lett. b)");
                    fb = fb * half;
                }
                let lusso_cat = matches!(&im.oggetto, Oggetto::Fabbricato { categoria, .. } if categoria.di_lusso());
                if c.contains(&Condizione::Comodato) && !lusso_cat {
                    rid_b.push("comodato a parenti in linea retta −50% (c. 747 lett. c)");
                    fb = fb * half;
                }
                let mut rid_i = Few::EMPTY;
                let mut fi = Exact::new(1, 1);
                if c.contains(&Condizione::CanoneConcordato) {
                    rid_i.push("canone concordato: imposta al 75% (c. 760)");
                    fi = fi.scale(3, 4);
                }
                if c.contains(&Condizione::PensionatoEstero)
                    && let Some((n, d)) = regole.pensionati_esteri
                {
                    rid_i.push(if n * 8 == d * 3 {
                        "pensionato residente all'estero: imposta al 37,5% (L. 234/2021 c. 743)"
                    } else {
                        "pensionato residente all'estero: imposta al 50% (L. 178/2020 c. 48)"
                    });
                    fi = fi.scale(n, d);
                }
                let righe = rate_lines(classe, rates);
                if righe.is_empty() {
                    if let Classe::Esente(_) = classe {
                        months[m] = Some(Mese {
                            righe,
                            base,
                            quota: p.quota,
                            riduzioni_base: Few::of(&[match classe {
                                Classe::Esente(w) => w,
                                _ => "",
                            }]),
                            fattore_base: Exact::ZERO,
                            riduzioni_imposta: Few::EMPTY,
                            fattore_imposta: Exact::ZERO,
                            detrazione: None,
                        });
                    }
                    continue;
                }
                months[m] = Some(Mese {
                    righe,
                    base,
                    quota: p.quota,
                    riduzioni_base: rid_b,
                    fattore_base: fb,
                    riduzioni_imposta: rid_i,
                    fattore_imposta: fi,
                    detrazione: match classe {
                        Classe::AbitazioneLusso { residenti } if lusso_unit => Some(residenti),
                        _ => None,
                    },
                });
            }
            per_possesso.push(months);
        }
        out.push(per_possesso);
    }
    Ok(out)
}

fn month_tax(m: &Mese, rate: Aliquota) -> Exact {
    rate.apply(m.base * m.fattore_base)
        .scale(i128::from(m.quota.num()), i128::from(m.quota.den()) * 12)
        * m.fattore_imposta
}

/// Σ per F24 code over `months` (a month filter), and the detrazione
/// earned: `detrazione × months / 12 / residenti` per object month.
fn totals(
    months: &[Vec<[Option<Mese>; 12]>],
    range: std::ops::Range<usize>,
    detrazione: Cents,
) -> (Vec<(CodiceTributo, Exact)>, Exact) {
    let mut by_code: Vec<(CodiceTributo, Exact)> = Vec::new();
    let mut det = Exact::ZERO;
    for per_possesso in months {
        for ms in per_possesso {
            // Runs of equal months: each run's tax is one month's × its
            // length (exact, so the same as month by month).
            let slice = &ms[range.clone()];
            let mut i = 0;
            while i < slice.len() {
                let Some(m) = &slice[i] else {
                    i += 1;
                    continue;
                };
                let mut n = 1;
                while i + n < slice.len() && slice[i + n].as_ref() == Some(m) {
                    n += 1;
                }
                let n_i = i128::try_from(n).unwrap_or(0);
                for (code, rate) in m.righe.iter() {
                    let t = month_tax(m, *rate).scale(n_i, 1);
                    match by_code.iter_mut().find(|(c, _)| c == code) {
                        Some((_, v)) => *v = *v + t,
                        None => by_code.push((*code, t)),
                    }
                }
                i += n;
            }
        }
        // c.749: the detrazione once per month the object is the
        // abitazione principale, however many possession periods (two
        // shares held at once) cover that month.
        for m in range.clone() {
            if let Some(res) = per_possesso
                .iter()
                .find_map(|ms| ms[m].as_ref().and_then(|x| x.detrazione))
            {
                det = det + Exact::cents(detrazione).scale(1, 12 * i128::from(res));
            }
        }
    }
    by_code.sort_by_key(|(c, _)| *c);
    (by_code, det)
}

fn euro_it(c: Cents) -> String {
    c.to_string()
}

fn month_span(from: usize, to: usize) -> String {
    if from == to {
        format!("{} (1 mese)", MESI[from])
    } else {
        // "ad" before a vowel: da aprile ad agosto.
        let a = if MESI[to].starts_with(['a', 'o']) {
            "ad"
        } else {
            "a"
        };
        format!(
            "da {} {a} {} ({} mesi)",
            MESI[from],
            MESI[to],
            to - from + 1
        )
    }
}

/// The working of one object under the year's rates.
fn working(
    im: &Immobile,
    anno: i16,
    months: &[[Option<Mese>; 12]],
    with_text: bool,
) -> DettaglioImmobile {
    if !with_text {
        // The amounts only: the year's tax on the object and why it is
        // exempt, without the text.
        let mut imposta = Exact::ZERO;
        let mut esenzione = None;
        let mut taxed = false;
        for ms in months {
            for m in ms.iter().flatten() {
                if m.righe.is_empty() {
                    esenzione = esenzione.or(m.riduzioni_base.first().copied());
                } else {
                    taxed = true;
                    for (_, rate) in m.righe.iter() {
                        imposta = imposta + month_tax(m, *rate);
                    }
                }
            }
        }
        return DettaglioImmobile {
            id: im.id.clone(),
            descrizione: im.descrizione.clone(),
            imposta: imposta.round_cents(),
            esenzione: if taxed {
                None
            } else {
                esenzione.map(str::to_owned)
            },
            passaggi: Vec::new(),
        };
    }
    let (_, base_text) = base_of(&im.oggetto, anno);
    let mut passaggi = vec![format!("Calcolo: {base_text}.")];
    let mut imposta = Exact::ZERO;
    let mut esenzioni: Vec<&str> = Vec::new();
    let mut taxed = false;
    for (pi, ms) in months.iter().enumerate() {
        let p = &im.possessi[pi];
        let mut m = 0;
        while m < 12 {
            let Some(cur) = &ms[m] else {
                m += 1;
                continue;
            };
            let mut end = m;
            while end + 1 < 12 && ms[end + 1].as_ref() == Some(cur) {
                end += 1;
            }
            let n = i128::try_from(end - m + 1).unwrap_or(0);
            let span = month_span(m, end);
            if cur.righe.is_empty() {
                let why = cur.riduzioni_base.first().copied().unwrap_or("esente");
                esenzioni.push(why);
                passaggi.push(format!("{span}, quota {}: {why}.", p.quota.percent_it()));
            } else {
                taxed = true;
                let base_r = (cur.base * cur.fattore_base).round_cents();
                let mut head = format!(
                    "{span}, quota {}: base imponibile {}",
                    p.quota.percent_it(),
                    euro_it(cur.base.round_cents())
                );
                if !cur.riduzioni_base.is_empty() {
                    head.push_str(&format!(
                        ", ridotta per {} a {}",
                        cur.riduzioni_base
                            .iter()
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", "),
                        euro_it(base_r)
                    ));
                }
                passaggi.push(head);
                for (code, rate) in cur.righe.iter() {
                    let t = month_tax(cur, *rate) * Exact::new(n, 1);
                    imposta = imposta + t;
                    let mut line = format!(
                        "  codice {}: {} × {} × {} × {}/12",
                        code.code(),
                        euro_it(base_r),
                        rate.it(),
                        cur.quota.percent_it(),
                        n
                    );
                    for r in cur.riduzioni_imposta.iter() {
                        line.push_str(&format!(", {r}"));
                    }
                    line.push_str(&format!(" = {}", euro_it(t.round_cents())));
                    passaggi.push(line);
                }
            }
            m = end + 1;
        }
    }
    if im.possessi.is_empty() || months.iter().all(|ms| ms.iter().all(Option::is_none)) {
        passaggi.push(format!("Nessun mese di possesso nel {anno} (c. 761)."));
    }
    DettaglioImmobile {
        id: im.id.clone(),
        descrizione: im.descrizione.clone(),
        imposta: imposta.round_cents(),
        esenzione: (!taxed && !esenzioni.is_empty()).then(|| esenzioni[0].to_owned()),
        passaggi,
    }
}

/// The IMU of one taxpayer for `anno`: `immobili` with their possession,
/// `aliquote` of the year, and `aliquote_precedenti` (the previous year's)
/// for the acconto (c.762; when they are not known the year's own are
/// used, and a note says so).
///
/// # Errors
/// [`TributiError::Anno`] before 2020; [`TributiError::Periodo`] for a
/// reversed period; the rates' [`Aliquote::valida`] errors.
pub fn calcola(
    anno: i16,
    immobili: &[Immobile],
    aliquote: &Aliquote,
    aliquote_precedenti: Option<&Aliquote>,
) -> Result<CalcoloImu, TributiError> {
    calcola_con(anno, immobili, aliquote, aliquote_precedenti, true)
}

/// [`calcola`] without the working: the same amounts and notes, each
/// object's [`DettaglioImmobile::passaggi`] empty. For batches (notices,
/// positions of a whole comune) that show no working.
///
/// # Errors
/// As [`calcola`].
pub fn calcola_importi(
    anno: i16,
    immobili: &[Immobile],
    aliquote: &Aliquote,
    aliquote_precedenti: Option<&Aliquote>,
) -> Result<CalcoloImu, TributiError> {
    calcola_con(anno, immobili, aliquote, aliquote_precedenti, false)
}

fn calcola_con(
    anno: i16,
    immobili: &[Immobile],
    aliquote: &Aliquote,
    aliquote_precedenti: Option<&Aliquote>,
    passaggi: bool,
) -> Result<CalcoloImu, TributiError> {
    let regole = Regole::di(anno)?;
    aliquote.valida()?;
    let acc_rates = aliquote_precedenti.unwrap_or(aliquote);
    acc_rates.valida()?;
    let year = monthly(anno, immobili, regole, aliquote)?;
    let first_half = monthly(anno, immobili, regole, acc_rates)?;
    let (year_codes, year_det) = totals(&year, 0..12, aliquote.detrazione);
    let (acc_codes, acc_det) = totals(&first_half, 0..6, acc_rates.detrazione);

    let mut note = Vec::new();
    if aliquote_precedenti.is_none() && regole.acconto_ordinario {
        note.push(format!(
            "Acconto calcolato con le aliquote del {anno}: quelle del {} non sono disponibili.",
            anno - 1
        ));
    }
    if !regole.acconto_ordinario {
        note.push(
            "Per il 2020 l'acconto era pari alla metà di IMU e TASI versate per il 2019 (c. 762): qui è indicato l'importo dovuto per l'anno intero a saldo."
                .to_owned(),
        );
    }

    let mut righe = Vec::new();
    for (code, annual) in &year_codes {
        let acc = acc_codes
            .iter()
            .find(|(c, _)| c == code)
            .map_or(Exact::ZERO, |(_, v)| *v);
        // c.749: the detrazione goes on the 3912 line and cannot exceed
        // its tax.
        let (annual, det, acc, det_acc) = if *code == CodiceTributo::AbitazionePrincipale {
            let d = year_det.min(*annual);
            let da = acc_det.min(acc);
            (*annual - d, d, acc - da, da)
        } else {
            (*annual, Exact::ZERO, acc, Exact::ZERO)
        };
        let annuo = annual.round_cents();
        let acconto_calcolato = if regole.acconto_ordinario {
            acc.round_cents()
        } else {
            Cents::ZERO
        };
        let acconto = round_euro(acconto_calcolato);
        let year_euro = round_euro(annuo);
        let diff = year_euro.cents() - acconto.cents();
        // "Immobili variati": an object on the line whose situation or
        // possession changed during the year.
        let on_line = |i: usize| {
            year[i].iter().any(|ms| {
                ms.iter()
                    .flatten()
                    .any(|m| m.righe.iter().any(|(c, _)| c == code))
            })
        };
        let variati = (0..immobili.len()).filter(|i| on_line(*i)).any(|i| {
            year[i].len() > 1
                || year[i]
                    .iter()
                    .any(|ms| ms.iter().any(|m| m.as_ref() != ms[0].as_ref()))
        });
        let n = (0..immobili.len()).filter(|i| on_line(*i)).count();
        righe.push(RigaF24 {
            codice: *code,
            numero_immobili: u16::try_from(n).unwrap_or(u16::MAX),
            immobili_variati: variati,
            annuo,
            detrazione: det.round_cents(),
            detrazione_acconto: if regole.acconto_ordinario {
                det_acc.round_cents()
            } else {
                Cents::ZERO
            },
            acconto_calcolato,
            acconto,
            saldo: Cents::from_cents(diff.max(0)),
            credito: Cents::from_cents((-diff).max(0)),
            unica_soluzione: year_euro,
        });
    }
    fn sum(righe: &[RigaF24], f: fn(&RigaF24) -> Cents) -> Cents {
        Cents::from_cents(righe.iter().map(|r| f(r).cents()).sum())
    }
    let totale_annuo = sum(&righe, |r| r.annuo);
    let credito = sum(&righe, |r| r.credito);
    let due = sum(&righe, |r| r.unica_soluzione);
    let sotto_minimo = due < aliquote.versamento_minimo && !righe.is_empty();
    if sotto_minimo {
        note.push(format!(
            "L'imposta dell'anno ({}) è inferiore al versamento minimo di {}: non è dovuto nulla.",
            due, aliquote.versamento_minimo
        ));
        for r in &mut righe {
            r.acconto = Cents::ZERO;
            r.saldo = Cents::ZERO;
            r.credito = Cents::ZERO;
            r.unica_soluzione = Cents::ZERO;
        }
    } else if credito > Cents::ZERO {
        note.push(format!(
            "Con le aliquote del {anno} l'acconto supera l'imposta dell'anno: {credito} a credito (non si versa saldo su quel codice)."
        ));
    }
    let immobili_out = immobili
        .iter()
        .enumerate()
        .map(|(i, im)| working(im, anno, &year[i], passaggi))
        .collect();
    Ok(CalcoloImu {
        anno,
        delibera: aliquote.delibera.clone(),
        delibera_acconto: acc_rates.delibera.clone(),
        immobili: immobili_out,
        acconto: sum(&righe, |r| r.acconto),
        saldo: sum(&righe, |r| r.saldo),
        righe,
        totale_annuo,
        sotto_minimo,
        note,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn c(x: i64) -> Cents {
        Cents::from_cents(x)
    }

    fn fabbricato(cat: &str, rendita: i64) -> Oggetto {
        Oggetto::Fabbricato {
            categoria: Categoria::parse(cat).unwrap(),
            rendite: vec![Valore {
                dal: date(2000, 1, 1),
                importo: c(rendita),
            }],
        }
    }

    fn whole_year(id: &str, oggetto: Oggetto, periodi: Vec<Periodo>) -> Immobile {
        Immobile {
            id: id.into(),
            descrizione: id.into(),
            oggetto,
            possessi: vec![Possesso {
                dal: date(2010, 1, 1),
                al: None,
                quota: Quota::INTERA,
            }],
            periodi,
        }
    }

    fn always(condizione: Condizione) -> Periodo {
        Periodo {
            dal: date(2010, 1, 1),
            al: None,
            condizione,
        }
    }

    fn rates(anno: i16) -> Aliquote {
        Aliquote {
            altri_fabbricati: Aliquota(1060),
            gruppo_d: Aliquota(1060),
            ..Aliquote::di_base(anno)
        }
    }

    fn line(calc: &CalcoloImu, code: CodiceTributo) -> &RigaF24 {
        calc.righe.iter().find(|r| r.codice == code).unwrap()
    }

    #[test]
    fn amounts_only_agree_with_the_full_working() {
        let home = whole_year(
            "villa",
            fabbricato("A/1", 200_000),
            vec![always(Condizione::AbitazionePrincipale { residenti: 1 })],
        );
        let exempt = whole_year(
            "casa",
            fabbricato("A/2", 100_000),
            vec![always(Condizione::AbitazionePrincipale { residenti: 1 })],
        );
        let shop = whole_year("negozio", fabbricato("C/1", 150_000), vec![]);
        let units = [home, exempt, shop];
        let full = calcola(2026, &units, &rates(2026), Some(&rates(2025))).unwrap();
        let mut amounts = calcola_importi(2026, &units, &rates(2026), Some(&rates(2025))).unwrap();
        assert!(amounts.immobili.iter().all(|d| d.passaggi.is_empty()));
        for (a, f) in amounts.immobili.iter_mut().zip(&full.immobili) {
            a.passaggi.clone_from(&f.passaggi);
        }
        assert_eq!(amounts, full);
    }

    #[test]
    fn multipliers_c745() {
        let m = |s: &str| Categoria::parse(s).unwrap().moltiplicatore();
        for (cat, want) in [
            ("A/2", Some(160)),
            ("A/1", Some(160)),
            ("A/11", Some(160)),
            ("A/10", Some(80)),
            ("C/2", Some(160)),
            ("C/6", Some(160)),
            ("C/7", Some(160)),
            ("B/1", Some(140)),
            ("C/3", Some(140)),
            ("C/4", Some(140)),
            ("C/5", Some(140)),
            ("D/1", Some(65)),
            ("D/10", Some(65)),
            ("D/5", Some(80)),
            ("C/1", Some(55)),
            ("E/1", None),
            ("F/2", None),
        ] {
            assert_eq!(m(cat), want, "{cat}");
        }
        assert_eq!(Categoria::parse("a2").unwrap().to_string(), "A/2");
        for bad in ["", "A", "A/0", "A/12", "G/1", "C/8", "D/11", "A/1x"] {
            assert!(Categoria::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn example_i11_shop() {
        // I-11: C/1, rendita €1,500, rate 10.6‰: base 86,625, IMU 918.23.
        let calc = calcola(
            2026,
            &[whole_year("negozio", fabbricato("C/1", 150_000), vec![])],
            &rates(2026),
            Some(&rates(2025)),
        )
        .unwrap();
        let r = line(&calc, CodiceTributo::AltriFabbricati);
        assert_eq!(r.annuo, c(91_823));
        assert_eq!(r.unica_soluzione, c(91_800));
        // Acconto: 918.225 / 2 = 459.1125 → 459.11 → €459; saldo 918 − 459.
        assert_eq!(r.acconto_calcolato, c(45_911));
        assert_eq!((r.acconto, r.saldo), (c(45_900), c(45_900)));
        assert_eq!(r.numero_immobili, 1);
        assert!(!r.immobili_variati);
        let w = &calc.immobili[0].passaggi.join("\n");
        assert!(w.contains("86.625,00 €"), "{w}");
        assert!(w.contains("10,6‰"), "{w}");
        assert!(w.contains("918,23 €"), "{w}");
        assert!(w.contains("da gennaio a dicembre (12 mesi)"), "{w}");
    }

    #[test]
    fn example_i14_agricultural_land() {
        // I-14: reddito dominicale €100, 7.6‰: base 16,875, IMU 128.25.
        let land = Oggetto::TerrenoAgricolo {
            redditi: vec![Valore {
                dal: date(2000, 1, 1),
                importo: c(10_000),
            }],
        };
        let calc = calcola(
            2026,
            &[whole_year("terreno", land.clone(), vec![])],
            &Aliquote::di_base(2026),
            None,
        )
        .unwrap();
        assert_eq!(line(&calc, CodiceTributo::Terreni).annuo, c(12_825));
        assert!(calc.note[0].contains("aliquote del 2026"));
        // Farmed by a CD/IAP: exempt (c.758).
        let calc = calcola(
            2026,
            &[whole_year(
                "terreno",
                land,
                vec![always(Condizione::TerrenoEsente)],
            )],
            &Aliquote::di_base(2026),
            None,
        )
        .unwrap();
        assert!(calc.righe.is_empty());
        assert!(
            calc.immobili[0]
                .esenzione
                .as_deref()
                .unwrap()
                .contains("c. 758")
        );
    }

    #[test]
    fn example_i8_group_d_split_and_rounding() {
        // A D/1 at 9,8‰ whose State line (7,6‰) comes to 200.50: each
        // line is rounded to the euro on its own (L. 296/2006 c.166).
        let mut r = rates(2026);
        r.gruppo_d = Aliquota(980);
        let calc = calcola(
            2026,
            &[whole_year("capannone", fabbricato("D/1", 38_654), vec![])],
            &r,
            Some(&r),
        )
        .unwrap();
        // base = 386.54 × 1.05 × 65 = 26,381.355
        let stato = line(&calc, CodiceTributo::GruppoDStato);
        let comune = line(&calc, CodiceTributo::GruppoDComune);
        assert_eq!(stato.annuo, c(20_050)); // 200.4983 → 200.50
        assert_eq!(stato.unica_soluzione, c(20_100));
        assert_eq!(comune.annuo, c(5_804)); // 58.039 → 58.04
        assert_eq!(comune.unica_soluzione, c(5_800));
        assert!(stato.codice.allo_stato() && !comune.codice.allo_stato());
        // D/5 (banks) uses 80; D/10 is rurale strumentale (3913).
        let calc = calcola(
            2026,
            &[whole_year("stalla", fabbricato("D/10", 100_000), vec![])],
            &r,
            Some(&r),
        )
        .unwrap();
        // 1,000 × 1.05 × 65 × 1‰ = 68.25
        assert_eq!(
            line(&calc, CodiceTributo::RuraliStrumentali).annuo,
            c(6_825)
        );
    }

    #[test]
    fn transfers_split_the_months() {
        // Bought on 16 April 2026 (I-6: the buyer has April), sold on 16
        // September (the buyer of September is the other party): April to
        // August = 5 months.
        let im = Immobile {
            possessi: vec![Possesso {
                dal: date(2026, 4, 16),
                al: Some(date(2026, 9, 15)),
                quota: Quota::INTERA,
            }],
            ..whole_year("casa", fabbricato("A/2", 100_000), vec![])
        };
        let calc = calcola(2026, &[im], &rates(2026), Some(&rates(2025))).unwrap();
        let r = line(&calc, CodiceTributo::AltriFabbricati);
        // 168,000 × 10.6‰ × 5/12 = 742.00; acconto: April–June, 3 months:
        // 445.20 → 445; saldo 742 − 445 = 297.
        assert_eq!(r.annuo, c(74_200));
        assert_eq!(r.acconto, c(44_500));
        assert_eq!(r.saldo, c(29_700));
        assert!(r.immobili_variati);
        let w = calc.immobili[0].passaggi.join("\n");
        assert!(w.contains("da aprile ad agosto (5 mesi)"), "{w}");
    }

    #[test]
    fn luxury_main_home_with_detrazione_and_pertinenze() {
        // A/1 rendita €2,000, main home of two co-resident owners at 50%
        // each; the taxpayer is one of them. Rate 6‰, detrazione €200.
        // Base 336,000 × 6‰ × 50% = 1,008.00; detrazione 200 / 2 = 100.
        let mut r = rates(2026);
        r.abitazione_principale = Aliquota(600);
        let half = Quota::new(1, 2).unwrap();
        let villa = Immobile {
            possessi: vec![Possesso {
                dal: date(2010, 1, 1),
                al: None,
                quota: half,
            }],
            ..whole_year(
                "villa",
                fabbricato("A/1", 200_000),
                vec![always(Condizione::AbitazionePrincipale { residenti: 2 })],
            )
        };
        // Two C/6 garages as pertinenze: only the first is one (c.741);
        // the second pays as altro fabbricato. A C/2 is a pertinenza too.
        let box1 = whole_year(
            "box1",
            fabbricato("C/6", 10_000),
            vec![always(Condizione::Pertinenza)],
        );
        let box2 = whole_year(
            "box2",
            fabbricato("C/6", 10_000),
            vec![always(Condizione::Pertinenza)],
        );
        let cantina = whole_year(
            "cantina",
            fabbricato("C/2", 5_000),
            vec![always(Condizione::Pertinenza)],
        );
        let calc = calcola(2026, &[villa, box1, box2, cantina], &r, Some(&r)).unwrap();
        let ap = line(&calc, CodiceTributo::AbitazionePrincipale);
        // 1,008.00 + box1 16,800 × 6‰ = 100.80 + cantina 8,400 × 6‰ =
        // 50.40 → 1,159.20 − 100 = 1,059.20.
        assert_eq!(ap.detrazione, c(10_000));
        assert_eq!(ap.annuo, c(105_920));
        assert_eq!(ap.numero_immobili, 3);
        // Acconto: half of each, detrazione 50: 579.60 − 50 = 529.60 → 530.
        assert_eq!(ap.acconto, c(53_000));
        assert_eq!(ap.saldo, c(105_900 - 53_000));
        let other = line(&calc, CodiceTributo::AltriFabbricati);
        assert_eq!(other.annuo, c(17_808)); // 16,800 × 10.6‰
        // An ordinary main home (A/2) and its garage pay nothing.
        let casa = whole_year(
            "casa",
            fabbricato("A/2", 100_000),
            vec![always(Condizione::AbitazionePrincipale { residenti: 1 })],
        );
        let garage = whole_year(
            "garage",
            fabbricato("C/6", 10_000),
            vec![always(Condizione::Pertinenza)],
        );
        let calc = calcola(2026, &[casa, garage], &r, Some(&r)).unwrap();
        assert!(calc.righe.is_empty());
        assert_eq!(calc.totale_annuo, Cents::ZERO);
        assert!(
            calc.immobili[0]
                .esenzione
                .as_deref()
                .unwrap()
                .contains("c. 740")
        );
    }

    #[test]
    fn detrazione_once_per_month_whatever_the_shares() {
        // An A/1 main home: half held since 2010, the other half inherited
        // on 1 January 2026; both periods cover every month. The tax is
        // the whole unit's (336,000 × 5‰ = 1,680), the detrazione 200 once.
        let mut villa = whole_year(
            "villa",
            fabbricato("A/1", 200_000),
            vec![always(Condizione::AbitazionePrincipale { residenti: 1 })],
        );
        let half = Quota::new(1, 2).unwrap();
        villa.possessi = vec![
            Possesso {
                dal: date(2010, 1, 1),
                al: None,
                quota: half,
            },
            Possesso {
                dal: date(2026, 1, 1),
                al: None,
                quota: half,
            },
        ];
        let r = Aliquote::di_base(2026);
        let calc = calcola(2026, &[villa], &r, Some(&r)).unwrap();
        let ap = line(&calc, CodiceTributo::AbitazionePrincipale);
        assert_eq!(ap.detrazione, c(20_000));
        assert_eq!(ap.annuo, c(148_000));
        assert_eq!(ap.detrazione_acconto, c(10_000));
    }

    #[test]
    fn detrazione_never_exceeds_the_tax() {
        // A/8 with a tiny rendita: tax 84.00 < detrazione 200: the line is
        // zero, not negative, and only 84.00 of the detrazione is used.
        let home = whole_year(
            "casa",
            fabbricato("A/8", 10_000),
            vec![always(Condizione::AbitazionePrincipale { residenti: 1 })],
        );
        let calc = calcola(2026, &[home], &rates(2026), Some(&rates(2026))).unwrap();
        let ap = line(&calc, CodiceTributo::AbitazionePrincipale);
        assert_eq!(ap.annuo, Cents::ZERO);
        assert_eq!(ap.detrazione, c(8_400)); // 16,800 × 5‰
        assert_eq!(ap.acconto, Cents::ZERO);
    }

    #[test]
    fn reductions_c747_and_c760() {
        let r = rates(2026);
        let base_tax = 178_080; // A/2 rendita 1,000: 168,000 × 10.6‰
        let one = |conds: Vec<Condizione>| {
            let im = whole_year(
                "casa",
                fabbricato("A/2", 100_000),
                conds.into_iter().map(always).collect(),
            );
            calcola(2026, &[im], &r, Some(&r))
                .unwrap()
                .totale_annuo
                .cents()
        };
        assert_eq!(one(vec![]), base_tax);
        assert_eq!(one(vec![Condizione::Storico]), base_tax / 2);
        assert_eq!(one(vec![Condizione::Comodato]), base_tax / 2);
        assert_eq!(one(vec![Condizione::CanoneConcordato]), base_tax * 3 / 4);
        assert_eq!(
            one(vec![Condizione::Storico, Condizione::Inagibile]),
            base_tax / 4
        );
        assert_eq!(one(vec![Condizione::PensionatoEstero]), base_tax / 2);
        assert_eq!(one(vec![Condizione::Esente]), 0);
        // Inagibile for March–June only: 8 months full, 4 at half.
        let im = whole_year(
            "casa",
            fabbricato("A/2", 100_000),
            vec![Periodo {
                dal: date(2026, 3, 1),
                al: Some(date(2026, 6, 30)),
                condizione: Condizione::Inagibile,
            }],
        );
        let calc = calcola(2026, &[im], &r, Some(&r)).unwrap();
        assert_eq!(
            calc.totale_annuo.cents(),
            base_tax * 8 / 12 + base_tax * 4 / 24
        );
        // Pensioners abroad pay 37.5% in 2022.
        let im = whole_year(
            "casa",
            fabbricato("A/2", 100_000),
            vec![always(Condizione::PensionatoEstero)],
        );
        let r22 = rates(2022);
        let calc = calcola(2022, &[im], &r22, Some(&r22)).unwrap();
        assert_eq!(calc.totale_annuo.cents(), base_tax * 3 / 8);
    }

    #[test]
    fn beni_merce_by_year() {
        let im = whole_year(
            "nuovo",
            fabbricato("A/2", 100_000),
            vec![always(Condizione::BeneMerce)],
        );
        let r21 = Aliquote::di_base(2021);
        let calc = calcola(2021, std::slice::from_ref(&im), &r21, Some(&r21)).unwrap();
        // 168,000 × 1‰ = 168.00 on 3939.
        assert_eq!(line(&calc, CodiceTributo::BeniMerce).annuo, c(16_800));
        let r22 = Aliquote::di_base(2022);
        let calc = calcola(2022, &[im], &r22, Some(&r22)).unwrap();
        assert!(calc.righe.is_empty());
    }

    #[test]
    fn acconto_at_last_years_rates_and_credit() {
        // 2025: 10.6‰; 2026: 7.6‰. A/2 rendita 1,000 (base 168,000).
        // Acconto = 168,000 × 10.6‰ / 2 = 890.40 → 890; year 1,276.80 →
        // 1,277; saldo 387.
        let im = whole_year("casa", fabbricato("A/2", 100_000), vec![]);
        let mut r26 = rates(2026);
        r26.altri_fabbricati = Aliquota(760);
        let calc = calcola(2026, std::slice::from_ref(&im), &r26, Some(&rates(2025))).unwrap();
        let r = line(&calc, CodiceTributo::AltriFabbricati);
        assert_eq!(
            (r.acconto, r.annuo, r.saldo),
            (c(89_000), c(127_680), c(38_700))
        );
        // Rates cut to 4‰: year 672 < acconto 890: saldo 0, 218 credit.
        r26.altri_fabbricati = Aliquota(400);
        let calc = calcola(2026, &[im], &r26, Some(&rates(2025))).unwrap();
        let r = line(&calc, CodiceTributo::AltriFabbricati);
        assert_eq!((r.saldo, r.credito), (Cents::ZERO, c(21_800)));
        assert!(calc.note.iter().any(|n| n.contains("a credito")));
    }

    #[test]
    fn minimum_and_rules_by_year() {
        // A C/6 of rendita €5: 840 × 10.6‰ = 8.90 < €12: nothing due.
        let im = whole_year("posto auto", fabbricato("C/6", 500), vec![]);
        let calc = calcola(2026, &[im], &rates(2026), Some(&rates(2026))).unwrap();
        assert!(calc.sotto_minimo);
        assert_eq!((calc.acconto, calc.saldo), (Cents::ZERO, Cents::ZERO));
        assert_eq!(calc.totale_annuo, c(890));
        assert!(matches!(
            calcola(2019, &[], &rates(2019), None),
            Err(TributiError::Anno(2019))
        ));
        // Rates out of the law's range are refused (c.753: D at least 7.6‰).
        let mut r = rates(2026);
        r.gruppo_d = Aliquota(700);
        assert!(matches!(
            calcola(2026, &[], &r, None),
            Err(TributiError::AliquotaFuoriRange { .. })
        ));
        r.gruppo_d = Aliquota(1060);
        r.altri_fabbricati = Aliquota(1140);
        assert!(r.valida().is_err());
        r.maggiorazione_ex_tasi = true;
        assert!(r.valida().is_ok());
    }

    #[test]
    fn a_rendita_changed_during_the_year() {
        // Works ended on 10 July 2026: from July the new rendita (July has
        // 22 of 31 days at the new one).
        let im = whole_year(
            "casa",
            Oggetto::Fabbricato {
                categoria: Categoria::parse("A/2").unwrap(),
                rendite: vec![
                    Valore {
                        dal: date(2000, 1, 1),
                        importo: c(100_000),
                    },
                    Valore {
                        dal: date(2026, 7, 10),
                        importo: c(160_000),
                    },
                ],
            },
            vec![],
        );
        let calc = calcola(2026, &[im], &rates(2026), Some(&rates(2026))).unwrap();
        // 6 × 168,000 + 6 × 268,800, × 10.6‰ / 12 = 890.40 + 1,424.64.
        assert_eq!(calc.totale_annuo, c(89_040 + 142_464));
    }

    #[test]
    fn due_dates_move_past_saturdays_and_festivi() {
        use jiff::civil::date;
        // 16 June 2024 a Sunday; 2026 both on weekdays; 2029 a Saturday
        // and a Sunday.
        assert_eq!(scadenze(2024), (date(2024, 6, 17), date(2024, 12, 16)));
        assert_eq!(scadenze(2026), (date(2026, 6, 16), date(2026, 12, 16)));
        assert_eq!(scadenze(2029), (date(2029, 6, 18), date(2029, 12, 17)));
    }
}
