//! The CSV formats of `palazzo anagrafe import` (issue 5, part 1;
//! `docs/anagrafe-import.md`): every rule refuses its bad row with a stable
//! code and keeps the good rows; the writer and the parser agree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::civil::{Date, date};
use palazzo_domain::anagrafe::*;
use palazzo_domain::ids::{CodiceCatastale, CodiceFiscale, Sex};

const TODAY: Date = date(2026, 11, 27);

fn streets() -> Vec<String> {
    vec!["Via Roma".into(), "Piazza Aldo Moro".into()]
}

/// A codice fiscale computed independently of the parser under test by the
/// domain's generator (DM 23/12/1976), for the given person.
fn cf(surname: &str, name: &str, sex: Sex, birth: Date, place: &str) -> String {
    CodiceFiscale::compute(
        surname,
        name,
        birth,
        sex,
        &CodiceCatastale::parse(place).unwrap(),
    )
    .as_str()
    .to_owned()
}

const HEADER: &str = "codice_fiscale;cognome;nome;sesso;data_nascita;luogo_nascita;cittadinanza;stato_civile;famiglia;rapporto;via;civico;cap;dal;al;provenienza";

fn file(rows: &[String]) -> Vec<u8> {
    let mut s = HEADER.to_owned();
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.into_bytes()
}

fn mario() -> String {
    let c = cf("Rossi", "Mario", Sex::M, date(1980, 1, 1), "A662");
    format!(
        "{c};Rossi;Mario;M;01/01/1980;A662;IT;coniugato;F1;intestatario;Via Roma;12;70010;15/03/2010;;F262"
    )
}

fn anna() -> String {
    let c = cf("Bianchi", "Anna", Sex::F, date(1982, 5, 30), "F262");
    format!(
        "{c};Bianchi;Anna;F;1982-05-30;F262;IT;coniugato;F1;coniuge;via roma;12;70010;15/03/2010;;"
    )
}

#[test]
fn good_rows_parse_with_every_field() {
    let past = format!(
        "{};;;;;;;;;;Piazza Aldo Moro;3;70010;01/02/2005;14/03/2010;",
        cf("Rossi", "Mario", Sex::M, date(1980, 1, 1), "A662")
    );
    let p = parse_residents(&file(&[mario(), anna(), past]), &streets(), TODAY).unwrap();
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let [m, a] = &p.rows.current[..] else {
        panic!("{:?}", p.rows.current)
    };
    assert_eq!(
        (m.surname.as_str(), m.sex, m.birth_date),
        ("Rossi", Sex::M, date(1980, 1, 1))
    );
    assert_eq!(m.marital_status.label(m.sex), "coniugato");
    assert_eq!(a.marital_status.label(a.sex), "coniugata");
    assert_eq!(m.citizenship.adjective(), "italiana");
    assert_eq!(m.provenance.as_ref().map(|c| c.as_str()), Some("F262"));
    assert_eq!(a.provenance, None);
    // The street is the stradario's spelling, whatever the file's case.
    assert_eq!(a.street, "Via Roma");
    assert_eq!(a.birth_date, date(1982, 5, 30), "ISO dates too");
    assert_eq!(p.rows.past.len(), 1);
    assert_eq!(p.rows.past[0].from, date(2005, 2, 1));
    assert_eq!(p.rows.past[0].to, date(2010, 3, 14));
    // Written back and parsed again: the same rows.
    let again = parse_residents(write_residents(&p.rows).as_bytes(), &streets(), TODAY).unwrap();
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    let strip = |r: &Residents| {
        let mut r = r.clone();
        r.current.iter_mut().for_each(|x| x.line = 0);
        r.past.iter_mut().for_each(|x| x.line = 0);
        r
    };
    assert_eq!(strip(&again.rows), strip(&p.rows));
}

/// One bad field per row, each with its code and column; the good rows of
/// the same file are kept.
#[test]
fn each_rule_refuses_its_row_and_keeps_the_others() {
    let good = mario();
    let with = |col: usize, value: &str| {
        let mut f: Vec<String> = anna().split(';').map(str::to_owned).collect();
        f[col] = value.to_owned();
        f.join(";")
    };
    let cases: Vec<(String, &str, Option<&str>)> = vec![
        (
            with(0, "RSSMRA80A01A662X"),
            "codice_fiscale_non_valido",
            Some("codice_fiscale"),
        ),
        (
            with(0, "01234567890"),
            "codice_fiscale_non_valido",
            Some("codice_fiscale"),
        ),
        (with(1, ""), "campo_obbligatorio", Some("cognome")),
        (with(3, "X"), "sesso_non_valido", Some("sesso")),
        (
            with(3, "M"),
            "codice_fiscale_incoerente",
            Some("codice_fiscale"),
        ),
        (
            with(4, "31/02/1982"),
            "data_non_valida",
            Some("data_nascita"),
        ),
        (
            with(4, "31/05/1982"),
            "codice_fiscale_incoerente",
            Some("codice_fiscale"),
        ),
        (
            with(5, "A662"),
            "codice_fiscale_incoerente",
            Some("codice_fiscale"),
        ),
        (
            with(5, "Bari"),
            "luogo_nascita_non_valido",
            Some("luogo_nascita"),
        ),
        (
            with(6, "Italia"),
            "cittadinanza_sconosciuta",
            Some("cittadinanza"),
        ),
        (
            with(7, "sposata"),
            "stato_civile_non_valido",
            Some("stato_civile"),
        ),
        (
            with(10, "Via Inesistente"),
            "via_non_in_stradario",
            Some("via"),
        ),
        (with(11, "12"), "", None), // control: the same family, same address
        (with(12, "7001"), "cap_non_valido", Some("cap")),
        (with(13, "01/01/2030"), "data_futura", Some("dal")),
        (
            with(13, "01/01/1970"),
            "residenza_prima_della_nascita",
            Some("dal"),
        ),
        (
            with(15, "XYZ"),
            "provenienza_non_valida",
            Some("provenienza"),
        ),
        (with(11, "14"), "famiglia_indirizzi_diversi", Some("via")),
        (
            with(9, "intestatario"),
            "intestatario_ripetuto",
            Some("rapporto"),
        ),
        (format!("{};x", anna()), "colonne", None),
    ];
    for (row, code, column) in cases {
        let p = parse_residents(&file(&[good.clone(), row.clone()]), &streets(), TODAY).unwrap();
        if code.is_empty() {
            assert!(p.errors.is_empty(), "{row}: {:?}", p.errors);
            assert_eq!(p.rows.current.len(), 2);
            continue;
        }
        assert_eq!(p.errors.len(), 1, "{row}: {:?}", p.errors);
        let e = &p.errors[0];
        assert_eq!(
            (e.code, e.column, e.line),
            (code, column, 3),
            "{row}: {e:?}"
        );
        assert!(!e.message.is_empty());
        let kept: Vec<&str> = p.rows.current.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(kept, ["Mario"], "{row}: the good row is kept");
    }
}

#[test]
fn family_and_history_rules() {
    // A family without its head: all its rows are refused, others kept.
    let c = cf("Verdi", "Luca", Sex::M, date(2001, 7, 9), "A662");
    let orphan = format!(
        "{c};Verdi;Luca;M;09/07/2001;A662;IT;libero;F2;figlio;Via Roma;20;70010;09/07/2001;;"
    );
    let p = parse_residents(&file(&[mario(), orphan]), &streets(), TODAY).unwrap();
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].code, "famiglia_senza_intestatario");
    assert_eq!(p.rows.current.len(), 1);
    // The same codice fiscale twice.
    let p = parse_residents(&file(&[mario(), mario()]), &streets(), TODAY).unwrap();
    assert_eq!(
        p.errors.iter().map(|e| e.code).collect::<Vec<_>>(),
        ["codice_fiscale_ripetuto"]
    );
    // Earlier residences: of someone with a current row, before it, not
    // overlapping, `al` not before `dal`.
    let m = cf("Rossi", "Mario", Sex::M, date(1980, 1, 1), "A662");
    let stranger = cf("Neri", "Ugo", Sex::M, date(1950, 1, 1), "A662");
    let rows = vec![
        mario(),
        format!("{m};;;;;;;;;;Via Roma;1;70010;01/01/2000;31/12/2004;"),
        format!("{m};;;;;;;;;;Via Roma;2;70010;01/06/2004;01/01/2006;"),
        format!("{m};;;;;;;;;;Via Roma;3;70010;01/01/2009;01/01/2011;"),
        format!("{m};;;;;;;;;;Via Roma;4;70010;01/01/2008;01/01/2007;"),
        format!("{stranger};;;;;;;;;;Via Roma;5;70010;01/01/2000;01/01/2001;"),
    ];
    let p = parse_residents(&file(&rows), &streets(), TODAY).unwrap();
    let codes: Vec<(usize, &str)> = p.errors.iter().map(|e| (e.line, e.code)).collect();
    assert_eq!(
        codes,
        [
            (4, "periodo_sovrapposto"),
            (5, "periodo_sovrapposto"),
            (6, "periodo_non_valido"),
            (7, "storico_senza_residente"),
        ]
    );
    assert_eq!(p.rows.past.len(), 1);
    assert_eq!(p.rows.past[0].civic, "1");
}

#[test]
fn files_and_streets() {
    assert_eq!(
        file_kind(b"codice;denominazione\n1;Via Roma\n").unwrap(),
        FileKind::Stradario
    );
    assert_eq!(file_kind(&file(&[])).unwrap(), FileKind::Residenti);
    assert_eq!(
        file_kind(b"nome,cognome\n").unwrap_err().code(),
        "intestazione_non_riconosciuta"
    );
    assert_eq!(file_kind(b"").unwrap_err().code(), "file_vuoto");
    assert_eq!(
        file_kind(&[0xff, 0xfe]).unwrap_err().code(),
        "file_non_utf8"
    );
    // BOM, CRLF, commas and quotes.
    let p = parse_streets(
        "\u{feff}codice,denominazione\r\n0001,\"Via Roma\"\r\n0002,\"Largo \"\"Trento\"\", 1\"\r\n0003,\r\n0001,Via Bari\r\n0004,via  roma\r\n\r\n"
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        p.rows,
        [
            StreetRow {
                line: 2,
                code: "0001".into(),
                name: "Via Roma".into()
            },
            StreetRow {
                line: 3,
                code: "0002".into(),
                name: "Largo \"Trento\", 1".into()
            },
        ]
    );
    let codes: Vec<(usize, &str)> = p.errors.iter().map(|e| (e.line, e.code)).collect();
    assert_eq!(
        codes,
        [
            (4, "denominazione_via"),
            (5, "codice_via_ripetuto"),
            (6, "via_ripetuta")
        ]
    );
    assert_eq!(
        parse_streets(write_streets(&p.rows).as_bytes())
            .unwrap()
            .rows,
        p.rows
    );
    // A residents file given as a stradario and the other way round.
    assert!(parse_streets(&file(&[])).is_err());
    assert!(parse_residents(b"codice;denominazione\n", &streets(), TODAY).is_err());
}

#[test]
fn labels() {
    assert_eq!(StatoCivile::Libero.label(Sex::M), "celibe");
    assert_eq!(StatoCivile::Libero.label(Sex::F), "nubile");
    assert_eq!(
        StatoCivile::from_code("UNITO_CIVILMENTE"),
        Some(StatoCivile::UnitoCivilmente)
    );
    for s in StatoCivile::ALL {
        assert_eq!(StatoCivile::from_code(s.code()), Some(s));
    }
    assert_eq!(
        Cittadinanza::from_code("al").unwrap().adjective(),
        "albanese"
    );
    assert!(Cittadinanza::from_code("IT").unwrap().is_italian());
    assert!(!Cittadinanza::from_code("RO").unwrap().is_italian());
    assert_eq!(Cittadinanza::from_code("ZZ"), None);
    assert_eq!(parse_date("29/02/2024"), Some(date(2024, 2, 29)));
    assert_eq!(parse_date("29/02/2023"), None);
    assert_eq!(parse_date("1/2/24"), None);
}

/// The examples of `docs/anagrafe-import.md` are valid files.
#[test]
fn documented_examples_parse() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/anagrafe-import.md"
    ))
    .unwrap();
    let blocks: Vec<&str> = doc.split("```\n").skip(1).step_by(2).collect();
    let streets = parse_streets(blocks[0].as_bytes()).unwrap();
    assert!(streets.errors.is_empty(), "{:?}", streets.errors);
    assert_eq!(streets.rows.len(), 3);
    let names: Vec<String> = streets.rows.iter().map(|s| s.name.clone()).collect();
    let residents = parse_residents(blocks[1].as_bytes(), &names, TODAY).unwrap();
    assert!(residents.errors.is_empty(), "{:?}", residents.errors);
    assert_eq!(
        (residents.rows.current.len(), residents.rows.past.len()),
        (2, 1)
    );
}
