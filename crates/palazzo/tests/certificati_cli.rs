//! `palazzo certificates …` and `palazzo verify-certificate` end to end on
//! a demo installation: a certificate issued at the desk verifies offline
//! from the exported cache and online; revoked, it is `revoked` once the
//! cache is exported again; a PDF whose embedded record was changed is
//! `altered`; a certificate in bollo is released only with its marca; a
//! trust list checked with another comune's key is refused; bad input
//! exits 2 with an Italian message; the ledger still verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Output;

use palazzo_services::db::Db;
use palazzo_testkit::{cli, cli::text};

fn palazzo(args: &[&str]) -> Output {
    cli::run(env!("CARGO_BIN_EXE_palazzo"), args)
}

/// The value after `label` on its line of the output.
fn field(o: &Output, label: &str) -> String {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} in {}", text(o)))
        .trim()
        .to_owned()
}

/// The first resident of the demo's comune.
async fn resident(dir: &Path, slug: &str) -> (String, String) {
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
    let p = db.residents(t.id, 1).await.unwrap().remove(0);
    db.close().await;
    (p.codice_fiscale.as_str().to_owned(), p.surname)
}

/// The offset and length of the stream after the first `marker`.
fn stream_after(pdf: &[u8], marker: &[u8]) -> (usize, usize) {
    let at = pdf
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("marker");
    let start = at
        + pdf[at..]
            .windows(7)
            .position(|w| w == b"stream\n")
            .expect("stream")
        + 7;
    let len = pdf[start..]
        .windows(10)
        .position(|w| w == b"\nendstream")
        .expect("endstream");
    (start, len)
}

#[tokio::test]
async fn certificates_from_the_command_line_and_offline_verification() {
    let demo = cli::DemoInstallation::new(env!("CARGO_BIN_EXE_palazzo"), "certificati-cli", 60);
    let dir = &demo.dir;
    let (cf, surname) = resident(dir.path(), "casamassima").await;
    let with = |args: &[&str]| demo.run(args);
    let path = |name: &str| demo.path(name);

    // An exempt certificate: issued and written at once.
    let pdf = path("residenza.pdf");
    let out = with(&[
        "certificates",
        "issue",
        "--cf",
        &cf,
        "--tipo",
        "residenza",
        "--uso",
        "scuola",
        "--out",
        &pdf,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let cti = field(&out, "Identificativo (cti):");
    assert_eq!(cti.len(), 22, "{}", text(&out));
    assert!(text(&out).contains("Bollo: esente"), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("/verifica/{cti}")),
        "{}",
        text(&out)
    );
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));

    // The offline verifier's cache, and the verification.
    let cache = path("cache");
    let out = with(&["certificates", "export", "--dir", &cache]);
    assert!(out.status.success(), "{}", text(&out));
    let year = jiff::Zoned::now()
        .with_time_zone(palazzo_domain::calendar::rome_time_zone())
        .year();
    for f in [
        "trust-list.cbor".to_owned(),
        "trust-list-key.pem".to_owned(),
        format!("status-list-{year}.cbor"),
        "sigillo.pem".to_owned(),
    ] {
        assert!(Path::new(&cache).join(&f).exists(), "{f}");
    }
    let verify = |file: &str, extra: &[&str]| -> Output {
        let mut all = vec!["verify-certificate", file];
        all.extend_from_slice(extra);
        palazzo(&all)
    };
    let out = verify(&pdf, &["--cache", &cache]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let shown = text(&out);
    assert!(shown.contains("Esito: valid — Valido"), "{shown}");
    assert!(
        shown.contains(&format!("Identificativo (cti): {cti}")),
        "{shown}"
    );
    assert!(shown.contains(&surname), "{shown}");
    assert!(shown.contains(&cf), "{shown}");
    assert!(
        shown.contains("Dati incorporati nel PDF: corrispondono al contrassegno"),
        "{shown}"
    );
    assert!(
        shown.contains("Revoca: controllata con la lista di stato"),
        "{shown}"
    );
    // The file's PAdES seal, against the seal's CA from the cache.
    assert!(
        shown.contains("Sigillo del file (PAdES): valido"),
        "{shown}"
    );
    let out = with(&["certificates", "status", &cti]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("Esito: valid — Valido"),
        "{}",
        text(&out)
    );

    // The code's text, as a scanner app gives it.
    let bytes = std::fs::read(&pdf).unwrap();
    let (start, len) = stream_after(&bytes, b"/Subtype /text#2Fplain");
    let code = path("codice.txt");
    std::fs::write(&code, &bytes[start..start + len]).unwrap();
    assert!(std::fs::read_to_string(&code).unwrap().starts_with("PZ1:"));
    let out = verify(&code, &["--text", "--cache", &cache]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The same files named one by one.
    let out = verify(
        &pdf,
        &[
            "--trust-list",
            &format!("{cache}/trust-list.cbor"),
            "--list-key",
            &format!("{cache}/trust-list-key.pem"),
            "--status-list",
            &format!("{cache}/status-list-{year}.cbor"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Without the CA the file seal is intact but its signer unknown: the
    // verdict is the contrassegno's.
    assert!(
        text(&out).contains("Sigillo del file (PAdES): non_riconosciuto"),
        "{}",
        text(&out)
    );
    // A byte outside the record (the XMP's creator tool) changed: only
    // the PAdES seal sees it, and the file is altered.
    let at = bytes.windows(9).position(|w| w == b"Palazzo</").unwrap();
    let mut xmp = bytes.clone();
    xmp[at + 6] = b'0';
    let bad = path("xmp.pdf");
    std::fs::write(&bad, &xmp).unwrap();
    let out = verify(&bad, &["--cache", &cache]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("Esito: altered") && text(&out).contains("non_valido"),
        "{}",
        text(&out)
    );

    // One byte of the embedded record changed: altered.
    let mut altered = bytes.clone();
    let (start, len) = stream_after(&altered, b"/Subtype /application#2Fcbor");
    altered[start + len / 2] ^= 0x01;
    let bad = path("alterato.pdf");
    std::fs::write(&bad, &altered).unwrap();
    let out = verify(&bad, &["--cache", &cache]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("Esito: altered — Alterato o non autentico"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("NON corrispondono"), "{}", text(&out));

    // Another comune's key does not verify this trust list: refused.
    let other = path("other-cache");
    let out = palazzo(&[
        "certificates",
        "export",
        "--dir",
        &other,
        "--ente",
        "acquaviva",
        "--data-dir",
        &demo.data,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = verify(
        &pdf,
        &[
            "--trust-list",
            &format!("{cache}/trust-list.cbor"),
            "--list-key",
            &format!("{other}/trust-list-key.pem"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("lista_fiducia_non_valida"),
        "{}",
        text(&out)
    );
    // Acquaviva's own list does not vouch for Casamassima's key.
    let out = verify(&pdf, &["--cache", &other]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("Esito: unknown_key"), "{}", text(&out));

    // Revoked: the online status at once, offline once re-exported.
    let out = with(&[
        "certificates",
        "revoke",
        &cti,
        "--motivo",
        "Rilasciato per errore",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = with(&["certificates", "status", &cti]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("Esito: revoked — Revocato"),
        "{}",
        text(&out)
    );
    let out = with(&["certificates", "revoke", &cti, "--motivo", "Di nuovo"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("gia_revocato"), "{}", text(&out));
    let out = with(&["certificates", "export", "--dir", &cache]);
    assert!(out.status.success(), "{}", text(&out));
    let out = verify(&pdf, &["--cache", &cache]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("Esito: revoked — Revocato"),
        "{}",
        text(&out)
    );

    // In bollo: not written until the marca is recorded.
    let bollo_pdf = path("stato-famiglia.pdf");
    let out = with(&[
        "certificates",
        "issue",
        "--cf",
        &cf,
        "--tipo",
        "stato_famiglia",
        "--uso",
        "bollo",
        "--out",
        &bollo_pdf,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Bollo: da assolvere"), "{}", text(&out));
    assert!(!Path::new(&bollo_pdf).exists());
    let bollo_cti = field(&out, "Identificativo (cti):");
    let out = with(&[
        "certificates",
        "bollo",
        &bollo_cti,
        "--marca",
        "123",
        "--out",
        &bollo_pdf,
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("marca_non_valida"), "{}", text(&out));
    assert!(!Path::new(&bollo_pdf).exists());
    let out = with(&[
        "certificates",
        "bollo",
        &bollo_cti,
        "--marca",
        "01234567890123",
        "--out",
        &bollo_pdf,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("assolto (marca 01234567890123)"),
        "{}",
        text(&out)
    );
    let out = verify(&bollo_pdf, &["--cache", &cache]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let out = with(&["certificates", "list", "--cf", &cf]);
    assert!(out.status.success(), "{}", text(&out));
    let listed = text(&out);
    assert!(
        listed.contains(&cti) && listed.contains(&bollo_cti),
        "{listed}"
    );
    assert!(listed.contains("revocato il"), "{listed}");
    assert!(
        listed.contains("assolto (marca 01234567890123)"),
        "{listed}"
    );

    // Bad input: exit status 2 and an Italian message.
    for (args, message) in [
        (
            vec![
                "certificates",
                "issue",
                "--cf",
                &cf,
                "--tipo",
                "passaporto",
                "--uso",
                "scuola",
            ],
            "tipo di certificato sconosciuto",
        ),
        (
            vec![
                "certificates",
                "issue",
                "--cf",
                &cf,
                "--tipo",
                "residenza",
                "--uso",
                "svago",
            ],
            "uso sconosciuto",
        ),
        (
            vec![
                "certificates",
                "issue",
                "--cf",
                "RSSMRA80A01",
                "--tipo",
                "residenza",
                "--uso",
                "bollo",
            ],
            "codice fiscale non valido",
        ),
        (
            vec!["certificates", "status", "non-un-id"],
            "identificativo del certificato non valido",
        ),
    ] {
        let out = with(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(message), "{args:?}: {}", text(&out));
    }
    let out = verify(&pdf, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("lista di fiducia"), "{}", text(&out));
    let out = verify(&code, &["--cache", &cache]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "not a PDF or image: {}",
        text(&out)
    );

    let out = palazzo(&["verify", "--data-dir", &demo.data]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("OK: every ledger"), "{}", text(&out));
}
