//! The protocollo back office over HTTP, on both backends: the register,
//! the document page with its route, classification, assignment, the
//! office inbox with its actions, annulment, and the waiting-time report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::protocollo::{Correspondent, Flow, Impronta};
use palazzo_services::access::Actor;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_store::{DocumentRef, UserId};
use palazzo_testkit::{Backend, Browser, CASAMASSIMA, TestApp};

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let snap = app.app.portal(t.id).await.unwrap();
    let first = &snap.offices[0];
    let second = &snap.offices[1];
    let desk = Actor {
        user: Some(UserId(1)),
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
    let reg = app
        .app
        .register_protocol(
            t.id,
            &desk,
            RegistrationInput {
                register: None,
                flow: Flow::Entrata,
                subject: "Richiesta di accesso agli atti".into(),
                correspondents: vec![Correspondent::person("Mario Rossi", &cf)],
                received_number: Some("7/2026".into()),
                received_date: None,
                primary: DocumentRef {
                    name: "richiesta.pdf".into(),
                    media_type: "application/pdf".into(),
                    size: 4,
                    sha256: Impronta::of(b"%PDF"),
                },
                attachments: vec![],
                classification: None,
                office: None,
                emergency: None,
            },
        )
        .await
        .unwrap();
    let entry = format!("/backoffice/protocollo/{}", reg.id.0);

    // The operatore of the first office reads the register and the entry.
    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let list = op.get("/backoffice/protocollo").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("0000001") && list.body.contains("Richiesta di accesso agli atti"));
    let by_number = op.get("/backoffice/protocollo?numero=1").await;
    assert_eq!(by_number.location(), Some(entry.as_str()));
    let page = op.get(&entry).await;
    assert!(
        page.body.contains(&Impronta::of(b"%PDF").hex()),
        "the fingerprint is shown"
    );
    assert!(page.body.contains("Da classificare"));
    assert!(
        !page.body.contains("Annulla la registrazione"),
        "operators cannot annul"
    );

    // Classify (a bad code is refused in Italian, nothing changes), then assign.
    let csrf = page.csrf().unwrap();
    let r = op
        .post(
            &format!("{entry}/classifica"),
            &[("csrf", &csrf), ("classifica", "XV.9"), ("ufficio", "0")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("classifica_unknown"));
    let r = op
        .post(
            &format!("{entry}/classifica"),
            &[("csrf", &csrf), ("classifica", "I.8"), ("ufficio", "0")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(
        op.get(&entry)
            .await
            .body
            .contains("Informazioni e relazioni con il pubblico")
    );
    let r = op
        .post(
            &format!("{entry}/assegna"),
            &[
                ("csrf", &csrf),
                ("ufficio", &first.id.0.to_string()),
                ("tipo", "competenza"),
                ("nota", "Entro 30 giorni"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    // The inbox of the first office shows it; forward to the second office.
    let inbox = format!("/backoffice/uffici/{}/assegnazioni", first.data.slug);
    let page = op.get(&inbox).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Richiesta di accesso agli atti"));
    let handoff = page
        .body
        .split("action=\"/backoffice/assegnazioni/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let r = op
        .post(
            &format!("/backoffice/assegnazioni/{handoff}"),
            &[
                ("csrf", &csrf),
                ("azione", "rifiuta"),
                ("nota", ""),
                ("ritorno", &first.data.slug),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "a refusal needs a reason");
    let r = op
        .post(
            &format!("/backoffice/assegnazioni/{handoff}"),
            &[
                ("csrf", &csrf),
                ("azione", "inoltra"),
                ("ufficio", &second.id.0.to_string()),
                ("nota", "Competenza dell'altro ufficio"),
                ("ritorno", &first.data.slug),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        !op.get(&inbox)
            .await
            .body
            .contains("Richiesta di accesso agli atti")
    );
    // Not the operator's office: forbidden.
    let other_inbox = format!("/backoffice/uffici/{}/assegnazioni", second.data.slug);
    assert_eq!(op.get(&other_inbox).await.status, 403);

    // The dirigente sees every office, and the route on the document page.
    let mut dir = Browser::new(&app, CASAMASSIMA);
    dir.demo_sign_in("dirigente").await;
    assert!(
        dir.get(&other_inbox)
            .await
            .body
            .contains("Richiesta di accesso agli atti")
    );
    let page = dir.get(&entry).await;
    let timeline = page.body.split("data-element=\"timeline\"").nth(1).unwrap();
    let order: Vec<usize> = ["assegnato", "inoltrato", "assegnato"]
        .iter()
        .scan(0, |from, w| {
            let at = timeline[*from..].find(w).map(|i| i + *from);
            *from = at.map_or(usize::MAX / 2, |i| i + 1);
            at
        })
        .collect();
    assert_eq!(
        order.len(),
        3,
        "the route lists assignment, forwarding and the new assignment"
    );
    assert_eq!(dir.get("/backoffice/protocollo/tempi").await.status, 200);
    assert_eq!(op.get("/backoffice/protocollo/tempi").await.status, 403);

    // The segretario annuls with reason and act; it stays, marked.
    let mut seg = Browser::new(&app, CASAMASSIMA);
    seg.demo_sign_in("segretario").await;
    let csrf = seg.csrf_of(&entry).await;
    let r = seg
        .post(
            &format!("{entry}/annulla"),
            &[("csrf", &csrf), ("motivo", "Doppione"), ("atto", "")],
        )
        .await;
    assert_eq!(r.status, 422);
    let r = seg
        .post(
            &format!("{entry}/annulla"),
            &[
                ("csrf", &csrf),
                ("motivo", "Doppione"),
                ("atto", "Decreto n. 4/2026"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = seg.get(&entry).await;
    assert!(
        page.body.contains("Registrazione annullata") && page.body.contains("Decreto n. 4/2026")
    );
    assert!(
        seg.get("/backoffice/protocollo")
            .await
            .body
            .contains("Annullata")
    );
    // A citizen sees none of it.
    let mut citizen = Browser::new(&app, CASAMASSIMA);
    let res = &app.app.demo_residents(t.id, 1).await.unwrap()[0];
    citizen
        .demo_sign_in(&format!("cf:{}", res.codice_fiscale.as_str()))
        .await;
    assert_eq!(citizen.get(&entry).await.status, 403);
    assert_eq!(citizen.get("/backoffice/protocollo").await.status, 403);
    let report = palazzo_services::verify::verify(app.app.db(), app.app.keys())
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    app.stop().await;
}

#[tokio::test]
async fn protocollo_back_office_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn protocollo_back_office_postgres() {
    run(Backend::Postgres).await
}
