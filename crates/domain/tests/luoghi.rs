//! Tests of `palazzo_domain::luoghi` and of its embedded table
//! `crates/domain/data/luoghi.tsv`.
//!
//! The expected codes come from outside the table: the codici catastali
//! printed in codici fiscali and on the Agenzia delle Entrate's list (Bari,
//! Milano, Roma, the demo's Apulian comuni…), and ANPR's own record of the
//! merger of Pannone into Ronzo-Chienis on 1 September 1971 (italia/anpr
//! issue 2333).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use jiff::civil::{Date, date};
use palazzo_domain::ids::CodiceCatastale;
use palazzo_domain::luoghi::{self, Kind, Luogo, history, luogo, luogo_at, printed, printed_at};

const DATA: &str = include_str!("../data/luoghi.tsv");
const DEMO: &str = include_str!("../../services/src/demo/population.rs");

fn cc(code: &str) -> CodiceCatastale {
    CodiceCatastale::parse(code).unwrap()
}

fn get(code: &str) -> Luogo {
    luogo(&cc(code)).unwrap_or_else(|| panic!("{code} unknown"))
}

#[test]
fn known_comuni() {
    for (code, name, province) in [
        ("A662", "Bari", "BA"),
        ("F205", "Milano", "MI"),
        ("H501", "Roma", "RM"),
        ("L219", "Torino", "TO"),
        ("A048", "Acquaviva delle Fonti", "BA"),
        ("B923", "Casamassima", "BA"),
        ("A952", "Bolzano", "BZ"),
    ] {
        let l = get(code);
        assert_eq!((l.code, l.name, l.province), (code, name, Some(province)));
        assert_eq!(l.kind, Kind::Comune, "{code}");
        assert_eq!(l.ceased, None, "{code} is in force");
        assert_eq!(printed(&cc(code)), format!("{name} ({province})"));
    }
}

#[test]
fn known_states() {
    for (code, name) in [
        ("Z100", "Albania"),
        ("Z129", "Romania"),
        ("Z330", "Marocco"),
        ("Z138", "Ucraina"),
        ("Z110", "Francia"),
        ("Z112", "Germania"),
        ("Z404", "Stati Uniti d'America"),
    ] {
        let l = get(code);
        assert_eq!(
            (l.name, l.province, l.kind),
            (name, None, Kind::Stato),
            "{code}"
        );
        assert_eq!(l.ceased, None, "{code} is in force");
        assert_eq!(printed(&cc(code)), name);
    }
}

#[test]
fn ceased_states_are_kept() {
    for (code, name) in [
        ("Z135", "Unione Repubbliche Socialiste Sovietiche"),
        ("Z118", "Jugoslavia"),
        ("Z105", "Cecoslovacchia"),
        ("Z111", "Repubblica Democratica Tedesca"),
    ] {
        let l = get(code);
        assert_eq!(l.name, name);
        let ceased = l.ceased.unwrap_or_else(|| panic!("{code} has ceased"));
        assert!(
            ceased > date(1989, 1, 1) && ceased < date(2007, 1, 1),
            "{code}: {ceased}"
        );
        assert_eq!(printed(&cc(code)), name);
    }
}

#[test]
fn ceased_comune_has_its_date() {
    // Pannone (TN) was merged into Ronzo-Chienis (M303) on 1 September 1971.
    let pannone = get("G313");
    assert_eq!(pannone.name, "Pannone");
    assert_eq!(pannone.province, Some("TN"));
    assert_eq!(pannone.ceased, Some(date(1971, 8, 31)));
    assert_eq!(printed(&cc("G313")), "Pannone (TN)");
    assert_eq!(get("M303").name, "Ronzo-Chienis");
    assert_eq!(get("M303").ceased, None);
    // A date after the end still gives the last name it bore.
    assert_eq!(luogo_at(&cc("G313"), date(1990, 1, 1)), Some(pannone));
}

#[test]
fn renamed_comune_by_date() {
    let bari = cc("A662");
    assert_eq!(
        printed_at(&bari, date(1920, 5, 3)),
        "Bari delle Puglie (BA)"
    );
    assert_eq!(
        printed_at(&bari, date(1931, 5, 16)),
        "Bari delle Puglie (BA)"
    );
    assert_eq!(printed_at(&bari, date(1931, 5, 17)), "Bari (BA)");
    assert_eq!(printed_at(&bari, date(1980, 1, 1)), "Bari (BA)");
    assert_eq!(printed(&bari), "Bari (BA)");
    let names: Vec<&str> = history(&bari).iter().map(|l| l.name).collect();
    assert_eq!(names, ["Bari delle Puglie", "Bari"]);

    // Tortolì: province of Nuoro, then Ogliastra (2005-2016), then Nuoro again.
    let tortoli = cc("A355");
    assert_eq!(printed_at(&tortoli, date(2010, 6, 1)), "Tortolì (OG)");
    assert_eq!(printed_at(&tortoli, date(1990, 6, 1)), "Tortolì (NU)");
    assert_eq!(printed(&tortoli), "Tortolì (NU)");
}

#[test]
fn unknown_code() {
    for code in ["Y000", "Z999", "A000"] {
        let code = cc(code);
        assert_eq!(luogo(&code), None);
        assert_eq!(luogo_at(&code, date(1970, 1, 1)), None);
        assert!(history(&code).is_empty());
        assert_eq!(printed(&code), code.as_str());
        assert_eq!(printed_at(&code, date(1970, 1, 1)), code.as_str());
    }
}

/// The data lines of the file, split into their four fields.
fn data_lines() -> Vec<Vec<&'static str>> {
    DATA.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect())
        .collect()
}

#[test]
fn every_line_parses_into_the_index() {
    let lines = data_lines();
    for fields in &lines {
        assert_eq!(fields.len(), 4, "{fields:?}");
        let code = CodiceCatastale::parse(fields[0]).unwrap();
        assert_eq!(code.as_str(), fields[0], "codes are written normalised");
        assert!(
            !fields[1].is_empty() && fields[1].trim() == fields[1],
            "{fields:?}"
        );
        if !fields[3].is_empty() {
            fields[3].parse::<Date>().unwrap();
        }
    }
    // No line was dropped by the parser.
    assert_eq!(luoghi::all().len(), lines.len());
    // The whole table, embedded, stays small.
    assert!(DATA.len() < 400 * 1024, "{} bytes", DATA.len());
}

#[test]
fn codes_unique_per_period_and_one_entry_in_force() {
    let mut periods = HashSet::new();
    let mut in_force = HashSet::new();
    let mut previous: Option<(&str, Option<Date>)> = None;
    for l in luoghi::all() {
        assert!(
            periods.insert((l.code, l.ceased)),
            "{} twice for {:?}",
            l.code,
            l.ceased
        );
        if l.ceased.is_none() {
            assert!(in_force.insert(l.code), "{} twice in force", l.code);
        }
        if let Some((code, ceased)) = previous
            && code == l.code
        {
            let earlier = ceased.expect("only the last entry of a code is in force");
            assert!(
                l.ceased.is_none_or(|c| c > earlier),
                "{} out of order",
                l.code
            );
        }
        previous = Some((l.code, l.ceased));
    }
    // Every comune of today is there: ISTAT counts 7,896 (2024); allow for
    // mergers and new comuni.
    let comuni_in_force = luoghi::all()
        .iter()
        .filter(|l| l.kind == Kind::Comune && l.ceased.is_none())
        .count();
    assert!(
        (7_800..=8_000).contains(&comuni_in_force),
        "{comuni_in_force}"
    );
    // Ceased comuni are there too, by the thousand.
    let codes: HashSet<&str> = luoghi::all().iter().map(|l| l.code).collect();
    let ceased_comuni = codes
        .iter()
        .filter(|c| !c.starts_with('Z') && !in_force.contains(*c))
        .count();
    assert!(ceased_comuni > 1_500, "{ceased_comuni}");
    let states = codes.iter().filter(|c| c.starts_with('Z')).count();
    assert!((200..=300).contains(&states), "{states}");
}

#[test]
fn kinds_provinces_and_names() {
    for l in luoghi::all() {
        match l.kind {
            Kind::Stato => {
                assert!(l.code.starts_with('Z'), "{l:?}");
                assert_eq!(l.province, None, "{l:?}");
                assert_eq!(l.printed(), l.name);
            }
            Kind::Comune => {
                assert!(!l.code.starts_with('Z'), "{l:?}");
                let p = l
                    .province
                    .unwrap_or_else(|| panic!("{l:?} has no province"));
                assert!(
                    p.len() == 2 && p.bytes().all(|b| b.is_ascii_uppercase()),
                    "{l:?}"
                );
                assert_eq!(l.printed(), format!("{} ({p})", l.name));
            }
        }
        // Italian capitalisation restored, and no mis-encoded text.
        for bad in [
            " Di ", " Del ", " Delle ", " Della ", " D'", " E ", "Ã", "Å",
        ] {
            assert!(!l.name.contains(bad), "{l:?}");
        }
    }
}

/// The quoted codes between `start` and the next `];` of the demo's source.
fn demo_codes(start: &str, prefix: &str) -> Vec<String> {
    let from = DEMO
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in the demo"));
    let block = &DEMO[from..];
    let block = &block[..block.find("\n];").unwrap()];
    block
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.len() == 4 && s.starts_with(prefix) && s[1..].bytes().all(|b| b.is_ascii_digit())
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn demo_birthplaces_are_known() {
    let apulian = demo_codes("const APULIAN_COMUNI", "");
    let foreign = demo_codes("const FOREIGN", "Z");
    assert!(apulian.len() >= 20, "{apulian:?}");
    assert!(foreign.len() >= 4, "{foreign:?}");
    for code in apulian.iter().map(String::as_str).chain(["A662", "A048"]) {
        let l = get(code);
        assert_eq!(l.kind, Kind::Comune, "{code}");
        assert_eq!(l.ceased, None, "{code}: the demo's comuni exist today");
        let apulia = ["BA", "BT", "BR", "FG", "LE", "TA"];
        assert!(
            l.province.is_some_and(|p| apulia.contains(&p)),
            "{l:?} in Apulia"
        );
    }
    for code in &foreign {
        let l = get(code);
        assert_eq!(l.kind, Kind::Stato, "{code}");
        assert_eq!(l.ceased, None, "{code}");
    }
}
