//! The CSV files of `palazzo tributi import` (issue 7, part 1;
//! `docs/tributi-import.md`): the cadastral units of the comune and who
//! holds them (titolarità, with share, period and the situations that
//! change the tax). Parsed and validated here, without IO; the file kind is
//! told by its header, the common rules (separator, quoting, dates) are
//! [`crate::csv`]'s.
//!
//! A unit with a rendita that changed (works ended, c.745) has one row per
//! value, each with the day it applies from; a titolarità with several
//! situations (abitazione principale, then let at canone concordato) has
//! one row per situation, the possession columns repeated. Rows that belong
//! together must agree: a row that contradicts the first of its group is
//! refused, and the group keeps the rows before it.

use std::collections::HashMap;

use jiff::civil::Date;

use crate::csv::{self, CsvError, Parsed, RowError, field, parse_date, quote};
use crate::ids::CodiceFiscale;
use crate::money::Cents;
use crate::tributi::Quota;
use crate::tributi::imu::{Categoria, Condizione, Oggetto, Periodo, Possesso, Valore};

/// The columns of the units file, in order.
pub const UNITA_COLUMNS: [&str; 9] = [
    "codice",
    "foglio",
    "particella",
    "subalterno",
    "indirizzo",
    "tipo",
    "categoria",
    "valore",
    "dal",
];

/// The columns of the titolarità file, in order.
pub const TITOLARITA_COLUMNS: [&str; 9] = [
    "codice_unita",
    "codice_fiscale",
    "dal",
    "al",
    "quota",
    "condizione",
    "condizione_dal",
    "condizione_al",
    "residenti",
];

/// An empty `dal` of a value: in force since before any year Palazzo
/// computes.
pub const SEMPRE: Date = jiff::civil::date(1900, 1, 1);

/// The two files, told apart by their header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// [`UNITA_COLUMNS`].
    Unita,
    /// [`TITOLARITA_COLUMNS`].
    Titolarita,
    /// TARI utenze: [`crate::tributi::utenze::UTENZE_COLUMNS`].
    Utenze,
    /// Payments received:
    /// [`crate::tributi::versamenti::VERSAMENTI_COLUMNS`].
    Versamenti,
    /// Occupations of public land (canone unico):
    /// [`crate::tributi::occupazioni::OCCUPAZIONI_COLUMNS`].
    Occupazioni,
}

/// A file that cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// Not UTF-8 or empty.
    #[error("{0}")]
    Csv(#[from] CsvError),
    /// The header is neither format's.
    #[error(
        "intestazione non riconosciuta: attese le colonne «{}» (unità immobiliari), «{}» (titolarità), «{}» (utenze TARI), «{}» (versamenti) oppure «{}» (occupazioni di suolo pubblico)",
        UNITA_COLUMNS.join(";"),
        TITOLARITA_COLUMNS.join(";"),
        crate::tributi::utenze::UTENZE_COLUMNS.join(";"),
        crate::tributi::versamenti::VERSAMENTI_COLUMNS.join(";"),
        crate::tributi::occupazioni::OCCUPAZIONI_COLUMNS.join(";")
    )]
    Header,
}

impl FileError {
    /// Stable code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            FileError::Csv(CsvError::NotUtf8) => "file_non_utf8",
            FileError::Csv(CsvError::Empty) => "file_vuoto",
            FileError::Header => "intestazione_non_riconosciuta",
        }
    }
}

/// A unit of the file, its value rows merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitaRow {
    /// The line of its first row.
    pub line: usize,
    /// Its code in the comune.
    pub codice: String,
    /// Foglio.
    pub foglio: String,
    /// Particella.
    pub particella: String,
    /// Subalterno.
    pub subalterno: String,
    /// Address.
    pub indirizzo: String,
    /// What is taxed, with every value of the file in date order.
    pub oggetto: Oggetto,
}

/// A titolarità of the file, its situation rows merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitolaritaRow {
    /// The line of its first row.
    pub line: usize,
    /// The unit's code.
    pub codice_unita: String,
    /// The taxpayer.
    pub codice_fiscale: CodiceFiscale,
    /// Period and share.
    pub possesso: Possesso,
    /// The situations, in file order.
    pub periodi: Vec<Periodo>,
}

/// Which file `bytes` is.
///
/// # Errors
/// [`FileError`] when it is neither.
pub fn file_kind(bytes: &[u8]) -> Result<FileKind, FileError> {
    let table = csv::open(bytes)?;
    if table.is(&UNITA_COLUMNS) {
        Ok(FileKind::Unita)
    } else if table.is(&TITOLARITA_COLUMNS) {
        Ok(FileKind::Titolarita)
    } else if table.is(&crate::tributi::utenze::UTENZE_COLUMNS) {
        Ok(FileKind::Utenze)
    } else if table.is(&crate::tributi::versamenti::VERSAMENTI_COLUMNS) {
        Ok(FileKind::Versamenti)
    } else if table.is(&crate::tributi::occupazioni::OCCUPAZIONI_COLUMNS) {
        Ok(FileKind::Occupazioni)
    } else {
        Err(FileError::Header)
    }
}

/// Reads a file of `columns` whose rows hold one thing of a taxpayer
/// from a first day (a TARI utenza, an occupation of public land): each
/// row read by `row`, a second row of the same code, taxpayer and first
/// day (`key`) refused with `duplicate` naming `what` ("l'utenza").
///
/// # Errors
/// [`FileError`] when the file is not one of `columns`.
pub(crate) fn parse_by_period<R>(
    bytes: &[u8],
    columns: &[&str],
    what: &str,
    duplicate: &'static str,
    row: impl Fn(usize, &[String]) -> Result<R, RowError>,
    key: impl Fn(&R) -> (&str, &CodiceFiscale, Date),
) -> Result<Parsed<Vec<R>>, FileError> {
    let table = csv::open(bytes)?;
    if !table.is(columns) {
        return Err(FileError::Header);
    }
    let mut out: Parsed<Vec<R>> = Parsed::default();
    let mut seen: HashMap<(String, CodiceFiscale, Date), usize> = HashMap::new();
    for (line, f) in table.rows() {
        if f.len() != columns.len() {
            out.errors
                .push(RowError::column_count(line, f.len(), columns.len()));
            continue;
        }
        match row(line, &f) {
            Ok(r) => {
                let (codice, cf, dal) = key(&r);
                let k = (codice.to_owned(), cf.clone(), dal);
                if let Some(first) = seen.get(&k) {
                    out.errors.push(RowError::at(
                        line,
                        "dal",
                        duplicate,
                        format!(
                            "{what} {codice} di {} dal {} è già alla riga {first}",
                            cf.as_str(),
                            crate::tributi::it_date(dal)
                        ),
                    ));
                } else {
                    seen.insert(k, line);
                    out.rows.push(r);
                }
            }
            Err(e) => out.errors.push(e),
        }
    }
    Ok(out)
}

fn row_error(line: usize, column: &'static str, code: &'static str, message: String) -> RowError {
    RowError::at(line, column, code, message)
}

/// Parses a units file.
///
/// # Errors
/// [`FileError`] when the file is not a units file.
pub fn parse_unita(bytes: &[u8]) -> Result<Parsed<Vec<UnitaRow>>, FileError> {
    let table = csv::open(bytes)?;
    if !table.is(&UNITA_COLUMNS) {
        return Err(FileError::Header);
    }
    let mut out: Parsed<Vec<UnitaRow>> = Parsed::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (line, f) in table.rows() {
        if f.len() != UNITA_COLUMNS.len() {
            out.errors
                .push(RowError::column_count(line, f.len(), UNITA_COLUMNS.len()));
            continue;
        }
        match unita_row(line, &f) {
            Err(e) => out.errors.push(e),
            Ok((row, valore)) => match index.get(&row.codice) {
                None => {
                    index.insert(row.codice.clone(), out.rows.len());
                    out.rows.push(row);
                }
                Some(&i) => {
                    if let Err(e) = merge_valore(&mut out.rows[i], &row, valore, line) {
                        out.errors.push(e);
                    }
                }
            },
        }
    }
    for r in &mut out.rows {
        valori_mut(&mut r.oggetto).sort_by_key(|v| v.dal);
    }
    Ok(out)
}

fn valori_mut(o: &mut Oggetto) -> &mut Vec<Valore> {
    match o {
        Oggetto::Fabbricato { rendite, .. } => rendite,
        Oggetto::AreaFabbricabile { valori } => valori,
        Oggetto::TerrenoAgricolo { redditi } => redditi,
    }
}

fn valori(o: &Oggetto) -> &[Valore] {
    match o {
        Oggetto::Fabbricato { rendite, .. } => rendite,
        Oggetto::AreaFabbricabile { valori } => valori,
        Oggetto::TerrenoAgricolo { redditi } => redditi,
    }
}

/// One row of a units file: the unit it describes (with this row's value
/// as its only one) and that value.
fn unita_row(line: usize, f: &[String]) -> Result<(UnitaRow, Valore), RowError> {
    let err = |column, code, message: String| row_error(line, column, code, message);
    let codice = field(f, 0);
    if codice.is_empty() || codice.chars().count() > 64 {
        return Err(err(
            "codice",
            "codice_unita_non_valido",
            "il codice dell'unità è obbligatorio (al massimo 64 caratteri)".into(),
        ));
    }
    let (foglio, particella) = (field(f, 1), field(f, 2));
    if foglio.is_empty() {
        return Err(err("foglio", "foglio_mancante", "manca il foglio".into()));
    }
    if particella.is_empty() {
        return Err(err(
            "particella",
            "particella_mancante",
            "manca la particella".into(),
        ));
    }
    let importo = Cents::parse_it(field(f, 7))
        .ok()
        .filter(|c| c.cents() >= 0)
        .ok_or_else(|| {
            err(
                "valore",
                "valore_non_valido",
                format!(
                    "il valore «{}» non è un importo in euro (ad esempio 1.234,56)",
                    field(f, 7)
                ),
            )
        })?;
    let dal = match field(f, 8) {
        "" => SEMPRE,
        d => parse_date(d).ok_or_else(|| {
            err(
                "dal",
                "data_non_valida",
                format!("la data «{d}» non è valida (gg/mm/aaaa)"),
            )
        })?,
    };
    let valore = Valore { dal, importo };
    let categoria = field(f, 6);
    let oggetto = match field(f, 5) {
        "fabbricato" => Oggetto::Fabbricato {
            categoria: Categoria::parse(categoria).map_err(|_| {
                err(
                    "categoria",
                    "categoria_non_valida",
                    format!(
                        "la categoria catastale «{categoria}» non è valida (ad esempio A/2, C/6, D/1)"
                    ),
                )
            })?,
            rendite: vec![valore],
        },
        t @ ("area_fabbricabile" | "terreno") => {
            if !categoria.is_empty() {
                return Err(err(
                    "categoria",
                    "categoria_non_prevista",
                    "la categoria catastale si indica solo per i fabbricati".into(),
                ));
            }
            if t == "terreno" {
                Oggetto::TerrenoAgricolo {
                    redditi: vec![valore],
                }
            } else {
                Oggetto::AreaFabbricabile {
                    valori: vec![valore],
                }
            }
        }
        t => {
            return Err(err(
                "tipo",
                "tipo_non_valido",
                format!(
                    "il tipo «{t}» non è valido: fabbricato, area_fabbricabile oppure terreno"
                ),
            ));
        }
    };
    Ok((
        UnitaRow {
            line,
            codice: codice.to_owned(),
            foglio: foglio.to_owned(),
            particella: particella.to_owned(),
            subalterno: field(f, 3).to_owned(),
            indirizzo: field(f, 4).to_owned(),
            oggetto,
        },
        valore,
    ))
}

/// Adds another value row of the same unit, which must describe it alike.
fn merge_valore(
    unit: &mut UnitaRow,
    row: &UnitaRow,
    valore: Valore,
    line: usize,
) -> Result<(), RowError> {
    let same_kind = match (&unit.oggetto, &row.oggetto) {
        (Oggetto::Fabbricato { categoria: a, .. }, Oggetto::Fabbricato { categoria: b, .. }) => {
            a == b
        }
        (Oggetto::AreaFabbricabile { .. }, Oggetto::AreaFabbricabile { .. })
        | (Oggetto::TerrenoAgricolo { .. }, Oggetto::TerrenoAgricolo { .. }) => true,
        _ => false,
    };
    if !same_kind
        || unit.foglio != row.foglio
        || unit.particella != row.particella
        || unit.subalterno != row.subalterno
        || unit.indirizzo != row.indirizzo
    {
        return Err(row_error(
            line,
            "codice",
            "unita_incoerente",
            format!(
                "l'unità {} è descritta diversamente alla riga {}: le righe di una stessa unità \
                 cambiano solo valore e data",
                row.codice, unit.line
            ),
        ));
    }
    if valori(&unit.oggetto).iter().any(|v| v.dal == valore.dal) {
        return Err(row_error(
            line,
            "dal",
            "valore_ripetuto",
            format!(
                "l'unità {} ha già un valore dalla stessa data (riga {})",
                row.codice, unit.line
            ),
        ));
    }
    valori_mut(&mut unit.oggetto).push(valore);
    Ok(())
}

/// The code of a situation in the titolarità file.
#[must_use]
pub fn condizione_code(c: Condizione) -> &'static str {
    match c {
        Condizione::AbitazionePrincipale { .. } => "abitazione_principale",
        Condizione::Pertinenza => "pertinenza",
        Condizione::Inagibile => "inagibile",
        Condizione::Storico => "storico",
        Condizione::Comodato => "comodato",
        Condizione::CanoneConcordato => "canone_concordato",
        Condizione::PensionatoEstero => "pensionato_estero",
        Condizione::RuraleStrumentale => "rurale_strumentale",
        Condizione::BeneMerce => "bene_merce",
        Condizione::TerrenoEsente => "terreno_esente",
        Condizione::Esente => "esente",
    }
}

const CONDIZIONI: [Condizione; 11] = [
    Condizione::AbitazionePrincipale { residenti: 1 },
    Condizione::Pertinenza,
    Condizione::Inagibile,
    Condizione::Storico,
    Condizione::Comodato,
    Condizione::CanoneConcordato,
    Condizione::PensionatoEstero,
    Condizione::RuraleStrumentale,
    Condizione::BeneMerce,
    Condizione::TerrenoEsente,
    Condizione::Esente,
];

/// Parses a titolarità file.
///
/// # Errors
/// [`FileError`] when the file is not a titolarità file.
pub fn parse_titolarita(bytes: &[u8]) -> Result<Parsed<Vec<TitolaritaRow>>, FileError> {
    let table = csv::open(bytes)?;
    if !table.is(&TITOLARITA_COLUMNS) {
        return Err(FileError::Header);
    }
    let mut out: Parsed<Vec<TitolaritaRow>> = Parsed::default();
    let mut index: HashMap<(String, CodiceFiscale, Date), usize> = HashMap::new();
    for (line, f) in table.rows() {
        if f.len() != TITOLARITA_COLUMNS.len() {
            out.errors.push(RowError::column_count(
                line,
                f.len(),
                TITOLARITA_COLUMNS.len(),
            ));
            continue;
        }
        let row = match titolarita_row(line, &f) {
            Ok(r) => r,
            Err(e) => {
                out.errors.push(e);
                continue;
            }
        };
        let key = (
            row.codice_unita.clone(),
            row.codice_fiscale.clone(),
            row.possesso.dal,
        );
        match index.get(&key) {
            None => {
                index.insert(key, out.rows.len());
                out.rows.push(row);
            }
            Some(&i) => {
                let first = &mut out.rows[i];
                if first.possesso != row.possesso {
                    out.errors.push(row_error(
                        line,
                        "quota",
                        "titolarita_incoerente",
                        format!(
                            "la titolarità di {} sull'unità {} dal {} ha quota o fine diverse \
                             alla riga {}",
                            row.codice_fiscale.as_str(),
                            row.codice_unita,
                            crate::tributi::it_date(row.possesso.dal),
                            first.line
                        ),
                    ));
                } else {
                    first.periodi.extend(row.periodi);
                }
            }
        }
    }
    Ok(out)
}

fn titolarita_row(line: usize, f: &[String]) -> Result<TitolaritaRow, RowError> {
    let err = |column, code, message: String| row_error(line, column, code, message);
    let codice_unita = field(f, 0);
    if codice_unita.is_empty() {
        return Err(err(
            "codice_unita",
            "codice_unita_non_valido",
            "manca il codice dell'unità".into(),
        ));
    }
    let codice_fiscale = CodiceFiscale::parse(field(f, 1)).map_err(|_| {
        err(
            "codice_fiscale",
            "codice_fiscale_non_valido",
            format!("il codice fiscale «{}» non è valido", field(f, 1)),
        )
    })?;
    let date = |i: usize, column: &'static str| -> Result<Option<Date>, RowError> {
        match field(f, i) {
            "" => Ok(None),
            d => parse_date(d).map(Some).ok_or_else(|| {
                err(
                    column,
                    "data_non_valida",
                    format!("la data «{d}» non è valida (gg/mm/aaaa)"),
                )
            }),
        }
    };
    let dal = date(2, "dal")?.ok_or_else(|| {
        err(
            "dal",
            "data_mancante",
            "manca la data di inizio del possesso".into(),
        )
    })?;
    let al = date(3, "al")?;
    if al.is_some_and(|al| al < dal) {
        return Err(err(
            "al",
            "periodo_invertito",
            "il possesso termina prima di iniziare".into(),
        ));
    }
    let quota = match field(f, 4) {
        "" => Quota::INTERA,
        q => Quota::parse(q).map_err(|_| {
            err(
                "quota",
                "quota_non_valida",
                format!("la quota «{q}» non è valida: una frazione (1/2) o una percentuale"),
            )
        })?,
    };
    let possesso = Possesso { dal, al, quota };
    let mut periodi = Vec::new();
    let codice = field(f, 5);
    let residenti = field(f, 8);
    if codice.is_empty() {
        if [6, 7, 8].iter().any(|&i| !field(f, i).is_empty()) {
            return Err(err(
                "condizione",
                "condizione_mancante",
                "date o residenti senza la condizione a cui si riferiscono".into(),
            ));
        }
    } else {
        let mut condizione = CONDIZIONI
            .into_iter()
            .find(|c| condizione_code(*c) == codice)
            .ok_or_else(|| {
                err(
                    "condizione",
                    "condizione_non_valida",
                    format!(
                        "la condizione «{codice}» non è tra quelle previste ({})",
                        CONDIZIONI.map(condizione_code).join(", ")
                    ),
                )
            })?;
        match (&mut condizione, residenti) {
            (_, "") => {}
            (Condizione::AbitazionePrincipale { residenti: n }, r) => {
                *n = r.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    err(
                        "residenti",
                        "residenti_non_validi",
                        format!(
                            "«{r}» non è un numero di titolari residenti nell'abitazione (da 1 a 255)"
                        ),
                    )
                })?;
            }
            _ => {
                return Err(err(
                    "residenti",
                    "residenti_non_previsti",
                    "i residenti si indicano solo per l'abitazione principale".into(),
                ));
            }
        }
        let c_dal = date(6, "condizione_dal")?.unwrap_or(dal);
        let c_al = date(7, "condizione_al")?.or(al);
        let inside = c_dal >= dal
            && match (c_al, al) {
                (_, None) => true,
                (Some(c), Some(a)) => c <= a,
                (None, Some(_)) => false,
            };
        if c_al.is_some_and(|c| c < c_dal) {
            return Err(err(
                "condizione_al",
                "periodo_invertito",
                "la condizione termina prima di iniziare".into(),
            ));
        }
        if !inside {
            return Err(err(
                "condizione_dal",
                "condizione_fuori_possesso",
                "il periodo della condizione esce dal periodo di possesso".into(),
            ));
        }
        periodi.push(Periodo {
            dal: c_dal,
            al: c_al,
            condizione,
        });
    }
    Ok(TitolaritaRow {
        line,
        codice_unita: codice_unita.to_owned(),
        codice_fiscale,
        possesso,
        periodi,
    })
}

/// An amount as the files write it: `1234,56`.
fn euro(c: Cents) -> String {
    format!("{},{:02}", c.cents() / 100, c.cents() % 100)
}

fn day(d: Date) -> String {
    d.strftime("%d/%m/%Y").to_string()
}

fn quota_text(q: Quota) -> String {
    format!("{}/{}", q.num(), q.den())
}

/// Writes a units file (the demo and `docs/tributi-import.md`): one row
/// per value.
#[must_use]
pub fn write_unita(rows: &[UnitaRow]) -> String {
    let mut out = UNITA_COLUMNS.join(";");
    out.push('\n');
    for r in rows {
        let (tipo, categoria) = match &r.oggetto {
            Oggetto::Fabbricato { categoria, .. } => ("fabbricato", categoria.to_string()),
            Oggetto::AreaFabbricabile { .. } => ("area_fabbricabile", String::new()),
            Oggetto::TerrenoAgricolo { .. } => ("terreno", String::new()),
        };
        for v in valori(&r.oggetto) {
            let dal = if v.dal == SEMPRE {
                String::new()
            } else {
                day(v.dal)
            };
            let fields = [
                r.codice.clone(),
                r.foglio.clone(),
                r.particella.clone(),
                r.subalterno.clone(),
                r.indirizzo.clone(),
                tipo.to_owned(),
                categoria.clone(),
                euro(v.importo),
                dal,
            ];
            out.push_str(&fields.map(|f| quote(&f)).join(";"));
            out.push('\n');
        }
    }
    out
}

/// Writes a titolarità file: one row per situation (one row without a
/// situation when there is none).
#[must_use]
pub fn write_titolarita(rows: &[TitolaritaRow]) -> String {
    let mut out = TITOLARITA_COLUMNS.join(";");
    out.push('\n');
    for r in rows {
        let p = &r.possesso;
        let head = [
            r.codice_unita.clone(),
            r.codice_fiscale.as_str().to_owned(),
            day(p.dal),
            p.al.map(day).unwrap_or_default(),
            quota_text(p.quota),
        ];
        let situations: Vec<[String; 4]> = if r.periodi.is_empty() {
            vec![Default::default()]
        } else {
            r.periodi
                .iter()
                .map(|c| {
                    let residenti = match c.condizione {
                        Condizione::AbitazionePrincipale { residenti } => residenti.to_string(),
                        _ => String::new(),
                    };
                    [
                        condizione_code(c.condizione).to_owned(),
                        day(c.dal),
                        c.al.map(day).unwrap_or_default(),
                        residenti,
                    ]
                })
                .collect()
        };
        for s in situations {
            let fields: Vec<String> = head.iter().chain(s.iter()).map(|f| quote(f)).collect();
            out.push_str(&fields.join(";"));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use jiff::civil::date;

    const UNITA: &str = "codice;foglio;particella;subalterno;indirizzo;tipo;categoria;valore;dal
F12-P345-S6;12;345;6;Via Roma 1;fabbricato;A/2;1.000,00;
F12-P345-S6;12;345;6;Via Roma 1;fabbricato;A/2;1200;01/07/2026
F12-P345-S7;12;345;7;Via Roma 1;fabbricato;C/6;150,00;
F3-P10;3;10;;Località Piano;terreno;;500;
F3-P11;3;11;;;area_fabbricabile;;80.000,00;
F3-P12;3;12;;;fabbricato;Z/9;1;
F3-P13;3;13;;;villa;;1;
F12-P345-S6;12;345;6;Via Roma 2;fabbricato;A/2;1300;01/09/2026
F12-P345-S7;12;345;7;Via Roma 1;fabbricato;C/6;150,00;
F3-P14;3;14;;;terreno;A/2;1;
F3-P15;3;;;;terreno;;1;
F3-P16;3;16;;;terreno;;-5;
F3-P17;3;17;;;terreno;;5;31/02/2026
";

    #[test]
    fn units_merge_their_values_and_refuse_what_contradicts() {
        assert_eq!(file_kind(UNITA.as_bytes()), Ok(FileKind::Unita));
        let parsed = parse_unita(UNITA.as_bytes()).unwrap();
        let codes: Vec<&str> = parsed.rows.iter().map(|r| r.codice.as_str()).collect();
        assert_eq!(codes, ["F12-P345-S6", "F12-P345-S7", "F3-P10", "F3-P11"]);
        assert_eq!(
            parsed.rows[0].oggetto,
            Oggetto::Fabbricato {
                categoria: Categoria::parse("A/2").unwrap(),
                rendite: vec![
                    Valore {
                        dal: SEMPRE,
                        importo: Cents::from_cents(100_000)
                    },
                    Valore {
                        dal: date(2026, 7, 1),
                        importo: Cents::from_cents(120_000)
                    },
                ],
            }
        );
        assert!(matches!(
            parsed.rows[2].oggetto,
            Oggetto::TerrenoAgricolo { .. }
        ));
        let errors: Vec<(usize, &str)> = parsed.errors.iter().map(|e| (e.line, e.code)).collect();
        assert_eq!(
            errors,
            [
                (7, "categoria_non_valida"),
                (8, "tipo_non_valido"),
                (9, "unita_incoerente"),
                (10, "valore_ripetuto"),
                (11, "categoria_non_prevista"),
                (12, "particella_mancante"),
                (13, "valore_non_valido"),
                (14, "data_non_valida"),
            ]
        );
    }

    const TITOLARITA: &str =
        "codice_unita;codice_fiscale;dal;al;quota;condizione;condizione_dal;condizione_al;residenti
F12-P345-S6;RSSMRA80A01H501U;01/01/2020;;1/2;abitazione_principale;;;2
F12-P345-S6;RSSMRA80A01H501U;01/01/2020;;50%;canone_concordato;01/01/2027;;
F12-P345-S7;RSSMRA80A01H501U;15/03/2026;30/09/2026;100;;;;
F12-P345-S6;RSSMRA80A01H501U;01/01/2020;;1/3;;;;
F12-P345-S6;NONVALIDO;01/01/2020;;1/2;;;;
F12-P345-S6;RSSMRA80A01H501U;;;1/2;;;;
F12-P345-S6;RSSMRA80A01H501U;01/01/2020;31/12/2019;1/2;;;;
F12-P345-S6;RSSMRA80A01H501U;01/01/2021;;3/2;;;;
F12-P345-S6;RSSMRA80A01H501U;01/01/2022;;;storico;;;2
F12-P345-S6;RSSMRA80A01H501U;01/01/2023;31/12/2023;;inagibile;01/06/2023;31/01/2024;
F12-P345-S6;RSSMRA80A01H501U;01/01/2024;;;;01/06/2024;;
F12-P345-S6;RSSMRA80A01H501U;01/01/2025;;;villa;;;
F12-P345-S6;RSSMRA80A01H501U;01/01/2025;;;abitazione_principale;;;0
";

    #[test]
    fn titolarita_merge_their_situations_and_refuse_what_contradicts() {
        assert_eq!(file_kind(TITOLARITA.as_bytes()), Ok(FileKind::Titolarita));
        let parsed = parse_titolarita(TITOLARITA.as_bytes()).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        let casa = &parsed.rows[0];
        assert_eq!(casa.possesso.quota, Quota::new(1, 2).unwrap());
        assert_eq!(casa.possesso.al, None);
        assert_eq!(
            casa.periodi,
            [
                Periodo {
                    dal: date(2020, 1, 1),
                    al: None,
                    condizione: Condizione::AbitazionePrincipale { residenti: 2 },
                },
                Periodo {
                    dal: date(2027, 1, 1),
                    al: None,
                    condizione: Condizione::CanoneConcordato,
                },
            ]
        );
        assert_eq!(parsed.rows[1].possesso.al, Some(date(2026, 9, 30)));
        assert!(parsed.rows[1].periodi.is_empty());
        let errors: Vec<(usize, &str)> = parsed.errors.iter().map(|e| (e.line, e.code)).collect();
        assert_eq!(
            errors,
            [
                (5, "titolarita_incoerente"),
                (6, "codice_fiscale_non_valido"),
                (7, "data_mancante"),
                (8, "periodo_invertito"),
                (9, "quota_non_valida"),
                (10, "residenti_non_previsti"),
                (11, "condizione_fuori_possesso"),
                (12, "condizione_mancante"),
                (13, "condizione_non_valida"),
                (14, "residenti_non_validi"),
            ]
        );
    }

    #[test]
    fn written_files_read_back_the_same() {
        let units = parse_unita(UNITA.as_bytes()).unwrap().rows;
        let again = parse_unita(write_unita(&units).as_bytes()).unwrap();
        assert!(again.errors.is_empty(), "{:?}", again.errors);
        let strip = |rows: Vec<UnitaRow>| -> Vec<UnitaRow> {
            rows.into_iter()
                .map(|r| UnitaRow { line: 0, ..r })
                .collect()
        };
        assert_eq!(strip(again.rows), strip(units));
        let titles = parse_titolarita(TITOLARITA.as_bytes()).unwrap().rows;
        let again = parse_titolarita(write_titolarita(&titles).as_bytes()).unwrap();
        assert!(again.errors.is_empty(), "{:?}", again.errors);
        let strip = |rows: Vec<TitolaritaRow>| -> Vec<TitolaritaRow> {
            rows.into_iter()
                .map(|r| TitolaritaRow { line: 0, ..r })
                .collect()
        };
        assert_eq!(strip(again.rows), strip(titles));
    }

    #[test]
    fn an_unknown_header_is_a_file_error() {
        assert_eq!(
            file_kind(b"codice;denominazione\n1;Via Roma"),
            Err(FileError::Header)
        );
        assert_eq!(parse_unita(TITOLARITA.as_bytes()), Err(FileError::Header));
        assert_eq!(parse_titolarita(b"").unwrap_err().code(), "file_vuoto");
    }
}
