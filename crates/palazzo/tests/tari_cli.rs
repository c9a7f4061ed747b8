//! `palazzo tributi …` for the TARI, end to end on a demo installation: the
//! tariffs of a year from a JSON file (refused above the law's TEFA); the
//! utenze file with its report; a taxpayer's position with the working;
//! the batch of the year's bills (`avvisi --year Y --tax TARI`), one PDF
//! per taxpayer whose QR codes hold the bill's notices — run again, it
//! issues nothing new and rewrites nothing; a file lost is written again
//! with the same notices; a bill that cannot be computed is reported
//! (exit 2) without stopping the others.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use jiff::civil::date;
use palazzo_domain::ids::{CodiceCatastale, CodiceFiscale, Sex};
use palazzo_testkit::{cli, cli::text};

fn person(surname: &str, name: &str) -> CodiceFiscale {
    CodiceFiscale::compute(
        surname,
        name,
        date(1966, 6, 6),
        Sex::F,
        &CodiceCatastale::parse("A662").unwrap(),
    )
}

#[test]
fn tari_from_the_command_line() {
    let demo = cli::DemoInstallation::new(env!("CARGO_BIN_EXE_palazzo"), "tari-cli", 3);
    // Next year: its due dates are ahead whenever the test runs.
    let y = palazzo_domain::calendar::rome_date(jiff::Timestamp::now()).year() + 1;
    let tariffe = |tefa: u32| {
        serde_json::json!({
            "anno": y,
            "delibera": format!("Delibera C.C. n. 10 del 30/04/{y}"),
            "domestiche": [[3650, 401200], [4200, 625000], [4460, 750300],
                           [4700, 900000], [4900, 1100000], [5100, 1250000]],
            "non_domestiche": [[13, "Negozi di beni durevoli", 12000, 10500]],
            "tefa": tefa,
            "scadenze": [format!("{y}-05-31"), format!("{y}-10-31")],
        })
        .to_string()
    };
    let file = demo.path("tariffe.json");
    std::fs::write(&file, tariffe(700)).unwrap();
    let out = demo.run(&["tributi", "tariffe-tari", &file]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("tributi_tariffe_tari"),
        "{}",
        text(&out)
    );
    std::fs::write(&file, tariffe(500)).unwrap();
    let out = demo.run(&["tributi", "tariffe-tari", &file]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("Tariffe TARI {y} salvate (Delibera C.C. n. 10")),
        "{}",
        text(&out)
    );

    // Three taxpayers: the reference's T-6 home, a shop, a restaurant of a
    // category the tariffs do not price; one row refused.
    let (anna, bruno, carla) = (
        person("Neri", "Anna"),
        person("Gialli", "Bruna"),
        person("Blu", "Carla"),
    );
    let utenze = demo.path("utenze.csv");
    std::fs::write(
        &utenze,
        format!(
            "codice;codice_fiscale;indirizzo;catasto;tipo;occupanti;categoria;superficie;pertinenze;dal;al;riduzioni\n\
             U1;{a};Via Verdi 1;;domestica;3;;100;;01/01/2010;;\n\
             U2;{b};Via Verdi 3;;non_domestica;;13;50;;01/01/2010;;\n\
             U3;{c};Via Verdi 5;;non_domestica;;22;70;;01/01/2010;;\n\
             U4;{c};Via Verdi 7;;domestica;0;;70;;01/01/2010;;\n",
            a = anna.as_str(),
            b = bruno.as_str(),
            c = carla.as_str()
        ),
    )
    .unwrap();
    let out = demo.run(&["tributi", "import", &utenze]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("riga 5, colonna occupanti (numero_non_valido)"),
        "{t}"
    );
    assert!(
        t.contains("Utenze TARI: 3 salvate, 1 righe rifiutate."),
        "{t}"
    );

    // Anna's position: 44,60 + 75,03 = 119,63, TEFA 5,98, 125,61 (T-6).
    let ys = y.to_string();
    let out = demo.run(&[
        "tributi",
        "posizione",
        "--cf",
        anna.as_str(),
        "--anno",
        &ys,
        "--tributo",
        "TARI",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("Totale 125,61 € (TARI 119,63 €, TEFA 5,98 €)"),
        "{t}"
    );
    assert!(
        t.contains("Quota variabile per 3 occupanti: 75,0300 €"),
        "{t}"
    );
    let out = demo.run(&[
        "tributi",
        "posizione",
        "--cf",
        anna.as_str(),
        "--anno",
        &ys,
        "--tributo",
        "TARI",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["totale"], 12_561);
    assert_eq!(v["rate"][0]["tari"], 5_982);

    // The batch: Anna's and Bruna's bills (and the demo resident's, whose
    // utenze go on), Carla's reported.
    let dir = demo.path("avvisi");
    let batch = || {
        demo.run(&[
            "tributi", "avvisi", "--year", &ys, "--tax", "TARI", "--out", &dir,
        ])
    };
    let out = batch();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&format!("{} (tributi_categoria_tari)", carla.as_str())),
        "{t}"
    );
    assert!(
        t.contains(&format!(
            "Avvisi TARI {y}: 4 contribuenti, 3 emessi ora, 0 già emessi, 0 senza nulla da versare, 1 non emessi."
        )),
        "{t}"
    );
    assert!(t.contains("[==============================] 4/4"), "{t}");
    let pdf_of = |cf: &CodiceFiscale| format!("{dir}/TARI-{y}-{}.pdf", cf.as_str());
    let anna_pdf = std::fs::read(pdf_of(&anna)).unwrap();
    let qr: BTreeSet<String> = palazzo_testkit::pdf_qr_codes(&anna_pdf)
        .into_iter()
        .collect();
    // The rata unica and two instalments: 125,61 = 62,81 + 62,80.
    let amounts: BTreeSet<&str> = qr.iter().map(|q| q.rsplit('|').next().unwrap()).collect();
    assert_eq!(amounts, BTreeSet::from(["12561", "6281", "6280"]), "{qr:?}");
    for q in &qr {
        let codice = q.split('|').nth(2).unwrap();
        palazzo_domain::pagopa::CodiceAvviso::parse(codice).expect("a valid codice avviso");
    }
    assert!(std::path::Path::new(&pdf_of(&bruno)).exists());
    assert!(!std::path::Path::new(&pdf_of(&carla)).exists());

    // Again: nothing new, nothing rewritten.
    let modified = std::fs::metadata(pdf_of(&anna))
        .unwrap()
        .modified()
        .unwrap();
    let out = batch();
    let t = text(&out);
    assert!(
        t.contains(&format!(
            "Avvisi TARI {y}: 4 contribuenti, 0 emessi ora, 3 già emessi, 0 senza nulla da versare, 1 non emessi."
        )),
        "{t}"
    );
    assert_eq!(
        std::fs::metadata(pdf_of(&anna))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );
    // A file lost (an interrupted run): written again, with the same
    // notices.
    std::fs::remove_file(pdf_of(&anna)).unwrap();
    let out = batch();
    assert!(
        text(&out).contains("0 emessi ora, 3 già emessi"),
        "{}",
        text(&out)
    );
    let again: BTreeSet<String> =
        palazzo_testkit::pdf_qr_codes(&std::fs::read(pdf_of(&anna)).unwrap())
            .into_iter()
            .collect();
    assert_eq!(again, qr);
    // A payment flow: Anna's first instalment by F24 (TARI and TEFA
    // lines); the position counts it.
    let flow = demo.path("versamenti.csv");
    std::fs::write(
        &flow,
        format!(
            "riferimento;codice_fiscale;anno;codice_tributo;data;importo;ravvedimento\n\
             AE-1;{a};{y};3944;31/05/{y};59,82;\n\
             AE-2;{a};{y};TEFA;31/05/{y};2,99;\n",
            a = anna.as_str()
        ),
    )
    .unwrap();
    let out = demo.run(&["tributi", "import", &flow]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Versamenti: 2 salvati, 0 già caricati, 0 righe rifiutate."),
        "{}",
        text(&out)
    );
    let out = demo.run(&["tributi", "import", &flow]);
    assert!(
        text(&out).contains("Versamenti: 0 salvati, 2 già caricati, 0 righe rifiutate."),
        "{}",
        text(&out)
    );

    // The position lists them.
    let out = demo.run(&[
        "tributi",
        "posizione",
        "--cf",
        anna.as_str(),
        "--anno",
        &ys,
        "--tributo",
        "TARI",
    ]);
    let t = text(&out);
    assert_eq!(t.matches("Avviso ").count(), 3, "{t}");
    assert!(
        t.contains(&format!(
            "Versamento del 31/05/{y}: 59,82 € (F24, codice tributo 3944)"
        )),
        "{t}"
    );
    assert!(t.contains("Pagato 62,81 €, da pagare 62,80 €"), "{t}");
}
