//! The payments file of `palazzo tributi import` (issue 7, parts 1 and 3;
//! `docs/tributi-import.md`): the F24 lines the comune receives for its
//! taxes (the Agenzia delle Entrate's flows, or a bank's report), one row
//! per line, each with a reference unique in the comune so that loading a
//! flow again never counts a payment twice.

use std::collections::HashMap;

use jiff::civil::Date;

use crate::csv::{self, Parsed, RowError, field, parse_date, quote};
use crate::ids::CodiceFiscale;
use crate::money::Cents;
use crate::tributi::import::FileError;

/// The columns of the payments file, in order.
pub const VERSAMENTI_COLUMNS: [&str; 7] = [
    "riferimento",
    "codice_fiscale",
    "anno",
    "codice_tributo",
    "data",
    "importo",
    "ravvedimento",
];

/// The tax of an F24 codice tributo, and whether the line is tax (not the
/// interest or sanctions of an accertamento): IMU (Ris. 35/E/2012, 33/E/2013),
/// TARI and tariffa (Ris. 45/E/2014), TEFA (Ris. 5/E/2021), TASI (Ris.
/// 46/E/2014). `None` for a code that is none of the comune's taxes.
#[must_use]
pub fn tributo_of(codice: &str) -> Option<(&'static str, bool)> {
    Some(match codice {
        "3912" | "3913" | "3914" | "3916" | "3918" | "3925" | "3930" | "3939" => ("IMU", true),
        "3923" | "3924" => ("IMU", false),
        "3944" | "3950" => ("TARI", true),
        "3945" | "3946" | "3951" | "3952" => ("TARI", false),
        "TEFA" => ("TEFA", true),
        "TEFN" | "TEFZ" => ("TEFA", false),
        "3958" | "3959" | "3960" | "3961" => ("TASI", true),
        "3962" | "3963" => ("TASI", false),
        _ => return None,
    })
}

/// One payment line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersamentoRow {
    /// Its line.
    pub line: usize,
    /// Unique in the comune: the flow's identifier of the line.
    pub riferimento: String,
    /// Who paid.
    pub codice_fiscale: CodiceFiscale,
    /// The tax year.
    pub anno: i16,
    /// The F24 codice tributo.
    pub codice_tributo: String,
    /// When it was paid.
    pub data: Date,
    /// How much.
    pub importo: Cents,
    /// "Ravv." ticked: sanction and interest included.
    pub ravvedimento: bool,
}

/// Parses a payments file.
///
/// # Errors
/// [`FileError`] when the file is not a payments file.
pub fn parse_versamenti(bytes: &[u8]) -> Result<Parsed<Vec<VersamentoRow>>, FileError> {
    let table = csv::open(bytes)?;
    if !table.is(&VERSAMENTI_COLUMNS) {
        return Err(FileError::Header);
    }
    let mut out: Parsed<Vec<VersamentoRow>> = Parsed::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, f) in table.rows() {
        if f.len() != VERSAMENTI_COLUMNS.len() {
            out.errors.push(RowError::column_count(
                line,
                f.len(),
                VERSAMENTI_COLUMNS.len(),
            ));
            continue;
        }
        match row(line, &f) {
            Ok(r) => {
                if let Some(first) = seen.get(&r.riferimento) {
                    out.errors.push(RowError {
                        line,
                        column: Some("riferimento"),
                        code: "riferimento_duplicato",
                        message: format!(
                            "il riferimento «{}» è già alla riga {first}",
                            r.riferimento
                        ),
                    });
                } else {
                    seen.insert(r.riferimento.clone(), line);
                    out.rows.push(r);
                }
            }
            Err(e) => out.errors.push(e),
        }
    }
    Ok(out)
}

fn row(line: usize, f: &[String]) -> Result<VersamentoRow, RowError> {
    let err = |column: &'static str, code: &'static str, message: String| RowError {
        line,
        column: Some(column),
        code,
        message,
    };
    let riferimento = field(f, 0);
    if riferimento.is_empty() || riferimento.len() > 80 {
        return Err(err(
            "riferimento",
            "riferimento_non_valido",
            "manca il riferimento del versamento (al massimo 80 caratteri)".into(),
        ));
    }
    let codice_fiscale = CodiceFiscale::parse(field(f, 1)).map_err(|_| {
        err(
            "codice_fiscale",
            "codice_fiscale_non_valido",
            format!("il codice fiscale «{}» non è valido", field(f, 1)),
        )
    })?;
    let anno = field(f, 2)
        .parse::<i16>()
        .ok()
        .filter(|y| (2012..=2100).contains(y))
        .ok_or_else(|| {
            err(
                "anno",
                "anno_non_valido",
                format!("l'anno «{}» non è valido (dal 2012)", field(f, 2)),
            )
        })?;
    let codice_tributo = field(f, 3).to_uppercase();
    if tributo_of(&codice_tributo).is_none() {
        return Err(err(
            "codice_tributo",
            "codice_tributo_non_valido",
            format!(
                "il codice tributo «{codice_tributo}» non è dell'IMU, della TARI, della TEFA o \
                 della TASI"
            ),
        ));
    }
    let data = parse_date(field(f, 4)).ok_or_else(|| {
        err(
            "data",
            "data_non_valida",
            format!("la data «{}» non è valida (gg/mm/aaaa)", field(f, 4)),
        )
    })?;
    let importo = Cents::parse_it(field(f, 5))
        .ok()
        .filter(|c| c.cents() > 0)
        .ok_or_else(|| {
            err(
                "importo",
                "importo_non_valido",
                format!(
                    "l'importo «{}» non è valido (in euro, maggiore di zero)",
                    field(f, 5)
                ),
            )
        })?;
    let ravvedimento = match field(f, 6).to_lowercase().as_str() {
        "" | "no" | "0" => false,
        "si" | "sì" | "1" | "x" => true,
        other => {
            return Err(err(
                "ravvedimento",
                "ravvedimento_non_valido",
                format!(
                    "«{other}»: scrivere «si» se è barrata la casella «Ravv.», altrimenti lasciare vuoto"
                ),
            ));
        }
    };
    Ok(VersamentoRow {
        line,
        riferimento: riferimento.to_owned(),
        codice_fiscale,
        anno,
        codice_tributo,
        data,
        importo,
        ravvedimento,
    })
}

/// Writes a payments file (the demo and `docs/tributi-import.md`).
#[must_use]
pub fn write_versamenti(rows: &[VersamentoRow]) -> String {
    let mut out = VERSAMENTI_COLUMNS.join(";");
    out.push('\n');
    for r in rows {
        let fields = [
            r.riferimento.clone(),
            r.codice_fiscale.as_str().to_owned(),
            r.anno.to_string(),
            r.codice_tributo.clone(),
            r.data.strftime("%d/%m/%Y").to_string(),
            format!("{},{:02}", r.importo.cents() / 100, r.importo.cents() % 100),
            if r.ravvedimento {
                "si".into()
            } else {
                String::new()
            },
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

    #[test]
    fn payments_are_read_and_bad_ones_reported() {
        let file = "riferimento;codice_fiscale;anno;codice_tributo;data;importo;ravvedimento\n\
            F24-1-1;RSSMRA80A01H501U;2026;3918;16/06/2026;948,00;\n\
            F24-1-2;RSSMRA80A01H501U;2025;3918;16/07/2025;507,07;si\n\
            F24-2-1;RSSMRA80A01H501U;2026;tefa;30/05/2026;5,98;\n\
            F24-2-2;RSSMRA80A01H501U;2026;1001;30/05/2026;5,98;\n\
            F24-2-3;RSSMRA80A01H501U;2026;3944;31/02/2026;5,98;\n\
            F24-2-4;RSSMRA80A01H501U;2026;3944;28/02/2026;0;\n\
            F24-2-5;RSSMRA80A01H501U;2026;3944;28/02/2026;1,00;forse\n\
            F24-1-1;RSSMRA80A01H501U;2026;3918;16/06/2026;948,00;\n\
            F24-2-6;RSSMRA80A01H501U;1999;3944;28/02/2026;1,00;\n";
        let parsed = parse_versamenti(file.as_bytes()).unwrap();
        assert_eq!(parsed.rows.len(), 3);
        assert_eq!(parsed.rows[0].importo, Cents::from_cents(94_800));
        assert!(parsed.rows[1].ravvedimento);
        assert_eq!(parsed.rows[1].data, date(2025, 7, 16));
        assert_eq!(parsed.rows[2].codice_tributo, "TEFA");
        let codes: Vec<(usize, &str)> = parsed.errors.iter().map(|e| (e.line, e.code)).collect();
        assert_eq!(
            codes,
            vec![
                (5, "codice_tributo_non_valido"),
                (6, "data_non_valida"),
                (7, "importo_non_valido"),
                (8, "ravvedimento_non_valido"),
                (9, "riferimento_duplicato"),
                (10, "anno_non_valido"),
            ]
        );
        let again = parse_versamenti(write_versamenti(&parsed.rows).as_bytes()).unwrap();
        assert!(again.errors.is_empty());
        assert_eq!(
            again
                .rows
                .iter()
                .map(|r| &r.riferimento)
                .collect::<Vec<_>>(),
            parsed
                .rows
                .iter()
                .map(|r| &r.riferimento)
                .collect::<Vec<_>>()
        );
        assert_eq!(tributo_of("3962"), Some(("TASI", false)));
        assert_eq!(tributo_of("3944"), Some(("TARI", true)));
    }
}
