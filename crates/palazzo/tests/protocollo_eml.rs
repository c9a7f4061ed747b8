//! Registration from an e-mail file (`.eml`) at the protocol desk, in the
//! JSON API and from the command line, on both backends where the store is
//! involved: the desk reads the message and fills the form in (decoded
//! sender and subject, Rome date of `Date`, `Message-ID`, the attachments
//! listed), the confirmation stores the `.eml` bit for bit as the primary
//! document and each MIME attachment as an attachment with its SHA-256; a
//! forged or foreign confirmation token, a file that is not an e-mail and a
//! message with an attachment of a forbidden type register nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;

use base64::Engine as _;
use palazzo_domain::protocollo::Impronta;
use palazzo_testkit::browser::Part;
use palazzo_testkit::cli;
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TempDir, TestApp};
use serde_json::{Value, json};

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
const XML: &[u8] = b"<?xml version=\"1.0\"?><allegato>dati del modulo</allegato>";
/// A Windows executable header: never an allowed type.
const EXE: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";

fn b64(bytes: &[u8]) -> String {
    let s = base64::engine::general_purpose::STANDARD.encode(bytes);
    s.as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// multipart/mixed: a quoted-printable text body, a base64 PDF and a
/// base64 XML; encoded-word sender and subject; sent at 23:30 UTC on 1
/// March 2026, which is 2 March in Rome.
fn message() -> Vec<u8> {
    format!(
        "Received: from mx.example.org by posta.comune.example; Sun, 1 Mar 2026 23:30:05 +0000\r\n\
         From: =?UTF-8?Q?Anna_Verdi_Nicol=C3=B2?= <anna.verdi@example.org>\r\n\
         To: protocollo@comune.example\r\n\
         Subject: =?UTF-8?Q?Istanza_di_accesso_agli_atti_=E2=80=93_via_Libert=C3=A0?=\r\n\
         Date: Sun, 1 Mar 2026 23:30:00 +0000\r\n\
         Message-ID: <istanza-4242@example.org>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"confine\"\r\n\
         \r\n\
         --confine\r\n\
         Content-Type: text/plain; charset=UTF-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         Gentile Comune, allego l'istanza. Cordiali saluti, Anna Verdi Nicol=C3=B2\r\n\
         --confine\r\n\
         Content-Type: application/pdf; name=\"istanza.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"istanza.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {}\r\n\
         --confine\r\n\
         Content-Type: application/xml; name=\"modulo.xml\"\r\n\
         Content-Disposition: attachment; filename=\"modulo.xml\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {}\r\n\
         --confine--\r\n",
        b64(PDF),
        b64(XML)
    )
    .into_bytes()
}

/// The same kind of message with an executable attached, and no Date.
fn forbidden() -> Vec<u8> {
    format!(
        "From: Ditta Alfa <fatture@alfa.example>\r\n\
         Subject: Fattura\r\n\
         Message-ID: <fattura-1@alfa.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=x\r\n\
         \r\n\
         --x\r\nContent-Type: text/plain\r\n\r\nIn allegato la fattura.\r\n\
         --x\r\nContent-Type: application/pdf; name=fattura.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n\
         --x\r\nContent-Type: application/octet-stream; name=fattura.exe\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n\
         --x--\r\n",
        b64(PDF),
        b64(EXE)
    )
    .into_bytes()
}

fn json_of(p: &Page) -> Value {
    serde_json::from_str(&p.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", p.body))
}

fn form_value(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let i = html
        .find(&key)
        .unwrap_or_else(|| panic!("no field {name} in {html}"));
    html[i + key.len()..].split('"').next().unwrap().to_owned()
}

fn textarea(html: &str, id: &str) -> String {
    let key = format!("id=\"{id}\"");
    let i = html.find(&key).unwrap();
    let rest = &html[i..];
    let start = rest.find('>').unwrap() + 1;
    rest[start..]
        .split("</textarea>")
        .next()
        .unwrap()
        .to_owned()
}

fn action(html: &str, prefix: &str) -> String {
    html.split("action=\"")
        .find(|s| s.starts_with(prefix))
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no form to {prefix}"))
        .replace("&amp;", "&")
}

async fn api_get(b: &mut Browser, path: &str, token: &str) -> Page {
    let auth = format!("Bearer {token}");
    b.request(
        reqwest::Method::GET,
        &format!("/api/v1{path}"),
        &[("authorization", auth.as_str())],
        Vec::new(),
    )
    .await
}

async fn api_multipart(b: &mut Browser, path: &str, token: &str, parts: &[Part<'_>]) -> Page {
    let auth = format!("Bearer {token}");
    b.post_multipart(
        &format!("/api/v1{path}"),
        parts,
        &[("authorization", &auth)],
    )
    .await
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let eml = message();
    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let token = op.api_key("sportello").await;
    let mut prog = Browser::new(&app, CASAMASSIMA);

    // The desk page offers the e-mail form, its CSRF token in the action.
    let page = op.get("/backoffice/protocollo/nuova").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-element=\"eml-form\""));
    let read_action = action(&page.body, "/backoffice/protocollo/nuova/eml?csrf=");
    // Not an e-mail: refused with the reason.
    let r = op
        .post_multipart(&read_action, &[Part::File("eml", "x.eml", PDF)], &[])
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("non è un messaggio di posta elettronica"));
    // Without the token: refused.
    let r = op
        .post_multipart(
            "/backoffice/protocollo/nuova/eml",
            &[Part::File("eml", "istanza.eml", &eml)],
            &[],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // The message fills the form in.
    let r = op
        .post_multipart(&read_action, &[Part::File("eml", "istanza.eml", &eml)], &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let html = r.body;
    assert_eq!(
        textarea(&html, "oggetto"),
        "Istanza di accesso agli atti – via Libertà"
    );
    assert_eq!(form_value(&html, "c0_nome"), "Anna Verdi Nicolò");
    assert_eq!(form_value(&html, "c0_email"), "anna.verdi@example.org");
    assert_eq!(
        form_value(&html, "numero_ricevuto"),
        "istanza-4242@example.org"
    );
    assert_eq!(
        form_value(&html, "data_ricevuto"),
        "2026-03-02",
        "Rome date of Date"
    );
    assert_eq!(form_value(&html, "eml_sha256"), Impronta::of(&eml).hex());
    assert!(html.contains("data-element=\"eml-attachments\""));
    assert!(html.contains("istanza.pdf (application/pdf") && html.contains("modulo.xml"));
    assert!(!html.contains("data-refused"));
    let confirm = action(&html, "/backoffice/protocollo/nuova?csrf=");
    let sha = form_value(&html, "eml_sha256");
    let name = form_value(&html, "eml_nome");
    let sig = form_value(&html, "eml_firma");
    let fields = |sig: &str| -> Vec<(String, String)> {
        vec![
            ("verso".into(), "E".into()),
            (
                "oggetto".into(),
                "Istanza di accesso agli atti – via Libertà".into(),
            ),
            ("c0_tipo".into(), "persona_fisica".into()),
            ("c0_nome".into(), "Anna Verdi Nicolò".into()),
            ("c0_email".into(), "anna.verdi@example.org".into()),
            ("numero_ricevuto".into(), "istanza-4242@example.org".into()),
            ("data_ricevuto".into(), "2026-03-02".into()),
            ("classifica".into(), "VI.3".into()),
            ("ufficio".into(), "0".into()),
            ("eml_sha256".into(), sha.clone()),
            ("eml_nome".into(), name.clone()),
            ("eml_firma".into(), sig.to_owned()),
        ]
    };
    // A forged token registers nothing.
    let forged = fields(&format!("{sig}A"));
    let parts: Vec<Part<'_>> = forged.iter().map(|(k, v)| Part::Text(k, v)).collect();
    let r = op.post_multipart(&confirm, &parts, &[]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("carica di nuovo il file .eml"),
        "{}",
        r.body
    );
    // Another comune's desk cannot use the token.
    let mut other = Browser::new(&app, ACQUAVIVA);
    other.demo_sign_in("operatore").await;
    let other_page = other.get("/backoffice/protocollo/nuova").await;
    let other_confirm = action(&other_page.body, "/backoffice/protocollo/nuova?csrf=");
    let good = fields(&sig);
    let parts: Vec<Part<'_>> = good.iter().map(|(k, v)| Part::Text(k, v)).collect();
    let r = other.post_multipart(&other_confirm, &parts, &[]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    // The confirmation registers number 1.
    let r = op.post_multipart(&confirm, &parts, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let entry = r.location().unwrap().to_owned();
    let id = entry.rsplit('/').next().unwrap().to_owned();
    let reg = json_of(&api_get(&mut prog, &format!("/protocollo/voci/{id}"), &token).await);
    let reg = if reg.get("registration").is_some() {
        reg["registration"].clone()
    } else {
        reg
    };
    assert_eq!(reg["number"], "0000001", "{reg}");
    assert_eq!(reg["flow"], "E");
    assert_eq!(reg["subject"], "Istanza di accesso agli atti – via Libertà");
    assert_eq!(reg["received_number"], "istanza-4242@example.org");
    assert_eq!(reg["received_date"], "2026-03-02");
    assert_eq!(reg["correspondents"][0]["name"], "Anna Verdi Nicolò");
    assert_eq!(reg["primary"]["name"], "istanza.eml");
    assert_eq!(reg["primary"]["media_type"], "message/rfc822");
    assert_eq!(reg["primary"]["sha256"], Impronta::of(&eml).hex());
    assert_eq!(reg["attachments"][0]["name"], "istanza.pdf");
    assert_eq!(reg["attachments"][0]["sha256"], Impronta::of(PDF).hex());
    assert_eq!(reg["attachments"][1]["sha256"], Impronta::of(XML).hex());
    // The original as received, bit for bit.
    let r = api_get(
        &mut prog,
        &format!("/protocollo/voci/{id}/documenti/0"),
        &token,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_bytes(), eml.as_slice());
    let r = api_get(
        &mut prog,
        &format!("/protocollo/voci/{id}/documenti/1"),
        &token,
    )
    .await;
    assert_eq!(r.body.as_bytes(), PDF);

    // A forbidden attachment: listed as refused, and registering refused.
    let bad = forbidden();
    let r = op
        .post_multipart(&read_action, &[Part::File("eml", "fattura.eml", &bad)], &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("data-refused"));
    assert_eq!(form_value(&r.body, "data_ricevuto"), "", "no Date: no date");
    let bad_fields = [
        ("verso".to_owned(), "E".to_owned()),
        ("oggetto".to_owned(), "Fattura".to_owned()),
        ("c0_nome".to_owned(), "Ditta Alfa".to_owned()),
        ("eml_sha256".to_owned(), form_value(&r.body, "eml_sha256")),
        ("eml_nome".to_owned(), form_value(&r.body, "eml_nome")),
        ("eml_firma".to_owned(), form_value(&r.body, "eml_firma")),
    ];
    let parts: Vec<Part<'_>> = bad_fields.iter().map(|(k, v)| Part::Text(k, v)).collect();
    let r = op.post_multipart(&confirm, &parts, &[]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("fattura.exe") && r.body.contains("Tipo di file non ammesso"));
    assert!(
        r.body.contains("data-element=\"eml-document\""),
        "the message stays on the form"
    );

    // The API: what a message proposes, then its registration.
    let r = api_multipart(
        &mut prog,
        "/protocollo/eml",
        &token,
        &[Part::File("eml", "istanza.eml", &eml)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = json_of(&r);
    assert_eq!(p["subject"], "Istanza di accesso agli atti – via Libertà");
    assert_eq!(p["from_name"], "Anna Verdi Nicolò");
    assert_eq!(p["from_address"], "anna.verdi@example.org");
    assert_eq!(p["sent_at"], "2026-03-01T23:30:00Z");
    assert_eq!(p["received_date"], "2026-03-02");
    assert_eq!(p["received_number"], "istanza-4242@example.org");
    assert_eq!(p["eml"]["sha256"], Impronta::of(&eml).hex());
    assert_eq!(p["attachments"][0]["sha256"], Impronta::of(PDF).hex());
    assert_eq!(p["attachments"][0]["media_type"], "application/pdf");
    let r = api_multipart(
        &mut prog,
        "/protocollo/eml",
        &token,
        &[Part::File("eml", "fattura.eml", &bad)],
    )
    .await;
    let p = json_of(&r);
    assert!(
        p["attachments"][1]["refusal"]
            .as_str()
            .unwrap()
            .contains("non ammesso")
    );
    assert!(p["received_date"].is_null());
    // Registration with only the message: the fields come from it.
    let r = api_multipart(
        &mut prog,
        "/protocollo",
        &token,
        &[Part::File("eml", "istanza.eml", &eml)],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let reg = json_of(&r);
    assert_eq!(
        reg["number"], "0000002",
        "the refused ones consumed no number"
    );
    assert_eq!(reg["subject"], "Istanza di accesso agli atti – via Libertà");
    assert_eq!(reg["correspondents"][0]["email"], "anna.verdi@example.org");
    assert_eq!(reg["received_date"], "2026-03-02");
    assert_eq!(reg["primary"]["sha256"], Impronta::of(&eml).hex());
    assert_eq!(reg["attachments"].as_array().unwrap().len(), 2);
    // With dati overriding, and an extra attachment.
    let dati =
        json!({"subject": "Accesso agli atti (rettifica)", "classification": "VI.3"}).to_string();
    let r = api_multipart(
        &mut prog,
        "/protocollo",
        &token,
        &[
            Part::Text("dati", &dati),
            Part::File("eml", "istanza.eml", &eml),
            Part::File("allegati", "nota.xml", b"<?xml version=\"1.0\"?><nota/>"),
        ],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let reg = json_of(&r);
    assert_eq!(reg["subject"], "Accesso agli atti (rettifica)");
    assert_eq!(reg["classification"], "VI.3");
    assert_eq!(reg["received_number"], "istanza-4242@example.org");
    assert_eq!(reg["attachments"].as_array().unwrap().len(), 3);
    // Refusals: a forbidden attachment, a message and a document together,
    // an outgoing flow, something that is not an e-mail.
    for (parts, error) in [
        (
            vec![Part::File("eml", "fattura.eml", bad.as_slice())],
            "document_type_not_allowed",
        ),
        (
            vec![
                Part::File("eml", "istanza.eml", eml.as_slice()),
                Part::File("documento", "a.pdf", PDF),
            ],
            "eml_and_document",
        ),
        (
            vec![
                Part::Text("dati", "{\"flow\":\"U\"}"),
                Part::File("eml", "istanza.eml", eml.as_slice()),
            ],
            "invalid_flow",
        ),
        (vec![Part::File("eml", "x.eml", PDF)], "eml_invalid"),
    ] {
        let r = api_multipart(&mut prog, "/protocollo", &token, &parts).await;
        assert_eq!(r.status, 422, "{error}: {}", r.body);
        assert_eq!(json_of(&r)["error"], error, "{}", r.body);
    }
    let r = api_multipart(
        &mut prog,
        "/protocollo",
        &token,
        &[Part::File("eml", "istanza.eml", &eml)],
    )
    .await;
    assert_eq!(
        json_of(&r)["number"],
        "0000004",
        "refusals consumed no number"
    );
    app.stop().await;
}

#[tokio::test]
async fn register_from_an_eml_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn register_from_an_eml_postgres() {
    run(Backend::Postgres).await
}

fn palazzo(args: &[&str]) -> Output {
    cli::run(env!("CARGO_BIN_EXE_palazzo"), args)
}

#[test]
fn register_an_eml_from_the_command_line() {
    let dir = TempDir::new("eml-cli");
    let data = dir.path().to_str().unwrap().to_owned();
    let out = palazzo(&[
        "demo",
        "--no-serve",
        "--residents",
        "100",
        "--data-dir",
        &data,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = dir.path().join("istanza.eml");
    std::fs::write(&file, message()).unwrap();
    let bad = dir.path().join("fattura.eml");
    std::fs::write(&bad, forbidden()).unwrap();
    let run = |f: &std::path::Path| {
        palazzo(&[
            "protocollo",
            "eml",
            f.to_str().unwrap(),
            "--ente",
            "casamassima",
            "--classifica",
            "VI.3",
            "--data-dir",
            &data,
        ])
    };
    let out = run(&bad);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fattura.exe"));
    let out = run(&file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("registrata n. 0000001/"), "{stdout}");
    assert!(stdout.contains("Istanza di accesso agli atti – via Libertà"));
    assert!(stdout.contains(&format!("sha256 {}", Impronta::of(&message()).hex())));
    assert!(stdout.contains(&format!(
        "istanza.pdf (application/pdf) sha256 {}",
        Impronta::of(PDF).hex()
    )));
    let out = palazzo(&["verify", "--data-dir", &data]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
