//! `palazzo tributi …` for the canone unico, end to end on a demo
//! installation: the coefficients of a year from a JSON file (refused with
//! a coefficient of nought); the occupations file with its report; a
//! taxpayer's position with the working (text and JSON); the batch of the
//! year's permanent bills (`avvisi --year Y --tax CANONE`), one PDF per
//! taxpayer whose QR codes hold the bill's notices — run again, it issues
//! nothing new; an occupation the coefficients cannot price is reported
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
fn canone_from_the_command_line() {
    let demo = cli::DemoInstallation::new(env!("CARGO_BIN_EXE_palazzo"), "canone-cli", 3);
    // Next year: its due dates are ahead whenever the test runs.
    let y = palazzo_domain::calendar::rome_date(jiff::Timestamp::now()).year() + 1;
    let coefficienti = |zona: u32| {
        serde_json::json!({
            "anno": y,
            "delibera": format!("Delibera C.C. n. 5 del 30/03/{y}"),
            "zone": [{"codice": "1", "descrizione": "Centro storico", "coefficiente": 1200},
                     {"codice": "2", "descrizione": "Resto del territorio", "coefficiente": zona}],
            "categorie": [{"codice": "passo_carrabile", "descrizione": "Passi carrabili",
                           "permanente": 420, "temporanea": 485}],
            "scadenze": [format!("{y}-03-31"), format!("{y}-07-31")],
        })
        .to_string()
    };
    let file = demo.path("coefficienti.json");
    std::fs::write(&file, coefficienti(0)).unwrap();
    let out = demo.run(&["tributi", "tariffe-canone", &file]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("tributi_tariffe_canone"),
        "{}",
        text(&out)
    );
    std::fs::write(&file, coefficienti(1000)).unwrap();
    let out = demo.run(&["tributi", "tariffe-canone", &file]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "Coefficienti del canone unico {y} salvati (Delibera C.C. n. 5"
        )),
        "{}",
        text(&out)
    );

    // Two taxpayers: Anna's passo carrabile in the historic centre, Bruna's
    // kiosk of a category the coefficients lack; one row refused.
    let (anna, bruna) = (person("Neri", "Anna"), person("Gialli", "Bruna"));
    let occupazioni = demo.path("occupazioni.csv");
    std::fs::write(
        &occupazioni,
        format!(
            "codice;codice_fiscale;descrizione;indirizzo;zona;categoria;tipo;superficie;dal;al;atto\n\
             C1;{a};Passo carrabile;Via Verdi 1;1;passo_carrabile;permanente;3,2;01/01/2015;;Concessione n. 8/2015\n\
             C2;{b};Chiosco;Via Verdi 3;2;chiosco;permanente;6;01/01/2018;;\n\
             C3;{b};Chiosco;Via Verdi 3;2;chiosco;permanente;sei;01/01/2019;;\n",
            a = anna.as_str(),
            b = bruna.as_str()
        ),
    )
    .unwrap();
    let out = demo.run(&["tributi", "import", &occupazioni]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("riga 4, colonna superficie (superficie_non_valida)"),
        "{t}"
    );
    assert!(
        t.contains("Occupazioni di suolo pubblico: 2 salvate, 1 righe rifiutate."),
        "{t}"
    );

    // Anna's canone: 3,2 m² → 3,5 m²; 40 € × 1,200 × 0,420 × 3,5 = 70,56
    // (Casamassima: 19,200 inhabitants), 35,28 on each due date.
    let ys = y.to_string();
    let posizione = |json: bool| {
        let mut args = vec![
            "tributi",
            "posizione",
            "--cf",
            anna.as_str(),
            "--anno",
            &ys,
            "--tributo",
            "CANONE",
        ];
        if json {
            args.push("--json");
        }
        demo.run(&args)
    };
    let out = posizione(false);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("Totale 70,56 € (permanenti 70,56 €, temporanee 0,00 €)"),
        "{t}"
    );
    assert!(t.contains("superficie 3,5 m²"), "{t}");
    assert!(t.contains("Occupazioni permanenti, rata 2 di 2"), "{t}");
    let v: serde_json::Value = serde_json::from_slice(&posizione(true).stdout).unwrap();
    assert_eq!(v["totale"], 7_056);
    assert_eq!(v["rate"][0]["importo"], 3_528);

    // The batch: Anna's bill and the demo resident's (whose passo carrabile
    // goes on), Bruna's kiosk reported.
    let dir = demo.path("avvisi");
    let batch = || {
        demo.run(&[
            "tributi", "avvisi", "--year", &ys, "--tax", "CANONE", "--out", &dir,
        ])
    };
    let out = batch();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&format!("{} (coefficienti_mancanti)", bruna.as_str())),
        "{t}"
    );
    assert!(
        t.contains(&format!(
            "Avvisi del canone unico {y}: 3 contribuenti, 2 emessi ora, 0 già emessi, 0 senza nulla da versare, 1 non emessi."
        )),
        "{t}"
    );
    let pdf = std::fs::read(format!("{dir}/CANONE-{y}-{}.pdf", anna.as_str())).unwrap();
    let qr: BTreeSet<String> = palazzo_testkit::pdf_qr_codes(&pdf).into_iter().collect();
    let amounts: BTreeSet<&str> = qr.iter().map(|q| q.rsplit('|').next().unwrap()).collect();
    assert_eq!(amounts, BTreeSet::from(["7056", "3528"]), "{qr:?}");
    assert_eq!(qr.len(), 3, "{qr:?}");
    let out = batch();
    assert!(
        text(&out).contains("0 emessi ora, 2 già emessi"),
        "{}",
        text(&out)
    );
    // A tax the batch does not know.
    let out = demo.run(&[
        "tributi", "avvisi", "--year", &ys, "--tax", "IMU", "--out", &dir,
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("--tax CANONE"), "{}", text(&out));
}
