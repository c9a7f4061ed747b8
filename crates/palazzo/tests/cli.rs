//! The binary end to end: `demo --no-serve` builds an installation,
//! `verify --data-dir` passes on it and fails, naming the record, after a
//! stored record, event or checkpoint is altered behind Palazzo's back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use palazzo_services::db::Db;
use palazzo_testkit::TempDir;
use palazzo_testkit::cli;

fn palazzo(args: &[&str]) -> Output {
    cli::run(env!("CARGO_BIN_EXE_palazzo"), args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn demo(dir: &Path) {
    let out = palazzo(&[
        "demo",
        "--no-serve",
        "--residents",
        "300",
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "demo: {}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout(&out).contains("Demo created: 2 comuni"),
        "{}",
        stdout(&out)
    );
}

/// The database of the installation in `dir`, and the comune `slug`.
async fn open_comune(dir: &Path, slug: &str) -> (Db, palazzo_store::Tenant) {
    use palazzo_store::Store;
    let db = Db::open_existing(&format!("sqlite:{}", dir.join("palazzo.db").display()))
        .await
        .unwrap();
    let t = db
        .tenants()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.data.slug == slug)
        .unwrap();
    (db, t)
}

fn verify(dir: &Path) -> Output {
    palazzo(&["verify", "--data-dir", dir.to_str().unwrap()])
}

async fn tamper(dir: &Path, sql: &str) {
    let db = Db::open_sqlite(&dir.join("palazzo.db")).await.unwrap();
    // An attacker with full database access first drops the append-only triggers.
    for trigger in [
        "ledger_events_append_only_update",
        "ledger_events_append_only_delete",
        "ledger_checkpoints_append_only_update",
        "ledger_checkpoints_append_only_delete",
    ] {
        db.execute_raw(&format!("DROP TRIGGER IF EXISTS {trigger}"))
            .await
            .unwrap();
    }
    assert!(
        db.execute_raw(sql).await.unwrap() > 0,
        "tampering statement changed nothing: {sql}"
    );
    db.close().await;
}

#[tokio::test]
async fn verify_passes_on_the_demo_and_names_every_alteration() {
    let dir = TempDir::new("cli");
    let data = dir.path().join("demo");
    demo(&data);
    let ok = verify(&data);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("OK:"));

    // Reopening the demo keeps the data and creates nothing new.
    let again = palazzo(&["demo", "--no-serve", "--data-dir", data.to_str().unwrap()]);
    assert!(
        stdout(&again).contains("Demo reopened"),
        "{}",
        stdout(&again)
    );

    // 1. A service card edited directly in the database.
    tamper(
        &data,
        "UPDATE services SET summary = 'alterato' WHERE id = 3",
    )
    .await;
    let out = verify(&data);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("record service:3 does not match"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test]
async fn verify_names_an_altered_event_and_checkpoint() {
    let dir = TempDir::new("cli");
    let data = dir.path().join("demo");
    demo(&data);
    tamper(
        &data,
        "UPDATE ledger_events SET subject = 'service:999' WHERE tenant_id = 2 AND seq = 4",
    )
    .await;
    let out = verify(&data);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("ledger event #4"), "{}", stdout(&out));

    let dir2 = TempDir::new("cli");
    let data2 = dir2.path().join("demo");
    demo(&data2);
    tamper(&data2, "UPDATE ledger_checkpoints SET note = replace(note, '/palazzo/', '/palazz0/') WHERE tenant_id = 1").await;
    let out = verify(&data2);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("checkpoint at size"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("invalid signature"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn bad_arguments_fail_clearly() {
    let out = palazzo(&["verify", "--data-dir", "/nonexistent/palazzo"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
    // verify never creates a database: an empty directory is an error, and stays empty.
    let dir = TempDir::new("cli");
    let out = palazzo(&["verify", "--data-dir", dir.path().to_str().unwrap()]);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "verify created files"
    );
    let out = palazzo(&["serve", "--config", "/nonexistent/palazzo.toml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
}

#[test]
fn configuration_layers_file_then_environment() {
    let dir = TempDir::new("cfg");
    let cfg = dir.path().join("palazzo.toml");
    // A typo in the file is refused with the key named.
    std::fs::write(&cfg, "listne = \"127.0.0.1:1\"\n").unwrap();
    let out = palazzo(&["migrate", "--config", cfg.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("listne"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The environment overrides the file; unrelated PALAZZO_* variables are ignored.
    let data_file = dir.path().join("from-file");
    let data_env = dir.path().join("from-env");
    std::fs::write(&cfg, format!("data_dir = \"{}\"\n", data_file.display())).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_palazzo"))
        .args(["migrate", "--config", cfg.to_str().unwrap()])
        .env("PALAZZO_DATA_DIR", &data_env)
        .env("PALAZZO_SOMETHING_ELSE", "x")
        .env_remove("PALAZZO_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        data_env.join("palazzo.db").exists(),
        "PALAZZO_DATA_DIR wins over the file"
    );
    assert!(!data_file.exists());
}

#[tokio::test]
async fn an_ente_exported_from_one_installation_imports_into_another() {
    let dir = TempDir::new("cli");
    let demo_dir = dir.path().join("demo");
    demo(&demo_dir);
    let env_for = |d: &Path| vec![("PALAZZO_DATA_DIR", d.to_str().unwrap().to_owned())];
    let run = |args: &[&str], d: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_palazzo"));
        c.args(args)
            .env("RUST_LOG", "warn")
            .env_remove("PALAZZO_DATABASE_URL");
        for (k, v) in env_for(d) {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let exported = run(&["export", "ente", "casamassima"], &demo_dir);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let text = stdout(&exported);
    assert!(text.contains("codice_catastale = \"B923\""));
    let file = dir.path().join("casamassima.toml");
    std::fs::write(&file, &text).unwrap();

    // Into a fresh installation: created, then idempotent.
    let fresh = dir.path().join("fresh");
    let out = run(&["import", "ente", file.to_str().unwrap()], &fresh);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout(&out).starts_with("Ente created; offices created: 8"),
        "{}",
        stdout(&out)
    );
    let out = run(&["import", "ente", file.to_str().unwrap()], &fresh);
    assert!(stdout(&out).contains("Ente unchanged; offices created: 0; service cards created: 0, updated: 0; FAQ created: 0"), "{}", stdout(&out));
    let again = run(&["export", "ente", "casamassima"], &fresh);
    assert_eq!(
        stdout(&again),
        text,
        "export → import → export is the identity"
    );

    // A changed card is updated, and the ledger still verifies.
    let changed = text.replacen("title = \"", "title = \"Nuovo: ", 1);
    std::fs::write(&file, changed).unwrap();
    let out = run(&["import", "ente", file.to_str().unwrap()], &fresh);
    assert!(stdout(&out).contains("updated: 1"), "{}", stdout(&out));
    assert_eq!(
        verify(&fresh).status.code(),
        Some(0),
        "{}",
        stdout(&verify(&fresh))
    );

    // A bad file is refused with the field named, and nothing changes.
    std::fs::write(
        &file,
        text.replace("codice_catastale = \"B923\"", "codice_catastale = \"B92\""),
    )
    .unwrap();
    let out = run(&["import", "ente", file.to_str().unwrap()], &fresh);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("codice_catastale") || err.contains("catastale"),
        "{err}"
    );
    let unknown_office = text.replacen("ufficio = \"", "ufficio = \"inesistente-", 1);
    std::fs::write(&file, unknown_office).unwrap();
    let out = run(&["import", "ente", file.to_str().unwrap()], &fresh);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("import_office_unknown"));
}

#[tokio::test]
async fn a_backup_is_a_complete_installation_that_verifies() {
    let dir = TempDir::new("cli");
    let data = dir.path().join("demo");
    demo(&data);
    // A stored original and an upload in progress.
    let original = "documents/sha256/ab/cd/abcd0000";
    std::fs::create_dir_all(data.join("documents/sha256/ab/cd")).unwrap();
    std::fs::write(data.join(original), b"%PDF").unwrap();
    std::fs::create_dir_all(data.join("documents/tmp")).unwrap();
    std::fs::write(data.join("documents/tmp/upload-1.part"), b"half").unwrap();
    let to = dir.path().join("copy");
    let out = palazzo(&[
        "backup",
        "--data-dir",
        data.to_str().unwrap(),
        "--to",
        to.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = to.join("keys/casamassima/ledger.ed25519.pk8");
    assert!(key.exists());
    assert_eq!(
        std::fs::read(to.join(original)).unwrap(),
        b"%PDF",
        "documents are copied"
    );
    assert!(
        !to.join("documents/tmp").exists(),
        "uploads in progress are not"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let ok = verify(&to);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    // The copy is independent of the original.
    tamper(
        &data,
        "UPDATE services SET summary = 'alterato' WHERE id = 2",
    )
    .await;
    assert_eq!(verify(&data).status.code(), Some(2));
    assert_eq!(verify(&to).status.code(), Some(0));
    // It never overwrites.
    let again = palazzo(&[
        "backup",
        "--data-dir",
        data.to_str().unwrap(),
        "--to",
        to.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn serve_refuses_the_demo_sign_in() {
    let dir = TempDir::new("demo-flag");
    let cfg = dir.path().join("palazzo.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = \"{}\"\nlisten = \"127.0.0.1:0\"\ndemo_sign_in = true\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let out = palazzo(&["serve", "--config", cfg.to_str().unwrap()]);
    assert!(!out.status.success(), "serve must refuse to start");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("demo_sign_in"), "{err}");
    // Nothing was created: it refused before opening anything.
    assert!(!dir.path().join("data").join("palazzo.db").exists());
}

#[tokio::test]
async fn admin_create_makes_a_break_glass_account_that_signs_in() {
    use palazzo_domain::totp;
    use palazzo_store::Store;
    let dir = TempDir::new("admin");
    demo(dir.path());
    let create = |username: &str, ente: Option<&str>, password: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_palazzo"));
        c.args([
            "admin",
            "create",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--username",
            username,
            "--name",
            "Anna Verdi",
        ])
        .env("RUST_LOG", "warn")
        .env("PALAZZO_ADMIN_PASSWORD", password)
        .env_remove("PALAZZO_DATABASE_URL");
        if let Some(e) = ente {
            c.args(["--ente", e]);
        }
        c.output().unwrap()
    };
    let out = create(
        "anna.verdi",
        Some("casamassima"),
        "una password lunga e sicura",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    let secret_b32 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("secret: "))
        .expect("the TOTP secret is printed")
        .to_owned();
    assert!(
        text.contains("otpauth://totp/Palazzo:anna.verdi?secret="),
        "{text}"
    );
    // A weak password, a duplicate name and an unknown comune are refused with codes.
    let out = create("mario", None, "corta");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password_too_weak"));
    let out = create("anna.verdi", None, "un'altra password lunga");
    assert!(String::from_utf8_lossy(&out.stderr).contains("admin_username_taken"));
    let out = create("luca", Some("atlantide"), "un'altra password lunga");
    assert!(String::from_utf8_lossy(&out.stderr).contains("tenant_unknown"));

    // The stored account: Argon2id with the DECISIONS 23 parameters, and the
    // printed secret is the stored one.
    let db = Db::open_existing(&format!(
        "sqlite:{}",
        dir.path().join("palazzo.db").display()
    ))
    .await
    .unwrap();
    let admin = db
        .local_admin_by_username("anna.verdi")
        .await
        .unwrap()
        .unwrap();
    assert!(
        admin
            .data
            .password_phc
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    let secret = totp::TotpSecret::parse_base32(&secret_b32).unwrap();
    assert_eq!(secret.as_bytes(), &admin.data.totp_secret[..]);
    assert!(admin.data.tenant.is_some(), "administrator of one comune");
    db.close().await;
}

#[tokio::test]
async fn protocollo_import_registers_good_rows_and_reports_bad_ones() {
    use palazzo_store::Store;
    let dir = TempDir::new("prot-import");
    demo(dir.path());
    let files = dir.path().join("carico");
    std::fs::create_dir_all(files.join("allegati")).unwrap();
    std::fs::write(
        files.join("istanza.pdf"),
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
    )
    .unwrap();
    std::fs::write(files.join("allegati/planimetria.png"), {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&[
            0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
        ]);
        png
    })
    .unwrap();
    std::fs::write(files.join("virus.exe"), b"MZ\x90\0\x03").unwrap();
    let csv = "verso;oggetto;corrispondente;codice_fiscale;email;numero_ricevuto;data_ricevuto;classifica;ufficio;documento;allegati\n\
        E;Richiesta di accesso agli atti;Mario Rossi;RSSMRA80A01H501U;mario@example.it;7/2026;2026-11-20;XI.2;;istanza.pdf;allegati/planimetria.png\n\
        E;Documento sospetto;Ditta X;01234567890;;;;;;virus.exe;\n\
        U;\"Risposta; con punto e virgola\";Giulia Bianchi;;;;;I.8;;istanza.pdf;\n\
        E;Fuori cartella;Anna;;;;;;;../../etc/passwd;\n";
    let path = files.join("carico.csv");
    std::fs::write(&path, csv).unwrap();
    let out = palazzo(&[
        "protocollo",
        "import",
        path.to_str().unwrap(),
        "--ente",
        "casamassima",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("registrata n. 0000001/"), "{text}");
    assert!(text.contains("registrata n. 0000002/"), "{text}");
    assert!(
        text.contains("riga 3 rifiutata (document_type_not_allowed)"),
        "{text}"
    );
    assert!(
        text.contains("riga 5 rifiutata (import_documento)"),
        "{text}"
    );
    assert!(text.contains("2 registrate, 2 rifiutate."), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("4/4"),
        "progress is shown"
    );
    // The stored registrations and documents, and a ledger that verifies.
    let (db, t) = open_comune(dir.path(), "casamassima").await;
    let regs = db
        .registrations_by_id(t.id, palazzo_store::RegistrationId(0), 10)
        .await
        .unwrap();
    assert_eq!(regs.len(), 2);
    assert_eq!(regs[1].data.subject, "Risposta; con punto e virgola");
    assert_eq!(regs[0].data.attachments.len(), 1);
    assert_eq!(regs[0].data.attachments[0].media_type, "image/png");
    let hex = regs[0].data.primary.sha256.hex();
    let stored = dir
        .path()
        .join("documents/sha256")
        .join(&hex[0..2])
        .join(&hex[2..4])
        .join(&hex);
    assert!(stored.exists(), "the original is stored by its fingerprint");
    db.close().await;
    let out = verify(dir.path());
    assert!(out.status.success(), "{}", stdout(&out));
}

#[tokio::test]
async fn registro_giornaliero_is_produced_once_and_only_for_a_day_that_is_over() {
    let dir = TempDir::new("registro-cli");
    demo(dir.path());
    let data = dir.path().to_str().unwrap();
    let today = palazzo_domain::calendar::rome_date(jiff::Timestamp::now());
    let yesterday = today.yesterday().unwrap().to_string();
    let run = |day: &str| {
        palazzo(&[
            "protocollo",
            "registro-giornaliero",
            "--ente",
            "casamassima",
            "--giorno",
            day,
            "--data-dir",
            data,
        ])
    };
    let first = run(&yesterday);
    let text = stdout(&first);
    assert!(
        first.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(text.starts_with("prodotto "), "{text}");
    assert!(text.contains("registro REG_PROT"), "{text}");
    assert!(
        text.contains("PDF sha256 ") && text.contains("XML sha256 "),
        "{text}"
    );
    // Without [tsa] the operator is warned.
    assert!(String::from_utf8_lossy(&first.stderr).contains("nessuna [tsa]"));
    let code = text.split_whitespace().nth(1).unwrap().to_owned();
    assert!(
        code.ends_with(&format!("-{}-001", yesterday.replace('-', ""))),
        "{code}"
    );
    // Again: the same registro, never rewritten.
    let second = run(&yesterday);
    let again = stdout(&second);
    assert!(second.status.success(), "{again}");
    assert!(again.starts_with("già esistente "), "{again}");
    assert!(again.contains(&code), "{again}");
    assert_eq!(
        text.split("PDF sha256 ").nth(1),
        again.split("PDF sha256 ").nth(1),
        "same files"
    );
    // A day that is not over: exit 2 with the stable code.
    let out = run(&today.to_string());
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("registro_giorno_non_concluso"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A date that is not a date: refused, not produced.
    let out = run("2026-02-30");
    assert!(!out.status.success());
    // The installation still verifies.
    let out = verify(dir.path());
    assert!(out.status.success(), "{}", stdout(&out));
}

#[tokio::test]
async fn verify_receipt_accepts_a_receipt_and_refuses_a_tampered_copy() {
    use palazzo_domain::access::{Grant, Principal, Role};
    use palazzo_domain::ids::CodiceFiscale;
    use palazzo_domain::protocollo::{Correspondent, Flow, Impronta};
    use palazzo_services::App;
    use palazzo_services::access::Actor;
    use palazzo_services::keys::KeyStore;
    use palazzo_services::protocollo::RegistrationInput;
    use palazzo_store::DocumentRef;

    let dir = TempDir::new("verify-receipt");
    let data = dir.path().join("installazione");
    std::fs::create_dir_all(&data).unwrap();
    let db = Db::open_sqlite(&data.join("palazzo.db")).await.unwrap();
    let app = App::new(db, KeyStore::new(data.join("keys")))
        .await
        .unwrap();
    let tenant = app
        .create_tenant(palazzo_store::conformance::tenant_fixture(1))
        .await
        .unwrap();
    let desk = Actor {
        user: Some(palazzo_store::UserId(1)),
        admin: None,
        principal: Principal {
            grants: vec![Grant {
                role: Role::Operatore,
                office: None,
            }],
        },
        name: Some("Sportello".into()),
        acr: None,
    };
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    let primary = Impronta::of(b"istanza");
    let reg = app
        .register_protocol(
            tenant.id,
            &desk,
            RegistrationInput {
                register: None,
                flow: Flow::Entrata,
                subject: "Richiesta di accesso agli atti".into(),
                correspondents: vec![Correspondent::person("Mario Rossi", &cf)],
                received_number: None,
                received_date: None,
                primary: DocumentRef {
                    name: "istanza.pdf".into(),
                    media_type: "application/pdf".into(),
                    size: 7,
                    sha256: primary,
                },
                attachments: vec![],
                classification: None,
                office: None,
                emergency: None,
            },
        )
        .await
        .unwrap();
    let receipt = app
        .protocol_receipt(tenant.id, &desk, reg.id)
        .await
        .unwrap();
    app.db().close().await;
    let good = dir.path().join(&receipt.file_name);
    std::fs::write(&good, &receipt.bytes).unwrap();

    // Valid, with the installation's key directory (no database needed).
    let out = palazzo(&[
        "verify-receipt",
        good.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(text.contains("RICEVUTA VALIDA"), "{text}");
    assert!(
        text.contains(&format!("Protocollo n. {}/{}", reg.number, reg.year)),
        "{text}"
    );
    assert!(text.contains(&primary.hex()), "{text}");

    // Valid with an explicit verifier key file.
    let vkey = std::fs::read_dir(data.join("keys").join(tenant.data.slug.as_str()))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("ledger-") && n.ends_with(".vkey"))
        })
        .expect("the ledger verifier key");
    let out = palazzo(&[
        "verify-receipt",
        good.to_str().unwrap(),
        "--key",
        vkey.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // Tampered: the primary document's fingerprint changed everywhere it
    // appears in the file (in the embedded bundle's state, which the ledger
    // leaf commits to).
    let (from, to) = (primary.hex(), Impronta::of(b"altro").hex());
    let mut bytes = receipt.bytes.clone();
    let mut changed = 0;
    while let Some(at) = bytes.windows(from.len()).position(|w| w == from.as_bytes()) {
        bytes[at..at + from.len()].copy_from_slice(to.as_bytes());
        changed += 1;
    }
    assert!(changed > 0, "the bundle holds the fingerprint as text");
    let bad = dir.path().join("ricevuta-alterata.pdf");
    std::fs::write(&bad, &bytes).unwrap();
    let out = palazzo(&[
        "verify-receipt",
        bad.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("RICEVUTA NON VALIDA"), "{text}");
    assert!(text.contains("receipt_state_mismatch"), "{text}");
    assert!(!text.contains("RICEVUTA VALIDA /"), "{text}");
}

/// `palazzo anagrafe import` (issue 5, part 1): the demo's register was
/// loaded through the same import; a stradario and a residents file are
/// merged into it, the refused rows are reported with line, column and
/// code, the progress is shown, and the exit status says rows were refused.
#[tokio::test]
async fn anagrafe_import_merges_and_reports() {
    use palazzo_domain::ids::{CodiceCatastale, CodiceFiscale, Sex};
    use palazzo_store::Store;
    let dir = TempDir::new("anagrafe-import");
    demo(dir.path());
    let data = dir.path().to_str().unwrap();
    let streets = dir.path().join("stradario.csv");
    std::fs::write(
        &streets,
        "codice;denominazione\n0900;Via delle Nuove Case\n0901;\n",
    )
    .unwrap();
    let out = palazzo(&[
        "anagrafe",
        "import",
        streets.to_str().unwrap(),
        "--ente",
        "casamassima",
        "--data-dir",
        data,
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("riga 3, colonna denominazione (denominazione_via)"),
        "{text}"
    );
    assert!(
        text.contains("Stradario: 1 vie salvate, 1 righe rifiutate."),
        "{text}"
    );
    let born = jiff::civil::date(1990, 4, 12);
    let cf = CodiceFiscale::compute(
        "Lops",
        "Teresa",
        born,
        Sex::F,
        &CodiceCatastale::parse("A662").unwrap(),
    );
    let residents = dir.path().join("residenti.csv");
    std::fs::write(
        &residents,
        format!(
            "codice_fiscale;cognome;nome;sesso;data_nascita;luogo_nascita;cittadinanza;stato_civile;famiglia;rapporto;via;civico;cap;dal;al;provenienza\n\
             {cf};Lops;Teresa;F;12/04/1990;A662;IT;libero;N-1;intestatario;Via delle Nuove Case;1;70010;01/09/2026;;A662\n\
             RSSMRA80A01A662X;Rossi;Mario;M;01/01/1980;A662;IT;libero;N-2;intestatario;Via delle Nuove Case;2;70010;01/09/2026;;\n"
        ),
    )
    .unwrap();
    let out = palazzo(&[
        "anagrafe",
        "import",
        residents.to_str().unwrap(),
        "--ente",
        "casamassima",
        "--data-dir",
        data,
    ]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("riga 3, colonna codice_fiscale (codice_fiscale_non_valido)"),
        "{text}"
    );
    assert!(
        text.contains("Residenti: 1 salvati (0 residenze precedenti), 1 righe rifiutate."),
        "{text}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1/1"),
        "progress is shown"
    );
    let (db, t) = open_comune(dir.path(), "casamassima").await;
    let teresa = db.resident(t.id, &cf).await.unwrap().expect("imported");
    assert_eq!(teresa.surname, "Lops");
    let home = db
        .family_address(t.id, teresa.family)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(home.street, "Via delle Nuove Case");
    // The demo's residents came through the same import: a stradario, and
    // residents with marital status and residence dates.
    assert!(db.streets(t.id).await.unwrap().len() > 1);
    let first = db.residents(t.id, 1).await.unwrap().remove(0);
    assert!(first.resident_since.is_some(), "{first:?}");
    db.close().await;
    // An unknown comune, a missing file: errors, not panics.
    let out = palazzo(&[
        "anagrafe",
        "import",
        residents.to_str().unwrap(),
        "--ente",
        "nessuno",
        "--data-dir",
        data,
    ]);
    assert!(!out.status.success());
    let out = palazzo(&[
        "anagrafe",
        "import",
        "/nonexistent.csv",
        "--ente",
        "casamassima",
        "--data-dir",
        data,
    ]);
    assert!(!out.status.success());
}

/// `palazzo keys list|rotate` (issue 5, part 4): the comune's seal keys
/// with their periods; a rotation retires the old key; the installation
/// still verifies.
#[test]
fn keys_rotate_retires_the_old_seal_key() {
    let dir = TempDir::new("keys-rotate");
    demo(dir.path());
    let data = dir.path().to_str().unwrap();
    let list = || palazzo(&["keys", "list", "--ente", "casamassima", "--data-dir", data]);
    let out = list();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("1  kid ") && text.contains("(in uso)"),
        "{text}"
    );
    let kid1 = text.split_whitespace().nth(2).unwrap().to_owned();
    let out = palazzo(&[
        "keys",
        "rotate",
        "--ente",
        "casamassima",
        "--data-dir",
        data,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout(&out).contains("Nuova chiave del sigillo n. 2"),
        "{}",
        stdout(&out)
    );
    let text = stdout(&list());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains(&kid1) && lines[0].contains(" al "),
        "{text}"
    );
    assert!(
        lines[1].starts_with("2  kid ") && lines[1].contains("(in uso)"),
        "{text}"
    );
    assert!(!lines[1].contains(&kid1));
    let key = dir.path().join("keys/casamassima/pz1-2.pk8");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(verify(dir.path()).status.success());
    let out = palazzo(&["keys", "rotate", "--ente", "nessuno", "--data-dir", data]);
    assert!(!out.status.success());
}
