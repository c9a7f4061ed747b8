//! The registri giornalieri in the back office and the JSON API, over HTTP
//! on both backends: the register page links the list; the list shows the
//! day, register, first and last number, count, both SHA-256, conservation
//! state and deadline and the time-stamp; the PDF/A and the XML download
//! byte for byte (checked against the frozen fingerprints); the API lists
//! the same registri (with the counts of the day's changes, new versions
//! and annulment notices) and serves the same files; visitors are sent to sign in
//! (pages) or get 401 (API); an unknown registro or format is 404.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::protocollo::{Correspondent, Flow, Impronta};
use palazzo_services::access::Actor;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_store::UserId;
use palazzo_testkit::{Backend, Browser, CASAMASSIMA, TestApp};
use serde_json::Value;

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
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
    let pdf = app
        .app
        .documents()
        .put_bytes("istanza.pdf", b"%PDF-1.7\n% istanza\n%%EOF\n")
        .await
        .unwrap();
    let mut regs = Vec::new();
    for subject in ["Istanza di accesso agli atti", "Richiesta di contributo"] {
        let r = app
            .app
            .register_protocol(
                t.id,
                &desk,
                RegistrationInput {
                    register: None,
                    flow: Flow::Entrata,
                    subject: subject.into(),
                    correspondents: vec![Correspondent {
                        kind: palazzo_domain::protocollo::CorrespondentKind::PersonaFisica,
                        name: "Mario Rossi".into(),
                        fiscal_code: None,
                        ipa: None,
                        email: None,
                        address: None,
                        per_conoscenza: false,
                    }],
                    received_number: None,
                    received_date: None,
                    primary: pdf.to_ref(),
                    attachments: vec![],
                    classification: None,
                    office: None,
                    emergency: None,
                },
            )
            .await
            .unwrap();
        regs.push(r);
    }
    // The day's changes: a classification and a new version of a document.
    app.app
        .reassign_protocol(t.id, &desk, regs[0].id, Some("VI.3"), None)
        .await
        .unwrap();
    let v2 = app
        .app
        .documents()
        .put_bytes(
            "istanza-v2.pdf",
            b"%PDF-1.7\n% istanza rettificata\n%%EOF\n",
        )
        .await
        .unwrap();
    app.app
        .add_document_version(
            t.id,
            &desk,
            regs[1].id,
            0,
            palazzo_store::TipoModifica::Integrazione,
            "Aggiunta la firma",
            &v2,
        )
        .await
        .unwrap();
    // Today's registro, produced as if the day were over.
    let now = jiff::Timestamp::now();
    let today = palazzo_domain::calendar::rome_date(now);
    let produced = app
        .app
        .produce_registro_giornaliero_as_of(
            t.id,
            today,
            "Operatore di prova",
            now + jiff::SignedDuration::from_hours(25),
        )
        .await
        .unwrap();
    let reg = produced.registri[0].clone();
    let code = reg.data.code.clone();
    assert_eq!(reg.data.registrations, 2);
    assert_eq!(
        (
            reg.data.modifications,
            reg.data.document_versions,
            reg.data.annulment_notices
        ),
        (1, 1, 0)
    );

    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let register = op.get("/backoffice/protocollo").await;
    assert_eq!(register.status, 200, "{}", register.body);
    assert!(
        register
            .body
            .contains("href=\"/backoffice/protocollo/registri\""),
        "the register page links the registri"
    );
    let list = op.get("/backoffice/protocollo/registri").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let b = &list.body;
    assert!(b.contains(&format!("data-registro=\"{code}\"")), "{b}");
    assert!(b.contains(&today.strftime("%d/%m/%Y").to_string()));
    assert!(b.contains("REG_PROT"));
    assert!(b.contains("0000001") && b.contains("0000002"));
    assert!(b.contains(&reg.data.pdf.sha256.hex()) && b.contains(&reg.data.xml.sha256.hex()));
    assert!(b.contains("Pronto per la conservazione"));
    assert!(b.contains("Nuove versioni") && b.contains("Annullamenti comunicati"));
    assert!(
        b.contains(
            &reg.data
                .conservation_deadline
                .strftime("%d/%m/%Y")
                .to_string()
        )
    );
    // No TSA configured in the tests: the time-stamp is absent.
    assert!(b.contains("Assente"));

    // Downloads, byte for byte.
    let client = app.client();
    let cookie = op
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let fetch = |path: String, auth: Option<(&'static str, String)>| {
        let client = client.clone();
        let url = app.url(CASAMASSIMA, &path);
        async move {
            let mut req = client.get(url);
            if let Some((k, v)) = auth {
                req = req.header(k, v);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let ct = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (status, ct, r.bytes().await.unwrap().to_vec())
        }
    };
    for prefix in [
        "/backoffice/protocollo/registri",
        "/api/v1/protocollo/registri",
    ] {
        let (s, ct, body) = fetch(
            format!("{prefix}/{code}/pdf"),
            Some(("cookie", cookie.clone())),
        )
        .await;
        assert_eq!(s, 200, "{prefix}");
        assert_eq!(ct, "application/pdf");
        assert!(body.starts_with(b"%PDF-"));
        assert_eq!(Impronta::of(&body), reg.data.pdf.sha256);
        let (s, ct, body) = fetch(
            format!("{prefix}/{code}/xml"),
            Some(("cookie", cookie.clone())),
        )
        .await;
        assert_eq!(s, 200, "{prefix}");
        assert!(ct.starts_with("application/xml"), "{ct}");
        assert_eq!(Impronta::of(&body), reg.data.xml.sha256);
        let xml = String::from_utf8(body).unwrap();
        assert!(xml.contains(&code));
        assert!(xml.contains("<Modifica tipo=\"Classificazione\">"), "{xml}");
        assert!(
            xml.contains("<NuovaVersione tipo=\"Integrazione\">"),
            "{xml}"
        );
        // Unknown format or registro: 404.
        let (s, _, _) = fetch(
            format!("{prefix}/{code}/docx"),
            Some(("cookie", cookie.clone())),
        )
        .await;
        assert_eq!(s, 404, "{prefix}");
        let (s, _, _) = fetch(
            format!("{prefix}/c_x-19990101-001/pdf"),
            Some(("cookie", cookie.clone())),
        )
        .await;
        assert_eq!(s, 404, "{prefix}");
    }

    // The API list.
    let r = op.get("/api/v1/protocollo/registri").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    let first = &v.as_array().unwrap()[0];
    assert_eq!(first["code"], code.as_str());
    assert_eq!(first["day"], today.to_string());
    assert_eq!(first["register"], "REG_PROT");
    assert_eq!(first["first_number"], 1);
    assert_eq!(first["last_number"], 2);
    assert_eq!(first["registrations"], 2);
    assert_eq!(first["modifications"], 1);
    assert_eq!(first["document_versions"], 1);
    assert_eq!(first["annulment_notices"], 0);
    assert_eq!(first["timestamped"], false);
    assert_eq!(first["conservation_state"], "pronto");
    assert_eq!(first["pdf"]["sha256"], reg.data.pdf.sha256.hex());
    let r = op.get("/api/v1/protocollo/registri?limite=abc").await;
    assert_eq!(r.status, 400, "{}", r.body);

    // Visitors: sign in (page) or 401 (API), never the file.
    let mut visitor = Browser::new(&app, CASAMASSIMA);
    let r = visitor.get("/backoffice/protocollo/registri").await;
    assert_eq!(r.status, 303);
    let r = visitor
        .get(&format!("/backoffice/protocollo/registri/{code}/pdf"))
        .await;
    assert_eq!(r.status, 303);
    let (s, _, _) = fetch(format!("/api/v1/protocollo/registri/{code}/xml"), None).await;
    assert_eq!(s, 401);
    let r = visitor.get("/api/v1/protocollo/registri").await;
    assert_eq!(r.status, 401);
    app.stop().await;
}

#[tokio::test]
async fn registri_giornalieri_web_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn registri_giornalieri_web_postgres() {
    run(Backend::Postgres).await
}
