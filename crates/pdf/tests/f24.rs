//! The pre-filled F24 semplificato (issue 7 part 5) checked with
//! `pdftotext` (each value in its row and column order), `pdfinfo` (one
//! page per ten lines), `pdffonts` and `qpdf --check`. The lines come from
//! the domain (`palazzo_domain::tributi::f24`). The tests fail, never skip,
//! when a tool is missing: `scripts/test` installs them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use palazzo_pdf::f24::{self, Contribuente, F24, Nascita, Rigo};
use palazzo_pdf::{Info, PdfError};

fn info() -> Info {
    Info {
        title: "F24 semplificato IMU 2026".into(),
        subject: "IMU 2026 - acconto".into(),
        author: "Comune di Casamassima".into(),
        language: "it-IT".into(),
        created: "2026-11-28T08:00:00Z".parse().unwrap(),
    }
}

fn rigo(tributo: &str, acconto: bool, saldo: bool, immobili: u16, euro: u64) -> Rigo {
    Rigo {
        sezione: "EL".into(),
        codice_tributo: tributo.into(),
        codice_ente: "B923".into(),
        ravvedimento: false,
        immobili_variati: false,
        acconto,
        saldo,
        numero_immobili: immobili,
        rateazione: String::new(),
        anno: 2026,
        detrazione: 0,
        debito: euro * 100,
        credito: 0,
    }
}

fn sample(lines: usize) -> F24 {
    let mut righi = vec![
        rigo("3918", true, false, 2, 918),
        Rigo {
            detrazione: 20_000,
            ..rigo("3912", true, false, 1, 1_234)
        },
        rigo("3916", true, true, 1, 56),
    ];
    let mut n = 0;
    while righi.len() < lines {
        n += 1;
        righi.push(rigo("3925", false, true, 1, 100 + n));
    }
    righi.truncate(lines);
    F24 {
        contribuente: Contribuente {
            codice_fiscale: "RSSMRA80A01B923X".into(),
            cognome: "ROSSI".into(),
            nome: Some("MARIO".into()),
            nascita: Some(Nascita {
                data: jiff::civil::date(1980, 1, 1),
                sesso: 'M',
                comune: "CASAMASSIMA".into(),
                provincia: "BA".into(),
            }),
        },
        identificativo_operazione: Some("IMU2026ACC".into()),
        righi,
    }
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} not available ({e}): scripts/test installs it"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn write(name: &str, pdf: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palazzo-f24-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("f24.pdf");
    std::fs::write(&file, pdf).unwrap();
    file
}

/// The `pdftotext -layout` lines, spaces collapsed, without the lone
/// decimal commas printed in the empty amount cells.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            l.split_whitespace()
                .filter(|t| *t != ",")
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn one_form_with_rows_totals_and_saldo() {
    let f = sample(3);
    let file = write("one", &f24::render(&f, &info()).unwrap());
    let path = file.to_str().unwrap();
    run("qpdf", &["--check", path]);
    assert!(run("pdfinfo", &[path]).contains("Pages:           1"));
    for row in run("pdffonts", &[path]).lines().skip(2) {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(&cols[n - 5..n - 2], ["yes", "yes", "yes"], "{row}");
    }
    let text = run("pdftotext", &["-layout", path, "-"]);
    let rows = lines(&text);
    // Both copies carry each line, in the form's column order: sezione,
    // tributo, ente, ticks, immobili, anno, (detrazione), debito.
    for expected in [
        "EL 3918 B923 X 2 2026 918,00",
        "EL 3912 B923 X 1 2026 200,00 1234,00",
        "EL 3916 B923 X X 1 2026 56,00",
    ] {
        let n = rows.iter().filter(|r| r.ends_with(expected)).count();
        assert_eq!(n, 2, "`{expected}` in\n{text}");
    }
    // Totals and saldo finale: 918 + 1234 + 56 = 2208.
    assert_eq!(
        rows.iter()
            .filter(|r| r.contains("TOTALE") && r.contains("2208,00"))
            .count(),
        2,
        "{text}"
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.contains("SALDO FINALE") && r.contains("2208,00"))
            .count(),
        2,
        "{text}"
    );
    for value in [
        "RSSMRA80A01B923X",
        "ROSSI",
        "MARIO",
        "01/01/1980",
        "CASAMASSIMA",
        "IMU2026ACC",
        "COPIA PER IL SOGGETTO CHE EFFETTUA IL VERSAMENTO",
        "COPIA PER LA BANCA/POSTE/AGENTE DELLA RISCOSSIONE",
        "modulo 1 di 1",
    ] {
        assert!(text.contains(value), "no {value} in\n{text}");
    }
}

#[test]
fn eleven_lines_take_two_forms() {
    let f = sample(11);
    let file = write("eleven", &f24::render(&f, &info()).unwrap());
    let path = file.to_str().unwrap();
    run("qpdf", &["--check", path]);
    assert!(run("pdfinfo", &[path]).contains("Pages:           2"));
    let first = lines(&run(
        "pdftotext",
        &["-layout", "-f", "1", "-l", "1", path, "-"],
    ));
    let second = lines(&run(
        "pdftotext",
        &["-layout", "-f", "2", "-l", "2", path, "-"],
    ));
    // Lines 1-10 on the first form, line 11 (3925, 108 euro) on the second,
    // each form with its own totals.
    assert_eq!(
        first
            .iter()
            .filter(|r| r.ends_with("EL 3918 B923 X 2 2026 918,00"))
            .count(),
        2
    );
    assert_eq!(
        first
            .iter()
            .filter(|r| r.ends_with("EL 3925 B923 X 1 2026 107,00"))
            .count(),
        2
    );
    assert!(
        !first
            .iter()
            .any(|r| r.ends_with("108,00") && r.starts_with("EL"))
    );
    assert_eq!(
        second
            .iter()
            .filter(|r| r.ends_with("EL 3925 B923 X 1 2026 108,00"))
            .count(),
        2
    );
    assert_eq!(second.iter().filter(|r| r.starts_with("EL ")).count(), 2);
    // 918 + 1234 + 56 + 101..=107 = 2208 + 728 = 2936.
    assert!(
        first
            .iter()
            .any(|r| r.contains("SALDO FINALE") && r.contains("2936,00"))
    );
    assert!(
        second
            .iter()
            .any(|r| r.contains("SALDO FINALE") && r.contains("108,00"))
    );
}

#[test]
fn refusals() {
    let mut f = sample(2);
    f.righi.clear();
    assert!(matches!(
        f24::render(&f, &info()),
        Err(PdfError::Invalid(_))
    ));
    let mut f = sample(2);
    f.righi[0].credito = 1_000_000;
    assert!(matches!(
        f24::render(&f, &info()),
        Err(PdfError::Invalid(_))
    ));
    let mut f = sample(2);
    f.righi[0].codice_ente = "B9233".into();
    assert!(matches!(
        f24::render(&f, &info()),
        Err(PdfError::Invalid(_))
    ));
}
