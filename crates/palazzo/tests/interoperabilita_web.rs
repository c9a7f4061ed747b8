//! Receiving protocol messages (Allegato 6 §3.1, PR-8) from the back office
//! and the JSON API, on both backends. Casamassima seals outgoing entries to
//! Acquaviva (the demo seals, chained to the demo CA); Acquaviva receives
//! them: a valid message is registered (201, the ConfermaRicezione to send
//! back; again: already registered), a tampered attachment is refused with
//! 002_AnomaliaImpronte (the NotificaEccezione offered) through the API and
//! the page; the sender's AnnullamentoProtocollazione is recorded with our
//! registration once (visible on its page and in the API) and one naming an
//! unknown registration gets 007_ErroreIdentificatoreNonTrovato. A role
//! without RegisterProtocol gets 403, a key of another comune 401, the page
//! form without its CSRF token 403, an upload without the segnatura 422.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow};
use palazzo_services::access::Actor;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_services::segnatura::demo_ca::demo_aoo_code;
use palazzo_services::segnatura::messaggi;
use palazzo_store::{Registration, UserId};
use palazzo_testkit::browser::Part;
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TestApp};
use serde_json::Value;

const LETTERA: &[u8] =
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
const ALLEGATO: &[u8] = b"Allegato alla nota di trasmissione.\n";
const MESSAGES: &str = "/api/v1/protocollo/messaggi";
const PAGE: &str = "/backoffice/protocollo/interoperabilita";

fn json_of(p: &Page) -> Value {
    serde_json::from_str(&p.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", p.body))
}

async fn send(b: &mut Browser, token: &str, parts: &[Part<'_>]) -> Page {
    let auth = format!("Bearer {token}");
    b.post_multipart(MESSAGES, parts, &[("authorization", &auth)])
        .await
}

/// The page form's action, with the CSRF token of the session.
async fn action_of(b: &mut Browser) -> String {
    let page = b.get(PAGE).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.body
        .split("action=\"")
        .find(|s| s.starts_with(PAGE))
        .and_then(|s| s.split('"').next())
        .expect("the form posts to the page with its token")
        .replace("&amp;", "&")
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let sender = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let us = app.app.tenant_for_host(ACQUAVIVA).unwrap();
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
    let primary = app
        .app
        .documents()
        .put_bytes("lettera.pdf", LETTERA)
        .await
        .unwrap();
    let allegato = app
        .app
        .documents()
        .put_bytes("allegato.txt", ALLEGATO)
        .await
        .unwrap();
    // Casamassima seals two outgoing entries to Acquaviva.
    let mut outgoing: Vec<(Registration, String)> = Vec::new();
    for subject in ["Trasmissione del parere", "Trasmissione della delibera"] {
        let reg = app
            .app
            .register_protocol(
                sender.id,
                &desk,
                RegistrationInput {
                    register: None,
                    flow: Flow::Uscita,
                    subject: subject.into(),
                    correspondents: vec![Correspondent {
                        kind: CorrespondentKind::Amministrazione,
                        name: us.data.name.clone(),
                        fiscal_code: None,
                        ipa: Some(us.data.codice_ipa.as_str().to_owned()),
                        email: Some(us.data.pec.clone()),
                        address: None,
                        per_conoscenza: false,
                    }],
                    received_number: None,
                    received_date: None,
                    primary: primary.to_ref(),
                    attachments: vec![allegato.to_ref()],
                    classification: Some("VI.3".into()),
                    office: None,
                    emergency: None,
                },
            )
            .await
            .unwrap();
        let (_, xml) = app
            .app
            .protocol_segnatura(sender.id, &desk, reg.id)
            .await
            .unwrap()
            .unwrap();
        outgoing.push((reg, String::from_utf8(xml).unwrap()));
    }
    let (reg_a, xml_a) = &outgoing[0];
    let (reg_b, xml_b) = &outgoing[1];
    let aoo = demo_aoo_code(&sender.data.slug);
    let annulment_of = |reg: &Registration| {
        messaggi::annullamento(
            &messaggi::identificatore_of(&sender, &aoo, reg),
            "Errore materiale nell'oggetto",
            "Determina n. 5/2026",
        )
    };

    let mut op = Browser::new(&app, ACQUAVIVA);
    op.demo_sign_in("operatore").await;
    let op_key = op.api_key("interoperabilita").await;
    let mut seg = Browser::new(&app, ACQUAVIVA);
    seg.demo_sign_in("segretario").await;
    let seg_key = seg.api_key("segreteria").await;
    let mut other = Browser::new(&app, CASAMASSIMA);
    other.demo_sign_in("operatore").await;
    let other_key = other.api_key("altro comune").await;
    let mut prog = Browser::new(&app, ACQUAVIVA);

    let valid = |xml: &'static str| -> Vec<Part<'static>> {
        vec![
            Part::File("segnatura", "segnatura.xml", xml.as_bytes()),
            Part::File("documenti", "lettera.pdf", LETTERA),
            Part::File("documenti", "allegato.txt", ALLEGATO),
        ]
    };
    let xml_a: &'static str = Box::leak(xml_a.clone().into_boxed_str());
    let xml_b: &'static str = Box::leak(xml_b.clone().into_boxed_str());
    let tampered = |xml: &'static str| -> Vec<Part<'static>> {
        vec![
            Part::File("segnatura", "segnatura.xml", xml.as_bytes()),
            Part::File("documenti", "lettera.pdf", LETTERA),
            Part::File("documenti", "allegato.txt", b"Allegato alterato.\n"),
        ]
    };

    // Authorization: a role without RegisterProtocol, a key of another
    // comune, no key at all.
    let r = send(&mut prog, &seg_key, &valid(xml_a)).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = send(&mut prog, &other_key, &valid(xml_a)).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = prog.post_multipart(MESSAGES, &valid(xml_a), &[]).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(seg.get(PAGE).await.status, 403);

    // No segnatura part: the upload is refused, nothing received.
    let r = send(
        &mut prog,
        &op_key,
        &[Part::File("documenti", "lettera.pdf", LETTERA)],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(json_of(&r)["error"], "segnatura_mancante");

    // A tampered attachment through the API: 002, the NotificaEccezione.
    let r = send(&mut prog, &op_key, &tampered(xml_a)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json_of(&r);
    assert_eq!(v["esito"], "eccezione", "{v}");
    assert_eq!(v["codice"], "002_AnomaliaImpronte");
    assert!(
        v["descrizione"].as_str().unwrap().contains("impronta"),
        "{v}"
    );
    assert!(v["registrazione"].is_null());
    let answer = v["messaggio"].as_str().unwrap();
    assert!(answer.contains("<pec:NotificaEccezione"), "{answer}");
    assert!(
        answer.contains("<pec:Motivo>002_AnomaliaImpronte: "),
        "{answer}"
    );

    // The valid message through the API: registered as incoming.
    let r = send(&mut prog, &op_key, &valid(xml_a)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = json_of(&r);
    assert_eq!(v["esito"], "registrato", "{v}");
    assert!(v["codice"].is_null());
    let ours = &v["registrazione"];
    assert_eq!(ours["flow"], "E");
    assert_eq!(ours["subject"], "Trasmissione del parere");
    assert_eq!(ours["received_number"], reg_a.number.to_string());
    assert_eq!(ours["attachments"][0]["name"], "allegato.txt");
    let ours_a = ours["id"].as_i64().unwrap();
    let answer = v["messaggio"].as_str().unwrap();
    assert!(answer.contains("<pec:ConfermaRicezione"), "{answer}");
    // Again: already registered, nothing new.
    let r = send(&mut prog, &op_key, &valid(xml_a)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json_of(&r);
    assert_eq!(v["esito"], "gia_registrato");
    assert_eq!(v["registrazione"]["id"].as_i64(), Some(ours_a));

    // The page: no CSRF token, refused; a tampered attachment, 002 with
    // the answer to download; the valid message, registered with a link.
    let r = op.post_multipart(PAGE, &valid(xml_b), &[]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("csrf_invalid"), "{}", r.body);
    let action = action_of(&mut op).await;
    assert!(action.contains("csrf="), "{action}");
    let r = op.post_multipart(&action, &tampered(xml_b), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("data-outcome=\"eccezione\""), "{}", r.body);
    assert!(r.body.contains("data-code=\"002_AnomaliaImpronte\""));
    assert!(r.body.contains("download=\"notifica-eccezione.xml\""));
    assert!(r.body.contains("href=\"data:application/xml;base64,"));
    let r = op.post_multipart(&action, &valid(xml_b), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("data-outcome=\"registrato\""), "{}", r.body);
    assert!(r.body.contains("download=\"conferma-ricezione.xml\""));
    let ours_b: i64 = r
        .body
        .split("\" data-element=\"registration\"")
        .next()
        .and_then(|s| s.rsplit('/').next())
        .expect("a link to the new registration")
        .parse()
        .unwrap();
    let entry = op.get(&format!("/backoffice/protocollo/{ours_b}")).await;
    assert_eq!(entry.status, 200);
    assert!(entry.body.contains("Trasmissione della delibera"));
    assert!(!entry.body.contains("data-element=\"sender-annulment\""));
    // A file part without the segnatura on the page: the reason, 422.
    let r = op
        .post_multipart(
            &action,
            &[Part::File("documenti", "lettera.pdf", LETTERA)],
            &[],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("data-code=\"segnatura_mancante\""),
        "{}",
        r.body
    );

    // The sender annuls its registration A: recorded with ours, once.
    let notice_a: &'static str = Box::leak(annulment_of(reg_a).into_boxed_str());
    let r = send(
        &mut prog,
        &op_key,
        &[Part::File(
            "segnatura",
            "annullamento.xml",
            notice_a.as_bytes(),
        )],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json_of(&r);
    assert_eq!(v["esito"], "annullamento", "{v}");
    assert_eq!(v["registrazione"]["id"].as_i64(), Some(ours_a));
    assert_eq!(
        v["annullamento_mittente"]["reason"],
        "Errore materiale nell'oggetto"
    );
    assert_eq!(v["annullamento_mittente"]["act"], "Determina n. 5/2026");
    assert!(v["messaggio"].is_null());
    let first_at = v["annullamento_mittente"]["received_at"].clone();
    let r = send(
        &mut prog,
        &op_key,
        &[Part::File(
            "segnatura",
            "annullamento.xml",
            notice_a.as_bytes(),
        )],
    )
    .await;
    let v = json_of(&r);
    assert_eq!(v["esito"], "annullamento_gia_registrato", "{v}");
    assert_eq!(v["annullamento_mittente"]["received_at"], first_at);
    let auth = format!("Bearer {op_key}");
    let r = prog
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/protocollo/voci/{ours_a}/annullamento-mittente"),
            &[("authorization", &auth)],
            vec![],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json_of(&r);
    assert_eq!(v["registration"].as_i64(), Some(ours_a));
    assert_eq!(v["received_at"], first_at);
    let r = prog
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/protocollo/voci/{ours_b}/annullamento-mittente"),
            &[("authorization", &auth)],
            vec![],
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let entry = op.get(&format!("/backoffice/protocollo/{ours_a}")).await;
    assert!(
        entry.body.contains("data-element=\"sender-annulment\""),
        "{}",
        entry.body
    );
    assert!(entry.body.contains("Determina n. 5/2026"));
    // Our registration itself is not annulled: that is our own act.
    assert!(!entry.body.contains("Registrazione annullata"));

    // The annulment of B from the page.
    let notice_b = annulment_of(reg_b);
    let r = op
        .post_multipart(
            &action,
            &[Part::File(
                "segnatura",
                "annullamento.xml",
                notice_b.as_bytes(),
            )],
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("data-outcome=\"annullamento\""),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains(&format!("href=\"/backoffice/protocollo/{ours_b}\""))
    );

    // An annulment naming a registration we never received: 007, from the
    // API and from the page.
    let mut unknown = reg_a.clone();
    unknown.number = palazzo_domain::protocollo::ProtocolNumber::new(999_999).unwrap();
    let notice_x = annulment_of(&unknown);
    let parts = [Part::File(
        "segnatura",
        "annullamento.xml",
        notice_x.as_bytes(),
    )];
    let r = send(&mut prog, &op_key, &parts).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json_of(&r);
    assert_eq!(v["esito"], "eccezione", "{v}");
    assert_eq!(v["codice"], "007_ErroreIdentificatoreNonTrovato");
    assert!(
        v["messaggio"]
            .as_str()
            .unwrap()
            .contains("007_ErroreIdentificatoreNonTrovato")
    );
    let r = op.post_multipart(&action, &parts, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains("data-code=\"007_ErroreIdentificatoreNonTrovato\"")
    );

    // The ledger holds each change once and verifies.
    let report = palazzo_services::verify::verify(app.app.db(), app.app.keys())
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    app.stop().await;
}

#[tokio::test]
async fn protocol_messages_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn protocol_messages_postgres() {
    run(Backend::Postgres).await
}
