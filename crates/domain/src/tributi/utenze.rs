//! The TARI utenze file of `palazzo tributi import` (issue 7, part 1;
//! `docs/tributi-import.md`): who occupies which premises, since when,
//! as a home (with its occupants and pertinenze) or as a business of a
//! DPR 158/1999 category, with the surface the TARI is charged on and the
//! reductions of the regolamento it has (`taxes-pagopa.md` §2.2).
//!
//! One row per utenza, taxpayer and first day: when the occupants, the
//! surface or the category change, the comune closes the row (`al`) and
//! opens another from the next day.

use jiff::civil::Date;

use crate::csv::{self, Parsed, RowError, field, quote};
use crate::ids::CodiceFiscale;
use crate::tributi::import::FileError;
use crate::tributi::tari::{Utenza, codice_riduzione_valido};

/// The columns of the utenze file, in order.
pub const UTENZE_COLUMNS: [&str; 12] = [
    "codice",
    "codice_fiscale",
    "indirizzo",
    "catasto",
    "tipo",
    "occupanti",
    "categoria",
    "superficie",
    "pertinenze",
    "dal",
    "al",
    "riduzioni",
];

/// A TARI utenza of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtenzaRow {
    /// Its line.
    pub line: usize,
    /// The utenza's code in the comune (the same premises keep it across
    /// occupants and years).
    pub codice: String,
    /// Who pays: the occupant (or the holder, for a business).
    pub codice_fiscale: CodiceFiscale,
    /// Where the premises are.
    pub indirizzo: String,
    /// The cadastral data as printed on the bill (ARERA TITR art. 5), e.g.
    /// `F12 P345 S6`; may be empty.
    pub catasto: String,
    /// Home or business, with surfaces.
    pub utenza: Utenza,
    /// First day of occupation.
    pub dal: Date,
    /// Last day, if it ended.
    pub al: Option<Date>,
    /// The codes of the reductions of the regolamento it has.
    pub riduzioni: Vec<String>,
}

/// Parses a TARI utenze file.
///
/// # Errors
/// [`FileError`] when the file is not a utenze file.
pub fn parse_utenze(bytes: &[u8]) -> Result<Parsed<Vec<UtenzaRow>>, FileError> {
    crate::tributi::import::parse_by_period(
        bytes,
        &UTENZE_COLUMNS,
        "l'utenza",
        "utenza_duplicata",
        utenza_row,
        |r| (r.codice.as_str(), &r.codice_fiscale, r.dal),
    )
}

fn number(
    line: usize,
    f: &[String],
    i: usize,
    column: &'static str,
    range: std::ops::RangeInclusive<u32>,
    what: &str,
) -> Result<u32, RowError> {
    let v = field(f, i);
    v.parse::<u32>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            RowError::at(
                line,
                column,
                "numero_non_valido",
                format!(
                    "«{v}» non è {what} valido (da {} a {})",
                    range.start(),
                    range.end()
                ),
            )
        })
}

fn utenza_row(line: usize, f: &[String]) -> Result<UtenzaRow, RowError> {
    let codice = field(f, 0);
    if codice.is_empty() || codice.len() > 64 {
        return Err(RowError::at(
            line,
            "codice",
            "codice_utenza_non_valido",
            "manca il codice dell'utenza (al massimo 64 caratteri)".into(),
        ));
    }
    let codice_fiscale = CodiceFiscale::parse(field(f, 1)).map_err(|_| {
        RowError::at(
            line,
            "codice_fiscale",
            "codice_fiscale_non_valido",
            format!("il codice fiscale «{}» non è valido", field(f, 1)),
        )
    })?;
    let must_be_empty = |i: usize, column: &'static str, tipo: &str| {
        if field(f, i).is_empty() {
            Ok(())
        } else {
            Err(RowError::at(
                line,
                column,
                "colonna_non_prevista",
                format!("la colonna «{column}» non si compila per le utenze {tipo}"),
            ))
        }
    };
    let superficie = number(
        line,
        f,
        7,
        "superficie",
        1..=1_000_000,
        "una superficie in m²",
    )?;
    let utenza = match field(f, 4) {
        "domestica" => {
            must_be_empty(6, "categoria", "domestiche")?;
            let occupanti = number(line, f, 5, "occupanti", 1..=99, "un numero di occupanti")?;
            let pertinenze = if field(f, 8).is_empty() {
                0
            } else {
                number(
                    line,
                    f,
                    8,
                    "pertinenze",
                    0..=1_000_000,
                    "una superficie in m²",
                )?
            };
            Utenza::Domestica {
                occupanti: u8::try_from(occupanti).unwrap_or(u8::MAX),
                superficie,
                pertinenze,
            }
        }
        "non_domestica" => {
            must_be_empty(5, "occupanti", "non domestiche")?;
            must_be_empty(8, "pertinenze", "non domestiche")?;
            let categoria = number(line, f, 6, "categoria", 1..=30, "una categoria")?;
            Utenza::NonDomestica {
                categoria: u8::try_from(categoria).unwrap_or(u8::MAX),
                superficie,
            }
        }
        t => {
            return Err(RowError::at(
                line,
                "tipo",
                "tipo_utenza_non_valido",
                format!("il tipo «{t}» non è valido: «domestica» o «non_domestica»"),
            ));
        }
    };
    let date = |i: usize, column: &'static str| csv::date_field(line, f, i, column);
    let dal = date(9, "dal")?.ok_or_else(|| {
        RowError::at(
            line,
            "dal",
            "data_mancante",
            "manca la data di inizio dell'occupazione".into(),
        )
    })?;
    let al = date(10, "al")?;
    if al.is_some_and(|al| al < dal) {
        return Err(RowError::at(
            line,
            "al",
            "periodo_invertito",
            "l'occupazione termina prima di iniziare".into(),
        ));
    }
    let mut riduzioni: Vec<String> = Vec::new();
    for r in field(f, 11)
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        if !codice_riduzione_valido(r) {
            return Err(RowError::at(
                line,
                "riduzioni",
                "riduzione_non_valida",
                format!("«{r}» non è un codice di riduzione (lettere minuscole, cifre, _ e -)"),
            ));
        }
        if !riduzioni.iter().any(|x| x == r) {
            riduzioni.push(r.to_owned());
        }
    }
    Ok(UtenzaRow {
        line,
        codice: codice.to_owned(),
        codice_fiscale,
        indirizzo: field(f, 2).to_owned(),
        catasto: field(f, 3).to_owned(),
        utenza,
        dal,
        al,
        riduzioni,
    })
}

/// Writes a utenze file (the demo and `docs/tributi-import.md`).
#[must_use]
pub fn write_utenze(rows: &[UtenzaRow]) -> String {
    let day = |d: Date| d.strftime("%d/%m/%Y").to_string();
    let mut out = UTENZE_COLUMNS.join(";");
    out.push('\n');
    for r in rows {
        let (tipo, occupanti, categoria, superficie, pertinenze) = match r.utenza {
            Utenza::Domestica {
                occupanti,
                superficie,
                pertinenze,
            } => (
                "domestica",
                occupanti.to_string(),
                String::new(),
                superficie,
                pertinenze.to_string(),
            ),
            Utenza::NonDomestica {
                categoria,
                superficie,
            } => (
                "non_domestica",
                String::new(),
                categoria.to_string(),
                superficie,
                String::new(),
            ),
        };
        let fields = [
            r.codice.clone(),
            r.codice_fiscale.as_str().to_owned(),
            r.indirizzo.clone(),
            r.catasto.clone(),
            tipo.to_owned(),
            occupanti,
            categoria,
            superficie.to_string(),
            pertinenze,
            day(r.dal),
            r.al.map(day).unwrap_or_default(),
            r.riduzioni.join(","),
        ];
        out.push_str(&fields.map(|f| quote(&f)).join(";"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use jiff::civil::date;

    use super::*;

    const HEAD: &str = "codice;codice_fiscale;indirizzo;catasto;tipo;occupanti;categoria;superficie;pertinenze;dal;al;riduzioni\n";

    #[test]
    fn good_rows_are_read_and_bad_ones_reported() {
        let file = format!(
            "{HEAD}\
U1;RSSMRA80A01H501U;Via Roma 1;F12 P345 S6;domestica;3;;100;20;01/01/2020;;compostaggio\n\
U2;RSSMRA80A01H501U;Via Roma 3;;non_domestica;;13;50;;01/07/2026;31/12/2026;riciclo, riciclo\n\
U3;RSSMRA80A01H501U;;;domestica;;;80;;01/01/2026;;\n\
U4;RSSMRA80A01H501U;;;ufficio;;;80;;01/01/2026;;\n\
U5;RSSMRA80A01H501U;;;non_domestica;;31;80;;01/01/2026;;\n\
U6;RSSMRA80A01H501U;;;domestica;2;13;80;;01/01/2026;;\n\
U7;RSSMRA80A01H501X;;;domestica;2;;80;;01/01/2026;;\n\
U8;RSSMRA80A01H501U;;;domestica;2;;80;;01/01/2026;31/12/2025;\n\
U9;RSSMRA80A01H501U;;;domestica;2;;0;;01/01/2026;;\n\
U1;RSSMRA80A01H501U;Via Roma 1;;domestica;4;;100;;01/01/2020;;\n\
U10;RSSMRA80A01H501U;;;domestica;2;;80;;01/01/2026;;Compost\n\
U11;RSSMRA80A01H501U;;;domestica;2;;80\n"
        );
        let parsed = parse_utenze(file.as_bytes()).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        let first = &parsed.rows[0];
        assert_eq!(first.catasto, "F12 P345 S6");
        assert_eq!(
            first.utenza,
            Utenza::Domestica {
                occupanti: 3,
                superficie: 100,
                pertinenze: 20
            }
        );
        assert_eq!(first.riduzioni, vec!["compostaggio".to_owned()]);
        let second = &parsed.rows[1];
        assert_eq!(
            second.utenza,
            Utenza::NonDomestica {
                categoria: 13,
                superficie: 50
            }
        );
        assert_eq!(second.al, Some(date(2026, 12, 31)));
        assert_eq!(second.riduzioni, vec!["riciclo".to_owned()]);
        let codes: Vec<(usize, &str)> = parsed.errors.iter().map(|e| (e.line, e.code)).collect();
        assert_eq!(
            codes,
            vec![
                (4, "numero_non_valido"),
                (5, "tipo_utenza_non_valido"),
                (6, "numero_non_valido"),
                (7, "colonna_non_prevista"),
                (8, "codice_fiscale_non_valido"),
                (9, "periodo_invertito"),
                (10, "numero_non_valido"),
                (11, "utenza_duplicata"),
                (12, "riduzione_non_valida"),
                (13, "numero_colonne"),
            ]
        );
        // Writing the good rows and reading them back gives them again.
        let again = parse_utenze(write_utenze(&parsed.rows).as_bytes()).unwrap();
        assert!(again.errors.is_empty());
        let strip = |rows: &[UtenzaRow]| -> Vec<UtenzaRow> {
            rows.iter()
                .map(|r| UtenzaRow {
                    line: 0,
                    ..r.clone()
                })
                .collect()
        };
        assert_eq!(strip(&again.rows), strip(&parsed.rows));
        // Another file's header is not a utenze file.
        assert!(parse_utenze(b"codice;foglio\n").is_err());
    }
}
