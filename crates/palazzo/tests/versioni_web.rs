//! Document versions (SYS-3) and Allegato 5 metadata (PR-11) over HTTP and
//! the command line, on both backends: the registration page shows each
//! document's Allegato 2 format with "non conservabile" (PR-12), the upload
//! form of a new version (multipart, CSRF token in the action URL) and the
//! version list with downloads; the JSON API lists, adds (201) and serves
//! versions and the metadata XML (validated by xmlschema against
//! docs/documento-amministrativo-informatico.xsd); refusals carry their
//! codes; the segretario reads but cannot add; visitors are sent to sign in
//! or get 401; `palazzo protocollo metadati` prints the XML and, with
//! `--out`, writes the document and the XML with their `.hash` sidecars.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use palazzo_domain::protocollo::Impronta;
use palazzo_store::Store;
use palazzo_testkit::browser::Part;
use palazzo_testkit::{Backend, Browser, CASAMASSIMA, Page, TempDir, TestApp};
use serde_json::{Value, json};

/// A PDF/A-2b (identified by its XMP), ASCII only.
fn pdfa(text: &str) -> Vec<u8> {
    format!(
        "%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n\
         2 0 obj\n<< /Type /Metadata /Subtype /XML >>\nstream\n\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF><rdf:Description \
         xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"><pdfaid:part>2</pdfaid:part>\
         <pdfaid:conformance>B</pdfaid:conformance></rdf:Description></rdf:RDF></x:xmpmeta>\n\
         endstream\nendobj\n% {text}\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

/// A plain PDF: not conservabile (PR-12).
const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
/// An ELF executable header: never an allowed type.
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00";

fn json_of(p: &Page) -> Value {
    serde_json::from_str(&p.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", p.body))
}

fn xsd_valid(dir: &std::path::Path, name: &str, xml: &str) {
    let xsd = palazzo_testkit::pki::repo().join("docs/documento-amministrativo-informatico.xsd");
    let f = dir.join(name);
    std::fs::write(&f, xml).unwrap();
    let (ok, out) = palazzo_testkit::pki::segnatura_check(&[
        "validate",
        f.to_str().unwrap(),
        "--xsd",
        xsd.to_str().unwrap(),
    ]);
    assert!(ok, "{name}: {out}\n{xml}");
}

fn palazzo(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_palazzo"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let tmp = TempDir::new("versioni-web");
    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let token = op.api_key("gestionale").await;
    let auth = format!("Bearer {token}");
    let mut prog = Browser::new(&app, CASAMASSIMA);

    // Register over the API: a PDF/A primary and a plain-PDF attachment.
    let original = pdfa("originale");
    let dati = json!({
        "flow": "E",
        "subject": "Istanza di occupazione di suolo pubblico",
        "correspondents": [{"name": "Maria Bianchi", "fiscal_code": "BNCMRA85M41A662W"}],
        "classification": "VI.3",
    })
    .to_string();
    let r = prog
        .post_multipart(
            "/api/v1/protocollo",
            &[
                Part::Text("dati", &dati),
                Part::File("documento", "istanza.pdf", &original),
                Part::File("allegati", "planimetria.pdf", PDF),
            ],
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let reg = json_of(&r);
    let id = reg["id"].as_i64().unwrap();
    let entry = format!("/backoffice/protocollo/{id}");

    // The page: formats, "non conservabile" for the plain PDF (PR-12),
    // metadata links and the new-version forms.
    let page = op.get(&entry).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("PDF/A-2b"), "{}", page.body);
    assert_eq!(
        page.body
            .matches("data-element=\"non-conservabile\"")
            .count(),
        1,
        "only the plain PDF"
    );
    assert!(
        page.body
            .contains(&format!("{entry}/documenti/0/metadati.xml"))
    );
    assert!(page.body.contains("Carica una nuova versione"));
    let action = page
        .body
        .split("action=\"")
        .find(|s| s.starts_with(&format!("{entry}/documenti/0/versioni?csrf=")))
        .and_then(|s| s.split('"').next())
        .expect("the upload form of the primary document")
        .to_owned();

    // The form: without the token refused; bad kind and bad file refused
    // with the page and the code; then version 2.
    let v2 = pdfa("seconda versione");
    let parts = |kind: &'static str, file: &'static [u8]| {
        vec![
            Part::Text("tipo", kind),
            Part::Text("motivo", "Corretta la data di inizio"),
            Part::File("documento", "istanza-v2.pdf", file),
        ]
    };
    let leaked: &'static [u8] = Box::leak(v2.clone().into_boxed_slice());
    let r = op
        .post_multipart(
            &format!("{entry}/documenti/0/versioni"),
            &parts("rettifica", leaked),
            &[],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("csrf_invalid"));
    let r = op
        .post_multipart(&action, &parts("cancellazione", leaked), &[])
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("versione_tipo"), "{}", r.body);
    let r = op
        .post_multipart(&action, &parts("rettifica", ELF), &[])
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("document_type_not_allowed"), "{}", r.body);
    let r = op
        .post_multipart(&action, &parts("rettifica", leaked), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let back = r.location().unwrap().to_owned();
    assert!(
        back.starts_with(&format!("{entry}?esito=versione")),
        "{back}"
    );
    let page = op.get(back.split('#').next().unwrap()).await;
    assert!(
        page.body
            .contains("Nuova versione del documento registrata")
    );
    assert!(page.body.contains("data-element=\"versioni-0\""));
    assert!(page.body.contains("Corretta la data di inizio"));
    assert!(page.body.contains("Rettifica"));
    assert!(page.body.contains(&Impronta::of(&v2).hex()));
    assert!(
        page.body.contains(&Impronta::of(&original).hex()),
        "the registered impronta stays"
    );
    // Both versions download from the page, byte for byte.
    for (v, bytes) in [(1, &original), (2, &v2)] {
        let r = op.get(&format!("{entry}/documenti/0/versioni/{v}")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body.as_bytes(), bytes.as_slice(), "version {v}");
        assert_eq!(r.headers["cache-control"], "private, no-store");
    }
    assert_eq!(
        op.get(&format!("{entry}/documenti/0/versioni/3"))
            .await
            .status,
        404
    );
    // The original download is still the registered original.
    let r = op.get(&format!("{entry}/documenti/0")).await;
    assert_eq!(r.body.as_bytes(), original.as_slice());

    // The API: list, add (attachment), download, metadata.
    let get = |path: String| {
        let auth = auth.clone();
        let mut b = Browser::new(&app, CASAMASSIMA);
        async move {
            b.request(
                reqwest::Method::GET,
                &path,
                &[("authorization", auth.as_str())],
                Vec::new(),
            )
            .await
        }
    };
    let api = format!("/api/v1/protocollo/voci/{id}/documenti");
    let r = get(format!("{api}/0/versioni")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = json_of(&r);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["version"], 1);
    assert_eq!(list[0]["kind"], Value::Null);
    assert_eq!(list[0]["sha256"], Impronta::of(&original).hex());
    assert_eq!(list[1]["kind"], "Rettifica");
    assert_eq!(list[1]["previous_sha256"], Impronta::of(&original).hex());
    let a2 = pdfa("planimetria corretta");
    let r = prog
        .post_multipart(
            &format!("{api}/1/versioni"),
            &[
                Part::Text("tipo", "integrazione"),
                Part::Text("motivo", "Aggiunte le quote"),
                Part::File("documento", "planimetria-v2.pdf", &a2),
            ],
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = json_of(&r);
    assert_eq!(
        (v["document"].as_u64(), v["version"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(v["kind"], "Integrazione");
    // Refusals over the API: same content, no reason, no such document, no file.
    for (n, fields, file, code) in [
        (
            1,
            ("integrazione", "Di nuovo"),
            Some(&a2[..]),
            "versione_identica",
        ),
        (
            0,
            ("annotazione", ""),
            Some(&b"%PDF-1.4\n%%EOF\n"[..]),
            "versione_motivo_mancante",
        ),
        (
            7,
            ("annotazione", "x"),
            Some(&b"%PDF-1.5\n%%EOF\n"[..]),
            "versione_documento_inesistente",
        ),
        (0, ("annotazione", "x"), None, "versione_file"),
    ] {
        let mut p = vec![Part::Text("tipo", fields.0), Part::Text("motivo", fields.1)];
        if let Some(f) = file {
            p.push(Part::File("documento", "x.pdf", f));
        }
        let r = prog
            .post_multipart(
                &format!("{api}/{n}/versioni"),
                &p,
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(r.status, 422, "{code}: {}", r.body);
        assert_eq!(json_of(&r)["error"], code);
    }
    let r = get(format!("{api}/1/versioni/2")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_bytes(), a2.as_slice());
    assert_eq!(get(format!("{api}/1/versioni/9")).await.status, 404);
    assert_eq!(get(format!("{api}/5/versioni")).await.status, 404);
    // Metadata of the current version of the primary (2) and of version 1.
    let r = get(format!("{api}/0/metadati")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    assert_eq!(r.headers["cache-control"], "private, no-store");
    assert!(
        r.body
            .contains("<VersioneDelDocumento>2</VersioneDelDocumento>")
    );
    assert!(r.body.contains("<TipoModifica>Rettifica</TipoModifica>"));
    xsd_valid(tmp.path(), "api-v2.xml", &r.body);
    let r = get(format!("{api}/0/metadati?versione=1")).await;
    assert!(
        r.body
            .contains("<VersioneDelDocumento>1</VersioneDelDocumento>")
    );
    assert!(!r.body.contains("TracciatureModificheDocumento"));
    xsd_valid(tmp.path(), "api-v1.xml", &r.body);
    let r = get(format!("{api}/0/metadati?versione=abc")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(json_of(&r)["error"], "versione_non_valida");
    assert_eq!(
        get(format!("{api}/0/metadati?versione=9")).await.status,
        404
    );
    // The same metadata from the page.
    let r = op.get(&format!("{entry}/documenti/1/metadati.xml")).await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("<Formato>PDF/A-2b</Formato>"),
        "version 2 of the attachment"
    );
    assert!(r.body.contains("<TipoModifica>Integrazione</TipoModifica>"));
    xsd_valid(tmp.path(), "page-allegato.xml", &r.body);

    // The segretario reads but does not add versions; the form is not shown.
    let mut seg = Browser::new(&app, CASAMASSIMA);
    seg.demo_sign_in("segretario").await;
    let page = seg.get(&entry).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Carica una nuova versione"));
    assert_eq!(
        seg.get(&format!("{entry}/documenti/0/versioni/2"))
            .await
            .status,
        200
    );
    let csrf = page.csrf().unwrap();
    let r = seg
        .post_multipart(
            &format!("{entry}/documenti/0/versioni?csrf={csrf}"),
            &parts("annotazione", leaked),
            &[],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // Visitors: sign in, or 401.
    let mut visitor = Browser::new(&app, CASAMASSIMA);
    let r = visitor
        .get(&format!("{entry}/documenti/0/versioni/1"))
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(visitor.get(&format!("{api}/0/metadati")).await.status, 401);

    // The command line: the XML on stdout; with --out the files and sidecars.
    let dir = tmp.path().join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let config = tmp.path().join("palazzo.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\ndatabase_url = {:?}\n",
            app.data_dir.path().to_str().unwrap(),
            app.database_url()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let (year, number) = (
        reg["year"].as_i64().unwrap().to_string(),
        reg["number"]
            .as_str()
            .unwrap()
            .trim_start_matches('0')
            .to_owned(),
    );
    let base = [
        "protocollo",
        "metadati",
        "--ente",
        "casamassima",
        "--config",
        cfg,
    ];
    let mut args = base.to_vec();
    args.extend(["--anno", &year, "--numero", &number]);
    let out = palazzo(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("<VersioneDelDocumento>2</VersioneDelDocumento>"));
    xsd_valid(tmp.path(), "cli.xml", &stdout);
    let out_dir = dir.to_str().unwrap();
    let mut with_out = args.clone();
    with_out.extend(["--versione", "1", "--out", out_dir]);
    let out = palazzo(&with_out);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = std::fs::read(dir.join("istanza.pdf")).unwrap();
    assert_eq!(copy, original);
    let sidecar = std::fs::read(dir.join("istanza.pdf.hash")).unwrap();
    assert_eq!(sidecar, Impronta::of(&original).hex().into_bytes(), "PR-13");
    assert_eq!(sidecar.len(), 64);
    let meta_name = format!(
        "metadati-REG_PROT-{year}-{}-0-v1.xml",
        reg["number"].as_str().unwrap()
    );
    let meta = std::fs::read(dir.join(&meta_name)).unwrap();
    let meta_hash = std::fs::read(dir.join(format!("{meta_name}.hash"))).unwrap();
    assert_eq!(meta_hash, Impronta::of(&meta).hex().into_bytes());
    xsd_valid(tmp.path(), "cli-v1.xml", &String::from_utf8(meta).unwrap());
    // A missing version: exit 2.
    let mut missing = args.clone();
    missing.extend(["--versione", "9"]);
    assert_eq!(palazzo(&missing).status.code(), Some(2));

    // Every version was ledgered once.
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let events = app.app.db().ledger_events(t.id, 0, 100_000).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == "protocollo.versione")
            .count(),
        2
    );
    app.stop().await;
}

#[tokio::test]
async fn versions_and_metadata_over_http_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn versions_and_metadata_over_http_postgres() {
    run(Backend::Postgres).await
}
