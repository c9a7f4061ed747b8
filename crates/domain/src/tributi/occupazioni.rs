//! The occupations file of `palazzo tributi import` (issue 7, part 1;
//! `docs/tributi-import.md`): who occupies which public land, where, for
//! what (the regolamento's category), in which zone, on how many square
//! metres, permanently or for a time — what the canone unico patrimoniale
//! is charged on (L. 160/2019 cc.816-836, `taxes-pagopa.md` §3).
//!
//! One row per occupation, taxpayer and first day, as for the TARI utenze.
//! An occupation is permanent when it lasts a year or more and temporary
//! when it lasts less (the regolamenti's rule, after D.Lgs. 507/1993
//! art. 42): a temporary one has its last day; a permanent one has it
//! only once it ended.

use jiff::civil::Date;

use serde::{Deserialize, Serialize};

use crate::csv::{self, Parsed, RowError, field, quote};
use crate::ids::CodiceFiscale;
use crate::tributi::canone::codice_valido;
use crate::tributi::import::FileError;

/// The columns of the occupations file, in order.
pub const OCCUPAZIONI_COLUMNS: [&str; 11] = [
    "codice",
    "codice_fiscale",
    "descrizione",
    "indirizzo",
    "zona",
    "categoria",
    "tipo",
    "superficie",
    "dal",
    "al",
    "atto",
];

/// An occupation of public land by a taxpayer, for a period: what the
/// file's row says, and what Palazzo stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatiOccupazione {
    /// The occupation's code in the comune (the concession).
    pub codice: String,
    /// Who pays: the holder of the concession (as given: an omocodic code
    /// is another person).
    pub codice_fiscale: CodiceFiscale,
    /// What it is, e.g. "Passo carrabile" or "Ponteggio per lavori".
    pub descrizione: String,
    /// Where.
    pub indirizzo: String,
    /// The zone's code in the year's coefficients.
    pub zona: String,
    /// The category's code in the year's coefficients.
    pub categoria: String,
    /// Permanent (by the year) or temporary (by the day).
    pub permanente: bool,
    /// The surface in hundredths of a square metre, as measured.
    pub superficie_cm2: u32,
    /// First day.
    pub dal: Date,
    /// Last day (always for a temporary one).
    pub al: Option<Date>,
    /// The concession or authorisation, e.g. "Concessione n. 12/2026";
    /// may be empty.
    pub atto: String,
}

/// An occupation of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccupazioneRow {
    /// Its line.
    pub line: usize,
    /// The occupation.
    pub dati: DatiOccupazione,
}

/// Reads a surface in square metres with up to two decimals (`12`,
/// `12,5`, `0.75`) as hundredths, from 0,01 to 1.000.000 m².
#[must_use]
pub fn parse_superficie(s: &str) -> Option<u32> {
    let t = s.trim().trim_end_matches("m²").trim().replace(',', ".");
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    if int.is_empty()
        || int.len() > 7
        || frac.len() > 2
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u32 = int.parse().ok()?;
    let hundredths: u32 = format!("{frac:0<2}").parse().ok()?;
    let v = whole.checked_mul(100)?.checked_add(hundredths)?;
    (1..=100_000_000).contains(&v).then_some(v)
}

/// Writes hundredths of a square metre as the file does (`12,5`).
#[must_use]
pub fn superficie_it(cm2: u32) -> String {
    match cm2 % 100 {
        0 => (cm2 / 100).to_string(),
        c if c % 10 == 0 => format!("{},{}", cm2 / 100, c / 10),
        c => format!("{},{c:02}", cm2 / 100),
    }
}

/// Parses an occupations file.
///
/// # Errors
/// [`FileError`] when the file is not an occupations file.
pub fn parse_occupazioni(bytes: &[u8]) -> Result<Parsed<Vec<OccupazioneRow>>, FileError> {
    crate::tributi::import::parse_by_period(
        bytes,
        &OCCUPAZIONI_COLUMNS,
        "l'occupazione",
        "occupazione_duplicata",
        occupazione_row,
        |r| (r.dati.codice.as_str(), &r.dati.codice_fiscale, r.dati.dal),
    )
}

fn occupazione_row(line: usize, f: &[String]) -> Result<OccupazioneRow, RowError> {
    let codice = field(f, 0);
    if codice.is_empty() || codice.len() > 64 {
        return Err(RowError::at(
            line,
            "codice",
            "codice_occupazione_non_valido",
            "manca il codice dell'occupazione (al massimo 64 caratteri)".into(),
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
    let descrizione = field(f, 2);
    if descrizione.is_empty() {
        return Err(RowError::at(
            line,
            "descrizione",
            "descrizione_mancante",
            "manca la descrizione dell'occupazione (ad esempio «Passo carrabile»)".into(),
        ));
    }
    let code = |i: usize, column: &'static str, what: &str| -> Result<String, RowError> {
        let v = field(f, i);
        if codice_valido(v) {
            Ok(v.to_owned())
        } else {
            Err(RowError::at(
                line,
                column,
                "codice_non_valido",
                format!(
                    "«{v}» non è un codice di {what} (lettere minuscole, cifre, _ e -, come nei \
                     coefficienti del Comune)"
                ),
            ))
        }
    };
    let zona = code(4, "zona", "zona")?;
    let categoria = code(5, "categoria", "categoria")?;
    let permanente = match field(f, 6) {
        "permanente" => true,
        "temporanea" => false,
        t => {
            return Err(RowError::at(
                line,
                "tipo",
                "tipo_occupazione_non_valido",
                format!("il tipo «{t}» non è valido: «permanente» o «temporanea»"),
            ));
        }
    };
    let superficie_cm2 = parse_superficie(field(f, 7)).ok_or_else(|| {
        RowError::at(
            line,
            "superficie",
            "superficie_non_valida",
            format!(
                "«{}» non è una superficie in m² (da 0,01 a 1.000.000, al massimo due decimali)",
                field(f, 7)
            ),
        )
    })?;
    let dal = csv::date_field(line, f, 8, "dal")?.ok_or_else(|| {
        RowError::at(
            line,
            "dal",
            "data_mancante",
            "manca la data di inizio dell'occupazione".into(),
        )
    })?;
    let al = csv::date_field(line, f, 9, "al")?;
    if al.is_some_and(|al| al < dal) {
        return Err(RowError::at(
            line,
            "al",
            "periodo_invertito",
            "l'occupazione termina prima di iniziare".into(),
        ));
    }
    if !permanente {
        // Temporary: less than a year, so it has an end within a year.
        let within_a_year = al.is_some_and(|al| {
            dal.checked_add(jiff::Span::new().years(1))
                .is_ok_and(|y| al < y)
        });
        if !within_a_year {
            return Err(RowError::at(
                line,
                "al",
                "occupazione_temporanea_non_valida",
                "un'occupazione temporanea dura meno di un anno: indica l'ultimo giorno (entro un \
                 anno dall'inizio), altrimenti è permanente"
                    .into(),
            ));
        }
    }
    Ok(OccupazioneRow {
        line,
        dati: DatiOccupazione {
            codice: codice.to_owned(),
            codice_fiscale,
            descrizione: descrizione.to_owned(),
            indirizzo: field(f, 3).to_owned(),
            zona,
            categoria,
            permanente,
            superficie_cm2,
            dal,
            al,
            atto: field(f, 10).to_owned(),
        },
    })
}

/// Writes an occupations file (the demo and `docs/tributi-import.md`).
#[must_use]
pub fn write_occupazioni(rows: &[OccupazioneRow]) -> String {
    let day = |d: Date| d.strftime("%d/%m/%Y").to_string();
    let mut out = OCCUPAZIONI_COLUMNS.join(";");
    out.push('\n');
    for r in rows.iter().map(|r| &r.dati) {
        let fields = [
            r.codice.clone(),
            r.codice_fiscale.as_str().to_owned(),
            r.descrizione.clone(),
            r.indirizzo.clone(),
            r.zona.clone(),
            r.categoria.clone(),
            if r.permanente {
                "permanente"
            } else {
                "temporanea"
            }
            .to_owned(),
            superficie_it(r.superficie_cm2),
            day(r.dal),
            r.al.map(day).unwrap_or_default(),
            r.atto.clone(),
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

    const HEAD: &str =
        "codice;codice_fiscale;descrizione;indirizzo;zona;categoria;tipo;superficie;dal;al;atto\n";

    #[test]
    fn surfaces_are_read_to_the_hundredth() {
        assert_eq!(parse_superficie("5"), Some(500));
        assert_eq!(parse_superficie("12,5"), Some(1_250));
        assert_eq!(parse_superficie("0.75 m²"), Some(75));
        assert_eq!(parse_superficie("0,07"), Some(7));
        assert_eq!(parse_superficie("1000000"), Some(100_000_000));
        for bad in [
            "",
            "0",
            "0,00",
            "1,234",
            "-3",
            "1.000.000",
            "12,5a",
            "10000000",
        ] {
            assert_eq!(parse_superficie(bad), None, "{bad}");
        }
        for v in [7, 75, 500, 1_250, 1_207] {
            assert_eq!(parse_superficie(&superficie_it(v)), Some(v));
        }
        assert_eq!(superficie_it(1_250), "12,5");
        assert_eq!(superficie_it(1_207), "12,07");
    }

    #[test]
    fn good_rows_are_read_and_bad_ones_reported() {
        let file = format!(
            "{HEAD}\
O1;RSSMRA80A01H501U;Passo carrabile;Via Roma 1;1;passo_carrabile;permanente;5;01/01/2020;;Concessione n. 3/2020\n\
O2;RSSMRA80A01H501U;Ponteggio;Via Roma 3;2;ponteggio;temporanea;20,5;01/03/2026;30/03/2026;\n\
O3;RSSMRA80A01H501U;Ponteggio;;2;ponteggio;temporanea;20;01/03/2026;;\n\
O4;RSSMRA80A01H501U;Ponteggio;;2;ponteggio;temporanea;20;01/03/2026;01/03/2027;\n\
O5;RSSMRA80A01H501U;Dehors;;Centro;dehors;permanente;20;01/03/2026;;\n\
O6;RSSMRA80A01H501U;Dehors;;1;dehors;stagionale;20;01/03/2026;;\n\
O7;RSSMRA80A01H501U;Dehors;;1;dehors;permanente;0;01/03/2026;;\n\
O8;RSSMRA80A01H501X;Dehors;;1;dehors;permanente;10;01/03/2026;;\n\
O9;RSSMRA80A01H501U;;;1;dehors;permanente;10;01/03/2026;;\n\
O10;RSSMRA80A01H501U;Dehors;;1;dehors;permanente;10;01/03/2026;28/02/2026;\n\
O1;RSSMRA80A01H501U;Passo carrabile;Via Roma 1;1;passo_carrabile;permanente;6;01/01/2020;;\n\
O11;RSSMRA80A01H501U;Dehors;;1;dehors;permanente;10;marzo;;\n\
O12;RSSMRA80A01H501U;Dehors\n"
        );
        let parsed = parse_occupazioni(file.as_bytes()).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        let first = &parsed.rows[0].dati;
        assert!(first.permanente);
        assert_eq!(
            (first.superficie_cm2, first.al, first.atto.as_str()),
            (500, None, "Concessione n. 3/2020")
        );
        let second = &parsed.rows[1].dati;
        assert!(!second.permanente);
        assert_eq!(second.superficie_cm2, 2_050);
        assert_eq!(second.al, Some(date(2026, 3, 30)));
        let codes: Vec<(usize, &str)> = parsed.errors.iter().map(|e| (e.line, e.code)).collect();
        assert_eq!(
            codes,
            vec![
                (4, "occupazione_temporanea_non_valida"),
                (5, "occupazione_temporanea_non_valida"),
                (6, "codice_non_valido"),
                (7, "tipo_occupazione_non_valido"),
                (8, "superficie_non_valida"),
                (9, "codice_fiscale_non_valido"),
                (10, "descrizione_mancante"),
                (11, "periodo_invertito"),
                (12, "occupazione_duplicata"),
                (13, "data_non_valida"),
                (14, "numero_colonne"),
            ]
        );
        // Writing the good rows and reading them back gives them again.
        let again = parse_occupazioni(write_occupazioni(&parsed.rows).as_bytes()).unwrap();
        assert!(again.errors.is_empty());
        let strip = |rows: &[OccupazioneRow]| -> Vec<OccupazioneRow> {
            rows.iter()
                .map(|r| OccupazioneRow {
                    line: 0,
                    ..r.clone()
                })
                .collect()
        };
        assert_eq!(strip(&again.rows), strip(&parsed.rows));
        assert!(parse_occupazioni(b"codice;foglio\n").is_err());
    }
}
