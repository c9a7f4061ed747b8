//! Hand-offs of whole fascicoli and restricted areas over HTTP, on both
//! backends (TI-5, TI-6; CAD art. 41 c.2-quater): a fascicolo is assigned
//! from its page and over the API, acted on in the office's inbox like a
//! registration, shown as a timeline, counted in the waiting times and
//! exported as `Assegnazione`; a restricted fascicolo and its sub-fascicolo
//! are read by the responsible office and the dirigente, while the
//! segretario — who reads the register — gets on every route that exposes a
//! fascicolo the same answer as for a fascicolo that does not exist, or one
//! of another comune; the list, the search, the registration page and the
//! API list leave it out. Closing a fascicolo with an open sub-fascicolo is
//! refused with a stable code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::protocollo::{Correspondent, Flow, Impronta};
use palazzo_services::access::Actor;
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
    let snap = app.app.portal(t.id).await.unwrap();
    let (first, second) = (&snap.offices[0], &snap.offices[1]);
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
    let reg = app
        .app
        .register_protocol(
            t.id,
            &desk,
            RegistrationInput {
                register: None,
                flow: Flow::Entrata,
                subject: "Certificato medico".into(),
                correspondents: vec![Correspondent::person("Mario Rossi", &cf)],
                received_number: None,
                received_date: None,
                primary: DocumentRef {
                    name: "certificato.pdf".into(),
                    media_type: "application/pdf".into(),
                    size: 4,
                    sha256: Impronta::of(b"%PDF"),
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
    let mut dirigente = Browser::new(&app, CASAMASSIMA);
    dirigente.demo_sign_in("dirigente").await;
    let mut segretario = Browser::new(&app, CASAMASSIMA);
    segretario.demo_sign_in("segretario").await;
    let mut elsewhere = Browser::new(&app, ACQUAVIVA);
    elsewhere.demo_sign_in("dirigente").await;

    // A fascicolo of the operatore's office, a document, a sub-fascicolo.
    let r = api(
        &mut op,
        "POST",
        "/fascicoli",
        Some(json!({
            "classification": "VI.3", "kind": "procedimento", "subject": "Accertamento sanitario riservatissimo",
            "office": first.id.0, "responsible": "Dott.ssa Neri"
        })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let fa = json_of(&r);
    let (id, code) = (
        fa["id"].as_i64().unwrap(),
        fa["code"].as_str().unwrap().to_owned(),
    );
    let r = api(
        &mut op,
        "POST",
        &format!("/fascicoli/{id}/documenti"),
        Some(json!({ "registration": reg.id.0 })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api(
        &mut op,
        "POST",
        "/fascicoli",
        Some(json!({
            "kind": "procedimento", "subject": "Referti allegati",
            "office": first.id.0, "responsible": "Dott.ssa Neri", "parent": id
        })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let sub = json_of(&r);
    let (sub_id, sub_code) = (
        sub["id"].as_i64().unwrap(),
        sub["code"].as_str().unwrap().to_owned(),
    );

    // Closing with an open sub-fascicolo: refused, web and API.
    let r = api(&mut op, "POST", &format!("/fascicoli/{id}/chiusura"), None).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(json_of(&r)["error"], "fascicolo_sottofascicoli_aperti");
    let csrf = op.csrf_of(&format!("/backoffice/fascicoli/{id}")).await;
    let r = op
        .post(
            &format!("/backoffice/fascicoli/{id}/chiudi"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("fascicolo_sottofascicoli_aperti"));
    assert!(r.body.contains("ha sottofascicoli aperti"), "{}", r.body);

    // Hand-off of the whole fascicolo (TI-5): from its page, per competenza.
    let r = op
        .post(
            &format!("/backoffice/fascicoli/{id}/assegna"),
            &[
                ("csrf", &csrf),
                ("ufficio", &second.id.0.to_string()),
                ("tipo", "competenza"),
                ("nota", "Per il parere"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The other office's inbox (the dirigente works every office).
    let inbox = format!("/backoffice/uffici/{}/assegnazioni", second.data.slug);
    let page = dirigente.get(&inbox).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!(
            "href=\"/backoffice/fascicoli/{id}\">Fascicolo {code}"
        )),
        "{}",
        page.body
    );
    let r = api(
        &mut dirigente,
        "GET",
        &format!("/uffici/{}/assegnazioni", second.data.slug),
        None,
    )
    .await;
    let rows = json_of(&r);
    let h = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["fascicolo"] == id)
        .unwrap_or_else(|| panic!("{rows}"))
        .clone();
    assert!(h.get("registration").is_none());
    // Refuse without a reason: the stable code; then accept.
    let hid = h["id"].as_i64().unwrap();
    let r = api(
        &mut dirigente,
        "POST",
        &format!("/assegnazioni/{hid}"),
        Some(json!({ "action": "rifiuta" })),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(json_of(&r)["error"], "handoff_motivo_mancante");
    let r = api(
        &mut dirigente,
        "POST",
        &format!("/assegnazioni/{hid}"),
        Some(json!({ "action": "accetta" })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Over the API, per conoscenza.
    let r = api(
        &mut op,
        "POST",
        &format!("/fascicoli/{id}/assegnazioni"),
        Some(json!({ "office": second.id.0, "kind": "conoscenza" })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(json_of(&r)["fascicolo"], id);
    let r = api(
        &mut op,
        "GET",
        &format!("/fascicoli/{id}/assegnazioni"),
        None,
    )
    .await;
    let route = json_of(&r);
    assert_eq!(route["handoffs"].as_array().unwrap().len(), 2);
    assert_eq!(route["timeline"].as_array().unwrap().len(), 3);
    // The timeline on the page, the Assegnazione in the index, the waits.
    let page = op.get(&format!("/backoffice/fascicoli/{id}")).await;
    assert!(page.body.contains("accettato"), "{}", page.body);
    assert!(page.body.contains("Per il parere"));
    let xml = op
        .get(&format!("/backoffice/fascicoli/{id}/indice?formato=xml"))
        .await;
    assert_eq!(xml.body.matches("<Assegnazione>").count(), 2);
    assert!(
        xml.body
            .contains("<TipoAssegnazione>per conoscenza</TipoAssegnazione>")
    );
    let r = api(&mut dirigente, "GET", "/protocollo/tempi", None).await;
    assert!(
        json_of(&r)
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["office"] == second.id.0 && w["handled"] == 1),
        "{}",
        r.body
    );

    // TI-6: restricted from the page (no other subject designated).
    let r = op
        .post(
            &format!("/backoffice/fascicoli/{id}/riservatezza"),
            &[("csrf", &csrf), ("azione", "riserva")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = op.get(&format!("/backoffice/fascicoli/{id}")).await;
    assert!(page.body.contains("data-element=\"riservato\""));

    // Every route that shows a fascicolo: insiders read it; the segretario
    // gets what a missing fascicolo gets, and so does another comune.
    let missing = 999_999;
    let reads = |f: i64| {
        vec![
            format!("/backoffice/fascicoli/{f}"),
            format!("/backoffice/fascicoli/{f}/indice?formato=xml"),
            format!("/backoffice/fascicoli/{f}/indice?formato=csv"),
            format!("/api/v1/fascicoli/{f}"),
            format!("/api/v1/fascicoli/{f}/indice"),
            format!("/api/v1/fascicoli/{f}/assegnazioni"),
        ]
    };
    for f in [id, sub_id] {
        for (path, gone) in reads(f).into_iter().zip(reads(missing)) {
            for insider in [&mut op, &mut dirigente] {
                let p = insider.get(&path).await;
                assert_eq!(p.status, 200, "{path}: {}", p.body);
            }
            let hidden = segretario.get(&path).await;
            let absent = segretario.get(&gone).await;
            let foreign = elsewhere.get(&path).await;
            assert_eq!(hidden.status, 404, "{path}: {}", hidden.body);
            assert_eq!(hidden.status, absent.status, "{path}");
            assert_eq!(hidden.status, foreign.status, "{path}");
            for secret in [&code, &sub_code, "riservatissimo", "Referti"] {
                assert!(!hidden.body.contains(secret), "{path} shows {secret}");
            }
        }
    }
    // The writes answer the segretario as for a missing fascicolo too.
    let csrf = segretario
        .csrf_of(&format!("/backoffice/protocollo/{}", reg.id.0))
        .await;
    for (path, form) in [
        ("documenti", vec![("azione", "togli")]),
        ("chiudi", vec![]),
        ("assegna", vec![("tipo", "competenza")]),
        ("riservatezza", vec![("azione", "libera")]),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(form.iter().copied());
        let hidden = segretario
            .post(&format!("/backoffice/fascicoli/{id}/{path}"), &f)
            .await;
        let absent = segretario
            .post(&format!("/backoffice/fascicoli/{missing}/{path}"), &f)
            .await;
        assert_eq!(hidden.status, absent.status, "{path}");
        assert!(!hidden.body.contains(&code));
    }
    for path in ["documenti", "chiusura", "assegnazioni", "riservatezza"] {
        let hidden = api(
            &mut segretario,
            "POST",
            &format!("/fascicoli/{id}/{path}"),
            Some(json!({})),
        )
        .await;
        let absent = api(
            &mut segretario,
            "POST",
            &format!("/fascicoli/{missing}/{path}"),
            Some(json!({})),
        )
        .await;
        assert_eq!(hidden.status, absent.status, "{path}");
    }
    // Lists, search, the registration page, by code.
    let list = segretario.get("/backoffice/fascicoli").await;
    assert_eq!(list.status, 200);
    assert!(!list.body.contains(&code) && !list.body.contains(&sub_code));
    let found = segretario
        .get("/backoffice/fascicoli?oggetto=riservatissimo")
        .await;
    assert!(!found.body.contains(&code));
    let r = api(&mut segretario, "GET", "/fascicoli?limite=200", None).await;
    assert!(
        json_of(&r)["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != id && f["id"] != sub_id)
    );
    let entry = segretario
        .get(&format!("/backoffice/protocollo/{}", reg.id.0))
        .await;
    assert_eq!(entry.status, 200);
    assert!(
        !entry.body.contains(&code),
        "the registration page hides it"
    );
    let entry = op
        .get(&format!("/backoffice/protocollo/{}", reg.id.0))
        .await;
    assert!(entry.body.contains(&code));
    let list = op.get("/backoffice/fascicoli").await;
    assert!(list.body.contains(&code) && list.body.contains(&sub_code));
    let r = api(&mut op, "GET", &format!("/fascicoli/{id}"), None).await;
    assert!(json_of(&r)["restriction"].is_object());

    // Lifted over the API: the segretario reads it again.
    let r = api(
        &mut op,
        "POST",
        &format!("/fascicoli/{id}/riservatezza"),
        Some(json!({ "restricted": false })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(json_of(&r).get("restriction").is_none());
    let p = segretario
        .get(&format!("/backoffice/fascicoli/{sub_id}"))
        .await;
    assert_eq!(p.status, 200);
    let r = api(
        &mut op,
        "POST",
        &format!("/fascicoli/{id}/riservatezza"),
        Some(json!({ "restricted": false })),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(json_of(&r)["error"], "fascicolo_non_riservato");
    app.stop().await;
}

#[tokio::test]
async fn fascicolo_handoffs_and_restricted_areas_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn fascicolo_handoffs_and_restricted_areas_postgres() {
    run(Backend::Postgres).await
}
