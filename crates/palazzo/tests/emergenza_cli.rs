//! `palazzo protocollo emergenza …` end to end on a demo installation:
//! open, close, import (new numbers in emergency-number order, refusals
//! with exit status 2, a re-run that registers nothing twice), show, and a
//! ledger that still verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;

use jiff::{SignedDuration, Timestamp};
use palazzo_testkit::{cli, cli::text};

fn palazzo(args: &[&str]) -> Output {
    cli::run(env!("CARGO_BIN_EXE_palazzo"), args)
}

fn rome(t: Timestamp) -> String {
    t.to_zoned(palazzo_domain::calendar::rome_time_zone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

#[test]
fn emergency_register_from_the_command_line() {
    let demo = cli::DemoInstallation::new(env!("CARGO_BIN_EXE_palazzo"), "emergenza-cli", 100);
    let dir = &demo.dir;
    let with = |args: &[&str]| demo.run(args);
    let now = Timestamp::now().as_second();
    let start = Timestamp::from_second((now - 2 * 86_400) / 60 * 60).unwrap();
    let h = SignedDuration::from_hours;

    let out = with(&[
        "protocollo",
        "emergenza",
        "open",
        "--cause",
        "Guasto del server",
        "--start",
        &rome(start),
        "--authorised-by",
        "Dott.ssa Maria Bianchi",
        "--act",
        "Decreto n. 3/2026",
        "--code",
        "EMERG-CLI-01",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("aperto il registro di emergenza EMERG-CLI-01"));
    // Beyond a week: refused with its code.
    let out = with(&[
        "protocollo",
        "emergenza",
        "authorize",
        "EMERG-CLI-01",
        "--authorised-by",
        "Dott.ssa Maria Bianchi",
        "--act",
        "Decreto n. 4/2026",
        "--until",
        &rome(start + h(24 + 9 * 24)),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("emergenza_autorizzazione_settimana"),
        "{}",
        text(&out)
    );
    let out = with(&[
        "protocollo",
        "emergenza",
        "close",
        "EMERG-CLI-01",
        "--end",
        &rome(start + h(6)),
    ]);
    assert!(out.status.success(), "{}", text(&out));

    let files = dir.path().join("recupero");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(
        files.join("istanza.pdf"),
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
    )
    .unwrap();
    let header = "numero_emergenza;data_ora_emergenza;verso;oggetto;corrispondente;codice_fiscale;email;numero_ricevuto;data_ricevuto;classifica;ufficio;documento;allegati";
    let csv = format!(
        "{header}\n\
         2;{};E;Seconda;Anna Verdi;;;;;;;istanza.pdf;\n\
         1;{};E;Prima;Mario Rossi;RSSMRA80A01H501U;;;;XI.2;;istanza.pdf;\n\
         3;{};E;Dopo il ripristino;Luca;;;;;;;istanza.pdf;\n",
        rome(start + h(2)),
        rome(start + h(1)),
        rome(start + h(7)),
    );
    let path = files.join("recupero.csv");
    std::fs::write(&path, csv).unwrap();
    let import = || {
        with(&[
            "protocollo",
            "emergenza",
            "import",
            "EMERG-CLI-01",
            path.to_str().unwrap(),
        ])
    };
    let out = import();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("emergenza n. 1 → protocollo n. 0000001/"), "{t}");
    assert!(t.contains("emergenza n. 2 → protocollo n. 0000002/"), "{t}");
    assert!(
        t.contains("riga 4 rifiutata (emergenza_fuori_periodo)"),
        "{t}"
    );
    assert!(
        t.contains("2 recuperate, 0 già recuperate, 1 rifiutate."),
        "{t}"
    );
    assert!(t.contains("3/3"), "progress: {t}");

    // Fix the file (drop the bad row) and run it again: nothing twice.
    let fixed: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("3;"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, fixed).unwrap();
    let out = import();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("0 recuperate, 2 già recuperate, 0 rifiutate."),
        "{t}"
    );

    let out = with(&["protocollo", "emergenza", "show", "EMERG-CLI-01"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("causa: Guasto del server"), "{t}");
    assert!(t.contains("autorizzazione 1:"), "{t}");
    assert!(t.contains("emergenza n. 2 ("), "{t}");
    assert!(t.contains("registrazioni"), "daily counts: {t}");
    let out = with(&["protocollo", "emergenza", "show"]);
    assert!(text(&out).contains("EMERG-CLI-01\t"), "{}", text(&out));

    let out = palazzo(&["verify", "--data-dir", &demo.data]);
    assert!(out.status.success(), "{}", text(&out));
}
