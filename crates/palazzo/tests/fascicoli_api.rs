//! Fascicoli on the registration page and in the JSON API, over HTTP on
//! both backends: the document page lists the fascicoli it is in (links),
//! files it into an open fascicolo by id or identifier and takes it out
//! again; the API reads the titolario, opens, searches, reads, files,
//! exports the index (XML and CSV) and closes, with the stable refusals
//! (closed fascicolo, unknown class, unknown kind, bad format); a class the
//! administrator added to the titolario (`VI.11`) classifies a sealed
//! outgoing entry, whose segnatura names it after the ente's titolario.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow, Impronta};
use palazzo_services::access::Actor;
use palazzo_services::fascicoli::TitolarioEdit;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_store::{DocumentRef, UserId};
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, Page, TestApp};
use serde_json::{Value, json};

fn json_of(p: &Page) -> Value {
    serde_json::from_str(&p.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", p.body))
}

async fn api(b: &mut Browser, method: &str, path: &str, body: Option<Value>) -> Page {
    let mut headers = vec![];
    let bytes = match &body {
        Some(v) => {
            headers.push(("content-type", "application/json"));
            serde_json::to_vec(v).unwrap()
        }
        None => Vec::new(),
    };
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    b.request(m, &format!("/api/v1{path}"), &headers, bytes)
        .await
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let other = app.app.tenant_for_host(ACQUAVIVA).unwrap();
    let snap = app.app.portal(t.id).await.unwrap();
    let first = &snap.offices[0];
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
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    let pdf = app
        .app
        .documents()
        .put_bytes("istanza.pdf", b"%PDF-1.7\n% istanza\n%%EOF\n")
        .await
        .unwrap();
    let reg = app
        .app
        .register_protocol(
            t.id,
            &desk,
            RegistrationInput {
                register: None,
                flow: Flow::Entrata,
                subject: "Istanza di permesso di costruire".into(),
                correspondents: vec![Correspondent::person("Mario Rossi", &cf)],
                received_number: None,
                received_date: None,
                primary: DocumentRef {
                    name: "istanza.pdf".into(),
                    media_type: "application/pdf".into(),
                    size: pdf.size,
                    sha256: Impronta::of(b"%PDF-1.7\n% istanza\n%%EOF\n"),
                },
                attachments: vec![],
                classification: Some("VI.3".into()),
                office: None,
                emergency: None,
            },
        )
        .await
        .unwrap();

    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;

    // The titolario over the API.
    let r = api(&mut op, "GET", "/titolario", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let tit = json_of(&r);
    assert_eq!(tit["version"], 1);
    assert!(
        tit["voices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["code"] == "VI.3" && v["closed"] == false)
    );

    // Open a fascicolo over the API (refusals first).
    let open = |class: &str, kind: &str| {
        json!({
            "classification": class, "kind": kind, "subject": "Permesso di costruire via Roma 1",
            "office": first.id.0, "responsible": "Ing. Anna Bianchi",
            "participants": ["Soprintendenza ABAP"]
        })
    };
    let r = api(
        &mut op,
        "POST",
        "/fascicoli",
        Some(open("VI.99", "procedimento")),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(json_of(&r)["error"], "classifica_unknown");
    let r = api(&mut op, "POST", "/fascicoli", Some(open("VI.3", "pratica"))).await;
    assert_eq!(r.status, 422);
    assert_eq!(json_of(&r)["error"], "fascicolo_tipo");
    let r = api(&mut op, "POST", "/fascicoli", Some(json!({"kind": 3}))).await;
    assert_eq!(r.status, 422);
    let r = api(
        &mut op,
        "POST",
        "/fascicoli",
        Some(open("VI.3", "procedimento")),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let f = json_of(&r);
    let fid = f["id"].as_i64().unwrap();
    let code = f["code"].as_str().unwrap().to_owned();
    assert_eq!(code, format!("{}-VI.3-1", reg.year));
    assert_eq!(f["documents"], json!([]));
    // A second one, to file by identifier from the page.
    let r = api(&mut op, "POST", "/fascicoli", Some(open("VI.3", "affare"))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let f2 = json_of(&r);
    let fid2 = f2["id"].as_i64().unwrap();
    let code2 = f2["code"].as_str().unwrap().to_owned();

    // Search and read.
    let r = api(
        &mut op,
        "GET",
        "/fascicoli?classifica=VI.3&aperti=true",
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json_of(&r)["items"].as_array().unwrap().len(), 2);
    let r = api(&mut op, "GET", "/fascicoli?oggetto=nulla+di+simile", None).await;
    assert_eq!(json_of(&r)["items"], json!([]));
    let r = api(&mut op, "GET", "/fascicoli?anno=abc", None).await;
    assert_eq!(r.status, 400);
    let r = api(&mut op, "GET", "/fascicoli/999999", None).await;
    assert_eq!(r.status, 404);
    let r = api(&mut op, "GET", "/fascicoli/abc", None).await;
    assert_eq!(r.status, 404);

    // File over the API; twice is refused.
    let body = json!({ "registration": reg.id.0 });
    let r = api(
        &mut op,
        "POST",
        &format!("/fascicoli/{fid}/documenti"),
        Some(body.clone()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json_of(&r)["documents"][0]["registration"], reg.id.0);
    let r = api(
        &mut op,
        "POST",
        &format!("/fascicoli/{fid}/documenti"),
        Some(body.clone()),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(json_of(&r)["error"], "fascicolo_documento_presente");
    let r = api(
        &mut op,
        "POST",
        &format!("/fascicoli/{fid}/documenti"),
        Some(json!({ "registration": reg.id.0, "action": "sposta" })),
    )
    .await;
    assert_eq!(r.status, 422);

    // The registration page lists it, files by identifier, takes it out.
    let entry = format!("/backoffice/protocollo/{}", reg.id.0);
    let page = op.get(&entry).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(&format!(
            "href=\"/backoffice/fascicoli/{fid}\">Fascicolo {code}</a>"
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains("VI.3 — "), "the class is named");
    let csrf = page.csrf().unwrap();
    let r = op
        .post(
            &format!("{entry}/fascicola"),
            &[("csrf", &csrf), ("fascicolo", &code2)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location().unwrap(), format!("{entry}?esito=fascicolata"));
    let page = op.get(&format!("{entry}?esito=fascicolata")).await;
    assert!(page.body.contains("Fascicolazione aggiornata."));
    assert!(page.body.contains(&format!("Fascicolo {code2}")));
    // An unknown fascicolo, and one it is already in: the page with the error.
    let r = op
        .post(
            &format!("{entry}/fascicola"),
            &[("csrf", &csrf), ("fascicolo", "1999-I.1-9")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("fascicolo_inesistente"));
    let r = op
        .post(
            &format!("{entry}/fascicola"),
            &[("csrf", &csrf), ("fascicolo", &fid.to_string())],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("fascicolo_documento_presente"));
    // Take it out of the second, from the registration page's own form.
    let r = op
        .post(
            &format!("/backoffice/fascicoli/{fid2}/documenti"),
            &[
                ("csrf", &csrf),
                ("azione", "togli"),
                ("registrazione", &reg.id.0.to_string()),
                ("ritorno", "protocollo"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = op.get(&entry).await;
    assert!(!page.body.contains(&format!("Fascicolo {code2}")));
    assert!(page.body.contains(&format!("Fascicolo {code}")));
    // Without a CSRF token: refused.
    let r = op
        .post(&format!("{entry}/fascicola"), &[("fascicolo", &code2)])
        .await;
    assert_eq!(r.status, 403);

    // The index, XML and CSV.
    let r = api(&mut op, "GET", &format!("/fascicoli/{fid}/indice"), None).await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    assert!(r.body.contains(&code));
    let r = api(
        &mut op,
        "GET",
        &format!("/fascicoli/{fid}/indice?formato=csv"),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with("fascicolo,registro,anno,numero"));
    assert!(r.body.contains("Istanza di permesso di costruire"));
    let r = api(
        &mut op,
        "GET",
        &format!("/fascicoli/{fid}/indice?formato=pdf"),
        None,
    )
    .await;
    assert_eq!(r.status, 400);

    // Close, then nothing more goes in or out.
    let r = api(&mut op, "POST", &format!("/fascicoli/{fid}/chiusura"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(json_of(&r)["closed_on"].is_string());
    let r = api(&mut op, "POST", &format!("/fascicoli/{fid}/chiusura"), None).await;
    assert_eq!(json_of(&r)["error"], "fascicolo_gia_chiuso");
    let r = api(
        &mut op,
        "POST",
        &format!("/fascicoli/{fid}/documenti"),
        Some(json!({ "registration": reg.id.0, "action": "togli" })),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(json_of(&r)["error"], "fascicolo_chiuso");
    let r = api(&mut op, "GET", &format!("/fascicoli/{fid}"), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(json_of(&r)["documents"][0]["registration"], reg.id.0);

    // Visitors and other comuni: nothing.
    let mut visitor = Browser::new(&app, CASAMASSIMA);
    for path in ["/titolario", "/fascicoli", &format!("/fascicoli/{fid}")] {
        let r = api(&mut visitor, "GET", path, None).await;
        assert_eq!(r.status, 401, "{path}");
    }
    let r = api(
        &mut visitor,
        "POST",
        "/fascicoli",
        Some(open("VI.3", "affare")),
    )
    .await;
    assert_eq!(r.status, 401);
    let mut elsewhere = Browser::new(&app, ACQUAVIVA);
    elsewhere.demo_sign_in("operatore").await;
    let r = api(&mut elsewhere, "GET", &format!("/fascicoli/{fid}"), None).await;
    assert_eq!(
        r.status, 404,
        "a fascicolo of another comune does not exist here"
    );

    // A class the administrator added works in a sealed outgoing entry.
    let mut admin_actor = desk.clone();
    admin_actor.principal.grants = vec![Grant {
        role: Role::AdminComune,
        office: None,
    }];
    app.app
        .edit_titolario(
            t.id,
            &admin_actor,
            TitolarioEdit::AddClass {
                titolo: "VI".into(),
                name: "Energia".into(),
            },
        )
        .await
        .unwrap();
    let r = api(&mut op, "GET", "/titolario", None).await;
    let tit = json_of(&r);
    assert_eq!(tit["version"], 2);
    assert!(
        tit["voices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["code"] == "VI.11")
    );
    let sealed = app
        .app
        .register_protocol(
            t.id,
            &desk,
            RegistrationInput {
                register: None,
                flow: Flow::Uscita,
                subject: "Comunicazione sul piano energetico".into(),
                correspondents: vec![Correspondent {
                    kind: CorrespondentKind::Amministrazione,
                    name: other.data.name.clone(),
                    fiscal_code: None,
                    ipa: Some(other.data.codice_ipa.as_str().to_owned()),
                    email: Some(other.data.pec.clone()),
                    address: None,
                    per_conoscenza: false,
                }],
                received_number: None,
                received_date: None,
                primary: pdf.to_ref(),
                attachments: vec![],
                classification: Some("VI.11".into()),
                office: None,
                emergency: None,
            },
        )
        .await
        .unwrap();
    let (_, xml) = app
        .app
        .protocol_segnatura(t.id, &desk, sealed.id)
        .await
        .unwrap()
        .expect("an outgoing entry is sealed");
    let xml = String::from_utf8_lossy(&xml).into_owned();
    assert!(
        xml.contains("<prot:CodiceFlat>VI.11</prot:CodiceFlat>"),
        "{xml}"
    );
    assert!(xml.contains("/ Energia</prot:Denominazione>"), "{xml}");
    let page = op
        .get(&format!("/backoffice/protocollo/{}", sealed.id.0))
        .await;
    assert!(
        page.body.contains("VI.11 — "),
        "the page names the new class"
    );
    assert!(page.body.contains("Energia"));
    app.stop().await;
}

#[tokio::test]
async fn fascicoli_api_and_registration_page_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn fascicoli_api_and_registration_page_postgres() {
    run(Backend::Postgres).await
}
