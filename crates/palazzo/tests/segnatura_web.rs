//! The segnatura on the back-office document page, over HTTP on both
//! backends: `TestApp` (like `palazzo demo`) gives each demo comune a seal
//! from the demo CA, so an outgoing entry is sealed; the page links
//! "Segnatura (XML firmato)" and the link downloads the stored XML; an entry
//! without a segnatura has no link and its download is 404; citizens and
//! visitors cannot download. The receiving comune's page of a received
//! message shows the validation report of the segnatura and of a signed
//! `.p7m` attachment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow};
use palazzo_services::access::Actor;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_services::segnatura::demo_ca::demo_aoo_code;
use palazzo_services::segnatura::{Esito, FileRicevuto};
use palazzo_store::UserId;
use palazzo_testkit::pki::{openssl, pki};
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, TempDir, TestApp};

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let to = app.app.tenant_for_host(ACQUAVIVA).unwrap();
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
        .put_bytes("nota.pdf", b"%PDF-1.7\n% nota\n%%EOF\n")
        .await
        .unwrap();
    let input = |flow: Flow, classification: Option<&str>| RegistrationInput {
        register: None,
        flow,
        subject: "Trasmissione della delibera".into(),
        correspondents: vec![Correspondent {
            kind: CorrespondentKind::Amministrazione,
            name: to.data.name.clone(),
            fiscal_code: None,
            ipa: Some(to.data.codice_ipa.as_str().to_owned()),
            email: Some(to.data.pec.clone()),
            address: None,
            per_conoscenza: false,
        }],
        received_number: None,
        received_date: None,
        primary: pdf.to_ref(),
        attachments: vec![],
        classification: classification.map(str::to_owned),
        office: None,
        emergency: None,
    };
    let sealed = app
        .app
        .register_protocol(t.id, &desk, input(Flow::Uscita, Some("I.8")))
        .await
        .expect("the demo seal seals outgoing entries");
    let plain = app
        .app
        .register_protocol(t.id, &desk, input(Flow::Entrata, None))
        .await
        .unwrap();
    let (_, xml) = app
        .app
        .protocol_segnatura(t.id, &desk, sealed.id)
        .await
        .unwrap()
        .unwrap();

    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let entry = format!("/backoffice/protocollo/{}", sealed.id.0);
    let page = op.get(&entry).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Segnatura (XML firmato)"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("{entry}/segnatura.xml")));
    let download = op.get(&format!("{entry}/segnatura.xml")).await;
    assert_eq!(download.status, 200);
    assert_eq!(download.body.as_bytes(), xml.as_slice());
    assert!(download.body.contains(&format!(
        "<prot:CodiceAOO>{}</prot:CodiceAOO>",
        demo_aoo_code(&t.data.slug)
    )));
    assert!(download.body.contains("<ds:Signature"));

    let other = format!("/backoffice/protocollo/{}", plain.id.0);
    assert!(
        !op.get(&other)
            .await
            .body
            .contains("Segnatura (XML firmato)")
    );
    assert_eq!(op.get(&format!("{other}/segnatura.xml")).await.status, 404);
    assert_eq!(
        op.get("/backoffice/protocollo/999999/segnatura.xml")
            .await
            .status,
        404
    );

    // Not for visitors or residents.
    let mut visitor = Browser::new(&app, CASAMASSIMA);
    assert_ne!(
        visitor.get(&format!("{entry}/segnatura.xml")).await.status,
        200
    );

    // The validation report: Acquaviva receives a message from Casamassima
    // with a .p7m attachment (openssl, a test CA Acquaviva trusts); its
    // page shows the segnatura's signer and the document's, both valid.
    let dir = TempDir::new("segnatura-web-p7m");
    let d = dir.path();
    pki(d, "firma", "ec");
    std::fs::write(d.join("delibera.txt"), b"Delibera firmata.\n").unwrap();
    openssl(
        d,
        &[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-cades",
            "-md",
            "sha256",
            "-in",
            "delibera.txt",
            "-signer",
            "firma.crt",
            "-inkey",
            "firma.key",
            "-outform",
            "DER",
            "-out",
            "delibera.txt.p7m",
        ],
    );
    let p7m = std::fs::read(d.join("delibera.txt.p7m")).unwrap();
    let signed = app
        .app
        .documents()
        .put_bytes("delibera.txt.p7m", &p7m)
        .await
        .unwrap();
    let mut with_p7m = input(Flow::Uscita, Some("I.8"));
    with_p7m.attachments = vec![signed.to_ref()];
    let sent = app
        .app
        .register_protocol(t.id, &desk, with_p7m)
        .await
        .unwrap();
    let (_, xml) = app
        .app
        .protocol_segnatura(t.id, &desk, sent.id)
        .await
        .unwrap()
        .unwrap();
    app.app
        .add_trust_anchors(
            &to.data.slug,
            &std::fs::read_to_string(d.join("firma-ca.crt")).unwrap(),
        )
        .unwrap();
    let files = vec![
        FileRicevuto {
            name: "nota.pdf".into(),
            bytes: Some(b"%PDF-1.7\n% nota\n%%EOF\n".to_vec()),
        },
        FileRicevuto {
            name: "delibera.txt.p7m".into(),
            bytes: Some(p7m.clone()),
        },
    ];
    let received = match app
        .app
        .receive_protocol_message(to.id, &desk, &xml, &files)
        .await
        .unwrap()
    {
        Esito::Registrata { registration, .. } => registration,
        other => panic!("not registered: {other:?}"),
    };
    let mut op2 = Browser::new(&app, ACQUAVIVA);
    op2.demo_sign_in("operatore").await;
    let page = op2
        .get(&format!("/backoffice/protocollo/{}", received.id.0))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Verifica delle firme"), "{}", page.body);
    assert!(page.body.contains("Segnatura di protocollo (XAdES)"));
    assert!(page.body.contains("delibera.txt.p7m (allegato)"));
    assert!(page.body.contains("Sigillo AOO firma"), "{}", page.body);
    assert_eq!(
        page.body.matches("data-esito=\"valida\"").count(),
        2,
        "{}",
        page.body
    );
    // The sender's own page has no received segnatura to report, but its
    // signed attachment is verified against Casamassima's trust list,
    // which does not hold the test CA.
    let page = op
        .get(&format!("/backoffice/protocollo/{}", sent.id.0))
        .await;
    assert!(
        page.body.contains("data-esito=\"non_attendibile\""),
        "{}",
        page.body
    );
    app.stop().await;
}

#[tokio::test]
async fn segnatura_download_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn segnatura_download_postgres() {
    run(Backend::Postgres).await
}
