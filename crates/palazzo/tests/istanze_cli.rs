//! `palazzo servizi-online …` and `palazzo pratiche …` on a demo
//! installation: the shipped definitions are installed once; a definition
//! exported as TOML (and JSON) is imported back as version 2; an invalid
//! file (silenzio-assenso on a landscape matter) exits non-zero with the
//! Italian message and its code and saves nothing; an office with no
//! pratiche lists none and an unknown pratica is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;

use palazzo_store::conformance::service_fixture;
use palazzo_testkit::{cli, cli::text};

fn palazzo(args: &[&str]) -> Output {
    cli::run(env!("CARGO_BIN_EXE_palazzo"), args)
}

/// Adds the cards of two shipped services to the demo comune (when the
/// demo has none) and returns the slug of an office.
async fn cards(dir: &std::path::Path) -> String {
    let app = cli::open_sqlite(dir).await;
    let t = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == "casamassima")
        .unwrap();
    let snap = app.portal(t.id).await.unwrap();
    let office = snap.offices[0].clone();
    for slug in [
        "istanza-generica",
        "autorizzazione-paesaggistica-semplificata",
    ] {
        if snap.service(slug).is_none() {
            app.create_service(t.id, service_fixture(slug, office.id))
                .await
                .unwrap();
        }
    }
    app.checkpoint_all().await.unwrap();
    app.db().close().await;
    office.data.slug.clone()
}

#[tokio::test]
async fn definitions_round_trip_through_the_command_line() {
    let demo = cli::DemoInstallation::new(env!("CARGO_BIN_EXE_palazzo"), "istanze-cli", 10);
    let dir = &demo.dir;
    let office = cards(dir.path()).await;
    let with = |args: &[&str]| demo.run(args);
    let path = |name: &str| demo.path(name);

    let out = with(&["servizi-online", "install-shipped"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = with(&["servizi-online", "install-shipped"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Definizioni installate: 0."),
        "installed once: {}",
        text(&out)
    );
    let out = with(&["servizi-online", "list"]);
    assert!(out.status.success(), "{}", text(&out));
    let line = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("istanza-generica\t"))
        .unwrap_or_else(|| panic!("listed: {}", text(&out)))
        .to_owned();
    assert!(
        line.contains("versione 1") && line.contains("termine 30 giorni"),
        "{line}"
    );

    // Export as TOML, import: version 2.
    let toml = path("istanza-generica.toml");
    let out = with(&[
        "servizi-online",
        "export",
        "--servizio",
        "istanza-generica",
        "--out",
        &toml,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let exported = std::fs::read_to_string(&toml).unwrap();
    assert!(
        exported.contains("servizio = \"istanza-generica\""),
        "{exported}"
    );
    let out = with(&["servizi-online", "import", "--file", &toml]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Servizio istanza-generica: salvata la versione 2."),
        "{}",
        text(&out)
    );
    // `--tenant` is accepted for `--ente`.
    let out = palazzo(&[
        "servizi-online",
        "list",
        "--tenant",
        "casamassima",
        "--data-dir",
        &demo.data,
    ]);
    assert!(
        text(&out).contains("istanza-generica\tversione 2"),
        "{}",
        text(&out)
    );
    // JSON to standard output, and back: version 3.
    let out = with(&[
        "servizi-online",
        "export",
        "--servizio",
        "istanza-generica",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["modulo"]["versione"], 2);
    let file = path("istanza-generica.json");
    std::fs::write(&file, &out.stdout).unwrap();
    let out = with(&["servizi-online", "import", "--file", &file]);
    assert!(
        text(&out).contains("salvata la versione 3"),
        "{}",
        text(&out)
    );

    // An invalid file: silenzio-assenso on a landscape matter.
    let landscape = path("paesaggistica.toml");
    let out = with(&[
        "servizi-online",
        "export",
        "--servizio",
        "autorizzazione-paesaggistica-semplificata",
        "--out",
        &landscape,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let original = std::fs::read_to_string(&landscape).unwrap();
    let tacit = original.replace("silenzio_assenso = false", "silenzio_assenso = true");
    assert_ne!(tacit, original, "the flag is in the file: {original}");
    std::fs::write(&landscape, tacit).unwrap();
    let out = with(&["servizi-online", "import", "--file", &landscape]);
    assert!(!out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("art. 20, c. 4"), "{err}");
    assert!(err.contains("(procedura_"), "the code: {err}");
    // Not a definition at all.
    let junk = path("junk.toml");
    std::fs::write(&junk, "servizio = 3\n").unwrap();
    let out = with(&["servizi-online", "import", "--file", &junk]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("(servizio_definizione_non_valida)"),
        "{}",
        text(&out)
    );
    let out = with(&["servizi-online", "list"]);
    assert!(
        text(&out).contains("autorizzazione-paesaggistica-semplificata\tversione 1"),
        "nothing saved: {}",
        text(&out)
    );

    // Pratiche: none yet in the office; an unknown one is refused.
    let out = with(&["pratiche", "list", "--ufficio", &office, "--scadute"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("0 pratiche aperte."), "{}", text(&out));
    let out = with(&["pratiche", "list", "--ufficio", "non-esiste"]);
    assert!(!out.status.success(), "{}", text(&out));
    let out = with(&["pratiche", "show", "999"]);
    assert!(!out.status.success(), "{}", text(&out));
}
