//! The emergency register (DPR 445/2000 art. 63; PR-10) in the back office
//! over HTTP, on both backends: open, authorise a further period (refused
//! beyond a week), close (refused beyond the authorised periods), the
//! session page with its daily counts and the recovered entries with both
//! numbers, the registration page showing its emergency origin, the lookup
//! emergency → ordinary, and who may do what.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::{SignedDuration, Timestamp};
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_services::access::Actor;
use palazzo_services::emergenza::RecoveryOutcome;
use palazzo_store::UserId;
use palazzo_testkit::{Backend, Browser, CASAMASSIMA, TempDir, TestApp};

fn local(t: Timestamp) -> String {
    t.to_zoned(palazzo_domain::calendar::rome_time_zone())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 5).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    // A whole minute three days ago.
    let now = Timestamp::now().as_second();
    let start = Timestamp::from_second((now - 3 * 86_400) / 60 * 60).unwrap();
    let h = SignedDuration::from_hours;

    // The segretario opens a register from the list page.
    let mut seg = Browser::new(&app, CASAMASSIMA);
    seg.demo_sign_in("segretario").await;
    let list = seg.get("/backoffice/protocollo/emergenze").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("Apri un registro di emergenza"));
    let csrf = list.csrf().unwrap();
    // Refused: the first authorisation covers 24 hours at most; fields stay filled.
    let r = seg
        .post(
            "/backoffice/protocollo/emergenze",
            &[
                ("csrf", &csrf),
                ("codice", "EMERG-WEB-01"),
                ("causa", "Guasto della rete"),
                ("inizio", &local(start)),
                ("autorizzato_da", "Dott.ssa Maria Bianchi"),
                ("atto", "Decreto n. 3/2026"),
                ("fino", &local(start + h(25))),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("emergenza_autorizzazione_24h"));
    assert!(
        r.body.contains("Guasto della rete"),
        "the form keeps its values"
    );
    let r = seg
        .post(
            "/backoffice/protocollo/emergenze",
            &[
                ("csrf", &csrf),
                ("codice", "EMERG-WEB-01"),
                ("causa", "Guasto della rete"),
                ("inizio", &local(start)),
                ("autorizzato_da", "Dott.ssa Maria Bianchi"),
                ("atto", "Decreto n. 3/2026"),
                ("fino", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page_path = "/backoffice/protocollo/emergenze/EMERG-WEB-01";
    assert_eq!(
        r.location(),
        Some(format!("{page_path}?esito=aperto").as_str())
    );
    let page = seg.get(page_path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Guasto della rete") && page.body.contains("Decreto n. 3/2026"));
    assert!(page.body.contains("Interruzione in corso"));

    // Closing beyond the authorised 24 hours is refused; a further week is
    // refused beyond seven days, accepted within.
    let r = seg
        .post(
            &format!("{page_path}/chiudi"),
            &[("csrf", &csrf), ("fine", &local(start + h(30)))],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("emergenza_fine_non_autorizzata"));
    let r = seg
        .post(
            &format!("{page_path}/autorizza"),
            &[
                ("csrf", &csrf),
                ("autorizzato_da", "Dott.ssa Maria Bianchi"),
                ("atto", "Decreto n. 4/2026"),
                ("fino", &local(start + h(24 + 8 * 24))),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("emergenza_autorizzazione_settimana"));
    let r = seg
        .post(
            &format!("{page_path}/autorizza"),
            &[
                ("csrf", &csrf),
                ("autorizzato_da", "Dott.ssa Maria Bianchi"),
                ("atto", "Decreto n. 4/2026"),
                ("fino", &local(start + h(48))),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = seg
        .post(
            &format!("{page_path}/chiudi"),
            &[("csrf", &csrf), ("fine", &local(start + h(30)))],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = seg.get(page_path).await;
    assert!(page.body.contains("Decreto n. 4/2026"));
    assert!(
        !page.body.contains("Autorizza un periodo successivo"),
        "closed"
    );

    // Recovery (the command line's service), then both numbers on the page.
    let dir = TempDir::new("emergenza-web");
    std::fs::write(
        dir.path().join("a.pdf"),
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
    )
    .unwrap();
    let at = |x: i64| {
        (start + h(x))
            .to_zoned(palazzo_domain::calendar::rome_time_zone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    std::fs::write(
        dir.path().join("r.csv"),
        format!(
            "numero_emergenza;data_ora_emergenza;verso;oggetto;corrispondente;codice_fiscale;email;numero_ricevuto;data_ricevuto;classifica;ufficio;documento;allegati\n\
             2;{};E;Seconda di emergenza;Anna Verdi;;;;;;;a.pdf;\n\
             1;{};E;Prima di emergenza;Mario Rossi;;;;;;;a.pdf;\n",
            at(2),
            at(1)
        ),
    )
    .unwrap();
    let desk = Actor {
        user: Some(UserId(1)),
        principal: Principal {
            grants: vec![Grant {
                role: Role::Operatore,
                office: None,
            }],
        },
        name: Some("Sportello".into()),
        ..Default::default()
    };
    let out = app
        .app
        .import_emergency(
            t.id,
            &desk,
            "EMERG-WEB-01",
            &dir.path().join("r.csv"),
            |_, _| {},
        )
        .await
        .unwrap();
    assert!(
        out.iter()
            .all(|o| matches!(o, RecoveryOutcome::Recovered { .. })),
        "{out:?}"
    );
    let page = seg.get(page_path).await;
    assert!(page.body.contains("EMERG-WEB-01/1") && page.body.contains("0000001/"));
    assert!(page.body.contains("EMERG-WEB-01/2") && page.body.contains("0000002/"));
    assert!(page.body.contains("2 in tutto"), "daily counts");

    // Emergency → ordinary, and the registration shows where it came from.
    let r = seg.get(&format!("{page_path}/2")).await;
    assert_eq!(r.status, 303);
    let entry = r.location().unwrap().to_owned();
    let e = seg.get(&entry).await;
    assert!(e.body.contains("Seconda di emergenza"));
    assert!(e.body.contains("emergency-origin") && e.body.contains("EMERG-WEB-01"));
    assert_eq!(
        seg.get(&format!("{page_path}?numero=1")).await.location(),
        Some(format!("{page_path}/1").as_str())
    );
    assert_eq!(seg.get(&format!("{page_path}/9")).await.status, 404);
    assert_eq!(
        seg.get("/backoffice/protocollo/emergenze/NESSUNO")
            .await
            .status,
        404
    );

    // The operatore reads but cannot open, authorise or close.
    let mut op = Browser::new(&app, CASAMASSIMA);
    op.demo_sign_in("operatore").await;
    let list = op.get("/backoffice/protocollo/emergenze").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("EMERG-WEB-01"));
    assert!(!list.body.contains("Apri un registro di emergenza"));
    let csrf = op.csrf_of("/accedi/amministratore").await;
    let r = op
        .post(
            "/backoffice/protocollo/emergenze",
            &[("csrf", &csrf), ("causa", "x"), ("inizio", &local(start))],
        )
        .await;
    assert_eq!(r.status, 403);
    // A citizen cannot even read.
    let mut citizen = Browser::new(&app, CASAMASSIMA);
    let resident = &app.app.demo_residents(t.id, 1).await.unwrap()[0];
    citizen
        .demo_sign_in(&format!("cf:{}", resident.codice_fiscale.as_str()))
        .await;
    assert_eq!(citizen.get(page_path).await.status, 403);
    app.stop().await;
}

#[tokio::test]
async fn emergency_register_pages_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn emergency_register_pages_postgres() {
    run(Backend::Postgres).await
}
