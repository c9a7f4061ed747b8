//! The CSV files of the bulk imports (`palazzo anagrafe import`,
//! `palazzo tributi import`): UTF-8 (a byte-order mark is skipped), a
//! header line naming the columns, `;` (the Italian spreadsheet default) or
//! `,` as the separator — the header's — and RFC 4180 quoting (`"…"`, `""`
//! for a quote). Blank lines are skipped.
//!
//! A bad row is reported with its line, column and a stable code and the
//! good rows are kept ([`RowError`]); only a file that cannot be read at
//! all is an error ([`CsvError`]).

use jiff::civil::Date;

/// A refused row: where, why (a stable code) and what to fix (Italian).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file (1 = the header).
    pub line: usize,
    /// The column, when one is at fault.
    pub column: Option<&'static str>,
    /// Stable code, e.g. `codice_fiscale_non_valido`.
    pub code: &'static str,
    /// What is wrong, in Italian.
    pub message: String,
}

impl RowError {
    /// A problem of `column` on `line`.
    #[must_use]
    pub fn at(line: usize, column: &'static str, code: &'static str, message: String) -> RowError {
        RowError {
            line,
            column: Some(column),
            code,
            message,
        }
    }

    /// A row with `got` columns where the header has `want`.
    #[must_use]
    pub fn column_count(line: usize, got: usize, want: usize) -> RowError {
        RowError {
            line,
            column: None,
            code: "numero_colonne",
            message: format!("la riga ha {got} colonne invece di {want}"),
        }
    }
}

/// The `i`-th field of a row, trimmed (empty when the row is shorter).
#[must_use]
pub fn field(f: &[String], i: usize) -> &str {
    f.get(i).map_or("", |s| s.trim())
}

/// The `i`-th field of a row read as an optional `gg/mm/aaaa` date of
/// `column` (`data_non_valida` when it is not one).
///
/// # Errors
/// The row's error.
pub fn date_field(
    line: usize,
    f: &[String],
    i: usize,
    column: &'static str,
) -> Result<Option<Date>, RowError> {
    match field(f, i) {
        "" => Ok(None),
        d => parse_date(d).map(Some).ok_or_else(|| {
            RowError::at(
                line,
                column,
                "data_non_valida",
                format!("la data «{d}» non è valida (gg/mm/aaaa)"),
            )
        }),
    }
}

/// A parsed file: what is good, and the refused rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed<T> {
    /// The good rows, in file order.
    pub rows: T,
    /// The refused rows, in file order.
    pub errors: Vec<RowError>,
}

/// A file that has no readable header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// Not UTF-8.
    #[error("il file non è in UTF-8")]
    NotUtf8,
    /// No header line.
    #[error("il file è vuoto")]
    Empty,
}

/// A file split into its header and its data lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table<'a> {
    /// The header's column names, trimmed and lower-case.
    pub header: Vec<String>,
    /// The separator the header uses.
    pub separator: char,
    /// The data lines: (line number, text without the line end).
    pub lines: Vec<(usize, &'a str)>,
}

impl Table<'_> {
    /// Does the header name exactly `columns`, in order?
    #[must_use]
    pub fn is(&self, columns: &[&str]) -> bool {
        self.header.len() == columns.len() && self.header.iter().zip(columns).all(|(a, b)| a == b)
    }

    /// The fields of each data line, with its line number.
    pub fn rows(&self) -> impl Iterator<Item = (usize, Vec<String>)> + '_ {
        self.lines
            .iter()
            .map(|(n, text)| (*n, split(text, self.separator)))
    }
}

/// Reads the header and the data lines of `bytes`.
///
/// # Errors
/// [`CsvError`] for a file that is not UTF-8 or has no header.
pub fn open(bytes: &[u8]) -> Result<Table<'_>, CsvError> {
    let text = std::str::from_utf8(bytes).map_err(|_| CsvError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or(CsvError::Empty)?;
    let separator = if header.contains(';') { ';' } else { ',' };
    let header = split(header, separator)
        .into_iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    Ok(Table {
        header,
        separator,
        lines: lines.collect(),
    })
}

/// Splits one line on `separator`, honouring double quotes.
#[must_use]
pub fn split(line: &str, separator: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == separator && !quoted => out.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    out.push(field);
    out
}

/// Quotes a field for a `;` file when it needs it.
#[must_use]
pub fn quote(field: &str) -> String {
    if field.contains([';', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// A date as `gg/mm/aaaa` (the Italian form) or `aaaa-mm-gg`.
#[must_use]
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    if let Some((d, rest)) = s.split_once('/') {
        let (m, y) = rest.split_once('/')?;
        let (d, m, y) = (d.parse().ok()?, m.parse().ok()?, y.parse().ok()?);
        if !(1000..=9999).contains(&y) {
            return None;
        }
        Date::new(y, m, d).ok()
    } else {
        s.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn header_separator_quotes_and_blank_lines() {
        let t = open("\u{feff}A;B\r\n\n1;\"x;\"\"y\"\"\"\r\n".as_bytes()).unwrap();
        assert!(t.is(&["a", "b"]));
        assert!(!t.is(&["a"]));
        let rows: Vec<_> = t.rows().collect();
        assert_eq!(rows, vec![(3, vec!["1".to_owned(), "x;\"y\"".to_owned()])]);
        let t = open(b"a,b\n1,2").unwrap();
        assert_eq!(t.separator, ',');
        assert_eq!(open(b"\n\n"), Err(CsvError::Empty));
        assert_eq!(open(&[0xff, 0xfe]), Err(CsvError::NotUtf8));
    }

    #[test]
    fn quote_round_trips_through_split() {
        let fields = ["via \"Roma\"; 1", "plain"];
        let line = fields.map(quote).join(";");
        assert_eq!(split(&line, ';'), fields.map(str::to_owned).to_vec());
    }

    #[test]
    fn dates_in_both_forms() {
        let d = Date::new(2024, 2, 29).unwrap();
        assert_eq!(parse_date("29/02/2024"), Some(d));
        assert_eq!(parse_date(" 2024-02-29 "), Some(d));
        assert_eq!(parse_date("29/02/2023"), None);
        assert_eq!(parse_date("1/1/24"), None);
        assert_eq!(parse_date("ieri"), None);
    }
}
