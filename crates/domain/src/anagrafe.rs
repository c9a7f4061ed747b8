//! The anagrafe (population register) of a comune as Palazzo holds it for
//! its certificates (issue 5, part 1; DPR 223/1989): marital status,
//! citizenship, and the documented CSV formats of `palazzo anagrafe
//! import` (`docs/anagrafe-import.md`) — the stradario (the comune's street
//! list) and the residents with their famiglia anagrafica, address and
//! residence history — parsed and validated here, without IO.
//!
//! Validation reports every bad row with its line, column and a stable
//! code, and keeps the good ones: an import never loses a good row because
//! another is bad (issue 5: "rejecting bad rows without losing good ones").

use std::collections::{HashMap, HashSet};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::csv::{quote, split};
use crate::ids::{Cap, CodiceCatastale, CodiceFiscale, Sex};

pub use crate::csv::{Parsed, RowError, parse_date};

/// Stato civile (DPR 223/1989 art. 20; ANPR's table of marital states).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum StatoCivile {
    /// Celibe / nubile.
    Libero,
    /// Coniugato / coniugata.
    Coniugato,
    /// Vedovo / vedova.
    Vedovo,
    /// Divorziato / divorziata (scioglimento o cessazione degli effetti
    /// civili del matrimonio).
    Divorziato,
    /// Unito / unita civilmente (L. 76/2016).
    UnitoCivilmente,
    /// Stato libero a seguito di scioglimento dell'unione civile (per
    /// decesso del partner o per scioglimento).
    UnioneSciolta,
    /// Non classificabile (e.g. a foreigner whose status is not documented).
    NonClassificabile,
}

impl StatoCivile {
    /// Every state, in the order of the documentation.
    pub const ALL: [StatoCivile; 7] = [
        StatoCivile::Libero,
        StatoCivile::Coniugato,
        StatoCivile::Vedovo,
        StatoCivile::Divorziato,
        StatoCivile::UnitoCivilmente,
        StatoCivile::UnioneSciolta,
        StatoCivile::NonClassificabile,
    ];

    /// The code of the CSV format and of the database.
    pub fn code(self) -> &'static str {
        match self {
            StatoCivile::Libero => "libero",
            StatoCivile::Coniugato => "coniugato",
            StatoCivile::Vedovo => "vedovo",
            StatoCivile::Divorziato => "divorziato",
            StatoCivile::UnitoCivilmente => "unito_civilmente",
            StatoCivile::UnioneSciolta => "unione_sciolta",
            StatoCivile::NonClassificabile => "non_classificabile",
        }
    }

    /// The state for a code (case-insensitive).
    pub fn from_code(code: &str) -> Option<StatoCivile> {
        let code = code.trim().to_ascii_lowercase();
        StatoCivile::ALL.into_iter().find(|s| s.code() == code)
    }

    /// As printed on a certificate, in the person's gender.
    pub fn label(self, sex: Sex) -> &'static str {
        let f = sex == Sex::F;
        match self {
            StatoCivile::Libero if f => "nubile",
            StatoCivile::Libero => "celibe",
            StatoCivile::Coniugato if f => "coniugata",
            StatoCivile::Coniugato => "coniugato",
            StatoCivile::Vedovo if f => "vedova",
            StatoCivile::Vedovo => "vedovo",
            StatoCivile::Divorziato if f => "divorziata",
            StatoCivile::Divorziato => "divorziato",
            StatoCivile::UnitoCivilmente if f => "unita civilmente",
            StatoCivile::UnitoCivilmente => "unito civilmente",
            StatoCivile::UnioneSciolta => {
                "stato libero a seguito di scioglimento dell'unione civile"
            }
            StatoCivile::NonClassificabile => "non classificabile",
        }
    }
}

/// Citizenships Palazzo can print: ISO 3166-1 alpha-2 code, the state's
/// Italian name and the adjective used on certificates ("cittadinanza
/// italiana"). `XX` is the stateless person (apolide). The list covers
/// the citizenships most present among residents of Italian comuni (ISTAT
/// 2024); a comune with others asks for them to be added.
const CITIZENSHIPS: &[(&str, &str, &str)] = &[
    ("IT", "Italia", "italiana"),
    ("AL", "Albania", "albanese"),
    ("AT", "Austria", "austriaca"),
    ("BD", "Bangladesh", "bengalese"),
    ("BE", "Belgio", "belga"),
    ("BG", "Bulgaria", "bulgara"),
    ("BR", "Brasile", "brasiliana"),
    ("BY", "Bielorussia", "bielorussa"),
    ("CH", "Svizzera", "svizzera"),
    ("CI", "Costa d'Avorio", "ivoriana"),
    ("CN", "Cina", "cinese"),
    ("CO", "Colombia", "colombiana"),
    ("CU", "Cuba", "cubana"),
    ("DE", "Germania", "tedesca"),
    ("DO", "Repubblica Dominicana", "dominicana"),
    ("DZ", "Algeria", "algerina"),
    ("EC", "Ecuador", "ecuadoriana"),
    ("EG", "Egitto", "egiziana"),
    ("ES", "Spagna", "spagnola"),
    ("FR", "Francia", "francese"),
    ("GB", "Regno Unito", "britannica"),
    ("GE", "Georgia", "georgiana"),
    ("GH", "Ghana", "ghanese"),
    ("GR", "Grecia", "greca"),
    ("HR", "Croazia", "croata"),
    ("IN", "India", "indiana"),
    ("LK", "Sri Lanka", "singalese"),
    ("MA", "Marocco", "marocchina"),
    ("MD", "Moldova", "moldava"),
    ("MK", "Macedonia del Nord", "macedone"),
    ("NG", "Nigeria", "nigeriana"),
    ("NL", "Paesi Bassi", "olandese"),
    ("PE", "Perù", "peruviana"),
    ("PH", "Filippine", "filippina"),
    ("PK", "Pakistan", "pakistana"),
    ("PL", "Polonia", "polacca"),
    ("PT", "Portogallo", "portoghese"),
    ("RO", "Romania", "rumena"),
    ("RS", "Serbia", "serba"),
    ("RU", "Russia", "russa"),
    ("SN", "Senegal", "senegalese"),
    ("TN", "Tunisia", "tunisina"),
    ("TR", "Turchia", "turca"),
    ("UA", "Ucraina", "ucraina"),
    ("US", "Stati Uniti d'America", "statunitense"),
    ("XK", "Kosovo", "kosovara"),
    ("XX", "Apolide", "apolide"),
];

/// A citizenship (ISO 3166-1 alpha-2 code of a state in Palazzo's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cittadinanza(&'static str, &'static str, &'static str);

impl Serialize for Cittadinanza {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Cittadinanza {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Cittadinanza::from_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown citizenship `{code}`")))
    }
}

impl TryFrom<String> for StatoCivile {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        StatoCivile::from_code(&s).ok_or_else(|| format!("unknown marital status `{s}`"))
    }
}

impl From<StatoCivile> for String {
    fn from(s: StatoCivile) -> String {
        s.code().to_owned()
    }
}

impl Cittadinanza {
    /// Italian citizenship.
    pub const ITALIANA: Cittadinanza = Cittadinanza("IT", "Italia", "italiana");

    /// The citizenship for a code (case-insensitive), if known.
    pub fn from_code(code: &str) -> Option<Cittadinanza> {
        let code = code.trim().to_ascii_uppercase();
        CITIZENSHIPS
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|&(c, n, a)| Cittadinanza(c, n, a))
    }

    /// The code, e.g. `IT`.
    pub fn code(self) -> &'static str {
        self.0
    }

    /// The state, e.g. `Italia`.
    pub fn state(self) -> &'static str {
        self.1
    }

    /// As printed: `italiana`, `albanese`, `apolide`.
    pub fn adjective(self) -> &'static str {
        self.2
    }

    /// Whether this is Italian citizenship (the certificate of Italian
    /// citizenship is not issued to others, procedures.md §3.4).
    pub fn is_italian(self) -> bool {
        self.0 == "IT"
    }
}

/// A street of the stradario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreetRow {
    /// The line of the file (1 = the header; 0 for a row not read from a
    /// file).
    pub line: usize,
    /// The comune's code of the street (toponomastica), e.g. `0001`.
    pub code: String,
    /// The denomination as printed, e.g. `Via Roma`.
    pub name: String,
}

/// The current state of one resident, from one row of the residents file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentRow {
    /// The line of the file (1 = the header).
    pub line: usize,
    /// Codice fiscale.
    pub codice_fiscale: CodiceFiscale,
    /// Surname.
    pub surname: String,
    /// Given name(s).
    pub name: String,
    /// Sex.
    pub sex: Sex,
    /// Date of birth.
    pub birth_date: Date,
    /// Birthplace: the codice catastale of the comune, or of the foreign
    /// state (`Z…`).
    pub birthplace: CodiceCatastale,
    /// Citizenship.
    pub citizenship: Cittadinanza,
    /// Marital status.
    pub marital_status: StatoCivile,
    /// The family's code in the comune's register (famiglia anagrafica).
    pub family: String,
    /// Relation to the head of the family (`intestatario`, `coniuge`, …).
    pub relation: String,
    /// Street, as in the stradario.
    pub street: String,
    /// Civic number (with its letter or interno, e.g. `12/A`).
    pub civic: String,
    /// CAP.
    pub cap: Cap,
    /// Living at this address since.
    pub since: Date,
    /// The comune (codice catastale) of the previous residence when the
    /// person registered by immigration; `None` by birth or when unknown.
    pub provenance: Option<CodiceCatastale>,
}

/// An earlier residence of a resident in the comune (storico di
/// residenza), from a row of the residents file with `al` filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastResidenceRow {
    /// The line of the file.
    pub line: usize,
    /// Whose.
    pub codice_fiscale: CodiceFiscale,
    /// Street, as in the stradario.
    pub street: String,
    /// Civic number.
    pub civic: String,
    /// CAP.
    pub cap: Cap,
    /// From.
    pub from: Date,
    /// To (the day the next residence began, or the day the person left).
    pub to: Date,
}

/// The two files `palazzo anagrafe import` reads, told apart by their
/// header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `codice;denominazione`.
    Stradario,
    /// The residents' columns, [`RESIDENT_COLUMNS`].
    Residenti,
}

/// The columns of the stradario file, in order.
pub const STREET_COLUMNS: [&str; 2] = ["codice", "denominazione"];

/// The columns of the residents file, in order.
pub const RESIDENT_COLUMNS: [&str; 16] = [
    "codice_fiscale",
    "cognome",
    "nome",
    "sesso",
    "data_nascita",
    "luogo_nascita",
    "cittadinanza",
    "stato_civile",
    "famiglia",
    "rapporto",
    "via",
    "civico",
    "cap",
    "dal",
    "al",
    "provenienza",
];

/// The rows of a residents file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Residents {
    /// Current residents.
    pub current: Vec<ResidentRow>,
    /// Earlier residences.
    pub past: Vec<PastResidenceRow>,
}

/// A file that cannot be read at all (as opposed to a bad row).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// Not UTF-8.
    #[error("il file non è in UTF-8")]
    NotUtf8,
    /// No header line.
    #[error("il file è vuoto")]
    Empty,
    /// The header is neither format's.
    #[error(
        "intestazione non riconosciuta: attese le colonne «codice;denominazione» (stradario) \
         oppure «{}» (residenti)",
        RESIDENT_COLUMNS.join(";")
    )]
    Header,
}

impl FileError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            FileError::NotUtf8 => "file_non_utf8",
            FileError::Empty => "file_vuoto",
            FileError::Header => "intestazione_non_riconosciuta",
        }
    }
}

impl From<crate::csv::CsvError> for FileError {
    fn from(e: crate::csv::CsvError) -> Self {
        match e {
            crate::csv::CsvError::NotUtf8 => FileError::NotUtf8,
            crate::csv::CsvError::Empty => FileError::Empty,
        }
    }
}

/// The data lines of a file and its kind, told by the header.
struct Table<'a> {
    kind: FileKind,
    separator: char,
    lines: Vec<(usize, &'a str)>,
}

fn open(bytes: &[u8]) -> Result<Table<'_>, FileError> {
    let table = crate::csv::open(bytes)?;
    let kind = if table.is(&STREET_COLUMNS) {
        FileKind::Stradario
    } else if table.is(&RESIDENT_COLUMNS) {
        FileKind::Residenti
    } else {
        return Err(FileError::Header);
    };
    Ok(Table {
        kind,
        separator: table.separator,
        lines: table.lines,
    })
}

/// Which format a file is in, from its header.
///
/// # Errors
/// [`FileError`] when it is neither.
pub fn file_kind(bytes: &[u8]) -> Result<FileKind, FileError> {
    open(bytes).map(|t| t.kind)
}

/// Parses a stradario file.
///
/// # Errors
/// [`FileError`] when the file is not a stradario file at all.
pub fn parse_streets(bytes: &[u8]) -> Result<Parsed<Vec<StreetRow>>, FileError> {
    let table = open(bytes)?;
    if table.kind != FileKind::Stradario {
        return Err(FileError::Header);
    }
    let mut out: Parsed<Vec<StreetRow>> = Parsed::default();
    let mut codes = HashSet::new();
    let mut names = HashSet::new();
    for (line, text) in table.lines {
        let f = split(text, table.separator);
        let err = |column, code, message: String| RowError {
            line,
            column,
            code,
            message,
        };
        if f.len() != STREET_COLUMNS.len() {
            out.errors.push(err(
                None,
                "colonne",
                format!("attese 2 colonne, trovate {}", f.len()),
            ));
            continue;
        }
        let (code, name) = (f[0].trim(), collapse(&f[1]));
        if code.is_empty() || code.len() > 20 {
            out.errors.push(err(
                Some("codice"),
                "codice_via",
                "il codice della via è obbligatorio (al massimo 20 caratteri)".into(),
            ));
        } else if name.is_empty() || name.chars().count() > 120 {
            out.errors.push(err(
                Some("denominazione"),
                "denominazione_via",
                "la denominazione è obbligatoria (al massimo 120 caratteri)".into(),
            ));
        } else if !codes.insert(code.to_owned()) {
            out.errors.push(err(
                Some("codice"),
                "codice_via_ripetuto",
                format!("il codice «{code}» compare più volte"),
            ));
        } else if !names.insert(name.to_lowercase()) {
            out.errors.push(err(
                Some("denominazione"),
                "via_ripetuta",
                format!("la via «{name}» compare più volte"),
            ));
        } else {
            out.rows.push(StreetRow {
                line,
                code: code.to_owned(),
                name,
            });
        }
    }
    Ok(out)
}

/// Trims and collapses inner runs of spaces.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses and validates a residents file against the stradario `streets`
/// (names, any case) and the day of the import `today`.
///
/// Row rules (`docs/anagrafe-import.md`): every current row (empty `al`)
/// has every person field; the codice fiscale is valid and agrees with
/// the sex, birth date and birthplace given (omocodia allowed); the street
/// is in the stradario; dates are not in the future and `dal` is not
/// before birth; a codice fiscale has at most one current row; the members
/// of a family live at one address and the family has one `intestatario`.
/// A row with `al` is an earlier residence of a person with a current row
/// in the file: `codice_fiscale`, `via`, `civico`, `cap`, `dal`, `al` with
/// `dal` ≤ `al` ≤ the current `dal`, and periods that do not overlap.
///
/// # Errors
/// [`FileError`] when the file is not a residents file at all.
pub fn parse_residents(
    bytes: &[u8],
    streets: &[String],
    today: Date,
) -> Result<Parsed<Residents>, FileError> {
    let table = open(bytes)?;
    if table.kind != FileKind::Residenti {
        return Err(FileError::Header);
    }
    let known: HashMap<String, &String> = streets.iter().map(|s| (s.to_lowercase(), s)).collect();
    let mut current: Vec<ResidentRow> = Vec::new();
    let mut past: Vec<PastResidenceRow> = Vec::new();
    let mut errors: Vec<RowError> = Vec::new();
    for (line, text) in table.lines {
        let f = split(text, table.separator);
        if f.len() != RESIDENT_COLUMNS.len() {
            errors.push(RowError {
                line,
                column: None,
                code: "colonne",
                message: format!(
                    "attese {} colonne, trovate {}",
                    RESIDENT_COLUMNS.len(),
                    f.len()
                ),
            });
            continue;
        }
        let row = RawRow { line, f: &f };
        let parsed = if f[14].trim().is_empty() {
            row.current(&known, today).map(Entry::Current)
        } else {
            row.past(&known, today).map(Entry::Past)
        };
        match parsed {
            Ok(Entry::Current(r)) => current.push(r),
            Ok(Entry::Past(p)) => past.push(p),
            Err(e) => errors.push(e),
        }
    }
    let current = check_people(current, &mut errors);
    let past = check_history(past, &current, &mut errors);
    errors.sort_by_key(|e| e.line);
    Ok(Parsed {
        rows: Residents { current, past },
        errors,
    })
}

enum Entry {
    Current(ResidentRow),
    Past(PastResidenceRow),
}

struct RawRow<'a> {
    line: usize,
    f: &'a [String],
}

impl RawRow<'_> {
    fn err(
        &self,
        column: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> RowError {
        RowError {
            line: self.line,
            column: Some(column),
            code,
            message: message.into(),
        }
    }

    /// The trimmed field of `column`.
    fn get(&self, column: &'static str) -> &str {
        RESIDENT_COLUMNS
            .iter()
            .position(|c| *c == column)
            .and_then(|i| self.f.get(i))
            .map_or("", |s| s.trim())
    }

    fn required(&self, column: &'static str) -> Result<String, RowError> {
        let v = collapse(self.get(column));
        if v.is_empty() {
            Err(self.err(
                column,
                "campo_obbligatorio",
                format!("il campo «{column}» è obbligatorio"),
            ))
        } else if v.chars().count() > 120 {
            Err(self.err(
                column,
                "campo_troppo_lungo",
                format!("il campo «{column}» supera i 120 caratteri"),
            ))
        } else {
            Ok(v)
        }
    }

    fn date(&self, column: &'static str, today: Date) -> Result<Date, RowError> {
        let raw = self.required(column)?;
        let d = parse_date(&raw).ok_or_else(|| {
            self.err(
                column,
                "data_non_valida",
                format!("«{raw}» non è una data (gg/mm/aaaa)"),
            )
        })?;
        if d > today {
            return Err(self.err(
                column,
                "data_futura",
                format!("la data {} è nel futuro", italian(d)),
            ));
        }
        Ok(d)
    }

    fn cf(&self) -> Result<CodiceFiscale, RowError> {
        let raw = self.required("codice_fiscale")?;
        let cf = CodiceFiscale::parse(&raw).map_err(|e| {
            self.err(
                "codice_fiscale",
                "codice_fiscale_non_valido",
                format!("codice fiscale «{raw}» non valido: {e}"),
            )
        })?;
        if !cf.is_person() {
            return Err(self.err(
                "codice_fiscale",
                "codice_fiscale_non_valido",
                format!("«{raw}» non è il codice fiscale di una persona"),
            ));
        }
        Ok(cf)
    }

    fn address(
        &self,
        streets: &HashMap<String, &String>,
    ) -> Result<(String, String, Cap), RowError> {
        let street = self.required("via")?;
        let Some(&name) = streets.get(&street.to_lowercase()) else {
            return Err(self.err(
                "via",
                "via_non_in_stradario",
                format!("la via «{street}» non è nello stradario del Comune"),
            ));
        };
        let civic = self.required("civico")?;
        if civic.chars().count() > 20 {
            return Err(self.err(
                "civico",
                "campo_troppo_lungo",
                "il civico supera i 20 caratteri",
            ));
        }
        let raw = self.required("cap")?;
        let cap = Cap::parse(&raw)
            .map_err(|_| self.err("cap", "cap_non_valido", format!("CAP «{raw}» non valido")))?;
        Ok((name.clone(), civic, cap))
    }

    fn current(
        &self,
        streets: &HashMap<String, &String>,
        today: Date,
    ) -> Result<ResidentRow, RowError> {
        let codice_fiscale = self.cf()?;
        let surname = self.required("cognome")?;
        let name = self.required("nome")?;
        let raw = self.required("sesso")?;
        let sex = Sex::parse(&raw)
            .map_err(|_| self.err("sesso", "sesso_non_valido", "il sesso è M oppure F"))?;
        let birth_date = self.date("data_nascita", today)?;
        let raw = self.required("luogo_nascita")?;
        let birthplace = CodiceCatastale::parse(&raw).map_err(|_| {
            self.err(
                "luogo_nascita",
                "luogo_nascita_non_valido",
                format!(
                    "«{raw}» non è un codice catastale (es. A662, o Z100 per uno Stato estero)"
                ),
            )
        })?;
        // The codice fiscale encodes sex, birth date and birthplace (DM
        // 23/12/1976): a row that disagrees with its own code is wrong.
        let agrees = codice_fiscale.sex() == Some(sex)
            && codice_fiscale.birth_date(birth_date.year() / 100 * 100) == Some(birth_date)
            && codice_fiscale.birthplace().as_ref() == Some(&birthplace);
        if !agrees {
            return Err(self.err(
                "codice_fiscale",
                "codice_fiscale_incoerente",
                "il codice fiscale non corrisponde a sesso, data o luogo di nascita indicati",
            ));
        }
        let raw = self.required("cittadinanza")?;
        let citizenship = Cittadinanza::from_code(&raw).ok_or_else(|| {
            self.err(
                "cittadinanza",
                "cittadinanza_sconosciuta",
                format!("cittadinanza «{raw}» sconosciuta (codice ISO a due lettere, es. IT)"),
            )
        })?;
        let raw = self.required("stato_civile")?;
        let marital_status = StatoCivile::from_code(&raw).ok_or_else(|| {
            self.err(
                "stato_civile",
                "stato_civile_non_valido",
                format!(
                    "stato civile «{raw}» non valido: uno tra {}",
                    StatoCivile::ALL.map(StatoCivile::code).join(", ")
                ),
            )
        })?;
        let family = self.required("famiglia")?;
        let relation = self.required("rapporto")?.to_lowercase();
        let (street, civic, cap) = self.address(streets)?;
        let since = self.date("dal", today)?;
        if since < birth_date {
            return Err(self.err(
                "dal",
                "residenza_prima_della_nascita",
                "la residenza non può iniziare prima della nascita",
            ));
        }
        let provenance = match self.get("provenienza") {
            "" => None,
            raw => Some(CodiceCatastale::parse(raw).map_err(|_| {
                self.err(
                    "provenienza",
                    "provenienza_non_valida",
                    format!("«{raw}» non è un codice catastale"),
                )
            })?),
        };
        Ok(ResidentRow {
            line: self.line,
            codice_fiscale,
            surname,
            name,
            sex,
            birth_date,
            birthplace,
            citizenship,
            marital_status,
            family,
            relation,
            street,
            civic,
            cap,
            since,
            provenance,
        })
    }

    fn past(
        &self,
        streets: &HashMap<String, &String>,
        today: Date,
    ) -> Result<PastResidenceRow, RowError> {
        let codice_fiscale = self.cf()?;
        let (street, civic, cap) = self.address(streets)?;
        let from = self.date("dal", today)?;
        let to = self.date("al", today)?;
        if to < from {
            return Err(self.err("al", "periodo_non_valido", "«al» precede «dal»"));
        }
        Ok(PastResidenceRow {
            line: self.line,
            codice_fiscale,
            street,
            civic,
            cap,
            from,
            to,
        })
    }
}

/// `gg/mm/aaaa`.
pub fn italian(d: Date) -> String {
    d.strftime("%d/%m/%Y").to_string()
}

/// The rules across rows of current residents: one row per codice
/// fiscale, one address and one head per family. The rows that break
/// them are moved to `errors`.
fn check_people(rows: Vec<ResidentRow>, errors: &mut Vec<RowError>) -> Vec<ResidentRow> {
    let mut seen = HashSet::new();
    let mut kept = Vec::with_capacity(rows.len());
    for r in rows {
        if seen.insert(r.codice_fiscale.canonical()) {
            kept.push(r);
        } else {
            errors.push(RowError {
                line: r.line,
                column: Some("codice_fiscale"),
                code: "codice_fiscale_ripetuto",
                message: format!(
                    "il codice fiscale {} ha già una riga di residenza attuale",
                    r.codice_fiscale.as_str()
                ),
            });
        }
    }
    // A family lives at the address of its first row; its head is its
    // first `intestatario`.
    let mut homes: HashMap<&str, (&str, &str, &str)> = HashMap::new();
    let mut heads: HashMap<&str, usize> = HashMap::new();
    let mut bad = HashSet::new();
    for r in &kept {
        let home = homes.entry(r.family.as_str()).or_insert((
            r.street.as_str(),
            r.civic.as_str(),
            r.cap.as_str(),
        ));
        if *home != (r.street.as_str(), r.civic.as_str(), r.cap.as_str()) {
            errors.push(RowError {
                line: r.line,
                column: Some("via"),
                code: "famiglia_indirizzi_diversi",
                message: format!(
                    "la famiglia {} risulta già in {} {}: i componenti di una famiglia hanno lo stesso indirizzo",
                    r.family, home.0, home.1
                ),
            });
            bad.insert(r.line);
        } else if r.relation == "intestatario"
            && let Some(first) = heads.insert(r.family.as_str(), r.line)
        {
            heads.insert(r.family.as_str(), first);
            errors.push(RowError {
                line: r.line,
                column: Some("rapporto"),
                code: "intestatario_ripetuto",
                message: format!(
                    "la famiglia {} ha già un intestatario (riga {first})",
                    r.family
                ),
            });
            bad.insert(r.line);
        }
    }
    let mut missing: Vec<&str> = homes
        .keys()
        .filter(|f| !heads.contains_key(*f))
        .copied()
        .collect();
    missing.sort_unstable();
    let missing: HashSet<String> = missing.into_iter().map(str::to_owned).collect();
    let mut out = Vec::with_capacity(kept.len());
    for r in kept {
        if missing.contains(&r.family) {
            errors.push(RowError {
                line: r.line,
                column: Some("rapporto"),
                code: "famiglia_senza_intestatario",
                message: format!("la famiglia {} non ha un intestatario", r.family),
            });
        } else if !bad.contains(&r.line) {
            out.push(r);
        }
    }
    out
}

/// The rules of earlier residences: of a current resident, before the
/// current residence, not overlapping each other.
fn check_history(
    rows: Vec<PastResidenceRow>,
    current: &[ResidentRow],
    errors: &mut Vec<RowError>,
) -> Vec<PastResidenceRow> {
    let since: HashMap<CodiceFiscale, Date> = current
        .iter()
        .map(|r| (r.codice_fiscale.canonical(), r.since))
        .collect();
    let mut by_person: HashMap<CodiceFiscale, Vec<PastResidenceRow>> = HashMap::new();
    for p in rows {
        let cf = p.codice_fiscale.canonical();
        match since.get(&cf) {
            None => errors.push(RowError {
                line: p.line,
                column: Some("codice_fiscale"),
                code: "storico_senza_residente",
                message: format!(
                    "{}: una residenza passata richiede la riga della residenza attuale nello stesso file",
                    p.codice_fiscale.as_str()
                ),
            }),
            Some(&s) if p.to > s => errors.push(RowError {
                line: p.line,
                column: Some("al"),
                code: "periodo_sovrapposto",
                message: format!(
                    "la residenza passata termina dopo l'inizio di quella attuale ({})",
                    italian(s)
                ),
            }),
            Some(_) => by_person.entry(cf).or_default().push(p),
        }
    }
    let mut out = Vec::new();
    for (_, mut periods) in by_person {
        periods.sort_by_key(|p| (p.from, p.line));
        let mut last_to: Option<Date> = None;
        for p in periods {
            if last_to.is_some_and(|t| p.from < t) {
                errors.push(RowError {
                    line: p.line,
                    column: Some("dal"),
                    code: "periodo_sovrapposto",
                    message: "il periodo si sovrappone a un'altra residenza passata".into(),
                });
            } else {
                last_to = Some(p.to);
                out.push(p);
            }
        }
    }
    out.sort_by_key(|p| p.line);
    out
}

/// Quotes a field for the CSV writer when it needs it.
/// Writes a stradario file (the demo and `docs/anagrafe-import.md`).
pub fn write_streets(rows: &[StreetRow]) -> String {
    let mut out = STREET_COLUMNS.join(";");
    out.push('\n');
    for r in rows {
        out.push_str(&format!("{};{}\n", quote(&r.code), quote(&r.name)));
    }
    out
}

/// Writes a residents file: each current row, then the earlier residences.
pub fn write_residents(rows: &Residents) -> String {
    let mut out = RESIDENT_COLUMNS.join(";");
    out.push('\n');
    for r in &rows.current {
        let fields = [
            r.codice_fiscale.as_str().to_owned(),
            r.surname.clone(),
            r.name.clone(),
            r.sex.as_str().to_owned(),
            italian(r.birth_date),
            r.birthplace.as_str().to_owned(),
            r.citizenship.code().to_owned(),
            r.marital_status.code().to_owned(),
            r.family.clone(),
            r.relation.clone(),
            r.street.clone(),
            r.civic.clone(),
            r.cap.as_str().to_owned(),
            italian(r.since),
            String::new(),
            r.provenance
                .as_ref()
                .map_or_else(String::new, |p| p.as_str().to_owned()),
        ];
        out.push_str(&fields.map(|f| quote(&f)).join(";"));
        out.push('\n');
    }
    for p in &rows.past {
        let fields = [
            p.codice_fiscale.as_str().to_owned(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            p.street.clone(),
            p.civic.clone(),
            p.cap.as_str().to_owned(),
            italian(p.from),
            italian(p.to),
            String::new(),
        ];
        out.push_str(&fields.map(|f| quote(&f)).join(";"));
        out.push('\n');
    }
    out
}
