//! `palazzo tributi …` end to end on a demo installation: the units and
//! titolarità files load with a progress bar and a report of the refused
//! rows (exit 2); the rates of a year are entered from the command line
//! and refused outside the law's ranges; a taxpayer's position prints the
//! F24 lines and the working, and as JSON the same amounts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::civil::date;
use palazzo_domain::ids::{CodiceCatastale, CodiceFiscale, Sex};
use palazzo_testkit::{cli, cli::text};

#[test]
fn tributi_from_the_command_line() {
    let demo = cli::DemoInstallation::new(env!("CARGO_BIN_EXE_palazzo"), "tributi-cli", 5);
    let cf = CodiceFiscale::compute(
        "Verdi",
        "Giuseppe",
        date(1961, 10, 10),
        Sex::M,
        &CodiceCatastale::parse("A662").unwrap(),
    );
    let units = demo.path("unita.csv");
    std::fs::write(
        &units,
        "codice;foglio;particella;subalterno;indirizzo;tipo;categoria;valore;dal\n\
         T1-P1-S1;1;1;1;Via Verdi 1;fabbricato;A/3;800,00;\n\
         T1-P1-S2;1;1;2;Via Verdi 1;fabbricato;C/6;90,00;\n\
         T1-P1-S3;1;1;3;Via Verdi 1;fabbricato;A/3;-1;\n",
    )
    .unwrap();
    let out = demo.run(&["tributi", "import", &units]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("riga 4, colonna valore (valore_non_valido)"),
        "{t}"
    );
    assert!(
        t.contains("Unità immobiliari: 2 salvate, 1 righe rifiutate."),
        "{t}"
    );
    assert!(t.contains("[==============================] 2/2"), "{t}");

    // Giuseppe owns the A/3 all year and buys the garage on 1 July.
    let titles = demo.path("titolarita.csv");
    std::fs::write(
        &titles,
        format!(
            "codice_unita;codice_fiscale;dal;al;quota;condizione;condizione_dal;condizione_al;residenti\n\
             T1-P1-S1;{cf};01/01/2000;;100;;;;\n\
             T1-P1-S2;{cf};01/07/2026;;100;;;;\n",
            cf = cf.as_str()
        ),
    )
    .unwrap();
    let out = demo.run(&["tributi", "import", &titles]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Titolarità: 2 salvate, 0 righe rifiutate."));

    let out = demo.run(&[
        "tributi",
        "aliquote",
        "--anno",
        "2026",
        "--delibera",
        "Delibera C.C. n. 9 del 20/03/2026",
        "--aliquota",
        "altri_fabbricati=12",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("tributi_aliquota_fuori_range"),
        "{}",
        text(&out)
    );
    for (anno, rate) in [("2025", "10,6"), ("2026", "9,6")] {
        let out = demo.run(&[
            "tributi",
            "aliquote",
            "--anno",
            anno,
            "--delibera",
            "Delibera C.C. n. 9",
            "--aliquota",
            &format!("altri_fabbricati={rate}"),
        ]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains(&format!("Aliquote IMU {anno} salvate")));
    }

    // By hand: A/3 base 800 × 1,05 × 160 = 134.400 €; C/6 base 90 × 1,05
    // × 160 = 15.120 €, July–December. Year at 9,6‰: 1.290,24 + 72,576 =
    // 1.362,82 → 1.363 €. Acconto at 2025's 10,6‰, January–June, the A/3
    // only: 712,32 → 712 €. Saldo 1.363 − 712 = 651 €.
    let out = demo.run(&[
        "tributi",
        "posizione",
        "--cf",
        cf.as_str(),
        "--anno",
        "2026",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("Foglio 1 particella 1 sub 2, Via Verdi 1"),
        "{t}"
    );
    assert!(t.contains("Totale acconto 712,00 €, saldo 651,00 €"), "{t}");
    assert!(t.contains("3918"), "{t}");

    let out = demo.run(&[
        "tributi",
        "posizione",
        "--cf",
        cf.as_str(),
        "--anno",
        "2026",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["acconto"], 71_200);
    assert_eq!(json["saldo"], 65_100);
    assert_eq!(json["righe"][0]["numero_immobili"], 2);

    // Next year's single payment as a pagoPA notice (the demo comune has
    // its pagoPA data): the A/3 and the garage all year at 9,6‰,
    // 1.290,24 + 145,152 = 1.435,39 → 1.435 €.
    let next = (palazzo_domain::calendar::rome_date(jiff::Timestamp::now()).year() + 1).to_string();
    let out = demo.run(&[
        "tributi",
        "aliquote",
        "--anno",
        &next,
        "--delibera",
        "Delibera C.C. n. 2",
        "--aliquota",
        "altri_fabbricati=9,6",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let pdf = demo.path("avviso.pdf");
    let out = demo.run(&[
        "tributi",
        "avviso",
        "--cf",
        cf.as_str(),
        "--anno",
        &next,
        "--versamento",
        "unica",
        "--out",
        &pdf,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("Importo: 1.435,00 €"), "{t}");
    let codice = t
        .lines()
        .find_map(|l| l.strip_prefix("Codice avviso: "))
        .unwrap()
        .trim()
        .to_owned();
    palazzo_domain::pagopa::CodiceAvviso::parse(&codice).unwrap();
    let qr = palazzo_testkit::pdf_qr_codes(&std::fs::read(&pdf).unwrap());
    assert_eq!(qr.len(), 1, "{qr:?}");
    assert!(
        qr[0].starts_with(&format!("PAGOPA|002|{codice}|")),
        "{qr:?}"
    );
    assert!(qr[0].ends_with("|143500"), "{qr:?}");
    // Asking again: the same notice.
    let out = demo.run(&[
        "tributi",
        "avviso",
        "--cf",
        cf.as_str(),
        "--anno",
        &next,
        "--versamento",
        "unica",
        "--out",
        &pdf,
    ]);
    assert!(text(&out).contains(&codice), "{}", text(&out));
    // Its payment, once; another receipt is refused.
    let out = demo.run(&[
        "tributi",
        "pagamento",
        "--codice",
        &codice,
        "--ricevuta",
        "R-1",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("pagato"), "{}", text(&out));
    let out = demo.run(&[
        "tributi",
        "pagamento",
        "--codice",
        &codice,
        "--ricevuta",
        "R-2",
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("avviso_gia_pagato"), "{}", text(&out));
    // Without [gpd] there is nothing to read back.
    let out = demo.run(&["tributi", "sincronizza"]);
    assert!(
        text(&out).contains("Pagamenti registrati: 0."),
        "{}",
        text(&out)
    );
    // Bad pagoPA data is refused with its code.
    let out = demo.run(&[
        "tributi",
        "pagopa",
        "--segregazione",
        "1",
        "--cbill",
        "X",
        "--iban",
        "IT60X0542811101000000123456",
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("cbill_non_valido"), "{}", text(&out));

    // Bad input: an unknown codice fiscale form, a year before the IMU.
    let out = demo.run(&["tributi", "posizione", "--cf", "XYZ", "--anno", "2026"]);
    assert!(!out.status.success());
    let out = demo.run(&[
        "tributi",
        "posizione",
        "--cf",
        cf.as_str(),
        "--anno",
        "2019",
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("tributi_anno"), "{}", text(&out));
}
