//! The content of signed `.p7m` documents over HTTP, on both backends
//! (issue 4 part 2: "a signed `.p7m` keeps its envelope and its content is
//! extracted for display"): real CAdES envelopes made with `openssl cms
//! -sign -cades` are registered over the API; the back office and the JSON
//! API serve the innermost content, bit for bit the signed original (also
//! of a `.p7m.p7m`), with the type detected from it, inline only for what a
//! browser shows safely (PDF; XML as plain text), as an attachment
//! otherwise, with nosniff and the CSP; the envelope is still downloaded
//! unchanged with its registered impronta; the registration page links each
//! `.p7m` (and a `.p7m` version) next to its signature outcome; a document
//! that is not a `.p7m` is a 422 with `documento_non_firmato`, a damaged
//! envelope a 422 with `document_p7m_invalid` (never a 5xx); the same
//! access as the download: sign-in, roles, another comune (404, and its
//! key is refused), a fascicolo riservato (TI-6) changes nothing for the
//! register.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::protocollo::{Correspondent, Flow, Impronta};
use palazzo_services::access::Actor;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_store::{DocumentRef, RegistrationId, UserId};
use palazzo_testkit::browser::Part;
use palazzo_testkit::pki::{openssl, pki};
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TempDir, TestApp};
use serde_json::{Value, json};

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
const XML: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<delibera><oggetto>Bilancio</oggetto></delibera>\n";
/// A TIFF header: allowed, but no browser shows it (an attachment).
const TIFF: &[u8] = b"II*\0\x08\0\0\0\0\0\0\0scansione";

fn json_of(p: &Page) -> Value {
    serde_json::from_str(&p.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", p.body))
}

fn header<'a>(p: &'a Page, name: &str) -> &'a str {
    p.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// `openssl cms -sign -cades` of `input` into `output` (DER, attached).
fn sign(dir: &Path, input: &str, output: &str) -> Vec<u8> {
    openssl(
        dir,
        &[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-cades",
            "-md",
            "sha256",
            "-in",
            input,
            "-signer",
            "firma.crt",
            "-inkey",
            "firma.key",
            "-outform",
            "DER",
            "-out",
            output,
        ],
    );
    std::fs::read(dir.join(output)).unwrap()
}

/// The bytes of a GET on the Casamassima host (the test browser keeps text
/// only), with the browser's cookies and an optional `Authorization`.
async fn raw(app: &TestApp, b: &Browser, path: &str, auth: Option<&str>) -> (u16, Vec<u8>) {
    let mut req = app.client().get(app.url(CASAMASSIMA, path));
    if !b.cookies.is_empty() {
        let jar: Vec<String> = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        req = req.header("cookie", jar.join("; "));
    }
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

async fn api_get(b: &mut Browser, path: &str, auth: &str) -> Page {
    b.request(
        reqwest::Method::GET,
        &format!("/api/v1{path}"),
        &[("authorization", auth)],
        Vec::new(),
    )
    .await
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let tmp = TempDir::new("contenuto-firmato");
    let d = tmp.path();
    pki(d, "firma", "ec");
    std::fs::write(d.join("atto.pdf"), PDF).unwrap();
    std::fs::write(d.join("delibera.xml"), XML).unwrap();
    std::fs::write(d.join("scansione.tif"), TIFF).unwrap();
    let p7m = sign(d, "atto.pdf", "atto.pdf.p7m");
    let twice = sign(d, "atto.pdf.p7m", "atto.pdf.p7m.p7m");
    let xml_p7m = sign(d, "delibera.xml", "delibera.xml.p7m");
    let tif_p7m = sign(d, "scansione.tif", "scansione.tif.p7m");
    assert_ne!(twice, p7m);

    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let token = op.api_key("gestionale").await;
    let auth = format!("Bearer {token}");
    let mut prog = Browser::new(&app, CASAMASSIMA);

    // Registered over the API: a signed PDF as primary; a .p7m.p7m, a
    // signed XML, a signed TIFF and an unsigned PDF as attachments.
    let dati = json!({
        "flow": "E",
        "subject": "Delibera firmata digitalmente",
        "correspondents": [{"name": "Maria Bianchi", "fiscal_code": "BNCMRA85M41A662W"}],
        "classification": "VI.3",
    })
    .to_string();
    let r = prog
        .post_multipart(
            "/api/v1/protocollo",
            &[
                Part::Text("dati", &dati),
                Part::File("documento", "atto.pdf.p7m", &p7m),
                Part::File("allegati", "atto.pdf.p7m.p7m", &twice),
                Part::File("allegati", "delibera.xml.p7m", &xml_p7m),
                Part::File("allegati", "scansione.tif.p7m", &tif_p7m),
                Part::File("allegati", "planimetria.pdf", PDF),
            ],
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let reg = json_of(&r);
    let id = reg["id"].as_i64().unwrap();
    let entry = json_of(&api_get(&mut prog, &format!("/protocollo/voci/{id}"), &auth).await);
    assert_eq!(
        entry["registration"]["primary"]["sha256"],
        Impronta::of(&p7m).hex(),
        "{entry}"
    );

    // The API: the innermost content, bit for bit, with its type.
    for (n, envelope, original, content_type, inline, name) in [
        (0, &p7m, PDF, "application/pdf", true, "atto.pdf"),
        (1, &twice, PDF, "application/pdf", true, "atto.pdf"),
        (
            2,
            &xml_p7m,
            XML,
            "text/plain; charset=utf-8",
            true,
            "delibera.xml",
        ),
        (3, &tif_p7m, TIFF, "image/tiff", false, "scansione.tif"),
    ] {
        let path = format!("/protocollo/voci/{id}/documenti/{n}/contenuto");
        let r = api_get(&mut prog, &path, &auth).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let (status, bytes) = raw(&app, &prog, &format!("/api/v1{path}"), Some(&auth)).await;
        assert_eq!(status, 200);
        assert_eq!(bytes, original, "{path}: the signed original");
        assert_eq!(header(&r, "content-type"), content_type, "{path}");
        let disposition = header(&r, "content-disposition");
        let expected = if inline { "inline;" } else { "attachment;" };
        assert!(disposition.starts_with(expected), "{path}: {disposition}");
        assert!(
            disposition.contains(&format!("filename=\"{name}\"")),
            "{disposition}"
        );
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
        assert!(
            header(&r, "content-security-policy").contains("default-src 'self'"),
            "{path}: the project's CSP"
        );
        assert_eq!(header(&r, "cache-control"), "private, no-store");
        assert_eq!(
            header(&r, "x-palazzo-impronta-busta"),
            Impronta::of(envelope).hex()
        );
        // The envelope is still the registered original, downloaded as before.
        let (status, env) = raw(
            &app,
            &prog,
            &format!("/api/v1/protocollo/voci/{id}/documenti/{n}"),
            Some(&auth),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(&env, envelope, "{path}: the envelope is unchanged");
    }
    assert_eq!(
        header(
            &api_get(
                &mut prog,
                &format!("/protocollo/voci/{id}/documenti/2/contenuto"),
                &auth
            )
            .await,
            "x-palazzo-tipo-rilevato"
        ),
        "application/xml"
    );

    // Not a .p7m: a clear 422 with a stable code, API and page.
    let r = api_get(
        &mut prog,
        &format!("/protocollo/voci/{id}/documenti/4/contenuto"),
        &auth,
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(json_of(&r)["error"], "documento_non_firmato");
    assert!(
        json_of(&r)["message"]
            .as_str()
            .unwrap()
            .contains("planimetria.pdf")
    );
    let page = op
        .get(&format!(
            "/backoffice/protocollo/{id}/documenti/4/contenuto"
        ))
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("documento_non_firmato"), "{}", page.body);
    assert!(page.body.contains("non è un file firmato"), "{}", page.body);
    // No such document or version: 404.
    for path in [
        format!("/protocollo/voci/{id}/documenti/9/contenuto"),
        format!("/protocollo/voci/{id}/documenti/0/versioni/2/contenuto"),
        format!("/protocollo/voci/{id}/documenti/x/contenuto"),
        "/protocollo/voci/999999/documenti/0/contenuto".to_owned(),
    ] {
        assert_eq!(api_get(&mut prog, &path, &auth).await.status, 404, "{path}");
    }

    // The registration page: a link next to each .p7m, none for the plain
    // PDF, each with its signature outcome (the test CA is not trusted).
    let entry_path = format!("/backoffice/protocollo/{id}");
    let page = op.get(&entry_path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.body
            .matches("data-element=\"contenuto-firmato\"")
            .count(),
        4,
        "{}",
        page.body
    );
    assert!(page.body.contains("Visualizza contenuto firmato"));
    for n in 0..4 {
        assert!(
            page.body
                .contains(&format!("{entry_path}/documenti/{n}/contenuto")),
            "{n}"
        );
    }
    assert!(
        !page
            .body
            .contains(&format!("{entry_path}/documenti/4/contenuto"))
    );
    assert!(
        page.body.contains("data-esito-firma=\"non_attendibile\""),
        "{}",
        page.body
    );
    // Trusted now: the outcome next to the link says so.
    app.app
        .add_trust_anchors(
            &t.data.slug,
            &std::fs::read_to_string(d.join("firma-ca.crt")).unwrap(),
        )
        .unwrap();
    let page = op.get(&entry_path).await;
    assert_eq!(
        page.body.matches("data-esito-firma=\"valida\"").count(),
        4,
        "{}",
        page.body
    );
    // The page's link serves the same bytes.
    let shown = op.get(&format!("{entry_path}/documenti/1/contenuto")).await;
    assert_eq!(shown.status, 200);
    assert_eq!(
        raw(
            &app,
            &op,
            &format!("{entry_path}/documenti/1/contenuto"),
            None
        )
        .await,
        (200, PDF.to_vec())
    );
    assert!(header(&shown, "content-disposition").starts_with("inline;"));
    assert_eq!(header(&shown, "x-content-type-options"), "nosniff");
    assert!(header(&shown, "content-security-policy").contains("object-src 'none'"));

    // A new version of the unsigned attachment that is a .p7m: its content
    // is offered too (version 2); version 1 is still not signed.
    let r = prog
        .post_multipart(
            &format!("/api/v1/protocollo/voci/{id}/documenti/4/versioni"),
            &[
                Part::Text("tipo", "rettifica"),
                Part::Text("motivo", "Planimetria firmata"),
                Part::File("documento", "atto.pdf.p7m", &p7m),
            ],
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v2 = format!("/protocollo/voci/{id}/documenti/4/versioni/2/contenuto");
    assert_eq!(
        raw(&app, &prog, &format!("/api/v1{v2}"), Some(&auth)).await,
        (200, PDF.to_vec())
    );
    let r = api_get(
        &mut prog,
        &format!("/protocollo/voci/{id}/documenti/4/versioni/1/contenuto"),
        &auth,
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(json_of(&r)["error"], "documento_non_firmato");
    let page = op.get(&entry_path).await;
    let link = format!("{entry_path}/documenti/4/versioni/2/contenuto");
    assert!(page.body.contains(&link), "{}", page.body);
    assert_eq!(raw(&app, &op, &link, None).await, (200, PDF.to_vec()));
    // The registered impronta did not change.
    let entry = json_of(&api_get(&mut prog, &format!("/protocollo/voci/{id}"), &auth).await);
    assert_eq!(
        entry["registration"]["primary"]["sha256"],
        Impronta::of(&p7m).hex()
    );

    // A damaged envelope (written to the store past the upload checks, as a
    // disk or an old import could leave it): 422, never a 5xx; the page
    // still opens and the envelope still downloads.
    let desk = Actor {
        user: Some(UserId(1)),
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
    let truncated = p7m[..p7m.len() / 2].to_vec();
    let mut garbled = p7m.clone();
    garbled[..16].copy_from_slice(b"not an envelope!");
    let mut damaged = Vec::new();
    for (name, bytes) in [("rotto.pdf.p7m", &truncated), ("illeggibile.p7m", &garbled)] {
        let sha256 = Impronta::of(bytes);
        let path = app.app.documents().path_of(&sha256);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
        let reg = app
            .app
            .register_protocol(
                t.id,
                &desk,
                RegistrationInput {
                    register: None,
                    flow: Flow::Entrata,
                    subject: format!("Busta danneggiata {name}"),
                    correspondents: vec![Correspondent::person("Mario Rossi", &cf)],
                    received_number: None,
                    received_date: None,
                    primary: DocumentRef {
                        name: name.into(),
                        media_type: "application/pkcs7-mime".into(),
                        size: bytes.len() as u64,
                        sha256,
                    },
                    attachments: vec![],
                    classification: Some("VI.3".into()),
                    office: None,
                    emergency: None,
                },
            )
            .await
            .unwrap();
        damaged.push((reg.id, bytes.clone()));
    }
    for (rid, bytes) in &damaged {
        let RegistrationId(rid) = *rid;
        let r = api_get(
            &mut prog,
            &format!("/protocollo/voci/{rid}/documenti/0/contenuto"),
            &auth,
        )
        .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(json_of(&r)["error"], "document_p7m_invalid", "{}", r.body);
        assert!(json_of(&r)["message"].as_str().unwrap().contains(".p7m"));
        let page = op
            .get(&format!(
                "/backoffice/protocollo/{rid}/documenti/0/contenuto"
            ))
            .await;
        assert_eq!(page.status, 422);
        assert!(page.body.contains("document_p7m_invalid"));
        let page = op.get(&format!("/backoffice/protocollo/{rid}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("data-element=\"contenuto-firmato\""));
        let env = raw(
            &app,
            &op,
            &format!("/backoffice/protocollo/{rid}/documenti/0"),
            None,
        )
        .await;
        assert_eq!(
            env,
            (200, bytes.clone()),
            "the envelope downloads as stored"
        );
    }

    // Access as the download's: anonymous, a role without the register,
    // another comune (its staff get 404, this comune's key 401 there).
    let content = format!("{entry_path}/documenti/0/contenuto");
    let download = format!("{entry_path}/documenti/0");
    let mut visitor = Browser::new(&app, CASAMASSIMA);
    let mut admin = Browser::new(&app, CASAMASSIMA);
    admin.demo_sign_in("admin").await;
    let mut elsewhere = Browser::new(&app, ACQUAVIVA);
    elsewhere.demo_sign_in("operatore").await;
    let other_key = elsewhere.api_key("altrove").await;
    for (who, b, expected) in [
        ("visitor", &mut visitor, 303),
        ("admin", &mut admin, 403),
        ("other comune", &mut elsewhere, 404),
    ] {
        let c = b.get(&content).await;
        let dl = b.get(&download).await;
        assert_eq!(c.status, expected, "{who}: {}", c.body);
        assert_eq!(c.status, dl.status, "{who}: as the download");
        assert!(!c.body.contains("Catalog"), "{who} sees no content");
    }
    let api_path = format!("/protocollo/voci/{id}/documenti/0/contenuto");
    assert_eq!(
        api_get(&mut visitor, &api_path, "Bearer nope").await.status,
        401
    );
    let r = visitor
        .request(
            reqwest::Method::GET,
            &format!("/api/v1{api_path}"),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, 401);
    let mut there = Browser::new(&app, ACQUAVIVA);
    let r = api_get(&mut there, &api_path, &auth).await;
    assert_eq!(r.status, 401, "this comune's key is not a key there");
    let r = api_get(&mut there, &api_path, &format!("Bearer {other_key}")).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(json_of(&r)["error"], "not_found");

    // TI-6: filed in a fascicolo riservato, the registration stays in the
    // register for those who read it (docs/fascicoli.md): the segretario,
    // outside the area, gets for the content what he gets for the download.
    let snap = app.app.portal(t.id).await.unwrap();
    let r = op
        .request(
            reqwest::Method::POST,
            "/api/v1/fascicoli",
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            serde_json::to_vec(&json!({
                "classification": "VI.3", "kind": "procedimento", "subject": "Pratica riservata",
                "office": snap.offices[0].id.0, "responsible": "Dott.ssa Neri"
            }))
            .unwrap(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let fid = json_of(&r)["id"].as_i64().unwrap();
    for (path, body) in [
        (
            format!("/api/v1/fascicoli/{fid}/documenti"),
            json!({ "registration": id }),
        ),
        (
            format!("/api/v1/fascicoli/{fid}/riservatezza"),
            json!({ "restricted": true }),
        ),
    ] {
        let r = op
            .request(
                reqwest::Method::POST,
                &path,
                &[
                    ("content-type", "application/json"),
                    ("authorization", &auth),
                ],
                serde_json::to_vec(&body).unwrap(),
            )
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    let mut segretario = Browser::new(&app, CASAMASSIMA);
    segretario.demo_sign_in("segretario").await;
    assert_eq!(
        segretario
            .get(&format!("/backoffice/fascicoli/{fid}"))
            .await
            .status,
        404,
        "outside the area"
    );
    let dl = segretario.get(&download).await;
    assert_eq!(dl.status, 200);
    assert_eq!(
        raw(&app, &segretario, &content, None).await,
        (200, PDF.to_vec())
    );

    // The command line: `palazzo protocollo metadati --out DIR
    // --contenuto-firmato` writes the envelope unchanged and its content.
    let config = d.join("palazzo.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\ndatabase_url = {:?}\n",
            app.data_dir.path().to_str().unwrap(),
            app.database_url()
        ),
    )
    .unwrap();
    let year = reg["year"].as_i64().unwrap().to_string();
    let number = reg["number"]
        .as_str()
        .unwrap()
        .trim_start_matches('0')
        .to_owned();
    let cli = |extra: &[&str]| {
        let mut args = vec![
            "protocollo",
            "metadati",
            "--ente",
            "casamassima",
            "--config",
            config.to_str().unwrap(),
            "--anno",
            &year,
            "--numero",
            &number,
        ];
        args.extend_from_slice(extra);
        std::process::Command::new(env!("CARGO_BIN_EXE_palazzo"))
            .args(&args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let out_dir = d.join("cli");
    let out = cli(&[
        "--documento",
        "1",
        "--out",
        out_dir.to_str().unwrap(),
        "--contenuto-firmato",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(out_dir.join("atto.pdf.p7m.p7m")).unwrap(),
        twice
    );
    assert_eq!(std::fs::read(out_dir.join("atto.pdf")).unwrap(), PDF);
    assert!(stdout.contains("contenuto firmato atto.pdf"), "{stdout}");
    // Not a .p7m: exit 2 with the code, nothing written.
    let refused = d.join("cli-refused");
    let out = cli(&[
        "--documento",
        "4",
        "--versione",
        "1",
        "--out",
        refused.to_str().unwrap(),
        "--contenuto-firmato",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("documento_non_firmato"));
    assert!(!refused.exists());
    // Only with --out.
    assert!(!cli(&["--contenuto-firmato"]).status.success());
    app.stop().await;
}

#[tokio::test]
async fn signed_content_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn signed_content_postgres() {
    run(Backend::Postgres).await
}
