//! Hand-offs to a named person over HTTP, on both backends (issue 4, part
//! 4; TI-5): the assignment forms and the JSON API take a person; "Le mie
//! assegnazioni" (page and API) lists them; a colleague who is not the
//! assignee is refused (403) while the assignee acts; a refusal comes back
//! to the desk that assigned it, flagged "Rifiutata" with reason and
//! refuser, until it is re-assigned or noted; a forward to a refused target
//! leaves the hand-off open; the timeline, the waiting times and the
//! fascicolo index name the person.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::protocollo::{Correspondent, Flow, Impronta};
use palazzo_services::access::Actor;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_store::{DocumentRef, Store, UserId};
use palazzo_testkit::{Backend, Browser, CASAMASSIMA, Page, TestApp};
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

/// The hand-off id of the first action form on a page.
fn first_form(body: &str) -> String {
    body.split("action=\"/backoffice/assegnazioni/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned()
}

async fn staff_id(app: &TestApp, key: &str) -> UserId {
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    app.app
        .db()
        .user_by_link(t.id, "demo", &format!("staff:{key}"))
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let snap = app.app.portal(t.id).await.unwrap();
    let first = &snap.offices[0];
    let second = &snap.offices[1];
    let desk = Actor {
        user: None,
        admin: None,
        principal: Principal {
            grants: vec![Grant {
                role: Role::Operatore,
                office: Some(first.id.0),
            }],
        },
        name: Some("Sportello".into()),
        acr: None,
    };
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    let mut regs = Vec::new();
    for subject in ["Segnalazione buca via Roma", "Richiesta di contributo"] {
        let r = app
            .app
            .register_protocol(
                t.id,
                &desk,
                RegistrationInput {
                    register: None,
                    flow: Flow::Entrata,
                    subject: subject.into(),
                    correspondents: vec![Correspondent::person("Mario Rossi", &cf)],
                    received_number: None,
                    received_date: None,
                    primary: DocumentRef {
                        name: "s.pdf".into(),
                        media_type: "application/pdf".into(),
                        size: 4,
                        sha256: Impronta::of(subject.as_bytes()),
                    },
                    attachments: vec![],
                    classification: Some("VI.3".into()),
                    office: None,
                    emergency: None,
                },
            )
            .await
            .unwrap();
        regs.push(r.id.0);
    }
    // Operatore and responsabile work the first office; the dirigente all.
    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let mut resp = Browser::new(&app, CASAMASSIMA);
    resp.demo_sign_in("responsabile").await;
    let mut dir = Browser::new(&app, CASAMASSIMA);
    dir.demo_sign_in("dirigente").await;
    let mut seg = Browser::new(&app, CASAMASSIMA);
    seg.demo_sign_in("segretario").await;
    let (op_id, resp_id, seg_id) = (
        staff_id(&app, "operatore").await,
        staff_id(&app, "responsabile").await,
        staff_id(&app, "segretario").await,
    );
    let resp_name = "Responsabile del procedimento (demo)";

    // --- Back office -------------------------------------------------------
    let entry = format!("/backoffice/protocollo/{}", regs[0]);
    let page = op.get(&entry).await;
    assert!(page.body.contains("name=\"persona\""), "{}", page.body);
    assert!(page.body.contains(resp_name), "the staff are offered");
    let csrf = page.csrf().unwrap();
    // A person who is not staff that works cases: a clear Italian refusal.
    let r = op
        .post(
            &format!("{entry}/assegna"),
            &[
                ("csrf", &csrf),
                ("ufficio", "0"),
                ("persona", &seg_id.0.to_string()),
                ("tipo", "competenza"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body
            .contains("data-code=\"handoff_persona_non_abilitata\""),
        "{}",
        r.body
    );
    let r = op
        .post(
            &format!("{entry}/assegna"),
            &[
                ("csrf", &csrf),
                ("ufficio", "0"),
                ("persona", "0"),
                ("tipo", "competenza"),
            ],
        )
        .await;
    assert!(
        r.body.contains("handoff_destinatario_mancante"),
        "{}",
        r.body
    );
    // To the responsabile by name (the office is theirs).
    let r = op
        .post(
            &format!("{entry}/assegna"),
            &[
                ("csrf", &csrf),
                ("ufficio", "0"),
                ("persona", &resp_id.0.to_string()),
                ("tipo", "competenza"),
                ("nota", "Sopralluogo"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let timeline = op.get(&entry).await.body;
    let timeline = timeline.split("data-element=\"timeline\"").nth(1).unwrap();
    assert!(
        timeline.contains(&format!("{resp_name} — ")),
        "the timeline names the person: {timeline}"
    );

    // "Le mie assegnazioni": the responsabile's lists it; the operatore's not.
    let mine = resp.get("/backoffice/mie-assegnazioni").await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert!(mine.body.contains("Segnalazione buca via Roma"));
    let handoff = first_form(&mine.body);
    let op_mine = op.get("/backoffice/mie-assegnazioni").await;
    assert_eq!(op_mine.status, 200);
    assert!(!op_mine.body.contains("Segnalazione buca via Roma"));
    assert!(
        op.get("/backoffice")
            .await
            .body
            .contains("/backoffice/mie-assegnazioni")
    );
    assert_eq!(seg.get("/backoffice/mie-assegnazioni").await.status, 403);
    // The operatore of the same office is not the assignee: 403, nothing changes.
    let r = op
        .post(
            &format!("/backoffice/assegnazioni/{handoff}"),
            &[("csrf", &csrf), ("azione", "accetta"), ("ritorno", "mie")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // The responsabile refuses with a reason: back on the operatore's desk.
    let rcsrf = mine.csrf().unwrap();
    let r = resp
        .post(
            &format!("/backoffice/assegnazioni/{handoff}"),
            &[
                ("csrf", &rcsrf),
                ("azione", "rifiuta"),
                ("nota", "Non è di questo ufficio"),
                ("ritorno", "mie"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), Some("/backoffice/mie-assegnazioni?esito=1"));
    let op_mine = op.get("/backoffice/mie-assegnazioni").await;
    let back = op_mine
        .body
        .split("data-element=\"rifiutata\"")
        .nth(1)
        .expect("the refused hand-off is back at the desk");
    assert!(back.contains("Rifiutata") && back.contains("Non è di questo ufficio"));
    assert!(back.contains(resp_name), "the refuser is named");
    // Re-assigned to the second office: it leaves the desk.
    let r = op
        .post(
            &format!("/backoffice/assegnazioni/{handoff}"),
            &[
                ("csrf", &csrf),
                ("azione", "riassegna"),
                ("ufficio", &second.id.0.to_string()),
                ("persona", "0"),
                ("ritorno", "mie"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        !op.get("/backoffice/mie-assegnazioni")
            .await
            .body
            .contains("data-element=\"rifiutata\"")
    );
    // The dirigente, in the second office's inbox, forwards it to the
    // operatore by name in the first office.
    let inbox = format!("/backoffice/uffici/{}/assegnazioni", second.data.slug);
    let page = dir.get(&inbox).await;
    assert!(
        page.body.contains("Segnalazione buca via Roma"),
        "{}",
        page.body
    );
    let h2 = first_form(&page.body);
    let dcsrf = page.csrf().unwrap();
    let r = dir
        .post(
            &format!("/backoffice/assegnazioni/{h2}"),
            &[
                ("csrf", &dcsrf),
                ("azione", "inoltra"),
                ("ufficio", &first.id.0.to_string()),
                ("persona", &op_id.0.to_string()),
                ("ritorno", &second.data.slug),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        op.get("/backoffice/mie-assegnazioni")
            .await
            .body
            .contains("Segnalazione buca via Roma")
    );
    let waits = dir.get("/backoffice/protocollo/tempi").await;
    assert!(
        waits.body.contains(&format!(" — {resp_name}")),
        "{}",
        waits.body
    );

    // --- JSON API ----------------------------------------------------------
    let id = regs[1];
    let r = api(
        &mut op,
        "POST",
        &format!("/protocollo/voci/{id}/assegnazioni"),
        Some(json!({"user": 999_999, "kind": "competenza"})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(json_of(&r)["error"], "handoff_persona_sconosciuta");
    let r = api(
        &mut op,
        "POST",
        &format!("/protocollo/voci/{id}/assegnazioni"),
        Some(json!({"user": resp_id.0, "office": first.id.0, "kind": "competenza"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let h = json_of(&r);
    assert_eq!(h["user"], resp_id.0);
    assert_eq!(h["person"], resp_name);
    assert_eq!(h["from"]["user"], op_id.0);
    let hid = h["id"].as_i64().unwrap();
    let r = api(&mut resp, "GET", "/assegnazioni/mie", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        json_of(&r)["assegnazioni"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == hid)
    );
    let act = format!("/assegnazioni/{hid}");
    let r = api(&mut op, "POST", &act, Some(json!({"action": "accetta"}))).await;
    assert_eq!(r.status, 403, "not the assignee: {}", r.body);
    // A forward to a refused target leaves the hand-off open and unchanged.
    let r = api(
        &mut resp,
        "POST",
        &act,
        Some(json!({"action": "inoltra", "user": seg_id.0})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(json_of(&r)["error"], "handoff_persona_non_abilitata");
    let r = api(&mut resp, "GET", &format!("/protocollo/voci/{id}"), None).await;
    let e = json_of(&r);
    assert_eq!(e["handoffs"].as_array().unwrap().len(), 1);
    assert_eq!(e["handoffs"][0]["state"], "assegnato");
    let r = api(
        &mut resp,
        "POST",
        &act,
        Some(json!({"action": "rifiuta", "note": "Manca la planimetria"})),
    )
    .await;
    assert_eq!(json_of(&r)["state"], "rifiutato", "{}", r.body);
    let r = api(&mut op, "GET", "/assegnazioni/mie", None).await;
    let back = json_of(&r)["rifiutate"].clone();
    assert_eq!(back[0]["handoff"]["id"], hid, "{back}");
    assert_eq!(back[0]["reason"], "Manca la planimetria");
    assert!(back[0]["refused_by"].as_str().unwrap().contains(resp_name));
    // Only the desk takes note; then it is gone.
    let r = api(
        &mut resp,
        "POST",
        &act,
        Some(json!({"action": "prendi_atto"})),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = api(
        &mut op,
        "POST",
        &act,
        Some(json!({"action": "prendi_atto"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api(&mut op, "GET", "/assegnazioni/mie", None).await;
    assert_eq!(json_of(&r)["rifiutate"], json!([]));
    let r = api(
        &mut op,
        "GET",
        &format!("/uffici/{}/rifiutate", first.data.slug),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api(&mut dir, "GET", "/protocollo/tempi", None).await;
    assert!(
        json_of(&r)
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["user"] == resp_id.0 && w["person"] == resp_name),
        "{}",
        r.body
    );

    // A fascicolo to a person: its index names them (Allegato 5 AS).
    let r = api(
        &mut op,
        "POST",
        "/fascicoli",
        Some(json!({
            "classification": "VI.3", "kind": "procedimento", "subject": "Strada comunale",
            "office": first.id.0, "responsible": "Ing. Anna Bianchi"
        })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let fid = json_of(&r)["id"].as_i64().unwrap();
    let r = api(
        &mut op,
        "POST",
        &format!("/fascicoli/{fid}/assegnazioni"),
        Some(json!({"user": resp_id.0, "kind": "conoscenza"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(json_of(&r)["person"], resp_name);
    let r = api(&mut op, "GET", &format!("/fascicoli/{fid}/indice"), None).await;
    assert!(
        r.body.contains(
            "<AS><Cognome>(demo)</Cognome><Nome>Responsabile del procedimento</Nome></AS>"
        ),
        "{}",
        r.body
    );
    let page = op.get(&format!("/backoffice/fascicoli/{fid}")).await;
    assert!(page.body.contains(resp_name), "{}", page.body);
    app.stop().await;
}

#[tokio::test]
async fn handoffs_people_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test]
async fn handoffs_people_postgres() {
    run(Backend::Postgres).await;
}
