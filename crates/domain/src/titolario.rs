//! The 2005 titolario (piano di classificazione) for comuni, the
//! classification codes built on it, and fascicolo identifiers.
//!
//! Source: "Piano di classificazione per gli archivi dei Comuni italiani"
//! (2005): 14 titoli, each with its classes; titolo XIV "Oggetti diversi"
//! has none. The names are those of `protocol-documents.md` §7.1 (requirement
//! TI-1); the local Formez addition "XV – Non classificati" is deliberately
//! **not** part of it.
//!
//! | type | what it is |
//! |---|---|
//! | [`TITOLARIO_2005`] | the 14 [`Titolo`]s with their [`Classe`]s, as static data |
//! | [`ClassCode`] | a classification that exists in the titolario (`I.6`, `XIV`), the `Classifica/CodiceFlat` of the segnatura |
//! | [`FascicoloId`] | identifier of a fascicolo, `YYYY-<titolo>.<classe>-<n>` (TI-4) |
//!
//! **Classification rule.** A document is classified at the lowest level of
//! the titolario: a titolo that has classes needs one (`I` alone is
//! refused, `I.6` is accepted); a titolo without classes (only XIV) is
//! classified at titolo level (`XIV` is accepted, `XIV.1` refused).
//!
//! Every code is relative to the 2005 edition; when a comune publishes a
//! different version of its titolario (TI-3), the version travels next to
//! the code (`PianoDiClassificazione`), not inside it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::Coded;

// ---------------------------------------------------------------------------
// Static data
// ---------------------------------------------------------------------------

/// A titolo (first level) of the titolario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Titolo {
    /// Number of the titolo, 1–14.
    pub numero: u8,
    /// The Roman numeral used in codes, e.g. `"VI"`.
    pub romano: &'static str,
    /// Official name, e.g. "Pianificazione e gestione del territorio".
    pub nome: &'static str,
    /// The classes, numbered from 1 without gaps; empty for XIV.
    pub classi: &'static [Classe],
}

/// A classe (second level) of a [`Titolo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Classe {
    /// Number of the class within its titolo, from 1.
    pub numero: u8,
    /// Official name, e.g. "Edilizia privata".
    pub nome: &'static str,
}

impl Titolo {
    /// The class numbered `numero`, if this titolo has it.
    #[must_use]
    pub fn classe(&self, numero: u8) -> Option<&'static Classe> {
        self.classi.iter().find(|c| c.numero == numero)
    }

    /// Whether documents are classified at titolo level (the titolo has no
    /// classes: only XIV "Oggetti diversi").
    #[must_use]
    pub fn classificabile_al_titolo(&self) -> bool {
        self.classi.is_empty()
    }
}

/// The titolo numbered `numero` (1–14), if any.
#[must_use]
pub fn titolo(numero: u8) -> Option<&'static Titolo> {
    TITOLARIO_2005.iter().find(|t| t.numero == numero)
}

/// A [`Classe`], short to keep the tables below one line per class.
const fn cl(numero: u8, nome: &'static str) -> Classe {
    Classe { numero, nome }
}

static CLASSI_I: [Classe; 17] = [
    cl(1, "Legislazione e circolari esplicative"),
    cl(
        2,
        "Denominazione, territorio e confini, circoscrizioni di decentramento, toponomastica",
    ),
    cl(3, "Statuto"),
    cl(4, "Regolamenti"),
    cl(5, "Stemma, gonfalone, sigillo"),
    cl(6, "Archivio generale"),
    cl(7, "Sistema informativo"),
    cl(8, "Informazioni e relazioni con il pubblico"),
    cl(
        9,
        "Politica del personale; ordinamento degli uffici e dei servizi",
    ),
    cl(
        10,
        "Relazioni con le organizzazioni sindacali e di rappresentanza del personale",
    ),
    cl(11, "Controlli interni ed esterni"),
    cl(
        12,
        "Editoria e attività informativo-promozionale interna ed esterna",
    ),
    cl(
        13,
        "Cerimoniale, attività di rappresentanza; onorificenze e riconoscimenti",
    ),
    cl(
        14,
        "Interventi di carattere politico e umanitario; rapporti istituzionali",
    ),
    cl(
        15,
        "Forme associative e partecipative per l'esercizio di funzioni e servizi e adesione del Comune ad Associazioni",
    ),
    cl(16, "Area e città metropolitana"),
    cl(17, "Associazionismo e partecipazione"),
];

static CLASSI_II: [Classe; 22] = [
    cl(1, "Sindaco"),
    cl(2, "Vice-Sindaco"),
    cl(3, "Consiglio"),
    cl(4, "Presidente del Consiglio"),
    cl(5, "Conferenza dei capigruppo e Commissioni del Consiglio"),
    cl(6, "Gruppi consiliari"),
    cl(7, "Giunta"),
    cl(8, "Commissario prefettizio e straordinario"),
    cl(9, "Segretario e Vice-segretario"),
    cl(10, "Direttore generale e dirigenza"),
    cl(11, "Revisori dei conti"),
    cl(12, "Difensore civico"),
    cl(13, "Commissario ad acta"),
    cl(14, "Organi di controllo interni"),
    cl(15, "Organi consultivi"),
    cl(16, "Consigli circoscrizionali"),
    cl(17, "Presidente dei Consigli circoscrizionali"),
    cl(18, "Organi esecutivi circoscrizionali"),
    cl(19, "Commissioni dei Consigli circoscrizionali"),
    cl(20, "Segretari delle circoscrizioni"),
    cl(21, "Commissario ad acta delle circoscrizioni"),
    cl(22, "Conferenza dei Presidenti di quartiere"),
];

static CLASSI_III: [Classe; 15] = [
    cl(1, "Concorsi, selezioni, colloqui"),
    cl(2, "Assunzioni e cessazioni"),
    cl(3, "Comandi e distacchi; mobilità"),
    cl(4, "Attribuzione di funzioni, ordini di servizio e missioni"),
    cl(
        5,
        "Inquadramenti e applicazione contratti collettivi di lavoro",
    ),
    cl(6, "Retribuzioni e compensi"),
    cl(7, "Trattamento fiscale, contributivo e assicurativo"),
    cl(8, "Tutela della salute e sicurezza sul luogo di lavoro"),
    cl(9, "Dichiarazioni di infermità ed equo indennizzo"),
    cl(
        10,
        "Indennità premio di servizio e trattamento di fine rapporto, quiescenza",
    ),
    cl(11, "Servizi al personale su richiesta"),
    cl(12, "Orario di lavoro, presenze e assenze"),
    cl(13, "Giudizi, responsabilità e provvedimenti disciplinari"),
    cl(14, "Formazione e aggiornamento professionale"),
    cl(15, "Collaboratori esterni"),
];

static CLASSI_IV: [Classe; 14] = [
    cl(1, "Bilancio preventivo e PEG"),
    cl(2, "Gestione del bilancio e del PEG"),
    cl(3, "Gestione delle entrate"),
    cl(4, "Gestione della spesa"),
    cl(5, "Partecipazioni finanziarie"),
    cl(6, "Rendiconto della gestione"),
    cl(7, "Adempimenti fiscali, contributivi e assicurativi"),
    cl(8, "Beni immobili"),
    cl(9, "Beni mobili"),
    cl(10, "Economato"),
    cl(11, "Oggetti smarriti e recuperati"),
    cl(12, "Tesoreria"),
    cl(
        13,
        "Concessionari ed altri incaricati della riscossione delle entrate",
    ),
    cl(14, "Pubblicità e pubbliche affissioni"),
];

static CLASSI_V: [Classe; 3] = [
    cl(1, "Contenzioso"),
    cl(
        2,
        "Responsabilità civile e patrimoniale verso terzi; assicurazioni",
    ),
    cl(3, "Pareri e consulenze"),
];

static CLASSI_VI: [Classe; 10] = [
    cl(1, "Urbanistica: PRG e varianti"),
    cl(2, "Urbanistica: strumenti di attuazione del PRG"),
    cl(3, "Edilizia privata"),
    cl(4, "Edilizia pubblica"),
    cl(5, "Opere pubbliche"),
    cl(6, "Catasto"),
    cl(7, "Viabilità"),
    cl(
        8,
        "Servizio idrico integrato, luce, gas, trasporti pubblici, gestione dei rifiuti e altri servizi",
    ),
    cl(9, "Ambiente: autorizzazioni, monitoraggio e controllo"),
    cl(10, "Protezione civile ed emergenze"),
];

static CLASSI_VII: [Classe; 15] = [
    cl(1, "Diritto allo studio e servizi"),
    cl(2, "Asili nido e scuola materna"),
    cl(3, "Promozione e sostegno delle istituzioni di istruzione"),
    cl(
        4,
        "Orientamento professionale; educazione degli adulti; mediazione culturale",
    ),
    cl(5, "Istituti culturali"),
    cl(6, "Attività ed eventi culturali"),
    cl(7, "Attività ed eventi sportivi"),
    cl(
        8,
        "Pianificazione e accordi strategici con enti pubblici e privati e con il volontariato sociale",
    ),
    cl(
        9,
        "Prevenzione, recupero e reintegrazione dei soggetti a rischio",
    ),
    cl(10, "Informazione, consulenza ed educazione civica"),
    cl(11, "Tutela e curatela di incapaci"),
    cl(12, "Assistenza diretta e indiretta, benefici economici"),
    cl(13, "Attività ricreativa e di socializzazione"),
    cl(14, "Politiche per la casa"),
    cl(15, "Politiche per il sociale"),
];

static CLASSI_VIII: [Classe; 7] = [
    cl(1, "Agricoltura e pesca"),
    cl(2, "Artigianato"),
    cl(3, "Industria"),
    cl(4, "Commercio"),
    cl(5, "Fiere e mercati"),
    cl(6, "Esercizi turistici e strutture ricettive"),
    cl(7, "Promozione e servizi"),
];

static CLASSI_IX: [Classe; 4] = [
    cl(1, "Prevenzione ed educazione stradale"),
    cl(2, "Polizia stradale"),
    cl(3, "Informative"),
    cl(4, "Sicurezza e ordine pubblico"),
];

static CLASSI_X: [Classe; 5] = [
    cl(1, "Salute e igiene pubblica"),
    cl(2, "Trattamento Sanitario Obbligatorio"),
    cl(3, "Farmacie"),
    cl(4, "Zooprofilassi veterinaria"),
    cl(5, "Randagismo animale e ricoveri"),
];

static CLASSI_XI: [Classe; 4] = [
    cl(1, "Stato civile"),
    cl(2, "Anagrafe e certificazioni"),
    cl(3, "Censimenti"),
    cl(4, "Polizia mortuaria e cimiteri"),
];

static CLASSI_XII: [Classe; 5] = [
    cl(1, "Albi elettorali"),
    cl(2, "Liste elettorali"),
    cl(3, "Elezioni"),
    cl(4, "Referendum"),
    cl(5, "Istanze, petizioni e iniziative popolari"),
];

static CLASSI_XIII: [Classe; 4] = [
    cl(1, "Leva e servizio civile sostitutivo"),
    cl(2, "Ruoli matricolari"),
    cl(3, "Caserme, alloggi e servitù militari"),
    cl(4, "Requisizioni per utilità militari"),
];

static CLASSI_XIV: [Classe; 0] = [];

/// The 14 titoli of the 2005 titolario for comuni, in order (index `n - 1`
/// holds titolo `n`), with 125 classes in all.
///
/// Names are exactly those of `protocol-documents.md` §7.1 (Formez REG
/// bootstrap); that source warns that some class names of titoli IV and VI
/// are slightly shortened compared with the official 2005 text. The golden
/// test pins this table, so any correction is a deliberate, reviewed change.
pub static TITOLARIO_2005: [Titolo; 14] = [
    Titolo {
        numero: 1,
        romano: "I",
        nome: "Amministrazione generale",
        classi: &CLASSI_I,
    },
    Titolo {
        numero: 2,
        romano: "II",
        nome: "Organi di governo, gestione, controllo, consulenza e garanzia",
        classi: &CLASSI_II,
    },
    Titolo {
        numero: 3,
        romano: "III",
        nome: "Risorse umane",
        classi: &CLASSI_III,
    },
    Titolo {
        numero: 4,
        romano: "IV",
        nome: "Risorse finanziarie e patrimonio",
        classi: &CLASSI_IV,
    },
    Titolo {
        numero: 5,
        romano: "V",
        nome: "Affari legali",
        classi: &CLASSI_V,
    },
    Titolo {
        numero: 6,
        romano: "VI",
        nome: "Pianificazione e gestione del territorio",
        classi: &CLASSI_VI,
    },
    Titolo {
        numero: 7,
        romano: "VII",
        nome: "Servizi alla persona",
        classi: &CLASSI_VII,
    },
    Titolo {
        numero: 8,
        romano: "VIII",
        nome: "Attività economiche",
        classi: &CLASSI_VIII,
    },
    Titolo {
        numero: 9,
        romano: "IX",
        nome: "Polizia locale e sicurezza pubblica",
        classi: &CLASSI_IX,
    },
    Titolo {
        numero: 10,
        romano: "X",
        nome: "Tutela della salute",
        classi: &CLASSI_X,
    },
    Titolo {
        numero: 11,
        romano: "XI",
        nome: "Servizi demografici",
        classi: &CLASSI_XI,
    },
    Titolo {
        numero: 12,
        romano: "XII",
        nome: "Elezioni ed iniziative popolari",
        classi: &CLASSI_XII,
    },
    Titolo {
        numero: 13,
        romano: "XIII",
        nome: "Affari militari",
        classi: &CLASSI_XIII,
    },
    Titolo {
        numero: 14,
        romano: "XIV",
        nome: "Oggetti diversi",
        classi: &CLASSI_XIV,
    },
];

// ---------------------------------------------------------------------------
// Roman numerals
// ---------------------------------------------------------------------------

/// The canonical Roman numeral of `n` (1–3999), empty for 0 or larger values.
fn to_roman(mut n: u32) -> String {
    const TABLE: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    if n >= 4000 {
        return out;
    }
    for (value, numeral) in TABLE {
        while n >= value {
            out.push_str(numeral);
            n -= value;
        }
    }
    out
}

/// The value of a canonical, upper-case Roman numeral (`"XIV"` → 14), or
/// `None` if `s` is not one (`"IIII"`, `"IC"`, `""`).
fn roman_value(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 15 {
        return None;
    }
    let digit = |c: u8| match c {
        b'I' => Some(1u32),
        b'V' => Some(5),
        b'X' => Some(10),
        b'L' => Some(50),
        b'C' => Some(100),
        b'D' => Some(500),
        b'M' => Some(1000),
        _ => None,
    };
    let values = s.bytes().map(digit).collect::<Option<Vec<u32>>>()?;
    // Subtractive notation: a digit smaller than the next one counts
    // negatively. Malformed sequences (`IC`, `IIII`) give some total whose
    // canonical spelling differs from `s`, and are refused below.
    let mut total = 0i64;
    for (i, &v) in values.iter().enumerate() {
        match values.get(i + 1) {
            Some(&next) if next > v => total -= i64::from(v),
            _ => total += i64::from(v),
        }
    }
    let total = u32::try_from(total).ok()?;
    (to_roman(total) == s).then_some(total)
}

/// A titolo number for messages: Roman when it has one, Arabic otherwise.
fn titolo_label(numero: u32) -> String {
    match to_roman(numero) {
        r if r.is_empty() => numero.to_string(),
        r => r,
    }
}

/// A positive decimal number written without sign or leading zeros
/// (`"12"`, not `"012"` or `"+12"`), or `None`.
fn plain_number(s: &str) -> Option<u32> {
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0');
    if canonical { s.parse().ok() } else { None }
}

// ---------------------------------------------------------------------------
// ClassCode
// ---------------------------------------------------------------------------

/// A classification that exists in [`TITOLARIO_2005`]: a titolo and, unless
/// the titolo has no classes (XIV), one of its classes.
///
/// The text form is the flat code of the segnatura (`Classifica/CodiceFlat`):
/// the Roman titolo, a dot and the Arabic class number, e.g. `I.6`,
/// `VI.3`, or just `XIV`. Parsing is lenient about spelling and strict about
/// content:
/// - surrounding and inner spaces are ignored and letters are upper-cased
///   (`i.6`, ` vi . 3 ` are `I.6`, `VI.3`);
/// - the long form `Titolo I.Classe 6` (also `Titolo XIV`) is accepted;
/// - Roman numerals must be canonical (`IV`, not `IIII`), class numbers
///   have no leading zeros (`I.06` is refused), Arabic titoli are refused;
/// - the code must exist, following the module's classification rule.
///
/// [`Display`](fmt::Display) always writes the canonical short form, so
/// `parse(code.to_string()) == code`.
///
/// Ordered as in the titolario (`I.1 < I.2 < … < XIII.4 < XIV`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClassCode {
    /// Invariant: 1..=14, the number of a titolo of [`TITOLARIO_2005`].
    titolo: u8,
    /// Invariant: a class of that titolo; `None` only for a titolo without classes.
    classe: Option<u8>,
}

/// Why a text or a pair of numbers is not a [`ClassCode`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ClassCodeError {
    /// Not of the form `<Roman titolo>[.<class number>]`.
    #[error("classification code must look like I.6 (Roman titolo, dot, class number)")]
    Format,
    /// The titolo is not one of I–XIV.
    #[error("titolo {} does not exist in the 2005 titolario", titolo_label(*.titolo))]
    UnknownTitolo {
        /// The number that was given.
        titolo: u32,
    },
    /// The titolo exists but has no such class (this includes any class of
    /// XIV, which has none).
    #[error("class {} does not exist in the 2005 titolario", ClassCodeError::show(*.titolo, *.classe))]
    UnknownClasse {
        /// The titolo, 1–14.
        titolo: u8,
        /// The class number that was given.
        classe: u32,
    },
    /// The titolo has classes, so a class is required.
    #[error("titolo {} requires a class", titolo_label(u32::from(*.titolo)))]
    ClasseRequired {
        /// The titolo, 1–14.
        titolo: u8,
    },
}

impl ClassCodeError {
    /// `I.18` for messages.
    fn show(titolo: u8, classe: u32) -> String {
        format!("{}.{classe}", titolo_label(u32::from(titolo)))
    }
}

impl Coded for ClassCodeError {
    fn code(&self) -> &'static str {
        match self {
            ClassCodeError::Format => "classifica_format",
            ClassCodeError::UnknownTitolo { .. } | ClassCodeError::UnknownClasse { .. } => {
                "classifica_unknown"
            }
            ClassCodeError::ClasseRequired { .. } => "classifica_class_required",
        }
    }

    fn message_it(&self) -> String {
        match self {
            ClassCodeError::Format => "La classificazione deve essere scritta come titolo romano, punto e numero di classe, ad esempio I.6 (XIV, che non ha classi, si scrive senza classe)".to_owned(),
            ClassCodeError::UnknownTitolo { titolo } => format!(
                "Il titolo {} non esiste nel titolario dei Comuni: i titoli vanno da I a XIV",
                titolo_label(*titolo)
            ),
            ClassCodeError::UnknownClasse { titolo, classe } => match titolo_of(*titolo) {
                Some(t) if t.classi.is_empty() => format!(
                    "Il titolo {} ({}) non ha classi: si classifica come {}",
                    t.romano, t.nome, t.romano
                ),
                Some(t) => format!(
                    "La classe {} non esiste: il titolo {} ha le classi da 1 a {}",
                    ClassCodeError::show(*titolo, *classe),
                    t.romano,
                    t.classi.len()
                ),
                None => format!(
                    "La classe {} non esiste nel titolario dei Comuni",
                    ClassCodeError::show(*titolo, *classe)
                ),
            },
            ClassCodeError::ClasseRequired { titolo } => {
                let label = titolo_label(u32::from(*titolo));
                format!("Il titolo {label} richiede una classe, ad esempio {label}.1")
            }
        }
    }
}

/// The titolo numbered `numero`, or `None`.
fn titolo_of(numero: u8) -> Option<&'static Titolo> {
    titolo(numero)
}

impl ClassCode {
    /// The classification of titolo `titolo` (1–14) and, for titoli that
    /// have classes, class `classe`.
    ///
    /// # Errors
    /// [`ClassCodeError::UnknownTitolo`], [`ClassCodeError::UnknownClasse`]
    /// (also for any class of XIV) or [`ClassCodeError::ClasseRequired`].
    pub fn new(titolo: u8, classe: Option<u8>) -> Result<Self, ClassCodeError> {
        Self::check(u32::from(titolo), classe.map(u32::from))
    }

    /// Checks numbers against the titolario (wider than `u8` so that
    /// parsed values such as `I.300` are reported, not truncated).
    fn check(titolo: u32, classe: Option<u32>) -> Result<Self, ClassCodeError> {
        let t = u8::try_from(titolo)
            .ok()
            .and_then(titolo_of)
            .ok_or(ClassCodeError::UnknownTitolo { titolo })?;
        match classe {
            None if t.classi.is_empty() => Ok(ClassCode {
                titolo: t.numero,
                classe: None,
            }),
            None => Err(ClassCodeError::ClasseRequired { titolo: t.numero }),
            Some(c) => {
                let found = u8::try_from(c).ok().and_then(|c| t.classe(c));
                match found {
                    Some(found) => Ok(ClassCode {
                        titolo: t.numero,
                        classe: Some(found.numero),
                    }),
                    None => Err(ClassCodeError::UnknownClasse {
                        titolo: t.numero,
                        classe: c,
                    }),
                }
            }
        }
    }

    /// Parses a classification code (`I.6`, `XIV`, `Titolo I.Classe 6`);
    /// see the type documentation for what is accepted.
    ///
    /// # Errors
    /// [`ClassCodeError::Format`] for malformed text, otherwise the errors of
    /// [`ClassCode::new`].
    pub fn parse(input: &str) -> Result<Self, ClassCodeError> {
        // ASCII-only case mapping keeps byte offsets meaningful.
        let upper = input.trim().to_ascii_uppercase();
        let (titolo, classe) = match upper.split_once('.') {
            Some((t, c)) => (t, Some(c)),
            None => (upper.as_str(), None),
        };
        let titolo = strip_word(titolo, "TITOLO");
        let classe = classe.map(|c| strip_word(c, "CLASSE"));
        Self::parse_parts(titolo, classe)
    }

    /// Parses the short form with no spaces, already upper-cased: `titolo`
    /// is the Roman numeral, `classe` the text after the dot, if any.
    fn parse_parts(titolo: &str, classe: Option<&str>) -> Result<Self, ClassCodeError> {
        let titolo = roman_value(titolo).ok_or(ClassCodeError::Format)?;
        let classe = match classe {
            Some(c) => Some(plain_number(c).ok_or(ClassCodeError::Format)?),
            None => None,
        };
        Self::check(titolo, classe)
    }

    /// Every classifiable code, in titolario order: all classes of I–XIII,
    /// then `XIV` (126 codes: 125 classes and XIV).
    pub fn all() -> impl Iterator<Item = ClassCode> {
        TITOLARIO_2005.iter().flat_map(|t| {
            let at_titolo = t.classi.is_empty().then_some(ClassCode {
                titolo: t.numero,
                classe: None,
            });
            t.classi
                .iter()
                .map(|c| ClassCode {
                    titolo: t.numero,
                    classe: Some(c.numero),
                })
                .chain(at_titolo)
        })
    }

    /// Number of the titolo, 1–14.
    #[must_use]
    pub fn numero_titolo(self) -> u8 {
        self.titolo
    }

    /// Number of the class; `None` for a classification at titolo level (XIV).
    #[must_use]
    pub fn numero_classe(self) -> Option<u8> {
        self.classe
    }

    /// The titolo of this classification.
    #[must_use]
    pub fn titolo(self) -> &'static Titolo {
        // The invariant (1..=14) makes the index valid; `TITOLARIO_2005`
        // holds titolo `n` at index `n - 1` (checked by the golden test).
        &TITOLARIO_2005[usize::from(self.titolo.saturating_sub(1))]
    }

    /// The class of this classification; `None` at titolo level (XIV).
    #[must_use]
    pub fn classe(self) -> Option<&'static Classe> {
        self.classe.and_then(|c| self.titolo().classe(c))
    }

    /// The name of the lowest level: the class name, or the titolo name for
    /// XIV (e.g. "Archivio generale" for `I.6`, "Oggetti diversi" for `XIV`).
    #[must_use]
    pub fn nome(self) -> &'static str {
        self.classe().map_or(self.titolo().nome, |c| c.nome)
    }

    /// The text for `Classifica/Denominazione` in the segnatura: the titolo
    /// name, then ` / ` and the class name (e.g. "Amministrazione generale /
    /// Archivio generale" for `I.6`; "Oggetti diversi" for `XIV`). No name of
    /// the titolario contains `/`.
    #[must_use]
    pub fn denominazione(self) -> String {
        let t = self.titolo();
        match self.classe() {
            Some(c) => format!("{} / {}", t.nome, c.nome),
            None => t.nome.to_owned(),
        }
    }
}

/// `s` without a leading `word` (followed by spaces) and without spaces
/// around; `s` itself, trimmed, if it does not start that way.
fn strip_word<'a>(s: &'a str, word: &str) -> &'a str {
    let s = s.trim();
    match s.strip_prefix(word) {
        Some(rest) if rest.starts_with(char::is_whitespace) => rest.trim(),
        _ => s,
    }
}

impl fmt::Display for ClassCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.titolo().romano)?;
        match self.classe {
            Some(c) => write!(f, ".{c}"),
            None => Ok(()),
        }
    }
}

impl FromStr for ClassCode {
    type Err = ClassCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ClassCode {
    type Error = ClassCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&str> for ClassCode {
    type Error = ClassCodeError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<ClassCode> for String {
    fn from(value: ClassCode) -> String {
        value.to_string()
    }
}

// ---------------------------------------------------------------------------
// FascicoloId
// ---------------------------------------------------------------------------

/// Identifier of a fascicolo (CAD art. 41 c.2-ter e-bis; TI-4): opening
/// year, classification and progressive number within that class and year,
/// written `YYYY-<titolo>.<classe>-<n>`: `2026-VI.3-12`, or `2026-XIV-3`
/// for titolo XIV.
///
/// - the year has exactly four digits, 1000–9999;
/// - the classification is a [`ClassCode`] in its short form, without
///   spaces (letters may be lower case: `2026-vi.3-12` is `2026-VI.3-12`);
/// - the number starts at 1 and has no leading zeros.
///
/// That the number is progressive and unique per class and year is a rule of
/// the register that hands it out, not of this type. Ordered by year,
/// classification, number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FascicoloId {
    anno: i16,
    classe: ClassCode,
    numero: u32,
}

/// Why a text is not a [`FascicoloId`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FascicoloIdError {
    /// Not of the form `YYYY-<titolo>.<classe>-<n>`.
    #[error("fascicolo id must look like 2026-VI.3-12")]
    Format,
    /// The year is not a four-digit year (1000–9999).
    #[error("fascicolo year must be between 1000 and 9999")]
    Anno,
    /// The number is 0, has leading zeros or is too large.
    #[error("fascicolo number must be a positive integer without leading zeros")]
    Numero,
    /// The classification is not valid.
    #[error("invalid classification in fascicolo id: {0}")]
    Classifica(#[from] ClassCodeError),
}

impl Coded for FascicoloIdError {
    fn code(&self) -> &'static str {
        match self {
            FascicoloIdError::Format => "fascicolo_id_format",
            FascicoloIdError::Anno => "fascicolo_id_anno",
            FascicoloIdError::Numero => "fascicolo_id_numero",
            FascicoloIdError::Classifica(e) => e.code(),
        }
    }

    fn message_it(&self) -> String {
        match self {
            FascicoloIdError::Format => "L'identificativo del fascicolo deve essere scritto come anno-titolo.classe-numero, ad esempio 2026-VI.3-12 (per il titolo XIV: 2026-XIV-3)".to_owned(),
            FascicoloIdError::Anno => {
                "L'anno del fascicolo deve avere quattro cifre (da 1000 a 9999)".to_owned()
            }
            FascicoloIdError::Numero => {
                "Il numero del fascicolo deve essere un intero positivo, senza zeri iniziali"
                    .to_owned()
            }
            FascicoloIdError::Classifica(e) => e.message_it(),
        }
    }
}

impl FascicoloId {
    /// The identifier of fascicolo number `numero` (from 1) opened in `anno`
    /// (1000–9999) in classification `classe`.
    ///
    /// # Errors
    /// [`FascicoloIdError::Anno`] or [`FascicoloIdError::Numero`].
    pub fn new(anno: i16, classe: ClassCode, numero: u32) -> Result<Self, FascicoloIdError> {
        if !(1000..=9999).contains(&anno) {
            return Err(FascicoloIdError::Anno);
        }
        if numero == 0 {
            return Err(FascicoloIdError::Numero);
        }
        Ok(FascicoloId {
            anno,
            classe,
            numero,
        })
    }

    /// Parses `YYYY-<titolo>.<classe>-<n>` (surrounding spaces ignored).
    ///
    /// # Errors
    /// [`FascicoloIdError::Format`] for malformed text,
    /// [`FascicoloIdError::Anno`], [`FascicoloIdError::Numero`], or
    /// [`FascicoloIdError::Classifica`] when the classification is malformed
    /// or not in the titolario.
    pub fn parse(input: &str) -> Result<Self, FascicoloIdError> {
        let upper = input.trim().to_ascii_uppercase();
        let mut parts = upper.split('-');
        let (Some(anno), Some(classe), Some(numero), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(FascicoloIdError::Format);
        };
        if anno.len() != 4 || !anno.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FascicoloIdError::Anno);
        }
        let anno: i16 = anno.parse().map_err(|_| FascicoloIdError::Anno)?;
        if classe.is_empty() || classe.contains(char::is_whitespace) {
            return Err(FascicoloIdError::Format);
        }
        let classe = match classe.split_once('.') {
            Some((t, c)) => ClassCode::parse_parts(t, Some(c)),
            None => ClassCode::parse_parts(classe, None),
        }?;
        let numero = plain_number(numero).ok_or(FascicoloIdError::Numero)?;
        Self::new(anno, classe, numero)
    }

    /// Year the fascicolo was opened.
    #[must_use]
    pub fn anno(self) -> i16 {
        self.anno
    }

    /// Classification of the fascicolo.
    #[must_use]
    pub fn classe(self) -> ClassCode {
        self.classe
    }

    /// Progressive number within the class and year, from 1.
    #[must_use]
    pub fn numero(self) -> u32 {
        self.numero
    }
}

impl fmt::Display for FascicoloId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.anno, self.classe, self.numero)
    }
}

impl FromStr for FascicoloId {
    type Err = FascicoloIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for FascicoloId {
    type Error = FascicoloIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&str> for FascicoloId {
    type Error = FascicoloIdError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<FascicoloId> for String {
    fn from(value: FascicoloId) -> String {
        value.to_string()
    }
}

// ---------------------------------------------------------------------------
// ClassKey: a code of a comune's own titolario
// ---------------------------------------------------------------------------

/// The code of a voice of a comune's **own** titolario (TI-3): a titolo
/// (Roman numeral) and optionally a class number, written like a
/// [`ClassCode`] (`VI.3`, `XIV`) but checked only for its shape, not against
/// [`TITOLARIO_2005`]. A comune that adds class `VI.11` to its titolario
/// needs codes the 2005 edition does not know; whether a code exists (and is
/// open) is a question for the tenant's titolario version, asked by the
/// services layer.
///
/// Parsing is as lenient as [`ClassCode::parse`] about spelling (case,
/// spaces, the long form `Titolo VI.Classe 3`) and as strict about numerals
/// (canonical Roman titolo 1–99, class number without leading zeros, 1–9999).
/// [`Display`](fmt::Display) writes the canonical short form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClassKey {
    titolo: u8,
    classe: Option<u16>,
}

impl ClassKey {
    /// The code of titolo `titolo` (1–99) and class `classe` (1–9999), if any.
    ///
    /// # Errors
    /// [`ClassCodeError::Format`] when a number is out of range.
    pub fn new(titolo: u8, classe: Option<u16>) -> Result<Self, ClassCodeError> {
        if !(1..=99).contains(&titolo) || classe.is_some_and(|c| !(1..=9999).contains(&c)) {
            return Err(ClassCodeError::Format);
        }
        Ok(ClassKey { titolo, classe })
    }

    /// Parses `VI.3`, `xiv`, `Titolo VI.Classe 3`.
    ///
    /// # Errors
    /// [`ClassCodeError::Format`] for anything that is not a Roman titolo
    /// with an optional dot and class number.
    pub fn parse(input: &str) -> Result<Self, ClassCodeError> {
        let upper = input.trim().to_ascii_uppercase();
        let (titolo, classe) = match upper.split_once('.') {
            Some((t, c)) => (t, Some(c)),
            None => (upper.as_str(), None),
        };
        let titolo = roman_value(strip_word(titolo, "TITOLO")).ok_or(ClassCodeError::Format)?;
        let classe = match classe.map(|c| strip_word(c, "CLASSE")) {
            Some(c) => Some(plain_number(c).ok_or(ClassCodeError::Format)?),
            None => None,
        };
        let titolo = u8::try_from(titolo).map_err(|_| ClassCodeError::Format)?;
        let classe = classe
            .map(u16::try_from)
            .transpose()
            .map_err(|_| ClassCodeError::Format)?;
        Self::new(titolo, classe)
    }

    /// Number of the titolo.
    #[must_use]
    pub fn numero_titolo(self) -> u8 {
        self.titolo
    }

    /// Number of the class; `None` for a titolo-level code.
    #[must_use]
    pub fn numero_classe(self) -> Option<u16> {
        self.classe
    }

    /// The code of this key's titolo (itself, for a titolo-level code).
    #[must_use]
    pub fn titolo_key(self) -> ClassKey {
        ClassKey {
            titolo: self.titolo,
            classe: None,
        }
    }
}

impl From<ClassCode> for ClassKey {
    fn from(c: ClassCode) -> Self {
        ClassKey {
            titolo: c.numero_titolo(),
            classe: c.numero_classe().map(u16::from),
        }
    }
}

impl fmt::Display for ClassKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_roman(u32::from(self.titolo)))?;
        match self.classe {
            Some(c) => write!(f, ".{c}"),
            None => Ok(()),
        }
    }
}

impl FromStr for ClassKey {
    type Err = ClassCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ClassKey {
    type Error = ClassCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ClassKey> for String {
    fn from(value: ClassKey) -> String {
        value.to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod class_key_tests {
    use super::*;

    #[test]
    fn class_keys_parse_any_shape_and_agree_with_class_codes() {
        for code in ClassCode::all() {
            let key = ClassKey::parse(&code.to_string()).unwrap();
            assert_eq!(key, ClassKey::from(code));
            assert_eq!(key.to_string(), code.to_string());
        }
        // Codes a comune may add to its own titolario.
        assert_eq!(ClassKey::parse(" vi . 11 ").unwrap().to_string(), "VI.11");
        assert_eq!(ClassKey::parse("Titolo XV").unwrap().to_string(), "XV");
        assert_eq!(
            ClassKey::parse("XIV.1").unwrap().titolo_key().to_string(),
            "XIV"
        );
        for bad in [
            "", "6", "VI.", "VI.03", "IIII.1", "VI.0", "VI.10000", "C.1", "VI-3",
        ] {
            assert!(ClassKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rows of the table in `protocol-documents.md` §7.1, copied
    /// verbatim: the golden reference for TI-1.
    const GOLDEN: &str = r"
| I | Amministrazione generale | 1 Legislazione e circolari esplicative · 2 Denominazione, territorio e confini, circoscrizioni di decentramento, toponomastica · 3 Statuto · 4 Regolamenti · 5 Stemma, gonfalone, sigillo · 6 Archivio generale · 7 Sistema informativo · 8 Informazioni e relazioni con il pubblico · 9 Politica del personale; ordinamento degli uffici e dei servizi · 10 Relazioni con le organizzazioni sindacali e di rappresentanza del personale · 11 Controlli interni ed esterni · 12 Editoria e attività informativo-promozionale interna ed esterna · 13 Cerimoniale, attività di rappresentanza; onorificenze e riconoscimenti · 14 Interventi di carattere politico e umanitario; rapporti istituzionali · 15 Forme associative e partecipative per l'esercizio di funzioni e servizi e adesione del Comune ad Associazioni · 16 Area e città metropolitana · 17 Associazionismo e partecipazione |
| II | Organi di governo, gestione, controllo, consulenza e garanzia | 1 Sindaco · 2 Vice-Sindaco · 3 Consiglio · 4 Presidente del Consiglio · 5 Conferenza dei capigruppo e Commissioni del Consiglio · 6 Gruppi consiliari · 7 Giunta · 8 Commissario prefettizio e straordinario · 9 Segretario e Vice-segretario · 10 Direttore generale e dirigenza · 11 Revisori dei conti · 12 Difensore civico · 13 Commissario ad acta · 14 Organi di controllo interni · 15 Organi consultivi · 16 Consigli circoscrizionali · 17 Presidente dei Consigli circoscrizionali · 18 Organi esecutivi circoscrizionali · 19 Commissioni dei Consigli circoscrizionali · 20 Segretari delle circoscrizioni · 21 Commissario ad acta delle circoscrizioni · 22 Conferenza dei Presidenti di quartiere |
| III | Risorse umane | 1 Concorsi, selezioni, colloqui · 2 Assunzioni e cessazioni · 3 Comandi e distacchi; mobilità · 4 Attribuzione di funzioni, ordini di servizio e missioni · 5 Inquadramenti e applicazione contratti collettivi di lavoro · 6 Retribuzioni e compensi · 7 Trattamento fiscale, contributivo e assicurativo · 8 Tutela della salute e sicurezza sul luogo di lavoro · 9 Dichiarazioni di infermità ed equo indennizzo · 10 Indennità premio di servizio e trattamento di fine rapporto, quiescenza · 11 Servizi al personale su richiesta · 12 Orario di lavoro, presenze e assenze · 13 Giudizi, responsabilità e provvedimenti disciplinari · 14 Formazione e aggiornamento professionale · 15 Collaboratori esterni |
| IV | Risorse finanziarie e patrimonio | 1 Bilancio preventivo e PEG · 2 Gestione del bilancio e del PEG · 3 Gestione delle entrate · 4 Gestione della spesa · 5 Partecipazioni finanziarie · 6 Rendiconto della gestione · 7 Adempimenti fiscali, contributivi e assicurativi · 8 Beni immobili · 9 Beni mobili · 10 Economato · 11 Oggetti smarriti e recuperati · 12 Tesoreria · 13 Concessionari ed altri incaricati della riscossione delle entrate · 14 Pubblicità e pubbliche affissioni |
| V | Affari legali | 1 Contenzioso · 2 Responsabilità civile e patrimoniale verso terzi; assicurazioni · 3 Pareri e consulenze |
| VI | Pianificazione e gestione del territorio | 1 Urbanistica: PRG e varianti · 2 Urbanistica: strumenti di attuazione del PRG · 3 Edilizia privata · 4 Edilizia pubblica · 5 Opere pubbliche · 6 Catasto · 7 Viabilità · 8 Servizio idrico integrato, luce, gas, trasporti pubblici, gestione dei rifiuti e altri servizi · 9 Ambiente: autorizzazioni, monitoraggio e controllo · 10 Protezione civile ed emergenze |
| VII | Servizi alla persona | 1 Diritto allo studio e servizi · 2 Asili nido e scuola materna · 3 Promozione e sostegno delle istituzioni di istruzione · 4 Orientamento professionale; educazione degli adulti; mediazione culturale · 5 Istituti culturali · 6 Attività ed eventi culturali · 7 Attività ed eventi sportivi · 8 Pianificazione e accordi strategici con enti pubblici e privati e con il volontariato sociale · 9 Prevenzione, recupero e reintegrazione dei soggetti a rischio · 10 Informazione, consulenza ed educazione civica · 11 Tutela e curatela di incapaci · 12 Assistenza diretta e indiretta, benefici economici · 13 Attività ricreativa e di socializzazione · 14 Politiche per la casa · 15 Politiche per il sociale |
| VIII | Attività economiche | 1 Agricoltura e pesca · 2 Artigianato · 3 Industria · 4 Commercio · 5 Fiere e mercati · 6 Esercizi turistici e strutture ricettive · 7 Promozione e servizi |
| IX | Polizia locale e sicurezza pubblica | 1 Prevenzione ed educazione stradale · 2 Polizia stradale · 3 Informative · 4 Sicurezza e ordine pubblico |
| X | Tutela della salute | 1 Salute e igiene pubblica · 2 Trattamento Sanitario Obbligatorio · 3 Farmacie · 4 Zooprofilassi veterinaria · 5 Randagismo animale e ricoveri |
| XI | Servizi demografici | 1 Stato civile · 2 Anagrafe e certificazioni · 3 Censimenti · 4 Polizia mortuaria e cimiteri |
| XII | Elezioni ed iniziative popolari | 1 Albi elettorali · 2 Liste elettorali · 3 Elezioni · 4 Referendum · 5 Istanze, petizioni e iniziative popolari |
| XIII | Affari militari | 1 Leva e servizio civile sostitutivo · 2 Ruoli matricolari · 3 Caserme, alloggi e servitù militari · 4 Requisizioni per utilità militari |
| XIV | Oggetti diversi | (no classes) |
";

    fn code(s: &str) -> ClassCode {
        ClassCode::parse(s).unwrap()
    }

    #[test]
    fn ti_1_titolario_matches_the_golden_table() {
        let rows: Vec<&str> = GOLDEN.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(rows.len(), 14);
        assert_eq!(TITOLARIO_2005.len(), 14);
        for (row, titolo) in rows.iter().zip(TITOLARIO_2005.iter()) {
            let cells: Vec<&str> = row
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            assert_eq!(cells.len(), 3, "{row}");
            assert_eq!(titolo.romano, cells[0]);
            assert_eq!(titolo.nome, cells[1]);
            let expected: Vec<String> = if cells[2] == "(no classes)" {
                Vec::new()
            } else {
                cells[2].split(" · ").map(str::to_owned).collect()
            };
            let actual: Vec<String> = titolo
                .classi
                .iter()
                .map(|c| format!("{} {}", c.numero, c.nome))
                .collect();
            assert_eq!(actual, expected, "titolo {}", titolo.romano);
        }
    }

    #[test]
    fn ti_1_class_counts_numbering_and_unique_codes() {
        let counts: Vec<usize> = TITOLARIO_2005.iter().map(|t| t.classi.len()).collect();
        assert_eq!(counts, [17, 22, 15, 14, 3, 10, 15, 7, 4, 5, 4, 5, 4, 0]);
        let romans = [
            "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV",
        ];
        for (i, t) in TITOLARIO_2005.iter().enumerate() {
            assert_eq!(usize::from(t.numero), i + 1);
            assert_eq!(t.romano, romans[i]);
            assert_eq!(roman_value(t.romano), Some(u32::from(t.numero)));
            for (j, c) in t.classi.iter().enumerate() {
                assert_eq!(usize::from(c.numero), j + 1, "{}.{}", t.romano, c.nome);
                assert!(!c.nome.is_empty() && !c.nome.contains('/'));
            }
            assert!(!t.nome.contains('/'));
        }
        let all: Vec<String> = ClassCode::all().map(|c| c.to_string()).collect();
        assert_eq!(all.len(), 126);
        let unique: std::collections::BTreeSet<&String> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
        assert_eq!(all.first().map(String::as_str), Some("I.1"));
        assert_eq!(all.last().map(String::as_str), Some("XIV"));
        assert!(!all.iter().any(|c| c.starts_with("XV")));
        let mut sorted: Vec<ClassCode> = ClassCode::all().collect();
        sorted.sort();
        assert_eq!(sorted, ClassCode::all().collect::<Vec<_>>());
    }

    #[test]
    fn ti_1_names_verbatim() {
        assert_eq!(code("I.6").nome(), "Archivio generale");
        assert_eq!(code("XI.2").nome(), "Anagrafe e certificazioni");
        assert_eq!(code("VI.3").nome(), "Edilizia privata");
        assert_eq!(
            code("II.22").nome(),
            "Conferenza dei Presidenti di quartiere"
        );
        assert_eq!(
            code("I.15").nome(),
            "Forme associative e partecipative per l'esercizio di funzioni e servizi e adesione del Comune ad Associazioni"
        );
        assert_eq!(code("XIV").nome(), "Oggetti diversi");
        assert_eq!(
            code("I.6").denominazione(),
            "Amministrazione generale / Archivio generale"
        );
        assert_eq!(
            code("VI.3").denominazione(),
            "Pianificazione e gestione del territorio / Edilizia privata"
        );
        assert_eq!(code("XIV").denominazione(), "Oggetti diversi");
        assert_eq!(titolo(14).map(|t| t.nome), Some("Oggetti diversi"));
        assert!(titolo(15).is_none() && titolo(0).is_none());
        assert!(titolo(14).unwrap().classificabile_al_titolo());
        assert!(!titolo(1).unwrap().classificabile_al_titolo());
    }

    #[test]
    fn every_code_round_trips_through_text_and_numbers() {
        for c in ClassCode::all() {
            let text = c.to_string();
            assert_eq!(ClassCode::parse(&text), Ok(c));
            assert_eq!(text.parse::<ClassCode>(), Ok(c));
            assert_eq!(ClassCode::new(c.numero_titolo(), c.numero_classe()), Ok(c));
            let lower = text.to_lowercase();
            assert_eq!(ClassCode::parse(&lower), Ok(c));
            let long = match c.numero_classe() {
                Some(n) => format!("Titolo {}.Classe {n}", c.titolo().romano),
                None => format!("Titolo {}", c.titolo().romano),
            };
            assert_eq!(ClassCode::parse(&long), Ok(c), "{long}");
            assert_eq!(c.classe().map(|k| k.numero), c.numero_classe());
        }
    }

    #[test]
    fn lenient_spelling_is_normalised() {
        assert_eq!(code("i.6").to_string(), "I.6");
        assert_eq!(code(" vi . 3 ").to_string(), "VI.3");
        assert_eq!(code("xiv").to_string(), "XIV");
        assert_eq!(code("titolo xi.classe 2").to_string(), "XI.2");
        assert_eq!(code("Titolo I. Classe 6").to_string(), "I.6");
    }

    #[test]
    fn refusals() {
        use ClassCodeError as E;
        let cases: [(&str, ClassCodeError); 17] = [
            ("XV.1", E::UnknownTitolo { titolo: 15 }),
            ("XV", E::UnknownTitolo { titolo: 15 }),
            (
                "I.18",
                E::UnknownClasse {
                    titolo: 1,
                    classe: 18,
                },
            ),
            (
                "II.23",
                E::UnknownClasse {
                    titolo: 2,
                    classe: 23,
                },
            ),
            (
                "I.300",
                E::UnknownClasse {
                    titolo: 1,
                    classe: 300,
                },
            ),
            (
                "XIV.1",
                E::UnknownClasse {
                    titolo: 14,
                    classe: 1,
                },
            ),
            ("I", E::ClasseRequired { titolo: 1 }),
            ("XIII", E::ClasseRequired { titolo: 13 }),
            ("", E::Format),
            ("1.6", E::Format),
            ("IIII.1", E::Format),
            ("I.06", E::Format),
            ("I.0", E::Format),
            ("I.", E::Format),
            ("I.6.1", E::Format),
            ("I.+6", E::Format),
            ("V I.3", E::Format),
        ];
        for (input, expected) in cases {
            assert_eq!(ClassCode::parse(input), Err(expected), "{input:?}");
        }
        assert_eq!(ClassCode::new(0, None), Err(E::UnknownTitolo { titolo: 0 }));
        assert_eq!(
            ClassCode::new(15, Some(1)),
            Err(E::UnknownTitolo { titolo: 15 })
        );
        assert_eq!(
            ClassCode::new(4, Some(15)),
            Err(E::UnknownClasse {
                titolo: 4,
                classe: 15
            })
        );
        assert_eq!(
            ClassCode::new(6, None),
            Err(E::ClasseRequired { titolo: 6 })
        );
    }

    #[test]
    fn class_code_errors_are_coded_in_italian() {
        let err = |s: &str| ClassCode::parse(s).unwrap_err();
        assert_eq!(err("I.x").code(), "classifica_format");
        assert_eq!(err("XV.1").code(), "classifica_unknown");
        assert_eq!(err("I.18").code(), "classifica_unknown");
        assert_eq!(err("XIV.1").code(), "classifica_unknown");
        assert_eq!(err("I").code(), "classifica_class_required");
        assert_eq!(
            err("XV.1").message_it(),
            "Il titolo XV non esiste nel titolario dei Comuni: i titoli vanno da I a XIV"
        );
        assert_eq!(
            err("I.18").message_it(),
            "La classe I.18 non esiste: il titolo I ha le classi da 1 a 17"
        );
        assert_eq!(
            err("XIV.1").message_it(),
            "Il titolo XIV (Oggetti diversi) non ha classi: si classifica come XIV"
        );
        assert_eq!(
            err("I").message_it(),
            "Il titolo I richiede una classe, ad esempio I.1"
        );
        assert_eq!(
            ClassCode::new(0, None).unwrap_err().message_it(),
            "Il titolo 0 non esiste nel titolario dei Comuni: i titoli vanno da I a XIV"
        );
        assert!(err("").message_it().contains("I.6"));
        assert_eq!(
            err("I.18").to_string(),
            "class I.18 does not exist in the 2005 titolario"
        );
    }

    #[test]
    fn roman_numerals_are_canonical_only() {
        for n in 1..=3999 {
            assert_eq!(roman_value(&to_roman(n)), Some(n));
        }
        for bad in ["", "IIII", "IC", "VX", "IIX", "XXXX", "A", "iv", "MMMM"] {
            assert_eq!(roman_value(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn class_code_serde_is_the_flat_code() {
        let c = code("VI.3");
        assert_eq!(serde_json::to_string(&c).unwrap(), r#""VI.3""#);
        assert_eq!(
            serde_json::from_str::<ClassCode>(r#""xiv""#).unwrap(),
            code("XIV")
        );
        assert!(serde_json::from_str::<ClassCode>(r#""XV.1""#).is_err());
    }

    #[test]
    fn fascicolo_id_format_and_accessors() {
        let id = FascicoloId::parse("2026-VI.3-12").unwrap();
        assert_eq!(
            (id.anno(), id.classe(), id.numero()),
            (2026, code("VI.3"), 12)
        );
        assert_eq!(id.to_string(), "2026-VI.3-12");
        let xiv = FascicoloId::new(2026, code("XIV"), 3).unwrap();
        assert_eq!(xiv.to_string(), "2026-XIV-3");
        assert_eq!(FascicoloId::parse("2026-XIV-3"), Ok(xiv));
        assert_eq!(
            FascicoloId::parse(" 2026-vi.3-12 ").unwrap().to_string(),
            "2026-VI.3-12"
        );
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""2026-VI.3-12""#);
        assert_eq!(
            serde_json::from_str::<FascicoloId>(r#""2026-VI.3-12""#).unwrap(),
            id
        );
        let earlier = FascicoloId::parse("2026-VI.3-2").unwrap();
        assert!(earlier < id);
    }

    #[test]
    fn fascicolo_id_refusals() {
        use FascicoloIdError as F;
        let cases: [(&str, FascicoloIdError); 18] = [
            ("", F::Format),
            ("2026-VI.3", F::Format),
            ("2026-VI.3-12-1", F::Format),
            ("2026--12", F::Format),
            ("2026-Titolo VI.3-12", F::Format),
            ("2026-VI .3-12", F::Format),
            ("26-VI.3-12", F::Anno),
            ("0999-VI.3-12", F::Anno),
            ("20265-VI.3-12", F::Anno),
            ("-2026-VI.3-12", F::Format),
            ("2026-VI.3-0", F::Numero),
            ("2026-VI.3-012", F::Numero),
            ("2026-VI.3-99999999999", F::Numero),
            ("2026-VI.3-x", F::Numero),
            (
                "2026-XV.1-1",
                F::Classifica(ClassCodeError::UnknownTitolo { titolo: 15 }),
            ),
            (
                "2026-I.18-1",
                F::Classifica(ClassCodeError::UnknownClasse {
                    titolo: 1,
                    classe: 18,
                }),
            ),
            (
                "2026-I-1",
                F::Classifica(ClassCodeError::ClasseRequired { titolo: 1 }),
            ),
            (
                "2026-XIV.1-1",
                F::Classifica(ClassCodeError::UnknownClasse {
                    titolo: 14,
                    classe: 1,
                }),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(FascicoloId::parse(input), Err(expected), "{input:?}");
        }
        assert_eq!(FascicoloId::new(999, code("I.6"), 1), Err(F::Anno));
        assert_eq!(FascicoloId::new(2026, code("I.6"), 0), Err(F::Numero));
        assert_eq!(
            FascicoloId::parse("2026-I.18-1").unwrap_err().code(),
            "classifica_unknown"
        );
        assert_eq!(
            FascicoloId::parse("x").unwrap_err().code(),
            "fascicolo_id_format"
        );
        assert_eq!(
            FascicoloId::parse("0999-I.6-1").unwrap_err().code(),
            "fascicolo_id_anno"
        );
        assert_eq!(
            FascicoloId::parse("2026-I.6-0").unwrap_err().code(),
            "fascicolo_id_numero"
        );
        assert!(
            FascicoloId::parse("x")
                .unwrap_err()
                .message_it()
                .contains("2026-VI.3-12")
        );
    }

    proptest! {
        #[test]
        fn fascicolo_id_round_trips(
            anno in 1000i16..=9999,
            index in 0usize..126,
            numero in 1u32..=u32::MAX,
        ) {
            let classe = ClassCode::all().nth(index).unwrap();
            let id = FascicoloId::new(anno, classe, numero).unwrap();
            let text = id.to_string();
            prop_assert_eq!(FascicoloId::parse(&text), Ok(id));
            prop_assert_eq!(FascicoloId::parse(&text.to_lowercase()), Ok(id));
            prop_assert_eq!(String::from(id), text);
        }

        #[test]
        fn class_code_parse_never_panics_and_is_canonical(s in "\\PC{0,12}") {
            if let Ok(c) = ClassCode::parse(&s) {
                prop_assert_eq!(ClassCode::parse(&c.to_string()), Ok(c));
            }
        }

        #[test]
        fn fascicolo_parse_never_panics(s in "[0-9IVXivx.\\- ]{0,16}") {
            if let Ok(id) = FascicoloId::parse(&s) {
                prop_assert_eq!(FascicoloId::parse(&id.to_string()), Ok(id));
            }
        }
    }
}
