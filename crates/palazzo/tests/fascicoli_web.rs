//! The titolario and fascicoli back office over HTTP, on both backends:
//! the titolario page and an edit by the administrator (refused to an
//! operatore), opening a fascicolo from the form, filing a registration by
//! number, the index downloads, closing and the refusal that follows (TI-4).
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
                subject: "Istanza di permesso di costruire".into(),
                correspondents: vec![Correspondent::person("Mario Rossi", &cf)],
                received_number: None,
                received_date: None,
                primary: DocumentRef {
                    name: "istanza.pdf".into(),
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

    // The titolario: everyone in the back office reads it, the admin edits it.
    let mut admin = Browser::new(&app, CASAMASSIMA);
    admin.demo_sign_in("admin").await;
    let page = admin.get("/backoffice/titolario").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Edilizia privata") && page.body.contains("versione 1"));
    let csrf = page.csrf().unwrap();
    let r = admin
        .post(
            "/backoffice/titolario",
            &[
                ("csrf", &csrf),
                ("azione", "aggiungi"),
                ("voce", "VI"),
                ("nome", "Energia"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = admin.get("/backoffice/titolario").await;
    assert!(page.body.contains("VI.11") && page.body.contains("versione 2"));
    let r = admin
        .post(
            "/backoffice/titolario",
            &[("csrf", &csrf), ("azione", "chiudi"), ("voce", "VI.99")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("titolario_voce_inesistente"));

    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let list = op.get("/backoffice/fascicoli").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let csrf = list.csrf().unwrap();
    let r = op
        .post(
            "/backoffice/titolario",
            &[("csrf", &csrf), ("azione", "chiudi"), ("voce", "VI.3")],
        )
        .await;
    assert_eq!(r.status, 403, "operators do not edit the titolario");

    // Open a fascicolo (a refused form first), file the registration by number.
    let form = |class: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("classe", class.to_owned()),
            ("tipo", "procedimento".to_owned()),
            ("ufficio", first.id.0.to_string()),
            ("oggetto", "Permesso di costruire via Roma 1".to_owned()),
            ("responsabile", "Ing. Anna Bianchi".to_owned()),
            ("partecipanti", "Soprintendenza ABAP".to_owned()),
        ]
    };
    let as_refs = |v: &Vec<(&'static str, String)>| {
        v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()
    };
    let bad = as_refs(&form("VI"));
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = op.post("/backoffice/fascicoli", &bad).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("classifica_class_required"));
    assert!(
        r.body.contains("Permesso di costruire via Roma 1"),
        "the form is kept"
    );
    let good = as_refs(&form("VI.3"));
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = op.post("/backoffice/fascicoli", &good).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let at = r.location().unwrap().split('?').next().unwrap().to_owned();
    let page = op.get(&at).await;
    let year = reg.year.to_string();
    assert!(
        page.body.contains(&format!("Fascicolo {year}-VI.3-1")),
        "{}",
        page.body
    );
    let r = op
        .post(
            &format!("{at}/documenti"),
            &[
                ("csrf", &csrf),
                ("azione", "aggiungi"),
                ("numero", "1"),
                ("anno", &year),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        op.get(&at)
            .await
            .body
            .contains("Istanza di permesso di costruire")
    );
    let found = op
        .get("/backoffice/fascicoli?classe=vi.3&oggetto=roma")
        .await;
    assert!(found.body.contains(&format!("{year}-VI.3-1")));

    // The index downloads equal the links.
    let xml = op.get(&format!("{at}/indice?formato=xml")).await;
    assert_eq!(xml.status, 200);
    assert_eq!(xml.body.matches("<IdDoc>").count(), 1);
    assert!(xml.body.contains(&Impronta::of(b"%PDF").base64()));
    let csv = op.get(&format!("{at}/indice?formato=csv")).await;
    assert_eq!(csv.body.lines().count(), 2);

    // Close; then filing is refused (TI-4).
    let r = op.post(&format!("{at}/chiudi"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    let r = op
        .post(
            &format!("{at}/documenti"),
            &[
                ("csrf", &csrf),
                ("azione", "togli"),
                ("registrazione", &reg.id.0.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("fascicolo_chiuso"));
    app.stop().await;
}

#[tokio::test]
async fn fascicoli_back_office_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn fascicoli_back_office_postgres() {
    run(Backend::Postgres).await
}
