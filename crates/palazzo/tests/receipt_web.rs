//! The ricevuta di protocollo over HTTP on both backends (issue 4 item 7):
//! staff download it from the document page of the back office and from the
//! JSON API; the sender of an incoming registration — a citizen signed in
//! with their codice fiscale — lists "Le mie protocollazioni" in the
//! personal area and downloads each receipt; every download verifies
//! offline with `verify_pdf`; another citizen, and a citizen of the other
//! comune, get 404 for someone else's receipt; visitors are sent to sign in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::protocollo::{Correspondent, Flow};
use palazzo_services::access::Actor;
use palazzo_services::ledger::LEDGER_KEY;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_services::receipt::verify_pdf;
use palazzo_store::{PopPerson, Registration, TenantId, UserId};
use palazzo_testkit::{ACQUAVIVA, Backend, Browser, CASAMASSIMA, TestApp};
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, COOKIE, HeaderMap};

fn desk() -> Actor {
    Actor {
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
    }
}

/// Registers an incoming document from `from` at the desk.
async fn incoming(app: &TestApp, t: TenantId, from: &PopPerson, subject: &str) -> Registration {
    let pdf = app
        .app
        .documents()
        .put_bytes(
            "istanza.pdf",
            format!("%PDF-1.7\n% {subject}\n%%EOF\n").as_bytes(),
        )
        .await
        .unwrap();
    let input = RegistrationInput {
        register: None,
        flow: Flow::Entrata,
        subject: subject.into(),
        correspondents: vec![Correspondent::person(
            &format!("{} {}", from.name, from.surname),
            &from.codice_fiscale,
        )],
        received_number: None,
        received_date: None,
        primary: pdf.to_ref(),
        attachments: vec![],
        classification: None,
        office: None,
        emergency: None,
    };
    app.app.register_protocol(t, &desk(), input).await.unwrap()
}

/// A GET with the browser's cookies, keeping the body as bytes (a PDF).
async fn download(app: &TestApp, b: &Browser, host: &str, path: &str) -> (u16, HeaderMap, Vec<u8>) {
    let cookies = b
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut req = app.client().get(app.url(host, path));
    if !cookies.is_empty() {
        req = req.header(COOKIE, cookies);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

fn header(h: &HeaderMap, name: reqwest::header::HeaderName) -> &str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Checks a receipt download: a PDF attachment, not cached, that verifies
/// against the comune's ledger key and names `reg`.
fn check_receipt(
    app: &TestApp,
    slug: &str,
    reg: &Registration,
    (status, headers, body): &(u16, HeaderMap, Vec<u8>),
) {
    assert_eq!(*status, 200, "{}", String::from_utf8_lossy(body));
    assert_eq!(header(headers, CONTENT_TYPE), "application/pdf");
    let file = format!("ricevuta-{}-{}.pdf", reg.year, reg.number);
    let disposition = header(headers, CONTENT_DISPOSITION);
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(&file),
        "{disposition}"
    );
    assert_eq!(header(headers, CACHE_CONTROL), "private, no-store");
    let trusted = app.app.keys().trusted(slug, LEDGER_KEY).unwrap();
    let v = verify_pdf(body, &trusted).expect("the downloaded receipt verifies");
    assert_eq!(v.number, reg.number.get());
    assert_eq!(v.year, i64::from(reg.year));
    assert_eq!(v.subject, reg.data.subject);
    assert_eq!(v.primary.sha256, reg.data.primary.sha256.hex());
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let other_comune = app.app.tenant_for_host(ACQUAVIVA).unwrap();
    let residents = app.app.demo_residents(t.id, 2).await.unwrap();
    let (mario, anna) = (&residents[0], &residents[1]);
    let elsewhere = &app.app.demo_residents(other_comune.id, 1).await.unwrap()[0];

    let mine = incoming(&app, t.id, mario, "Richiesta di accesso agli atti").await;
    let hers = incoming(&app, t.id, anna, "Segnalazione di una buca in via Roma").await;
    let slug = t.data.slug.as_str();

    // Staff: the link on the document page, the download, the API.
    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let entry = format!("/backoffice/protocollo/{}", mine.id.0);
    let page = op.get(&entry).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(&format!("{entry}/ricevuta.pdf")),
        "{}",
        page.body
    );
    assert!(page.body.contains("Ricevuta di protocollo (PDF)"));
    let staff_pdf = download(&app, &op, CASAMASSIMA, &format!("{entry}/ricevuta.pdf")).await;
    check_receipt(&app, slug, &mine, &staff_pdf);
    let api = format!("/api/v1/protocollo/voci/{}/ricevuta", hers.id.0);
    check_receipt(
        &app,
        slug,
        &hers,
        &download(&app, &op, CASAMASSIMA, &api).await,
    );
    assert_eq!(
        download(
            &app,
            &op,
            CASAMASSIMA,
            "/backoffice/protocollo/999999/ricevuta.pdf"
        )
        .await
        .0,
        404
    );
    assert_eq!(
        download(
            &app,
            &op,
            CASAMASSIMA,
            "/api/v1/protocollo/voci/999999/ricevuta"
        )
        .await
        .0,
        404
    );

    // The sender: linked from the personal area home, lists only their own.
    let mut citizen = Browser::new(&app, CASAMASSIMA);
    citizen
        .demo_sign_in(&format!("cf:{}", mario.codice_fiscale.as_str()))
        .await;
    let home = citizen.get("/area-personale").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(
        home.body
            .contains("href=\"/area-personale/protocollazioni\"")
    );
    let list = citizen.get("/area-personale/protocollazioni").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("Le mie protocollazioni"));
    assert!(
        list.body
            .contains(&format!("{}/{}", mine.number, mine.year)),
        "{}",
        list.body
    );
    assert!(list.body.contains("Richiesta di accesso agli atti"));
    assert!(!list.body.contains("Segnalazione di una buca"));
    let own = format!("/area-personale/protocollazioni/{}/ricevuta.pdf", mine.id.0);
    assert!(list.body.contains(&own), "{}", list.body);
    check_receipt(
        &app,
        slug,
        &mine,
        &download(&app, &citizen, CASAMASSIMA, &own).await,
    );
    // Someone else's receipt, a missing one, and the staff routes.
    let theirs = format!("/area-personale/protocollazioni/{}/ricevuta.pdf", hers.id.0);
    assert_eq!(download(&app, &citizen, CASAMASSIMA, &theirs).await.0, 404);
    assert_eq!(
        download(
            &app,
            &citizen,
            CASAMASSIMA,
            "/area-personale/protocollazioni/999999/ricevuta.pdf"
        )
        .await
        .0,
        404
    );
    assert_eq!(
        download(
            &app,
            &citizen,
            CASAMASSIMA,
            &format!("{entry}/ricevuta.pdf")
        )
        .await
        .0,
        403
    );
    assert_eq!(
        download(
            &app,
            &citizen,
            CASAMASSIMA,
            &format!("/api/v1/protocollo/voci/{}/ricevuta", mine.id.0)
        )
        .await
        .0,
        403
    );

    // Another citizen of the same comune.
    let mut other = Browser::new(&app, CASAMASSIMA);
    other
        .demo_sign_in(&format!("cf:{}", anna.codice_fiscale.as_str()))
        .await;
    let list = other.get("/area-personale/protocollazioni").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Segnalazione di una buca"));
    assert!(!list.body.contains("Richiesta di accesso agli atti"));
    assert_eq!(download(&app, &other, CASAMASSIMA, &own).await.0, 404);

    // A citizen of the other comune, at their comune: not theirs, not there.
    let mut far = Browser::new(&app, ACQUAVIVA);
    far.demo_sign_in(&format!("cf:{}", elsewhere.codice_fiscale.as_str()))
        .await;
    assert_eq!(download(&app, &far, ACQUAVIVA, &own).await.0, 404);
    let list = far.get("/area-personale/protocollazioni").await;
    assert_eq!(list.status, 200);
    assert!(!list.body.contains("Richiesta di accesso agli atti"));
    assert!(list.body.contains("Non risultano documenti protocollati"));

    // Visitors are sent to sign in, then back.
    let mut visitor = Browser::new(&app, CASAMASSIMA);
    for path in ["/area-personale/protocollazioni", own.as_str()] {
        let r = visitor.get(path).await;
        assert_eq!(r.status, 303, "{path}");
        assert!(
            r.location()
                .is_some_and(|l| l.starts_with("/accedi?ritorno=")),
            "{path}: {:?}",
            r.location()
        );
    }
    let r = visitor.get(&format!("{entry}/ricevuta.pdf")).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        download(
            &app,
            &visitor,
            CASAMASSIMA,
            &format!("/api/v1/protocollo/voci/{}/ricevuta", mine.id.0)
        )
        .await
        .0,
        401
    );
    app.stop().await;
}

#[tokio::test]
async fn receipt_downloads_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn receipt_downloads_postgres() {
    run(Backend::Postgres).await
}
