//! The citizen's desk in the personal area (issue 6, part 5), on both
//! backends: Messaggi, Attività, I miei servizi and Notifiche read from the
//! citizen's own records. A resident starts a draft (a notice to complete
//! it), files an «istanza generica» (an activity, a service used), the
//! office asks for an integration (a message with its text, e-mailed to the
//! address of the istanza, and a notice with the date by which to answer,
//! the same as the pratica's clock), the resident answers (the notice
//! goes). Another resident sees none of it; the pages carry the modello
//! Comuni's second-level navigation; anonymous visitors are sent to sign
//! in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::Role;
use palazzo_store::conformance::service_fixture;
use palazzo_testkit::{Backend, Browser, CASAMASSIMA, TestApp};
use serde_json::{Value, json};

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

async fn desk(b: &mut Browser, key: &str) -> Value {
    let r = b.api("GET", "/area-personale", key, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    json_of(&r.body)
}

fn codes(desk: &Value) -> Vec<String> {
    desk["notifiche"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["codice"].as_str().unwrap().to_owned())
        .collect()
}

async fn run(backend: Backend) {
    let app = TestApp::spawn(backend, 10).await;
    let t = app.app.tenant_for_host(CASAMASSIMA).unwrap();
    let snap = app.app.portal(t.id).await.unwrap();
    if snap.service("istanza-generica").is_none() {
        app.app
            .create_service(
                t.id,
                service_fixture("istanza-generica", snap.offices[0].id),
            )
            .await
            .unwrap();
    }
    app.app.install_shipped_definitions(t.id).await.unwrap();
    let snap = app.app.portal(t.id).await.unwrap();
    let card = snap.service("istanza-generica").unwrap().clone();
    let office = snap.office(card.data.office).unwrap().clone();
    let residents = app.app.demo_residents(t.id, 2).await.unwrap();
    let cf = residents[0].codice_fiscale.as_str().to_owned();
    let me = app.resident_key(CASAMASSIMA, &cf).await;
    let other = app
        .resident_key(CASAMASSIMA, residents[1].codice_fiscale.as_str())
        .await;
    let desk_key = app
        .staff_key(CASAMASSIMA, "scrivania-ufficio", Role::Operatore, office.id)
        .await;
    let mut b = Browser::new(&app, CASAMASSIMA);

    // Nothing yet.
    let d = desk(&mut b, &me).await;
    assert!(d["messaggi"].as_array().unwrap().is_empty(), "{d}");
    assert!(codes(&d).is_empty(), "{d}");
    assert!(d["servizi"].as_array().unwrap().is_empty(), "{d}");

    // A draft: a notice to complete it.
    let r = b
        .api(
            "POST",
            "/bozze",
            &me,
            Some(json!({"servizio": "istanza-generica"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let draft = json_of(&r.body);
    let id = draft["id"].as_i64().unwrap();
    let key = draft["chiave"].as_str().unwrap().to_owned();
    let d = desk(&mut b, &me).await;
    assert_eq!(codes(&d), ["bozza_da_completare"], "{d}");
    assert!(
        d["notifiche"][0]["link"]
            .as_str()
            .unwrap()
            .starts_with(&format!("/area-personale/istanze/bozze/{id}/")),
        "{d}"
    );

    // Filed: an activity and a service used; the draft's notice goes.
    let mut step = draft["risposte"]["richiedente"].clone();
    step["email"] = json!("scrivania@example.org");
    step["residenza.via"] = json!("Via Roma");
    step["residenza.civico"] = json!("1");
    step["residenza.cap"] = json!("70010");
    step["residenza.comune"] = json!("Casamassima");
    for (name, body) in [
        ("richiedente", step),
        (
            "istanza",
            json!({"oggetto": "Buca in via Roma", "testo_istanza": ["Segnalo una buca davanti al civico 1."]}),
        ),
    ] {
        let r = b
            .api(
                "POST",
                &format!("/bozze/{id}/passi/{name}"),
                &me,
                Some(body),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = b
        .api(
            "POST",
            &format!("/bozze/{id}/invio"),
            &me,
            Some(json!({"chiave": key,
                        "dichiarazioni": ["dichiarazione_veridicita", "informativa_privacy"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let pratica = json_of(&r.body)["pratica"].as_i64().unwrap();
    let link = format!("/area-personale/pratiche/{pratica}");
    let d = desk(&mut b, &me).await;
    assert!(codes(&d).is_empty(), "{d}");
    let filed = d["attivita"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["link"] == link.as_str())
        .unwrap_or_else(|| panic!("the submission is an activity: {d}"));
    assert!(
        filed["descrizione"]
            .as_str()
            .unwrap()
            .contains(&card.data.title),
        "{filed}"
    );
    assert_eq!(d["servizi"][0]["servizio"], "istanza-generica", "{d}");
    assert_eq!(d["servizi"][0]["volte"], 1);

    // The office asks for an integration: a message and a dated notice.
    let office_step = format!("/backoffice/pratiche/{pratica}/azioni");
    let r = b
        .api(
            "POST",
            &office_step,
            &desk_key,
            Some(json!({"azione": "presa_in_carico", "stato_atteso": "presentata"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let request = "Indicare il punto esatto della buca.";
    let r = b
        .api(
            "POST",
            &office_step,
            &desk_key,
            Some(json!({"azione": "richiesta_integrazione",
                        "stato_atteso": json_of(&r.body)["stato"], "nota": request})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let state = json_of(&r.body)["stato"].as_str().unwrap().to_owned();
    let clock = json_of(
        &b.api("GET", &format!("/pratiche/{pratica}"), &me, None)
            .await
            .body,
    )["orologio"]
        .clone();
    let d = desk(&mut b, &me).await;
    let m = &d["messaggi"][0];
    assert_eq!(m["testo"], request, "{d}");
    assert_eq!(m["mittente"], office.data.name.as_str());
    assert_eq!(m["link"], link.as_str());
    assert_eq!(m["email"], "scrivania@example.org", "e-mailed too: {m}");
    assert_eq!(codes(&d), ["integrazione_richiesta"], "{d}");
    assert!(clock["sospesa_fino_al"].is_string(), "{clock}");
    assert_eq!(
        d["notifiche"][0]["entro"], clock["sospesa_fino_al"],
        "the date to answer by is the clock's"
    );

    // Another resident sees none of it.
    let d = desk(&mut b, &other).await;
    assert!(d["messaggi"].as_array().unwrap().is_empty(), "{d}");
    assert!(codes(&d).is_empty(), "{d}");
    assert!(
        d["attivita"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["link"] != link.as_str())
    );

    // The pages: the navigation, the message, the notice.
    let mut web = Browser::new(&app, CASAMASSIMA);
    web.demo_sign_in(&format!("cf:{cf}")).await;
    let area = web.get("/area-personale").await;
    assert_eq!(area.status, 200);
    assert!(area.body.contains("data-element=\"notifiche-in-attesa\""));
    assert!(area.body.contains("data-element=\"area-personale-nav\""));
    let page = web.get("/area-personale/messaggi").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(request));
    assert!(
        page.body
            .contains("Ti abbiamo scritto anche per e-mail a scrivania@example.org")
    );
    assert!(
        page.body
            .contains("href=\"/area-personale/messaggi\" aria-current=\"page\"")
    );
    let page = web.get("/area-personale/notifiche").await;
    assert!(
        page.body
            .contains("data-notifica=\"integrazione_richiesta\"")
    );
    let page = web.get("/area-personale/attivita").await;
    assert!(page.body.contains(&format!("href=\"{link}\"")));
    let page = web.get("/area-personale/servizi").await;
    assert!(
        page.body
            .contains("href=\"/area-personale/istanze/istanza-generica\"")
    );
    let page = web.get("/area-personale/pratiche").await;
    assert!(
        page.body
            .contains("href=\"/area-personale/pratiche\" aria-current=\"page\"")
    );
    let mut anonymous = Browser::new(&app, CASAMASSIMA);
    for path in [
        "/area-personale/messaggi",
        "/area-personale/attivita",
        "/area-personale/servizi",
        "/area-personale/notifiche",
    ] {
        let r = anonymous.get(path).await;
        assert_eq!(r.status, 303, "{path}");
        assert!(r.location().unwrap().starts_with("/accedi"), "{path}");
    }

    // The resident answers: the notice goes, the answer is an activity.
    let r = b
        .api(
            "POST",
            &format!("/pratiche/{pratica}/azioni"),
            &me,
            Some(json!({"azione": "integrazione", "stato_atteso": state,
                        "nota": "Davanti al civico 1, lato strada."})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = desk(&mut b, &me).await;
    assert!(codes(&d).is_empty(), "{d}");
    assert!(
        d["attivita"][0]["descrizione"]
            .as_str()
            .unwrap()
            .contains("integrazione"),
        "{d}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_desk_sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn the_desk_postgres() {
    run(Backend::Postgres).await
}
